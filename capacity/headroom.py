"""Servers needed, headroom and the actions that follow, per region and service.

From a demand forecast (one quantile column chosen by policy), the safe load per server and
the fleet configuration, for every hour of the horizon:

- ``needed`` = ceil(demand / safe load): the servers the demand itself takes;
- ``needed_nk`` = max(needed + k, min_servers): with the N+k redundancy rule;
- ``needed_loss`` = the servers needed when another region is lost and its players arrive
  here by the failover shares, the worst over every other region;
- ``required`` = max(needed_nk, needed_loss);
- ``headroom`` = (servers now - required) / servers now.

Summing two regions' demand quantiles overstates the quantile of their sum, so the
region-loss need errs on the safe side. :func:`recommend` turns the hours into one action per
region/service with a date to act by (the first shortfall minus the server type's boot and
procurement lead times), the weekly cost change and the reason. :func:`assess` runs the three
steps from a forecast to what it means for the fleet (hourly need, recommendations, region-loss
survival), as ``capacity recommend`` and the weekly plan both do.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capacity.columns import REGION, SERVICE, TS, quantile_column
from capacity.config import FleetConfig
from capacity.errors import ConfigError, ParameterError
from capacity.texts import carried_text, demand_text, first_few, servers_text

__all__ = [
    "HOURS_PER_WEEK",
    "LOSS_STATUSES",
    "Assessment",
    "RegionLoss",
    "assess",
    "check_server_counts",
    "hourly_need",
    "recommend",
    "region_loss_survival",
    "servers_for",
    "with_redundancy",
    "worst_headroom",
]

HOURS_PER_WEEK = 168
_KEY = [REGION, SERVICE]


#: The statuses of a region's loss (:attr:`RegionLoss.status`).
LOSS_STATUSES = ("survives", "short", "not checked", "no failover", "only region")


@dataclass(frozen=True)
class RegionLoss:
    """Whether the fleet as it stands survives losing ``lost``.

    Attributes
    ----------
    lost : str
        The region lost.
    survives : bool or None
        True when every surviving region/service has enough servers now, every hour; None
        when that is unknown: the lost region, or a region taking its players, has no demand
        in the hourly need (``unchecked``) and no shortfall was found without it.
    shortfall : int
        The largest number of servers missing in one surviving region/service.
    where : str
        That region/service and hour, or "" when none is short.
    failover : bool
        False when the fleet file's ``failover`` names nowhere for the region's players to
        go: they would not be served, whatever the other regions hold.
    region, service : str or None
        The surviving region/service of ``where``, for scripts; None when none is short.
    ts : Timestamp or None
        The hour of ``where`` (UTC); None when none is short.
    unchecked : tuple of str
        The regions of the loss without demand in the hourly need (no demand telemetry): the
        lost region itself (the load its players add elsewhere is unknown), or regions its
        failover sends players to (whether they can carry them is unknown).
    only_region : bool
        True when ``lost`` is the fleet's only region: no other region can take its players.
    """

    lost: str
    survives: bool | None
    shortfall: int
    where: str
    failover: bool = True
    region: str | None = None
    service: str | None = None
    ts: pd.Timestamp | None = None
    unchecked: tuple[str, ...] = ()
    only_region: bool = False

    @property
    def status(self) -> str:
        """One of :data:`LOSS_STATUSES`: ``survives``, ``short``, ``not checked`` (the lost
        region has no demand telemetry, or none is short but a region taking its players has
        none), ``no failover`` or ``only region``."""
        if self.only_region:
            return "only region"
        if not self.failover:
            return "no failover"
        if self.lost in self.unchecked or self.survives is None:
            return "not checked"
        return "survives" if self.survives else "short"

    def record(self) -> dict[str, object]:
        """Its fields and its :attr:`status`, as ``plan.json`` and ``manifest.json`` hold a
        loss (``survives`` None, JSON null, when not checked).

        Returns
        -------
        dict of str to object
            The dataclass's fields by name, and ``status``.
        """
        return {**vars(self), "status": self.status}

    def describe(self, carried: str = "players") -> str:
        """What losing the region means, for a person (without the region's name).

        Parameters
        ----------
        carried : str
            What its demand is, as its loss sends it elsewhere: ``players``, ``requests``
            (:func:`capacity.texts.carried_text`).

        Returns
        -------
        str
            The status in words, with the shortfall and where, or why it is not checked.
        """
        status = self.status
        if status == "only region":
            return (
                f"it is the fleet's only region: no other region can take its {carried}, so "
                "they would not be served"
            )
        if status == "no failover":
            return f"no failover configured in the fleet file: its {carried} would not be served"
        if self.lost in self.unchecked:
            return (
                "not checked: it has no demand telemetry in the history window, so the load its "
                f"{carried} would add to the other regions is unknown"
            )
        names = ", ".join(self.unchecked)
        if status == "not checked":
            has = "has" if len(self.unchecked) == 1 else "have"
            return (
                f"not checked: {names}, taking its {carried}, {has} no demand telemetry in the "
                f"history window, so whether {names} can carry them is unknown"
            )
        if status == "survives":
            return "survives"
        # the worst one region/service, not the fleet's total: say so, and where
        said = (
            f"short by {servers_text(self.shortfall)} in {self.where} UTC (the most one surviving "
            "region/service lacks)"
        )
        if self.unchecked:
            said += f"; {names}, taking its {carried}, not checked (no demand telemetry)"
        return said


def _demand(forecast: pd.DataFrame, quantile: float) -> pd.DataFrame:
    column = quantile_column(quantile)
    if column not in forecast:
        have = [c for c in forecast.columns if str(c).startswith("q")]
        raise ParameterError(
            f"The 'quantile' parameter must be one of the forecast's quantiles "
            f"({', '.join(have)}). Got {quantile!r}."
        )
    return forecast.loc[:, [REGION, SERVICE, TS, column]].rename(columns={column: "demand"})


#: How many region/services without a server count an error names before "and N more".
_NAMED = 8


def check_server_counts(
    fleet: FleetConfig, pairs: Collection[tuple[str, str]] | None = None
) -> None:
    """Refuse a fleet file without a server count for some region/service, naming every one.

    :meth:`capacity.config.FleetConfig.servers_now` refuses the first such pair it is asked
    about, so a fleet file lacking several counts (a service added to ``services`` with no
    counts yet, in every region) took a run per pair to put right. Call it before the
    forecast: on a fleet of 60 region/services, the fits take a minute.

    Parameters
    ----------
    fleet : FleetConfig
        The fleet planned.
    pairs : collection of (region, service), optional
        The region/services that need a count; default every one of the fleet.

    Raises
    ------
    ConfigError
        Naming the fleet file and each missing key (the first :data:`_NAMED`, then how many
        more), or for one pair :meth:`~capacity.config.FleetConfig.servers_now`'s own error.
    """
    wanted = set(pairs) if pairs is not None else None
    missing = [
        (region, service)
        for region in fleet.regions
        for service in fleet.services
        if (wanted is None or (region, service) in wanted)
        and fleet.current_servers.get(region, {}).get(service) is None
    ]
    if len(missing) == 1:
        fleet.servers_now(*missing[0])  # its own message, naming the one key
    if not missing:
        return
    named = first_few([f"{r}/{s}" for r, s in missing], _NAMED)
    raise ConfigError(
        f"no count of the servers running for {len(missing)} region/services: {named}",
        source=fleet.source,
        where="key 'current_servers'",
        fix=(
            "add a count under current_servers.<region>.<service> for each (0 where the "
            "service does not run there yet: every service is planned in every region, "
            "docs/own-fleet.md)"
        ),
    )


#: A demand of exactly n safe loads needs n servers: a ratio this far above a whole number
#: is floating-point noise (700 x 1.1 / 77 is 10.000000000000002), not another server.
_ROUNDING_NOISE = 1e-9


def servers_for(demand: object, safe_load: object) -> np.ndarray:
    """Whole servers that hold ``demand`` at ``safe_load`` each: ``ceil(demand / safe_load)``.

    Parameters
    ----------
    demand, safe_load : float or array-like
        Demand (negative read as 0) and the safe load per server, broadcast together.

    Returns
    -------
    numpy.ndarray
        Float array of whole numbers (NaN where the demand is NaN), rounding noise ignored.
    """
    ratio = np.clip(np.asarray(demand, dtype=float), 0, None) / np.asarray(safe_load, dtype=float)
    return np.ceil(ratio - _ROUNDING_NOISE)


def with_redundancy(needed: object, fleet: FleetConfig) -> np.ndarray:
    """Servers with the N+k rule: ``max(needed + k, min_servers)``.

    Parameters
    ----------
    needed : int or array-like
        Servers the demand takes (:func:`servers_for`).
    fleet : FleetConfig
        Its ``redundancy``: ``k`` spare servers, never fewer than ``min_servers``.

    Returns
    -------
    numpy.ndarray
        Integer array, the shape of ``needed``.
    """
    k, floor = fleet.redundancy.k, fleet.redundancy.min_servers
    return np.maximum(np.asarray(needed, dtype=int) + k, floor)


def hourly_need(
    forecast: pd.DataFrame,
    safe: pd.DataFrame,
    fleet: FleetConfig,
    *,
    quantile: float = 0.95,
) -> pd.DataFrame:
    """Servers needed every hour, per region/service, normally, with N+k and on region loss.

    Parameters
    ----------
    forecast : pandas.DataFrame
        ``region, service, ts`` and the quantile column of ``quantile`` (e.g. ``q0.95``).
    safe : pandas.DataFrame
        ``region, service, safe_load``: the load one server safely holds.
    fleet : FleetConfig
        Current servers, the redundancy rule and the failover map.
    quantile : float
        The demand quantile to size for.

    Returns
    -------
    pandas.DataFrame
        One row per region/service/hour: ``demand, safe_load, capacity_now, servers_now,
        needed, needed_nk, needed_loss, loss_driver, required, headroom``.

    Raises
    ------
    ConfigError
        When the fleet file lacks a server count for region/services of the forecast,
        naming every one (:func:`check_server_counts`).
    ParameterError
        When ``safe`` has no safe load, or one that is not positive, for a forecast series.
    """
    demand = _demand(forecast, quantile)
    pairs = demand[_KEY].drop_duplicates().itertuples(index=False, name=None)
    check_server_counts(fleet, set(pairs))
    missing_safe = demand.merge(safe, on=_KEY, how="left")
    if missing_safe["safe_load"].isna().any():
        lacking = missing_safe.loc[missing_safe["safe_load"].isna(), _KEY].drop_duplicates()
        names = ", ".join(f"{r}/{s}" for r, s in lacking.itertuples(index=False))
        raise ParameterError(f"The 'safe' parameter has no safe load for {names}.")
    frame = missing_safe
    if (frame["safe_load"] <= 0).any():
        raise ParameterError("The 'safe' parameter must hold positive safe loads.")
    frame["servers_now"] = [
        fleet.servers_now(r, s) for r, s in zip(frame[REGION], frame[SERVICE], strict=True)
    ]
    frame["capacity_now"] = frame["servers_now"] * frame["safe_load"]
    frame["needed"] = servers_for(frame["demand"], frame["safe_load"]).astype(int)
    frame["needed_nk"] = with_redundancy(frame["needed"], fleet)

    wide = frame.pivot_table(index=[SERVICE, TS], columns=REGION, values="demand")
    loss = np.zeros(len(frame), dtype=int)
    driver = np.full(len(frame), "", dtype=object)
    for lost, shares in fleet.failover.items():
        if lost not in wide.columns:
            continue
        for target, share in shares.items():
            if target not in wide.columns or share <= 0:
                continue
            extra = (wide[lost].fillna(0) * share).rename("extra").reset_index()
            extra[REGION] = target
            merged = frame.reset_index().merge(extra, on=[REGION, SERVICE, TS], how="inner")
            need = servers_for(merged["demand"] + merged["extra"], merged["safe_load"])
            need = need.astype(int)
            rows = merged["index"].to_numpy()
            better = need > loss[rows]
            loss[rows[better]] = need[better]
            driver[rows[better]] = lost
    frame["needed_loss"] = loss
    frame["loss_driver"] = driver
    frame["required"] = np.maximum(frame["needed_nk"], frame["needed_loss"])
    with np.errstate(divide="ignore", invalid="ignore"):
        headroom = (frame["servers_now"] - frame["required"]) / frame["servers_now"]
    frame["headroom"] = headroom.where(frame["servers_now"] > 0, -math.inf)
    return frame.sort_values([REGION, SERVICE, TS]).reset_index(drop=True)


def region_loss_survival(need: pd.DataFrame, fleet: FleetConfig) -> list[RegionLoss]:
    """For each region, whether the fleet as it stands survives losing it.

    Parameters
    ----------
    need : pandas.DataFrame
        From :func:`hourly_need`.
    fleet : FleetConfig
        Its failover map.

    Returns
    -------
    list of RegionLoss
        One per region of the fleet, in its order. A region the failover map leaves out
        does not survive its loss (``failover`` False; ``only_region`` in a fleet of one).
        A loss judged without a region that has no demand in ``need`` (the lost one, or one
        taking its players) is not called survived: ``survives`` is None unless a region
        judged is short, and ``unchecked`` names the region(s).
    """
    results = []
    wide = need.pivot_table(index=[SERVICE, TS], columns=REGION, values="demand")
    known = set(need[REGION])
    for lost in fleet.regions:
        shares = fleet.failover.get(lost)
        if not shares:
            alone = len(fleet.regions) == 1
            results.append(RegionLoss(lost, False, 0, "", failover=False, only_region=alone))
            continue
        if lost not in known:
            results.append(RegionLoss(lost, None, 0, "", unchecked=(lost,)))
            continue
        unchecked = tuple(t for t, share in shares.items() if share > 0 and t not in known)
        worst, where, at_worst = 0, "", (None, None, None)
        for target, share in shares.items():
            if target not in wide.columns or share <= 0:
                continue
            here = need[need[REGION] == target].merge(
                (wide[lost].fillna(0) * share).rename("extra").reset_index(), on=[SERVICE, TS]
            )
            servers = pd.Series(
                servers_for(here["demand"] + here["extra"], here["safe_load"]), index=here.index
            )
            gap = servers - here["servers_now"]
            if len(gap) and gap.max() > worst:
                at = gap.idxmax()
                worst = int(gap.max())
                at_worst = (target, str(here.loc[at, SERVICE]), pd.Timestamp(here.loc[at, TS]))
                where = f"{target}/{at_worst[1]} at {at_worst[2]:%Y-%m-%d %H:%M}"
        survives = False if worst > 0 else (None if unchecked else True)
        results.append(
            RegionLoss(lost, survives, max(worst, 0), where, True, *at_worst, unchecked=unchecked)
        )
    return results


def _redundancy_text(needed: int, fleet: FleetConfig) -> str:
    """The N+k need of ``needed`` servers, saying when ``min_servers`` sets it:
    ``N+2 14``, or ``N+2 3, raised to min_servers 4``."""
    k, floor = fleet.redundancy.k, fleet.redundancy.min_servers
    if needed + k >= floor:
        return f"N+{k} {needed + k:,}"
    return f"N+{k} {needed + k:,}, raised to min_servers {floor:,}"


def _events_at(events: pd.DataFrame | None, region: str, ts: pd.Timestamp) -> list[str]:
    if events is None or events.empty:
        return []
    touching = events["regions"].map(lambda rs: region in rs or "all" in rs)
    live = events[touching & (events["start_ts"] <= ts) & (events["end_ts"] > ts)]
    return [f"'{name}'" for name in live["name"]]


def recommend(
    need: pd.DataFrame,
    fleet: FleetConfig,
    *,
    now: pd.Timestamp,
    events: pd.DataFrame | None = None,
    quantile: float = 0.95,
    fallback: Collection[tuple[str, str]] = (),
) -> pd.DataFrame:
    """One recommendation per region/service.

    Scale up when the requirement exceeds the servers now at any hour; scale down only when
    there is a surplus every hour of the horizon, and never below the horizon's peak
    requirement (which already includes N+k and the region-loss need); hold otherwise.
    A series whose forecast fell back to a baseline (``fallback``) is never scaled down on
    that forecast: it is held, its ``target`` is the servers now (what to run, so that
    applying it keeps them), and the reason says so and names the lower need it would have gone
    down to. It is still scaled up: adding servers on a rough forecast errs on the safe side.

    Parameters
    ----------
    need : pandas.DataFrame
        From :func:`hourly_need`.
    fleet : FleetConfig
        Server types (cost, lead times) and current servers.
    now : pandas.Timestamp
        When the plan is made; a date to act by before it is reported as overdue.
    events : pandas.DataFrame, optional
        The calendar, to name the events behind a peak.
    quantile : float
        The quantile sized for, for the reason text.
    fallback : collection of (region, service)
        The series whose forecast fell back to a baseline (a forecast run's summary's
        ``fallback``).

    Returns
    -------
    pandas.DataFrame
        ``region, service, servers_now, needed, needed_nk, needed_loss, target, action,
        change, first_shortfall, act_by, overdue, cost_per_week_change, reason``. ``target``
        is the servers to run: the horizon's peak requirement, or the servers now when the
        action is ``hold`` (``change`` is ``target - servers_now``).
    """
    rough = {(str(r), str(s)) for r, s in fallback}
    rows = []
    label = f"p{quantile * 100:g}"
    for (region, service), part in need.groupby(_KEY, sort=True):
        server_type = fleet.server_type_of(service)
        servers_now = int(part["servers_now"].iloc[0])
        peak = part.loc[part["required"].idxmax()]
        required = int(peak["required"])
        short = part[part["required"] > servers_now]
        first_shortfall = short[TS].min() if len(short) else pd.NaT
        lead = pd.Timedelta(minutes=server_type.boot_lead_time_minutes) + pd.Timedelta(
            days=server_type.procurement_lead_time_days
        )
        if required > servers_now:
            action = "scale_up"
            act_by = first_shortfall - lead
        elif required < servers_now and (region, service) not in rough:
            action = "scale_down"
            act_by = pd.NaT
        else:
            action = "hold"
            act_by = pd.NaT
        # a hold runs the servers there are: a fallen-back surplus is not a target to apply
        target = servers_now if action == "hold" else required
        change = target - servers_now
        drivers = []
        if peak["needed_loss"] > peak["needed_nk"]:
            carried = carried_text([fleet.services[service].demand_metric])
            drivers.append(f"losing {peak['loss_driver']} sends its {carried} here")
        happening = _events_at(events, region, peak[TS])
        if happening:
            drivers.append("during " + ", ".join(happening))
        # the hour of the peak need: its demand need not be the horizon's peak demand (a
        # region-loss peak comes when another region is busiest), so it is not called that
        reason = (
            f"peak need {servers_text(required)} at {peak[TS]:%Y-%m-%d %H:%M} UTC for {label} "
            f"demand {demand_text(peak['demand'])} ({int(peak['needed']):,} for demand, "
            f"{_redundancy_text(int(peak['needed']), fleet)}, region loss "
            f"{int(peak['needed_loss']):,})"
        )
        if drivers:
            reason += "; " + "; ".join(drivers)
        # the hour of its highest demand (the first hour of its highest N+k need could be an
        # earlier, lower hour needing as many servers), as check-event names the peak
        own = part.loc[part["demand"].idxmax()]
        if own["needed_nk"] > peak["needed_nk"]:  # the needed columns are maxima over hours
            reason += (
                f"; its own {label} demand peaks at {own[TS]:%Y-%m-%d %H:%M} UTC: "
                f"{demand_text(own['demand'])}, {int(own['needed']):,} for demand, "
                f"{_redundancy_text(int(own['needed']), fleet)}"
            )
        if action == "hold" and required < servers_now:  # a surplus, on a fallback forecast
            reason += (
                f"; held rather than scaled down by {servers_now - required:,}: the forecast fell "
                "back to a baseline, which is not trusted to remove servers"
            )
        rows.append(
            {
                REGION: region,
                SERVICE: service,
                "servers_now": servers_now,
                "needed": int(part["needed"].max()),
                "needed_nk": int(part["needed_nk"].max()),
                "needed_loss": int(part["needed_loss"].max()),
                "target": target,
                "action": action,
                "change": change,
                "first_shortfall": first_shortfall,
                "act_by": act_by,
                "overdue": bool(pd.notna(act_by) and act_by < now),
                # + 0.0: a scale-down of a free server type costs 0.0, not -0.0
                "cost_per_week_change": round(
                    change * server_type.cost_per_hour * HOURS_PER_WEEK, 2
                )
                + 0.0,
                "reason": reason,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Assessment:
    """What a demand forecast means for the fleet (:func:`assess`).

    Attributes
    ----------
    need : pandas.DataFrame
        Servers needed every hour, per region/service (:func:`hourly_need`).
    recommendations : pandas.DataFrame
        One action per region/service (:func:`recommend`).
    survival : list of RegionLoss
        Whether the fleet as it stands survives losing each region
        (:func:`region_loss_survival`).
    """

    need: pd.DataFrame
    recommendations: pd.DataFrame
    survival: list[RegionLoss]


def assess(
    forecast: pd.DataFrame,
    safe: pd.DataFrame,
    fleet: FleetConfig,
    *,
    now: pd.Timestamp,
    quantile: float = 0.95,
    events: pd.DataFrame | None = None,
    fallback: Collection[tuple[str, str]] = (),
) -> Assessment:
    """From a fleet forecast to the servers it needs, the actions and region-loss survival.

    The one path from a forecast to recommendations: ``capacity recommend`` and the weekly
    plan both take it, so that the same forecast, safe loads and moment give the same rows.

    Parameters
    ----------
    forecast : pandas.DataFrame
        ``region, service, ts`` and the quantile column of ``quantile`` (a fleet forecast
        run's frame).
    safe : pandas.DataFrame
        ``region, service, safe_load`` (:func:`capacity.sizing.safe_loads`).
    fleet : FleetConfig
        Current servers, redundancy, failover, server types (cost, lead times).
    now : pandas.Timestamp
        When the recommendations are made; a date to act by before it is overdue.
    quantile : float
        The demand quantile to size for.
    events : pandas.DataFrame, optional
        The calendar over the forecast's hours, to name the events behind a peak.
    fallback : collection of (region, service)
        The series whose forecast fell back to a baseline
        (:func:`capacity.forecast_fleet.fallen_back` of the run's summary): never scaled down.

    Returns
    -------
    Assessment
    """
    need = hourly_need(forecast, safe, fleet, quantile=quantile)
    recommendations = recommend(
        need, fleet, now=now, events=events, quantile=quantile, fallback=fallback
    )
    return Assessment(need, recommendations, region_loss_survival(need, fleet))


def worst_headroom(need: pd.DataFrame, by: Sequence[str] = (REGION, SERVICE)) -> pd.DataFrame:
    """The lowest headroom per group and when it happens."""
    at = need.groupby(list(by))["headroom"].idxmin()
    return need.loc[at, [*by, TS, "headroom", "required", "servers_now"]].reset_index(drop=True)
