"""capacity: capacity planning and predictive scaling for online game services.

Data flows one way: sources -> store -> series -> forecast -> sizing/headroom -> plan ->
report. Importing the package runs nothing, and Prophet is loaded only by the first fit.

The names here are the analyst's entry points: the store, the fleet file, the forecaster
and its baselines, ``backtest`` (the function; its module is ``capacity.backtest`` only by
``from capacity.backtest import ...``), and the error tree. Each stage's module
(``capacity.sizing``, ``capacity.headroom``, ``capacity.scaling``, ...) is imported by name.
"""

from __future__ import annotations

from capacity.backtest import backtest
from capacity.baselines import ProphetDefault, SeasonalNaive
from capacity.config import FleetConfig, load_fleet
from capacity.errors import (
    CapacityError,
    ConfigError,
    DataError,
    InputError,
    NotFittedError,
    ParameterError,
    PlanExistsError,
    PlanFailedError,
    PlanLockedError,
    ResourceError,
    SchemaError,
    SourceUnavailableError,
    StoreError,
    StoreLockedError,
)
from capacity.forecast import DemandForecaster
from capacity.store import EventsReport, LoadReport, Store

__all__ = [
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
    "ProphetDefault",
    "ResourceError",
    "SchemaError",
    "SeasonalNaive",
    "SourceUnavailableError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "backtest",
    "load_fleet",
]

__version__ = "0.1.0"
