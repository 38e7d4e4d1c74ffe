"""Events as Prophet regressors and scenarios: each kind's windows (public holidays with the
calendar's ``holiday`` events), the shaped weight of a learned kind sized by its planned uplift,
the kinds the history holds, the planner's scenario for a kind too rare to learn, and the
events that have neither."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from capacity.columns import END_TS, EXPECTED_UPLIFT, KIND, START_TS
from capacity.forecast.constants import _DAY, _HOLIDAY, _OUTAGE
from capacity.forecast.shapes import _FLAT, EventShape
from capacity.forecast.validation import _is_number

if TYPE_CHECKING:
    from capacity.forecast import DemandForecaster


def _reg(kind: str) -> str:
    return f"event_{kind}"


def _kinds_in(events: pd.DataFrame) -> list[str]:
    return sorted(set(events[KIND])) if len(events) else []


def _kind_events(events: pd.DataFrame, kind: str) -> pd.DataFrame:
    return events[events[KIND] == kind]


def _windows(events: pd.DataFrame, kind: str, owner: DemandForecaster) -> list[tuple[Any, ...]]:
    """(start, end, uplift) of every window of ``kind``; holidays include public holidays."""
    rows = _kind_events(events, kind)
    uplift = rows[EXPECTED_UPLIFT] if EXPECTED_UPLIFT in rows else pd.Series(np.nan, rows.index)
    out = list(zip(rows[START_TS], rows[END_TS], uplift, strict=True))
    if kind == _HOLIDAY:
        seen = {(s, e) for s, e, _ in out}
        out += [(s, e, np.nan) for s, e in owner.holiday_windows_ if (s, e) not in seen]
    return out


def _reaching(
    windows: list[tuple[Any, ...]], ts: pd.DatetimeIndex, shape: EventShape
) -> list[tuple[Any, ...]]:
    """The windows whose effect (with its ramp and tail) reaches into ``ts``."""
    if len(ts) == 0:
        return []
    lo = ts[0] - pd.Timedelta(hours=shape.tail_hours)
    hi = ts[-1] + pd.Timedelta(hours=shape.pre_hours)
    return [w for w in windows if w[0] <= hi and w[1] > lo]


def _kind_weight(
    ts: pd.DatetimeIndex,
    events: pd.DataFrame,
    kind: str,
    owner: DemandForecaster,
    uplift_ref: float | None = None,
) -> np.ndarray:
    """The regressor of one kind: each event's shape, sized by :func:`_uplift_size` when the
    kind has a reference log-uplift; the largest where events overlap."""
    shape = owner._shapes.get(kind, _FLAT)
    w = np.zeros(len(ts))
    for start, end, uplift in _reaching(_windows(events, kind, owner), ts, shape):
        w = np.maximum(w, shape.weight(ts, start, end) * _uplift_size(uplift, uplift_ref))
    return w


#: Bounds of an event's size relative to its kind's typical event.
_SIZE_RANGE = (0.25, 4.0)


def _log_uplift(uplift: Any) -> float | None:
    """``log(uplift)`` of a usable planner's uplift (finite, > 0, not 1), else None."""
    if not _is_number(uplift):
        return None
    value = float(uplift)
    if not math.isfinite(value) or value <= 0 or value == 1:
        return None
    return math.log(value)


def _uplift_size(uplift: Any, ref: float | None) -> float:
    """An event's size relative to its kind's reference log-uplift (1 without either).

    An uplift of 1, or one pointing against the kind's history (0.9 for a kind whose events
    raise demand), is the smallest size, as an uplift just past 1 is: sizing it as a typical
    event made a launch re-planned at x1.0 forecast more demand than one at x1.05.
    """
    if ref is None or not _is_number(uplift) or float(uplift) <= 0:
        return 1.0
    return float(np.clip(math.log(float(uplift)) / ref, *_SIZE_RANGE))


def _uplift_refs(
    observed_ts: pd.DatetimeIndex,
    events: pd.DataFrame,
    kinds: set[str],
    owner: DemandForecaster,
) -> dict[str, float]:
    """For each learned kind, the mean log-uplift of its observed events that state one, when
    they all point the same way (up or down)."""
    refs: dict[str, float] = {}
    for kind in kinds:
        logs = [
            log_u
            for _, _, uplift in _observed_windows(observed_ts, events, kind, owner)
            if (log_u := _log_uplift(uplift)) is not None
        ]
        if logs and (all(v > 0 for v in logs) or all(v < 0 for v in logs)):
            refs[kind] = float(np.mean(logs))
    return refs


def _observed_windows(
    observed_ts: pd.DatetimeIndex, events: pd.DataFrame, kind: str, owner: DemandForecaster
) -> list[tuple[Any, ...]]:
    """The windows of one kind holding at least one observed timestamp."""
    if len(observed_ts) == 0:
        return []
    lo, hi = observed_ts[0], observed_ts[-1]
    return [
        w
        for w in _windows(events, kind, owner)
        if w[0] <= hi and w[1] > lo and bool(((observed_ts >= w[0]) & (observed_ts < w[1])).any())
    ]


def _kind_counts(
    observed_ts: pd.DatetimeIndex, events: pd.DataFrame, owner: DemandForecaster
) -> dict[str, int]:
    """Events of each kind (not outages) holding an observed timestamp."""
    if len(observed_ts) == 0:
        return {}
    kinds = set(_kinds_in(events))
    if owner.holiday_windows_:
        kinds.add(_HOLIDAY)
    return {
        kind: len(_observed_windows(observed_ts, events, kind, owner)) for kind in kinds - {_OUTAGE}
    }


def _scenario(
    ts: pd.DatetimeIndex, events: pd.DataFrame, kind: str, owner: DemandForecaster
) -> np.ndarray:
    """Multiplier of demand from the planner's uplifts of one unlearned kind."""
    shape = owner._shapes.get(kind, _FLAT)
    mult = np.ones(len(ts))
    for start, end, uplift in _reaching(_windows(events, kind, owner), ts, shape):
        if not (isinstance(uplift, float | int) and math.isfinite(uplift)):
            continue
        w = shape.weight(ts, start, end)
        mult = (
            np.maximum(mult, 1 + (uplift - 1) * w)
            if uplift >= 1
            else np.minimum(mult, 1 + (uplift - 1) * w)
        )
    return mult


def _unsized(
    future: pd.DatetimeIndex, events: pd.DataFrame, learned: set[str], owner: DemandForecaster
) -> pd.DataFrame:
    """The calendar rows whose effect reaches ``future`` but leaves it unchanged: of a kind not
    learned (nor an outage) and with no usable planner's uplift, so no scenario applies."""
    if len(future) == 0 or len(events) == 0:
        return events.iloc[0:0]
    # a validated calendar always holds the column, as floats
    keep = ~np.isfinite(events[EXPECTED_UPLIFT].to_numpy(dtype=float))
    keep &= ~events[KIND].isin([*learned, _OUTAGE]).to_numpy()
    for kind in _kinds_in(events):
        shape = owner._shapes.get(kind, _FLAT)
        lo = future[0] - pd.Timedelta(hours=shape.tail_hours)
        hi = future[-1] + pd.Timedelta(hours=shape.pre_hours)
        mine = (events[KIND] == kind).to_numpy()
        reaches = ((events[START_TS] <= hi) & (events[END_TS] > lo)).to_numpy()
        keep &= ~mine | reaches
    return events[keep]


def _holiday_windows(
    country: str | None, zone: ZoneInfo | None, first: pd.Timestamp, last: pd.Timestamp
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Public holidays as [local midnight, next local midnight) windows in UTC."""
    if country is None:
        return []
    import holidays

    tz = zone.key if zone is not None else "UTC"
    years = range(first.year - 1, last.year + 2)
    days = sorted(holidays.country_holidays(country, years=years))
    out = []
    for day in days:
        start = pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")
        end = (pd.Timestamp(day) + _DAY).tz_localize(tz).tz_convert("UTC")
        out.append((start, end))
    return out
