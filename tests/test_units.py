"""Durations and moments as users type them."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.errors import ParameterError
from capacity.units import parse_duration, parse_timestamp


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


@pytest.mark.parametrize("value", [1700000000, 1.7e9, "yesterday", None])
def test_a_number_or_a_word_is_not_a_timestamp(value):
    with pytest.raises(ParameterError, match="'since' parameter must be a timestamp"):
        parse_timestamp(value, "since")
