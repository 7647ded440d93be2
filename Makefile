# Two commands do all the set-up on a fresh machine with Python 3.11 and pip: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test ui bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/fangfanpin demo

test: $(BIN)/.installed
	$(BIN)/pytest

ui: $(BIN)/.installed
	DAGSTER_HOME=$(CURDIR)/var/dagster $(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf var
