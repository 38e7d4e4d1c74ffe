"""Forecasting one series read from any CSV file: the ``capacity forecast`` command's logic.

The series is read and resampled by DuckDB (:func:`capacity.sources.read_series_csv`), the
model is trained only on rows strictly before ``train_end``, and the forecast has exactly
``horizon / freq`` rows starting at ``train_end``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from capacity.columns import TS, YHAT, quantile_column
from capacity.errors import DataError, ParameterError
from capacity.sources import read_series_csv
from capacity.store.sql import open_duckdb
from capacity.units import duration_text, parse_duration

__all__ = ["MAX_FORECAST_ROWS", "FileForecast", "forecast_csv", "parse_quantiles"]

#: The most rows a forecast has (a million rows take about 30 s and 1 GB to predict and
#: write; a horizon of 200 years at ``1min`` would run out of memory after many minutes).
MAX_FORECAST_ROWS = 1_000_000

#: The origin DuckDB's ``time_bucket`` aligns sub-day buckets to.
_GRID_ORIGIN = pd.Timestamp("2000-01-03", tz="UTC")


@dataclass(frozen=True)
class FileForecast:
    """A forecast of one file's series.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``ts``, ``yhat`` and one column per quantile, named ``q`` + the quantile as given.
    model : str
        The model that produced it.
    fallback : bool
        True when the main model could not be fitted and a baseline stood in.
    history_rows : int
        Grid rows with a value in the span the model was trained on (its last
        ``training_days`` before ``train_end``).
    newest : pandas.Timestamp
        The last grid row with a value: the forecast bridges any gap from it to ``train_end``.
    tied : dict of str to str
        Requested quantiles whose column equals a less extreme one's in every row (as
        written, e.g. ``{"0.999": "0.99"}``): the errors the band is calibrated on cannot
        tell levels that far out apart.
    errors : int
        How many errors a calibration window holds (0 without one).
    """

    frame: pd.DataFrame
    model: str
    fallback: bool
    history_rows: int
    newest: pd.Timestamp
    tied: dict[str, str] = field(default_factory=dict)
    errors: int = 0


def parse_quantiles(text: str) -> list[tuple[str, float]]:
    """Read ``"0.05,0.5,0.95"`` into ``[("0.05", 0.05), ...]``, keeping each as written.

    Raises
    ------
    ParameterError
        When a value is not a number strictly between 0 and 1, or repeats.
    """
    parsed: list[tuple[str, float]] = []
    for raw in text.split(","):
        item = raw.strip()
        try:
            value = float(item)
        except ValueError:
            value = math.nan
        if not 0 < value < 1:
            percent = re.fullmatch(r"\d+(?:\.\d*)?%", item)
            hint = f" (write {item} as {float(item[:-1]) / 100:g})" if percent else ""
            raise ParameterError(
                "The 'quantiles' parameter must be numbers strictly between 0 and 1, separated "
                f"by commas (e.g. 0.05,0.5,0.95){hint}. Got {item!r} in {text!r}."
            )
        if any(value == seen for _, seen in parsed):
            raise ParameterError(f"The 'quantiles' parameter repeats {item!r}. Got {text!r}.")
        parsed.append((item, value))
    return sorted(parsed, key=lambda pair: pair[1])


def forecast_csv(
    path: str | Path,
    *,
    time_column: str,
    value_column: str,
    train_end: pd.Timestamp,
    horizon: str,
    quantiles: Sequence[tuple[str, float]],
    events: pd.DataFrame | None = None,
    freq: str = "1h",
    agg: str = "mean",
    tz: str | None = None,
) -> FileForecast:
    """Forecast the series in a CSV file from ``train_end`` over ``horizon``.

    Parameters
    ----------
    path : str or Path
        Any CSV with a time column and a value column.
    time_column, value_column : str
        Their names.
    train_end : pandas.Timestamp
        Train on rows strictly before it; the forecast starts at it. Must lie on the grid.
    horizon : str
        A duration, a whole number of ``freq`` steps (e.g. ``168h``).
    quantiles : sequence of (str, float)
        From :func:`parse_quantiles`.
    events : pandas.DataFrame, optional
        A live-ops calendar; only what was knowable at ``train_end`` is used.
    freq, agg : str
        The grid's step and how values within a step combine.
    tz : str, optional
        The series' IANA time zone: naive times in the file are its wall-clock times (else
        UTC), and the daily and weekly cycles and the holidays' days follow its clock through
        daylight-saving changes (else UTC's).

    Returns
    -------
    FileForecast

    Raises
    ------
    DataError
        When the file is unusable or holds too little history before ``train_end``.
    ParameterError
        When the horizon, frequency or ``train_end`` do not fit together, or ``tz`` is not
        an IANA time zone.
    """
    from capacity.backtest import known_events
    from capacity.forecast import DemandForecaster

    step = parse_duration(freq, "freq")
    length = parse_duration(horizon, "horizon")
    steps = length / step
    if steps != int(steps) or steps < 1:
        fewer, more = math.floor(steps) * step, (math.floor(steps) + 1) * step
        near = " or ".join(duration_text(d) for d in (fewer, more) if d > pd.Timedelta(0))
        raise ParameterError(
            f"The 'horizon' parameter must be a whole number of {freq} steps, e.g. {near}. "
            f"Got {horizon!r}."
        )
    if steps > MAX_FORECAST_ROWS:
        raise ParameterError(
            f"The 'horizon' parameter must be at most {MAX_FORECAST_ROWS:,} steps of {freq}. "
            f"Got {horizon!r}, {steps:,.0f} steps.",
            fix="give a shorter --horizon or a coarser --freq",
        )
    off = (train_end - _GRID_ORIGIN) % step
    if off != pd.Timedelta(0):
        before = train_end - off
        raise ParameterError(
            f"The 'train_end' parameter must lie on the {freq} grid, whose steps count from "
            f"Monday {_GRID_ORIGIN:%Y-%m-%d %H:%M} UTC (a whole hour for 1h, a Monday for 1w); "
            f"the nearest are {before.isoformat()} and {(before + step).isoformat()}. "
            f"Got {train_end.isoformat()}."
        )
    con = open_duckdb()
    try:
        series = read_series_csv(
            con,
            path,
            time_column=time_column,
            value_column=value_column,
            freq=freq,
            agg=agg,
            before=train_end,
            tz=tz,
        )
    finally:
        con.close()
    if series["value"].notna().sum() == 0:
        raise DataError(
            f"no values before --train-end {train_end.isoformat()}",
            source=str(path),
            fix="choose a later --train-end",
        )
    visible = known_events(events, train_end, train_end + length) if events is not None else None
    model = DemandForecaster(quantiles=[q for _, q in quantiles])
    newest = _check_recent(series, train_end, model.training_days, path, step)
    try:
        model.fit(series, visible, timezone=tz)
    except DataError as exc:
        if not exc.problem.startswith("needs at least"):
            raise DataError(exc.problem, source=str(path), where=exc.where, fix=exc.fix) from None
        raise DataError(
            f"too little usable history before --train-end {train_end.isoformat()}: {exc.problem}",
            source=str(path),
            fix="choose a later --train-end or give a longer series",
        ) from None
    predicted = model.predict(int(steps), visible)
    frame = pd.DataFrame({TS: predicted[TS], YHAT: predicted[YHAT]})
    for text, value in quantiles:
        frame[f"q{text}"] = predicted[quantile_column(value)].to_numpy()
    return FileForecast(
        frame=frame.reset_index(drop=True),
        model=str(predicted["model"].iloc[0]),
        fallback=bool(predicted["fallback"].any()),
        history_rows=_rows_used(series, model.training_days),
        newest=newest,
        tied=_tied(frame, quantiles),
        errors=max((len(r) for r in model.residuals_), default=0),
    )


def _tied(frame: pd.DataFrame, quantiles: list[tuple[str, float]]) -> dict[str, str]:
    """Quantiles (as written) whose column equals the next less extreme one's everywhere."""
    tied: dict[str, str] = {}
    ordered = sorted(quantiles, key=lambda item: item[1])
    below = [item for item in ordered if item[1] < 0.5][::-1]  # outwards from the median
    above = [item for item in ordered if item[1] > 0.5]
    for side in (below, above):
        for (inner, _), (outer, _) in itertools.pairwise(side):
            if np.array_equal(frame[f"q{inner}"].to_numpy(), frame[f"q{outer}"].to_numpy()):
                tied[outer] = tied.get(inner, inner)
    return tied


def _rows_used(series: pd.DataFrame, training_days: float | None) -> int:
    """Rows with a value within the forecaster's training span (all of them without one)."""
    used = series[series["value"].notna()]
    if training_days is None or used.empty:
        return len(used)
    return int((used["ts"] > series["ts"].iloc[-1] - pd.Timedelta(days=training_days)).sum())


def _check_recent(
    series: pd.DataFrame,
    train_end: pd.Timestamp,
    training_days: float | None,
    path: Path,
    step: pd.Timedelta,
) -> pd.Timestamp:
    """The newest row with a value; refuse a ``train_end`` so far past the data that the
    training window is nearly empty.

    The forecaster trains on the last ``training_days`` before ``train_end``; when they hold
    less than two days of values while older values exist, it would repeat stale data.
    """
    observed = series.loc[series["value"].notna(), TS]
    newest = observed.iloc[-1]
    if training_days is None:
        return newest
    recent = observed[observed >= train_end - pd.Timedelta(days=training_days)]
    # the span the values cover, not their count times the step: daily values on a 15min
    # grid are 112 rows in 112 days
    span = recent.iloc[-1] - recent.iloc[0] + step if len(recent) else pd.Timedelta(0)
    if span >= pd.Timedelta(days=2) or len(recent) == len(observed):
        return newest  # enough to train on, or a short history the forecaster itself judges
    days = (train_end - newest) / pd.Timedelta(days=1)
    raise DataError(
        f"the newest value before --train-end {train_end.isoformat()} is at "
        f"{newest.isoformat()}, {days:.0f} days earlier; the forecaster trains on the "
        f"{training_days:g} days before --train-end and {len(recent)} row(s) of them hold a value",
        source=str(path),
        fix=f"choose a --train-end closer to the data's end ({newest.isoformat()})",
    )
