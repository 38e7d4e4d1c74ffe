"""Small pieces of DuckDB plumbing every part of the store uses.

One transaction around a block, a frame or Arrow table seen as a view for a block, and the
query arguments the readers normalise (a UTC time, a list filter). Nothing here knows a
table of the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import duckdb
import pandas as pd

from capacity.units import parse_timestamp


def open_duckdb(
    database: str = ":memory:", *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC that prints nothing.

    DuckDB draws a progress bar for queries longer than two seconds, on standard output even
    when that is a file or a pipe, where it would corrupt the CSV or JSON a command prints;
    every connection of capacity is opened here, with the bar off.

    Parameters
    ----------
    database : str
        A database file, or ``":memory:"``.
    read_only : bool
        Open the file for reading only.

    Returns
    -------
    duckdb.DuckDBPyConnection
    """
    con = duckdb.connect(database, read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    # the bar, and its printing should anything turn the bar back on; in a Jupyter kernel
    # without ipywidgets the bar is off and a change is refused
    for setting in ("enable_progress_bar", "enable_progress_bar_print"):
        with suppress(duckdb.InvalidInputException):
            con.execute(f"SET {setting} = false")
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: all of it is committed, or none of it."""
    con.execute("BEGIN")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, data: Any) -> Iterator[None]:
    """``data`` (a DataFrame or Arrow table) as the view ``name`` on ``con`` for the block."""
    con.register(name, data)
    try:
        yield
    finally:
        con.unregister(name)


def utc(value: Any, name: str) -> pd.Timestamp | None:
    """``value`` as a UTC timestamp (None stays None); ``name`` is the parameter, for errors."""
    return None if value is None else parse_timestamp(value, name)


def as_list(value: str | Collection[str] | None) -> list[str] | None:
    """A filter as a list: one name, several, or None for no filter."""
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def distinct(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[str]:
    """The sorted distinct values of the one-column query ``sql`` (the names a reader's
    filter may use: ``SELECT region FROM telemetry``), NULLs left out."""
    rows = con.execute(f"SELECT DISTINCT * FROM ({sql}) AS names", params or []).fetchall()
    return sorted(str(row[0]) for row in rows if row[0] is not None)
