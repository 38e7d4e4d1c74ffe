"""The schedule as EC2 Auto Scaling scheduled actions, and AWS's limit of 125 per group."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from capacity.columns import TS
from capacity.errors import ParameterError
from capacity.scaling.checks import check_int, instant
from capacity.scaling.exports import check_schedule, group_names
from capacity.scaling.floors import MIN_SERVERS, by_pair
from capacity.units import iso_utc

#: EC2 Auto Scaling's quota of scheduled actions per Auto Scaling group; it cannot be raised.
AWS_MAX_SCHEDULED_ACTIONS = 125


#: A scheduled action's name is at most 255 characters (the API's limit); ``-YYYYmmddTHHMMZ``
#: after the prefix takes 15 of them.
ACTION_PREFIX_MAX = 255 - 15


def _check_max_sizes(max_sizes: Mapping[str, int] | None) -> dict[str, int]:
    """``max_sizes`` as a dict of group name to a whole number >= 0."""
    if max_sizes is None:
        return {}
    if not isinstance(max_sizes, Mapping):
        raise ParameterError(
            "The 'max_sizes' parameter must map each Auto Scaling group's name to its MaxSize. "
            f"Got {type(max_sizes).__name__}."
        )
    for group, size in max_sizes.items():
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0:
            raise ParameterError(
                f"The 'max_sizes' parameter must give whole numbers >= 0; {group!r} has {size!r}."
            )
    return {str(group): int(size) for group, size in max_sizes.items()}


def fit_floors(floors: Any, max_changes: int) -> np.ndarray:
    """``floors`` raised where they change least, so that they hold at most ``max_changes`` runs.

    A run is a stretch of consecutive hours with one floor: each is one scheduled action. While
    there are more than ``max_changes``, the two neighbouring runs whose merge costs the fewest
    extra server-hours per action saved become one at the higher of their floors (the earlier
    pair on a tie); a merged run that meets a neighbour of its floor joins it too.
    A floor is only ever raised, so every hour keeps at least its own floor: N+k and the boot
    lead's early rise hold.

    Parameters
    ----------
    floors : array-like of int
        One floor per hour, in time order.
    max_changes : int
        The most runs to keep, >= 1.

    Returns
    -------
    numpy.ndarray
        The floors per hour (``int64``), each at least the one given.

    Raises
    ------
    ParameterError
        When a floor is not a whole number of servers, 0 or more, or ``max_changes`` is not an
        integer of at least 1.
    """
    max_changes = check_int(max_changes, "max_changes", 1)
    try:
        given = np.asarray(floors, dtype=float)
    except (TypeError, ValueError):  # text that is no number
        given = np.full(1, np.nan)
    if (
        given.ndim != 1
        or not (np.isfinite(given) & (given >= 0) & (given == np.round(given))).all()
    ):
        # a cast to int64 truncated 2.7 to 2: a floor lowered, which this never does
        raise ParameterError(
            "The 'floors' parameter must be a sequence of whole numbers of servers, 0 or more. "
            f"Got {floors!r}."
        )
    values = given.astype(np.int64)
    if len(values) == 0:
        return values.copy()
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    level = values[starts]  # one floor per run
    hours = np.diff(np.r_[starts, len(values)])
    while len(level) > max_changes:
        a, b = level[:-1], level[1:]
        top = np.maximum(a, b)
        cost = (top - a) * hours[:-1] + (top - b) * hours[1:]
        # the merged run also joins a neighbour with its floor: one action fewer each
        fewer = np.ones(len(top))
        fewer[1:] += level[:-2] == top[1:]
        fewer[:-1] += level[2:] == top[:-1]
        at = int(np.argmin(cost / fewer))  # the earliest of equals
        first, stop = at, at + 2
        if stop < len(level) and level[stop] == top[at]:
            stop += 1
        if first > 0 and level[first - 1] == top[at]:
            first -= 1
        level = np.r_[level[:first], top[at], level[stop:]]
        hours = np.r_[hours[:first], hours[first:stop].sum(), hours[stop:]]
    return np.repeat(level, hours).astype(np.int64)


#: How long applying an AWS export may take: the CLI leaves out actions that start sooner
#: than this, since AWS refuses a start time already past when it gets the call.
AWS_APPLY_MINUTES = 10


def aws_publish_from(now: pd.Timestamp | None = None) -> pd.Timestamp:
    """The earliest start time an AWS export keeps: ``now`` as given, or else the real time
    plus :data:`AWS_APPLY_MINUTES`.

    Parameters
    ----------
    now : pandas.Timestamp, optional
        The time the actions are put (``schedule --now``).

    Returns
    -------
    pandas.Timestamp
        A UTC time; actions starting before it are left out.
    """
    if now is not None:
        return now
    return pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=AWS_APPLY_MINUTES)


def merged_server_hours(
    schedule: pd.DataFrame,
    groups: Sequence[str],
    group_name_template: str,
    now: pd.Timestamp,
    max_actions: int,
) -> tuple[int, int]:
    """What fitting ``groups`` into ``max_actions`` (:func:`fit_floors`) costs, from ``now`` on.

    Parameters
    ----------
    schedule : pandas.DataFrame
        ``region``, ``service``, ``ts`` and ``min_servers``, as :func:`to_aws_scheduled_actions`
        takes it.
    groups : sequence of str
        The Auto Scaling groups' names, from ``group_name_template``.
    group_name_template : str
        The names' template of ``{region}`` and ``{service}``.
    now : pandas.Timestamp
        The hours before it are not exported, and not counted.
    max_actions : int
        The most actions a group gets.

    Returns
    -------
    tuple of int
        The server-hours the merges add, and the server-hours the groups' floors hold.
    """
    pairs = [(region, service) for region, service, _ in by_pair(schedule)]
    names = group_names(group_name_template, pairs, "group_name_template")
    wanted = set(groups)
    extra = held = 0
    for region, service, part in by_pair(schedule):
        if names[(region, service)] not in wanted:
            continue
        floors = part.loc[part[TS] >= now].sort_values(TS)[MIN_SERVERS].to_numpy(np.int64)
        extra += int((fit_floors(floors, max_actions) - floors).sum())
        held += int(floors.sum())
    return extra, held


def to_aws_scheduled_actions(
    schedule: pd.DataFrame,
    *,
    group_name_template: str = "{region}-{service}",
    action_prefix: str = "capacity-floor",
    max_sizes: Mapping[str, int] | None = None,
    now: Any = None,
    max_actions: int | None = None,
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
    AWS also allows at most :data:`AWS_MAX_SCHEDULED_ACTIONS` (125) per group: with
    ``max_actions``, a group's floors are first raised where they change least
    (:func:`fit_floors`) until it gets no more actions than that. Without it, see
    :func:`aws_groups_over_limit`.

    Parameters
    ----------
    schedule : pandas.DataFrame
        From :func:`schedule`: ``region, service, ts, min_servers``.
    group_name_template : str
        The Auto Scaling group's name, from the fields ``{region}`` and ``{service}``. Two
        region/services may not get the same name, and each must be one AWS accepts: 1 to 255
        ASCII characters from 33 to 126, without ``:``.
    action_prefix : str
        Action names are ``<prefix>-<YYYYmmddTHHMMZ>``, unique within a group; at most
        :data:`ACTION_PREFIX_MAX` (240) characters, so that a name fits AWS's 255. Putting a
        schedule again replaces actions of the same name, but leaves an earlier schedule's
        actions at hours this one has none for: delete those first (docs/scaling.md).
    max_sizes : mapping of str to int, optional
        Each group's current ``MaxSize``, by group name.
    now : timestamp-like, optional
        Leave out the hours before this time (naive values are UTC). Default: keep every hour.
    max_actions : int, optional
        The most actions a group may get, from 1 to 125; its floors are raised (never
        lowered) to fit. Less than 125 leaves room for the group's other scheduled actions.
        Default: one action per change of the floor, however many.

    Returns
    -------
    list of dict
        ``AutoScalingGroupName, ScheduledActionName, StartTime`` (``YYYY-MM-DDThh:mm:ssZ``),
        ``MinSize`` and, where it has to rise, ``MaxSize``; sorted by group, then time. Empty
        when every hour is before ``now``.

    Raises
    ------
    ParameterError
        When the schedule is empty, a parameter is malformed, the template gives a name AWS
        refuses, or it gives two region/services one name.
    """
    frame = check_schedule(schedule)
    if (
        not isinstance(action_prefix, str)
        or not action_prefix
        or len(action_prefix) > ACTION_PREFIX_MAX
    ):
        raise ParameterError(
            f"The 'action_prefix' parameter must be a non-empty string of at most "
            f"{ACTION_PREFIX_MAX} characters (AWS allows 255 in a scheduled action's name, and "
            f"'-YYYYmmddTHHMMZ' takes 15). Got {action_prefix!r}."
        )
    maxima = _check_max_sizes(max_sizes)
    if max_actions is not None and (
        check_int(max_actions, "max_actions", 1) > AWS_MAX_SCHEDULED_ACTIONS
    ):
        raise ParameterError(
            f"The 'max_actions' parameter must be at most {AWS_MAX_SCHEDULED_ACTIONS}, AWS's "
            f"quota of scheduled actions per Auto Scaling group. Got {max_actions!r}."
        )
    pairs = [(region, service) for region, service, _ in by_pair(frame)]
    names = group_names(group_name_template, pairs, "group_name_template")
    if now is not None:
        cut = instant(now, "now")
        frame = frame[frame[TS] >= cut]
    actions: list[dict[str, Any]] = []
    for region, service, part in by_pair(frame):
        group = names[(region, service)]
        top = maxima.get(group)
        previous = None
        floors = part[MIN_SERVERS].to_numpy(dtype=np.int64)
        if max_actions is not None:
            floors = fit_floors(floors, max_actions)
        for ts, floor in zip(part[TS], floors, strict=True):
            if floor == previous:
                continue
            action: dict[str, Any] = {
                "AutoScalingGroupName": group,
                "ScheduledActionName": f"{action_prefix}-{ts:%Y%m%dT%H%MZ}",
                "StartTime": iso_utc(ts),
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
    limit = check_int(limit, "limit", 1)
    starts: dict[str, list[pd.Timestamp]] = {}
    for action in actions:
        group = action["AutoScalingGroupName"]
        starts.setdefault(group, []).append(pd.Timestamp(action["StartTime"]))
    return {
        group: (len(times), sorted(times)[limit])
        for group, times in sorted(starts.items())
        if len(times) > limit
    }
