"""Calibrated quantiles: split-conformal quantiles of each window's residuals, the widest
band over the windows, its growth with the lead, and the normal quantile that sizes a scenario's
spread."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from capacity.forecast.constants import _WEEK


def _lead_growth(horizon: int, calibrated: int, freq: pd.Timedelta, growth: float) -> np.ndarray:
    """Stretch of the band at each of ``horizon`` steps: 1 over the ``calibrated`` steps whose
    residuals set it, then ``sqrt(1 + growth x weeks beyond them)``."""
    beyond = np.maximum(np.arange(1, horizon + 1) - calibrated, 0) * (freq / _WEEK)
    return np.sqrt(1 + growth * beyond)


def _conformal(
    res: np.ndarray, qs: list[float], horizon: int, scale: float | np.ndarray
) -> np.ndarray:
    """Split-conformal quantiles of the residuals (in the interval space) for each future step.

    The quantile at level q is the k-th smallest of the n residuals, with k = ceil((n + 1) q)
    above the median and floor((n + 1) q) below it (clipped to 1..n), so that a few residuals
    err on the wide side; then its distance from the median is stretched by ``scale`` (one
    value, or one per step).
    """
    table = np.empty((horizon, len(qs)))
    if len(res) == 0:
        table[:] = 0.0
        return table
    ordered = np.sort(res)
    n = len(ordered)
    mid = float(np.median(ordered))
    for j, q in enumerate(qs):
        k = math.ceil((n + 1) * q) if q >= 0.5 else math.floor((n + 1) * q)
        value = float(ordered[min(max(k, 1), n) - 1])
        table[:, j] = mid + scale * (value - mid)
    return table


def _widest(
    windows: Sequence[np.ndarray], qs: list[float], horizon: int, scale: float | np.ndarray
) -> np.ndarray:
    """The conformal quantiles of each window of residuals (see :func:`_conformal`), combined
    into the widest band: below the median the lowest, above it the highest; the median is the
    first (newest) window's."""
    tables = [_conformal(res, qs, horizon, scale) for res in windows if len(res)]
    if not tables:
        return _conformal(np.empty(0), qs, horizon, scale)
    table = tables[0].copy()
    for j, q in enumerate(qs):
        if q < 0.5:
            table[:, j] = np.min([t[:, j] for t in tables], axis=0)
        elif q > 0.5:
            table[:, j] = np.max([t[:, j] for t in tables], axis=0)
    return table


def _norm_ppf(q: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(q)
