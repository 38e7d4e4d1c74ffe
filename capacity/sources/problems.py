"""Bad telemetry rows: each kind of problem as a SQL condition, counted in one query
(:func:`problem_counts_sql`), and the first offending row of a file found and explained with
its fix (:func:`explain_problem`, :func:`row_problem`), a local time a clock change skips or
repeats included."""

from __future__ import annotations

import re

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
from capacity.errors import DataError
from capacity.records import did_you_mean
from capacity.sources.numbers import comma_problem
from capacity.sources.telemetry import TelemetryFile, telemetry_select
from capacity.sources.times import (
    BAD_OFFSET_FIX,
    BAD_OFFSET_PATTERN,
    BAD_OFFSET_PROBLEM,
    NAMED_ZONE_PATTERN,
    OFFSET_PATTERN,
)

_NON_NEGATIVE = (*METRICS,)


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
                f"timestamp {ts_raw!r} {BAD_OFFSET_PROBLEM}",
                source=str(tf.path),
                where=f"{where}, column {tf.names[TS]!r}",
                fix=BAD_OFFSET_FIX,
            )
        named = ts_raw is not None and re.search(NAMED_ZONE_PATTERN, ts_raw.strip())
        if named and re.search(OFFSET_PATTERN, ts_raw.strip()) is None:
            zone = re.search(r"[A-Za-z][A-Za-z0-9_/+\-]*$", ts_raw.strip()).group(0)
            return DataError(
                f"timestamp {ts_raw!r} ends in {zone!r}, which is not a time zone",
                source=str(tf.path),
                where=f"{where}, column {tf.names[TS]!r}",
                fix="write the time with an offset (e.g. 2026-01-05T14:00:00Z) or a zone's "
                "IANA name (e.g. 2026-01-05 14:00:00 Europe/Berlin); a 12-hour time with am "
                "or pm as 24-hour time",
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
            "timestamp is empty" if ts_raw is None else f"timestamp {ts_raw!r} does not parse",
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
    if problem == "value" and metric and metric not in METRICS:
        # a label column of a wide file (host, pod) is read as a metric: its text is not
        # the problem, the column is
        named = column if tf.layout == "wide" else tf.names.get(METRIC, METRIC)
        return _unknown_metric(tf, metric, where=f"{where}, column {named!r}")
    text, fix = row_problem(
        problem, region=region, service=service, metric=metric, value=value, shown=value_raw
    )
    return DataError(text, source=str(tf.path), where=f"{where}, column {column!r}", fix=fix)


def _unknown_metric(tf: TelemetryFile, metric: str, *, where: str) -> DataError:
    """The error for a value that is no number under a metric capacity does not read."""
    hint = did_you_mean(metric, METRICS)
    wide = (
        f"; in a wide file every column but {tf.names[TS]!r}, {tf.names[REGION]!r} and "
        f"{tf.names[SERVICE]!r} is read as a metric"
        if tf.layout == "wide"
        else ""
    )
    return DataError(
        f"unknown metric {metric!r}{hint}; capacity reads {', '.join(METRICS)}{wide}",
        source=str(tf.path),
        where=where,
        fix="rename it to one of those, or leave it out of the export",
    )


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
        gap = "drop the row (missing hours are gaps, not zeros)"
        commas = None if shown in (None, "") else comma_problem(shown, gap)
        if commas is not None:
            return f"{commas[0]} (metric {metric!r})", commas[1]
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
