"""The large-fleet benchmark's inputs are a fleet the package accepts: every pair planned has
its own telemetry, the calendar, deploys and incidents name only the fleet's regions, and the
store loads them all. A smoke run on 5 x 4 pairs and 28 days; it measures nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd

from capacity.config import load_fleet
from capacity.store import Store

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "large_fleet.py"


def _script():
    spec = importlib.util.spec_from_file_location("large_fleet", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_fleet_loads_with_every_pair_its_own(tmp_path):
    built = _script().write_inputs(tmp_path, 5, 4, 28, 7)
    paths = built["paths"]
    fleet = load_fleet(paths["fleet"])
    assert list(fleet.regions) == [
        "ap-southeast",
        "eu-west",
        "na-east",
        "sa-east",
        "ap-southeast-2",
    ]
    assert list(fleet.services) == ["chat", "game", "matchmaking", "chat-2"]
    assert fleet.regions["ap-southeast-2"].timezone == "Asia/Singapore"
    assert fleet.services["chat-2"].demand_metric == "rps"
    assert all(abs(sum(s.values()) - 1) < 1e-9 for s in fleet.failover.values())
    telemetry = pd.read_csv(paths["telemetry"])
    assert built["pairs"] == 20 and built["rows"] == len(telemetry)
    demand = telemetry.merge(
        pd.DataFrame(fleet.demand_series(), columns=["region", "service", "metric"])
    )
    assert demand.groupby(["region", "service"]).size().size == 20
    # a copy is a demo series of its own seed, not the same numbers under another name
    first = demand[(demand["region"] == "ap-southeast") & (demand["service"] == "chat")]
    second = demand[(demand["region"] == "ap-southeast-2") & (demand["service"] == "chat")]
    assert len(first) == len(second) == 28 * 24
    assert (first["value"].to_numpy() != second["value"].to_numpy()).mean() > 0.9
    calendar = pd.read_csv(paths["calendar"], keep_default_na=False)
    assert "sa-east" in set(calendar["regions"])  # sa-east has one copy only
    assert "ap-southeast;ap-southeast-2" in set(calendar["regions"])
    with Store(tmp_path / "store.duckdb") as store:
        store.ingest([paths["telemetry"]], fleet=fleet)
        store.import_events([paths["calendar"]], fleet=fleet)
        store.import_deploys([paths["deploys"]], fleet=fleet)
        store.import_incidents([paths["incidents"]], fleet=fleet)
        loaded = store.con.sql(
            "SELECT count(DISTINCT region || '/' || service) FROM telemetry"
        ).fetchall()[0][0]
        linked = store.con.sql(
            "SELECT count(*) FROM incidents WHERE deploy_id IS NOT NULL"
        ).fetchall()[0][0]
    assert loaded == 20
    assert linked > 0  # incidents still name their deploys, renamed with them
