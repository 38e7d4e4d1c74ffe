"""Memory of a first pull at a fine step: how many bytes each pulled point holds.

A first ``capacity pull`` reads 112 days; at ``step: 15s`` that is 645,120 points per series.
This script serves such a range from a stand-in for Prometheus's ``/api/v1/query_range`` (a
process of its own, answering every request with ``--series`` series of synthetic samples on
the requested grid, in Prometheus's JSON), pulls it with :func:`capacity.prometheus.pull`, and
reports the pulling process's peak resident memory above what it held before, per point.

Usage: ``.venv/bin/python benchmarks/prometheus_memory.py [--series 12] [--days 112]
[--step 15s]``. Prints the figures, then a row in the layout of ``benchmarks/RESULTS.md``.
About a minute at the defaults. The stand-in serves what a real server would return (the
reply's shape is Prometheus's own); the real-server comparison of values is
``prometheus_pull.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd

from capacity.config import PrometheusSource
from capacity.prometheus import pull, pull_window


def _reply(query: dict[str, list[str]], series: int) -> bytes:
    """A successful ``query_range`` reply: ``series`` series on the requested grid."""
    start = float(query["start"][0])
    end = float(query["end"][0])
    step = float(query["step"][0])
    times = np.arange(start, end + step / 2, step)
    result = []
    for number in range(series):
        level = 1000.0 * (number + 1)
        values = level + 100.0 * np.sin(times / 3600.0)
        labels = {"region": f"region-{number // 3}", "service": f"service-{number % 3}"}
        pairs = zip(times.tolist(), values.tolist(), strict=True)
        result.append({"metric": labels, "values": [[t, f"{v:.3f}"] for t, v in pairs]})
    body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return json.dumps(body).encode()


def serve(port: int, series: int) -> None:
    """Answer ``query_range`` requests on ``port`` until killed."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            body = _reply(parse_qs(url.query), series)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=12)
    parser.add_argument("--days", type=float, default=112)
    parser.add_argument("--step", default="15s")
    parser.add_argument(
        "--load",
        action="store_true",
        help="then load the rows into a new store, as capacity pull does, and report the "
        "peak of the pull and the load together",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.series)
        return 0
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--series", str(args.series)]
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        source = PrometheusSource(
            url=f"http://127.0.0.1:{port}",
            step=args.step,
            queries={"ccu": "sum by (region, service) (lifeverse_ccu)"},
        )
        end = pd.Timestamp("2026-11-22T23:00Z")
        start, stop, step = pull_window(
            source, newest={}, start=end - pd.Timedelta(days=args.days), end=end, now=end
        )
        before = _peak_mb()
        began = time.perf_counter()
        got = pull(source, start=start, end=stop, step=step)
        seconds = time.perf_counter() - began
        peak = _peak_mb()
    finally:
        server.kill()
        server.wait()
    loaded = None
    if args.load:
        import tempfile

        from capacity.store import Store

        with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "s.duckdb") as store:
            began = time.perf_counter()
            report = store.ingest_frame(got.rows, source="benchmark")
            loaded = (time.perf_counter() - began, _peak_mb(), report.inserted)
    points = len(got.rows)
    per_point = (peak - before) * 1024 * 1024 / points
    print(f"{points:,} points ({args.series} series x {points // args.series:,}) at {args.step}")
    print(f"{got.requests} requests, {seconds:.1f} s")
    print(f"peak resident memory {before:,.0f} MB before, {peak:,.0f} MB after")
    print(f"{per_point:,.0f} bytes per point")
    if loaded is not None:
        load_seconds, load_peak, inserted = loaded
        print(
            f"load of {inserted:,} rows {load_seconds:.1f} s; peak of pull and load "
            f"{load_peak - before:,.0f} MB above the start, "
            f"{(load_peak - before) * 1024 * 1024 / points:,.0f} bytes per point"
        )
    print(
        f"| {pd.Timestamp.now('UTC'):%Y-%m-%d} | {platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} cores | {args.step} | {args.series} "
        f"| {points:,} | {got.requests} | {seconds:.1f} s | {peak - before:,.0f} MB "
        f"| {per_point:,.0f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
