"""Calendars in iCalendar (``.ics``): each VEVENT's fields and span, repeating events
expanded with :mod:`recurring_ical_events` over a window that reaches the weeks ahead,
cancelled events and occurrences left out, RRULEs and TZIDs checked. An RRULE repeating more
often than hourly, or more than :data:`ICS_MAX_OCCURRENCES` times before the window ends, is
refused before it is expanded."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from capacity import records as rec
from capacity.calendar.fields import _END, _KIND_FROM, _START, _Raw
from capacity.calendar.times import _to_utc
from capacity.columns import EVENT_ID, EXPECTED_UPLIFT, KIND, NAME, NOTES, REGIONS
from capacity.errors import DataError

#: Days after the latest DTSTART that the default iCalendar window reaches.
ICS_DEFAULT_HORIZON_DAYS = 400

#: The most occurrences one repeating event may have from its DTSTART to the end of the
#: window: an hourly rule over the default window has under 9,700. Counted before the event is
#: expanded, and no further than one past this.
ICS_MAX_OCCURRENCES = 10_000


def _cancelled(component: Any) -> bool:
    """Whether an iCalendar component says it will not happen (``STATUS:CANCELLED``)."""
    status = _ics_text(component, "STATUS")
    return status is not None and status.strip().upper() == "CANCELLED"


def _ics_text(component: Any, key: str) -> str | None:
    value = component.get(key)
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    return str(value)


def _ics_kind(component: Any) -> tuple[str, str | None]:
    """The kind of a VEVENT and the property it came from (None for the default)."""
    kind = _ics_text(component, "X-CAPACITY-KIND")
    if kind is not None:
        return kind, "X-CAPACITY-KIND"
    categories = component.get("CATEGORIES")
    if categories is not None:
        first = categories[0] if isinstance(categories, list) else categories
        cats = getattr(first, "cats", None)
        if cats:
            return str(cats[0]), "CATEGORIES"
        if not isinstance(first, list | tuple):
            return str(first), "CATEGORIES"
    return "other", None


def _ics_time(component: Any, key: str, *, source: str, where: str) -> Any:
    """The ``.dt`` of a date/time property, None when absent; broken values raise DataError."""
    prop = component.get(key)
    if prop is None:
        return None
    field = {"DTSTART": "start", "DTEND": "end"}.get(key, key)
    try:
        value = prop.dt
    except (ValueError, AttributeError):
        raise DataError(
            f"{field} ({key}) {str(prop)!r} is not a date or date-time",
            source=source,
            where=where,
            fix="write it as 20261218 or 20261218T080000Z",
        ) from None
    tzid = getattr(prop, "params", {}).get("TZID")
    if tzid and isinstance(value, dt.datetime) and value.tzinfo is None:
        # icalendar leaves a time naive when it cannot resolve its TZID: not a floating time
        from zoneinfo import available_timezones

        raise DataError(
            f"{field} ({key}) has TZID {str(tzid)!r}, which is no known time zone and has no "
            "VTIMEZONE in the file",
            source=source,
            where=where,
            fix=f"{rec.suggest(str(tzid), sorted(available_timezones()))}write an IANA name "
            "such as Europe/Berlin, or add the VTIMEZONE that defines it",
        )
    return value


def _ics_span(
    component: Any, *, source: str, where: str, zone: ZoneInfo | None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC start and end of one VEVENT (or one occurrence of it)."""
    start = _ics_time(component, "DTSTART", source=source, where=where)
    if start is None:
        raise DataError(
            "has no DTSTART", source=source, where=where, fix="give every VEVENT a DTSTART"
        )
    end = _ics_time(component, "DTEND", source=source, where=where)
    if end is None:
        duration = _ics_time(component, "DURATION", source=source, where=where)
        if duration is not None:
            end = start + duration
        elif isinstance(start, dt.datetime):
            raise DataError(
                "has a start time but no DTEND or DURATION",
                source=source,
                where=where,
                fix="add DTEND or DURATION (a timed event needs a length)",
            )
        else:
            end = start + dt.timedelta(days=1)
    start_ts = _to_utc(start, field="start", zone=zone, source=source, where=where)
    # A date DTEND is already exclusive in iCalendar: midnight at its start, not at its end.
    end_ts = _to_utc(end, field="end", zone=zone, source=source, where=where)
    return start_ts, end_ts


#: The X-CAPACITY- properties a VEVENT may carry; any other is a typo that would drop a value.
_X_CAPACITY = ("X-CAPACITY-KIND", "X-CAPACITY-REGIONS", "X-CAPACITY-UPLIFT")


def _check_x_capacity(component: Any, *, source: str, where: str) -> None:
    """Refuse an ``X-CAPACITY-`` property capacity does not read (``X-CAPACITY-UPLFT``, or a
    ``X-CAPACITY-SERVICE``): left unread, the event would silently lose what it says."""
    for key in component:
        name = str(key).upper()
        if name.startswith("X-CAPACITY-") and name not in _X_CAPACITY:
            raise DataError(
                f"unknown property {name!r}; capacity reads {', '.join(_X_CAPACITY)} (an "
                "event applies to every service of its regions)",
                source=source,
                where=where,
                fix=f"{rec.suggest(name, _X_CAPACITY)}rename it to one of those, or remove it",
            )


def _ics_values(component: Any) -> dict[str, Any]:
    regions = _ics_text(component, "X-CAPACITY-REGIONS")
    if regions is None:
        regions = _ics_text(component, "LOCATION")
    kind, kind_from = _ics_kind(component)
    return {
        EVENT_ID: _ics_text(component, "UID"),
        NAME: _ics_text(component, "SUMMARY"),
        KIND: kind,
        _KIND_FROM: kind_from,
        REGIONS: regions,
        EXPECTED_UPLIFT: _ics_text(component, "X-CAPACITY-UPLIFT"),
        NOTES: _ics_text(component, "DESCRIPTION"),
    }


#: The frequencies an RRULE may name (RFC 5545, 3.3.10).
_FREQUENCIES = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")

#: Valid frequencies no live-ops event repeats at: over the default window, one such rule
#: stands for over half a million events (MINUTELY) or over thirty million (SECONDLY).
_TOO_OFTEN = {"SECONDLY": "second", "MINUTELY": "minute"}


def _rrules(component: Any) -> list[Any]:
    """The RRULE values of a VEVENT (``icalendar.vRecur``), however many it has."""
    values = component.get("RRULE")
    return [value for value in (values if isinstance(values, list) else [values]) if value]


def _rrule_text(value: Any) -> str:
    text = value.to_ical()
    return text.decode() if isinstance(text, bytes) else str(text)


def _check_rrules(component: Any, *, source: str, where: str) -> None:
    """Refuse an RRULE whose FREQ is missing or no frequency, in the calendar's words (the
    library's own message for ``FREQ=SOMETIMES`` is "UNTIL parameter is missing"), and one
    repeating every second or minute, before anything is expanded."""
    for value in _rrules(component):
        text = _rrule_text(value)
        parts = dict(part.partition("=")[::2] for part in text.upper().split(";") if part)
        freq = parts.get("FREQ", "").strip()
        if freq not in _FREQUENCIES:
            got = f"not {freq!r}" if freq else "and it has none"
            raise DataError(
                f"RRULE {text!r} is not a valid recurrence rule: FREQ must be one of "
                f"{', '.join(_FREQUENCIES)}, {got}",
                source=source,
                where=where,
                fix="write e.g. RRULE:FREQ=WEEKLY;BYDAY=TU, or drop the RRULE for a one-off event",
            )
        if freq in _TOO_OFTEN:
            raise DataError(
                f"RRULE {text!r} repeats the event every {_TOO_OFTEN[freq]}: live-ops events "
                f"repeat at most hourly, and expanding it would make one event per "
                f"{_TOO_OFTEN[freq]}",
                source=source,
                where=where,
                fix="write FREQ=HOURLY or slower (e.g. RRULE:FREQ=DAILY;BYHOUR=10), or one "
                "event for the whole span",
            )


def _unexpandable(exc: Exception, *, source: str, where: str) -> DataError:
    """The error for a repeating event that dateutil or the library cannot expand."""
    return DataError(
        f"cannot expand the repeating event: {exc}",
        source=source,
        where=where,
        fix="check its RRULE, RDATE and EXDATE",
    )


def _naive_utc(value: dt.date | dt.datetime, *, end_of_day: bool = False) -> dt.datetime:
    """A DTSTART or UNTIL as a naive UTC datetime, for counting occurrences (a date is its
    first or, with ``end_of_day``, its last second; a floating time is taken as UTC)."""
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time.max if end_of_day else dt.time.min)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _check_occurrences(component: Any, *, stop: pd.Timestamp, source: str, where: str) -> None:
    """Refuse a repeating event whose RRULEs give more than :data:`ICS_MAX_OCCURRENCES`
    occurrences from its DTSTART to ``stop``, before the library builds them all in one list.

    The occurrences are counted one at a time, and no further than one past the cap: an hourly
    rule whose BYMINUTE fills each hour, or an INTERVAL=0 that never moves on, is refused in
    milliseconds."""
    from dateutil.rrule import rrulestr

    start = _naive_utc(_ics_time(component, "DTSTART", source=source, where=where))
    last = stop.tz_convert("UTC").tz_localize(None).to_pydatetime()
    count = 0
    for value in _rrules(component):
        text = _rrule_text(value)
        # UNTIL is applied here, so that a date, UTC or local UNTIL all compare with DTSTART
        rule = ";".join(p for p in text.split(";") if p and not p.upper().startswith("UNTIL="))
        untils = value.get("UNTIL") if isinstance(value, dict) else None
        end = min((_naive_utc(u, end_of_day=True) for u in untils or []), default=last)
        end = min(end, last)
        try:
            occurrences = iter(rrulestr(rule, dtstart=start))
        except (ValueError, TypeError) as exc:
            raise _unexpandable(exc, source=source, where=where) from None
        for occurrence in occurrences:
            if occurrence > end:
                break
            count += 1
            if count > ICS_MAX_OCCURRENCES:
                raise DataError(
                    f"RRULE {text!r} repeats the event more than {ICS_MAX_OCCURRENCES:,} times "
                    f"between its DTSTART ({start:%Y-%m-%d %H:%M}Z) and "
                    f"{last:%Y-%m-%d}, the end of the window read",
                    source=source,
                    where=where,
                    fix="end the RRULE sooner with UNTIL or COUNT, or repeat it less often "
                    "(a larger INTERVAL or a slower FREQ)",
                )


def _ics_records(
    data: bytes,
    *,
    source: str,
    zone: ZoneInfo | None,
    window: tuple[pd.Timestamp, pd.Timestamp] | None,
) -> list[_Raw]:
    import icalendar
    import recurring_ical_events

    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except ValueError as exc:
        raise DataError(
            f"not a valid iCalendar file: {exc}",
            source=source,
            fix="export the calendar again as .ics",
        ) from None
    upper = data.upper()
    if not calendars and b"BEGIN:VCALENDAR" in upper and b"END:VCALENDAR" not in upper:
        raise DataError(
            "the file ends inside its calendar (BEGIN:VCALENDAR without END:VCALENDAR): it "
            "looks cut short",
            source=source,
            fix="copy or export the calendar again",
        )
    if not calendars:
        raise DataError(
            "no VCALENDAR found",
            source=source,
            fix="the file must hold BEGIN:VCALENDAR ... END:VCALENDAR",
        )
    events = [ev for cal in calendars for ev in cal.walk("VEVENT")]

    def where_of(number: int, component: Any) -> str:
        name = _ics_text(component, "SUMMARY")
        return f"event {number} ({name.strip()!r})" if name and name.strip() else f"event {number}"

    recurring_uids = {_ics_text(ev, "UID") for ev in events if "RRULE" in ev or "RDATE" in ev}
    singles: list[_Raw] = []
    series: list[tuple[str, Any, list[Any]]] = []
    starts: list[pd.Timestamp] = []
    for number, ev in enumerate(events, start=1):
        where = where_of(number, ev)
        _check_x_capacity(ev, source=source, where=where)
        uid = _ics_text(ev, "UID")
        repeats = "RRULE" in ev or "RDATE" in ev
        if not repeats and "RECURRENCE-ID" in ev and uid is not None and uid in recurring_uids:
            continue  # an edited occurrence: expanded with its series
        if _cancelled(ev):
            continue  # a cancelled event (its occurrences, if it repeats) will not happen
        start, end = _ics_span(ev, source=source, where=where, zone=zone)
        starts.append(start)
        if repeats:
            _check_rrules(ev, source=source, where=where)
            overrides = [
                other
                for other in events
                if other is not ev
                and "RECURRENCE-ID" in other
                and uid is not None
                and _ics_text(other, "UID") == uid
            ]
            series.append((where, ev, overrides))
        else:
            singles.append(_Raw(where, {**_ics_values(ev), _START: start, _END: end}))

    records = singles
    if series:
        horizon = pd.Timedelta(days=ICS_DEFAULT_HORIZON_DAYS)
        # a series in force reaches the weeks ahead however long ago it began
        latest = max(max(starts), pd.Timestamp.now(tz="UTC").floor("D"))
        first, last = window if window is not None else (min(starts), latest + horizon)
        margin = pd.Timedelta(days=2)
        for where, master, overrides in series:
            _check_occurrences(master, stop=last + margin, source=source, where=where)
            calendar = icalendar.Calendar()
            for component in (master, *overrides):
                calendar.add_component(component)
            try:
                occurrences = recurring_ical_events.of(calendar).between(
                    (first - margin).to_pydatetime(), (last + margin).to_pydatetime()
                )
            except (ValueError, TypeError) as exc:
                raise _unexpandable(exc, source=source, where=where) from None
            uid = _ics_text(master, "UID")
            for occurrence in occurrences:
                if _cancelled(occurrence):
                    continue  # one occurrence cancelled (RECURRENCE-ID with STATUS:CANCELLED)
                start, end = _ics_span(occurrence, source=source, where=where, zone=zone)
                if not first <= start <= last:
                    continue
                values = {**_ics_values(occurrence), _START: start, _END: end}
                values[EVENT_ID] = f"{uid}@{start:%Y%m%dT%H%MZ}" if uid else None
                records.append(_Raw(f"{where} on {start:%Y-%m-%d %H:%MZ}", values))
    return records
