"""Servers and their health in the demo fleet, and which telemetry rows go missing.

An autoscaler sets integer ``servers`` from the load it saw two hours earlier, aiming at
70 % of the safe load per server, scaling out at once and in slowly (not at all during
maintenance and outages). Utilisation ``u`` = load per server / saturation load gives
``latency_p99_ms`` = L0 + L1 * u / (1 - u) (with log-normal noise), ``cpu_util`` and
``error_rate``. The outage region loses its rows during the outage, and a few series lose
an hour or three at random.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.demo.demand import event_window
from capacity.demo.events import Event
from capacity.demo.truth import METRICS, REGIONS, SERVICES, TRUTH


def autoscale(load: np.ndarray, hold: np.ndarray) -> np.ndarray:
    """Servers the autoscaler runs, shape (series, hours).

    Parameters
    ----------
    load : ndarray
        Load per series and hour, shape (series, hours); series are (region, service) pairs
        in row-major order.
    hold : ndarray of bool
        Hours in which scale-in is paused (maintenance, outage), same shape.

    Returns
    -------
    ndarray
        Integer server counts as floats.
    """
    lag = TRUTH.autoscaler_lag_hours
    target = np.tile([TRUTH.autoscaler_target * TRUTH.safe_load(s) for s in SERVICES], len(REGIONS))
    floor = np.tile([float(TRUTH.services[s].min_servers) for s in SERVICES], len(REGIONS))
    desired = np.maximum(np.ceil(load / target[:, None]), floor[:, None])
    servers = np.empty_like(load)
    current = desired[:, 0]
    for t in range(load.shape[1]):
        want = desired[:, max(t - lag, 0)]
        step_in = np.maximum(np.floor(current * (1.0 - TRUTH.scale_in_per_hour)), want)
        current = np.where(want >= current, want, np.where(hold[:, t], current, step_in))
        servers[:, t] = current
    return servers


def _utilisation_curve(u: np.ndarray) -> np.ndarray:
    """``u / (1 - u)``, continued as its tangent line above the utilisation cap."""
    cap = TRUTH.utilisation_cap
    below = np.minimum(u, cap)
    return below / (1.0 - below) + np.maximum(u - cap, 0.0) / (1.0 - cap) ** 2


def health(
    load: np.ndarray, servers: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p99 latency (ms), cpu_util and error_rate per series and hour, rounded."""
    sat = np.tile([TRUTH.saturation_load(s) for s in SERVICES], len(REGIONS))[:, None]
    base = np.tile([TRUTH.services[s].latency_base_ms for s in SERVICES], len(REGIONS))
    scale = np.tile([TRUTH.services[s].latency_scale_ms for s in SERVICES], len(REGIONS))
    u = load / servers / sat
    noise = np.exp(rng.normal(0.0, TRUTH.latency_noise_sigma, u.shape))
    latency = (base[:, None] + scale[:, None] * _utilisation_curve(u)) * noise
    cpu = TRUTH.cpu_base + TRUTH.cpu_slope * u + rng.normal(0.0, TRUTH.cpu_noise_sigma, u.shape)
    errors = TRUTH.error_base * np.exp(rng.normal(0.0, 0.25, u.shape)) + TRUTH.error_scale * np.exp(
        (np.minimum(u, 1.1) - 1.0) / TRUTH.error_width
    )
    return (
        np.round(latency, 1),
        np.round(np.clip(cpu, 0.0, 1.0), 4),
        np.round(np.clip(errors, 0.0, 1.0), 6),
    )


def hold_mask(events: list[Event], ts: pd.DatetimeIndex) -> np.ndarray:
    """Hours (per series) in which scale-in pauses: maintenance and outages plus the lag."""
    n = len(ts)
    hold = np.zeros((len(REGIONS), n), dtype=bool)
    for event in events:
        if event.kind not in ("maintenance", "outage"):
            continue
        window = event_window(event, ts[0], n)
        stop = min(window.stop + TRUTH.autoscaler_lag_hours, n)
        for region in event.regions:
            hold[REGIONS.index(region), window.start : stop] = True
    return np.repeat(hold, len(SERVICES), axis=0)


def keep_mask(events: list[Event], ts: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Which rows exist, shape (regions, services, metrics, hours).

    The outage region loses every row during the outage; a handful of single series lose
    one to three hours at random (never in the first or last day).
    """
    n = len(ts)
    keep = np.ones((len(REGIONS), len(SERVICES), len(METRICS), n), dtype=bool)
    for event in events:
        if event.kind == "outage":
            keep[REGIONS.index(event.regions[0]), :, :, event_window(event, ts[0], n)] = False
    if n > 72:
        for _ in range(8):
            r, s, m = (int(rng.integers(k)) for k in keep.shape[:3])
            lo = int(rng.integers(24, n - 27))
            keep[r, s, m, lo : lo + int(rng.integers(1, 4))] = False
    return keep
