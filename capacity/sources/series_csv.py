"""One time series from any CSV (:func:`read_series_csv`, for ``capacity forecast`` and
``capacity backtest``): the columns found (each asked for once), every time and value checked
with the likely cause of a bad one, the grid's size bounded,
then resampled by :func:`~capacity.sources.grid.grid_query`."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import duckdb
import pandas as pd

from capacity.errors import DataError, ParameterError
from capacity.records import not_a_file, zone
from capacity.sources.csv_checks import _check_asked_once, _check_field_counts, csv_line
from capacity.sources.grid import grid_query
from capacity.sources.numbers import comma_problem
from capacity.sources.read_errors import not_utf8_text, read_error
from capacity.sources.sql import _quote
from capacity.sources.times import (
    BAD_OFFSET_FIX,
    BAD_OFFSET_PATTERN,
    BAD_OFFSET_PROBLEM,
    NAMED_ZONE_PATTERN,
    OFFSET_PATTERN,
)
from capacity.units import parse_duration

#: Values read as gaps in a series CSV, like empty ones (compared in lower case).
MISSING_VALUES = ("nan", "na", "n/a", "null", "none")
#: The most grid steps a series CSV is resampled to (about 1 GB of memory).
MAX_GRID_ROWS = 2_000_000
_EPOCH = re.compile(r"^[+-]?\d{9,14}(\.\d+)?$")


def read_series_csv(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    time_column: str,
    value_column: str,
    freq: str = "1h",
    agg: str = "mean",
    before: pd.Timestamp | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """Read one time series from any CSV and resample it to a regular grid.

    Timestamps with an offset (or a zone's name, ``... UTC``) are exact; naive ones are taken
    as UTC, or as wall-clock time in
    ``tz``: there a time the clocks skip is refused, and one they repeat is read as its later
    occurrence (the two rows then share an instant, aggregated as below). Empty values and the
    words in :data:`MISSING_VALUES` (``NaN``, ``NA``, ``null``, ...) are gaps; buckets with no
    value are NaN. Rows at one instant (in any offsets) are aggregated by ``agg`` like the
    rows of one bucket: per-host rows of one total are summed with ``agg="sum"``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to read with.
    path : str or Path
        The CSV file.
    time_column, value_column : str
        The columns holding the time and the value.
    freq, agg : str
        The grid's bucket width and how values within a bucket combine.
    before : pandas.Timestamp, optional
        Keep only rows strictly before this time (UTC); the grid then runs up to it.
    tz : str, optional
        The IANA zone naive times were recorded in; default UTC.

    Returns
    -------
    pandas.DataFrame
        Columns ``ts`` (UTC) and ``value``.

    Raises
    ------
    DataError
        When the file or a column is missing, the file is not UTF-8, the header names the
        time or value column twice, a time or value does not parse, a time has an offset no
        clock uses or is one ``tz``'s clocks skip, a value is negative, or the grid would
        have more than :data:`MAX_GRID_ROWS` steps.
    ParameterError
        When ``tz`` is not an IANA time zone.
    """
    _check_zone(tz)
    path = Path(path)
    if not path.is_file():
        raise not_a_file(path)
    if path.stat().st_size == 0:
        raise DataError("the file is empty", source=str(path), fix="give a CSV with a header")
    reader = "read_csv(?, header = true, all_varchar = true)"
    try:
        found = [
            r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}", [str(path)]).fetchall()
        ]
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise not_utf8_text(path) or DataError(
            f"cannot be read as CSV: {first_line}", source=str(path)
        ) from None
    if len(found) == 1 and time_column not in found:
        _check_field_counts(path)
    if any(re.search(r"_\d+$", name) for name in found):  # DuckDB renames a second 'v' 'v_1'
        _check_asked_once(path, {time_column: "--time-column", value_column: "--value-column"})
    for wanted, flag in ((time_column, "--time-column"), (value_column, "--value-column")):
        if wanted not in found:
            close = difflib.get_close_matches(wanted, found, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise DataError(
                f"column {wanted!r} not found; columns are {', '.join(found)}",
                source=str(path),
                where="header",
                fix=f"{hint}pass the right name with {flag}",
            )
    t, v = _quote(time_column), _quote(value_column)
    missing = ", ".join(f"'{word}'" for word in ("", *MISSING_VALUES))
    read = (
        f"{_time_expression(t, tz)} AS ts, "
        f"CASE WHEN lower(trim(coalesce({v}, ''))) IN ({missing}) THEN NULL "
        f"ELSE try_cast({v} AS DOUBLE) END AS value FROM {reader}"
    )
    numbered = f"(SELECT row_number() OVER () AS _row, {t} AS _t, {v} AS _v, {read})"
    # DuckDB reads '+25:00' as 25 hours: a time at an offset no clock uses is refused here,
    # once (the regular expression only for times not in UTC's 'Z'), not moved a day
    bad_time = (
        f"(ts IS NULL OR (NOT ends_with(_t, 'Z') "
        f"AND regexp_matches(trim(_t), '{BAD_OFFSET_PATTERN}')))"
    )
    try:
        bad = con.execute(
            f"SELECT _row, _t, _v, {bad_time}, value < 0 FROM {numbered} WHERE {bad_time} "
            f"OR (value IS NULL AND lower(trim(coalesce(_v, ''))) NOT IN ({missing})) "
            "OR NOT isfinite(value) OR value < 0 ORDER BY _row LIMIT 1",
            [str(path)],
        ).fetchone()
        rows = con.execute(f"SELECT count(*) FROM {reader}", [str(path)]).fetchone()[0]
    except duckdb.Error as exc:  # a malformed line past the part the sniffer read
        # read_error names a file that is not UTF-8 itself
        raise read_error(exc, path, "cannot be read as CSV") from None
    if rows == 0:
        raise DataError(
            "the file has a header but no rows", source=str(path), fix="give a CSV with data"
        )
    if bad is not None:
        row, raw_t, raw_v, bad_time, negative = bad
        column, raw = (time_column, raw_t) if bad_time else (value_column, raw_v)
        if negative and not bad_time:
            raise DataError(
                f"value {raw!r} is negative; demand (players, requests) cannot be",
                source=str(path),
                where=f"line {csv_line(path, row)}, column {column!r}",
                fix="correct the value, or leave it empty for a gap",
            )
        what = "time" if bad_time else "value"
        if raw is None or not str(raw).strip():
            raise DataError(
                f"the {what} is empty",
                source=str(path),
                where=f"line {csv_line(path, row)}, column {column!r}",
                fix="give every row a time, or drop the row",
            )
        if bad_time and tz is not None and _naive_time(con, raw):
            problem, fix = (
                f"time {raw!r} does not exist in {tz} (the clocks skip it)",
                "correct the time, or write it with its UTC offset",
            )
        else:
            problem, fix = _unreadable_time(raw) if bad_time else _unreadable_value(raw)
        raise DataError(
            problem,
            source=str(path),
            where=f"line {csv_line(path, row)}, column {column!r}",
            fix=fix,
        )
    # Rows at one instant are aggregated by `agg` like the rows of one bucket, not refused:
    # "reads any CSV" covers a file of per-host rows summed with --agg sum, and naive local
    # times that repeat an hour at a clock change.
    kept = "(CAST(? AS TIMESTAMPTZ) IS NULL OR ts < ?)"
    first, last = con.execute(
        f"SELECT min(ts), max(ts) FROM (SELECT {read}) WHERE value IS NOT NULL AND {kept}",
        [str(path), before, before],
    ).fetchone()
    _check_grid_size(first, last, path, freq=freq, before=before)
    relation = (
        f"(SELECT 'series' AS region, '' AS service, '' AS metric, ts, value "
        f"FROM {numbered} WHERE value IS NOT NULL AND {kept})"
    )
    query, params = grid_query(
        relation, [str(path), before, before], freq=freq, agg=agg, end=before
    )
    frame = con.execute(query, params).df()
    return pd.DataFrame({"ts": frame["ts"], "value": frame["value"].astype("float64")}).reset_index(
        drop=True
    )


def covered_until(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    time_column: str,
    value_column: str,
    tz: str | None = None,
) -> pd.Timestamp | None:
    """Where a series CSV's data ends: its last time with a value plus the file's own step
    (the median gap between its distinct times), so that a file of hourly rows ending at
    23:00 covers its day to midnight.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to read with.
    path : str or Path
        The CSV file, already read by :func:`read_series_csv` (so its times parse).
    time_column, value_column : str
        The columns holding the time and the value.
    tz : str, optional
        The zone of naive times, as given to :func:`read_series_csv`.

    Returns
    -------
    pandas.Timestamp or None
        The end (UTC), or None when the file has fewer than two distinct times with a value.
    """
    t, v = _quote(time_column), _quote(value_column)
    missing = ", ".join(f"'{word}'" for word in ("", *MISSING_VALUES))
    times = (
        f"SELECT DISTINCT {_time_expression(t, tz)} AS ts FROM "
        "read_csv(?, header = true, all_varchar = true) "
        f"WHERE lower(trim(coalesce({v}, ''))) NOT IN ({missing})"
    )
    last, step = con.execute(
        f"SELECT max(ts), median(gap) FROM (SELECT ts, ts - lag(ts) OVER (ORDER BY ts) AS gap "
        f"FROM ({times}))",
        [str(path)],
    ).fetchone()
    if last is None or step is None:
        return None
    return pd.Timestamp(last).tz_convert("UTC") + pd.Timedelta(step)


def _time_expression(column: str, tz: str | None) -> str:
    """SQL reading the quoted ``column`` as an instant: with an offset as written, naive in UTC
    or as wall-clock time in ``tz`` (NULL for a time its clocks skip, the later occurrence of
    one they repeat, as ICU reads it); a time with an offset or a zone's name is exact in
    either case. The zone is inlined, once :func:`_check_zone` has checked it."""
    exact = f"try_cast({column} AS TIMESTAMPTZ)"
    if tz is None:
        return exact
    _check_zone(tz)
    local = f"try_cast({column} AS TIMESTAMP)"
    instant = f"timezone('{tz}', {local})"
    text = f"trim({column})"
    return (
        f"CASE WHEN regexp_matches({text}, '{OFFSET_PATTERN}') "
        f"OR regexp_matches({text}, '{NAMED_ZONE_PATTERN}') THEN {exact} "
        f"WHEN timezone('{tz}', {instant}) = {local} THEN {instant} END"
    )


def _check_zone(tz: str | None) -> None:
    """Refuse a ``tz`` that is not an IANA zone name (one DuckDB would not know, or whose
    text could not be inlined in SQL), naming the parameter."""
    problem = (
        "The 'tz' parameter must be an IANA time zone such as 'Europe/Berlin' or 'UTC'. "
        f"Got {tz!r}."
    )
    zone(tz, problem=problem, type_errors=True)
    if tz is not None and not re.fullmatch(r"[A-Za-z0-9_+\-/]+", tz):
        raise ParameterError(problem)


def _naive_time(con: duckdb.DuckDBPyConnection, raw: str) -> bool:
    """Whether ``raw`` reads as a naive date and time (so only its zone's clocks refuse it)."""
    text = str(raw).strip()
    if re.search(OFFSET_PATTERN, text) or re.search(NAMED_ZONE_PATTERN, text):
        return False
    return con.execute("SELECT try_cast(? AS TIMESTAMP)", [text]).fetchone()[0] is not None


def _unreadable_time(raw: str) -> tuple[str, str]:
    """The problem and fix for a time that does not parse, guessing the usual causes."""
    text = str(raw).strip()
    if re.search(BAD_OFFSET_PATTERN, text):
        return f"time {raw!r} {BAD_OFFSET_PROBLEM}", BAD_OFFSET_FIX
    if _EPOCH.match(text):
        return (
            f"time {raw!r} is a bare number (Unix epoch seconds or milliseconds?), not a time",
            "convert the column to ISO 8601 times such as 2026-01-05T00:00:00Z",
        )
    return (
        f"time {raw!r} does not parse",
        "use ISO 8601 times such as 2026-01-05T00:00:00Z, 2026-01-05 00:00:00+01:00 or "
        "2026-01-05 00:00 (no offset: UTC)",
    )


def _unreadable_value(raw: str) -> tuple[str, str]:
    """The problem and fix for a value that does not parse, guessing the usual causes."""
    return comma_problem(raw, "leave it empty for a gap") or (
        f"value {raw!r} does not parse",
        "give a number, or leave it empty (or NaN) for a gap",
    )


def _check_grid_size(
    first: object,
    last: object,
    path: Path,
    *,
    freq: str,
    before: pd.Timestamp | None,
) -> None:
    """Refuse a ``freq`` so fine for the file's span that the grid would not fit in memory.

    The grid has a row per step from the first value (``first``) to the last (``last``, or
    to ``before``), empty steps included: a year of hourly values at ``1s`` is 31 million
    rows.
    """
    width = parse_duration(freq, "freq")
    if first is None:
        return
    end = before if before is not None else pd.Timestamp(last)
    steps = (end - pd.Timestamp(first)) / width
    if steps > MAX_GRID_ROWS:
        raise DataError(
            f"resampled to --freq {freq}, the values from {pd.Timestamp(first).isoformat()} to "
            f"{end.isoformat()} make {steps:,.0f} steps, more than the {MAX_GRID_ROWS:,} read",
            source=str(path),
            fix="give a coarser --freq, or a file with fewer days",
        )
