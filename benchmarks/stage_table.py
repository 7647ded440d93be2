"""The stage columns both daily-run tables print: each stage's seconds, then the run's, the process's and its peak."""

from __future__ import annotations

STAGES = ["ingest", "crosscheck", "scoring", "workflow", "deliverables", "overview"]  # the daily job's asset groups


def stage_header(stages: list[str]) -> str:
    return " ".join(f"{c:>12}" for c in stages) + f" {'run s':>8} {'process s':>9} {'peak MB':>8}"


def stage_cells(result: dict, stages: list[str]) -> str:
    return (
        " ".join(f"{result['stages'][c]:>12.2f}" for c in stages)
        + f" {result['run_seconds']:>8.2f} {result['process_seconds']:>9.2f} {result['peak_mb']:>8,}"
    )
