"""What daily_run_benchmark.py prints and plots: the first delivery per size, and per code when two codes were run
side by side (``--code``), against the targets of docs/benchmarks.md."""

from __future__ import annotations

from itertools import cycle, groupby
from pathlib import Path

from crosscheck_benchmark import DAY
from stage_table import STAGES, stage_cells, stage_header

TARGET_SECONDS_1M, TARGET_PEAK_GB_1M, TARGET_GROWTH = 60, 4, 12
LINE_STYLES = ("-", "--", "-.", (0, (5, 1, 1, 1, 1, 1)))  # one a code, in the order given; ":" is the linear line


def by_code(results: list[dict]) -> dict[str, list[dict]]:
    """Each code's results, smallest size first (of several rounds, the fastest a size)."""
    codes: dict[str, list[dict]] = {}
    for r in results:
        codes.setdefault(r.get("code", "this"), []).append(r)
    return {
        code: [min(rs, key=lambda r: r["process_seconds"]) for _, rs in groupby(sorted(found, key=_size), key=_size)]
        for code, found in codes.items()
    }


def _size(result: dict) -> int:
    return result["households"]


def print_table(results: list[dict], counties: list[str]) -> None:
    cols = STAGES + ["dagster"]
    print(f"\ndaily job for {DAY}, {len(counties)} counties, first delivery on an empty warehouse, 2 cores")
    print(
        f"{'households':>10} {'code':>10} {'round':>5} {'rows in':>10} "
        + stage_header(cols)
        + f" {'hh/s':>8} {'rows/s':>8}"
    )
    for r in results:
        print(
            f"{r['households']:>10,} {r.get('code', 'this'):>10} {r.get('round', 1):>5} {r['input_rows']:>10,} "
            + stage_cells(r, cols)
            + f" {r['households_per_s']:>8,} {r['input_rows_per_s']:>8,}"
        )
    print(
        "slowest steps: "
        + "; ".join(
            f"{r['households']:,} {r.get('code', 'this')}: "
            + ", ".join(f"{k} {v:.1f}" for k, v in r["slowest_steps"].items())
            for r in results
        )
    )
    print(
        "(run s: the Dagster run from start to end; process s: `fangfanpin run --date` including Python start-up, "
        "loading the definitions and the exit check)"
    )
    print(
        "\npandas baseline (crosscheck_benchmark variant_pandas: landing files → MED-BURDEN, EDU-MISSING, HOU-UNSAFE)"
    )
    for r in results:
        p = r["pandas"]
        print(
            f"{r['households']:>10,} {r.get('code', 'this'):>10} {r.get('round', 1):>5}: "
            f"pandas {p['seconds']:.2f} s, peak {p['peak_mb']:,} MB | crosscheck {r['stages']['crosscheck']:.2f} s = {p['crosscheck_over_pandas']:.2f}× pandas; "
            f"ingest + crosscheck (files → all 15 rules) = {p['ingest_plus_crosscheck_over_pandas']:.2f}× pandas"
        )
    rounds = max(r.get("round", 1) for r in results)
    print("\ntargets (2 cores)" + (f", each code's best of {rounds} rounds a size" if rounds > 1 else ""))
    for code, found in by_code(results).items():
        _print_targets(code, found)


def _print_targets(code: str, results: list[dict]) -> None:
    big = next((r for r in results if r["households"] >= 1_000_000), None)
    if big:
        seconds, peak_gb = big["process_seconds"], big["peak_mb"] / 1024
        print(
            f"  {code}: 1M full daily run ≤ {TARGET_SECONDS_1M} s: {seconds:.1f} s {_mark(seconds <= TARGET_SECONDS_1M)}"
        )
        print(
            f"  {code}: 1M peak memory ≤ {TARGET_PEAK_GB_1M} GB: {peak_gb:.2f} GB {_mark(peak_gb <= TARGET_PEAK_GB_1M)}"
        )
    else:
        print(f"  {code}: 1M full daily run ≤ {TARGET_SECONDS_1M} s and ≤ {TARGET_PEAK_GB_1M} GB: not measured")
    sizes = {r["households"]: r for r in results}
    pairs = [(a, b) for a in sizes for b in sizes if b == 10 * a]
    for a, b in pairs:
        ratio = sizes[b]["process_seconds"] / sizes[a]["process_seconds"]
        note = "  (the target is for 100k → 1M)" if b != 1_000_000 else ""
        print(f"  {code}: t({b:,}) / t({a:,}) ≤ {TARGET_GROWTH}: {ratio:.1f} {_mark(ratio <= TARGET_GROWTH)}{note}")
    if not pairs:
        print(f"  {code}: growth t(1M) ≤ {TARGET_GROWTH} × t(100k): not measured (needs sizes 10× apart)")


def _mark(met: bool) -> str:
    return "OK" if met else "MISSED"


def plot(results: list[dict], path: Path) -> Path | None:
    """Time against size per stage, log-log: a colour a stage, a line style a code."""
    try:
        import matplotlib
    except ImportError:
        print("no plot: matplotlib is not installed")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    colours = dict(zip(STAGES + ["dagster"], plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    codes = by_code(results)
    for style, (code, found) in zip(cycle(LINE_STYLES), codes.items()):
        sizes = [r["households"] for r in found]
        suffix = f" ({code})" if len(codes) > 1 else ""
        for stage, colour in colours.items():
            times = [max(r["stages"][stage], 1e-3) for r in found]
            ax.plot(sizes, times, marker="o", linestyle=style, color=colour, label=stage + suffix)
        whole = [r["process_seconds"] for r in found]
        ax.plot(sizes, whole, marker="s", linestyle=style, color="black", linewidth=2, label="whole run" + suffix)
    first = next(iter(codes.values()))
    if len(first) > 1:  # the linear reference through the smallest whole run of the first code
        sizes, t0 = [r["households"] for r in first], first[0]["process_seconds"]
        ax.plot(sizes, [t0 * s / sizes[0] for s in sizes], linestyle=":", color="grey", label="linear")
    ax.scatter(
        [1_000_000], [TARGET_SECONDS_1M], marker="*", s=150, color="red", zorder=3,
        label=f"target: 1M households ≤ {TARGET_SECONDS_1M} s",
    )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("households")
    ax.set_ylabel("seconds")
    ax.set_title(f"daily job, one delivery ({DAY}), 2 cores" + (", " + " vs ".join(codes) if len(codes) > 1 else ""))
    ax.legend(fontsize=7, ncol=2 if len(codes) > 1 else 1)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
