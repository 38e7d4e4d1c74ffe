"""The notebooks' headline sentences and the store's status table.

:func:`status_summary` and :func:`region_status` say what the store holds,
:func:`series_summary` which series ``explore_telemetry`` shows, :func:`review_summary`
what ``forecast_accuracy_review`` compares.
"""

from __future__ import annotations

import html

import pandas as pd

from capacity.columns import REGION, TS, VALUE


def region_status(status: pd.DataFrame, region: str) -> pd.DataFrame:
    """The rows of :meth:`Store.status`'s series table for one region, without the load id
    (``last_loaded_at`` says when)."""
    mine = status[status[REGION] == region]
    return mine.drop(columns=["last_load_id"], errors="ignore").reset_index(drop=True)


def status_summary(status: pd.DataFrame) -> str:
    """One sentence about :meth:`Store.status`'s series table: how much, since when, gaps."""
    if status.empty:
        return "The store holds no telemetry yet."
    regions = status[REGION].nunique()
    first = pd.Timestamp(status["first_ts"].min()).tz_convert("UTC")
    last = pd.Timestamp(status["last_ts"].max()).tz_convert("UTC")
    return (
        f"{len(status):,} series in {regions} region{'s' if regions != 1 else ''}, "
        f"{int(status['rows'].sum()):,} rows from {first:%Y-%m-%d %H:%M} "
        f"to {last:%Y-%m-%d %H:%M} UTC; "
        f"{int(status['missing_hours'].sum()):,} missing hours in "
        f"{int(status['gaps'].sum()):,} gaps."
    )


def series_summary(
    series: pd.DataFrame, *, region: str, service: str, metric: str, timezone: str
) -> str:
    """Markdown: the series chosen, its hours from when to when (UTC), how many are missing,
    and the region's local zone, which the weekday and hour charts follow."""
    chosen = f"**{html.escape(region)} / {html.escape(service)} / {html.escape(metric)}**"
    if series.empty:
        return f"{chosen}: no hours in this span, so there is nothing to show."
    first, last = series[TS].min(), series[TS].max()
    missing = int(series[VALUE].isna().sum())
    return (
        f"{chosen}, "
        f"{len(series):,} hours from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC, "
        f"{missing:,} of them missing. Times on the charts' time axes are UTC; the weekday "
        f"and hour charts follow local time, {html.escape(timezone)}."
    )


def review_summary(
    stored: pd.DataFrame,
    joined: pd.DataFrame,
    series: pd.DataFrame,
    *,
    region: str,
    service: str,
    metric: str,
    horizon: int,
    n_windows: int,
) -> str:
    """Markdown: the forecast review's scope, the stored runs and hours compared, and the
    backtest's series, span and windows."""
    runs = len(stored)
    return (
        f"{runs} stored run{'s' if runs != 1 else ''} reviewed, {len(joined):,} forecast "
        f"hour{'s' if len(joined) != 1 else ''} with a known actual value. Backtest on "
        f"**{html.escape(region)} / {html.escape(service)} / {html.escape(metric)}**: "
        f"{len(series):,} hours from {series[TS].min():%Y-%m-%d %H:%M} to "
        f"{series[TS].max():%Y-%m-%d %H:%M} UTC, {n_windows} window"
        f"{'s' if n_windows != 1 else ''} of {horizon} hours."
    )
