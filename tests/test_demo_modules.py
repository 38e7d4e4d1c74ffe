"""``capacity.demo`` is a package: callers import its root, one module per part of the
simulation does the work, the parts depend one way (``truth`` at the bottom, ``generate`` at
the top, none on the package's own names) and importing it writes nothing."""

from __future__ import annotations

from tests import package_layout as layout

PACKAGE = "capacity.demo"

#: Each part and the parts it may import.
ALLOWED = {
    "truth": set(),
    "holidays": set(),
    "events": {"truth", "holidays"},
    "demand": {"truth", "events"},
    "telemetry": {"truth", "events", "demand"},
    "logs": {"truth", "events"},
    "writers": {"truth", "events", "logs"},
    "fleet_yaml": {"truth"},
    "generate": {"truth", "events", "demand", "telemetry", "logs", "writers", "fleet_yaml"},
}


def test_the_package_root_exports_what_callers_import():
    from capacity import demo
    from capacity.demo import demand, events, generate, truth

    assert demo.__all__ == [
        "TRUTH",
        "RegionTruth",
        "ServiceTruth",
        "Truth",
        "build_demo_store",
        "generate_demo",
    ]
    assert demo.generate_demo is generate.generate_demo
    assert demo.build_demo_store is generate.build_demo_store
    assert demo.generate_demo.__module__ == "capacity.demo.generate"
    for name in ("TRUTH", "RegionTruth", "ServiceTruth", "Truth"):
        assert getattr(demo, name) is getattr(truth, name), name
    assert demo.Truth.__module__ == "capacity.demo.truth"
    assert demo.TRUTH.safe_load("game") == truth.TRUTH.services["game"].safe_load
    # tests/test_demo.py reads these two by the names they had in the one-module demo
    assert demo._calendar is events.calendar
    assert demo._event_multiplier is demand.event_multiplier


def test_the_parts_and_their_one_way_imports():
    layout.check_small_documented_parts(PACKAGE, ALLOWED, 400)
    layout.check_layers(PACKAGE, ALLOWED)


def test_the_package_root_holds_no_simulation():
    # imports, ``__all__`` and the two names tests/test_demo.py reads: no function, no class
    assert layout.root_own_names(PACKAGE) == {"__all__", "_calendar", "_event_multiplier"}


def test_importing_the_demo_writes_nothing(tmp_path):
    layout.check_quiet_import([PACKAGE, f"{PACKAGE}.generate"], cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []
