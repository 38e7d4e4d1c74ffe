"""The resilience figures are a package: ``capacity.resilience`` gathers the names callers
import, its modules (``capacity.resilience.logs``, ``.figures``, ``.trends``, ...) hold the
code, import one another one way only and do nothing at import."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import capacity

PARTS_DIR = Path(capacity.__file__).parent / "resilience"
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


def _resilience_imports(path: Path) -> set[str]:
    """The ``capacity.resilience`` modules a file imports from, by name (``""``: the package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name == "capacity.resilience" or name.startswith("capacity.resilience."):
                found.add(name.removeprefix("capacity.resilience").removeprefix("."))
    return found


def test_the_package_exports_what_the_module_did():
    from capacity import resilience

    assert resilience.__all__ == list(HOMES)
    for name, home in {**HOMES, **OTHER_HOMES}.items():
        part = importlib.import_module(f"capacity.resilience.{home}")
        obj = getattr(resilience, name)
        assert obj is getattr(part, name), name
        if inspect.isfunction(obj):
            assert obj.__module__ == f"capacity.resilience.{home}", name
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
    parts = {p.stem for p in PARTS_DIR.glob("*.py")} - {"__init__"}
    assert parts == set(ORDER)
    for stem in ORDER:
        text = (PARTS_DIR / f"{stem}.py").read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), stem
        assert len(text.splitlines()) < 400, stem  # small modules, not the 1,246 lines again
    init = ast.parse((PARTS_DIR / "__init__.py").read_text(encoding="utf-8"))
    for node in init.body[1:]:  # after the docstring: imports and __all__, no code
        is_all = isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__all__"]
        assert isinstance(node, ast.ImportFrom) or is_all, ast.dump(node)[:80]


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
    for position, stem in enumerate(ORDER):
        used = _resilience_imports(PARTS_DIR / f"{stem}.py")
        assert "" not in used, f"{stem} imports the package's own names"
        assert used <= set(ORDER[:position]), f"{stem} imports {sorted(used)}"


def test_importing_the_package_loads_no_model_nor_notebook_machinery():
    code = (
        "import sys\n"
        "import capacity.resilience\n"
        "print(*(m in sys.modules for m in ('prophet', 'cmdstanpy', 'plotly', 'papermill')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"] * 4
