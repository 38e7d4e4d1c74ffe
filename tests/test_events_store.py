"""Importing the live-ops calendar into the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from capacity import DataError, Store
from capacity.config import load_fleet
from capacity.errors import ParameterError

CALENDAR = """\
event_id,name,kind,start,end,regions,expected_uplift,notes
wf-2026,Winter Festival,launch,2026-12-18T00:00:00Z,2027-01-04T00:00:00Z,eu-west;na-east,1.6,
s12,Season 12,season,2026-12-01T08:00:00+00:00,2026-12-08T08:00:00+00:00,all,,ramp then decay
m-1,Patch 12.1,maintenance,2026-11-24T06:00:00Z,2026-11-24T08:00:00Z,eu-west,,
"""


def stored(db):
    with Store(db, read_only=True) as store:
        return store.events()


def test_import_then_reimport_and_update(db, write):
    path = write("calendar.csv", CALENDAR)
    with Store(db) as store:
        report = store.import_events([path])
    assert (report.events, report.inserted, report.updated, report.unchanged) == (3, 3, 0, 0)
    frame = stored(db)
    assert frame["event_id"].tolist() == ["m-1", "s12", "wf-2026"]
    winter = frame.set_index("event_id").loc["wf-2026"]
    assert winter["regions"] == ["eu-west", "na-east"]
    assert winter["expected_uplift"] == 1.6
    assert str(winter["start_ts"]) == "2026-12-18 00:00:00+00:00"

    with Store(db) as store:
        again = store.import_events([path])
    assert again.skipped == (str(path),) and again.events == 0
    assert stored(db).equals(frame)

    changed = write("calendar.csv", CALENDAR.replace(",1.6,", ",1.8,"))
    with Store(db) as store:
        report = store.import_events([changed])
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    assert stored(db).set_index("event_id").loc["wf-2026", "expected_uplift"] == 1.8


def test_events_query_filters_window_region_and_kind(db, write):
    with Store(db) as store:
        store.import_events([write("calendar.csv", CALENDAR)])
        eu_ahead = store.events(start="2026-11-25T00:00Z", region="na-east")
        seasons = store.events(kinds=["season"])
    assert eu_ahead["event_id"].tolist() == ["s12", "wf-2026"]  # 'all' regions included
    assert seasons["event_id"].tolist() == ["s12"]


def test_events_query_refuses_a_region_or_kind_the_store_cannot_answer(db, write):
    """store.events(region="eu-wset") gave the events for all regions without a word, and
    kinds=["seasn"] no rows: passed on to DemandForecaster.fit, a forecast without the
    region's own launches and patches."""
    with Store(db) as store:
        store.import_events([write("calendar.csv", CALENDAR)])
        with pytest.raises(ParameterError, match=r"region 'eu-wset' \(did you mean 'eu-west'"):
            store.events(region="eu-wset")
        with pytest.raises(ParameterError, match=r"kind 'seasn'.*did you mean 'season'"):
            store.events(kinds=["seasn"])
        # a known kind no event has yet, one kind as a string, regions named by events only
        assert store.events(kinds=["esports"]).empty
        assert store.events(kinds="season")["event_id"].tolist() == ["s12"]
        assert store.events(region="na-east")["event_id"].tolist() == ["s12", "wf-2026"]
        assert store.events(region="eu-wset", strict=False)["event_id"].tolist() == ["s12"]
        assert store.events(kinds=["seasn"], strict=False).empty


def test_event_ending_before_it_starts_is_refused_and_store_unchanged(db, write):
    with Store(db) as store:
        store.import_events([write("calendar.csv", CALENDAR)])
    before = stored(db)
    bad = CALENDAR + "x,Broken,patch,2026-12-10T10:00:00Z,2026-12-10T09:00:00Z,all,,\n"
    with Store(db) as store, pytest.raises(DataError, match=r"bad\.csv: line 5:.*end"):
        store.import_events([write("bad.csv", bad)])
    assert stored(db).equals(before)


def test_unknown_region_with_fleet(db, write, fleet_file):
    fleet = load_fleet(fleet_file)
    bad = CALENDAR.replace("eu-west;na-east", "eu-west;mars-1")
    with Store(db) as store, pytest.raises(DataError, match=r"line 2.*mars-1"):
        store.import_events([write("calendar.csv", bad)], fleet=fleet)
    with Store(db) as store:
        assert store.events().empty


def test_same_id_different_content_across_files(db, write):
    a = write("a.csv", CALENDAR)
    b = write("b.csv", CALENDAR.replace("Season 12", "Season Twelve"))
    with Store(db) as store, pytest.raises(DataError, match="s12"):
        store.import_events([a, b])
    with Store(db) as store:
        assert store.events().empty


ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//LifeVerse//live-ops//EN
BEGIN:VEVENT
UID:patch-weekly
SUMMARY:Weekly patch
DTSTART:20261201T060000Z
DTEND:20261201T080000Z
RRULE:FREQ=WEEKLY;COUNT=3
CATEGORIES:maintenance
LOCATION:eu-west
END:VEVENT
BEGIN:VEVENT
UID:finals-2026
SUMMARY:Champions Finals
DTSTART:20261219T170000Z
DTEND:20261219T210000Z
X-CAPACITY-KIND:esports
X-CAPACITY-UPLIFT:1.35
END:VEVENT
END:VCALENDAR
"""

YAML = """\
events:
  - name: Winter Festival
    kind: launch
    start: 2026-12-18T08:00:00Z
    end: 2027-01-04T08:00:00Z
    regions: [eu-west, na-east]
    expected_uplift: 1.6
"""


def test_ics_and_yaml_calendars_import(db, write):
    with Store(db) as store:
        report = store.import_events([write("liveops.ics", ICS), write("festival.yaml", YAML)])
        frame = store.events()
    assert (report.events, report.inserted) == (5, 5)
    patches = frame[frame["kind"] == "maintenance"]
    assert patches["start_ts"].dt.strftime("%m-%d %H:%M").tolist() == [
        "12-01 06:00",
        "12-08 06:00",
        "12-15 06:00",
    ]
    assert patches["regions"].map(tuple).unique().tolist() == [("eu-west",)]
    finals = frame.set_index("kind").loc["esports"]
    assert finals["regions"] == ["all"] and finals["expected_uplift"] == 1.35
    festival = frame.set_index("kind").loc["launch"]
    assert festival["source"] == "festival.yaml" and festival["regions"] == ["eu-west", "na-east"]


DEPLOYS = """\
deploy_id,region,service,deployed_at,change
d1,eu-west,game,2026-11-02T06:00:00Z,patch 12.1
d2,eu-west,game,2026-11-09T06:00:00Z,patch 12.2
"""

INCIDENTS = """\
incident_id,region,service,severity,started_at,detected_at,resolved_at,cause,deploy_id
i1,eu-west,game,sev2,2026-11-02T07:00:00Z,2026-11-02T07:10:00Z,2026-11-02T08:00:00Z,bad patch,d1
i2,eu-west,game,sev3,2026-11-05T07:00:00Z,2026-11-05T07:05:00Z,2026-11-05T07:30:00Z,,
"""


def test_deploy_and_incident_logs_import_idempotently(db, write, fleet_file):
    fleet = load_fleet(fleet_file)
    with Store(db) as store:
        deploys = store.import_deploys([write("deploys.csv", DEPLOYS)], fleet=fleet)
        incidents = store.import_incidents([write("incidents.csv", INCIDENTS)], fleet=fleet)
        again = store.import_incidents([write("incidents.csv", INCIDENTS)], fleet=fleet)
        stored = store.incidents()
    assert (deploys.events, deploys.inserted) == (2, 2)
    assert incidents.describe().endswith(
        "incidents.csv: 2 incidents read, 2 inserted, 0 updated, 0 unchanged"
    )
    assert again.skipped and again.events == 0
    assert stored["incident_id"].tolist() == ["i1", "i2"]
    assert str(stored["started_at"].dt.tz) == "UTC"
    assert stored.set_index("incident_id").loc["i1", "deploy_id"] == "d1"


def test_incident_naming_an_unknown_deploy_is_refused_and_nothing_loads(db, write, fleet_file):
    fleet = load_fleet(fleet_file)
    with Store(db) as store:
        store.import_deploys([write("deploys.csv", DEPLOYS)], fleet=fleet)
        bad = INCIDENTS.replace(",bad patch,d1", ",bad patch,d9")
        with pytest.raises(DataError, match=r"incidents\.csv: line 2.*d9"):
            store.import_incidents([write("incidents.csv", bad)], fleet=fleet)
        assert store.incidents().empty


def test_resolved_before_started_is_refused(db, write):
    bad = INCIDENTS.replace("2026-11-05T07:30:00Z", "2026-11-05T06:30:00Z").replace(",d1\n", ",\n")
    with Store(db) as store, pytest.raises(DataError, match=r"line 3.*resolved"):
        store.import_incidents([write("incidents.csv", bad)])


def test_a_kind_that_looks_misspelt_is_noted_on_import(db, write, tmp_path):
    from click.testing import CliRunner

    from capacity.cli import cli

    text = CALENDAR.replace(",maintenance,", ",maintainance,").replace(",season,", ",seasons,")
    text += "x-1,Guild night,guild_night,2026-12-02T18:00:00Z,2026-12-02T22:00:00Z,all,1.2,\n"
    path = write("calendar.csv", text)
    with Store(db) as store:
        report = store.import_events([path])
    assert report.notes == (
        "note: 1 event(s) of kind 'maintainance', which capacity does not know; did you mean "
        "'maintenance'? An unknown kind is kept as its own, with a flat shape",
        "note: 1 event(s) of kind 'seasons', which capacity does not know; did you mean "
        "'season'? An unknown kind is kept as its own, with a flat shape",
    )  # guild_night is a kind of the studio's own: no note
    assert sorted(stored(db)["kind"]) == ["guild_night", "launch", "maintainance", "seasons"]
    other = tmp_path / "other.duckdb"
    result = CliRunner().invoke(cli, ["events", "import", str(path), "--db", str(other)])
    assert result.exit_code == 0 and "did you mean 'maintenance'?" in result.stderr


def test_an_edited_calendar_replaces_what_its_earlier_version_held(db, write, tmp_path):
    # a repeating maintenance moved from 04:00 to 05:00 Berlin, and a push deleted
    before = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:maint-eu
SUMMARY:Maintenance
DTSTART:20361202T030000Z
DTEND:20361202T050000Z
RRULE:FREQ=WEEKLY;COUNT=3
CATEGORIES:maintenance
LOCATION:eu-west
END:VEVENT
BEGIN:VEVENT
UID:push
SUMMARY:Push
DTSTART:20361210T000000Z
DTEND:20361211T000000Z
CATEGORIES:marketing
END:VEVENT
END:VCALENDAR
"""
    after = before.replace("T030000Z", "T040000Z").replace("T050000Z", "T060000Z")
    after = after[: after.index("BEGIN:VEVENT\nUID:push")] + "END:VCALENDAR\n"
    with Store(db) as store:
        store.import_events([write("ops.ics", before)])
        store.import_events([write("other.csv", CALENDAR)])  # another source: untouched
        report = store.import_events([write("ops.ics", after)])
    assert (report.inserted, report.removed) == (3, 4)
    assert "3 inserted, 0 updated, 0 unchanged, 4 removed (no longer in their source)" in (
        report.describe()
    )
    events = stored(db)
    mine = events[events["source"] == "ops.ics"]
    assert sorted(mine["event_id"]) == [f"maint-eu@203612{d:02d}T0400Z" for d in (2, 9, 16)]
    assert (events["source"] == "other.csv").sum() == 3


PROMO = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:promo-1
SUMMARY:Promo
DTSTART:20261205T000000Z
DTEND:20261207T000000Z
X-CAPACITY-KIND:marketing
X-CAPACITY-UPLIFT:1.4
{status}END:VEVENT
END:VCALENDAR
"""


def test_a_calendar_left_without_events_removes_them_every_time(db, write):
    """A load that stored nothing is not "in force" while the source still has events."""
    live, cancelled = PROMO.format(status=""), PROMO.format(status="STATUS:CANCELLED\n")
    removed = []
    for text in (live, cancelled, live, cancelled):
        with Store(db) as store:
            report = store.import_events([write("liveops.ics", text)])
        assert not report.skipped
        removed.append(report.removed)
    assert removed == [0, 1, 0, 1]
    assert stored(db).empty

    header = "event_id,name,kind,start,end\n"
    for text in (header, CALENDAR, header):
        with Store(db) as store:
            store.import_events([write("calendar.csv", text)], allow_empty=True)
    assert stored(db).empty
    with Store(db) as store:  # and an empty calendar over an empty source is a no-op
        assert store.import_events([write("calendar.csv", header)]).skipped
        # a CSV of no events that would remove some is taken for a bad export: refused
        store.import_events([write("calendar.csv", CALENDAR)])
        with pytest.raises(DataError, match=r"calendar\.csv: holds no events, and importing"):
            store.import_events([write("calendar.csv", header)])
        assert not store.events().empty


def test_a_calendar_of_one_name_from_another_folder_replaces_it_and_says_so(db, tmp_path):
    """Two liveops.csv in two folders are one source: importing the second replaced the
    first's events, reported only as "no longer in their file" (they were still in it)."""

    def version(folder: str, rows: str) -> Path:
        path = tmp_path / folder / "liveops.csv"
        path.parent.mkdir(exist_ok=True)
        path.write_text("event_id,name,kind,start,end\n" + rows, encoding="utf-8")
        return path

    a = version("a", "LO-1,One,launch,2026-12-01T00:00Z,2026-12-02T00:00Z\n")
    b = version("b", "LO-2,Two,patch,2026-12-03T00:00Z,2026-12-04T00:00Z\n")
    with Store(db) as store:
        store.import_events([a])
        assert store.loads()["source"].tolist() == [str(a.resolve())]
        with pytest.raises(DataError, match=r"b/liveops\.csv: .*a/liveops\.csv has the same name"):
            store.import_events([a, b])
        assert store.events()["event_id"].tolist() == ["LO-1"]
        # the same file twice is one file
        assert store.import_events([a, a]).skipped == (str(a),)

        report = store.import_events([b])
        assert (report.inserted, report.removed) == (1, 1)
        assert report.notes[0] == (
            f"note: {b} replaces {a.resolve()} (1 event stored from it): files of one name are "
            "one source. If both are in use, rename one of them and import both"
        )
        # the summary names the file, and does not say LO-1 left a/liveops.csv (it is still
        # there): it left the source, whose file is now b/liveops.csv
        assert report.describe() == (
            f"{b}: 1 event read, 1 inserted, 0 updated, 0 unchanged, 1 removed (no longer in "
            "their source)"
        )
        assert store.events()["event_id"].tolist() == ["LO-2"]
        # next week's export of the same content: already loaded, and the note says it changes
        # nothing (it had said "replaces" beside "already loaded", read as a contradiction)
        c = version("c", "LO-2,Two,patch,2026-12-03T00:00Z,2026-12-04T00:00Z\n")
        report = store.import_events([c])
        assert report.skipped == (str(c),)
        assert report.notes == (
            f"note: {c} holds what {b.resolve()} held (1 event stored from it), so it changes "
            "nothing: files of one name are one source. If both are in use, rename one of them "
            "and import both",
        )


def test_an_event_in_two_calendars_stays_while_either_holds_it(db, write):
    """An event in both a.csv and b.csv was removed when a.csv dropped it, though importing
    b.csv had just reported it "already loaded"."""
    header = "event_id,name,kind,start,end\n"
    shared = "X,Finals,esports,2026-12-05T18:00Z,2026-12-05T22:00Z\n"
    own = "A-1,Patch,patch,2026-12-01T06:00Z,2026-12-01T08:00Z\n"
    with Store(db) as store:
        store.import_events([write("a.csv", header + shared + own)])
        report = store.import_events([write("b.csv", header + shared)])
        assert not report.skipped and report.unchanged == 1
        report = store.import_events([write("a.csv", header + own)])
        assert (report.removed, report.kept) == (0, 1)
        assert sorted(store.events()["event_id"]) == ["A-1", "X"]
        assert store.events().set_index("event_id").loc["X", "source"] == "b.csv"
        assert store.import_events([write("b.csv", header)], allow_empty=True).removed == 1
        assert store.events()["event_id"].tolist() == ["A-1"]


def test_an_event_id_two_calendars_define_differently_is_refused_across_imports(db, write):
    """One command refused it; two commands flipped the event between the two versions."""
    header = "event_id,name,kind,start,end,expected_uplift\n"
    row = "X,Finals,esports,2026-12-05T18:00Z,2026-12-05T22:00Z,{}\n"
    a = write("a.csv", header + row.format(1.5))
    with Store(db) as store:
        store.import_events([a])
        with pytest.raises(DataError) as info:
            store.import_events([write("b.csv", header + row.format(2.0))])
        assert str(info.value).startswith(
            f"{a.parent / 'b.csv'}: event_id 'X' is also in {a.resolve()} (stored) with "
            "different content. Fix: give each record its own event_id"
        )
        assert store.events()["expected_uplift"].tolist() == [1.5]
        assert store.import_events([write("a.csv", header + row.format(2.0))]).updated == 1


def test_a_calendar_imported_before_is_checked_against_the_fleet(db, write, fleet_file):
    row = "X,launch,2026-12-01T00:00Z,2026-12-02T00:00Z,eu-wst\n"
    bad = write("bad.csv", "name,kind,start,end,regions\n" + row)
    with Store(db) as store:
        store.import_events([bad])
    before = stored(db)
    with Store(db) as store, pytest.raises(DataError) as info:
        store.import_events([bad], fleet=load_fleet(fleet_file))
    message = str(info.value)
    assert "bad.csv" in message and "line 2" in message
    assert "unknown region 'eu-wst'" in message and "'eu-west'" in message
    assert stored(db).equals(before)


def test_regions_the_telemetry_does_not_have_are_noted_without_a_fleet(db, write):
    """LOCATION:Berlin, Germany became the regions Berlin and Germany without a word."""
    rows = [f"2026-01-05T00:00Z,{region},game,ccu,10\n" for region in ("eu-west", "na-east")]
    telemetry = "ts,region,service,metric,value\n" + "".join(rows)
    berlin = PROMO.format(status="LOCATION:Berlin\\, Germany\n")
    with Store(db) as store:
        assert not store.import_events([write("liveops.ics", berlin)]).notes  # nothing to compare
        store.ingest([write("t.csv", telemetry)])
        report = store.import_events([write("liveops.ics", berlin.replace("1.4", "1.5"))])
        assert report.notes == (
            "note: 1 event(s) name regions the stored telemetry does not have: 'Berlin', "
            "'Germany' (an iCalendar event without X-CAPACITY-REGIONS has its LOCATION read as "
            "regions); give the fleet (--config) to refuse regions it does not name",
        )
        assert not store.import_events([write("calendar.csv", CALENDAR)]).notes


def test_an_empty_calendar_seen_first_is_loaded_not_already_loaded(db, write):
    """A header-only calendar imported for the first time was reported "already loaded",
    since a source never seen holds nothing either; it is a load of nothing, recorded."""
    path = write("empty.csv", CALENDAR.splitlines()[0] + "\n")
    with Store(db) as store:
        first = store.import_events([path])
        assert first.skipped == ()
        assert first.describe() == f"{path}: 0 events read, 0 inserted, 0 updated, 0 unchanged"
        assert store.loads()["source"].tolist() == [str(path.resolve())]
        assert store.import_events([path]).skipped == (str(path),)
