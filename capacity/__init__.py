"""capacity: capacity planning and predictive scaling for online game services.

Data flows one way: sources -> store -> series -> forecast -> sizing/headroom -> plan ->
report. Importing the package runs nothing.
"""

from __future__ import annotations

from capacity.config import FleetConfig, load_fleet
from capacity.errors import (
    CapacityError,
    ConfigError,
    DataError,
    InputError,
    NotFittedError,
    ParameterError,
    SchemaError,
    SourceUnavailableError,
    StoreError,
    StoreLockedError,
)
from capacity.store import EventsReport, LoadReport, Store

__all__ = [
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
]

__version__ = "0.1.0"
