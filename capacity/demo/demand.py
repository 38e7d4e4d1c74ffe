"""Demand of the demo fleet: players per region and each service's ``ccu`` and ``rps``.

Players per region and hour = base level x yearly growth x daily cycle (local time) x
weekday factor x live-ops events x AR(1) log-noise; a service's ``ccu`` is a share of them
and its ``rps`` ``ccu`` times requests per player per second.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from capacity.demo.events import Event
from capacity.demo.truth import HOUR, REGIONS, SERVICES, TRUTH

_HOURS_PER_YEAR = 365.25 * 24


def _local_clock(ts: pd.DatetimeIndex, zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Local hour of day (float) and local weekday (Monday 0) of each UTC hour."""
    local = ts.tz_convert(zone)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    return hour.astype(float), local.day_of_week.to_numpy()


def _daily_cycle(hour: np.ndarray) -> np.ndarray:
    """The daily cycle at local ``hour``, scaled to mean 1 over a day."""
    knots = np.array(TRUTH.daily_profile, dtype=float)
    mean = np.interp(np.arange(24.0), knots[:, 0], knots[:, 1]).mean()
    return np.interp(hour, knots[:, 0], knots[:, 1]) / mean


def baseline(ts: pd.DatetimeIndex) -> np.ndarray:
    """Players per region before events and noise, shape (regions, hours)."""
    years = np.arange(len(ts)) / _HOURS_PER_YEAR
    rows = []
    for region in REGIONS:
        truth = TRUTH.regions[region]
        hour, weekday = _local_clock(ts, truth.timezone)
        growth = np.exp(np.log1p(truth.growth_per_year) * years)
        weekly = np.asarray(TRUTH.weekday_factor)[weekday]
        rows.append(truth.base_players * growth * _daily_cycle(hour) * weekly)
    return np.vstack(rows)


def _shape(event: Event, tau: np.ndarray, local_hour: np.ndarray) -> np.ndarray:
    """Share (0..1) of an event's full effect, ``tau`` hours after its start.

    Parameters
    ----------
    event : Event
        The event.
    tau : ndarray
        Hours since the event's start (negative during a season's pre-ramp).
    local_hour : ndarray
        Local hour of day in the region, for daytime-only effects.

    Returns
    -------
    ndarray
        The share of ``event.effect - 1`` felt at each hour.
    """
    length = (event.end - event.start) / HOUR
    if event.kind == "season":
        pre, level = TRUTH.season_pre_ramp_hours, TRUTH.season_pre_ramp_level
        rise, decay = TRUTH.season_rise_hours, TRUTH.season_decay_hours
        floor = math.exp(-(length - rise) / decay)
        fade = (np.exp(-(tau - rise) / decay) - floor) / (1.0 - floor)
        ramp = np.where(tau < 0, level * (tau + pre) / pre, level + (1 - level) * tau / rise)
        return np.clip(np.where(tau < rise, ramp, fade), 0.0, 1.0)
    if event.kind == "launch":
        up = np.clip(tau / 12.0, 0.0, 1.0)
        ease = 1.0 - 0.3 * np.clip(tau / (length - 24.0), 0.0, 1.0)
        down = np.clip((length - tau) / 24.0, 0.0, 1.0)
        return up * ease * down
    if event.kind == "patch":
        return np.clip(1.0 - tau / length, 0.0, 1.0)
    if event.kind == "marketing":
        return np.clip(np.minimum(tau + 1.0, length - tau) / 12.0, 0.0, 1.0)
    if event.kind == "esports":
        return np.clip(1.0 - (tau - length + 1.0) / (TRUTH.esports_tail_hours + 1.0), 0.0, 1.0)
    if event.kind == "holiday":
        return np.interp(local_hour, [0, 7, 10, 22, 24], [0.0, 0.0, 1.0, 1.0, 0.0])
    if event.kind == "maintenance":
        return np.ones_like(tau)
    return np.zeros_like(tau)


def event_window(event: Event, first: pd.Timestamp, n: int) -> slice:
    """Hour indices the event's effect covers, clipped to the telemetry."""
    lo = math.ceil((event.start - event.lead - first) / HOUR)
    hi = math.ceil((event.end + event.tail - first) / HOUR)
    return slice(min(max(lo, 0), n), min(max(hi, 0), n))


def event_multiplier(ts: pd.DatetimeIndex, events: list[Event]) -> np.ndarray:
    """Product of every event's demand multiplier, shape (regions, hours)."""
    n = len(ts)
    mult = np.ones((len(REGIONS), n))
    hours = {r: _local_clock(ts, TRUTH.regions[r].timezone)[0] for r in REGIONS}
    for event in events:
        window = event_window(event, ts[0], n)
        if window.start >= window.stop:
            continue
        tau = (np.arange(window.start, window.stop) - (event.start - ts[0]) / HOUR).astype(float)
        for region in event.regions:
            share = _shape(event, tau, hours[region][window])
            mult[REGIONS.index(region), window] *= 1.0 + (event.effect - 1.0) * share
    return mult


def ar1(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    """Stationary AR(1) log-noise, shape (rows, n)."""
    phi, sigma = TRUTH.noise_phi, TRUTH.noise_sigma
    shocks = rng.normal(0.0, sigma, size=(rows, n))
    out = np.empty((rows, n))
    out[:, 0] = shocks[:, 0] / math.sqrt(1.0 - phi**2)
    for t in range(1, n):
        out[:, t] = phi * out[:, t - 1] + shocks[:, t]
    return out


def service_demand(players: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``ccu`` (integers) and ``rps`` (0.1 steps) per region/service, shape (R, S, hours)."""
    shape = (len(REGIONS), len(SERVICES), players.shape[1])
    share = np.array([TRUTH.services[s].player_share for s in SERVICES])[None, :, None]
    per_player = np.array([TRUTH.services[s].requests_per_player for s in SERVICES])
    ccu = np.round(
        players[:, None, :] * share * np.exp(rng.normal(0.0, TRUTH.share_noise_sigma, shape))
    )
    rps = np.round(
        ccu * per_player[None, :, None] * np.exp(rng.normal(0.0, TRUTH.rps_noise_sigma, shape)), 1
    )
    return ccu, rps
