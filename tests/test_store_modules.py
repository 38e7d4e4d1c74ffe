"""The store is a package: ``capacity.store`` holds ``Store`` and the names other code imports,
its modules (``capacity.store.schema``, ``.telemetry``, ...) do the work, depend one way (none
uses the package's own names) and do nothing at import."""

from __future__ import annotations

import capacity
from tests import package_layout as layout

PACKAGE = "capacity.store"
PARTS_DIR = layout.package_dir(PACKAGE)


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
        assert layout.ROOT not in layout.imported_parts(part, PACKAGE, parts_from_root=True), (
            f"{part.name} imports {PACKAGE}: a cycle"
        )


def test_importing_the_store_opens_no_database():
    parts = ("schema", "telemetry", "records", "forecasts")
    layout.check_quiet_import(
        [PACKAGE, *(f"{PACKAGE}.{stem}" for stem in parts)], refused=["duckdb.connect"]
    )
