"""The entry points: :func:`generate_demo` runs the simulation and writes the files;
:func:`build_demo_store` loads them into a store.

The order of the draws from the one random generator is fixed here, so a seed gives the
same files whatever changes elsewhere, as long as each step draws what it did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capacity import columns as C
from capacity.demo.demand import ar1, baseline, event_multiplier, service_demand
from capacity.demo.events import calendar
from capacity.demo.fleet_yaml import fleet_yaml
from capacity.demo.logs import (
    apply_deploy_errors,
    bad_deploys,
    breach_incidents,
    draw_deploys,
    outage_incidents,
)
from capacity.demo.telemetry import autoscale, health, hold_mask, keep_mask
from capacity.demo.truth import METRICS, REGIONS, SERVICES, TRUTH
from capacity.demo.writers import (
    write_calendar,
    write_deploys,
    write_incidents,
    write_telemetry,
)
from capacity.errors import ParameterError
from capacity.units import as_utc

_CALENDAR_WEEKS_AHEAD = 8


#: The longest demo history: ten years. Far longer ran into centuries before time zones had
#: their rules (100,000 days failed in pandas on a nonexistent hour) and into memory.
MAX_DEMO_DAYS = 3650


def _span(days: int, end: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First hour and exclusive end of the telemetry, validated."""
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DEMO_DAYS:
        raise ParameterError(
            f"days must be a whole number from 1 to {MAX_DEMO_DAYS}; got {days!r}",
            where="generate_demo(days=...)",
        )
    try:
        stop = pd.Timestamp(end)
    except ValueError:
        raise ParameterError(
            f"end is not an ISO 8601 timestamp: {end!r}",
            where="generate_demo(end=...)",
            fix="pass e.g. '2026-11-23T00:00:00Z'",
        ) from None
    stop = as_utc(stop)
    if stop != stop.floor("h"):
        raise ParameterError(
            f"end must fall on a whole hour; got {end!r}", where="generate_demo(end=...)"
        )
    return stop - pd.Timedelta(days=days), stop


def generate_demo(
    out: str | Path, *, seed: int = 7, days: int = 420, end: str = "2026-11-23T00:00:00Z"
) -> dict[str, Path]:
    """Write the demo fleet files into `out` (created if missing); return {name: path}.

    Parameters
    ----------
    out : str or Path
        Folder to write into; created if missing, existing files overwritten.
    seed : int
        Seed of the only random generator used; the same seed gives byte-identical files.
    days : int
        Days of hourly telemetry.
    end : str
        Exclusive end of the telemetry (ISO 8601); its last hour is ``end - 1 h``.

    Returns
    -------
    dict of str to Path
        ``telemetry``, ``calendar``, ``fleet``, ``incidents`` and ``deploys``.

    Raises
    ------
    ParameterError
        When ``days`` is not a whole number from 1 to :data:`MAX_DEMO_DAYS`, ``end`` is not a
        whole UTC hour, or ``out`` cannot be created.
    """
    first, stop = _span(days, end)
    folder = Path(out)
    try:  # before the work: an unwritable folder ended the command in a traceback
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(
            f"cannot create the demo folder {folder}: {exc.strerror or exc}",
            fix="give --out a folder you may write (it is created if missing)",
        ) from None
    horizon = stop + pd.Timedelta(weeks=_CALENDAR_WEEKS_AHEAD)
    rng = np.random.default_rng(seed)
    ts = pd.date_range(first, stop, freq="h", inclusive="left")
    events = calendar(first, stop, horizon)
    outage = next((e for e in events if e.kind == "outage"), None)

    players = baseline(ts) * event_multiplier(ts, events) * np.exp(ar1(rng, len(REGIONS), len(ts)))
    ccu, rps = service_demand(players, rng)
    is_ccu = np.array([TRUTH.services[s].demand_metric == C.CCU for s in SERVICES])
    load = np.where(is_ccu[None, :, None], ccu, rps).reshape(-1, len(ts))
    servers = autoscale(load, hold_mask(events, ts))
    latency, cpu, errors = health(load, servers, rng)
    keep = keep_mask(events, ts, rng)

    deploys = draw_deploys(events, first, stop, rng)
    incidents = bad_deploys(deploys, outage, stop, rng)
    apply_deploy_errors(errors, incidents, first, rng)
    incidents += outage_incidents(outage, rng)
    latency_keep = keep[:, :, METRICS.index(C.LATENCY_P99_MS)].reshape(-1, len(ts))
    incidents += breach_incidents(latency, latency_keep, ts, events, rng)

    by_metric = {
        C.CCU: ccu.reshape(-1, len(ts)),
        C.RPS: rps.reshape(-1, len(ts)),
        C.SERVERS: servers,
        C.CPU_UTIL: cpu,
        C.LATENCY_P99_MS: latency,
        C.ERROR_RATE: errors,
    }
    values = np.stack([by_metric[m] for m in METRICS], axis=1)
    values = values.reshape(len(REGIONS), len(SERVICES), len(METRICS), len(ts))

    paths = {
        name: folder / file
        for name, file in (
            ("telemetry", "telemetry.parquet"),
            ("calendar", "calendar.csv"),
            ("fleet", "fleet.yaml"),
            ("incidents", "incidents.csv"),
            ("deploys", "deploys.csv"),
        )
    }
    write_telemetry(paths["telemetry"], ts, values, keep)
    write_calendar(paths["calendar"], events)
    write_deploys(paths["deploys"], deploys)
    write_incidents(paths["incidents"], incidents)
    # The fleet as provisioned: the most servers each region/service ran in the last week
    # (an autoscaled fleet's count at one hour says little about what it can run).
    week = min(7 * 24, servers.shape[1])
    current = {
        r: {s: int(servers[i * len(SERVICES) + j, -week:].max()) for j, s in enumerate(SERVICES)}
        for i, r in enumerate(REGIONS)
    }
    paths["fleet"].write_text(fleet_yaml(current), encoding="utf-8")
    return paths


def build_demo_store(db: str | Path, demo_dir: str | Path) -> Path:
    """Build a store from the demo fleet in ``demo_dir``, generating the fleet if missing.

    Loads the telemetry, the live-ops calendar and the deploy and incident logs, checking
    names against the demo's ``fleet.yaml``. The store is written under a temporary name and
    renamed into place, so an interrupted build never leaves a half-built store at ``db``.

    Parameters
    ----------
    db : str or Path
        The store file to create; it must not exist yet.
    demo_dir : str or Path
        A folder written by :func:`generate_demo` (created with the defaults when missing).

    Returns
    -------
    Path
        ``db``.
    """
    from capacity.config import load_fleet
    from capacity.store import Store

    db, demo_dir = Path(db), Path(demo_dir)
    if not (demo_dir / "telemetry.parquet").is_file():
        generate_demo(demo_dir)
    fleet = load_fleet(demo_dir / "fleet.yaml")
    db.parent.mkdir(parents=True, exist_ok=True)
    partial = db.with_name(f".{db.name}.building")
    partial.unlink(missing_ok=True)
    try:
        with Store(partial) as store:
            store.ingest([demo_dir / "telemetry.parquet"], fleet=fleet)
            store.import_events([demo_dir / "calendar.csv"], fleet=fleet)
            store.import_deploys([demo_dir / "deploys.csv"], fleet=fleet)
            store.import_incidents([demo_dir / "incidents.csv"], fleet=fleet)
        partial.rename(db)
    finally:
        partial.unlink(missing_ok=True)
        partial.with_name(partial.name + ".wal").unlink(missing_ok=True)
    return db
