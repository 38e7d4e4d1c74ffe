"""SQL text shared by the readers: a quoted identifier, DuckDB's reader for a file kind."""

from __future__ import annotations


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _reader(kind: str) -> str:
    if kind == "csv":
        return "read_csv(?, header = true, all_varchar = true)"
    return "read_parquet(?)"
