"""The SRE review's journey end to end, and the inputs that once misread it.

``capacity deploys import``, ``capacity incidents import`` and ``capacity kpis --format json``
are run as a person runs them, on a real DuckDB store built from the demo's files, and every
figure printed is checked against the same figure computed here another way: SQL straight on
the store's tables. The definitions are those of ``docs/resilience.md``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from capacity.config import load_fleet, parse_fleet
from capacity.errors import ConfigError, DataError
from capacity.resilience import KPI_COLUMNS, kpis, kpis_json, read_deploys, read_incidents

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
UNTIL = pd.Timestamp("2026-11-23T00:00Z")  # the hour after the demo's newest error_rate
SINCE = UNTIL - pd.Timedelta(days=28)


def capacity(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "capacity", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the demo, by hand


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("review") / "store.duckdb"
    config = str(DEMO / "fleet.yaml")
    steps = (
        ("ingest", str(DEMO / "telemetry.parquet")),
        ("deploys", "import", str(DEMO / "deploys.csv")),
        ("incidents", "import", str(DEMO / "incidents.csv")),
    )
    for step in steps:
        done = capacity(*step, "--db", str(db), "--config", config)
        assert done.returncode == 0, done.stderr
    return db


def by_hand(db: Path) -> dict[tuple[str, str], dict[str, float]]:
    """The figures of every series of the last four weeks, straight from the store's tables."""
    slo = {s: v.slo.availability for s, v in load_fleet(DEMO / "fleet.yaml").services.items()}
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    window = {"lo": SINCE.to_pydatetime(), "hi": UNTIL.to_pydatetime()}
    hours = con.execute(
        """
        WITH h AS (
            SELECT region, service, date_trunc('hour', ts) AS hour, avg(value) AS e
            FROM telemetry
            WHERE metric = 'error_rate' AND value IS NOT NULL AND ts >= $lo AND ts < $hi
            GROUP BY ALL
        )
        SELECT region, service, count(*) AS known, sum(e) AS spent FROM h GROUP BY ALL
        """,
        window,
    ).df()
    burns = con.execute(
        """
        SELECT region, service, count(*) AS known, avg(e) AS e FROM (
            SELECT region, service, date_trunc('hour', ts) AS hour, avg(value) AS e
            FROM telemetry
            WHERE metric = 'error_rate' AND value IS NOT NULL
              AND ts >= $hi - INTERVAL 6 HOUR AND ts < $hi
            GROUP BY ALL
        ) GROUP BY ALL
        """,
        {"hi": window["hi"]},
    ).df()
    incidents = con.execute(
        """
        SELECT region, service, count(*) AS n,
               count(*) FILTER (WHERE resolved_at IS NULL) AS still_open,
               avg(epoch(resolved_at - started_at) / 60) AS mttr,
               avg(epoch(detected_at - started_at) / 60) AS mttd,
               epoch(max(started_at) - min(started_at)) / 3600 / nullif(count(*) - 1, 0) AS mtbf
        FROM incidents WHERE started_at >= $lo AND started_at < $hi GROUP BY ALL
        """,
        window,
    ).df()
    deploys = con.execute(
        """
        SELECT region, service, count(*) AS n,
               count(*) FILTER (WHERE deploy_id IN (
                   SELECT deploy_id FROM incidents WHERE deploy_id IS NOT NULL)) AS failed
        FROM deploys WHERE deployed_at >= $lo AND deployed_at < $hi GROUP BY ALL
        """,
        window,
    ).df()
    con.close()
    out: dict[tuple[str, str], dict[str, float]] = {}
    for r in hours.itertuples():
        budget = 1 - slo[r.service]
        mean_e = r.spent / r.known
        out[(r.region, r.service)] = {
            "availability": 1 - mean_e,
            "error_budget_remaining": 1 - mean_e / budget,
            "known_hours": r.known,
            "unknown_hours": 28 * 24 - r.known,
            "incidents": 0,
            "incidents_open": 0,
            "mttr_minutes": math.nan,
            "mttd_minutes": math.nan,
            "mtbf_hours": math.nan,
            "deploys": 0,
            "change_failure_rate": math.nan,
        }
    for r in burns.itertuples():
        out[(r.region, r.service)]["burn_6h"] = r.e / (1 - slo[r.service])
    for r in incidents.itertuples():
        out[(r.region, r.service)].update(
            incidents=r.n,
            incidents_open=r.still_open,
            mttr_minutes=r.mttr,
            mttd_minutes=r.mttd,
            mtbf_hours=math.nan if pd.isna(r.mtbf) else r.mtbf,
        )
    for r in deploys.itertuples():
        out[(r.region, r.service)].update(deploys=r.n, change_failure_rate=r.failed / r.n)
    return out


def test_kpis_json_of_the_demo_matches_the_store_figured_by_hand(demo_store):
    done = capacity(
        "kpis",
        "--db",
        str(demo_store),
        "--config",
        str(DEMO / "fleet.yaml"),
        "--since",
        SINCE.isoformat(),
        "--until",
        UNTIL.isoformat(),
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    printed = {(o["region"], o["service"]): o for o in json.loads(done.stdout)}
    expected = by_hand(demo_store)
    assert set(printed) == {*expected, ("all", "all")}
    for key, figures in expected.items():
        got = printed[key]
        for name in (
            "availability",
            "error_budget_remaining",
            "burn_6h",
            "mttr_minutes",
            "mttd_minutes",
            "mtbf_hours",
            "change_failure_rate",
        ):
            want = figures[name]
            if math.isnan(want):
                assert got[name] is None, (key, name)  # null in JSON, never NaN or zero
            else:
                assert isinstance(got[name], float), (key, name)
                assert got[name] == pytest.approx(want, rel=1e-9), (key, name)
        for name in ("incidents", "deploys"):
            assert got[name] == figures[name] and isinstance(got[name], int), (key, name)
    # the sa-east outage: six hours without telemetry are unknown, not up
    assert expected[("sa-east", "game")]["unknown_hours"] == 6
    assert expected[("eu-west", "game")]["unknown_hours"] == 0
    # the overall row pools every series-hour with data
    known = sum(f["known_hours"] for f in expected.values())
    spent = sum((1 - f["availability"]) * f["known_hours"] for f in expected.values())
    assert printed[("all", "all")]["availability"] == pytest.approx(1 - spent / known, rel=1e-12)
    assert printed[("all", "all")]["incidents"] == sum(f["incidents"] for f in expected.values())


def test_the_kpi_table_prints_every_column_of_the_frame(demo_store):
    done = capacity(
        "kpis",
        "--db",
        str(demo_store),
        "--config",
        str(DEMO / "fleet.yaml"),
        "--until",
        UNTIL.isoformat(),
        "--by",
        "",
    )
    assert done.returncode == 0, done.stderr
    # three tables of the overall row (tests/test_terminal_tables.py checks every cell)
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("all ")]
    assert len(rows) == 3
    slo, incidents, times = rows
    # the digits the plan report's resilience table gives the same figures
    assert slo[2:] == ["99.9574%", "99.7667%", "81.7%", "0.182", "0.179", "0.179", "ok"]
    # incidents, open, sev1-4, failures, deploys, change failure rate
    assert incidents[2:] == ["8", "0", "3", "3", "2", "0", "3", "49", "0.0%"]
    assert times[-2:] == ["8,046", "18"]  # hours measured, unknown
    assert len(KPI_COLUMNS) == 2 + sum(len(r) - 2 for r in rows)  # every figure is shown


# --------------------------------------------------------------------------- open incidents

RAW_FLEET = {
    "regions": {"eu-west": {"timezone": "Europe/Berlin"}},
    "services": {
        "game": {
            "demand_metric": "ccu",
            "server_type": "std",
            "slo": {"latency_p99_ms": 100, "availability": 0.999},
        },
    },
    "server_types": {
        "std": {"safe_load_hint": 100, "cost_per_hour": 1, "boot_lead_time_minutes": 5}
    },
    "current_servers": {},
    "failover": {},
}
FLEET = parse_fleet(RAW_FLEET)
HEADER = "incident_id,region,service,severity,started_at,detected_at,resolved_at,cause,deploy_id"
NO_RATES = pd.DataFrame(columns=["ts", "region", "service", "value"])


def test_open_incidents_are_counted_apart_from_the_repair_times(tmp_path):
    # Three incidents start in the window, in Berlin time and with offsets: A repaired after
    # 30 min, B after 90 min, C still open. MTTR is (30 + 90) / 2 = 60 over the two resolved;
    # incidents_open says one more is not in it (it once could only be told by subtracting).
    path = write(
        tmp_path,
        "incidents.csv",
        f"""
        {HEADER}
        A,eu-west,game,sev2,2026-01-05T10:00+01:00,2026-01-05T10:05+01:00,2026-01-05T09:30Z,,
        B,eu-west,game,sev3,2026-01-05T12:00Z,2026-01-05T12:10Z,2026-01-05T13:30Z,,
        C,eu-west,game,sev1,2026-01-05 20:00,2026-01-05 20:20,,,
        """,
    )
    # the naive times of C are Berlin wall-clock time: 19:00 UTC
    incidents = read_incidents(path, tz="Europe/Berlin")
    assert incidents["started_at"].iloc[-1] == pd.Timestamp("2026-01-05T19:00Z")
    frame = kpis(incidents, None, NO_RATES, FLEET, since="2026-01-05", until="2026-01-06")
    game = frame.iloc[0]
    assert game["incidents"] == 3 and game["incidents_open"] == 1
    assert game["mttr_minutes"] == pytest.approx(60)
    assert game["mttd_minutes"] == pytest.approx((5 + 10 + 20) / 3)
    assert game["mtbf_hours"] == pytest.approx(10 / 2)  # starts 09:00, 12:00, 19:00 UTC
    assert list(frame.columns) == list(KPI_COLUMNS)
    assert frame["incidents_open"].dtype == "int64"
    # a window without the open one has none open; one with no incidents has 0, not null
    frame = kpis(incidents, None, NO_RATES, FLEET, since="2026-01-05", until="2026-01-05T18:00")
    assert frame.iloc[0]["incidents"] == 2 and frame.iloc[0]["incidents_open"] == 0
    frame = kpis(incidents, None, NO_RATES, FLEET, since="2026-02-01", until="2026-02-02")
    assert frame.iloc[0]["incidents_open"] == 0
    assert json.dumps(kpis_json(frame), allow_nan=False)


# --------------------------------------------------------------------------- the name "all"


def test_a_region_or_service_named_all_is_refused_not_mixed_with_the_overall_row():
    data = {**RAW_FLEET, "regions": {"all": {"timezone": "UTC"}, **RAW_FLEET["regions"]}}
    # refused where the fleet file loads: calendars and --regions read 'all' as every region
    with pytest.raises(ConfigError) as info:
        parse_fleet(data, source="fleet.yaml")
    message = str(info.value)
    assert message.startswith("fleet.yaml: key 'regions.all': 'all' cannot name a region")
    assert "Fix: rename that region" in message
    # it once gave two rows region 'all', service 'all': the region's and the fleet's; kpis
    # still refuses a fleet built past the loader's checks
    fine = {**data, "regions": {"eu-west": {"timezone": "Europe/Berlin"}}}
    built = parse_fleet(fine)
    by_hand = built.model_copy(update={"regions": {"all": built.regions["eu-west"]}})
    with pytest.raises(ConfigError) as info:
        kpis(None, None, NO_RATES, by_hand, since="2026-01-05", until="2026-01-06", by="region")
    message = str(info.value)
    assert "a region is named 'all'" in message and "Fix: rename that region" in message
    by_hand = built.model_copy(update={"services": {"all": built.services["game"]}})
    with pytest.raises(ConfigError, match="a service is named 'all'"):
        kpis(None, None, NO_RATES, by_hand, since="2026-01-05", until="2026-01-06")


# --------------------------------------------------------------------------- the wrong kind of file


def test_a_log_of_another_kind_is_named_for_what_it_is(tmp_path):
    # It once said "unknown column 'deployed_at'. Fix: did you mean 'deploy_id'?" of a deploy
    # log given to 'capacity incidents import', which sent the reader renaming a column.
    db = str(tmp_path / "store.duckdb")
    done = capacity("incidents", "import", str(DEMO / "deploys.csv"), "--db", db)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {DEMO / 'deploys.csv'}: line 1: the columns (deployed_at) are those of a deploy "
        "log, not of an incident log. Fix: import it with 'capacity deploys import' "
        "(read_deploys in Python), or give an incident log with the columns incident_id, "
        "region, service, severity, started_at, detected_at, resolved_at, cause, deploy_id\n"
    )
    with pytest.raises(DataError, match="are those of an incident log, not of a deploy log"):
        read_deploys(DEMO / "incidents.csv")
    with pytest.raises(DataError, match="'capacity events import'"):
        read_incidents(DEMO / "calendar.csv")
    # a YAML item is named by its line
    path = write(
        tmp_path,
        "deploys.yaml",
        """
        - incident_id: I-1
          region: eu-west
          service: game
          severity: sev2
          started_at: 2026-01-05T09:00Z
          detected_at: 2026-01-05T09:05Z
          resolved_at: 2026-01-05T10:00Z
        """,
    )
    with pytest.raises(DataError, match=r"deploys\.yaml: line 1: the keys \(incident_id"):
        read_deploys(path)
    # a log of its own kind with a misspelt column still gets the suggestion
    path = write(
        tmp_path,
        "incidents.csv",
        f"""
        {HEADER.replace("severity", "severty")}
        """,
    )
    with pytest.raises(DataError, match=r"unknown column 'severty'\. Fix: did you mean 'severity'"):
        read_incidents(path)


# --------------------------------------------------------------------------- duplicate ids


def test_an_incident_or_deploy_in_two_concatenated_logs_counts_once(tmp_path):
    incidents = read_incidents(
        write(
            tmp_path,
            "incidents.csv",
            f"""
            {HEADER}
            A,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:05Z,2026-01-05T09:30Z,,D-1
            B,eu-west,game,sev3,2026-01-05T12:00Z,2026-01-05T12:10Z,2026-01-05T13:30Z,,
            """,
        )
    )
    deploys = read_deploys(
        write(
            tmp_path,
            "deploys.csv",
            """
            deploy_id,region,service,deployed_at,change
            D-1,eu-west,game,2026-01-05T08:00Z,
            D-2,eu-west,game,2026-01-05T10:00Z,
            """,
        )
    )
    args = {"since": "2026-01-05", "until": "2026-01-06"}
    once = kpis(incidents, deploys, NO_RATES, FLEET, **args)
    # The store keeps an incident held by two logs once; a Python caller concatenating the
    # two logs had it twice: 4 incidents, 4 deploys and an MTBF of 1 h instead of 3 h.
    twice = kpis(
        pd.concat([incidents, incidents]), pd.concat([deploys, deploys]), NO_RATES, FLEET, **args
    )
    pd.testing.assert_frame_equal(twice, once)
    game = once.iloc[0]
    assert (game["incidents"], game["deploys"], game["change_failure_rate"]) == (2, 2, 0.5)
    assert game["mtbf_hours"] == pytest.approx(3)
    # one id with two contents is refused: which one holds is not for kpis to guess
    moved = incidents.assign(started_at=incidents["started_at"] - pd.Timedelta(minutes=1))
    with pytest.raises(DataError) as info:
        kpis(pd.concat([incidents, moved.iloc[:1]]), deploys, NO_RATES, FLEET, **args)
    assert str(info.value) == (
        "incidents: incident_id 'A' is on more than one row, with different content. Fix: keep "
        "one row per incident_id (frame.drop_duplicates('incident_id') keeps the first), or "
        "give each record its own id"
    )
    with pytest.raises(DataError, match="deploys: deploy_id 'D-2' is on more than one row"):
        changed = deploys.assign(change="hotfix")
        kpis(incidents, pd.concat([deploys, changed.iloc[1:]]), NO_RATES, FLEET, **args)


def test_one_column_named_like_another_kinds_is_only_an_unknown_column(tmp_path):
    # a deploy log whose time column is headed 'start' is a deploy log with a wrong column,
    # not a calendar
    path = write(
        tmp_path,
        "deploys.csv",
        """
        deploy_id,region,service,start
        D-1,eu-west,game,2026-01-05T08:00Z
        """,
    )
    with pytest.raises(DataError) as info:
        read_deploys(path)
    assert "unknown column 'start'" in str(info.value)
    assert "calendar" not in str(info.value)


def test_the_note_on_a_window_without_telemetry_names_only_the_null_figures(tmp_path):
    # 'capacity kpis --since 2026-11-23 --until 2026-11-23T02:00' (just past the telemetry)
    # printed burn_6h and burn_3d beside a note saying "availability, error budgets and burn
    # rates cannot be measured (null)": the burn rates are of the hours before --until,
    # whatever --since is. A window holding no hour's start was called one without telemetry.
    db = tmp_path / "s.duckdb"
    rows = "".join(
        f"{ts:%Y-%m-%dT%H:%M}Z,eu-west,game,error_rate,0.0005\n"
        for ts in pd.date_range("2026-11-20T00:00Z", "2026-11-22T23:00Z", freq="h")
    )
    (tmp_path / "t.csv").write_text("ts,region,service,metric,value\n" + rows)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump(RAW_FLEET))
    assert capacity("ingest", str(tmp_path / "t.csv"), "--db", str(db)).returncode == 0
    base = ("kpis", "--db", str(db), "--config", str(fleet), "--by", "", "--format", "json")

    past = capacity(*base, "--since", "2026-11-23T00:00", "--until", "2026-11-23T02:00")
    assert past.returncode == 0, past.stderr
    (row,) = json.loads(past.stdout)
    assert row["availability"] is None and row["burn_1h"] is None
    assert row["burn_6h"] == pytest.approx(0.5) and row["burn_3d"] == pytest.approx(0.5)
    assert past.stderr == (
        "note: no error_rate telemetry from 2026-11-23 00:00 to 2026-11-23 02:00 UTC for the "
        "fleet's regions and services: availability and error budgets cannot be measured "
        "(null); the burn rates are of the 1, 6 and 72 hours before --until, and are measured "
        "where those hours have data; check --since/--until or load the telemetry\n"
    )
    short = capacity(*base, "--since", "2026-11-22T10:30", "--until", "2026-11-22T10:45")
    (row,) = json.loads(short.stdout)
    assert (row["known_hours"], row["unknown_hours"]) == (0, 0)
    assert short.stderr.startswith(
        "note: no hour starts between 2026-11-22 10:30 and 2026-11-22 10:45 UTC: availability"
    )
    later = capacity(*base, "--since", "2030-01-01", "--until", "2030-01-02")
    assert later.stderr.startswith("note: no error_rate telemetry from 2030-01-01 00:00")
    assert "; nor can the burn rates, over the 3 days before --until; check" in later.stderr
