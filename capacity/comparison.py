"""Several forecasters through the same rolling-origin backtest, side by side.

The project's forecaster is always judged against baselines: :func:`compare` runs each model
through :func:`capacity.backtest.backtest` on the same windows, with the calendar as known at
each cutoff, and scores them with :func:`capacity.backtest.metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from capacity.backtest import backtest, metrics
from capacity.columns import CUTOFF, MODEL

__all__ = [
    "Comparison",
    "PlacedForecaster",
    "compare",
    "default_models",
    "mase_season",
    "seasons",
]


class PlacedForecaster:
    """A forecaster that fits with fixed keyword arguments (holidays country, time zone).

    Parameters
    ----------
    model : object
        An unfitted forecaster with ``get_params``.
    fit_kwargs : mapping
        Extra keyword arguments of its ``fit``.
    """

    def __init__(self, model: Any, fit_kwargs: Mapping[str, Any]) -> None:
        self.model = model
        self.fit_kwargs = dict(fit_kwargs)
        self.quantiles = model.quantiles

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """A fresh unfitted copy of the wrapped model, and the fit arguments."""
        return {"model": type(self.model)(**self.model.get_params()), "fit_kwargs": self.fit_kwargs}

    def fit(self, series: pd.DataFrame, events: pd.DataFrame | None = None) -> PlacedForecaster:
        """Fit the wrapped model with the fixed keyword arguments."""
        self.model.fit(series, events, **self.fit_kwargs)
        self.freq_ = self.model.freq_
        return self

    def predict(self, horizon: int, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Predict with the wrapped model."""
        return self.model.predict(horizon, events)


_HOUR = pd.Timedelta(hours=1)


def seasons(step: pd.Timedelta = _HOUR) -> dict[str, int]:
    """The daily and weekly seasons of a series on a ``step`` grid, in steps.

    Parameters
    ----------
    step : pandas.Timedelta
        The grid's step.

    Returns
    -------
    dict of str to int
        ``"daily"`` and ``"weekly"`` where a day or a week is a whole number of steps, more
        than one (an hourly grid has ``{"daily": 24, "weekly": 168}``, a daily one
        ``{"weekly": 7}``).
    """
    found = {}
    for name, span in (("daily", pd.Timedelta(days=1)), ("weekly", pd.Timedelta(days=7))):
        steps = span / step
        if steps > 1 and steps == int(steps):
            found[name] = int(steps)
    return found


def mase_season(step: pd.Timedelta = _HOUR) -> tuple[str, int]:
    """MASE's seasonal lag on a ``step`` grid and its name: a day where a day is a whole
    number of steps (24 for hourly data, as in M4), else a week, else one step."""
    found = seasons(step)
    name = "daily" if "daily" in found else "weekly" if "weekly" in found else "naive"
    return name, found.get(name, 1)


def default_models(
    *,
    quantiles: tuple[float, ...] = (0.05, 0.5, 0.95),
    prophet_default: bool = False,
    fit_kwargs: Mapping[str, Any] | None = None,
    step: pd.Timedelta = _HOUR,
) -> dict[str, Any]:
    """The project's forecaster and the baselines it must beat, by display name.

    The baselines repeat last week and yesterday, in steps of ``step`` (:func:`seasons`);
    on a grid where neither is a whole number of steps, the last value.

    Parameters
    ----------
    quantiles : tuple of float
        The quantiles every model forecasts.
    prophet_default : bool
        Also compare Prophet with its defaults and no events (``prophet (defaults)``).
    fit_kwargs : mapping, optional
        Extra keyword arguments of the project forecaster's ``fit`` (holidays country,
        time zone).
    step : pandas.Timedelta
        The series' grid step, which sets the seasons the baselines repeat.
    """
    from capacity.baselines import ProphetDefault, SeasonalNaive
    from capacity.forecast import DemandForecaster

    models: dict[str, Any] = {
        "capacity": PlacedForecaster(DemandForecaster(quantiles=quantiles), fit_kwargs or {})
    }
    found = seasons(step)
    for name in ("weekly", "daily"):
        if name in found:
            models[f"seasonal naive ({name})"] = SeasonalNaive(
                season_length=found[name], quantiles=quantiles
            )
    if not found:
        models["naive (last value)"] = SeasonalNaive(season_length=1, quantiles=quantiles)
    if prophet_default:
        models["prophet (defaults)"] = ProphetDefault(quantiles=quantiles)
    return models


@dataclass(frozen=True)
class Comparison:
    """Backtest results of several models.

    Attributes
    ----------
    results : pandas.DataFrame
        The backtest rows of every model; ``model`` holds the display name.
    scores : pandas.DataFrame
        One row per model and cutoff plus an overall row per model (``cutoff`` NaT), as
        :func:`capacity.backtest.metrics` computes them; ``model`` holds the display name.
    """

    results: pd.DataFrame
    scores: pd.DataFrame

    def overall(self) -> pd.DataFrame:
        """The overall row of each model, best MASE first."""
        rows = self.scores[self.scores[CUTOFF].isna()]
        return rows.sort_values("mase").reset_index(drop=True)


def compare(
    series: pd.DataFrame,
    models: Mapping[str, Any],
    *,
    horizon: int,
    n_windows: int,
    step: int,
    events: pd.DataFrame | None = None,
    season_length: int = 24,
    min_train: int | None = None,
) -> Comparison:
    """Backtest every model on the same windows and score them.

    Parameters
    ----------
    series : pandas.DataFrame
        ``ts`` (UTC, regular) and ``value``.
    models : mapping of str to forecaster
        Display name to an unfitted forecaster.
    horizon, n_windows, step : int
        As :func:`capacity.backtest.backtest` takes them, in steps of the series.
    events : pandas.DataFrame, optional
        The calendar; each window sees only what was known at its cutoff, and the hours its
        outages cover are not scored.
    season_length : int
        MASE's seasonal lag; it also sets the default ``min_train``.
    min_train : int, optional
        Training rows the earliest window must have, as :func:`capacity.backtest.backtest`
        takes it. Default: ``2 * season_length``.

    Returns
    -------
    Comparison
    """
    results, scores = [], []
    for name, model in models.items():
        frame = backtest(
            model,
            series,
            horizon=horizon,
            n_windows=n_windows,
            step=step,
            events=events,
            season_length=season_length,
            min_train=min_train,
        )
        scored = metrics(frame, series, season_length=season_length, events=events)
        results.append(frame.assign(**{MODEL: name}))
        scores.append(scored.assign(**{MODEL: name}))
    return Comparison(pd.concat(results, ignore_index=True), pd.concat(scores, ignore_index=True))
