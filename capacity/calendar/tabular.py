"""Calendars in CSV and YAML: rows and items read with their lines (by
:mod:`capacity.records`), and their column or key names matched to the event's fields,
missing, unknown and repeated ones refused."""

from __future__ import annotations

from typing import Any

from capacity import records as rec
from capacity.calendar.fields import _ALIASES, _FIELDS, _REQUIRED, _Raw
from capacity.columns import EVENT_ID, NAME, NOTES


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
        other_kinds={
            key: (
                f"the top-level key {key!r} is that of {kind}, not of a live-ops calendar",
                f"import it with 'capacity {key} import' ({reader} in Python), or give a "
                "calendar: a list under the key 'events'",
            )
            for key, kind, reader in (
                ("incidents", "an incident log", "capacity.resilience.read_incidents"),
                ("deploys", "a deploy log", "capacity.resilience.read_deploys"),
            )
        },
    )
    return [_Raw(where, values) for where, values in rows]
