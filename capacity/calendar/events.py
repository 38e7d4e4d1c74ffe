"""Raw events validated into the calendar's frame: name, kind, times, regions and uplift
checked, an id derived when none is given, identical duplicates collapsed and conflicting
ones refused (``_finish``), and the frame's exact columns and order."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from capacity import records as rec
from capacity.calendar.fields import _CONTENT, _END, _KIND_FROM, _START, _WHERE, _Raw
from capacity.calendar.times import _to_utc
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
from capacity.errors import DataError

#: The largest ``expected_uplift`` taken as meant: demand more than 20 times normal is far more
#: likely a percentage written as a multiple (60 or 160 for 1.6).
MAX_UPLIFT = 20.0

_TS_UNIT = "us"
_TS_DTYPE = f"datetime64[{_TS_UNIT}, UTC]"
_KIND_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
_REGION_SPLIT_RE = re.compile(r"[;,|]")


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
