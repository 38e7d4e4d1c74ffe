"""Rolling-origin backtests of any forecaster, with the calendar as it was known at each cutoff.

A *forecaster* is any object with

* ``fit(series, events=None) -> self``, where ``series`` has columns ``ts`` (tz-aware UTC, a
  regular grid; NaN values are gaps or masked hours) and ``value``, and ``events`` is a live-ops
  calendar frame (:data:`capacity.columns.EVENT_COLUMNS`) holding only what is known at fit time;
* ``predict(horizon, events=None) -> DataFrame`` with columns ``ts``, ``yhat`` and one column per
  quantile in ``quantiles`` (named by :func:`capacity.columns.quantile_column`), for the
  ``horizon`` steps after the last ``ts`` it was fitted on;
* an attribute ``quantiles`` (tuple of floats) and, after ``fit``, ``freq_`` (Timedelta).

:func:`backtest` runs one over several forecast origins and returns a tidy frame of forecasts
beside the actual values; :func:`metrics` scores that frame; :func:`known_events` is the rule
that decides which events a forecaster may see at a cutoff.

Cutoffs
-------
A *cutoff* is the moment a forecast is made: the window's model is fitted on the rows with
``ts < cutoff`` and forecasts ``ts = cutoff, cutoff + freq, ...`` (step 1 is the row at the
cutoff). The latest cutoff is the series' end minus the horizon, so the last window ends with
the series; earlier ones step back by ``step`` rows. Windows may overlap when ``step < horizon``.

Leakage
-------
Each window gets a fresh, unfitted copy of the forecaster (``type(f)(**f.get_params())`` when
the forecaster has ``get_params``, else a deep copy made before anything is fitted), the
training rows strictly before its cutoff, and the calendar filtered by :func:`known_events`.

Metrics
-------
:func:`metrics` returns one row per cutoff and one overall row. NaN actual values are left out
of every metric, and so are the hours an ``outage`` event of the calendar covers (what a
collector recorded while the game was down is not demand: the forecaster masks those hours
when it fits, and a backtest does not score a forecast against them either).

* ``mase``: mean absolute error over the in-sample mean absolute seasonal difference (lag
  ``season_length``) of that window's training data;
* ``smape``: the M4 competition's sMAPE in percent, ``200 |y - f| / (|y| + |f|)`` averaged; a
  point where both are 0 counts as 0;
* ``pinball_q0.05`` ...: mean pinball (quantile) loss per quantile, in the series' units;
* ``coverage_90`` ...: share of actual values inside each central interval the quantiles imply
  (``q0.05``-``q0.95`` gives ``coverage_90``, ``q0.1``-``q0.9`` gives ``coverage_80``);
* ``peak_ape``: mean over UTC days lying wholly inside the horizon of
  ``|max actual - max yhat| / max actual`` (a fraction, not percent); both maxima are taken over
  the hours whose actual value is known, and days whose peak is 0 are skipped. A horizon
  shorter than a day is scored as one block.
"""

from __future__ import annotations

import copy
import math
import numbers
import re
from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from capacity.columns import (
    ACTUAL,
    CUTOFF,
    END_TS,
    FALLBACK,
    KIND,
    MODEL,
    START_TS,
    STEP,
    TS,
    VALUE,
    YHAT,
    quantile_column,
)
from capacity.errors import ParameterError
from capacity.frames import require_one_series
from capacity.units import parse_timestamp

__all__ = [
    "ANNOUNCED_AT",
    "Forecaster",
    "backtest",
    "coverage_column",
    "known_events",
    "metrics",
    "outage_hours",
    "pinball_column",
    "seasonal_scale",
    "validate_series",
    "windows_that_fit",
]

#: Optional calendar column: when an event became known. Where present and set, an event is
#: visible at a cutoff only if it was announced at or before it.
ANNOUNCED_AT = "announced_at"
#: The one event kind that is not planned: it becomes known when it starts.
OUTAGE = "outage"

_QUANTILE_COLUMN = re.compile(r"^q(\d*\.?\d+(?:[eE][-+]?\d+)?)$")
_DAY = pd.Timedelta(days=1)


class Forecaster(Protocol):
    """What :func:`backtest` needs from a forecaster (see the module docstring)."""

    quantiles: tuple[float, ...]

    def fit(self, series: pd.DataFrame, events: pd.DataFrame | None = None) -> Any:
        """Fit on ``series`` (columns ``ts`` and ``value``) and the events known so far.

        Returns
        -------
        Any
            The forecaster itself, by convention; :func:`backtest` does not use it.
        """

    def predict(self, horizon: int, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the last fitted ``ts``.

        Returns
        -------
        DataFrame
            Columns ``ts``, ``yhat`` and one per quantile in ``quantiles``.
        """


# ------------------------------------------------------------------------------ validation


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ParameterError(f"The {name!r} parameter must be a positive integer. Got {value!r}.")
    return int(value)


def validate_series(
    series: Any, *, name: str = "series", takes: str = "one series is scored at a time"
) -> tuple[pd.DataFrame, pd.Timedelta]:
    """Check a series against the forecaster contract and return it tidied, with its step.

    Parameters
    ----------
    series : pandas.DataFrame
        Columns ``ts`` (tz-aware datetimes on a regular grid, in any order) and ``value``
        (numbers; NaN marks a gap). Other columns are ignored. Not modified.
    name : str
        The parameter's name, for error messages.
    takes : str
        What the caller does with one series, for the message refusing a frame of several
        (rows of several regions, services or metrics).

    Returns
    -------
    (pandas.DataFrame, pandas.Timedelta)
        A new frame with exactly ``ts`` (UTC) and ``value`` (float64), sorted by ``ts`` with a
        fresh index, and the grid's step.

    Raises
    ------
    ParameterError
        When a column is missing, the frame holds several series, ``ts`` is naive, holds NaT
        or duplicates, the grid is not regular, ``value`` is not numeric, or there are fewer
        than two rows.
    """
    if not isinstance(series, pd.DataFrame) or not {TS, VALUE} <= set(series.columns):
        got = list(series.columns) if isinstance(series, pd.DataFrame) else type(series).__name__
        raise ParameterError(
            f"The {name!r} parameter must be a DataFrame with columns 'ts' and 'value'. "
            f"Got {got!r}."
        )
    require_one_series(series, name, takes)
    ts = series[TS]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise ParameterError(
            f"The {name!r} parameter's 'ts' column must hold tz-aware datetimes. Got dtype "
            f"{ts.dtype}.",
            fix="convert with pd.to_datetime(..., utc=True) or .dt.tz_localize('UTC')",
        )
    if ts.isna().any():
        raise ParameterError(f"The {name!r} parameter's 'ts' column holds missing timestamps.")
    try:
        value = pd.to_numeric(series[VALUE], errors="raise").astype("float64")
    except (ValueError, TypeError):
        raise ParameterError(
            f"The {name!r} parameter's 'value' column must be numeric. Got dtype "
            f"{series[VALUE].dtype}."
        ) from None
    frame = pd.DataFrame({TS: ts.dt.tz_convert("UTC"), VALUE: value.to_numpy()})
    frame = frame.sort_values(TS, kind="stable").reset_index(drop=True)
    if len(frame) < 2:
        raise ParameterError(f"The {name!r} parameter must have at least 2 rows. Got {len(frame)}.")
    steps = frame[TS].diff().iloc[1:].reset_index(drop=True)
    freq = steps.iloc[0]
    irregular = (steps != freq).to_numpy()
    if freq <= pd.Timedelta(0) or irregular.any():
        i = 0 if freq <= pd.Timedelta(0) else int(np.flatnonzero(irregular)[0])
        raise ParameterError(
            f"The {name!r} parameter must be a regular grid of unique timestamps. Got "
            f"{frame[TS].iloc[i + 1]} right after {frame[TS].iloc[i]} (a step of {steps.iloc[i]}; "
            f"the first step is {freq}).",
            fix="resample onto a regular grid with missing buckets as NaN, as Store.series does",
        )
    return frame, pd.Timedelta(freq)


def _check_forecaster(forecaster: Any) -> tuple[float, ...]:
    for method in ("fit", "predict"):
        if not callable(getattr(forecaster, method, None)):
            raise ParameterError(
                "The 'forecaster' parameter must have 'fit' and 'predict' methods. Got "
                f"{type(forecaster).__name__}."
            )
    quantiles = getattr(forecaster, "quantiles", None)
    try:
        return tuple(float(q) for q in quantiles)  # type: ignore[union-attr]
    except TypeError:
        raise ParameterError(
            "The 'forecaster' parameter must have a 'quantiles' attribute, a sequence of "
            f"numbers. Got {quantiles!r}."
        ) from None


# ------------------------------------------------------------------------------ calendar


def known_events(events: pd.DataFrame | None, cutoff: Any, horizon_end: Any) -> pd.DataFrame | None:
    """The events a forecaster may see when forecasting at ``cutoff`` up to ``horizon_end``.

    Planned events (every kind except ``outage``, user-defined kinds included) are announced
    ahead, so one is visible when it starts before ``horizon_end``. An ``outage`` is known only
    once it has started: visible when it starts before ``cutoff``, and an outage still running
    at the cutoff is shown ending at the cutoff, since its end is not known yet. When the frame
    has an ``announced_at`` column, an event whose ``announced_at`` is set is visible only if
    ``announced_at <= cutoff``; a missing ``announced_at`` leaves the rule by kind.

    Parameters
    ----------
    events : pandas.DataFrame or None
        A calendar frame with at least ``kind``, ``start_ts`` and ``end_ts``. Not modified.
    cutoff : timestamp-like
        The forecast origin; naive values are taken as UTC.
    horizon_end : timestamp-like
        The exclusive end of the forecast horizon.

    Returns
    -------
    pandas.DataFrame or None
        A new frame with the visible rows (same columns, fresh index); None when ``events`` is
        None.

    Raises
    ------
    ParameterError
        When a required column is missing or a bound is not a timestamp.
    """
    if events is None:
        return None
    _check_calendar(events)
    cut = parse_timestamp(cutoff, "cutoff")
    end = parse_timestamp(horizon_end, "horizon_end")
    start = pd.to_datetime(events[START_TS], utc=True)
    is_outage = events[KIND].astype("string").str.lower().eq(OUTAGE).fillna(False).to_numpy(bool)
    visible = np.where(is_outage, (start < cut).to_numpy(bool), (start < end).to_numpy(bool))
    if ANNOUNCED_AT in events.columns:
        announced = pd.to_datetime(events[ANNOUNCED_AT], utc=True)
        visible &= (announced.isna() | (announced <= cut)).to_numpy(bool)
    out = events.loc[visible].copy().reset_index(drop=True)
    outage = out[KIND].astype("string").str.lower().eq(OUTAGE).fillna(False).to_numpy(bool)
    if outage.any():
        # An outage still running at the cutoff: its end is not known yet.
        ends = pd.to_datetime(out[END_TS], utc=True)
        late = outage & (ends > cut).to_numpy(bool)
        if late.any():
            clipped = ends.where(~late, cut)
            dtype = out[END_TS].dtype
            out[END_TS] = (
                clipped.astype(dtype) if isinstance(dtype, pd.DatetimeTZDtype) else clipped
            )
    return out


def _check_calendar(events: Any) -> None:
    missing = [c for c in (KIND, START_TS, END_TS) if c not in getattr(events, "columns", ())]
    if not isinstance(events, pd.DataFrame) or missing:
        raise ParameterError(
            "The 'events' parameter must be a calendar DataFrame with columns 'kind', "
            f"'start_ts' and 'end_ts'. Missing: {missing!r}."
        )


def outage_hours(ts: pd.Series, events: pd.DataFrame | None) -> np.ndarray:
    """Which of ``ts`` an ``outage`` event of ``events`` covers (``start_ts <= ts < end_ts``).

    Parameters
    ----------
    ts : pandas.Series
        Tz-aware timestamps.
    events : pandas.DataFrame or None
        A calendar frame with at least ``kind``, ``start_ts`` and ``end_ts``; None covers
        nothing.

    Returns
    -------
    numpy.ndarray
        One bool per timestamp.

    Raises
    ------
    ParameterError
        When ``events`` is not a calendar frame with those columns.
    """
    covered = np.zeros(len(ts), dtype=bool)
    if events is None:
        return covered
    _check_calendar(events)
    kind = events[KIND].astype("string").str.lower().eq(OUTAGE).fillna(False).to_numpy(bool)
    times = pd.DatetimeIndex(pd.to_datetime(ts, utc=True))
    starts = pd.to_datetime(events.loc[kind, START_TS], utc=True)
    ends = pd.to_datetime(events.loc[kind, END_TS], utc=True)
    for start, end in zip(starts, ends, strict=True):
        covered |= np.asarray((times >= start) & (times < end), dtype=bool)
    return covered


# ------------------------------------------------------------------------------ backtest


def _fresh(forecaster: Any) -> Any:
    get_params = getattr(forecaster, "get_params", None)
    if callable(get_params):
        return type(forecaster)(**get_params())
    return copy.deepcopy(forecaster)


def _check_forecast(
    out: Any, forecaster: Any, columns: list[str], expected: pd.DatetimeIndex
) -> pd.DataFrame:
    name = type(forecaster).__name__
    if not isinstance(out, pd.DataFrame):
        raise ParameterError(
            f"The forecaster's predict must return a DataFrame. {name} returned "
            f"{type(out).__name__}."
        )
    missing = [c for c in columns if c not in out.columns]
    if missing:
        raise ParameterError(
            f"The forecaster's predict output must have columns {columns!r}. {name} left out "
            f"{missing!r}."
        )
    if len(out) != len(expected):
        raise ParameterError(
            f"The forecaster's predict output must have one row per step. {name} returned "
            f"{len(out)} rows for a horizon of {len(expected)}."
        )
    got = pd.DatetimeIndex(pd.to_datetime(out[TS], utc=True))
    if not got.equals(expected.as_unit(got.unit)):
        raise ParameterError(
            f"The forecaster's predict output must cover the steps right after its training "
            f"data. {name} returned ts from {got[0]} to {got[-1]}; expected {expected[0]} to "
            f"{expected[-1]}."
        )
    return out


def default_min_train(season_length: int) -> int:
    """Steps a backtest window needs before it to fit on by default: two seasons."""
    return 2 * season_length


def windows_that_fit(rows: int, *, horizon: int, step: int, min_train: int) -> int:
    """How many rolling origins ``step`` apart a series of ``rows`` steps holds, each with
    ``min_train`` steps before it and ``horizon`` after it (0 when none does)."""
    if rows - horizon < min_train:
        return 0
    return (rows - horizon - min_train) // step + 1


def backtest(
    forecaster: Forecaster,
    series: pd.DataFrame,
    *,
    horizon: int,
    n_windows: int,
    step: int,
    events: pd.DataFrame | None = None,
    season_length: int = 24,
    min_train: int | None = None,
) -> pd.DataFrame:
    """Backtest ``forecaster`` over ``n_windows`` rolling forecast origins.

    Parameters
    ----------
    forecaster : Forecaster
        An object honouring the forecaster contract (module docstring). It is not fitted
        itself: every window fits a fresh copy.
    series : pandas.DataFrame
        Columns ``ts`` and ``value`` on a regular grid (see :func:`validate_series`).
    horizon : int
        Steps forecast at each cutoff.
    n_windows : int
        Number of cutoffs.
    step : int
        Rows between consecutive cutoffs.
    events : pandas.DataFrame, optional
        The live-ops calendar for this series (already scoped to its region). Each window sees
        only :func:`known_events` at its cutoff.
    season_length : int
        The seasonal period, in steps; it sets the default ``min_train``.
    min_train : int, optional
        Training rows the earliest window must have. Default: ``2 * season_length``.

    Returns
    -------
    pandas.DataFrame
        One row per (cutoff, ts), cutoffs ascending: ``cutoff``, ``step`` (1..horizon), ``ts``,
        ``actual`` (NaN where the series has a gap or an ``outage`` of ``events`` covers the
        hour: not scored), ``yhat``, one column per quantile of the
        forecaster, ``model`` (the forecaster's ``model`` output column when it has one, else
        its fitted ``model_`` attribute when that is a string, else its class name) and
        ``fallback`` when the forecaster's output has it.

    Raises
    ------
    ParameterError
        When a parameter is out of range, the series breaks the contract, it is too short for
        the windows asked for, or the forecaster's output breaks the contract.
    """
    quantiles = _check_forecaster(forecaster)
    horizon = _positive_int(horizon, "horizon")
    n_windows = _positive_int(n_windows, "n_windows")
    step = _positive_int(step, "step")
    season_length = _positive_int(season_length, "season_length")
    min_train = (
        default_min_train(season_length)
        if min_train is None
        else _positive_int(min_train, "min_train")
    )
    frame, freq = validate_series(series)

    n = len(frame)
    first = n - horizon - (n_windows - 1) * step
    if first < min_train:
        fit = windows_that_fit(n, horizon=horizon, step=step, min_train=min_train)
        raise ParameterError(
            f"The series is too short for {n_windows} windows of horizon {horizon} every "
            f"{step} steps with min_train={min_train}: it has {n} rows, so the earliest "
            f"cutoff would leave {max(first, 0)} training rows. The most windows that fit is "
            f"{fit}.",
            fix="lower n_windows, step or min_train, or pass a longer series",
        )

    q_columns = [quantile_column(q) for q in quantiles]
    wanted = [TS, YHAT, *q_columns]
    ts = frame[TS]
    values = frame[VALUE].to_numpy()
    # the actuals an outage covers are not demand: scored nowhere (the fits still get them
    # as they were, with the outages known at each cutoff, and mask them themselves)
    actuals = np.where(outage_hours(ts, events), np.nan, values)
    parts = []
    for start in range(first, n - horizon + 1, step):
        cutoff = ts.iloc[start]
        expected = pd.DatetimeIndex(ts.iloc[start : start + horizon])
        visible = known_events(events, cutoff, cutoff + horizon * freq)
        model = _fresh(forecaster)
        model.fit(frame.iloc[:start].reset_index(drop=True), events=visible)
        out = _check_forecast(model.predict(horizon, events=visible), forecaster, wanted, expected)
        part = pd.DataFrame(
            {
                CUTOFF: cutoff,
                STEP: np.arange(1, horizon + 1, dtype="int64"),
                TS: expected,
                ACTUAL: actuals[start : start + horizon],
                YHAT: out[YHAT].to_numpy(dtype="float64"),
            }
        )
        for column in q_columns:
            part[column] = out[column].to_numpy(dtype="float64")
        if MODEL in out.columns:
            part[MODEL] = out[MODEL].astype(str).to_numpy()
        else:
            label = getattr(model, "model_", None)
            part[MODEL] = label if isinstance(label, str) else type(forecaster).__name__
        if FALLBACK in out.columns:
            part[FALLBACK] = out[FALLBACK].to_numpy()
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------ metrics


def seasonal_scale(values: Iterable[float], season_length: int) -> float:
    """MASE's scale: the mean absolute difference at lag ``season_length``, gaps left out.

    Parameters
    ----------
    values : iterable of float
        Training values on a regular grid, oldest first; NaN marks a gap.
    season_length : int
        The lag.

    Returns
    -------
    float
        The mean of ``|y[t] - y[t - season_length]|`` over the pairs where both are known; NaN
        when there is no such pair.
    """
    season_length = _positive_int(season_length, "season_length")
    y = np.asarray(values, dtype=float)
    if len(y) <= season_length:
        return math.nan
    diff = np.abs(y[season_length:] - y[:-season_length])
    diff = diff[~np.isnan(diff)]
    return float(diff.mean()) if len(diff) else math.nan


def pinball_column(q: float) -> str:
    """Name of the metric column of the pinball loss at quantile ``q``: ``pinball_q0.05``."""
    return f"pinball_{quantile_column(q)}"


def coverage_column(level: float) -> str:
    """Name of the coverage column of a central interval of ``level`` (0.9 -> ``coverage_90``)."""
    return f"coverage_{round(100 * level, 6):g}"


def _quantiles_in(results: pd.DataFrame) -> list[tuple[float, str]]:
    found = []
    for column in results.columns:
        match = _QUANTILE_COLUMN.match(str(column))
        if match:
            found.append((float(match.group(1)), str(column)))
    return sorted(found)


def _intervals(quantiles: list[tuple[float, str]]) -> list[tuple[float, str, str]]:
    """(level, low column, high column) of each central interval the quantiles imply."""
    out = []
    for q, low in quantiles:
        if q >= 0.5:
            continue
        for q_high, high in quantiles:
            if abs(q_high - (1 - q)) < 1e-9:
                out.append((1 - 2 * q, low, high))
    return sorted(out)


def _peak_errors(window: pd.DataFrame, cutoff: pd.Timestamp, end: pd.Timestamp) -> list[float]:
    """|max actual - max yhat| / max actual per whole UTC day inside [cutoff, end)."""
    known = window[window[ACTUAL].notna()]
    if end - cutoff < _DAY:
        groups = [known]
    else:
        day = known[TS].dt.floor("D")
        inside = (day >= cutoff) & (day + _DAY <= end)
        groups = [g for _, g in known[inside.to_numpy()].groupby(day[inside])]
    errors = []
    for group in groups:
        if len(group) == 0:
            continue
        peak = float(group[ACTUAL].max())
        if peak > 0:
            errors.append(abs(peak - float(group[YHAT].max())) / peak)
    return errors


def metrics(
    results: pd.DataFrame,
    series: pd.DataFrame,
    *,
    season_length: int = 24,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score a :func:`backtest` frame: one row per cutoff, then one overall row.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`backtest` (at least ``cutoff``, ``ts``, ``actual``, ``yhat``;
        quantile columns such as ``q0.05`` are found by name).
    series : pandas.DataFrame
        The series that was backtested; each window's MASE scale comes from its rows before
        the cutoff.
    season_length : int
        The lag of MASE's seasonal difference (24 for hourly data, as in M4).
    events : pandas.DataFrame, optional
        The calendar the backtest was given: the hours its ``outage`` events cover are left
        out of the MASE scale, as :func:`backtest` leaves them out of ``actual``.

    Returns
    -------
    pandas.DataFrame
        Columns ``cutoff`` (NaT on the overall row), ``model`` (the labels seen, joined by
        `` | ``), ``n`` (scored points), ``scale``, ``mase``, ``smape``, one ``pinball_<q>`` per
        quantile, one ``coverage_<level>`` per central interval, ``peak_ape`` and ``peak_days``.
        The overall row pools every scored point of every window (each error scaled by its own
        window's scale for MASE) and every scored day.

    Raises
    ------
    ParameterError
        When ``results`` lacks a column or ``series`` breaks the contract.
    """
    season_length = _positive_int(season_length, "season_length")
    needed = [CUTOFF, TS, ACTUAL, YHAT]
    if not isinstance(results, pd.DataFrame) or any(c not in results.columns for c in needed):
        raise ParameterError(
            f"The 'results' parameter must be a backtest frame with columns {needed!r}."
        )
    frame, freq = validate_series(series)
    quantiles = _quantiles_in(results)
    intervals = _intervals(quantiles)
    ts = frame[TS]
    values = np.where(outage_hours(ts, events), np.nan, frame[VALUE].to_numpy())

    rows = []
    pooled: list[pd.DataFrame] = []
    pooled_days: list[float] = []
    for cutoff, window in results.groupby(CUTOFF, sort=True):
        cutoff = parse_timestamp(cutoff, "cutoff")
        window = window.assign(**{TS: pd.to_datetime(window[TS], utc=True)})
        scale = seasonal_scale(values[(ts < cutoff).to_numpy()], season_length)
        point = _pointwise(window, scale, quantiles, intervals)
        days = _peak_errors(window, cutoff, window[TS].max() + freq)
        rows.append(_summary(point, scale, days, cutoff, window, quantiles, intervals))
        pooled.append(point)
        pooled_days.extend(days)
    every = pd.concat(pooled, ignore_index=True) if pooled else pd.DataFrame()
    overall = _summary(every, math.nan, pooled_days, pd.NaT, results, quantiles, intervals)
    overall["scale"] = math.nan
    rows.append(overall)
    out = pd.DataFrame(rows)
    out[CUTOFF] = pd.to_datetime(out[CUTOFF], utc=True)
    return out


def _pointwise(
    window: pd.DataFrame,
    scale: float,
    quantiles: list[tuple[float, str]],
    intervals: list[tuple[float, str, str]],
) -> pd.DataFrame:
    known = window[window[ACTUAL].notna()]
    y = known[ACTUAL].to_numpy(dtype=float)
    f = known[YHAT].to_numpy(dtype=float)
    err = np.abs(y - f)
    denominator = np.abs(y) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        smape = np.where(denominator == 0, 0.0, 200.0 * err / denominator)
        scaled = err / scale if scale > 0 else np.full(len(err), np.nan)
    point = {"scaled": scaled, "smape": smape}
    for q, column in quantiles:
        diff = y - known[column].to_numpy(dtype=float)
        point[pinball_column(q)] = np.maximum(q * diff, (q - 1) * diff)
    for level, low, high in intervals:
        inside = (known[low].to_numpy(dtype=float) <= y) & (y <= known[high].to_numpy(dtype=float))
        point[coverage_column(level)] = inside.astype(float)
    return pd.DataFrame(point)


def _summary(
    point: pd.DataFrame,
    scale: float,
    days: list[float],
    cutoff: Any,
    window: pd.DataFrame,
    quantiles: list[tuple[float, str]],
    intervals: list[tuple[float, str, str]],
) -> dict[str, Any]:
    def mean(column: str) -> float:
        # numpy's mean, not pandas': a NaN forecast must show, not be skipped.
        return float(np.mean(point[column].to_numpy())) if len(point) else math.nan

    labels = window[MODEL].astype(str).unique() if MODEL in window.columns else []
    row: dict[str, Any] = {
        CUTOFF: cutoff,
        # " | ", not "+": the forecaster's own labels hold "+" ("prophet+snaive (weekly, ...)")
        MODEL: " | ".join(labels),
        "n": len(point),
        "scale": scale,
        "mase": mean("scaled"),
        "smape": mean("smape"),
    }
    for q, _ in quantiles:
        row[pinball_column(q)] = mean(pinball_column(q))
    for level, _, _ in intervals:
        row[coverage_column(level)] = mean(coverage_column(level))
    row["peak_ape"] = float(np.mean(days)) if days else math.nan
    row["peak_days"] = len(days)
    return row
