"""The DuckDB store: one class, :class:`Store`, that opens the file and answers for it.

One process writes at a time (DuckDB holds a file lock); a second writer gets
:class:`~capacity.errors.StoreLockedError`. Readers open the file with ``read_only=True``.
Every loading method runs in one transaction: it either loads everything it was given or,
on the first error, leaves the store exactly as it was. All queries take user values as
parameters; SQL text is never built from user strings.

``Store`` holds the connection, refuses writes to a read-only store and documents each
operation; the work is done by functions over the connection, one module per concern:

- ``schema``: the tables, their migrations, opening a file (the lock, upgrades);
- ``telemetry``: loading telemetry files and frames (validated, deduplicated, merged
  by hour) and reading series back;
- ``records``: calendar events, incidents and deploys, read from their files and back;
- ``holdings``: storing records from files read whole, each file's name its source;
- ``forecasts``: stored forecast runs and fitted parameters;
- ``loads``: the record of loads and whether a content is already loaded;
- ``reports``: what a load did (:class:`LoadReport`, :class:`EventsReport`) and the
  per-series summary of ``status``;
- ``sql``: transactions, views of frames, query arguments.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from capacity import sources
from capacity.config import FleetConfig
from capacity.errors import StoreError
from capacity.store import forecasts, records, telemetry
from capacity.store.forecasts import FORECAST_KEY as FORECAST_KEY
from capacity.store.loads import loads_table
from capacity.store.reports import EventsReport, LoadReport, series_summary
from capacity.store.schema import MIGRATIONS as MIGRATIONS
from capacity.store.schema import SCHEMA_VERSION, open_current
from capacity.store.sql import utc
from capacity.units import parse_duration

__all__ = ["SCHEMA_VERSION", "EventsReport", "LoadReport", "Store"]


class Store:
    """The DuckDB file that holds telemetry, events and the record of loads.

    Parameters
    ----------
    path : str or Path
        The database file (``~`` is the home folder, as in a shell). Created (with its
        folder) when opened for writing; a file created so is removed again when the
        ``with`` block that opened it raises, so a load that is refused leaves no empty
        store behind.
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
        # "~/capacity.duckdb" from Python is the home folder's file, as the shell reads it:
        # taken literally it was "store not found" read-only, and a folder named "~" made in
        # the working folder when opened for writing
        self.path = Path(path).expanduser()
        self.read_only = read_only
        if read_only and not self.path.is_file():
            raise StoreError(
                f"store not found: {self.path}. Fix: load data first (capacity ingest) "
                "or pass --db with an existing store"
            )
        # what this open creates, to remove again if the block that opened it fails
        self._created: list[Path] = []
        if not read_only and not self.path.exists():
            missing = [p for p in (self.path, *self.path.parents) if not p.exists()]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._created = missing
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

    def __exit__(self, exc_type: object, *exc: object) -> None:
        empty = exc_type is not None and bool(self._created) and self._holds_nothing()
        self.close()
        if empty:
            self._remove_created()

    def _holds_nothing(self) -> bool:
        """Whether no table of the store but its schema version holds a row (a failed first
        load stored nothing)."""
        try:
            tables = self._con.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE schema_name = 'main' AND table_name <> 'schema_version'"
            ).fetchall()
            return not any(
                self._con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
                for (name,) in tables
            )
        except duckdb.Error:  # a connection the failure left unusable: keep the file
            return False

    def _remove_created(self) -> None:
        """Remove the file (and folders) this open created and nothing was stored in."""
        for path in self._created:  # the file first, then its folders, innermost first
            if path == self.path:
                for leftover in (path, path.with_name(path.name + ".wal")):
                    leftover.unlink(missing_ok=True)
            else:
                try:
                    path.rmdir()
                except OSError:  # something else was put there meanwhile
                    break
        self._created = []

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
        return telemetry.ingest_files(self._con, paths, layout=layout, tz=tz, fleet=fleet)

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
        return telemetry.ingest_frame(self._con, frame, source=source, fleet=fleet, fix=fix)

    def newest(self, metrics: Collection[str]) -> dict[str, pd.Timestamp]:
        """The newest stored time of each of ``metrics`` that has rows (any region/service)."""
        return telemetry.newest(self._con, metrics)

    def stored_series(self, metrics: Collection[str]) -> set[tuple[str, str, str]]:
        """The ``(region, service, metric)`` series the store holds rows of, for ``metrics``."""
        return telemetry.stored_series(self._con, metrics)

    # -- events -------------------------------------------------------------------------

    def import_events(
        self,
        paths: Iterable[str | Path],
        *,
        tz: str | None = None,
        fleet: FleetConfig | None = None,
        allow_empty: bool = False,
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
        no other) is skipped. See :func:`capacity.store.holdings.import_sources`.

        Parameters
        ----------
        paths : iterable of str or Path
            Calendar files.
        tz : str, optional
            Time zone of naive times in the files.
        fleet : FleetConfig, optional
            When given, every event's regions must be fleet regions.
        allow_empty : bool
            Let a file of no events remove the events its source held (refused by default:
            an export that came out empty would wipe them).

        Returns
        -------
        EventsReport
        """
        self._writable()
        return records.import_events(self._con, paths, tz=tz, fleet=fleet, allow_empty=allow_empty)

    def import_deploys(
        self,
        paths: Iterable[str | Path],
        *,
        tz: str | None = None,
        fleet: FleetConfig | None = None,
        allow_empty: bool = False,
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
        allow_empty : bool
            Let a file of no records remove the records its source held (refused by default).
        """
        self._writable()
        return records.import_deploys(self._con, paths, tz=tz, fleet=fleet, allow_empty=allow_empty)

    def import_incidents(
        self,
        paths: Iterable[str | Path],
        *,
        tz: str | None = None,
        fleet: FleetConfig | None = None,
        allow_empty: bool = False,
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
        allow_empty : bool
            Let a file of no records remove the records its source held (refused by default).
        """
        self._writable()
        return records.import_incidents(
            self._con, paths, tz=tz, fleet=fleet, allow_empty=allow_empty
        )

    def incidents(self) -> pd.DataFrame:
        """The stored incidents (columns of :data:`capacity.resilience.INCIDENT_COLUMNS`)."""
        return records.stored_incidents(self._con)

    def deploys(self) -> pd.DataFrame:
        """The stored deploys (columns of :data:`capacity.resilience.DEPLOY_COLUMNS`)."""
        return records.stored_deploys(self._con)

    def events(
        self,
        *,
        start: Any = None,
        end: Any = None,
        region: str | None = None,
        kinds: str | Sequence[str] | None = None,
        strict: bool = True,
    ) -> pd.DataFrame:
        """Stored events overlapping ``[start, end)``, optionally for one region or some kinds.

        Parameters
        ----------
        start, end : timestamp-like, optional
            The window; naive values are taken as UTC.
        region : str, optional
            Keep events touching this region (events for all regions included).
        kinds : str or sequence of str, optional
            Keep only these kinds.
        strict : bool
            Refuse a region that neither the telemetry nor any stored event names, and a
            kind capacity does not know that no stored event has, so that a typo is not
            read as a region with only the fleet-wide events, or as a kind with none. With
            False such names select nothing beyond the events for all regions.

        Returns
        -------
        pandas.DataFrame
            Columns as :data:`capacity.columns.EVENT_COLUMNS`, sorted by start.

        Raises
        ------
        ParameterError
            With ``strict``, for a name the store does not hold, with the closest one.
        """
        return records.stored_events(
            self._con,
            start=start,
            end=end,
            region=region,
            kinds=kinds,
            strict=strict,
            source=str(self.path),
        )

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
        strict: bool = True,
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
        strict : bool
            Refuse a metric outside the vocabulary and a region or service that no stored
            telemetry row has, and a ``start`` not before ``end``, so that a typo is not read
            as a series without data. With False such names, or such a window, select
            nothing (a fleet's region not loaded yet).

        Returns
        -------
        pandas.DataFrame
            Columns ``ts, region, service, metric, value``, sorted by series then time.

        Raises
        ------
        ParameterError
            With ``strict``, for a name the store does not hold, with the closest one, and
            for ``start`` at or after ``end``.
        """
        return telemetry.series(
            self._con,
            region=region,
            service=service,
            metric=metric,
            start=start,
            end=end,
            freq=freq,
            agg=agg,
            strict=strict,
            source=str(self.path),
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
        skipped: Sequence[Mapping[str, str]] | None = None,
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
        skipped : sequence of mapping, optional
            The series the run left out, each with ``region, service, metric, reason``; kept
            in the run's ``params`` JSON under ``"skipped"`` and read back by
            :meth:`forecast_runs`. None (the default) records nothing: the run then reads as
            one whose skipped series are unknown, not as one that skipped none.
        """
        self._writable()
        forecasts.save_run(
            self._con,
            frame,
            run_id=run_id,
            quantiles=quantiles,
            params=params,
            cutoff=cutoff,
            seconds=seconds,
            fit_params=fit_params,
            skipped=skipped,
        )

    def fit_params(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """The newest stored fitted parameters of every series, by ``(region, service,
        metric)``: what the last run that fitted the series learned (empty when none)."""
        return forecasts.newest_fit_params(self._con)

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
        return forecasts.delete_run(self._con, run_id)

    def forecast_runs(self) -> pd.DataFrame:
        """The stored forecast runs, newest first.

        Returns
        -------
        pandas.DataFrame
            ``run_id, created_at, cutoff, horizon_steps, freq_seconds, quantiles, params``
            (JSON text), ``series`` (forecast and stored), ``fallbacks`` (of those, how many
            fell back to a baseline), ``skipped`` (series of the fleet the run left out, such
            as one without telemetry in the history window; ``<NA>`` for a run stored without
            that record, as every run before 2026-11-29 was), ``skipped_series`` (a list of
            ``region/service (metric): reason``, None where ``skipped`` is ``<NA>``) and
            ``seconds``. A fleet of 12 series forecast whole reads ``series`` 12,
            ``skipped`` 0; with one left out, 11 and 1.
        """
        return forecasts.stored_runs(self._con)

    def forecast(
        self,
        run_id: str | None = None,
        *,
        region: str | Collection[str] | None = None,
        service: str | Collection[str] | None = None,
        metric: str | Collection[str] | None = None,
        strict: bool = True,
    ) -> pd.DataFrame:
        """A stored forecast run in tidy form; the newest run when ``run_id`` is None.

        Parameters
        ----------
        run_id : str, optional
            The run to read (see :meth:`forecast_runs`); default the newest.
        region, service, metric : str or collection of str, optional
            Keep only these series.
        strict : bool
            Refuse a region, service or metric the run holds no forecast of (a typo, or a
            metric that is not a demand metric), so that it is not read as a run without
            that series. With False such names select nothing.

        Returns
        -------
        pandas.DataFrame
            Columns ``run_id, region, service, metric, ts, yhat``, one column per quantile,
            ``model`` and ``fallback``; empty when no run is stored.

        Raises
        ------
        ParameterError
            When ``run_id`` names no stored run; with ``strict``, for a name the run does
            not hold, with the closest one.
        """
        return forecasts.stored_forecast(
            self._con,
            run_id,
            region=region,
            service=service,
            metric=metric,
            strict=strict,
            source=str(self.path),
        )

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
