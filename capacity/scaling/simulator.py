"""The replay simulator: :func:`simulate` runs a policy hour by hour over actual demand and
scores it in a :class:`SimulationResult`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from capacity.columns import TS
from capacity.errors import ParameterError
from capacity.headroom import servers_for
from capacity.scaling.checks import EPS, check_hourly, check_positive, on_the_hour
from capacity.scaling.floors import DEMAND
from capacity.scaling.policies import (
    Policy,
    PredictivePolicy,
    ReactivePolicy,
    StaticPolicy,
    policy_name,
)


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
    check_hourly(index, "demand")
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
    safe_load = check_positive(safe_load, "safe_load")
    if not isinstance(policy, StaticPolicy | ReactivePolicy | PredictivePolicy):
        raise ParameterError(
            "The 'policy' parameter must be a StaticPolicy, ReactivePolicy or PredictivePolicy. "
            f"Got {type(policy).__name__}."
        )
    index = series.index
    first = index[0] if start is None else on_the_hour(start, "start")
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
            floor = np.ceil(np.nan_to_num(aligned, nan=0.0) - EPS)
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
        policy=policy_name(policy),
        hours=len(ts),
        server_hours=int(count.sum()),
        under_provisioned_hours=int(under.sum()),
        worst_shortfall=int(shortfall.max()) if len(shortfall) else 0,
        mean_utilisation=float(finite.mean()) if len(finite) else math.nan,
        hourly=hourly,
    )
