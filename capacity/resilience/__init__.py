"""Resilience figures: availability and error-budget burn per SLO, MTTR, MTTD, MTBF and change
failure rate, from hourly ``error_rate`` telemetry and incident and deploy logs.

:func:`read_incidents` and :func:`read_deploys` read and validate the logs, :func:`kpis`
computes the figures per group over a window, :func:`kpis_json` makes them JSON-safe, and
:func:`trend` compares the last weeks with the weeks before. ``docs/resilience.md`` explains
every figure with a worked example.

**Where the code lives.** This package's ``__init__`` only gathers the names; each module
holds one part, and the imports run one way (top to bottom in this list):

- ``columns``: the logs' fields and columns, the severities, the alert states, and the columns
  of the KPI table, of its JSON objects and of the trend;
- ``values``: one field of a log read by the logs' rules (a text, a known name, a timestamp);
- ``formats``: a log's records from CSV or YAML, its header or keys matched to the fields, and
  a file of another kind refused by name;
- ``logs``: :func:`read_incidents` and :func:`read_deploys`; its docstring holds the logs'
  rules (columns, formats, timestamps, repeated ids);
- ``alerts``: the burn windows, the SRE workbook's thresholds and :func:`alert_state`;
- ``inputs``: what the figures are computed from, checked (the window, the group keys, the
  fleet's names, one row per id, error rates in [0, 1]), and :func:`within_fleet`;
- ``figures``: :func:`kpis`; its docstring defines every figure;
- ``json_rows``: :func:`kpis_json`;
- ``trends``: :func:`trend` and the figures it compares (``TREND_FIGURES``).

``__all__`` is what the module listed before it became a package; the field names
(``INCIDENT_ID``, ``STARTED_AT``, ...), ``BURN_WINDOWS``, the alert thresholds
(``PAGE_FAST_BURN``, ``PAGE_SLOW_BURN``, ``TICKET_BURN``) and ``TREND_FIGURES`` are importable
from here as before.
"""

from __future__ import annotations

from capacity.resilience.alerts import BURN_WINDOWS as BURN_WINDOWS
from capacity.resilience.alerts import PAGE_FAST_BURN as PAGE_FAST_BURN
from capacity.resilience.alerts import PAGE_SLOW_BURN as PAGE_SLOW_BURN
from capacity.resilience.alerts import TICKET_BURN as TICKET_BURN
from capacity.resilience.alerts import alert_state
from capacity.resilience.columns import (
    ALERT_STATES,
    DEPLOY_COLUMNS,
    INCIDENT_COLUMNS,
    JSON_KEYS,
    KPI_COLUMNS,
    SEVERITIES,
    TREND_COLUMNS,
)
from capacity.resilience.columns import CAUSE as CAUSE
from capacity.resilience.columns import CHANGE as CHANGE
from capacity.resilience.columns import DEPLOY_ID as DEPLOY_ID
from capacity.resilience.columns import DEPLOYED_AT as DEPLOYED_AT
from capacity.resilience.columns import DETECTED_AT as DETECTED_AT
from capacity.resilience.columns import INCIDENT_ID as INCIDENT_ID
from capacity.resilience.columns import RESOLVED_AT as RESOLVED_AT
from capacity.resilience.columns import SEVERITY as SEVERITY
from capacity.resilience.columns import STARTED_AT as STARTED_AT
from capacity.resilience.figures import kpis
from capacity.resilience.inputs import group_keys, within_fleet
from capacity.resilience.json_rows import kpis_json
from capacity.resilience.logs import read_deploys, read_incidents
from capacity.resilience.trends import TREND_FIGURES as TREND_FIGURES
from capacity.resilience.trends import trend

__all__ = [
    "ALERT_STATES",
    "DEPLOY_COLUMNS",
    "INCIDENT_COLUMNS",
    "JSON_KEYS",
    "KPI_COLUMNS",
    "SEVERITIES",
    "TREND_COLUMNS",
    "alert_state",
    "group_keys",
    "kpis",
    "kpis_json",
    "read_deploys",
    "read_incidents",
    "trend",
    "within_fleet",
]
