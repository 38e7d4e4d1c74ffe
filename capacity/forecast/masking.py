"""The history's hygiene: gaps, the windows of ``outage`` events and (optionally) anomalies
masked, with the report of what was masked and why (:attr:`DemandForecaster.masked_`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from capacity.columns import END_TS, START_TS, TS, VALUE
from capacity.forecast.constants import _DAY, _OUTAGE
from capacity.forecast.events import _kind_events
from capacity.forecast.shapes import EventShape

_REASON = "reason"


def _mask(
    frame: pd.DataFrame,
    events: pd.DataFrame,
    anomaly_z: float | None,
    freq: pd.Timedelta,
    shapes: Mapping[str, EventShape],
) -> tuple[np.ndarray, pd.DataFrame]:
    """The values with gaps, outages and (optionally) anomalies set to NaN, and the report."""
    ts = pd.DatetimeIndex(frame[TS])
    y = frame[VALUE].to_numpy(dtype=float, copy=True)
    reason = np.array([""] * len(y), dtype=object)
    reason[~np.isfinite(y)] = "gap"
    for start, end in zip(
        _kind_events(events, _OUTAGE)[START_TS], _kind_events(events, _OUTAGE)[END_TS], strict=True
    ):
        inside = (ts >= start) & (ts < end) & (reason == "")
        reason[inside] = _OUTAGE
    y[reason != ""] = np.nan
    if anomaly_z is not None:
        flagged = _anomalies(ts, y, events, freq, anomaly_z)
        reason[flagged & (reason == "")] = "anomaly"
        y[reason != ""] = np.nan
    keep = reason != ""
    masked = pd.DataFrame({TS: ts[keep], _REASON: reason[keep].astype(str)})
    return y, masked


def _anomalies(
    ts: pd.DatetimeIndex, y: np.ndarray, events: pd.DataFrame, freq: pd.Timedelta, z: float
) -> np.ndarray:
    """Robust z-score of log residuals from a median seasonal profile, outside known events."""
    day = round(_DAY / freq)
    period = 7 * day
    if day < 2 or len(y) < 2 * period:
        return np.zeros(len(y), dtype=bool)
    logy = np.log(y + max(float(np.nanmedian(y)) * 0.01, 1e-9))
    # A two-way median profile (step of the day + day of the week) stays robust with a few
    # weeks, where a median per step of the week would be spoilt by two spikes in one cell.
    step = np.arange(len(y))
    by_hour = pd.Series(logy).groupby(step % day).transform("median").to_numpy()
    rest = logy - by_hour
    by_day = pd.Series(rest).groupby((step // day) % 7).transform("median").to_numpy()
    resid = rest - by_day
    # Remove the slow level with a centred rolling median over one period.
    level = pd.Series(resid).rolling(period, center=True, min_periods=period // 2).median()
    resid = resid - level.to_numpy()
    ok = np.isfinite(resid)
    if ok.sum() < period:
        return np.zeros(len(y), dtype=bool)
    center = np.median(resid[ok])
    mad = np.median(np.abs(resid[ok] - center)) * 1.4826
    if mad <= 0:
        return np.zeros(len(y), dtype=bool)
    score = np.abs(resid - center) / mad
    flagged = np.nan_to_num(score, nan=0.0) > z
    for start, end in zip(events[START_TS], events[END_TS], strict=True):
        flagged &= ~((ts >= start - _DAY) & (ts < end + _DAY))
    return flagged
