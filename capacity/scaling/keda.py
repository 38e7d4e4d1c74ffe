"""The schedule as KEDA ``ScaledObject`` YAML: cron floors with a reactive trigger on top.

Cron has no year, so an export must span fewer than :data:`KEDA_MAX_DAYS` days.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import yaml

from capacity.columns import TS
from capacity.errors import ParameterError
from capacity.scaling.checks import DAY, HOUR
from capacity.scaling.exports import check_schedule, from_template, group_names
from capacity.scaling.floors import MIN_SERVERS, SAFE_LOAD, by_pair
from capacity.scaling.policies import ReactivePolicy
from capacity.units import iso_utc

#: A KEDA export must span fewer days than this: cron has no year field, so floors 365 days
#: apart would share their expressions and each would fire on both days.
KEDA_MAX_DAYS = 365


#: The most bytes of annotations an object may carry. Plain (client-side) ``kubectl apply``
#: keeps the whole object as JSON in ``kubectl.kubernetes.io/last-applied-configuration``, so
#: it refuses a larger object ("metadata.annotations: Too long").
KUBECTL_APPLY_MAX_BYTES = 256 * 1024


def keda_objects_too_large(text: str) -> dict[str, int]:
    """The objects of :func:`to_keda_yaml`'s text that plain ``kubectl apply`` refuses.

    Each cron trigger adds about 150 bytes, so a week of hourly floors is about 24 KB and
    about 75 days exceed :data:`KUBECTL_APPLY_MAX_BYTES`; ``kubectl apply --server-side``
    keeps no such copy and takes them.

    Parameters
    ----------
    text : str
        YAML documents, as :func:`to_keda_yaml` returns them.

    Returns
    -------
    dict
        ``name -> bytes`` of each object whose compact JSON is larger than the limit, in
        the order of the text.
    """
    sizes = {}
    for document in yaml.safe_load_all(text):
        if document is None:
            continue
        size = len(json.dumps(document, separators=(",", ":")).encode())
        if size > KUBECTL_APPLY_MAX_BYTES:
            sizes[str(document["metadata"]["name"])] = size
    return sizes


def kubectl_apply_warning(text: str) -> str | None:
    """What to say when plain ``kubectl apply`` would refuse objects of ``text``, else None.

    Parameters
    ----------
    text : str
        YAML documents, as :func:`to_keda_yaml` returns them.

    Returns
    -------
    str or None
        The objects too large (:func:`keda_objects_too_large`), their sizes and the fix.
    """
    large = keda_objects_too_large(text)
    if not large:
        return None
    return (
        f"{len(large)} ScaledObject{'s are' if len(large) > 1 else ' is'} larger than the "
        f"{KUBECTL_APPLY_MAX_BYTES // 1024} KiB that plain `kubectl apply` keeps in its "
        "last-applied annotation, so it refuses them (metadata.annotations: Too long): "
        # rounded up: 256.3 KiB rounded read as the 256 KiB it exceeds
        + ", ".join(f"{name} ({math.ceil(size / 1024):,} KiB)" for name, size in large.items())
        + ". Apply with `kubectl apply --server-side`, or publish fewer days (--horizon; a "
        "week is about 24 KiB)"
    )


def _leap_day(ts: pd.Timestamp) -> bool:
    return ts.month == 2 and ts.day == 29


def _runs(part: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """Consecutive hours with the same floor, as ``(start, end exclusive, floor)``.

    A run that starts on 29 February ends at midnight that day at the latest (the rest is a
    run of its own from 1 March): see :func:`_window`.
    """
    runs: list[tuple[pd.Timestamp, pd.Timestamp, int]] = []
    for ts, floor in zip(part[TS], part[MIN_SERVERS].astype(np.int64), strict=True):
        if (
            runs
            and runs[-1][1] == ts
            and runs[-1][2] == floor
            and not (_leap_day(runs[-1][0]) and not _leap_day(ts))
        ):
            runs[-1] = (runs[-1][0], ts + HOUR, int(floor))
        else:
            runs.append((ts, ts + HOUR, int(floor)))
    return runs


def _cron(ts: pd.Timestamp) -> str:
    """A five-field cron expression that fires at ``ts`` (its own clock) on that date yearly."""
    return f"{ts.minute} {ts.hour} {ts.day} {ts.month} *"


#: A fixed UTC-12 clock (IANA's ``Etc/GMT+12``; the sign is POSIX's, reversed).
_UTC_MINUS_12 = "Etc/GMT+12"


def _window(begin: pd.Timestamp, end: pd.Timestamp) -> tuple[str, str, str]:
    """``(timezone, start, end)`` of a cron window that is active exactly in ``[begin, end)``.

    KEDA's cron trigger is active while the next ``end`` comes before the next ``start``.
    Dated expressions recur yearly, except on 29 February, which recurs four years later.
    A window that starts on 29 February and ends on 1 March would therefore stay active
    after its end, until the start's date came round again. Such a window (it ends at
    midnight at the latest, see :func:`_runs`) is written on a UTC-12 clock instead: there
    it ends at noon on 29 February, and starts on 29 February too, or on the 28th.
    """
    if _leap_day(begin) and not _leap_day(end):
        shift = pd.Timedelta(hours=12)
        return _UTC_MINUS_12, _cron(begin - shift), _cron(end - shift)
    return "UTC", _cron(begin), _cron(end)


_TRIGGERS = ("cpu", "prometheus")
#: Kubernetes HPA limits: a scaling policy's period and the stabilisation window.
_MAX_PERIOD_S, _MAX_WINDOW_S = 1800, 3600


#: An RFC 1123 label, as Kubernetes wants for a namespace and for these objects' names.
_RFC1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
#: A label's value: alphanumerics at both ends, '-', '_' and '.' between.
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_K8S_NAME_MAX = 63


def _check_k8s_name(value: str, what: str, name: str, got: str) -> None:
    """Refuse ``value`` unless it is an RFC 1123 label: a-z, 0-9 and '-', at most 63."""
    if len(value) <= _K8S_NAME_MAX and _RFC1123_LABEL.fullmatch(value):
        return
    problem = (
        f"{len(value)} characters, more than {_K8S_NAME_MAX}"
        if len(value) > _K8S_NAME_MAX
        else "a character other than a-z, 0-9 and '-', or '-' at an end"
    )
    raise ParameterError(
        f"The {name!r} parameter gives {what} the name {value!r}, which Kubernetes refuses: "
        f"it has {problem}. Got {got!r}.",
        fix="use lowercase letters, digits and '-' (an RFC 1123 label), at most 63 characters",
    )


def check_keda_names(
    pairs: list[tuple[str, str]],
    deployment_template: str,
    namespace: str,
    *,
    names: tuple[str, str] = ("namespace", "deployment_template"),
) -> dict[tuple[str, str], str]:
    """Check the names :func:`to_keda_yaml` would write, before a schedule is made.

    Parameters
    ----------
    pairs : list of (str, str)
        The region/service pairs to be scaled.
    deployment_template : str
        The deployments' name from ``{region}`` and ``{service}``.
    namespace : str
        The Kubernetes namespace.
    names : (str, str)
        How errors name the namespace and the template (a command line's options).

    Returns
    -------
    dict
        Each pair's object name.

    Raises
    ------
    ParameterError
        A name Kubernetes refuses (an RFC 1123 label: a-z, 0-9 and '-', at most 63), a
        region or service that cannot be a label value, or two pairs given one name.
    """
    return _check_names(pairs, deployment_template, namespace, names=names)


def _check_names(
    pairs: list[tuple[str, str]],
    deployment_template: str,
    namespace: str,
    *,
    names: tuple[str, str] = ("namespace", "deployment_template"),
) -> dict[tuple[str, str], str]:
    """Each region/service's object name, checked; the namespace and label values too."""
    namespace_name, template_name = names
    if not isinstance(namespace, str):
        raise ParameterError(
            f"The {namespace_name!r} parameter must be a string. Got {namespace!r}."
        )
    _check_k8s_name(namespace, "the objects", namespace_name, namespace)
    for region, service in pairs:
        for label, value in (("region", region), ("service", service)):
            if len(value) > _K8S_NAME_MAX or not _LABEL_VALUE.fullmatch(value):
                raise ParameterError(
                    f"The 'schedule' parameter names the {label} {value!r}, which cannot be the "
                    f"value of the label 'capacity/{label}': Kubernetes allows at most 63 of "
                    "A-Z, a-z, 0-9, '-', '_' and '.', with a letter or digit at each end.",
                    fix=f"rename the {label} in the fleet file",
                )
        name = from_template(deployment_template, region, service, template_name)
        _check_k8s_name(name, f"{region}/{service}", template_name, deployment_template)
    # every name is a valid label, so only the check that they differ can fail here
    return group_names(deployment_template, pairs, template_name)


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
    scale_up_tolerance: float | None = None,
) -> str:
    """One KEDA ``ScaledObject`` per region/service: cron floors, a reactive trigger on top.

    Each run of consecutive hours with the same floor becomes a ``cron`` trigger (timezone
    UTC, ``start`` and ``end`` at the run's first hour and the hour after its last,
    ``desiredReplicas`` the floor; a run from 29 February into March is cut at midnight and
    its leap-day part written on a UTC-12 clock, see :func:`_window`). KEDA hands every
    trigger to one HPA, which runs the largest count any trigger asks for. The floors
    therefore act as a minimum, and the reactive trigger scales above them.

    The minimum holds within the HPA's tolerance: by default the HPA leaves the count alone
    while a metric asks for at most 10 % more than runs, so a floor of 742 is met by anything
    from 675 up. ``scale_up_tolerance=0`` sets ``behavior.scaleUp.tolerance`` (Kubernetes
    1.33 and later, with the ``HPAConfigurableTolerance`` feature; the KEDA version must pass
    the field on), so that the HPA scales up to the floor exactly.

    The reactive trigger is a placeholder to adapt:

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
        The Kubernetes namespace of the deployments, an RFC 1123 label.
    deployment_template : str
        The deployment's name (and the ScaledObject's), from ``{region}`` and ``{service}``:
        an RFC 1123 label (``a-z``, ``0-9`` and ``-``, at most 63 characters), a different
        one for each region/service.
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
    scale_up_tolerance : float, optional
        The HPA's tolerance when scaling up, >= 0 (written as a quantity string). Default:
        left out, so the cluster's (0.1) applies.

    Returns
    -------
    str
        YAML documents separated by ``---``, each led by a comment naming its source.

    Raises
    ------
    ParameterError
        When the schedule is empty, a parameter is malformed, a name is one Kubernetes
        refuses (or two region/services get the same one), or a region/service's hours span
        365 days or more.
    """
    frame = check_schedule(schedule)
    for region, service, part in by_pair(frame):
        span = part[TS].iloc[-1] + HOUR - part[TS].iloc[0]
        if span >= KEDA_MAX_DAYS * DAY:
            raise ParameterError(
                f"The 'schedule' parameter spans {span / DAY:g} days for {region}/{service}; "
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
    if scale_up_tolerance is not None and (
        isinstance(scale_up_tolerance, bool)
        or not isinstance(scale_up_tolerance, numbers.Real)
        or not 0 <= scale_up_tolerance < math.inf
    ):
        raise ParameterError(
            "The 'scale_up_tolerance' parameter must be a number >= 0 (0 scales up to every "
            f"floor exactly). Got {scale_up_tolerance!r}."
        )
    names = _check_names(
        [(region, service) for region, service, _ in by_pair(frame)], deployment_template, namespace
    )
    documents = []
    for region, service, part in by_pair(frame):
        name = names[(region, service)]
        floors = part[MIN_SERVERS].astype(np.int64)
        ceiling = max(
            math.ceil(max_replicas_factor * int(floors.max())),
            running.get((region, service), 0),
        )
        triggers: list[dict[str, Any]] = [
            {
                "type": "cron",
                "name": f"floor-{begin:%Y%m%dT%H%MZ}",
                "metadata": dict(
                    zip(("timezone", "start", "end"), _window(begin, end), strict=True),
                    desiredReplicas=str(floor),
                ),
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
            query = from_template(prometheus_query, region, service, "prometheus_query")
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
        behavior: dict[str, Any] = {"scaleDown": scale_down}
        if scale_up_tolerance is not None:
            # a quantity: KEDA's CRD takes it as an integer or a string, not a float
            behavior["scaleUp"] = {"tolerance": f"{scale_up_tolerance:g}"}
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
                "advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior}},
                "triggers": triggers,
            },
        }
        first, last = part[TS].iloc[0], part[TS].iloc[-1]
        header = (
            f"# capacity scaling schedule for {region}/{service}, {iso_utc(first)} to "
            f"{iso_utc(last + HOUR)}.\n"
            f"# cron triggers: the predictive floor; trigger 'reactive' ({trigger}): the "
            "reactive policy on top.\n"
        )
        documents.append(header + yaml.safe_dump(document, sort_keys=False))
    return "---\n".join(documents)
