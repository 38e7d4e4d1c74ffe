"""Warnings for the fleet's series a forecast run left out.

A region/service the fleet file plans but whose demand telemetry is missing from the history
window is not forecast (:func:`capacity.forecast_fleet.forecast_fleet` marks it
``skipped: ...`` in its summary). The tables built on the run (``recommend``,
``check-event``, ``schedule``) then have no row for it; these lines say so, so that a pair
does not disappear from them without a word.
"""

from __future__ import annotations

import pandas as pd

from capacity.columns import METRIC, REGION, SERVICE
from capacity.demand_held import Held, held_instead, other_metrics

#: The summary status of a series that was not forecast, before its reason.
SKIPPED = "skipped: "
#: The reason forecast_fleet gives for a series with no value in the history window.
NO_TELEMETRY = "no telemetry in the history window"


def skipped_warnings(
    summary: pd.DataFrame,
    left_out_of: str,
    *,
    history: str | None = None,
    cutoff: pd.Timestamp | None = None,
    held: Held | None = None,
) -> list[str]:
    """One ``warning:`` line per series a forecast run skipped.

    Parameters
    ----------
    summary : pandas.DataFrame
        A forecast run's summary (``region, service, metric, status``).
    left_out_of : str
        What the series is missing from, to end the line: ``"this table and of the
        region-loss check"`` reads "it is left out of this table and of the region-loss check".
    history, cutoff : optional
        The run's history length and first forecast hour, to say which window was read.
    held : mapping, optional
        The demand metrics the store holds per ``(region, service)``
        (:attr:`capacity.forecast_fleet.FleetForecast.held`): a skipped pair holding the
        other demand metric is told so, and how to fix it, rather than to load telemetry it
        has already loaded.

    Returns
    -------
    list of str
        In the summary's order; empty when every series was forecast.
    """
    if summary.empty or "status" not in summary:
        return []
    status = summary["status"].astype(str)
    skipped = summary[status.str.startswith(SKIPPED)]
    window = ""
    if history is not None and cutoff is not None:
        window = f" ({history} before {pd.Timestamp(cutoff):%Y-%m-%d %H:%M} UTC)"
    lines = []
    for row in skipped.itertuples(index=False):
        region, service, metric = getattr(row, REGION), getattr(row, SERVICE), getattr(row, METRIC)
        reason = str(row.status).removeprefix(SKIPPED)
        if reason == NO_TELEMETRY:
            what = f"has no demand telemetry ({metric}) in the history window{window}"
            others = other_metrics(held or {}, region, service, metric)
            todo = (
                f": {held_instead(service, metric, others)}"
                if others
                else f": load its {metric} telemetry to plan it"
            )
        else:
            what, todo = f"({metric}) could not be forecast ({reason})", ""
        lines.append(f"warning: {region}/{service} {what}; it is left out of {left_out_of}{todo}")
    return lines
