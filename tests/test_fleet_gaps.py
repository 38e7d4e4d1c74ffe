"""A fleet file planning what the store lacks, as a new team meets it: a region/service with
no telemetry is named wherever it drops out (recommend, check-event, schedule, status), and a
service without latency says so rather than "0 usable hours". Real DuckDB stores, loaded
through the CLI; real forecasts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.config import load_fleet
from capacity.sizing import safe_loads
from capacity.skipped import skipped_warnings
from capacity.store import Store

HOURS = 24 * 21
END = pd.Timestamp("2026-11-23T00:00Z")  # telemetry runs to the hour before
FLEET = """\
version: 1
regions:
  north: {timezone: UTC}
  south: {timezone: UTC}
services:
  game: {demand_metric: ccu, server_type: std, slo: {latency_p99_ms: 100, availability: 0.999}}
  voice: {demand_metric: ccu, server_type: small, slo: {latency_p99_ms: 60, availability: 0.999}}
server_types:
  std: {safe_load_hint: 200, cost_per_hour: 1, boot_lead_time_minutes: 5}
  small: {safe_load_hint: 900, cost_per_hour: 0.1, boot_lead_time_minutes: 2}
current_servers:
  north: {game: 40, voice: 10}
  south: {game: 30, voice: 0}
failover:
  north: {south: 1.0}
  south: {north: 1.0}
"""
# what every command says of north/voice when the fleet file counts voice in rps but its
# telemetry was loaded as ccu (capacity.demand_held.held_instead)
VOICE_HOLDS_CCU = (
    "the store holds its ccu telemetry instead, under the other demand metric: set "
    "services.voice.demand_metric to ccu in the fleet file if voice's demand is counted in ccu "
    "in every region, or load its rps telemetry"
)
GAP = (
    "warning: south/voice has no demand telemetry (ccu) in the history window (112d before "
    "2026-11-23 00:00 UTC); it is left out of {what}: load its ccu telemetry to plan it"
)


def _telemetry(path: Path) -> Path:
    """Three weeks of hourly telemetry, wide: game with latency in both regions, voice in
    north without latency (its export has no such column), nothing at all of south/voice."""
    ts = pd.date_range(END - pd.Timedelta(hours=HOURS), periods=HOURS, freq="1h")
    daily = 1 + 0.4 * np.sin(np.arange(HOURS) / 24 * 2 * np.pi)
    parts = []
    for region, scale in (("north", 1.0), ("south", 0.7)):
        ccu = 5000 * scale * daily
        parts.append(
            pd.DataFrame(
                {
                    "ts": ts,
                    "region": region,
                    "service": "game",
                    "ccu": ccu,
                    "servers": 40.0,
                    "latency_p99_ms": 30 + ccu / 400,
                }
            )
        )
    parts.append(
        pd.DataFrame(
            {"ts": ts, "region": "north", "service": "voice", "ccu": 6000 * daily, "servers": 10.0}
        )
    )
    frame = pd.concat(parts)[["ts", "region", "service", "ccu", "servers", "latency_p99_ms"]]
    frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fleet_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gaps")
    fleet = folder / "fleet.yaml"
    fleet.write_text(FLEET, encoding="utf-8")
    db = folder / "store.duckdb"
    loaded = CliRunner().invoke(
        cli, ["ingest", str(_telemetry(folder / "t.csv")), "--db", str(db), "--config", str(fleet)]
    )
    assert loaded.exit_code == 0, loaded.output
    return db, fleet


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


# ------------------------------------------------------------------ a pair with no telemetry


def test_recommend_names_the_pair_it_leaves_out(fleet_store):
    db, fleet = fleet_store
    done = _run("recommend", "--db", str(db), "--config", str(fleet), "--jobs", "1")
    assert done.exit_code == 0, done.output
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: south/")]
    assert warnings == [GAP.format(what="this table and of the region-loss check")]
    rows = [line.split()[:2] for line in done.stdout.splitlines()]
    assert ["south", "voice"] not in rows and ["north", "voice"] in rows
    # no row, so not sized at anything: no sizing note of its own (the warning says why),
    # and not "0 usable hours"; north/voice, sized at the hint, is noted with its reason
    assert "note: south/voice is sized" not in done.stderr
    assert (
        "note: north/voice is sized at the fleet file's safe_load_hint, 900 per server, not a "
        "learned value: no latency_p99_ms telemetry"
    ) in done.stderr
    assert "usable hours" not in done.stderr


def test_check_event_names_the_pair_it_leaves_out(fleet_store, tmp_path):
    db, fleet = fleet_store
    report = tmp_path / "check.html"
    done = _run(
        "check-event",
        *("--name", "Raid week", "--start", "2026-11-25T18:00Z", "--end", "2026-11-26T02:00Z"),
        *("--regions", "south", "--uplift", "1.5"),
        *("--db", str(db), "--config", str(fleet), "--jobs", "1", "--output", str(report)),
    )
    assert done.exit_code == 0, done.output
    line = GAP.format(what="this check's table")
    assert line in done.stderr.splitlines()
    # the title, two header lines, then two lines per region/service (its figures, then when)
    rows = [line.split()[:2] for line in done.stdout.splitlines()[3::2]]
    assert rows == [["south", "game"]]
    assert "south/voice has no demand telemetry (ccu)" in report.read_text(encoding="utf-8")


def _with_east(folder: Path) -> Path:
    """FLEET with a region just added, east, of which nothing is loaded yet."""
    path = folder / "fleet.yaml"
    path.write_text(
        FLEET.replace(
            "  south: {timezone: UTC}\n", "  south: {timezone: UTC}\n  east: {timezone: UTC}\n"
        )
        .replace(
            "  south: {game: 30, voice: 0}\n",
            "  south: {game: 30, voice: 0}\n  east: {game: 5, voice: 5}\n",
        )
        .replace("  south: {north: 1.0}\n", "  south: {north: 1.0}\n  east: {north: 1.0}\n"),
        encoding="utf-8",
    )
    return path


def test_recommend_does_not_call_the_loss_of_a_region_without_telemetry_survived(
    fleet_store, tmp_path
):
    db, _ = fleet_store
    done = _run("recommend", "--db", str(db), "--config", str(_with_east(tmp_path)), "--jobs", "1")
    assert done.exit_code == 0, done.output
    loss = done.stdout.split("Loss of one region:")[1]
    assert "- without east: not checked: it has no demand telemetry in the history window" in loss
    assert "without east: survives" not in loss
    assert "- without north: " in loss and "- without south: " in loss


def test_a_loss_whose_players_go_to_a_region_without_telemetry_is_not_called_survived(
    fleet_store, tmp_path
):
    """south's players all go to east, of which nothing is loaded: the loss had read
    "survives", judged without the one region that takes them."""
    db, _ = fleet_store
    fleet = _with_east(tmp_path)
    text = fleet.read_text(encoding="utf-8")
    fleet.write_text(text.replace("  south: {north: 1.0}\n", "  south: {east: 1.0}\n"))
    done = _run("recommend", "--db", str(db), "--config", str(fleet), "--jobs", "1")
    assert done.exit_code == 0, done.output
    loss = done.stdout.split("Loss of one region:")[1]
    assert (
        "- without south: not checked: east, taking its players, has no demand telemetry in the "
        "history window, so whether east can carry them is unknown"
    ) in " ".join(loss.split()).replace("- without", "\n- without")
    assert "without south: survives" not in loss
    assert "- without north: " in loss


def test_check_event_in_a_region_without_telemetry_says_what_to_load(fleet_store, tmp_path):
    db, _ = fleet_store
    wider = _with_east(tmp_path)
    done = _run(
        "check-event",
        *("--name", "Launch east", "--start", "2026-11-25T18:00Z", "--end", "2026-11-26T02:00Z"),
        *("--regions", "east", "--uplift", "1.5"),
        *("--db", str(db), "--config", str(wider), "--jobs", "1"),
    )
    assert done.exit_code == 2, done.output
    # the one line: no safe_load_hint note per service of east before it
    [error] = [line for line in done.stderr.splitlines() if not line.startswith("note: no --")]
    assert error.startswith("error: The store holds no telemetry for east, the event's region(s)")
    assert "Fix: load that region's telemetry first (capacity ingest, capacity pull)" in error


def test_schedule_of_a_region_without_telemetry_names_the_option(fleet_store, tmp_path):
    db, _ = fleet_store
    common = ("--db", str(db), "--config", str(_with_east(tmp_path)), "--jobs", "1")
    done = _run("schedule", *common, "--horizon", "6h", "--region", "east")
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines()[-1] == (
        "error: --region 'east' has no demand telemetry in the store, so there is no floor to "
        "publish. Fix: load its telemetry (capacity status lists what the store holds), or "
        "leave out --region"
    )
    # the store and the fleet file are of one fleet: not the error that says otherwise
    assert "none of the fleet file's regions" not in done.stderr


def test_backtest_of_a_pair_without_telemetry_or_a_misspelt_region_says_the_fix(
    fleet_store, tmp_path
):
    db, fleet = fleet_store
    common = ("--db", str(db), "--config", str(fleet), "--out", str(tmp_path / "bt"))
    done = _run("backtest", "--region", "south", "--service", "voice", *common)
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines()[-1] == (
        "error: The store has no ccu for south/voice. Fix: load its ccu telemetry (capacity "
        "ingest, capacity pull); capacity status --by-metric lists what the store holds"
    )
    typo = _run("backtest", "--region", "nroth", "--service", "voice", *common)
    assert typo.exit_code == 2, typo.output
    assert typo.stderr.splitlines()[-1] == (
        "error: The 'region' parameter (--region) must be one of north, south. Got 'nroth' "
        "(did you mean 'north'?). Fix: name a region of the fleet file"
    )


def test_schedule_names_the_pair_it_leaves_out(fleet_store):
    db, fleet = fleet_store
    common = ("--db", str(db), "--config", str(fleet), "--jobs", "1", "--horizon", "6h")
    done = _run("schedule", *common)
    assert done.exit_code == 0, done.output
    assert GAP.format(what="this schedule") in done.stderr.splitlines()
    assert "south,voice" not in done.stdout and "north,voice" in done.stdout
    # asked for another region, the pair matters only for where south's players go
    north = _run("schedule", *common, "--region", "north")
    assert "warning: south/voice" not in north.stderr
    loss = _run("schedule", *common, "--region", "north", "--region-loss")
    assert loss.exit_code == 0, loss.output
    assert GAP.format(what="the region-loss floors") in loss.stderr.splitlines()
    # sizing notes for the pairs scheduled only: south's are read for where its players go
    assert "note: north/voice is sized at the fleet file's safe_load_hint" in loss.stderr
    assert not [line for line in loss.stderr.splitlines() if line.startswith("note: south/")]


def test_a_fit_that_failed_is_named_with_its_reason():
    summary = pd.DataFrame(
        {
            "region": ["north", "south"],
            "service": ["game", "game"],
            "metric": ["ccu", "ccu"],
            "status": ["ok", "skipped: the baseline needs a day of history"],
        }
    )
    assert skipped_warnings(summary, "this table") == [
        "warning: south/game (ccu) could not be forecast (the baseline needs a day of history); "
        "it is left out of this table"
    ]
    assert skipped_warnings(summary.iloc[:1], "this table") == []


# ------------------------------------------------------------------ status --config


def test_status_with_the_fleet_file_lists_what_the_store_lacks(fleet_store):
    db, fleet = fleet_store
    done = _run("status", "--db", str(db), "--config", str(fleet), "--now", "2026-11-23")
    assert done.exit_code == 0, done.output
    lines = _gap_lines(done.stdout)
    start = lines.index(
        f"Fleet file {fleet}: 2 of its 4 region/services lack telemetry of their demand, "
        "servers or latency_p99_ms:"
    )
    # what stops the plan first (docs/own-fleet.md), though north comes first in the fleet file
    assert lines[start + 1 : start + 3] == [
        "- south/voice (ccu): no telemetry; not forecast, so left out of recommend, "
        "check-event and schedule, and capacity plan refuses the fleet",
        "- north/voice (ccu): no latency_p99_ms telemetry; sized at the fleet file's "
        "safe_load_hint, not a safe load learned from latency",
    ]
    _within_100_columns(done.stdout, fleet)
    as_json = _run("status", "--db", str(db), "--config", str(fleet), "--format", "json")
    payload = json.loads(as_json.stdout)
    assert payload["fleet_missing_telemetry"] == [
        {
            "region": "south",
            "service": "voice",
            "demand_metric": "ccu",
            "missing": ["ccu", "servers", "latency_p99_ms"],
        },
        {
            "region": "north",
            "service": "voice",
            "demand_metric": "ccu",
            "missing": ["latency_p99_ms"],
        },
    ]


SPELT_OTHERWISE = (
    # the store was loaded without --config; the fleet file calls the region south-1
    {"south": "south-1"},
    "note: the store holds telemetry of region 'south', which the fleet file does not name "
    "(did you mean 'south-1'?): no command reads it with this fleet file, as names are "
    "matched exactly. Fix: use the fleet file's name in the export and load it again, or "
    "add the region to the fleet file",
    "which the fleet file does not name",
)
# every pair was listed as "no telemetry", where recommend and plan name the mismatch
ANOTHER_FLEET = (
    {"north": "east", "south": "west"},
    "note: the store holds telemetry of north/game, north/voice, south/game but none of the "
    "fleet file's regions and services (east/game, east/voice, west/game, west/voice): "
    "check that --db and --config name the same fleet",
    "none of the fleet file's",
)


def test_status_notes_a_server_count_below_what_the_telemetry_ran(fleet_store, tmp_path):
    # a fleet file written from memory (30 game servers in each region) while the telemetry
    # shows 40 running all week: recommend would read 30 as the servers now and ask to buy 10
    db, _ = fleet_store
    stale = tmp_path / "stale.yaml"
    stale.write_text(FLEET.replace("north: {game: 40,", "north: {game: 30,"), encoding="utf-8")
    done = _run("status", "--db", str(db), "--config", str(stale), "--now", "2026-11-23")
    assert done.exit_code == 0, done.output
    assert (
        "note: current_servers counts fewer servers than the telemetry's servers ran in its "
        "last week for 2 region/service(s): north/game 30 (ran up to 40), south/game 30 (ran "
        "up to 40). recommend, check-event and plan take the fleet file's count as the servers "
        "now. Fix: write the fleet as provisioned (for an autoscaled service, the most servers "
        "it ran in the last week), unless the servers above the count are gone"
    ) in done.stderr.splitlines()
    # the JSON, which a check reads, holds the same pairs
    as_json = _run(
        "status", "--db", str(db), "--config", str(stale), "--now", "2026-11-23", "--format",
        "json",
    )  # fmt: skip
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["current_servers_below_ran"] == [
        {
            "region": "north",
            "service": "game",
            "current_servers": 30,
            "servers_ran_last_week": 40.0,
        },
        {
            "region": "south",
            "service": "game",
            "current_servers": 30,
            "servers_ran_last_week": 40.0,
        },
    ]
    # counts at (or above) what ran: no note; south/voice, with no telemetry, is not compared
    current = tmp_path / "current.yaml"
    current.write_text(FLEET.replace("south: {game: 30,", "south: {game: 40,"), encoding="utf-8")
    done = _run("status", "--db", str(db), "--config", str(current), "--now", "2026-11-23")
    assert done.exit_code == 0 and "current_servers" not in done.stderr
    as_json = _run("status", "--db", str(db), "--config", str(current), "--format", "json")
    assert json.loads(as_json.stdout)["current_servers_below_ran"] == []


def test_recommend_and_check_event_note_a_server_count_below_what_the_telemetry_ran(
    fleet_store, tmp_path
):
    # north/game's count of 30 where 40 ran: recommend's +10 is a stale count, not a
    # shortfall; the note said so in status alone
    db, _ = fleet_store
    stale = tmp_path / "stale.yaml"
    stale.write_text(FLEET.replace("north: {game: 40,", "north: {game: 30,"), encoding="utf-8")
    common = ("--db", str(db), "--config", str(stale), "--jobs", "1")
    note = (
        "note: current_servers counts fewer servers than the telemetry's servers ran in its "
        "last week for 2 region/service(s): north/game 30 (ran up to 40), south/game 30 (ran "
        "up to 40). {who} the fleet file's count as the servers now. Fix: write the fleet as "
        "provisioned (for an autoscaled service, the most servers it ran in the last week), "
        "unless the servers above the count are gone"
    )
    table = _run("recommend", *common)
    assert table.exit_code == 0, table.output
    assert note.format(who="These recommendations take") in table.stderr.splitlines()
    as_json = _run("recommend", *common, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert note.format(who="These recommendations take") in as_json.stderr.splitlines()
    rows = {(r["region"], r["service"]): r for r in json.loads(as_json.stdout)}
    # the keys a check reads are as they were; the servers that ran are beside servers_now
    assert list(rows["north", "game"])[:3] == ["region", "service", "servers_now"]
    assert (
        rows["north", "game"]["servers_now"],
        rows["north", "game"]["servers_ran_last_week"],
    ) == (
        30,
        40.0,
    )
    assert rows["north", "voice"]["servers_ran_last_week"] == 10.0
    checked = _run(
        "check-event",
        *("--name", "Raid week", "--start", "2026-11-25T18:00Z", "--end", "2026-11-26T02:00Z"),
        *("--regions", "north", "--uplift", "1.5", *common),
    )
    assert checked.exit_code == 0, checked.output
    [line] = [line for line in checked.stderr.splitlines() if "current_servers" in line]
    assert line == note.format(who="This check takes").replace(
        "2 region/service(s): north/game 30 (ran up to 40), south/game 30 (ran up to 40)",
        "1 region/service(s): north/game 30 (ran up to 40)",
    )


def test_status_names_the_other_demand_metric_a_pair_holds(fleet_store, tmp_path):
    # a team whose voice servers are sized on rps but whose export carries ccu (or whose
    # fleet file names the wrong demand metric) is told what the store holds instead of
    # being asked to load telemetry it already loaded
    db, _ = fleet_store
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        FLEET.replace("voice: {demand_metric: ccu", "voice: {demand_metric: rps"), encoding="utf-8"
    )
    done = _run("status", "--db", str(db), "--config", str(fleet), "--now", "2026-11-23")
    assert done.exit_code == 0, done.output
    lines = _gap_lines(done.stdout)
    assert (
        f"- north/voice (rps): no rps (demand) telemetry ({VOICE_HOLDS_CCU}); not forecast, so "
        "left out of recommend, check-event and schedule, and capacity plan refuses the fleet"
    ) in lines
    # south/voice holds nothing at all: still "no telemetry"
    assert any(line.startswith("- south/voice (rps): no telemetry;") for line in lines)
    # a pair holding its other demand metric alone is not one with "no telemetry"
    only = tmp_path / "only.duckdb"
    frame = pd.read_csv(_telemetry(tmp_path / "t.csv"))
    voice = frame[(frame["service"] == "voice")][["ts", "region", "service", "ccu"]]
    voice.to_csv(tmp_path / "voice.csv", index=False)
    assert _run("ingest", str(tmp_path / "voice.csv"), "--db", str(only)).exit_code == 0
    done = _run("status", "--db", str(only), "--config", str(fleet), "--now", "2026-11-23")
    assert done.exit_code == 0, done.output
    assert any(
        line.startswith(f"- north/voice (rps): no rps (demand) telemetry ({VOICE_HOLDS_CCU})")
        for line in _gap_lines(done.stdout)
    )


@pytest.mark.parametrize(("renames", "note", "marker"), [SPELT_OTHERWISE, ANOTHER_FLEET])
def test_status_names_stored_names_the_fleet_file_lacks(
    fleet_store, tmp_path, renames, note, marker
):
    db, fleet = fleet_store
    text = FLEET
    for old, new in renames.items():
        text = text.replace(old, new)
    other = tmp_path / "fleet.yaml"
    other.write_text(text, encoding="utf-8")
    done = _run("status", "--db", str(db), "--config", str(other), "--now", "2026-11-23")
    assert done.exit_code == 0, done.output
    assert note in done.stderr.splitlines()
    if renames == SPELT_OTHERWISE[0]:
        assert "service '" not in done.stderr
    # the fleet file that names every stored region and service: no such note
    mine = _run("status", "--db", str(db), "--config", str(fleet), "--now", "2026-11-23")
    assert mine.exit_code == 0 and marker not in mine.stderr


def test_status_without_a_fleet_file_reads_the_store_alone(fleet_store):
    db, _ = fleet_store
    done = _run("status", "--db", str(db), "--now", "2026-11-23")
    assert done.exit_code == 0, done.output
    assert "Fleet file" not in done.stdout
    assert "--config" not in done.stderr  # no demo fleet taken, and no note about one
    payload = json.loads(_run("status", "--db", str(db), "--format", "json").stdout)
    assert "fleet_missing_telemetry" not in payload and "config" not in payload


def test_status_says_when_the_fleet_has_everything(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET.replace("  voice: {demand_metric", "  #voice: {demand_metric"))
    text = fleet.read_text().replace(", voice: 10}", "}").replace(", voice: 0}", "}")
    fleet.write_text(text.replace("  small: {", "  #small: {"), encoding="utf-8")
    db = tmp_path / "store.duckdb"
    frame = pd.read_csv(_telemetry(tmp_path / "t.csv"))
    frame[frame["service"] == "game"].to_csv(tmp_path / "game.csv", index=False)
    assert _run("ingest", str(tmp_path / "game.csv"), "--db", str(db)).exit_code == 0
    done = _run("status", "--db", str(db), "--config", str(fleet), "--now", "2026-11-23")
    assert done.exit_code == 0, done.output
    assert (
        f"Fleet file {fleet}: each of its 2 region/services has demand, servers and "
        "latency_p99_ms telemetry." in _gap_lines(done.stdout)
    )
    _within_100_columns(done.stdout, fleet)


def _gap_lines(stdout: str) -> list[str]:
    """status's lines with the fleet file's lines unwrapped: a line that goes on (indented
    under a pair's dash, or after a line without its period or colon) joined to it."""
    lines: list[str] = []
    going_on = False
    for line in stdout.splitlines():
        if lines and ((line.startswith("  ") and lines[-1].startswith("- ")) or going_on):
            lines[-1] = f"{lines[-1]} {line.strip()}"
        else:
            lines.append(line)
        going_on = lines[-1].startswith("Fleet file") and not lines[-1].endswith((".", ":"))
    return lines


def _within_100_columns(stdout: str, fleet) -> None:
    """Every line of status within 100 columns, unless the fleet file's path alone is
    longer (a word is never broken)."""
    for line in stdout.splitlines():
        assert len(line) <= 100 or len(f"Fleet file {fleet}:") > 100, line


# ------------------------------------------------------------------ sizing's reason


def test_no_latency_telemetry_is_the_reason_given_not_zero_usable_hours(fleet_store):
    db, fleet_file = fleet_store
    fleet = load_fleet(fleet_file)
    with Store(db, read_only=True) as store:
        sized = safe_loads(store, fleet, n_boot=0).set_index(["region", "service"])
        few = safe_loads(store, fleet, services="game", regions="north", min_samples=10_000)
    voice = sized.loc[("north", "voice")]
    assert (voice["source"], voice["safe_load"], voice["samples"]) == ("hint", 900.0, 0)
    assert voice["reason"] == (
        "no latency_p99_ms telemetry for this region/service (the safe load is learned from "
        "load per server, ccu divided by servers, against p99 latency): export latency_p99_ms "
        "to learn it; using the configured safe_load_hint 900"
    )
    assert sized.loc[("south", "voice"), "reason"].startswith(
        "no telemetry for this region/service (the safe load is learned"
    )
    assert "load its ccu, servers and latency_p99_ms" in sized.loc[("south", "voice"), "reason"]
    # too few hours, with latency there, still says how many
    assert few.iloc[0]["reason"].startswith(f"only {HOURS:,} usable hours (min_samples=10,000)")


def test_no_servers_telemetry_is_named_too(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET, encoding="utf-8")
    frame = pd.read_csv(_telemetry(tmp_path / "t.csv")).drop(columns="servers")
    frame.to_csv(tmp_path / "no-servers.csv", index=False)
    db = tmp_path / "store.duckdb"
    assert _run("ingest", str(tmp_path / "no-servers.csv"), "--db", str(db)).exit_code == 0
    with Store(db, read_only=True) as store:
        sized = safe_loads(store, load_fleet(fleet), n_boot=0).set_index(["region", "service"])
    assert sized.loc[("north", "game"), "reason"].startswith(
        "no servers telemetry for this region/service"
    )
    assert "export servers to learn it" in sized.loc[("north", "game"), "reason"]
    assert sized.loc[("north", "voice"), "reason"].startswith(
        "no latency_p99_ms or servers telemetry for this region/service"
    )


def test_the_plan_warns_of_a_server_count_below_what_ran_before_its_cutoff(tmp_path):
    from capacity.servers_ran import servers_last_week
    from capacity.weekly import build_plan

    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET.replace("  voice: {demand_metric", "  #voice: {demand_metric"))
    text = fleet.read_text().replace(", voice: 10}", "}").replace(", voice: 0}", "}")
    text = text.replace("  small: {", "  #small: {").replace("north: {game: 40", "north: {game: 30")
    fleet.write_text(text, encoding="utf-8")
    frame = pd.read_csv(_telemetry(tmp_path / "t.csv"))
    game = frame[frame["service"] == "game"].copy()
    # north ran 40 until the last day, then 50, which a plan cut off a day earlier never saw
    late = (game["region"] == "north") & (pd.to_datetime(game["ts"]) >= END - pd.Timedelta(days=1))
    game.loc[late, "servers"] = 50.0
    game.to_csv(tmp_path / "game.csv", index=False)
    db = tmp_path / "store.duckdb"
    assert _run("ingest", str(tmp_path / "game.csv"), "--db", str(db)).exit_code == 0
    with Store(db, read_only=True) as store:
        assert servers_last_week(store) == {("north", "game"): 50.0, ("south", "game"): 40.0}
        assert servers_last_week(store, [("north", "game")], end=END - pd.Timedelta(days=1)) == {
            ("north", "game"): 40.0
        }
    plan = build_plan(
        week="2026-W48", db=db, config=fleet, run_id="", jobs=1, backtest=False, history="21d"
    )
    assert (
        "current_servers counts fewer servers than the telemetry's servers ran in its last week "
        "for 2 region/service(s): north/game 30 (ran up to 50), south/game 30 (ran up to 40). "
        "This plan takes the fleet file's count as the servers now. Fix: write the fleet as "
        "provisioned (for an autoscaled service, the most servers it ran in the last week), "
        "unless the servers above the count are gone"
    ) in plan.warnings


# ------------------------------------------------------------------ the other demand metric


@pytest.fixture()
def rps_fleet(fleet_store, tmp_path):
    """FLEET with voice counted in rps: north/voice's telemetry is loaded, as ccu."""
    db, _ = fleet_store
    fleet = tmp_path / "rps.yaml"
    fleet.write_text(
        FLEET.replace("voice: {demand_metric: ccu", "voice: {demand_metric: rps"), encoding="utf-8"
    )
    return db, fleet


RPS_GAP = (
    "warning: north/voice has no demand telemetry (rps) in the history window (112d before "
    "2026-11-23 00:00 UTC); it is left out of {what}: " + VOICE_HOLDS_CCU
)


def test_recommend_names_the_demand_metric_a_pair_holds_instead(rps_fleet):
    # "load its rps telemetry" sent the team to load telemetry it had loaded, as ccu
    db, fleet = rps_fleet
    done = _run("recommend", "--db", str(db), "--config", str(fleet), "--jobs", "1")
    assert done.exit_code == 0, done.output
    lines = done.stderr.splitlines()
    assert RPS_GAP.format(what="this table and of the region-loss check") in lines
    # south/voice holds nothing at all: still asked to load it
    assert (
        GAP.replace("(ccu)", "(rps)")
        .replace("its ccu", "its rps")
        .format(what="this table and of the region-loss check")
        in lines
    )
    # north/voice has no row, so it is sized at nothing: no sizing note (which counted it
    # among the pairs "sized at the hint"); the warning above carries the other demand metric,
    # and nothing says "export rps"
    assert not [line for line in lines if line.startswith("note: north/voice is sized")]
    assert not [line for line in lines if "export rps" in line]


def test_check_event_and_schedule_name_the_demand_metric_a_pair_holds_instead(rps_fleet):
    db, fleet = rps_fleet
    common = ("--db", str(db), "--config", str(fleet), "--jobs", "1")
    checked = _run(
        "check-event",
        *("--name", "Raid week", "--start", "2026-11-25T18:00Z", "--end", "2026-11-26T02:00Z"),
        *("--regions", "north", "--uplift", "1.5", *common),
    )
    assert checked.exit_code == 0, checked.output
    assert RPS_GAP.format(what="this check's table") in checked.stderr.splitlines()
    scheduled = _run("schedule", *common, "--horizon", "6h")
    assert scheduled.exit_code == 0, scheduled.output
    assert RPS_GAP.format(what="this schedule") in scheduled.stderr.splitlines()
    one = _run("schedule", *common, "--horizon", "6h", "--region", "north", "--service", "voice")
    assert one.exit_code == 2, one.output
    assert one.stderr.splitlines()[-1] == (
        "error: --region 'north' and --service 'voice': there is no floor to publish, as "
        f"north/voice has no rps: {VOICE_HOLDS_CCU}"
    )


def test_plan_and_backtest_name_the_demand_metric_a_pair_holds_instead(rps_fleet, tmp_path):
    db, fleet = rps_fleet
    planned = _run(
        "plan", "--db", str(db), "--config", str(fleet), "--week", "2026-W48",
        "--out", str(tmp_path / "plans"), "--no-backtest",
    )  # fmt: skip
    assert planned.exit_code == 2, planned.output
    assert planned.stderr.splitlines()[-1] == (
        "error: The fleet file plans 2 region/service(s) with no demand telemetry before "
        "2026-11-23 00:00 UTC: north/voice (rps), south/voice (rps); north/voice has no rps: "
        + VOICE_HOLDS_CCU
    )
    tested = _run(
        "backtest", "--region", "north", "--service", "voice", "--db", str(db),
        "--config", str(fleet), "--out", str(tmp_path / "bt"),
    )  # fmt: skip
    assert tested.exit_code == 2, tested.output
    assert tested.stderr.splitlines()[-1] == (
        f"error: The store has no rps for north/voice: {VOICE_HOLDS_CCU} (or backtest it with "
        "--metric ccu)"
    )


def test_a_fleet_whose_every_pair_holds_the_other_metric_is_told_so(fleet_store, tmp_path):
    # every demand metric of the fleet file is rps, the store holds only ccu: not "the store
    # holds no demand telemetry (ccu or rps)", which it does
    db, _ = fleet_store
    fleet = tmp_path / "all-rps.yaml"
    fleet.write_text(FLEET.replace("demand_metric: ccu", "demand_metric: rps"), encoding="utf-8")
    done = _run("recommend", "--db", str(db), "--config", str(fleet), "--jobs", "1")
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines()[-1] == (
        f"error: {db}: the store holds no rps telemetry, the fleet file's demand metric; "
        "north/game has no rps: the store holds its ccu telemetry instead, under the other "
        "demand metric: set services.game.demand_metric to ccu in the fleet file if game's "
        "demand is counted in ccu in every region, or load its rps telemetry (2 more "
        "region/service(s) hold the other demand metric too: capacity status --config lists "
        "them)"
    )


def test_a_pair_holding_its_own_metric_outside_the_window_is_not_told_to_switch():
    summary = pd.DataFrame(
        {
            "region": ["north"],
            "service": ["voice"],
            "metric": ["rps"],
            "status": ["skipped: no telemetry in the history window"],
        }
    )
    both = {("north", "voice"): ["ccu", "rps"]}
    [line] = skipped_warnings(summary, "this table", held=both)
    assert line.endswith(": load its rps telemetry to plan it")
    [line] = skipped_warnings(summary, "this table", held={("north", "voice"): ["ccu"]})
    assert line.endswith(VOICE_HOLDS_CCU)


def test_the_count_note_shows_a_fractional_hourly_mean_above_the_count():
    """An hourly mean of 10.4 servers is above a count of 10: rounded, the note read "10 (ran
    up to 10)", a count below itself."""
    from capacity.servers_ran import count_note

    row = {"region": "eu-west", "service": "game", "current_servers": 10}
    (note,) = count_note([{**row, "servers_ran_last_week": 10.4}])
    assert "eu-west/game 10 (ran up to 10.4)" in note
    (note,) = count_note([{**row, "servers_ran_last_week": 1200.0}])
    assert "eu-west/game 10 (ran up to 1,200)" in note
