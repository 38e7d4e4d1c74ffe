"""The public API is what we meant it to be, and importing runs nothing."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import capacity

EXPECTED = {
    "CapacityError",
    "ConfigError",
    "DataError",
    "DemandForecaster",
    "EventsReport",
    "FleetConfig",
    "InputError",
    "LoadReport",
    "NotFittedError",
    "ParameterError",
    "PlanExistsError",
    "PlanFailedError",
    "PlanLockedError",
    "ResourceError",
    "ProphetDefault",
    "SchemaError",
    "SeasonalNaive",
    "SourceUnavailableError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "backtest",
    "load_fleet",
}


def test_exported_names():
    assert set(capacity.__all__) == EXPECTED
    for name in capacity.__all__:  # the package's own objects, under the names they were given
        obj = getattr(capacity, name)
        assert obj.__module__.startswith("capacity.") and obj.__name__ == name


def test_every_error_derives_from_capacity_error():
    exported = {
        name
        for name in EXPECTED
        if isinstance(getattr(capacity, name), type)
        and issubclass(getattr(capacity, name), Exception)
    }
    assert len(exported) == 14 and all(name.endswith("Error") for name in exported)
    defined = {}  # every public exception class a module of the package defines
    for module in pkgutil.iter_modules(capacity.__path__):
        if module.name == "__main__":
            continue
        for name, obj in vars(importlib.import_module(f"capacity.{module.name}")).items():
            ours = isinstance(obj, type) and obj.__module__.startswith("capacity.")
            if ours and issubclass(obj, Exception) and not name.startswith("_"):
                defined[name] = obj
    assert exported <= set(defined)
    for name, obj in defined.items():
        assert issubclass(obj, capacity.CapacityError), name


def test_import_configures_no_logging_and_loads_no_prophet():
    code = (
        "import logging, sys; import capacity, capacity.cli;"
        "print(len(logging.getLogger().handlers), 'prophet' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]


def test_the_forecasting_api_is_reachable_from_the_package(tmp_path):
    """``capacity.DemandForecaster`` and ``capacity.backtest(...)`` as the issue names them,
    even after the ``capacity.backtest`` module has been imported by name."""
    import importlib

    import numpy as np
    import pandas as pd

    from capacity.backtest import backtest

    importlib.import_module("capacity.backtest")  # importing the module by name
    assert capacity.backtest is backtest
    ts = pd.date_range("2026-01-05", periods=24 * 21, freq="h", tz="UTC")
    day = 100 + 50 * np.sin(2 * np.pi * np.arange(len(ts)) / 24)
    series = pd.DataFrame({"ts": ts, "value": day})
    result = capacity.backtest(capacity.SeasonalNaive(24), series, horizon=24, n_windows=2, step=24)
    assert set(result["cutoff"]) == {ts[-48], ts[-24]}
    # a pure daily cycle is repeated exactly by yesterday
    assert np.allclose(result["yhat"], result["actual"])
    model = capacity.DemandForecaster()
    assert not hasattr(model, "core_")
