"""Rolling-origin backtests: cutoffs, the calendar as known at each cutoff, and the metrics.

The metric tests use a stub forecaster whose output is known exactly (the last training value,
with fixed offsets for the quantiles) on a 3-day hourly series, so every figure can be worked
out by hand; the working is in the comments.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from capacity.backtest import (
    backtest,
    coverage_column,
    known_events,
    metrics,
    pinball_column,
    seasonal_scale,
    validate_series,
)
from capacity.columns import EVENT_COLUMNS, quantile_column
from capacity.errors import ParameterError

START = pd.Timestamp("2026-03-02T00:00:00Z")  # a Monday, midnight UTC


def hourly(values: Any, start: pd.Timestamp = START) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    return pd.DataFrame(
        {"ts": pd.date_range(start, periods=len(values), freq="h"), "value": values}
    )


def toy() -> pd.DataFrame:
    """3 days: day d is 10 + 2d every hour except noon, which is 20 + 2d.

    Every seasonal difference at lag 24 is 2, so the MASE scale is 2.
    """
    day = np.full(24, 10.0)
    day[12] = 20.0
    return hourly(np.concatenate([day + 2 * d for d in range(3)]))


class LastValue:
    """Predicts the last known training value; quantile q is that value + OFFSETS[q]."""

    OFFSETS: ClassVar[dict[float, float]] = {0.1: -1.0, 0.5: 0.0, 0.9: 3.0}

    def __init__(self, label: str | None = None) -> None:
        self.label = label
        self.quantiles = tuple(self.OFFSETS)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"label": self.label}

    def fit(self, series: pd.DataFrame, events: pd.DataFrame | None = None) -> LastValue:
        self.freq_ = series["ts"].diff().iloc[-1]
        self.last_ts_ = series["ts"].iloc[-1]
        self.last_ = float(series["value"].dropna().iloc[-1])
        if self.label is not None:
            self.model_ = self.label
        return self

    def predict(self, horizon: int, events: pd.DataFrame | None = None) -> pd.DataFrame:
        ts = pd.date_range(self.last_ts_ + self.freq_, periods=horizon, freq=self.freq_)
        out = pd.DataFrame({"ts": ts, "yhat": self.last_})
        for q, offset in self.OFFSETS.items():
            out[quantile_column(q)] = self.last_ + offset
        return out


# --------------------------------------------------------------------------- the frame


def test_cutoffs_steps_and_actuals():
    series = toy()
    frame = backtest(LastValue(), series, horizon=24, n_windows=3, step=6, min_train=24)
    # Latest cutoff: end (row 72) minus the horizon = row 48; then rows 42 and 36.
    assert list(frame["cutoff"].unique()) == [series["ts"][i] for i in (36, 42, 48)]
    assert list(frame.columns) == [
        "cutoff", "step", "ts", "actual", "yhat", "q0.1", "q0.5", "q0.9", "model",
    ]  # fmt: skip
    assert len(frame) == 72
    first = frame[frame["cutoff"] == series["ts"][36]]
    assert first["step"].tolist() == list(range(1, 25))
    assert first["ts"].tolist() == series["ts"][36:60].tolist()
    assert first["actual"].tolist() == series["value"][36:60].tolist()
    # The stub forecasts the value just before each cutoff: rows 35, 41 and 47.
    assert frame.groupby("cutoff")["yhat"].first().tolist() == [12.0, 12.0, 12.0]
    assert (frame["model"] == "LastValue").all()


def test_model_label_comes_from_the_fitted_model_attribute():
    frame = backtest(LastValue(label="stub-a"), toy(), horizon=24, n_windows=1, step=24)
    assert set(frame["model"]) == {"stub-a"}


def test_the_overall_row_names_each_windows_model_apart():
    """Joined by "+", the forecaster's own labels ("prophet+snaive (weekly, w=0.50)") ran
    together with the windows' joins: one could not tell where a window's label ended."""
    series = toy()
    frame = backtest(LastValue(), series, horizon=12, n_windows=2, step=12, min_train=24)
    frame["model"] = (
        frame["cutoff"]
        .rank(method="dense")
        .map({1.0: "prophet+snaive (daily, w=0.50)", 2.0: "prophet"})
    )
    overall = metrics(frame, series).iloc[-1]
    assert overall["model"] == "prophet+snaive (daily, w=0.50) | prophet"


def test_each_window_fits_a_fresh_copy_and_the_original_stays_unfitted():
    original = LastValue()
    backtest(original, toy(), horizon=12, n_windows=2, step=12)
    assert not hasattr(original, "last_")


class Recorder:
    """Records, per fit, the latest timestamp and the events it was shown."""

    def __init__(self, log: list | None = None) -> None:
        self.log = log
        self.quantiles = (0.5,)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"log": self.log}

    def fit(self, series: pd.DataFrame, events: pd.DataFrame | None = None) -> Recorder:
        self.log.append({"max_ts": series["ts"].max(), "n": len(series), "events": events})
        self.freq_ = pd.Timedelta(hours=1)
        self.last_ts_ = series["ts"].max()
        self.last_ = series["value"].iloc[-1]
        return self

    def predict(self, horizon: int, events: pd.DataFrame | None = None) -> pd.DataFrame:
        self.log[-1]["predict_events"] = events
        ts = pd.date_range(self.last_ts_ + self.freq_, periods=horizon, freq="h")
        return pd.DataFrame({"ts": ts, "yhat": self.last_, "q0.5": self.last_})


def calendar(rows: list[tuple], announced: bool = False) -> pd.DataFrame:
    """Events from (id, kind, start, end[, announced_at]) with the calendar's columns."""
    frame = pd.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "name": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "start_ts": pd.to_datetime([r[2] for r in rows], utc=True).as_unit("us"),
            "end_ts": pd.to_datetime([r[3] for r in rows], utc=True).as_unit("us"),
            "regions": [["eu-west"] for _ in rows],
            "expected_uplift": np.nan,
            "notes": None,
            "source": "test",
        }
    )[list(EVENT_COLUMNS)]
    if announced:
        frame["announced_at"] = pd.to_datetime([r[4] for r in rows], utc=True)
    return frame


def test_no_leakage_of_future_values_or_unknown_events():
    # 10 days hourly; value = hour index, so any future row would show in max_ts.
    series = hourly(np.arange(240.0))
    events = calendar(
        [
            ("patch-early", "patch", "2026-03-03T00:00Z", "2026-03-03T06:00Z"),
            ("outage-mar7", "outage", "2026-03-07T22:00Z", "2026-03-08T02:00Z"),
            ("outage-mar10", "outage", "2026-03-10T10:00Z", "2026-03-10T12:00Z"),
            ("season-mar10", "season", "2026-03-10T00:00Z", "2026-03-20T00:00Z"),
            ("festival-mar11", "festival", "2026-03-11T00:00Z", "2026-03-12T00:00Z"),
            ("gala-mar14", "marketing", "2026-03-14T00:00Z", "2026-03-15T00:00Z"),
        ]
    )
    log: list[dict] = []
    frame = backtest(Recorder(log), series, horizon=48, n_windows=4, step=24, events=events)
    cutoffs = sorted(frame["cutoff"].unique())
    assert cutoffs == list(pd.date_range("2026-03-07", "2026-03-10", freq="D", tz="UTC"))
    assert len(log) == 4
    for record, cutoff in zip(log, cutoffs, strict=True):
        horizon_end = cutoff + pd.Timedelta(hours=48)
        assert record["max_ts"] < cutoff
        assert record["max_ts"] == cutoff - pd.Timedelta(hours=1)
        seen = record["events"]
        assert seen is record["predict_events"]
        outages = seen[seen["kind"] == "outage"]
        assert (outages["start_ts"] < cutoff).all()
        assert (outages["end_ts"] <= cutoff).all()
        assert (seen["start_ts"] < horizon_end).all()
    # The outage of Mar 7, 22:00 is known from the Mar 8 cutoff on, and is still running then,
    # so it is shown ending at the cutoff. The outage of Mar 10, 10:00 starts after every cutoff.
    # Planned events (a user-defined "festival" kind too) show once their start falls inside
    # the horizon; the gala of Mar 14 is beyond every horizon.
    assert [sorted(r["events"]["event_id"]) for r in log] == [
        ["patch-early"],
        ["outage-mar7", "patch-early"],
        ["outage-mar7", "patch-early", "season-mar10"],
        ["festival-mar11", "outage-mar7", "patch-early", "season-mar10"],
    ]
    assert log[1]["events"].set_index("event_id").loc["outage-mar7", "end_ts"] == cutoffs[1]
    assert log[2]["events"].set_index("event_id").loc["outage-mar7", "end_ts"] == pd.Timestamp(
        "2026-03-08T02:00Z"
    )


def test_running_outage_is_cut_at_the_cutoff_and_announcements_are_respected():
    events = calendar(
        [
            ("outage", "outage", "2026-03-02T10:00Z", "2026-03-02T20:00Z", None),
            ("launch", "launch", "2026-03-03T00:00Z", "2026-03-04T00:00Z", "2026-03-02T11:00Z"),
            ("esports", "esports", "2026-03-03T00:00Z", "2026-03-04T00:00Z", "2026-03-02T13:00Z"),
        ],
        announced=True,
    )
    seen = known_events(events, "2026-03-02T12:00Z", "2026-03-05T00:00Z")
    assert seen["event_id"].tolist() == ["outage", "launch"]
    assert seen["end_ts"].tolist() == [
        pd.Timestamp("2026-03-02T12:00Z"),
        pd.Timestamp("2026-03-04T00:00Z"),
    ]
    assert seen["end_ts"].dtype == events["end_ts"].dtype
    # The caller's frame is untouched.
    assert events["end_ts"][0] == pd.Timestamp("2026-03-02T20:00Z")
    assert known_events(None, "2026-03-02", "2026-03-03") is None


# --------------------------------------------------------------------------- metrics


def test_metrics_by_hand_on_the_toy_series():
    series = toy()
    frame = backtest(LastValue(), series, horizon=24, n_windows=1, step=24)
    row = metrics(frame, series, season_length=24).iloc[0]
    # Forecast 12 (day 1, 23:00) for day 2: actual 14 for 23 hours, 24 at noon.
    assert row["n"] == 24
    assert row["scale"] == 2.0
    assert row["mase"] == pytest.approx((23 * 2 + 12) / 24 / 2)  # 1.208333
    assert row["smape"] == pytest.approx((23 * 200 * 2 / 26 + 200 * 12 / 36) / 24)  # 17.5214
    # q0.1 = 11, q0.5 = 12, q0.9 = 15.
    assert row[pinball_column(0.1)] == pytest.approx((23 * 0.1 * 3 + 0.1 * 13) / 24)
    assert row[pinball_column(0.5)] == pytest.approx((23 * 0.5 * 2 + 0.5 * 12) / 24)
    assert row[pinball_column(0.9)] == pytest.approx((23 * 0.1 * 1 + 0.9 * 9) / 24)
    assert row["coverage_80"] == pytest.approx(23 / 24)
    # Day 2 is a whole UTC day in the horizon: peak 24 against a forecast peak of 12.
    assert row["peak_ape"] == pytest.approx(0.5)
    assert row["peak_days"] == 1


def test_nan_actuals_are_left_out_of_every_metric():
    series = toy()
    series.loc[60, "value"] = np.nan  # day 2 noon, the peak
    frame = backtest(LastValue(), series, horizon=24, n_windows=1, step=24)
    row = metrics(frame, series).iloc[0]
    assert row["n"] == 23
    assert row["mase"] == pytest.approx(1.0)
    assert row["smape"] == pytest.approx(200 * 2 / 26)
    assert row[pinball_column(0.5)] == pytest.approx(1.0)
    assert row["coverage_80"] == pytest.approx(1.0)
    assert row["peak_ape"] == pytest.approx(2 / 14)


def test_overall_row_pools_windows_and_partial_days_are_not_peaks():
    series = toy()
    frame = backtest(LastValue(), series, horizon=24, n_windows=2, step=12, min_train=24)
    table = metrics(frame, series)
    assert len(table) == 3
    early, late, overall = (table.iloc[i] for i in range(3))
    # Cutoff at day 1 noon: forecast 12 (day 1, 11:00); actual 22 at noon, 12 until
    # midnight, then 14 for 12 hours: errors sum to 10 + 24 = 34 over 24 points.
    assert early["mase"] == pytest.approx(34 / 24 / 2)
    # Noon to noon holds no whole UTC day.
    assert math.isnan(early["peak_ape"])
    assert early["peak_days"] == 0
    assert late["mase"] == pytest.approx(58 / 24 / 2)
    assert pd.isna(overall["cutoff"])
    assert overall["n"] == 48
    assert overall["mase"] == pytest.approx((34 + 58) / 48 / 2)
    assert overall["peak_ape"] == pytest.approx(0.5)
    assert overall["peak_days"] == 1


def test_horizon_shorter_than_a_day_is_one_peak_block():
    series = toy()
    frame = backtest(LastValue(), series, horizon=16, n_windows=1, step=16)
    # Cutoff day 2, 08:00; forecast 14; actual peak 24 at noon.
    row = metrics(frame, series).iloc[0]
    assert row["peak_ape"] == pytest.approx(10 / 24)
    assert row["peak_days"] == 1


def test_a_perfect_forecast_scores_zero_and_full_coverage():
    series = toy()
    frame = backtest(LastValue(), series, horizon=24, n_windows=1, step=24)
    for column in ("yhat", "q0.1", "q0.5", "q0.9"):
        frame[column] = frame["actual"]
    row = metrics(frame, series).iloc[0]
    assert (row["mase"], row["smape"], row["peak_ape"], row["coverage_80"]) == (0, 0, 0, 1)


def test_seasonal_scale_skips_gaps_and_needs_a_pair():
    assert seasonal_scale([1, 2, 4, 8], 2) == pytest.approx((3 + 6) / 2)
    assert seasonal_scale([1, np.nan, 4, 8], 2) == pytest.approx(3.0)
    assert math.isnan(seasonal_scale([1, 2], 2))


def test_metric_column_names():
    assert pinball_column(0.05) == "pinball_q0.05"
    assert coverage_column(1 - 2 * 0.05) == "coverage_90"
    assert coverage_column(0.8) == "coverage_80"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": -3}, "The 'horizon' parameter must be a positive integer. Got -3."),
        ({"n_windows": 0}, "The 'n_windows' parameter must be a positive integer. Got 0."),
        ({"step": 1.5}, "The 'step' parameter must be a positive integer. Got 1.5."),
        ({"min_train": True}, "The 'min_train' parameter must be a positive integer. Got True."),
    ],
)
def test_parameters_are_checked_in_one_voice(kwargs, message):
    arguments = {"horizon": 24, "n_windows": 1, "step": 24, **kwargs}
    with pytest.raises(ParameterError) as caught:
        backtest(LastValue(), toy(), **arguments)
    assert str(caught.value) == message


def test_too_short_series_says_how_many_windows_fit():
    with pytest.raises(ParameterError) as caught:
        backtest(LastValue(), toy(), horizon=24, n_windows=4, step=12)
    text = str(caught.value)
    # 72 rows - 24 horizon - 3 * 12 = 12 training rows < min_train 48; (72 - 24 - 48) // 12 + 1.
    assert "too short for 4 windows" in text
    assert "leave 12 training rows" in text
    assert "The most windows that fit is 1." in text


def test_series_contract_is_enforced():
    naive = toy().assign(ts=lambda f: f["ts"].dt.tz_localize(None))
    with pytest.raises(ParameterError, match="tz-aware"):
        validate_series(naive)
    gappy = toy().drop(index=[5])
    with pytest.raises(ParameterError, match="regular grid"):
        validate_series(gappy)
    with pytest.raises(ParameterError, match="columns 'ts' and 'value'"):
        validate_series(toy().rename(columns={"value": "y"}))
    frame, freq = validate_series(toy().iloc[::-1])
    assert freq == pd.Timedelta(hours=1)
    assert frame["ts"].is_monotonic_increasing


def test_a_frame_of_several_series_is_refused_by_name_not_as_a_broken_grid():
    """backtest, DemandForecaster.fit and weekday_hour_profile given store.series(metric=
    "ccu"), every region and service's, said 'must be a regular grid of unique timestamps'
    (fix: resample) or 'duplicate timestamp': the fix is to pick one series."""
    from capacity import DemandForecaster
    from capacity.baselines import SeasonalNaive
    from capacity.review import weekday_hour_profile

    one = hourly(np.arange(24.0 * 9))
    tidy = pd.concat(
        [one.assign(region=region, service="game", metric="ccu") for region in ("eu", "na")]
    )
    calls = {
        "one series is scored at a time": lambda: backtest(
            SeasonalNaive(24), tidy, horizon=24, n_windows=1, step=24
        ),
        "a forecaster fits one": lambda: DemandForecaster().fit(tidy),
        "its shape is read one series at a time": lambda: weekday_hour_profile(tidy),
    }
    for takes, call in calls.items():
        with pytest.raises(ParameterError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(
            f"The 'series' parameter holds 2 series (eu/game/ccu, na/game/ccu); {takes}."
        )
        assert "Fix: pick one, e.g. store.series(region=..., service=..., metric=...)" in message
    # one series with its key columns is still fine
    assert validate_series(tidy[tidy["region"] == "eu"])[1] == pd.Timedelta(hours=1)


def test_forecaster_breaking_the_contract_is_named():
    class Short(LastValue):
        def predict(self, horizon, events=None):
            return super().predict(horizon - 1)

    with pytest.raises(ParameterError, match="Short returned 23 rows for a horizon of 24"):
        backtest(Short(), toy(), horizon=24, n_windows=1, step=24)
    with pytest.raises(ParameterError, match="'fit' and 'predict'"):
        backtest(object(), toy(), horizon=24, n_windows=1, step=24)


def test_hours_of_an_outage_are_not_scored():
    """A collector that wrote zeros while the game was down recorded no demand: a perfect
    demand forecast was scored 50 % sMAPE on six such hours of a day. Those hours are scored
    as gaps, in the window and in the MASE scale alike."""
    zeros = toy()
    zeros.loc[30:33, "value"] = 0.0  # training rows: they would inflate the MASE scale
    zeros.loc[60:63, "value"] = 0.0  # forecast rows
    events = calendar(
        [
            ("down-1", "outage", "2026-03-03T06:00Z", "2026-03-03T10:00Z"),
            ("down-2", "outage", "2026-03-04T12:00Z", "2026-03-04T16:00Z"),
        ]
    )
    gaps = zeros.copy()
    gaps.loc[[*range(30, 34), *range(60, 64)], "value"] = np.nan
    frame = backtest(LastValue(), zeros, horizon=24, n_windows=1, step=24, events=events)
    assert frame["actual"].isna().sum() == 4
    scored = metrics(frame, zeros, events=events)
    expected = metrics(backtest(LastValue(), gaps, horizon=24, n_windows=1, step=24), gaps)
    assert scored["n"].tolist() == [20, 20]
    pd.testing.assert_frame_equal(scored, expected)


def test_a_calendar_without_its_columns_is_refused_before_any_fit():
    log: list[dict] = []
    for events in (pd.DataFrame({"start_ts": [START]}), "calendar.csv"):
        with pytest.raises(ParameterError, match="calendar DataFrame with columns 'kind'"):
            backtest(Recorder(log), toy(), horizon=24, n_windows=1, step=24, events=events)
    assert log == []
