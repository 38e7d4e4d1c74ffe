"""One calendar file read by the reader its extension names (CSV, YAML or iCalendar) into a
validated frame that still says where each event was read (``_read``)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd

from capacity import records as rec
from capacity.calendar.events import _finish
from capacity.calendar.ics import _ics_records
from capacity.calendar.tabular import _csv_records, _yaml_records
from capacity.calendar.times import _window, _zone
from capacity.errors import DataError

#: Extensions :func:`~capacity.calendar.read_calendar` understands.
SUPPORTED_EXTENSIONS = (".csv", ".yaml", ".yml", ".ics")


def _read(
    path: Path,
    *,
    tz: str | None,
    regions: Collection[str] | None,
    ics_window: tuple[pd.Timestamp, pd.Timestamp] | None,
) -> pd.DataFrame:
    """Read one file into a validated frame that still has the private ``_where`` column."""
    zone = _zone(tz)
    lower = path.name.lower()
    source = str(path)
    if lower.endswith(".csv"):
        records = _csv_records(rec.read_text(path), source=source)
    elif lower.endswith((".yaml", ".yml")):
        records = _yaml_records(rec.read_text(path), source=source)
    elif lower.endswith(".ics"):
        records = _ics_records(
            rec.read_bytes(path), source=source, zone=zone, window=_window(ics_window, zone)
        )
    else:
        suffix = "".join(path.suffixes) or "(none)"
        raise DataError(
            f"unsupported calendar file type {suffix!r}",
            source=source,
            fix=f"use one of {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    return _finish(records, source=source, source_name=path.name, zone=zone, known=regions)
