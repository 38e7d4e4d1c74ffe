"""The telemetry table: loading files and frames into it, and reading it back.

A load inserts rows straight from DuckDB's file reader (or from a frame) tagged with a new
``load_id``, counts every kind of bad row in one query and names the first, refuses names
nothing would read (a metric outside the vocabulary; with a fleet, unknown regions and
services), refuses conflicting duplicate keys and keeps identical ones once, then merges with
the rows already stored: older rows with the same key are replaced, and so are older rows at
other times of the hours the load holds, so an hour is always one load's. Uniqueness of
``(ts, region, service, metric)`` is kept here rather than by a PRIMARY KEY, which would make
bulk loads about ten times slower. Every function runs inside the caller's connection; the
loading ones open their own transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from capacity import sources
from capacity.columns import METRIC, METRICS, REGION, SERVICE, TELEMETRY_COLUMNS, TS, VALUE
from capacity.config import FleetConfig
from capacity.errors import DataError, ParameterError
from capacity.records import did_you_mean
from capacity.store.loads import (
    already_loaded,
    check_tz,
    file_sha256,
    maybe_loaded,
    next_load_id,
    record_load,
)
from capacity.store.reports import LoadReport
from capacity.store.sql import as_list, distinct, registered, transaction, utc


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    *,
    layout: sources.Layout = "auto",
    tz: str | None = None,
    fleet: FleetConfig | None = None,
) -> list[LoadReport]:
    """Load telemetry files in one transaction (``Store.ingest``); one report per file."""
    check_tz(tz)
    options = json.dumps({"layout": layout, "tz": tz}, sort_keys=True)
    reports: list[LoadReport] = []
    with transaction(con), ThreadPoolExecutor(max_workers=1) as hasher:
        for raw_path in paths:
            path = Path(raw_path)
            tf = sources.inspect_telemetry(con, path, layout=layout)
            if maybe_loaded(con, "telemetry", path.stat().st_size, options):
                digest = file_sha256(path)
                if already_loaded(con, "telemetry", digest, options):
                    reports.append(LoadReport(str(path), digest, 0, 0, 0, 0, skipped=True))
                    continue
                pending = None
            else:  # no earlier file of this size: hash while DuckDB reads
                pending = hasher.submit(file_sha256, path)
            load_id = next_load_id(con)
            counts = _load_telemetry_file(con, tf, load_id, tz=tz, fleet=fleet)
            if pending is not None:
                digest = pending.result()
            *counts, collapsed, replaced = counts
            report = LoadReport(
                str(path),
                digest,
                *counts,
                collapsed=collapsed,
                replaced=replaced,
                unread_columns=tf.unread_columns,
            )
            record_load(con, load_id, "telemetry", report, options)
            reports.append(report)
    return reports


def ingest_frame(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    *,
    source: str,
    fleet: FleetConfig | None = None,
    fix: str | None = None,
) -> LoadReport:
    """Load long telemetry rows held in memory, in one transaction (``Store.ingest_frame``):
    the checks and merge of a file's rows, an error naming a bad row by its key."""
    data = _long_frame(frame, source=source, fix=fix)
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes()
    ).hexdigest()
    options = json.dumps({"frame": True}, sort_keys=True)
    with transaction(con):
        if already_loaded(con, "telemetry", digest, options):
            return LoadReport(source, digest, 0, 0, 0, 0, skipped=True)
        if data.empty:
            return LoadReport(source, digest, 0, 0, 0, 0)
        load_id = next_load_id(con)
        with registered(con, "_incoming_frame", data):
            con.execute(
                "INSERT INTO telemetry SELECT ts, region, service, metric, value, ? "
                "FROM _incoming_frame",
                [load_id],
            )
        counts = _problem_counts(con, "(SELECT * FROM telemetry WHERE load_id = ?)", [load_id])
        problem = next((name for name, count in counts.items() if count), None)
        if problem is not None:
            row = _first_row(con, load_id, sources.problem_condition(problem))
            raise _row_error(problem, row, source=source, fix=fix)
        for column, known in _names_to_check(fleet):
            name = _unknown_in_load(con, load_id, column, known)
            if name is not None:
                where = _row_name(_first_row(con, load_id, f"{column} = ?", [name]))
                raise _unknown_error(column, name, known, source=source, where=where, fix=fix)
        rows, lo, hi = con.execute(
            "SELECT count(*), min(ts), max(ts) FROM telemetry WHERE load_id = ?", [load_id]
        ).fetchall()[0]
        conflict = _conflict(con, load_id, rows)
        if conflict:
            key = "ts = ? AND region = ? AND service = ? AND metric = ?"
            where = _row_name(_first_row(con, load_id, key, conflict[:4]))
            raise _conflict_error(conflict, source=source, where=where)
        read = rows
        if conflict is not None:
            rows = _collapse(con, load_id)
        *merged, replaced = _merge(con, load_id, rows, lo, hi)
        report = LoadReport(source, digest, rows, *merged, collapsed=read - rows, replaced=replaced)
        record_load(con, load_id, "telemetry", report, options, size=len(data))
    return report


def newest(con: duckdb.DuckDBPyConnection, metrics: Collection[str]) -> dict[str, pd.Timestamp]:
    """The newest stored time of each of ``metrics`` that has rows (any region/service)."""
    rows = con.execute(
        "SELECT metric, max(ts) FROM telemetry WHERE list_contains(?, metric) GROUP BY metric",
        [list(metrics)],
    ).fetchall()
    return {metric: pd.Timestamp(ts).tz_convert("UTC") for metric, ts in rows}


def stored_series(
    con: duckdb.DuckDBPyConnection, metrics: Collection[str]
) -> set[tuple[str, str, str]]:
    """The ``(region, service, metric)`` series the store holds rows of, for ``metrics``."""
    rows = con.execute(
        "SELECT DISTINCT region, service, metric FROM telemetry WHERE list_contains(?, metric)",
        [list(metrics)],
    ).fetchall()
    return {(region, service, metric) for region, service, metric in rows}


def _load_telemetry_file(
    con: duckdb.DuckDBPyConnection,
    tf: sources.TelemetryFile,
    load_id: int,
    *,
    tz: str | None,
    fleet: FleetConfig | None,
) -> tuple[int, int, int, int, int, int]:
    """Insert one file's rows under ``load_id``, validate and merge them.

    Returns rows, inserted, updated and unchanged counts, the identical duplicate rows
    dropped and the stored rows of its hours replaced.
    """
    query, params = sources.telemetry_select(tf, tz=tz)
    try:
        con.execute(
            f"INSERT INTO telemetry SELECT ts, region, service, metric, value, ? FROM ({query})",
            [load_id, *params],
        )
    except duckdb.Error as exc:
        raise sources.read_error(exc, tf.path) from None
    mine = "(SELECT * FROM telemetry WHERE load_id = ?)"
    counts = _problem_counts(con, mine, [load_id])
    if any(counts.values()):
        raise _first_problem(con, tf, counts, tz)
    rows, lo, hi = con.execute(
        "SELECT count(*), min(ts), max(ts) FROM telemetry WHERE load_id = ?", [load_id]
    ).fetchall()[0]
    if rows == 0:
        raise DataError("has no data rows", source=str(tf.path), fix="check the file")
    _check_file_names(con, tf, fleet, load_id, tz)
    read = rows
    rows = _deduplicate(con, tf, load_id, rows, tz)
    inserted, updated, unchanged, replaced = _merge(con, load_id, rows, lo, hi)
    return rows, inserted, updated, unchanged, read - rows, replaced


def _deduplicate(
    con: duckdb.DuckDBPyConnection,
    tf: sources.TelemetryFile,
    load_id: int,
    rows: int,
    tz: str | None,
) -> int:
    """Refuse conflicting duplicate keys in one file; collapse identical ones."""
    conflict = _conflict(con, load_id, rows)
    if conflict is None:
        return rows
    if conflict:
        ts, region, service, metric = conflict[:4]
        query, params = sources.telemetry_select(tf, tz=tz, with_row=True)
        lines = [
            r[0]
            for r in con.execute(
                f"SELECT _row FROM ({query}) WHERE ts = ? AND region = ? AND service = ? "
                "AND metric = ? ORDER BY _row LIMIT 2",
                [*params, ts, region, service, metric],
            ).fetchall()
        ]
        where = " and ".join(tf.row_label(n) for n in lines)
        raise _conflict_error(conflict, source=str(tf.path), where=where, unread=tf.unread_columns)
    return _collapse(con, load_id)


def _conflict(con: duckdb.DuckDBPyConnection, load_id: int, rows: int) -> tuple | None:
    """None when every key of the load is unique; else its first conflicting key and
    values, or ``()`` when the repeated keys all repeat the same value."""
    distinct = con.execute(
        "SELECT count(DISTINCT hash(ts, region, service, metric)) FROM telemetry WHERE load_id = ?",
        [load_id],
    ).fetchall()[0][0]
    if distinct == rows:
        return None
    conflict = con.execute(
        "SELECT ts, region, service, metric, min(value), max(value) FROM telemetry "
        "WHERE load_id = ? GROUP BY ALL HAVING min(value) <> max(value) "
        "ORDER BY ts, region, service, metric LIMIT 1",
        [load_id],
    ).fetchall()
    return conflict[0] if conflict else ()


def _collapse(con: duckdb.DuckDBPyConnection, load_id: int) -> int:
    """Keep one of each set of identical rows of the load; return its rows."""
    con.execute(
        "DELETE FROM telemetry WHERE load_id = ? AND rowid NOT IN ("
        "SELECT min(rowid) FROM telemetry WHERE load_id = ? "
        "GROUP BY ts, region, service, metric)",
        [load_id, load_id],
    )
    return con.execute("SELECT count(*) FROM telemetry WHERE load_id = ?", [load_id]).fetchall()[0][
        0
    ]


def _merge(
    con: duckdb.DuckDBPyConnection, load_id: int, rows: int, lo: Any, hi: Any
) -> tuple[int, int, int, int]:
    """Replace older rows that share a key with this load's rows, and the older rows at
    other times of the hours it holds (series are read as hourly means: an hour is one
    load's); count inserted, updated, unchanged and replaced rows."""
    # the hours this load touches, whole
    lo, hi = pd.Timestamp(lo).floor("h"), pd.Timestamp(hi).floor("h") + pd.Timedelta(hours=1)
    overlapping = con.execute(
        "SELECT count(*) FROM telemetry WHERE load_id <> ? AND ts >= ? AND ts < ?",
        [load_id, lo, hi],
    ).fetchall()[0][0]
    if not overlapping:
        return rows, 0, 0, 0
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _matched AS "
        "SELECT o.rowid AS old_row, o.value = n.value AS same "
        "FROM telemetry o JOIN telemetry n USING (ts, region, service, metric) "
        "WHERE o.load_id <> ? AND n.load_id = ? AND o.ts >= ? AND o.ts < ?",
        [load_id, load_id, lo, hi],
    )
    matched, unchanged = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE same) FROM _matched"
    ).fetchall()[0]
    con.execute("DELETE FROM telemetry WHERE rowid IN (SELECT old_row FROM _matched)")
    con.execute("DROP TABLE _matched")
    replaced = con.execute(
        "DELETE FROM telemetry o USING (SELECT DISTINCT region, service, metric, "
        "date_trunc('hour', ts) AS hour FROM telemetry WHERE load_id = ?) n "
        "WHERE o.load_id <> ? AND o.ts >= ? AND o.ts < ? AND o.region = n.region "
        "AND o.service = n.service AND o.metric = n.metric "
        "AND date_trunc('hour', o.ts) = n.hour",
        [load_id, load_id, lo, hi],
    ).fetchall()[0][0]
    return rows - matched, matched - unchanged, unchanged, replaced


def series(
    con: duckdb.DuckDBPyConnection,
    *,
    region: str | Collection[str] | None = None,
    service: str | Collection[str] | None = None,
    metric: str | Collection[str] | None = None,
    start: Any = None,
    end: Any = None,
    freq: str = "1h",
    agg: str = "mean",
    strict: bool = False,
    source: str | None = None,
) -> pd.DataFrame:
    """Telemetry resampled to a regular grid, in tidy form (``Store.series``): every bucket
    of each series, NaN where it has no data. ``strict`` refuses names the store has never
    held (see :func:`check_filter_names`)."""
    lo, hi = utc(start, "start"), utc(end, "end")
    regions, services, metrics = as_list(region), as_list(service), as_list(metric)
    if strict:
        check_filter_names(con, regions, services, metrics, source=source)
        if lo is not None and hi is not None and lo >= hi:
            # an empty window is a mistake as a typo'd name is, not a series without data
            raise ParameterError(
                f"start ({lo:%Y-%m-%d %H:%M} UTC) must be before end "
                f"({hi:%Y-%m-%d %H:%M} UTC): the window holds no time",
                source=source,
                where="start",
                fix="swap them, or pass None for an open end",
            )
    selected = """(
        SELECT region, service, metric, ts, value FROM telemetry
        WHERE (? IS NULL OR list_contains(?, region))
          AND (? IS NULL OR list_contains(?, service))
          AND (? IS NULL OR list_contains(?, metric))
          AND (? IS NULL OR ts >= ?) AND (? IS NULL OR ts < ?)
    )"""
    selected_params = [regions, regions, services, services, metrics, metrics, lo, lo, hi, hi]
    query, params = sources.grid_query(
        selected, selected_params, freq=freq, agg=agg, start=lo, end=hi
    )
    frame = con.execute(query, params).df()
    frame["value"] = frame["value"].astype("float64")
    return frame.loc[:, list(TELEMETRY_COLUMNS)].reset_index(drop=True)


def check_filter_names(
    con: duckdb.DuckDBPyConnection,
    regions: Sequence[str] | None,
    services: Sequence[str] | None,
    metrics: Sequence[str] | None,
    *,
    source: str | None = None,
) -> None:
    """Refuse a filter that names a metric outside the vocabulary, or a region or service
    no stored telemetry row has: a typo would otherwise read as a series with no data.

    Raises
    ------
    ParameterError
        Naming the argument, the value, the closest stored name and the names stored.
    """
    for name in metrics or ():
        if name not in METRICS:
            raise _unknown_error(
                METRIC,
                name,
                METRICS,
                source=source,
                where="metric",
                fix="ask for one of those",
                error=ParameterError,
            )
    for column, names in ((REGION, regions), (SERVICE, services)):
        if not names:
            continue
        stored = distinct(con, f"SELECT {column} FROM telemetry")  # column: a constant
        unknown = [name for name in names if name not in set(stored)]
        if unknown:
            name = unknown[0]
            raise ParameterError(
                f"the store holds no telemetry of {column} {name!r}{did_you_mean(name, stored)}; "
                f"its {column}s are {', '.join(stored) or 'none (it holds no telemetry)'}",
                source=source,
                where=column,
                fix=f"ask for a stored {column} (capacity status lists them), "
                "or pass strict=False to get an empty frame for names not stored",
            )


def _problem_counts(con: duckdb.DuckDBPyConnection, relation: str, params: list[Any]) -> dict:
    """How many rows of ``relation`` have each kind of problem (one aggregate query)."""
    cursor = con.execute(sources.problem_counts_sql(relation), params)
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchall()[0], strict=True))


def _first_problem(
    con: duckdb.DuckDBPyConnection, tf: sources.TelemetryFile, counts: dict, tz: str | None
) -> DataError:
    """The error naming the first row with the first kind of problem counted."""
    problem = next(name for name, count in counts.items() if count)
    return sources.explain_problem(con, tf, problem, tz=tz)


def _unknown_in_load(
    con: duckdb.DuckDBPyConnection, load_id: int, column: str, known: Collection[str]
) -> str | None:
    """The first value of ``column`` in this load outside ``known``."""
    unknown = con.execute(
        f"SELECT DISTINCT {column} FROM telemetry WHERE load_id = ? "
        f"AND NOT list_contains(?, {column}) ORDER BY 1 LIMIT 1",
        [load_id, list(known)],
    ).fetchall()
    return unknown[0][0] if unknown else None


def _unknown_error(
    column: str,
    name: str,
    known: Collection[str],
    *,
    source: str | None,
    where: str,
    fix: str | None = None,
    error: type[DataError] | type[ParameterError] = DataError,
) -> DataError | ParameterError:
    """The error for a region, service or metric that is not one of ``known``: a
    ``DataError`` for a file's row, ``error`` when the name was a parameter."""
    hint = did_you_mean(name, known)
    if column == METRIC:
        return error(
            f"unknown metric {name!r}{hint}; capacity reads {', '.join(known)}",
            source=source,
            where=where,
            fix=fix or "rename it to one of those, or leave it out",
        )
    return DataError(
        f"unknown {column} {name!r}{hint}; the fleet config knows {', '.join(sorted(known))}",
        source=source,
        where=where,
        fix=fix or f"correct the {column}, or add it to the fleet config",
    )


def _names_to_check(fleet: FleetConfig | None) -> list[tuple[str, Collection[str]]]:
    """Metric always; region and service when there is a fleet config."""
    checks: list[tuple[str, Collection[str]]] = [(METRIC, METRICS)]
    if fleet is not None:
        checks += [(REGION, fleet.regions), (SERVICE, fleet.services)]
    return checks


def _check_file_names(
    con: duckdb.DuckDBPyConnection,
    tf: sources.TelemetryFile,
    fleet: FleetConfig | None,
    load_id: int,
    tz: str | None,
) -> None:
    """Refuse an unknown metric (nothing would read it: a typo) or region or service."""
    for column, known in _names_to_check(fleet):
        name = _unknown_in_load(con, load_id, column, known)
        if name is None:
            continue
        query, params = sources.telemetry_select(tf, tz=tz, with_row=True)
        row = con.execute(
            f"SELECT min(_row) FROM ({query}) WHERE {column} = ?", [*params, name]
        ).fetchall()[0][0]
        if column == METRIC:
            shown = tf.names.get(METRIC, name) if tf.layout == "long" else name
        else:
            shown = tf.names[column]
        where = f"{tf.row_label(row)}, column {shown!r}"
        raise _unknown_error(column, name, known, source=str(tf.path), where=where)


def _first_row(
    con: duckdb.DuckDBPyConnection, load_id: int, condition: str, params: Sequence[Any] = ()
) -> tuple:
    """The first row (``ts, region, service, metric, value``) of a load matching ``condition``."""
    return con.execute(
        f"SELECT ts, region, service, metric, value FROM telemetry WHERE load_id = ? "
        f"AND ({condition}) ORDER BY ts NULLS FIRST, region, service, metric LIMIT 1",
        [load_id, *params],
    ).fetchall()[0]


def _long_frame(frame: pd.DataFrame, *, source: str, fix: str | None) -> pd.DataFrame:
    """The telemetry columns of ``frame``, typed for a load; refuse what cannot be typed."""
    missing = [c for c in TELEMETRY_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}",
            source=source,
            fix=f"give the columns {', '.join(TELEMETRY_COLUMNS)}",
        )
    data = frame[list(TELEMETRY_COLUMNS)].reset_index(drop=True)
    if not isinstance(data[TS].dtype, pd.DatetimeTZDtype):
        raise DataError(
            f"column 'ts' holds {data[TS].dtype} values, not times with a time zone",
            source=source,
            fix="localise the times (e.g. pd.to_datetime(..., utc=True))",
        )
    for column in (REGION, SERVICE, METRIC):
        names = data[column]
        texts = None
        if isinstance(names.dtype, pd.CategoricalDtype):
            texts = names.cat.categories.astype("string")
        if texts is not None and texts.is_unique:
            # kept as categories (a pull's rows): as strings each row would hold its name
            data[column] = names.cat.rename_categories(texts)
        else:  # (categories 1 and "1" are one name as text)
            data[column] = names.astype("string")
    values = pd.to_numeric(data[VALUE], errors="coerce").astype("float64")
    unreadable = values.isna() & data[VALUE].notna()
    if unreadable.any():
        first = data[unreadable].iloc[0]
        row = (first[TS], first[REGION], first[SERVICE], first[METRIC], None)
        raise _row_error("value", row, source=source, fix=fix, shown=str(first[VALUE]))
    data[VALUE] = values
    return data


def _row_error(
    problem: str, row: tuple, *, source: str, fix: str | None, shown: str | None = None
) -> DataError:
    """The error for an in-memory ``row`` (``ts, region, service, metric, value``)."""
    if problem == "ts":
        return DataError("a time is missing", source=source, where=_row_name(row))
    if problem in ("past", "future"):
        explain = sources.past_problem if problem == "past" else sources.future_problem
        text, advice = explain(pd.Timestamp(row[0]).tz_convert("UTC").isoformat())
        return DataError(text, source=source, where=_row_name(row), fix=fix or advice)
    _, region, service, metric, value = row
    if shown is None and value is not None:
        shown = f"{value:g}"
    text, advice = sources.row_problem(
        problem, region=region, service=service, metric=metric, value=value, shown=shown
    )
    return DataError(text, source=source, where=_row_name(row), fix=fix or advice)


def _row_name(row: tuple) -> str:
    """Name a row of an in-memory load by its key, as a frame has no line numbers."""
    ts, region, service, metric = row[:4]
    when = "an unknown time" if ts is None else pd.Timestamp(ts).tz_convert("UTC").isoformat()
    return f"{metric} of {region}/{service} at {when}"


def _conflict_error(
    conflict: tuple, *, source: str, where: str, unread: tuple[str, ...] = ()
) -> DataError:
    """The error for two rows of one key with different values; ``unread`` names a long
    file's columns that are not read, one of which may be what tells the rows apart."""
    ts, region, service, metric, low, high = conflict
    problem = (
        f"two rows for the same key (ts {ts.isoformat()}, region {region!r}, service "
        f"{service!r}, metric {metric!r}) with different values ({low:g} and {high:g})"
    )
    fix = "keep one row per key"
    if unread:
        names = ", ".join(repr(n) for n in unread)
        problem += (
            f"; the file's column{'s' if len(unread) > 1 else ''} {names}, which the store does "
            "not keep, may be what tells them apart (one row per host or instance)"
        )
        fix = (
            "sum the rows of a key (counts such as ccu, rps, servers) or average them (rates, "
            "utilisation) before loading, or keep one row per key"
        )
    return DataError(problem, source=source, where=where, fix=fix)
