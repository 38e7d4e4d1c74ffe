"""The servers each region/service ran in its last week of telemetry, against the fleet
file's ``current_servers``.

``recommend``, ``check-event`` and ``plan`` take ``current_servers`` as the servers running
now. A count written from memory, or left from before the fleet grew, that is below what the
``servers`` telemetry shows running reads as a shortfall to buy. ``status`` (table and JSON),
``recommend`` (a note in every format, and ``servers_ran_last_week`` in its JSON),
``check-event`` and the weekly plan's warnings say so, in the words of :func:`count_note`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from capacity.columns import REGION, SERVERS, SERVICE

if TYPE_CHECKING:
    from capacity.config import FleetConfig
    from capacity.store import Store

#: How far back from a pair's newest ``servers`` telemetry its servers are read.
WEEK = pd.Timedelta(days=7)


def servers_last_week(
    store: Store,
    pairs: Iterable[tuple[str, str]] | None = None,
    *,
    end: pd.Timestamp | None = None,
) -> dict[tuple[str, str], float]:
    """The most servers (hourly mean) each region/service ran in the week to its newest
    ``servers`` telemetry.

    Parameters
    ----------
    store : Store
        The telemetry.
    pairs : iterable of (region, service), optional
        The region/services to read; default every one with ``servers`` telemetry.
    end : pandas.Timestamp, optional
        Read the telemetry before it only (a plan's cutoff: a past week's plan reads what was
        known then); default all.

    Returns
    -------
    dict
        ``(region, service)`` to the most servers; a pair without ``servers`` telemetry (or
        with none but NaN in its last week) is absent.
    """
    wanted = None if pairs is None else sorted({f"{r}/{s}" for r, s in pairs})
    if wanted == []:
        return {}
    where, params = "", [SERVERS]
    if wanted is not None:
        where += " AND list_contains(?, region || '/' || service)"
        params.append(wanted)
    if end is not None:
        where += " AND ts < ?"
        params.append(end)
    ends = store.con.execute(
        f"SELECT region, service, max(ts) AS end FROM telemetry WHERE metric = ?{where} "
        "GROUP BY region, service",
        params,
    ).df()
    if ends.empty:
        return {}
    ends = ends.astype({REGION: str, SERVICE: str})
    ends["end"] = pd.to_datetime(ends["end"], utc=True)
    start = pd.Timestamp(ends["end"].min()).floor("h") - WEEK
    hourly = store.series(
        metric=SERVERS,
        region=sorted(set(ends[REGION])),
        service=sorted(set(ends[SERVICE])),
        start=start,
        end=end,
        strict=False,
    )
    rows = hourly.astype({REGION: str, SERVICE: str}).merge(ends, on=[REGION, SERVICE])
    week = rows[(rows["ts"] > rows["end"] - WEEK) & rows["value"].notna()]
    most = week.groupby([REGION, SERVICE])["value"].max()
    return {(region, service): float(value) for (region, service), value in most.items()}


def counts_below_ran(
    fleet: FleetConfig, ran: dict[tuple[str, str], float]
) -> list[dict[str, str | int | float]]:
    """The fleet's region/services whose ``current_servers`` is below what they ran.

    Parameters
    ----------
    fleet : FleetConfig
        The fleet file: its ``current_servers``.
    ran : dict
        :func:`servers_last_week`'s answer.

    Returns
    -------
    list of dict
        ``region, service, current_servers, servers_ran_last_week`` in the fleet file's
        order; a pair without a count or without ``servers`` telemetry is not compared.
    """
    short = []
    for region, service, _ in fleet.demand_series():
        count = fleet.current_servers.get(region, {}).get(service)
        most = ran.get((region, service))
        if count is not None and most is not None and most > count:
            short.append(
                {
                    REGION: region,
                    SERVICE: service,
                    "current_servers": count,
                    "servers_ran_last_week": most,
                }
            )
    return short


def count_note(
    short: list[dict[str, str | int | float]],
    readers: str = "recommend, check-event and plan take",
) -> list[str]:
    """A ``note:`` line naming the counts below what ran, or none.

    Parameters
    ----------
    short : list of dict
        :func:`counts_below_ran`'s rows.
    readers : str
        Who takes the count as the servers now, with its verb (``These recommendations
        take``).

    Returns
    -------
    list of str
        One line, or empty when no count is below.
    """
    from capacity.texts import first_few

    if not short:
        return []
    named = [
        f"{row[REGION]}/{row[SERVICE]} {int(row['current_servers']):,} (ran up to "
        f"{_servers_text(float(row['servers_ran_last_week']))})"
        for row in short
    ]
    return [
        f"note: current_servers counts fewer servers than the telemetry's servers ran in its "
        f"last week for {len(short)} region/service(s): {first_few(named, 4)}. {readers} the "
        "fleet file's count as the servers now. Fix: write the fleet as provisioned (for an "
        "autoscaled service, the most servers it ran in the last week), unless the servers "
        "above the count are gone"
    ]


def _servers_text(value: float) -> str:
    """A count of servers ran: whole, or an hourly mean to two decimals at most (``10.4``),
    which rounded to a whole number could read as the very count it exceeds."""
    if value == round(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")
