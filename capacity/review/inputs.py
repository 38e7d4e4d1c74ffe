"""What the notebooks are given, checked before anything is drawn.

:func:`notebook_file` refuses a path parameter that names no file, saying where a relative
path was read from; :func:`check_series` refuses a choice of region, service, metric or span
that the fleet or the store does not have; :func:`positive_int` is the check of a count
parameter every part of the package shares. Each refusal is one line naming the parameter;
those of the notebooks' choices also say what to put right in the parameters cell.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from capacity.columns import METRIC, REGION, SERVICE, TS, VALUE
from capacity.errors import ParameterError
from capacity.review.constants import HOUR
from capacity.texts import first_few

if TYPE_CHECKING:
    from capacity.config import FleetConfig


def positive_int(value: Any, name: str, *, hours: bool = False, cell: bool = True) -> int:
    """``value`` as an ``int``; a :class:`ParameterError` naming ``name`` and the fix when it
    is not a positive integer (a bool is not one). With ``hours`` the count is of hours, and
    a duration given instead (``"7d"``) is answered with the hours it means. ``cell``: the
    value is a notebook's parameter, set in its parameters cell.

    Parameters
    ----------
    value : Any
        The parameter's value.
    name : str
        The parameter's name, for the message.
    hours : bool
        The count is of hours.
    cell : bool
        The fix says to set it in the notebook's parameters cell.

    Returns
    -------
    int
        ``value``.

    Raises
    ------
    ParameterError
        When ``value`` is not a positive integer.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        where = " in the parameters cell" if cell else ""
        fix = f"set it to a whole number of 1 or more{where}"
        if hours:
            fix = f"set it to a whole number of hours (168 for a week){where}"
            if isinstance(value, str):
                from capacity.units import parse_duration

                try:
                    span = parse_duration(value, name)
                except ParameterError:
                    span = None
                if span is not None and span % HOUR == pd.Timedelta(0):
                    fix = f"set it to {span // HOUR} ({value} in hours){where}"
        unit = " (a number of hours)" if hours else ""
        raise ParameterError(
            f"The {name!r} parameter must be a positive integer{unit}. Got {value!r}.", fix=fix
        )
    return int(value)


def notebook_file(
    path: str | os.PathLike[str],
    name: str,
    *,
    hint: str = "",
    holds: Literal["store", "fleet"] | None = None,
) -> Path:
    """The file a notebook's path parameter names, or a one-line error saying where it looked.

    A relative path is read from the folder the notebook runs in: under ``make lab`` or
    ``papermill --cwd notebooks``, ``notebooks/``; under a bare ``papermill`` the folder it
    was started from, where the defaults (``../data/...``) point nowhere. Given ``holds``,
    a file of the other kind (the store as the fleet file, or the other way round) is
    refused here, naming the notebook's parameters where :func:`capacity.load_fleet` and
    :class:`capacity.Store` would name the command line's ``--config`` and ``--db``.

    Parameters
    ----------
    path : str or path-like
        The parameter's value.
    name : str
        The parameter's name (``db``, ``config``).
    hint : str
        How to get such a file, added to the fix (``make plan builds the demo store``).
    holds : {"store", "fleet"}, optional
        What the file must be: a DuckDB store, or a fleet YAML (not a DuckDB database).

    Returns
    -------
    pathlib.Path
        ``path``, unchanged, when it names a file.

    Raises
    ------
    ParameterError
        When it names no file (or a folder), naming the parameter, the folder a relative
        path was read from, and the fix; or a file not of the kind ``holds`` names.
    """
    given = Path(os.fspath(path)).expanduser()
    if str(path).strip() and given.is_file():
        if holds is not None:
            _check_kind(given, name, holds, hint)
        return given
    if given.is_absolute():
        where, fix = "", f"give the path of an existing file: -p {name} /path/to/file"
    else:
        where = f", read from {Path.cwd()} (where the notebook runs)"
        fix = (
            "run papermill with --cwd notebooks (the default paths are relative to "
            f"notebooks/), or give an absolute path: -p {name} /path/to/file"
        )
    raise ParameterError(
        f"The {name!r} parameter names {str(path)!r}, which is not a file{where}.",
        fix=f"{fix}{'; ' + hint if hint else ''}",
    )


def _check_kind(path: Path, name: str, holds: str, hint: str) -> None:
    """Refuse a store given as the fleet file, or a file that is no DuckDB database given as
    the store, naming the notebook's parameter (``db``, ``config``) and the other one."""
    from capacity.store.schema import is_duckdb_file

    duckdb = is_duckdb_file(path)
    if holds == "fleet" and duckdb is True:
        raise ParameterError(
            f"The {name!r} parameter names {str(path)!r}, a DuckDB database (a capacity "
            "store?), not a fleet YAML.",
            fix=f"give the fleet YAML as {name} (-p {name} /path/to/fleet.yaml; "
            "../data/demo/fleet.yaml is the demo's), and the store as db",
        )
    if holds == "store" and duckdb is False:
        yaml = (
            " (a fleet YAML? that is the 'config' parameter)"
            if path.suffix
            in (
                ".yaml",
                ".yml",
            )
            else ""
        )
        raise ParameterError(
            f"The {name!r} parameter names {str(path)!r}, which is not a capacity store: it "
            f"is not a DuckDB database file{yaml}.",
            fix=f"give the store's file as {name} (-p {name} /path/to/capacity.duckdb"
            f"{'; ' + hint if hint else ''}); to load a telemetry file into a store, use "
            "capacity ingest FILE --db STORE",
        )


def check_series(
    fleet: FleetConfig,
    series: pd.DataFrame,
    *,
    region: str,
    service: str,
    metric: str,
    start: Any = None,
    end: Any = None,
    status: pd.DataFrame | None = None,
) -> None:
    """Refuse a notebook's choice of series that the fleet or the store does not have,
    naming the parameter and what there is, before a chart fails on an empty frame.

    Parameters
    ----------
    fleet : FleetConfig
        The regions and services there are.
    series : pandas.DataFrame
        What the store returned for the choice (``store.series``).
    region, service, metric : str
        The notebook's parameters.
    start, end : optional
        The notebook's span, when it has one (empty or None: that end is open).
    status : pandas.DataFrame, optional
        :meth:`Store.status`'s series table: when given, an empty span is refused with the
        span the store holds for the series.

    Raises
    ------
    ParameterError
        When the region or service is not in the fleet (or, given ``status``, has no stored
        telemetry), the metric is not one capacity reads, ``start`` is not before ``end``,
        the store holds no value of it for that region and service, or the span keeps a
        single hour.
    """
    from capacity.columns import METRICS
    from capacity.records import suggest
    from capacity.units import parse_timestamp

    for name, value, known in (
        ("region", region, list(fleet.regions)),
        ("service", service, list(fleet.services)),
        ("metric", metric, list(METRICS)),
    ):
        if value not in known:
            raise ParameterError(
                f"The '{name}' parameter must be one of {', '.join(known)}. Got {value!r}.",
                fix=f"{suggest(value, known)}set it in the parameters cell",
            )
    first = parse_timestamp(start, "start") if start not in (None, "") else None
    last = parse_timestamp(end, "end") if end not in (None, "") else None
    if first is not None and last is not None and first >= last:
        raise ParameterError(
            f"The 'start' parameter ({first:%Y-%m-%d %H:%M} UTC) must be before 'end' "
            f"({last:%Y-%m-%d %H:%M} UTC).",
            fix="swap them in the parameters cell, or leave one empty for an open end",
        )
    if series.empty or series[VALUE].notna().sum() == 0:
        _check_stored_pair(status, region, service)
        chosen = "in the whole store"
        if first is not None or last is not None:
            since = f"{first:%Y-%m-%d %H:%M}" if first is not None else "the start"
            until = f"{last:%Y-%m-%d %H:%M} UTC" if last is not None else "the end"
            chosen = f"from {since} to {until} (the 'start' and 'end' parameters)"
        bounds = _stored_bounds(status, region, service, metric)
        held = f"{bounds[0]:%Y-%m-%d %H:%M} to {bounds[1]:%Y-%m-%d %H:%M} UTC" if bounds else ""
        in_gap = (
            bounds is not None
            and first is not None
            and last is not None
            and bounds[0] <= first
            and last <= bounds[1] + pd.Timedelta(hours=1)
        )
        fix = (
            "widen or move the span in the parameters cell"
            if in_gap
            else "set start and end inside that span, or both to '' for all of it, in the "
            "parameters cell"
            if held and (first is not None or last is not None)
            else "choose another metric or span in the parameters cell (capacity status "
            "--by-metric lists what is stored)"
        )
        raise ParameterError(
            f"The store holds no {metric} for {region}/{service} {chosen}"
            + (f"; it holds {held}" if held else "")
            + (": every hour of the span falls in a gap of the series" if in_gap else ""),
            fix=fix,
        )
    if len(series) < 2:  # a grid of one step has no step: every chart would fail on it
        hour = f"1 hour of {metric} for {region}/{service} ({series[TS].min():%Y-%m-%d %H:%M} UTC)"
        if first is not None or last is not None:
            raise ParameterError(
                f"The 'start' and 'end' parameters keep {hour}; the charts need at least 2.",
                fix="widen the span in the parameters cell",
            )
        raise ParameterError(
            f"The store holds {hour}; the charts need at least 2.",
            fix="load more telemetry (capacity ingest or capacity pull)",
        )


def _check_stored_pair(status: pd.DataFrame | None, region: str, service: str) -> None:
    """Refuse a region, or a service of it, that no stored series has (the fleet file names
    it, the store holds none of its telemetry): no metric or span would help there."""
    if status is None or not {REGION, SERVICE} <= set(status.columns):
        return
    load = "(capacity ingest, capacity pull)"
    if status.empty:
        raise ParameterError(
            "The store holds no telemetry yet.", fix=f"load the fleet's telemetry first {load}"
        )
    regions = sorted(status[REGION].astype(str).unique())
    if region not in regions:
        raise ParameterError(
            f"The 'region' parameter names {region!r}, which the fleet file has but the store "
            f"holds no telemetry of; it holds {first_few(regions)}.",
            fix=f"choose one of them in the parameters cell, or load {region}'s telemetry "
            f"first {load}",
        )
    services = sorted(status.loc[status[REGION] == region, SERVICE].astype(str).unique())
    if service not in services:
        raise ParameterError(
            f"The 'service' parameter names {service!r}, which the fleet file has but the store "
            f"holds no telemetry of in {region}; it holds {first_few(services)} there.",
            fix=f"choose one of them in the parameters cell, or load its telemetry first {load}",
        )


def _stored_bounds(
    status: pd.DataFrame | None, region: str, service: str, metric: str
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last stored hour (UTC) of a series of a status table, or ``None``."""
    if status is None or status.empty or not {"first_ts", "last_ts"} <= set(status.columns):
        return None
    mine = status[
        (status[REGION] == region) & (status[SERVICE] == service) & (status[METRIC] == metric)
    ]
    if mine.empty or pd.isna(mine["first_ts"].min()):
        return None
    first = pd.Timestamp(mine["first_ts"].min()).tz_convert("UTC")
    last = pd.Timestamp(mine["last_ts"].max()).tz_convert("UTC")
    return first, last
