"""Finding full ID numbers in what the pipeline shows outside the warehouse (pages, metadata, instance files).

Any 18 digits is not an ID number: the fraction of a float such as ``"duration_ms": 0.0123…`` in Dagster's event
log is 18 digits too, and flagged a leak in CI that was not one. A hit is an 18-character run that is a *valid*
resident ID number (check character, birth date, province: ``ingest.idnumber.is_valid``), so a masked number
(``150625********1234``) never matches and a random digit run matches about once in 70,000.
"""

from __future__ import annotations

import re

from ingest.idnumber import is_valid

_CANDIDATE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def full_id_numbers(text: str | bytes) -> list[str]:
    """The valid full ID numbers in ``text``, masked to their first six digits for an assertion message."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return [m[:6] + "…" for m in _CANDIDATE.findall(text) if is_valid(m.upper())]
