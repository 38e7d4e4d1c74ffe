"""``capacity recommend`` and the weekly plan take one path from a forecast to recommendations
(:func:`capacity.headroom.assess`): the same store, cutoff and quantile give the same rows."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.config import load_fleet
from capacity.demo import build_demo_store
from capacity.headroom import Assessment, assess
from capacity.weekly import build_plan, recommendations_csv

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
T0 = pd.Timestamp("2026-12-01", tz="UTC")
HOURS = pd.date_range(T0, periods=3, freq="h")


def test_assess_sizes_recommends_and_checks_region_loss(fleet_file):
    """eu-west's peak need is na-east's players arriving at 1,150 + 300 = 1,450 (15 servers
    of 100); ``now`` moves only whether a date to act by is overdue."""
    fleet = load_fleet(fleet_file)  # eu-west 10 and na-east 12 game servers, N+1, min 2
    demand = {"eu-west": [500, 950, 300], "na-east": [800, 400, 1150]}
    forecast = pd.DataFrame(
        [
            {"region": region, "service": "game", "ts": ts, "q0.95": value}
            for region, values in demand.items()
            for ts, value in zip(HOURS, values, strict=True)
        ]
    )
    safe = pd.DataFrame({"region": ["eu-west", "na-east"], "service": "game", "safe_load": 100.0})
    early = assess(forecast, safe, fleet, now=T0 - pd.Timedelta(days=30))
    assert isinstance(early, Assessment)
    assert early.need["required"].tolist() == [13, 14, 15, 13, 14, 15]
    recs = early.recommendations.set_index("region")
    assert recs["action"].to_dict() == {"eu-west": "scale_up", "na-east": "scale_up"}
    assert recs["target"].to_dict() == {"eu-west": 15, "na-east": 15}
    assert not recs["overdue"].any()
    # without eu-west, na-east (12 servers) takes 1,450 at 02:00; without na-east, eu-west (10)
    assert [(loss.lost, loss.shortfall, loss.where) for loss in early.survival] == [
        ("eu-west", 3, "na-east/game at 2026-12-01 02:00"),
        ("na-east", 5, "eu-west/game at 2026-12-01 02:00"),
    ]
    late = assess(forecast, safe, fleet, now=T0)
    assert late.recommendations["overdue"].all()
    pd.testing.assert_frame_equal(
        late.recommendations.drop(columns="overdue"),
        early.recommendations.drop(columns="overdue"),
    )
    assert late.survival == early.survival


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_writes_overdue_as_json_does(fleet_file):
    """``overdue`` read ``True``/``False`` (Python's spelling) in the CSV and ``true``/
    ``false`` in ``recommend --format json``: a script reading both saw two spellings of one
    flag. Both now write JSON's, which CSV readers (pandas) still read as booleans."""
    fleet = load_fleet(fleet_file)
    forecast = pd.DataFrame(
        [
            {"region": region, "service": "game", "ts": ts, "q0.95": 1500.0}
            for region in ("eu-west", "na-east")
            for ts in HOURS
        ]
    )
    safe = pd.DataFrame({"region": ["eu-west", "na-east"], "service": "game", "safe_load": 100.0})
    for now, flag in ((T0 - pd.Timedelta(days=30), False), (T0, True)):
        recs = assess(forecast, safe.assign(source="learned"), fleet, now=now).recommendations
        text = recommendations_csv(recs, safe.assign(source="learned"))
        assert {row["overdue"] for row in _rows(text)} == {json.dumps(flag)}
        assert pd.read_csv(io.StringIO(text))["overdue"].tolist() == [flag, flag]


@pytest.mark.slow
def test_recommend_gives_the_weekly_plans_recommendations(tmp_path):
    """The week starting where the demo's telemetry ends (2026-11-23) is planned from the same
    forecast, learned safe loads and calendar as ``capacity recommend`` sees then: every row
    and figure agree (the reasons name the same events and region losses), but ``overdue``,
    which the plan measures from its cutoff and recommend from the clock."""
    db = build_demo_store(tmp_path / "store.duckdb", DEMO)
    config = DEMO / "fleet.yaml"
    planned = tmp_path / "plan.duckdb"
    shutil.copy(db, planned)  # the plan stores its run; recommend would warm-start from it
    result = CliRunner().invoke(
        cli,
        ["recommend", "--db", str(db), "--config", str(config), "--format", "csv", "--jobs", "1"],
    )
    now = pd.Timestamp.now(tz="UTC")
    assert result.exit_code == 0, result.output
    plan = build_plan(week="2026-W48", db=planned, config=config, run_id="", jobs=1, backtest=False)
    assert plan.cutoff == pd.Timestamp("2026-11-23", tz="UTC")
    ours = _rows(result.stdout)
    # what the plan publishes as recommendations.csv
    theirs = _rows(recommendations_csv(plan.recommendations, plan.safe))
    assert len(ours) == len(theirs) == 12
    # figures worth agreeing on: sized at learned loads, peaks during events, region loss
    assert {row["safe_load_source"] for row in ours} == {"learned"}
    # one time format in both, as in scaling_schedule.csv: ISO 8601 in UTC, with Z
    for rows in (ours, theirs):
        times = [row[c] for row in rows for c in ("first_shortfall", "act_by") if row[c]]
        assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z", t) for t in times)
    assert sum("during '" in row["reason"] for row in theirs) >= 6
    # what a lost region sends: players to a ccu service, requests to an rps one
    for row in theirs:
        carried = "players" if row["service"] == "game" else "requests"
        assert f"sends its {carried} here" in row["reason"]
    for row, planned_row in zip(ours, theirs, strict=True):
        key = (row["region"], row["service"])
        sized_at = plan.safe.set_index(["region", "service"]).loc[key]
        # to 3 decimals, as scaling_schedule.csv writes it
        assert float(row.pop("safe_load")) == pytest.approx(sized_at["safe_load"], abs=5e-4)
        assert float(planned_row.pop("safe_load")) == round(sized_at["safe_load"], 3)
        assert (
            row.pop("safe_load_source") == planned_row.pop("safe_load_source") == sized_at["source"]
        )
        act_by = pd.Timestamp(row["act_by"]) if row["act_by"] else pd.NaT
        assert row.pop("overdue") == json.dumps(bool(pd.notna(act_by) and act_by < now))
        assert planned_row.pop("overdue") == json.dumps(
            bool(pd.notna(act_by) and act_by < plan.cutoff)
        )
        assert row == planned_row, key
