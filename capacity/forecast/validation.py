"""Checking what :meth:`DemandForecaster.fit` and ``predict`` are given: the series, the
events, the time zone and the holidays country, each refused in one line that says what was wrong
and how to fix it; and the small value tests the parameter checks share."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from capacity.columns import (
    ALL_REGIONS,
    END_TS,
    EVENT_ID,
    EXPECTED_UPLIFT,
    KIND,
    NAME,
    REGION,
    REGIONS,
    START_TS,
    TS,
    VALUE,
)
from capacity.errors import DataError, ParameterError
from capacity.forecast.constants import _DAY
from capacity.frames import require_one_series
from capacity.units import duration_text, parse_duration

_MIN_DAYS = 2  # fewer days of data than this is invalid input


def _validate_series(series: Any) -> tuple[pd.DataFrame, pd.Timedelta]:
    where = "series"
    if not isinstance(series, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame; got {type(series).__name__}",
            source=where,
            fix="pass a frame with columns 'ts' and 'value'",
        )
    missing = [c for c in (TS, VALUE) if c not in series.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; got "
            f"{', '.join(repr(str(c)) for c in series.columns) or 'no columns'}",
            source=where,
            fix="name the timestamp column 'ts' and the demand column 'value'",
        )
    require_one_series(series, "series", "a forecaster fits one")
    ts = series[TS]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise DataError(
            f"column 'ts' must hold tz-aware UTC timestamps; got dtype {ts.dtype}",
            source=where,
            fix="convert with pd.to_datetime(ts, utc=True), or tz_localize('UTC') naive UTC times",
        )
    if str(ts.dt.tz) != "UTC":
        raise DataError(
            f"column 'ts' must be in UTC; got time zone {ts.dt.tz}",
            source=where,
            fix="convert with series['ts'].dt.tz_convert('UTC')",
        )
    try:
        values = pd.to_numeric(series[VALUE], errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"column 'value' must be numeric: {_first_line(exc)}",
            source=where,
            fix="convert the demand values to floats; use NaN for missing hours",
        ) from None
    frame = pd.DataFrame({TS: ts.to_numpy(), VALUE: values.to_numpy()})
    frame[TS] = frame[TS].dt.tz_localize("UTC") if frame[TS].dt.tz is None else frame[TS]
    if frame[TS].isna().any():
        row = int(np.flatnonzero(frame[TS].isna().to_numpy())[0])
        raise DataError("missing timestamp", source=where, where=f"row {row}", fix="drop the row")
    frame = frame.sort_values(TS, kind="stable").reset_index(drop=True)
    if len(frame) < 2:
        raise DataError(
            f"needs at least {_MIN_DAYS} days of data; got {len(frame)} row(s)",
            source=where,
            fix="pass a longer history",
        )
    diffs = frame[TS].diff().iloc[1:]
    if (diffs == pd.Timedelta(0)).any():
        dup = frame[TS].iloc[1:][(diffs == pd.Timedelta(0)).to_numpy()].iloc[0]
        raise DataError(
            f"duplicate timestamp {dup:%Y-%m-%d %H:%M}Z",
            source=where,
            fix="aggregate to one row per timestamp",
        )
    freq = diffs.min()
    irregular = diffs[diffs % freq != pd.Timedelta(0)]
    if len(irregular):
        at = frame[TS].iloc[1:][(diffs % freq != pd.Timedelta(0)).to_numpy()].iloc[0]
        raise DataError(
            f"irregular grid: steps of {freq} and {irregular.iloc[0]} (at {at:%Y-%m-%d %H:%M}Z)",
            source=where,
            fix="resample to a fixed frequency, with NaN for missing steps",
        )
    if (diffs != freq).any():
        # Missing rows on an otherwise regular grid: reindex them as gaps.
        full = pd.date_range(frame[TS].iloc[0], frame[TS].iloc[-1], freq=freq)
        frame = frame.set_index(TS).reindex(full).rename_axis(TS).reset_index()
    vals = frame[VALUE].to_numpy()
    if np.isinf(vals).any():
        row = int(np.flatnonzero(np.isinf(vals))[0])
        raise DataError(
            f"infinite value at {frame[TS].iloc[row]:%Y-%m-%d %H:%M}Z",
            source=where,
            fix="replace it with NaN to mark a gap",
        )
    negative = np.flatnonzero(np.nan_to_num(vals, nan=0.0) < 0)
    if len(negative):
        row = int(negative[0])
        raise DataError(
            f"negative value {vals[row]:g} at {frame[TS].iloc[row]:%Y-%m-%d %H:%M}Z "
            f"({len(negative)} negative in all)",
            source=where,
            fix="demand is never negative: replace bad values with NaN to mark them as gaps",
        )
    observed = np.flatnonzero(np.isfinite(vals))
    if not len(observed):
        raise DataError(
            "every value is missing",
            source=where,
            fix="pass a series with demand values (NaN marks only the missing steps)",
        )
    # A series starts at its first observation: the empty rows a store's window puts before
    # it are no history (counted as such they set a weekly season of mostly gaps)
    frame = frame.iloc[observed[0] :].reset_index(drop=True)
    span = frame[TS].iloc[-1] - frame[TS].iloc[0] + freq
    if span < _MIN_DAYS * _DAY:
        raise DataError(
            f"needs at least {_MIN_DAYS} days of data; got {span / _DAY:.1f} days",
            source=where,
            fix="pass a longer history",
        )
    return frame, freq


def _validate_events(events: Any, where: str) -> pd.DataFrame:
    empty = pd.DataFrame(
        {
            KIND: pd.Series([], dtype=str),
            START_TS: pd.Series([], dtype="datetime64[us, UTC]"),
            END_TS: pd.Series([], dtype="datetime64[us, UTC]"),
            EXPECTED_UPLIFT: pd.Series([], dtype=float),
        }
    )
    if events is None:
        return empty
    if not isinstance(events, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame of events; got {type(events).__name__}",
            source=where,
            fix="pass the frame returned by capacity.calendar.read_calendar",
        )
    missing = [c for c in (KIND, START_TS, END_TS) if c not in events.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}",
            source=where,
            fix="pass the frame returned by capacity.calendar.read_calendar",
        )
    out = pd.DataFrame({KIND: events[KIND].astype(str).str.lower().reset_index(drop=True)})
    for col in (START_TS, END_TS):
        if not isinstance(events[col].dtype, pd.DatetimeTZDtype):
            raise DataError(
                f"column {col!r} must hold tz-aware timestamps; got dtype {events[col].dtype}",
                source=where,
                fix="read the calendar with capacity.calendar.read_calendar",
            )
        out[col] = events[col].dt.tz_convert("UTC").reset_index(drop=True)
    if EXPECTED_UPLIFT in events.columns:
        out[EXPECTED_UPLIFT] = pd.to_numeric(events[EXPECTED_UPLIFT], errors="coerce").to_numpy(
            dtype=float
        )
    else:
        out[EXPECTED_UPLIFT] = np.nan
    for col in (EVENT_ID, NAME):  # what names an event to the user, when the calendar has it
        if col in events.columns:
            out[col] = events[col].reset_index(drop=True)
    bad = out[END_TS] <= out[START_TS]
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"event ends ({out[END_TS].iloc[row]}) before it starts ({out[START_TS].iloc[row]})",
            source=where,
            where=f"row {row}",
            fix="make end_ts later than start_ts",
        )
    return out


def _event_regions(value: Any) -> set[str]:
    """The regions one calendar row names: a list (the store's), a tuple, or one name."""
    if isinstance(value, str):
        return {value}
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return set()
    return {str(r) for r in value}


def _scope_events(events: Any, series: pd.DataFrame, where: str) -> Any:
    """The calendar of the series' region: the forecaster applies every event it is given.

    A series frame naming its one region (``Store.series`` keeps the column) keeps the
    events touching it or ``all``. Without one, a calendar in which no region is touched by
    every event (``store.events()`` of every region) is refused: it would add another
    region's launches, marketing pushes and maintenance to this series' forecast.
    """
    if not isinstance(events, pd.DataFrame) or REGIONS not in events.columns or events.empty:
        return events
    touched = events[REGIONS].map(_event_regions)
    own = series[REGION].dropna().astype(str).unique() if REGION in series.columns else []
    if len(own) == 1:
        region = str(own[0])
        return events[touched.map(lambda rs: region in rs or ALL_REGIONS in rs).to_numpy()]
    scoped = [rs for rs in touched if ALL_REGIONS not in rs and rs]
    if scoped and not set.intersection(*scoped):
        names = sorted(set().union(*scoped))
        raise ParameterError(
            f"The {where!r} parameter holds the calendars of several regions "
            f"({', '.join(names[:6])}{' and more' if len(names) > 6 else ''}): no region is "
            "touched by every event, and the forecaster applies every event it is given to "
            "the series",
            fix="pass the series' region's calendar, store.events(region=...), or the "
            "series with its region column (as Store.series returns it), which keeps that "
            "region's events",
        )
    return events


def _validate_zone(timezone: str | None) -> ZoneInfo | None:
    if timezone is None:
        return None
    try:
        return ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ParameterError(
            f"The 'timezone' parameter must be an IANA time zone. Got {timezone!r}.",
            fix="use a name such as 'Europe/Berlin'",
        ) from None


def _validate_country(country: str | None) -> str | None:
    if country is None:
        return None
    import holidays

    if str(country).upper() not in holidays.list_supported_countries():
        raise ParameterError(
            f"The 'holidays_country' parameter must be a country the holidays package knows. "
            f"Got {country!r}.",
            fix="use an ISO 3166-1 alpha-2 code such as 'DE' or 'US'",
        )
    return str(country).upper()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _horizon_message(horizon: Any, step: pd.Timedelta) -> str:
    """The error for a horizon that is not a whole number of steps >= 1: a duration
    (``"7d"``, ``pd.Timedelta(days=7)``) or a whole float gets the count of steps it means."""
    fix = f"pass the number of steps to forecast, each {duration_text(step)} long"
    if isinstance(horizon, str | pd.Timedelta | np.timedelta64 | dt.timedelta):
        try:
            duration = parse_duration(
                horizon if isinstance(horizon, str) else pd.Timedelta(horizon), "horizon"
            )
        except (ParameterError, ValueError):
            duration = None
        if duration is not None and duration % step == pd.Timedelta(0):
            fix = (
                f"pass horizon={duration // step} "
                f"({duration_text(duration)} in steps of {duration_text(step)})"
            )
    elif isinstance(horizon, float) and horizon >= 1 and horizon.is_integer():
        fix = f"pass horizon={int(horizon)}"
    return (
        "The 'horizon' parameter must be a whole number of steps >= 1, a step being the "
        f"series' {duration_text(step)}. Got {horizon!r}. Fix: {fix}"
    )
