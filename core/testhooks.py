"""Crash-test hook: ``FFP_TEST_KILL_AT=<phase>`` makes the process SIGKILL itself at that named point, and
``<phase>:<n>`` the n-th time the process reaches it (a command running several dates, killed on its second).

Only the crash tests set it (tests/pipeline/test_reliability.py, tests/pipeline/test_runs.py); unset, ``kill_point``
is one dictionary lookup. The points:

- ``ingest``: inside a delivery's transaction, after its rows are inserted and before COMMIT (ingest/warehouse/apply.py)
- ``ledger``: inside the ledger's transaction, after the day is processed and hashed, before COMMIT (workflow/ledger.py)
- ``deliverables``: after the first outbox file is written to its temporary name, before it is renamed
  (deliverables/masking.py, atomic_write_bytes)
"""

import os
import signal
from collections import Counter

PHASES = ("ingest", "ledger", "deliverables")

_reached: Counter[str] = Counter()


def kill_point(phase: str) -> None:
    wanted = os.environ.get("FFP_TEST_KILL_AT")
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name == phase:
        _reached[phase] += 1
        if _reached[phase] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
