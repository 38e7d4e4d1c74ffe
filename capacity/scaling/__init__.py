"""Predictive scaling: capacity floors set ahead of demand, their exports, and a replay simulator.

**Schedule.** :func:`schedule` turns the hourly need of :func:`capacity.headroom.hourly_need`
into a floor of servers per region, service and hour. The floor at hour ``t`` is the largest
requirement over ``[t, t + L]``, where ``L`` is the server type's boot lead time rounded up to
whole hours (:func:`boot_lead_hours`). Servers asked for at ``t`` are therefore serving before the
demand that needs them arrives. The requirement is never below N+k,
``max(needed + k, min_servers)``, and with ``use="required"`` it also covers losing another
region. The floor is a minimum: a reactive policy (target tracking, an HPA) stays on top and
handles what the forecast missed.

**Exports.** :func:`to_csv_text` writes the schedule as CSV (``scaling_schedule.csv``).
:func:`to_aws_scheduled_actions` gives one EC2 Auto Scaling scheduled action (``MinSize``) for
each hour where a group's floor changes, from ``now`` on if given (AWS refuses past start
times); :func:`aws_groups_over_limit` names the groups given more than AWS's 125 scheduled
actions and where to cut. :func:`to_keda_yaml` gives one KEDA ``ScaledObject`` per
region/service: a ``cron`` trigger for each run of hours with the same floor, and a CPU or
Prometheus trigger for the reactive part; cron has no year, so it refuses a schedule of 365
days or more. ``docs/scaling.md`` shows how to apply each.

**Replay.** :func:`simulate` replays an actual hourly demand series against a policy:
:class:`StaticPolicy` (a fixed count), :class:`ReactivePolicy` (scales on the load it saw
``delay_hours`` ago and scales in slowly) or :class:`PredictivePolicy` (a floor per hour with a
reactive policy on top, which may project the load it saw along the forecast's shape).
:func:`rolling_forecasts` makes one forecast per replayed day from data before that day only;
:func:`floors_from_forecasts` and :func:`expected_load` turn them into the policy's floors and
expected load, and :func:`predictive_floors` does both steps at once. A
:class:`SimulationResult` holds the server-hours, the under-provisioned hours, the worst
shortfall, the mean utilisation and the hourly detail.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import yaml

from capacity.backtest import known_events
from capacity.columns import REGION, SERVICE, TS, VALUE, quantile_column
from capacity.config import FleetConfig
from capacity.errors import DataError, ParameterError
from capacity.frames import require_columns
from capacity.headroom import servers_for
from capacity.units import as_utc

__all__ = [
    "AWS_MAX_SCHEDULED_ACTIONS",
    "KEDA_MAX_DAYS",
    "MIN_SERVERS",
    "PredictivePolicy",
    "ReactivePolicy",
    "SimulationResult",
    "StaticPolicy",
    "aws_groups_over_limit",
    "boot_lead_hours",
    "expected_load",
    "floors_from_forecasts",
    "group_names",
    "predictive_floors",
    "quantile_values",
    "rolling_forecasts",
    "schedule",
    "simulate",
    "to_aws_scheduled_actions",
    "to_csv_text",
    "to_keda_yaml",
]

#: The floor column of a schedule: the fewest servers to run in that hour.
MIN_SERVERS = "min_servers"
DEMAND = "demand"
SAFE_LOAD = "safe_load"
NEEDED = "needed"
SCHEDULE_COLUMNS = (REGION, SERVICE, TS, MIN_SERVERS, DEMAND, SAFE_LOAD)
#: EC2 Auto Scaling's quota of scheduled actions per Auto Scaling group; it cannot be raised.
AWS_MAX_SCHEDULED_ACTIONS = 125
#: A KEDA export must span fewer days than this: cron has no year field, so floors 365 days
#: apart would share their expressions and each would fire on both days.
KEDA_MAX_DAYS = 365

_HOUR = pd.Timedelta(hours=1)
_DAY = pd.Timedelta(days=1)
_USES = ("needed_nk", "required")
_KEY = [REGION, SERVICE]
# A demand of exactly n safe loads needs n servers, not n + 1 from rounding noise.
_EPS = 1e-9


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def boot_lead_hours(minutes: float) -> int:
    """A boot lead time in whole hours, rounded up: 0 min -> 0, 1 to 60 min -> 1, 61 -> 2.

    Parameters
    ----------
    minutes : float
        From request to serving traffic (``ServerType.boot_lead_time_minutes``).

    Returns
    -------
    int
        How many hours ahead of demand a floor must rise.
    """
    if isinstance(minutes, bool) or not isinstance(minutes, numbers.Real) or not minutes >= 0:
        raise ParameterError(f"The 'minutes' parameter must be a number >= 0. Got {minutes!r}.")
    if math.isinf(minutes):
        raise ParameterError(f"The 'minutes' parameter must be finite. Got {minutes!r}.")
    return math.ceil(minutes / 60 - _EPS) if minutes > 0 else 0


def _ahead_max(values: np.ndarray, lead: int) -> np.ndarray:
    """``out[i] = max(values[i : i + lead + 1])``, the window cut at the end of the array."""
    values = np.asarray(values, dtype=float)
    if lead == 0 or len(values) == 0:
        return values.copy()
    reverse = pd.Series(values[::-1]).rolling(lead + 1, min_periods=1).max()
    return reverse.to_numpy()[::-1].copy()


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ParameterError(
            f"The {name!r} parameter must be an integer >= {minimum}. Got {value!r}."
        )
    return int(value)


def _check_positive(value: Any, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ParameterError(f"The {name!r} parameter must be a positive number. Got {value!r}.")
    return float(value)


def _check_fraction(value: Any, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not 0 < value <= 1
    ):
        raise ParameterError(f"The {name!r} parameter must be in (0, 1]. Got {value!r}.")
    return float(value)


def _instant(value: Any, name: str) -> pd.Timestamp:
    """A UTC timestamp, any minute; naive values are taken as UTC."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = None
    if stamp is None or stamp is pd.NaT:
        raise ParameterError(f"The {name!r} parameter must be a timestamp. Got {value!r}.")
    return as_utc(stamp)


def _timestamp(value: Any, name: str) -> pd.Timestamp:
    """A UTC timestamp on a whole hour; naive values are taken as UTC."""
    stamp = _instant(value, name)
    if stamp != stamp.floor("h"):
        raise ParameterError(
            f"The {name!r} parameter must fall on a whole hour. Got {value!r}.",
            fix=f"use {stamp.floor('h').isoformat()}",
        )
    return stamp


def _utc_index(ts: Any, where: str) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(ts)
    if index.tz is None:
        raise DataError(
            "timestamps are naive; they must carry a time zone (UTC)",
            source=where,
            fix="localise them with .tz_localize('UTC')",
        )
    return index.tz_convert("UTC")


def _check_hourly(index: pd.DatetimeIndex, where: str) -> None:
    """Refuse anything but a strictly increasing, gap-free hourly grid."""
    if len(index) < 2:
        return
    steps = index[1:] - index[:-1]
    bad = np.flatnonzero(steps != _HOUR)
    if len(bad):
        at = index[bad[0] + 1]
        raise DataError(
            f"the timestamps must be a regular hourly grid; the step before {at.isoformat()} is "
            f"{steps[bad[0]]}",
            source=where,
            fix="give one row per hour, without gaps or duplicates",
        )


def _groups(frame: pd.DataFrame) -> Iterator[tuple[str, str, pd.DataFrame]]:
    for (region, service), part in frame.groupby(_KEY, sort=True):
        yield str(region), str(service), part.sort_values(TS)


# --------------------------------------------------------------------------------------------
# The schedule
# --------------------------------------------------------------------------------------------


def schedule(
    need: pd.DataFrame,
    fleet: FleetConfig,
    *,
    start: Any = None,
    hours: int | None = None,
    use: str = "needed_nk",
) -> pd.DataFrame:
    """Hourly capacity floors per region/service, raised ahead of demand by the boot lead time.

    For every region/service the requirement at hour ``t`` is
    ``max(needed + k, min_servers)`` (N+k from ``fleet.redundancy``), and also the ``use``
    column (``needed_nk``, or ``required`` to hold the servers needed when another region is
    lost). The floor at ``t`` is the largest requirement over ``[t, t + L]``, with ``L`` the
    service's boot lead time in whole hours, rounded up. The look-ahead uses every hour of
    ``need``, including those after the window that ``start`` and ``hours`` select. The last
    ``L`` hours of ``need`` only look as far as ``need`` goes.

    Parameters
    ----------
    need : pandas.DataFrame
        From :func:`capacity.headroom.hourly_need`: ``region, service, ts, demand,
        safe_load, needed`` and the ``use`` column, one row per hour (a regular UTC grid per
        region/service).
    fleet : FleetConfig
        The redundancy rule and each service's server type (its boot lead time).
    start : timestamp-like, optional
        The first hour to keep (naive values are UTC). Default: the first hour of ``need``.
    hours : int, optional
        How many hours to keep from ``start``. Default: all.
    use : {"needed_nk", "required"}
        The requirement to cover: N+k only, or N+k and the loss of another region.

    Returns
    -------
    pandas.DataFrame
        ``region, service, ts, min_servers, demand, safe_load``, sorted; ``min_servers`` is
        an integer.

    Raises
    ------
    ParameterError
        When a parameter is out of range, a column is missing, a service is not in ``fleet``,
        or no hour is left to schedule.
    DataError
        When a region/service's hours are not a regular hourly grid or a requirement is
        missing (NaN).
    """
    if use not in _USES:
        raise ParameterError(
            f"The 'use' parameter must be one of {', '.join(map(repr, _USES))}. Got {use!r}."
        )
    if not isinstance(fleet, FleetConfig):
        raise ParameterError(
            f"The 'fleet' parameter must be a FleetConfig. Got {type(fleet).__name__}."
        )
    require_columns(need, (REGION, SERVICE, TS, DEMAND, SAFE_LOAD, NEEDED, use), "need")
    if hours is not None:
        hours = _check_int(hours, "hours", 1)
    first = _timestamp(start, "start") if start is not None else None
    unknown = sorted(set(need[SERVICE].astype(str)) - set(fleet.services))
    if unknown:
        raise ParameterError(
            f"The 'need' parameter names services the fleet does not have: {', '.join(unknown)}."
        )
    k, minimum = fleet.redundancy.k, fleet.redundancy.min_servers
    parts = []
    for region, service, part in _groups(need):
        where = f"need ({region}/{service})"
        ts = _utc_index(part[TS], where)
        _check_hourly(ts, where)
        needed = part[NEEDED].to_numpy(dtype=float)
        wanted = part[use].to_numpy(dtype=float)
        if np.isnan(needed).any() or np.isnan(wanted).any():
            raise DataError(
                f"'{NEEDED}' or '{use}' is missing (NaN) for some hours",
                source=where,
                fix="build the frame with capacity.headroom.hourly_need",
            )
        requirement = np.maximum(np.maximum(needed + k, minimum), wanted)
        lead = boot_lead_hours(fleet.server_type_of(service).boot_lead_time_minutes)
        floor = _ahead_max(requirement, lead)
        parts.append(
            pd.DataFrame(
                {
                    REGION: region,
                    SERVICE: service,
                    TS: ts,
                    MIN_SERVERS: floor.astype(np.int64),
                    DEMAND: part[DEMAND].to_numpy(dtype=float),
                    SAFE_LOAD: part[SAFE_LOAD].to_numpy(dtype=float),
                }
            )
        )
    if not parts:
        raise ParameterError("The 'need' parameter has no rows.")
    frame = pd.concat(parts, ignore_index=True)
    begin = first if first is not None else frame[TS].min()
    keep = frame[TS] >= begin
    if hours is not None:
        keep &= frame[TS] < begin + hours * _HOUR
    frame = frame[keep].reset_index(drop=True)
    if frame.empty:
        raise ParameterError(
            f"The 'start' parameter leaves no hour to schedule: need ends at "
            f"{need[TS].max()}. Got {start!r}."
        )
    return frame


def _check_schedule(frame: Any) -> pd.DataFrame:
    require_columns(frame, (REGION, SERVICE, TS, MIN_SERVERS), "schedule")
    floors = frame[MIN_SERVERS]
    if floors.isna().any() or (floors < 0).any():
        raise ParameterError("The 'schedule' parameter must hold min_servers >= 0 in every row.")
    out = frame.copy()
    out[TS] = _utc_index(out[TS], "schedule")
    return out


def _group_name(template: str, region: str, service: str, name: str) -> str:
    if not isinstance(template, str) or not template:
        raise ParameterError(
            f"The {name!r} parameter must be a non-empty string with the fields {{region}} and "
            f"{{service}}. Got {template!r}."
        )
    try:
        return template.format(region=region, service=service)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ParameterError(
            f"The {name!r} parameter may only use the fields {{region}} and {{service}}. "
            f"Got {template!r} ({type(exc).__name__}: {exc})."
        ) from None


def group_names(
    template: str, pairs: Iterable[tuple[str, str]], name: str
) -> dict[tuple[str, str], str]:
    """Each region/service's name from ``template``, checked to be distinct.

    Parameters
    ----------
    template : str
        A name from the fields ``{region}`` and ``{service}`` (``lv-{region}-{service}``).
    pairs : iterable of (str, str)
        The region/services to name.
    name : str
        The parameter (or CLI option) to name in an error.

    Returns
    -------
    dict
        ``(region, service) -> name``.

    Raises
    ------
    ParameterError
        When ``template`` is empty, uses another field, or gives two region/services the
        same name (their floors would overwrite each other).
    """
    out: dict[tuple[str, str], str] = {}
    for region, service in pairs:
        out[(region, service)] = _group_name(template, region, service, name)
    seen: dict[str, tuple[str, str]] = {}
    for pair, group in out.items():
        if group in seen:
            first = "/".join(seen[group])
            raise ParameterError(
                f"The {name!r} parameter gives {first} and {'/'.join(pair)} the same name "
                f"{group!r}. Got {template!r}.",
                fix="use both {region} and {service}, e.g. 'lv-{region}-{service}'",
            )
        seen[group] = pair
    return out


def _iso_z(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def to_csv_text(schedule: pd.DataFrame) -> str:
    """The schedule as CSV text: a header, one row per region/service/hour, times ISO UTC (``Z``).

    Parameters
    ----------
    schedule : pandas.DataFrame
        From :func:`schedule`.

    Returns
    -------
    str
        ``region,service,ts,min_servers,demand,safe_load`` (the last two when present),
        ``\\n`` line endings; demand and safe load rounded to 3 decimals.
    """
    frame = _check_schedule(schedule)
    columns = [c for c in SCHEDULE_COLUMNS if c in frame.columns]
    out = frame.loc[:, columns].copy()
    out[TS] = [_iso_z(t) for t in out[TS]]
    out[MIN_SERVERS] = out[MIN_SERVERS].astype(np.int64)
    for column in (DEMAND, SAFE_LOAD):
        if column in out:
            out[column] = out[column].astype(float).round(3)
    return out.to_csv(index=False, lineterminator="\n")


def to_aws_scheduled_actions(
    schedule: pd.DataFrame,
    *,
    group_name_template: str = "{region}-{service}",
    action_prefix: str = "capacity-floor",
    max_sizes: Mapping[str, int] | None = None,
    now: Any = None,
) -> list[dict[str, Any]]:
    """EC2 Auto Scaling scheduled actions that set each group's ``MinSize`` to the floor.

    One action per group for its first hour, then one for each hour where the floor differs
    from the hour before. Each dict is the input of ``aws autoscaling
    put-scheduled-update-group-action --cli-input-json``. It sets ``MinSize`` only. It leaves
    out ``DesiredCapacity``, so the group's scaling policies keep deciding above the floor:
    raising ``MinSize`` above the running count makes the group launch up to it, and lowering
    it starts no scale-in by itself. ``MaxSize`` is left out too, unless ``max_sizes`` gives
    the group's current maximum and a floor goes above it. Then that action raises
    ``MaxSize`` to the floor, and later actions leave it there: the maximum is never lowered.

    AWS refuses an action that starts in the past. With ``now``, the hours before it are left
    out, and each group's first action sets the floor of its first hour at or after ``now``.
    AWS also allows at most :data:`AWS_MAX_SCHEDULED_ACTIONS` (125) per group; see
    :func:`aws_groups_over_limit`.

    Parameters
    ----------
    schedule : pandas.DataFrame
        From :func:`schedule`: ``region, service, ts, min_servers``.
    group_name_template : str
        The Auto Scaling group's name, from the fields ``{region}`` and ``{service}``. Two
        region/services may not get the same name.
    action_prefix : str
        Action names are ``<prefix>-<YYYYmmddTHHMMZ>``, unique within a group. Putting a
        schedule again replaces actions of the same name, but leaves an earlier schedule's
        actions at hours this one has none for: delete those first (docs/scaling.md).
    max_sizes : mapping of str to int, optional
        Each group's current ``MaxSize``, by group name.
    now : timestamp-like, optional
        Leave out the hours before this time (naive values are UTC). Default: keep every hour.

    Returns
    -------
    list of dict
        ``AutoScalingGroupName, ScheduledActionName, StartTime`` (``YYYY-MM-DDThh:mm:ssZ``),
        ``MinSize`` and, where it has to rise, ``MaxSize``; sorted by group, then time. Empty
        when every hour is before ``now``.

    Raises
    ------
    ParameterError
        When a parameter is malformed, or the template gives two region/services one name.
    """
    frame = _check_schedule(schedule)
    if not isinstance(action_prefix, str) or not action_prefix:
        raise ParameterError(
            f"The 'action_prefix' parameter must be a non-empty string. Got {action_prefix!r}."
        )
    pairs = [(region, service) for region, service, _ in _groups(frame)]
    names = group_names(group_name_template, pairs, "group_name_template")
    if now is not None:
        cut = _instant(now, "now")
        frame = frame[frame[TS] >= cut]
    maxima = dict(max_sizes or {})
    actions: list[dict[str, Any]] = []
    for region, service, part in _groups(frame):
        group = names[(region, service)]
        top = maxima.get(group)
        previous = None
        for ts, floor in zip(part[TS], part[MIN_SERVERS].astype(np.int64), strict=True):
            if floor == previous:
                continue
            action: dict[str, Any] = {
                "AutoScalingGroupName": group,
                "ScheduledActionName": f"{action_prefix}-{ts:%Y%m%dT%H%MZ}",
                "StartTime": _iso_z(ts),
                "MinSize": int(floor),
            }
            if top is not None and floor > top:
                action["MaxSize"] = int(floor)
                top = int(floor)
            actions.append(action)
            previous = floor
    return actions


def aws_groups_over_limit(
    actions: list[dict[str, Any]], *, limit: int = AWS_MAX_SCHEDULED_ACTIONS
) -> dict[str, tuple[int, pd.Timestamp]]:
    """The Auto Scaling groups given more scheduled actions than AWS allows.

    Parameters
    ----------
    actions : list of dict
        From :func:`to_aws_scheduled_actions`.
    limit : int
        Actions allowed per group, by default AWS's quota of 125.

    Returns
    -------
    dict
        ``group -> (actions, first hour past the limit)``, by group name. A schedule cut
        before that hour (the ``limit + 1``-th action's ``StartTime``) fits the group.
    """
    limit = _check_int(limit, "limit", 1)
    starts: dict[str, list[pd.Timestamp]] = {}
    for action in actions:
        group = action["AutoScalingGroupName"]
        starts.setdefault(group, []).append(pd.Timestamp(action["StartTime"]))
    return {
        group: (len(times), sorted(times)[limit])
        for group, times in sorted(starts.items())
        if len(times) > limit
    }


def _runs(part: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """Consecutive hours with the same floor, as ``(start, end exclusive, floor)``."""
    runs: list[tuple[pd.Timestamp, pd.Timestamp, int]] = []
    for ts, floor in zip(part[TS], part[MIN_SERVERS].astype(np.int64), strict=True):
        if runs and runs[-1][1] == ts and runs[-1][2] == floor:
            runs[-1] = (runs[-1][0], ts + _HOUR, int(floor))
        else:
            runs.append((ts, ts + _HOUR, int(floor)))
    return runs


def _cron(ts: pd.Timestamp) -> str:
    """A five-field cron expression that fires at ``ts`` (UTC) on that date every year."""
    return f"{ts.minute} {ts.hour} {ts.day} {ts.month} *"


_TRIGGERS = ("cpu", "prometheus")
#: Kubernetes HPA limits: a scaling policy's period and the stabilisation window.
_MAX_PERIOD_S, _MAX_WINDOW_S = 1800, 3600


def _check_current_servers(
    current_servers: Mapping[str, Mapping[str, int]] | None,
) -> dict[tuple[str, str], int]:
    """``current_servers`` by (region, service), each a whole number >= 0."""
    if current_servers is None:
        return {}
    if not isinstance(current_servers, Mapping) or not all(
        isinstance(per_service, Mapping) for per_service in current_servers.values()
    ):
        raise ParameterError(
            "The 'current_servers' parameter must map each region to a mapping of service to "
            f"a server count, as FleetConfig.current_servers does. Got {current_servers!r}."
        )
    running = {}
    for region, per_service in current_servers.items():
        for service, count in per_service.items():
            if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
                raise ParameterError(
                    f"The 'current_servers' parameter must give whole numbers >= 0; "
                    f"{region}/{service} has {count!r}."
                )
            running[(str(region), str(service))] = int(count)
    return running


def to_keda_yaml(
    schedule: pd.DataFrame,
    *,
    namespace: str = "game",
    deployment_template: str = "{service}-{region}",
    reactive: ReactivePolicy | None = None,
    trigger: str = "cpu",
    cpu_target_percent: float | None = None,
    prometheus_address: str = "http://prometheus.monitoring.svc:9090",
    prometheus_query: str = 'sum(lifeverse_demand{{region="{region}",service="{service}"}})',
    max_replicas_factor: float = 2.0,
    current_servers: Mapping[str, Mapping[str, int]] | None = None,
) -> str:
    """One KEDA ``ScaledObject`` per region/service: cron floors, a reactive trigger on top.

    Each run of consecutive hours with the same floor becomes a ``cron`` trigger (timezone
    UTC, ``start`` and ``end`` at the run's first hour and the hour after its last,
    ``desiredReplicas`` the floor). KEDA hands every trigger to one HPA, which runs the
    largest count any trigger asks for. The floors therefore act as a minimum, and the
    reactive trigger scales above them. It is a placeholder to adapt:

    - ``trigger="cpu"``: average CPU utilisation at ``cpu_target_percent`` (default: the
      reactive policy's target utilisation, in percent). Calibrate it: CPU at the safe load
      is rarely 100 %;
    - ``trigger="prometheus"``: ``prometheus_query`` (the fields ``{region}`` and
      ``{service}`` are filled in) should return the service's total demand. Its threshold,
      the demand one replica should carry, is ``target_utilisation x safe_load``. The HPA
      then runs ``ceil(demand / threshold)`` replicas, which is what :class:`ReactivePolicy`
      does.

    The HPA's scale-down behaviour follows ``reactive`` as closely as the HPA allows: a
    stabilisation window of ``cooldown_hours`` (an hour at most), and at most half of
    ``scale_in_step`` of the replicas (at least one) removed per half hour (the HPA's longest
    policy period).
    ``minReplicaCount`` is the schedule's lowest floor, so the N+k minimum holds after the last
    cron window ends. ``maxReplicaCount`` is ``ceil(max_replicas_factor x highest floor)``,
    and at least the servers running now (``current_servers``): a short horizon's floors can be
    far below them, and a cap under what runs would have the HPA remove servers at once.

    The cron expressions name a date (``0 17 23 11 *``) but no year, so each one fires on
    that date every year. A schedule is therefore meant to be re-applied before it runs out
    (weekly), and one that spans :data:`KEDA_MAX_DAYS` (365) days or more is refused: its
    floors a year apart would share their expressions and both fire on both days.

    Parameters
    ----------
    schedule : pandas.DataFrame
        From :func:`schedule`; ``safe_load`` is needed for ``trigger="prometheus"``.
    namespace : str
        The Kubernetes namespace of the deployments.
    deployment_template : str
        The deployment's name (and the ScaledObject's), from ``{region}`` and ``{service}``.
    reactive : ReactivePolicy, optional
        The reactive policy the trigger and scale-down behaviour follow. Default:
        ``ReactivePolicy()``.
    trigger : {"cpu", "prometheus"}
        The reactive trigger.
    cpu_target_percent : float, optional
        The CPU trigger's target; default ``100 x reactive.target_utilisation``.
    prometheus_address, prometheus_query : str
        The Prometheus trigger's server and query template.
    max_replicas_factor : float
        Headroom of ``maxReplicaCount`` over the highest floor, >= 1.
    current_servers : mapping of region to mapping of service to int, optional
        The servers running now (:attr:`FleetConfig.current_servers`); ``maxReplicaCount``
        is never below a region/service's count. A pair without one is capped by its floors
        alone.

    Returns
    -------
    str
        YAML documents separated by ``---``, each led by a comment naming its source.

    Raises
    ------
    ParameterError
        When a parameter is malformed, or a region/service's hours span 365 days or more.
    """
    frame = _check_schedule(schedule)
    for region, service, part in _groups(frame):
        span = part[TS].iloc[-1] + _HOUR - part[TS].iloc[0]
        if span >= KEDA_MAX_DAYS * _DAY:
            raise ParameterError(
                f"The 'schedule' parameter spans {span / _DAY:g} days for {region}/{service}; "
                f"a KEDA export must span fewer than {KEDA_MAX_DAYS}, because cron has no year "
                "field and floors a year apart would fire on both days.",
                fix="export a week (hours=168) and re-apply it weekly",
            )
    reactive = ReactivePolicy() if reactive is None else reactive
    if not isinstance(reactive, ReactivePolicy):
        raise ParameterError(
            f"The 'reactive' parameter must be a ReactivePolicy. Got {type(reactive).__name__}."
        )
    if trigger not in _TRIGGERS:
        raise ParameterError(
            f"The 'trigger' parameter must be one of {', '.join(map(repr, _TRIGGERS))}. "
            f"Got {trigger!r}."
        )
    if trigger == "prometheus" and SAFE_LOAD not in frame.columns:
        raise ParameterError(
            "The 'schedule' parameter must have a 'safe_load' column for trigger='prometheus'."
        )
    if cpu_target_percent is None:
        cpu_target_percent = 100 * reactive.target_utilisation
    elif (
        isinstance(cpu_target_percent, bool)
        or not isinstance(cpu_target_percent, numbers.Real)
        or not 0 < cpu_target_percent <= 100
    ):
        raise ParameterError(
            f"The 'cpu_target_percent' parameter must be in (0, 100]. Got {cpu_target_percent!r}."
        )
    if (
        isinstance(max_replicas_factor, bool)
        or not isinstance(max_replicas_factor, numbers.Real)
        or not max_replicas_factor >= 1
    ):
        raise ParameterError(
            f"The 'max_replicas_factor' parameter must be a number >= 1. "
            f"Got {max_replicas_factor!r}."
        )
    running = _check_current_servers(current_servers)
    documents = []
    for region, service, part in _groups(frame):
        name = _group_name(deployment_template, region, service, "deployment_template")
        floors = part[MIN_SERVERS].astype(np.int64)
        ceiling = max(
            math.ceil(max_replicas_factor * int(floors.max())),
            running.get((region, service), 0),
        )
        triggers: list[dict[str, Any]] = [
            {
                "type": "cron",
                "name": f"floor-{begin:%Y%m%dT%H%MZ}",
                "metadata": {
                    "timezone": "UTC",
                    "start": _cron(begin),
                    "end": _cron(end),
                    "desiredReplicas": str(floor),
                },
            }
            for begin, end, floor in _runs(part)
        ]
        if trigger == "cpu":
            triggers.append(
                {
                    "type": "cpu",
                    "name": "reactive",
                    "metricType": "Utilization",
                    "metadata": {"value": f"{cpu_target_percent:g}"},
                }
            )
        else:
            safe = float(part[SAFE_LOAD].median())
            query = _group_name(prometheus_query, region, service, "prometheus_query")
            triggers.append(
                {
                    "type": "prometheus",
                    "name": "reactive",
                    "metricType": "AverageValue",
                    "metadata": {
                        "serverAddress": prometheus_address,
                        "query": query,
                        "threshold": f"{reactive.target_utilisation * safe:.6g}",
                    },
                }
            )
        # The HPA allows periods of at most 30 min and windows of at most an hour: the hourly
        # step becomes half a step per half hour.
        scale_down: dict[str, Any] = {
            "stabilizationWindowSeconds": min(_MAX_WINDOW_S, int(reactive.cooldown_hours * 3600)),
            "policies": [
                {
                    "type": "Percent",
                    "value": max(1, round(50 * reactive.scale_in_step)),
                    "periodSeconds": _MAX_PERIOD_S,
                },
                {"type": "Pods", "value": 1, "periodSeconds": _MAX_PERIOD_S},
            ],
            "selectPolicy": "Max",
        }
        document = {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    "app.kubernetes.io/managed-by": "capacity",
                    "capacity/region": region,
                    "capacity/service": service,
                },
            },
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicaCount": int(floors.min()),
                "maxReplicaCount": ceiling,
                "advanced": {
                    "horizontalPodAutoscalerConfig": {"behavior": {"scaleDown": scale_down}}
                },
                "triggers": triggers,
            },
        }
        first, last = part[TS].iloc[0], part[TS].iloc[-1]
        header = (
            f"# capacity scaling schedule for {region}/{service}, {_iso_z(first)} to "
            f"{_iso_z(last + _HOUR)}.\n"
            f"# cron triggers: the predictive floor; trigger 'reactive' ({trigger}): the "
            "reactive policy on top.\n"
        )
        documents.append(header + yaml.safe_dump(document, sort_keys=False))
    return "---\n".join(documents)


# --------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticPolicy:
    """A fixed number of servers, every hour.

    Parameters
    ----------
    servers : int
        The count, >= 1: for example the replay window's peak need with N+k.
    """

    servers: int

    def __post_init__(self) -> None:
        _check_int(self.servers, "servers", 1)


@dataclass(frozen=True)
class ReactivePolicy:
    """Scale on observed load, late: a target-tracking autoscaler or an HPA.

    Each hour ``t`` the policy wants ``max(min_servers, ceil(load[t - delay_hours] /
    (target_utilisation x safe_load)))`` servers. That is the load it observed
    ``delay_hours`` ago, covering the metrics lag and the boot time. When it wants more than it
    runs, it scales out to that count at once. When it wants fewer, it scales in only in an
    hour more than ``cooldown_hours`` after the last scale-out (with 1, the hour right after a
    scale-out holds), removing at most ``max(1, floor(scale_in_step x servers))`` servers that
    hour. An hour whose observed load is missing (NaN) holds the count.

    Parameters
    ----------
    target_utilisation : float
        Load per server as a fraction of the safe load, in (0, 1].
    delay_hours : int
        Hours between a load and the servers that answer it, >= 0.
    cooldown_hours : int
        Hours after a scale-out with no scale-in, >= 0.
    scale_in_step : float
        The largest fraction of servers removed per hour, in (0, 1].
    min_servers : int
        Never fewer than this, >= 1.
    """

    target_utilisation: float = 0.7
    delay_hours: int = 2
    cooldown_hours: int = 1
    scale_in_step: float = 0.1
    min_servers: int = 2

    def __post_init__(self) -> None:
        _check_fraction(self.target_utilisation, "target_utilisation")
        _check_int(self.delay_hours, "delay_hours", 0)
        _check_int(self.cooldown_hours, "cooldown_hours", 0)
        _check_fraction(self.scale_in_step, "scale_in_step")
        _check_int(self.min_servers, "min_servers", 1)


@dataclass(frozen=True, eq=False)
class PredictivePolicy:
    """A floor per hour with a reactive policy on top: ``servers = max(floor[t], reactive)``.

    The reactive policy runs on the actual server count, as a real autoscaler does under a
    scheduled minimum. When the floor falls, the count comes down by the reactive policy's
    scale-in steps, not all at once.

    With ``expected`` (the load the forecast expects by hour, e.g. :func:`expected_load`), the
    reactive part projects what it observed along the forecast's shape: at hour ``t`` it sizes
    for ``load[t - delay] x expected[t] / expected[t - delay]`` instead of ``load[t - delay]``.
    It keeps the observed level (a day running 20 % above the forecast stays 20 % above it) but
    no longer lags the daily ramps by ``delay_hours``, in either direction. Where ``expected``
    is missing, not positive or not finite at either hour, it uses the observed load as is.

    Parameters
    ----------
    floors : pandas.Series
        Minimum servers by hour (tz-aware index), e.g. from :func:`predictive_floors`. Every
        scored hour of a replay needs one. Hours before the scored window may lack one (no
        floor).
    reactive : ReactivePolicy
        The policy on top.
    expected : pandas.Series, optional
        Expected load by hour (tz-aware index), known in advance. None: plain reactive on top.
    """

    floors: pd.Series
    reactive: ReactivePolicy = ReactivePolicy()
    expected: pd.Series | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.floors, pd.Series):
            raise ParameterError(
                f"The 'floors' parameter must be a pandas Series indexed by hour. "
                f"Got {type(self.floors).__name__}."
            )
        if not isinstance(self.reactive, ReactivePolicy):
            raise ParameterError(
                f"The 'reactive' parameter must be a ReactivePolicy. "
                f"Got {type(self.reactive).__name__}."
            )
        try:
            values = self.floors.astype(float)
        except (TypeError, ValueError):
            raise ParameterError("The 'floors' parameter must hold numbers.") from None
        if (values.dropna() < 0).any() or np.isinf(values).any():
            raise ParameterError("The 'floors' parameter must hold finite counts >= 0.")
        index = self.floors.index
        if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
            raise ParameterError(
                "The 'floors' parameter must have a tz-aware DatetimeIndex (UTC).",
                fix="use floors.tz_localize('UTC') for naive UTC times",
            )
        index = index.tz_convert("UTC")
        if index.has_duplicates:
            raise ParameterError("The 'floors' parameter must have one value per hour.")
        object.__setattr__(self, "floors", pd.Series(values.to_numpy(), index=index))
        if self.expected is not None:
            object.__setattr__(self, "expected", _hourly_numbers(self.expected, "expected"))


def _hourly_numbers(series: Any, name: str) -> pd.Series:
    """A float Series of finite values >= 0 (NaN allowed) on a unique, tz-aware UTC index."""
    if not isinstance(series, pd.Series):
        raise ParameterError(
            f"The {name!r} parameter must be a pandas Series indexed by hour. "
            f"Got {type(series).__name__}."
        )
    try:
        values = series.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"The {name!r} parameter must hold numbers.") from None
    if (values[~np.isnan(values)] < 0).any() or np.isinf(values).any():
        raise ParameterError(f"The {name!r} parameter must hold finite values >= 0 (NaN: unknown).")
    index = series.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ParameterError(
            f"The {name!r} parameter must have a tz-aware DatetimeIndex (UTC).",
            fix=f"use {name}.tz_localize('UTC') for naive UTC times",
        )
    index = index.tz_convert("UTC")
    if index.has_duplicates:
        raise ParameterError(f"The {name!r} parameter must have one value per hour.")
    return pd.Series(values, index=index)


Policy = StaticPolicy | ReactivePolicy | PredictivePolicy


def _policy_name(policy: Policy) -> str:
    return {StaticPolicy: "static", ReactivePolicy: "reactive", PredictivePolicy: "predictive"}[
        type(policy)
    ]


# --------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """What a policy did over the scored hours of a replay.

    Attributes
    ----------
    policy : str
        ``static``, ``reactive`` or ``predictive``.
    hours : int
        Hours scored.
    server_hours : int
        Sum of servers over the scored hours.
    under_provisioned_hours : int
        Hours where demand exceeded ``servers x safe_load``.
    worst_shortfall : int
        The most servers missing in one hour, ``ceil(demand / safe_load) - servers`` (0 when
        never short).
    mean_utilisation : float
        Mean of ``demand / (servers x safe_load)`` over hours with known demand.
    hourly : pandas.DataFrame
        ``ts, demand, servers, capacity, shortfall, under_provisioned, utilisation``.
    """

    policy: str
    hours: int
    server_hours: int
    under_provisioned_hours: int
    worst_shortfall: int
    mean_utilisation: float
    hourly: pd.DataFrame

    def summary(self) -> dict[str, Any]:
        """The figures without the hourly frame, for a table row."""
        return {
            "policy": self.policy,
            "hours": self.hours,
            "server_hours": self.server_hours,
            "under_provisioned_hours": self.under_provisioned_hours,
            "worst_shortfall": self.worst_shortfall,
            "mean_utilisation": self.mean_utilisation,
        }


def _check_demand(demand: Any) -> pd.Series:
    if not isinstance(demand, pd.Series):
        raise ParameterError(
            f"The 'demand' parameter must be a pandas Series indexed by hour. "
            f"Got {type(demand).__name__}."
        )
    if len(demand) == 0:
        raise ParameterError("The 'demand' parameter must have at least one hour.")
    if not isinstance(demand.index, pd.DatetimeIndex) or demand.index.tz is None:
        raise ParameterError(
            "The 'demand' parameter must have a tz-aware DatetimeIndex (UTC).",
            fix="use series.tz_localize('UTC') for naive UTC times",
        )
    try:
        values = demand.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ParameterError("The 'demand' parameter must hold numbers.") from None
    if (values[~np.isnan(values)] < 0).any() or np.isinf(values).any():
        raise ParameterError("The 'demand' parameter must hold finite values >= 0 (NaN: unknown).")
    index = demand.index.tz_convert("UTC")
    _check_hourly(index, "demand")
    return pd.Series(values, index=index)


def _reactive_step(
    policy: ReactivePolicy,
    current: int,
    observed: float,
    safe_load: float,
    t: int,
    last_out: int,
) -> int:
    if math.isnan(observed):
        return current
    wanted = max(
        policy.min_servers,
        int(servers_for(np.array([observed]), policy.target_utilisation * safe_load)[0]),
    )
    if wanted > current:
        return wanted
    if wanted < current and t - last_out > policy.cooldown_hours:
        step = max(1, math.floor(policy.scale_in_step * current))
        return max(wanted, current - step)
    return current


def _expected_growth(expected: pd.Series, delay: int) -> np.ndarray:
    """``expected[t] / expected[t - delay]`` per hour; 1 where either is unknown or not > 0."""
    now = expected.to_numpy(dtype=float)
    then = np.full(len(now), np.nan)
    if delay < len(now):
        then[delay:] = now[: len(now) - delay]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = now / then
    usable = np.isfinite(ratio) & (then > 0) & (now > 0)
    return np.where(usable, ratio, 1.0)


def simulate(
    demand: pd.Series,
    *,
    safe_load: float,
    policy: Policy,
    start: Any = None,
) -> SimulationResult:
    """Replay actual hourly demand against a scaling policy.

    The policy runs over every hour of ``demand``. Only hours at or after ``start`` are
    scored: earlier hours warm the reactive state up and give it the loads it observes late.
    Before the first hour the reactive policy runs ``min_servers`` servers, and loads before the
    series are taken as its first value. Hour ``t``'s servers serve hour ``t``'s demand. It is
    under-provisioned when ``demand > servers x safe_load``. An hour of unknown (NaN) demand
    counts its servers but is neither short nor utilised.

    Parameters
    ----------
    demand : pandas.Series
        Actual load per hour (the service's demand metric); a regular hourly, tz-aware index.
    safe_load : float
        The load one server holds within the SLO, > 0.
    policy : StaticPolicy, ReactivePolicy or PredictivePolicy
        The policy to replay.
    start : timestamp-like, optional
        The first scored hour (naive values are UTC). Default: the first hour of ``demand``.

    Returns
    -------
    SimulationResult
        The figures over the scored hours and the hourly frame.

    Raises
    ------
    ParameterError
        When an argument is malformed or out of range, ``start`` is outside ``demand``, or a
        predictive policy has no floor for a scored hour.
    DataError
        When ``demand`` is not a regular hourly series.
    """
    series = _check_demand(demand)
    safe_load = _check_positive(safe_load, "safe_load")
    if not isinstance(policy, StaticPolicy | ReactivePolicy | PredictivePolicy):
        raise ParameterError(
            "The 'policy' parameter must be a StaticPolicy, ReactivePolicy or PredictivePolicy. "
            f"Got {type(policy).__name__}."
        )
    index = series.index
    first = index[0] if start is None else _timestamp(start, "start")
    if not index[0] <= first <= index[-1]:
        raise ParameterError(
            f"The 'start' parameter must lie within the demand series "
            f"({index[0].isoformat()} to {index[-1].isoformat()}). Got {start!r}."
        )
    scored = index >= first
    values = series.to_numpy()
    n = len(values)
    servers = np.empty(n, dtype=np.int64)

    if isinstance(policy, StaticPolicy):
        servers[:] = policy.servers
    else:
        reactive = policy.reactive if isinstance(policy, PredictivePolicy) else policy
        floor = np.zeros(n)
        if isinstance(policy, PredictivePolicy):
            aligned = policy.floors.reindex(index).to_numpy(dtype=float)
            missing = scored & np.isnan(aligned)
            if missing.any():
                at = index[np.flatnonzero(missing)[0]]
                raise ParameterError(
                    f"The 'floors' of the predictive policy must cover every scored hour. "
                    f"Missing {int(missing.sum())} hours, the first at {at.isoformat()}."
                )
            floor = np.ceil(np.nan_to_num(aligned, nan=0.0) - _EPS)
        growth = np.ones(n)
        if isinstance(policy, PredictivePolicy) and policy.expected is not None:
            growth = _expected_growth(policy.expected.reindex(index), reactive.delay_hours)
        current, last_out = reactive.min_servers, -(10**9)
        for t in range(n):
            observed = values[max(t - reactive.delay_hours, 0)] * growth[t]
            new = _reactive_step(reactive, current, observed, safe_load, t, last_out)
            new = max(new, int(floor[t]))
            if new > current:
                last_out = t
            current = new
            servers[t] = current

    ts = index[scored]
    load = values[scored]
    count = servers[scored]
    capacity = count * safe_load
    known = ~np.isnan(load)
    need = servers_for(load, safe_load)
    shortfall = np.where(known, np.clip(need - count, 0, None), 0).astype(np.int64)
    under = known & (load > capacity)
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(known, load / capacity, np.nan)
    hourly = pd.DataFrame(
        {
            TS: ts,
            DEMAND: load,
            "servers": count,
            "capacity": capacity,
            "shortfall": shortfall,
            "under_provisioned": under,
            "utilisation": utilisation,
        }
    )
    finite = utilisation[np.isfinite(utilisation)]
    return SimulationResult(
        policy=_policy_name(policy),
        hours=len(ts),
        server_hours=int(count.sum()),
        under_provisioned_hours=int(under.sum()),
        worst_shortfall=int(shortfall.max()) if len(shortfall) else 0,
        mean_utilisation=float(finite.mean()) if len(finite) else math.nan,
        hourly=hourly,
    )


# --------------------------------------------------------------------------------------------
# Honest floors for a replay
# --------------------------------------------------------------------------------------------


def _default_forecaster() -> Any:
    from capacity.forecast import DemandForecaster

    return DemandForecaster()


CUTOFF = "cutoff"


def _check_quantile(quantile: Any) -> float:
    if isinstance(quantile, bool) or not isinstance(quantile, numbers.Real) or not 0 < quantile < 1:
        raise ParameterError(f"The 'quantile' parameter must be in (0, 1). Got {quantile!r}.")
    return float(quantile)


def _reported_quantiles(forecast: pd.DataFrame) -> dict[float, str]:
    """The forecast's quantile columns (``q0.5``, ...) by their level."""
    out = {}
    for column in forecast.columns:
        name = str(column)
        if not name.startswith("q"):
            continue
        try:
            level = float(name[1:])
        except ValueError:
            continue
        if 0 < level < 1:
            out[level] = name
    return dict(sorted(out.items()))


def quantile_values(forecast: pd.DataFrame, quantile: float) -> np.ndarray:
    """The forecast's ``quantile``, read or interpolated between its reported quantiles.

    A reported quantile (column ``q0.9`` for 0.9) is read as is. Another level between the
    lowest and highest reported ones is interpolated linearly in the normal score
    (``NormalDist().inv_cdf``) between its two neighbours, row by row: q0.75 from q0.5 and
    q0.9 lies 53 % of the way up, as it would for a normal forecast error.

    Parameters
    ----------
    forecast : pandas.DataFrame
        A forecaster's output with quantile columns named by
        :func:`capacity.columns.quantile_column`.
    quantile : float
        The level, in (0, 1).

    Returns
    -------
    numpy.ndarray
        One value per row.

    Raises
    ------
    ParameterError
        When ``quantile`` is outside (0, 1) or outside the reported quantiles' range.
    """
    quantile = _check_quantile(quantile)
    column = quantile_column(quantile)
    if column in forecast.columns:
        return forecast[column].to_numpy(dtype=float)
    levels = _reported_quantiles(forecast)
    below = [q for q in levels if q < quantile]
    above = [q for q in levels if q > quantile]
    if not below or not above:
        raise ParameterError(
            f"The 'quantile' parameter must be one of the forecaster's quantiles "
            f"({', '.join(levels.values()) or 'none'}) or lie between two of them. "
            f"Got {quantile!r}."
        )
    lo, hi = below[-1], above[0]
    z = NormalDist().inv_cdf
    share = (z(quantile) - z(lo)) / (z(hi) - z(lo))
    low = forecast[levels[lo]].to_numpy(dtype=float)
    high = forecast[levels[hi]].to_numpy(dtype=float)
    return low + share * (high - low)


def rolling_forecasts(
    history: pd.DataFrame,
    *,
    start: Any,
    days: int,
    lead_hours: int = 1,
    forecaster_factory: Callable[[], Any] | None = None,
    events: pd.DataFrame | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    max_history_hours: int | None = None,
) -> pd.DataFrame:
    """One forecast per replayed day, each fitted on the rows before that day only.

    For day ``d`` (cutoff ``c = start + d days``) a fresh forecaster is fitted on the rows of
    ``history`` strictly before ``c``, on the full hourly grid up to ``c - 1 h`` (gaps are
    NaN). It sees the ``events`` known at ``c``, by :func:`capacity.backtest.known_events`, and
    forecasts ``24 + lead_hours`` hours from ``c``.

    Parameters
    ----------
    history : pandas.DataFrame
        ``ts`` (tz-aware, hourly) and ``value``: the actual demand. It may run past ``start``;
        a day's forecast never sees rows at or after its cutoff.
    start : timestamp-like
        The first replayed hour, on a whole hour (naive values are UTC).
    days : int
        Days to replay, >= 1: one fit each.
    lead_hours : int
        Hours forecast past each day's end, >= 0 (the boot lead, :func:`boot_lead_hours`).
    forecaster_factory : callable, optional
        Returns a fresh, unfitted forecaster with ``fit(series[, events], **fit_kwargs)`` and
        ``predict(horizon)``. Default: :class:`capacity.forecast.DemandForecaster`.
    events : pandas.DataFrame, optional
        The calendar for this series (``kind, start_ts, end_ts``, ...); passed to ``fit`` as
        known at each cutoff. None passes no events.
    fit_kwargs : mapping, optional
        More keyword arguments for ``fit`` (``holidays_country``, ``timezone``).
    max_history_hours : int, optional
        Fit on at most this many hours before each cutoff. Default: all of them.

    Returns
    -------
    pandas.DataFrame
        The forecasts one under the other, ``(24 + lead_hours) x days`` rows, with a
        ``cutoff`` column (the day's first hour) before the forecaster's own columns.

    Raises
    ------
    ParameterError
        When an argument is out of range, or a forecast does not start at its cutoff.
    DataError
        When ``history`` is malformed or has no row before ``start``.
    """
    require_columns(history, (TS, VALUE), "history")
    first = _timestamp(start, "start")
    days = _check_int(days, "days", 1)
    lead_hours = _check_int(lead_hours, "lead_hours", 0)
    if max_history_hours is not None:
        max_history_hours = _check_int(max_history_hours, "max_history_hours", 1)
    factory = _default_forecaster if forecaster_factory is None else forecaster_factory
    if not callable(factory):
        raise ParameterError(
            f"The 'forecaster_factory' parameter must be callable. Got {factory!r}."
        )
    kwargs = dict(fit_kwargs or {})
    ts = _utc_index(history[TS], "history")
    series = pd.Series(history[VALUE].to_numpy(dtype=float), index=ts).sort_index()
    if series.index.has_duplicates:
        raise DataError("timestamps repeat", source="history", fix="give one row per hour")
    off_hour = series.index[series.index != series.index.floor("h")]
    if len(off_hour):
        raise DataError(
            f"timestamps must fall on whole hours; the first that does not is "
            f"{off_hour[0].isoformat()}",
            source="history",
            fix="resample the series to hourly values first",
        )
    if len(series) == 0 or series.index[0] >= first:
        raise DataError(
            f"no row before start {first.isoformat()}",
            source="history",
            fix="give history that begins before the replay",
        )
    horizon = 24 + lead_hours
    parts = []
    for day in range(days):
        cutoff = first + day * _DAY
        past = series[series.index < cutoff]
        grid = pd.date_range(past.index[0].floor("h"), cutoff - _HOUR, freq="h")
        past = past.reindex(grid)
        if max_history_hours is not None:
            past = past.iloc[-max_history_hours:]
        train = pd.DataFrame({TS: past.index, VALUE: past.to_numpy()})
        model = factory()
        if events is None:
            model.fit(train, **kwargs)
        else:
            model.fit(train, known_events(events, cutoff, cutoff + horizon * _HOUR), **kwargs)
        forecast = model.predict(horizon)
        when = pd.DatetimeIndex(forecast[TS]) if TS in forecast.columns else pd.DatetimeIndex([])
        if len(when) != horizon or when[0] != cutoff:
            raise ParameterError(
                f"The forecaster must predict {horizon} hours from {cutoff.isoformat()}. "
                f"Got {len(when)} hours from {when[0] if len(when) else 'nothing'}."
            )
        forecast = forecast.reset_index(drop=True)
        forecast.insert(0, CUTOFF, cutoff)
        parts.append(forecast)
    return pd.concat(parts, ignore_index=True)


def _days(forecasts: pd.DataFrame) -> Iterator[pd.DataFrame]:
    require_columns(forecasts, (CUTOFF, TS), "forecasts")
    for _, part in forecasts.groupby(CUTOFF, sort=True):
        yield part.sort_values(TS)


def floors_from_forecasts(
    forecasts: pd.DataFrame,
    *,
    safe_load: float,
    k: int = 1,
    min_servers: int = 2,
    boot_hours: int = 1,
    quantile: float = 0.95,
) -> pd.Series:
    """The floors of each day of :func:`rolling_forecasts`, by the schedule's rule.

    The floor at hour ``t`` of a day is ``max over [t, t + boot_hours]`` of
    ``max(ceil(q[t] / safe_load) + k, min_servers)``, where ``q`` is the day's forecast
    ``quantile`` (:func:`quantile_values`: read, or interpolated between reported quantiles).
    The window is cut at the end of the day's forecast.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        ``cutoff``, ``ts`` and quantile columns, as :func:`rolling_forecasts` returns.
    safe_load : float
        Load per server, > 0.
    k, min_servers : int
        The N+k rule.
    boot_hours : int
        Boot lead time in whole hours, >= 0.
    quantile : float
        The forecast quantile to size for.

    Returns
    -------
    pandas.Series
        ``min_servers`` (int) indexed by hour, the first 24 hours of each day.

    Raises
    ------
    ParameterError
        When an argument is out of range or the forecasts lack the quantile.
    """
    safe_load = _check_positive(safe_load, "safe_load")
    k = _check_int(k, "k", 0)
    min_servers = _check_int(min_servers, "min_servers", 1)
    boot_hours = _check_int(boot_hours, "boot_hours", 0)
    quantile = _check_quantile(quantile)
    parts = []
    for day in _days(forecasts):
        when = _utc_index(day[TS], "forecasts")
        needed = servers_for(quantile_values(day, quantile), safe_load)
        requirement = np.maximum(needed + k, min_servers)
        floor = _ahead_max(requirement, boot_hours)[:24]
        parts.append(pd.Series(floor.astype(np.int64), index=when[:24], name=MIN_SERVERS))
    return pd.concat(parts)


def expected_load(forecasts: pd.DataFrame, quantile: float = 0.5) -> pd.Series:
    """The load each day's forecast expects, for :class:`PredictivePolicy`'s ``expected``.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        ``cutoff``, ``ts`` and quantile columns, as :func:`rolling_forecasts` returns.
    quantile : float
        The level to read (:func:`quantile_values`), by default the median.

    Returns
    -------
    pandas.Series
        Indexed by hour: the first 24 hours of each day's forecast.
    """
    quantile = _check_quantile(quantile)
    parts = []
    for day in _days(forecasts):
        when = _utc_index(day[TS], "forecasts")
        values = np.clip(quantile_values(day, quantile), 0, None)
        parts.append(pd.Series(values[:24], index=when[:24], name="expected"))
    return pd.concat(parts)


def predictive_floors(
    history: pd.DataFrame,
    *,
    start: Any,
    days: int,
    safe_load: float,
    k: int = 1,
    min_servers: int = 2,
    boot_hours: int = 1,
    quantile: float = 0.95,
    forecaster_factory: Callable[[], Any] | None = None,
    events: pd.DataFrame | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    max_history_hours: int | None = None,
) -> pd.Series:
    """Floors for each hour of ``days`` replayed days, each day forecast from its past only.

    :func:`rolling_forecasts` (``lead_hours = boot_hours``), then
    :func:`floors_from_forecasts`. For day ``d`` (cutoff ``c = start + d days``) a fresh
    forecaster is fitted on the rows of ``history`` strictly before ``c`` and sees the
    ``events`` known at ``c``. It forecasts ``24 + boot_hours`` hours. The floor at hour ``t``
    of the day is ``max over [t, t + boot_hours]`` of ``max(ceil(q[t] / safe_load) + k,
    min_servers)``, where ``q`` is the forecast's ``quantile``, read or interpolated between
    the reported quantiles. That is the rule :func:`schedule` applies, here per day.

    Parameters
    ----------
    history : pandas.DataFrame
        ``ts`` (tz-aware, hourly) and ``value``: the actual demand. It may run past ``start``;
        a day's forecast never sees rows at or after its cutoff.
    start : timestamp-like
        The first replayed hour, on a whole hour (naive values are UTC).
    days : int
        Days to replay, >= 1: one fit each.
    safe_load : float
        Load per server, > 0.
    k, min_servers : int
        The N+k rule.
    boot_hours : int
        Boot lead time in whole hours (:func:`boot_lead_hours`), >= 0.
    quantile : float
        The forecast quantile to size for: one the forecaster reports, or a level between two
        of them.
    forecaster_factory : callable, optional
        Returns a fresh, unfitted forecaster with ``fit(series[, events], **fit_kwargs)`` and
        ``predict(horizon)``. Default: :class:`capacity.forecast.DemandForecaster`.
    events : pandas.DataFrame, optional
        The calendar for this series (``kind, start_ts, end_ts``, ...); passed to ``fit`` as
        known at each cutoff. None passes no events.
    fit_kwargs : mapping, optional
        More keyword arguments for ``fit`` (``holidays_country``, ``timezone``).
    max_history_hours : int, optional
        Fit on at most this many hours before each cutoff. Default: all of them.

    Returns
    -------
    pandas.Series
        ``min_servers`` (int) indexed by hour, ``24 x days`` rows from ``start``.

    Raises
    ------
    ParameterError
        When an argument is out of range, or the forecast lacks the quantile or does not start
        at the cutoff.
    DataError
        When ``history`` is malformed or has no row before ``start``.
    """
    safe_load = _check_positive(safe_load, "safe_load")
    k = _check_int(k, "k", 0)
    min_servers = _check_int(min_servers, "min_servers", 1)
    boot_hours = _check_int(boot_hours, "boot_hours", 0)
    quantile = _check_quantile(quantile)
    forecasts = rolling_forecasts(
        history,
        start=start,
        days=days,
        lead_hours=boot_hours,
        forecaster_factory=forecaster_factory,
        events=events,
        fit_kwargs=fit_kwargs,
        max_history_hours=max_history_hours,
    )
    return floors_from_forecasts(
        forecasts,
        safe_load=safe_load,
        k=k,
        min_servers=min_servers,
        boot_hours=boot_hours,
        quantile=quantile,
    )
