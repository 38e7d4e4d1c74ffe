"""The predictive-scaling schedule: hourly floors per region/service, raised ahead of demand.

:func:`schedule` and the rule it applies (:func:`boot_lead_hours`, :func:`ahead_max`), the
schedule's column names, and :func:`by_pair`, which walks a frame one region/service at a time.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from capacity.columns import REGION, SERVICE, TS
from capacity.config import FleetConfig
from capacity.errors import DataError, ParameterError
from capacity.frames import require_columns
from capacity.scaling.checks import EPS, HOUR, check_hourly, check_int, on_the_hour, utc_index

#: The floor column of a schedule: the fewest servers to run in that hour.
MIN_SERVERS = "min_servers"
DEMAND = "demand"
SAFE_LOAD = "safe_load"
NEEDED = "needed"
SCHEDULE_COLUMNS = (REGION, SERVICE, TS, MIN_SERVERS, DEMAND, SAFE_LOAD)

_USES = ("needed_nk", "required")
_KEY = [REGION, SERVICE]


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
    return math.ceil(minutes / 60 - EPS) if minutes > 0 else 0


def ahead_max(values: np.ndarray, lead: int) -> np.ndarray:
    """``out[i] = max(values[i : i + lead + 1])``, the window cut at the end of the array."""
    values = np.asarray(values, dtype=float)
    if lead == 0 or len(values) == 0:
        return values.copy()
    reverse = pd.Series(values[::-1]).rolling(lead + 1, min_periods=1).max()
    return reverse.to_numpy()[::-1].copy()


def by_pair(frame: pd.DataFrame) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """``(region, service, rows)`` for each region/service of ``frame``, sorted, rows by time."""
    for (region, service), part in frame.groupby(_KEY, sort=True):
        yield str(region), str(service), part.sort_values(TS)


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
        hours = check_int(hours, "hours", 1)
    first = on_the_hour(start, "start") if start is not None else None
    unknown = sorted(set(need[SERVICE].astype(str)) - set(fleet.services))
    if unknown:
        raise ParameterError(
            f"The 'need' parameter names services the fleet does not have: {', '.join(unknown)}."
        )
    k, minimum = fleet.redundancy.k, fleet.redundancy.min_servers
    parts = []
    for region, service, part in by_pair(need):
        where = f"need ({region}/{service})"
        ts = utc_index(part[TS], where)
        check_hourly(ts, where)
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
        floor = ahead_max(requirement, lead)
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
        keep &= frame[TS] < begin + hours * HOUR
    frame = frame[keep].reset_index(drop=True)
    if frame.empty:
        raise ParameterError(
            f"The 'start' parameter leaves no hour to schedule: need ends at "
            f"{need[TS].max()}. Got {start!r}."
        )
    return frame
