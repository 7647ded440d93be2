"""The Dagster side: Definitions, resources, jobs, schedules, sensors and the ``fangfanpin`` command."""

import gc
import os

# polars' allocator (jemalloc) keeps freed pages for 10 s by default, so one feed's garbage is still counted while
# the next feed loads; returning them within 200 ms lowers the ingest's peak at the same speed
# (benchmarks/ingest_benchmark.py). jemalloc reads this when polars loads: it takes
# effect for every process that imports pipeline before polars (the command, the code location, the benchmarks).
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:200,muzzy_decay_ms:0")

# Dagster, Great Expectations and xlsxwriter allocate many small objects: at Python's default young generation of 700
# the cyclic collector runs thousands of times in one daily run, for few reference cycles to collect.
gc.set_threshold(50_000, 20, 20)
