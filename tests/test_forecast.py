"""Known-answer tests of :mod:`capacity.forecast` on small seeded synthetic series."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import capacity.forecast
from capacity.baselines import SeasonalNaive
from capacity.columns import DEFAULT_QUANTILES, FALLBACK, MODEL, TS, VALUE, YHAT, quantile_column
from capacity.errors import CapacityError, DataError, ParameterError
from capacity.forecast import DemandForecaster, NotFittedError

START = pd.Timestamp("2026-03-02 00:00", tz="UTC")  # a Monday
HOUR = pd.Timedelta(hours=1)
MINUTE = pd.Timedelta(minutes=1)
QCOLS = [quantile_column(q) for q in DEFAULT_QUANTILES]


def _profile(ts: pd.DatetimeIndex) -> np.ndarray:
    """Noise-free demand: daily cycle (peak 20:00) and busier weekends, level 1000."""
    hour = ts.hour.to_numpy()
    daily = 1 + 0.5 * np.sin(2 * np.pi * (hour - 14) / 24)
    weekend = np.where(ts.day_of_week.to_numpy() >= 5, 1.15, 1.0)
    return 1000 * daily * weekend


def make_series(
    days: float, *, seed: int = 0, noise: float = 0.03, freq: str = "1h"
) -> pd.DataFrame:
    steps = int(pd.Timedelta(days=days) / pd.Timedelta(freq))
    ts = pd.date_range(START, periods=steps, freq=freq)
    rng = np.random.default_rng(seed)
    value = _profile(ts) * np.exp(rng.normal(0, noise, len(ts)))
    return pd.DataFrame({TS: ts, VALUE: value})


def make_events(rows: list[tuple[str, pd.Timestamp, int, float]]) -> pd.DataFrame:
    """Events from (kind, start, hours, expected_uplift)."""
    return pd.DataFrame(
        {
            "event_id": [f"E{i}" for i in range(len(rows))],
            "name": [f"{kind} {i}" for i, (kind, *_) in enumerate(rows)],
            "kind": [r[0] for r in rows],
            "start_ts": pd.DatetimeIndex([r[1] for r in rows]),
            "end_ts": pd.DatetimeIndex([r[1] + r[2] * HOUR for r in rows]),
            "regions": [["all"]] * len(rows),
            "expected_uplift": [r[3] for r in rows],
            "notes": [None] * len(rows),
            "source": ["test"] * len(rows),
        }
    )


def window(forecast: pd.DataFrame, start: pd.Timestamp, hours: int) -> pd.DataFrame:
    return forecast[(forecast[TS] >= start) & (forecast[TS] < start + hours * HOUR)]


@pytest.fixture(scope="module")
def three_weeks() -> pd.DataFrame:
    return make_series(21)


@pytest.fixture(scope="module")
def fitted(three_weeks: pd.DataFrame) -> tuple[DemandForecaster, pd.DataFrame]:
    model = DemandForecaster().fit(three_weeks)
    return model, model.predict(48)


# ------------------------------------------------------------------------------ accuracy


def test_recovers_the_planted_profile(fitted: tuple[DemandForecaster, pd.DataFrame]) -> None:
    model, forecast = fitted
    truth = _profile(pd.DatetimeIndex(forecast[TS]))
    error = np.abs(forecast[YHAT].to_numpy() / truth - 1)
    assert error.mean() < 0.04  # noise is 3 %
    assert not model.fallback_
    assert model.freq_ == HOUR
    first = model.last_ts_ + HOUR
    assert forecast[TS].iloc[0] == first and forecast[TS].iloc[-1] == first + 47 * HOUR


def test_output_columns_quantiles_monotone_and_calibrated(
    fitted: tuple[DemandForecaster, pd.DataFrame],
) -> None:
    _, forecast = fitted
    assert list(forecast.columns) == [TS, YHAT, *QCOLS, MODEL, FALLBACK]
    q = forecast[QCOLS].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    assert (q >= 0).all()
    assert not forecast[FALLBACK].any()
    # The 90 % band of 3 % log-noise is about +-5 %: neither a point nor a barn door.
    width = (forecast["q0.95"] / forecast["q0.05"]).median()
    assert 1.06 < width < 1.35


def test_the_band_can_widen_beyond_the_calibrated_week(
    three_weeks: pd.DataFrame, fitted: tuple[DemandForecaster, pd.DataFrame]
) -> None:
    # The residuals that set the band are a week's: past it, each quantile's log distance from
    # the median grows as sqrt(1 + interval_growth x weeks beyond it). Off by default.
    flat, _ = fitted
    growing = DemandForecaster(interval_growth=0.15).fit(three_weeks)
    for m, growth in ((growing, 0.15), (flat, 0.0)):
        forecast = m.predict(4 * 168)
        offset = m.core_.offset
        for column in ("q0.05", "q0.95", "q0.99"):
            gap = np.log((forecast[column] + offset) / (forecast["q0.5"] + offset)).to_numpy()
            assert abs(gap[0]) > 0.01
            np.testing.assert_allclose(gap[:168], gap[0], rtol=1e-9)
            weeks_beyond = np.array([1, 2, 3])
            expected = gap[0] * np.sqrt(1 + growth * weeks_beyond)
            np.testing.assert_allclose(gap[[335, 503, 671]], expected, rtol=1e-9)
    with pytest.raises(ParameterError, match=r"'interval_growth' parameter must be a number >= 0"):
        DemandForecaster(interval_growth=-0.1).fit(three_weeks)


def test_an_evening_trough_starts_the_day_the_evening_before() -> None:
    # Demand peaks at 08:00 and bottoms out at 20:00; weekends are 40 % busier, a weekend day
    # running from 20:00 the evening before. The day is named after the date holding most of
    # its hours, so Friday 22:00 is Saturday's. (It was named after the date it starts on:
    # the weekend profile then covered Sunday and Monday, and Prophet missed by up to 16 %.)
    ts = pd.date_range(START, periods=35 * 24, freq="h")

    def truth(at: pd.DatetimeIndex) -> np.ndarray:
        daily = 1 + 0.5 * np.cos(2 * np.pi * (at.hour.to_numpy() - 8) / 24)
        day = (at + pd.Timedelta(hours=4)).day_of_week.to_numpy()
        return 1000 * daily * np.where(day >= 5, 1.4, 1.0)

    rng = np.random.default_rng(1)
    series = pd.DataFrame({TS: ts, VALUE: truth(ts) * np.exp(rng.normal(0, 0.02, len(ts)))})
    forecast = DemandForecaster(ensemble=False).fit(series.iloc[: 28 * 24]).predict(168)
    error = np.abs(forecast[YHAT].to_numpy() / truth(pd.DatetimeIndex(forecast[TS])) - 1)
    assert error.mean() < 0.0175 and error.max() < 0.12, (error.mean(), error.max())


def test_planted_event_kind_is_learned() -> None:
    series = make_series(21, seed=1)
    starts = [START + pd.Timedelta(days=d, hours=10) for d in (3, 9, 15, 22)]
    events = make_events([("promo", s, 6, np.nan) for s in starts])
    hit = series[TS].isin(pd.DatetimeIndex([s + k * HOUR for s in starts[:3] for k in range(6)]))
    series.loc[hit, VALUE] *= 1.5
    model = DemandForecaster().fit(series, events)
    during = window(model.predict(48), starts[3], 6)
    truth = 1.5 * _profile(pd.DatetimeIndex(during[TS]))
    ratio = during[YHAT].to_numpy() / truth
    assert np.all(np.abs(ratio - 1) < 0.15), ratio
    assert abs(ratio.mean() - 1) < 0.08


@pytest.mark.parametrize("scaling", [True, False])
def test_a_learned_kind_is_sized_by_the_planners_uplift(scaling: bool) -> None:
    # Three promos planned (and realised) at 1.3, 1.6 and 1.3; the next is planned at 1.9.
    series = make_series(21, seed=4)
    starts = [START + pd.Timedelta(days=d, hours=10) for d in (3, 9, 15, 22)]
    planned = [1.3, 1.6, 1.3, 1.9]
    events = make_events([("promo", s, 6, u) for s, u in zip(starts, planned, strict=True)])
    for start, uplift in zip(starts[:3], planned[:3], strict=True):
        hit = series[TS].isin(pd.DatetimeIndex([start + k * HOUR for k in range(6)]))
        series.loc[hit, VALUE] *= uplift
    model = DemandForecaster(uplift_scaling=scaling).fit(series, events)
    during = window(model.predict(48), starts[3], 6)
    ratio = during[YHAT].to_numpy() / _profile(pd.DatetimeIndex(during[TS]))
    if scaling:
        # log(1.9) over the history's mean log-uplift: the effect of a 1.9 promo, not of a
        # typical one.
        assert abs(ratio.mean() / 1.9 - 1) < 0.08, ratio
    else:
        # One effect for every promo: about the history's typical one (~1.39), far below 1.9.
        assert ratio.mean() < 1.5, ratio


def test_a_smaller_planned_uplift_never_forecasts_more_demand() -> None:
    # A planner re-checking a promo of a learned kind at x1.0 ("no extra demand") or x0.9 got
    # the kind's typical effect (size 1), more than at x1.05 (size clipped to 0.25): in
    # check-event, re-planning Season 14 at x1.0 said AT_RISK with 772 servers and at x1.3
    # GO with 634. Sizes follow log(uplift) / ref, clipped to 0.25..4, on both sides of 1.
    series = make_series(21, seed=4)
    starts = [START + pd.Timedelta(days=d, hours=10) for d in (3, 9, 15, 22)]
    planned = [1.3, 1.6, 1.3, 1.5]
    events = make_events([("promo", s, 6, u) for s, u in zip(starts, planned, strict=True)])
    for start, uplift in zip(starts[:3], planned[:3], strict=True):
        series.loc[series[TS].isin(pd.date_range(start, periods=6, freq="h")), VALUE] *= uplift
    model = DemandForecaster().fit(series, events)
    peaks = []
    for uplift in (0.5, 0.9, 1.0, 1.02, 1.3, 1.9):
        planned = events.assign(expected_uplift=[1.3, 1.6, 1.3, uplift])
        during = window(model.predict(48, events=planned), starts[3], 6)
        peaks.append(during[quantile_column(0.95)].max())
    assert all(np.diff(peaks) >= -1e-6), peaks
    assert peaks[-1] > peaks[0] * 1.3, peaks  # the uplift still moves the forecast


def test_unseen_kind_uses_the_planners_uplift() -> None:
    series = make_series(21, seed=2)
    launch = START + pd.Timedelta(days=21, hours=12)
    events = make_events([("tournament", launch, 8, 2.0)])
    model = DemandForecaster().fit(series, events)
    with_event = model.predict(48)
    without = model.predict(48, events=events.iloc[:0])
    inside = (with_event[TS] >= launch) & (with_event[TS] < launch + 8 * HOUR)
    ratio = with_event[YHAT] / without[YHAT]
    np.testing.assert_allclose(ratio[inside], 2.0, rtol=1e-9)
    np.testing.assert_allclose(ratio[~inside], 1.0, rtol=1e-9)
    # Its own uncertainty: +-30 % of the extra demand at the 5 % / 95 % quantiles.
    np.testing.assert_allclose((with_event["q0.95"] / without["q0.95"])[inside], 2.3, rtol=2e-3)
    np.testing.assert_allclose((with_event["q0.05"] / without["q0.05"])[inside], 1.7, rtol=2e-3)


def test_events_the_forecast_leaves_out_are_listed() -> None:
    # Promos are learned (three in the history); one tournament is too rare to learn: with an
    # uplift it is a scenario, without one it changes nothing and is listed.
    series = make_series(21, seed=2)
    end = START + pd.Timedelta(days=21)
    promos = [START + pd.Timedelta(days=d, hours=10) for d in (3, 9, 15)]
    rows = [("promo", s, 6, np.nan) for s in promos]
    rows += [
        ("tournament", START + pd.Timedelta(days=5), 8, np.nan),  # the one in the history
        ("tournament", end + 12 * HOUR, 8, np.nan),  # no uplift: left out
        ("tournament", end + 30 * HOUR, 8, 1.5),  # an uplift: a scenario
        ("promo", end + 20 * HOUR, 6, np.nan),  # learned
        ("outage", end + 2 * HOUR, 2, np.nan),  # never listed
        ("tournament", end + 200 * HOUR, 8, np.nan),  # beyond the horizon
    ]
    events = make_events(rows)
    model = DemandForecaster().fit(series, events)
    left_out = model.unsized_events(48)
    assert list(left_out["name"]) == ["tournament 4"]
    assert left_out["start_ts"].iloc[0] == end + 12 * HOUR
    # it is left out indeed: the forecast is the same without it
    forecast = model.predict(48)
    without = model.predict(48, events=events[events["name"] != "tournament 4"])
    pd.testing.assert_frame_equal(forecast, without)
    # a tail reaching into the horizon counts; a horizon that ends before the event does not
    assert model.unsized_events(12).empty
    assert list(model.unsized_events(13)["name"]) == ["tournament 4"]
    assert model.unsized_events(48, events=events.iloc[:3]).empty
    with pytest.raises(ParameterError, match="'horizon'"):
        model.unsized_events(0)


def test_a_fallback_lists_no_events_left_out() -> None:
    series = make_series(2.5, seed=1)
    events = make_events([("tournament", START + pd.Timedelta(days=2.6), 8, np.nan)])
    model = DemandForecaster().fit(series, events)
    assert model.fallback_
    assert model.unsized_events(48).empty
    with pytest.raises(NotFittedError, match=r"before unsized_events\(horizon\)"):
        DemandForecaster().unsized_events(48)


def test_public_holidays_in_the_regions_time_zone_are_learned() -> None:
    # Germany, spring 2026: Good Friday (3 Apr) and Easter Monday (6 Apr) in the history,
    # Labour Day (1 May) ahead. Holidays lift demand by 30 % over the local (Berlin) day.
    start = pd.Timestamp("2026-03-22 23:00", tz="UTC")  # Monday 23 March, 00:00 in Berlin
    ts = pd.date_range(start, periods=37 * 24, freq="1h")  # to Tuesday 28 April, Berlin
    local_day = ts.tz_convert("Europe/Berlin").normalize().tz_localize(None)
    holiday = local_day.isin(pd.DatetimeIndex(["2026-04-03", "2026-04-06", "2026-05-01"]))
    rng = np.random.default_rng(10)
    value = _profile(ts) * np.where(holiday, 1.3, 1.0) * np.exp(rng.normal(0, 0.03, len(ts)))
    series = pd.DataFrame({TS: ts, VALUE: value})

    model = DemandForecaster().fit(series, holidays_country="DE", timezone="Europe/Berlin")
    forecast = model.predict(96)
    may_day = forecast[forecast[TS].dt.tz_convert("Europe/Berlin").dt.day == 1]
    assert len(may_day) == 24
    ratio = may_day[YHAT].to_numpy() / _profile(pd.DatetimeIndex(may_day[TS]))
    assert abs(ratio.mean() / 1.3 - 1) < 0.05
    assert np.all(np.abs(ratio / 1.3 - 1) < 0.15)
    # The day before is an ordinary Thursday.
    before = forecast[forecast[TS].dt.tz_convert("Europe/Berlin").dt.day == 30]
    plain = before[YHAT].to_numpy() / _profile(pd.DatetimeIndex(before[TS]))
    assert abs(plain.mean() - 1.0) < 0.05


def test_outage_window_and_gaps_are_masked() -> None:
    clean = make_series(21, seed=3)
    dirty = clean.copy()
    outage_start = START + pd.Timedelta(days=20, hours=14)
    in_outage = (dirty[TS] >= outage_start) & (dirty[TS] < outage_start + 8 * HOUR)
    dirty.loc[in_outage, VALUE] = 0.0  # the collector wrote zeros while it was down
    gaps = dirty.index[[100, 101, 102, 300]]
    dirty.loc[gaps, VALUE] = np.nan
    events = make_events([("outage", outage_start, 8, np.nan)])

    masked = DemandForecaster().fit(dirty, events)
    reasons = masked.masked_.groupby("reason").size().to_dict()
    assert reasons == {"outage": 8, "gap": 4}
    assert set(masked.masked_[TS][masked.masked_["reason"] == "outage"]) == set(
        dirty[TS][in_outage]
    )
    reference = DemandForecaster().fit(clean).predict(48)
    forecast = masked.predict(48)
    assert np.abs(forecast[YHAT] / reference[YHAT] - 1).max() < 0.02
    # Without the outage event the zeros are read as demand: they drag the forecast and its
    # lower quantiles down.
    naive = DemandForecaster().fit(dirty).predict(48)
    assert np.abs(naive[YHAT] / reference[YHAT] - 1).max() > 0.04
    assert (naive["q0.05"] / reference["q0.05"]).min() < 0.92


def test_anomaly_flag_masks_spikes_only_when_asked() -> None:
    series = make_series(28, seed=4)
    spikes = series.index[[200, 333, 501]]
    series.loc[spikes, VALUE] *= 6
    plain = DemandForecaster().fit(series)
    assert len(plain.masked_) == 0
    flagged = DemandForecaster(anomaly_z=6.0).fit(series)
    assert set(flagged.masked_[TS]) == set(series.loc[spikes, TS])
    assert set(flagged.masked_["reason"]) == {"anomaly"}


def test_quantiles_never_negative_near_zero_demand() -> None:
    series = make_series(21, seed=5, noise=0.6)
    series[VALUE] = series[VALUE] / 1000 - 0.3
    series[VALUE] = series[VALUE].clip(lower=0)
    forecast = DemandForecaster().fit(series).predict(72)
    q = forecast[QCOLS].to_numpy()
    assert (q >= 0).all() and (forecast[YHAT] >= 0).all()
    assert (np.diff(q, axis=1) >= 0).all()
    assert (q[:, -1] > q[:, 0]).mean() > 0.5


# ------------------------------------------------------------------------------ fallback


def test_a_young_series_is_blended_with_last_week() -> None:
    # Nine days: too few for a week-long validation window with a week before it, enough for
    # one week. The window shrinks to the two days after the first week, so the ensemble (with
    # last week as a partner) still chooses; Prophet alone, without weekly seasonality on so
    # little data, forecast this week 7.6 % off, the weekend's lift missed.
    series = make_series(9)
    model = DemandForecaster().fit(series)
    forecast = model.predict(168)
    truth = _profile(pd.DatetimeIndex(forecast[TS]))
    assert len(model.validation_.actual) == 48
    assert "snaive (weekly" in forecast[MODEL].iloc[0]
    assert np.mean(np.abs(forecast[YHAT].to_numpy() / truth - 1)) < 0.035
    # The band: the two-day window's, with the final fit's in-sample residuals as a floor.
    assert model.young_residuals_ is not None and len(model.young_residuals_) == 9 * 24
    inside = (forecast["q0.05"] <= truth) & (truth <= forecast["q0.95"])
    assert inside.mean() > 0.9


def test_two_weeks_keep_the_full_validation_week(
    fitted: tuple[DemandForecaster, pd.DataFrame],
) -> None:
    model, _ = fitted  # three weeks of history
    assert len(model.validation_.actual) == 7 * 24 and model.young_residuals_ is None


def test_constant_series_falls_back_to_seasonal_naive() -> None:
    series = make_series(10)
    series[VALUE] = 42.0
    model = DemandForecaster().fit(series)
    forecast = model.predict(24)
    assert model.fallback_ and forecast[FALLBACK].all()
    assert forecast[MODEL].iloc[0] == "snaive (fallback: constant series (every value is 42))"
    np.testing.assert_allclose(forecast[[YHAT, *QCOLS]].to_numpy(), 42.0)


def test_too_short_for_prophet_falls_back() -> None:
    series = make_series(2.5, seed=6)
    model = DemandForecaster().fit(series)
    forecast = model.predict(24)
    assert forecast[FALLBACK].all()
    assert forecast[MODEL].iloc[0].startswith("snaive (fallback: too little data for Prophet")
    # Daily seasonal naive: tomorrow repeats the last day.
    last_day = series[VALUE].to_numpy()[-24:]
    np.testing.assert_allclose(forecast[YHAT].to_numpy(), last_day)
    q = forecast[QCOLS].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all() and (q >= 0).all()


def test_empty_rows_before_a_young_series_are_not_history() -> None:
    """A fleet run reads every series over the same window: a young one arrives behind
    months of empty rows. Counted as history they set a weekly season of gaps, and the
    forecast was flat with a band of zero width."""
    young = make_series(2.5, seed=6)
    padding = pd.DataFrame(
        {TS: pd.date_range(end=young[TS].iloc[0], periods=24 * 100 + 1, freq="h")[:-1]}
    ).assign(**{VALUE: np.nan})
    padded = pd.concat([padding, young], ignore_index=True)
    alone = DemandForecaster().fit(young).predict(24)
    model = DemandForecaster().fit(padded)
    forecast = model.predict(24)
    pd.testing.assert_frame_equal(forecast, alone)
    assert forecast[YHAT].std() > 100  # the daily cycle, not one value
    assert (forecast[quantile_column(0.95)] > forecast[quantile_column(0.05)]).all()
    assert forecast[MODEL].iloc[0].endswith("2.5 observed days, needs 3)")
    everything_missing = padding.copy()
    with pytest.raises(DataError, match="every value is missing"):
        DemandForecaster().fit(everything_missing)


def test_data_only_before_the_training_window_falls_back_and_says_so() -> None:
    # Three weeks of data, then nine days of gaps: Prophet, fitted on the last 8 days only,
    # would see nothing. The reason counts what it would see, not the whole series.
    series = make_series(30, seed=7)
    series.loc[series.index[21 * 24 :], VALUE] = np.nan
    forecast = DemandForecaster(training_days=8).fit(series).predict(24)
    assert forecast[FALLBACK].all()
    assert forecast[MODEL].iloc[0] == (
        "snaive (fallback: too little data for Prophet: 0.0 observed days in the last 8 days, "
        "needs 3)"
    )


def test_prophet_failure_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from prophet import Prophet

    def broken(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError("Error during optimization! Command 'bin/prophet ...' failed")

    monkeypatch.setattr(Prophet, "fit", broken)
    series = make_series(15, seed=7)
    forecast = DemandForecaster().fit(series).predict(24)
    assert forecast[FALLBACK].all()
    assert forecast[MODEL].iloc[0] == (
        "snaive (fallback: Prophet failed: RuntimeError: Error during optimization! "
        "Command 'bin/prophet ...' failed)"
    )
    np.testing.assert_allclose(forecast[YHAT].to_numpy(), series[VALUE].to_numpy()[-168:-144])


# ---------------------------------------------------------------- estimator conventions


def test_init_only_stores_and_get_params_returns_them() -> None:
    model = DemandForecaster(training_days=28.0, quantiles=(0.1, 0.9), anomaly_z=4.0)
    params = model.get_params()
    assert params["training_days"] == 28.0
    assert params["quantiles"] == (0.1, 0.9)
    assert params["anomaly_z"] == 4.0
    assert set(params) == {
        "quantiles",
        "training_days",
        "validation_days",
        "daily_order",
        "weekly_order",
        "weekend_daily",
        "changepoint_prior_scale",
        "event_prior_scale",
        "log_offset",
        "transform",
        "interval_scale",
        "interval_space",
        "interval_growth",
        "calibration_windows",
        "ar_correction",
        "ensemble",
        "min_event_occurrences",
        "uplift_scaling",
        "scenario_spread",
        "anomaly_z",
        "event_shapes",
    }
    assert not [name for name in vars(model) if name.endswith("_")]
    assert DemandForecaster(**params).get_params() == params
    assert model.set_params(anomaly_z=None) is model and model.anomaly_z is None
    with pytest.raises(ParameterError, match="no parameter 'anomaly'"):
        model.set_params(anomaly=3)
    # Bad values are only checked at fit, as scikit-learn does.
    DemandForecaster(quantiles=(2.0,))
    with pytest.raises(ParameterError, match="'interval_space' parameter must be 'auto', 'model'"):
        DemandForecaster(interval_space="linear").fit(make_series(7))


def test_custom_quantiles_name_their_columns(three_weeks: pd.DataFrame) -> None:
    forecast = DemandForecaster(quantiles=(0.1, 0.9)).fit(three_weeks).predict(5)
    assert list(forecast.columns) == [TS, YHAT, "q0.1", "q0.9", MODEL, FALLBACK]


def test_refit_starts_over() -> None:
    hourly = make_series(21, seed=8)
    hourly.loc[hourly.index[50:53], VALUE] = np.nan
    model = DemandForecaster().fit(hourly)
    assert len(model.masked_) == 3 and model.freq_ == HOUR
    half_hourly = make_series(10, seed=9, freq="30min")
    model.fit(half_hourly)
    assert len(model.masked_) == 0
    assert model.freq_ == pd.Timedelta(minutes=30)
    forecast = model.predict(4)
    assert forecast[TS].iloc[0] == half_hourly[TS].iloc[-1] + pd.Timedelta(minutes=30)
    assert forecast[TS].diff().iloc[1] == pd.Timedelta(minutes=30)


def test_an_earlier_noisy_week_widens_the_band_but_not_the_forecast() -> None:
    # Five weeks at 3 % noise, except the week before the last one at 12 %: the last week
    # alone says the band is narrow; the earlier window shows how wide a week can be.
    series = make_series(35, seed=11)
    week = (series[TS] >= START + pd.Timedelta(days=21)) & (
        series[TS] < START + pd.Timedelta(days=28)
    )
    rng = np.random.default_rng(12)
    series.loc[week, VALUE] *= np.exp(rng.normal(0, 0.12, int(week.sum())))
    one = DemandForecaster(calibration_windows=1).fit(series)
    two = DemandForecaster(calibration_windows=2).fit(series)
    assert len(one.residuals_) == 1 and len(two.residuals_) == 2
    assert set(two.stan_params_) == {"lambda", "inner", "inner2", "core"}
    a, b = one.predict(168), two.predict(168)
    assert b[YHAT].to_numpy() == pytest.approx(a[YHAT].to_numpy())  # chosen on the last week
    width_one = (a["q0.95"] / a["q0.05"]).median()
    width_two = (b["q0.95"] / b["q0.05"]).median()
    assert width_one < 1.25  # 3 % noise: about +-5 %, stretched 1.5x as the only window
    assert width_two > 1.3  # 12 % noise: about +-20 %, unstretched
    assert (b["q0.95"] >= a["q0.95"]).all() and (b["q0.05"] <= a["q0.05"]).all()


def test_warm_start_seeds_prophet_and_reaches_the_same_fit(
    three_weeks: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prophet import Prophet

    earlier = DemandForecaster(transform=0.0).fit(three_weeks.iloc[:-24])
    params = json.loads(json.dumps(earlier.stan_params_))  # as the store keeps them
    assert set(params) == {"lambda", "inner", "core"}
    cold = DemandForecaster(transform=0.0).fit(three_weeks)

    inits: list[dict] = []
    real_fit = Prophet.fit

    def recording_fit(self, df, **kwargs):  # the real fit, with its start recorded
        inits.append(kwargs.get("init"))
        return real_fit(self, df, **kwargs)

    monkeypatch.setattr(Prophet, "fit", recording_fit)
    warm = DemandForecaster(transform=0.0).fit(three_weeks, warm_start=params)
    assert warm.warm_started_ and not cold.warm_started_
    assert [init["k"] for init in inits] == [params["inner"]["k"], params["core"]["k"]]
    assert list(inits[1]["beta"]) == pytest.approx(params["core"]["beta"])
    # The same optimum up to the optimiser's tolerance: within 1 % on pandas 3; on pandas 2.2
    # (the lower bound) 3 of the 504 hours differ by up to 1.13 %, every run alike.
    assert warm.core_.in_sample() == pytest.approx(cold.core_.in_sample(), rel=0.015)

    inits.clear()
    other = DemandForecaster(transform=0.5).fit(three_weeks, warm_start=params)
    assert not other.warm_started_  # another lambda: another scale, so a cold start
    assert inits == [None, None]


def test_a_warm_start_from_other_event_kinds_starts_cold(three_weeks: pd.DataFrame) -> None:
    # The stored run had a launch in its history; the next run's history has none (it left
    # the window), so the coefficient vector has another length. Prophet alone kept the old
    # noise scale with fresh coefficients; L-BFGS failed and its Newton fallback converged to
    # a meaningless fit (demo eu-west/game: noise scale 12.7 against 0.026 cold).
    launch = make_events([("launch", three_weeks[TS].iloc[200], 6, 1.5)])
    earlier = DemandForecaster(transform=0.0).fit(three_weeks, launch)
    assert earlier.core_.kinds == ["launch"]
    params = json.loads(json.dumps(earlier.stan_params_))
    cold = DemandForecaster(transform=0.0).fit(three_weeks)
    warm = DemandForecaster(transform=0.0).fit(three_weeks, warm_start=params)
    assert not warm.warm_started_
    pd.testing.assert_frame_equal(warm.predict(48), cold.predict(48))
    # as many coefficients, meaning others: a patch where the launch was
    patch = make_events([("patch", three_weeks[TS].iloc[200], 6, 1.5)])
    cold = DemandForecaster(transform=0.0).fit(three_weeks, patch)
    warm = DemandForecaster(transform=0.0).fit(three_weeks, patch, warm_start=params)
    assert len(warm.stan_params_["core"]["beta"]) == len(params["core"]["beta"])
    assert params["core"]["layout"][-1] == "event_launch" and not warm.warm_started_
    pd.testing.assert_frame_equal(warm.predict(48, patch), cold.predict(48, patch))
    # the same layout starts warm
    again = DemandForecaster(transform=0.0).fit(three_weeks, launch, warm_start=params)
    assert again.warm_started_


def test_a_fit_that_dips_below_zero_leaves_no_nan_in_the_naive_or_the_band() -> None:
    """Untransformed (lambda 1), Prophet's fit undershoots a sharp night-time trough below
    -offset, where the transform floors it: the naive partner once divided by a zero event
    ratio there (NaN for the hours of the trough, which dropped the naive from the blend)
    and a young series' in-sample residuals came out infinite (nyc_taxi from 12 days: a
    q0.99 of 433,139 against a peak of 26,754)."""
    ts = pd.date_range("2026-03-02", periods=24 * 12, freq="h", tz="UTC")
    hours = ts.hour.to_numpy()
    value = np.where((hours >= 3) & (hours < 6), 50.0, 20000.0)
    value += np.random.default_rng(0).normal(0, 300, len(ts))
    series = pd.DataFrame({TS: ts, VALUE: np.clip(value, 0, None)})
    model = DemandForecaster(transform=1.0, quantiles=(0.05, 0.5, 0.95, 0.99))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(series)
        forecast = model.predict(168)
    ours = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    package = Path(capacity.forecast.__file__).parent  # the forecaster's modules, any of them
    assert [str(w.message) for w in ours if Path(w.filename).parent == package] == []
    assert (model.core_.in_sample() >= 0).all()
    for naive in model.validation_.parts.snaive.values():
        assert np.isfinite(naive).all()
    numbers = forecast.select_dtypes("number").to_numpy()
    assert np.isfinite(numbers).all()
    assert forecast["q0.99"].max() < 1.5 * series[VALUE].max()


def test_predict_before_fit_is_a_clear_error() -> None:
    with pytest.raises(NotFittedError, match=r"not fitted yet. Call fit\(series, events\)"):
        DemandForecaster().predict(24)
    assert issubclass(NotFittedError, CapacityError)


# ------------------------------------------------------------------------------ bad input


def _bad(mutate) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    series = make_series(3)
    return mutate(series)


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (_bad(lambda s: s.rename(columns={VALUE: "ccu"})), "missing column(s) 'value'"),
        (_bad(lambda s: s.assign(ts=s[TS].dt.tz_localize(None))), "tz-aware UTC timestamps"),
        (_bad(lambda s: s.assign(ts=s[TS].dt.tz_convert("Europe/Berlin"))), "must be in UTC"),
        (_bad(lambda s: s.assign(ts=s[TS].where(s.index != 9, s[TS] + 20 * MINUTE))), "irregular"),
        (_bad(lambda s: s.assign(value=s[VALUE].where(s.index != 7, -1.0))), "negative value -1"),
        (_bad(lambda s: s.iloc[:40]), "needs at least 2 days of data"),
        (_bad(lambda s: pd.concat([s, s.iloc[[3]]])), "duplicate timestamp"),
    ],
    ids=["missing-column", "naive-ts", "non-utc", "irregular", "negative", "short", "duplicate"],
)
def test_bad_series_raise_data_error(series: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataError, match=re.escape(message)):
        DemandForecaster().fit(series)


@pytest.mark.parametrize("quantiles", [(0.9, 0.1, 0.5), (0.5, 0.5), ("0.5",), (True,), ()])
def test_quantiles_are_checked_as_the_baselines_check_them(
    three_weeks: pd.DataFrame, quantiles: tuple
) -> None:
    """Unsorted levels gave columns out of order and a repeated one silently one column;
    the forecaster and the baselines now share one check, so both refuse the same levels."""
    message = r"'quantiles' parameter must be a non-empty sequence of distinct numbers"
    with pytest.raises(ParameterError, match=message):
        DemandForecaster(quantiles=quantiles).fit(three_weeks)
    if quantiles:
        with pytest.raises(
            ParameterError, match="distinct numbers strictly between 0 and 1, in increasing"
        ):
            SeasonalNaive(24, quantiles=quantiles).fit(three_weeks)


def test_bad_parameters_raise_parameter_error(three_weeks: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match=r"'quantiles' parameter .* Got \(0.5, 1.5\)"):
        DemandForecaster(quantiles=(0.5, 1.5)).fit(three_weeks)
    with pytest.raises(ParameterError, match=r"'transform' parameter .* Got 'sqrt'"):
        DemandForecaster(transform="sqrt").fit(three_weeks)
    with pytest.raises(ParameterError, match=r"'interval_scale' parameter must be a number > 0"):
        DemandForecaster(interval_scale=0).fit(three_weeks)
    with pytest.raises(
        ParameterError, match=r"'calibration_windows' parameter must be an integer >= 1\. Got 0"
    ):
        DemandForecaster(calibration_windows=0).fit(three_weeks)
    with pytest.raises(ParameterError, match=r"'ensemble' parameter must be True or False"):
        DemandForecaster(ensemble="yes").fit(three_weeks)
    with pytest.raises(ParameterError, match=r"'timezone' parameter must be an IANA"):
        DemandForecaster().fit(three_weeks, timezone="Mars/Olympus")
    with pytest.raises(ParameterError, match=r"'holidays_country' parameter .* Got 'XX'"):
        DemandForecaster().fit(three_weeks, holidays_country="XX")
    model = DemandForecaster(quantiles=(0.5,)).fit(make_series(3))
    with pytest.raises(
        ParameterError, match=r"'horizon' parameter must be a whole number of steps >= 1, "
    ):
        model.predict(0)


@pytest.mark.parametrize(
    ("horizon", "fix"),
    [
        ("7d", "Fix: pass horizon=168 (7d in steps of 1h)"),
        (pd.Timedelta(days=2), "Fix: pass horizon=48 (2d in steps of 1h)"),
        (24.0, "Fix: pass horizon=24"),
        (np.timedelta64(3, "h"), "Fix: pass horizon=3 (3h in steps of 1h)"),
        ("90min", "Fix: pass the number of steps to forecast, each 1h long"),
    ],
)
def test_a_horizon_as_a_duration_is_refused_with_the_steps_it_means(horizon, fix) -> None:
    """predict("7d") and predict(pd.Timedelta(days=7)) said only 'must be an integer >= 1';
    np.timedelta64, which numpy counts as an integer, got past the check to a TypeError."""
    model = DemandForecaster(quantiles=(0.5,)).fit(make_series(3))
    with pytest.raises(ParameterError) as caught:
        model.predict(horizon)
    assert "a step being the series' 1h" in str(caught.value)
    assert str(caught.value).endswith(fix)


def test_a_calendar_of_every_region_is_scoped_to_the_series_or_refused(
    three_weeks: pd.DataFrame,
) -> None:
    """fit(eu-west's ccu, store.events()) applied every region's events to eu-west: an
    ap-southeast marketing push (+30 %) raised eu-west's forecast over its dates by 28 %."""
    ahead = three_weeks[TS].iloc[-1] + HOUR
    calendar = make_events([("marketing", ahead + 6 * HOUR, 12, 1.3), ("patch", ahead, 3, 1.1)])
    calendar["regions"] = [["ap-southeast"], ["eu-west"]]
    with pytest.raises(ParameterError) as caught:
        DemandForecaster(quantiles=(0.5,)).fit(three_weeks, calendar)
    message = str(caught.value)
    assert "The 'events' parameter holds the calendars of several regions" in message
    assert "(ap-southeast, eu-west)" in message and "store.events(region=...)" in message
    # a series naming its region keeps that region's events (and those for all regions)
    tidy = three_weeks.assign(region="eu-west", service="game", metric="ccu")
    scoped = DemandForecaster(quantiles=(0.5,)).fit(tidy, calendar)
    own = DemandForecaster(quantiles=(0.5,)).fit(tidy, calendar.iloc[[1]])
    assert scoped.events_["event_id"].tolist() == ["E1"]
    pd.testing.assert_frame_equal(scoped.predict(24), own.predict(24))
    # and a future calendar given to predict is scoped alike
    pd.testing.assert_frame_equal(scoped.predict(24, calendar), own.predict(24, calendar.iloc[[1]]))
    # one region's calendar, events for all regions among it, is taken as it is
    calendar["regions"] = [["eu-west", "na-east"], ["all"]]
    assert len(DemandForecaster(quantiles=(0.5,)).fit(three_weeks, calendar).events_) == 2


def test_bad_events_raise_data_error(three_weeks: pd.DataFrame) -> None:
    events = make_events([("promo", START, 3, 1.2)])
    with pytest.raises(DataError, match="missing column"):
        DemandForecaster().fit(three_weeks, events.drop(columns="kind"))
    naive = events.assign(start_ts=events["start_ts"].dt.tz_localize(None))
    with pytest.raises(DataError, match="'start_ts' must hold tz-aware"):
        DemandForecaster().fit(three_weeks, naive)


def test_a_series_whose_troughs_reach_zero_keeps_a_band_the_size_of_its_noise() -> None:
    """Hourly demand with a large daily cycle whose night hours are zero (a small region
    asleep), noise of a few percent at the peak. Log ratios of the near-zero hours once set
    the band for every hour: q0.99 at the daily peak came out near twice the peak. The
    band of a series that reaches zero is now measured in the space the model is fitted in
    (here nearly additive)."""
    rng = np.random.default_rng(11)
    ts = pd.date_range("2026-01-05", periods=35 * 24, freq="h", tz="UTC")
    cycle = 600 * np.sin(2 * np.pi * (ts.hour.to_numpy() - 8) / 24) + 350
    value = np.clip(cycle + rng.normal(0, 15, len(ts)), 0, None)
    series = pd.DataFrame({TS: ts, VALUE: value})
    train, test = series.iloc[: 28 * 24], series.iloc[28 * 24 :]
    model = DemandForecaster(quantiles=[0.05, 0.5, 0.95, 0.99]).fit(train)
    forecast = model.predict(len(test))
    actual, top = test[VALUE].to_numpy(), train[VALUE].max()
    assert forecast["q0.99"].max() < 1.25 * top
    assert forecast["q0.95"].max() < 1.15 * top
    inside = (actual >= forecast["q0.05"].to_numpy()) & (actual <= forecast["q0.95"].to_numpy())
    assert inside.mean() >= 0.85
    assert model.interval_space_ == "model" and model.lambda_ > 0
    # a series that stays well above zero keeps log ratios: its spread grows with its level
    assert DemandForecaster().fit(make_series(21)).interval_space_ == "log"
    # the same forecast with its band measured as log ratios: the explosion it replaced
    logged = DemandForecaster(quantiles=[0.05, 0.5, 0.95, 0.99], interval_space="log")
    assert logged.fit(train).predict(len(test))["q0.99"].max() > 1.6 * top


def test_an_os_error_that_cmdstanpy_wraps_is_not_a_failed_optimisation():
    """cmdstanpy reports an OSError met while running CmdStan (its console file on a full
    disk, a process it cannot start) as a RuntimeError raised from it; the fit's fallback
    took that for a failed optimisation, so a full disk became a fleet of naive forecasts."""
    import errno

    from capacity.forecast import _raise_os_error

    full = OSError(errno.ENOSPC, "No space left on device", "/tmp/x/prophet_model.csv")
    try:
        try:
            raise full
        except OSError as exc:
            raise RuntimeError(f"Failed with error {exc}\n") from exc
    except RuntimeError as wrapped:
        with pytest.raises(OSError) as caught:
            _raise_os_error(wrapped)
    assert caught.value is full
    _raise_os_error(RuntimeError("Error during optimization! Line search failed"))  # no OSError
