"""Crash-test hook: ``FFP_TEST_KILL_AT=<phase>`` makes the process SIGKILL itself at that named point.

Only the crash tests set it (tests/pipeline/test_reliability.py); unset, ``kill_point`` is one dictionary lookup. The points:

- ``ingest``: inside a delivery's transaction, after its rows are inserted and before COMMIT (ingest/warehouse/apply.py)
- ``ledger``: inside the ledger's transaction, after the day is processed and hashed, before COMMIT (workflow/ledger.py)
- ``deliverables``: after the first outbox file is written to its temporary name, before it is renamed
  (deliverables/masking.py, atomic_write_bytes)
"""

import os
import signal

PHASES = ("ingest", "ledger", "deliverables")


def kill_point(phase: str) -> None:
    if os.environ.get("FFP_TEST_KILL_AT") == phase:
        os.kill(os.getpid(), signal.SIGKILL)
