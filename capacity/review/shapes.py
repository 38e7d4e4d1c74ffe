"""The shapes of a series, for the ``explore_telemetry`` notebook.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from capacity.columns import FRACTION_METRICS, METRIC, TS, VALUE
from capacity.errors import ParameterError
from capacity.review.constants import DAY, HOUR, WEEK, WEEKDAYS

#: Share of a trend window's steps that must be known.
_TREND_COVERAGE = 0.9
#: Days of hours with a known trend that the daily and weekly profiles must rest on.
_MIN_PROFILE_DAYS = 14


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
    for unit, label in ((DAY, "day"), (HOUR, "hour"), (pd.Timedelta(minutes=1), "minute")):
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

    frame, freq = validate_series(series, takes="its shape is read one series at a time")
    if freq > HOUR or WEEK % freq != pd.Timedelta(0):
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
    metric : str
        The series' metric when its frame named one: a fraction (``cpu_util``,
        ``error_rate``) is described in percent, as its charts draw it.
    """

    frame: pd.DataFrame
    daily: pd.Series
    weekly: pd.Series
    timezone: str
    days: float = math.nan
    metric: str = ""

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

        def number(value: float) -> str:
            # a fraction in percent, as the charts' axes show it (0.0424%, not 0.000424)
            if self.metric in FRACTION_METRICS:
                return f"{_number(100 * value, 100 * scale)}%"
            return _number(value, scale)

        return (
            f"Level {number(level)}. The daily profile swings "
            f"{number(daily)}{daily_share}, highest at {top_hour:02d}:00 "
            f"{self.timezone} time; the weekly profile swings {number(weekly)}"
            f"{weekly_share}, highest on {top_day}. What is left has a standard deviation of "
            f"{number(residual)}."
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
    known_days = int(known.sum()) * freq / DAY
    got = (
        f"the series has {n:,} steps of {_duration_text(freq)} ({n * freq / DAY:.1f} days), "
        f"{known_days:.1f} days of them known"
    )
    days_needed = _MIN_PROFILE_DAYS + span // DAY
    missing_days = (n - int(known.sum())) * freq / DAY
    if n * freq / DAY >= days_needed and missing_days > 0:
        # long enough, but the missing hours take their share off the known trend
        fix = (
            f"pick a start-to-end window longer than {days_needed} days by at least its "
            f"missing hours (this one misses {missing_days:.1f} days' worth), or one with "
            "fewer missing hours"
        )
    else:
        fix = f"pick a start-to-end window of {days_needed} days or more with few missing hours"
    if not np.isfinite(trend).any():
        raise _TooShort(
            f"The decomposition needs at least one full trend window of {_duration_text(span)} "
            f"with {_TREND_COVERAGE:.0%} of its steps known; {got}.",
            fix=fix,
        )
    rested = float(np.isfinite(y - trend).sum() * freq / DAY)
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
    return Decomposition(out, daily, weekly, timezone, rested, _metric_of(series))


def _metric_of(series: pd.DataFrame) -> str:
    """The one metric a tidy frame names (``Store.series`` keeps the column), else ``""``."""
    if METRIC not in series.columns:
        return ""
    names = series[METRIC].dropna().astype(str).unique()
    return str(names[0]) if len(names) == 1 else ""


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
