"""The demo fleet's deploy and incident logs.

Deploys: the weekly patch in every past maintenance window and hotfixes at random hours; a
few of them break something (an incident, a rollback, a raised ``error_rate``). Incidents:
those bad deploys, the outage (one sev1 per service), and every latency-SLO breach of the
telemetry that lasted two hours or hit 1.5 times the SLO.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from capacity.demo.events import Event
from capacity.demo.truth import HOUR, REGIONS, SERVICES, TRUTH

#: Hotfix descriptions per service.
_HOTFIXES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "game": (
            "hotfix: inventory desync on reconnect",
            "hotfix: memory leak in session handler",
            "hotfix: anti-cheat signature update",
        ),
        "matchmaking": (
            "hotfix: queue timeout raised",
            "hotfix: party invite race condition",
            "hotfix: skill rating cache invalidation",
        ),
        "chat": (
            "hotfix: moderation filter false positives",
            "hotfix: presence fan-out throttled",
            "hotfix: websocket keep-alive interval",
        ),
    }
)
_BAD_DEPLOY_CAUSES = (
    "bad deploy: new serializer rejected old clients",
    "bad deploy: misconfigured connection pool",
    "bad deploy: feature flag enabled an unfinished endpoint",
    "bad deploy: schema migration locked a hot table",
)


@dataclass
class Deploy:
    region: str
    service: str
    at: pd.Timestamp
    change: str
    deploy_id: str = ""


@dataclass
class Incident:
    region: str
    service: str
    severity: str
    started: pd.Timestamp
    detected: pd.Timestamp
    resolved: pd.Timestamp
    cause: str
    deploy: Deploy | None = None


def _minutes(rng: np.random.Generator, low: int, high: int) -> pd.Timedelta:
    """A random whole number of minutes in ``[low, high)``."""
    return pd.Timedelta(minutes=int(rng.integers(low, high)))


def draw_deploys(
    events: list[Event], first: pd.Timestamp, end: pd.Timestamp, rng: np.random.Generator
) -> list[Deploy]:
    """Weekly patches at every past maintenance window, plus hotfixes at random hours."""
    deploys = []
    for event in events:
        if event.kind != "maintenance" or not first <= event.start < end:
            continue
        week = event.start.isocalendar()
        for k, service in enumerate(SERVICES):
            deploys.append(
                Deploy(
                    event.regions[0],
                    service,
                    event.start + pd.Timedelta(minutes=20 + 5 * k),
                    f"weekly patch {week[0]}.{week[1]:02d}",
                )
            )
    hours = int((end - first) / HOUR)
    for _ in range(max(1, hours // (24 * 14))):
        at = first + pd.Timedelta(hours=int(rng.integers(24, max(hours - 24, 25))))
        region = REGIONS[int(rng.integers(len(REGIONS)))]
        service = SERVICES[int(rng.integers(len(SERVICES)))]
        fixes = _HOTFIXES[service]
        deploys.append(
            Deploy(region, service, at + _minutes(rng, 0, 60), fixes[int(rng.integers(len(fixes)))])
        )
    return deploys


def bad_deploys(
    deploys: list[Deploy], outage: Event | None, end: pd.Timestamp, rng: np.random.Generator
) -> list[Incident]:
    """Pick a few deploys that broke something; add their rollbacks to ``deploys``."""
    ordered = sorted(deploys, key=lambda d: (d.at, d.region, d.service))
    eligible = [
        d
        for d in ordered
        if d.at < end - pd.Timedelta(days=1)
        and (outage is None or abs(d.at - outage.start) > pd.Timedelta(days=1))
    ]
    count = min(len(eligible), max(2, len(eligible) // 120))
    incidents = []
    for index in sorted(rng.choice(len(eligible), size=count, replace=False)):
        deploy = eligible[int(index)]
        started = deploy.at + _minutes(rng, 10, 50)
        detected = started + _minutes(rng, 3, 20)
        resolved = detected + _minutes(rng, 40, 180)
        cause = _BAD_DEPLOY_CAUSES[int(rng.integers(len(_BAD_DEPLOY_CAUSES)))]
        severity = "sev3" if rng.random() < 0.5 else "sev4"
        incidents.append(
            Incident(
                deploy.region, deploy.service, severity, started, detected, resolved, cause, deploy
            )
        )
        deploys.append(
            Deploy(deploy.region, deploy.service, resolved - pd.Timedelta(minutes=5), "rollback")
        )
    return incidents


def apply_deploy_errors(
    errors: np.ndarray, incidents: list[Incident], first: pd.Timestamp, rng: np.random.Generator
) -> None:
    """Raise ``error_rate`` (in place) in the hours a bad deploy was live."""
    for incident in incidents:
        row = REGIONS.index(incident.region) * len(SERVICES) + SERVICES.index(incident.service)
        lo = int((incident.started - first) // HOUR)
        hi = math.ceil((incident.resolved - first) / HOUR)
        bump = 0.04 if incident.severity == "sev3" else 0.012
        errors[row, lo:hi] = np.round(
            np.clip(errors[row, lo:hi] + bump * np.exp(rng.normal(0.0, 0.2, hi - lo)), 0.0, 1.0), 6
        )


def outage_incidents(outage: Event | None, rng: np.random.Generator) -> list[Incident]:
    """The outage as one sev1 incident per service."""
    if outage is None:
        return []
    detected = outage.start + _minutes(rng, 2, 8)
    resolved = outage.end - _minutes(rng, 5, 15)
    return [
        Incident(
            outage.regions[0],
            service,
            "sev1",
            outage.start,
            detected,
            resolved,
            "regional outage: upstream network provider failure",
        )
        for service in SERVICES
    ]


def breach_incidents(
    latency: np.ndarray,
    keep: np.ndarray,
    ts: pd.DatetimeIndex,
    events: list[Event],
    rng: np.random.Generator,
) -> list[Incident]:
    """An incident for every latency-SLO breach that lasted 2 h or more, or hit 1.5x the SLO.

    Parameters
    ----------
    latency : ndarray
        p99 latency, shape (series, hours).
    keep : ndarray of bool
        Which rows exist in the telemetry, same shape.
    ts : DatetimeIndex
        The hours.
    events : list of Event
        The calendar, to name the event a breach happened under.
    rng : Generator
        For detection and resolution minutes.
    """
    slo = np.tile([TRUTH.services[s].slo_latency_p99_ms for s in SERVICES], len(REGIONS))
    busy = [e for e in events if e.kind in ("season", "launch", "esports", "marketing", "patch")]
    incidents = []
    for row in range(latency.shape[0]):
        region, service = divmod(row, len(SERVICES))
        breach = (latency[row] > slo[row]) & keep[row]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], breach.astype(int), [0]])))
        for lo, hi in zip(edges[::2], edges[1::2], strict=True):
            worst = float(latency[row, lo:hi].max())
            if hi - lo < 2 and worst < 1.5 * slo[row]:
                continue
            start = ts[lo] + _minutes(rng, 0, 30)
            detected = start + _minutes(rng, 2, 15)
            resolved = max(ts[hi - 1] + HOUR - _minutes(rng, 0, 20), detected)
            under = [
                e
                for e in busy
                if REGIONS[region] in e.regions and e.start - e.lead <= ts[lo] < e.end + e.tail
            ]
            why = (
                f"autoscaler lag behind the {max(under, key=lambda e: e.start).name} ramp"
                if under
                else "autoscaler lag behind a fast evening ramp"
            )
            severity = "sev2" if hi - lo >= 3 or worst >= 2 * slo[row] else "sev3"
            incidents.append(
                Incident(
                    REGIONS[region],
                    SERVICES[service],
                    severity,
                    start,
                    detected,
                    resolved,
                    f"p99 latency {worst:g} ms above the {slo[row]:g} ms SLO: {why}",
                )
            )
    return incidents
