"""The store is a package: ``capacity.store`` holds ``Store`` and the names other code imports,
its modules (``capacity.store.schema``, ``.telemetry``, ...) do the work, depend one way (none
uses the package's own names) and do nothing at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import capacity

PARTS_DIR = Path(capacity.__file__).parent / "store"


def test_capacity_store_exports_what_callers_import():
    from capacity import store

    assert store.__all__ == ["SCHEMA_VERSION", "EventsReport", "LoadReport", "Store"]
    assert store.SCHEMA_VERSION == len(store.MIGRATIONS) == 5
    assert store.FORECAST_KEY == ("region", "service", "metric", "ts")
    assert capacity.Store is store.Store and capacity.LoadReport is store.LoadReport


def test_no_part_uses_the_package_names():
    """The package uses its parts; a part taking ``Store`` (or any name of the package's
    ``__init__``) back would be a cycle."""
    parts = sorted(p for p in PARTS_DIR.glob("*.py") if p.name != "__init__.py")
    stems = {p.stem for p in parts}
    assert stems >= {"schema", "telemetry", "records", "holdings", "forecasts", "sql"}
    for part in parts:
        for node in ast.walk(ast.parse(part.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "capacity.store":
                assert {a.name for a in node.names} <= stems, part.name
            elif isinstance(node, ast.Import):
                assert "capacity.store" not in {a.name for a in node.names}, part.name


def test_importing_the_store_opens_no_database():
    code = (
        "import duckdb\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('a connection at import')\n"
        "duckdb.connect = refuse\n"
        "import capacity.store, capacity.store.schema, capacity.store.telemetry\n"
        "import capacity.store.records, capacity.store.forecasts\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
