"""The event check's table as ``capacity check-event`` prints it in a terminal.

One line per region/service with the verdict and the figures behind it, under a two-line
header, and a second, indented line with when to act and when demand peaks: every figure of
the check, in under 100 columns for the demo fleet (a 160-column table wrapped in a laptop's
terminal). ``--format json`` keeps the check's own keys and values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from capacity.columns import REGION, SERVICE

if TYPE_CHECKING:
    from capacity.event_check import PlannedEvent

__all__ = ["TERMINAL_COLUMNS", "WIDTH", "terminal_table", "terminal_title"]

#: The columns the table and the title keep within, for the demo fleet's names.
WIDTH = 100


@dataclass(frozen=True)
class _Column:
    key: str
    top: str
    bottom: str
    text: Callable[[object], str]
    right: bool = True


def _count(value: object) -> str:
    return f"{int(value):,}"


def _whole(value: object) -> str:
    return "-" if pd.isna(value) else f"{float(value):,.0f}"


def _tenths(value: object) -> str:
    return "-" if pd.isna(value) else f"{float(value):,.1f}"


def _plain(value: object) -> str:
    return str(value)


def _probability(value: object) -> str:
    from capacity.event_check import probability_text

    return probability_text(float(value))


#: The first line of each row: what to do, then why. Headers are two words stacked, so the
#: columns stay narrow.
TERMINAL_COLUMNS = (
    _Column(REGION, "", "region", _plain, right=False),
    _Column(SERVICE, "", "service", _plain, right=False),
    _Column("verdict", "", "verdict", _plain, right=False),
    _Column("add_servers", "add", "servers", _count),
    _Column("servers_needed", "servers", "needed", _count),
    _Column("servers_available", "servers", "available", _count),
    _Column("breach_probability", "breach", "prob.", _probability),
    _Column("peak_demand", "peak", "demand", _whole),
    _Column("safe_load", "safe load", "per server", _tenths),
)

_GAP = "  "
#: The second line of a row is indented, so the rows stand out.
_INDENT = "  "


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
    if table.empty:
        return "  (none)"
    cells = [
        [column.text(row[column.key]) for column in TERMINAL_COLUMNS] for _, row in table.iterrows()
    ]
    widths = [
        max(len(column.top), len(column.bottom), *(len(line[i]) for line in cells))
        for i, column in enumerate(TERMINAL_COLUMNS)
    ]

    def line(values: list[str]) -> str:
        parts = [
            value.rjust(width) if column.right else value.ljust(width)
            for value, width, column in zip(values, widths, TERMINAL_COLUMNS, strict=True)
        ]
        return _GAP.join(parts).rstrip()

    lines = [
        line([column.top for column in TERMINAL_COLUMNS]),
        line([column.bottom for column in TERMINAL_COLUMNS]),
    ]
    for values, (_, row) in zip(cells, table.iterrows(), strict=True):
        lines.append(line(values))
        lines.append(_INDENT + _when(row))
    return "\n".join(lines)


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
        x1.6``; when that is wider than :data:`WIDTH`, the regions and uplift go on a second,
        indented line.
    """
    when = f"{event.name}: {event.start:%Y-%m-%d %H:%M} to {event.end:%Y-%m-%d %H:%M} UTC"
    where = f"{', '.join(event.regions)}, uplift x{event.uplift:g}"
    one = f"{when}, {where}"
    return one if len(one) <= WIDTH else f"{when},\n{_INDENT}{where}"
