"""The DuckDB store: schema and migrations, transactional loads, and queries for readers.

One process writes at a time (DuckDB holds a file lock); a second writer gets
:class:`~capacity.errors.StoreLockedError`. Readers open the file with ``read_only=True``.
Every loading method runs in one transaction: it either loads everything it was given or,
on the first error, leaves the store exactly as it was.

Uniqueness of ``(ts, region, service, metric)`` is kept by the loader rather than by a
PRIMARY KEY, which would make bulk loads about ten times slower: rows are inserted straight
from DuckDB's file reader, tagged with their load, then checked for conflicting duplicates
inside the file and merged with rows already stored (older rows with the same key are
replaced, and counted as updated when their value changed). All queries take user values as
parameters; SQL text is never built from user strings.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from capacity import sources, store_telemetry
from capacity.columns import (
    ALL_REGIONS,
    FALLBACK,
    METRIC,
    MODEL,
    REGION,
    REGIONS,
    SERVICE,
    TS,
    YHAT,
    quantile_column,
)
from capacity.config import FleetConfig
from capacity.errors import DataError, ParameterError, StoreError
from capacity.records import show_ts
from capacity.store_loads import (
    check_tz,
    file_sha256,
    loads_table,
    next_load_id,
    record_load,
)
from capacity.store_reports import EventsReport, LoadReport, count_noun, series_summary
from capacity.store_schema import MIGRATIONS as MIGRATIONS  # re-exported: tests read it
from capacity.store_schema import SCHEMA_VERSION, open_current
from capacity.store_sql import as_list, registered, transaction, utc
from capacity.units import parse_duration

__all__ = ["SCHEMA_VERSION", "EventsReport", "LoadReport", "Store"]

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

#: The key of a forecast row.
FORECAST_KEY = (REGION, SERVICE, METRIC, TS)


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
    shown = ", ".join(repr(n) for n in names[:5]) + (
        f" and {len(names) - 5} more" if len(names) > 5 else ""
    )
    text = f"note: {sum(hit)} event(s) name regions the stored telemetry does not have: {shown}"
    if any(str(s).lower().endswith(".ics") for s in events["source"][hit]):
        text += " (an iCalendar event without X-CAPACITY-REGIONS has its LOCATION read as regions)"
    return (text + "; give the fleet (--config) to refuse regions it does not name",)


class Store:
    """The DuckDB file that holds telemetry, events and the record of loads.

    Parameters
    ----------
    path : str or Path
        The database file. Created (with its folder) when opened for writing.
    read_only : bool
        Open for reading only; the file must exist.

    Raises
    ------
    StoreLockedError
        When another process holds the file's write lock.
    StoreError
        When a read-only store does not exist.
    SchemaError
        When the file was written by a newer version of capacity.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.is_file():
            raise StoreError(
                f"store not found: {self.path}. Fix: load data first (capacity ingest) "
                "or pass --db with an existing store"
            )
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = open_current(self.path, read_only=read_only)

    # -- connection ---------------------------------------------------------------------

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection, for analysts' own SQL."""
        return self._con

    def close(self) -> None:
        """Close the connection (and release the write lock)."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """The schema version of the open file."""
        return self._con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"store {self.path} is open read-only; open it with read_only=False")

    # -- telemetry ----------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        layout: sources.Layout = "auto",
        tz: str | None = None,
        fleet: FleetConfig | None = None,
    ) -> list[LoadReport]:
        """Load telemetry files in one transaction.

        Parameters
        ----------
        paths : iterable of str or Path
            CSV, gzip CSV or Parquet files, long or wide.
        layout : {"auto", "long", "wide"}
            The files' layout.
        tz : str, optional
            Time zone of naive timestamps; without it naive timestamps are refused.
        fleet : FleetConfig, optional
            When given, regions and services must be ones it names.

        Returns
        -------
        list of LoadReport
            One per file, in order.

        Raises
        ------
        DataError
            On the first bad file; nothing is loaded then.
        """
        self._writable()
        return store_telemetry.ingest_files(self._con, paths, layout=layout, tz=tz, fleet=fleet)

    def ingest_frame(
        self,
        frame: pd.DataFrame,
        *,
        source: str,
        fleet: FleetConfig | None = None,
        fix: str | None = None,
    ) -> LoadReport:
        """Load long telemetry rows held in memory, in one transaction.

        The rows get the same checks and merge as a file's (:meth:`ingest`); an error names
        ``source`` and a bad row by its key (metric, region/service, time), since a frame has
        no lines.

        Parameters
        ----------
        frame : pandas.DataFrame
            Columns ``ts`` (tz-aware), ``region``, ``service``, ``metric``, ``value``.
        source : str
            Where the rows came from, for the loads table and messages (e.g. a Prometheus URL).
        fleet : FleetConfig, optional
            When given, regions and services must be ones it names.
        fix : str, optional
            The advice for a refused row, in place of the one for a file's row (where the
            rows came from decides how to put them right).

        Returns
        -------
        LoadReport
            ``skipped`` when exactly these rows were loaded before.

        Raises
        ------
        DataError
            A missing column, naive timestamps, or a bad row; nothing is loaded then.
        """
        self._writable()
        return store_telemetry.ingest_frame(self._con, frame, source=source, fleet=fleet, fix=fix)

    def newest(self, metrics: Collection[str]) -> dict[str, pd.Timestamp]:
        """The newest stored time of each of ``metrics`` that has rows (any region/service)."""
        return store_telemetry.newest(self._con, metrics)

    def stored_series(self, metrics: Collection[str]) -> set[tuple[str, str, str]]:
        """The ``(region, service, metric)`` series the store holds rows of, for ``metrics``."""
        return store_telemetry.stored_series(self._con, metrics)

    # -- events -------------------------------------------------------------------------

    def import_events(
        self,
        paths: Iterable[str | Path],
        *,
        tz: str | None = None,
        fleet: FleetConfig | None = None,
    ) -> EventsReport:
        """Import live-ops calendars (CSV, YAML or iCalendar) in one transaction.

        Events are keyed by ``event_id``: a new id is inserted, a known id with other content
        replaces the stored event. A file is the whole of its source (its file name: two files of
        one name in one command are refused, and one that replaces another file of its name says so
        in a note): events an earlier import of the source held and this one no longer holds are
        removed unless another file holds them, so an event deleted from the calendar, or a
        repeating event moved to another hour, does not linger. An event another file holds with
        other content is refused. Every file is read and checked, even one imported before; a file
        whose events the store already holds exactly (each event as it is and held by this file, and
        no other) is skipped. See :meth:`_import_sources`.

        Parameters
        ----------
        paths : iterable of str or Path
            Calendar files.
        tz : str, optional
            Time zone of naive times in the files.
        fleet : FleetConfig, optional
            When given, every event's regions must be fleet regions.

        Returns
        -------
        EventsReport
        """
        from capacity.calendar import read_calendar_files

        self._writable()
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
            rows = self._con.execute("SELECT DISTINCT region FROM telemetry").fetchall()
            known = {region for (region,) in rows}

            def notes(events: pd.DataFrame) -> tuple[str, ...]:
                return _kind_notes(events) + _region_notes(events, known)

        return self._import_sources("events", _EVENT_SCHEMA, files, frames, options, notes=notes)

    def _import_sources(
        self,
        table: str,
        schema: pa.Schema,
        files: Sequence[Path],
        frames: Sequence[pd.DataFrame],
        options: str,
        *,
        noun: str = "events",
        notes: Callable[[pd.DataFrame], tuple[str, ...]] | None = None,
        before_removing: Callable[[str, list[Any], str], None] | None = None,
    ) -> EventsReport:
        """Store files read whole (calendars, logs), each file's name its source, in one
        transaction.

        A source is a file name: two files of one name in one command are refused, and a file whose
        name's records were loaded from another file still on disk replaces them, with a note naming
        that file (this week's export replacing last week's, or a moved file). The ``holdings``
        table records which sources hold each record, so a record in two files is held by both. A
        source the store already holds exactly (each of its records stored as it is, and held by
        this source, no other) is skipped; every other file is upserted by key and recorded as a
        load of its own records, and the records it no longer holds are removed unless another
        source still holds them. A record stored with other content than a file brings, and held by
        a source not in this command, is refused: the other file still says otherwise. A checksum
        cannot tell what is loaded: a load that stored nothing (a file emptied to its header) would
        count as in force for ever.

        Parameters
        ----------
        table : str
            The table, also the kind of load (``"events"``, ``"incidents"``, ``"deploys"``).
        schema : pyarrow.Schema
            The table's schema; its first field is the key.
        files : sequence of Path
            The files, in order.
        frames : sequence of pandas.DataFrame
            What each file holds, read and checked (the columns of ``schema``, without
            ``source`` and ``load_id``); a record identical in two files is in both.
        options : str
            The load options recorded with each load.
        noun : str
            What the records are called in the report.
        notes : callable, optional
            Notes for the report from the records imported (not those skipped).
        before_removing : callable, optional
            Called as ``(condition, params, name)`` before records a source no longer holds
            are removed, where ``condition`` is SQL selecting them with ``params``; raises to
            refuse.

        Returns
        -------
        EventsReport
        """
        con = self._con
        key = schema.names[0]
        files, frames = _one_file_per_source(files, frames)
        frames = [frame.assign(source=path.name) for path, frame in zip(files, frames, strict=True)]
        names = [path.name for path in files]
        totals, removed, kept = [0, 0, 0, 0], 0, 0
        imported: list[pd.DataFrame] = []
        with transaction(self._con):
            replaced: list[str] = []
            for path, frame in zip(files, frames, strict=True):
                replaced.extend(self._replaced(table, path, noun))
                self._check_other_sources(table, schema, path, frame, names)
            fresh = {
                path.name
                for path, frame in zip(files, frames, strict=True)
                if not self._holds_source(table, schema, path.name, frame)
            }
            upserted: set[str] = set()
            dropped: dict[str, list[str]] = {}
            for path, frame in zip(files, frames, strict=True):
                if path.name not in fresh:
                    continue
                part = frame[~frame[key].isin(upserted)]  # identical in an earlier file
                upserted.update(part[key])
                load_id = next_load_id(self._con)
                counts = self._upsert(table, schema, part, load_id)
                report = LoadReport(str(path.resolve()), file_sha256(path), len(part), *counts)
                record_load(self._con, load_id, table, report, options)
                totals = [t + c for t, c in zip(totals, (len(part), *counts), strict=True)]
                dropped[path.name] = self._hold(table, path.name, frame[key], load_id)
                imported.append(part)
            # a file is the whole of its source: what it no longer holds goes, unless another
            # source holds it still
            for name, ids in dropped.items():
                if not ids:
                    continue
                gone = (
                    f"list_contains(?, {key}) AND {key} NOT IN "
                    f"(SELECT record_id FROM holdings WHERE kind = '{table}')"
                )
                if before_removing is not None:
                    before_removing(gone, [ids], name)
                deleted = con.execute(f"DELETE FROM {table} WHERE {gone}", [ids]).fetchall()[0][0]
                removed += deleted
                kept += len(ids) - deleted
                # a record kept names as its source a file that holds it
                con.execute(
                    f"UPDATE {table} t SET source = h.source, load_id = h.load_id FROM "
                    "(SELECT record_id, min(source) AS source, arg_min(load_id, source) "
                    "AS load_id FROM holdings WHERE kind = ? GROUP BY record_id) h "
                    f"WHERE t.{key} = h.record_id AND t.source = ? AND list_contains(?, t.{key})",
                    [table, name, ids],
                )
        return EventsReport(
            tuple(str(p) for p in files if p.name in fresh),
            *totals,
            skipped=tuple(str(p) for p in files if p.name not in fresh),
            held=sum(len(f) for p, f in zip(files, frames, strict=True) if p.name not in fresh),
            noun=noun,
            notes=tuple(replaced)
            + (notes(_whole(imported, key)) if notes is not None and imported else ()),
            removed=removed,
            kept=kept,
        )

    def _hold(self, table: str, name: str, keys: pd.Series, load_id: int) -> list[str]:
        """Record that source ``name`` holds ``keys`` (by load ``load_id``) and no other
        record; return the records it held before and holds no more."""
        con = self._con
        with registered(con, "_held", pa.table({"record_id": pa.array(list(keys), pa.string())})):
            dropped = con.execute(
                "SELECT record_id FROM holdings WHERE kind = ? AND source = ? "
                "AND record_id NOT IN (SELECT record_id FROM _held) ORDER BY 1",
                [table, name],
            ).fetchall()
            con.execute("DELETE FROM holdings WHERE kind = ? AND source = ?", [table, name])
            con.execute(
                "INSERT INTO holdings SELECT ?, record_id, ?, ? FROM _held", [table, name, load_id]
            )
        return [record_id for (record_id,) in dropped]

    def _replaced(self, table: str, path: Path, noun: str) -> tuple[str, ...]:
        """Notes for the stored records of ``path``'s name that were loaded from another file
        still on disk: this file replaces them (a file's name is its source, so this week's
        ``exports/2026-W49/incidents.csv`` replaces last week's), which a person should see
        in case the two were meant to be separate logs."""
        rows = self._con.execute(
            "SELECT l.source, count(*) FROM holdings h JOIN loads l USING (load_id) "
            "WHERE h.kind = ? AND h.source = ? GROUP BY l.source ORDER BY 1",
            [table, path.name],
        ).fetchall()
        here = path.resolve()
        return tuple(
            f"note: {path} replaces {earlier} ({count_noun(count, noun)} stored from it): files of "
            f"one name are one source. If both are in use, rename one of them and import both"
            for earlier, count in ((Path(loaded), count) for loaded, count in rows)
            # a load recorded before paths were resolved cannot be told apart: let it be
            if earlier.is_absolute() and earlier != here and earlier.is_file()
        )

    def _check_other_sources(
        self, table: str, schema: pa.Schema, path: Path, frame: pd.DataFrame, names: list[str]
    ) -> None:
        """Refuse a record stored with other content and held by a source not in this
        command: that file still holds the stored version."""
        con = self._con
        key = schema.names[0]
        with registered(con, "_incoming", _arrow(frame, schema, 0)):
            clash = con.execute(
                f"SELECT i.{key}, coalesce(l.source, h.source) FROM _incoming i "
                f"JOIN {table} e USING ({key}) "
                f"JOIN holdings h ON h.kind = ? AND h.record_id = i.{key} "
                "LEFT JOIN loads l ON l.load_id = h.load_id "
                f"WHERE NOT ({_same_content(schema)}) AND NOT list_contains(?, h.source) "
                "ORDER BY 1, 2 LIMIT 1",
                [table, names],
            ).fetchall()
        if clash:
            record_id, other = clash[0]
            raise DataError(
                f"{key} {record_id!r} is also in {other} (stored) with different content",
                source=str(path),
                fix=f"give each record its own {key}; or, to change it, change it in both "
                "files and import them in one command",
            )

    def _holds_source(self, table: str, schema: pa.Schema, name: str, frame: pd.DataFrame) -> bool:
        """Whether the store holds exactly the records ``frame`` holds for source ``name``:
        each of them stored as it is and held by ``name``, and ``name`` holding no other. True
        for an empty frame only when the source holds nothing: a calendar whose last event was
        cancelled, or a log emptied to its header, still removes them."""
        con = self._con
        key = schema.names[0]
        with registered(con, "_incoming", _arrow(frame, schema, 0)):
            missing = con.execute(
                f"SELECT count(*) FROM _incoming i LEFT JOIN {table} e USING ({key}) "
                f"LEFT JOIN holdings h ON h.kind = ? AND h.source = ? AND h.record_id = i.{key} "
                f"WHERE e.{key} IS NULL OR h.record_id IS NULL OR NOT ({_same_content(schema)})",
                [table, name],
            ).fetchall()[0][0]
            extra = con.execute(
                "SELECT count(*) FROM holdings WHERE kind = ? AND source = ? "
                f"AND record_id NOT IN (SELECT {key} FROM _incoming)",
                [table, name],
            ).fetchall()[0][0]
        return missing == 0 and extra == 0

    def _upsert(
        self, table: str, schema: pa.Schema, frame: pd.DataFrame, load_id: int
    ) -> tuple[int, int, int]:
        """Insert new keys and replace changed ones; count inserted, updated, unchanged."""
        con = self._con
        key = schema.names[0]
        with registered(con, "_incoming", _arrow(frame, schema, load_id)):
            known, unchanged = con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {_same_content(schema)}) "
                f"FROM _incoming i JOIN {table} e USING ({key})"
            ).fetchall()[0]
            con.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM _incoming)")
            con.execute(f"INSERT INTO {table} SELECT * FROM _incoming")
        return len(frame) - known, known - unchanged, unchanged

    def _import_logs(
        self,
        kind: str,
        paths: Iterable[str | Path],
        read: Any,
        schema: pa.Schema,
        tz: str | None,
    ) -> EventsReport:
        """Import incident or deploy logs: one transaction, keyed by id, each file's name its
        source, as :meth:`_import_sources` stores them. Every file is read and checked, even
        one imported before; a file whose records the store already holds exactly is
        skipped."""
        self._writable()
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
        return self._import_sources(
            kind,
            schema,
            files,
            frames,
            options,
            noun=kind,
            before_removing=self._check_no_incident_names if kind == "deploys" else None,
        )

    def _check_no_incident_names(self, gone: str, params: list[Any], name: str) -> None:
        """Refuse to remove a deploy that a stored incident names as its cause."""
        named = self._con.execute(
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
        self,
        paths: Iterable[str | Path],
        *,
        tz: str | None = None,
        fleet: FleetConfig | None = None,
    ) -> EventsReport:
        """Import deploy logs (CSV or YAML), keyed by ``deploy_id``, in one transaction.

        Parameters
        ----------
        paths : iterable of str or Path
            The logs (see :func:`capacity.resilience.read_deploys`).
        tz : str, optional
            Time zone of naive times.
        fleet : FleetConfig, optional
            When given, regions and services must be ones it names.
        """
        from capacity.resilience import read_deploys

        regions, services = _fleet_names(fleet)
        blamed = self._con.execute(
            "SELECT deploy_id, incident_id, started_at FROM incidents "
            "WHERE deploy_id IS NOT NULL ORDER BY started_at, incident_id"
        ).fetchall()

        def read(path: Path) -> pd.DataFrame:
            frame = read_deploys(path, regions=regions, services=services, tz=tz)
            _check_blamed_deploys(frame, blamed, path)
            return frame

        return self._import_logs("deploys", paths, read, _DEPLOY_SCHEMA, tz)

    def import_incidents(
        self,
        paths: Iterable[str | Path],
        *,
        tz: str | None = None,
        fleet: FleetConfig | None = None,
    ) -> EventsReport:
        """Import incident logs (CSV or YAML), keyed by ``incident_id``, in one transaction.

        Every ``deploy_id`` an incident names must be a stored deploy made no later than the
        incident started: import deploys first.

        Parameters
        ----------
        paths : iterable of str or Path
            The logs (see :func:`capacity.resilience.read_incidents`).
        tz : str, optional
            Time zone of naive times.
        fleet : FleetConfig, optional
            When given, regions and services must be ones it names.
        """
        from capacity.resilience import read_incidents

        regions, services = _fleet_names(fleet)
        known = dict(self._con.execute("SELECT deploy_id, deployed_at FROM deploys").fetchall())
        return self._import_logs(
            "incidents",
            paths,
            lambda path: read_incidents(
                path, regions=regions, services=services, deploy_ids=known, tz=tz
            ),
            _INCIDENT_SCHEMA,
            tz,
        )

    def incidents(self) -> pd.DataFrame:
        """The stored incidents (columns of :data:`capacity.resilience.INCIDENT_COLUMNS`)."""
        return self._log("incidents", _INCIDENT_SCHEMA, "started_at")

    def deploys(self) -> pd.DataFrame:
        """The stored deploys (columns of :data:`capacity.resilience.DEPLOY_COLUMNS`)."""
        return self._log("deploys", _DEPLOY_SCHEMA, "deployed_at")

    def _log(self, table: str, schema: pa.Schema, order: str) -> pd.DataFrame:
        columns = [f.name for f in schema if f.name not in ("source", "load_id")]
        quoted = ", ".join(f'"{c}"' for c in columns)
        frame = self._con.execute(
            f"SELECT {quoted} FROM {table} ORDER BY {order}, {columns[0]}"
        ).df()
        for field in schema:
            if field.name in frame and pa.types.is_timestamp(field.type):
                frame[field.name] = pd.to_datetime(frame[field.name], utc=True)
        return frame

    def events(
        self,
        *,
        start: Any = None,
        end: Any = None,
        region: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Stored events overlapping ``[start, end)``, optionally for one region or some kinds.

        Parameters
        ----------
        start, end : timestamp-like, optional
            The window; naive values are taken as UTC.
        region : str, optional
            Keep events touching this region (events for all regions included).
        kinds : sequence of str, optional
            Keep only these kinds.

        Returns
        -------
        pandas.DataFrame
            Columns as :data:`capacity.columns.EVENT_COLUMNS`, sorted by start.
        """
        lo, hi = utc(start, "start"), utc(end, "end")
        frame = self._con.execute(
            "SELECT event_id, name, kind, start_ts, end_ts, regions, expected_uplift, notes, "
            "source FROM events WHERE (? IS NULL OR end_ts > ?) AND (? IS NULL OR start_ts < ?) "
            "AND (? IS NULL OR list_contains(regions, ?) OR list_contains(regions, 'all')) "
            "AND (? IS NULL OR list_contains(?, kind)) ORDER BY start_ts, event_id",
            [lo, lo, hi, hi, region, region, as_list(kinds), as_list(kinds)],
        ).df()
        frame["regions"] = frame["regions"].map(list)
        return frame

    # -- queries ------------------------------------------------------------------------

    def series(
        self,
        *,
        region: str | Collection[str] | None = None,
        service: str | Collection[str] | None = None,
        metric: str | Collection[str] | None = None,
        start: Any = None,
        end: Any = None,
        freq: str = "1h",
        agg: str = "mean",
    ) -> pd.DataFrame:
        """Telemetry resampled to a regular grid, in tidy form.

        Each series gets every bucket from its first to its last (or from ``start`` to
        ``end``); buckets with no data hold NaN, never zero.

        Parameters
        ----------
        region, service, metric : str or collection of str, optional
            Filters; None keeps all.
        start, end : timestamp-like, optional
            Keep ``start <= ts < end``; naive values are taken as UTC.
        freq : str
            Bucket width, a pandas duration such as ``"1h"``, ``"15min"`` or ``"1D"``.
        agg : {"mean", "max", "min", "sum", "median", "first", "last"}
            How values within a bucket combine.

        Returns
        -------
        pandas.DataFrame
            Columns ``ts, region, service, metric, value``, sorted by series then time.
        """
        return store_telemetry.series(
            self._con,
            region=region,
            service=service,
            metric=metric,
            start=start,
            end=end,
            freq=freq,
            agg=agg,
        )

    # -- forecasts ----------------------------------------------------------------------

    def save_forecast(
        self,
        frame: pd.DataFrame,
        *,
        run_id: str,
        quantiles: Sequence[float],
        params: dict[str, Any],
        cutoff: Any = None,
        seconds: float | None = None,
        fit_params: Mapping[tuple[str, str, str], Mapping[str, Any]] | None = None,
    ) -> None:
        """Store one fleet forecast run in one transaction.

        Parameters
        ----------
        frame : pandas.DataFrame
            Columns ``region, service, metric, ts, yhat``, one column per quantile (named by
            :func:`capacity.columns.quantile_column`), ``model`` and ``fallback``.
        run_id : str
            The run's id; it must be new.
        quantiles : sequence of float
            The quantile levels, in the order of their columns.
        params : dict
            The run's parameters, stored as JSON.
        cutoff : timestamp-like, optional
            The end of the history the run was fitted on.
        seconds : float, optional
            How long the run took.
        fit_params : mapping, optional
            Per ``(region, service, metric)``, the fitted model parameters (JSON-serialisable)
            that the next run may start from; see :meth:`fit_params`.
        """
        self._writable()
        levels = [float(q) for q in quantiles]
        columns = [quantile_column(q) for q in levels]
        missing = [c for c in (*FORECAST_KEY, YHAT, *columns, MODEL, FALLBACK) if c not in frame]
        if missing:
            raise ParameterError(
                f"The 'frame' parameter must have columns {', '.join(missing)}. "
                f"Got {', '.join(map(str, frame.columns))}."
            )
        steps = frame.groupby(list(FORECAST_KEY[:3])).size()
        deltas = frame.sort_values(TS)[TS].diff().dropna()
        freq = deltas[deltas > pd.Timedelta(0)].min() if len(deltas) else pd.Timedelta(hours=1)
        table = pa.table(
            {
                "run_id": pa.array([run_id] * len(frame), pa.string()),
                **{
                    c: pa.array(frame[c].astype(str).tolist(), pa.string())
                    for c in FORECAST_KEY[:3]
                },
                "ts": pa.array(frame[TS], pa.timestamp("us", tz="UTC")),
                "yhat": pa.array(frame[YHAT].astype("float64")),
                "quantiles": pa.array(
                    frame[columns].astype("float64").values.tolist(), pa.list_(pa.float64())
                ),
                "model": pa.array(frame[MODEL].astype(str).tolist(), pa.string()),
                "fallback": pa.array(frame[FALLBACK].astype(bool).tolist(), pa.bool_()),
            }
        )
        fallbacks = int(frame.groupby(list(FORECAST_KEY[:3]))[FALLBACK].any().sum())
        with transaction(self._con) as con:
            if con.execute(
                "SELECT count(*) FROM forecast_runs WHERE run_id = ?", [run_id]
            ).fetchall()[0][0]:
                raise ParameterError(
                    f"The 'run_id' parameter must be new. Got {run_id!r}, which is stored."
                )
            con.execute(
                "INSERT INTO forecast_runs VALUES (?, now(), ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    utc(cutoff, "cutoff"),
                    int(steps.max()) if len(steps) else 0,
                    freq.total_seconds(),
                    levels,
                    json.dumps(params, sort_keys=True, default=str),
                    len(steps),
                    fallbacks,
                    seconds,
                ],
            )
            with registered(con, "_incoming_forecast", table):
                con.execute("INSERT INTO forecasts SELECT * FROM _incoming_forecast")
            rows = [
                [run_id, *map(str, key), json.dumps(value, sort_keys=True)]
                for key, value in (fit_params or {}).items()
                if value
            ]
            if rows:
                con.executemany("INSERT INTO forecast_params VALUES (?, ?, ?, ?, ?)", rows)

    def fit_params(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """The newest stored fitted parameters of every series, by ``(region, service,
        metric)``: what the last run that fitted the series learned (empty when none)."""
        rows = self._con.execute(
            """
            SELECT p.region, p.service, p.metric, p.params
            FROM forecast_params p JOIN forecast_runs r USING (run_id)
            QUALIFY row_number() OVER (
                PARTITION BY p.region, p.service, p.metric
                ORDER BY r.created_at DESC, r.run_id DESC
            ) = 1
            """
        ).fetchall()
        return {(r, s, m): json.loads(params) for r, s, m, params in rows}

    def delete_forecast_run(self, run_id: str) -> bool:
        """Remove a stored forecast run, its forecasts and fitted parameters, in one transaction.

        Parameters
        ----------
        run_id : str
            The run (see :meth:`forecast_runs`).

        Returns
        -------
        bool
            True when the run was stored.
        """
        self._writable()
        with transaction(self._con) as con:
            found = con.execute(
                "SELECT count(*) FROM forecast_runs WHERE run_id = ?", [run_id]
            ).fetchall()[0][0]
            for table in ("forecasts", "forecast_params", "forecast_runs"):
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        return bool(found)

    def forecast_runs(self) -> pd.DataFrame:
        """The stored forecast runs, newest first."""
        return self._con.execute(
            "SELECT run_id, created_at, cutoff, horizon_steps, freq_seconds, quantiles, params, "
            "series, fallbacks, seconds FROM forecast_runs ORDER BY created_at DESC, run_id DESC"
        ).df()

    def forecast(
        self,
        run_id: str | None = None,
        *,
        region: str | Collection[str] | None = None,
        service: str | Collection[str] | None = None,
        metric: str | Collection[str] | None = None,
    ) -> pd.DataFrame:
        """A stored forecast run in tidy form; the newest run when ``run_id`` is None.

        Parameters
        ----------
        run_id : str, optional
            The run to read (see :meth:`forecast_runs`); default the newest.
        region, service, metric : str or collection of str, optional
            Keep only these series.

        Returns
        -------
        pandas.DataFrame
            Columns ``run_id, region, service, metric, ts, yhat``, one column per quantile,
            ``model`` and ``fallback``; empty when no run is stored.

        Raises
        ------
        ParameterError
            When ``run_id`` names no stored run.
        """
        runs = self._con.execute(
            "SELECT run_id, quantiles FROM forecast_runs WHERE (? IS NULL OR run_id = ?) "
            "ORDER BY created_at DESC, run_id DESC LIMIT 1",
            [run_id, run_id],
        ).fetchall()
        if not runs:
            if run_id is not None:
                raise ParameterError(
                    f"The 'run_id' parameter must name a stored run. Got {run_id!r}."
                )
            return pd.DataFrame(columns=["run_id", *FORECAST_KEY, YHAT, MODEL, FALLBACK])
        chosen, levels = runs[0]
        regions, services, metrics = as_list(region), as_list(service), as_list(metric)
        frame = self._con.execute(
            "SELECT run_id, region, service, metric, ts, yhat, quantiles, model, fallback "
            "FROM forecasts WHERE run_id = ? AND (? IS NULL OR list_contains(?, region)) "
            "AND (? IS NULL OR list_contains(?, service)) "
            "AND (? IS NULL OR list_contains(?, metric)) ORDER BY region, service, metric, ts",
            [chosen, regions, regions, services, services, metrics, metrics],
        ).df()
        values = pd.DataFrame(
            frame.pop("quantiles").tolist(),
            index=frame.index,
            columns=[quantile_column(q) for q in levels],
        )
        frame = pd.concat(
            [
                frame.loc[:, ["run_id", *FORECAST_KEY, YHAT]],
                values,
                frame.loc[:, [MODEL, FALLBACK]],
            ],
            axis=1,
        )
        return frame

    def loads(self) -> pd.DataFrame:
        """The record of loads, newest first."""
        return loads_table(self._con)

    def status(
        self, *, now: Any = None, ahead: str | pd.Timedelta | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A summary of the store: per series its span, rows, gaps and last load; events ahead.

        Parameters
        ----------
        now : timestamp-like, optional
            The moment "ahead" starts from; the current time by default.
        ahead : str or Timedelta, optional
            How far ahead to list events (e.g. ``"28d"``); all future events by default.

        Returns
        -------
        tuple of pandas.DataFrame
            ``(series, events_ahead)``. ``series`` has columns ``region, service, metric,
            first_ts, last_ts, rows, missing_hours, gaps, last_load_id, last_loaded_at``;
            ``missing_hours`` counts hours in the span with no row, ``gaps`` the runs of them.
        """
        moment = utc(now, "now") or pd.Timestamp.now(tz="UTC")
        series = series_summary(self._con)
        until = None if ahead is None else moment + parse_duration(ahead, "ahead")
        return series, self.events(start=moment, end=until)


def _arrow(frame: pd.DataFrame, schema: pa.Schema, load_id: int) -> pa.Table:
    """Rows of ``frame`` as a table of ``schema``, tagged with ``load_id``."""
    columns = [f.name for f in schema if f.name != "load_id"]
    return pa.Table.from_pandas(
        frame.loc[:, columns].assign(load_id=load_id), schema=schema, preserve_index=False
    )


def _same_content(schema: pa.Schema) -> str:
    """SQL: stored row ``e`` has the content of incoming row ``i`` (key, source, load aside)."""
    return " AND ".join(
        f'e."{f.name}" IS NOT DISTINCT FROM i."{f.name}"'
        for f in schema
        if f.name not in (schema.names[0], "source", "load_id")
    )


def _existing_files(paths: Iterable[str | Path]) -> list[Path]:
    """The paths as Paths; refuse one that is not a file before anything is read."""
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise DataError("file not found", source=str(path), fix="check the path")
    return files


def _one_file_per_source(
    files: Sequence[Path], frames: Sequence[pd.DataFrame]
) -> tuple[list[Path], list[pd.DataFrame]]:
    """The files and their frames, a file given twice once; refuse two files of one name,
    since a file's name is its source and each would remove what the other holds."""
    chosen: dict[str, tuple[Path, pd.DataFrame]] = {}
    for path, frame in zip(files, frames, strict=True):
        earlier = chosen.setdefault(path.name, (path, frame))[0]
        if earlier.resolve() != path.resolve():
            raise DataError(
                f"{earlier} has the same name, and a file's name is its source",
                source=str(path),
                fix="rename one of the two files, or import only one of them",
            )
    return [path for path, _ in chosen.values()], [frame for _, frame in chosen.values()]


def _whole(parts: Sequence[pd.DataFrame], key: str) -> pd.DataFrame:
    """The records of several frames of one schema, each key once (the first)."""
    kept = [part for part in parts if len(part)] or list(parts[:1])
    return pd.concat(kept, ignore_index=True).drop_duplicates(key, ignore_index=True)


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
    if fleet is None:
        return None, None
    return list(fleet.regions), list(fleet.services)


def _same_record(a: dict, b: dict) -> bool:
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
