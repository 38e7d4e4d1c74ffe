"""What the forecaster reads off a series before fitting: the Box-Cox lambda (Guerrero's
method), where the day starts (the daily trough), the seasonal-naive period, and gaps filled
from a period away."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.forecast.constants import _DAY, _WEEK

_LAMBDAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _guerrero(y: np.ndarray, offset: float, freq: pd.Timedelta) -> float:
    """Box-Cox lambda by Guerrero's method: the one making spread / level^(1 - lambda) most
    constant across days (0: spread grows with level, log; 1: it does not, no transform)."""
    day = max(round(_DAY / freq), 2)
    n = len(y) // day
    if n < 4:
        return 0.0
    blocks = (y[len(y) - n * day :] + offset).reshape(n, day)
    full = np.isfinite(blocks).mean(axis=1) >= 0.75
    if full.sum() < 4:
        return 0.0
    mean = np.nanmean(blocks[full], axis=1)
    std = np.nanstd(blocks[full], axis=1, ddof=1)
    ok = (mean > 0) & (std > 0)
    if ok.sum() < 4:
        return 0.0
    mean, std = mean[ok], std[ok]
    scores = []
    for lam in _LAMBDAS:
        ratio = std / mean ** (1 - lam)
        scores.append(np.std(ratio, ddof=1) / np.mean(ratio))
    return float(_LAMBDAS[int(np.argmin(scores))])


def _trough(ds: pd.DatetimeIndex, y: np.ndarray) -> pd.Timedelta:
    """Where a day starts: the hour of the lowest median demand (steps finer than an hour are
    binned), as an offset from midnight between -11 h and +12 h.

    A day is named after the date that holds most of its hours: a trough at 04:00 starts
    Saturday at 04:00 on Saturday (+4 h), a trough at 20:00 starts it at 20:00 on Friday
    (-4 h). Subtracting the offset from a time gives the date of the day it belongs to.
    """
    ok = np.isfinite(y)
    if ok.sum() < 24:
        return pd.Timedelta(0)
    hours = pd.Series(y[ok]).groupby(np.asarray(ds.hour)[ok]).median()
    if len(hours) != 24:
        return pd.Timedelta(0)
    start = int(hours.idxmin())
    return pd.Timedelta(hours=start if start <= 12 else start - 24)


def _season_steps(y: np.ndarray, freq: pd.Timedelta) -> int:
    """The seasonal-naive period: a week when there is one, else a day, else one step."""
    week = round(_WEEK / freq)
    day = round(_DAY / freq)
    if len(y) >= week:
        return week
    if len(y) >= 2 * day and day >= 1:
        return day
    return 1


def _fill_back(y: np.ndarray, period: int) -> np.ndarray:
    """``y`` with each gap filled from one period earlier (or later), else the median."""
    out = y.copy()
    for k in range(len(out)):
        if not np.isfinite(out[k]) and k >= period and np.isfinite(out[k - period]):
            out[k] = out[k - period]
    for k in range(len(out) - 1, -1, -1):
        if not np.isfinite(out[k]) and k + period < len(out) and np.isfinite(out[k + period]):
            out[k] = out[k + period]
    out[~np.isfinite(out)] = np.nanmedian(y) if np.isfinite(y).any() else 0.0
    return out
