"""Durations and moments as users type them."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.errors import ParameterError
from capacity.units import iso_utc, parse_duration, parse_timestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", pd.Timedelta(hours=1)),
        ("168h", pd.Timedelta(days=7)),
        ("15min", pd.Timedelta(minutes=15)),
        ("28d", pd.Timedelta(days=28)),
        ("28D", pd.Timedelta(days=28)),
        ("2w", pd.Timedelta(days=14)),
        (" 1.5h ", pd.Timedelta(minutes=90)),
        ("PT1H", pd.Timedelta(hours=1)),
    ],
)
def test_accepted(text, expected):
    assert parse_duration(text, "horizon") == expected


@pytest.mark.parametrize("text", ["0", " 0 ", "0h", "0s", "0min", "PT0S"])
def test_zero_is_read_only_where_it_means_not_at_all(text):
    assert parse_duration(text, "wait", allow_zero=True) == pd.Timedelta(0)
    with pytest.raises(ParameterError, match="must be a positive duration such as"):
        parse_duration(text, "horizon")


def test_an_option_is_named_as_typed_beside_the_parameter():
    with pytest.raises(ParameterError, match=r"^The 'wait' parameter \(--wait\) must be a "):
        parse_duration("15x", "--wait", allow_zero=True)
    with pytest.raises(ParameterError, match=r"^The 'wait' parameter \(--wait\) must be a "):
        parse_duration("-1h", "--wait", allow_zero=True)
    with pytest.raises(ParameterError, match=r"^The 'now' parameter \(--now\) must be an ISO"):
        parse_timestamp("12/01/2027", "--now")
    with pytest.raises(ParameterError, match=r"^The 'horizon' parameter must be a positive"):
        parse_duration("0d", "horizon")  # a library caller's parameter: no option to name


@pytest.mark.parametrize("text", ["", "soon", "0h", "-1h", "h", "1 fortnight", "P"])
def test_refused(text):
    with pytest.raises(ParameterError, match="The 'horizon' parameter must be a positive duration"):
        parse_duration(text, "horizon")


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from(["min", "h", "d", "w"]))
def test_round_trip(number, unit):
    minutes = {"min": 1, "h": 60, "d": 1440, "w": 10080}[unit]
    assert parse_duration(f"{number}{unit}", "x") == pd.Timedelta(minutes=number * minutes)


def test_now_and_today_are_utc_whatever_the_machine_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        before = pd.Timestamp.now("UTC")
        now = parse_timestamp("now", "until")
        assert before <= now <= pd.Timestamp.now("UTC")
        assert parse_timestamp(" Today ", "since") == before.floor("D")
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "value",
    # a day-first or month-first date reads differently by country; a bare year is a guess
    [1700000000, 1.7e9, "yesterday", None, "01/02/2026", "13/02/2026", "2026", "Dec 18 2026"],
)
def test_a_number_a_word_or_a_local_spelling_is_not_a_timestamp(value):
    with pytest.raises(ParameterError, match="'since' parameter must be an ISO 8601 time"):
        parse_timestamp(value, "since")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-18", "2026-12-18T00:00:00+00:00"),
        ("2026-12-18T08:00Z", "2026-12-18T08:00:00+00:00"),
        ("2026-12-18 09:00:00+01:00", "2026-12-18T08:00:00+00:00"),
        ("2026-12-18T09:00:00.5+0100", "2026-12-18T08:00:00.500000+00:00"),
        ("2026-12-18T08", "2026-12-18T08:00:00+00:00"),
    ],
)
def test_iso_times_are_read_as_utc(text, expected):
    assert parse_timestamp(text, "start").isoformat() == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (pd.Timestamp("2026-11-20T10:58Z"), "2026-11-20T10:58:00Z"),
        (pd.Timestamp("2026-11-20T11:58+01:00"), "2026-11-20T10:58:00Z"),
        (pd.Timestamp("2026-11-20T10:58:00.5"), "2026-11-20T10:58:00.500000Z"),  # naive: UTC
    ],
)
def test_a_time_is_written_in_utc_with_z(moment, expected):
    assert iso_utc(moment) == expected
    assert iso_utc(moment.to_pydatetime()) == expected


def test_capital_m_is_refused_as_ambiguous():
    with pytest.raises(ParameterError, match="'M', which may mean months or minutes"):
        parse_duration("1M", "horizon")
    assert parse_duration("1m", "horizon") == pd.Timedelta(minutes=1)


@pytest.mark.parametrize(
    "text", ["100000000d", "3000000000h", "100000000000000000000w", "73051d", "P1000000D"]
)
def test_too_long_is_refused_naming_the_parameter(text):
    # pandas overflows (OutOfBoundsTimedelta) or gives a span no timestamp can be added to
    with pytest.raises(
        ParameterError, match=r"The 'horizon' parameter \(--horizon\) must be at most 73050"
    ):
        parse_duration(text, "--horizon")


@pytest.mark.parametrize(
    ("call", "fix"),
    [
        (lambda: parse_duration("5x", "history"), "Fix: write a number and a unit"),
        (lambda: parse_duration("soon", "wait", allow_zero=True), "or 0 for none"),
        (lambda: parse_duration("1M", "history"), "Fix: write minutes as 'min'"),
        (lambda: parse_duration("73051d", "history"), "Fix: give a shorter duration"),
        (lambda: parse_timestamp("next tuesday", "start"), "Fix: write the date as year-month"),
    ],
)
def test_every_refusal_of_a_duration_or_a_time_says_how_to_fix_it(call, fix):
    """history="5x" and start="next tuesday" in a notebook said what was expected and no
    fix, where the other parameter errors name one."""
    with pytest.raises(ParameterError) as exc:
        call()
    assert fix in str(exc.value)
    assert str(exc.value).count("Fix:") == 1
