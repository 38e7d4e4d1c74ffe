"""The quick benchmark script still runs against the package: figures are measured in
``benchmarks/``, not here, but a script broken by a change of the package goes unnoticed until
someone needs its figure. A smoke run on a tiny input; it proves nothing about speed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_the_ingest_benchmark_runs_and_prints_its_row():
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "ingest.py"), "--rows", "20000", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    row = done.stdout.strip().splitlines()[-1].split("|")
    assert row[3].strip() == "20,000"  # rows loaded by both the bare read and the store
    ratio = float(row[7])
    assert 0 < ratio < 10


def test_the_pull_memory_benchmark_counts_every_point_of_its_range():
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "prometheus_memory.py"),
            *("--series", "3", "--days", "1", "--step", "1m", "--load"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    row = [cell.strip() for cell in done.stdout.strip().splitlines()[-1].split("|")]
    # 1 day at 1 min, both ends included: 1,441 points a series
    assert row[3:6] == ["1m", "3", "4,323"]
    # and loaded them all (a load refusing the pull's rows would exit non-zero)
    assert "load of 4,323 rows" in done.stdout and "peak of pull and load" in done.stdout
