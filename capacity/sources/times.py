"""Timestamps in the SQL that reads telemetry: the patterns of a UTC offset (and of one no
clock uses, with the words that refuse it), the DuckDB types of naive timestamps, and naive
local time read as wall-clock time in a zone, refusing the times a daylight-saving change
skips or repeats."""

from __future__ import annotations

#: A timestamp string that ends in a UTC offset after a time of day.
OFFSET_PATTERN = r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"
#: A timestamp string that ends in a zone's name after a time of day (``... UTC``, as BigQuery
#: exports write it, or ``... Europe/Berlin``): exact as DuckDB reads it, where a cast to a
#: naive TIMESTAMP drops the name without a word. An unknown name (``pm``) does not parse.
NAMED_ZONE_PATTERN = r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*[A-Za-z][A-Za-z0-9_/+\-]*$"
#: An offset no clock uses: beyond +-14:00 (the widest in use), or with 60 minutes or more.
#: DuckDB reads '+25:00' as 25 hours, which would move the row a day without a word.
BAD_OFFSET_PATTERN = (
    r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*"
    r"[+-]((1[5-9]|[2-9]\d)(:?\d{2})?|14:?(0[1-9]|[1-9]\d)|\d{2}:?[6-9]\d)$"
)
#: What is wrong with an offset :data:`BAD_OFFSET_PATTERN` matches, after the time as written
#: (``time '...' has ...``), and the fix: the words of every reader that refuses one.
BAD_OFFSET_PROBLEM = (
    "has a UTC offset no clock uses (no zone is more than 14:00 from UTC, and minutes stop at 59)"
)
BAD_OFFSET_FIX = "correct the offset (e.g. +01:00 for Berlin in winter, Z for UTC)"
_NAIVE_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE")
# DuckDB 2 reads a Parquet column of nanosecond instants (pandas 2 writes them) as TIMESTAMPTZ_NS
_AWARE_TYPES = ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ_NS")

#: How far clocks go back at a daylight-saving change: an hour, or half an hour (Lord Howe).
_FALL_BACKS = ("1 HOUR", "30 MINUTE")


def _wall_clock(local: str, tz: str) -> tuple[str, list[object]]:
    """SQL reading the naive ``local`` as wall-clock time in ``tz``: NULL where that time does
    not exist there (the clocks skip it) or occurs twice (the clocks go back an hour or half
    an hour)."""
    utc = f"timezone(?, {local})"
    repeats = " ".join(
        f"AND timezone(?, {utc} {sign} INTERVAL {size}) <> {local}"
        for size in _FALL_BACKS
        for sign in "-+"
    )
    sql = f"CASE WHEN timezone(?, {utc}) = {local} {repeats} THEN {utc} END"
    return sql, [tz] * sql.count("?")  # every placeholder is the zone
