"""Font subset programs kept on disk from one run to the next.

A village's task pack uses the characters of its households' names in its own font subset, whose program (a
TrueType file of those glyphs, compressed) reportlab makes for every document: a fifth of a pack's time. The next
day's pack of the same village mostly uses the same characters in the same order, so the program is the same bytes;
it is kept here under a digest of everything it is made from, and read back instead of made again.

    store = SubsetStore(Path("var/cache/font_subsets"))
    store.load(key)                       # (raw length, compressed bytes), or None
    store.save(key, raw_length, compressed)
    store.prune(days=14)                  # programs no run has used for that long

A stored program carries the digest of its bytes: a file cut short or damaged is not used (it is made again and
written anew), so a PDF never differs from the one made without the store. Writes go to a temporary name and are
renamed, so two processes writing the same program never mix their bytes. Only glyph shapes of the font are kept
here, no text; the folder is owner-only like everything the pipeline writes, and safe to delete at any time.

    >>> import tempfile
    >>> store = SubsetStore(Path(tempfile.mkdtemp()) / "subsets")
    >>> key = program_key(b"font", (20013, 25991))
    >>> store.load(key) is None
    True
    >>> store.save(key, 5, b"bytes")
    >>> store.load(key)
    (5, b'bytes')
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from fangfanpin.core.privacy import private_dir

FOLDER = "font_subsets"  # the store's folder in the run's cache folder (core.settings.Settings.cache_dir)
KEEP_DAYS = 14  # a program no run used for this long is removed (a village with no open task for two weeks)
LEFT_BEHIND_HOURS = 1  # a temporary file this old is no write in progress but one a killed run left
_HEADER = struct.Struct(">Q32s")  # the program's length before compression, the SHA-256 of that length and the program
_SUFFIX = ".subset"


def program_key(font: bytes, subset: Iterable[int]) -> str:
    """The name a subset's program is kept under: ``font`` identifies the font file and the code that makes
    programs of it (``pdf_subsets.font_identity``), ``subset`` lists its characters in their order."""
    digest = hashlib.sha256(font)
    digest.update(b"\0" + ",".join(map(str, subset)).encode("ascii"))
    return digest.hexdigest()


def _digest(raw_length: int, program: bytes) -> bytes:
    return hashlib.sha256(raw_length.to_bytes(8, "big") + program).digest()


class SubsetStore:
    """A folder of subset programs, one file each."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory / (key + _SUFFIX)

    def load(self, key: str) -> tuple[int, bytes] | None:
        """(length before compression, compressed program) stored under ``key``, or None when there is none or
        it is damaged. A program read is marked as used now (``prune`` keeps it)."""
        path = self._path(key)
        try:
            data = path.read_bytes()
            os.utime(path)
        except OSError:
            return None
        if len(data) < _HEADER.size:
            return None
        raw_length, digest = _HEADER.unpack_from(data)
        program = data[_HEADER.size :]
        if _digest(raw_length, program) != digest:
            return None
        return raw_length, program

    def save(self, key: str, raw_length: int, program: bytes) -> None:
        """Keep ``program`` under ``key``. A store that cannot be written (a full disk, a read-only folder) only
        means the program is made again next time."""
        try:
            private_dir(self.directory)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=_SUFFIX, dir=self.directory)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_HEADER.pack(raw_length, _digest(raw_length, program)) + program)
            os.replace(tmp, self._path(key))
        except OSError:
            Path(tmp).unlink(missing_ok=True)

    def prune(self, days: float = KEEP_DAYS) -> int:
        """Remove the programs no run has used for ``days`` days, and temporary files a killed run left; returns
        how many files were removed."""
        now = time.time()
        removed = 0
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return 0
        for entry in entries:
            try:
                age = now - entry.stat().st_mtime
                if age > (LEFT_BEHIND_HOURS * 3600 if entry.name.startswith(".tmp-") else days * 86400):
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
        return removed
