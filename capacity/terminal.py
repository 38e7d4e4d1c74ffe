"""Tables and text for a terminal, within 100 columns.

What the commands' ``--format table`` outputs share: a table with a two-line header (two
words stacked keep the columns narrow), one line of figures per row, and what is long
(reasons, dates, names) on an indented line below it, wrapped at :data:`WIDTH`. The
formatters write figures for people: thousands separators, a fixed number of decimals per
column, fractions as percentages, ``-`` for a figure that cannot be measured.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "GAP",
    "INDENT",
    "WIDTH",
    "Column",
    "count",
    "decimals",
    "demand",
    "grid",
    "percent",
    "plain",
    "signed",
    "time",
    "wrap",
    "yes_no",
]

#: The columns a table keeps within, for the demo fleet's names.
WIDTH = 100
#: Between two columns.
GAP = "  "
#: Before a row's second line, so the rows stand out.
INDENT = "  "
#: A figure that cannot be measured (null).
MISSING = "-"


@dataclass(frozen=True)
class Column:
    """One column of a :func:`grid`: the row's key, two header words, how a value reads.

    Parameters
    ----------
    key : str
        The row's key (a frame's column name).
    top, bottom : str
        The header's two lines; ``top`` may be empty.
    text : callable
        Turns the value into the cell's text.
    right : bool
        Right-align (figures) rather than left-align (names).
    """

    key: str
    top: str
    bottom: str
    text: Callable[[object], str]
    right: bool = True


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def plain(value: object) -> str:
    """The value as it is; ``-`` when null."""
    return MISSING if _missing(value) else str(value)


def count(value: object) -> str:
    """A whole number with thousands separators (``1,766``); ``-`` when null."""
    return MISSING if _missing(value) else f"{round(float(value)):,}"


def demand(value: object) -> str:
    """Demand as :func:`capacity.texts.demand_text` writes it (``285,840``, ``0.35``); ``-``
    when null.

    Parameters
    ----------
    value : object
        A demand (players, requests a second), or a null (None, NaN, ``pd.NA``).

    Returns
    -------
    str
        The demand as a table cell.
    """
    from capacity.texts import demand_text

    return MISSING if _missing(value) else demand_text(float(value))


def decimals(places: int) -> Callable[[object], str]:
    """A formatter to ``places`` decimals with thousands separators; ``-`` when null."""

    def text(value: object) -> str:
        return MISSING if _missing(value) else f"{float(value):,.{places}f}"

    return text


def signed(places: int) -> Callable[[object], str]:
    """Like :func:`decimals`, with a ``+`` on a rise (a change, not a level); no sign on
    nought."""

    def text(value: object) -> str:
        if _missing(value):
            return MISSING
        shown = f"{float(value):+,.{places}f}"
        return shown[1:] if float(shown.replace(",", "")) == 0 else shown

    return text


def percent(places: int) -> Callable[[object], str]:
    """A fraction as a percentage to ``places`` decimals (``0.999589`` reads ``99.959%``
    with 3); a fraction just short of 1 never reads ``100%``; ``-`` when null."""

    def text(value: object) -> str:
        if _missing(value):
            return MISSING
        shown = f"{float(value) * 100:,.{places}f}"
        if float(value) < 1 and float(shown.replace(",", "")) >= 100:
            return f">{100 - 10**-places:.{places}f}%"  # 0.999999 is not 100%
        return f"{shown}%"

    return text


def time(value: object) -> str:
    """A time as ``2026-12-04 11:00`` (UTC, as the heading says); ``-`` when null."""
    return MISSING if _missing(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def yes_no(value: object) -> str:
    """A flag as ``yes`` or ``no``; ``-`` when null."""
    return MISSING if _missing(value) else ("yes" if bool(value) else "no")


def wrap(text: str, *, first: str = INDENT, later: str | None = None, width: int = WIDTH) -> str:
    """``text`` in lines of at most ``width`` columns (a word longer than that stays whole).

    Parameters
    ----------
    text : str
        The text, on one line.
    first : str
        Put before the first line.
    later : str, optional
        Put before each later line [default: as many spaces as ``first`` is long].
    width : int
        The widest line.

    Returns
    -------
    str
        The lines joined by newlines.
    """
    return textwrap.fill(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=" " * len(first) if later is None else later,
        break_long_words=False,
        break_on_hyphens=False,
    )


def grid(
    table: pd.DataFrame,
    columns: Sequence[Column],
    below: Callable[[pd.Series], str | None] | None = None,
    *,
    width: int = WIDTH,
) -> str:
    """A table for a terminal: two header lines, a line of figures per row and, under each,
    an indented line of text.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per line; it has each column's ``key``.
    columns : sequence of Column
        What each row's first line shows, in order.
    below : callable, optional
        The text under a row (``None`` or empty for none), wrapped at ``width`` after
        :data:`INDENT`.
    width : int
        The widest line of the text below a row.

    Returns
    -------
    str
        The table; ``  (none)`` for an empty one. Columns are as wide as their widest
        header word or cell, :data:`GAP` apart; trailing spaces are cut.
    """
    if table.empty:
        return "  (none)"
    rows = [row for _, row in table.iterrows()]
    cells = [[column.text(row[column.key]) for column in columns] for row in rows]
    widths = [
        max(len(column.top), len(column.bottom), *(len(line[i]) for line in cells))
        for i, column in enumerate(columns)
    ]

    def line(values: list[str]) -> str:
        parts = [
            value.rjust(size) if column.right else value.ljust(size)
            for value, size, column in zip(values, widths, columns, strict=True)
        ]
        return GAP.join(parts).rstrip()

    lines = [line([c.top for c in columns]), line([c.bottom for c in columns])]
    if not lines[0]:
        lines = lines[1:]  # no column has a top word
    for values, row in zip(cells, rows, strict=True):
        lines.append(line(values))
        text = below(row) if below is not None else None
        if text:
            lines.append(wrap(text, width=width))
    return "\n".join(lines)
