"""The first load of a fleet that is not the demo, as docs/own-fleet.md walks through it: a
wide export with empty cells and a service without latency, a young region exported in naive
local time, and the sizing that falls back to the hint where latency was never measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from capacity.cli import cli
from capacity.config import load_fleet
from capacity.sizing import safe_loads
from capacity.store import Store
from tests.test_own_fleet_config import _doc_fleet

HOURS = 24 * 14


def _wide(tmp_path: Path) -> Path:
    """us-west lobby (rps, with latency) and voice (ccu, no latency) in one wide export:
    a lobby row has no ccu and a voice row no rps or latency, as monitoring exports them."""
    ts = pd.date_range("2026-11-02T00:00Z", periods=HOURS, freq="1h")
    load = 1000 + 500 * np.sin(np.arange(HOURS) / 24 * 2 * np.pi)
    lobby = pd.DataFrame(
        {"ts": ts, "region": "us-west", "service": "lobby", "rps": load * 10, "servers": 10.0}
    )
    lobby["latency_p99_ms"] = 40 + load / 100
    voice = pd.DataFrame(
        {"ts": ts, "region": "us-west", "service": "voice", "ccu": load * 20, "servers": 30.0}
    )
    frame = pd.concat([lobby, voice])[
        ["ts", "region", "service", "ccu", "rps", "servers", "latency_p99_ms"]
    ]
    frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    path = tmp_path / "telemetry-core.csv"
    frame.to_csv(path, index=False)
    return path


def _young_region(tmp_path: Path) -> Path:
    """me-south/world, opened on 2026-11-09, exported in Dubai time without an offset."""
    ts = pd.date_range("2026-11-09T04:00", periods=72, freq="1h")  # naive, Asia/Dubai
    frame = pd.DataFrame(
        {
            "ts": ts.strftime("%Y-%m-%d %H:%M:%S"),
            "region": "me-south",
            "service": "world",
            "metric": "ccu",
            "value": 500.0,
        }
    )
    path = tmp_path / "me-south.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_first_load_of_an_own_fleet(tmp_path):
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(_doc_fleet(), encoding="utf-8")
    db = tmp_path / "own.duckdb"
    common = ["--db", str(db), "--config", str(fleet_file)]
    runner = CliRunner()

    wide = runner.invoke(cli, ["ingest", str(_wide(tmp_path)), *common])
    assert wide.exit_code == 0, wide.output
    # empty cells are metrics not measured that hour: lobby 3 metrics, voice 2, per hour
    assert f"{5 * HOURS:,} rows read, {5 * HOURS:,} inserted" in wide.stdout

    young = _young_region(tmp_path)
    naive = runner.invoke(cli, ["ingest", str(young), *common])
    assert naive.exit_code == 2
    assert "has no UTC offset" in naive.stderr and "--tz" in naive.stderr
    local = runner.invoke(cli, ["ingest", str(young), "--tz", "Asia/Dubai", *common])
    assert local.exit_code == 0, local.output

    status = runner.invoke(cli, ["status", "--db", str(db)])
    assert status.exit_code == 0, status.output
    line = next(row for row in status.stdout.splitlines() if "me-south" in row)
    assert "2026-11-09 00:00" in line  # 04:00 in Dubai is midnight UTC

    fleet = load_fleet(fleet_file)
    with Store(db, read_only=True) as store:
        sized = safe_loads(store, fleet, regions=["us-west"], services=["voice"])
    voice = sized.iloc[0]
    # no latency_p99_ms at all: sized at the server type's hint, and the result says so
    assert (voice["source"], voice["safe_load"]) == ("hint", 900.0)
    assert voice["reason"].endswith("using the configured safe_load_hint 900")
