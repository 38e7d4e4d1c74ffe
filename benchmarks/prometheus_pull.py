"""The demo fleet through a real Prometheus: does a pull store what a file load stores?

Serves the demo's telemetry from a real Prometheus (Debian's ``prometheus``) and pulls it back
with ``capacity pull``'s functions, then compares the two stores hour by hour:

1. the demo's ``telemetry.parquet`` from ``--since`` on, written as OpenMetrics
   (``lifeverse_<metric>{region, service}``) and backfilled into a TSDB with ``promtool``;
2. Prometheus started on it, on a free loopback port;
3. a store loaded from the Parquet file (``Store.ingest``), and a store loaded by a pull of
   the last 112 days at ``--step`` (``pull_window``, ``pull``, ``Store.ingest_frame``), with
   ``sum by``/``avg by``/``max by (region, service)`` queries;
4. every hourly value of every series over the pulled days, in both stores;
5. the pulled rows loaded into the file's store, where every sample must find its stored key
   (at a 1h step; at 5m the extra samples at :05 are new keys).

Target: the two stores hold the same hourly values, gaps included (the exit status is 1 when
they differ). About 5 seconds.

Usage: ``.venv/bin/python benchmarks/prometheus_pull.py [--demo data/demo] [--since 2026-08-01]
[--step 1h]``. Prints the timings, the comparison and, last, a row in the layout of the table
in ``benchmarks/RESULTS.md`` (one run per step). Needs ``prometheus`` and ``promtool``
(``apt install prometheus``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from capacity import Store
from capacity.config import PrometheusSource
from capacity.prometheus import pull, pull_window

QUERIES = {
    "ccu": "sum by (region, service) (lifeverse_ccu)",
    "rps": "sum by (region, service) (lifeverse_rps)",
    "servers": "sum by (region, service) (lifeverse_servers)",
    "cpu_util": "avg by (region, service) (lifeverse_cpu_util)",
    "latency_p99_ms": "max by (region, service) (lifeverse_latency_p99_ms)",
    "error_rate": "avg by (region, service) (lifeverse_error_rate)",
}
KEY = ["ts", "region", "service", "metric"]
DEFAULT_DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def write_openmetrics(telemetry: pd.DataFrame, path: Path) -> None:
    """One gauge per metric, a sample per row, timestamps in whole seconds."""
    seconds = (telemetry["ts"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    lines = (
        "lifeverse_"
        + telemetry["metric"]
        + '{region="'
        + telemetry["region"]
        + '",service="'
        + telemetry["service"]
        + '"} '
        + telemetry["value"].map(repr)
        + " "
        + seconds.astype(str)
    )
    with path.open("w", encoding="utf-8") as out:
        for metric, block in lines.groupby(telemetry["metric"], sort=True):
            out.write(f"# TYPE lifeverse_{metric} gauge\n")
            out.write("\n".join(block) + "\n")
        out.write("# EOF\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=DEFAULT_DEMO)
    parser.add_argument("--since", default="2026-08-01", help="first day served")
    parser.add_argument("--step", default="1h", help="the pull's step")
    args = parser.parse_args()
    # The tests' launcher: backfill a TSDB with promtool, serve it on a free port.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.prometheus_server import backfill, binaries, serve

    found = binaries()
    if found is None:
        print("needs prometheus and promtool (Debian: apt install prometheus)", file=sys.stderr)
        return 2
    server, promtool = found
    telemetry = pd.read_parquet(args.demo / "telemetry.parquet")
    telemetry = telemetry[telemetry["ts"] >= pd.Timestamp(args.since, tz="UTC")]
    until = telemetry["ts"].max()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="capacity-pull-") as tmp:
        folder = Path(tmp)
        clock = time.perf_counter()
        write_openmetrics(telemetry, folder / "demo.om")
        timings["write OpenMetrics"] = time.perf_counter() - clock
        clock = time.perf_counter()
        backfill(folder / "demo.om", folder / "tsdb", promtool)
        timings["promtool backfill"] = time.perf_counter() - clock
        with serve(folder / "tsdb", server) as url:
            source = PrometheusSource(url=url, queries=QUERIES, step=args.step)
            clock = time.perf_counter()
            start, end, step = pull_window(source, newest={}, end=until)
            got = pull(source, start=start, end=end, step=step)
            timings["pull (HTTP and parsing)"] = time.perf_counter() - clock
            clock = time.perf_counter()
            with Store(folder / "pulled.duckdb") as store:
                report = store.ingest_frame(got.rows, source=f"prometheus {url}")
                pulled = store.series(start=start, end=end + pd.Timedelta(hours=1))
            timings["load the pulled rows"] = time.perf_counter() - clock
        with Store(folder / "file.duckdb") as store:
            store.ingest([args.demo / "telemetry.parquet"])
            loaded = store.series(start=start, end=end + pd.Timedelta(hours=1))
            # the same samples loaded over the file's rows: every key must match exactly
            merged = store.ingest_frame(got.rows, source=f"prometheus {url}")
    both = pulled.merge(loaded, on=KEY, how="outer", suffixes=("_pull", "_file"), indicator=True)
    matched = both[both["_merge"] == "both"]
    only = int((both["_merge"] != "both").sum())
    gaps_differ = int((matched["value_pull"].isna() != matched["value_file"].isna()).sum())
    largest = float((matched["value_pull"] - matched["value_file"]).abs().max())
    print(
        f"Demo telemetry from {args.since} served by Prometheus; pulled {start:%Y-%m-%d %H:%M} "
        f"to {end:%Y-%m-%d %H:%M} UTC every {args.step}, {got.requests} requests, "
        f"{report.rows:,} samples; {platform.machine()}, {pd.Timestamp.now('UTC'):%Y-%m-%d}.\n"
    )
    print("| step | seconds |\n|---|---:|")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds:.1f} |")
    print(
        f"\nHourly values compared: {len(matched):,} ({matched['value_file'].isna().sum():,} "
        f"gaps); in one store only: {only}; gap in one store only: {gaps_differ}; largest "
        f"difference: {largest:g}"
    )
    print(f"The pull loaded into the file's store: {merged.describe()}")
    pull_value, file_value = matched["value_pull"], matched["value_file"]
    both_set = pull_value.notna() & file_value.notna()
    differ = only + gaps_differ + int((both_set & (pull_value != file_value)).sum())
    print(
        "\n| step | requests | samples | write OpenMetrics | promtool backfill "
        "| pull (HTTP, parsing) | load | hourly values compared | differ |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {args.step} | {got.requests} | {report.rows:,} "
        f"| {timings['write OpenMetrics']:.1f} s | {timings['promtool backfill']:.1f} s "
        f"| {timings['pull (HTTP and parsing)']:.1f} s | {timings['load the pulled rows']:.1f} s "
        f"| {len(matched):,} ({matched['value_file'].isna().sum():,} gaps) | {differ} |\n"
    )
    same = only == 0 and gaps_differ == 0 and largest == 0
    hourly = step == pd.Timedelta(hours=1)
    same = same and merged.updated == 0 and (merged.inserted == 0 or not hourly)
    print("The stores agree." if same else "THE STORES DIFFER.")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
