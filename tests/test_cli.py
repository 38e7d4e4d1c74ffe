"""The command line: outputs, exit codes and one-line errors."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity import resilience
from capacity.cli import cli
from capacity.store import Store
from tests.conftest import HEADER
from tests.test_resilience_yaml import nested_aliases
from tests.test_store import GOOD, HOLDER, snapshot

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_ingest_prints_what_it_did_and_is_idempotent(db, write):
    path = write("t.csv", GOOD)
    first = run("ingest", str(path), "--db", str(db))
    again = run("ingest", str(path), "--db", str(db))
    assert first.exit_code == 0, first.output
    assert "4 rows read, 4 inserted, 0 updated, 0 unchanged" in first.stdout
    assert again.exit_code == 0
    assert "already loaded (same content), nothing changed" in again.stdout


def test_a_tilde_the_shell_left_is_the_home_folder(write, tmp_path, monkeypatch):
    """``--db=~/s.duckdb`` (or a systemd ExecStart line) reaches capacity with its '~': it
    had made a folder named '~' in the working folder, and ``--output`` naming the store so
    was not seen to be the store."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir(), work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    loaded = run("ingest", str(write("t.csv", GOOD)), "--db=~/s.duckdb")
    assert loaded.exit_code == 0, loaded.output
    assert (home / "s.duckdb").is_file() and not (work / "~").exists()
    from tests.conftest import FLEET_YAML

    (home / "fleet.yaml").write_text(FLEET_YAML)
    status = run("status", "--db=~/s.duckdb", "--config=~/fleet.yaml")
    assert status.exit_code == 0, status.output
    assert "eu-west" in status.stdout
    before = (home / "s.duckdb").read_bytes()
    clash = run("schedule", "--db=~/s.duckdb", f"--output={home / 's.duckdb'}")
    assert clash.exit_code == 2 and "names the same file as --db" in clash.stderr
    assert (home / "s.duckdb").read_bytes() == before


def test_bad_input_exits_2_with_one_line_and_leaves_the_store(db, write):
    assert run("ingest", str(write("good.csv", GOOD)), "--db", str(db)).exit_code == 0
    before = snapshot(db)
    bad = write("bad.csv", HEADER + "2026-01-01T00:00:00Z,eu-west,game,ccu,-4\n")
    result = run("ingest", str(bad), "--db", str(db))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and "bad.csv: line 2" in lines[0]
    assert "cannot be negative" in lines[0] and "Fix:" in lines[0]
    assert snapshot(db) == before


def test_malformed_config_and_bad_tz_exit_2(db, write, fleet_file):
    broken = write("broken.yaml", fleet_file.read_text().replace("k: 1", "kk: 1"))
    result = run("ingest", str(write("t.csv", GOOD)), "--db", str(db), "--config", str(broken))
    assert result.exit_code == 2
    assert "broken.yaml: key 'redundancy.kk': unknown key" in result.stderr
    result = run("ingest", str(write("t.csv", GOOD)), "--db", str(db), "--tz", "Nowhere/Land")
    assert result.exit_code == 2 and "'tz' parameter (--tz)" in result.stderr


def test_event_ending_before_start_exits_2(db, write):
    bad = write(
        "cal.csv",
        "name,kind,start,end\nLaunch,launch,2026-12-18T10:00:00Z,2026-12-17T10:00:00Z\n",
    )
    result = run("events", "import", str(bad), "--db", str(db))
    assert result.exit_code == 2
    assert "cal.csv: line 2" in result.stderr and "end" in result.stderr


def test_calendar_time_errors_speak_of_the_tz_option(db, write):
    def error(name: str, start: str, *tz: str) -> str:
        path = write(name, f"name,kind,start,end\nLaunch,launch,{start},2026-12-31T00:00Z\n")
        result = run("events", "import", str(path), "--db", str(db), *tz)
        assert result.exit_code == 2
        assert result.stderr.startswith(f"error: {path}: line 2: ")
        return result.stderr

    naive = error("naive.csv", "2026-12-18 08:00")
    assert "has no time zone" in naive and "--tz Europe/Berlin" in naive
    gap = error("gap.csv", "2026-03-29 02:30", "--tz", "Europe/Berlin")
    assert "does not exist in Europe/Berlin" in gap
    assert "2026-03-29T02:30:00+01:00 or +02:00" in gap and "2026-10-25" not in gap
    fold = error("fold.csv", "2026-10-25 02:30", "--tz", "Europe/Berlin")
    assert "occurs twice" in fold and "2026-10-25T02:30:00+02:00 or +01:00" in fold
    result = run("events", "import", str(write("x.csv", "")), "--db", str(db), "--tz", "Mars/Base")
    assert result.exit_code == 2
    assert "The 'tz' parameter (--tz) must be an IANA time zone" in result.stderr
    assert "'Mars/Base'" in result.stderr and "did you mean" not in result.stderr
    result = run("ingest", str(write("y.csv", "")), "--db", str(db), "--tz", "Asia/HongKong")
    assert result.exit_code == 2
    assert "Got 'Asia/HongKong' (did you mean 'Asia/Hong_Kong'?)." in result.stderr


@pytest.mark.timeout(60)
def test_a_file_that_would_expand_without_end_exits_2_in_one_line(db, write):
    # an RRULE every second ran for minutes and took over 10 GB; aliases nested in aliases
    # as the fleet file's currency hung `status` the same way
    every_second = write(
        "s.ics",
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSUMMARY:x\nDTSTART:20261210T100000Z\n"
        "DTEND:20261211T100000Z\nRRULE:FREQ=SECONDLY\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    fleet = (DEMO / "fleet.yaml").read_text(encoding="utf-8")
    laughs = write("fleet.yaml", fleet.replace("currency: USD", f"currency: {nested_aliases()}"))
    for args, message in (
        (
            ("events", "import", str(every_second)),
            f"error: {every_second}: event 1 ('x'): RRULE 'FREQ=SECONDLY' repeats the event "
            "every second: live-ops events repeat at most hourly",
        ),
        (
            ("status", "--config", str(laughs)),
            f"error: {laughs}: its anchors and aliases stand for ",
        ),
    ):
        result = run(*args, "--db", str(db))
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message) and "Fix: " in lines[0]


def test_second_writer_exits_3(db, write):
    Store(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run("ingest", str(write("t.csv", GOOD)), "--db", str(db))
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 3
    assert "store is locked by another process" in result.stderr


def test_status_json(db, write):
    run("ingest", str(write("t.csv", GOOD)), "--db", str(db))
    calendar = write(
        "cal.csv",
        "name,kind,start,end,regions,expected_uplift\n"
        "Winter Festival,launch,2026-12-18,2027-01-03,eu-west;na-east,1.6\n"
        "Patch 13.2,patch,2026-12-09,2026-12-10,all,\n",
    )
    assert run("events", "import", str(calendar), "--db", str(db)).exit_code == 0
    result = run("status", "--db", str(db), "--now", "2026-12-01", "--format", "json")
    assert result.exit_code == 0, result.output
    # strict JSON: an event without an uplift had been written NaN, which JSON readers refuse
    payload = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(name))
    assert [s["metric"] for s in payload["series"]] == ["ccu", "cpu_util"]
    assert payload["series"][0]["missing_hours"] == 1
    patch, event = payload["events_ahead"]
    assert event["name"] == "Winter Festival" and event["expected_uplift"] == 1.6
    assert patch["name"] == "Patch 13.2" and patch["expected_uplift"] is None
    result = run("status", "--db", str(db), "--now", "2026-12-01", "--ahead", "7d")
    assert "Events in the next 7d (0)" in result.stdout
    # the row per region/service shows its newest metric's end; the one behind is named
    assert result.stderr == (
        "note: eu-west/game cpu_util ends 2026-01-01 00:00 UTC, 3 hours before its newest "
        "metric (--by-metric shows each)\n"
        "note: the newest telemetry ends 2026-01-01 04:00 UTC, 8,012 hours before now "
        "(2026-12-01 00:00 UTC); a forecast or plan made now starts from there. Load newer "
        "telemetry (capacity ingest or pull), or give --now to look at the store as of an "
        "earlier time\n"
    )


def test_status_names_telemetry_that_stopped(db, write):
    """An hourly pull that finds nothing newer still moves last_loaded_at, so the table looked
    fresh while a series, or the whole store, had stopped hours before."""
    rows = [f"2026-01-01T{h:02d}:00:00Z,eu-west,game,ccu,{100 + h}" for h in range(10)]
    rows += [f"2026-01-01T{h:02d}:00:00Z,na-east,game,ccu,{100 + h}" for h in range(4)]
    run("ingest", str(write("t.csv", HEADER + "\n".join(rows) + "\n")), "--db", str(db))
    result = run("status", "--db", str(db), "--now", "2026-01-01T10:30Z")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "note: na-east/game telemetry ends 2026-01-01 04:00 UTC, 6 hours before the store's "
        "newest (2026-01-01 10:00 UTC): check that its source still reports it\n"
    )
    later = run("status", "--db", str(db), "--now", "2026-01-01T15:00Z", "--by-metric")
    assert later.stderr.splitlines()[0].startswith("note: na-east/game/ccu telemetry ends")
    assert later.stderr.splitlines()[1].startswith(
        "note: the newest telemetry ends 2026-01-01 10:00 UTC, 5 hours before now"
    )
    payload = json.loads(
        run("status", "--db", str(db), "--now", "2026-01-01T15:00Z", "--format", "json").stdout
    )
    # in UTC with Z, as every CSV and recommend's and check-event's JSON write times
    assert payload["now"] == "2026-01-01T15:00:00Z"
    assert payload["series"][0]["last_ts"] == "2026-01-01T09:00:00Z"
    assert [s["hours_behind_now"] for s in payload["series"]] == [5, 11]


def test_status_counts_hours_of_sub_hourly_telemetry_from_their_hour(db, write):
    """5-minute samples to 09:55 end the 09:00 hour at 10:00: status had shown the last hour
    as 09:55 and said the telemetry ended at 10:55, an hour later than a forecast starts."""
    rows = [
        f"2026-01-01T{m // 60:02d}:{m % 60:02d}:00Z,eu-west,game,ccu,{100 + m}"
        for m in range(0, 600, 5)
    ]
    run("ingest", str(write("t.csv", HEADER + "\n".join(rows) + "\n")), "--db", str(db))
    result = run("status", "--db", str(db), "--now", "2026-01-01T15:00Z")
    assert result.exit_code == 0, result.output
    assert "2026-01-01 00:00  2026-01-01 09:00" in result.stdout
    assert result.stderr.startswith(
        "note: the newest telemetry ends 2026-01-01 10:00 UTC, 5 hours before now"
    )
    payload = json.loads(
        run("status", "--db", str(db), "--now", "2026-01-01T15:00Z", "--format", "json").stdout
    )
    # the JSON keeps the samples' own times
    assert payload["series"][0]["last_ts"] == "2026-01-01T09:55:00Z"
    assert payload["series"][0]["hours_behind_now"] == 5


def test_status_table_shows_the_event_ids_check_event_takes(db, write):
    run("ingest", str(write("t.csv", GOOD)), "--db", str(db))
    calendar = write(
        "cal.csv",
        "event_id,name,kind,start,end,regions,expected_uplift\n"
        "EV-0047,Winter Festival,launch,2026-12-18,2027-01-03,eu-west;na-east,1.6\n",
    )
    assert run("events", "import", str(calendar), "--db", str(db)).exit_code == 0
    result = run("status", "--db", str(db), "--now", "2026-12-01")
    assert result.exit_code == 0, result.output
    events = result.stdout.split("Events in the next 28d (1):\n")[1].splitlines()
    assert events[0].split()[0] == "event" and events[1].split()[0] == "id"
    assert events[2].split()[:2] == ["EV-0047", "2026-12-18"]
    assert events[3] == "  Winter Festival"  # the name on its own line, within 100 columns


def test_status_without_db_builds_the_demo_store(tmp_path, monkeypatch):
    shutil.copytree(DEMO, tmp_path / "data" / "demo")
    monkeypatch.chdir(tmp_path)
    result = run("status", "--now", "2026-12-10", "--ahead", "14d")
    assert result.exit_code == 0, result.output
    assert "building the demo store" in result.stderr
    assert "Telemetry (12 region/services)" in result.stdout
    assert "Winter Festival 2026" in result.stdout
    assert (tmp_path / "data" / "capacity.duckdb").is_file()
    assert not list((tmp_path / "data").glob(".*building*"))
    again = run("status", "--now", "2026-12-10")
    assert again.exit_code == 0 and "building" not in again.stderr
    # every run without --db or --config says which store and fleet file it took: a team
    # that forgot them got the demo game's answers without a word
    assert again.stderr.startswith("note: no --db given: using the store data/capacity.duckdb\n")
    kpis = run("kpis", "--until", "2026-11-23")
    assert kpis.exit_code == 0, kpis.output
    assert kpis.stderr.splitlines()[:2] == [
        "note: no --config given: using the demo fleet file data/demo/fleet.yaml",
        "note: no --db given: using the store data/capacity.duckdb",
    ]


def test_a_store_and_fleet_file_of_two_fleets_are_named_as_such(db, write):
    """A store of another game's telemetry read with the demo fleet file (the default) said
    "no telemetry in the history window. Fix: load more telemetry"."""
    rows = [
        f"2026-11-{d:02d}T{h:02d}:00:00Z,us-west,lobby,ccu,{100 + h}"
        for d in (1, 2)
        for h in range(24)
    ]
    run("ingest", str(write("t.csv", HEADER + "\n".join(rows) + "\n")), "--db", str(db))
    result = run("recommend", "--db", str(db), "--config", str(DEMO / "fleet.yaml"))
    assert result.exit_code == 2
    assert (
        "the store holds telemetry of us-west/lobby but none of the fleet file's regions and "
        "services (ap-southeast/chat, ap-southeast/game, ap-southeast/matchmaking, "
        "eu-west/chat and 8 more)" in result.stderr
    )
    assert "Fix: check that --db and --config name the same fleet" in result.stderr


def test_reading_a_missing_store_exits_2(tmp_path):
    result = run("status", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 2
    assert "store not found" in result.stderr


def test_demo_command_writes_the_five_files(tmp_path):
    result = run("demo", "--out", str(tmp_path / "fleet"), "--days", "30")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "fleet").iterdir())
    assert names == [
        "calendar.csv",
        "deploys.csv",
        "fleet.yaml",
        "incidents.csv",
        "telemetry.parquet",
    ]


def test_log_imports_and_kpis(tmp_path):
    from capacity.demo import build_demo_store

    db = build_demo_store(tmp_path / "store.duckdb", DEMO)  # loads the demo's logs too
    result = run("kpis", "--db", str(db), "--config", str(DEMO / "fleet.yaml"), "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["region"] for r in records][-1] == "all"
    assert set(records[0]) == {
        "region",
        "service",
        "availability",
        "error_budget_remaining",
        "mttr_minutes",
        "mttd_minutes",
        "mtbf_hours",
        "incidents",
        "deploys",
        "change_failure_rate",
        "alert",
        "burn_1h",
        "burn_6h",
        "burn_3d",
        "slo_target",
        "known_hours",
        "unknown_hours",
        "incidents_open",
        "failures",
        "mttr_median_minutes",
        "incidents_sev1",
        "incidents_sev2",
        "incidents_sev3",
        "incidents_sev4",
    }
    quiet = [r for r in records if r["incidents"] == 0]
    assert quiet and all(r["mttr_minutes"] is None for r in quiet)  # null, not zero
    assert all(0.95 < r["availability"] <= 1 for r in records)

    # A fleet file of two of the four stored regions: the others' incidents and deploys are
    # left out with a note (they had stopped the command, in any window).
    import yaml

    data = yaml.safe_load((DEMO / "fleet.yaml").read_text())
    for gone in ("ap-southeast", "sa-east"):
        del data["regions"][gone], data["current_servers"][gone], data["failover"][gone]
    data["failover"] = {"eu-west": {"na-east": 1.0}, "na-east": {"eu-west": 1.0}}
    two = tmp_path / "two.yaml"
    two.write_text(yaml.safe_dump(data))
    result = run("kpis", "--db", str(db), "--config", str(two), "--format", "json")
    assert result.exit_code == 0, result.output
    assert {r["region"] for r in json.loads(result.stdout)} == {"eu-west", "na-east", "all"}
    assert "note: incidents and deploys of ap-southeast/chat" in result.stderr
    assert "sa-east/game" in result.stderr and "eu-west/" not in result.stderr
    # --since after the default end of the window names where that end came from
    result = run(
        "kpis", "--db", str(db), "--config", str(DEMO / "fleet.yaml"), "--since", "2027-01-01"
    )
    assert result.exit_code == 2
    assert "--since 2027-01-01 00:00 UTC is not before 2026-11-23 00:00 UTC" in result.stderr
    assert "newest error_rate telemetry" in result.stderr and "--until" in result.stderr
    again = run("incidents", "import", str(DEMO / "incidents.csv"), "--db", str(db))
    assert again.exit_code == 0 and "already loaded" in again.stdout
    # it once said "0 incidents read" of a file it had read and checked whole
    held = len(pd.read_csv(DEMO / "incidents.csv"))
    assert "0 incidents read" not in again.stdout
    assert again.stdout == (
        f"{DEMO / 'incidents.csv'}: already loaded (same content, read and checked; the "
        f"{held:,} incidents it holds are stored as they are)\n"
    )
    # csv: every column of the table, nulls empty, the same figures as the JSON
    fleet_file = str(DEMO / "fleet.yaml")
    as_csv = run("kpis", "--db", str(db), "--config", fleet_file, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    table = pd.read_csv(io.StringIO(as_csv.stdout), dtype={"availability": str})
    assert list(table.columns) == list(resilience.KPI_COLUMNS)
    # the text parsed by Python: pandas 2's CSV reader can be one unit off in the last digit
    assert [float(a) for a in table["availability"]] == [r["availability"] for r in records]
    # another fleet's newer telemetry in the same store does not move this fleet's window
    other = tmp_path / "other.csv"
    other.write_text(HEADER + "2026-11-26T00:00:00Z,mars,game,error_rate,0.5\n")
    assert run("ingest", str(other), "--db", str(db)).exit_code == 0
    result = run("kpis", "--db", str(db), "--config", fleet_file)
    assert result.stdout.startswith("2026-10-26 00:00 to 2026-11-23 00:00 UTC\n")
    # a window without the fleet's error_rate says why every figure is null
    result = run("kpis", "--db", str(db), "--config", fleet_file, "--until", "2020-01-01")
    assert result.exit_code == 0
    assert result.stderr.startswith(
        "note: no error_rate telemetry from 2019-12-04 00:00 to 2020-01-01 00:00 UTC for the "
        "fleet's regions and services"
    )
    bad = tmp_path / "incidents.csv"
    bad.write_text(
        "incident_id,region,service,severity,started_at,detected_at,resolved_at\n"
        "x1,eu-west,game,sev9,2026-11-01T00:00:00Z,2026-11-01T00:01:00Z,2026-11-01T01:00:00Z\n"
    )
    result = run("incidents", "import", str(bad), "--db", str(db))
    assert result.exit_code == 2 and "incidents.csv: line 2" in result.stderr


def test_a_forecast_starting_over_a_day_ago_is_called_stale(capsys):
    from capacity.cli import _warn_if_stale

    now = pd.Timestamp.now(tz="UTC")
    _warn_if_stale(now - pd.Timedelta(hours=23), "its first hours are past")
    assert capsys.readouterr().err == ""
    _warn_if_stale(now - pd.Timedelta(hours=36), "its first hours are past")
    err = capsys.readouterr().err
    assert "1.5 days ago, so its first hours are past. Load or pull the latest" in err


# ----------------------------------------------------------------------------- schedule


@pytest.fixture(scope="module")
def fresh_store(tmp_path_factory):
    """A store whose telemetry ends 12 hours ago: 21 days of a wide daily cycle, two regions.

    The floor moves almost every hour, so a week of it is more than AWS's 125 scheduled
    actions per group, and the hours from the schedule's start to now are already past.
    """
    from tests.conftest import FLEET_YAML

    folder = tmp_path_factory.mktemp("schedule")
    end = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=12)
    ts = pd.date_range(end - pd.Timedelta(hours=21 * 24 - 1), end, freq="h")
    rows = [
        pd.DataFrame(
            {
                "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": region,
                "service": "game",
                "metric": "ccu",
                "value": (
                    40_000 + 30_000 * np.sin(2 * np.pi * (np.arange(len(ts)) + shift) / 24)
                ).round(1),
            }
        )
        for region, shift in (("eu-west", 0), ("na-east", 6))
    ]
    pd.concat(rows).to_csv(folder / "t.csv", index=False)
    (folder / "fleet.yaml").write_text(FLEET_YAML)
    db = folder / "s.duckdb"
    loaded = run(
        "ingest", str(folder / "t.csv"), "--db", str(db), "--config", str(folder / "fleet.yaml")
    )
    assert loaded.exit_code == 0, loaded.output
    return ["--db", str(db), "--config", str(folder / "fleet.yaml")]


@pytest.mark.parametrize("option", ["--db", "--config"])
def test_schedule_refuses_an_output_that_is_its_store_or_fleet_file(fresh_store, option):
    """``schedule --output`` checked only that the path could be written, so naming the
    store or the fleet file replaced it with the schedule; refused before the forecast."""
    given = dict(zip(fresh_store[::2], fresh_store[1::2], strict=True))
    before = Path(given[option]).read_bytes()
    result = run("schedule", *fresh_store, "--output", given[option])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert f"The 'output' parameter (--output) names the same file as {option}" in line
    assert "Fix: write the schedule to another file" in line
    assert Path(given[option]).read_bytes() == before


def test_schedule_aws_leaves_out_the_past_and_fits_125_actions_a_group(fresh_store):
    """A week's floors change more often than AWS's 125 scheduled actions per group allow;
    the file had every change, so applying it failed from each group's 126th action on. Each
    group now gets at most 125, its floors raised (never lowered) where they change least."""
    from capacity.scaling import aws_groups_over_limit, to_aws_scheduled_actions

    template = "lv-{region}-{service}"
    before = pd.Timestamp.now(tz="UTC")
    result = run("schedule", *fresh_store, "--format", "aws", "--group-name", template)
    assert result.exit_code == 0, result.output
    actions = json.loads(result.stdout)
    floors = pd.read_csv(io.StringIO(run("schedule", *fresh_store).stdout), parse_dates=["ts"])
    assert len(floors) == 2 * 168  # the CSV is still the whole week from the telemetry's end
    # the next whole hour at least 10 minutes away: time to apply the file
    first = min(pd.Timestamp(a["StartTime"]) for a in actions)
    margin = pd.Timedelta(minutes=10)
    assert (before + margin).ceil("h") <= first <= (pd.Timestamp.now(tz="UTC") + margin).ceil("h")
    assert actions == to_aws_scheduled_actions(
        floors, group_name_template=template, now=first, max_actions=125
    )
    every = to_aws_scheduled_actions(floors, group_name_template=template)
    past = sum(pd.Timestamp(a["StartTime"]) < first for a in every)
    assert past >= 16  # 12 hours of two groups, the floor moving in most of them
    err = result.stderr
    assert f"warning: left out {past} of {len(every)} AWS scheduled actions" in err
    assert f"first action sets its floor from {first:%Y-%m-%d %H:%M} UTC" in err
    # Both groups' floors change more than 125 times; each gets at most 125 actions, and in every
    # hour the floor it applies is at least the schedule's.
    plain = to_aws_scheduled_actions(floors, group_name_template=template, now=first)
    over = aws_groups_over_limit(plain)
    assert sorted(over) == ["lv-eu-west-game", "lv-na-east-game"]
    counts = pd.Series([a["AutoScalingGroupName"] for a in actions]).value_counts()
    assert sorted(counts.index) == ["lv-eu-west-game", "lv-na-east-game"]
    assert 120 <= counts.min() <= counts.max() <= 125
    for region in ("eu-west", "na-east"):
        mine = [a for a in actions if a["AutoScalingGroupName"] == f"lv-{region}-game"]
        hours = floors[(floors["region"] == region) & (floors["ts"] >= first)]
        applied = pd.Series(
            [a["MinSize"] for a in mine], index=pd.DatetimeIndex([a["StartTime"] for a in mine])
        ).reindex(pd.DatetimeIndex(hours["ts"]), method="ffill")
        assert (applied.to_numpy() >= hours["min_servers"].to_numpy()).all()
    cut = min(c for _, c in over.values())
    fits = int((cut - floors["ts"].min()) / pd.Timedelta(hours=1))
    assert (
        "note: AWS allows 125 scheduled actions per Auto Scaling group, and the floors change "
        f"more often for lv-eu-west-game ({over['lv-eu-west-game'][0]}), lv-na-east-game "
        f"({over['lv-na-east-game'][0]}): each gets at most 125" in err
    )
    assert f"--horizon {fits}h or less needs no merging" in err
    shorter = run("schedule", *fresh_store, "--format", "aws", "--horizon", f"{fits}h")
    assert shorter.exit_code == 0, shorter.output
    assert json.loads(shorter.stdout) == to_aws_scheduled_actions(
        floors[floors["ts"] < floors["ts"].min() + pd.Timedelta(hours=fits)], now=first
    )
    assert "AWS allows 125" not in shorter.stderr
    # room for the groups' other scheduled actions
    fewer = run("schedule", *fresh_store, "--format", "aws", "--max-actions", "100")
    assert fewer.exit_code == 0, fewer.output
    assert (
        pd.Series([a["AutoScalingGroupName"] for a in json.loads(fewer.stdout)])
        .value_counts()
        .max()
        == 100
    )
    assert "note: --max-actions 100 allows 100 scheduled actions per group" in fewer.stderr


def test_aws_actions_leave_ten_minutes_to_apply_them():
    """Without --now, the AWS export kept the next whole hour however close it was: run at
    18:59 and applied a minute later, that action started in the past and AWS refused it
    (the documented apply loop then stops). It now keeps only actions 10 minutes away."""
    from capacity.scaling.aws import AWS_APPLY_MINUTES, aws_publish_from

    assert AWS_APPLY_MINUTES == 10
    before = pd.Timestamp.now(tz="UTC")
    cut = aws_publish_from()
    assert (
        before + pd.Timedelta(minutes=10)
        <= cut
        <= pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=10)
    )
    given = pd.Timestamp("2026-11-23T18:59Z")
    assert aws_publish_from(given) == given  # --now is the time the actions are put


def test_schedule_aws_with_every_hour_past_exits_2(fresh_store):
    # The schedule's 11 hours end at the current hour's start: nothing AWS would take.
    result = run("schedule", *fresh_store, "--format", "aws", "--horizon", "11h")
    assert result.exit_code == 2
    # (notes may come first, e.g. a service sized at its hint on this short store)
    [line] = [x for x in result.stderr.strip().splitlines() if not x.startswith("note: ")]
    assert line.startswith("error: The 'horizon' parameter (--horizon) leaves no hour after now")
    assert "Fix: load or pull the latest telemetry" in line


def test_schedule_checks_its_options_before_forecasting(tmp_path):
    # The store does not exist: an option refused up front never gets to open it.
    base = ["schedule", "--db", str(tmp_path / "none.duckdb"), "--config", str(DEMO / "fleet.yaml")]
    refused = {
        ("--horizon", "30m"): "'horizon' parameter (--horizon) must be a whole number of hours, at "
        "least 1h: the schedule has one floor per hour. Got '30m'. Fix: use --horizon 1h",
        ("--horizon", "90m"): "whole number of hours, at least 1h: the schedule has one floor "
        "per hour. Got '90m'. Fix: use --horizon 2h",
        ("--horizon", "0h"): "'horizon' parameter (--horizon) must be a positive duration",
        (
            "--format",
            "keda",
            "--horizon",
            "365d",
        ): "'horizon' parameter (--horizon) must be under 365 days with --format keda",
        ("--format", "aws", "--group-name", "lv-{zone}"): "'--group-name' parameter may only "
        "use the fields {region} and {service}",
        ("--format", "aws", "--group-name", "lv-{service}"): "'--group-name' parameter gives "
        "ap-southeast/chat and eu-west/chat the same name 'lv-chat'",
        (
            "--group-name",
            "lv-{region}-{service}",
        ): "'group_name' parameter (--group-name) names Auto "
        "Scaling groups, so it needs --format aws",
        ("--output", "/proc/floors.csv"): "The 'output' parameter cannot be written",
    }
    for args, message in refused.items():
        result = run(*base, *args)
        assert result.exit_code == 2, (args, result.output)
        [line] = result.stderr.strip().splitlines()
        assert message in line, (args, line)
    # One region needs no more than its services to differ.
    alone = run(*base, "--format", "aws", "--group-name", "lv-{service}", "--region", "eu-west")
    assert alone.exit_code == 2 and "store not found" in alone.stderr
    far = run(*base, "--horizon", "29d")
    assert far.exit_code == 2 and "store not found" in far.stderr
    assert "warning: --horizon 29d reaches past the 28 days that forecasts are measured" in (
        far.stderr
    )
    assert "warning: --horizon" not in run(*base, "--horizon", "28d").stderr


def test_schedule_checks_the_horizon_cap_as_typed_before_any_warning(tmp_path):
    base = ["schedule", "--db", str(tmp_path / "none.duckdb"), "--config", str(DEMO / "fleet.yaml")]
    for fmt in ("csv", "aws"):
        result = run(*base, "--format", fmt, "--horizon", "367d")
        assert result.exit_code == 2, result.output
        # once "Got '8809h'" (the boot lead added), after a warning about 28 days
        [line] = result.stderr.strip().splitlines()
        assert "'horizon' parameter (--horizon) must be at most 366 days" in line
        assert "Got '367d'" in line
    # 366 days is allowed: the forecast stops there, so the last hours look no further
    whole = run(*base, "--horizon", "366d")
    assert whole.exit_code == 2 and "store not found" in whole.stderr
    # a span pandas cannot hold is refused too, not a traceback
    huge = run(*base, "--horizon", "100000000d")
    assert huge.exit_code == 2 and "'horizon' parameter (--horizon) must be at most" in huge.stderr


def test_recommend_refuses_a_horizon_pandas_cannot_hold(fresh_store):
    result = run("recommend", *fresh_store, "--horizon", "3000000000h")
    assert result.exit_code == 2, result.output
    assert "'horizon' parameter (--horizon) must be at most" in result.stderr


@pytest.mark.parametrize("command", ["recommend", "plan"])
def test_a_malformed_horizon_is_named_by_its_option_before_any_work(command, tmp_path):
    """recommend and plan had named the horizon 'horizon' and only after the default store
    and fleet notes; forecast-fleet and schedule named --horizon first."""
    result = run(command, "--horizon", "-3d", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: The 'horizon' parameter (--horizon) must be a ")
    assert "Got '-3d'" in result.stderr


def test_schedule_region_loss_says_when_no_failover_is_planned(fresh_store, tmp_path):
    from tests.conftest import FLEET_YAML

    db = fresh_store[1]
    empty = tmp_path / "fleet.yaml"
    empty.write_text(FLEET_YAML.split("failover:")[0] + "failover: {}\n")
    args = ["schedule", "--db", db, "--config", str(empty), "--horizon", "2h"]
    result = run(*args, "--region-loss")
    assert result.exit_code == 0, result.output
    assert "note: --region-loss adds nothing: the fleet file's failover is empty" in result.stderr
    assert "--region-loss adds nothing" not in run(*args).stderr
    mapped = run("schedule", *fresh_store, "--horizon", "2h", "--region-loss")
    assert "--region-loss adds nothing" not in mapped.stderr


def test_schedule_keda_never_caps_below_the_servers_running_now(fresh_store, tmp_path):
    """A short horizon's floors can be far below what runs: maxReplicaCount was twice the
    highest floor alone (eu-west/game 450 against 718 running with --horizon 3h)."""
    import yaml

    from tests.conftest import FLEET_YAML

    db = fresh_store[1]
    big = tmp_path / "fleet.yaml"  # eu-west runs more than twice its floors; na-east fewer
    big.write_text(FLEET_YAML.replace("eu-west: {game: 10}", "eu-west: {game: 1000}"))
    base = ["schedule", "--db", db, "--config", str(big), "--horizon", "3h"]
    floors = pd.read_csv(io.StringIO(run(*base).stdout))
    # the telemetry ends 12 hours ago: published from the schedule's start, every hour is kept
    result = run(*base, "--format", "keda", "--now", str(floors["ts"].min()))
    assert result.exit_code == 0, result.output
    caps = {
        doc["metadata"]["labels"]["capacity/region"]: doc["spec"]["maxReplicaCount"]
        for doc in yaml.safe_load_all(result.stdout)
    }
    highest = floors.groupby("region")["min_servers"].max()
    assert 2 * highest["eu-west"] < 1000 and caps["eu-west"] == 1000
    assert 2 * highest["na-east"] > 12 and caps["na-east"] == 2 * highest["na-east"]


def test_kpis_errors_name_the_options(db, write, fleet_file):
    """They named the library's parameters: "The 'by' parameter", "The 'until' parameter
    must be after 'since'", where the command line has --by, --until and --since."""
    assert run("ingest", str(write("t.csv", GOOD)), "--db", str(db)).exit_code == 0
    base = ("kpis", "--db", str(db), "--config", str(fleet_file))
    result = run(*base, "--by", "zone")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: The 'by' parameter (--by) must name region, service")
    result = run(*base, "--since", "2026-02-01", "--until", "2026-01-01")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: The 'until' parameter (--until) must be after --since. Got --since "
        "2026-02-01 00:00 UTC, --until 2026-01-01 00:00 UTC.\n"
    )
    for option in ("--since", "--until"):
        result = run(*base, option, "soon")
        assert result.exit_code == 2
        name = option.removeprefix("--")
        assert f"error: The '{name}' parameter ({option}) must be an ISO 8601" in result.stderr
    assert run(*base, "--since", "2026-01-01", "--until", "2026-01-02").exit_code == 0


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["recommend", "--quantile", "1.5"],
            "error: Invalid value for '--quantile': 1.5 is not in the range 0<x<1. "
            "Fix: see 'capacity recommend --help'.",
        ),
        (
            ["events", "import"],
            "error: Missing argument 'FILES...'. Fix: see 'capacity events import --help'.",
        ),
        (["frobnicate"], "error: No such command 'frobnicate'. Fix: see 'capacity --help'."),
        (
            ["--db", "x.duckdb", "status"],
            "error: No such option '--db'. Fix: put --db after the command's name ('capacity "
            "status --db ...', not 'capacity --db ... status'): the options of a command "
            "follow it.",
        ),
        (
            ["--horizon", "7d", "schedule"],
            "error: No such option '--horizon'. Fix: put --horizon after the command's name "
            "('capacity schedule --horizon ...', not 'capacity --horizon ... schedule'): the "
            "options of a command follow it.",
        ),
        (["--dbb", "x", "status"], "error: No such option '--dbb'. Fix: see 'capacity --help'."),
        # and capacity's own options after the command: its help, the fix it gave, does not
        # list them
        (
            ["plan", "--verbose"],
            "error: No such option '--verbose'. Fix: put --verbose before the command's name "
            "('capacity --verbose plan ...', not 'capacity plan --verbose ...'): it is an "
            "option of capacity itself.",
        ),
        (
            ["events", "import", "-v"],
            "error: No such option '-v'. Fix: put -v before the command's name ('capacity -v "
            "events import ...', not 'capacity events import -v ...'): it is an option of "
            "capacity itself.",
        ),
    ],
)
def test_a_mistyped_command_line_is_one_error_line_exit_2(args, line):
    """Click's own checks (a value out of range, a missing argument, an unknown command)
    speak as every other bad input does: one ``error:`` line, exit 2."""
    done = subprocess.run(
        [sys.executable, "-m", "capacity", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [line]
    assert done.stdout == ""


def test_bare_capacity_still_shows_its_help():
    done = subprocess.run(
        [sys.executable, "-m", "capacity"], capture_output=True, text=True, timeout=60
    )
    assert "Commands:" in done.stdout + done.stderr and "error:" not in done.stderr


@pytest.mark.parametrize("command", [("events", "import"), ("incidents", "import"), ("ingest",)])
def test_a_refused_import_into_a_new_store_leaves_no_file(tmp_path, command):
    bad = tmp_path / "bad.csv"
    bad.write_text("event_id,name\n")
    db = tmp_path / "fresh" / "store.duckdb"
    result = run(*command, str(bad), "--db", str(db))
    assert result.exit_code == 2, result.output
    assert "bad.csv" in result.output
    assert not db.exists() and not db.parent.exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("status", "--ahead", "xyz"), "The 'ahead' parameter (--ahead)"),
        (("forecast-fleet", "--horizon", "0d"), "The 'horizon' parameter (--horizon)"),
        (("forecast-fleet", "--history", "1x"), "The 'history' parameter (--history)"),
        (("backtest", "--region", "eu-west", "--service", "game", "--step", "-1h"), "(--step)"),
        (
            ("backtest", "--region", "eu-west", "--service", "game", "--horizon", "90min"),
            "--horizon (90min) and --step (168h)",
        ),
    ],
)
def test_a_malformed_duration_is_named_by_its_option(tmp_path, args, named):
    """They were named as the Python functions' parameters ('The 'ahead' parameter must ...'),
    which the command line has no option of."""
    result = run(
        *args,
        "--db",
        str(tmp_path / "none.duckdb"),
        *(("--out", str(tmp_path / "bt")) if args[0] == "backtest" else ()),
    )
    assert result.exit_code == 2, result.output
    assert named in result.stderr


def test_schedule_aws_warning_names_a_few_of_many_groups_over_the_limit(capsys):
    # Eight region/services whose floors change every hour for 130 hours: each group gets
    # 130 actions, over AWS's 125. The warning counts them and names the first five rather
    # than every group of a large fleet on one line.
    from capacity.cli.scheduling import _aws_actions

    hours = pd.date_range("2026-11-23", periods=130, freq="h", tz="UTC")
    floors = pd.concat(
        pd.DataFrame(
            {
                "region": region,
                "service": service,
                "ts": hours,
                "min_servers": np.tile([3, 4], 65),
            }
        )
        for region in ("r1", "r2", "r3", "r4")
        for service in ("game", "chat")
    )
    _aws_actions(floors, "{region}-{service}", now=pd.Timestamp("2026-11-22", tz="UTC"))
    err = capsys.readouterr().err
    assert "more often for 8 groups, r1-chat (130), r1-game (130), r2-chat (130), " in err
    assert "r3-chat (130) and 3 more: each gets at most 125" in err
    assert "r4-game" not in err
    assert "--horizon 125h or less needs no merging" in err
