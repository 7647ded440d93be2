"""The Dagster side: Definitions, resources, jobs, schedules, sensors and the ``fangfanpin`` command."""

import gc
import os

# polars' allocator (jemalloc) keeps freed pages for 10 s by default, so one feed's garbage was still counted while
# the next feed loaded. Returning them within 200 ms cut the ingest's peak at 1,000,000 households from 3,971 MB to
# 3,548 MB at the same speed (benchmarks/ingest_benchmark.py). jemalloc reads this when polars loads: it takes
# effect for every process that imports pipeline before polars (the command, the code location, the benchmarks).
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:200,muzzy_decay_ms:0")

# Dagster, Great Expectations and xlsxwriter allocate many small objects: at Python's default young generation of 700
# the cyclic collector ran about 1,900 times in one 25,000-household daily run, 1.6 s of its 10.4 s. At 50,000 it runs
# about 25 times (0.4 s) and the run takes about 9 s; there are few reference cycles to wait for.
gc.set_threshold(50_000, 20, 20)
