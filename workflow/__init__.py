"""Dynamic-management workflow: the case ledger in DuckDB, plain Python + SQL, no Dagster.

    from fangfanpin.workflow import run_workflow
    run_workflow(con, date(2026, 10, 31))      # open and move cases for one delivery date (re-runnable)

Modules: ``states`` (the state table), ``calendar`` (working days), ``ledger`` (schema, runs, replay, one day as
load → decide → write), ``load`` (a day's inputs from the warehouse), ``decide`` (one day's transitions on plain
data: opening, moving, tasks, publication), ``write`` (the day's rows into the ledger), ``elimination`` (风险消除
candidates), ``chain`` (the hash chain), ``simulator`` and ``simulated_roster`` (a simulated field team and national
system for the demo).
"""

from fangfanpin.workflow.ledger import (
    LedgerError,
    WorkflowResult,
    ensure_schema,
    ledger_dump,
    processed_dates,
    run_workflow,
)

__all__ = ["run_workflow", "ensure_schema", "processed_dates", "ledger_dump", "LedgerError", "WorkflowResult"]
