"""Predictive scaling is a package: ``capacity.scaling`` gathers the names callers import, its
modules (``capacity.scaling.floors``, ``.aws``, ``.keda``, ``.simulator``, ...) hold the code,
import one another one way only and do nothing at import."""

from __future__ import annotations

import importlib

from tests import package_layout as layout

PACKAGE = "capacity.scaling"
PARTS_DIR = layout.package_dir(PACKAGE)
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


def test_the_package_exports_what_the_module_did():
    from capacity import scaling

    assert scaling.__all__ == list(HOMES)
    layout.check_homes(PACKAGE, {**HOMES, **OTHER_HOMES})
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
    # small modules, not the 1,550 lines again
    layout.check_small_documented_parts(PACKAGE, ORDER, 500)
    # after the docstring: imports and __all__, no code
    assert layout.root_own_names(PACKAGE) == {"__all__"}


def test_the_parts_import_one_way():
    layout.check_layers(PACKAGE, layout.layers_from_order(ORDER))


def test_importing_the_package_fits_nothing():
    layout.check_quiet_import([PACKAGE], unloaded=["prophet", "cmdstanpy"])
