"""The event check in words, for the ``event_headroom_check`` notebook: how the verdicts
follow from the thresholds, and the event as checked with what to do.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from capacity.columns import REGION, SERVICE
from capacity.texts import servers_text

if TYPE_CHECKING:
    from capacity.event_check import EventCheck


def verdict_thresholds() -> str:
    """Markdown: how the event check's verdicts follow from its thresholds."""
    from capacity.event_check import AT_RISK_PROBABILITY, CHECK_QUANTILES, NO_GO_PROBABILITY

    at_risk, no_go = f"{AT_RISK_PROBABILITY:.0%}", f"{NO_GO_PROBABILITY:.0%}"
    lowest, highest = min(CHECK_QUANTILES), max(CHECK_QUANTILES)
    return (
        "*Safe capacity* is the servers available times the safe load per server (the load at "
        "which the median p99 latency reaches the SLO). For each hour of the event the "
        "forecast's quantiles give the probability that demand exceeds it; the check keeps "
        "the worst hour.\n\n"
        f"- **GO**: that probability stays below {at_risk} at every hour, and the servers "
        "available cover the N+k rule.\n"
        f"- **AT_RISK**: it reaches {at_risk} at some hour, or the servers available are "
        "short of N+k (no spare for a failure).\n"
        f"- **NO_GO**: it reaches {no_go} at some hour: demand more likely than not exceeds "
        "safe capacity.\n\n"
        f"Probabilities are read between the {lowest:g} and {highest:g} quantiles, so they "
        f"never show below {1 - highest:.0%} or above {1 - lowest:.0%}. `add_servers` reaches "
        "the N+k need at the p95 peak; `act_by` is the start minus the server type's boot and "
        "procurement lead times."
    )


def event_summary(check: EventCheck) -> str:
    """HTML: the event as checked, the verdicts in one line and what to do; names escaped.

    Parameters
    ----------
    check : EventCheck
        The event's headroom check (:func:`capacity.event_check.check_event`).

    Returns
    -------
    str
        HTML paragraphs.
    """
    event, table = check.event, check.table
    counts = table["verdict"].value_counts() if len(table) else pd.Series(dtype="int64")
    verdicts = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("GO", "AT_RISK", "NO_GO"))
    parts = [
        f"<p><b>{html.escape(event.name)}</b>: {event.start:%Y-%m-%d %H:%M} to "
        f"{event.end:%Y-%m-%d %H:%M} UTC in {html.escape(', '.join(event.regions))}; "
        f"{event.expected_text} ({html.escape(check.origin)}).</p>",
        f"<p>{len(table)} region/service{'s' if len(table) != 1 else ''} checked: {verdicts}.</p>",
    ]
    short = table[table["add_servers"] > 0] if len(table) else table
    if len(short):
        first = short.sort_values("act_by").iloc[0]
        late = int(short["overdue"].sum())
        parts.append(
            f"<p>Add {servers_text(int(short['add_servers'].sum()))} across {len(short)} "
            f"region/service{'s' if len(short) != 1 else ''}; the earliest act-by date is "
            f"{first['act_by']:%Y-%m-%d %H:%M} UTC "
            f"({html.escape(str(first[REGION]))} / {html.escape(str(first[SERVICE]))})"
            + (f"; {late} already overdue." if late else ".")
            + "</p>"
        )
    else:
        parts.append("<p>No servers to add.</p>")
    # A stored event this one is taken to be is named in the first line (``check.origin``)
    # and explained by ``check.notes()``, which the notebook shows beneath: not a third time.
    return "".join(parts)
