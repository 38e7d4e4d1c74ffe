"""The live-ops calendar: events read from CSV, YAML or iCalendar files.

:func:`read_calendar` reads one file, :func:`read_calendars` several, and
:func:`validate_events` checks a frame built by hand. All three return a frame with exactly the
columns :data:`capacity.columns.EVENT_COLUMNS`, one row per event, sorted by ``start_ts`` then
``event_id``:

``event_id`` (str), ``name`` (str), ``kind`` (str, lower-case), ``start_ts`` and ``end_ts``
(``datetime64[us, UTC]``; the event covers ``[start_ts, end_ts)``), ``regions`` (a sorted list of
region names, or ``["all"]``), ``expected_uplift`` (float multiplier of normal demand, NaN when
absent), ``notes`` (str or None) and ``source`` (the file's name).

Formats
-------
The format is picked by the file extension: ``.csv``, ``.yaml``/``.yml`` or ``.ics``.

* CSV: columns ``name, kind, start, end`` are required, ``event_id, regions, expected_uplift,
  notes`` optional (``start_ts``/``end_ts`` are accepted for ``start``/``end``). Header names are
  matched case-insensitively, ignoring surrounding spaces; inner spaces count as ``_``. Unknown
  columns are refused, so a misspelt optional column is not silently dropped.
* YAML: a list of mappings, or a mapping whose only key ``events`` holds that list; the same
  field names as CSV. ``regions`` may be a list or a string. ``event_id``, ``name`` and
  ``notes`` are kept as written, never read as numbers (``0012`` stays ``'0012'``).
* iCalendar: SUMMARY is the name; the kind comes from ``X-CAPACITY-KIND``, else the first
  CATEGORIES value, else ``"other"``; regions from ``X-CAPACITY-REGIONS``, else LOCATION, else
  all; ``X-CAPACITY-UPLIFT`` is the uplift and DESCRIPTION the notes; the UID is the event id.
  Repeating events (RRULE/RDATE) are expanded with :mod:`recurring_ical_events`: every
  occurrence starting inside ``ics_window`` (default: from the earliest DTSTART to 400 days after
  the latest DTSTART or after today, whichever is later, so that a weekly maintenance begun
  years ago still reaches the weeks ahead) becomes an event whose id is
  ``UID@YYYYMMDDTHHMMZ`` (its UTC start). Events that do not repeat are kept whatever the
  window. An event or occurrence with ``STATUS:CANCELLED`` is left out. ``X-WR-TIMEZONE`` is
  ignored. A TZID that is neither a known time zone nor defined by a VTIMEZONE is refused.

Regions are written as names separated by ``;`` (or ``,`` or ``|``), or as ``all``; a missing or
empty value means all regions.

Timestamps
----------
One rule for every format, every value ends up in UTC:

* a date-time with a UTC offset or ``Z`` (``2026-12-18T08:00+01:00``) is exact;
* a date-only value (``2026-12-18``) names a whole day, starting at midnight in ``tz`` when it is
  given, else in UTC. A date-only *end* in CSV/YAML includes that day: the event ends at the
  following midnight. In iCalendar an all-day event spans its days as RFC 5545 defines them
  (DTEND is the first day *after* the event; without DTEND or DURATION it lasts one day);
* a naive date-time (``2026-12-18 08:00``; an iCalendar floating time) is ambiguous and refused
  unless ``tz`` is given, in which case it is read as wall-clock time in ``tz``; a time that does
  not exist there (clocks going forward) or occurs twice (clocks going back) is refused.

Text values must be ISO 8601. Within one file, or across files given to :func:`read_calendars`,
two events with the same ``event_id`` must be identical; identical copies are collapsed into one.
When a CSV or YAML event has no ``event_id``, a stable one is derived from its content:
``<kind>-<YYYYMMDD of UTC start>-<first 8 hex digits of a SHA-1 of the event>``.

Every problem raises :class:`~capacity.errors.DataError` naming the file, the row (``line N`` in
CSV, the header being line 1; ``event N ('name')`` in YAML and iCalendar, counting from 1), the
value received and a fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from capacity import records as rec
from capacity.columns import (
    ALL_REGIONS,
    END_TS,
    EVENT_COLUMNS,
    EVENT_ID,
    EVENT_KINDS,
    EXPECTED_UPLIFT,
    KIND,
    NAME,
    NOTES,
    REGIONS,
    SOURCE,
    START_TS,
)
from capacity.errors import DataError, ParameterError

__all__ = [
    "events_touching",
    "read_calendar",
    "read_calendar_files",
    "read_calendars",
    "validate_events",
]

#: Extensions :func:`read_calendar` understands.
SUPPORTED_EXTENSIONS = (".csv", ".yaml", ".yml", ".ics")
#: Days after the latest DTSTART that the default iCalendar window reaches.
ICS_DEFAULT_HORIZON_DAYS = 400
#: The largest ``expected_uplift`` taken as meant: demand more than 20 times normal is far more
#: likely a percentage written as a multiple (60 or 160 for 1.6).
MAX_UPLIFT = 20.0

_TS_UNIT = "us"
_TS_DTYPE = f"datetime64[{_TS_UNIT}, UTC]"
_KIND_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
_REGION_SPLIT_RE = re.compile(r"[;,|]")
_ISO_HINT = "write ISO 8601, e.g. 2026-12-18, 2026-12-18T08:00Z or 2026-12-18T08:00+01:00"

# Field names of an event as read from a file (CSV column, YAML key).
_START = "start"
_END = "end"
_FIELDS = (EVENT_ID, NAME, KIND, _START, _END, REGIONS, EXPECTED_UPLIFT, NOTES)
_REQUIRED = (NAME, KIND, _START, _END)
_ALIASES = {START_TS: _START, END_TS: _END}
# What makes two events with one id "the same".
_CONTENT = (NAME, KIND, START_TS, END_TS, REGIONS, EXPECTED_UPLIFT, NOTES)
_WHERE = "_where"
# In an iCalendar event's raw values: the property its kind came from.
_KIND_FROM = "_kind_from"


@dataclass(frozen=True)
class _Raw:
    """One event as read, before validation: field -> raw value, and where it was read."""

    where: str
    values: Mapping[str, Any]
    source_name: str | None = None


# --------------------------------------------------------------------------- public API


def read_calendar(
    path: str | Path,
    *,
    tz: str | None = None,
    regions: Collection[str] | None = None,
    ics_window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Read one live-ops calendar file.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.yaml``/``.yml`` or ``.ics`` file.
    tz : str, optional
        IANA time zone for date-only values and naive date-times. Without it, dates are UTC days
        and naive date-times are refused.
    regions : collection of str, optional
        The known region names; an event naming any other region is refused.
    ics_window : (Timestamp, Timestamp), optional
        Window in which repeating iCalendar events are expanded (naive bounds are read in ``tz``,
        else UTC). Default: earliest DTSTART to 400 days after the latest DTSTART.

    Returns
    -------
    pandas.DataFrame
        The events, with columns :data:`~capacity.columns.EVENT_COLUMNS`.

    Raises
    ------
    DataError
        When the file cannot be read or an event is invalid.
    ParameterError
        When ``tz`` or ``ics_window`` is not usable.
    """
    return _public(_read(Path(path), tz=tz, regions=regions, ics_window=ics_window))


def events_touching(events: pd.DataFrame, region: str) -> pd.DataFrame:
    """The events that touch ``region``: those naming it and those for ``all`` regions.

    Parameters
    ----------
    events : pandas.DataFrame
        Events as :func:`read_calendar` returns them (``regions`` holds lists of names).
    region : str
        The region whose series is being forecast.

    Returns
    -------
    pandas.DataFrame
        The matching rows, index reset.
    """
    keep = events["regions"].map(lambda names: region in names or "all" in names)
    return events[keep.astype(bool)].reset_index(drop=True)


def read_calendars(
    paths: Iterable[str | Path],
    *,
    tz: str | None = None,
    regions: Collection[str] | None = None,
    ics_window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Read several calendar files into one frame.

    Parameters
    ----------
    paths : iterable of str or Path
        The files, each read by :func:`read_calendar` with the same keyword arguments.
    tz, regions, ics_window
        As for :func:`read_calendar`.

    Returns
    -------
    pandas.DataFrame
        All events, sorted by ``start_ts`` then ``event_id``. An event found identical in
        several files is kept once, from the first file.

    Raises
    ------
    DataError
        As :func:`read_calendar`, and when two files define one ``event_id`` differently.
    """
    frames: list[pd.DataFrame] = []
    seen: set[str] = set()
    for frame in read_calendar_files(paths, tz=tz, regions=regions, ics_window=ics_window):
        keep = ~frame[EVENT_ID].isin(seen)
        seen.update(frame[EVENT_ID])
        frames.append(frame[keep])
    frames = [f for f in frames if len(f)]
    if not frames:
        return _public(_empty_frame())
    return _sorted(pd.concat(frames, ignore_index=True))


def read_calendar_files(
    paths: Iterable[str | Path],
    *,
    tz: str | None = None,
    regions: Collection[str] | None = None,
    ics_window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> list[pd.DataFrame]:
    """Read several calendar files, each into a frame of its own.

    Parameters
    ----------
    paths : iterable of str or Path
        The files, each read by :func:`read_calendar` with the same keyword arguments.
    tz, regions, ics_window
        As for :func:`read_calendar`.

    Returns
    -------
    list of pandas.DataFrame
        One frame per file, in order, as :func:`read_calendar` returns it: an event found
        identical in several files is in each of their frames.

    Raises
    ------
    DataError
        As :func:`read_calendar`, and when two files define one ``event_id`` differently.
    """
    frames: list[pd.DataFrame] = []
    seen: dict[str, tuple[pd.Series, str]] = {}
    for raw_path in paths:
        path = Path(raw_path)
        frame = _read(path, tz=tz, regions=regions, ics_window=ics_window)
        for _, row in frame.iterrows():
            event_id = row[EVENT_ID]
            if event_id not in seen:
                seen[event_id] = (row, f"{path} ({row[_WHERE]})")
                continue
            first, first_place = seen[event_id]
            diff = _difference(first, row)
            if diff:
                raise DataError(
                    f"event_id {event_id!r} is also defined in {first_place} with a different "
                    f"{diff}",
                    source=str(path),
                    where=row[_WHERE],
                    fix="give each event its own event_id, or make both definitions identical",
                )
        frames.append(_public(frame))
    return frames


def validate_events(
    frame: pd.DataFrame,
    *,
    source: str,
    regions: Collection[str] | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """Validate and normalise an event frame built in code.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``name, kind, start_ts, end_ts`` (or ``start, end``) and optionally
        ``event_id, regions, expected_uplift, notes, source``. Values may be raw (strings, dates)
        or already typed; the timestamp rule of this module applies. Not modified.
    source : str
        Name of the frame for error messages, and the ``source`` of rows that have none.
    regions : collection of str, optional
        The known region names.
    tz : str, optional
        Time zone for date-only values and naive date-times, as in :func:`read_calendar`.

    Returns
    -------
    pandas.DataFrame
        A new frame with exactly :data:`~capacity.columns.EVENT_COLUMNS`.

    Raises
    ------
    DataError
        When a column is missing or unknown, or an event is invalid (the row is named by its
        index label).
    """
    columns = _match_columns(
        [str(c) for c in frame.columns], source=source, extra=(SOURCE,), what="column"
    )
    records = []
    for label, row in frame.iterrows():
        values = {field: row.iloc[i] for i, field in enumerate(columns) if field}
        name = values.get(NAME)
        shown = f" ({name.strip()!r})" if isinstance(name, str) and name.strip() else ""
        source_name = values.pop(SOURCE, None)
        source_name = source_name if isinstance(source_name, str) and source_name else None
        records.append(_Raw(f"row {label}{shown}", values, source_name))
    return _public(
        _finish(records, source=source, source_name=source, zone=_zone(tz), known=regions)
    )


# --------------------------------------------------------------------------- reading files


def _read(
    path: Path,
    *,
    tz: str | None,
    regions: Collection[str] | None,
    ics_window: tuple[pd.Timestamp, pd.Timestamp] | None,
) -> pd.DataFrame:
    """Read one file into a validated frame that still has the private ``_where`` column."""
    zone = _zone(tz)
    lower = path.name.lower()
    source = str(path)
    if lower.endswith(".csv"):
        records = _csv_records(rec.read_text(path), source=source)
    elif lower.endswith((".yaml", ".yml")):
        records = _yaml_records(rec.read_text(path), source=source)
    elif lower.endswith(".ics"):
        records = _ics_records(
            rec.read_bytes(path), source=source, zone=zone, window=_window(ics_window, zone)
        )
    else:
        suffix = "".join(path.suffixes) or "(none)"
        raise DataError(
            f"unsupported calendar file type {suffix!r}",
            source=source,
            fix=f"use one of {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    return _finish(records, source=source, source_name=path.name, zone=zone, known=regions)


def _match_columns(
    found: list[str],
    *,
    source: str,
    extra: tuple[str, ...] = (),
    what: str = "column",
    where: str | None = None,
) -> list[str]:
    """Map found column (or key) names to field names; refuse missing and unknown ones."""
    allowed = (*_FIELDS, *extra)
    fields = [_ALIASES.get(key, key) for key in map(rec.normalise_key, found)]
    place: dict[str, Any] = {"what": what, "source": source, "where": where}
    rec.check_required(fields, found, required=_REQUIRED, allowed=allowed, **place)
    known = f"known {what}s are {', '.join(allowed)}"
    rec.check_known(fields, found, allowed=allowed, known=known, **place)
    rec.check_unique(fields, found, **place)
    return fields


def _match_for(source: str) -> rec.Matcher:
    def match(found: list[str], what: str, where: str | None) -> list[str]:
        return _match_columns(found, source=source, what=what, where=where)

    return match


def _csv_records(text: str, *, source: str) -> list[_Raw]:
    rows = rec.csv_rows(
        text,
        source=source,
        empty_fix="start with the header line name,kind,start,end",
        match=_match_for(source),
    )
    return [_Raw(f"line {line}", values) for line, values in rows]


def _yaml_where(number: int, item: Any, line: int | None) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return f"event {number} ({name.strip()!r})" if isinstance(name, str) else f"event {number}"


def _yaml_records(text: str, *, source: str) -> list[_Raw]:
    rows = rec.yaml_rows(
        text,
        source=source,
        key="events",
        noun="event",
        empty_fix="write a list of events, or 'events: []' for an empty calendar",
        list_fix="write a list of events, or a mapping with key 'events'",
        where_of=_yaml_where,
        match=_match_for(source),
        text_fields=(EVENT_ID, NAME, NOTES),
    )
    return [_Raw(where, values) for where, values in rows]


# --------------------------------------------------------------------------- iCalendar


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


def _check_rrules(component: Any, *, source: str, where: str) -> None:
    """Refuse an RRULE whose FREQ is missing or no frequency, in the calendar's words: the
    library's own message for ``FREQ=SOMETIMES`` is "UNTIL parameter is missing"."""
    values = component.get("RRULE")
    for value in values if isinstance(values, list) else [values]:
        if value is None:
            continue
        text = value.to_ical()
        text = text.decode() if isinstance(text, bytes) else str(text)
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
            calendar = icalendar.Calendar()
            for component in (master, *overrides):
                calendar.add_component(component)
            try:
                occurrences = recurring_ical_events.of(calendar).between(
                    (first - margin).to_pydatetime(), (last + margin).to_pydatetime()
                )
            except (ValueError, TypeError) as exc:
                raise DataError(
                    f"cannot expand the repeating event: {exc}",
                    source=source,
                    where=where,
                    fix="check its RRULE, RDATE and EXDATE",
                ) from None
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


# --------------------------------------------------------------------------- values


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


def _regions(value: Any, *, known: Collection[str] | None, source: str, where: str) -> list[str]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple | set | frozenset):
        names = []
        for item in value:
            if not isinstance(item, str):
                raise DataError(
                    f"region {item!r} is not a name",
                    source=source,
                    where=where,
                    fix="write region names as text, e.g. [eu-west, na-east]",
                )
            names.append(item.strip())
    elif rec.is_missing(value):
        names = []
    elif isinstance(value, str):
        names = _REGION_SPLIT_RE.split(value)
    else:
        raise DataError(
            f"regions {value!r} is not a list of names",
            source=source,
            where=where,
            fix="write names separated by ';', or 'all'",
        )
    names = [n.strip() for n in names if n.strip()]
    if not names:
        return [ALL_REGIONS]
    if any(n.lower() == ALL_REGIONS for n in names):
        if len(names) > 1:
            raise DataError(
                f"regions {';'.join(names)!r} mixes 'all' with named regions",
                source=source,
                where=where,
                fix="write either 'all' or the region names",
            )
        return [ALL_REGIONS]
    names = sorted(set(names))
    if known is not None:
        known_list = sorted(known)
        for name in names:
            if name not in known_list:
                raise DataError(
                    f"unknown region {name!r}",
                    source=source,
                    where=where,
                    fix=f"{rec.suggest(name, known_list)}known regions: "
                    f"{', '.join(known_list)} (or 'all')",
                )
    return names


def _uplift(value: Any, *, source: str, where: str) -> float:
    if rec.is_missing(value):
        return math.nan
    number: float | None = None
    if isinstance(value, str):
        text = value.strip().removesuffix("x").removesuffix("X").strip()
        try:
            number = float(text)
        except ValueError:
            number = None
    elif isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        number = float(value)
    if number is None or not math.isfinite(number) or number <= 0:
        raise DataError(
            f"expected_uplift {value!r} is not a positive number",
            source=source,
            where=where,
            fix="give demand as a multiple of normal, e.g. 1.6 for 60% more, or leave it empty",
        )
    if number > MAX_UPLIFT:
        raise DataError(
            f"expected_uplift {value!r} is more than {MAX_UPLIFT:g} times normal demand",
            source=source,
            where=where,
            fix="give demand as a multiple of normal: 1.6 for 60% more, not 60 or 160",
        )
    return number


def _default_id(
    name: str, kind: str, start: pd.Timestamp, end: pd.Timestamp, regions: list[str]
) -> str:
    key = "|".join((name, kind, start.isoformat(), end.isoformat(), ";".join(regions)))
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:8]
    return f"{kind}-{start.year:04d}{start.month:02d}{start.day:02d}-{digest}"


def _event(
    raw: _Raw, *, source: str, zone: ZoneInfo | None, known: Collection[str] | None
) -> dict[str, Any]:
    """Validate one raw event into a row of the output frame."""
    values, where = raw.values, raw.where
    name = rec.text(values.get(NAME))
    if not name:
        raise DataError(
            f"name is empty (got {values.get(NAME)!r})",
            source=source,
            where=where,
            fix="give every event a name",
        )
    kind_raw = values.get(KIND)
    kind = (rec.text(kind_raw) or "").lower()
    if not _KIND_RE.match(kind):
        kind_from = values.get(_KIND_FROM)
        origin = f" (from {kind_from})" if kind_from else ""
        override = (
            "; set X-CAPACITY-KIND, which comes before CATEGORIES"
            if kind_from == "CATEGORIES"
            else ""
        )
        raise DataError(
            f"kind {kind_raw!r}{origin} is not a valid kind name",
            source=source,
            where=where,
            fix="use a lower-case word of letters, digits, '-' or '_' starting with a letter, "
            f"e.g. {', '.join(EVENT_KINDS)}{override}",
        )
    start = _to_utc(values.get(_START), field="start", zone=zone, source=source, where=where)
    end = _to_utc(
        values.get(_END), field="end", zone=zone, source=source, where=where, inclusive_end=True
    )
    if end <= start:
        raise DataError(
            f"end {rec.show_ts(end)} (from {_show(values.get(_END))}) is not after start "
            f"{rec.show_ts(start)} (from {_show(values.get(_START))})",
            source=source,
            where=where,
            fix="make end later than start; a date-only end includes that whole day",
        )
    regions = _regions(values.get(REGIONS), known=known, source=source, where=where)
    uplift = _uplift(values.get(EXPECTED_UPLIFT), source=source, where=where)
    notes = rec.text(values.get(NOTES)) or None
    event_id = rec.text(values.get(EVENT_ID)) or _default_id(name, kind, start, end, regions)
    return {
        EVENT_ID: event_id,
        NAME: name,
        KIND: kind,
        START_TS: start,
        END_TS: end,
        REGIONS: regions,
        EXPECTED_UPLIFT: uplift,
        NOTES: notes,
        SOURCE: raw.source_name,
        _WHERE: where,
    }


def _show(value: Any) -> str:
    return repr(value.strip()) if isinstance(value, str) else repr(str(value))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list | np.ndarray) or isinstance(b, list | np.ndarray):
        return list(a) == list(b)
    return bool(a == b)


def _difference(first: Mapping[str, Any], second: Mapping[str, Any]) -> str | None:
    """``"<field> (<first> vs <second>)"`` for the first content field that differs."""
    for field in _CONTENT:
        a, b = first[field], second[field]
        if not _same(a, b):
            if isinstance(a, pd.Timestamp):
                a, b = rec.show_ts(a), rec.show_ts(b)
            return f"{field} ({a!r} vs {b!r})"
    return None


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            EVENT_ID: pd.Series([], dtype=str),
            NAME: pd.Series([], dtype=str),
            KIND: pd.Series([], dtype=str),
            START_TS: pd.Series([], dtype=_TS_DTYPE),
            END_TS: pd.Series([], dtype=_TS_DTYPE),
            REGIONS: pd.Series([], dtype=object),
            EXPECTED_UPLIFT: pd.Series([], dtype=float),
            NOTES: pd.Series([], dtype=object),
            SOURCE: pd.Series([], dtype=str),
            _WHERE: pd.Series([], dtype=object),
        }
    )


def _public(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[:, list(EVENT_COLUMNS)]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values([START_TS, EVENT_ID], kind="stable").reset_index(drop=True)


def _finish(
    records: list[_Raw],
    *,
    source: str,
    source_name: str,
    zone: ZoneInfo | None,
    known: Collection[str] | None,
) -> pd.DataFrame:
    """Validate records, collapse identical duplicates, refuse conflicting ones, build the frame."""
    rows: dict[str, dict[str, Any]] = {}
    for raw in records:
        row = _event(raw, source=source, zone=zone, known=known)
        if row[SOURCE] is None:
            row[SOURCE] = source_name
        first = rows.get(row[EVENT_ID])
        if first is None:
            rows[row[EVENT_ID]] = row
            continue
        diff = _difference(first, row)
        if diff and rec.is_missing(raw.values.get(EVENT_ID)):
            # the id was derived from name, kind, start, end and regions: those are the same
            raise DataError(
                f"describes the same event as {first[_WHERE]} (same name, kind, start, end "
                f"and regions) with a different {diff}",
                source=source,
                where=raw.where,
                fix="keep one of the two rows, or give each its own event_id if they are "
                "different events",
            )
        if diff:
            raise DataError(
                f"event_id {row[EVENT_ID]!r} is also used by {first[_WHERE]} with a different "
                f"{diff}",
                source=source,
                where=raw.where,
                fix="give each event its own event_id, or make the duplicates identical",
            )
    if not rows:
        return _empty_frame()
    data = list(rows.values())
    built = pd.DataFrame(
        {
            EVENT_ID: pd.Series([r[EVENT_ID] for r in data], dtype=str),
            NAME: pd.Series([r[NAME] for r in data], dtype=str),
            KIND: pd.Series([r[KIND] for r in data], dtype=str),
            START_TS: pd.Series([r[START_TS] for r in data]).astype(_TS_DTYPE),
            END_TS: pd.Series([r[END_TS] for r in data]).astype(_TS_DTYPE),
            REGIONS: pd.Series([r[REGIONS] for r in data], dtype=object),
            EXPECTED_UPLIFT: pd.Series([r[EXPECTED_UPLIFT] for r in data], dtype=float),
            NOTES: pd.Series([r[NOTES] for r in data], dtype=object),
            SOURCE: pd.Series([r[SOURCE] for r in data], dtype=str),
            _WHERE: pd.Series([r[_WHERE] for r in data], dtype=object),
        }
    )
    return _sorted(built)
