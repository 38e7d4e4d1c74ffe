"""Tests of capacity.calendar: the live-ops calendar reader."""

from __future__ import annotations

import math
import re
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from capacity.calendar import read_calendar, read_calendars, validate_events
from capacity.columns import EVENT_COLUMNS
from capacity.errors import DataError, ParameterError

KNOWN = ("eu-west", "na-east", "ap-south")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def error_of(path: Path, *parts: str, **kwargs) -> str:
    """Read ``path``, expect a DataError naming the file and every part; return the message."""
    with pytest.raises(DataError) as info:
        read_calendar(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert path.name in message
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    return message


def by_name(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {row["name"]: row for _, row in frame.iterrows()}


# --------------------------------------------------------------------------- CSV happy paths


def test_csv_offsets_dates_regions_and_types(tmp_path):
    path = write(
        tmp_path,
        "calendar.csv",
        """
        event_id,name,kind,start,end,regions,expected_uplift,notes
        wf-2026,Winter Festival,Season,2026-12-18,2026-12-19,eu-west;na-east,1.6,big one
        p-1,Patch 1.2,patch,2026-12-10T08:00+01:00,2026-12-10T10:30Z,all,,
        m-1,Maintenance,maintenance,2026-12-01T06:00Z,2026-12-01T08:00Z,"na-east, eu-west",0.5x,
        c-1,Cup,esports,2026-12-05T18:00-05:00,2026-12-05T23:00-05:00,ap-south|eu-west,2,
        o-1,Open,marketing,2026-12-20T00:00Z,2026-12-21T00:00Z,,,
        """,
    )
    frame = read_calendar(path)

    assert tuple(frame.columns) == EVENT_COLUMNS
    assert list(frame["event_id"]) == ["m-1", "c-1", "p-1", "wf-2026", "o-1"]  # by start
    assert str(frame["start_ts"].dtype) == "datetime64[us, UTC]"
    assert str(frame["end_ts"].dtype) == "datetime64[us, UTC]"
    rows = by_name(frame)

    fest = rows["Winter Festival"]
    assert fest["kind"] == "season"
    assert fest["start_ts"] == ts("2026-12-18T00:00Z")
    assert fest["end_ts"] == ts("2026-12-20T00:00Z")  # date-only end includes the 19th
    assert fest["regions"] == ["eu-west", "na-east"]
    assert fest["expected_uplift"] == 1.6
    assert fest["notes"] == "big one"
    assert fest["source"] == "calendar.csv"

    patch = rows["Patch 1.2"]
    assert patch["start_ts"] == ts("2026-12-10T07:00Z")
    assert patch["end_ts"] == ts("2026-12-10T10:30Z")
    assert patch["regions"] == ["all"]
    assert math.isnan(patch["expected_uplift"])
    assert patch["notes"] is None

    assert rows["Maintenance"]["regions"] == ["eu-west", "na-east"]
    assert rows["Maintenance"]["expected_uplift"] == 0.5
    cup = rows["Cup"]
    assert cup["start_ts"] == ts("2026-12-05T23:00Z")
    assert cup["end_ts"] == ts("2026-12-06T04:00Z")
    assert cup["regions"] == ["ap-south", "eu-west"]
    assert cup["expected_uplift"] == 2.0
    assert rows["Open"]["regions"] == ["all"]


def test_csv_tz_localises_dates_and_naive_times(tmp_path):
    path = write(
        tmp_path,
        "berlin.csv",
        """
        name,kind,start,end
        Winter Festival,season,2026-12-18,2026-12-19
        Summer Patch,patch,2026-07-01 08:00,2026-07-01 10:00
        Exact,patch,2026-07-02T08:00Z,2026-07-02T09:00Z
        """,
    )
    rows = by_name(read_calendar(path, tz="Europe/Berlin"))
    assert rows["Winter Festival"]["start_ts"] == ts("2026-12-17T23:00Z")  # CET, +01:00
    assert rows["Winter Festival"]["end_ts"] == ts("2026-12-19T23:00Z")
    assert rows["Summer Patch"]["start_ts"] == ts("2026-07-01T06:00Z")  # CEST, +02:00
    assert rows["Summer Patch"]["end_ts"] == ts("2026-07-01T08:00Z")
    assert rows["Exact"]["start_ts"] == ts("2026-07-02T08:00Z")  # offsets ignore tz


def test_csv_headers_are_matched_loosely(tmp_path):
    path = write(
        tmp_path,
        "loose.csv",
        """
         Name , KIND,Start_TS,End , Expected Uplift,REGIONS
        Launch,launch,2026-03-01,2026-03-01,1.25,eu-west
        """,
    )
    frame = read_calendar(path)
    row = frame.iloc[0]
    assert (row["name"], row["kind"], row["expected_uplift"]) == ("Launch", "launch", 1.25)
    assert (row["start_ts"], row["end_ts"]) == (ts("2026-03-01T00:00Z"), ts("2026-03-02T00:00Z"))
    assert row["regions"] == ["eu-west"]


def test_default_ids_are_stable_and_distinct(tmp_path):
    text = """
        name,kind,start,end,regions
        Winter Festival,season,2026-12-18,2026-12-19,eu-west;na-east
        Winter Festival,season,2026-12-18,2026-12-19,eu-west
        """
    first = read_calendar(write(tmp_path, "a.csv", text))
    again = read_calendar(write(tmp_path, "b.csv", text))
    ids = list(first["event_id"])
    assert ids == list(again["event_id"])
    assert all(re.fullmatch(r"season-20261218-[0-9a-f]{8}", i) for i in ids)
    assert len(set(ids)) == 2
    # Region order does not change the event, nor its id.
    swapped = read_calendar(
        write(
            tmp_path,
            "c.csv",
            """
        name,kind,start,end,regions
        Winter Festival,season,2026-12-18,2026-12-19,na-east;eu-west
        """,
        )
    )
    assert swapped["event_id"].iloc[0] in ids


def test_identical_duplicates_collapse(tmp_path):
    path = write(
        tmp_path,
        "dupes.csv",
        """
        event_id,name,kind,start,end
        x,Launch,launch,2026-03-01,2026-03-02
        x,Launch,launch,2026-03-01T00:00Z,2026-03-03T00:00Z
        ,Promo,marketing,2026-04-01,2026-04-01
        ,Promo,marketing,2026-04-01,2026-04-01
        """,
    )
    frame = read_calendar(path)
    assert list(frame["name"]) == ["Launch", "Promo"]
    assert frame["event_id"].iloc[0] == "x"


def test_header_only_csv_gives_an_empty_typed_frame(tmp_path):
    frame = read_calendar(write(tmp_path, "empty.csv", "name,kind,start,end\n"))
    assert len(frame) == 0
    assert tuple(frame.columns) == EVENT_COLUMNS
    assert str(frame["start_ts"].dtype) == "datetime64[us, UTC]"


def test_known_regions_accept_listed_names_and_all(tmp_path):
    path = write(
        tmp_path,
        "ok.csv",
        """
        name,kind,start,end,regions
        A,launch,2026-03-01,2026-03-01,eu-west;na-east
        B,launch,2026-03-02,2026-03-02,ALL
        """,
    )
    frame = read_calendar(path, regions=KNOWN)
    assert list(frame["regions"]) == [["eu-west", "na-east"], ["all"]]


# --------------------------------------------------------------------------- YAML happy paths


def test_yaml_list_and_events_mapping_give_the_same_events(tmp_path):
    body = """
        - name: Winter Festival
          kind: season
          start: 2026-12-18
          end: 2026-12-19
          regions: [eu-west, na-east]
          expected_uplift: 1.6
          notes: in-game snow
        - event_id: patch-12
          name: Patch 1.2
          kind: patch
          start: 2026-12-10T08:00:00+01:00
          end: "2026-12-10T10:00Z"
          regions: "na-east; eu-west"
        - name: Cup
          kind: esports
          start: "2026-12-05 18:00"
          end: 2026-12-05 23:00:00
        """
    listed = read_calendar(write(tmp_path, "list.yaml", body), tz="America/New_York")
    nested = read_calendar(
        write(tmp_path, "nested.yml", "events:\n" + textwrap.indent(textwrap.dedent(body), "  ")),
        tz="America/New_York",
    )
    pd.testing.assert_frame_equal(listed.drop(columns="source"), nested.drop(columns="source"))
    assert list(listed["source"]) == ["list.yaml"] * 3
    rows = by_name(listed)
    fest = rows["Winter Festival"]
    assert fest["start_ts"] == ts("2026-12-18T05:00Z")  # midnight in New York, EST
    assert fest["end_ts"] == ts("2026-12-20T05:00Z")
    assert fest["regions"] == ["eu-west", "na-east"]
    assert fest["expected_uplift"] == 1.6
    assert fest["notes"] == "in-game snow"
    assert re.fullmatch(r"season-20261218-[0-9a-f]{8}", fest["event_id"])
    patch = rows["Patch 1.2"]
    assert patch["event_id"] == "patch-12"
    assert (patch["start_ts"], patch["end_ts"]) == (
        ts("2026-12-10T07:00Z"),
        ts("2026-12-10T10:00Z"),
    )
    assert patch["regions"] == ["eu-west", "na-east"]
    cup = rows["Cup"]
    assert (cup["start_ts"], cup["end_ts"]) == (ts("2026-12-05T23:00Z"), ts("2026-12-06T04:00Z"))
    assert cup["regions"] == ["all"]


# --------------------------------------------------------------------------- iCalendar


ICS_HEAD = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//LifeVerse//capacity tests//EN\n"
ICS_TAIL = "END:VCALENDAR\n"


def ics(*events: str) -> str:
    body = "".join(
        "BEGIN:VEVENT\n" + textwrap.dedent(e).strip("\n") + "\nEND:VEVENT\n" for e in events
    )
    return ICS_HEAD + body + ICS_TAIL


def test_ics_fields_times_and_all_day_events(tmp_path):
    path = write(
        tmp_path,
        "ops.ics",
        ics(
            """
        UID:winter-2026
        SUMMARY:Winter Festival
        DTSTART;VALUE=DATE:20261218
        DTEND;VALUE=DATE:20261220
        X-CAPACITY-KIND:Season
        X-CAPACITY-REGIONS:eu-west,na-east
        LOCATION:ignored-when-x-regions
        X-CAPACITY-UPLIFT:1.6
        DESCRIPTION:snow everywhere
        """,
            """
        UID:patch-12
        SUMMARY:Patch 1.2
        DTSTART;TZID=Europe/Berlin:20260701T080000
        DURATION:PT2H30M
        CATEGORIES:patch,ops
        LOCATION:eu-west\\;ap-south
        """,
            """
        UID:promo
        SUMMARY:Promo day
        DTSTART;VALUE=DATE:20260801
        """,
            """
        UID:cup
        SUMMARY:Cup
        DTSTART:20260901T180000Z
        DTEND:20260901T230000Z
        """,
        ),
    )
    frame = read_calendar(path)
    assert tuple(frame.columns) == EVENT_COLUMNS
    assert list(frame["event_id"]) == ["patch-12", "promo", "cup", "winter-2026"]
    rows = by_name(frame)
    fest = rows["Winter Festival"]
    assert fest["kind"] == "season"
    # DTEND of an all-day event is exclusive: the festival covers the 18th and the 19th.
    assert (fest["start_ts"], fest["end_ts"]) == (ts("2026-12-18T00:00Z"), ts("2026-12-20T00:00Z"))
    assert fest["regions"] == ["eu-west", "na-east"]
    assert fest["expected_uplift"] == 1.6
    assert fest["notes"] == "snow everywhere"
    assert fest["source"] == "ops.ics"
    patch = rows["Patch 1.2"]
    assert patch["kind"] == "patch"
    assert (patch["start_ts"], patch["end_ts"]) == (
        ts("2026-07-01T06:00Z"),
        ts("2026-07-01T08:30Z"),
    )
    assert patch["regions"] == ["ap-south", "eu-west"]
    assert math.isnan(patch["expected_uplift"])
    assert patch["notes"] is None
    promo = rows["Promo day"]
    assert promo["kind"] == "other"
    assert (promo["start_ts"], promo["end_ts"]) == (
        ts("2026-08-01T00:00Z"),
        ts("2026-08-02T00:00Z"),
    )
    assert promo["regions"] == ["all"]
    assert rows["Cup"]["end_ts"] == ts("2026-09-01T23:00Z")


def test_ics_all_day_event_in_tz(tmp_path):
    path = write(
        tmp_path,
        "tz.ics",
        ics("""
        UID:fest
        SUMMARY:Festival
        DTSTART;VALUE=DATE:20261218
        DTEND;VALUE=DATE:20261220
        """),
    )
    row = read_calendar(path, tz="Asia/Tokyo").iloc[0]
    assert (row["start_ts"], row["end_ts"]) == (ts("2026-12-17T15:00Z"), ts("2026-12-19T15:00Z"))


def test_ics_weekly_rrule_count_expands_to_distinct_events(tmp_path):
    path = write(
        tmp_path,
        "maint.ics",
        ics("""
        UID:weekly-maint
        SUMMARY:Weekly maintenance
        DTSTART:20261201T060000Z
        DTEND:20261201T080000Z
        RRULE:FREQ=WEEKLY;COUNT=4
        CATEGORIES:maintenance
        LOCATION:eu-west
        """),
    )
    frame = read_calendar(path, regions=KNOWN)
    assert list(frame["event_id"]) == [
        "weekly-maint@20261201T0600Z",
        "weekly-maint@20261208T0600Z",
        "weekly-maint@20261215T0600Z",
        "weekly-maint@20261222T0600Z",
    ]
    assert list(frame["start_ts"]) == [ts(f"2026-12-{d:02d}T06:00Z") for d in (1, 8, 15, 22)]
    assert list(frame["end_ts"]) == [ts(f"2026-12-{d:02d}T08:00Z") for d in (1, 8, 15, 22)]
    assert set(frame["kind"]) == {"maintenance"}
    assert all(r == ["eu-west"] for r in frame["regions"])


def test_ics_rrule_honours_exdate_and_edited_occurrence(tmp_path):
    path = write(
        tmp_path,
        "edits.ics",
        ics(
            """
        UID:m
        SUMMARY:Maintenance
        DTSTART:20261201T060000Z
        DTEND:20261201T080000Z
        RRULE:FREQ=WEEKLY;COUNT=4
        EXDATE:20261208T060000Z
        """,
            """
        UID:m
        RECURRENCE-ID:20261215T060000Z
        SUMMARY:Maintenance (long)
        DTSTART:20261215T050000Z
        DTEND:20261215T100000Z
        """,
        ),
    )
    frame = read_calendar(path)
    assert list(frame["event_id"]) == ["m@20261201T0600Z", "m@20261215T0500Z", "m@20261222T0600Z"]
    assert frame["name"].iloc[1] == "Maintenance (long)"
    assert frame["end_ts"].iloc[1] == ts("2026-12-15T10:00Z")


def test_ics_open_ended_rrule_uses_the_default_and_given_windows(tmp_path):
    path = write(
        tmp_path,
        "forever.ics",
        ics("""
        UID:w
        SUMMARY:Weekly reset
        DTSTART:20361202T060000Z
        DTEND:20361202T070000Z
        RRULE:FREQ=WEEKLY
        """),
    )
    frame = read_calendar(path)
    # A series starting after today: 400 days after its DTSTART, weeks 0..57.
    assert len(frame) == 58
    assert frame["start_ts"].iloc[-1] == ts("2036-12-02T06:00Z") + pd.Timedelta(weeks=57)
    window = (pd.Timestamp("2037-01-01", tz="UTC"), pd.Timestamp("2037-01-31", tz="UTC"))
    limited = read_calendar(path, ics_window=window)
    assert list(limited["start_ts"]) == [ts(f"2037-01-{d:02d}T06:00Z") for d in (6, 13, 20, 27)]


def test_ics_series_begun_long_ago_reaches_the_weeks_ahead(tmp_path):
    # Weekly maintenance since 2020: once expanded only to 400 days after its DTSTART, so
    # nothing of it fell in the telemetry or the weeks being planned.
    path = write(
        tmp_path,
        "old.ics",
        ics("""
        UID:old
        SUMMARY:Weekly maintenance
        DTSTART:20200107T030000Z
        DTEND:20200107T050000Z
        RRULE:FREQ=WEEKLY;BYDAY=TU
        CATEGORIES:maintenance
        """),
    )
    starts = read_calendar(path)["start_ts"]
    today = pd.Timestamp.now(tz="UTC").floor("D")
    assert starts.iloc[0] == ts("2020-01-07T03:00Z")
    assert today + pd.Timedelta(days=393) <= starts.iloc[-1] <= today + pd.Timedelta(days=400)
    assert ((starts > today) & (starts <= today + pd.Timedelta(days=28))).sum() == 4


def test_ics_cancelled_events_and_occurrences_are_left_out(tmp_path):
    path = write(
        tmp_path,
        "cancel.ics",
        ics(
            """
        UID:launch
        SUMMARY:Launch
        STATUS:CANCELLED
        DTSTART:20361201T060000Z
        DTEND:20361201T080000Z
        X-CAPACITY-KIND:launch
        X-CAPACITY-UPLIFT:1.8
        """,
            """
        UID:m
        SUMMARY:Maintenance
        DTSTART:20361201T060000Z
        DTEND:20361201T080000Z
        RRULE:FREQ=WEEKLY;COUNT=3
        """,
            """
        UID:m
        RECURRENCE-ID:20361208T060000Z
        SUMMARY:Maintenance
        STATUS:CANCELLED
        DTSTART:20361208T060000Z
        DTEND:20361208T080000Z
        """,
        ),
    )
    frame = read_calendar(path)
    assert list(frame["event_id"]) == ["m@20361201T0600Z", "m@20361215T0600Z"]


# --------------------------------------------------------------------------- validate_events


def test_validate_events_normalises_without_mutating(tmp_path):
    frame = pd.DataFrame(
        {
            "name": ["Launch", "Patch"],
            "kind": ["LAUNCH", "patch"],
            "start_ts": [pd.Timestamp("2026-03-01T10:00", tz="Europe/Berlin"), "2026-03-05"],
            "end_ts": [pd.Timestamp("2026-03-01T12:00Z"), "2026-03-05"],
            "regions": [["na-east", "eu-west"], "all"],
            "expected_uplift": [2, None],
        }
    )
    before = frame.copy(deep=True)
    out = validate_events(frame, source="planner notebook", regions=KNOWN)
    pd.testing.assert_frame_equal(frame, before)
    assert tuple(out.columns) == EVENT_COLUMNS
    assert list(out["kind"]) == ["launch", "patch"]
    assert list(out["start_ts"]) == [ts("2026-03-01T09:00Z"), ts("2026-03-05T00:00Z")]
    assert list(out["end_ts"]) == [ts("2026-03-01T12:00Z"), ts("2026-03-06T00:00Z")]
    assert list(out["regions"]) == [["eu-west", "na-east"], ["all"]]
    assert out["expected_uplift"].iloc[0] == 2.0
    assert list(out["source"]) == ["planner notebook"] * 2
    # Its own output passes again unchanged.
    pd.testing.assert_frame_equal(validate_events(out, source="again"), out)


def test_validate_events_names_the_row(tmp_path):
    frame = pd.DataFrame(
        {
            "name": ["Launch"],
            "kind": ["launch"],
            "start_ts": [pd.Timestamp("2026-03-01T10:00")],
            "end_ts": [pd.Timestamp("2026-03-01T12:00")],
        },
        index=[7],
    )
    with pytest.raises(DataError, match=r"^planner: row 7 \('Launch'\): start .* no time zone"):
        validate_events(frame, source="planner")


# --------------------------------------------------------------------------- read_calendars


def test_read_calendars_concatenates_and_collapses_identical_events(tmp_path):
    a = write(
        tmp_path,
        "a.csv",
        """
        event_id,name,kind,start,end
        wf,Winter Festival,season,2026-12-18,2026-12-19
        """,
    )
    b = write(
        tmp_path,
        "b.yaml",
        """
        - {event_id: wf, name: Winter Festival, kind: season, start: 2026-12-18, end: 2026-12-19}
        - {event_id: p, name: Patch, kind: patch, start: 2026-12-01, end: 2026-12-01}
        """,
    )
    frame = read_calendars([a, b])
    assert list(frame["event_id"]) == ["p", "wf"]
    assert list(frame["source"]) == ["b.yaml", "a.csv"]
    assert read_calendars([]).columns.tolist() == list(EVENT_COLUMNS)


def test_read_calendars_refuses_one_id_defined_differently(tmp_path):
    a = write(
        tmp_path,
        "a.csv",
        """
        event_id,name,kind,start,end
        wf,Winter Festival,season,2026-12-18,2026-12-19
        """,
    )
    b = write(
        tmp_path,
        "b.yaml",
        """
        - {event_id: wf, name: Winter Festival, kind: season, start: 2026-12-18, end: 2026-12-24}
        """,
    )
    with pytest.raises(DataError) as info:
        read_calendars([a, b])
    message = str(info.value)
    for part in (
        "b.yaml",
        "event 1 ('Winter Festival')",
        "a.csv",
        "line 2",
        "'wf'",
        "end_ts",
        "2026-12-20 00:00Z",
        "2026-12-25 00:00Z",
    ):
        assert part in message, part


# --------------------------------------------------------------------------- bad input


def test_missing_required_column_suggests_the_misspelling(tmp_path):
    path = write(
        tmp_path,
        "typo.csv",
        """
        name,kind,strat,end
        Launch,launch,2026-03-01,2026-03-02
        """,
    )
    message = error_of(
        path,
        "line 1",
        "required column 'start' is missing",
        "'name', 'kind', 'strat', 'end'",
        "rename column 'strat' to 'start'",
    )
    assert message.startswith(f"{path}: line 1: ")


def test_missing_required_column_without_lookalike(tmp_path):
    path = write(tmp_path, "noend.csv", "name,kind,start\nLaunch,launch,2026-03-01\n")
    error_of(path, "required column 'end' is missing", "add the column 'end'")


def test_unknown_csv_column_is_refused(tmp_path):
    path = write(
        tmp_path,
        "extra.csv",
        """
        name,kind,start,end,expected_uplfit
        Launch,launch,2026-03-01,2026-03-02,2
        """,
    )
    error_of(path, "unknown column 'expected_uplfit'", "did you mean 'expected_uplift'")


def test_yaml_unknown_key_names_event_and_key(tmp_path):
    path = write(
        tmp_path,
        "keys.yaml",
        """
        events:
          - {name: Launch, kind: launch, start: 2026-03-01, end: 2026-03-02}
          - {name: Patch, kind: patch, start: 2026-03-05, end: 2026-03-05, uplift: 2}
        """,
    )
    error_of(path, "event 2 ('Patch')", "unknown key 'uplift'", "expected_uplift")


def test_empty_name(tmp_path):
    path = write(
        tmp_path,
        "noname.csv",
        """
        name,kind,start,end
        Launch,launch,2026-03-01,2026-03-02
         ,patch,2026-03-05,2026-03-05
        """,
    )
    error_of(path, "line 3", "name is empty", "give every event a name")


def test_empty_name_yaml(tmp_path):
    path = write(
        tmp_path,
        "noname.yaml",
        """
        - {name: Launch, kind: launch, start: 2026-03-01, end: 2026-03-02}
        - {name: "", kind: patch, start: 2026-03-05, end: 2026-03-05}
        """,
    )
    error_of(path, "event 2", "name is empty")


@pytest.mark.parametrize(("column", "value"), [("start", "18/12/2026"), ("end", "soon")])
def test_unparseable_start_or_end(tmp_path, column, value):
    values = {"start": "2026-12-18", "end": "2026-12-19", column: value}
    path = write(
        tmp_path,
        "bad_time.csv",
        f"name,kind,start,end\nFest,season,{values['start']},{values['end']}\n",
    )
    error_of(path, "line 2", f"{column} '{value}' is not a date or date-time", "ISO 8601")


def test_empty_start(tmp_path):
    path = write(tmp_path, "no_start.csv", "name,kind,start,end\nFest,season,,2026-12-19\n")
    error_of(path, "line 2", "start is empty")


def test_unparseable_dtstart_in_ics(tmp_path):
    path = write(
        tmp_path,
        "broken.ics",
        ics("""
        UID:x
        SUMMARY:Broken
        DTSTART:2026120
        """),
    )
    error_of(path, "event 1 ('Broken')", "'2026120' is not a date or date-time")


def test_a_cut_short_ics_is_said_to_be_cut_short(tmp_path):
    whole = ics("""
        UID:x
        SUMMARY:Cup
        DTSTART:20261201T100000Z
        DTEND:20261201T120000Z
        """)
    cut = whole[: whole.index("END:VCALENDAR")]
    error_of(
        write(tmp_path, "cut.ics", cut), "ends inside its calendar", "export the calendar again"
    )
    error_of(write(tmp_path, "empty.ics", "\n"), "no VCALENDAR found")


def test_naive_time_without_tz_csv(tmp_path):
    path = write(
        tmp_path,
        "naive.csv",
        """
        name,kind,start,end
        Patch,patch,2026-12-18 08:00,2026-12-18T10:00Z
        """,
    )
    error_of(path, "line 2", "start '2026-12-18 08:00' has no time zone", "tz=")


def test_naive_time_without_tz_yaml(tmp_path):
    path = write(
        tmp_path,
        "naive.yaml",
        """
        - name: Patch
          kind: patch
          start: 2026-12-18T08:00:00Z
          end: 2026-12-18 10:00:00
        """,
    )
    error_of(path, "event 1 ('Patch')", "end '2026-12-18 10:00:00' has no time zone")


def test_naive_time_without_tz_ics(tmp_path):
    path = write(
        tmp_path,
        "floating.ics",
        ics("""
        UID:f
        SUMMARY:Floating
        DTSTART:20261218T080000
        DTEND:20261218T100000
        """),
    )
    error_of(path, "event 1 ('Floating')", "has no time zone")
    row = read_calendar(path, tz="Europe/London").iloc[0]
    assert (row["start_ts"], row["end_ts"]) == (ts("2026-12-18T08:00Z"), ts("2026-12-18T10:00Z"))


def test_nonexistent_local_time(tmp_path):
    path = write(
        tmp_path,
        "spring.csv",
        """
        name,kind,start,end
        Launch,launch,2026-03-29 01:00,2026-03-29 04:00
        Patch,patch,2026-03-29 02:30,2026-03-29 04:00
        """,
    )
    error_of(
        path,
        "line 3",
        "start '2026-03-29 02:30' does not exist in Europe/Berlin",
        tz="Europe/Berlin",
    )


def test_ambiguous_local_time(tmp_path):
    path = write(
        tmp_path,
        "autumn.csv",
        """
        name,kind,start,end
        Patch,patch,2026-10-25 01:00,2026-10-25 02:30
        """,
    )
    error_of(
        path, "line 2", "end '2026-10-25 02:30' occurs twice in Europe/Berlin", tz="Europe/Berlin"
    )


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        ("2026-12-18T10:00Z", "2026-12-18T09:00Z", "end 2026-12-18 09:00Z"),
        ("2026-12-18T10:00Z", "2026-12-18T11:00+01:00", "end 2026-12-18 10:00Z"),
    ],
)
def test_end_not_after_start(tmp_path, start, end, shown):
    path = write(tmp_path, "backwards.csv", f"name,kind,start,end\nPatch,patch,{start},{end}\n")
    error_of(path, "line 2", shown, f"(from '{end}') is not after start 2026-12-18 10:00Z")


def test_timed_ics_event_without_end(tmp_path):
    path = write(
        tmp_path,
        "noend.ics",
        ics("""
        UID:x
        SUMMARY:Instant
        DTSTART:20261218T080000Z
        """),
    )
    error_of(path, "event 1 ('Instant')", "no DTEND or DURATION")


@pytest.mark.parametrize("kind", ["Big Launch!", "1st", "", "sale 50%"])
def test_bad_kind(tmp_path, kind):
    path = write(tmp_path, "kind.csv", f"name,kind,start,end\nFest,{kind},2026-12-18,2026-12-19\n")
    error_of(path, "line 2", f"kind {kind!r} is not a valid kind name", "launch, season")


def test_user_defined_kind_is_allowed(tmp_path):
    path = write(
        tmp_path, "kind.csv", "name,kind,start,end\nFest,Community_Meetup,2026-12-18,2026-12-18\n"
    )
    assert read_calendar(path)["kind"].iloc[0] == "community_meetup"


@pytest.mark.parametrize("uplift", ["-1", "0", "lots", "nan", "inf"])
def test_bad_uplift(tmp_path, uplift):
    path = write(
        tmp_path,
        "uplift.csv",
        f"""
        name,kind,start,end,expected_uplift
        Fest,season,2026-12-18,2026-12-19,{uplift}
        """,
    )
    error_of(path, "line 2", f"expected_uplift '{uplift}' is not a positive number")


def test_an_uplift_written_as_a_percentage_is_refused(tmp_path):
    path = write(
        tmp_path,
        "uplift.csv",
        """
        name,kind,start,end,expected_uplift
        Fest,season,2026-12-18,2026-12-19,20
        Promo,marketing,2026-12-20,2026-12-21,160
        """,
    )
    error_of(path, "line 3", "expected_uplift '160' is more than 20 times normal demand")


def test_a_field_written_twice_in_yaml_is_refused(tmp_path):
    path = write(
        tmp_path,
        "twice.yaml",
        """
        - name: Fest
          kind: season
          start: 2026-12-18
          end: 2026-12-19
          start: 2026-12-20
        """,
    )
    error_of(path, "line 5", "key 'start' appears twice in one mapping")


def test_bad_uplift_yaml_bool(tmp_path):
    path = write(
        tmp_path,
        "uplift.yaml",
        """
        - {name: Fest, kind: season, start: 2026-12-18, end: 2026-12-19, expected_uplift: yes}
        """,
    )
    error_of(path, "event 1 ('Fest')", "expected_uplift True is not a positive number")


def test_unknown_region(tmp_path):
    path = write(
        tmp_path,
        "regions.csv",
        """
        name,kind,start,end,regions
        Fest,season,2026-12-18,2026-12-19,eu-west;eu-wset
        """,
    )
    error_of(
        path,
        "line 2",
        "unknown region 'eu-wset'",
        "did you mean 'eu-west'",
        "ap-south, eu-west, na-east",
        regions=KNOWN,
    )


def test_unknown_region_ics(tmp_path):
    path = write(
        tmp_path,
        "regions.ics",
        ics("""
        UID:x
        SUMMARY:Fest
        DTSTART;VALUE=DATE:20261218
        LOCATION:Berlin
        """),
    )
    error_of(path, "event 1 ('Fest')", "unknown region 'Berlin'", regions=KNOWN)


def test_an_unknown_x_capacity_property_is_refused_not_ignored(tmp_path):
    # a typo dropped the season's uplift without a word; a service is no calendar field
    for prop, expected in (
        ("X-CAPACITY-UPLFT:1.6", "did you mean 'X-CAPACITY-UPLIFT'?"),
        ("X-CAPACITY-SERVICE:voice", "an event applies to every service of its regions"),
    ):
        path = write(
            tmp_path,
            "typo.ics",
            ics(f"""
            UID:s5
            SUMMARY:Season 5
            DTSTART:20261210T170000Z
            DTEND:20270107T170000Z
            X-CAPACITY-KIND:season
            {prop}
            """),
        )
        name = prop.split(":")[0]
        error_of(path, "event 1 ('Season 5')", f"unknown property '{name}'", expected)


def test_all_mixed_with_regions(tmp_path):
    path = write(
        tmp_path,
        "mixed.csv",
        """
        name,kind,start,end,regions
        Fest,season,2026-12-18,2026-12-19,all;eu-west
        """,
    )
    error_of(path, "line 2", "mixes 'all' with named regions")


def test_same_id_different_content_in_one_file(tmp_path):
    path = write(
        tmp_path,
        "dupe.csv",
        """
        event_id,name,kind,start,end,expected_uplift
        wf,Winter Festival,season,2026-12-18,2026-12-19,1.6
        p,Patch,patch,2026-12-01,2026-12-01,
        wf,Winter Festival,season,2026-12-18,2026-12-19,1.8
        """,
    )
    error_of(path, "line 4", "event_id 'wf' is also used by line 2", "expected_uplift (1.6 vs 1.8)")


def test_same_uid_different_content_in_ics(tmp_path):
    path = write(
        tmp_path,
        "dupe.ics",
        ics(
            "UID:u\nSUMMARY:One\nDTSTART;VALUE=DATE:20261218\n",
            "UID:u\nSUMMARY:Two\nDTSTART;VALUE=DATE:20261218\n",
        ),
    )
    error_of(
        path,
        "event 2 ('Two')",
        "event_id 'u' is also used by event 1 ('One')",
        "name ('One' vs 'Two')",
    )


def test_row_with_wrong_number_of_fields(tmp_path):
    path = write(
        tmp_path,
        "fields.csv",
        """
        name,kind,start,end

        Fest,season,2026-12-18,2026-12-19,extra
        """,
    )
    error_of(path, "line 3", "has 5 fields but the header has 4")


def test_unsupported_extension(tmp_path):
    path = write(tmp_path, "calendar.xlsx", "whatever")
    error_of(path, "unsupported calendar file type '.xlsx'", ".csv, .yaml, .yml, .ics")


def test_missing_file(tmp_path):
    error_of(tmp_path / "nowhere.csv", "file not found")


def test_not_a_calendar_ics(tmp_path):
    error_of(write(tmp_path, "junk.ics", "hello world\n"), "not a valid iCalendar file")


def test_yaml_that_is_not_a_list(tmp_path):
    error_of(write(tmp_path, "scalar.yaml", "just text\n"), "expected a list of events")


def test_unknown_time_zone_parameter(tmp_path):
    path = write(tmp_path, "ok.csv", "name,kind,start,end\nFest,season,2026-12-18,2026-12-19\n")
    with pytest.raises(ParameterError, match="unknown time zone 'Mars/Olympus'"):
        read_calendar(path, tz="Mars/Olympus")


def test_a_year_out_of_range_is_refused_not_wrapped(tmp_path):
    path = tmp_path / "far.csv"
    path.write_text(
        "name,kind,start,end\nX,launch,9999-12-31T20:00:00-05:00,9999-12-31T22:00:00-05:00\n"
    )
    with pytest.raises(DataError, match=r"far\.csv: line 2.*out of range: capacity plans years"):
        read_calendar(path)


def test_a_semicolon_separated_calendar_is_told_to_use_commas(tmp_path):
    path = write(tmp_path, "semi.csv", "name;kind;start;end\nA;launch;2026-12-01;2026-12-02\n")
    with pytest.raises(DataError, match=r"Fix: separate the columns with commas, not ';'"):
        read_calendar(path)


def test_an_unknown_tzid_is_refused_not_read_as_floating(tmp_path):
    path = write(
        tmp_path,
        "typo.ics",
        ics(
            """
            UID:berlin-1
            SUMMARY:Berlin meetup
            DTSTART;TZID=Europe/Berln:20261210T100000
            DTEND;TZID=Europe/Berln:20261210T120000
            """
        ),
    )
    for tz in (None, "UTC"):  # with --tz it was silently taken as a time in that zone
        error_of(
            path,
            "event 1 ('Berlin meetup')",
            "start (DTSTART) has TZID 'Europe/Berln', which is no known time zone",
            "did you mean 'Europe/Berlin'?",
            "add the VTIMEZONE",
            tz=tz,
        )


def test_yaml_ids_and_names_are_kept_as_written(tmp_path):
    path = write(
        tmp_path,
        "numbers.yaml",
        """
        - {event_id: 0012, name: Octal launch, kind: launch, start: 2026-12-05T10:00Z,
           end: 2026-12-06T10:00Z}
        - {event_id: 1.10, name: 2.50, kind: patch, start: 2026-12-07T10:00Z,
           end: 2026-12-07T12:00Z, notes: 0x1F}
        - {event_id: '0013', name: yes, kind: patch, start: 2026-12-08T10:00Z,
           end: 2026-12-08T12:00Z}
        """,
    )
    frame = read_calendar(path)
    assert frame["event_id"].tolist() == ["0012", "1.10", "0013"]
    assert frame["name"].tolist() == ["Octal launch", "2.50", "yes"]
    assert frame["notes"].tolist() == [None, "0x1F", None]


def test_rows_without_id_differing_only_in_uplift_are_named_as_the_same_event(tmp_path):
    path = write(
        tmp_path,
        "twice.csv",
        """
        name,kind,start,end,expected_uplift
        Push,marketing,2026-12-05T00:00Z,2026-12-07T00:00Z,1.4
        Push,marketing,2026-12-05T00:00Z,2026-12-07T00:00Z,1.6
        """,
    )
    message = error_of(
        path,
        "line 3: describes the same event as line 2 (same name, kind, start, end and regions)",
        "with a different expected_uplift (1.4 vs 1.6)",
        "keep one of the two rows",
    )
    assert "marketing-2026" not in message  # the derived id is in no file


def test_an_ics_kind_that_is_no_kind_name_names_its_property(tmp_path):
    def event(line: str) -> Path:
        body = f"UID:f\nSUMMARY:Finals\nDTSTART:20261212T180000Z\nDTEND:20261212T220000Z\n{line}"
        return write(tmp_path, "finals.ics", ics(body))

    error_of(
        event("CATEGORIES:Esports Finals"),
        "event 1 ('Finals')",
        "kind 'Esports Finals' (from CATEGORIES) is not a valid kind name",
        "set X-CAPACITY-KIND, which comes before CATEGORIES",
    )
    message = error_of(
        event("X-CAPACITY-KIND:Esports Finals"),
        "kind 'Esports Finals' (from X-CAPACITY-KIND) is not a valid kind name",
    )
    assert "comes before" not in message


def test_an_rrule_with_no_frequency_is_explained(tmp_path):
    """The library's message for FREQ=SOMETIMES was "UNTIL parameter is missing"."""
    for rule, got in (("FREQ=SOMETIMES", "not 'SOMETIMES'"), ("COUNT=3", "and it has none")):
        path = write(
            tmp_path,
            "rule.ics",
            ics(f"""
            UID:r
            SUMMARY:Reset
            DTSTART:20361202T060000Z
            DTEND:20361202T070000Z
            RRULE:{rule}
            """),
        )
        error_of(
            path,
            "event 1 ('Reset')",
            f"RRULE '{rule}' is not a valid recurrence rule: FREQ must be one of SECONDLY, "
            f"MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY, YEARLY, {got}",
            "Fix: write e.g. RRULE:FREQ=WEEKLY",
        )


def _timed_error(path: Path, *parts: str, **kwargs) -> float:
    """Seconds :func:`error_of` took to refuse ``path`` (after a warm-up read of a one-off
    event, so that the libraries' import is not counted)."""
    warm = path.with_name("warm.ics")
    warm.write_text(ics("UID:o\nSUMMARY:O\nDTSTART:20361202T060000Z\nDTEND:20361202T070000Z"))
    read_calendar(warm)
    started = time.perf_counter()
    error_of(path, *parts, **kwargs)
    return time.perf_counter() - started


@pytest.mark.timeout(60)
def test_an_rrule_repeating_every_second_or_minute_is_refused_before_it_is_expanded(tmp_path):
    # FREQ=SECONDLY took minutes and over 10 GB; FREQ=MINUTELY loaded 576,001 events in 104 s
    for freq, unit in (("SECONDLY", "second"), ("MINUTELY", "minute")):
        path = write(
            tmp_path,
            "often.ics",
            ics(f"""
            UID:r
            SUMMARY:Reset
            DTSTART:20261210T100000Z
            DTEND:20261211T100000Z
            RRULE:FREQ={freq}
            """),
        )
        elapsed = _timed_error(
            path,
            "event 1 ('Reset')",
            f"RRULE 'FREQ={freq}' repeats the event every {unit}: live-ops events repeat at "
            f"most hourly, and expanding it would make one event per {unit}",
            "Fix: write FREQ=HOURLY or slower",
        )
        assert elapsed < 0.5, f"FREQ={freq} took {elapsed:.2f} s: it was expanded"


@pytest.mark.timeout(60)
def test_an_rrule_with_too_many_occurrences_is_refused_before_it_is_expanded(tmp_path):
    # an hourly rule whose BYMINUTE fills each hour (57,000 events over the default window),
    # and an INTERVAL=0 that never moves on (expanded until the process was killed)
    for rule in ("FREQ=HOURLY;BYMINUTE=0,10,20,30,40,50", "FREQ=DAILY;INTERVAL=0"):
        path = write(
            tmp_path,
            "many.ics",
            ics(f"""
            UID:r
            SUMMARY:Drop
            DTSTART:20361202T060000Z
            DTEND:20361202T070000Z
            RRULE:{rule}
            """),
        )
        elapsed = _timed_error(
            path,
            "event 1 ('Drop')",
            f"RRULE '{rule}' repeats the event more than 10,000 times between its DTSTART "
            "(2036-12-02 06:00Z) and 2038-01-08, the end of the window read",
            "Fix: end the RRULE sooner with UNTIL or COUNT, or repeat it less often",
        )
        assert elapsed < 0.5, f"{rule} took {elapsed:.2f} s: it was expanded"


def test_hourly_and_daily_rrules_within_the_cap_are_expanded(tmp_path, monkeypatch):
    from capacity.calendar import ics as ics_module

    def hourly(rule: str) -> Path:
        return write(
            tmp_path,
            "hourly.ics",
            ics(f"""
            UID:h
            SUMMARY:Happy hour
            DTSTART:20361202T060000Z
            DTEND:20361202T070000Z
            RRULE:{rule}
            """),
        )

    assert len(read_calendar(hourly("FREQ=HOURLY;COUNT=48"))) == 48
    assert len(read_calendar(hourly("FREQ=HOURLY;UNTIL=20361209T055959Z"))) == 7 * 24
    window = (pd.Timestamp("2036-12-02", tz="UTC"), pd.Timestamp("2036-12-03", tz="UTC"))
    day = read_calendar(hourly("FREQ=HOURLY"), ics_window=window)
    assert len(day) == 19  # 06:00 to 00:00 the next day
    assert len(read_calendar(hourly("FREQ=DAILY"))) == 401  # 400 days after its DTSTART
    # the cap counts the occurrences from DTSTART to the end of the window or the UNTIL
    monkeypatch.setattr(ics_module, "ICS_MAX_OCCURRENCES", 24)
    assert len(read_calendar(hourly("FREQ=HOURLY;COUNT=24"))) == 24
    assert len(read_calendar(hourly("FREQ=HOURLY;UNTIL=20361203T055959Z"))) == 24
    error_of(hourly("FREQ=HOURLY;COUNT=25"), "event 1 ('Happy hour')", "more than 24 times")
    error_of(hourly("FREQ=HOURLY;UNTIL=20361203T060000Z"), "more than 24 times")
