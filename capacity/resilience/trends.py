"""Week-over-week trends: :func:`trend` compares the last weeks' figures with the weeks
before them, figure by figure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from capacity.columns import REGION, SERVICE
from capacity.config import FleetConfig
from capacity.errors import ParameterError
from capacity.resilience.columns import TREND_COLUMNS
from capacity.resilience.figures import kpis
from capacity.units import parse_timestamp

#: Figures :func:`trend` compares, and whether a higher value is better (None: neither).
TREND_FIGURES: tuple[tuple[str, bool | None], ...] = (
    ("availability", True),
    ("error_budget_remaining", True),
    ("mttr_minutes", False),
    ("mttd_minutes", False),
    ("mtbf_hours", True),
    ("incidents", False),
    ("deploys", None),
    ("change_failure_rate", False),
)


def trend(
    incidents: pd.DataFrame | None,
    deploys: pd.DataFrame | None,
    error_rate: pd.DataFrame,
    fleet: FleetConfig,
    *,
    until: Any,
    weeks: int = 4,
    by: str | Sequence[str] = (REGION, SERVICE),
) -> pd.DataFrame:
    """The last ``weeks`` weeks before ``until`` against the ``weeks`` weeks before them.

    Parameters
    ----------
    incidents, deploys, error_rate, fleet, by
        As for :func:`kpis`. ``error_rate`` should cover ``2 * weeks`` weeks before ``until``.
    until : timestamp-like
        End of the current period (excluded); naive values are taken as UTC.
    weeks : int
        Length of each period in weeks, at least 1.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TREND_COLUMNS`: one row per group (as :func:`kpis`, overall last) and
        figure of :data:`TREND_FIGURES`; ``previous`` and ``current`` the figure in each period
        (NaN when it cannot be measured), ``change = current - previous``, and ``direction``
        ``"better"``, ``"worse"`` or ``"same"``, or None when either value is missing or the
        figure (``deploys``) is neither.

    Raises
    ------
    ParameterError
        When ``weeks`` is not a positive integer, or as :func:`kpis`.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int | np.integer) or weeks < 1:
        raise ParameterError(f"The 'weeks' parameter must be a positive integer. Got {weeks!r}.")
    hi = parse_timestamp(until, "until").as_unit("ns")
    span = pd.Timedelta(weeks=int(weeks))
    args = (incidents, deploys, error_rate, fleet)
    current = kpis(*args, since=hi - span, until=hi, by=by)
    previous = kpis(*args, since=hi - 2 * span, until=hi - span, by=by)
    rows = []
    for (_, cur), (_, prev) in zip(current.iterrows(), previous.iterrows(), strict=True):
        for figure, higher_better in TREND_FIGURES:
            before, now = float(prev[figure]), float(cur[figure])
            change = now - before
            direction = None
            if higher_better is not None and not math.isnan(change):
                if change == 0:
                    direction = "same"
                else:
                    direction = "better" if (change > 0) == higher_better else "worse"
            rows.append((cur[REGION], cur[SERVICE], figure, before, now, change, direction))
    frame = pd.DataFrame(rows, columns=list(TREND_COLUMNS))
    frame["direction"] = pd.Series([r[-1] for r in rows], dtype=object)
    return frame
