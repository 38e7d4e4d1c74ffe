"""The Prometheus reader is a package: ``capacity.prometheus`` keeps every name its callers import
(the CLI's ``pull``, the benchmarks, the tests), its modules (``capacity.prometheus.window``,
``.transport``, ``.ranges``, ...) do the work, import one another one way (none uses the
package's own names) and do nothing at import."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import capacity
from tests import package_layout as layout

PACKAGE = "capacity.prometheus"
PARTS_DIR = layout.package_dir(PACKAGE)

#: Each part and the parts it may import: a part imports only parts listed before it.
LAYERS = {
    "counters": set(),
    "transport": set(),
    "labels": set(),
    "window": set(),
    "ranges": {"transport", "labels"},
    "samples": {"ranges"},
    "rows": {"labels", "samples"},
    "queries": {"transport", "labels", "window", "samples", "rows"},
    "notes": {"counters", "rows"},
}

#: Where each name of the single module ``capacity/prometheus.py`` is defined now; every one
#: of them, private ones included, still imports from ``capacity.prometheus``.
HOMES = {
    "FIRST_PULL": "window",
    "MAX_POINTS": "ranges",
    "MAX_PULL_POINTS": "window",
    "NAN_CAUSE": "notes",
    "STOPPED_AFTER": "notes",
    "Pull": "rows",
    "_API": "transport",
    "_LABEL_LISTS": "counters",
    "_NoConnection": "transport",
    "_STEPS": "window",
    "_STRINGS": "counters",
    "_Samples": "samples",
    "_TooManySamples": "transport",
    "_aggregation": "labels",
    "_ago": "notes",
    "_check_names": "labels",
    "_check_url": "transport",
    "_connection_error": "transport",
    "_connection_reason": "transport",
    "_future_rows": "window",
    "_get": "transport",
    "_long_rows": "rows",
    "_missing_pairs": "rows",
    "_nan_pairs": "rows",
    "_no_rows": "rows",
    "_notices": "transport",
    "_pairs_text": "notes",
    "_planned_on_other": "notes",
    "_query_samples": "samples",
    "_ranges": "ranges",
    "_show_labels": "labels",
    "_stopped": "notes",
    "_tls_error": "transport",
    "check_pull_size": "window",
    "first_pulls": "window",
    "nan_text": "notes",
    "pull": "queries",
    "pull_notes": "notes",
    "pull_window": "window",
    "query_range": "ranges",
    "raw_counters": "counters",
    "server_lines": "notes",
}


def test_the_package_has_one_small_module_per_concern():
    layout.check_small_documented_parts(PACKAGE, LAYERS, 300)
    # the root maps the parts and re-exports their names; it defines nothing itself
    root = ast.parse((PARTS_DIR / "__init__.py").read_text(encoding="utf-8"))
    assert all(f"``{stem}``" in ast.get_docstring(root) for stem in LAYERS)
    assert layout.root_own_names(PACKAGE) == {"__all__"}, "the package root holds no code"


def test_no_part_hides_a_module_or_an_exported_function():
    """A part named ``requests`` or ``http`` would read as the library in its siblings' eyes;
    one named ``pull`` would make ``capacity.prometheus.pull`` the module to ``importlib`` and
    the function to attribute access."""
    from capacity import prometheus

    hidden = set(sys.stdlib_module_names) | {"requests", "numpy", "pandas", "urllib3"}
    assert not set(LAYERS) & hidden
    assert not set(LAYERS) & set(HOMES)
    assert callable(importlib.import_module("capacity.prometheus").pull)
    assert prometheus.pull.__module__ == "capacity.prometheus.queries"


def test_capacity_prometheus_exports_every_name_it_had():
    from capacity import prometheus

    assert prometheus.__all__ == [
        "MAX_POINTS",
        "MAX_PULL_POINTS",
        "NAN_CAUSE",
        "STOPPED_AFTER",
        "Pull",
        "check_pull_size",
        "first_pulls",
        "nan_text",
        "pull",
        "pull_notes",
        "pull_window",
        "query_range",
        "raw_counters",
        "server_lines",
    ]
    layout.check_homes(PACKAGE, HOMES)
    # every name the root has of its own comes from a part (nothing left behind or added)
    own = {
        name
        for name, value in vars(prometheus).items()
        if not name.startswith("__") and not isinstance(value, type(sys))
    }
    assert own == set(HOMES) | {"annotations"}
    assert prometheus.MAX_POINTS == 10_000 and prometheus.MAX_PULL_POINTS == 100 * 10_000
    assert prometheus.FIRST_PULL.days == 112 and prometheus.STOPPED_AFTER.seconds == 3600


def test_the_parts_import_one_another_one_way():
    """A part imports only the parts below it, never the package root: a part taking a name
    of ``capacity.prometheus`` back, or two parts importing each other, would be a cycle."""
    layout.check_layers(PACKAGE, LAYERS)


def test_callers_import_through_the_package_root():
    """The CLI and the benchmarks keep ``from capacity.prometheus import ...``: none reaches
    into a part, so the parts may move again without touching them."""
    project = Path(capacity.__file__).parent.parent
    callers = [
        p
        for p in [*project.joinpath("capacity").rglob("*.py"), *project.glob("benchmarks/*.py")]
        if PARTS_DIR not in p.parents
    ]
    assert any(layout.imported_parts(p, PACKAGE) for p in callers)
    layout.check_callers_use_the_root(PACKAGE, callers)


def test_importing_the_reader_connects_to_nothing():
    layout.check_quiet_import(
        [PACKAGE, *(f"{PACKAGE}.{stem}" for stem in LAYERS)],
        refused=["socket.socket.connect", "socket.create_connection"],
    )
