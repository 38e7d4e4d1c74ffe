"""The store file's schema: its tables, the migrations that build them, and opening a file.

A store records its schema version; opening it for writing applies the migrations it lacks,
in one transaction. A store newer than this code is refused. A read-only open of an older
store upgrades it first with a short writable open of its own, so a reader need not know the
store is old.

DuckDB lets one process write a file, or several read it, not both: an open that meets
another process's lock raises :class:`~capacity.errors.StoreLockedError`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from capacity.errors import SchemaError, StoreError, StoreLockedError
from capacity.store.sql import open_duckdb, transaction

#: Each entry migrates the schema from its index to index + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        # No NOT NULL here: a load inserts straight from the file, then validation names the
        # first bad row; a constraint would abort the transaction before it could.
        """CREATE TABLE telemetry (
            ts TIMESTAMPTZ,
            region VARCHAR,
            service VARCHAR,
            metric VARCHAR,
            value DOUBLE,
            load_id INTEGER NOT NULL
        )""",
        """CREATE TABLE events (
            event_id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            start_ts TIMESTAMPTZ NOT NULL,
            end_ts TIMESTAMPTZ NOT NULL,
            regions VARCHAR[] NOT NULL,
            expected_uplift DOUBLE,
            notes VARCHAR,
            source VARCHAR,
            load_id INTEGER NOT NULL
        )""",
        """CREATE TABLE loads (
            load_id INTEGER PRIMARY KEY,
            kind VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            bytes BIGINT NOT NULL,
            options VARCHAR NOT NULL,
            rows BIGINT NOT NULL,
            inserted BIGINT NOT NULL,
            updated BIGINT NOT NULL,
            unchanged BIGINT NOT NULL,
            loaded_at TIMESTAMPTZ NOT NULL
        )""",
    ),
    (
        """CREATE TABLE forecast_runs (
            run_id VARCHAR PRIMARY KEY,
            created_at TIMESTAMPTZ NOT NULL,
            cutoff TIMESTAMPTZ,
            horizon_steps INTEGER NOT NULL,
            freq_seconds DOUBLE NOT NULL,
            quantiles DOUBLE[] NOT NULL,
            params VARCHAR NOT NULL,
            series INTEGER NOT NULL,
            fallbacks INTEGER NOT NULL,
            seconds DOUBLE
        )""",
        """CREATE TABLE forecasts (
            run_id VARCHAR NOT NULL,
            region VARCHAR NOT NULL,
            service VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            ts TIMESTAMPTZ NOT NULL,
            yhat DOUBLE NOT NULL,
            quantiles DOUBLE[] NOT NULL,
            model VARCHAR NOT NULL,
            fallback BOOLEAN NOT NULL
        )""",
    ),
    (
        """CREATE TABLE deploys (
            deploy_id VARCHAR PRIMARY KEY,
            region VARCHAR NOT NULL,
            service VARCHAR NOT NULL,
            deployed_at TIMESTAMPTZ NOT NULL,
            change VARCHAR,
            source VARCHAR,
            load_id INTEGER NOT NULL
        )""",
        """CREATE TABLE incidents (
            incident_id VARCHAR PRIMARY KEY,
            region VARCHAR NOT NULL,
            service VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            detected_at TIMESTAMPTZ NOT NULL,
            resolved_at TIMESTAMPTZ,
            cause VARCHAR,
            deploy_id VARCHAR,
            source VARCHAR,
            load_id INTEGER NOT NULL
        )""",
    ),
    (
        # Each series' fitted Prophet parameters, the next run's warm start.
        """CREATE TABLE forecast_params (
            run_id VARCHAR NOT NULL,
            region VARCHAR NOT NULL,
            service VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            params VARCHAR NOT NULL
        )""",
    ),
    (
        # Which sources (file names) hold each calendar event, incident and deploy, each by
        # its last load: a record one file drops is removed only when no other file holds it.
        """CREATE TABLE holdings (
            kind VARCHAR NOT NULL,
            record_id VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            load_id INTEGER NOT NULL
        )""",
        "INSERT INTO holdings SELECT 'events', event_id, source, load_id FROM events "
        "WHERE source IS NOT NULL",
        "INSERT INTO holdings SELECT 'incidents', incident_id, source, load_id FROM incidents "
        "WHERE source IS NOT NULL",
        "INSERT INTO holdings SELECT 'deploys', deploy_id, source, load_id FROM deploys "
        "WHERE source IS NOT NULL",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def open_current(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to the store at ``path``, its schema brought up to :data:`SCHEMA_VERSION`.

    Parameters
    ----------
    path : Path
        The database file (created when opened for writing).
    read_only : bool
        Open for reading only; an older store is upgraded first with a short writable open.

    Returns
    -------
    duckdb.DuckDBPyConnection
        With ``TimeZone = 'UTC'``.

    Raises
    ------
    StoreLockedError
        When another process holds the file's lock.
    StoreError
        When the file cannot be opened (or, for an upgrade, written).
    SchemaError
        When the file was written by a newer version of capacity.
    """
    con = connect(path, read_only)
    if read_only and (version := stored_version(con)) < SCHEMA_VERSION:
        # An older store: migrate it with a short writable open, then read.
        con.close()
        con = _upgrading_connection(path, version)
        migrate(con, path)
        con.close()
        con = connect(path, True)
    migrate(con, path)
    return con


def _upgrading_connection(path: Path, version: int) -> duckdb.DuckDBPyConnection:
    """The short writable open a reader of an older store makes to upgrade it, or an
    error that says why the reader needed one."""
    why = (
        f"it was written by an older capacity (schema {version}; this one reads "
        f"{SCHEMA_VERSION}) and a reader upgrades it once, with a short writable open"
    )
    try:
        return connect(path, False)
    except StoreLockedError:
        raise StoreLockedError(
            f"store is locked by another process: {path}; {why}. Fix: wait for the "
            "other process to finish (or close it, if an older capacity holds it), then "
            "try again"
        ) from None
    except StoreError as exc:
        raise StoreError(
            f"cannot upgrade store {path}: {why}, which failed ({exc}). Fix: run a "
            "capacity command on it once as a user who may write it"
        ) from None


def connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file, in UTC, without a progress bar; a lock another process holds is a
    :class:`StoreLockedError`, a file that is not a DuckDB database a :class:`StoreError`."""
    _check_is_duckdb(path)
    try:
        con = open_duckdb(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreLockedError(
                f"store is locked by another process: {path}. Fix: wait for the other "
                "run to finish, then try again"
            ) from None
        raise StoreError(f"cannot open store {path}: {exc}") from None
    return con


#: Where a DuckDB database file says what it is: bytes 8 to 12 of its first block.
_DUCKDB_MAGIC = (8, b"DUCK")


def is_duckdb_file(path: str | Path) -> bool | None:
    """Whether an existing file is a DuckDB database, read from its header.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    bool or None
        None for a missing or empty file, a folder, or one that cannot be read (DuckDB
        creates a store in an empty or missing file, and explains the rest in its own words).
    """
    try:
        head = _head(path)
    except OSError:
        return None
    return head[_DUCKDB_MAGIC[0] :] == _DUCKDB_MAGIC[1] if head else None


def _head(path: str | Path) -> bytes:
    """The first bytes of a file, as far as DuckDB's magic reaches (fewer for a shorter
    file); OSError when it cannot be read."""
    offset, magic = _DUCKDB_MAGIC
    with open(path, "rb") as handle:
        return handle.read(offset + len(magic))


def _check_is_duckdb(path: Path) -> None:
    """Refuse an existing file that is not a DuckDB database.

    DuckDB opens a path ending ``.csv`` or ``.parquet`` as an in-memory database over that
    file, so a telemetry file given as the store took a load without complaint and kept none
    of it; other files fail with DuckDB's own words. A new (missing) or empty file is left to
    DuckDB, which creates the store.
    """
    offset, magic = _DUCKDB_MAGIC
    try:
        head = _head(path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return  # a new store, or a path DuckDB itself explains
    except OSError as exc:
        raise StoreError(f"cannot open store {path}: {exc.strerror or exc}") from None
    if head and head[offset:] != magic:
        raise StoreError(
            f"{path} is not a capacity store: it is not a DuckDB database file. Fix: give "
            "--db the store's file (data/capacity.duckdb for the demo); to load a telemetry "
            "file into a store, use capacity ingest FILE --db STORE"
        )


def stored_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version the file records; 0 for a new file."""
    has_version = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not has_version:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Apply the migrations the file lacks, in one transaction; refuse a newer file."""
    version = stored_version(con)
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"store {path} has schema version {version}, newer than this capacity "
            f"understands ({SCHEMA_VERSION}). Fix: upgrade capacity"
        )
    if version == SCHEMA_VERSION:
        return
    with transaction(con):
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[target - 1]:
                con.execute(statement)
            con.execute("INSERT INTO schema_version VALUES (?, now())", [target])
