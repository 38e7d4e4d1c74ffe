"""A telemetry file described (:class:`TelemetryFile`, :func:`inspect_telemetry`: its reader,
layout and column names, refused with the fix when unusable) and read as long telemetry in SQL
(:func:`telemetry_select`)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from capacity.columns import METRIC, METRICS, REGION, SERVICE, TS, VALUE
from capacity.errors import DataError
from capacity.records import not_a_file
from capacity.sources.csv_checks import _check_field_counts, _check_repeated_columns, csv_line
from capacity.sources.read_errors import _damaged_fix, _gzip_damage, not_utf8_text
from capacity.sources.sql import _quote, _reader
from capacity.sources.times import (
    _AWARE_TYPES,
    _NAIVE_TYPES,
    BAD_OFFSET_PATTERN,
    NAMED_ZONE_PATTERN,
    OFFSET_PATTERN,
    _wall_clock,
)

Layout = Literal["auto", "long", "wide"]

#: How far a file is searched for a line of the wrong width when DuckDB found no header in
#: it: its sniffer samples about 20,000 lines, so the line it tripped on lies within them.
_SNIFFED_LINES = 50_000
_METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEY_COLUMNS = (TS, REGION, SERVICE)
_LONG_COLUMNS = (TS, REGION, SERVICE, METRIC, VALUE)
_ALIASES = {"timestamp": TS, "time": TS, "datetime": TS, "date": TS, "ds": TS}


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
        # DuckDB reads only UTF-8 and says "CSV Error on Line: 2" for any other text
        named = _gzip_damage(path) or (not_utf8_text(path) if kind == "csv" else None)
        raise named or DataError(
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
    if kind == "parquet" and ts_type not in ("VARCHAR", *_AWARE_TYPES, *_NAIVE_TYPES):
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
    if tf.ts_type in _AWARE_TYPES:
        return f"CAST({column} AS TIMESTAMPTZ)", []
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
        f"WHEN regexp_matches({column}, '{OFFSET_PATTERN}') THEN {exact} "
        # a zone's name ('... UTC'): exact, never the naive time a TIMESTAMP cast would keep
        f"WHEN regexp_matches({column}, '{NAMED_ZONE_PATTERN}') THEN {exact}"
    )
    if tz is None:
        return f"CASE {offsets} END", []
    local, params = _wall_clock(f"try_cast({column} AS TIMESTAMP)", tz)
    return f"CASE {offsets} ELSE {local} END", params


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
