"""Ingest speed: a validated load against DuckDB's bare CSV read, side by side.

Writes a long telemetry CSV (10 million rows by default) to a temporary folder, then times,
each in a fresh process so that peak memory is measured per step:

- ``bare``: ``CREATE TABLE t AS SELECT * FROM read_csv(...)`` into a new database file;
- ``ingest``: ``capacity.Store.ingest`` of the same file into a new store (parsing, every
  validation check, duplicate detection and the record of the load).

Target: the validated load keeps at least half of DuckDB's bare speed (median bare seconds ÷
median ingest seconds >= 0.5), at a peak resident memory under 2 GB.

Usage: ``.venv/bin/python benchmarks/ingest.py [--rows N] [--repeats R]`` (``make bench``).
Prints a Markdown row for ``benchmarks/RESULTS.md``. ``--rows 100000 --repeats 1`` is a smoke
run of about 2 seconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

BARE = """
import sys, time, duckdb, resource, json
con = duckdb.connect(sys.argv[2])
start = time.perf_counter()
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [sys.argv[1]])
elapsed = time.perf_counter() - start
rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
con.close()
print(json.dumps({"seconds": elapsed, "rows": rows,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

INGEST = """
import sys, time, resource, json
from capacity import Store
store = Store(sys.argv[2])
start = time.perf_counter()
[report] = store.ingest([sys.argv[1]])
elapsed = time.perf_counter() - start
store.close()
print(json.dumps({"seconds": elapsed, "rows": report.rows,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_csv(path: Path, rows: int) -> None:
    """Write ``rows`` rows of plausible long telemetry (72 series, hourly) to ``path``."""
    series = 72
    hours = -(-rows // series)
    # hours that end two days ago: a load refuses rows from the future (10 M rows are 16
    # years of 72 series, which from a fixed 2015 start ran past today)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    start -= timedelta(hours=hours + 48)
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
            SELECT strftime(TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}' + INTERVAL (h) HOUR,
                            '%Y-%m-%dT%H:%M:%SZ')
                       AS ts,
                   r AS region, s AS service, m AS metric,
                   round(random() * CASE WHEN m IN ('cpu_util', 'error_rate') THEN 1
                                         ELSE 100000 END, 4) AS value
            FROM range(0, {hours}) t(h),
                 (VALUES ('eu-west'), ('na-east'), ('ap-southeast'), ('sa-east')) r(r),
                 (VALUES ('game'), ('matchmaking'), ('chat')) s(s),
                 (VALUES ('ccu'), ('rps'), ('servers'), ('cpu_util'), ('latency_p99_ms'),
                         ('error_rate')) m(m)
            LIMIT {rows}
        ) TO '{path}' (HEADER)
        """
    )
    con.close()


def run(script: str, csv_path: Path, db_path: Path) -> dict:
    """Run one timed step in a fresh Python process and return its figures."""
    db_path.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, "-c", script, str(csv_path), str(db_path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    db_path.unlink(missing_ok=True)
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    """Generate the file, time both steps, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the CSV")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each step")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="capacity-bench-") as tmp:
        folder = Path(tmp)
        csv_path = folder / "telemetry.csv"
        start = time.perf_counter()
        write_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"wrote {args.rows:,} rows, {size_mb:.0f} MB in {time.perf_counter() - start:.1f} s")
        bare, ingest = [], []
        for i in range(args.repeats):  # alternate, so drift in machine load hits both
            bare.append(run(BARE, csv_path, folder / f"bare{i}.duckdb"))
            ingest.append(run(INGEST, csv_path, folder / f"ingest{i}.duckdb"))
            print(
                f"repeat {i + 1}: bare {bare[-1]['seconds']:.2f} s, "
                f"ingest {ingest[-1]['seconds']:.2f} s"
            )
    assert all(r["rows"] == args.rows for r in bare + ingest), "row counts differ"
    bare_s = statistics.median(r["seconds"] for r in bare)
    ingest_s = statistics.median(r["seconds"] for r in ingest)
    peak = max(r["peak_mb"] for r in ingest)
    print(
        f"\n| {time.strftime('%Y-%m-%d')} | {platform.machine()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores | {args.rows:,} | {size_mb:.0f} MB "
        f"| {bare_s:.2f} s | {ingest_s:.2f} s | {bare_s / ingest_s:.2f} | {peak:.0f} MB |"
    )
    _ = resource  # peak memory is read inside each child process


if __name__ == "__main__":
    main()
