"""The names the resilience figures share: the fields and columns of the incident and deploy
logs, the severities, the alert states, and the columns of the KPI table, of its JSON objects
and of the trend."""

from __future__ import annotations

from capacity.columns import REGION, SERVICE

INCIDENT_ID = "incident_id"
SEVERITY = "severity"
STARTED_AT = "started_at"
DETECTED_AT = "detected_at"
RESOLVED_AT = "resolved_at"
CAUSE = "cause"
DEPLOY_ID = "deploy_id"
DEPLOYED_AT = "deployed_at"
CHANGE = "change"
#: Columns of an incident log and of the frame :func:`read_incidents` returns.
INCIDENT_COLUMNS = (
    INCIDENT_ID,
    REGION,
    SERVICE,
    SEVERITY,
    STARTED_AT,
    DETECTED_AT,
    RESOLVED_AT,
    CAUSE,
    DEPLOY_ID,
)
#: Columns of a deploy log and of the frame :func:`read_deploys` returns.
DEPLOY_COLUMNS = (DEPLOY_ID, REGION, SERVICE, DEPLOYED_AT, CHANGE)
#: Incident severities, most severe first.
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
#: Alert states of :func:`alert_state`, most urgent first: a series not checked ranks above
#: one checked and quiet, so a group reads ``ok`` only when every series in it is.
ALERT_STATES = ("page", "ticket", "unknown", "ok")
#: Columns of the frame :func:`kpis` returns, in order.
KPI_COLUMNS = (
    REGION,
    SERVICE,
    "availability",
    "slo_target",
    "error_budget_remaining",
    "known_hours",
    "unknown_hours",
    "burn_1h",
    "burn_6h",
    "burn_3d",
    "alert",
    "mttr_minutes",
    "mttr_median_minutes",
    "mttd_minutes",
    "mtbf_hours",
    "incidents",
    "incidents_open",
    "failures",
    *(f"incidents_{s}" for s in SEVERITIES),
    "deploys",
    "change_failure_rate",
)
#: Keys of each object :func:`kpis_json` returns, in order.
JSON_KEYS = (
    REGION,
    SERVICE,
    "availability",
    "error_budget_remaining",
    "mttr_minutes",
    "mttd_minutes",
    "mtbf_hours",
    "incidents",
    "deploys",
    "change_failure_rate",
    "alert",
    "burn_1h",
    "burn_6h",
    "burn_3d",
    # what the figures above rest on: without them a reader of the JSON cannot tell an
    # availability over a few hours of data, or an MTTR that leaves open incidents out
    "slo_target",
    "known_hours",
    "unknown_hours",
    "incidents_open",
    "failures",
    "mttr_median_minutes",
    *(f"incidents_{s}" for s in SEVERITIES),
)
#: Columns of the frame :func:`trend` returns.
TREND_COLUMNS = (REGION, SERVICE, "figure", "previous", "current", "change", "direction")
