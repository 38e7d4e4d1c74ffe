"""What a person should know about a pull, one ``note:`` or ``warning:`` line each
(:func:`pull_notes`): metrics without samples, region/services one metric lacks, series
that stopped, counters read without a range, fleet region/services without demand samples."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pandas as pd

from capacity.columns import DEMAND_METRICS, METRIC, REGION, SERVICE, TS
from capacity.config import FleetConfig
from capacity.prometheus.counters import raw_counters
from capacity.prometheus.rows import Pull
from capacity.texts import first_few

#: Why a query returns only NaN, and what to check.
NAN_CAUSE = (
    "if the query is a ratio, its denominator is zero throughout (a rate of a counter that "
    "did not grow: no requests), and 0/0 is NaN: check the denominator's series in "
    "Prometheus's expression browser, or whether the exporter reports NaN"
)
#: A series whose newest sample is older than this before the pull's end has stopped.
STOPPED_AFTER = pd.Timedelta(hours=1)


def pull_notes(
    got: Pull, fleet: FleetConfig, *, stored: Collection[tuple[str, str, str]] = ()
) -> list[str]:
    """What a person should know about a pull's gaps, one line each (``note:``/``warning:``).

    A metric with no samples at all; a metric that some region/services lack while other
    metrics have them (a ratio whose numerator has no series there, most often), except a
    demand metric their service is not planned on (no ccu of a chat service planned on rps);
    a region/service of the fleet without samples of its own demand metric, which
    ``capacity plan`` refuses when the store has none at all for it; and one whose demand
    samples stop more than :data:`STOPPED_AFTER` before the pull's end (a target no longer
    scraped: each pull then starts from its newest stored hour, re-reads it and adds nothing,
    so without the warning an unattended pull would go on succeeding on old telemetry), as
    does any other queried metric of a fleet region/service (whose stop also holds every
    pull's start back at its newest hour once all its series have stopped).

    Parameters
    ----------
    got : Pull
        The pull.
    fleet : FleetConfig
        The fleet, with the ``prometheus`` section the pull used.
    stored : collection of (region, service, metric)
        The series the store holds after the pull (:meth:`capacity.store.Store.stored_series`).

    Returns
    -------
    list of str
    """
    source = fleet.prometheus
    if source is None:
        return []
    names = got.rows[[REGION, SERVICE, METRIC]].drop_duplicates()  # not a tuple per row
    pulled = set(zip(names[REGION], names[SERVICE], names[METRIC], strict=True))
    no_demand: dict[str, list[tuple[str, str]]] = {}
    for region, service, metric in fleet.demand_series():
        if metric in source.queries and (region, service, metric) not in pulled:
            no_demand.setdefault(metric, []).append((region, service))
    only_nan = dict(got.only_nan)
    lines = server_lines(got)
    lines += [
        f"note: no samples for {metric} in that range; check prometheus.queries.{metric}"
        for metric in got.empty
        if metric not in no_demand and metric not in only_nan  # named below
    ]
    for metric, pairs in got.only_nan:
        pairs = tuple(
            (region, service)
            for region, service in pairs
            if (region, service) not in no_demand.get(metric, ())
            and not _planned_on_other(fleet, service, metric)
        )
        if pairs:
            lines.append(f"note: {nan_text(metric, pairs)}")
    for metric, pairs in got.missing:
        pairs = tuple(
            (region, service)
            for region, service in pairs
            if (region, service) not in no_demand.get(metric, ())
            and (region, service) not in only_nan.get(metric, ())
            and not _planned_on_other(fleet, service, metric)
        )
        if pairs:
            lines.append(
                f"note: no samples for {metric} of {_pairs_text(pairs)} in that range, though "
                f"other metrics have them; if prometheus.queries.{metric} is a ratio, its "
                "numerator has no series there (no errors at all, say): write it as (numerator "
                "or denominator * 0) / denominator, as the README's error_rate does"
            )
    lines.extend(_stopped(got, fleet))
    for metric, query in source.queries.items():
        for counter in raw_counters(query):
            lines.append(
                f"warning: prometheus.queries.{metric} reads the counter {counter} without a "
                "range, so what is stored is its running total since the counter last reset, "
                f"not a rate; write rate({counter}[5m]) (inside the sum by), or ignore this if "
                "the query takes a difference itself"
            )
    for metric, pairs in no_demand.items():
        bare = [(r, s) for r, s in pairs if (r, s, metric) not in stored]
        nan = [pair for pair in pairs if pair in only_nan.get(metric, ())]
        if nan:
            lines.append(f"warning: {nan_text(metric, nan, demand=True)}")
        pairs = [pair for pair in pairs if pair not in nan]
        if not pairs:
            continue
        region, service = pairs[0]
        lines.append(
            f"warning: no samples for {metric}, the demand metric of {_pairs_text(pairs)}, in "
            "that range"
            + (
                f"; the store has none for {_pairs_text(bare)} at all, so capacity plan "
                "refuses the fleet until it has"
                if bare
                else ""
            )
            + f"; check that prometheus.queries.{metric} returns a series labelled "
            f'{source.region_label}="{region}", {source.service_label}="{service}" (label '
            "values that differ from the fleet file's names, such as "
            f'"{region}-1", need label_replace: see the README)'
        )
    return lines


def server_lines(got: Pull) -> list[str]:
    """The server's own words about a pull's queries, a line per distinct text.

    Parameters
    ----------
    got : Pull
        The pull.

    Returns
    -------
    list of str
        ``warning: Prometheus: ...`` per warning in its answers (a remote storage that failed,
        say: what it returned may be incomplete), ``note: Prometheus: ...`` per info (a
        PromQL hint).
    """
    return [
        f"warning: Prometheus: {text}; what it returned may be incomplete" for text in got.warnings
    ] + [f"note: Prometheus: {text}" for text in got.infos]


def nan_text(
    metric: str, pairs: Sequence[tuple[str, str]], *, demand: bool = False, cause: bool = True
) -> str:
    """What a query whose series held only NaN samples means, for a ``note:``, a
    ``warning:`` or an error.

    Parameters
    ----------
    metric : str
        The query's metric.
    pairs : sequence of (str, str)
        The region/service pairs whose series held only NaN.
    demand : bool
        Whether it is their demand metric.
    cause : bool
        Whether to add what the store holds, the likely cause and what to check
        (:data:`NAN_CAUSE`); without it, only what the query returned.

    Returns
    -------
    str
    """
    what = f"{metric}, the demand metric," if demand else metric
    return (
        f"prometheus.queries.{metric} returned only NaN (not-a-number) values for "
        f"{_pairs_text(pairs)} in that range"
        + (
            f", so the store has no {what} there (NaN is a gap, never a zero); {NAN_CAUSE}"
            if cause
            else ""
        )
    )


def _stopped(got: Pull, fleet: FleetConfig) -> list[str]:
    """A warning per metric whose samples of some fleet region/services stop more than
    :data:`STOPPED_AFTER` before the end of the pull (Prometheus has nothing newer): one for
    the region/services it is the demand metric of, one for the others (an rps that stopped
    under a service planned on ccu holds every pull's start back as well)."""
    if got.rows.empty:
        return []
    planned = set(fleet.demand_series())
    fleet_pairs = {(region, service) for region in fleet.regions for service in fleet.services}
    # a --until after now: nothing can be newer than now
    end = min(got.end, pd.Timestamp.now("UTC").floor(got.step))
    newest = got.rows.groupby([METRIC, REGION, SERVICE], sort=True, observed=True)[TS].max()
    stopped: dict[tuple[str, bool], list[tuple[str, str, pd.Timestamp]]] = {}
    for (metric, region, service), stamp in newest.items():
        if (region, service) in fleet_pairs and stamp < end - STOPPED_AFTER:
            demand = (region, service, metric) in planned
            stopped.setdefault((metric, demand), []).append((region, service, stamp))
    lines = []
    for (metric, demand), series in sorted(stopped.items(), key=lambda item: not item[0][1]):
        shown = first_few(
            [
                f"{region}/{service} at {stamp:%Y-%m-%d %H:%M} ({_ago(end - stamp)} before)"
                for region, service, stamp in series
            ]
        )
        if demand:
            said = f"{metric}, the demand metric,"
            why = "the store's telemetry ends there and a plan would rest on it"
        else:
            # the window starts at the newest stored hour of the metric furthest behind: once
            # every series of this one stopped, each pull re-reads every query from there
            said = metric
            why = (
                f"the store's {metric} ends there, and once all its series have stopped each "
                "pull starts again from its newest stored hour, re-reading every query since"
            )
        lines.append(
            f"warning: {said} stops before the end of the pull "
            f"({end:%Y-%m-%d %H:%M} UTC) for {shown}: Prometheus has no newer sample, so "
            f"{why}; check that the "
            f"targets behind prometheus.queries.{metric} are still scraped (up == 1), or that "
            "the query's metric was not renamed"
        )
    return lines


def _ago(span: pd.Timedelta) -> str:
    """A time span in whole hours, or days past two days: ``6 h``, ``3 days``."""
    hours = int(span / pd.Timedelta(hours=1))
    return f"{hours // 24} days" if hours >= 48 else f"{hours} h"


def _planned_on_other(fleet: FleetConfig, service: str, metric: str) -> bool:
    """Whether ``metric`` is a demand metric that ``service`` is not planned on: a chat
    service planned on rps has no players to count, so no ccu is expected of it."""
    return (
        metric in DEMAND_METRICS
        and service in fleet.services
        and fleet.services[service].demand_metric != metric
    )


def _pairs_text(pairs: Sequence[tuple[str, str]]) -> str:
    """Region/service pairs as ``eu-west/game, na-east/game``, the first five of them."""
    return first_few([f"{region}/{service}" for region, service in pairs])
