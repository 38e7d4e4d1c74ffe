"""Forecasters side by side on the same backtest windows, for the
``forecast_accuracy_review`` notebook.

:func:`compare_forecasters` runs :func:`capacity.comparison.compare` (the same rolling
windows for every forecaster) one forecaster at a time, so that a forecaster that fails is
reported rather than raised and does not hide the others; a parameter error (a series too
short for the windows asked for) is raised. It adds the tables the review shows: scores per
window and pooled, with the mean pinball loss over the quantiles.

:func:`backtest_history` keeps the history the backtest is run on and refuses one too short
for the windows asked for, in the notebook's terms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from capacity.columns import CUTOFF, MODEL, TS
from capacity.errors import ParameterError
from capacity.review.constants import COMPARE_QUANTILES, WEEK_HOURS
from capacity.review.inputs import positive_int

if TYPE_CHECKING:
    from capacity.backtest import Forecaster


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
        "seasonal naive (weekly)": SeasonalNaive(season_length=WEEK_HOURS, quantiles=levels),
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
    horizon = positive_int(horizon, "horizon", hours=True)
    n_windows = positive_int(n_windows, "n_windows")
    seasons = default_min_train(positive_int(season_length, "season_length", cell=False))
    min_train = max(seasons, WEEK_HOURS + 1)
    if series.empty:
        return series.reset_index(drop=True)
    kept = series[series[TS] > series[TS].max() - span].reset_index(drop=True)
    needed = n_windows * horizon + min_train
    if len(kept) < needed:
        fit = windows_that_fit(len(kept), horizon=horizon, step=horizon, min_train=min_train)
        days = math.ceil(needed / 24)
        lower = (
            f" or lower n_windows to {fit}"
            if fit
            else _shorter_windows(len(kept) - min_train, horizon=horizon, n_windows=n_windows)
        )
        why = (
            f"two seasons of {season_length}"
            if seasons >= min_train
            else "the weekly seasonal naive repeats the week before"
        )
        raise ParameterError(
            f"The 'history' parameter ({history}) keeps {len(kept):,} hours, too few for "
            f"{n_windows} backtest window{'s' if n_windows != 1 else ''} of {horizon} hours: "
            f"they need {needed:,} ({n_windows} x {horizon} forecast, and {min_train} before "
            f"the first to fit on: {why}).",
            fix=f"raise history to {days}d or more{lower} in the parameters cell",
        )
    return kept


def _shorter_windows(spare: int, *, horizon: int, n_windows: int) -> str:
    """The fix of a history too short for one window of ``horizon`` hours: shorter windows,
    in whole days and two at least (``peak_ape`` scores the UTC days a window holds whole,
    and a window of one day seldom starts at midnight), given in hours as the parameter is,
    and one window when no more fit; empty when not even that fits in the ``spare`` hours
    left after the hours to fit on."""
    each = spare // n_windows // 24 * 24
    if each >= 48:
        return (
            f" or lower horizon to {each} (hours per window: {_days(each)} instead of "
            f"{_days(horizon)})"
        )
    one = min(spare // 24 * 24, horizon)
    if n_windows > 1 and one >= 48:
        return (
            f" or set n_windows to 1 and horizon to {one} (hours: {_days(one)} instead of "
            f"{_days(horizon)})"
        )
    return ""


def _days(hours: int) -> str:
    """``hours`` in days where whole (``7 days``), else in hours (``30 hours``)."""
    if hours % 24 == 0:
        return f"{hours // 24} day{'s' if hours != 24 else ''}"
    return f"{hours} hours"


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
