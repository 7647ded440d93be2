# Two commands do all the set-up on a fresh machine with Python 3.11 and pip: `make demo` and `make test`. Both install
# Debian packages with apt-get when they are missing, which needs root or sudo: `make demo` the CJK font, `make test`
# the font and the browser that only the tests use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint ui clean browser

CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BIN)/.installed: pyproject.toml
	@# the village notices (PDF) embed a CJK font that works offline: Debian's fonts-wqy-microhei
	test -f $(CJK_FONT) || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-wqy-microhei; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/fangfanpin demo

test: lint browser
	$(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder

# the browser test drives Debian's headless Chromium through Playwright (no browser download); the demo does not need it
browser:
	test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# the layers of docs/architecture.md (import-linter) and the code style (ruff); seconds
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

ui: $(BIN)/.installed
	DAGSTER_HOME=$(CURDIR)/var/dagster $(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf var
