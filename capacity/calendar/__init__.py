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

Parts
-----
This package holds the five functions above; the work is done by one module per concern, and
the imports run one way (none uses this package's own names):

* ``formats``: one file read by the reader its extension names;
* ``tabular``: CSV and YAML rows, their column or key names matched to the fields;
* ``ics``: iCalendar events, repeating ones expanded;
* ``events``: raw events validated into the frame, duplicates collapsed or refused;
* ``times``: the timestamp rule above, applied to one value, and ``tz`` checked;
* ``fields``: an event's field names and one event as read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

import pandas as pd

from capacity.calendar.events import MAX_UPLIFT as MAX_UPLIFT
from capacity.calendar.events import _difference, _empty_frame, _finish, _public, _sorted
from capacity.calendar.fields import _WHERE, _Raw
from capacity.calendar.formats import SUPPORTED_EXTENSIONS as SUPPORTED_EXTENSIONS
from capacity.calendar.formats import _read
from capacity.calendar.ics import ICS_DEFAULT_HORIZON_DAYS as ICS_DEFAULT_HORIZON_DAYS
from capacity.calendar.tabular import _match_columns
from capacity.calendar.times import _zone
from capacity.columns import EVENT_ID, NAME, SOURCE
from capacity.errors import DataError

__all__ = [
    "events_touching",
    "read_calendar",
    "read_calendar_files",
    "read_calendars",
    "validate_events",
]


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
