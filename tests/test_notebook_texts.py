"""The analyst notebooks' numbers, texts and errors, as the notebook review found them: pinned on
the functions the notebooks call."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from capacity import report, review
from capacity.config import load_fleet
from capacity.errors import ParameterError
from capacity.event_check import PlannedEvent
from tests.notebook_data import FLEET, MONDAY, cells, hourly

# --------------------------------------------------------------- 2: regions as one string


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        ("sa-east", ("sa-east",)),
        ("eu-west, na-east", ("eu-west", "na-east")),
        (["eu-west"], ("eu-west",)),
    ],
)
def test_a_planned_event_takes_one_region_as_a_string_not_its_letters(regions, expected):
    event = PlannedEvent(
        "x", MONDAY, MONDAY + pd.Timedelta(hours=2), regions=regions, uplift=1.2
    ).validated(load_fleet(FLEET))
    assert event.regions == expected


# --------------------------------------------------------------- 4, 8: numbers in tables


def test_accuracy_table_shows_every_error_in_percent():
    backtest = pd.DataFrame(
        {
            "model": ["capacity"],
            "mase": [0.5],
            "smape": [7.08],  # already in percent
            "coverage_90": [0.99405],
            "pinball": [123.4],
            "peak_ape": [0.056],
            "bias": [-0.022],
        }
    )
    assert cells(report.accuracy_table(backtest).data) == [
        "capacity",
        "0.500",
        "7.1 %",
        "99.4 %",
        "123.4",
        "5.6 %",
        "-2.2 %",
    ]


def test_table_formats_by_column_not_by_value():
    frame = pd.DataFrame({"coverage": [0.99405, 0.889], "availability": [0.99958, 0.9]})
    assert cells(report.table(frame).data) == ["0.994", "0.99958", "0.889", "0.90000"]


def test_a_stored_runs_seconds_read_alike_from_row_to_row():
    """forecast_accuracy_review's stored runs showed 'seconds' as 6.788 under 10.5."""
    frame = pd.DataFrame({"seconds": [10.5, 6.788]})
    assert cells(report.table(frame).data) == ["10.5", "6.8"]


def test_a_table_cut_short_counts_the_rows_left_out_without_naming_a_csv():
    """explore_telemetry's 28 days of events ahead ended '… 1 more rows in the CSV.': the
    notebooks that cut a table short write no CSV, and one row is not 'rows'."""
    frame = pd.DataFrame({"event_id": [f"EV-{i}" for i in range(23)]})
    assert "… and 3 more rows, not shown." in report.table(frame, max_rows=20).data
    one = report.table(frame, max_rows=22).data
    assert "… and 1 more row, not shown." in one
    assert "CSV" not in one
    assert "more" not in report.table(frame, max_rows=23).data


# --------------------------------------------------------------- 6, 10: decomposition


def test_decompose_refuses_a_weekly_profile_of_one_week():
    # the review's case: a month with three quarters missing, about eight days known
    values = np.full(720, 100.0)
    values[:528] = np.nan
    with pytest.raises(ParameterError, match=r"at least 14 days of hours with a known") as exc:
        review.decompose(hourly(values))
    assert "each weekday is seen twice" in str(exc.value)
    assert "8.0 days of them known" in str(exc.value)


def test_decompose_says_what_it_needs_in_days_not_pandas_text():
    with pytest.raises(ParameterError) as exc:
        review.decompose(hourly(np.ones(72)))
    message = str(exc.value)
    assert "00:00:00" not in message and "0 days 01:00:00" not in message
    assert "full trend window of 7 days" in message and "72 steps of 1 hour (3.0 days)" in message
    assert "Fix: pick a start-to-end window of 21 days or more" in message
    # 21 days already, short only by its missing hours: told to go longer, not to 21 days
    values = np.full(21 * 24, 100.0)
    values[200:206] = np.nan
    with pytest.raises(ParameterError) as exc:
        review.decompose(hourly(values))
    assert (
        "Fix: pick a start-to-end window longer than 21 days by at least its missing hours "
        "(this one misses 0.2 days' worth), or one with fewer missing hours"
    ) in str(exc.value)


def test_decompose_or_note_goes_on_without_a_short_series_and_says_how_many_days():
    nothing, note = review.decompose_or_note(hourly(np.ones(72)))
    assert nothing is None and note.startswith("No decomposition: ")
    ts = pd.date_range(MONDAY, periods=4 * 168, freq="h")
    parts, text = review.decompose_or_note(pd.DataFrame({"ts": ts, "value": 100.0}))
    assert parts is not None and "rest on 21 days of hours with a known trend" in text
    with pytest.raises(ParameterError, match="IANA"):  # a bad zone is still an error
        review.decompose_or_note(hourly(np.ones(72)), timezone="Mars/Olympus")


def test_a_fractions_decomposition_is_described_in_percent_as_its_charts_draw_it():
    """explore_telemetry for error_rate wrote 'Level 0.000424. The daily profile swings
    0.000207' under charts whose axes read 0.04% and 0.02%."""
    ts = pd.date_range(MONDAY, periods=4 * 168, freq="h")
    rate = 0.0004 + 0.0001 * np.sin(ts.hour.to_numpy() / 24 * 2 * np.pi)
    tidy = pd.DataFrame({"ts": ts, "region": "eu-west", "metric": "error_rate", "value": rate})
    parts, text = review.decompose_or_note(tidy)
    assert parts is not None and parts.metric == "error_rate"
    assert text.startswith("Level 0.0400%. The daily profile swings 0.0200% (50% of the level)")
    # a count keeps its units, and a frame without a metric column is described as before
    counts = review.decompose(tidy.assign(metric="ccu", value=rate * 1e8)).describe()
    assert counts.startswith("Level 40,000. The daily profile swings 20,000")
    assert review.decompose(tidy[["ts", "value"]]).describe().startswith("Level 0.000400.")


# --------------------------------------------------------------- 10: errors in the notebook's terms


def test_check_series_says_start_is_after_end():
    fleet = load_fleet(FLEET)
    with pytest.raises(ParameterError, match=r"'start' parameter \(2026-11-23 00:00 UTC\) must"):
        review.check_series(
            fleet,
            pd.DataFrame({"ts": [], "value": []}),
            region="eu-west",
            service="game",
            metric="ccu",
            start="2026-11-23T00:00:00Z",
            end="2026-09-28T00:00:00Z",
        )


def test_backtest_history_names_history_and_n_windows():
    series = hourly(np.ones(60 * 24))
    kept = review.backtest_history(series, "30d", horizon=168, n_windows=3)
    assert len(kept) == 30 * 24 and kept["ts"].max() == series["ts"].max()
    with pytest.raises(ParameterError) as exc:
        review.backtest_history(series, "14d", horizon=168, n_windows=3)
    message = str(exc.value)
    assert "The 'history' parameter (14d) keeps 336 hours" in message
    assert "and 169 before the first to fit on: the weekly seasonal naive" in message
    assert (
        "Fix: raise history to 29d or more or lower horizon to 48 (hours per window: 2 days "
        "instead of 7 days)" in message
    )
    assert "min_train" not in message and "step" not in message
    # the fix kept apart from the problem, as every parameter error keeps it
    assert exc.value.fix.startswith("raise history to 29d or more or lower horizon to 48")
    assert "Fix:" not in exc.value.problem


@pytest.mark.parametrize(
    ("history", "n_windows", "fix"),
    [
        ("10d", 3, "or set n_windows to 1 and horizon to 48 (hours: 2 days instead of 7 days)"),
        ("9d", 1, "Fix: raise history to 15d or more in the parameters cell"),
        ("8d", 3, "Fix: raise history to 29d or more in the parameters cell"),
    ],
)
def test_a_history_too_short_is_not_answered_with_windows_shorter_than_two_days(
    history, n_windows, fix
):
    """The review offered "lower horizon to 23" for history 10d: a count of hours read
    as days by some, and a window under a day, which scores no daily peak."""
    series = hourly(np.ones(60 * 24))
    with pytest.raises(ParameterError) as exc:
        review.backtest_history(series, history, horizon=168, n_windows=n_windows)
    assert fix in str(exc.value)


def test_a_horizon_given_as_a_duration_is_answered_in_hours():
    """forecast_accuracy_review run with -p horizon 7d stopped on 'The 'horizon' parameter
    must be a positive integer. Got '7d'.', with no fix, where every other parameter error
    names one; the notebook's horizon counts hours."""
    series = hourly(np.ones(60 * 24))
    with pytest.raises(ParameterError) as exc:
        review.backtest_history(series, "56d", horizon="7d", n_windows=3)
    assert str(exc.value) == (
        "The 'horizon' parameter must be a positive integer (a number of hours). Got '7d'. "
        "Fix: set it to 168 (7d in hours) in the parameters cell"
    )
    with pytest.raises(ParameterError, match=r"Got 0\. Fix: set it to a whole number of 1 or"):
        review.backtest_history(series, "56d", horizon=168, n_windows=0)


def test_backtest_history_counts_two_seasons_before_the_first_window():
    series = hourly(np.ones(30 * 24))
    assert len(review.backtest_history(series, "30d", horizon=168, n_windows=3)) == 720
    with pytest.raises(ParameterError, match=r"and 336 before the first to fit on"):
        review.backtest_history(series, "30d", horizon=168, n_windows=3, season_length=168)


@pytest.mark.parametrize(("history", "n_windows", "horizon"), [("14d", 1, 168), ("3d", 1, 24)])
def test_backtest_history_keeps_a_week_and_an_hour_for_the_weekly_naive(
    history, n_windows, horizon
):
    """14d with one window of 168 hours was accepted, then the weekly seasonal naive failed
    with "SeasonalNaive(season_length=168) needs at least 169 rows ... shorter
    season_length", a parameter the notebook does not have."""
    from capacity.baselines import SeasonalNaive

    series = hourly(np.arange(60 * 24, dtype=float) % 24)
    with pytest.raises(ParameterError, match="the weekly seasonal naive repeats") as caught:
        review.backtest_history(series, history, horizon=horizon, n_windows=n_windows)
    # what the message offers runs: the shortest history it names
    days = re.search(r"raise history to (\d+)d", str(caught.value)).group(1)
    kept = review.backtest_history(series, f"{days}d", horizon=horizon, n_windows=n_windows)
    naive = {"naive": SeasonalNaive(season_length=168, quantiles=(0.05, 0.5, 0.95))}
    done = review.compare_forecasters(kept, naive, horizon=horizon, n_windows=n_windows)
    assert done.errors.empty and len(done.windows) == n_windows


def test_the_plans_resilience_trend_has_a_heading_of_its_own():
    """The trend table followed the incidents' sentence unheaded, as if part of it."""
    from pathlib import Path

    source = (Path(__file__).parents[1] / "notebooks" / "weekly_capacity_plan.py").read_text()
    heading = source.index("**Changes against the four weeks before**")
    assert heading < source.index("report.trend_table(") < heading + 120
