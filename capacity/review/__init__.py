"""Computations behind the analyst's and planner's notebooks.

The notebooks ``explore_telemetry``, ``forecast_accuracy_review`` and
``event_headroom_check`` only call these functions and draw the figures of
:mod:`capacity.explore_charts`, so everything they show is ordinary tested code.

Everything is imported from ``capacity.review``; the work is done in one module per
notebook topic, each with the details of what it computes in its docstring:

- ``shapes``: a series by local weekday and hour, and its additive decomposition into trend,
  daily and weekly profiles and residual (:func:`decompose`, :class:`Decomposition`);
- ``latency``: load per server against p99 latency, and the median curve through it;
- ``stored_runs``: stored forecast runs joined with what happened, scored by any grouping
  (:func:`accuracy`: ``mape``, ``bias``, ``coverage_90``, ``peak_ape``);
- ``backtests``: the project's forecaster and its baselines through the same backtest
  windows, one forecaster at a time (:func:`compare_forecasters`);
- ``event_headroom``: the event check in words;
- ``headlines``: the notebooks' headline sentences and the store's status per region;
- ``inputs``: the notebooks' path parameters and choice of series, checked;
- ``constants``: the column names and labels the figures share (``RUN_ID``,
  ``LOAD_PER_SERVER``, ``EXCLUDED``, ``WEEKDAYS``), the compared quantiles, and the spans
  the parts count in.

The parts import one way: each uses ``constants`` and ``inputs`` at most, never another
topic's module nor the names of this package.
"""

from __future__ import annotations

from capacity.review.backtests import (
    BacktestComparison,
    backtest_history,
    compare_forecasters,
    default_forecasters,
)
from capacity.review.constants import (
    COMPARE_QUANTILES,
    EXCLUDED,
    LOAD_PER_SERVER,
    RUN_ID,
    WEEKDAYS,
)
from capacity.review.event_headroom import event_summary, verdict_thresholds
from capacity.review.headlines import region_status, review_summary, series_summary, status_summary
from capacity.review.inputs import check_series, notebook_file
from capacity.review.latency import latency_by_load, load_latency, load_latency_frame
from capacity.review.shapes import (
    Decomposition,
    decompose,
    decompose_or_note,
    weekday_hour_profile,
)
from capacity.review.stored_runs import (
    accuracy,
    accuracy_by_lead,
    join_actuals,
    recent_runs,
    run_actuals,
)

__all__ = [
    "COMPARE_QUANTILES",
    "EXCLUDED",
    "LOAD_PER_SERVER",
    "RUN_ID",
    "WEEKDAYS",
    "BacktestComparison",
    "Decomposition",
    "accuracy",
    "accuracy_by_lead",
    "backtest_history",
    "check_series",
    "compare_forecasters",
    "decompose",
    "decompose_or_note",
    "default_forecasters",
    "event_summary",
    "join_actuals",
    "latency_by_load",
    "load_latency",
    "load_latency_frame",
    "notebook_file",
    "recent_runs",
    "region_status",
    "review_summary",
    "run_actuals",
    "series_summary",
    "status_summary",
    "verdict_thresholds",
    "weekday_hour_profile",
]
