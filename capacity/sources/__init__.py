"""Readers of telemetry files: CSV, gzip CSV and Parquet, long or wide.

Files are read by DuckDB's own readers, never row by row in Python. This package only
describes a file (:func:`inspect_telemetry`), writes the SQL that turns it into the store's
long shape (:func:`telemetry_select`) and, when validation found something wrong, finds the
first offending row and says what to do about it (:func:`explain_problem`). The store owns
the transaction around all of it.

Timestamps follow one rule: a value with a UTC offset (``Z``, ``+02:00``) is exact; a naive
value is ambiguous and is refused unless a time zone is given (``tz``), in which case it is
read as local time there; a local time the clocks skip or repeat there (a daylight-saving
change) is refused too. Parquet columns typed ``TIMESTAMP WITH TIME ZONE`` are exact.

Callers import from ``capacity.sources``; the work is done by one module per concern, and
the imports run one way (none uses this package's own names):

- ``telemetry``: a telemetry file described (:class:`TelemetryFile`) and selected as long rows;
- ``problems``: each kind of bad row as SQL, and the first one found and explained;
- ``series_csv``: one series from any CSV, checked and resampled (:func:`read_series_csv`);
- ``grid``: resampling to a regular grid, empty buckets NULL (:func:`grid_query`);
- ``times``: UTC offsets and wall-clock time in a zone, in SQL;
- ``read_errors``: DuckDB's read failures and damaged gzip or Parquet files, worded;
- ``csv_checks``: what Python reads of a CSV itself (a row's line, header and line widths);
- ``numbers``: values written with thousands separators or a decimal comma, named as such;
- ``sql``: identifier quoting and DuckDB's reader for a file kind.
"""

from __future__ import annotations

from capacity.sources.csv_checks import csv_line
from capacity.sources.grid import AGGREGATES, grid_query
from capacity.sources.problems import EARLIEST_TELEMETRY as EARLIEST_TELEMETRY
from capacity.sources.problems import FUTURE_TOLERANCE_HOURS as FUTURE_TOLERANCE_HOURS
from capacity.sources.problems import (
    explain_problem,
    future_problem,
    past_problem,
    problem_condition,
    problem_counts_sql,
    row_problem,
)
from capacity.sources.read_errors import read_error
from capacity.sources.series_csv import (
    MAX_GRID_ROWS,
    MISSING_VALUES,
    covered_until,
    read_series_csv,
)
from capacity.sources.telemetry import Layout as Layout
from capacity.sources.telemetry import TelemetryFile, inspect_telemetry, telemetry_select
from capacity.sources.times import BAD_OFFSET_PATTERN, OFFSET_PATTERN

__all__ = [
    "AGGREGATES",
    "BAD_OFFSET_PATTERN",
    "MAX_GRID_ROWS",
    "MISSING_VALUES",
    "OFFSET_PATTERN",
    "TelemetryFile",
    "covered_until",
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
