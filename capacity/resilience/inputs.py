"""What the figures are computed from, checked: the window, the group keys, the fleet's names
(none may be ``all``), the incident and deploy frames (one row per id) and the hourly error
rates (fractions in [0, 1]); and :func:`within_fleet`, the rows of a log a fleet file plans."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from capacity import records as rec
from capacity.columns import ALL_REGIONS, ERROR_RATE, METRIC, REGION, SERVICE, TS, VALUE
from capacity.config import FleetConfig
from capacity.errors import ConfigError, DataError, ParameterError, the_parameter
from capacity.frames import require_columns
from capacity.resilience.columns import (
    DEPLOY_COLUMNS,
    DEPLOYED_AT,
    DETECTED_AT,
    INCIDENT_COLUMNS,
    RESOLVED_AT,
    STARTED_AT,
)
from capacity.units import parse_timestamp

BY_KEYS = (REGION, SERVICE)


def parse_window(since: Any, until: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``since`` and ``until`` as UTC timestamps; ``until`` must be after ``since``."""
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
    if not all(isinstance(k, str) and k in BY_KEYS for k in items) or len(set(items)) != len(items):
        raise ParameterError(
            f"{the_parameter(name)} must name region, service or both, each once (e.g. "
            f"'region,service'). Got {by!r}."
        )
    return tuple(k for k in BY_KEYS if k in items)


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


def check_no_all(fleet: FleetConfig) -> None:
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


def checked_incidents(incidents: pd.DataFrame | None, fleet: FleetConfig) -> pd.DataFrame:
    """A copy of the incidents (none when None): UTC times, fleet names, one row per id."""
    if incidents is None:
        incidents = pd.DataFrame({c: pd.Series([], dtype=object) for c in INCIDENT_COLUMNS})
    frame = require_columns(incidents, INCIDENT_COLUMNS, "incidents").copy()
    for column in (STARTED_AT, DETECTED_AT, RESOLVED_AT):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    _check_names(frame, fleet, "incidents")
    return _unique(frame, INCIDENT_COLUMNS, "incidents")


def checked_deploys(deploys: pd.DataFrame | None, fleet: FleetConfig) -> pd.DataFrame:
    """A copy of the deploys (none when None): UTC times, fleet names, one row per id."""
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


def hourly_rates(
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
