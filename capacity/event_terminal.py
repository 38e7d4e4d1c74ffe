"""The event check's table as ``capacity check-event`` prints it in a terminal.

One line per region/service with the verdict and the figures behind it, under a two-line
header, and a second, indented line with when to act and when demand peaks: every figure of
the check, in under 100 columns for the demo fleet (a 160-column table wrapped in a laptop's
terminal). ``--format json`` keeps the check's own keys and values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from capacity.columns import REGION, SERVICE
from capacity.terminal import WIDTH, Column, count, decimals, demand, grid, plain, wrap

if TYPE_CHECKING:
    from capacity.event_check import PlannedEvent

__all__ = ["TERMINAL_COLUMNS", "WIDTH", "terminal_table", "terminal_title"]


def _probability(value: object) -> str:
    from capacity.event_check import probability_text

    return probability_text(float(value))


#: The first line of each row: what to do, then why. Headers are two words stacked, so the
#: columns stay narrow.
TERMINAL_COLUMNS = (
    Column(REGION, "", "region", plain, right=False),
    Column(SERVICE, "", "service", plain, right=False),
    Column("verdict", "", "verdict", plain, right=False),
    Column("add_servers", "add", "servers", count),
    Column("servers_needed", "servers", "needed", count),
    Column("servers_available", "servers", "available", count),
    Column("breach_probability", "breach", "prob.", _probability),
    Column("peak_demand", "peak", "demand", demand),
    Column("safe_load", "safe load", "per server", decimals(1)),
)


def _when(row: pd.Series) -> str:
    """The row's second line: the date to act by (or nothing to add) and the peak hour."""
    if row["add_servers"] > 0 and pd.notna(row["act_by"]):
        act = f"act by {pd.Timestamp(row['act_by']):%Y-%m-%d %H:%M} UTC"
        if bool(row.get("overdue", False)):
            act += " (overdue)"
    else:
        act = "nothing to add"
    peak = row.get("peak_at")
    if peak is None or pd.isna(peak):
        return act
    metric = f" ({row['metric']})" if "metric" in row and pd.notna(row["metric"]) else ""
    return f"{act}; demand{metric} peaks {pd.Timestamp(peak):%Y-%m-%d %H:%M} UTC"


def terminal_table(table: pd.DataFrame) -> str:
    """The event check's table for a terminal, within 100 columns for the demo fleet.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`capacity.event_check.EventCheck.table`: ``region, service, metric,
        peak_demand, peak_at, safe_load, servers_needed, servers_available,
        breach_probability, verdict, add_servers, act_by, overdue``.

    Returns
    -------
    str
        A two-line header, then per region/service a line of :data:`TERMINAL_COLUMNS`
        (servers as whole numbers with thousands separators, the breach probability as
        :func:`capacity.event_check.probability_text` writes it, the peak demand to the
        unit, the safe load to a tenth) and an indented line: ``act by <UTC time>``, marked
        ``(overdue)`` when that time has passed, or ``nothing to add``, then the hour the
        demand (its metric) peaks. ``  (none)`` for an empty table.
    """
    return grid(table, TERMINAL_COLUMNS, _when)


def terminal_title(event: PlannedEvent) -> str:
    """The line above the table: the event's name, times, regions and uplift.

    Parameters
    ----------
    event : PlannedEvent
        The event checked.

    Returns
    -------
    str
        ``Winter Festival: 2026-12-18 08:00 to 2027-01-04 08:00 UTC, eu-west, na-east, uplift
        x1.6``; when that is wider than :data:`WIDTH`, the regions and uplift go on indented
        lines below, as many as the regions of a large fleet need.
    """
    when = f"{event.name}: {event.start:%Y-%m-%d %H:%M} to {event.end:%Y-%m-%d %H:%M} UTC"
    where = f"{', '.join(event.regions)}, {event.uplift_text}"
    one = f"{when}, {where}"
    return one if len(one) <= WIDTH else f"{when},\n{wrap(where)}"
