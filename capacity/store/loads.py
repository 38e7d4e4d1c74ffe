"""The record of loads: each load's id, source, checksum and counts, and what makes a load
skippable.

Every loading path (telemetry files and frames, calendars, incident and deploy logs) takes a
new ``load_id`` here, records what it did in the ``loads`` table, and asks here whether the
same content was loaded before and is still in force.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd

from capacity.errors import ParameterError
from capacity.store.reports import LoadReport

#: The table each kind of load writes its rows to.
LOADED_TABLES = {
    "telemetry": "telemetry",
    "events": "events",
    "incidents": "incidents",
    "deploys": "deploys",
}


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def check_tz(tz: str | None) -> None:
    """Refuse a ``tz`` parameter that is not an IANA time zone (None is no zone)."""
    if tz is None:
        return
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParameterError(
            f"The 'tz' parameter must be an IANA time zone such as 'Europe/Berlin' or 'UTC'. "
            f"Got {tz!r}."
        ) from None


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next load gets."""
    return con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0]


def already_loaded(con: duckdb.DuckDBPyConnection, kind: str, sha256: str, options: str) -> bool:
    """Whether this content was loaded with these options and is still in force: every
    row that load stored is stored under it yet. A later load that replaced some of its
    rows (a corrected file, then the original again) makes it count as not loaded."""
    last = con.execute(
        "SELECT load_id, rows FROM loads WHERE kind = ? AND sha256 = ? AND options = ? "
        "ORDER BY load_id DESC LIMIT 1",
        [kind, sha256, options],
    ).fetchall()
    if not last:
        return False
    load_id, rows = last[0]
    kept = con.execute(
        f"SELECT count(*) FROM {LOADED_TABLES[kind]} WHERE load_id = ?", [load_id]
    ).fetchall()[0][0]
    return kept == rows


def maybe_loaded(con: duckdb.DuckDBPyConnection, kind: str, size: int, options: str) -> bool:
    """Whether a load of a file of this size exists: only then can it be the same file."""
    return bool(
        con.execute(
            "SELECT count(*) FROM loads WHERE kind = ? AND bytes = ? AND options = ?",
            [kind, size, options],
        ).fetchall()[0][0]
    )


def record_load(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    kind: str,
    report: LoadReport,
    options: str,
    size: int | None = None,
) -> None:
    """Record a load; ``size`` goes in ``bytes``: the source file's size by default, the
    row count for rows loaded from memory."""
    con.execute(
        "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            load_id,
            kind,
            report.source,
            report.sha256,
            Path(report.source).stat().st_size if size is None else size,
            options,
            report.rows,
            report.inserted,
            report.updated,
            report.unchanged,
        ],
    )


def loads_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The record of loads, newest first (``Store.loads``)."""
    return con.execute(
        "SELECT load_id, kind, source, sha256, rows, inserted, updated, unchanged, loaded_at "
        "FROM loads ORDER BY load_id DESC"
    ).df()
