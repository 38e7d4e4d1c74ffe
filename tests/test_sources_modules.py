"""The telemetry readers are a package: ``capacity.sources`` keeps every name its callers import
(the store, ``forecast_file``, the CLI, the tests), its modules (``capacity.sources.telemetry``,
``.problems``, ``.series_csv``, ...) do the work, import one another one way (none uses the
package's own names) and do nothing at import."""

from __future__ import annotations

from pathlib import Path

import capacity
from tests import package_layout as layout

PACKAGE = "capacity.sources"
PARTS_DIR = layout.package_dir(PACKAGE)

#: Each part and the parts it may import: a part imports only parts listed before it.
LAYERS = {
    "sql": set(),
    "csv_checks": set(),
    "read_errors": set(),
    "times": set(),
    "grid": set(),
    "numbers": set(),
    "telemetry": {"sql", "csv_checks", "read_errors", "times"},
    "problems": {"telemetry", "times", "numbers"},
    "series_csv": {"sql", "csv_checks", "read_errors", "times", "grid", "numbers"},
}

#: Where each name callers import from ``capacity.sources`` is defined.
HOMES = {
    "AGGREGATES": "grid",
    "BAD_OFFSET_PATTERN": "times",
    "EARLIEST_TELEMETRY": "problems",
    "FUTURE_TOLERANCE_HOURS": "problems",
    "Layout": "telemetry",
    "MAX_GRID_ROWS": "series_csv",
    "MISSING_VALUES": "series_csv",
    "OFFSET_PATTERN": "times",
    "TelemetryFile": "telemetry",
    "csv_line": "csv_checks",
    "explain_problem": "problems",
    "future_problem": "problems",
    "grid_query": "grid",
    "inspect_telemetry": "telemetry",
    "past_problem": "problems",
    "problem_condition": "problems",
    "problem_counts_sql": "problems",
    "read_error": "read_errors",
    "read_series_csv": "series_csv",
    "row_problem": "problems",
    "telemetry_select": "telemetry",
}


def test_the_package_has_one_module_per_concern():
    layout.check_small_documented_parts(PACKAGE, LAYERS, 400)


def test_capacity_sources_exports_what_callers_import():
    from capacity import sources

    assert sources.__all__ == [
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
    layout.check_homes(PACKAGE, HOMES, borrowed=["Layout"])
    assert sources.MAX_GRID_ROWS == 2_000_000 and sources.FUTURE_TOLERANCE_HOURS == 24
    assert sources.EARLIEST_TELEMETRY == "2000-01-01T00:00:00Z"
    assert set(sources.AGGREGATES) == {"mean", "max", "min", "sum", "median", "first", "last"}


def test_the_parts_import_one_another_one_way():
    """A part imports only the parts below it, never the package root: a part taking a name
    of ``capacity.sources`` back, or two parts importing each other, would be a cycle."""
    layout.check_layers(PACKAGE, LAYERS)


def test_the_store_reads_files_through_the_package_root():
    """The callers keep ``from capacity import sources`` and ``from capacity.sources import``:
    none reaches into a part, so the parts may move again without touching them."""
    root = Path(capacity.__file__).parent
    layout.check_callers_use_the_root(
        PACKAGE, [p for p in root.rglob("*.py") if PARTS_DIR not in p.parents]
    )


def test_importing_the_readers_opens_no_database():
    layout.check_quiet_import(
        [PACKAGE, *(f"{PACKAGE}.{stem}" for stem in LAYERS)], refused=["duckdb.connect"]
    )
