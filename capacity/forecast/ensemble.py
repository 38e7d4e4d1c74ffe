"""The ensemble: a forecast split into the parts it mixes (:class:`_Parts`), the inner
validation window, the candidates (Prophet's weight, the seasonal naive's period, the AR flag)
and the choice of the best on that window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capacity.forecast.constants import _DAY, _WEEK


@dataclass
class _Parts:
    """A forecast split into what the ensemble mixes."""

    prophet: np.ndarray
    snaive: dict[int, np.ndarray]  # seasonal naive by period (in steps)
    scenario: np.ndarray  # multiplier for events of kinds too rare to learn (1 elsewhere)
    prophet_ar: np.ndarray | None = None  # Prophet with the AR(1) residual correction

    def head(self, n: int) -> _Parts:
        return _Parts(
            self.prophet[:n],
            {k: v[:n] for k, v in self.snaive.items()},
            self.scenario[:n],
            None if self.prophet_ar is None else self.prophet_ar[:n],
        )


@dataclass
class _Validation:
    """The inner validation window: what each model forecast for it, and what happened."""

    parts: _Parts
    actual: np.ndarray


@dataclass(frozen=True)
class _Choice:
    """One candidate of the ensemble: Prophet's weight, the naive's period, the AR flag."""

    weight: float
    period: int
    ar: bool = False

    def name(self, freq: pd.Timedelta) -> str:
        """``prophet``, ``snaive`` or ``prophet+snaive``, with the weight and the season."""
        prophet = "prophet+ar" if self.ar else "prophet"
        if self.weight >= 1:
            return prophet
        season = "weekly" if self.period * freq >= _WEEK else "daily"
        if self.weight <= 0:
            return f"snaive ({season})"
        return f"{prophet}+snaive ({season}, w={self.weight:.2f})"


_PROPHET_ONLY = _Choice(1.0, 0)


def _blend(parts: _Parts, choice: _Choice) -> np.ndarray:
    prophet = parts.prophet_ar if choice.ar and parts.prophet_ar is not None else parts.prophet
    if choice.weight >= 1:
        return prophet
    partner = parts.snaive.get(choice.period, parts.snaive[max(parts.snaive)])
    return choice.weight * prophet + (1 - choice.weight) * partner


_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _best_choice(parts: _Parts, actual: np.ndarray) -> _Choice:
    """The candidate with the least absolute error on ``actual`` (ties: the simpler one)."""
    ok = np.isfinite(actual)
    if ok.sum() == 0:
        return _PROPHET_ONLY
    ars = (False, True) if parts.prophet_ar is not None else (False,)
    best, best_err = _PROPHET_ONLY, np.inf
    for ar in ars:
        for period in sorted(parts.snaive, reverse=True):
            for w in _WEIGHTS:
                if w <= 0 and ar:
                    continue
                choice = _Choice(w, period, ar)
                err = float(np.mean(np.abs(_blend(parts, choice)[ok] - actual[ok])))
                if err < best_err - 1e-12:
                    best, best_err = choice, err
    return best


def _validation_steps(n: int, freq: pd.Timedelta, validation_days: float) -> tuple[int, bool]:
    """Steps in the inner validation window, and whether they were shortened: the window is
    ``validation_days``, or, when a history of ``n`` steps is too short to leave a week before
    it (but holds at least a week and a day), the steps after its first week, so that a young
    series is still blended with the seasonal naive rather than left to Prophet alone."""
    steps = round(pd.Timedelta(days=validation_days) / freq)
    week, day = round(7 * _DAY / freq), max(round(_DAY / freq), 1)
    if n - steps < week and n - week >= day:
        return n - week, True
    return steps, False
