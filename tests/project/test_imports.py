"""The package's import graph stays walkable: no cycles, and a module imports another of the project inside a
function only where the import is slow and the module says why (import-linter checks the layers themselves)."""

from __future__ import annotations

import ast
import subprocess
import sys

import grimp
import pytest
from paths import CODE_PACKAGES, REPO

pytestmark = pytest.mark.unit

# module → what it may import inside a function, because that import is slow (said in the module's docstring)
SLOW_PROJECT_IMPORTS = {
    "assets/scoring/__init__.py": {
        "fangfanpin.models.artifacts",
        "fangfanpin.models.scoring",
        "fangfanpin.models.drift",
        "fangfanpin.models.training",
    },
    "deliverables/task_packs.py": {"fangfanpin.deliverables.task_card"},
    "deliverables/pdf.py": {"fangfanpin.deliverables.pdf_subsets"},
}


def _cycles(graph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_there_is_no_import_cycle():
    graph = grimp.build_graph("fangfanpin")
    assert len(graph.modules) > 100
    assert _cycles(graph) == []


def test_project_imports_inside_functions_only_where_slow():
    found = []
    for package in CODE_PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for sub in ast.walk(node):
                    if isinstance(sub, ast.ImportFrom) and (sub.module or "").startswith("fangfanpin"):
                        if sub.module not in SLOW_PROJECT_IMPORTS.get(rel, set()):
                            found.append(f"{rel}: {node.name} imports {sub.module}")
    assert found == []


def test_loading_the_definitions_imports_none_of_the_slow_libraries():
    """The code location, every command and every run load the definitions: Great Expectations, reportlab, pandas and
    scikit-learn are imported where they are used, each taking seconds."""
    code = (
        "import sys, fangfanpin.pipeline.definitions; "
        "print(sorted(m for m in ('great_expectations', 'reportlab', 'pandas', 'sklearn') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
