"""An event's fields as a calendar file names them, and one event as read (``_Raw``), before
validation: what the readers of every format hand to :mod:`capacity.calendar.events`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from capacity.columns import (
    END_TS,
    EVENT_ID,
    EXPECTED_UPLIFT,
    KIND,
    NAME,
    NOTES,
    REGIONS,
    START_TS,
)

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
