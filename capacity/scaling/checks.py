"""Argument and frame checks shared by the schedule, its exports and the replay.

Each check returns the value in the form the caller computes with (an ``int``, a ``float``,
a UTC timestamp or index) or raises :class:`~capacity.errors.ParameterError` or
:class:`~capacity.errors.DataError` in the package's one voice. ``HOUR`` and ``DAY`` are the
steps every grid here uses; ``EPS`` keeps a load of exactly ``n`` safe loads at ``n`` servers.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from capacity.errors import DataError, ParameterError
from capacity.units import as_utc

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)

# A demand of exactly n safe loads needs n servers, not n + 1 from rounding noise.
EPS = 1e-9


def check_int(value: Any, name: str, minimum: int) -> int:
    """``value`` as an ``int`` when it is a whole number >= ``minimum`` (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ParameterError(
            f"The {name!r} parameter must be an integer >= {minimum}. Got {value!r}."
        )
    return int(value)


def check_positive(value: Any, name: str) -> float:
    """``value`` as a ``float`` when it is a finite number > 0 (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ParameterError(f"The {name!r} parameter must be a positive number. Got {value!r}.")
    return float(value)


def check_fraction(value: Any, name: str) -> float:
    """``value`` as a ``float`` when it is a number in (0, 1] (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not 0 < value <= 1
    ):
        raise ParameterError(f"The {name!r} parameter must be in (0, 1]. Got {value!r}.")
    return float(value)


def instant(value: Any, name: str) -> pd.Timestamp:
    """A UTC timestamp, any minute; naive values are taken as UTC."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = None
    if stamp is None or stamp is pd.NaT:
        raise ParameterError(f"The {name!r} parameter must be a timestamp. Got {value!r}.")
    return as_utc(stamp)


def on_the_hour(value: Any, name: str) -> pd.Timestamp:
    """A UTC timestamp on a whole hour; naive values are taken as UTC."""
    stamp = instant(value, name)
    if stamp != stamp.floor("h"):
        raise ParameterError(
            f"The {name!r} parameter must fall on a whole hour. Got {value!r}.",
            fix=f"use {stamp.floor('h').isoformat()}",
        )
    return stamp


def utc_index(ts: Any, where: str) -> pd.DatetimeIndex:
    """``ts`` as a UTC index; naive times are refused, ``where`` naming their source."""
    index = pd.DatetimeIndex(ts)
    if index.tz is None:
        raise DataError(
            "timestamps are naive; they must carry a time zone (UTC)",
            source=where,
            fix="localise them with .tz_localize('UTC')",
        )
    return index.tz_convert("UTC")


def check_hourly(index: pd.DatetimeIndex, where: str) -> None:
    """Refuse anything but a strictly increasing, gap-free hourly grid."""
    if len(index) < 2:
        return
    steps = index[1:] - index[:-1]
    bad = np.flatnonzero(steps != HOUR)
    if len(bad):
        at = index[bad[0] + 1]
        raise DataError(
            f"the timestamps must be a regular hourly grid; the step before {at.isoformat()} is "
            f"{steps[bad[0]]}",
            source=where,
            fix="give one row per hour, without gaps or duplicates",
        )
