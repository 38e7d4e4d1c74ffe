"""The public API is what we meant it to be, and importing runs nothing."""

from __future__ import annotations

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
    for name in capacity.__all__:
        assert getattr(capacity, name) is not None


def test_every_error_derives_from_capacity_error():
    for name in EXPECTED:
        obj = getattr(capacity, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, capacity.CapacityError)


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
