"""What Python reads of a CSV file itself, past DuckDB: the line that holds a data row, and
the header and line-width checks that name what DuckDB's sniffer would misreport.

Each reads the file only when an error is being worded, or when DuckDB's description of the
header already hints at the problem.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from capacity.errors import DataError


def csv_line(path: Path, row: int) -> int:
    """The line of a CSV file (header included, 1-based) that holds data row ``row``.

    DuckDB numbers the rows it reads and skips blank lines, so a file with blank lines would
    otherwise be pointed at the wrong line. Read only when an error names a row.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            fh.readline()  # the header
            seen = 0
            for number, line in enumerate(fh, start=2):
                if line.strip():
                    seen += 1
                    if seen == row:
                        return number
    except OSError:
        pass
    return row + 1


def _header_names(path: Path) -> list[str]:
    """The column names of a CSV (or gzip CSV) header as written, split on its separator
    (the most frequent of ``,;\t|`` in the line)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.readline()
    sep = max(",;\t|", key=head.count)
    return next(csv.reader([head], delimiter=sep), [])


def _check_repeated_columns(path: Path) -> None:
    """Refuse a CSV header that names a column twice (in any case or spacing)."""
    seen: dict[str, str] = {}
    for name in _header_names(path):
        key = name.strip().lower()
        if key in seen:
            raise DataError(
                f"column {name.strip()!r} appears twice in the header",
                source=str(path),
                where="line 1",
                fix="keep one of them, or rename the other",
            )
        seen[key] = name


def _check_asked_once(path: Path, asked: dict[str, str]) -> None:
    """Refuse a CSV header that names a column asked for more than once (in any case or
    spacing); ``asked`` maps each name to the option that gave it (``--value-column``).

    DuckDB reads the first and renames the others (``v_1``), so the file would be read from a
    column the user may not have meant, without a word.
    """
    names = _header_names(path)
    for wanted, option in asked.items():
        key = wanted.strip().lower()
        places = [(n, name) for n, name in enumerate(names, start=1) if name.strip().lower() == key]
        if len(places) > 1:
            times = "twice" if len(places) == 2 else f"{len(places)} times"
            shown = ", ".join(f"{n} ({name!r})" for n, name in places[:-1])
            last_n, last_name = places[-1]
            raise DataError(
                f"column {wanted!r} ({option}) appears {times} in the header, as columns "
                f"{shown} and {last_n} ({last_name!r}), so which one to read is "
                "ambiguous",
                source=str(path),
                where="line 1",
                fix=f"keep one of them, or rename the others, and pass its name with {option}",
            )


def _check_field_counts(path: Path, *, lines: int = 10_000) -> None:
    """Name the first line whose field count differs from the header's.

    DuckDB's sniffer reads a file whose early rows disagree with the header as one column
    named after the whole header line, which would otherwise surface as a column that is
    "not found" beside a column that looks just like it.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8", errors="replace") as fh:
        head = fh.readline()
        counts = {sep: head.count(sep) for sep in ",;\t|"}
        sep = max(counts, key=counts.get)
        if counts[sep] == 0:
            return
        width = len(next(csv.reader([head], delimiter=sep)))
        for number, fields in enumerate(csv.reader(fh, delimiter=sep), start=2):
            if number > lines:
                return
            if fields and len(fields) != width:
                raise DataError(
                    f"{len(fields)} fields where the header has {width}",
                    source=str(path),
                    where=f"line {number}",
                    fix=f"give every line {width} fields separated by {sep!r}, "
                    "or quote values that contain it",
                )
