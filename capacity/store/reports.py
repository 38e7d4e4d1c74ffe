"""What the store reports: what one load did, and what the store holds.

:class:`LoadReport` and :class:`EventsReport` are what the loading methods return, each able
to describe itself in one line; :func:`series_summary` is the per-series part of
``Store.status``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

__all__ = ["EventsReport", "LoadReport", "count_noun", "series_summary"]


@dataclass(frozen=True)
class LoadReport:
    """What one file's load did.

    Attributes
    ----------
    source : str
        The file.
    rows : int
        Rows read (long rows, after unpivoting a wide file).
    inserted, updated, unchanged : int
        New keys; keys already stored with another value; keys stored with the same value.
    skipped : bool
        True when this exact file was loaded before with the same options: nothing changed.
    collapsed : int
        Identical duplicate rows dropped (each key is kept once); ``rows`` counts after them.
    replaced : int
        Stored rows at other times of the hours this load holds, removed: a load replaces
        the hours it holds whole, so an hour never mixes two resolutions (5-minute pulls and
        an hourly file) into one mean.
    unread_columns : tuple of str
        Columns of a long file other than the five the store keeps, which were not read.
    """

    source: str
    sha256: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    skipped: bool = False
    collapsed: int = 0
    replaced: int = 0
    unread_columns: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for a person."""
        if self.skipped:
            return f"{self.source}: already loaded (same content), nothing changed"
        replaced = (
            f", {self.replaced:,} stored rows at other times of those hours replaced"
            if self.replaced
            else ""
        )
        same = (
            f" ({self.collapsed:,} identical duplicate{'s' if self.collapsed != 1 else ''} "
            "kept once)"
            if self.collapsed
            else ""
        )
        unread = (
            f"; {_columns(self.unread_columns)} not read (a long file keeps ts, region, "
            "service, metric and value)"
            if self.unread_columns
            else ""
        )
        return (
            f"{self.source}: {count_noun(self.rows + self.collapsed, 'rows')} read{same}, "
            f"{self.inserted:,} inserted, {self.updated:,} updated, {self.unchanged:,} unchanged"
            f"{replaced}{unread}"
        )


def _columns(names: tuple[str, ...]) -> str:
    """``column 'host'`` or ``columns 'host', 'unit'``."""
    quoted = ", ".join(repr(n) for n in names)
    return f"column{'s' if len(names) != 1 else ''} {quoted}"


@dataclass(frozen=True)
class EventsReport:
    """What an events import did, over all its files."""

    sources: tuple[str, ...]
    events: int
    inserted: int
    updated: int
    unchanged: int
    skipped: tuple[str, ...] = ()
    noun: str = "events"
    notes: tuple[str, ...] = ()
    removed: int = 0
    held: int = 0
    kept: int = 0

    def describe(self) -> str:
        """One line for a person, naming the files read (as ``ingest`` does).

        A source is a file name: a record is removed when the file now loaded under its
        source's name no longer holds it, which may be a file from another folder that
        replaced the one it came from (a note names it); so the counts speak of sources.
        """
        text = (
            f"{count_noun(self.events, self.noun)} read, {self.inserted:,} inserted, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged"
        )
        if self.sources:
            text = f"{', '.join(self.sources)}: {text}"
        if self.removed:
            text += f", {self.removed:,} removed (no longer in their source)"
        if self.kept:
            text += (
                f", {self.kept:,} no longer in their source but kept (another source holds them)"
            )
        if not self.skipped:
            return text
        holds = "it holds" if len(self.skipped) == 1 else "they hold"
        are = "is stored as it is" if self.held == 1 else "are stored as they are"
        held = (  # worded as ingest words a file it skips
            f"{', '.join(self.skipped)}: already loaded (same content, read and checked; the "
            f"{count_noun(self.held, self.noun)} {holds} {are})"
        )
        return f"{text}; {held}" if self.sources else held


def count_noun(n: int, noun: str) -> str:
    """``n`` and the noun, singular for one: ``1 incident``, ``2 incidents``."""
    return f"{n:,} {noun.removesuffix('s') if n == 1 else noun}"


def series_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per stored series its span, rows, missing hours, gaps and last load (see
    ``Store.status``)."""
    return con.execute(
        """
        WITH hours AS (
            SELECT DISTINCT region, service, metric, time_bucket(INTERVAL 1 HOUR, ts) AS hour
            FROM telemetry
        ), steps AS (
            SELECT region, service, metric,
                   epoch(hour - lag(hour) OVER (PARTITION BY region, service, metric
                                                ORDER BY hour)) / 3600 - 1 AS missing
            FROM hours
        ), gaps AS (
            SELECT region, service, metric,
                   CAST(coalesce(sum(missing) FILTER (WHERE missing > 0), 0) AS BIGINT)
                       AS missing_hours,
                   count(*) FILTER (WHERE missing > 0) AS gaps
            FROM steps GROUP BY ALL
        ), spans AS (
            SELECT region, service, metric, min(ts) AS first_ts, max(ts) AS last_ts,
                   count(*) AS rows, max(load_id) AS last_load_id
            FROM telemetry GROUP BY ALL
        )
        SELECT s.region, s.service, s.metric, s.first_ts, s.last_ts, s.rows,
               g.missing_hours, g.gaps, s.last_load_id, l.loaded_at AS last_loaded_at
        FROM spans s JOIN gaps g USING (region, service, metric)
        LEFT JOIN loads l ON l.load_id = s.last_load_id
        ORDER BY s.region, s.service, s.metric
        """
    ).df()
