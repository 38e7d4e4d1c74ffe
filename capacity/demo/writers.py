"""Writing the demo's telemetry (zstd Parquet), calendar, deploy and incident logs (CSV).

Times are written as ISO 8601 with an explicit UTC offset, CSV lines end in ``\\n``, and
the Parquet layout is fixed, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from capacity import columns as C
from capacity.demo.events import Event
from capacity.demo.logs import Deploy, Incident
from capacity.demo.truth import METRICS, REGIONS, SERVICES


def _iso(ts: pd.Timestamp) -> str:
    """ISO 8601 with an explicit UTC offset, to the second."""
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S+00:00")


def write_telemetry(path: Path, ts: pd.DatetimeIndex, values: np.ndarray, keep: np.ndarray) -> None:
    """Write the long telemetry, sorted by (region, service, metric, ts), zstd Parquet."""
    r, s, m, n = values.shape
    grid = np.indices((r, s, m, n))
    flat = keep.ravel()
    micros = ts.as_unit("us").asi8
    names = [np.asarray(v, dtype=object) for v in (REGIONS, SERVICES, METRICS)]
    table = pa.table(
        {
            C.TS: pa.array(micros[grid[3].ravel()[flat]], type=pa.timestamp("us", tz="UTC")),
            C.REGION: pa.array(names[0][grid[0].ravel()[flat]], type=pa.string()),
            C.SERVICE: pa.array(names[1][grid[1].ravel()[flat]], type=pa.string()),
            C.METRIC: pa.array(names[2][grid[2].ravel()[flat]], type=pa.string()),
            C.VALUE: pa.array(values.ravel()[flat], type=pa.float64()),
        }
    )
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=9,
        row_group_size=n * m,
        use_dictionary=[C.REGION, C.SERVICE, C.METRIC, C.VALUE],
        column_encoding={C.TS: "DELTA_BINARY_PACKED"},
    )


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Write a CSV with ``\\n`` line ends."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_calendar(path: Path, events: list[Event]) -> None:
    """Write ``calendar.csv``; ids are ``EV-0001``... in start order."""
    rows = []
    for number, event in enumerate(events, start=1):
        regions = C.ALL_REGIONS if event.regions == REGIONS else ";".join(event.regions)
        uplift = "" if event.expected_uplift is None else f"{event.expected_uplift:g}"
        rows.append(
            (
                f"EV-{number:04d}",
                event.name,
                event.kind,
                _iso(event.start),
                _iso(event.end),
                regions,
                uplift,
                event.notes,
            )
        )
    _write_csv(
        path,
        ("event_id", "name", "kind", "start", "end", "regions", "expected_uplift", "notes"),
        rows,
    )


def write_deploys(path: Path, deploys: list[Deploy]) -> None:
    """Number the deploys in time order (``DEP-00001``...) and write ``deploys.csv``."""
    deploys.sort(key=lambda d: (d.at, d.region, d.service, d.change))
    for number, deploy in enumerate(deploys, start=1):
        deploy.deploy_id = f"DEP-{number:05d}"
    rows = [(d.deploy_id, d.region, d.service, _iso(d.at), d.change) for d in deploys]
    _write_csv(path, ("deploy_id", "region", "service", "deployed_at", "change"), rows)


def write_incidents(path: Path, incidents: list[Incident]) -> None:
    """Write ``incidents.csv`` in start order (``INC-0001``...)."""
    incidents = sorted(incidents, key=lambda i: (i.started, i.region, i.service))
    rows = [
        (
            f"INC-{number:04d}",
            i.region,
            i.service,
            i.severity,
            _iso(i.started),
            _iso(i.detected),
            _iso(i.resolved),
            i.cause,
            "" if i.deploy is None else i.deploy.deploy_id,
        )
        for number, i in enumerate(incidents, start=1)
    ]
    _write_csv(
        path,
        (
            "incident_id",
            "region",
            "service",
            "severity",
            "started_at",
            "detected_at",
            "resolved_at",
            "cause",
            "deploy_id",
        ),
        rows,
    )
