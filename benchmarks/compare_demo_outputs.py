"""Compare what two demo runs produced: a refactoring must not move any result.

    python benchmarks/compare_demo_outputs.py BEFORE/var AFTER/var

Compares every county's candidates.csv (bytes), every workbook (cell values of every sheet, read back with openpyxl),
every village notice and task PDF (extracted text), and the warehouse's ledger and scoring tables (rows, both ways).
What legitimately differs between two runs is left out and said: manifest.json (run id, time) and the model's version
(its training time), in the workbooks and in the columns that carry it. Prints one line per difference and a
summary; exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import openpyxl
from pypdf import PdfReader

TABLES = (
    "case_events",
    "cases",
    "visit_tasks",
    "publication_batches",
    "publication_members",
    "publication_outcomes",
    "workflow_issues",
    "case_status_daily",
    "elimination_candidates",
    "ledger_chain",
    "rule_hits",
    "household_indicators",
    "household_scores",
    "data_quality_issues",
    "quarantine",
    "ingest_reports",
)
VARYING_COLUMNS = {"model_version", "policy_path"}  # the training time; where the policy file lay


def _cells(path: Path, versions: set[str]) -> dict[str, list[tuple]]:
    """Every sheet's cell values; a model version (the training time) shown in a cell reads as the same."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            sheet.title: [
                tuple("<model version>" if v in versions else v for v in row)
                for row in sheet.iter_rows(values_only=True)
            ]
            for sheet in book.worksheets
        }
    finally:
        book.close()


def model_versions(var: Path) -> set[str]:
    with duckdb.connect(str(var / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT model_version FROM household_scores WHERE model_version IS NOT NULL"
        ).fetchall()
    return {r[0] for r in rows}


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def compare_files(before: Path, after: Path) -> list[str]:
    differences, versions = [], model_versions(before) | model_versions(after)
    a = {p.relative_to(before / "outbox") for p in (before / "outbox").rglob("*") if p.is_file()}
    b = {p.relative_to(after / "outbox") for p in (after / "outbox").rglob("*") if p.is_file()}
    differences += [f"only before: {p}" for p in sorted(a - b)] + [f"only after: {p}" for p in sorted(b - a)]
    for rel in sorted(a & b):
        x, y = before / "outbox" / rel, after / "outbox" / rel
        if rel.suffix == ".csv" and x.read_bytes() != y.read_bytes():
            differences.append(f"csv differs: {rel}")
        elif rel.suffix == ".xlsx":
            a_cells, b_cells = _cells(x, versions), _cells(y, versions)
            sheets = [s for s in dict.fromkeys([*a_cells, *b_cells]) if a_cells.get(s) != b_cells.get(s)]
            if sheets:
                differences.append(f"workbook cells differ: {rel} (sheets: {', '.join(sheets)})")
        elif rel.suffix == ".pdf" and _pdf_text(x) != _pdf_text(y):
            differences.append(f"pdf text differs: {rel}")
    return differences


def compare_tables(before: Path, after: Path) -> list[str]:
    differences = []
    with duckdb.connect() as con:
        con.execute("ATTACH ? AS a (READ_ONLY)", [str(before / "warehouse.duckdb")])
        con.execute("ATTACH ? AS b (READ_ONLY)", [str(after / "warehouse.duckdb")])
        for table in TABLES:
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'a' AND table_name = ? "
                    "ORDER BY ordinal_position",
                    [table],
                ).fetchall()
                if r[0] not in VARYING_COLUMNS
            ]
            if not columns:
                continue
            cols = ", ".join(f'"{c}"' for c in columns)
            for x, y in (("a", "b"), ("b", "a")):
                extra = con.execute(
                    f"SELECT count(*) FROM (SELECT {cols} FROM {x}.{table} EXCEPT ALL SELECT {cols} FROM {y}.{table})"
                ).fetchall()[0][0]
                if extra:
                    differences.append(f"{table}: {extra} row(s) only in {'before' if x == 'a' else 'after'}")
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the var/ folder of the first demo")
    parser.add_argument("after", type=Path, help="the var/ folder of the second demo")
    args = parser.parse_args(argv)
    differences = compare_files(args.before, args.after) + compare_tables(args.before, args.after)
    for line in differences:
        print(line)
    files = sum(1 for p in (args.before / "outbox").rglob("*") if p.is_file() and p.name != "manifest.json")
    print(
        f"{files} outbox files (manifest.json left out) and {len(TABLES)} tables compared: "
        f"{len(differences)} difference(s); ignored: manifest.json, columns {', '.join(sorted(VARYING_COLUMNS))}"
    )
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
