"""Resilience figures: availability and error-budget burn per SLO, MTTR, MTTD, MTBF and change
failure rate, from hourly ``error_rate`` telemetry and incident and deploy logs.

:func:`read_incidents` and :func:`read_deploys` read and validate the logs, :func:`kpis`
computes the figures per group over a window, :func:`kpis_json` makes them JSON-safe, and
:func:`trend` compares the last weeks with the weeks before. ``docs/resilience.md`` explains
every figure with a worked example.

Logs
----
An incident log has the columns :data:`INCIDENT_COLUMNS`; ``cause`` and ``deploy_id`` may be
left out or empty, and ``resolved_at`` may be empty for an incident still open. A deploy log has
the columns :data:`DEPLOY_COLUMNS`; ``change`` may be left out or empty. The format is picked by
the extension:

* CSV (``.csv``): a header line, then one row per incident or deploy. Header names are matched
  case-insensitively, ignoring surrounding spaces; unknown columns are refused, so a misspelt
  optional column is not silently dropped.
* YAML (``.yaml``/``.yml``): a list of mappings with the same field names, or a mapping whose
  only key is ``incidents`` (``deploys``) holding that list. Ids, ``cause`` and ``change`` are
  kept as written, never read as numbers (``0012`` stays ``'0012'``, ``1.10`` ``'1.10'``).

Timestamps are ISO 8601 date-times. A value with a UTC offset or ``Z`` is exact; a naive value
is refused unless ``tz`` is given, in which case it is wall-clock time there (a time the clocks
skip or repeat is refused); a date without a time is refused. Every timestamp ends up in UTC.

Within one file an id used twice must name identical content; identical copies collapse into
one. Every problem raises :class:`~capacity.errors.DataError` naming the file, the line (the
CSV header is line 1; a YAML item is named by the line it starts on), what was wrong and a fix.

Figures
-------
Over the hours whose start lies in ``[since, until)``, per series (region, service) and hour,
``e`` is the hourly ``error_rate`` and ``t`` the service's availability SLO
(``services.<name>.slo.availability``). For a group of series (a region, a service, or
everything):

* ``availability = 1 - mean(e)`` over the series-hours with data; ``unknown_hours`` counts the
  series-hours without (a gap is unknown, never up);
* ``slo_target = mean(t)`` over the same series-hours (the mean of the group's targets when
  none has data), so the allowed error is ``1 - slo_target`` (the error budget of the window,
  as a rate). A group whose services have different targets thus pools its budget;
* ``error_budget_remaining = 1 - (1 - availability) / (1 - slo_target)``: 1 untouched, 0 spent,
  negative overspent;
* ``burn_1h``, ``burn_6h``, ``burn_3d``: ``mean(e) / (1 - slo_target)`` over the last 1, 6 and
  72 hours before ``until`` (whatever ``since`` is); NaN when those hours have no data;
* ``alert``: for a series :func:`alert_state` of its three burn rates; for a group the most
  urgent (in the order of :data:`ALERT_STATES`) of its series' alerts, not the state of its
  pooled burn rates, in which one paging series would be diluted;
* incidents are attributed to the window by ``started_at``: ``mttr_minutes`` and
  ``mttr_median_minutes`` of ``resolved_at - started_at`` (resolved incidents only;
  ``incidents_open`` counts the others, which are in ``incidents`` but not in MTTR),
  ``mttd_minutes`` the mean of ``detected_at - started_at``, ``mtbf_hours`` the mean time
  between successive starts (``(last - first) / (n - 1)``), all NaN, never zero, when there is
  nothing to measure;
* ``change_failure_rate``: deploys in the window (by ``deployed_at``) named by the ``deploy_id``
  of at least one incident of the log (whenever it started: a failed change is failed even when
  its incident began after ``until``), divided by the deploys in the window; NaN without
  deploys.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from capacity import records as rec
from capacity.columns import ALL_REGIONS, ERROR_RATE, METRIC, REGION, SERVICE, TS, VALUE
from capacity.config import FleetConfig
from capacity.errors import ConfigError, DataError, ParameterError, the_parameter
from capacity.frames import require_columns
from capacity.units import as_utc, parse_timestamp

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

# --------------------------------------------------------------------------- names

INCIDENT_ID = "incident_id"
SEVERITY = "severity"
STARTED_AT = "started_at"
DETECTED_AT = "detected_at"
RESOLVED_AT = "resolved_at"
CAUSE = "cause"
DEPLOY_ID = "deploy_id"
DEPLOYED_AT = "deployed_at"
#: How far past the machine's clock a logged time may lie (clocks and offsets disagree a
#: little); a later time is a typo, such as a wrong year.
_FUTURE_TOLERANCE = pd.Timedelta(days=1)
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

#: The burn-rate windows: column name and hours before ``until``.
BURN_WINDOWS = (("burn_1h", 1), ("burn_6h", 6), ("burn_3d", 72))
#: SRE workbook thresholds (for a 30-day SLO period): 2 % of the budget in 1 h, 5 % in 6 h,
#: 10 % in 3 days.
PAGE_FAST_BURN = 14.4
PAGE_SLOW_BURN = 6.0
TICKET_BURN = 1.0

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
    "mttr_median_minutes",
    *(f"incidents_{s}" for s in SEVERITIES),
)
#: Columns of the frame :func:`trend` returns.
TREND_COLUMNS = (REGION, SERVICE, "figure", "previous", "current", "change", "direction")
#: Figures :func:`trend` compares, and whether a higher value is better (None: neither).
TREND_FIGURES: tuple[tuple[str, bool | None], ...] = (
    ("availability", True),
    ("error_budget_remaining", True),
    ("mttr_minutes", False),
    ("mttd_minutes", False),
    ("mtbf_hours", True),
    ("incidents", False),
    ("deploys", None),
    ("change_failure_rate", False),
)

_INT_COLUMNS = (
    "known_hours",
    "unknown_hours",
    "incidents",
    "incidents_open",
    *(f"incidents_{s}" for s in SEVERITIES),
    "deploys",
)
_BY_KEYS = (REGION, SERVICE)
_TS_DTYPE = "datetime64[us, UTC]"
_ISO_HINT = "write ISO 8601 with a UTC offset, e.g. 2026-12-18T08:00:00+00:00 or 2026-12-18T08:00Z"
_EXTENSIONS = (".csv", ".yaml", ".yml")


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Spec:
    """What one kind of log looks like."""

    noun: str  # "incident" or "deploy"
    yaml_key: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    texts: tuple[str, ...]  # YAML fields kept as written, never read as numbers


_INCIDENTS = _Spec(
    "incident",
    "incidents",
    INCIDENT_COLUMNS,
    (INCIDENT_ID, REGION, SERVICE, SEVERITY, STARTED_AT, DETECTED_AT, RESOLVED_AT),
    (INCIDENT_ID, CAUSE, DEPLOY_ID),
)
_DEPLOYS = _Spec(
    "deploy",
    "deploys",
    DEPLOY_COLUMNS,
    (DEPLOY_ID, REGION, SERVICE, DEPLOYED_AT),
    (DEPLOY_ID, CHANGE),
)


@dataclass(frozen=True)
class _Raw:
    where: str
    values: Mapping[str, Any]


def read_incidents(
    path: str | Path,
    *,
    regions: Collection[str] | None = None,
    services: Collection[str] | None = None,
    deploy_ids: Iterable[str] | Mapping[str, Any] | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """Read and validate an incident log (CSV or YAML).

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.yaml`` or ``.yml`` file with the columns :data:`INCIDENT_COLUMNS`
        (``cause`` and ``deploy_id`` optional).
    regions, services : collection of str, optional
        The known names (e.g. ``fleet.regions``); an incident naming another is refused.
    deploy_ids : iterable of str, or mapping of str to timestamp, optional
        The known deploy ids; an incident whose ``deploy_id`` names another is refused. Given
        as a mapping to each deploy's time, an incident that started before the deploy it
        names is refused too (a deploy cannot cause what began before it).
    tz : str, optional
        IANA time zone of naive date-times; without it they are refused.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INCIDENT_COLUMNS`: ids, names and ``severity`` (one of
        :data:`SEVERITIES`) as str; ``started_at``, ``detected_at``, ``resolved_at`` as
        ``datetime64[us, UTC]`` (``resolved_at`` NaT for an open incident); ``cause`` and
        ``deploy_id`` str or None. Sorted by ``started_at`` then ``incident_id``.

    Raises
    ------
    DataError
        When the file cannot be read or a row is invalid: a missing column, an unparseable or
        naive time, an unknown severity, region, service or deploy, a detection or resolution
        before the start, or an id used twice with different content.
    ParameterError
        When ``tz`` is not a known time zone.
    """
    zone = _zone(tz)
    known_deploys: dict[str, pd.Timestamp | None] | None = None
    if isinstance(deploy_ids, Mapping):
        known_deploys = {
            str(d): None if t is None or pd.isna(t) else as_utc(pd.Timestamp(t))
            for d, t in deploy_ids.items()
        }
    elif deploy_ids is not None:
        known_deploys = {str(d): None for d in deploy_ids}
    source, records = _records(Path(path), _INCIDENTS)
    rows = [
        _incident(
            raw,
            source=source,
            zone=zone,
            regions=regions,
            services=services,
            deploy_ids=known_deploys,
        )
        for raw in records
    ]
    rows = _collapse(rows, source=source, spec=_INCIDENTS)
    frame = pd.DataFrame(
        {
            INCIDENT_ID: pd.Series([r[INCIDENT_ID] for r in rows], dtype=str),
            REGION: pd.Series([r[REGION] for r in rows], dtype=str),
            SERVICE: pd.Series([r[SERVICE] for r in rows], dtype=str),
            SEVERITY: pd.Series([r[SEVERITY] for r in rows], dtype=str),
            STARTED_AT: _ts_series([r[STARTED_AT] for r in rows]),
            DETECTED_AT: _ts_series([r[DETECTED_AT] for r in rows]),
            RESOLVED_AT: _ts_series([r[RESOLVED_AT] for r in rows]),
            CAUSE: pd.Series([r[CAUSE] for r in rows], dtype=object),
            DEPLOY_ID: pd.Series([r[DEPLOY_ID] for r in rows], dtype=object),
        }
    )
    return frame.sort_values([STARTED_AT, INCIDENT_ID], kind="stable").reset_index(drop=True)


def read_deploys(
    path: str | Path,
    *,
    regions: Collection[str] | None = None,
    services: Collection[str] | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """Read and validate a deploy log (CSV or YAML).

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.yaml`` or ``.yml`` file with the columns :data:`DEPLOY_COLUMNS`
        (``change`` optional).
    regions, services : collection of str, optional
        The known names; a deploy naming another is refused.
    tz : str, optional
        IANA time zone of naive date-times; without it they are refused.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DEPLOY_COLUMNS`: ``deploy_id``, ``region``, ``service`` as str,
        ``deployed_at`` as ``datetime64[us, UTC]``, ``change`` str or None. Sorted by
        ``deployed_at`` then ``deploy_id``.

    Raises
    ------
    DataError
        When the file cannot be read or a row is invalid: a missing column, an unparseable or
        naive time, an unknown region or service, or an id used twice with different content.
    ParameterError
        When ``tz`` is not a known time zone.
    """
    zone = _zone(tz)
    source, records = _records(Path(path), _DEPLOYS)
    rows = [
        _deploy(raw, source=source, zone=zone, regions=regions, services=services)
        for raw in records
    ]
    rows = _collapse(rows, source=source, spec=_DEPLOYS)
    frame = pd.DataFrame(
        {
            DEPLOY_ID: pd.Series([r[DEPLOY_ID] for r in rows], dtype=str),
            REGION: pd.Series([r[REGION] for r in rows], dtype=str),
            SERVICE: pd.Series([r[SERVICE] for r in rows], dtype=str),
            DEPLOYED_AT: _ts_series([r[DEPLOYED_AT] for r in rows]),
            CHANGE: pd.Series([r[CHANGE] for r in rows], dtype=object),
        }
    )
    return frame.sort_values([DEPLOYED_AT, DEPLOY_ID], kind="stable").reset_index(drop=True)


def _ts_series(values: list[pd.Timestamp | None]) -> pd.Series:
    return pd.Series([pd.NaT if v is None else v for v in values], dtype=_TS_DTYPE)


def _records(path: Path, spec: _Spec) -> tuple[str, list[_Raw]]:
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in _EXTENSIONS:
        raise DataError(
            f"unsupported file type {suffix or '(none)'!r}",
            source=source,
            fix=f"give the {spec.noun} log as a .csv, .yaml or .yml file",
        )
    text = rec.read_text(path)
    if suffix == ".csv":
        return source, _csv_records(text, source=source, spec=spec)
    return source, _yaml_records(text, source=source, spec=spec)


def _match_fields(
    found: Sequence[str], *, source: str, where: str | None, spec: _Spec, what: str
) -> list[str]:
    """Map found column (or key) names to field names; refuse missing, unknown and repeated."""
    fields = [rec.normalise_key(name) for name in found]
    place: dict[str, Any] = {"what": what, "source": source, "where": where}
    log = f"{'an' if spec.noun[0] in 'aeiou' else 'a'} {spec.noun} log"
    _check_kind(fields, spec=spec, log=log, what=what, source=source, where=where)
    known = f"the {what}s of {log} are {', '.join(spec.fields)}"
    rec.check_known(fields, found, allowed=spec.fields, known=known, **place)
    rec.check_unique(fields, found, **place)
    needs = f"; {log} needs {', '.join(spec.required)}"
    rec.check_required(
        fields, found, required=spec.required, allowed=spec.fields, needs=needs, **place
    )
    return fields


#: Required fields that only one kind of file has, the command that imports it and the
#: function that reads it: a file of another kind given to a log's reader is named for what it
#: is (when it has all of that kind's fields and none of the log's own).
_KINDS = (
    ("an incident log", {INCIDENT_ID, STARTED_AT}, "incidents import", "read_incidents"),
    ("a deploy log", {DEPLOYED_AT}, "deploys import", "read_deploys"),
    (
        "a live-ops calendar",
        {"start", "end", "kind"},
        "events import",
        "capacity.calendar.read_calendar",
    ),
)


def _check_kind(
    fields: Sequence[str], *, spec: _Spec, log: str, what: str, source: str, where: str | None
) -> None:
    """Refuse a file of another kind (a deploy log given as incidents, a calendar) by name."""
    found = set(fields)
    own = next(marks for name, marks, _, _ in _KINDS if name == log)
    if found & own:
        return
    for name, marks, command, reader in _KINDS:
        if name != log and marks <= found:
            raise DataError(
                f"the {what}s ({', '.join(sorted(marks))}) are those of {name}, not of {log}",
                source=source,
                where=where,
                fix=f"import it with 'capacity {command}' ({reader} in Python), or give "
                f"{log} with the {what}s {', '.join(spec.fields)}",
            )


def _match_for(source: str, spec: _Spec) -> rec.Matcher:
    def match(found: list[str], what: str, where: str | None) -> list[str]:
        return _match_fields(found, source=source, where=where, spec=spec, what=what)

    return match


def _csv_records(text: str, *, source: str, spec: _Spec) -> list[_Raw]:
    rows = rec.csv_rows(
        text,
        source=source,
        empty_fix=f"start with the header line {','.join(spec.fields)}",
        match=_match_for(source, spec),
    )
    return [_Raw(f"line {line}", values) for line, values in rows]


def _yaml_records(text: str, *, source: str, spec: _Spec) -> list[_Raw]:
    key = spec.yaml_key

    def where_of(number: int, item: Any, line: int | None) -> str:
        return f"line {line}" if line is not None else f"{spec.noun} {number}"

    rows = rec.yaml_rows(
        text,
        source=source,
        key=key,
        noun=spec.noun,
        empty_fix=f"write a list of {key}, or '{key}: []' for none",
        list_fix=f"write a list of {key}, or a mapping with the key {key!r}",
        where_of=where_of,
        match=_match_for(source, spec),
        text_fields=spec.texts,
    )
    return [_Raw(where, values) for where, values in rows]


# --------------------------------------------------------------------------- values


def _zone(tz: str | None) -> ZoneInfo | None:
    return rec.zone(
        tz,
        problem="The 'tz' parameter must be an IANA time zone such as 'Europe/Berlin' or "
        f"'UTC'. Got {tz!r}.",
        type_errors=True,
    )


def _text(value: Any, *, field: str, source: str, where: str) -> str | None:
    """A text value: None when missing; numbers are accepted as their text."""
    if rec.is_missing(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DataError(
            f"{field} {value!r} is not text",
            source=source,
            where=where,
            fix=f"write {field} as plain text",
        )
    return str(value).strip()


def _required_text(value: Any, *, field: str, source: str, where: str) -> str:
    text = _text(value, field=field, source=source, where=where)
    if text is None:
        raise DataError(
            f"{field} is empty", source=source, where=where, fix=f"give every row a {field}"
        )
    return text


def _name(value: Any, *, field: str, known: Collection[str] | None, source: str, where: str) -> str:
    name = _required_text(value, field=field, source=source, where=where)
    if known is not None and name not in known:
        listing = sorted(known)
        raise DataError(
            f"unknown {field} {name!r}",
            source=source,
            where=where,
            fix=f"{rec.suggest(name, listing)}known {field}s are {', '.join(listing)} "
            "(from the fleet config)",
        )
    return name


def _timestamp(
    value: Any, *, field: str, zone: ZoneInfo | None, source: str, where: str
) -> pd.Timestamp | None:
    """One timestamp by the module's rule; None when missing."""
    if rec.is_missing(value):
        return None
    shown = rec.shown(value)
    parsed: Any = None
    if isinstance(value, str):
        try:
            parsed = rec.parse_iso(value)
        except ValueError:
            parsed = None
    elif isinstance(value, pd.Timestamp):
        parsed = value.to_pydatetime()
    elif isinstance(value, dt.datetime):
        parsed = value
    if not isinstance(parsed, dt.datetime):
        dated = isinstance(value, dt.date) or (
            isinstance(value, str) and rec.DATE_RE.match(value.strip())
        )
        problem = (
            f"{field} {shown!r} is a date without a time"
            if dated
            else f"{field} {shown!r} is not an ISO 8601 date-time"
        )
        raise DataError(problem, source=source, where=where, fix=_ISO_HINT)
    place: dict[str, Any] = {"field": field, "shown": shown, "source": source, "where": where}
    aware = rec.to_aware(
        parsed,
        zone,
        naive_fix="give it a UTC offset (2026-12-18T08:00+01:00 or ...Z), or the time zone "
        "it is in: --tz Europe/Berlin (tz='Europe/Berlin' in Python)",
        **place,
    )
    stamp = rec.utc_timestamp(aware, fix=_ISO_HINT, **place)
    now = pd.Timestamp.now(tz="UTC")
    if stamp > now + _FUTURE_TOLERANCE:
        raise DataError(
            f"{field} {rec.show_ts(stamp)} is in the future (now {rec.show_ts(now.floor('min'))})",
            source=source,
            where=where,
            fix="a log records what happened: check the year and the UTC offset",
        )
    return stamp


def _required_timestamp(
    value: Any, *, field: str, zone: ZoneInfo | None, source: str, where: str
) -> pd.Timestamp:
    stamp = _timestamp(value, field=field, zone=zone, source=source, where=where)
    if stamp is None:
        raise DataError(f"{field} is empty", source=source, where=where, fix=_ISO_HINT)
    return stamp


def _incident(
    raw: _Raw,
    *,
    source: str,
    zone: ZoneInfo | None,
    regions: Collection[str] | None,
    services: Collection[str] | None,
    deploy_ids: Mapping[str, pd.Timestamp | None] | None,
) -> dict[str, Any]:
    values, where = raw.values, raw.where
    kw: dict[str, Any] = {"source": source, "where": where}
    incident_id = _required_text(values.get(INCIDENT_ID), field=INCIDENT_ID, **kw)
    region = _name(values.get(REGION), field=REGION, known=regions, **kw)
    service = _name(values.get(SERVICE), field=SERVICE, known=services, **kw)
    severity_raw = values.get(SEVERITY)
    severity = (_text(severity_raw, field=SEVERITY, **kw) or "").lower().replace(" ", "")
    if severity not in SEVERITIES:
        raise DataError(
            f"severity {severity_raw!r} is not one of {', '.join(SEVERITIES)}",
            fix="write sev1 (most severe) to sev4",
            **kw,
        )
    started = _required_timestamp(values.get(STARTED_AT), field=STARTED_AT, zone=zone, **kw)
    detected = _required_timestamp(values.get(DETECTED_AT), field=DETECTED_AT, zone=zone, **kw)
    resolved = _timestamp(values.get(RESOLVED_AT), field=RESOLVED_AT, zone=zone, **kw)
    if detected < started:
        raise DataError(
            f"detected_at {rec.show_ts(detected)} is before started_at {rec.show_ts(started)}",
            fix="an incident is detected at or after it starts: check both times and offsets",
            **kw,
        )
    if resolved is not None and resolved < started:
        raise DataError(
            f"resolved_at {rec.show_ts(resolved)} is before started_at {rec.show_ts(started)}",
            fix="an incident is resolved at or after it starts: check both times and offsets; "
            "leave resolved_at empty for an incident still open",
            **kw,
        )
    deploy_id = _text(values.get(DEPLOY_ID), field=DEPLOY_ID, **kw)
    if deploy_id is not None and deploy_ids is not None and deploy_id not in deploy_ids:
        hint = rec.suggest(deploy_id, sorted(deploy_ids))
        raise DataError(
            f"deploy_id {deploy_id!r} names no known deploy",
            fix=f"{hint}add the deploy to the deploy log and import that first, or leave "
            "deploy_id empty",
            **kw,
        )
    deployed = None if deploy_id is None or deploy_ids is None else deploy_ids[deploy_id]
    if deployed is not None and deployed > started:
        raise DataError(
            f"deploy {deploy_id!r} was made at {rec.show_ts(deployed)}, after the incident "
            f"started at {rec.show_ts(started)}: a deploy cannot have caused it",
            fix="check the deploy_id and both times and offsets, or leave deploy_id empty",
            **kw,
        )
    return {
        INCIDENT_ID: incident_id,
        REGION: region,
        SERVICE: service,
        SEVERITY: severity,
        STARTED_AT: started,
        DETECTED_AT: detected,
        RESOLVED_AT: resolved,
        CAUSE: _text(values.get(CAUSE), field=CAUSE, **kw),
        DEPLOY_ID: deploy_id,
        "_where": where,
    }


def _deploy(
    raw: _Raw,
    *,
    source: str,
    zone: ZoneInfo | None,
    regions: Collection[str] | None,
    services: Collection[str] | None,
) -> dict[str, Any]:
    values, where = raw.values, raw.where
    kw: dict[str, Any] = {"source": source, "where": where}
    return {
        DEPLOY_ID: _required_text(values.get(DEPLOY_ID), field=DEPLOY_ID, **kw),
        REGION: _name(values.get(REGION), field=REGION, known=regions, **kw),
        SERVICE: _name(values.get(SERVICE), field=SERVICE, known=services, **kw),
        DEPLOYED_AT: _required_timestamp(
            values.get(DEPLOYED_AT), field=DEPLOYED_AT, zone=zone, **kw
        ),
        CHANGE: _text(values.get(CHANGE), field=CHANGE, **kw),
        "_where": where,
    }


def _collapse(rows: list[dict[str, Any]], *, source: str, spec: _Spec) -> list[dict[str, Any]]:
    """Keep the first of identical rows with one id; refuse rows with one id and other content."""
    id_field = spec.fields[0]
    kept: dict[str, dict[str, Any]] = {}
    for row in rows:
        first = kept.get(row[id_field])
        if first is None:
            kept[row[id_field]] = row
            continue
        for field in spec.fields[1:]:
            a, b = first[field], row[field]
            if a != b:
                shown = [rec.show_ts(v) if isinstance(v, pd.Timestamp) else v for v in (a, b)]
                raise DataError(
                    f"{id_field} {row[id_field]!r} is also used on {first['_where']} with a "
                    f"different {field} ({shown[0]!r} vs {shown[1]!r})",
                    source=source,
                    where=row["_where"],
                    fix=f"give each {spec.noun} its own {id_field}, or make the duplicates "
                    "identical",
                )
    return list(kept.values())


# --------------------------------------------------------------------------- figures


def alert_state(burn_1h: float, burn_6h: float, burn_3d: float) -> str:
    """The alert state for three burn rates: ``page``, ``ticket``, ``ok`` or ``unknown``.

    The SRE workbook's multiwindow, multi-burn-rate alerts, with every short window rounded up
    to the one hour that hourly data resolves:

    * ``page`` when ``burn_1h > 14.4`` (the 1 h / 5 min pair: 2 % of a 30-day budget in an
      hour), or when ``burn_6h > 6`` and ``burn_1h > 6`` (the 6 h / 30 min pair: 5 % in 6 h);
    * else ``ticket`` when ``burn_3d > 1`` and ``burn_6h > 1`` (the 3 d / 6 h pair: 10 % in
      3 days);
    * else ``ok`` when all three windows have data; else ``unknown``: a rule whose window has
      no data cannot fire, and ``ok`` would claim it was checked. Both page pairs need
      ``burn_1h``, so the last hour without data is ``unknown`` (or ``ticket``), never ``ok``.

    Parameters
    ----------
    burn_1h, burn_6h, burn_3d : float
        Burn rates over the last 1, 6 and 72 hours (NaN when unknown).

    Returns
    -------
    str
        One of :data:`ALERT_STATES`.
    """
    b1, b6, b3 = (float(b) if b is not None else math.nan for b in (burn_1h, burn_6h, burn_3d))
    # a comparison with NaN is False: a window without data never fires
    if b1 > PAGE_FAST_BURN or (b6 > PAGE_SLOW_BURN and b1 > PAGE_SLOW_BURN):
        return "page"
    if b3 > TICKET_BURN and b6 > TICKET_BURN:
        return "ticket"
    if any(math.isnan(b) for b in (b1, b6, b3)):
        return "unknown"
    return "ok"


def kpis(
    incidents: pd.DataFrame | None,
    deploys: pd.DataFrame | None,
    error_rate: pd.DataFrame,
    fleet: FleetConfig,
    *,
    since: Any,
    until: Any,
    by: str | Sequence[str] = (REGION, SERVICE),
) -> pd.DataFrame:
    """Resilience figures per group and overall over the hours in ``[since, until)``.

    Parameters
    ----------
    incidents : pandas.DataFrame or None
        Incidents with the columns :data:`INCIDENT_COLUMNS` (as :func:`read_incidents` returns
        them); None for none. Not modified.
    deploys : pandas.DataFrame or None
        Deploys with the columns :data:`DEPLOY_COLUMNS`; None for none. Not modified.
    error_rate : pandas.DataFrame
        Hourly error rates, columns ``ts, region, service, value`` (a ``metric`` column, as
        :meth:`capacity.store.Store.series` returns, keeps only ``error_rate`` rows). NaN
        values and absent hours are hours without data. Values within one hour are averaged.
        Naive ``ts`` are taken as UTC. Give it the hours from ``min(since, until - 72h)`` on,
        for the burn rates.
    fleet : FleetConfig
        The fleet: its regions and services are the series, ``services.<s>.slo.availability``
        their targets.
    since, until : timestamp-like
        The window; naive values are taken as UTC. Hours whose start lies in the window count.
    by : str or sequence of str
        Group keys, a subset of ``("region", "service")`` (or a comma-separated string). A key
        left out reads ``"all"`` in the output. ``()`` gives the overall row only.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`KPI_COLUMNS`, one row per group (every fleet region and/or service,
        sorted) and a last row for everything (``region`` and ``service`` both ``"all"``).
        Figures that cannot be measured are NaN, never zero. See the module docstring.

    Raises
    ------
    ParameterError
        When ``since``/``until``/``by`` are not usable or a frame lacks columns.
    DataError
        When a frame names a region or service that is not in the fleet, an error rate is
        outside [0, 1], or an incident or deploy id is on two rows with different content
        (identical rows count once).
    ConfigError
        When the fleet names a region or service ``all``, the name of the summing rows.
    """
    lo, hi = _window(since, until)
    keys = group_keys(by)
    _check_no_all(fleet)
    regions, services = sorted(fleet.regions), sorted(fleet.services)
    targets = {s: float(fleet.services[s].slo.availability) for s in services}
    incident_frame = _incident_frame(incidents, fleet)
    deploy_frame = _deploy_frame(deploys, fleet)
    start = min(lo, hi - pd.Timedelta(hours=max(h for _, h in BURN_WINDOWS)))
    rates = _hourly_rates(error_rate, fleet, start=start, end=hi)

    points = _points(rates, regions, services, targets, lo, hi)
    burn_points = {
        name: _points(rates, regions, services, targets, hi - pd.Timedelta(hours=h), hi)
        for name, h in BURN_WINDOWS
    }
    series = pd.DataFrame(
        [(r, s, targets[s]) for r in regions for s in services], columns=[REGION, SERVICE, "t"]
    )
    alerts = _series_alerts(burn_points)
    in_window = incident_frame[
        (incident_frame[STARTED_AT] >= lo) & (incident_frame[STARTED_AT] < hi)
    ]
    failed = set(incident_frame[DEPLOY_ID].dropna().astype(str))
    deploys_in = deploy_frame[(deploy_frame[DEPLOYED_AT] >= lo) & (deploy_frame[DEPLOYED_AT] < hi)]
    deploys_in = deploys_in.assign(_failed=deploys_in[DEPLOY_ID].astype(str).isin(failed))

    parts = []
    for grouping in (keys, ()) if keys else ((),):
        parts.append(
            _figures(
                grouping,
                series=series,
                points=points,
                burn_points=burn_points,
                alerts=alerts,
                incidents=in_window,
                deploys=deploys_in,
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    for column in _INT_COLUMNS:
        frame[column] = frame[column].astype("int64")
    return frame.loc[:, list(KPI_COLUMNS)]


def _window(since: Any, until: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    lo = parse_timestamp(since, "since").as_unit("ns")
    hi = parse_timestamp(until, "until").as_unit("ns")
    if hi <= lo:
        raise ParameterError(
            f"The 'until' parameter must be after 'since'. Got since={lo}, until={hi}."
        )
    return lo, hi


def group_keys(by: str | Sequence[str], *, name: str = "by") -> tuple[str, ...]:
    """The group keys ``by`` names, in the order :func:`kpis` groups by.

    Parameters
    ----------
    by : str or sequence of str
        A subset of ``("region", "service")``, or a comma-separated string of them.
    name : str
        The parameter's name, for the error message (``"--by"`` on the command line).

    Returns
    -------
    tuple of str
        ``("region", "service")``, ``("region",)``, ``("service",)`` or ``()``.

    Raises
    ------
    ParameterError
        When ``by`` names anything else, or a key twice.
    """
    items = [p.strip() for p in by.split(",") if p.strip()] if isinstance(by, str) else list(by)
    if not all(isinstance(k, str) and k in _BY_KEYS for k in items) or len(set(items)) != len(
        items
    ):
        raise ParameterError(
            f"{the_parameter(name)} must name region, service or both, each once (e.g. "
            f"'region,service'). Got {by!r}."
        )
    return tuple(k for k in _BY_KEYS if k in items)


def within_fleet(log: pd.DataFrame, fleet: FleetConfig) -> tuple[pd.DataFrame, list[str]]:
    """The rows of an incident or deploy log whose region and service the fleet file plans.

    A fleet file may cover some of the stored regions and services; the logs of the others
    are left out of its figures rather than refused.

    Parameters
    ----------
    log : pandas.DataFrame
        Incidents or deploys, with ``region`` and ``service`` columns.
    fleet : FleetConfig
        The fleet whose regions and services are kept.

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)
        The kept rows, and the ``region/service`` pairs left out, sorted.
    """
    inside = log[REGION].isin(list(fleet.regions)) & log[SERVICE].isin(list(fleet.services))
    left_out = log.loc[~inside, [REGION, SERVICE]].astype(str).drop_duplicates()
    pairs = sorted(f"{r}/{s}" for r, s in left_out.itertuples(index=False))
    return log[inside], pairs


def _check_no_all(fleet: FleetConfig) -> None:
    """Refuse a fleet region or service named ``all``: its rows would read as the overall row."""
    for key, names in (("regions", fleet.regions), ("services", fleet.services)):
        if ALL_REGIONS in names:
            raise ConfigError(
                f"a {key[:-1]} is named {ALL_REGIONS!r}, the name the resilience figures give "
                "the rows that sum up every " + key[:-1],
                source=getattr(fleet, "_source", None),
                where=f"key '{key}.{ALL_REGIONS}'",
                fix=f"rename that {key[:-1]} (and its entries elsewhere in the file)",
            )


def _check_names(frame: pd.DataFrame, fleet: FleetConfig, name: str) -> None:
    for column, known in ((REGION, fleet.regions), (SERVICE, fleet.services)):
        unknown = sorted(set(frame[column].astype(str)) - set(known))
        if unknown:
            raise DataError(
                f"{column} {unknown[0]!r} is not in the fleet config",
                source=name,
                fix=f"add it to the fleet config, or leave its rows out; known {column}s are "
                f"{', '.join(sorted(known))}",
            )


def _incident_frame(incidents: pd.DataFrame | None, fleet: FleetConfig) -> pd.DataFrame:
    if incidents is None:
        incidents = pd.DataFrame({c: pd.Series([], dtype=object) for c in INCIDENT_COLUMNS})
    frame = require_columns(incidents, INCIDENT_COLUMNS, "incidents").copy()
    for column in (STARTED_AT, DETECTED_AT, RESOLVED_AT):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    _check_names(frame, fleet, "incidents")
    return _unique(frame, INCIDENT_COLUMNS, "incidents")


def _deploy_frame(deploys: pd.DataFrame | None, fleet: FleetConfig) -> pd.DataFrame:
    if deploys is None:
        deploys = pd.DataFrame({c: pd.Series([], dtype=object) for c in DEPLOY_COLUMNS})
    frame = require_columns(deploys, DEPLOY_COLUMNS, "deploys").copy()
    frame[DEPLOYED_AT] = pd.to_datetime(frame[DEPLOYED_AT], utc=True)
    _check_names(frame, fleet, "deploys")
    return _unique(frame, DEPLOY_COLUMNS, "deploys")


def _unique(frame: pd.DataFrame, columns: Sequence[str], name: str) -> pd.DataFrame:
    """One row per id: identical copies (two logs concatenated) collapse, others are refused;
    a record counted twice would count its incident or deploy twice."""
    key = columns[0]
    frame = frame.drop_duplicates(subset=list(columns))
    repeated = frame.loc[frame[key].duplicated(), key]
    if len(repeated):
        raise DataError(
            f"{key} {repeated.iloc[0]!r} is on more than one row, with different content",
            source=name,
            fix=f"keep one row per {key} (frame.drop_duplicates({key!r}) keeps the first), or "
            "give each record its own id",
        )
    return frame


def _hourly_rates(
    error_rate: pd.DataFrame, fleet: FleetConfig, *, start: pd.Timestamp, end: pd.Timestamp
) -> pd.Series:
    """Mean error rate per (region, service, hour) with data in ``[start, end)``."""
    frame = require_columns(error_rate, (TS, REGION, SERVICE, VALUE), "error_rate")
    if METRIC in frame.columns:
        frame = frame[frame[METRIC] == ERROR_RATE]
    ts = pd.to_datetime(frame[TS], utc=True).dt.as_unit("ns").dt.floor("h")
    values = pd.to_numeric(frame[VALUE], errors="coerce").astype("float64")
    keep = (ts >= start.floor("h")) & (ts < end) & values.notna()
    frame = pd.DataFrame(
        {
            REGION: frame[REGION][keep].astype(str),
            SERVICE: frame[SERVICE][keep].astype(str),
            TS: ts[keep],
            VALUE: values[keep],
        }
    )
    _check_names(frame, fleet, "error_rate")
    bad = frame[(frame[VALUE] < 0) | (frame[VALUE] > 1)]
    if len(bad):
        row = bad.iloc[0]
        raise DataError(
            f"error rate {float(row[VALUE]):g} of {row[REGION]}/{row[SERVICE]} at "
            f"{rec.show_ts(row[TS])} is outside [0, 1]",
            source="error_rate",
            fix="give error rates as fractions of requests, e.g. 0.0004 for 0.04 %",
        )
    return frame.groupby([REGION, SERVICE, TS])[VALUE].mean()


def _points(
    rates: pd.Series,
    regions: list[str],
    services: list[str],
    targets: Mapping[str, float],
    lo: pd.Timestamp,
    hi: pd.Timestamp,
) -> pd.DataFrame:
    """One row per series and hour whose start is in ``[lo, hi)``: error rate (NaN: no data)."""
    hours = pd.date_range(lo.ceil("h"), hi, freq="h", inclusive="left").as_unit("ns")
    index = pd.MultiIndex.from_product([regions, services, hours], names=[REGION, SERVICE, TS])
    e = rates.reindex(index) if len(rates) else pd.Series(np.nan, index=index)
    frame = pd.DataFrame({"e": e.to_numpy(dtype="float64")}, index=index).reset_index()
    frame["t"] = frame[SERVICE].map(targets).astype("float64")
    return frame


def _label(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Add ``_gr``/``_gs``: the group's region and service (``"all"`` when not a key)."""
    return frame.assign(
        _gr=frame[REGION].astype(str) if REGION in keys else ALL_REGIONS,
        _gs=frame[SERVICE].astype(str) if SERVICE in keys else ALL_REGIONS,
    )


_GROUP = ["_gr", "_gs"]


def _error_sums(points: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Per group: known and unknown series-hours, sum of error rates, sum of allowed rates."""
    labelled = _label(points, keys)
    known = labelled["e"].notna()
    labelled = labelled.assign(
        known=known,
        unknown=~known,
        e0=labelled["e"].fillna(0.0),
        allowed=(1.0 - labelled["t"]).where(known, 0.0),
    )
    return labelled.groupby(_GROUP).agg(
        known=("known", "sum"),
        unknown=("unknown", "sum"),
        sum_e=("e0", "sum"),
        allowed=("allowed", "sum"),
    )


def _series_alerts(burn_points: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each series' :func:`alert_state` of its own burn rates (columns region, service, alert)."""
    burns = {}
    for name, frame in burn_points.items():
        b = _error_sums(frame, _BY_KEYS)
        with np.errstate(divide="ignore", invalid="ignore"):
            burns[name] = (b["sum_e"] / b["allowed"]).where(b["known"] > 0)
    table = pd.DataFrame(burns)
    table["alert"] = [
        alert_state(b1, b6, b3)
        for b1, b6, b3 in zip(table["burn_1h"], table["burn_6h"], table["burn_3d"], strict=True)
    ]
    table.index = table.index.set_names([REGION, SERVICE])
    return table.reset_index().loc[:, [REGION, SERVICE, "alert"]]


def _figures(
    keys: tuple[str, ...],
    *,
    series: pd.DataFrame,
    points: pd.DataFrame,
    burn_points: Mapping[str, pd.DataFrame],
    alerts: pd.DataFrame,
    incidents: pd.DataFrame,
    deploys: pd.DataFrame,
) -> pd.DataFrame:
    groups = _label(series, keys).groupby(_GROUP)["t"].mean().rename("t_series")
    index = groups.index
    out = pd.DataFrame(index=index)

    sums = _error_sums(points, keys).reindex(index)
    known = sums["known"].fillna(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_e = (sums["sum_e"] / known).where(known > 0)
        allowed = (sums["allowed"] / known).where(known > 0)
        out["availability"] = 1.0 - mean_e
        out["slo_target"] = (1.0 - allowed).fillna(groups)
        out["error_budget_remaining"] = 1.0 - mean_e / allowed
    out["known_hours"] = known
    out["unknown_hours"] = sums["unknown"].fillna(0)
    for name, frame in burn_points.items():
        b = _error_sums(frame, keys).reindex(index)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = (b["sum_e"] / b["allowed"]).where(b["known"].fillna(0) > 0)
    # a group's alert is its most urgent series' (pooled burn rates dilute one series' page)
    rank = {state: i for i, state in enumerate(ALERT_STATES)}
    labelled = _label(alerts, keys)
    worst = labelled[_GROUP].assign(_rank=labelled["alert"].map(rank)).groupby(_GROUP)["_rank"]
    out["alert"] = [ALERT_STATES[int(i)] for i in worst.min().reindex(index)]

    incident_rows = {
        g: _incident_figures(part) for g, part in _label(incidents, keys).groupby(_GROUP)
    }
    empty = _incident_figures(incidents.iloc[0:0])
    incident_table = pd.DataFrame([incident_rows.get(g, empty) for g in index], index=index)
    out = out.join(incident_table)

    labelled = _label(deploys, keys)
    counted = labelled.groupby(_GROUP).agg(deploys=("_failed", "size"), failed=("_failed", "sum"))
    counted = counted.reindex(index).fillna(0)
    out["deploys"] = counted["deploys"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_failure_rate"] = (counted["failed"] / counted["deploys"]).where(
            counted["deploys"] > 0
        )
    out = out.reset_index().rename(columns={"_gr": REGION, "_gs": SERVICE})
    return out


def _incident_figures(part: pd.DataFrame) -> dict[str, float]:
    starts = part[STARTED_AT]
    repair = (part[RESOLVED_AT] - starts).dropna().dt.total_seconds() / 60.0
    detect = (part[DETECTED_AT] - starts).dropna().dt.total_seconds() / 60.0
    n = len(part)
    mtbf = math.nan
    if n >= 2:
        mtbf = (starts.max() - starts.min()).total_seconds() / 3600.0 / (n - 1)
    severity = part[SEVERITY].astype(str).str.lower()
    return {
        "mttr_minutes": float(repair.mean()) if len(repair) else math.nan,
        "mttr_median_minutes": float(repair.median()) if len(repair) else math.nan,
        "mttd_minutes": float(detect.mean()) if len(detect) else math.nan,
        "mtbf_hours": mtbf,
        "incidents": n,
        "incidents_open": int(part[RESOLVED_AT].isna().sum()),
        **{f"incidents_{s}": int((severity == s).sum()) for s in SEVERITIES},
    }


# --------------------------------------------------------------------------- outputs


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def kpis_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a :func:`kpis` frame as JSON-safe objects.

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame returned by :func:`kpis`.

    Returns
    -------
    list of dict
        One object per row with the keys :data:`JSON_KEYS`, in that order: the headline
        figures, the alert state (one of :data:`ALERT_STATES`) and the three burn rates it
        rests on, then what the figures rest on (the SLO target, the hours with and without
        data, open incidents, the median MTTR, incidents by severity): every column of the
        table. Numbers are Python ``int``/``float``; NaN (a figure that cannot be
        measured, such as a burn rate over a window without data) becomes None, so
        ``json.dumps`` writes ``null``.

    Raises
    ------
    ParameterError
        When ``frame`` lacks one of the keys.
    """
    require_columns(frame, JSON_KEYS, "frame")
    return [
        {key: _json_value(value) for key, value in zip(JSON_KEYS, row, strict=True)}
        for row in frame.loc[:, list(JSON_KEYS)].itertuples(index=False, name=None)
    ]


def trend(
    incidents: pd.DataFrame | None,
    deploys: pd.DataFrame | None,
    error_rate: pd.DataFrame,
    fleet: FleetConfig,
    *,
    until: Any,
    weeks: int = 4,
    by: str | Sequence[str] = (REGION, SERVICE),
) -> pd.DataFrame:
    """The last ``weeks`` weeks before ``until`` against the ``weeks`` weeks before them.

    Parameters
    ----------
    incidents, deploys, error_rate, fleet, by
        As for :func:`kpis`. ``error_rate`` should cover ``2 * weeks`` weeks before ``until``.
    until : timestamp-like
        End of the current period (excluded); naive values are taken as UTC.
    weeks : int
        Length of each period in weeks, at least 1.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TREND_COLUMNS`: one row per group (as :func:`kpis`, overall last) and
        figure of :data:`TREND_FIGURES`; ``previous`` and ``current`` the figure in each period
        (NaN when it cannot be measured), ``change = current - previous``, and ``direction``
        ``"better"``, ``"worse"`` or ``"same"``, or None when either value is missing or the
        figure (``deploys``) is neither.

    Raises
    ------
    ParameterError
        When ``weeks`` is not a positive integer, or as :func:`kpis`.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int | np.integer) or weeks < 1:
        raise ParameterError(f"The 'weeks' parameter must be a positive integer. Got {weeks!r}.")
    hi = parse_timestamp(until, "until").as_unit("ns")
    span = pd.Timedelta(weeks=int(weeks))
    args = (incidents, deploys, error_rate, fleet)
    current = kpis(*args, since=hi - span, until=hi, by=by)
    previous = kpis(*args, since=hi - 2 * span, until=hi - span, by=by)
    rows = []
    for (_, cur), (_, prev) in zip(current.iterrows(), previous.iterrows(), strict=True):
        for figure, higher_better in TREND_FIGURES:
            before, now = float(prev[figure]), float(cur[figure])
            change = now - before
            direction = None
            if higher_better is not None and not math.isnan(change):
                if change == 0:
                    direction = "same"
                else:
                    direction = "better" if (change > 0) == higher_better else "worse"
            rows.append((cur[REGION], cur[SERVICE], figure, before, now, change, direction))
    frame = pd.DataFrame(rows, columns=list(TREND_COLUMNS))
    frame["direction"] = pd.Series([r[-1] for r in rows], dtype=object)
    return frame
