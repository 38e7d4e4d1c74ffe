"""The scaling policies a replay runs: static, reactive, and predictive (floors + reactive).

Each policy is a frozen dataclass checked when made; :data:`Policy` is any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from capacity.errors import ParameterError
from capacity.scaling.checks import check_fraction, check_int


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
        check_int(self.servers, "servers", 1)


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
        check_fraction(self.target_utilisation, "target_utilisation")
        check_int(self.delay_hours, "delay_hours", 0)
        check_int(self.cooldown_hours, "cooldown_hours", 0)
        check_fraction(self.scale_in_step, "scale_in_step")
        check_int(self.min_servers, "min_servers", 1)


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


#: Any of the three policies, as :func:`capacity.scaling.simulate` takes them.
Policy = StaticPolicy | ReactivePolicy | PredictivePolicy


def policy_name(policy: Policy) -> str:
    """``static``, ``reactive`` or ``predictive``: what a result calls the policy."""
    return {StaticPolicy: "static", ReactivePolicy: "reactive", PredictivePolicy: "predictive"}[
        type(policy)
    ]
