"""Calendar events, incidents and deploys: reading their files into the store, and reading
them back.

Each kind is keyed by its id and stored by :func:`~capacity.store.holdings.import_sources`, a
file's name its source. What is particular to a kind is here: the calendar's notes (a kind
that looks misspelt, regions the telemetry lacks), one id defined differently in two logs,
and the link between incidents and the deploys they blame, which neither log may break.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from capacity.columns import ALL_REGIONS, EVENT_KINDS, REGIONS
from capacity.config import FleetConfig
from capacity.errors import DataError, ParameterError
from capacity.records import did_you_mean, not_a_file, show_ts
from capacity.store.holdings import import_sources
from capacity.store.loads import check_tz
from capacity.store.reports import EventsReport
from capacity.store.sql import as_list, distinct, utc
from capacity.texts import first_few

_TS = pa.timestamp("us", tz="UTC")
_EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("name", pa.string()),
        ("kind", pa.string()),
        ("start_ts", _TS),
        ("end_ts", _TS),
        ("regions", pa.list_(pa.string())),
        ("expected_uplift", pa.float64()),
        ("notes", pa.string()),
        ("source", pa.string()),
        ("load_id", pa.int32()),
    ]
)
_DEPLOY_SCHEMA = pa.schema(
    [
        ("deploy_id", pa.string()),
        ("region", pa.string()),
        ("service", pa.string()),
        ("deployed_at", _TS),
        ("change", pa.string()),
        ("source", pa.string()),
        ("load_id", pa.int32()),
    ]
)
_INCIDENT_SCHEMA = pa.schema(
    [
        ("incident_id", pa.string()),
        ("region", pa.string()),
        ("service", pa.string()),
        ("severity", pa.string()),
        ("started_at", _TS),
        ("detected_at", _TS),
        ("resolved_at", _TS),
        ("cause", pa.string()),
        ("deploy_id", pa.string()),
        ("source", pa.string()),
        ("load_id", pa.int32()),
    ]
)


def import_events(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    *,
    tz: str | None = None,
    fleet: FleetConfig | None = None,
    allow_empty: bool = False,
) -> EventsReport:
    """Import live-ops calendars in one transaction (``Store.import_events``): read and check
    every file, note misspelt kinds and (without a fleet) regions the telemetry lacks, and
    store them as :func:`~capacity.store.holdings.import_sources` does."""
    from capacity.calendar import read_calendar_files

    check_tz(tz)
    options = json.dumps({"tz": tz}, sort_keys=True)
    files = _existing_files(paths)
    regions = list(fleet.regions) if fleet is not None else None
    # One read of every file, also of those imported before: it checks them against this
    # command's tz and fleet, refuses an event id defined differently in two files, and
    # tells what each file holds now (a repeating event reaches further as days pass).
    frames = read_calendar_files(files, tz=tz, regions=regions)
    notes = _kind_notes
    if fleet is None:  # nothing checked the regions: compare them with the telemetry's
        rows = con.execute("SELECT DISTINCT region FROM telemetry").fetchall()
        known = {region for (region,) in rows}

        def notes(events: pd.DataFrame) -> tuple[str, ...]:
            return _kind_notes(events) + _region_notes(events, known)

    return import_sources(
        con,
        "events",
        _EVENT_SCHEMA,
        files,
        frames,
        options,
        notes=notes,
        # an iCalendar feed is left without events by cancelling its last one, or by time
        # passing its repeats by: only a CSV or YAML file of no rows is taken for a bad export
        refuse_empty=lambda path: not allow_empty and path.suffix.lower() != ".ics",
    )


def _import_logs(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    paths: Iterable[str | Path],
    read: Any,
    schema: pa.Schema,
    tz: str | None,
    allow_empty: bool = False,
) -> EventsReport:
    """Import incident or deploy logs: one transaction, keyed by id, each file's name its
    source, as :func:`~capacity.store.holdings.import_sources` stores
    them. Every file is read and checked, even
    one imported before; a file whose records the store already holds exactly is
    skipped."""
    check_tz(tz)
    options = json.dumps({"tz": tz}, sort_keys=True)
    key = schema.names[0]
    files = _existing_files(paths)
    frames, seen = [], {}
    for path in files:
        frame = read(path)
        for record in frame.to_dict(orient="records"):
            earlier = seen.get(record[key])
            if earlier is not None and not _same_record(earlier[1], record):
                raise DataError(
                    f"{key} {record[key]!r} is also in {earlier[0]} with different content",
                    source=str(path),
                    fix=f"give each record its own {key}",
                )
            seen[record[key]] = (str(path), record)
        frames.append(frame)
    return import_sources(
        con,
        kind,
        schema,
        files,
        frames,
        options,
        noun=kind,
        before_removing=partial(_check_no_incident_names, con) if kind == "deploys" else None,
        refuse_empty=lambda path: not allow_empty,
    )


def _check_no_incident_names(
    con: duckdb.DuckDBPyConnection, gone: str, params: list[Any], name: str
) -> None:
    """Refuse to remove a deploy that a stored incident names as its cause."""
    named = con.execute(
        f"SELECT d.deploy_id, i.incident_id FROM (SELECT * FROM deploys WHERE {gone}) d "
        "JOIN incidents i ON i.deploy_id = d.deploy_id ORDER BY 1, 2 LIMIT 1",
        params,
    ).fetchall()
    if named:
        deploy_id, incident_id = named[0]
        raise DataError(
            f"deploy {deploy_id!r} is no longer in the file, but the stored incident "
            f"{incident_id!r} names it as its cause",
            source=name,
            fix=f"keep {deploy_id!r} in the file until no stored incident names it: to "
            "rename it, import this log with both ids, then the incident log naming the "
            f"new one, then this log without {deploy_id!r}",
        )


def import_deploys(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    *,
    tz: str | None = None,
    fleet: FleetConfig | None = None,
    allow_empty: bool = False,
) -> EventsReport:
    """Import deploy logs, keyed by ``deploy_id``, in one transaction (``Store.import_deploys``);
    a deploy a stored incident blames may neither move after that incident nor go."""
    from capacity.resilience import read_deploys

    regions, services = _fleet_names(fleet)
    blamed = con.execute(
        "SELECT deploy_id, incident_id, started_at FROM incidents "
        "WHERE deploy_id IS NOT NULL ORDER BY started_at, incident_id"
    ).fetchall()

    def read(path: Path) -> pd.DataFrame:
        frame = read_deploys(path, regions=regions, services=services, tz=tz)
        _check_blamed_deploys(frame, blamed, path)
        return frame

    return _import_logs(con, "deploys", paths, read, _DEPLOY_SCHEMA, tz, allow_empty)


def import_incidents(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    *,
    tz: str | None = None,
    fleet: FleetConfig | None = None,
    allow_empty: bool = False,
) -> EventsReport:
    """Import incident logs, keyed by ``incident_id``, in one transaction
    (``Store.import_incidents``); each ``deploy_id`` must name a stored, earlier deploy."""
    from capacity.resilience import read_incidents

    regions, services = _fleet_names(fleet)
    known = dict(con.execute("SELECT deploy_id, deployed_at FROM deploys").fetchall())
    return _import_logs(
        con,
        "incidents",
        paths,
        lambda path: read_incidents(
            path, regions=regions, services=services, deploy_ids=known, tz=tz
        ),
        _INCIDENT_SCHEMA,
        tz,
        allow_empty,
    )


def stored_incidents(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The stored incidents (columns of :data:`capacity.resilience.INCIDENT_COLUMNS`)."""
    return _log(con, "incidents", _INCIDENT_SCHEMA, "started_at")


def stored_deploys(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The stored deploys (columns of :data:`capacity.resilience.DEPLOY_COLUMNS`)."""
    return _log(con, "deploys", _DEPLOY_SCHEMA, "deployed_at")


def _log(con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema, order: str) -> pd.DataFrame:
    """A log table without its bookkeeping columns, in time order, times in UTC."""
    columns = [f.name for f in schema if f.name not in ("source", "load_id")]
    quoted = ", ".join(f'"{c}"' for c in columns)
    frame = con.execute(f"SELECT {quoted} FROM {table} ORDER BY {order}, {columns[0]}").df()
    for field in schema:
        if field.name in frame and pa.types.is_timestamp(field.type):
            frame[field.name] = pd.to_datetime(frame[field.name], utc=True)
    return frame


def stored_events(
    con: duckdb.DuckDBPyConnection,
    *,
    start: Any = None,
    end: Any = None,
    region: str | None = None,
    kinds: Sequence[str] | None = None,
    strict: bool = False,
    source: str | None = None,
) -> pd.DataFrame:
    """Stored events overlapping ``[start, end)``, optionally for one region or some kinds
    (``Store.events``). ``strict`` refuses names the store cannot answer (see
    :func:`check_event_filters`)."""
    lo, hi = utc(start, "start"), utc(end, "end")
    if strict:
        check_event_filters(con, region, as_list(kinds), source=source)
    frame = con.execute(
        "SELECT event_id, name, kind, start_ts, end_ts, regions, expected_uplift, notes, "
        "source FROM events WHERE (? IS NULL OR end_ts > ?) AND (? IS NULL OR start_ts < ?) "
        "AND (? IS NULL OR list_contains(regions, ?) OR list_contains(regions, 'all')) "
        "AND (? IS NULL OR list_contains(?, kind)) ORDER BY start_ts, event_id",
        [lo, lo, hi, hi, region, region, as_list(kinds), as_list(kinds)],
    ).df()
    frame["regions"] = frame["regions"].map(list)
    return frame


def check_event_filters(
    con: duckdb.DuckDBPyConnection,
    region: str | None,
    kinds: Sequence[str] | None,
    *,
    source: str | None = None,
) -> None:
    """Refuse a region that neither the telemetry nor any stored event names, and a kind
    that capacity does not know and no stored event has: a typo (``eu-wset``, ``seasn``)
    would otherwise read as a region with only the fleet-wide events, or a kind that never
    happened.

    Raises
    ------
    ParameterError
        Naming the argument, the value, the closest name and the names there are.
    """

    if region is not None:
        stored = distinct(
            con, "SELECT region FROM telemetry UNION ALL SELECT unnest(regions) FROM events"
        )
        regions = [name for name in stored if name != ALL_REGIONS]
        if region != ALL_REGIONS and region not in regions:
            raise ParameterError(
                f"neither the telemetry nor an event names region {region!r}"
                f"{did_you_mean(region, regions)}; the store's regions are "
                f"{', '.join(regions) or 'none'}",
                source=source,
                where="region",
                fix="ask for one of those (capacity status lists them), or pass "
                "strict=False to get only the events for all regions",
            )
    if kinds:
        stored = distinct(con, "SELECT kind FROM events")
        known = sorted(set(EVENT_KINDS) | set(stored))
        for kind in kinds:
            if kind not in known:
                raise ParameterError(
                    f"no stored event is of kind {kind!r}, nor is it a kind capacity knows"
                    f"{did_you_mean(kind, known)}; the kinds are {', '.join(known)}",
                    source=source,
                    where="kinds",
                    fix="ask for one of those, or pass strict=False to get no rows for it",
                )


def _kind_notes(events: pd.DataFrame) -> tuple[str, ...]:
    """A note for each imported kind that looks like a misspelt known kind: any word is a
    valid kind, but only the known ones get their shapes (and maintenance its exclusion
    from sizing)."""
    from capacity.columns import EVENT_KINDS

    notes = []
    for kind, count in events["kind"].value_counts().sort_index().items():
        if kind in EVENT_KINDS:
            continue
        close = difflib.get_close_matches(kind, EVENT_KINDS, n=1, cutoff=0.75)
        if close:
            notes.append(
                f"note: {count} event(s) of kind {kind!r}, which capacity does not know; "
                f"did you mean {close[0]!r}? An unknown kind is kept as its own, with a flat "
                "shape"
            )
    return tuple(notes)


def _region_notes(events: pd.DataFrame, known: Collection[str]) -> tuple[str, ...]:
    """A note when imported events name regions the stored telemetry does not have: without
    a fleet nothing refuses them, and an iCalendar LOCATION such as ``Berlin, Germany`` is
    read as the regions ``Berlin`` and ``Germany``. No note while the store has no
    telemetry to compare with."""
    if not known:
        return ()
    unknown = [
        [r for r in regions if r != ALL_REGIONS and r not in known] for regions in events[REGIONS]
    ]
    hit = [bool(names) for names in unknown]
    if not any(hit):
        return ()
    names = sorted({name for found in unknown for name in found})
    shown = first_few([repr(n) for n in names])
    text = f"note: {sum(hit)} event(s) name regions the stored telemetry does not have: {shown}"
    if any(str(s).lower().endswith(".ics") for s in events["source"][hit]):
        text += " (an iCalendar event without X-CAPACITY-REGIONS has its LOCATION read as regions)"
    return (text + "; give the fleet (--config) to refuse regions it does not name",)


def _existing_files(paths: Iterable[str | Path]) -> list[Path]:
    """The paths as Paths; refuse one that is not a file before anything is read."""
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise not_a_file(path)
    return files


def _check_blamed_deploys(
    deploys: pd.DataFrame, blamed: list[tuple[str, str, Any]], path: Path
) -> None:
    """Refuse a deploy moved after the start of a stored incident that names it."""
    made = dict(zip(deploys["deploy_id"], deploys["deployed_at"], strict=True))
    for deploy_id, incident_id, started in blamed:
        deployed = made.get(deploy_id)
        started = pd.Timestamp(started).tz_convert("UTC")
        if deployed is not None and deployed > started:
            raise DataError(
                f"deploy {deploy_id!r} is made at {show_ts(deployed)}, after the stored "
                f"incident {incident_id!r} it caused started at {show_ts(started)}",
                source=str(path),
                fix="check the deploy's time and offset, or import the incident log with "
                "that incident's deploy_id corrected first",
            )


def _fleet_names(fleet: FleetConfig | None) -> tuple[list[str] | None, list[str] | None]:
    """The fleet's regions and services, or no limit without a fleet."""
    if fleet is None:
        return None, None
    return list(fleet.regions), list(fleet.services)


def _same_record(a: dict, b: dict) -> bool:
    """Whether two records read from files are equal, any two missing values equal."""
    if a.keys() != b.keys():
        return False
    for name in a:
        x, y = a[name], b[name]
        if (x is None or x is pd.NaT or (isinstance(x, float) and pd.isna(x))) and (
            y is None or y is pd.NaT or (isinstance(y, float) and pd.isna(y))
        ):
            continue
        if x != y:
            return False
    return True
