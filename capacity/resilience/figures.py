"""The resilience figures: :func:`kpis`, per group and overall over a window.

Over the hours whose start lies in ``[since, until)``, per series (region, service) and hour,
``e`` is the hourly ``error_rate`` and ``t`` the service's availability SLO
(``services.<name>.slo.availability``). For a group of series (a region, a service, or
everything):

* ``availability = 1 - mean(e)`` over the series-hours with data; ``unknown_hours`` counts the
  series-hours without (a gap is unknown, never up);
* ``slo_target = mean(t)`` over the same series-hours (the mean of the group's targets when
  none has data), so the allowed error is ``1 - slo_target`` (the error budget of the window,
  as a rate). A group whose services have different targets thus pools its budget;
* ``error_budget_remaining = 1 - (1 - availability) / (1 - slo_target)``: 1 untouched, 0 spent,
  negative overspent;
* ``burn_1h``, ``burn_6h``, ``burn_3d``: ``mean(e) / (1 - slo_target)`` over the last 1, 6 and
  72 hours before ``until`` (whatever ``since`` is); NaN when those hours have no data;
* ``alert``: for a series :func:`alert_state` of its three burn rates; for a group the most
  urgent (in the order of :data:`ALERT_STATES`) of its series' alerts, not the state of its
  pooled burn rates, in which one paging series would be diluted;
* incidents are attributed to the window by ``started_at``: ``mttr_minutes`` and
  ``mttr_median_minutes`` of ``resolved_at - started_at`` (resolved incidents only;
  ``incidents_open`` counts the others, which are in ``incidents`` but not in MTTR),
  ``mttd_minutes`` the mean of ``detected_at - started_at``, ``mtbf_hours`` the mean time
  between the starts of successive failures (``(last - first) / (n - 1)`` over ``n``
  failures), where incidents of the group whose spans overlap are one failure (an outage that
  opens an incident in each of a region's services is one failure of the region and of the
  fleet, not three a minute apart), an incident still open lasting until ``until``; all NaN,
  never zero, when there is nothing to measure;
* ``change_failure_rate``: deploys in the window (by ``deployed_at``) named by the ``deploy_id``
  of at least one incident of the log (whenever it started: a failed change is failed even when
  its incident began after ``until``), divided by the deploys in the window; NaN without
  deploys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from capacity.columns import ALL_REGIONS, REGION, SERVICE, TS
from capacity.config import FleetConfig
from capacity.resilience.alerts import BURN_WINDOWS, alert_state
from capacity.resilience.columns import (
    ALERT_STATES,
    DEPLOY_ID,
    DEPLOYED_AT,
    DETECTED_AT,
    KPI_COLUMNS,
    RESOLVED_AT,
    SEVERITIES,
    SEVERITY,
    STARTED_AT,
)
from capacity.resilience.inputs import (
    BY_KEYS,
    check_no_all,
    checked_deploys,
    checked_incidents,
    group_keys,
    hourly_rates,
    parse_window,
)

_INT_COLUMNS = (
    "known_hours",
    "unknown_hours",
    "incidents",
    "incidents_open",
    "failures",
    *(f"incidents_{s}" for s in SEVERITIES),
    "deploys",
)


def kpis(
    incidents: pd.DataFrame | None,
    deploys: pd.DataFrame | None,
    error_rate: pd.DataFrame,
    fleet: FleetConfig,
    *,
    since: Any,
    until: Any,
    by: str | Sequence[str] = (REGION, SERVICE),
) -> pd.DataFrame:
    """Resilience figures per group and overall over the hours in ``[since, until)``.

    Parameters
    ----------
    incidents : pandas.DataFrame or None
        Incidents with the columns :data:`INCIDENT_COLUMNS` (as :func:`read_incidents` returns
        them); None for none. Not modified.
    deploys : pandas.DataFrame or None
        Deploys with the columns :data:`DEPLOY_COLUMNS`; None for none. Not modified.
    error_rate : pandas.DataFrame
        Hourly error rates, columns ``ts, region, service, value`` (a ``metric`` column, as
        :meth:`capacity.store.Store.series` returns, keeps only ``error_rate`` rows). NaN
        values and absent hours are hours without data. Values within one hour are averaged.
        Naive ``ts`` are taken as UTC. Give it the hours from ``min(since, until - 72h)`` on,
        for the burn rates.
    fleet : FleetConfig
        The fleet: its regions and services are the series, ``services.<s>.slo.availability``
        their targets.
    since, until : timestamp-like
        The window; naive values are taken as UTC. Hours whose start lies in the window count.
    by : str or sequence of str
        Group keys, a subset of ``("region", "service")`` (or a comma-separated string). A key
        left out reads ``"all"`` in the output. ``()`` gives the overall row only.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`KPI_COLUMNS`, one row per group (every fleet region and/or service,
        sorted) and a last row for everything (``region`` and ``service`` both ``"all"``).
        Figures that cannot be measured are NaN, never zero. See the module docstring.

    Raises
    ------
    ParameterError
        When ``since``/``until``/``by`` are not usable or a frame lacks columns.
    DataError
        When a frame names a region or service that is not in the fleet, an error rate is
        outside [0, 1], or an incident or deploy id is on two rows with different content
        (identical rows count once).
    ConfigError
        When the fleet names a region or service ``all``, the name of the summing rows.
    """
    lo, hi = parse_window(since, until)
    keys = group_keys(by)
    check_no_all(fleet)
    regions, services = sorted(fleet.regions), sorted(fleet.services)
    targets = {s: float(fleet.services[s].slo.availability) for s in services}
    incident_frame = checked_incidents(incidents, fleet)
    deploy_frame = checked_deploys(deploys, fleet)
    start = min(lo, hi - pd.Timedelta(hours=max(h for _, h in BURN_WINDOWS)))
    rates = hourly_rates(error_rate, fleet, start=start, end=hi)

    points = _points(rates, regions, services, targets, lo, hi)
    burn_points = {
        name: _points(rates, regions, services, targets, hi - pd.Timedelta(hours=h), hi)
        for name, h in BURN_WINDOWS
    }
    series = pd.DataFrame(
        [(r, s, targets[s]) for r in regions for s in services], columns=[REGION, SERVICE, "t"]
    )
    alerts = _series_alerts(burn_points)
    in_window = incident_frame[
        (incident_frame[STARTED_AT] >= lo) & (incident_frame[STARTED_AT] < hi)
    ]
    failed = set(incident_frame[DEPLOY_ID].dropna().astype(str))
    deploys_in = deploy_frame[(deploy_frame[DEPLOYED_AT] >= lo) & (deploy_frame[DEPLOYED_AT] < hi)]
    deploys_in = deploys_in.assign(_failed=deploys_in[DEPLOY_ID].astype(str).isin(failed))

    parts = []
    for grouping in (keys, ()) if keys else ((),):
        parts.append(
            _figures(
                grouping,
                series=series,
                points=points,
                burn_points=burn_points,
                alerts=alerts,
                incidents=in_window,
                deploys=deploys_in,
                until=hi,
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    for column in _INT_COLUMNS:
        frame[column] = frame[column].astype("int64")
    return frame.loc[:, list(KPI_COLUMNS)]


def _points(
    rates: pd.Series,
    regions: list[str],
    services: list[str],
    targets: Mapping[str, float],
    lo: pd.Timestamp,
    hi: pd.Timestamp,
) -> pd.DataFrame:
    """One row per series and hour whose start is in ``[lo, hi)``: error rate (NaN: no data)."""
    hours = pd.date_range(lo.ceil("h"), hi, freq="h", inclusive="left").as_unit("ns")
    index = pd.MultiIndex.from_product([regions, services, hours], names=[REGION, SERVICE, TS])
    e = rates.reindex(index) if len(rates) else pd.Series(np.nan, index=index)
    frame = pd.DataFrame({"e": e.to_numpy(dtype="float64")}, index=index).reset_index()
    frame["t"] = frame[SERVICE].map(targets).astype("float64")
    return frame


def _label(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Add ``_gr``/``_gs``: the group's region and service (``"all"`` when not a key)."""
    return frame.assign(
        _gr=frame[REGION].astype(str) if REGION in keys else ALL_REGIONS,
        _gs=frame[SERVICE].astype(str) if SERVICE in keys else ALL_REGIONS,
    )


_GROUP = ["_gr", "_gs"]


def _error_sums(points: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Per group: known and unknown series-hours, sum of error rates, sum of allowed rates."""
    labelled = _label(points, keys)
    known = labelled["e"].notna()
    labelled = labelled.assign(
        known=known,
        unknown=~known,
        e0=labelled["e"].fillna(0.0),
        allowed=(1.0 - labelled["t"]).where(known, 0.0),
    )
    return labelled.groupby(_GROUP).agg(
        known=("known", "sum"),
        unknown=("unknown", "sum"),
        sum_e=("e0", "sum"),
        allowed=("allowed", "sum"),
    )


def _series_alerts(burn_points: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each series' :func:`alert_state` of its own burn rates (columns region, service, alert)."""
    burns = {}
    for name, frame in burn_points.items():
        b = _error_sums(frame, BY_KEYS)
        with np.errstate(divide="ignore", invalid="ignore"):
            burns[name] = (b["sum_e"] / b["allowed"]).where(b["known"] > 0)
    table = pd.DataFrame(burns)
    table["alert"] = [
        alert_state(b1, b6, b3)
        for b1, b6, b3 in zip(table["burn_1h"], table["burn_6h"], table["burn_3d"], strict=True)
    ]
    table.index = table.index.set_names([REGION, SERVICE])
    return table.reset_index().loc[:, [REGION, SERVICE, "alert"]]


def _figures(
    keys: tuple[str, ...],
    *,
    series: pd.DataFrame,
    points: pd.DataFrame,
    burn_points: Mapping[str, pd.DataFrame],
    alerts: pd.DataFrame,
    incidents: pd.DataFrame,
    deploys: pd.DataFrame,
    until: pd.Timestamp,
) -> pd.DataFrame:
    groups = _label(series, keys).groupby(_GROUP)["t"].mean().rename("t_series")
    index = groups.index
    out = pd.DataFrame(index=index)

    sums = _error_sums(points, keys).reindex(index)
    known = sums["known"].fillna(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_e = (sums["sum_e"] / known).where(known > 0)
        allowed = (sums["allowed"] / known).where(known > 0)
        out["availability"] = 1.0 - mean_e
        out["slo_target"] = (1.0 - allowed).fillna(groups)
        out["error_budget_remaining"] = 1.0 - mean_e / allowed
    out["known_hours"] = known
    out["unknown_hours"] = sums["unknown"].fillna(0)
    for name, frame in burn_points.items():
        b = _error_sums(frame, keys).reindex(index)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = (b["sum_e"] / b["allowed"]).where(b["known"].fillna(0) > 0)
    # a group's alert is its most urgent series' (pooled burn rates dilute one series' page)
    rank = {state: i for i, state in enumerate(ALERT_STATES)}
    labelled = _label(alerts, keys)
    worst = labelled[_GROUP].assign(_rank=labelled["alert"].map(rank)).groupby(_GROUP)["_rank"]
    out["alert"] = [ALERT_STATES[int(i)] for i in worst.min().reindex(index)]

    incident_rows = {
        g: _incident_figures(part, until) for g, part in _label(incidents, keys).groupby(_GROUP)
    }
    empty = _incident_figures(incidents.iloc[0:0], until)
    incident_table = pd.DataFrame([incident_rows.get(g, empty) for g in index], index=index)
    out = out.join(incident_table)

    labelled = _label(deploys, keys)
    counted = labelled.groupby(_GROUP).agg(deploys=("_failed", "size"), failed=("_failed", "sum"))
    counted = counted.reindex(index).fillna(0)
    out["deploys"] = counted["deploys"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_failure_rate"] = (counted["failed"] / counted["deploys"]).where(
            counted["deploys"] > 0
        )
    out = out.reset_index().rename(columns={"_gr": REGION, "_gs": SERVICE})
    return out


def _failure_starts(part: pd.DataFrame, until: pd.Timestamp) -> list[pd.Timestamp]:
    """The starts of the group's failures, in order: incidents whose spans overlap (one starts
    before or as another ends) are one failure, started by the first of them.

    An incident still open (no ``resolved_at``) lasts until ``until``, the window's end: it
    was open at least that long, so incidents that start while it is open are part of the
    same failure. Counted as lasting no time, the incidents an outage opens in each of a
    region's services a few minutes apart, still open at a plan's cutoff, read as several
    failures a few minutes apart (an MTBF of minutes)."""
    starts: list[pd.Timestamp] = []
    end = None
    spans = zip(part[STARTED_AT], part[RESOLVED_AT], strict=True)
    for start, resolved in sorted(spans, key=lambda span: span[0]):
        stop = max(start, until) if pd.isna(resolved) else max(start, resolved)
        if end is None or start > end:
            starts.append(start)
            end = stop
        else:
            end = max(end, stop)
    return starts


def _incident_figures(part: pd.DataFrame, until: pd.Timestamp) -> dict[str, float]:
    """The incident figures of one group's incidents that started in a window ending at
    ``until`` (see the module docstring)."""
    starts = part[STARTED_AT]
    repair = (part[RESOLVED_AT] - starts).dropna().dt.total_seconds() / 60.0
    detect = (part[DETECTED_AT] - starts).dropna().dt.total_seconds() / 60.0
    n = len(part)
    failures = _failure_starts(part, until)
    mtbf = math.nan
    if len(failures) >= 2:
        mtbf = (failures[-1] - failures[0]).total_seconds() / 3600.0 / (len(failures) - 1)
    severity = part[SEVERITY].astype(str).str.lower()
    return {
        "mttr_minutes": float(repair.mean()) if len(repair) else math.nan,
        "mttr_median_minutes": float(repair.median()) if len(repair) else math.nan,
        "mttd_minutes": float(detect.mean()) if len(detect) else math.nan,
        "mtbf_hours": mtbf,
        "incidents": n,
        "incidents_open": int(part[RESOLVED_AT].isna().sum()),
        "failures": len(failures),
        **{f"incidents_{s}": int((severity == s).sum()) for s in SEVERITIES},
    }
