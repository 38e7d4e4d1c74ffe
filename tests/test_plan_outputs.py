"""What the weekly plan publishes for scripts and tells its reader, tested without papermill:
ISO times in the manifest and the CSVs, the safe load behind each row, the warnings about
the horizon and the telemetry a plan leaves out, the additions overdue the first time they
appear, the refusal of a region/service without telemetry, the inputs a rerun compares."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from capacity import decision, report
from capacity.config import load_fleet, parse_fleet
from capacity.demo import build_demo_store, generate_demo
from capacity.errors import ParameterError
from capacity.headroom import assess, region_loss_survival
from capacity.plan import _code_sha256
from capacity.store import Store
from capacity.weekly import (
    check_plannable,
    horizon_warning,
    json_safe,
    recommendations_csv,
    unused_telemetry_warning,
)
from tests.notebook_data import FLEET

T0 = pd.Timestamp("2026-12-01", tz="UTC")
HOURS = pd.date_range(T0, periods=3, freq="h")


def _assessed(fleet_file):
    """eu-west (10 servers of 100) takes 1,150 of na-east's players at 02:00 when na-east is
    lost: short by 5 (15 servers); na-east (12 servers of 400) survives losing eu-west."""
    fleet = load_fleet(fleet_file)
    demand = {"eu-west": [500, 950, 300], "na-east": [800, 400, 1150]}
    forecast = pd.DataFrame(
        [
            {"region": region, "service": "game", "ts": ts, "q0.95": value}
            for region, values in demand.items()
            for ts, value in zip(HOURS, values, strict=True)
        ]
    )
    safe = pd.DataFrame(
        {
            "region": ["eu-west", "na-east"],
            "service": "game",
            "safe_load": [100.0, 400.0],
            "source": ["learned", "hint"],
            "reason": ["learned from 812 hours", "no latency_p99_ms telemetry"],
        }
    )
    return fleet, safe, assess(forecast, safe.iloc[:, :3], fleet, now=T0)


def test_manifest_times_are_iso_8601_and_region_losses_name_region_service_and_hour(fleet_file):
    fleet, _, assessed = _assessed(fleet_file)
    [lose_eu, lose_na] = region_loss_survival(assessed.need, fleet)
    assert (lose_na.region, lose_na.service, lose_na.ts) == (
        "eu-west",
        "game",
        pd.Timestamp("2026-12-01 02:00", tz="UTC"),
    )
    assert lose_na.where == "eu-west/game at 2026-12-01 02:00"  # still, for people
    # what write_outputs puts in plan.json, and plan.py in manifest.json
    record = json.loads(json.dumps(json_safe([lose_eu.record(), lose_na.record()])))
    assert record[1] == {
        "lost": "na-east",
        "survives": False,
        "shortfall": 5,
        "where": "eu-west/game at 2026-12-01 02:00",
        "failover": True,
        "region": "eu-west",
        "service": "game",
        "ts": "2026-12-01T02:00:00+00:00",
        "unchecked": [],
        "only_region": False,
        "status": "short",
    }
    # na-east's servers hold 400 each: 1,450 take 4 of its 12, so losing eu-west is survived
    assert record[0]["survives"] and (record[0]["region"], record[0]["ts"]) == (None, None)
    assert record[0]["status"] == "survives"
    verdict = json_safe({"act_by": pd.Timestamp("2026-11-20 10:58", tz="UTC"), "none": pd.NaT})
    assert verdict == {"act_by": "2026-11-20T10:58:00+00:00", "none": None}


def test_a_region_that_survives_has_no_worst_place(fleet_file):
    fleet, _, assessed = _assessed(fleet_file)
    roomy = assessed.need.assign(servers_now=100)
    for loss in region_loss_survival(roomy, fleet):
        assert loss.survives and (loss.region, loss.service, loss.ts) == (None, None, None)


def test_recommendations_csv_writes_each_safe_load_as_the_scaling_schedule_does(fleet_file):
    """One plan folder gave eu-west/chat's safe load as 3165.662908290111 in
    recommendations.csv and 3165.663 in scaling_schedule.csv: both now round to 3 decimals."""
    from capacity.scaling import to_csv_text

    _, safe, assessed = _assessed(fleet_file)
    safe = safe.assign(safe_load=[3165.662908290111, 397.02426258760687])
    rows = csv.DictReader(io.StringIO(recommendations_csv(assessed.recommendations, safe)))
    recommended = {row["region"]: row["safe_load"] for row in rows}
    schedule = safe.assign(ts=HOURS[0], min_servers=2, demand=1.0)
    rows = csv.DictReader(io.StringIO(to_csv_text(schedule)))
    scheduled = {row["region"]: row["safe_load"] for row in rows}
    assert recommended == scheduled == {"eu-west": "3165.663", "na-east": "397.024"}


def test_recommendations_csv_has_iso_z_times_and_the_safe_load_behind_each_row(fleet_file):
    _, safe, assessed = _assessed(fleet_file)
    rows = list(csv.DictReader(io.StringIO(recommendations_csv(assessed.recommendations, safe))))
    assert list(rows[0])[-2:] == ["safe_load", "safe_load_source"]
    by_region = {row["region"]: row for row in rows}
    assert (by_region["eu-west"]["safe_load"], by_region["eu-west"]["safe_load_source"]) == (
        "100.0",
        "learned",
    )
    assert by_region["na-east"]["safe_load_source"] == "hint"
    # first shortfall 2026-12-01 00:00 less 7 days of procurement and 10 minutes of boot
    assert by_region["eu-west"]["first_shortfall"] == "2026-12-01T00:00:00Z"
    assert by_region["eu-west"]["act_by"] == "2026-11-23T23:50:00Z"
    hold = assessed.recommendations.assign(act_by=pd.NaT, first_shortfall=pd.NaT)
    empty = list(csv.DictReader(io.StringIO(recommendations_csv(hold, safe))))
    assert {row["act_by"] for row in empty} == {""}  # no date: an empty cell


def test_the_report_names_the_series_sized_at_the_hint_and_why(fleet_file):
    _, safe, _ = _assessed(fleet_file)
    text = report.hint_line(safe)
    assert text.startswith(
        "**Sized at the fleet file's safe_load_hint, not learned from telemetry: 1 of 2 "
        "region/services.**"
    )
    assert "\n- na-east/game: 400 per server; no latency_p99_ms telemetry" in text
    assert "eu-west" not in text
    learned = report.hint_line(safe.assign(source="learned"))
    assert learned.startswith("Every region/service is sized at a safe load per server learned")


def test_the_report_lists_the_first_few_series_sized_at_the_hint_and_names_the_rest():
    # at 40 region/services the list had run to 13 long bullets, and can reach one per pair
    safe = pd.DataFrame(
        {
            "region": [f"r{i}" for i in range(8)],
            "service": ["game"] * 8,
            "safe_load": [400.0] * 8,
            "source": ["hint"] * 8,
            "reason": [f"only {i} hour(s) lie at or above it" for i in range(8)],
        }
    )
    text = report.hint_line(safe)
    assert text.startswith(
        "**Sized at the fleet file's safe_load_hint, not learned from "
        "telemetry: 8 of 8 region/services.**"
    )
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(bullets) == report.HINT_ITEMS + 1
    assert bullets[0] == "- r0/game: 400 per server; only 0 hour(s) lie at or above it"
    assert bullets[-1].startswith("- and 3 more: r5/game, r6/game, r7/game. Each is marked")
    assert "safe_load_source" in bullets[-1] and "capacity -v recommend" in bullets[-1]
    # a few are listed in full, as before
    few = report.hint_line(safe.head(report.HINT_ITEMS))
    assert "more:" not in few and few.count("\n- ") == report.HINT_ITEMS


def _fleet_with(**lead_days: float):
    raw = yaml.safe_load(FLEET.read_text())
    for server_type, days in lead_days.items():
        raw["server_types"][server_type]["procurement_lead_time_days"] = days
    return parse_fleet(raw)


def test_a_horizon_that_can_show_an_addition_overdue_is_named_with_the_one_to_use():
    """A weekly plan first shows a shortfall up to a week after it entered the horizon: a
    horizon under the lead time plus a week can show an addition already overdue. The demo
    (28 days against 21) is not warned of on every run."""
    fleet = load_fleet(FLEET)  # game servers take 21 days to procure, the others 14
    assert horizon_warning(fleet, "28d") is None and horizon_warning(fleet, "840h") is None
    text = horizon_warning(fleet, "27d")
    assert text == (
        "the plan's horizon, 27d, is shorter than the longest procurement lead time, 21 days "
        "(game-c6i-2xlarge), plus a week: a shortfall leaves 6 days to order at the horizon's "
        "end and is overdue a week later, so a weekly plan can show an addition already "
        "overdue. Plan with --horizon 35d to leave at least a week to act on every addition "
        "when a weekly plan first shows it"
    )
    assert "a shortfall is overdue even at the horizon's end" in horizon_warning(fleet, "72h")
    assert "--horizon 14d" in horizon_warning(
        _fleet_with(**{"game-c6i-2xlarge": 0, "mm-c6i-xlarge": 0, "chat-c6g-large": 0}), "6d"
    )
    slow = _fleet_with(**{"chat-c6g-large": 400 - 100, "game-c6i-2xlarge": 365})
    assert "365 days (game-c6i-2xlarge)" in horizon_warning(slow, "28d")
    assert "--horizon 366d" in horizon_warning(slow, "28d")  # the longest horizon there is


def test_a_lead_time_no_horizon_covers_is_not_told_a_horizon_leaves_a_week():
    """A lead time of a year cannot be planned a week ahead: the warning had told a plan of
    366 days, the longest, to plan with --horizon 366d "to leave at least a week"."""
    slow = _fleet_with(**{"game-c6i-2xlarge": 365})
    short = horizon_warning(slow, "28d")
    assert "Plan with --horizon 366d, the longest a plan forecasts, for the most notice" in short
    assert "to leave at least a week" not in short
    assert "no horizon leaves a week to act on a 365-day lead time" in short
    assert "order servers of type game-c6i-2xlarge ahead of the plan" in short
    longest = horizon_warning(slow, "366d")
    assert "a shortfall leaves 1 day to order at the horizon's end" in longest
    assert "--horizon" not in longest.split("overdue. ")[-1]
    assert "A plan forecasts at most 366d, so no horizon leaves a week" in longest
    # a lead time that the longest horizon still covers a week ahead is told that horizon
    near = horizon_warning(_fleet_with(**{"game-c6i-2xlarge": 352}), "28d")
    assert near.endswith(
        "Plan with --horizon 366d to leave at least a week to act on every addition when a "
        "weekly plan first shows it"
    )
    assert horizon_warning(_fleet_with(**{"game-c6i-2xlarge": 352}), "366d") is None


def test_telemetry_after_the_cutoff_is_named_with_the_week_that_would_use_it():
    monday = pd.Timestamp("2026-11-23", tz="UTC")
    newest = pd.Timestamp("2026-11-27 19:00", tz="UTC")  # a Friday
    assert unused_telemetry_warning("2026-W48", monday, newest) == (
        "the demand telemetry from 2026-11-23 00:00 to 2026-11-27 19:00 UTC (4.8 days) is "
        "after this plan's cutoff, the start of 2026-W48, and not used. Plan 2026-W49 "
        "(--week 2026-W49) to forecast from the newest telemetry"
    )
    # Monday's hourly pull, and telemetry ending just before the cutoff: nothing left out
    assert unused_telemetry_warning("2026-W48", monday, monday + pd.Timedelta(hours=6)) is None
    assert unused_telemetry_warning("2026-W48", monday, monday - pd.Timedelta(hours=1)) is None
    # telemetry to Sunday 23:00 is used in full by the next week's plan
    sunday = pd.Timestamp("2026-11-29 23:00", tz="UTC")
    assert "Plan 2026-W49 (--week 2026-W49)" in unused_telemetry_warning("2026-W48", monday, sunday)


def test_a_week_replanned_after_the_next_is_not_asked_to_plan_that_one(tmp_path):
    """Replanning 2026-W48 after 2026-W49 was published had asked for a plan of 2026-W49."""
    monday = pd.Timestamp("2026-11-23", tz="UTC")
    sunday = pd.Timestamp("2026-11-29 23:00", tz="UTC")
    (tmp_path / "2026-W49").mkdir()
    assert "Plan 2026-W49" in unused_telemetry_warning("2026-W48", monday, sunday, tmp_path)
    (tmp_path / "2026-W49" / "manifest.json").write_text("{}", encoding="utf-8")
    assert unused_telemetry_warning("2026-W48", monday, sunday, tmp_path).endswith(
        "and not used. 2026-W49's plan, published in the same folder, forecasts from it"
    )


def _recs(actions: list[str], overdue: list[bool]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["eu-west", "na-east", "sa-east"],
            "service": "game",
            "action": actions,
            "change": [10 if a == "scale_up" else 0 for a in actions],
            "act_by": [T0 - pd.Timedelta(days=3)] * 3,
            "overdue": overdue,
            "cost_per_week_change": [10.0, 0.0, 0.0],
        }
    )


def test_an_addition_overdue_the_first_time_it_appears_is_marked():
    before = _recs(["scale_up", "hold", "scale_down"], [False, False, False])
    now = _recs(["scale_up", "scale_up", "scale_up"], [True, True, False])
    # eu-west was asked for last week; na-east is new and already late; sa-east is not late
    assert decision.overdue_first_seen(now, before) == {("na-east", "game")}
    assert decision.overdue_first_seen(now, None) == set()  # no plan to compare with
    fresh = decision.overdue_first_seen(now, before)
    page = report.plan_table(now, new_overdue=fresh).data
    dated = f"{T0 - pd.Timedelta(days=3):%Y-%m-%d %H:%M}"
    assert f"<td>{dated} (overdue)</td>" in page
    assert f"<td>{dated} {report.FIRST_SEEN_OVERDUE}</td>" in page
    assert page.count("new this week") == 1
    line = report.decision_line(now, cutoff=T0, new_overdue=fresh)
    assert "2 of 3 additions are overdue" in line
    assert " 1 of them was not in last week's plan: overdue the first time a plan shows it " in line
    assert "(na-east/game)." in line
    assert "not in last week's plan" not in report.decision_line(now, cutoff=T0)


def test_an_overdue_addition_last_week_asked_for_by_a_later_date_is_not_left_undone():
    # last week's plan (2026-W47 for a cutoff of T0) asked eu-west to scale up by a date after
    # this plan's cutoff, and na-east by one before it; now both are overdue
    before = _recs(["scale_up", "scale_up", "hold"], [False, False, False])
    later = T0 + pd.Timedelta(days=6, hours=0, minutes=58)
    before["act_by"] = [later, T0 - pd.Timedelta(days=1), pd.NaT]
    now = _recs(["scale_up", "scale_up", "scale_up"], [True, True, True])
    moved = decision.overdue_moved_earlier(now, before, T0)
    assert moved == {("eu-west", "game"): later}
    assert decision.overdue_first_seen(now, before) == {("sa-east", "game")}
    assert decision.overdue_moved_earlier(now, None, T0) == {}
    said = f"{report.MOVED_EARLIER_OVERDUE} {later:%Y-%m-%d %H:%M})"
    page = report.plan_table(now, new_overdue={("sa-east", "game")}, moved_earlier=moved).data
    assert page.count(html.escape(said)) == 1
    assert page.count("(overdue)") == 1  # na-east: last week's date had passed: left undone
    line = report.decision_line(now, cutoff=T0, moved_earlier=moved)
    assert "3 of 3 additions are overdue" in line
    assert (
        " 1 of them was due later in last week's plan, by a date still ahead when this plan "
        "starts: the forecast moved it earlier, no one left it undone "
        f"(eu-west/game by {later:%Y-%m-%d %H:%M} UTC)." in line
    )


def test_the_previous_plan_is_read_with_the_sha256_of_the_file_read(tmp_path):
    folder = tmp_path / "2026-W47"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"run_id": "r47"}))
    text = "region,service,action,target,act_by\neu-west,game,scale_up,12,2026-11-20T10:58:00Z\n"
    (folder / "recommendations.csv").write_text(text)
    earlier = decision.read_previous_plan(tmp_path, "2026-W48")
    assert earlier.reference() == {
        "week": "2026-W47",
        "run_id": "r47",
        "recommendations_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
    assert earlier.recommendations["act_by"].tolist() == [
        pd.Timestamp("2026-11-20 10:58", tz="UTC")
    ]
    assert decision.read_previous_plan(tmp_path, "2026-W47") is None


def test_the_code_fingerprint_follows_the_sources_not_where_they_are(tmp_path):
    package = Path(__file__).resolve().parents[1] / "capacity"
    one, two = tmp_path / "one", tmp_path / "two"
    for copy in (one, two):
        shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert _code_sha256(one) == _code_sha256(two) == _code_sha256(package)
    (two / "report.py").write_text((two / "report.py").read_text() + "\n# changed\n")
    assert _code_sha256(two) != _code_sha256(one)
    (one / "cli" / "notes.txt").write_text("not code")  # only the .py sources count
    assert _code_sha256(one) == _code_sha256(package)


def test_a_region_without_one_services_telemetry_is_refused_with_a_fix_that_can_be_done(
    tmp_path,
):
    generate_demo(tmp_path / "fleet", days=10)
    db = build_demo_store(tmp_path / "store.duckdb", tmp_path / "fleet")
    with Store(db) as store:
        # its demand of both kinds: the demo's ccu of chat, held instead, would be named
        store.con.execute(
            "DELETE FROM telemetry WHERE region = 'sa-east' AND service = 'chat' "
            "AND metric IN ('rps', 'ccu')"
        )
        fleet = load_fleet(tmp_path / "fleet" / "fleet.yaml")
        monday = pd.Timestamp("2026-11-23", tz="UTC")
        with pytest.raises(ParameterError) as refused:
            check_plannable(store, fleet, monday, pd.Timedelta(days=28))
    message = str(refused.value)
    assert "no demand telemetry before 2026-11-23 00:00 UTC: sa-east/chat (rps)" in message
    assert "leave them out of the fleet file" not in message  # one pair cannot be
    assert message.endswith(
        "Fix: load that telemetry (capacity ingest, capacity pull); a service that does not run "
        "in one region cannot be left out of that region alone (every service is planned in "
        "every region): plan such a region with a fleet file of its own"
    )


def test_the_plan_report_is_not_titled_after_the_demo_game():
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "weekly_capacity_plan.py"
    text = notebook.read_text()
    assert "# # Weekly capacity plan\n" in text and "LifeVerse" not in text
