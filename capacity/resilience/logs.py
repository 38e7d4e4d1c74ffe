"""Incident and deploy logs: :func:`read_incidents` and :func:`read_deploys` read and validate
one file each and return it as a frame.

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
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from capacity import records as rec
from capacity.columns import REGION, SERVICE
from capacity.errors import DataError
from capacity.resilience.columns import (
    CAUSE,
    CHANGE,
    DEPLOY_ID,
    DEPLOYED_AT,
    DETECTED_AT,
    INCIDENT_ID,
    RESOLVED_AT,
    SEVERITIES,
    SEVERITY,
    STARTED_AT,
)
from capacity.resilience.formats import DEPLOYS, INCIDENTS, Raw, Spec, read_records
from capacity.resilience.values import (
    known_name,
    required_text,
    required_timestamp,
    text_value,
    time_zone,
    timestamp_value,
)
from capacity.units import as_utc

_TS_DTYPE = "datetime64[us, UTC]"


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
    zone = time_zone(tz)
    known_deploys: dict[str, pd.Timestamp | None] | None = None
    if isinstance(deploy_ids, Mapping):
        known_deploys = {
            str(d): None if t is None or pd.isna(t) else as_utc(pd.Timestamp(t))
            for d, t in deploy_ids.items()
        }
    elif deploy_ids is not None:
        known_deploys = {str(d): None for d in deploy_ids}
    source, records = read_records(Path(path), INCIDENTS)
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
    rows = _collapse(rows, source=source, spec=INCIDENTS)
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
    zone = time_zone(tz)
    source, records = read_records(Path(path), DEPLOYS)
    rows = [
        _deploy(raw, source=source, zone=zone, regions=regions, services=services)
        for raw in records
    ]
    rows = _collapse(rows, source=source, spec=DEPLOYS)
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


def _incident(
    raw: Raw,
    *,
    source: str,
    zone: ZoneInfo | None,
    regions: Collection[str] | None,
    services: Collection[str] | None,
    deploy_ids: Mapping[str, pd.Timestamp | None] | None,
) -> dict[str, Any]:
    values, where = raw.values, raw.where
    kw: dict[str, Any] = {"source": source, "where": where}
    incident_id = required_text(values.get(INCIDENT_ID), field=INCIDENT_ID, **kw)
    region = known_name(values.get(REGION), field=REGION, known=regions, **kw)
    service = known_name(values.get(SERVICE), field=SERVICE, known=services, **kw)
    severity_raw = values.get(SEVERITY)
    severity = (text_value(severity_raw, field=SEVERITY, **kw) or "").lower().replace(" ", "")
    if severity not in SEVERITIES:
        raise DataError(
            f"severity {severity_raw!r} is not one of {', '.join(SEVERITIES)}",
            fix="write sev1 (most severe) to sev4",
            **kw,
        )
    started = required_timestamp(values.get(STARTED_AT), field=STARTED_AT, zone=zone, **kw)
    detected = required_timestamp(values.get(DETECTED_AT), field=DETECTED_AT, zone=zone, **kw)
    resolved = timestamp_value(values.get(RESOLVED_AT), field=RESOLVED_AT, zone=zone, **kw)
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
    deploy_id = text_value(values.get(DEPLOY_ID), field=DEPLOY_ID, **kw)
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
        CAUSE: text_value(values.get(CAUSE), field=CAUSE, **kw),
        DEPLOY_ID: deploy_id,
        "_where": where,
    }


def _deploy(
    raw: Raw,
    *,
    source: str,
    zone: ZoneInfo | None,
    regions: Collection[str] | None,
    services: Collection[str] | None,
) -> dict[str, Any]:
    values, where = raw.values, raw.where
    kw: dict[str, Any] = {"source": source, "where": where}
    return {
        DEPLOY_ID: required_text(values.get(DEPLOY_ID), field=DEPLOY_ID, **kw),
        REGION: known_name(values.get(REGION), field=REGION, known=regions, **kw),
        SERVICE: known_name(values.get(SERVICE), field=SERVICE, known=services, **kw),
        DEPLOYED_AT: required_timestamp(
            values.get(DEPLOYED_AT), field=DEPLOYED_AT, zone=zone, **kw
        ),
        CHANGE: text_value(values.get(CHANGE), field=CHANGE, **kw),
        "_where": where,
    }


def _collapse(rows: list[dict[str, Any]], *, source: str, spec: Spec) -> list[dict[str, Any]]:
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
