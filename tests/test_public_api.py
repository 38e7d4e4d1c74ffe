"""The public API is what we meant it to be, and importing runs nothing."""

from __future__ import annotations

import subprocess
import sys

import capacity

EXPECTED = {
    "CapacityError",
    "ConfigError",
    "DataError",
    "EventsReport",
    "FleetConfig",
    "InputError",
    "LoadReport",
    "NotFittedError",
    "ParameterError",
    "SchemaError",
    "SourceUnavailableError",
    "Store",
    "StoreError",
    "StoreLockedError",
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
