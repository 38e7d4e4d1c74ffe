"""The calendar's timestamp rule applied to one value (``_to_utc``; the rule is in the
:mod:`capacity.calendar` docstring), the ``tz`` a user gives checked, and the iCalendar
expansion window given in ``tz`` or UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from capacity import records as rec
from capacity.errors import DataError, ParameterError

_ISO_HINT = "write ISO 8601, e.g. 2026-12-18, 2026-12-18T08:00Z or 2026-12-18T08:00+01:00"


def _zone(tz: str | None) -> ZoneInfo | None:
    return rec.zone(
        tz,
        problem=f"unknown time zone {tz!r}",
        fix="use an IANA name such as 'Europe/Berlin' or 'UTC'",
    )


def _window(
    window: tuple[pd.Timestamp, pd.Timestamp] | None, zone: ZoneInfo | None
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if window is None:
        return None
    try:
        first, last = (pd.Timestamp(w) for w in window)
    except (TypeError, ValueError):
        raise ParameterError(f"ics_window must be two timestamps; got {window!r}") from None
    first, last = (
        (t.tz_localize(zone or dt.UTC) if t.tzinfo is None else t).tz_convert("UTC")
        for t in (first, last)
    )
    if last <= first:
        raise ParameterError(
            f"ics_window ends ({last}) before it starts ({first})",
            fix="give (start, end) with end after start",
        )
    return first, last


def _to_utc(
    value: Any,
    *,
    field: str,
    zone: ZoneInfo | None,
    source: str,
    where: str,
    inclusive_end: bool = False,
) -> pd.Timestamp:
    """Apply the module's timestamp rule to one value; see the module docstring."""
    if rec.is_missing(value):
        raise DataError(f"{field} is empty", source=source, where=where, fix=_ISO_HINT)
    shown = rec.shown(value)
    parsed: dt.date
    if isinstance(value, str):
        try:
            parsed = rec.parse_iso(value)
        except ValueError:
            raise DataError(
                f"{field} {shown!r} is not a date or date-time",
                source=source,
                where=where,
                fix=_ISO_HINT,
            ) from None
    elif isinstance(value, pd.Timestamp):
        parsed = value.to_pydatetime()
    elif isinstance(value, np.datetime64):
        parsed = pd.Timestamp(value).to_pydatetime()
    elif isinstance(value, dt.date):
        parsed = value
    else:
        raise DataError(
            f"{field} {value!r} is not a date or date-time",
            source=source,
            where=where,
            fix=_ISO_HINT,
        )

    place: dict[str, Any] = {"field": field, "shown": shown, "source": source, "where": where}
    if isinstance(parsed, dt.datetime):
        parsed = rec.to_aware(
            parsed,
            zone,
            naive_fix="give it a UTC offset (2026-12-18T08:00+01:00, ...Z, or a TZID in "
            "iCalendar), or the time zone it is in: --tz Europe/Berlin (tz='Europe/Berlin' "
            "in Python)",
            **place,
        )
    else:
        day = parsed + dt.timedelta(days=1) if inclusive_end else parsed
        # fold=0: a midnight that is skipped maps to the first instant of the day.
        parsed = dt.datetime(day.year, day.month, day.day, tzinfo=zone or dt.UTC)
    return rec.utc_timestamp(parsed, fix=_ISO_HINT, **place)
