"""Records from files read whole (calendars, incident and deploy logs), each file's name its
source, and the ``holdings`` table that says which sources hold each record.

A file is the whole of its source: importing it again upserts its records by key and removes
the ones it no longer holds, unless another source still holds them. :func:`import_sources`
is that mechanism for any keyed table; ``records`` reads the files and calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from capacity.errors import DataError
from capacity.store.loads import file_sha256, next_load_id, record_load
from capacity.store.reports import EventsReport, LoadReport, count_noun
from capacity.store.sql import registered, transaction


def import_sources(
    con: duckdb.DuckDBPyConnection,
    table: str,
    schema: pa.Schema,
    files: Sequence[Path],
    frames: Sequence[pd.DataFrame],
    options: str,
    *,
    noun: str = "events",
    notes: Callable[[pd.DataFrame], tuple[str, ...]] | None = None,
    before_removing: Callable[[str, list[Any], str], None] | None = None,
    refuse_empty: Callable[[Path], bool] | None = None,
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
    refuse_empty : callable, optional
        Called with a file of no records whose source held some; True refuses the import
        (an export that came out empty is likelier than a calendar or log emptied on purpose,
        and it would wipe the source's records). Without it such a file removes them.

    Returns
    -------
    EventsReport
    """
    key = schema.names[0]
    files, frames = _one_file_per_source(files, frames)
    frames = [frame.assign(source=path.name) for path, frame in zip(files, frames, strict=True)]
    names = [path.name for path in files]
    totals, removed, kept = [0, 0, 0, 0], 0, 0
    imported: list[pd.DataFrame] = []
    with transaction(con):
        for path, frame in zip(files, frames, strict=True):
            _check_other_sources(con, table, schema, path, frame, names)
        fresh = {
            path.name
            for path, frame in zip(files, frames, strict=True)
            if not _holds_source(con, table, schema, path.name, frame)
        }
        replaced = [
            note
            for path in files
            for note in _replaced(con, table, path, noun, same=path.name not in fresh)
        ]
        upserted: set[str] = set()
        dropped: dict[str, list[str]] = {}
        guarded: dict[str, Path] = {}  # files of no records that may not remove any
        for path, frame in zip(files, frames, strict=True):
            if path.name not in fresh:
                continue
            part = frame[~frame[key].isin(upserted)]  # identical in an earlier file
            upserted.update(part[key])
            load_id = next_load_id(con)
            counts = _upsert(con, table, schema, part, load_id)
            report = LoadReport(str(path.resolve()), file_sha256(path), len(part), *counts)
            record_load(con, load_id, table, report, options)
            totals = [t + c for t, c in zip(totals, (len(part), *counts), strict=True)]
            dropped[path.name] = _hold(con, table, path.name, frame[key], load_id)
            if frame.empty and refuse_empty is not None and refuse_empty(path):
                guarded[path.name] = path
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
            if name in guarded:
                count = con.execute(f"SELECT count(*) FROM {table} WHERE {gone}", [ids])
                if (going := count.fetchall()[0][0]) > 0:
                    raise DataError(
                        f"holds no {noun}, and importing it would remove the "
                        f"{count_noun(going, noun)} an earlier import of it stored",
                        source=str(guarded[name]),
                        fix="check the export that wrote it; if it really is empty now, "
                        "import it again with --allow-empty",
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


def _hold(
    con: duckdb.DuckDBPyConnection, table: str, name: str, keys: pd.Series, load_id: int
) -> list[str]:
    """Record that source ``name`` holds ``keys`` (by load ``load_id``) and no other
    record; return the records it held before and holds no more."""
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


def _replaced(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, noun: str, *, same: bool = False
) -> tuple[str, ...]:
    """Notes for the stored records of ``path``'s name that were loaded from another file
    still on disk: this file replaces them (a file's name is its source, so this week's
    ``exports/2026-W49/incidents.csv`` replaces last week's), which a person should see
    in case the two were meant to be separate logs. With ``same`` (the file holds what the
    source holds, "already loaded") the note says so: "replaces" beside "already loaded" had
    read as a contradiction."""
    rows = con.execute(
        "SELECT l.source, count(*) FROM holdings h JOIN loads l USING (load_id) "
        "WHERE h.kind = ? AND h.source = ? GROUP BY l.source ORDER BY 1",
        [table, path.name],
    ).fetchall()
    here = path.resolve()
    return tuple(
        (
            f"note: {path} holds what {earlier} held ({count_noun(count, noun)} stored from "
            "it), so it changes nothing"
            if same
            else f"note: {path} replaces {earlier} ({count_noun(count, noun)} stored from it)"
        )
        + ": files of one name are one source. If both are in use, rename one of them and "
        "import both"
        for earlier, count in ((Path(loaded), count) for loaded, count in rows)
        # a load recorded before paths were resolved cannot be told apart: let it be
        if earlier.is_absolute() and earlier != here and earlier.is_file()
    )


def _check_other_sources(
    con: duckdb.DuckDBPyConnection,
    table: str,
    schema: pa.Schema,
    path: Path,
    frame: pd.DataFrame,
    names: list[str],
) -> None:
    """Refuse a record stored with other content and held by a source not in this
    command: that file still holds the stored version."""
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


def _holds_source(
    con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema, name: str, frame: pd.DataFrame
) -> bool:
    """Whether the store holds exactly the records ``frame`` holds for source ``name``:
    each of them stored as it is and held by ``name``, and ``name`` holding no other. True
    for an empty frame only when the source holds nothing and was loaded before: a calendar
    whose last event was cancelled, or a log emptied to its header, still removes them, and
    an empty file seen for the first time is recorded as a load of nothing."""
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
    if missing or extra:
        return False
    if frame.empty:
        # holding nothing is the state of a source never loaded too: only one loaded before,
        # emptied since, is already as it is
        sources = con.execute("SELECT source FROM loads WHERE kind = ?", [table]).fetchall()
        return any(Path(source).name == name for (source,) in sources)
    return True


def _upsert(
    con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema, frame: pd.DataFrame, load_id: int
) -> tuple[int, int, int]:
    """Insert new keys and replace changed ones; count inserted, updated, unchanged."""
    key = schema.names[0]
    with registered(con, "_incoming", _arrow(frame, schema, load_id)):
        known, unchanged = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {_same_content(schema)}) "
            f"FROM _incoming i JOIN {table} e USING ({key})"
        ).fetchall()[0]
        con.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM _incoming)")
        con.execute(f"INSERT INTO {table} SELECT * FROM _incoming")
    return len(frame) - known, known - unchanged, unchanged


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
