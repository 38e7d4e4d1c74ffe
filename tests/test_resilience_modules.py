"""The resilience figures are a package: ``capacity.resilience`` gathers the names callers
import, its modules (``capacity.resilience.logs``, ``.figures``, ``.trends``, ...) hold the
code, import one another one way only and do nothing at import."""

from __future__ import annotations

import importlib
import inspect

from tests import package_layout as layout

PACKAGE = "capacity.resilience"
PARTS_DIR = layout.package_dir(PACKAGE)
#: Every part, each importing only parts listed before it.
ORDER = (
    "columns",
    "values",
    "formats",
    "logs",
    "alerts",
    "inputs",
    "figures",
    "json_rows",
    "trends",
)
#: Where each name of the package's ``__all__`` is defined, in the order of ``__all__``.
HOMES = {
    "ALERT_STATES": "columns",
    "DEPLOY_COLUMNS": "columns",
    "INCIDENT_COLUMNS": "columns",
    "JSON_KEYS": "columns",
    "KPI_COLUMNS": "columns",
    "SEVERITIES": "columns",
    "TREND_COLUMNS": "columns",
    "alert_state": "alerts",
    "group_keys": "inputs",
    "kpis": "figures",
    "kpis_json": "json_rows",
    "read_deploys": "logs",
    "read_incidents": "logs",
    "trend": "trends",
    "within_fleet": "inputs",
}
#: Names the module had besides ``__all__``, importable from the package as before.
OTHER_HOMES = {
    "BURN_WINDOWS": "alerts",
    "CAUSE": "columns",
    "CHANGE": "columns",
    "DEPLOYED_AT": "columns",
    "DEPLOY_ID": "columns",
    "DETECTED_AT": "columns",
    "INCIDENT_ID": "columns",
    "PAGE_FAST_BURN": "alerts",
    "PAGE_SLOW_BURN": "alerts",
    "RESOLVED_AT": "columns",
    "SEVERITY": "columns",
    "STARTED_AT": "columns",
    "TICKET_BURN": "alerts",
    "TREND_FIGURES": "trends",
}


def test_the_package_exports_what_the_module_did():
    from capacity import resilience

    assert resilience.__all__ == list(HOMES)
    layout.check_homes(PACKAGE, {**HOMES, **OTHER_HOMES})
    assert resilience.INCIDENT_COLUMNS == (
        "incident_id",
        "region",
        "service",
        "severity",
        "started_at",
        "detected_at",
        "resolved_at",
        "cause",
        "deploy_id",
    )
    assert resilience.DEPLOY_COLUMNS == ("deploy_id", "region", "service", "deployed_at", "change")
    assert resilience.ALERT_STATES == ("page", "ticket", "unknown", "ok")
    assert resilience.BURN_WINDOWS == (("burn_1h", 1), ("burn_6h", 6), ("burn_3d", 72))
    assert (resilience.PAGE_FAST_BURN, resilience.PAGE_SLOW_BURN, resilience.TICKET_BURN) == (
        14.4,
        6.0,
        1.0,
    )
    assert len(resilience.KPI_COLUMNS) == len(resilience.JSON_KEYS) == 24
    assert set(resilience.KPI_COLUMNS) == set(resilience.JSON_KEYS)
    compared = [figure for figure, _ in resilience.TREND_FIGURES]
    assert compared[:2] == ["availability", "error_budget_remaining"]


def test_what_other_modules_call_still_works_through_the_package():
    """The CLI, the weekly plan and the store call these through ``capacity.resilience``."""
    from capacity import resilience

    assert resilience.group_keys("service, region", name="--by") == ("region", "service")
    assert resilience.alert_state(15.0, 0.0, 0.0) == "page"
    assert resilience.alert_state(0.5, 0.5, float("nan")) == "unknown"


def test_no_part_is_named_after_a_function_the_package_exports():
    """``capacity.resilience.kpis`` and ``.trend`` are functions: a part of either name would
    make one dotted name mean a module to the import system and a function to attribute
    access."""
    from capacity import resilience

    for stem in ORDER:
        importlib.import_module(f"capacity.resilience.{stem}")
    assert set(ORDER).isdisjoint({**HOMES, **OTHER_HOMES})
    for name in ("kpis", "kpis_json", "trend", "read_incidents", "alert_state"):
        assert inspect.isfunction(getattr(resilience, name)), name


def test_the_layout_is_the_parts_and_an_init_of_imports():
    assert not (PARTS_DIR.parent / "resilience.py").exists()
    # small modules, not the 1,246 lines again
    layout.check_small_documented_parts(PACKAGE, ORDER, 400)
    # after the docstring: imports and __all__, no code
    assert layout.root_own_names(PACKAGE) == {"__all__"}


def test_the_rules_are_documented_where_the_functions_are():
    """``kpis``'s docstring sends the reader to its module's docstring for the figures, and
    the readers' module holds the logs' rules."""
    from capacity.resilience import figures, logs

    assert "See the module docstring" in figures.kpis.__doc__
    for figure in ("error_budget_remaining", "burn_3d", "mtbf_hours", "change_failure_rate"):
        assert f"``{figure}" in figures.__doc__, figure
    for rule in ("CSV (``.csv``)", "YAML (``.yaml``/``.yml``)", "ISO 8601", "identical copies"):
        assert rule in logs.__doc__, rule


def test_the_parts_import_one_way():
    layout.check_layers(PACKAGE, layout.layers_from_order(ORDER))


def test_importing_the_package_loads_no_model_nor_notebook_machinery():
    layout.check_quiet_import([PACKAGE], unloaded=["prophet", "cmdstanpy", "plotly", "papermill"])
