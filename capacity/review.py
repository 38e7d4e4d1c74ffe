"""Computations behind the analyst's and planner's notebooks.

The notebooks ``explore_telemetry``, ``forecast_accuracy_review`` and
``event_headroom_check`` only call these functions and draw the figures of
:mod:`capacity.explore_charts`, so everything they show is ordinary tested code.

Shapes of a series
------------------
:func:`weekday_hour_profile` averages a series by local weekday and hour (a 7 x 24 grid).
:func:`decompose` splits an hourly series additively, without statsmodels:

1. ``trend``: the mean over a centred window of one week, where the window lies wholly
   inside the series and at least 90 % of its steps are known; NaN elsewhere (the first and
   last half week), as in a classical decomposition;
2. the detrended values are averaged per local (weekday, hour) cell; averaging the 7 x 24
   cell means, rather than the rows, keeps an uneven number of weekdays from biasing either
   profile;
3. ``daily``: the cells' mean over weekdays, minus its mean; ``weekly``: the cells' mean over
   hours, minus its mean;
4. ``residual = value - trend - daily - weekly``: what is left, including how the daily shape
   differs between weekdays and weekends, live-ops events and noise.

The profiles rest only on the hours that have a trend, so :func:`decompose` refuses a series
with fewer than two weeks of them (each weekday seen at least twice): a "weekly profile" of
one week is that week. :meth:`Decomposition.describe` says how many days the profiles rest on.

Stored forecasts against what happened
--------------------------------------
:func:`run_actuals` joins the newest stored forecast runs with the telemetry that has arrived
since; :func:`accuracy` scores the joined hours by any grouping:

* ``mape``: mean of ``|yhat - actual| / actual`` over hours with ``actual > 0`` (a fraction);
* ``bias``: mean of ``(yhat - actual) / actual`` over the same hours; positive means the
  forecast was too high;
* ``coverage_90``: share of hours with ``q0.05 <= actual <= q0.95`` (NaN when the run has no
  such quantiles);
* ``peak_ape``: mean over series and UTC days with 24 scored hours of
  ``|max yhat - max actual| / max actual``; days whose peak is 0 are skipped.

Forecasters side by side
------------------------
:func:`compare_forecasters` runs :func:`capacity.comparison.compare` (the same rolling
windows for every forecaster) one forecaster at a time, so that a forecaster that fails is
reported rather than raised and does not hide the others; a parameter error (a series too
short for the windows asked for) is raised. It adds the tables the review shows: scores per
window and pooled, with the mean pinball loss over the quantiles.
"""

from __future__ import annotations

import html
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from capacity.columns import (
    ACTUAL,
    CUTOFF,
    END_TS,
    LATENCY_P99_MS,
    METRIC,
    MODEL,
    REGION,
    SERVERS,
    SERVICE,
    START_TS,
    STEP,
    TS,
    VALUE,
    YHAT,
    quantile_column,
)
from capacity.errors import ParameterError
from capacity.units import as_utc

if TYPE_CHECKING:
    from capacity.backtest import Forecaster
    from capacity.config import FleetConfig
    from capacity.event_check import EventCheck
    from capacity.store import Store

__all__ = [
    "COMPARE_QUANTILES",
    "EXCLUDED",
    "LOAD_PER_SERVER",
    "RUN_ID",
    "WEEKDAYS",
    "BacktestComparison",
    "Decomposition",
    "accuracy",
    "accuracy_by_lead",
    "backtest_history",
    "check_series",
    "compare_forecasters",
    "decompose",
    "decompose_or_note",
    "default_forecasters",
    "event_summary",
    "join_actuals",
    "latency_by_load",
    "load_latency",
    "load_latency_frame",
    "notebook_file",
    "recent_runs",
    "region_status",
    "review_summary",
    "run_actuals",
    "series_summary",
    "status_summary",
    "verdict_thresholds",
    "weekday_hour_profile",
]

#: Column of a stored forecast run's id.
RUN_ID = "run_id"
#: Load per server: the service's demand metric divided by ``servers``.
LOAD_PER_SERVER = "load_per_server"
#: Whether an hour lies in a window that sizing leaves out (maintenance, outage).
EXCLUDED = "excluded"
#: Weekday labels, Monday first (pandas' ``day_of_week`` 0 to 6).
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Quantiles of the forecasters compared by :func:`compare_forecasters`.
COMPARE_QUANTILES = (0.05, 0.5, 0.95)

_HOUR = pd.Timedelta(hours=1)
_WEEK = pd.Timedelta(weeks=1)
#: Hours in a week: the weekly seasonal naive's season. With quantiles it needs one hour more
#: than a season before a window (its spread is read from the differences a week apart).
_WEEK_HOURS = 168
#: Share of a trend window's steps that must be known.
_TREND_COVERAGE = 0.9
#: Days of hours with a known trend that the daily and weekly profiles must rest on.
_MIN_PROFILE_DAYS = 14
_DAY = pd.Timedelta(days=1)
#: Demand/latency metrics per hour that :func:`load_latency` reads besides the demand metric.
_LATENCY_METRICS = (SERVERS, LATENCY_P99_MS)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ParameterError(f"The {name!r} parameter must be a positive integer. Got {value!r}.")
    return int(value)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ParameterError(
            f"The 'timezone' parameter must be an IANA time zone such as 'Europe/Berlin' or "
            f"'UTC'. Got {timezone!r}."
        ) from None


def _duration_text(span: pd.Timedelta) -> str:
    """``7 days``, ``36 hours`` or ``30 minutes``: a duration as a reader writes it."""
    for unit, label in ((_DAY, "day"), (_HOUR, "hour"), (pd.Timedelta(minutes=1), "minute")):
        if span >= unit and span % unit == pd.Timedelta(0):
            count = span // unit
            return f"{count} {label}{'s' if count != 1 else ''}"
    return str(span)


def _number(value: float, scale: float) -> str:
    """``value`` to the decimals that give ``scale`` three significant digits, so the figures
    of one sentence share a precision: ``96,916`` beside a level of 96,916, ``0.037`` beside
    a CPU share of 0.449 (not ``0``), and a rounding error of 1e-14 as ``0``."""
    if not math.isfinite(value):
        return str(value)
    magnitude = math.floor(math.log10(abs(scale))) if math.isfinite(scale) and scale else 2
    decimals = max(0, 2 - magnitude)
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def _hourly_series(series: Any) -> tuple[pd.DataFrame, pd.Timedelta]:
    """``ts, value`` sorted, on a regular grid of at most an hour that divides a week."""
    from capacity.backtest import validate_series

    frame, freq = validate_series(series)
    if freq > _HOUR or _WEEK % freq != pd.Timedelta(0):
        raise ParameterError(
            f"The 'series' parameter must be on an hourly (or finer) grid that divides a week. "
            f"Got a step of {freq}.",
            fix="read it with Store.series(freq='1h')",
        )
    return frame, freq


def _local_clock(ts: pd.Series, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """Local weekday (Monday 0) and hour of each timestamp."""
    local = ts.dt.tz_convert(_zone(timezone))
    return local.dt.day_of_week.to_numpy(), local.dt.hour.to_numpy()


def _cell_means(weekday: np.ndarray, hour: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Mean of the finite ``values`` per (weekday, hour): a 7 x 24 frame, NaN where empty."""
    known = np.isfinite(values)
    grid = (
        pd.DataFrame({"weekday": weekday[known], "hour": hour[known], VALUE: values[known]})
        .groupby(["weekday", "hour"])[VALUE]
        .mean()
        .unstack("hour")
        .reindex(index=range(7), columns=range(24))
    )
    grid.index.name, grid.columns.name = "weekday", "hour"
    return grid.astype("float64")


# --------------------------------------------------------------------------------------------
# Shapes of a series
# --------------------------------------------------------------------------------------------


def weekday_hour_profile(series: pd.DataFrame, *, timezone: str = "UTC") -> pd.DataFrame:
    """The mean value per local weekday and hour.

    Parameters
    ----------
    series : pandas.DataFrame
        Columns ``ts`` (tz-aware, an hourly or finer regular grid) and ``value``; NaN values
        are gaps and left out. Not modified.
    timezone : str
        IANA zone whose clock the weekdays and hours follow (the region's players).

    Returns
    -------
    pandas.DataFrame
        Index ``weekday`` 0 (Monday) to 6, columns ``hour`` 0 to 23; NaN where a cell has no
        value.

    Raises
    ------
    ParameterError
        When the series breaks the contract or the zone is unknown.
    """
    frame, _ = _hourly_series(series)
    weekday, hour = _local_clock(frame[TS], timezone)
    return _cell_means(weekday, hour, frame[VALUE].to_numpy())


@dataclass(frozen=True)
class Decomposition:
    """An additive split of a series (see the module docstring).

    Attributes
    ----------
    frame : pandas.DataFrame
        ``ts, value, trend, daily, weekly, residual``; ``trend`` and ``residual`` are NaN in
        the first and last half week and where the window had too many gaps.
    daily : pandas.Series
        The daily profile by local hour (index 0 to 23), mean 0.
    weekly : pandas.Series
        The weekly profile by local weekday (index 0 = Monday to 6), mean 0.
    timezone : str
        The zone of the local clock.
    days : float
        The days' worth of hours the profiles rest on (those with a value and a trend).
    """

    frame: pd.DataFrame
    daily: pd.Series
    weekly: pd.Series
    timezone: str
    days: float = math.nan

    def describe(self) -> str:
        """One sentence: the level, how far each profile swings, and the residual's spread."""
        level = float(np.nanmean(self.frame["trend"]))
        residual = float(np.nanstd(self.frame["residual"]))

        def swing(profile: pd.Series) -> tuple[float, str]:
            span = float(profile.max() - profile.min())
            share = f" ({span / level:.0%} of the level)" if level > 0 else ""
            return span, share

        daily, daily_share = swing(self.daily)
        weekly, weekly_share = swing(self.weekly)
        top_hour = int(self.daily.idxmax())
        top_day = WEEKDAYS[int(self.weekly.idxmax())]
        scale = abs(level) if level else max(daily, weekly)
        return (
            f"Level {_number(level, scale)}. The daily profile swings "
            f"{_number(daily, scale)}{daily_share}, highest at {top_hour:02d}:00 "
            f"{self.timezone} time; the weekly profile swings {_number(weekly, scale)}"
            f"{weekly_share}, highest on {top_day}. What is left has a standard deviation of "
            f"{_number(residual, scale)}."
        ) + (
            f" The profiles rest on {self.days:.0f} days of hours with a known trend."
            if math.isfinite(self.days)
            else ""
        )


def decompose(
    series: pd.DataFrame, *, timezone: str = "UTC", window: str | pd.Timedelta = "7d"
) -> Decomposition:
    """Split a series into trend, daily profile, weekly profile and residual.

    Parameters
    ----------
    series : pandas.DataFrame
        Columns ``ts`` (tz-aware, an hourly or finer regular grid) and ``value``; NaN marks a
        gap. Not modified.
    timezone : str
        IANA zone whose clock the profiles follow.
    window : str or Timedelta
        Width of the centred moving average that makes the trend (default one week, which
        cancels both profiles).

    Returns
    -------
    Decomposition

    Raises
    ------
    ParameterError
        When the series breaks the contract, the zone is unknown, or the series is too short
        (or too gappy) for two weeks of hours with a known trend.
    """
    from capacity.units import parse_duration

    frame, freq = _hourly_series(series)
    _zone(timezone)  # a bad zone is an error, not a series too short to decompose
    span = parse_duration(window, "window")
    width = int(span / freq)
    if width < 2:
        raise ParameterError(
            f"The 'window' parameter must span at least two steps. Got {window!r}."
        )
    y = frame[VALUE].to_numpy()
    n = len(y)
    known = np.isfinite(y)
    sums = np.concatenate([[0.0], np.cumsum(np.where(known, y, 0.0))])
    counts = np.concatenate([[0], np.cumsum(known)])
    lo = np.arange(n) - width // 2
    hi = lo + width
    whole = (lo >= 0) & (hi <= n)
    trend = np.full(n, np.nan)
    lo_w, hi_w = lo[whole], hi[whole]
    count = counts[hi_w] - counts[lo_w]
    enough = count >= math.ceil(_TREND_COVERAGE * width)
    values = np.full(len(lo_w), np.nan)
    values[enough] = (sums[hi_w] - sums[lo_w])[enough] / count[enough]
    trend[whole] = values
    known_days = int(known.sum()) * freq / _DAY
    got = (
        f"the series has {n:,} steps of {_duration_text(freq)} ({n * freq / _DAY:.1f} days), "
        f"{known_days:.1f} days of them known"
    )
    fix = (
        f"pick a start-to-end window of {_MIN_PROFILE_DAYS + span // _DAY} days or more with "
        "few missing hours"
    )
    if not np.isfinite(trend).any():
        raise _TooShort(
            f"The decomposition needs at least one full trend window of {_duration_text(span)} "
            f"with {_TREND_COVERAGE:.0%} of its steps known; {got}.",
            fix=fix,
        )
    rested = float(np.isfinite(y - trend).sum() * freq / _DAY)
    if rested < _MIN_PROFILE_DAYS:
        raise _TooShort(
            f"The decomposition needs at least {_MIN_PROFILE_DAYS} days of hours with a known "
            f"trend (a centred {_duration_text(span)} window, {_TREND_COVERAGE:.0%} known), so "
            f"that each weekday is seen twice; {got}, "
            f"{rested:.1f} with a known trend.",
            fix=fix,
        )
    weekday, hour = _local_clock(frame[TS], timezone)
    cells = _cell_means(weekday, hour, y - trend)
    daily = cells.mean(axis=0)  # over weekdays, per hour (empty cells skipped)
    weekly = cells.mean(axis=1)  # over hours, per weekday
    daily = (daily - daily.mean()).rename("daily")
    weekly = (weekly - weekly.mean()).rename("weekly")
    out = frame.assign(
        trend=trend,
        daily=daily.reindex(hour).to_numpy(),
        weekly=weekly.reindex(weekday).to_numpy(),
    )
    out["residual"] = out[VALUE] - out["trend"] - out["daily"] - out["weekly"]
    return Decomposition(out, daily, weekly, timezone, rested)


class _TooShort(ParameterError):
    """A series too short or too gappy to decompose."""


def decompose_or_note(
    series: pd.DataFrame, *, timezone: str = "UTC"
) -> tuple[Decomposition | None, str]:
    """:func:`decompose`, or nothing and why, for a notebook that goes on without it.

    Returns
    -------
    tuple
        The decomposition and its :meth:`~Decomposition.describe` sentence, or ``None`` and
        a sentence saying the series is too short or too gappy to decompose and what to pick.

    Raises
    ------
    ParameterError
        When the series breaks the contract or the zone is unknown.
    """
    try:
        decomposition = decompose(series, timezone=timezone)
    except _TooShort as exc:
        return None, f"No decomposition: {exc}"
    return decomposition, decomposition.describe()


# --------------------------------------------------------------------------------------------
# Load against latency
# --------------------------------------------------------------------------------------------


def load_latency_frame(
    telemetry: pd.DataFrame,
    *,
    demand_metric: str,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Hourly load per server and p99 latency of one region/service, from tidy telemetry.

    Parameters
    ----------
    telemetry : pandas.DataFrame
        Long rows ``ts, metric, value`` (other columns ignored) holding ``demand_metric``,
        ``servers`` and ``latency_p99_ms`` of one region/service on one grid.
    demand_metric : str
        The service's demand metric (``ccu`` or ``rps``).
    events : pandas.DataFrame, optional
        Calendar windows (``start_ts``, ``end_ts``) whose hours sizing leaves out; their
        hours are kept but flagged ``excluded``.

    Returns
    -------
    pandas.DataFrame
        ``ts, load_per_server, latency_p99_ms, excluded`` for the hours where both values are
        finite (hours with no servers have no load per server), sorted by ``ts``.
    """
    wanted = [demand_metric, *_LATENCY_METRICS]
    wide = (
        telemetry[telemetry[METRIC].isin(wanted)]
        .pivot_table(index=TS, columns=METRIC, values=VALUE, aggfunc="mean", dropna=False)
        .reindex(columns=wanted)
        .sort_index()
    )
    servers = wide[SERVERS].to_numpy("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_server = np.where(
            servers > 0, wide[demand_metric].to_numpy("float64") / servers, np.nan
        )
    ts = pd.DatetimeIndex(wide.index)
    excluded = np.zeros(len(ts), dtype=bool)
    if events is not None:
        for start, end in zip(events[START_TS], events[END_TS], strict=True):
            excluded |= np.asarray((ts >= start) & (ts < end))
    frame = pd.DataFrame(
        {
            TS: ts,
            LOAD_PER_SERVER: per_server,
            LATENCY_P99_MS: wide[LATENCY_P99_MS].to_numpy("float64"),
            EXCLUDED: excluded,
        }
    )
    usable = np.isfinite(frame[LOAD_PER_SERVER]) & np.isfinite(frame[LATENCY_P99_MS])
    return frame[usable.to_numpy()].reset_index(drop=True)


def load_latency(
    store: Store,
    fleet: FleetConfig,
    region: str,
    service: str,
    *,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """:func:`load_latency_frame` read from the store, flagging maintenance and outage hours.

    Parameters
    ----------
    store : Store
        Telemetry and calendar.
    fleet : FleetConfig
        Gives the service's demand metric.
    region, service : str
        The series; both must be in the fleet.
    start, end : timestamp-like, optional
        Hours ``start <= ts < end``; default all.

    Returns
    -------
    pandas.DataFrame
        As :func:`load_latency_frame`.

    Raises
    ------
    ParameterError
        When the region or service is not in the fleet.
    """
    from capacity.sizing import DEFAULT_EXCLUDE_KINDS

    for name, value, known in (
        ("region", region, fleet.regions),
        ("service", service, fleet.services),
    ):
        if value not in known:
            raise ParameterError(
                f"The {name!r} parameter must name a {name} of the fleet ({', '.join(known)}). "
                f"Got {value!r}."
            )
    metric = fleet.services[service].demand_metric
    telemetry = store.series(
        region=region, service=service, metric=[metric, *_LATENCY_METRICS], start=start, end=end
    )
    events = store.events(start=start, end=end, region=region, kinds=list(DEFAULT_EXCLUDE_KINDS))
    return load_latency_frame(telemetry, demand_metric=metric, events=events)


def latency_by_load(frame: pd.DataFrame, *, bins: int = 20) -> pd.DataFrame:
    """The median p99 latency per bin of load per server: the curve the hours scatter around.

    Hours flagged ``excluded`` are left out. Bins hold equal numbers of hours (quantile
    bins); each row is a bin's median load and median p99.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`load_latency_frame`.
    bins : int
        Number of bins (fewer when there are fewer distinct loads).

    Returns
    -------
    pandas.DataFrame
        ``load_per_server, latency_p99_ms, hours``, by increasing load.
    """
    bins = _positive_int(bins, "bins")
    used = frame[~frame[EXCLUDED]] if EXCLUDED in frame else frame
    if used.empty:
        return pd.DataFrame({LOAD_PER_SERVER: [], LATENCY_P99_MS: [], "hours": []})
    ranks = used[LOAD_PER_SERVER].rank(method="first").to_numpy()
    which = np.minimum(((ranks - 1) * bins // len(used)).astype(int), bins - 1)
    grouped = used.groupby(which)
    return pd.DataFrame(
        {
            LOAD_PER_SERVER: grouped[LOAD_PER_SERVER].median().to_numpy(),
            LATENCY_P99_MS: grouped[LATENCY_P99_MS].median().to_numpy(),
            "hours": grouped.size().to_numpy(),
        }
    )


def region_status(status: pd.DataFrame, region: str) -> pd.DataFrame:
    """The rows of :meth:`Store.status`'s series table for one region, without the load id
    (``last_loaded_at`` says when)."""
    mine = status[status[REGION] == region]
    return mine.drop(columns=["last_load_id"], errors="ignore").reset_index(drop=True)


def status_summary(status: pd.DataFrame) -> str:
    """One sentence about :meth:`Store.status`'s series table: how much, since when, gaps."""
    if status.empty:
        return "The store holds no telemetry yet."
    regions = status[REGION].nunique()
    first = pd.Timestamp(status["first_ts"].min()).tz_convert("UTC")
    last = pd.Timestamp(status["last_ts"].max()).tz_convert("UTC")
    return (
        f"{len(status):,} series in {regions} region{'s' if regions != 1 else ''}, "
        f"{int(status['rows'].sum()):,} rows from {first:%Y-%m-%d %H:%M} "
        f"to {last:%Y-%m-%d %H:%M} UTC; "
        f"{int(status['missing_hours'].sum()):,} missing hours in "
        f"{int(status['gaps'].sum()):,} gaps."
    )


# --------------------------------------------------------------------------------------------
# Stored forecasts against what happened
# --------------------------------------------------------------------------------------------


def recent_runs(store: Store, runs: int = 4) -> pd.DataFrame:
    """The newest ``runs`` stored forecast runs.

    Returns
    -------
    pandas.DataFrame
        ``run_id, created_at, cutoff, horizon_end, series, fallbacks, seconds``, newest first.
    """
    runs = _positive_int(runs, "runs")
    table = store.forecast_runs().head(runs)
    cutoff = pd.to_datetime(table[CUTOFF], utc=True)
    step = pd.to_timedelta(table["freq_seconds"].astype("float64"), unit="s")
    table = table.assign(
        **{CUTOFF: cutoff, "horizon_end": cutoff + step * table["horizon_steps"].astype("int64")}
    )
    return table.loc[
        :, [RUN_ID, "created_at", CUTOFF, "horizon_end", "series", "fallbacks", "seconds"]
    ].reset_index(drop=True)


def join_actuals(forecast: pd.DataFrame, actual: pd.DataFrame, cutoff: Any = None) -> pd.DataFrame:
    """A stored run's forecast beside the values that happened, for the hours known.

    Parameters
    ----------
    forecast : pandas.DataFrame
        One run from :meth:`Store.forecast`: ``run_id, region, service, metric, ts, yhat``
        and quantile columns.
    actual : pandas.DataFrame
        Telemetry ``ts, region, service, metric, value`` (as :meth:`Store.series`).
    cutoff : timestamp-like, optional
        The run's first forecast hour; default the earliest ``ts`` of the forecast.

    Returns
    -------
    pandas.DataFrame
        The forecast's columns, ``cutoff``, ``step`` (1 at the cutoff, counted in hours) and
        ``actual``; only rows whose actual value is known.
    """
    if forecast.empty:
        return forecast.assign(**{CUTOFF: pd.NaT, STEP: pd.Series(dtype="int64"), ACTUAL: np.nan})
    start = pd.Timestamp(cutoff) if cutoff is not None and not pd.isna(cutoff) else None
    start = forecast[TS].min() if start is None else start
    start = as_utc(start)
    keys = [REGION, SERVICE, METRIC, TS]
    values = actual.loc[:, [*keys, VALUE]].rename(columns={VALUE: ACTUAL})
    both = forecast.merge(values, on=keys, how="inner")
    both = both[np.isfinite(both[ACTUAL].to_numpy("float64"))].copy()
    both[CUTOFF] = start
    both[STEP] = ((both[TS] - start) / _HOUR).astype("int64") + 1
    return both.sort_values([REGION, SERVICE, METRIC, TS]).reset_index(drop=True)


def run_actuals(store: Store, runs: int = 4) -> pd.DataFrame:
    """The newest ``runs`` stored runs joined with the telemetry that has arrived since.

    Returns
    -------
    pandas.DataFrame
        :func:`join_actuals` of every run, concatenated (empty when no run has a known hour).
    """
    frames = []
    for row in recent_runs(store, runs).itertuples(index=False):
        forecast = store.forecast(row.run_id)
        if forecast.empty:
            continue
        actual = store.series(
            region=sorted(forecast[REGION].unique()),
            service=sorted(forecast[SERVICE].unique()),
            metric=sorted(forecast[METRIC].unique()),
            start=forecast[TS].min(),
            end=forecast[TS].max() + _HOUR,
        )
        frames.append(join_actuals(forecast, actual, row.cutoff))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(
            columns=[RUN_ID, REGION, SERVICE, METRIC, TS, YHAT, CUTOFF, STEP, ACTUAL]
        )
    return pd.concat(frames, ignore_index=True)


def _peak_errors(joined: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: mean |max yhat - max actual| / max actual over series-days of 24 hours."""
    keys = list(dict.fromkeys([*by, RUN_ID, REGION, SERVICE, METRIC]))
    keys = [k for k in keys if k in joined]
    days = (
        joined.assign(day=joined[TS].dt.floor("D"))
        .groupby([*keys, "day"], dropna=False)
        .agg(hours=(ACTUAL, "size"), peak=(ACTUAL, "max"), predicted=(YHAT, "max"))
        .reset_index()
    )
    days = days[(days["hours"] >= 24) & (days["peak"] > 0)]
    days = days.assign(peak_error=(days["predicted"] - days["peak"]).abs() / days["peak"])
    return (
        days.groupby(by, dropna=False)
        .agg(peak_ape=("peak_error", "mean"), peak_days=("peak_error", "size"))
        .reset_index()
    )


def accuracy(
    joined: pd.DataFrame,
    *,
    by: Sequence[str] = (RUN_ID, CUTOFF, REGION, SERVICE, METRIC),
    low: float = 0.05,
    high: float = 0.95,
) -> pd.DataFrame:
    """Score forecast hours against what happened, per group (see the module docstring).

    Parameters
    ----------
    joined : pandas.DataFrame
        From :func:`join_actuals` or :func:`run_actuals`.
    by : sequence of str
        The grouping columns; the default scores every run and series.
    low, high : float
        The quantiles bounding the interval whose coverage is reported.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``hours``, ``mape``, ``bias``, ``coverage_<level>``, ``peak_ape``
        and ``peak_days``.
    """
    from capacity.backtest import coverage_column

    by = list(by)
    missing = [c for c in [*by, TS, YHAT, ACTUAL] if c not in joined]
    if missing:
        raise ParameterError(
            f"The 'joined' parameter must have columns {', '.join(missing)}. "
            f"Got {', '.join(map(str, joined.columns))}."
        )
    coverage = coverage_column(round(high - low, 6))
    columns = [*by, "hours", "mape", "bias", coverage, "peak_ape", "peak_days"]
    if joined.empty:
        return pd.DataFrame(columns=columns)
    actual = joined[ACTUAL].to_numpy("float64")
    predicted = joined[YHAT].to_numpy("float64")
    positive = actual > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(positive, (predicted - actual) / actual, np.nan)
    lo, hi = quantile_column(low), quantile_column(high)
    inside = (
        ((joined[lo] <= joined[ACTUAL]) & (joined[ACTUAL] <= joined[hi])).astype("float64")
        if lo in joined and hi in joined
        else pd.Series(np.nan, index=joined.index)
    )
    scored = joined.loc[:, by].assign(
        _abs=np.abs(relative), _rel=relative, _inside=inside.to_numpy()
    )
    table = (
        scored.groupby(by, dropna=False)
        .agg(
            hours=("_rel", "size"),
            mape=("_abs", "mean"),
            bias=("_rel", "mean"),
            **{coverage: ("_inside", "mean")},
        )
        .reset_index()
    )
    table = table.merge(_peak_errors(joined, by), on=by, how="left")
    table["peak_days"] = table["peak_days"].fillna(0).astype("int64")
    return table.loc[:, columns]


def accuracy_by_lead(joined: pd.DataFrame, *, bucket_hours: int = 24) -> pd.DataFrame:
    """:func:`accuracy` per run and lead time: day 1 is the first ``bucket_hours`` hours.

    Returns
    -------
    pandas.DataFrame
        ``run_id, cutoff, lead_day`` and the columns of :func:`accuracy`.
    """
    bucket_hours = _positive_int(bucket_hours, "bucket_hours")
    lead = (joined[STEP].astype("int64") - 1) // bucket_hours + 1 if len(joined) else []
    return accuracy(joined.assign(lead_day=lead), by=(RUN_ID, CUTOFF, "lead_day"))


# --------------------------------------------------------------------------------------------
# Forecasters side by side
# --------------------------------------------------------------------------------------------


def default_forecasters(
    *,
    holidays_country: str | None = None,
    timezone: str | None = None,
    quantiles: Sequence[float] = COMPARE_QUANTILES,
) -> dict[str, Forecaster]:
    """The project's forecaster and the two baselines it must beat, by display name.

    ``capacity``: :class:`~capacity.forecast.DemandForecaster` fitted with the region's
    holidays and time zone (:class:`capacity.comparison.PlacedForecaster`);
    ``seasonal naive (weekly)``: last week repeated; ``prophet (defaults)``: Prophet with its
    defaults and no events. The names are those of :func:`capacity.comparison.default_models`.
    """
    from capacity.baselines import ProphetDefault, SeasonalNaive
    from capacity.comparison import PlacedForecaster
    from capacity.forecast import DemandForecaster

    levels = tuple(quantiles)
    place = {"holidays_country": holidays_country, "timezone": timezone}
    return {
        "capacity": PlacedForecaster(DemandForecaster(quantiles=levels), place),
        "seasonal naive (weekly)": SeasonalNaive(season_length=_WEEK_HOURS, quantiles=levels),
        "prophet (defaults)": ProphetDefault(quantiles=levels),
    }


def backtest_history(
    series: pd.DataFrame,
    history: str | pd.Timedelta,
    *,
    horizon: int,
    n_windows: int,
    season_length: int = 24,
) -> pd.DataFrame:
    """The last ``history`` of an hourly series, checked to hold the backtest asked for.

    :func:`compare_forecasters` puts ``n_windows`` windows of ``horizon`` hours side by
    side at the end of the series, and each needs hours before it to fit on: two seasons,
    and a week and an hour for the weekly seasonal naive of :func:`default_forecasters`. A
    history too short for them is refused here in the notebook's terms (``history``,
    ``n_windows``, ``horizon``) rather than by a forecaster in its own.

    Parameters
    ----------
    series : pandas.DataFrame
        ``ts, value`` on an hourly grid, as ``Store.series`` returns it.
    history : str or Timedelta
        How far back from the newest hour to keep (``56d``).
    horizon, n_windows : int
        The backtest's hours per window and number of windows.
    season_length : int
        The seasonal period in hours, as given to :func:`compare_forecasters`.

    Returns
    -------
    pandas.DataFrame
        The rows newer than the newest ``ts`` minus ``history``, reindexed.

    Raises
    ------
    ParameterError
        When a parameter is malformed, or the kept hours are too few for the windows.
    """
    from capacity.backtest import default_min_train, windows_that_fit
    from capacity.units import parse_duration

    span = parse_duration(history, "history")
    horizon = _positive_int(horizon, "horizon")
    n_windows = _positive_int(n_windows, "n_windows")
    seasons = default_min_train(_positive_int(season_length, "season_length"))
    min_train = max(seasons, _WEEK_HOURS + 1)
    if series.empty:
        return series.reset_index(drop=True)
    kept = series[series[TS] > series[TS].max() - span].reset_index(drop=True)
    needed = n_windows * horizon + min_train
    if len(kept) < needed:
        fit = windows_that_fit(len(kept), horizon=horizon, step=horizon, min_train=min_train)
        days = math.ceil(needed / 24)
        shorter = (len(kept) - min_train) // n_windows
        if fit:
            lower = f" or lower n_windows to {fit}"
        elif shorter >= 1:
            lower = f" or lower horizon to {shorter}"
        else:
            lower = ""
        why = (
            f"two seasons of {season_length}"
            if seasons >= min_train
            else "the weekly seasonal naive repeats the week before"
        )
        raise ParameterError(
            f"The 'history' parameter ({history}) keeps {len(kept):,} hours, too few for "
            f"{n_windows} backtest window{'s' if n_windows != 1 else ''} of {horizon} hours: "
            f"they need {needed:,} ({n_windows} x {horizon} forecast, and {min_train} before "
            f"the first to fit on: {why}). "
            f"Fix: raise history to {days}d or more{lower} in the parameters cell"
        )
    return kept


@dataclass(frozen=True)
class BacktestComparison:
    """The result of :func:`compare_forecasters`.

    Attributes
    ----------
    results : pandas.DataFrame
        The backtest rows of every forecaster that ran; ``model`` holds its display name (as
        :attr:`capacity.comparison.Comparison.results`, so
        :func:`capacity.charts.backtest_figure` draws it).
    windows : pandas.DataFrame
        Scores per forecaster and cutoff: ``model, cutoff, n, mase, smape, coverage_90,
        pinball, peak_ape`` (``pinball`` is the mean over the quantiles).
    overall : pandas.DataFrame
        ``model`` and the same scores over all windows pooled, in the order given.
    errors : pandas.DataFrame
        ``model, error``: the forecasters that failed (empty when none did).
    """

    results: pd.DataFrame
    windows: pd.DataFrame
    overall: pd.DataFrame
    errors: pd.DataFrame


_SCORES = ("n", "mase", "smape", "coverage_90", "pinball", "peak_ape")


def compare_forecasters(
    series: pd.DataFrame,
    forecasters: Mapping[str, Forecaster] | None = None,
    *,
    events: pd.DataFrame | None = None,
    horizon: int = 168,
    n_windows: int = 3,
    step: int | None = None,
    season_length: int = 24,
    holidays_country: str | None = None,
    timezone: str | None = None,
) -> BacktestComparison:
    """:func:`capacity.comparison.compare`, one forecaster at a time, with display tables.

    Parameters
    ----------
    series : pandas.DataFrame
        Columns ``ts`` and ``value`` on a regular grid (other columns ignored).
    forecasters : mapping of str to Forecaster, optional
        Display name to an unfitted forecaster; default :func:`default_forecasters` for the
        place.
    events : pandas.DataFrame, optional
        The region's calendar; each window sees what was known at its cutoff.
    horizon, n_windows, step : int
        Steps forecast per window, number of windows (2 to 4 reads well), and steps between
        cutoffs (default ``horizon``: windows side by side).
    season_length : int
        MASE's seasonal lag (24 for hourly data).
    holidays_country, timezone : str, optional
        The region's, for the default forecasters.

    Returns
    -------
    BacktestComparison

    Raises
    ------
    ParameterError
        When the series is too short for the windows, or a parameter is out of range.
    """
    from capacity.backtest import validate_series
    from capacity.comparison import compare

    frame, _ = validate_series(series)
    if forecasters is None:
        forecasters = default_forecasters(holidays_country=holidays_country, timezone=timezone)
    step = horizon if step is None else step
    results, scores, errors = [], [], []
    for name, forecaster in forecasters.items():
        try:
            one = compare(
                frame,
                {name: forecaster},
                horizon=horizon,
                n_windows=n_windows,
                step=step,
                events=events,
                season_length=season_length,
            )
        except ParameterError:
            raise
        except Exception as exc:  # one failing model must not hide the others
            errors.append({MODEL: name, "error": f"{type(exc).__name__}: {exc}"})
            continue
        pinball = [c for c in one.scores.columns if str(c).startswith("pinball_")]
        scores.append(
            one.scores.assign(
                pinball=one.scores[pinball].mean(axis=1) if pinball else np.nan,
                coverage_90=one.scores.get("coverage_90", np.nan),
            )
        )
        results.append(one.results)
    failed = pd.DataFrame(errors, columns=[MODEL, "error"])
    if not results:
        empty = pd.DataFrame(columns=[MODEL, CUTOFF, *_SCORES])
        return BacktestComparison(pd.DataFrame(), empty, empty.drop(columns=CUTOFF), failed)
    table = pd.concat(scores, ignore_index=True)
    return BacktestComparison(
        pd.concat(results, ignore_index=True),
        table[table[CUTOFF].notna()].loc[:, [MODEL, CUTOFF, *_SCORES]].reset_index(drop=True),
        table[table[CUTOFF].isna()].loc[:, [MODEL, *_SCORES]].reset_index(drop=True),
        failed,
    )


# --------------------------------------------------------------------------------------------
# The event check in words
# --------------------------------------------------------------------------------------------


def verdict_thresholds() -> str:
    """Markdown: how the event check's verdicts follow from its thresholds."""
    from capacity.event_check import AT_RISK_PROBABILITY, CHECK_QUANTILES, NO_GO_PROBABILITY

    at_risk, no_go = f"{AT_RISK_PROBABILITY:.0%}", f"{NO_GO_PROBABILITY:.0%}"
    lowest, highest = min(CHECK_QUANTILES), max(CHECK_QUANTILES)
    return (
        "*Safe capacity* is the servers available times the safe load per server (the load at "
        "which the median p99 latency reaches the SLO). For each hour of the event the "
        "forecast's quantiles give the probability that demand exceeds it; the check keeps "
        "the worst hour.\n\n"
        f"- **GO**: that probability stays below {at_risk} at every hour, and the servers "
        "available cover the N+k rule.\n"
        f"- **AT_RISK**: it reaches {at_risk} at some hour, or the servers available are "
        "short of N+k (no spare for a failure).\n"
        f"- **NO_GO**: it reaches {no_go} at some hour: demand more likely than not exceeds "
        "safe capacity.\n\n"
        f"Probabilities are read between the {lowest:g} and {highest:g} quantiles, so they "
        f"never show below {1 - highest:.0%} or above {1 - lowest:.0%}. `add_servers` reaches "
        "the N+k need at the p95 peak; `act_by` is the start minus the server type's boot and "
        "procurement lead times."
    )


def event_summary(check: EventCheck) -> str:
    """HTML: the event as checked, the verdicts in one line and what to do; names escaped."""
    event, table = check.event, check.table
    counts = table["verdict"].value_counts() if len(table) else pd.Series(dtype="int64")
    verdicts = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("GO", "AT_RISK", "NO_GO"))
    parts = [
        f"<p><b>{html.escape(event.name)}</b>: {event.start:%Y-%m-%d %H:%M} to "
        f"{event.end:%Y-%m-%d %H:%M} UTC in {html.escape(', '.join(event.regions))}; "
        f"expected demand x{event.uplift:g} ({html.escape(check.origin)}).</p>",
        f"<p>{len(table)} region/service{'s' if len(table) != 1 else ''} checked: {verdicts}.</p>",
    ]
    short = table[table["add_servers"] > 0] if len(table) else table
    if len(short):
        first = short.sort_values("act_by").iloc[0]
        late = int(short["overdue"].sum())
        parts.append(
            f"<p>Add {int(short['add_servers'].sum()):,} servers across {len(short)} "
            f"region/service{'s' if len(short) != 1 else ''}; the earliest act-by date is "
            f"{first['act_by']:%Y-%m-%d %H:%M} UTC "
            f"({html.escape(str(first[REGION]))} / {html.escape(str(first[SERVICE]))})"
            + (f"; {late} already overdue." if late else ".")
            + "</p>"
        )
    else:
        parts.append("<p>No servers to add.</p>")
    # A stored event this one is taken to be is named in the first line (``check.origin``)
    # and explained by ``check.notes()``, which the notebook shows beneath: not a third time.
    return "".join(parts)


def check_series(
    fleet: FleetConfig,
    series: pd.DataFrame,
    *,
    region: str,
    service: str,
    metric: str,
    start: Any = None,
    end: Any = None,
    status: pd.DataFrame | None = None,
) -> None:
    """Refuse a notebook's choice of series that the fleet or the store does not have,
    naming the parameter and what there is, before a chart fails on an empty frame.

    Parameters
    ----------
    fleet : FleetConfig
        The regions and services there are.
    series : pandas.DataFrame
        What the store returned for the choice (``store.series``).
    region, service, metric : str
        The notebook's parameters.
    start, end : optional
        The notebook's span, when it has one (empty or None: that end is open).
    status : pandas.DataFrame, optional
        :meth:`Store.status`'s series table: when given, an empty span is refused with the
        span the store holds for the series.

    Raises
    ------
    ParameterError
        When the region or service is not in the fleet, the metric is not one capacity
        reads, ``start`` is not before ``end``, the store holds no value of it for that
        region and service, or the span keeps a single hour.
    """
    from capacity.columns import METRICS
    from capacity.records import suggest
    from capacity.units import parse_timestamp

    for name, value, known in (
        ("region", region, list(fleet.regions)),
        ("service", service, list(fleet.services)),
        ("metric", metric, list(METRICS)),
    ):
        if value not in known:
            raise ParameterError(
                f"The '{name}' parameter must be one of {', '.join(known)}. Got {value!r}. "
                f"Fix: {suggest(value, known)}set it in the parameters cell"
            )
    first = parse_timestamp(start, "start") if start not in (None, "") else None
    last = parse_timestamp(end, "end") if end not in (None, "") else None
    if first is not None and last is not None and first >= last:
        raise ParameterError(
            f"The 'start' parameter ({first:%Y-%m-%d %H:%M} UTC) must be before 'end' "
            f"({last:%Y-%m-%d %H:%M} UTC). Fix: swap them in the parameters cell, or leave "
            "one empty for an open end"
        )
    if series.empty or series[VALUE].notna().sum() == 0:
        chosen = "in the whole store"
        if first is not None or last is not None:
            since = f"{first:%Y-%m-%d %H:%M}" if first is not None else "the start"
            until = f"{last:%Y-%m-%d %H:%M} UTC" if last is not None else "the end"
            chosen = f"from {since} to {until} (the 'start' and 'end' parameters)"
        held = _stored_span(status, region, service, metric)
        fix = (
            "set start and end inside that span, or both to '' for all of it, in the "
            "parameters cell"
            if held and (first is not None or last is not None)
            else "choose another metric or span in the parameters cell (capacity status "
            "--by-metric lists what is stored)"
        )
        raise ParameterError(
            f"The store holds no {metric} for {region}/{service} {chosen}"
            + (f"; it holds {held}" if held else "")
            + f". Fix: {fix}"
        )
    if len(series) < 2:  # a grid of one step has no step: every chart would fail on it
        hour = f"1 hour of {metric} for {region}/{service} ({series[TS].min():%Y-%m-%d %H:%M} UTC)"
        if first is not None or last is not None:
            raise ParameterError(
                f"The 'start' and 'end' parameters keep {hour}; the charts need at least 2. "
                "Fix: widen the span in the parameters cell"
            )
        raise ParameterError(
            f"The store holds {hour}; the charts need at least 2. Fix: load more telemetry "
            "(capacity ingest or capacity pull)"
        )


def _stored_span(status: pd.DataFrame | None, region: str, service: str, metric: str) -> str:
    """``2025-09-29 00:00 to 2026-11-22 23:00 UTC`` for a series of a status table, or ``""``."""
    if status is None or status.empty or not {"first_ts", "last_ts"} <= set(status.columns):
        return ""
    mine = status[
        (status[REGION] == region) & (status[SERVICE] == service) & (status[METRIC] == metric)
    ]
    if mine.empty or pd.isna(mine["first_ts"].min()):
        return ""
    first = pd.Timestamp(mine["first_ts"].min()).tz_convert("UTC")
    last = pd.Timestamp(mine["last_ts"].max()).tz_convert("UTC")
    return f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"


# --------------------------------------------------------------------------------------------
# Notebook inputs and headlines
# --------------------------------------------------------------------------------------------


def notebook_file(path: str | os.PathLike[str], name: str, *, hint: str = "") -> Path:
    """The file a notebook's path parameter names, or a one-line error saying where it looked.

    A relative path is read from the folder the notebook runs in: under ``make lab`` or
    ``papermill --cwd notebooks``, ``notebooks/``; under a bare ``papermill`` the folder it
    was started from, where the defaults (``../data/...``) point nowhere.

    Parameters
    ----------
    path : str or path-like
        The parameter's value.
    name : str
        The parameter's name (``db``, ``config``).
    hint : str
        How to get such a file, added to the fix (``make plan builds the demo store``).

    Returns
    -------
    pathlib.Path
        ``path``, unchanged, when it names a file.

    Raises
    ------
    ParameterError
        When it names no file (or a folder), naming the parameter, the folder a relative
        path was read from, and the fix.
    """
    given = Path(os.fspath(path)).expanduser()
    if str(path).strip() and given.is_file():
        return given
    if given.is_absolute():
        where, fix = "", f"give the path of an existing file: -p {name} /path/to/file"
    else:
        where = f", read from {Path.cwd()} (where the notebook runs)"
        fix = (
            "run papermill with --cwd notebooks (the default paths are relative to "
            f"notebooks/), or give an absolute path: -p {name} /path/to/file"
        )
    raise ParameterError(
        f"The {name!r} parameter names {str(path)!r}, which is not a file{where}.",
        fix=f"{fix}{'; ' + hint if hint else ''}",
    )


def series_summary(
    series: pd.DataFrame, *, region: str, service: str, metric: str, timezone: str
) -> str:
    """Markdown: the series chosen, its hours from when to when (UTC), how many are missing,
    and the region's local zone, which the weekday and hour charts follow."""
    first, last = series[TS].min(), series[TS].max()
    missing = int(series[VALUE].isna().sum())
    return (
        f"**{html.escape(region)} / {html.escape(service)} / {html.escape(metric)}**, "
        f"{len(series):,} hours from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC, "
        f"{missing:,} of them missing. Times on the charts' time axes are UTC; the weekday "
        f"and hour charts follow local time, {html.escape(timezone)}."
    )


def review_summary(
    stored: pd.DataFrame,
    joined: pd.DataFrame,
    series: pd.DataFrame,
    *,
    region: str,
    service: str,
    metric: str,
    horizon: int,
    n_windows: int,
) -> str:
    """Markdown: the forecast review's scope, the stored runs and hours compared, and the
    backtest's series, span and windows."""
    runs = len(stored)
    return (
        f"{runs} stored run{'s' if runs != 1 else ''} reviewed, {len(joined):,} forecast "
        f"hour{'s' if len(joined) != 1 else ''} with a known actual value. Backtest on "
        f"**{html.escape(region)} / {html.escape(service)} / {html.escape(metric)}**: "
        f"{len(series):,} hours from {series[TS].min():%Y-%m-%d %H:%M} to "
        f"{series[TS].max():%Y-%m-%d %H:%M} UTC, {n_windows} window"
        f"{'s' if n_windows != 1 else ''} of {horizon} hours."
    )
