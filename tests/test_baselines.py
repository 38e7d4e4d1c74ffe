"""The baseline forecasters: known answers, the contract, and M4's published figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity.backtest import backtest, metrics
from capacity.baselines import Naive2, ProphetDefault, SeasonalNaive, seasonality_test
from capacity.errors import DataError, InputError, ParameterError

START = pd.Timestamp("2026-03-02T00:00:00Z")
M4 = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "m4-hourly"


def hourly(values, start: pd.Timestamp = START) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    return pd.DataFrame(
        {"ts": pd.date_range(start, periods=len(values), freq="h"), "value": values}
    )


def quantile_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("q")]


def assert_monotone_and_non_negative(frame: pd.DataFrame) -> None:
    values = frame[quantile_columns(frame)].to_numpy()
    assert (np.diff(values, axis=1) >= 0).all()
    assert (values >= 0).all()
    assert (frame["yhat"] >= 0).all()


# --------------------------------------------------------------------------- SeasonalNaive


def test_seasonal_naive_on_a_periodic_series_has_zero_error():
    day = 100 + 50 * np.sin(np.arange(24) / 24 * 2 * np.pi)
    series = hourly(np.tile(day, 10))
    frame = backtest(SeasonalNaive(24), series, horizon=48, n_windows=3, step=24)
    assert np.allclose(frame["yhat"], frame["actual"])
    for column in quantile_columns(frame):
        assert np.allclose(frame[column], frame["actual"])
    overall = metrics(frame, series).iloc[-1]
    assert (overall["smape"], overall["peak_ape"], overall["coverage_90"]) == (0, 0, 1)


def test_seasonal_naive_quantiles_are_the_in_sample_errors_widened_by_seasons_ahead():
    # Season of 4; the 8 in-sample errors y[t] - y[t-4] are -2, -1, 0, 1, 2, 3, 4, 5.
    series = hourly([10, 10, 10, 10, 8, 9, 10, 11, 10, 12, 14, 16])
    model = SeasonalNaive(season_length=4, quantiles=(0.1, 0.5, 0.9)).fit(series)
    # numpy's linear quantiles: 0.1 -> -2 + 0.7 = -1.3, 0.5 -> 1.5, 0.9 -> 4 + 0.3 = 4.3.
    assert model.error_quantiles_ == pytest.approx([-1.3, 1.5, 4.3])
    assert model.n_errors_ == 8
    out = model.predict(8)
    assert out["ts"].tolist() == list(
        pd.date_range(START + pd.Timedelta(hours=12), periods=8, freq="h")
    )
    assert out["yhat"].tolist() == [10, 12, 14, 16, 10, 12, 14, 16]
    widen = np.r_[np.ones(4), np.full(4, np.sqrt(2))]
    assert out["q0.9"].to_numpy() == pytest.approx(out["yhat"] + 4.3 * widen)
    assert out["q0.1"].to_numpy() == pytest.approx(out["yhat"] - 1.3 * widen)
    assert out["q0.5"].to_numpy() == pytest.approx(out["yhat"] + 1.5 * widen)


def test_seasonal_naive_clips_at_zero():
    # Errors of -6 and 0 around values near zero: the low quantile would go negative.
    series = hourly([6, 1, 0, 2, 0, 1, 0, 2])
    out = SeasonalNaive(season_length=4, quantiles=(0.05, 0.95)).fit(series).predict(4)
    assert out["yhat"].tolist() == [0, 1, 0, 2]
    # q0.05 of the errors [-6, 0, 0, 0] is -6 + 0.15 * 6 = -5.1, so every step clips to 0.
    assert out["q0.05"].tolist() == [0, 0, 0, 0]
    assert_monotone_and_non_negative(out)


def test_seasonal_naive_fills_gaps_in_the_last_season_from_earlier_seasons():
    values = np.arange(12, dtype=float)  # three seasons of 4: 0-3, 4-7, 8-11
    values[9] = np.nan  # filled from the season before: 5
    values[10] = np.nan
    values[6] = np.nan  # ...and from two seasons back: 2
    model = SeasonalNaive(season_length=4, quantiles=()).fit(hourly(values))
    assert model.predict(4)["yhat"].tolist() == [8, 5, 2, 11]
    assert list(model.predict(4).columns) == ["ts", "yhat"]


def test_seasonal_naive_refuses_a_position_with_no_value():
    values = np.arange(8, dtype=float)
    values[[1, 5]] = np.nan
    with pytest.raises(DataError, match="no value at position 1 of the 4-step season"):
        SeasonalNaive(4, quantiles=()).fit(hourly(values))


def test_refit_starts_over_and_copies_match():
    model = SeasonalNaive(4, quantiles=(0.5,)).fit(hourly(np.arange(12)))
    assert model.predict(1)["yhat"].tolist() == [8]
    model.fit(hourly(np.arange(100, 112)))
    assert model.predict(1)["yhat"].tolist() == [108]
    with pytest.raises(ParameterError):
        model.fit(hourly([1, 2, 3]))
    with pytest.raises(InputError, match="not fitted yet"):
        model.predict(1)
    copy = type(model)(**model.get_params())
    assert copy.get_params() == {"season_length": 4, "quantiles": (0.5,)}
    assert repr(copy) == "SeasonalNaive(season_length=4, quantiles=(0.5,))"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (SeasonalNaive(0), "The 'season_length' parameter must be a positive integer. Got 0."),
        (
            SeasonalNaive(24, quantiles=(0.9, 0.1)),
            "The 'quantiles' parameter must be a sequence of distinct numbers strictly between 0 "
            "and 1, in increasing order, such as (0.05, 0.5, 0.95). Got (0.9, 0.1) (0.1 comes "
            "after 0.9).",
        ),
        (
            # two levels, one column (q0.5): the second had overwritten the first
            SeasonalNaive(24, quantiles=(0.5, 0.5000001)),
            "The 'quantiles' parameter must be a sequence of distinct numbers strictly between 0 "
            "and 1, in increasing order, such as (0.05, 0.5, 0.95). Got (0.5, 0.5000001) "
            "(0.5000001 has the column name of 0.5 (q0.5)).",
        ),
        (
            SeasonalNaive(168),
            "SeasonalNaive(season_length=168) needs at least 169 rows of history. Got 48.",
        ),
    ],
)
def test_seasonal_naive_validation(model, message):
    with pytest.raises(ParameterError) as caught:
        model.fit(hourly(np.arange(48)))
    assert str(caught.value).startswith(message)


def test_a_numpy_timedelta_horizon_is_refused_not_a_type_error():
    """np.timedelta64 is an integer to numpy: predict(np.timedelta64(2, "h")) passed the
    check and failed in int() with a TypeError naming datetime.timedelta."""
    model = SeasonalNaive(24).fit(hourly(np.arange(48)))
    with pytest.raises(ParameterError, match="'horizon' parameter must be a positive integer"):
        model.predict(np.timedelta64(2, "h"))


def test_seasonal_naive_noisy_series_is_monotone_and_non_negative():
    rng = np.random.default_rng(0)
    values = np.clip(
        5 + 5 * np.sin(np.arange(24 * 21) / 24 * 2 * np.pi) + rng.normal(0, 3, 504), 0, None
    )
    out = SeasonalNaive(168).fit(hourly(values)).predict(400)
    assert_monotone_and_non_negative(out)
    assert (out["q0.05"] == 0).any()


# --------------------------------------------------------------------------- Naive2


def test_seasonality_test_known_answers():
    t = np.arange(24 * 10)
    assert seasonality_test(100 + 10 * np.sin(t / 24 * 2 * np.pi), 24)
    rng = np.random.default_rng(1)
    assert not seasonality_test(100 + rng.normal(0, 1, 240), 24)
    # Shorter than three seasons: never seasonal.
    assert not seasonality_test(100 + 10 * np.sin(t[:71] / 24 * 2 * np.pi), 24)


def test_naive2_recovers_multiplicative_seasonality_and_carries_the_level():
    shape = 1 + 0.5 * np.sin(np.arange(24) / 24 * 2 * np.pi)  # averages 1
    series = hourly(200 * np.tile(shape, 5)[:-3])  # ends 3 hours into a day
    model = Naive2(24).fit(series)
    assert model.seasonal_
    assert model.level_ == pytest.approx(200)
    out = model.predict(30)
    expected = 200 * np.tile(shape, 7)[len(series) : len(series) + 30]
    assert out["yhat"].to_numpy() == pytest.approx(expected)
    assert model.quantiles == ()


def test_naive2_without_seasonality_is_the_last_value():
    rng = np.random.default_rng(2)
    series = hourly(50 + rng.normal(0, 1, 240))
    model = Naive2(24).fit(series)
    assert not model.seasonal_
    assert (model.predict(5)["yhat"] == series["value"].iloc[-1]).all()


@pytest.mark.slow
@pytest.mark.skipif(not M4.is_dir(), reason="the shared M4 Hourly files are not present")
def test_m4_hourly_published_figures_of_seasonal_naive_and_naive2():
    train = pd.read_csv(M4 / "Hourly-train.csv", index_col=0)
    test = pd.read_csv(M4 / "Hourly-test.csv", index_col=0)
    scores = {"snaive": [], "naive2": []}
    for sid in train.index:
        values = np.r_[train.loc[sid].dropna().to_numpy(float), test.loc[sid].to_numpy(float)]
        series = hourly(values, pd.Timestamp("2017-01-02T00:00Z"))
        for name, model in (("snaive", SeasonalNaive(24, quantiles=())), ("naive2", Naive2(24))):
            frame = backtest(model, series, horizon=48, n_windows=1, step=48)
            scores[name].append(
                metrics(frame, series, season_length=24).iloc[-1][["smape", "mase"]]
            )
    snaive = pd.DataFrame(scores["snaive"]).mean()
    naive2 = pd.DataFrame(scores["naive2"]).mean()
    # Published in the M4 repository's "Evaluation and Ranks.xlsx", Hourly.
    assert round(snaive["smape"], 3) == 13.912
    assert round(snaive["mase"], 3) == 1.193
    assert round(naive2["smape"], 3) == 18.383
    assert round(naive2["mase"], 3) == 2.395
    owa = (snaive["smape"] / naive2["smape"] + snaive["mase"] / naive2["mase"]) / 2
    assert round(owa, 3) == 0.628


# --------------------------------------------------------------------------- ProphetDefault


@pytest.fixture(scope="module")
def daily_cycle() -> pd.DataFrame:
    """Two weeks hourly: 100 + 20 sin(daily) + N(0, 2), seeded."""
    rng = np.random.default_rng(3)
    t = np.arange(24 * 14)
    return hourly(100 + 20 * np.sin(t / 24 * 2 * np.pi) + rng.normal(0, 2, len(t)))


@pytest.mark.slow
def test_prophet_default_learns_a_daily_cycle_with_honest_intervals(daily_cycle):
    model = ProphetDefault(quantiles=(0.05, 0.5, 0.95), uncertainty_samples=500)
    out = model.fit(daily_cycle).predict(24)
    assert model.freq_ == pd.Timedelta(hours=1)
    assert out["ts"].iloc[0] == daily_cycle["ts"].iloc[-1] + pd.Timedelta(hours=1)
    truth = 100 + 20 * np.sin(np.arange(24 * 14, 24 * 15) / 24 * 2 * np.pi)
    assert np.abs(out["yhat"] - truth).mean() < 1.0
    # With noise sd 2, the 90% interval is about 2 * 1.645 * 2 = 6.6 wide.
    width = (out["q0.95"] - out["q0.05"]).mean()
    assert 5.0 < width < 9.0
    assert_monotone_and_non_negative(out)


@pytest.mark.slow
def test_prophet_default_sampling_is_repeatable_and_leaves_numpy_alone(daily_cycle):
    model = ProphetDefault(uncertainty_samples=200).fit(daily_cycle)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = model.predict(12)
    assert (np.random.get_state()[1] == before).all()
    pd.testing.assert_frame_equal(first, model.predict(12))
    assert list(first.columns) == ["ts", "yhat", "q0.05", "q0.5", "q0.9", "q0.95", "q0.99"]


@pytest.mark.slow
def test_prophet_default_clips_at_zero_and_ignores_gaps(daily_cycle):
    low = daily_cycle.assign(value=daily_cycle["value"] - 100)  # swings about 0
    low.loc[100:130, "value"] = np.nan
    out = ProphetDefault(uncertainty_samples=200).fit(low).predict(24)
    assert_monotone_and_non_negative(out)
    assert (out["q0.05"] == 0).sum() >= 6
    assert out["yhat"].max() == pytest.approx(20, abs=2)
