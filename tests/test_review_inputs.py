"""What the analyst notebooks say before and around their charts: where a path parameter
points, an empty span, the headline sentences and the figures of a fraction."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity import review
from capacity.config import load_fleet
from capacity.errors import ParameterError
from capacity.event_check import EventCheck, PlannedEvent
from tests.notebook_data import FLEET, MONDAY, hourly

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# ------------------------------------------------------------------------- path parameters


def test_notebook_file_returns_a_file_as_given(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text("version: 1\n")
    assert review.notebook_file(str(path), "config") == path


@pytest.mark.parametrize("value", ["../data/demo/fleet.yaml", "", "."])
def test_notebook_file_names_the_parameter_the_folder_and_the_fix(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError) as caught:
        review.notebook_file(value, "config")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"The 'config' parameter names {value!r}, which is not a file")
    assert f"read from {tmp_path} (where the notebook runs)" in message
    assert "Fix: run papermill with --cwd notebooks" in message
    assert "-p config /path/to/file" in message


def test_notebook_file_adds_how_to_get_the_file_and_does_not_name_a_folder_for_an_absolute_path(
    tmp_path,
):
    missing = tmp_path / "nowhere" / "capacity.duckdb"
    with pytest.raises(ParameterError) as caught:
        review.notebook_file(missing, "db", hint="make plan builds the demo store")
    message = str(caught.value)
    assert "read from" not in message and "--cwd" not in message
    assert message.endswith(
        "Fix: give the path of an existing file: -p db /path/to/file; make plan builds the "
        "demo store"
    )


def test_a_notebook_run_from_the_wrong_folder_fails_on_its_path_parameter(tmp_path):
    """``papermill notebooks/X.ipynb out.ipynb`` from the repository root read the defaults
    (``../data/...``) from the wrong folder; the error must say so, not only "not found"."""
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(NOTEBOOKS / "explore_telemetry.ipynb"),
            str(tmp_path / "out.ipynb"),
            kernel_name="python3",
            progress_bar=False,
            cwd=str(tmp_path),
        )
    assert caught.value.ename == "ParameterError"
    assert "The 'config' parameter names '../data/demo/fleet.yaml'" in caught.value.evalue
    assert "--cwd notebooks" in caught.value.evalue
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ipynb"]


# ------------------------------------------------------------------------- empty span


def status_row(first, last):
    return pd.DataFrame(
        {
            "region": ["eu-west"],
            "service": ["game"],
            "metric": ["ccu"],
            "first_ts": [pd.Timestamp(first)],
            "last_ts": [pd.Timestamp(last)],
        }
    )


SPAN_OUTSIDE = (
    "2020-01-01",
    "2020-02-01",
    "from 2020-01-01 00:00 to 2020-02-01 00:00 UTC (the 'start' and 'end' parameters); it "
    "holds 2025-09-29 00:00 to 2026-11-22 23:00 UTC. Fix: set start and end inside that span, "
    "or both to '' for all of it, in the parameters cell",
)
# a span within the stored one whose every hour is missing was told to move "inside that
# span", where it already was
SPAN_IN_A_GAP = (
    "2026-11-14T17:00Z",
    "2026-11-14T23:00Z",
    "from 2026-11-14 17:00 to 2026-11-14 23:00 UTC (the 'start' and 'end' parameters); it "
    "holds 2025-09-29 00:00 to 2026-11-22 23:00 UTC: every hour of the span falls in a gap of "
    "the series. Fix: widen or move the span in the parameters cell",
)


@pytest.mark.parametrize(("start", "end", "told"), [SPAN_OUTSIDE, SPAN_IN_A_GAP])
def test_an_empty_span_is_refused_with_the_span_the_store_holds(start, end, told):
    fleet = load_fleet(FLEET)
    nothing = pd.DataFrame({"ts": pd.DatetimeIndex([], tz="UTC"), "value": []})
    status = status_row("2025-09-29T00:00Z", "2026-11-22T23:00Z")
    with pytest.raises(ParameterError) as caught:
        review.check_series(
            fleet,
            nothing,
            region="eu-west",
            service="game",
            metric="ccu",
            start=start,
            end=end,
            status=status,
        )
    assert str(caught.value) == f"The store holds no ccu for eu-west/game {told}"
    # an open end, and no status to say what is stored
    with pytest.raises(ParameterError, match=r"from 2030-01-01 00:00 to the end \(the 'start'"):
        review.check_series(
            fleet, nothing, region="eu-west", service="game", metric="ccu", start="2030-01-01"
        )
    with pytest.raises(ParameterError, match=r"for eu-west/game in the whole store\. Fix: choose"):
        review.check_series(fleet, nothing, region="eu-west", service="game", metric="ccu")


# ------------------------------------------------------------------------- headlines


def test_series_summary_says_which_times_are_utc_and_which_local():
    series = hourly([1.0, np.nan, 3.0])
    text = review.series_summary(
        series, region="eu-west", service="game", metric="ccu", timezone="Europe/Berlin"
    )
    assert text == (
        "**eu-west / game / ccu**, 3 hours from 2026-11-02 00:00 to 2026-11-02 02:00 UTC, "
        "1 of them missing. Times on the charts' time axes are UTC; the weekday and hour "
        "charts follow local time, Europe/Berlin."
    )

    # an empty span (store.series outside the stored hours) raised NaT's strftime error
    nothing = series.iloc[:0]
    assert review.series_summary(
        nothing, region="eu-west", service="game", metric="ccu", timezone="Europe/Berlin"
    ) == ("**eu-west / game / ccu**: no hours in this span, so there is nothing to show.")


def test_review_summary_counts_runs_hours_and_windows():
    series = hourly(np.ones(48))
    text = review.review_summary(
        pd.DataFrame({"run_id": ["a"]}),
        pd.DataFrame({"ts": [MONDAY]}),
        series,
        region="sa-east",
        service="chat",
        metric="rps",
        horizon=24,
        n_windows=1,
    )
    assert text == (
        "1 stored run reviewed, 1 forecast hour with a known actual value. Backtest on "
        "**sa-east / chat / rps**: 48 hours from 2026-11-02 00:00 to 2026-11-03 23:00 UTC, "
        "1 window of 24 hours."
    )


def test_describe_gives_a_cpu_share_its_figures_not_zeros():
    """cpu_util's decomposition read "Level 0. The daily profile swings 0 (104% of the
    level)": every figure rounded to a whole number."""
    ts = pd.date_range(MONDAY, periods=3 * 168, freq="h", tz="UTC")
    share = 0.45 + 0.2 * np.sin(2 * np.pi * ts.hour / 24) + 0.01 * (ts.day_of_week == 5)
    text = review.decompose(pd.DataFrame({"ts": ts, "value": share})).describe()
    assert text.startswith("Level 0.451. The daily profile swings 0.400 (89% of the level)")
    assert "weekly profile swings 0.010 (2% of the level), highest on Sat" in text
    assert "standard deviation of 0.000." in text
    assert not re.search(r"\b0\.(?!\d)|e-\d", text)


def test_event_summary_names_a_stored_stand_in_once_and_leaves_it_to_the_notes():
    event = PlannedEvent(
        "Fest",
        pd.Timestamp("2026-12-18T08:00Z"),
        pd.Timestamp("2026-12-20T08:00Z"),
        ("eu-west",),
        1.6,
    )
    table = pd.DataFrame(
        {
            "region": ["eu-west"],
            "service": ["game"],
            "verdict": ["GO"],
            "add_servers": [0],
            "act_by": [pd.NaT],
            "overdue": [False],
        }
    )
    check = EventCheck(event, table, pd.DataFrame(), replaced=("Winter Festival 2026",))
    text = review.event_summary(check)
    assert text.count("Winter Festival 2026") == 1
    assert "in place of the stored Winter Festival 2026" in text
    assert any("taken to be the stored event 'Winter Festival 2026'" in n for n in check.notes())


def test_a_span_of_one_hour_is_refused_in_the_notebooks_terms():
    """It failed in the heatmap with "The 'series' parameter must have at least 2 rows"."""
    fleet = load_fleet(FLEET)
    one = hourly([5.0])
    with pytest.raises(ParameterError) as caught:
        review.check_series(
            fleet,
            one,
            region="eu-west",
            service="game",
            metric="ccu",
            start="2026-11-02T00:00Z",
            end="2026-11-02T01:00Z",
        )
    assert str(caught.value) == (
        "The 'start' and 'end' parameters keep 1 hour of ccu for eu-west/game "
        "(2026-11-02 00:00 UTC); the charts need at least 2. Fix: widen the span in the "
        "parameters cell"
    )
    with pytest.raises(ParameterError, match=r"^The store holds 1 hour of ccu .* load more"):
        review.check_series(fleet, one, region="eu-west", service="game", metric="ccu")
    review.check_series(fleet, hourly([5.0, 6.0]), region="eu-west", service="game", metric="ccu")


def test_region_status_keeps_the_regions_rows_without_the_load_id():
    status = pd.DataFrame(
        {
            "region": ["eu-west", "na-east", "eu-west"],
            "metric": ["ccu", "ccu", "rps"],
            "last_load_id": [1, 2, 3],
        }
    )
    mine = review.region_status(status, "eu-west")
    assert list(mine.columns) == ["region", "metric"]
    assert list(mine["metric"]) == ["ccu", "rps"] and list(mine.index) == [0, 1]


def test_notebook_file_refuses_a_file_of_the_other_kind_naming_the_parameters(tmp_path):
    import duckdb

    from capacity.errors import ConfigError, StoreError

    store, fleet, empty = tmp_path / "s.duckdb", tmp_path / "fleet.yaml", tmp_path / "new.db"
    duckdb.connect(str(store)).close()
    fleet.write_text("regions: {}\n", encoding="utf-8")
    empty.touch()
    assert review.notebook_file(store, "db", holds="store") == store
    assert review.notebook_file(fleet, "config", holds="fleet") == fleet
    assert review.notebook_file(empty, "db", holds="store") == empty  # DuckDB makes a store
    with pytest.raises(
        ParameterError, match=r"^The 'config' parameter names .*and the store as db$"
    ):
        review.notebook_file(store, "config", holds="fleet")
    with pytest.raises(
        ParameterError, match=r"The 'db' parameter .* that is the 'config' parameter"
    ):
        review.notebook_file(fleet, "db", holds="store")
    # the command line and Python keep naming the options
    from capacity import Store, load_fleet

    with pytest.raises(ConfigError, match="a store is given as --db"):
        load_fleet(store)
    with pytest.raises(StoreError, match="give --db the store's file"):
        Store(fleet, read_only=True)
