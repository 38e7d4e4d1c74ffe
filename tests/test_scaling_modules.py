"""Predictive scaling is a package: ``capacity.scaling`` gathers the names callers import, its
modules (``capacity.scaling.floors``, ``.aws``, ``.keda``, ``.simulator``, ...) hold the code,
import one another one way only and do nothing at import."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import capacity

PARTS_DIR = Path(capacity.__file__).parent / "scaling"
#: Every part, each importing only parts listed before it.
ORDER = ("checks", "floors", "exports", "aws", "policies", "keda", "simulator", "replay_floors")
#: Where each name of the package's ``__all__`` is defined, in the order of ``__all__``.
HOMES = {
    "AWS_MAX_SCHEDULED_ACTIONS": "aws",
    "KEDA_MAX_DAYS": "keda",
    "MIN_SERVERS": "floors",
    "PredictivePolicy": "policies",
    "ReactivePolicy": "policies",
    "SimulationResult": "simulator",
    "StaticPolicy": "policies",
    "aws_groups_over_limit": "aws",
    "boot_lead_hours": "floors",
    "check_keda_names": "keda",
    "expected_load": "replay_floors",
    "floors_from_forecasts": "replay_floors",
    "group_names": "exports",
    "predictive_floors": "replay_floors",
    "quantile_values": "replay_floors",
    "rolling_forecasts": "replay_floors",
    "schedule": "floors",
    "simulate": "simulator",
    "to_aws_scheduled_actions": "aws",
    "to_csv_text": "exports",
    "to_keda_yaml": "keda",
}
#: Names the module had besides ``__all__``, importable from the package as before.
OTHER_HOMES = {
    "CUTOFF": "replay_floors",
    "DEMAND": "floors",
    "NEEDED": "floors",
    "Policy": "policies",
    "SAFE_LOAD": "floors",
    "SCHEDULE_COLUMNS": "floors",
}


def _scaling_imports(path: Path) -> set[str]:
    """The ``capacity.scaling`` modules a file imports from, by name (``""``: the package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name == "capacity.scaling" or name.startswith("capacity.scaling."):
                found.add(name.removeprefix("capacity.scaling").removeprefix("."))
    return found


def test_the_package_exports_what_the_module_did():
    from capacity import scaling

    assert scaling.__all__ == list(HOMES)
    for name, home in {**HOMES, **OTHER_HOMES}.items():
        part = importlib.import_module(f"capacity.scaling.{home}")
        obj = getattr(scaling, name)
        assert obj is getattr(part, name), name
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__module__ == f"capacity.scaling.{home}", name
    assert (scaling.AWS_MAX_SCHEDULED_ACTIONS, scaling.KEDA_MAX_DAYS) == (125, 365)
    assert scaling.SCHEDULE_COLUMNS == (
        "region",
        "service",
        "ts",
        "min_servers",
        "demand",
        "safe_load",
    )
    assert (scaling.MIN_SERVERS, scaling.CUTOFF, scaling.NEEDED) == (
        "min_servers",
        "cutoff",
        "needed",
    )
    assert (
        scaling.Policy == scaling.StaticPolicy | scaling.ReactivePolicy | scaling.PredictivePolicy
    )


def test_the_functions_are_not_shadowed_by_modules_of_their_name():
    """``capacity.scaling.simulate`` and ``.schedule`` are functions, and name nothing else once
    every part is loaded: a part named after an exported name would make one dotted name mean
    a module to the import system and a function to attribute access."""
    from capacity import scaling

    for stem in ORDER:
        importlib.import_module(f"capacity.scaling.{stem}")
    assert set(ORDER).isdisjoint({**HOMES, **OTHER_HOMES})
    assert callable(scaling.simulate) and scaling.simulate.__name__ == "simulate"
    assert callable(scaling.schedule) and scaling.schedule.__name__ == "schedule"


def test_the_layout_is_the_parts_and_an_init_of_imports():
    assert not (PARTS_DIR.parent / "scaling.py").exists()
    parts = {p.stem for p in PARTS_DIR.glob("*.py")} - {"__init__"}
    assert parts == set(ORDER)
    for stem in ORDER:
        text = (PARTS_DIR / f"{stem}.py").read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), stem
        assert len(text.splitlines()) < 500, stem  # small modules, not the 1,550 lines again
    init = ast.parse((PARTS_DIR / "__init__.py").read_text(encoding="utf-8"))
    for node in init.body[1:]:  # after the docstring: imports and __all__, no code
        is_all = isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__all__"]
        assert isinstance(node, ast.ImportFrom) or is_all, ast.dump(node)[:80]


def test_the_parts_import_one_way():
    for position, stem in enumerate(ORDER):
        used = _scaling_imports(PARTS_DIR / f"{stem}.py")
        assert "" not in used, f"{stem} imports the package's own names"
        assert used <= set(ORDER[:position]), f"{stem} imports {sorted(used)}"


def test_importing_the_package_fits_nothing():
    code = (
        "import sys\n"
        "import capacity.scaling\n"
        "print('prophet' in sys.modules, 'cmdstanpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
