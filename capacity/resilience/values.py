"""One field of an incident or deploy log, read by the logs' rules (see
:mod:`capacity.resilience.logs`): a text, a name the fleet knows, a timestamp. A bad value raises
:class:`~capacity.errors.DataError` naming the file, the line, what was wrong and a fix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from capacity import records as rec
from capacity.errors import DataError

#: How far past the machine's clock a logged time may lie (clocks and offsets disagree a
#: little); a later time is a typo, such as a wrong year.
_FUTURE_TOLERANCE = pd.Timedelta(days=1)
_ISO_HINT = "write ISO 8601 with a UTC offset, e.g. 2026-12-18T08:00:00+00:00 or 2026-12-18T08:00Z"


def time_zone(tz: str | None) -> ZoneInfo | None:
    """The time zone of naive times, ``tz`` checked; None without one."""
    return rec.zone(
        tz,
        problem="The 'tz' parameter must be an IANA time zone such as 'Europe/Berlin' or "
        f"'UTC'. Got {tz!r}.",
        type_errors=True,
    )


def text_value(value: Any, *, field: str, source: str, where: str) -> str | None:
    """A text value: None when missing; numbers are accepted as their text."""
    if rec.is_missing(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DataError(
            f"{field} {value!r} is not text",
            source=source,
            where=where,
            fix=f"write {field} as plain text",
        )
    return str(value).strip()


def required_text(value: Any, *, field: str, source: str, where: str) -> str:
    """A text value that must be given: :func:`text_value`, refusing an empty one."""
    text = text_value(value, field=field, source=source, where=where)
    if text is None:
        raise DataError(
            f"{field} is empty",
            source=source,
            where=where,
            fix=f"give every row {'an' if field[0] in 'aeiou' else 'a'} {field}",
        )
    return text


def known_name(
    value: Any, *, field: str, known: Collection[str] | None, source: str, where: str
) -> str:
    """A region or service name, refused when ``known`` is given and does not hold it."""
    name = required_text(value, field=field, source=source, where=where)
    if known is not None and name not in known:
        listing = sorted(known)
        raise DataError(
            f"unknown {field} {name!r}",
            source=source,
            where=where,
            fix=f"{rec.suggest(name, listing)}known {field}s are {', '.join(listing)} "
            "(from the fleet config)",
        )
    return name


def timestamp_value(
    value: Any, *, field: str, zone: ZoneInfo | None, source: str, where: str
) -> pd.Timestamp | None:
    """One timestamp by the logs' rule (see :mod:`capacity.resilience.logs`); None when
    missing."""
    if rec.is_missing(value):
        return None
    shown = rec.shown(value)
    parsed: Any = None
    if isinstance(value, str):
        try:
            parsed = rec.parse_iso(value)
        except ValueError:
            parsed = None
    elif isinstance(value, pd.Timestamp):
        parsed = value.to_pydatetime()
    elif isinstance(value, dt.datetime):
        parsed = value
    if not isinstance(parsed, dt.datetime):
        dated = isinstance(value, dt.date) or (
            isinstance(value, str) and rec.DATE_RE.match(value.strip())
        )
        problem = (
            f"{field} {shown!r} is a date without a time"
            if dated
            else f"{field} {shown!r} is not an ISO 8601 date-time"
        )
        raise DataError(problem, source=source, where=where, fix=_ISO_HINT)
    place: dict[str, Any] = {"field": field, "shown": shown, "source": source, "where": where}
    aware = rec.to_aware(
        parsed,
        zone,
        naive_fix="give it a UTC offset (2026-12-18T08:00+01:00 or ...Z), or the time zone "
        "it is in: --tz Europe/Berlin (tz='Europe/Berlin' in Python)",
        **place,
    )
    stamp = rec.utc_timestamp(aware, fix=_ISO_HINT, **place)
    now = pd.Timestamp.now(tz="UTC")
    if stamp > now + _FUTURE_TOLERANCE:
        raise DataError(
            f"{field} {rec.show_ts(stamp)} is in the future (now {rec.show_ts(now.floor('min'))})",
            source=source,
            where=where,
            fix="a log records what happened: check the year and the UTC offset",
        )
    return stamp


def required_timestamp(
    value: Any, *, field: str, zone: ZoneInfo | None, source: str, where: str
) -> pd.Timestamp:
    """A timestamp that must be given: :func:`timestamp_value`, refusing an empty one."""
    stamp = timestamp_value(value, field=field, zone=zone, source=source, where=where)
    if stamp is None:
        raise DataError(f"{field} is empty", source=source, where=where, fix=_ISO_HINT)
    return stamp
