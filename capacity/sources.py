"""Readers of telemetry files: CSV, gzip CSV and Parquet, long or wide.

Files are read by DuckDB's own readers, never row by row in Python. This module only
describes a file (:func:`inspect_telemetry`), writes the SQL that turns it into the store's
long shape (:func:`telemetry_select`) and, when validation found something wrong, finds the
first offending row and says what to do about it (:func:`explain_problem`). The store owns
the transaction around all of it.

Timestamps follow one rule: a value with a UTC offset (``Z``, ``+02:00``) is exact; a naive
value is ambiguous and is refused unless a time zone is given (``tz``), in which case it is
read as local time there; a local time the clocks skip or repeat there (a daylight-saving
change) is refused too. Parquet columns typed ``TIMESTAMP WITH TIME ZONE`` are exact.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from capacity.columns import (
    COUNT_METRICS,
    FRACTION_METRICS,
    METRIC,
    METRICS,
    REGION,
    SERVICE,
    TS,
    VALUE,
)
from capacity.errors import DataError, ParameterError
from capacity.records import not_a_file
from capacity.units import parse_duration

__all__ = [
    "AGGREGATES",
    "BAD_OFFSET_PATTERN",
    "MAX_GRID_ROWS",
    "MISSING_VALUES",
    "OFFSET_PATTERN",
    "TelemetryFile",
    "csv_line",
    "explain_problem",
    "future_problem",
    "grid_query",
    "inspect_telemetry",
    "past_problem",
    "problem_condition",
    "problem_counts_sql",
    "read_error",
    "read_series_csv",
    "row_problem",
    "telemetry_select",
]

Layout = Literal["auto", "long", "wide"]

#: How far a file is searched for a line of the wrong width when DuckDB found no header in
#: it: its sniffer samples about 20,000 lines, so the line it tripped on lies within them.
_SNIFFED_LINES = 50_000
#: A timestamp string that ends in a UTC offset after a time of day.
OFFSET_PATTERN = r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"
#: An offset no clock uses: beyond +-14:00 (the widest in use), or with 60 minutes or more.
#: DuckDB reads '+25:00' as 25 hours, which would move the row a day without a word.
BAD_OFFSET_PATTERN = (
    r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*"
    r"[+-]((1[5-9]|[2-9]\d)(:?\d{2})?|14:?(0[1-9]|[1-9]\d)|\d{2}:?[6-9]\d)$"
)
_METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEY_COLUMNS = (TS, REGION, SERVICE)
_LONG_COLUMNS = (TS, REGION, SERVICE, METRIC, VALUE)
_ALIASES = {"timestamp": TS, "time": TS, "datetime": TS, "date": TS, "ds": TS}
_NAIVE_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE")
_NON_NEGATIVE = (*METRICS,)


@dataclass(frozen=True)
class TelemetryFile:
    """What a telemetry file holds, as found by :func:`inspect_telemetry`.

    Attributes
    ----------
    path : Path
        The file.
    kind : {"csv", "parquet"}
        How it is read.
    layout : {"long", "wide"}
        Long: one row per (ts, region, service, metric). Wide: one column per metric.
    names : dict
        Canonical column name (``ts``, ``region``...) to the name used in the file.
    metric_columns : tuple of str
        Wide layout only: the file's metric columns.
    ts_type : str
        DuckDB's type of the timestamp column.
    unread_columns : tuple of str
        Long layout only: the file's columns other than the five it keeps (a ``host`` or
        ``instance`` label, a unit), which are not read.
    """

    path: Path
    kind: Literal["csv", "parquet"]
    layout: Literal["long", "wide"]
    names: dict[str, str]
    metric_columns: tuple[str, ...]
    ts_type: str
    unread_columns: tuple[str, ...] = ()

    def row_label(self, row: int) -> str:
        """Name data row ``row`` (1-based) as a person opening the file would find it."""
        return f"line {csv_line(self.path, row)}" if self.kind == "csv" else f"row {row}"


def csv_line(path: Path, row: int) -> int:
    """The line of a CSV file (header included, 1-based) that holds data row ``row``.

    DuckDB numbers the rows it reads and skips blank lines, so a file with blank lines would
    otherwise be pointed at the wrong line. Read only when an error names a row.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            fh.readline()  # the header
            seen = 0
            for number, line in enumerate(fh, start=2):
                if line.strip():
                    seen += 1
                    if seen == row:
                        return number
    except OSError:
        pass
    return row + 1


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _reader(kind: str) -> str:
    if kind == "csv":
        return "read_csv(?, header = true, all_varchar = true)"
    return "read_parquet(?)"


def _kind_of(path: Path) -> Literal["csv", "parquet"]:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz")):
        return "csv"
    raise DataError(
        f"unsupported file type {path.suffix or '(none)'!r}",
        source=str(path),
        fix="give a .csv, .csv.gz or .parquet file",
    )


def _damaged_fix(message: str) -> str | None:
    """The fix for a Parquet file DuckDB found cut short or corrupt, from its error message
    (a damaged gzip file is named by :func:`_gzip_damage`)."""
    if "magic bytes" in message.lower():
        return "the Parquet file is cut short or corrupt: copy or export it again"
    return None


def _gzip_damage(path: Path) -> DataError | None:
    """The error for a gzip file that does not decompress whole, else None.

    DuckDB reads a gzip file's damaged middle as text, so its complaint (a missing column, a
    malformed line) would send the user to the wrong fix. Only run once a read has failed:
    it decompresses the whole file.
    """
    if not path.name.lower().endswith(".gz"):
        return None
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return DataError(
            f"the gzip file is cut short or corrupt ({exc})",
            source=str(path),
            fix="copy or export it again (gzip -t tests it)",
        )
    return None


def inspect_telemetry(
    con: duckdb.DuckDBPyConnection, path: str | Path, *, layout: Layout = "auto"
) -> TelemetryFile:
    """Describe a telemetry file: its reader, layout and column names.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to run DuckDB's readers on.
    path : str or Path
        The file.
    layout : {"auto", "long", "wide"}
        The layout; ``auto`` picks long when the file has a ``metric`` or ``value`` column.

    Returns
    -------
    TelemetryFile

    Raises
    ------
    DataError
        When the file is missing, unreadable, or lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise not_a_file(path)
    kind = _kind_of(path)
    if path.stat().st_size == 0:
        raise DataError("the file is empty", source=str(path), fix="export the telemetry again")
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {_reader(kind)}", [str(path)]).fetchall()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise _gzip_damage(path) or DataError(
            f"cannot be read as {kind.upper()}: {first_line}",
            source=str(path),
            fix=_damaged_fix(first_line) or f"check that it is a {kind.upper()} file",
        ) from None
    types = {name: ctype for name, ctype, *_ in described}
    if kind == "csv" and any(re.search(r"_\d+$", name) for name in types):
        _check_repeated_columns(path)  # DuckDB renames a second 'ccu' to 'ccu_1'
    canonical: dict[str, str] = {}
    for name in types:
        key = name.strip().lower()
        canonical.setdefault(key, name)
    found = ", ".join(types)

    def require(column: str, why: str) -> str:
        if column in canonical:
            return canonical[column]
        alias = next((a for a, c in _ALIASES.items() if c == column and a in canonical), None)
        close = difflib.get_close_matches(column, list(canonical), n=1, cutoff=0.6)
        guess = canonical[alias] if alias else (canonical[close[0]] if close else None)
        fix = f"rename column {guess!r} to {column!r}" if guess else f"add a {column!r} column"
        damaged = _gzip_damage(path)
        if damaged is not None:
            raise damaged
        if kind == "csv":  # DuckDB's sniffer takes a header from a line short or long
            _check_field_counts(path, lines=_SNIFFED_LINES)
        raise DataError(
            f"required column {column!r} is missing ({why}); columns found: {found}",
            source=str(path),
            where="header",
            fix=fix,
        )

    if layout == "auto":
        layout = "long" if METRIC in canonical or VALUE in canonical else "wide"
    wide_columns = [n for k, n in canonical.items() if k in METRICS]
    if layout == "long" and METRIC not in canonical and VALUE not in canonical and wide_columns:
        raise DataError(
            "read as long (--format long), but the file is wide: it has no 'metric' and 'value' "
            f"columns and one column per metric ({', '.join(wide_columns)})",
            source=str(path),
            where="header",
            fix="give --format wide, or leave --format out to read the layout from the header",
        )
    if layout == "wide" and METRIC in canonical and VALUE in canonical:
        raise DataError(
            "read as wide (--format wide), but the file is long: it has 'metric' and 'value' "
            "columns, one row per metric",
            source=str(path),
            where="header",
            fix="give --format long, or leave --format out to read the layout from the header",
        )
    if layout == "long":
        names = {c: require(c, "long format") for c in _LONG_COLUMNS}
        metric_columns: tuple[str, ...] = ()
        unread = tuple(n for n in types if n not in set(names.values()))
    elif layout == "wide":
        names = {c: require(c, "wide format") for c in _KEY_COLUMNS}
        unread = ()
        used = set(names.values())
        metric_columns = tuple(n for n in types if n not in used)
        if not metric_columns:
            raise DataError(
                "no metric columns: a wide file needs one column per metric "
                f"(e.g. {', '.join(METRICS[:3])}); columns found: {found}",
                source=str(path),
                where="header",
                fix="add metric columns, or give a long file with 'metric' and 'value' columns",
            )
        for column in metric_columns:
            metric = column.strip().lower()
            if not _METRIC_NAME.match(metric):
                raise DataError(
                    f"column {column!r} is not a valid metric name (lower-case letters, "
                    "digits and underscores)",
                    source=str(path),
                    where="header",
                    fix=f"rename it, e.g. to {re.sub(r'[^a-z0-9_]+', '_', metric).strip('_')!r}",
                )
    else:
        raise DataError(f"unknown layout {layout!r}", source=str(path), fix="use long or wide")
    ts_type = types[names[TS]]
    if kind == "parquet" and ts_type not in ("VARCHAR", "TIMESTAMP WITH TIME ZONE", *_NAIVE_TYPES):
        raise DataError(
            f"column {names[TS]!r} has type {ts_type}, not a timestamp",
            source=str(path),
            fix="store timestamps as TIMESTAMP WITH TIME ZONE or ISO 8601 strings",
        )
    return TelemetryFile(path, kind, layout, names, metric_columns, ts_type, unread)


def _ts_expression(tf: TelemetryFile, tz: str | None) -> tuple[str, list[object]]:
    column = _quote(tf.names[TS])
    if tf.ts_type == "TIMESTAMP WITH TIME ZONE":
        return column, []
    if tf.ts_type in _NAIVE_TYPES:
        if tz is None:
            return "CAST(NULL AS TIMESTAMPTZ)", []
        return _wall_clock(f"CAST({column} AS TIMESTAMP)", tz)
    exact = f"try_cast({column} AS TIMESTAMPTZ)"
    # The cheap test for the common 'Z' suffix comes first: CASE skips the regular
    # expression for the rows it already matched.
    offsets = (
        f"WHEN ends_with({column}, 'Z') THEN {exact} "
        f"WHEN regexp_matches({column}, '{BAD_OFFSET_PATTERN}') THEN NULL "
        f"WHEN regexp_matches({column}, '{OFFSET_PATTERN}') THEN {exact}"
    )
    if tz is None:
        return f"CASE {offsets} END", []
    local, params = _wall_clock(f"try_cast({column} AS TIMESTAMP)", tz)
    return f"CASE {offsets} ELSE {local} END", params


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


def telemetry_select(
    tf: TelemetryFile, *, tz: str | None, with_row: bool = False
) -> tuple[str, list[object]]:
    """SQL selecting a file as long telemetry: ``ts, region, service, metric, value``.

    Unparseable (or, without ``tz``, naive) timestamps become NULL, as do values that are not
    numbers; validation counts them. With ``with_row`` the 1-based data row number ``_row``
    and the raw ``_ts_raw`` and ``_value_raw`` texts are added, for error messages.

    Parameters
    ----------
    tf : TelemetryFile
        The file, from :func:`inspect_telemetry`.
    tz : str, optional
        Time zone of naive timestamps.
    with_row : bool
        Add row numbers and raw texts.

    Returns
    -------
    tuple of (str, list)
        The query and its parameters, in order.
    """
    ts_expr, ts_params = _ts_expression(tf, tz)
    region, service = _quote(tf.names[REGION]), _quote(tf.names[SERVICE])
    extra = ""
    if with_row:
        extra = (
            f", _row, CAST({_quote(tf.names[TS])} AS VARCHAR) AS _ts_raw, "
            "CAST(_value AS VARCHAR) AS _value_raw"
        )
    numbered = "row_number() OVER () AS _row, " if with_row else ""
    if tf.layout == "long":
        source = f"(SELECT {numbered}* FROM {_reader(tf.kind)})"
        metric = f"CAST({_quote(tf.names[METRIC])} AS VARCHAR)"
        value_column = _quote(tf.names[VALUE])
        inner = f"(SELECT *, {value_column} AS _value FROM {source})"
    else:
        metrics = ", ".join(_quote(m) for m in tf.metric_columns)
        source = (
            f"(SELECT {numbered}{_quote(tf.names[TS])}, {region}, {service}, "
            + ", ".join(f"CAST({_quote(m)} AS VARCHAR) AS {_quote(m)}" for m in tf.metric_columns)
            + f" FROM {_reader(tf.kind)})"
        )
        metric = "lower(trim(_metric))"
        inner = f"(UNPIVOT {source} ON {metrics} INTO NAME _metric VALUE _value)"
    query = (
        f"SELECT {ts_expr} AS ts, CAST({region} AS VARCHAR) AS region, "
        f"CAST({service} AS VARCHAR) AS service, {metric} AS metric, "
        f"try_cast(_value AS DOUBLE) AS value{extra} FROM {inner}"
    )
    return query, [*ts_params, str(tf.path)]


def _clock_change(
    con: duckdb.DuckDBPyConnection, ts_raw: str, tz: str, tf: TelemetryFile, where: str
) -> DataError:
    """The error for a naive time that parses but is skipped or repeated in ``tz``."""
    from zoneinfo import ZoneInfo

    from capacity.records import localise, offset_choice

    naive = con.execute("SELECT CAST(? AS TIMESTAMP)", [ts_raw]).fetchall()[0][0]
    try:
        localise(
            naive,
            ZoneInfo(tz),
            field="timestamp",
            shown=ts_raw,
            source=str(tf.path),
            where=f"{where}, column {tf.names[TS]!r}",
            fix=f"write timestamps with their UTC offset ({offset_choice(naive, ZoneInfo(tz))} "
            "says which), or check the clock that recorded them",
        )
    except DataError as exc:
        return exc
    return DataError(  # DuckDB and zoneinfo disagree on the zone's rules; should not happen
        f"timestamp {ts_raw!r} could not be placed in {tz}",
        source=str(tf.path),
        where=f"{where}, column {tf.names[TS]!r}",
        fix="write timestamps with their UTC offset",
    )


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v + "'" for v in values) + ")"


#: How far past the machine's clock a telemetry time may lie (clocks and offsets disagree a
#: little); a later time is a typo, such as a wrong year or a local time read as UTC.
FUTURE_TOLERANCE_HOURS = 24

#: The earliest telemetry time read. An earlier one is a placeholder for a time that was
#: missing (0001-01-01 is the zero time of Go and .NET, 1970-01-01 the Unix epoch's zero,
#: 1900-01-01 a spreadsheet's), not a measurement: one such row would stretch its series over
#: decades of missing hours.
EARLIEST_TELEMETRY = "2000-01-01T00:00:00Z"

#: Named row problems, each a SQL condition over long telemetry rows, in the order checked.
_PROBLEMS: dict[str, str] = {
    "ts": "ts IS NULL",
    "value": "value IS NULL",
    "key": "coalesce(region, '') = '' OR coalesce(service, '') = '' OR coalesce(metric, '') = ''",
    "finite": "NOT isfinite(value)",
    "negative": f"metric IN {_in_list(_NON_NEGATIVE)} AND value < 0",
    "fraction": f"metric IN {_in_list(FRACTION_METRICS)} AND value > 1",
    "past": f"ts < TIMESTAMPTZ '{EARLIEST_TELEMETRY}'",
    "future": f"ts > get_current_timestamp() + INTERVAL {FUTURE_TOLERANCE_HOURS} HOUR",
}


def problem_condition(problem: str) -> str:
    """The SQL condition that finds rows with ``problem`` (a key of the checks)."""
    return _PROBLEMS[problem]


def problem_counts_sql(relation: str) -> str:
    """SQL counting each kind of bad row in ``relation`` (one row, one column per problem)."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE {cond}) AS {name}" for name, cond in _PROBLEMS.items()
    )
    return f"SELECT {counts} FROM {relation}"


def explain_problem(
    con: duckdb.DuckDBPyConnection, tf: TelemetryFile, problem: str, *, tz: str | None
) -> DataError:
    """Find the first row with ``problem`` in the file and describe it.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to read the file with.
    tf : TelemetryFile
        The file.
    problem : str
        A key of the checks counted by :func:`problem_counts_sql`.
    tz : str, optional
        As given to the load.

    Returns
    -------
    DataError
        The error to raise, naming file, row, column and fix.
    """
    query, params = telemetry_select(tf, tz=tz, with_row=True)
    rows = con.execute(
        f"SELECT _row, _ts_raw, _value_raw, region, service, metric, value FROM ({query}) "
        f"WHERE {_PROBLEMS[problem]} ORDER BY _row LIMIT 1",
        params,
    ).fetchall()
    if not rows:  # the load's rows and the file disagree; should not happen
        return DataError(f"has rows that fail the {problem!r} check", source=str(tf.path))
    number, ts_raw, value_raw, region, service, metric, value = rows[0]
    where = tf.row_label(number)
    if problem == "ts":
        if ts_raw is not None and re.search(BAD_OFFSET_PATTERN, ts_raw.strip()):
            return DataError(
                f"timestamp {ts_raw!r} has a UTC offset no clock uses ("
                "no zone is more than 14:00 from UTC, and minutes stop at 59)",
                source=str(tf.path),
                where=f"{where}, column {tf.names[TS]!r}",
                fix="correct the offset (e.g. +01:00 for Berlin in winter, Z for UTC)",
            )
        naive = ts_raw is not None and re.search(OFFSET_PATTERN, ts_raw) is None
        check = "SELECT try_cast(? AS TIMESTAMP) IS NOT NULL"
        parses = naive and con.execute(check, [ts_raw]).fetchall()[0][0]
        if parses and tz is None:
            return DataError(
                f"timestamp {ts_raw!r} has no UTC offset, so its time zone is ambiguous",
                source=str(tf.path),
                where=f"{where}, column {tf.names[TS]!r}",
                fix="write timestamps with an offset (e.g. 2026-01-05T14:00:00Z) or pass "
                "--tz with the zone they were recorded in",
            )
        if parses:
            return _clock_change(con, ts_raw, tz, tf, where)
        return DataError(
            f"timestamp {ts_raw!r} does not parse",
            source=str(tf.path),
            where=f"{where}, column {tf.names[TS]!r}",
            fix="use ISO 8601 with an offset, e.g. 2026-01-05T14:00:00Z",
        )
    if problem in ("past", "future"):
        text, fix = (past_problem if problem == "past" else future_problem)(ts_raw)
        return DataError(
            text, source=str(tf.path), where=f"{where}, column {tf.names[TS]!r}", fix=fix
        )
    if problem == "key":
        empty = _empty_part(region, service, metric)
        column = tf.names.get(empty, empty)
    else:
        column = tf.names.get(VALUE, metric)
    text, fix = row_problem(
        problem, region=region, service=service, metric=metric, value=value, shown=value_raw
    )
    return DataError(text, source=str(tf.path), where=f"{where}, column {column!r}", fix=fix)


def _empty_part(region: str | None, service: str | None, metric: str | None) -> str:
    """The first empty part of a row's key."""
    return next(n for n, v in ((REGION, region), (SERVICE, service), (METRIC, metric)) if not v)


def future_problem(shown: object) -> tuple[str, str]:
    """What is wrong with a telemetry time later than now, and the fix.

    Parameters
    ----------
    shown : object
        The time as written (or as read, for an in-memory load).

    Returns
    -------
    tuple of (str, str)
        The problem and its fix.
    """
    now = pd.Timestamp.now(tz="UTC").floor("min")
    return (
        f"time {str(shown)!r} is more than {FUTURE_TOLERANCE_HOURS} hours after now "
        f"({now:%Y-%m-%d %H:%M} UTC): telemetry is measured, so it cannot come from the future",
        "check that row's year and UTC offset (or the --tz given), or the clock of the machine "
        "that recorded it",
    )


def past_problem(shown: object) -> tuple[str, str]:
    """What is wrong with a telemetry time before :data:`EARLIEST_TELEMETRY`, and the fix.

    Parameters
    ----------
    shown : object
        The time as written (or as read, for an in-memory load).

    Returns
    -------
    tuple of (str, str)
        The problem and its fix.
    """
    return (
        f"time {str(shown)!r} is before {EARLIEST_TELEMETRY[:10]}, the earliest telemetry time "
        "read: most likely a placeholder for a missing time (0001-01-01, 1970-01-01, "
        "1900-01-01), not a measurement",
        "drop the row, or export it again with its real time",
    )


def row_problem(
    problem: str,
    *,
    region: str | None,
    service: str | None,
    metric: str | None,
    value: float | None,
    shown: str | None,
) -> tuple[str, str]:
    """What is wrong with a long telemetry row, and the fix, for a problem other than ``ts``.

    Parameters
    ----------
    problem : str
        A key of the checks counted by :func:`problem_counts_sql`, but not ``"ts"``,
        ``"past"`` or ``"future"``.
    region, service, metric : str, optional
        The row's key.
    value : float, optional
        Its value as read; ``shown`` is the value as written, for messages.

    Returns
    -------
    tuple of (str, str)
        The problem and its fix.
    """
    if problem == "value":
        text = "empty" if shown in (None, "") else f"{shown!r}, not a number"
        return (
            f"value of metric {metric!r} is {text}",
            "give a number, or drop the row (missing hours are gaps, not zeros)",
        )
    if problem == "key":
        empty = _empty_part(region, service, metric)
        return f"{empty} is empty", f"fill in the {empty} of every row"
    if problem == "finite":
        return (
            f"value of metric {metric!r} is {shown!r}, not a finite number",
            "give a finite number or drop the row",
        )
    if problem == "negative":
        what = "a count" if metric in COUNT_METRICS else "a non-negative measure"
        return (
            f"value of metric {metric!r} is {value:g}, but {metric} is {what} and cannot be "
            "negative",
            "correct the value or drop the row",
        )
    return (
        f"value of metric {metric!r} is {value:g}, outside [0, 1]",
        f"give {metric} as a fraction (divide percentages by 100)",
    )


#: Values read as gaps in a series CSV, like empty ones (compared in lower case).
MISSING_VALUES = ("nan", "na", "n/a", "null", "none")
#: The most grid steps a series CSV is resampled to (about 1 GB of memory).
MAX_GRID_ROWS = 2_000_000
_EPOCH = re.compile(r"^[+-]?\d{9,14}(\.\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")

#: How values within a time bucket combine, by the name users give.
AGGREGATES = {
    "mean": "avg(value)",
    "max": "max(value)",
    "min": "min(value)",
    "sum": "sum(value)",
    "median": "median(value)",
    "first": "arg_min(value, ts)",
    "last": "arg_max(value, ts)",
}


def grid_query(
    relation: str,
    params: list[object],
    *,
    freq: str,
    agg: str,
    start: object = None,
    end: object = None,
) -> tuple[str, list[object]]:
    """SQL resampling series to a regular grid where empty buckets are NULL, never zero.

    Parameters
    ----------
    relation : str
        A parenthesised query with columns ``region, service, metric, ts, value``.
    params : list
        Its parameters.
    freq : str
        Bucket width, e.g. ``"1h"``.
    agg : str
        A key of :data:`AGGREGATES`.
    start, end : timestamp, optional
        The grid covers the buckets from ``start`` to before ``end``; by default each
        series' first to last bucket.

    Returns
    -------
    tuple of (str, list)
        The query (columns ``ts, region, service, metric, value``, sorted by series and
        time) and its parameters.
    """
    width = parse_duration(freq, "freq")
    if agg not in AGGREGATES:
        raise ParameterError(
            f"The 'agg' parameter must be one of {', '.join(AGGREGATES)}. Got {agg!r}."
        )
    interval = f"{int(width.total_seconds() * 1_000_000)} microseconds"
    query = f"""
        WITH buckets AS (
            SELECT region, service, metric, time_bucket(CAST(? AS INTERVAL), ts) AS ts,
                   {AGGREGATES[agg]} AS value
            FROM {relation} AS selected
            GROUP BY ALL
        ), spans AS (
            SELECT region, service, metric,
                   coalesce(time_bucket(CAST(? AS INTERVAL), CAST(? AS TIMESTAMPTZ)),
                            min(ts)) AS lo,
                   coalesce(time_bucket(CAST(? AS INTERVAL),
                                        CAST(? AS TIMESTAMPTZ) - INTERVAL 1 MICROSECOND),
                            max(ts)) AS hi
            FROM buckets GROUP BY ALL
        ), grid AS (
            SELECT region, service, metric,
                   unnest(generate_series(lo, hi, CAST(? AS INTERVAL))) AS ts
            FROM spans
        )
        SELECT g.ts, g.region, g.service, g.metric, b.value
        FROM grid g LEFT JOIN buckets b USING (region, service, metric, ts)
        ORDER BY g.region, g.service, g.metric, g.ts
    """
    return query, [interval, *params, interval, start, interval, end, interval]


def read_series_csv(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    time_column: str,
    value_column: str,
    freq: str = "1h",
    agg: str = "mean",
    before: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Read one time series from any CSV and resample it to a regular grid.

    Timestamps with an offset are exact; naive ones are taken as UTC. Empty values and the
    words in :data:`MISSING_VALUES` (``NaN``, ``NA``, ``null``, ...) are gaps; buckets with no
    value are NaN.

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

    Returns
    -------
    pandas.DataFrame
        Columns ``ts`` (UTC) and ``value``.

    Raises
    ------
    DataError
        When the file or a column is missing, a time or value does not parse, a value is
        negative, or the grid would have more than :data:`MAX_GRID_ROWS` steps.
    """
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
        raise DataError(f"cannot be read as CSV: {first_line}", source=str(path)) from None
    if len(found) == 1 and time_column not in found:
        _check_field_counts(path)
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
    numbered = (
        f"(SELECT row_number() OVER () AS _row, {t} AS _t, {v} AS _v, "
        f"try_cast({t} AS TIMESTAMPTZ) AS ts, "
        f"CASE WHEN lower(trim(coalesce({v}, ''))) IN ({missing}) THEN NULL "
        f"ELSE try_cast({v} AS DOUBLE) END AS value FROM {reader})"
    )
    try:
        bad = con.execute(
            f"SELECT _row, _t, _v, ts IS NULL, value < 0 FROM {numbered} WHERE ts IS NULL "
            f"OR (value IS NULL AND lower(trim(coalesce(_v, ''))) NOT IN ({missing})) "
            "OR NOT isfinite(value) OR value < 0 ORDER BY _row LIMIT 1",
            [str(path)],
        ).fetchone()
        rows = con.execute(f"SELECT count(*) FROM {reader}", [str(path)]).fetchone()[0]
    except duckdb.Error as exc:  # a malformed line past the part the sniffer read
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
        problem, fix = _unreadable_time(raw) if bad_time else _unreadable_value(raw)
        raise DataError(
            problem,
            source=str(path),
            where=f"line {csv_line(path, row)}, column {column!r}",
            fix=fix,
        )
    _check_grid_size(con, numbered, path, freq=freq, before=before)
    relation = (
        f"(SELECT 'series' AS region, '' AS service, '' AS metric, ts, value FROM {numbered} "
        "WHERE value IS NOT NULL AND (CAST(? AS TIMESTAMPTZ) IS NULL OR ts < ?))"
    )
    query, params = grid_query(
        relation, [str(path), before, before], freq=freq, agg=agg, end=before
    )
    frame = con.execute(query, params).df()
    return pd.DataFrame({"ts": frame["ts"], "value": frame["value"].astype("float64")}).reset_index(
        drop=True
    )


def _unreadable_time(raw: str) -> tuple[str, str]:
    """The problem and fix for a time that does not parse, guessing the usual causes."""
    text = str(raw).strip()
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
    text = str(raw).strip()
    thousands, decimal = _THOUSANDS.match(text), _DECIMAL_COMMA.match(text)
    if thousands and decimal:  # 1,002: a thousand and two, or one and two thousandths
        return (
            f"value {raw!r} has a comma, a thousands separator or a decimal comma",
            f"write plain numbers with a decimal point ({text.replace(',', '')} or "
            f"{text.replace(',', '.')}), or leave it empty for a gap",
        )
    if thousands:
        return (
            f"value {raw!r} has thousands separators",
            f"write plain numbers ({text.replace(',', '')}), or leave it empty for a gap",
        )
    if decimal:
        return (
            f"value {raw!r} has a decimal comma",
            f"write a decimal point ({text.replace(',', '.')}), or leave it empty for a gap",
        )
    return (
        f"value {raw!r} does not parse",
        "give a number, or leave it empty (or NaN) for a gap",
    )


def _check_grid_size(
    con: duckdb.DuckDBPyConnection,
    numbered: str,
    path: Path,
    *,
    freq: str,
    before: pd.Timestamp | None,
) -> None:
    """Refuse a ``freq`` so fine for the file's span that the grid would not fit in memory.

    The grid has a row per step from the first value to the last (or to ``before``), empty
    steps included: a year of hourly values at ``1s`` is 31 million rows.
    """
    width = parse_duration(freq, "freq")
    first, last = con.execute(
        f"SELECT min(ts), max(ts) FROM {numbered} WHERE value IS NOT NULL "
        "AND (CAST(? AS TIMESTAMPTZ) IS NULL OR ts < ?)",
        [str(path), before, before],
    ).fetchone()
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


def _check_repeated_columns(path: Path) -> None:
    """Refuse a CSV header that names a column twice (in any case or spacing)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.readline()
    sep = max(",;\t|", key=head.count)
    seen: dict[str, str] = {}
    for name in next(csv.reader([head], delimiter=sep), []):
        key = name.strip().lower()
        if key in seen:
            raise DataError(
                f"column {name.strip()!r} appears twice in the header",
                source=str(path),
                where="line 1",
                fix="keep one of them, or rename the other",
            )
        seen[key] = name


def _check_field_counts(path: Path, *, lines: int = 10_000) -> None:
    """Name the first line whose field count differs from the header's.

    DuckDB's sniffer reads a file whose early rows disagree with the header as one column
    named after the whole header line, which would otherwise surface as a column that is
    "not found" beside a column that looks just like it.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8", errors="replace") as fh:
        head = fh.readline()
        counts = {sep: head.count(sep) for sep in ",;\t|"}
        sep = max(counts, key=counts.get)
        if counts[sep] == 0:
            return
        width = len(next(csv.reader([head], delimiter=sep)))
        for number, fields in enumerate(csv.reader(fh, delimiter=sep), start=2):
            if number > lines:
                return
            if fields and len(fields) != width:
                raise DataError(
                    f"{len(fields)} fields where the header has {width}",
                    source=str(path),
                    where=f"line {number}",
                    fix=f"give every line {width} fields separated by {sep!r}, "
                    "or quote values that contain it",
                )


def read_error(exc: duckdb.Error, path: Path | str, what: str = "cannot be read") -> DataError:
    """Word a DuckDB read failure as a :class:`DataError` naming the file and, when DuckDB
    says which, the line and what is wrong with it.

    Parameters
    ----------
    exc : duckdb.Error
        The error DuckDB raised while reading ``path``.
    path : Path or str
        The file being read.
    what : str
        The headline when DuckDB names no line (e.g. ``"cannot be read as CSV"``).

    Returns
    -------
    DataError
        The error to raise.
    """
    damaged = _gzip_damage(Path(path))
    if damaged is not None:
        return damaged
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    fields = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if line and fields:
        width, found = fields.groups()
        return DataError(
            f"{found} fields where the header has {width}",
            source=str(path),
            where=f"line {line.group(1)}",
            fix=f"give every line {width} fields, or quote values that contain the separator",
        )
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    damaged = _damaged_fix(first_line)
    if damaged:
        return DataError(f"{what}: {first_line}", source=str(path), fix=damaged)
    if line:
        return DataError(f"{what}: {first_line}", source=str(path), where=f"line {line.group(1)}")
    return DataError(f"{what}: {first_line}", source=str(path))
