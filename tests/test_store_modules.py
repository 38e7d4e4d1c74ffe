"""The store's code is split over ``capacity.store`` and ``capacity.store_*`` modules: the
names other code imports from ``capacity.store`` stay there, the parts depend one way, and
importing them does no work."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import capacity

PACKAGE = Path(capacity.__file__).parent


def test_capacity_store_exports_what_callers_import():
    from capacity import store

    assert store.__all__ == ["SCHEMA_VERSION", "EventsReport", "LoadReport", "Store"]
    assert store.SCHEMA_VERSION == len(store.MIGRATIONS) == 5
    assert store.FORECAST_KEY == ("region", "service", "metric", "ts")
    assert capacity.Store is store.Store and capacity.LoadReport is store.LoadReport


def test_no_store_part_imports_the_store_module():
    """``store`` uses the parts; a part importing it back would be a cycle."""
    parts = sorted(PACKAGE.glob("store_*.py"))
    assert {p.stem for p in parts} >= {"store_schema", "store_telemetry", "store_records"}
    for part in parts:
        for node in ast.walk(ast.parse(part.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            assert "capacity.store" not in names, part.name


def test_importing_the_store_opens_no_database():
    code = (
        "import duckdb\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('a connection at import')\n"
        "duckdb.connect = refuse\n"
        "import capacity.store, capacity.store_schema, capacity.store_telemetry\n"
        "import capacity.store_records, capacity.store_forecasts\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
