"""Demand telemetry stored under the other demand metric than the fleet file's.

The fleet file names one demand metric per service (``ccu`` or ``rps``), and every forecast
and safe load reads that metric alone. A region/service whose telemetry was loaded under the
other one (an export that named the column after it, or a ``demand_metric`` of the wrong
kind) has no demand to read, though its telemetry *is* loaded: asking to "load its rps
telemetry" then misleads. Every command that finds such a pair (``status``, ``recommend``,
``check-event``, ``schedule``, ``plan``, ``backtest`` and the safe loads' notes) names the
metric the store holds and the two fixes in the words of :func:`held_instead`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from capacity.columns import DEMAND_METRICS

if TYPE_CHECKING:
    import duckdb

#: The demand metrics the store holds, per ``(region, service)``.
Held = Mapping[tuple[str, str], Sequence[str]]


def held_from_rows(
    rows: Iterable[tuple[object, object, object]],
) -> dict[tuple[str, str], list[str]]:
    """The demand metrics among ``(region, service, metric)`` rows, per region/service.

    Parameters
    ----------
    rows : iterable of (region, service, metric)
        What the store holds (other metrics than ``ccu`` and ``rps`` are passed over).

    Returns
    -------
    dict
        ``(region, service)`` to its sorted demand metrics.
    """
    held: dict[tuple[str, str], set[str]] = {}
    for region, service, metric in rows:
        if str(metric) in DEMAND_METRICS:
            held.setdefault((str(region), str(service)), set()).add(str(metric))
    return {pair: sorted(metrics) for pair, metrics in held.items()}


def stored_demand_metrics(
    con: duckdb.DuckDBPyConnection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    """The demand metrics the store's telemetry holds for each of ``pairs``, at any time.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The store's connection.
    pairs : iterable of (region, service)
        The region/services to look up.

    Returns
    -------
    dict
        ``(region, service)`` to its sorted demand metrics; a pair holding none is absent.
    """
    keys = sorted({f"{region}/{service}" for region, service in pairs})
    if not keys:
        return {}
    rows = con.execute(
        "SELECT DISTINCT region, service, metric FROM telemetry "
        "WHERE list_contains(?, metric) AND list_contains(?, region || '/' || service)",
        [list(DEMAND_METRICS), keys],
    ).fetchall()
    return held_from_rows(rows)


def other_metrics(held: Held, region: str, service: str, metric: str) -> list[str]:
    """The demand metrics ``held`` has for a region/service in place of ``metric``, sorted.

    Parameters
    ----------
    held : mapping
        The demand metrics the store holds per region/service (:func:`stored_demand_metrics`).
    region, service : str
        The region/service.
    metric : str
        The fleet file's demand metric for it.

    Returns
    -------
    list of str
        The other demand metrics it holds; empty when the pair holds ``metric`` itself (its
        telemetry is then only outside the hours a command read: too old, or after a plan's
        cutoff, not loaded under the other name).
    """
    mine = set(held.get((region, service), ()))
    return [] if metric in mine else sorted(mine - {metric})


def held_instead(service: str, metric: str, others: Sequence[str]) -> str:
    """What the store holds in place of the fleet file's demand metric, and the two fixes.

    Parameters
    ----------
    service : str
        The service whose ``demand_metric`` is ``metric``.
    metric : str
        The fleet file's demand metric for the service, which the store lacks.
    others : sequence of str
        The other demand metrics the store holds for the region/service (not empty).

    Returns
    -------
    str
        A clause without a capital or a full stop, for instance ``the store holds its ccu
        telemetry instead, under the other demand metric: set services.voice.demand_metric
        to ccu in the fleet file if voice's demand is counted in ccu in every region, or
        load its rps telemetry``.
    """
    held = " and ".join(others)
    return (
        f"the store holds its {held} telemetry instead, under the other demand metric: set "
        f"services.{service}.demand_metric to {others[0]} in the fleet file if {service}'s "
        f"demand is counted in {others[0]} in every region, or load its {metric} telemetry"
    )


def first_held_instead(wanted: Iterable[tuple[str, str, str]], held: Held) -> str:
    """The first of ``wanted`` whose store holds another demand metric than the fleet
    file's, in the words of :func:`held_instead`, and how many more do.

    Parameters
    ----------
    wanted : iterable of (region, service, metric)
        The region/services a command lacks the demand of, each with the fleet file's metric.
    held : mapping
        The demand metrics the store holds per region/service (:func:`stored_demand_metrics`).

    Returns
    -------
    str
        ``eu-west/game has no rps: the store holds its ccu telemetry instead, ...``, or
        ``""`` when none of ``wanted`` holds another demand metric.
    """
    pairs = [
        (region, service, metric, others)
        for region, service, metric in wanted
        if (others := other_metrics(held, region, service, metric))
    ]
    if not pairs:
        return ""
    region, service, metric, others = pairs[0]
    more = (
        f" ({len(pairs) - 1} more region/service(s) hold the other demand metric too: "
        "capacity status --config lists them)"
        if len(pairs) > 1
        else ""
    )
    return f"{region}/{service} has no {metric}: {held_instead(service, metric, others)}{more}"
