"""Floors and expected load for a replay, each day forecast from its own past only.

:func:`rolling_forecasts` fits one forecast per replayed day on the rows before that day;
:func:`floors_from_forecasts` and :func:`expected_load` turn them into a
:class:`~capacity.scaling.policies.PredictivePolicy`'s floors and expected load, and
:func:`predictive_floors` does both steps. :func:`quantile_values` reads or interpolates a
forecast's quantile.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator, Mapping
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from capacity.backtest import known_events
from capacity.columns import TS, VALUE, quantile_column
from capacity.errors import DataError, ParameterError
from capacity.frames import require_columns
from capacity.headroom import servers_for
from capacity.scaling.checks import (
    DAY,
    HOUR,
    check_int,
    check_positive,
    on_the_hour,
    utc_index,
)
from capacity.scaling.floors import MIN_SERVERS, ahead_max

#: The column of :func:`rolling_forecasts` that names each forecast's day (its first hour).
CUTOFF = "cutoff"


def _default_forecaster() -> Any:
    from capacity.forecast import DemandForecaster

    return DemandForecaster()


def _check_quantile(quantile: Any) -> float:
    if isinstance(quantile, bool) or not isinstance(quantile, numbers.Real) or not 0 < quantile < 1:
        raise ParameterError(f"The 'quantile' parameter must be in (0, 1). Got {quantile!r}.")
    return float(quantile)


def _reported_quantiles(forecast: pd.DataFrame) -> dict[float, str]:
    """The forecast's quantile columns (``q0.5``, ...) by their level."""
    out = {}
    for column in forecast.columns:
        name = str(column)
        if not name.startswith("q"):
            continue
        try:
            level = float(name[1:])
        except ValueError:
            continue
        if 0 < level < 1:
            out[level] = name
    return dict(sorted(out.items()))


def quantile_values(forecast: pd.DataFrame, quantile: float) -> np.ndarray:
    """The forecast's ``quantile``, read or interpolated between its reported quantiles.

    A reported quantile (column ``q0.9`` for 0.9) is read as is. Another level between the
    lowest and highest reported ones is interpolated linearly in the normal score
    (``NormalDist().inv_cdf``) between its two neighbours, row by row: q0.75 from q0.5 and
    q0.9 lies 53 % of the way up, as it would for a normal forecast error.

    Parameters
    ----------
    forecast : pandas.DataFrame
        A forecaster's output with quantile columns named by
        :func:`capacity.columns.quantile_column`.
    quantile : float
        The level, in (0, 1).

    Returns
    -------
    numpy.ndarray
        One value per row.

    Raises
    ------
    ParameterError
        When ``quantile`` is outside (0, 1) or outside the reported quantiles' range.
    """
    quantile = _check_quantile(quantile)
    column = quantile_column(quantile)
    if column in forecast.columns:
        return forecast[column].to_numpy(dtype=float)
    levels = _reported_quantiles(forecast)
    below = [q for q in levels if q < quantile]
    above = [q for q in levels if q > quantile]
    if not below or not above:
        raise ParameterError(
            f"The 'quantile' parameter must be one of the forecaster's quantiles "
            f"({', '.join(levels.values()) or 'none'}) or lie between two of them. "
            f"Got {quantile!r}."
        )
    lo, hi = below[-1], above[0]
    z = NormalDist().inv_cdf
    share = (z(quantile) - z(lo)) / (z(hi) - z(lo))
    low = forecast[levels[lo]].to_numpy(dtype=float)
    high = forecast[levels[hi]].to_numpy(dtype=float)
    return low + share * (high - low)


def rolling_forecasts(
    history: pd.DataFrame,
    *,
    start: Any,
    days: int,
    lead_hours: int = 1,
    forecaster_factory: Callable[[], Any] | None = None,
    events: pd.DataFrame | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    max_history_hours: int | None = None,
) -> pd.DataFrame:
    """One forecast per replayed day, each fitted on the rows before that day only.

    For day ``d`` (cutoff ``c = start + d days``) a fresh forecaster is fitted on the rows of
    ``history`` strictly before ``c``, on the full hourly grid up to ``c - 1 h`` (gaps are
    NaN). It sees the ``events`` known at ``c``, by :func:`capacity.backtest.known_events`, and
    forecasts ``24 + lead_hours`` hours from ``c``.

    Parameters
    ----------
    history : pandas.DataFrame
        ``ts`` (tz-aware, hourly) and ``value``: the actual demand. It may run past ``start``;
        a day's forecast never sees rows at or after its cutoff.
    start : timestamp-like
        The first replayed hour, on a whole hour (naive values are UTC).
    days : int
        Days to replay, >= 1: one fit each.
    lead_hours : int
        Hours forecast past each day's end, >= 0 (the boot lead, :func:`boot_lead_hours`).
    forecaster_factory : callable, optional
        Returns a fresh, unfitted forecaster with ``fit(series[, events], **fit_kwargs)`` and
        ``predict(horizon)``. Default: :class:`capacity.forecast.DemandForecaster`.
    events : pandas.DataFrame, optional
        The calendar for this series (``kind, start_ts, end_ts``, ...); passed to ``fit`` as
        known at each cutoff. None passes no events.
    fit_kwargs : mapping, optional
        More keyword arguments for ``fit`` (``holidays_country``, ``timezone``).
    max_history_hours : int, optional
        Fit on at most this many hours before each cutoff. Default: all of them.

    Returns
    -------
    pandas.DataFrame
        The forecasts one under the other, ``(24 + lead_hours) x days`` rows, with a
        ``cutoff`` column (the day's first hour) before the forecaster's own columns.

    Raises
    ------
    ParameterError
        When an argument is out of range, or a forecast does not start at its cutoff.
    DataError
        When ``history`` is malformed or has no row before ``start``.
    """
    require_columns(history, (TS, VALUE), "history")
    first = on_the_hour(start, "start")
    days = check_int(days, "days", 1)
    lead_hours = check_int(lead_hours, "lead_hours", 0)
    if max_history_hours is not None:
        max_history_hours = check_int(max_history_hours, "max_history_hours", 1)
    factory = _default_forecaster if forecaster_factory is None else forecaster_factory
    if not callable(factory):
        raise ParameterError(
            f"The 'forecaster_factory' parameter must be callable. Got {factory!r}."
        )
    kwargs = dict(fit_kwargs or {})
    ts = utc_index(history[TS], "history")
    series = pd.Series(history[VALUE].to_numpy(dtype=float), index=ts).sort_index()
    if series.index.has_duplicates:
        raise DataError("timestamps repeat", source="history", fix="give one row per hour")
    off_hour = series.index[series.index != series.index.floor("h")]
    if len(off_hour):
        raise DataError(
            f"timestamps must fall on whole hours; the first that does not is "
            f"{off_hour[0].isoformat()}",
            source="history",
            fix="resample the series to hourly values first",
        )
    if len(series) == 0 or series.index[0] >= first:
        raise DataError(
            f"no row before start {first.isoformat()}",
            source="history",
            fix="give history that begins before the replay",
        )
    horizon = 24 + lead_hours
    parts = []
    for day in range(days):
        cutoff = first + day * DAY
        past = series[series.index < cutoff]
        grid = pd.date_range(past.index[0].floor("h"), cutoff - HOUR, freq="h")
        past = past.reindex(grid)
        if max_history_hours is not None:
            past = past.iloc[-max_history_hours:]
        train = pd.DataFrame({TS: past.index, VALUE: past.to_numpy()})
        model = factory()
        if events is None:
            model.fit(train, **kwargs)
        else:
            model.fit(train, known_events(events, cutoff, cutoff + horizon * HOUR), **kwargs)
        forecast = model.predict(horizon)
        when = pd.DatetimeIndex(forecast[TS]) if TS in forecast.columns else pd.DatetimeIndex([])
        if len(when) != horizon or when[0] != cutoff:
            raise ParameterError(
                f"The forecaster must predict {horizon} hours from {cutoff.isoformat()}. "
                f"Got {len(when)} hours from {when[0] if len(when) else 'nothing'}."
            )
        forecast = forecast.reset_index(drop=True)
        forecast.insert(0, CUTOFF, cutoff)
        parts.append(forecast)
    return pd.concat(parts, ignore_index=True)


def _days(forecasts: pd.DataFrame) -> Iterator[pd.DataFrame]:
    require_columns(forecasts, (CUTOFF, TS), "forecasts")
    for _, part in forecasts.groupby(CUTOFF, sort=True):
        yield part.sort_values(TS)


def floors_from_forecasts(
    forecasts: pd.DataFrame,
    *,
    safe_load: float,
    k: int = 1,
    min_servers: int = 2,
    boot_hours: int = 1,
    quantile: float = 0.95,
) -> pd.Series:
    """The floors of each day of :func:`rolling_forecasts`, by the schedule's rule.

    The floor at hour ``t`` of a day is ``max over [t, t + boot_hours]`` of
    ``max(ceil(q[t] / safe_load) + k, min_servers)``, where ``q`` is the day's forecast
    ``quantile`` (:func:`quantile_values`: read, or interpolated between reported quantiles).
    The window is cut at the end of the day's forecast.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        ``cutoff``, ``ts`` and quantile columns, as :func:`rolling_forecasts` returns.
    safe_load : float
        Load per server, > 0.
    k, min_servers : int
        The N+k rule.
    boot_hours : int
        Boot lead time in whole hours, >= 0.
    quantile : float
        The forecast quantile to size for.

    Returns
    -------
    pandas.Series
        ``min_servers`` (int) indexed by hour, the first 24 hours of each day.

    Raises
    ------
    ParameterError
        When an argument is out of range or the forecasts lack the quantile.
    """
    safe_load = check_positive(safe_load, "safe_load")
    k = check_int(k, "k", 0)
    min_servers = check_int(min_servers, "min_servers", 1)
    boot_hours = check_int(boot_hours, "boot_hours", 0)
    quantile = _check_quantile(quantile)
    parts = []
    for day in _days(forecasts):
        when = utc_index(day[TS], "forecasts")
        needed = servers_for(quantile_values(day, quantile), safe_load)
        requirement = np.maximum(needed + k, min_servers)
        floor = ahead_max(requirement, boot_hours)[:24]
        parts.append(pd.Series(floor.astype(np.int64), index=when[:24], name=MIN_SERVERS))
    return pd.concat(parts)


def expected_load(forecasts: pd.DataFrame, quantile: float = 0.5) -> pd.Series:
    """The load each day's forecast expects, for :class:`PredictivePolicy`'s ``expected``.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        ``cutoff``, ``ts`` and quantile columns, as :func:`rolling_forecasts` returns.
    quantile : float
        The level to read (:func:`quantile_values`), by default the median.

    Returns
    -------
    pandas.Series
        Indexed by hour: the first 24 hours of each day's forecast.
    """
    quantile = _check_quantile(quantile)
    parts = []
    for day in _days(forecasts):
        when = utc_index(day[TS], "forecasts")
        values = np.clip(quantile_values(day, quantile), 0, None)
        parts.append(pd.Series(values[:24], index=when[:24], name="expected"))
    return pd.concat(parts)


def predictive_floors(
    history: pd.DataFrame,
    *,
    start: Any,
    days: int,
    safe_load: float,
    k: int = 1,
    min_servers: int = 2,
    boot_hours: int = 1,
    quantile: float = 0.95,
    forecaster_factory: Callable[[], Any] | None = None,
    events: pd.DataFrame | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    max_history_hours: int | None = None,
) -> pd.Series:
    """Floors for each hour of ``days`` replayed days, each day forecast from its past only.

    :func:`rolling_forecasts` (``lead_hours = boot_hours``), then
    :func:`floors_from_forecasts`. For day ``d`` (cutoff ``c = start + d days``) a fresh
    forecaster is fitted on the rows of ``history`` strictly before ``c`` and sees the
    ``events`` known at ``c``. It forecasts ``24 + boot_hours`` hours. The floor at hour ``t``
    of the day is ``max over [t, t + boot_hours]`` of ``max(ceil(q[t] / safe_load) + k,
    min_servers)``, where ``q`` is the forecast's ``quantile``, read or interpolated between
    the reported quantiles. That is the rule :func:`schedule` applies, here per day.

    Parameters
    ----------
    history : pandas.DataFrame
        ``ts`` (tz-aware, hourly) and ``value``: the actual demand. It may run past ``start``;
        a day's forecast never sees rows at or after its cutoff.
    start : timestamp-like
        The first replayed hour, on a whole hour (naive values are UTC).
    days : int
        Days to replay, >= 1: one fit each.
    safe_load : float
        Load per server, > 0.
    k, min_servers : int
        The N+k rule.
    boot_hours : int
        Boot lead time in whole hours (:func:`boot_lead_hours`), >= 0.
    quantile : float
        The forecast quantile to size for: one the forecaster reports, or a level between two
        of them.
    forecaster_factory : callable, optional
        Returns a fresh, unfitted forecaster with ``fit(series[, events], **fit_kwargs)`` and
        ``predict(horizon)``. Default: :class:`capacity.forecast.DemandForecaster`.
    events : pandas.DataFrame, optional
        The calendar for this series (``kind, start_ts, end_ts``, ...); passed to ``fit`` as
        known at each cutoff. None passes no events.
    fit_kwargs : mapping, optional
        More keyword arguments for ``fit`` (``holidays_country``, ``timezone``).
    max_history_hours : int, optional
        Fit on at most this many hours before each cutoff. Default: all of them.

    Returns
    -------
    pandas.Series
        ``min_servers`` (int) indexed by hour, ``24 x days`` rows from ``start``.

    Raises
    ------
    ParameterError
        When an argument is out of range, or the forecast lacks the quantile or does not start
        at the cutoff.
    DataError
        When ``history`` is malformed or has no row before ``start``.
    """
    safe_load = check_positive(safe_load, "safe_load")
    k = check_int(k, "k", 0)
    min_servers = check_int(min_servers, "min_servers", 1)
    boot_hours = check_int(boot_hours, "boot_hours", 0)
    quantile = _check_quantile(quantile)
    forecasts = rolling_forecasts(
        history,
        start=start,
        days=days,
        lead_hours=boot_hours,
        forecaster_factory=forecaster_factory,
        events=events,
        fit_kwargs=fit_kwargs,
        max_history_hours=max_history_hours,
    )
    return floors_from_forecasts(
        forecasts,
        safe_load=safe_load,
        k=k,
        min_servers=min_servers,
        boot_hours=boot_hours,
        quantile=quantile,
    )
