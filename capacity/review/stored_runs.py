"""Stored forecast runs against what happened, for the ``forecast_accuracy_review``
notebook.

:func:`run_actuals` joins the newest stored forecast runs with the telemetry that has arrived
since; :func:`accuracy` scores the joined hours by any grouping:

* ``mape``: mean of ``|yhat - actual| / actual`` over hours with ``actual > 0`` (a fraction);
* ``bias``: mean of ``(yhat - actual) / actual`` over the same hours; positive means the
  forecast was too high;
* ``coverage_90``: share of hours with ``q0.05 <= actual <= q0.95`` (NaN when the run has no
  such quantiles);
* ``peak_ape``: mean over series and UTC days with 24 scored hours of
  ``|max yhat - max actual| / max actual``; days whose peak is 0 are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from capacity.columns import (
    ACTUAL,
    CUTOFF,
    METRIC,
    REGION,
    SERVICE,
    STEP,
    TS,
    VALUE,
    YHAT,
    quantile_column,
)
from capacity.errors import ParameterError
from capacity.review.constants import HOUR, RUN_ID
from capacity.review.inputs import positive_int
from capacity.units import as_utc

if TYPE_CHECKING:
    from capacity.store import Store


def recent_runs(store: Store, runs: int = 4) -> pd.DataFrame:
    """The newest ``runs`` stored forecast runs.

    Returns
    -------
    pandas.DataFrame
        ``run_id, created_at, cutoff, horizon_end, series, fallbacks, seconds``, newest first.
    """
    runs = positive_int(runs, "runs")
    table = store.forecast_runs().head(runs)
    cutoff = pd.to_datetime(table[CUTOFF], utc=True)
    step = pd.to_timedelta(table["freq_seconds"].astype("float64"), unit="s")
    table = table.assign(
        **{CUTOFF: cutoff, "horizon_end": cutoff + step * table["horizon_steps"].astype("int64")}
    )
    return table.loc[
        :, [RUN_ID, "created_at", CUTOFF, "horizon_end", "series", "fallbacks", "seconds"]
    ].reset_index(drop=True)


def join_actuals(forecast: pd.DataFrame, actual: pd.DataFrame, cutoff: Any = None) -> pd.DataFrame:
    """A stored run's forecast beside the values that happened, for the hours known.

    Parameters
    ----------
    forecast : pandas.DataFrame
        One run from :meth:`Store.forecast`: ``run_id, region, service, metric, ts, yhat``
        and quantile columns.
    actual : pandas.DataFrame
        Telemetry ``ts, region, service, metric, value`` (as :meth:`Store.series`).
    cutoff : timestamp-like, optional
        The run's first forecast hour; default the earliest ``ts`` of the forecast.

    Returns
    -------
    pandas.DataFrame
        The forecast's columns, ``cutoff``, ``step`` (1 at the cutoff, counted in hours) and
        ``actual``; only rows whose actual value is known.
    """
    if forecast.empty:
        return forecast.assign(**{CUTOFF: pd.NaT, STEP: pd.Series(dtype="int64"), ACTUAL: np.nan})
    start = pd.Timestamp(cutoff) if cutoff is not None and not pd.isna(cutoff) else None
    start = forecast[TS].min() if start is None else start
    start = as_utc(start)
    keys = [REGION, SERVICE, METRIC, TS]
    values = actual.loc[:, [*keys, VALUE]].rename(columns={VALUE: ACTUAL})
    both = forecast.merge(values, on=keys, how="inner")
    both = both[np.isfinite(both[ACTUAL].to_numpy("float64"))].copy()
    both[CUTOFF] = start
    both[STEP] = ((both[TS] - start) / HOUR).astype("int64") + 1
    return both.sort_values([REGION, SERVICE, METRIC, TS]).reset_index(drop=True)


def run_actuals(store: Store, runs: int = 4) -> pd.DataFrame:
    """The newest ``runs`` stored runs joined with the telemetry that has arrived since.

    Returns
    -------
    pandas.DataFrame
        :func:`join_actuals` of every run, concatenated (empty when no run has a known hour).
    """
    frames = []
    for row in recent_runs(store, runs).itertuples(index=False):
        forecast = store.forecast(row.run_id)
        if forecast.empty:
            continue
        actual = store.series(
            region=sorted(forecast[REGION].unique()),
            service=sorted(forecast[SERVICE].unique()),
            metric=sorted(forecast[METRIC].unique()),
            start=forecast[TS].min(),
            end=forecast[TS].max() + HOUR,
            strict=False,
        )
        frames.append(join_actuals(forecast, actual, row.cutoff))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(
            columns=[RUN_ID, REGION, SERVICE, METRIC, TS, YHAT, CUTOFF, STEP, ACTUAL]
        )
    return pd.concat(frames, ignore_index=True)


def _peak_errors(joined: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: mean |max yhat - max actual| / max actual over series-days of 24 hours."""
    keys = list(dict.fromkeys([*by, RUN_ID, REGION, SERVICE, METRIC]))
    keys = [k for k in keys if k in joined]
    days = (
        joined.assign(day=joined[TS].dt.floor("D"))
        .groupby([*keys, "day"], dropna=False)
        .agg(hours=(ACTUAL, "size"), peak=(ACTUAL, "max"), predicted=(YHAT, "max"))
        .reset_index()
    )
    days = days[(days["hours"] >= 24) & (days["peak"] > 0)]
    days = days.assign(peak_error=(days["predicted"] - days["peak"]).abs() / days["peak"])
    return (
        days.groupby(by, dropna=False)
        .agg(peak_ape=("peak_error", "mean"), peak_days=("peak_error", "size"))
        .reset_index()
    )


def accuracy(
    joined: pd.DataFrame,
    *,
    by: Sequence[str] = (RUN_ID, CUTOFF, REGION, SERVICE, METRIC),
    low: float = 0.05,
    high: float = 0.95,
) -> pd.DataFrame:
    """Score forecast hours against what happened, per group (see the module docstring).

    Parameters
    ----------
    joined : pandas.DataFrame
        From :func:`join_actuals` or :func:`run_actuals`.
    by : sequence of str
        The grouping columns; the default scores every run and series.
    low, high : float
        The quantiles bounding the interval whose coverage is reported.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``hours``, ``mape``, ``bias``, ``coverage_<level>``, ``peak_ape``
        and ``peak_days``.
    """
    from capacity.backtest import coverage_column

    by = list(by)
    missing = [c for c in [*by, TS, YHAT, ACTUAL] if c not in joined]
    if missing:
        raise ParameterError(
            f"The 'joined' parameter must have columns {', '.join(missing)}. "
            f"Got {', '.join(map(str, joined.columns))}."
        )
    coverage = coverage_column(round(high - low, 6))
    columns = [*by, "hours", "mape", "bias", coverage, "peak_ape", "peak_days"]
    if joined.empty:
        return pd.DataFrame(columns=columns)
    actual = joined[ACTUAL].to_numpy("float64")
    predicted = joined[YHAT].to_numpy("float64")
    positive = actual > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(positive, (predicted - actual) / actual, np.nan)
    lo, hi = quantile_column(low), quantile_column(high)
    inside = (
        ((joined[lo] <= joined[ACTUAL]) & (joined[ACTUAL] <= joined[hi])).astype("float64")
        if lo in joined and hi in joined
        else pd.Series(np.nan, index=joined.index)
    )
    scored = joined.loc[:, by].assign(
        _abs=np.abs(relative), _rel=relative, _inside=inside.to_numpy()
    )
    table = (
        scored.groupby(by, dropna=False)
        .agg(
            hours=("_rel", "size"),
            mape=("_abs", "mean"),
            bias=("_rel", "mean"),
            **{coverage: ("_inside", "mean")},
        )
        .reset_index()
    )
    table = table.merge(_peak_errors(joined, by), on=by, how="left")
    table["peak_days"] = table["peak_days"].fillna(0).astype("int64")
    return table.loc[:, columns]


def accuracy_by_lead(joined: pd.DataFrame, *, bucket_hours: int = 24) -> pd.DataFrame:
    """:func:`accuracy` per run and lead time: day 1 is the first ``bucket_hours`` hours.

    Returns
    -------
    pandas.DataFrame
        ``run_id, cutoff, lead_day`` and the columns of :func:`accuracy`.
    """
    bucket_hours = positive_int(bucket_hours, "bucket_hours")
    lead = (joined[STEP].astype("int64") - 1) // bucket_hours + 1 if len(joined) else []
    return accuracy(joined.assign(lead_day=lead), by=(RUN_ID, CUTOFF, "lead_day"))
