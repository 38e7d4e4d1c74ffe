"""Parsing of what users type for durations (``1h``, ``28d``, ``PT1H``) and moments, and
moments as the commands' JSON writes them."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from capacity.errors import ParameterError, the_parameter

__all__ = ["as_utc", "iso_utc", "parse_duration", "parse_timestamp"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(w|d|h|min|m|s)\s*$", re.IGNORECASE)
#: ISO 8601 dates and times: 2026-11-23, 2026-11-23T14:00, 2026-11-23 14:00:00.5+01:00, ...Z.
_ISO_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d+)?)?)?)?"
    r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "min": "minutes", "m": "minutes", "s": "seconds"}
#: The longest duration read: two centuries. Longer ones mean nothing to a capacity plan, and
#: pandas cannot add much longer ones to today's date (its timestamps end in 2262).
MAX_DURATION = pd.Timedelta(days=73050)


def parse_duration(
    value: str | pd.Timedelta, name: str, *, allow_zero: bool = False
) -> pd.Timedelta:
    """Read a positive duration (or zero, when ``allow_zero``).

    Parameters
    ----------
    value : str or Timedelta
        A number and a unit (``w``, ``d``, ``h``, ``min`` or ``m``, ``s``), an ISO 8601
        duration (``PT1H``), or a Timedelta.
    name : str
        The parameter's name, for the error message; a command-line option (``"--wait"``) is
        named as ``The 'wait' parameter (--wait)``.
    allow_zero : bool
        Accept a zero duration (``0``, ``0s``, ``0h``, ``PT0S``), for a parameter where zero
        means "not at all". A bare ``0`` has no unit but needs none.

    Returns
    -------
    pandas.Timedelta

    Raises
    ------
    ParameterError
        When the value is not a positive duration (or zero, when ``allow_zero``), or is
        longer than :data:`MAX_DURATION`.
    """
    duration: pd.Timedelta | None = None
    too_long = False
    label = the_parameter(name)
    if allow_zero and isinstance(value, str) and value.strip() == "0":
        return pd.Timedelta(0)
    if isinstance(value, pd.Timedelta):
        duration = value
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            if match.group(2) == "M":  # a month to many readers, a minute to pandas
                raise ParameterError(
                    f"{label} has the unit 'M', which may mean months or minutes. Got {value!r}.",
                    fix=f"write minutes as 'min' (e.g. '{match.group(1)}min') and months as days",
                )
            number, unit = float(match.group(1)), _UNITS[match.group(2).lower()]
            try:
                duration = pd.Timedelta(**{unit: number})
            except (OverflowError, ValueError):  # OutOfBoundsTimedelta is a ValueError
                too_long = True
        elif value.strip().upper().startswith("P"):
            try:
                duration = pd.Timedelta(value.strip().upper())
            # pandas 2 raises OutOfBoundsDatetime for an ISO duration too long to hold
            except (pd.errors.OutOfBoundsTimedelta, pd.errors.OutOfBoundsDatetime):
                too_long = True
            except (OverflowError, ValueError):
                duration = None
    if too_long or (duration is not None and duration > MAX_DURATION):
        raise ParameterError(
            f"{label} must be at most {MAX_DURATION.days} days (two centuries). Got {value!r}.",
            fix="give a shorter duration",
        )
    if (
        duration is None
        or duration < pd.Timedelta(0)
        or (duration == pd.Timedelta(0) and not allow_zero)
    ):
        kind = "a positive duration (or 0)" if allow_zero else "a positive duration"
        zero = ", or 0 for none" if allow_zero else ""
        raise ParameterError(
            f"{label} must be {kind} such as '1h', '15min', '28d' or '2w'. Got {value!r}.",
            fix="write a number and a unit ('w' weeks, 'd' days, 'h' hours, 'min' minutes, "
            f"'s' seconds): '56d' for 56 days{zero}",
        )
    return duration


def parse_timestamp(value: object, name: str) -> pd.Timestamp:
    """Read a moment as UTC; a naive value is taken as UTC.

    Parameters
    ----------
    value : timestamp-like
        An ISO 8601 string (``2026-11-23``, ``2026-11-23T14:00Z``, ``2026-11-23 15:00+01:00``),
        ``"now"`` or ``"today"`` (in UTC), a ``datetime`` or a Timestamp. Numbers are refused
        (they have no unit), and so are other spellings such as ``01/02/2026``, which reads
        as January in one country and February in the next.
    name : str
        The parameter's name, for the error message; a command-line option (``"--now"``) is
        named as ``The 'now' parameter (--now)``.

    Returns
    -------
    pandas.Timestamp
        Tz-aware, in UTC.

    Raises
    ------
    ParameterError
        When the value is not a timestamp.
    """
    if isinstance(value, str) and value.strip().lower() in ("now", "today"):
        # pandas reads these as the machine's local wall clock, without a zone
        now = pd.Timestamp.now("UTC")
        return now if value.strip().lower() == "now" else now.floor("D")
    # pandas would read a number as nanoseconds, and 01/02/2026 month-first
    unreadable = isinstance(value, (int, float)) or (
        isinstance(value, str) and not _ISO_TIME.match(value.strip())
    )
    if unreadable:
        stamp = pd.NaT
    else:
        try:
            stamp = pd.Timestamp(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            stamp = pd.NaT
    if stamp is pd.NaT:
        raise ParameterError(
            f"{the_parameter(name)} must be an ISO 8601 time such as 2026-11-23T00:00Z "
            f"(or a date, 2026-11-23). Got {value!r}.",
            fix="write the date as year-month-day, 2026-11-23, with the hour after a T when it "
            "matters (2026-11-23T14:00Z, UTC; +01:00 for another offset), or 'now' or 'today'",
        )
    return as_utc(stamp)


def as_utc(moment: pd.Timestamp) -> pd.Timestamp:
    """``moment`` in UTC; a naive one is taken to be UTC already.

    Parameters
    ----------
    moment : pandas.Timestamp

    Returns
    -------
    pandas.Timestamp
        Tz-aware, in UTC.
    """
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def iso_utc(moment: dt.datetime) -> str:
    """``moment`` as ISO 8601 in UTC with ``Z``, as the CSV outputs write times.

    Parameters
    ----------
    moment : datetime.datetime or pandas.Timestamp
        A time; a naive one is taken to be UTC already.

    Returns
    -------
    str
        ``2026-11-20T10:58:00Z`` (fractions of a second kept when there are any).
    """
    text = as_utc(pd.Timestamp(moment)).isoformat()
    return text.removesuffix("+00:00") + "Z"


def duration_text(duration: pd.Timedelta) -> str:
    """``duration`` as the options take it, in the largest unit that divides it: ``90min``,
    ``2h``, ``7d`` (seconds otherwise).

    Parameters
    ----------
    duration : pandas.Timedelta

    Returns
    -------
    str
    """
    seconds = duration.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
