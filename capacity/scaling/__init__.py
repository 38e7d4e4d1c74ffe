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

**Where the code lives.** This package's ``__init__`` only gathers the names; each module
holds one part, and the imports run one way (top to bottom in this list):

- ``checks``: argument and frame checks shared by the parts;
- ``floors``: :func:`schedule`, :func:`boot_lead_hours`, the schedule's columns;
- ``exports``: what the exports share (names from a template, ISO times) and the CSV;
- ``aws``: the EC2 Auto Scaling scheduled actions and AWS's limit per group;
- ``policies``: the three policies;
- ``keda``: the KEDA ``ScaledObject`` YAML (its reactive trigger follows a ``ReactivePolicy``);
- ``simulator``: :func:`simulate` and :class:`SimulationResult`;
- ``replay_floors``: the replay's rolling forecasts, floors and expected load.

``__all__`` is what the module listed before it became a package; the schedule's column
names (``MIN_SERVERS``, ``DEMAND``, ...), ``CUTOFF`` and ``Policy`` are importable from
here as before.
"""

from __future__ import annotations

from capacity.scaling.aws import (
    AWS_MAX_SCHEDULED_ACTIONS,
    aws_groups_over_limit,
    to_aws_scheduled_actions,
)
from capacity.scaling.exports import group_names, to_csv_text
from capacity.scaling.floors import DEMAND as DEMAND
from capacity.scaling.floors import MIN_SERVERS, boot_lead_hours, schedule
from capacity.scaling.floors import NEEDED as NEEDED
from capacity.scaling.floors import SAFE_LOAD as SAFE_LOAD
from capacity.scaling.floors import SCHEDULE_COLUMNS as SCHEDULE_COLUMNS
from capacity.scaling.keda import KEDA_MAX_DAYS, check_keda_names, to_keda_yaml
from capacity.scaling.policies import Policy as Policy
from capacity.scaling.policies import PredictivePolicy, ReactivePolicy, StaticPolicy
from capacity.scaling.replay_floors import CUTOFF as CUTOFF
from capacity.scaling.replay_floors import (
    expected_load,
    floors_from_forecasts,
    predictive_floors,
    quantile_values,
    rolling_forecasts,
)
from capacity.scaling.simulator import SimulationResult, simulate

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
    "check_keda_names",
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
