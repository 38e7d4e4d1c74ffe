"""Column names of every frame :mod:`capacity` reads or writes, named once."""

from __future__ import annotations

# Telemetry, long format.
TS = "ts"
REGION = "region"
SERVICE = "service"
METRIC = "metric"
VALUE = "value"
TELEMETRY_COLUMNS = (TS, REGION, SERVICE, METRIC, VALUE)

# Telemetry metrics.
CCU = "ccu"
RPS = "rps"
SERVERS = "servers"
CPU_UTIL = "cpu_util"
LATENCY_P99_MS = "latency_p99_ms"
ERROR_RATE = "error_rate"
METRICS = (CCU, RPS, SERVERS, CPU_UTIL, LATENCY_P99_MS, ERROR_RATE)
#: Metrics that count things and so can never be negative.
COUNT_METRICS = (CCU, RPS, SERVERS)
#: Metrics that are fractions in [0, 1].
FRACTION_METRICS = (CPU_UTIL, ERROR_RATE)
#: Metrics that measure demand, the ones forecast.
DEMAND_METRICS = (CCU, RPS)
#: What a demand metric counts, in words a reader of the report knows: the unit of its axis.
METRIC_MEANINGS = {CCU: "players online", RPS: "requests/s"}

# Live-ops calendar.
EVENT_ID = "event_id"
NAME = "name"
KIND = "kind"
START_TS = "start_ts"
END_TS = "end_ts"
REGIONS = "regions"
EXPECTED_UPLIFT = "expected_uplift"
NOTES = "notes"
SOURCE = "source"
EVENT_COLUMNS = (EVENT_ID, NAME, KIND, START_TS, END_TS, REGIONS, EXPECTED_UPLIFT, NOTES, SOURCE)
#: Event kinds the package knows; others are accepted as user-defined kinds.
EVENT_KINDS = (
    "launch",
    "season",
    "patch",
    "maintenance",
    "marketing",
    "esports",
    "holiday",
    "outage",
)
#: The ``regions`` value meaning every region.
ALL_REGIONS = "all"

# Forecasts and backtests.
YHAT = "yhat"
MODEL = "model"
CUTOFF = "cutoff"
STEP = "step"
ACTUAL = "actual"
FALLBACK = "fallback"
#: The name the project's own forecaster goes by in a backtest, ahead of the baselines.
OWN_MODEL = "capacity"


def model_order(model: object) -> tuple[int, str]:
    """A sort key putting :data:`OWN_MODEL` first and the baselines after it by name."""
    return (0 if model == OWN_MODEL else 1, str(model))


#: Quantiles a forecast reports unless told otherwise.
DEFAULT_QUANTILES = (0.05, 0.5, 0.9, 0.95, 0.99)
#: Quantiles the weekly plan, ``capacity recommend``, ``check-event`` and ``schedule`` forecast:
#: one set, so that on the same telemetry they share each series' fit through the forecast
#: cache (a fine grid: a check reads breach probabilities off it). Asking for more quantiles
#: changes none of the others, so ``forecast_fleet`` fits every series on this grid as well as
#: the quantiles asked for, and keeps only the latter.
SHARED_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def metric_label(metric: str) -> str:
    """An axis title for ``metric``: its meaning with its name, ``players online (ccu)``;
    a metric with no meaning in :data:`METRIC_MEANINGS` is titled by its name alone."""
    meaning = METRIC_MEANINGS.get(metric)
    return f"{meaning} ({metric})" if meaning else str(metric)


def quantile_column(q: float) -> str:
    """Name of the column holding quantile ``q`` of a forecast: ``q0.05``, ``q0.5``, ``q0.95``."""
    return f"q{q:g}"
