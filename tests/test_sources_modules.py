"""The telemetry readers are a package: ``capacity.sources`` keeps every name its callers import
(the store, ``forecast_file``, the CLI, the tests), its modules (``capacity.sources.telemetry``,
``.problems``, ``.series_csv``, ...) do the work, import one another one way (none uses the
package's own names) and do nothing at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import capacity

PARTS_DIR = Path(capacity.__file__).parent / "sources"

#: Each part and the parts it may import: a part imports only parts listed before it.
LAYERS = {
    "sql": set(),
    "csv_checks": set(),
    "read_errors": set(),
    "times": set(),
    "grid": set(),
    "telemetry": {"sql", "csv_checks", "read_errors", "times"},
    "problems": {"telemetry", "times"},
    "series_csv": {"sql", "csv_checks", "read_errors", "grid"},
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


def _imported_parts(path: Path) -> set[str]:
    """The parts of the package a module imports (``from capacity.sources.x import ...``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "capacity.sources":
                found.add("(the package root)")
            elif node.module.startswith("capacity.sources."):
                found.add(node.module.removeprefix("capacity.sources."))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "capacity.sources" or alias.name.startswith("capacity.sources."):
                    found.add(alias.name)
    return found


def test_the_package_has_one_module_per_concern():
    parts = {p.stem for p in PARTS_DIR.glob("*.py")} - {"__init__"}
    assert parts == set(LAYERS)
    for stem in LAYERS:
        text = (PARTS_DIR / f"{stem}.py").read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), f"{stem}.py says what it holds"
        assert len(text.splitlines()) < 400, f"{stem}.py stays small"


def test_capacity_sources_exports_what_callers_import():
    import importlib

    from capacity import sources

    assert sources.__all__ == [
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
    for name, home in HOMES.items():
        part = importlib.import_module(f"capacity.sources.{home}")
        assert getattr(sources, name) is getattr(part, name), name
        if callable(getattr(part, name)) and name != "Layout":
            assert getattr(part, name).__module__ == f"capacity.sources.{home}", name
    assert sources.MAX_GRID_ROWS == 2_000_000 and sources.FUTURE_TOLERANCE_HOURS == 24
    assert sources.EARLIEST_TELEMETRY == "2000-01-01T00:00:00Z"
    assert set(sources.AGGREGATES) == {"mean", "max", "min", "sum", "median", "first", "last"}


def test_the_parts_import_one_another_one_way():
    """A part imports only the parts below it, never the package root: a part taking a name
    of ``capacity.sources`` back, or two parts importing each other, would be a cycle."""
    for stem, allowed in LAYERS.items():
        used = _imported_parts(PARTS_DIR / f"{stem}.py")
        assert used <= allowed, f"{stem}.py imports {sorted(used - allowed)}"
    order = list(LAYERS)
    for stem, allowed in LAYERS.items():
        assert all(order.index(below) < order.index(stem) for below in allowed), stem


def test_the_store_reads_files_through_the_package_root():
    """The callers keep ``from capacity import sources`` and ``from capacity.sources import``:
    none reaches into a part, so the parts may move again without touching them."""
    root = Path(capacity.__file__).parent
    callers = [p for p in root.rglob("*.py") if PARTS_DIR not in p.parents]
    assert callers
    for path in callers:
        used = _imported_parts(path)
        assert not used - {"(the package root)"}, f"{path.name} imports {sorted(used)}"


def test_importing_the_readers_opens_no_database():
    code = (
        "import duckdb\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('a connection at import')\n"
        "duckdb.connect = refuse\n"
        "import capacity.sources\n"
        + "".join(f"import capacity.sources.{stem}\n" for stem in LAYERS)
        + "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
