"""DuckDB's read failures worded for people: a damaged gzip or Parquet file named as such, a
malformed CSV line named by its number (:func:`read_error`), a CSV file that is not UTF-8
text named by its first bad line (:func:`not_utf8_text`)."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import duckdb

from capacity.errors import DataError
from capacity.records import not_utf8


def _damaged_fix(message: str) -> str | None:
    """The fix for a Parquet file DuckDB found cut short or corrupt, from its error message
    (a damaged gzip file is named by :func:`_gzip_damage`)."""
    if "magic bytes" in message.lower():
        return "the Parquet file is cut short or corrupt: copy or export it again"
    return None


def _gzip_damage(path: Path) -> DataError | None:
    """The error for a gzip file that does not decompress whole, else None.

    DuckDB reads a gzip file's damaged middle as text, so its complaint (a missing column, a
    malformed line) would send the user to the wrong fix. Only run once a read has failed:
    it decompresses the whole file.
    """
    if not path.name.lower().endswith(".gz"):
        return None
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return DataError(
            f"the gzip file is cut short or corrupt ({exc})",
            source=str(path),
            fix="copy or export it again (gzip -t tests it)",
        )
    return None


def not_utf8_text(path: Path) -> DataError | None:
    """The error for a text file (CSV, gzip CSV) that is not UTF-8, naming the line and byte
    of its first bad byte; None when it all decodes (or cannot be read: the caller's own
    error stands).

    DuckDB reads only UTF-8, and its own complaint ("Invalid Input Error: CSV Error on Line:
    3") names neither the cause's fix nor, past the header, the right line. Only run once a
    read has failed: it reads the whole file. Lines are decoded one at a time, which is
    exact: no UTF-8 sequence holds the newline byte.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    offset = 0
    try:
        with opener(path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return not_utf8(path, offset + exc.start, where=f"line {number}")
                offset += len(line)
    except (OSError, EOFError, zlib.error):
        return None
    return None


def read_error(exc: duckdb.Error, path: Path | str, what: str = "cannot be read") -> DataError:
    """Word a DuckDB read failure as a :class:`DataError` naming the file and, when DuckDB
    says which, the line and what is wrong with it.

    Parameters
    ----------
    exc : duckdb.Error
        The error DuckDB raised while reading ``path``.
    path : Path or str
        The file being read.
    what : str
        The headline when DuckDB names no line (e.g. ``"cannot be read as CSV"``).

    Returns
    -------
    DataError
        The error to raise.
    """
    damaged = _gzip_damage(Path(path))
    if damaged is not None:
        return damaged
    text = str(exc)
    if "CSV Error" in text and (not_utf8 := not_utf8_text(Path(path))) is not None:
        return not_utf8  # DuckDB reads only UTF-8, and words any other text as a CSV error
    line = re.search(r"CSV Error on Line: (\d+)", text)
    fields = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if line and fields:
        width, found = fields.groups()
        return DataError(
            f"{found} fields where the header has {width}",
            source=str(path),
            where=f"line {line.group(1)}",
            fix=f"give every line {width} fields, or quote values that contain the separator",
        )
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    damaged = _damaged_fix(first_line)
    if damaged:
        return DataError(f"{what}: {first_line}", source=str(path), fix=damaged)
    if line:
        return DataError(f"{what}: {first_line}", source=str(path), where=f"line {line.group(1)}")
    return DataError(f"{what}: {first_line}", source=str(path))
