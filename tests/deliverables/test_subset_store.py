"""The store of font subset programs kept between runs (deliverables/subset_store.py): what it gives back is what
was kept, or nothing; a damaged program is never given back; pruning removes what no run used for a while and
what a killed run left, and nothing else. That a PDF is the same with the store is tested with the task packs
(test_task_cards.py)."""

from __future__ import annotations

import os
import time

import pytest

from fangfanpin.deliverables.subset_store import KEEP_DAYS, SubsetStore, program_key

pytestmark = pytest.mark.unit

KEY = program_key(b"font", (20013, 25991, 30465))


def test_a_program_comes_back_as_kept_and_under_its_own_key_only(tmp_path):
    store = SubsetStore(tmp_path / "a" / "b")  # folders made as needed, owner-only
    assert store.load(KEY) is None
    store.save(KEY, 1234, b"\x78\x9c program")
    assert store.load(KEY) == (1234, b"\x78\x9c program")
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in (tmp_path / "a" / "b").iterdir())
    for other in (
        program_key(b"font", (25991, 20013, 30465)),  # the same characters in another order
        program_key(b"font", (20013, 25991)),
        program_key(b"another font", (20013, 25991, 30465)),
        program_key(b"font", (2001, 3259, 9130465)),  # the same digits told apart
    ):
        assert other != KEY and store.load(other) is None
    store.save(KEY, 99, b"again")
    assert store.load(KEY) == (99, b"again")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-1],
        lambda data: data[:10],
        lambda data: b"",
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),
        lambda data: bytes([data[0] ^ 1]) + data[1:],  # the length before compression
        lambda data: data[:7] + bytes([data[7] ^ 1]) + data[8:],
        lambda data: data[:8] + bytes([data[8] ^ 1]) + data[9:],  # the stored digest
        lambda data: data + b"x",
    ],
)
def test_a_damaged_program_is_not_given_back(tmp_path, damage):
    store = SubsetStore(tmp_path)
    store.save(KEY, 42, b"compressed program bytes")
    (path,) = tmp_path.iterdir()
    path.write_bytes(damage(path.read_bytes()))
    assert store.load(KEY) is None
    store.save(KEY, 42, b"compressed program bytes")
    assert store.load(KEY) == (42, b"compressed program bytes")


def test_a_store_that_cannot_be_written_only_makes_the_program_again(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    store = SubsetStore(tmp_path / "file" / "store")
    store.save(KEY, 1, b"x")
    assert store.load(KEY) is None
    assert store.prune() == 0


def test_pruning_removes_what_no_run_used_lately_and_what_a_killed_run_left(tmp_path):
    store = SubsetStore(tmp_path)
    old, used, fresh = (program_key(b"font", (n,)) for n in (1, 2, 3))
    for key in (old, used, fresh):
        store.save(key, 1, b"x")
    long_ago = time.time() - (KEEP_DAYS + 1) * 86400
    for key in (old, used):
        os.utime(tmp_path / f"{key}.subset", (long_ago, long_ago))
    assert store.load(used) == (1, b"x")  # a program read is a program used
    (tmp_path / ".tmp-left.subset").write_bytes(b"half")
    os.utime(tmp_path / ".tmp-left.subset", (long_ago, long_ago))
    (tmp_path / ".tmp-writing.subset").write_bytes(b"being written now")
    assert store.prune() == 2
    assert store.load(old) is None
    assert store.load(used) == store.load(fresh) == (1, b"x")
    assert (tmp_path / ".tmp-writing.subset").exists()
