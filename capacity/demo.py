"""The bundled LifeVerse demo fleet: a deterministic, physically plausible generator.

:func:`generate_demo` writes five files that together look like the inputs of a real
capacity review: hourly telemetry (Parquet, long format), the live-ops calendar, the fleet
configuration, an incident log and a deploy log. Every number comes from a small simulation
whose true parameters are published as :data:`TRUTH`, so tests can check that what the package
learns (the safe load per server above all) recovers what the generator put in.

The simulation, per hour:

1. players per region = base level x yearly growth x daily cycle (local time) x weekday
   factor x live-ops events x AR(1) log-noise;
2. per service, ``ccu`` = a share of the region's players and ``rps`` = ``ccu`` x requests
   per player per second; the service's load is its demand metric (game: ``ccu``,
   matchmaking and chat: ``rps``);
3. an autoscaler sets integer ``servers`` from the load it saw two hours earlier, aiming at
   70 % of the safe load per server, scaling out at once and in slowly;
4. utilisation ``u`` = load per server / saturation load, and from it
   ``latency_p99_ms`` = L0 + L1 * u / (1 - u) (with log-normal noise), ``cpu_util`` and
   ``error_rate``.

Because the autoscaler lags, fast ramps (season launches, esports finals) push the load per
server past the safe load and the latency SLO is breached for a few hours; that is what lets a
learner see the whole latency curve.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from capacity import columns as C
from capacity.errors import ParameterError
from capacity.units import as_utc

__all__ = ["TRUTH", "RegionTruth", "ServiceTruth", "Truth", "build_demo_store", "generate_demo"]

_HOUR = pd.Timedelta(hours=1)
_HOURS_PER_YEAR = 365.25 * 24
_CALENDAR_WEEKS_AHEAD = 8


# --------------------------------------------------------------------------------------------
# The true parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionTruth:
    """True demand parameters of one region.

    Attributes
    ----------
    timezone : str
        IANA zone of the region's players; the daily and weekly cycles run in it.
    country : str
        ISO country whose public holidays lift demand.
    base_players : float
        Mean concurrent players at the first telemetry hour, before events and noise.
    growth_per_year : float
        Yearly growth of the player base (0.25 means +25 % a year), compounded hourly.
    """

    timezone: str
    country: str
    base_players: float
    growth_per_year: float


@dataclass(frozen=True)
class ServiceTruth:
    """True load, latency and scaling parameters of one service.

    Attributes
    ----------
    demand_metric : str
        The metric that is the service's load: ``ccu`` or ``rps``.
    player_share : float
        Share of the region's players counted as the service's ``ccu``.
    requests_per_player : float
        Requests per second per ``ccu`` on the service.
    saturation_load : float
        Load per server at utilisation 1.
    latency_base_ms, latency_scale_ms : float
        L0 and L1 of ``p99 = L0 + L1 * u / (1 - u)``.
    slo_latency_p99_ms : float
        The p99 latency SLO.
    slo_availability : float
        The availability SLO written to ``fleet.yaml``.
    min_servers : int
        The autoscaler never goes below this.
    """

    demand_metric: str
    player_share: float
    requests_per_player: float
    saturation_load: float
    latency_base_ms: float
    latency_scale_ms: float
    slo_latency_p99_ms: float
    slo_availability: float
    min_servers: int

    @property
    def safe_utilisation(self) -> float:
        """Utilisation at which the noise-free p99 equals the SLO: ``r / (1 + r)``."""
        ratio = (self.slo_latency_p99_ms - self.latency_base_ms) / self.latency_scale_ms
        return ratio / (1.0 + ratio)

    @property
    def safe_load(self) -> float:
        """Load per server at which the noise-free (median) p99 equals the SLO."""
        return self.saturation_load * self.safe_utilisation


@dataclass(frozen=True)
class Truth:
    """Every true parameter of the demo generator (see :data:`TRUTH`).

    Attributes
    ----------
    regions, services : Mapping
        Per-region :class:`RegionTruth` and per-service :class:`ServiceTruth`.
    daily_profile : tuple of (float, float)
        Knots (local hour, relative level) of the daily cycle, linearly interpolated and then
        scaled to mean 1 over a day.
    weekday_factor : tuple of float
        Demand multiplier by local weekday, Monday first.
    noise_phi, noise_sigma : float
        AR(1) coefficient and innovation standard deviation of the hourly log-noise of players.
    share_noise_sigma, rps_noise_sigma : float
        Log-normal noise of a service's ``ccu`` around its share and of ``rps`` per player.
    latency_noise_sigma : float
        Log-normal sigma of p99 latency around the curve (the median sits on the curve).
    utilisation_cap : float
        Above this utilisation the latency curve continues as a straight tangent line.
    cpu_base, cpu_slope, cpu_noise_sigma : float
        ``cpu_util = clip(cpu_base + cpu_slope * u + noise, 0, 1)``.
    error_base, error_scale, error_width : float
        ``error_rate = error_base * lognormal + error_scale * exp((u - 1) / error_width)``.
    autoscaler_target : float
        Load per server the autoscaler aims at, as a fraction of the safe load.
    autoscaler_lag_hours : int
        The autoscaler acts on the load it saw this many hours earlier.
    scale_in_per_hour : float
        Largest fraction of servers removed in one hour (at least one server).
    maintenance_level : float
        Demand multiplier during a maintenance window; scale-in pauses then.
    season_pre_ramp_hours, season_pre_ramp_level : float
        A season's effect starts this long before launch and reaches this share of its peak
        at launch.
    season_rise_hours, season_decay_hours, season_days : float
        Hours from launch to peak, e-folding time of the decay, and the effect's length.
    season_interval_days : int
        Days between season launches.
    holiday_big, holiday_small : float
        Daytime demand multiplier on major and on other public holidays.
    patch_uplift, esports_uplift, esports_tail_hours : float
        Content-patch and esports-finals multipliers; esports fade over the tail after the end.
    outage_region : str
        The region of the one unplanned outage.
    outage_hours : int
        Its length; the region's telemetry is absent for these hours.
    """

    regions: Mapping[str, RegionTruth]
    services: Mapping[str, ServiceTruth]
    daily_profile: tuple[tuple[float, float], ...]
    weekday_factor: tuple[float, ...]
    noise_phi: float
    noise_sigma: float
    share_noise_sigma: float
    rps_noise_sigma: float
    latency_noise_sigma: float
    utilisation_cap: float
    cpu_base: float
    cpu_slope: float
    cpu_noise_sigma: float
    error_base: float
    error_scale: float
    error_width: float
    autoscaler_target: float
    autoscaler_lag_hours: int
    scale_in_per_hour: float
    maintenance_level: float
    season_pre_ramp_hours: float
    season_pre_ramp_level: float
    season_rise_hours: float
    season_decay_hours: float
    season_days: float
    season_interval_days: int
    holiday_big: float
    holiday_small: float
    patch_uplift: float
    esports_uplift: float
    esports_tail_hours: float
    outage_region: str
    outage_hours: int

    def safe_load(self, service: str) -> float:
        """True safe load per server of ``service`` (p99 == SLO)."""
        return self.services[service].safe_load

    def saturation_load(self, service: str) -> float:
        """True saturation load per server of ``service`` (utilisation 1)."""
        return self.services[service].saturation_load


#: The true parameters of the LifeVerse demo fleet. Read-only.
TRUTH = Truth(
    regions=MappingProxyType(
        {
            "eu-west": RegionTruth("Europe/Berlin", "DE", 90_000.0, 0.25),
            "na-east": RegionTruth("America/New_York", "US", 110_000.0, 0.22),
            "ap-southeast": RegionTruth("Asia/Singapore", "SG", 60_000.0, 0.30),
            "sa-east": RegionTruth("America/Sao_Paulo", "BR", 38_000.0, 0.28),
        }
    ),
    services=MappingProxyType(
        {
            "game": ServiceTruth(C.CCU, 0.80, 0.60, 500.0, 38.0, 16.0, 100.0, 0.999, 4),
            "matchmaking": ServiceTruth(C.RPS, 0.12, 2.50, 1500.0, 70.0, 42.0, 250.0, 0.999, 3),
            "chat": ServiceTruth(C.RPS, 0.65, 0.45, 4000.0, 22.0, 7.5, 50.0, 0.995, 3),
        }
    ),
    daily_profile=(
        (0, 0.95),
        (2, 0.66),
        (4, 0.46),
        (5, 0.42),
        (6, 0.44),
        (8, 0.55),
        (10, 0.68),
        (12, 0.80),
        (14, 0.88),
        (16, 0.98),
        (17, 1.06),
        (18, 1.24),
        (19, 1.41),
        (20, 1.50),
        (21, 1.52),
        (22, 1.38),
        (23, 1.17),
        (24, 0.95),
    ),
    weekday_factor=(0.95, 0.94, 0.95, 0.97, 1.04, 1.15, 1.12),
    noise_phi=0.9,
    noise_sigma=0.03,
    share_noise_sigma=0.01,
    rps_noise_sigma=0.02,
    latency_noise_sigma=0.05,
    utilisation_cap=0.98,
    cpu_base=0.06,
    cpu_slope=0.85,
    cpu_noise_sigma=0.015,
    error_base=0.0004,
    error_scale=0.05,
    error_width=0.04,
    autoscaler_target=0.70,
    autoscaler_lag_hours=2,
    scale_in_per_hour=0.05,
    maintenance_level=0.15,
    season_pre_ramp_hours=24.0,
    season_pre_ramp_level=0.15,
    season_rise_hours=4.0,
    season_decay_hours=72.0,
    season_days=10.0,
    season_interval_days=70,
    holiday_big=1.25,
    holiday_small=1.12,
    patch_uplift=1.10,
    esports_uplift=1.35,
    esports_tail_hours=2.0,
    outage_region="sa-east",
    outage_hours=6,
)

# Sorted, so the long telemetry comes out sorted by (region, service, metric, ts).
_REGIONS = tuple(sorted(TRUTH.regions))
_SERVICES = tuple(sorted(TRUTH.services))
_METRICS = tuple(sorted(C.METRICS))

#: Season peaks, cycled by season number.
_SEASON_PEAKS = (1.65, 1.55, 1.80, 1.60, 1.70, 1.50, 1.75)
_SEASON_TITLES = (
    "Ember Rising",
    "Tidebreak",
    "Skyforge",
    "Hollow Moon",
    "Iron Bloom",
    "Starfall",
    "Verdant Reach",
)
#: Marketing pushes: (region, uplift), cycled by season number.
_MARKETING = (
    ("sa-east", 1.25),
    ("ap-southeast", 1.30),
    ("eu-west", 1.20),
    ("na-east", 1.22),
)
_HOLIDAY_BIG = (
    "Christmas Day",
    "New Year's Day",
    "Chinese New Year",
    "Thanksgiving Day",
    "Universal Fraternization Day",
)

#: Public holidays per country, hard-coded (not the `holidays` package) so output never
#: changes with a package update. National holidays, 2025 to March 2027.
_HOLIDAYS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "DE": (
            ("2025-01-01", "New Year's Day"),
            ("2025-04-18", "Good Friday"),
            ("2025-04-21", "Easter Monday"),
            ("2025-05-01", "Labour Day"),
            ("2025-05-29", "Ascension Day"),
            ("2025-06-09", "Whit Monday"),
            ("2025-10-03", "German Unity Day"),
            ("2025-12-25", "Christmas Day"),
            ("2025-12-26", "Second Day of Christmas"),
            ("2026-01-01", "New Year's Day"),
            ("2026-04-03", "Good Friday"),
            ("2026-04-06", "Easter Monday"),
            ("2026-05-01", "Labour Day"),
            ("2026-05-14", "Ascension Day"),
            ("2026-05-25", "Whit Monday"),
            ("2026-10-03", "German Unity Day"),
            ("2026-12-25", "Christmas Day"),
            ("2026-12-26", "Second Day of Christmas"),
            ("2027-01-01", "New Year's Day"),
            ("2027-03-26", "Good Friday"),
            ("2027-03-29", "Easter Monday"),
        ),
        "US": (
            ("2025-01-01", "New Year's Day"),
            ("2025-01-20", "Martin Luther King Jr. Day"),
            ("2025-02-17", "Washington's Birthday"),
            ("2025-05-26", "Memorial Day"),
            ("2025-06-19", "Juneteenth"),
            ("2025-07-04", "Independence Day"),
            ("2025-09-01", "Labor Day"),
            ("2025-10-13", "Columbus Day"),
            ("2025-11-11", "Veterans Day"),
            ("2025-11-27", "Thanksgiving Day"),
            ("2025-12-25", "Christmas Day"),
            ("2026-01-01", "New Year's Day"),
            ("2026-01-19", "Martin Luther King Jr. Day"),
            ("2026-02-16", "Washington's Birthday"),
            ("2026-05-25", "Memorial Day"),
            ("2026-06-19", "Juneteenth"),
            ("2026-07-04", "Independence Day"),
            ("2026-09-07", "Labor Day"),
            ("2026-10-12", "Columbus Day"),
            ("2026-11-11", "Veterans Day"),
            ("2026-11-26", "Thanksgiving Day"),
            ("2026-12-25", "Christmas Day"),
            ("2027-01-01", "New Year's Day"),
            ("2027-01-18", "Martin Luther King Jr. Day"),
            ("2027-02-15", "Washington's Birthday"),
        ),
        "SG": (
            ("2025-01-01", "New Year's Day"),
            ("2025-01-29", "Chinese New Year"),
            ("2025-01-30", "Chinese New Year"),
            ("2025-03-31", "Hari Raya Puasa"),
            ("2025-04-18", "Good Friday"),
            ("2025-05-01", "Labour Day"),
            ("2025-05-12", "Vesak Day"),
            ("2025-06-07", "Hari Raya Haji"),
            ("2025-08-09", "National Day"),
            ("2025-10-20", "Deepavali"),
            ("2025-12-25", "Christmas Day"),
            ("2026-01-01", "New Year's Day"),
            ("2026-02-17", "Chinese New Year"),
            ("2026-02-18", "Chinese New Year"),
            ("2026-03-21", "Hari Raya Puasa"),
            ("2026-04-03", "Good Friday"),
            ("2026-05-01", "Labour Day"),
            ("2026-05-27", "Hari Raya Haji"),
            ("2026-05-31", "Vesak Day"),
            ("2026-08-09", "National Day"),
            ("2026-11-08", "Deepavali"),
            ("2026-12-25", "Christmas Day"),
            ("2027-01-01", "New Year's Day"),
            ("2027-02-06", "Chinese New Year"),
            ("2027-02-07", "Chinese New Year"),
            ("2027-03-10", "Hari Raya Puasa"),
            ("2027-03-26", "Good Friday"),
        ),
        "BR": (
            ("2025-01-01", "Universal Fraternization Day"),
            ("2025-04-18", "Good Friday"),
            ("2025-04-21", "Tiradentes"),
            ("2025-05-01", "Labour Day"),
            ("2025-09-07", "Independence Day"),
            ("2025-10-12", "Our Lady of Aparecida"),
            ("2025-11-02", "All Souls' Day"),
            ("2025-11-15", "Proclamation of the Republic"),
            ("2025-11-20", "Black Awareness Day"),
            ("2025-12-25", "Christmas Day"),
            ("2026-01-01", "Universal Fraternization Day"),
            ("2026-04-03", "Good Friday"),
            ("2026-04-21", "Tiradentes"),
            ("2026-05-01", "Labour Day"),
            ("2026-09-07", "Independence Day"),
            ("2026-10-12", "Our Lady of Aparecida"),
            ("2026-11-02", "All Souls' Day"),
            ("2026-11-15", "Proclamation of the Republic"),
            ("2026-11-20", "Black Awareness Day"),
            ("2026-12-25", "Christmas Day"),
            ("2027-01-01", "Universal Fraternization Day"),
            ("2027-03-26", "Good Friday"),
        ),
    }
)

#: Server types: service -> (name, safe_load_hint, cost_per_hour, boot minutes, procurement days).
_SERVER_TYPES = MappingProxyType(
    {
        "game": ("game-c6i-2xlarge", 340, 0.34, 6, 21),
        "matchmaking": ("mm-c6i-xlarge", 1030, 0.17, 3, 14),
        "chat": ("chat-c6g-large", 2700, 0.068, 2, 14),
    }
)
#: Where a lost region's players go.
_FAILOVER = MappingProxyType(
    {
        "eu-west": (("na-east", 0.60), ("ap-southeast", 0.25), ("sa-east", 0.15)),
        "na-east": (("eu-west", 0.50), ("sa-east", 0.35), ("ap-southeast", 0.15)),
        "ap-southeast": (("na-east", 0.45), ("eu-west", 0.35), ("sa-east", 0.20)),
        "sa-east": (("na-east", 0.75), ("eu-west", 0.20), ("ap-southeast", 0.05)),
    }
)
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


# --------------------------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    """One live-ops event: what the calendar lists and what the telemetry feels."""

    name: str
    kind: str
    start: pd.Timestamp
    end: pd.Timestamp
    regions: tuple[str, ...]
    effect: float
    expected_uplift: float | None
    notes: str

    @property
    def lead(self) -> pd.Timedelta:
        """How long before ``start`` the effect begins."""
        if self.kind == "season":
            return pd.Timedelta(hours=TRUTH.season_pre_ramp_hours)
        return pd.Timedelta(0)

    @property
    def tail(self) -> pd.Timedelta:
        """How long after ``end`` the effect lasts."""
        if self.kind == "esports":
            return pd.Timedelta(hours=TRUTH.esports_tail_hours)
        return pd.Timedelta(0)


def _utc(text: str) -> pd.Timestamp:
    """Parse a local-date string at midnight in UTC."""
    return pd.Timestamp(text, tz="UTC")


def _next_weekday(day: pd.Timestamp, weekday: int) -> pd.Timestamp:
    """The first day on or after ``day`` (normalised) that falls on ``weekday`` (Monday 0)."""
    day = day.normalize()
    return day + pd.Timedelta(days=(weekday - day.day_of_week) % 7)


def _season_events(end: pd.Timestamp) -> list[_Event]:
    """Season launches every 70 days, each followed by a patch, marketing and esports finals.

    The launches are anchored six weeks after ``end`` so the calendar always has one coming.
    """
    anchor = _next_weekday(end + pd.Timedelta(days=42), 3) + pd.Timedelta(hours=15)
    events: list[_Event] = []
    for back in range(12):
        number = 14 - back
        launch = anchor - pd.Timedelta(days=TRUTH.season_interval_days * back)
        peak = _SEASON_PEAKS[number % len(_SEASON_PEAKS)]
        title = _SEASON_TITLES[number % len(_SEASON_TITLES)]
        region, push = _MARKETING[number % len(_MARKETING)]
        events += [
            _Event(
                f"Season {number}: {title}",
                "season",
                launch,
                launch + pd.Timedelta(days=TRUTH.season_days),
                _REGIONS,
                peak,
                peak,
                f"pre-load ramp from {TRUTH.season_pre_ramp_hours:g} h before launch; "
                f"peak {TRUTH.season_rise_hours:g} h after launch, then decays to normal "
                "by the end",
            ),
            _Event(
                f"Season {number} mid-season content patch",
                "patch",
                launch + pd.Timedelta(days=21, hours=-6),
                launch + pd.Timedelta(days=23, hours=-6),
                _REGIONS,
                TRUTH.patch_uplift,
                TRUTH.patch_uplift,
                "new maps and balance changes; uplift fades over 2 days",
            ),
            _Event(
                f"Season {number} marketing push ({region})",
                "marketing",
                launch + pd.Timedelta(days=35, hours=-3),
                launch + pd.Timedelta(days=40, hours=-3),
                (region,),
                push,
                push,
                "influencer campaign and store discount in one region",
            ),
            _Event(
                f"Season {number} Champions Finals",
                "esports",
                launch + pd.Timedelta(days=51, hours=2),
                launch + pd.Timedelta(days=51, hours=6),
                _REGIONS,
                TRUTH.esports_uplift,
                TRUTH.esports_uplift,
                "global broadcast with in-game drops; demand jumps "
                "at start and fades over 2 h after the end",
            ),
        ]
    return events


def _winter_festivals(end: pd.Timestamp) -> list[_Event]:
    """The yearly Winter Festival in eu-west and na-east, 18 Dec to 4 Jan."""
    events = []
    for year in range(end.year - 3, end.year + 2):
        start = pd.Timestamp(f"{year}-12-18T08:00", tz="UTC")
        uplift = 1.6 if start >= end else 1.5
        events.append(
            _Event(
                f"Winter Festival {year}",
                "launch",
                start,
                pd.Timestamp(f"{year + 1}-01-04T08:00", tz="UTC"),
                ("eu-west", "na-east"),
                uplift,
                uplift,
                "limited-time festival mode; ramps up over 12 h, eases to 70 % "
                "of the peak uplift and ends over the last day",
            )
        )
    return events


def _maintenance_events(first: pd.Timestamp, last: pd.Timestamp) -> list[_Event]:
    """Weekly patch maintenance: every Tuesday 06:00-08:00 local time in each region."""
    events = []
    for region in _REGIONS:
        zone = TRUTH.regions[region].timezone
        day = _next_weekday(first.tz_convert(zone).tz_localize(None) - pd.Timedelta(days=1), 1)
        while day.tz_localize(zone) < last:
            start = (day + pd.Timedelta(hours=6)).tz_localize(zone).tz_convert("UTC")
            events.append(
                _Event(
                    f"Weekly patch maintenance {region}",
                    "maintenance",
                    start,
                    start + pd.Timedelta(hours=2),
                    (region,),
                    TRUTH.maintenance_level,
                    None,
                    "servers drained for the weekly patch; logins paused",
                )
            )
            day += pd.Timedelta(days=7)
    return events


def _holiday_events() -> list[_Event]:
    """Public holidays of each region's country, one local day each."""
    events = []
    for region in _REGIONS:
        truth = TRUTH.regions[region]
        for day, name in _HOLIDAYS[truth.country]:
            start = pd.Timestamp(day).tz_localize(truth.timezone)
            effect = TRUTH.holiday_big if name in _HOLIDAY_BIG else TRUTH.holiday_small
            events.append(
                _Event(
                    f"{name} ({truth.country})",
                    "holiday",
                    start.tz_convert("UTC"),
                    (start + pd.Timedelta(days=1)).tz_convert("UTC"),
                    (region,),
                    effect,
                    None,
                    "public holiday; more daytime play",
                )
            )
    return events


def _outage_event(end: pd.Timestamp) -> _Event:
    """The one unplanned regional outage, nine days before ``end``."""
    start = (end - pd.Timedelta(days=9)).normalize() + pd.Timedelta(hours=17)
    return _Event(
        f"Unplanned outage {TRUTH.outage_region}",
        "outage",
        start,
        start + pd.Timedelta(hours=TRUTH.outage_hours),
        (TRUTH.outage_region,),
        1.0,
        None,
        "unplanned: upstream network provider failure; no telemetry",
    )


def _calendar(first: pd.Timestamp, end: pd.Timestamp, horizon: pd.Timestamp) -> list[_Event]:
    """Every event whose effect overlaps ``[first, horizon)``, sorted by start.

    The outage is listed only when it lies wholly inside the telemetry span.
    """
    events = (
        _season_events(end)
        + _winter_festivals(end)
        + _maintenance_events(first, horizon)
        + _holiday_events()
    )
    kept = [e for e in events if e.start - e.lead < horizon and e.end + e.tail > first]
    outage = _outage_event(end)
    if outage.start >= first:
        kept.append(outage)
    return sorted(kept, key=lambda e: (e.start, e.kind, e.regions, e.name))


# --------------------------------------------------------------------------------------------
# Demand
# --------------------------------------------------------------------------------------------


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


def _baseline(ts: pd.DatetimeIndex) -> np.ndarray:
    """Players per region before events and noise, shape (regions, hours)."""
    years = np.arange(len(ts)) / _HOURS_PER_YEAR
    rows = []
    for region in _REGIONS:
        truth = TRUTH.regions[region]
        hour, weekday = _local_clock(ts, truth.timezone)
        growth = np.exp(np.log1p(truth.growth_per_year) * years)
        weekly = np.asarray(TRUTH.weekday_factor)[weekday]
        rows.append(truth.base_players * growth * _daily_cycle(hour) * weekly)
    return np.vstack(rows)


def _shape(event: _Event, tau: np.ndarray, local_hour: np.ndarray) -> np.ndarray:
    """Share (0..1) of an event's full effect, ``tau`` hours after its start.

    Parameters
    ----------
    event : _Event
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
    length = (event.end - event.start) / _HOUR
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


def _event_window(event: _Event, first: pd.Timestamp, n: int) -> slice:
    """Hour indices the event's effect covers, clipped to the telemetry."""
    lo = math.ceil((event.start - event.lead - first) / _HOUR)
    hi = math.ceil((event.end + event.tail - first) / _HOUR)
    return slice(min(max(lo, 0), n), min(max(hi, 0), n))


def _event_multiplier(ts: pd.DatetimeIndex, events: list[_Event]) -> np.ndarray:
    """Product of every event's demand multiplier, shape (regions, hours)."""
    n = len(ts)
    mult = np.ones((len(_REGIONS), n))
    hours = {r: _local_clock(ts, TRUTH.regions[r].timezone)[0] for r in _REGIONS}
    for event in events:
        window = _event_window(event, ts[0], n)
        if window.start >= window.stop:
            continue
        tau = (np.arange(window.start, window.stop) - (event.start - ts[0]) / _HOUR).astype(float)
        for region in event.regions:
            share = _shape(event, tau, hours[region][window])
            mult[_REGIONS.index(region), window] *= 1.0 + (event.effect - 1.0) * share
    return mult


def _ar1(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    """Stationary AR(1) log-noise, shape (rows, n)."""
    phi, sigma = TRUTH.noise_phi, TRUTH.noise_sigma
    shocks = rng.normal(0.0, sigma, size=(rows, n))
    out = np.empty((rows, n))
    out[:, 0] = shocks[:, 0] / math.sqrt(1.0 - phi**2)
    for t in range(1, n):
        out[:, t] = phi * out[:, t - 1] + shocks[:, t]
    return out


def _service_demand(players: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``ccu`` (integers) and ``rps`` (0.1 steps) per region/service, shape (R, S, hours)."""
    shape = (len(_REGIONS), len(_SERVICES), players.shape[1])
    share = np.array([TRUTH.services[s].player_share for s in _SERVICES])[None, :, None]
    per_player = np.array([TRUTH.services[s].requests_per_player for s in _SERVICES])
    ccu = np.round(
        players[:, None, :] * share * np.exp(rng.normal(0.0, TRUTH.share_noise_sigma, shape))
    )
    rps = np.round(
        ccu * per_player[None, :, None] * np.exp(rng.normal(0.0, TRUTH.rps_noise_sigma, shape)), 1
    )
    return ccu, rps


# --------------------------------------------------------------------------------------------
# Servers and their health
# --------------------------------------------------------------------------------------------


def _autoscale(load: np.ndarray, hold: np.ndarray) -> np.ndarray:
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
    target = np.tile(
        [TRUTH.autoscaler_target * TRUTH.safe_load(s) for s in _SERVICES], len(_REGIONS)
    )
    floor = np.tile([float(TRUTH.services[s].min_servers) for s in _SERVICES], len(_REGIONS))
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


def _health(
    load: np.ndarray, servers: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p99 latency (ms), cpu_util and error_rate per series and hour, rounded."""
    sat = np.tile([TRUTH.saturation_load(s) for s in _SERVICES], len(_REGIONS))[:, None]
    base = np.tile([TRUTH.services[s].latency_base_ms for s in _SERVICES], len(_REGIONS))
    scale = np.tile([TRUTH.services[s].latency_scale_ms for s in _SERVICES], len(_REGIONS))
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


def _hold_mask(events: list[_Event], ts: pd.DatetimeIndex) -> np.ndarray:
    """Hours (per series) in which scale-in pauses: maintenance and outages plus the lag."""
    n = len(ts)
    hold = np.zeros((len(_REGIONS), n), dtype=bool)
    for event in events:
        if event.kind not in ("maintenance", "outage"):
            continue
        window = _event_window(event, ts[0], n)
        stop = min(window.stop + TRUTH.autoscaler_lag_hours, n)
        for region in event.regions:
            hold[_REGIONS.index(region), window.start : stop] = True
    return np.repeat(hold, len(_SERVICES), axis=0)


# --------------------------------------------------------------------------------------------
# Deploys and incidents
# --------------------------------------------------------------------------------------------


@dataclass
class _Deploy:
    region: str
    service: str
    at: pd.Timestamp
    change: str
    deploy_id: str = ""


@dataclass
class _Incident:
    region: str
    service: str
    severity: str
    started: pd.Timestamp
    detected: pd.Timestamp
    resolved: pd.Timestamp
    cause: str
    deploy: _Deploy | None = None


def _minutes(rng: np.random.Generator, low: int, high: int) -> pd.Timedelta:
    """A random whole number of minutes in ``[low, high)``."""
    return pd.Timedelta(minutes=int(rng.integers(low, high)))


def _deploys(
    events: list[_Event], first: pd.Timestamp, end: pd.Timestamp, rng: np.random.Generator
) -> list[_Deploy]:
    """Weekly patches at every past maintenance window, plus hotfixes at random hours."""
    deploys = []
    for event in events:
        if event.kind != "maintenance" or not first <= event.start < end:
            continue
        week = event.start.isocalendar()
        for k, service in enumerate(_SERVICES):
            deploys.append(
                _Deploy(
                    event.regions[0],
                    service,
                    event.start + pd.Timedelta(minutes=20 + 5 * k),
                    f"weekly patch {week[0]}.{week[1]:02d}",
                )
            )
    hours = int((end - first) / _HOUR)
    for _ in range(max(1, hours // (24 * 14))):
        at = first + pd.Timedelta(hours=int(rng.integers(24, max(hours - 24, 25))))
        region = _REGIONS[int(rng.integers(len(_REGIONS)))]
        service = _SERVICES[int(rng.integers(len(_SERVICES)))]
        fixes = _HOTFIXES[service]
        deploys.append(
            _Deploy(
                region, service, at + _minutes(rng, 0, 60), fixes[int(rng.integers(len(fixes)))]
            )
        )
    return deploys


def _bad_deploys(
    deploys: list[_Deploy], outage: _Event | None, end: pd.Timestamp, rng: np.random.Generator
) -> list[_Incident]:
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
            _Incident(
                deploy.region, deploy.service, severity, started, detected, resolved, cause, deploy
            )
        )
        deploys.append(
            _Deploy(deploy.region, deploy.service, resolved - pd.Timedelta(minutes=5), "rollback")
        )
    return incidents


def _apply_deploy_errors(
    errors: np.ndarray, incidents: list[_Incident], first: pd.Timestamp, rng: np.random.Generator
) -> None:
    """Raise ``error_rate`` (in place) in the hours a bad deploy was live."""
    for incident in incidents:
        row = _REGIONS.index(incident.region) * len(_SERVICES) + _SERVICES.index(incident.service)
        lo = int((incident.started - first) // _HOUR)
        hi = math.ceil((incident.resolved - first) / _HOUR)
        bump = 0.04 if incident.severity == "sev3" else 0.012
        errors[row, lo:hi] = np.round(
            np.clip(errors[row, lo:hi] + bump * np.exp(rng.normal(0.0, 0.2, hi - lo)), 0.0, 1.0), 6
        )


def _outage_incidents(outage: _Event | None, rng: np.random.Generator) -> list[_Incident]:
    """The outage as one sev1 incident per service."""
    if outage is None:
        return []
    detected = outage.start + _minutes(rng, 2, 8)
    resolved = outage.end - _minutes(rng, 5, 15)
    return [
        _Incident(
            outage.regions[0],
            service,
            "sev1",
            outage.start,
            detected,
            resolved,
            "regional outage: upstream network provider failure",
        )
        for service in _SERVICES
    ]


def _breach_incidents(
    latency: np.ndarray,
    keep: np.ndarray,
    ts: pd.DatetimeIndex,
    events: list[_Event],
    rng: np.random.Generator,
) -> list[_Incident]:
    """An incident for every latency-SLO breach that lasted 2 h or more, or hit 1.5x the SLO.

    Parameters
    ----------
    latency : ndarray
        p99 latency, shape (series, hours).
    keep : ndarray of bool
        Which rows exist in the telemetry, same shape.
    ts : DatetimeIndex
        The hours.
    events : list of _Event
        The calendar, to name the event a breach happened under.
    rng : Generator
        For detection and resolution minutes.
    """
    slo = np.tile([TRUTH.services[s].slo_latency_p99_ms for s in _SERVICES], len(_REGIONS))
    busy = [e for e in events if e.kind in ("season", "launch", "esports", "marketing", "patch")]
    incidents = []
    for row in range(latency.shape[0]):
        region, service = divmod(row, len(_SERVICES))
        breach = (latency[row] > slo[row]) & keep[row]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], breach.astype(int), [0]])))
        for lo, hi in zip(edges[::2], edges[1::2], strict=True):
            worst = float(latency[row, lo:hi].max())
            if hi - lo < 2 and worst < 1.5 * slo[row]:
                continue
            start = ts[lo] + _minutes(rng, 0, 30)
            detected = start + _minutes(rng, 2, 15)
            resolved = max(ts[hi - 1] + _HOUR - _minutes(rng, 0, 20), detected)
            under = [
                e
                for e in busy
                if _REGIONS[region] in e.regions and e.start - e.lead <= ts[lo] < e.end + e.tail
            ]
            why = (
                f"autoscaler lag behind the {max(under, key=lambda e: e.start).name} ramp"
                if under
                else "autoscaler lag behind a fast evening ramp"
            )
            severity = "sev2" if hi - lo >= 3 or worst >= 2 * slo[row] else "sev3"
            incidents.append(
                _Incident(
                    _REGIONS[region],
                    _SERVICES[service],
                    severity,
                    start,
                    detected,
                    resolved,
                    f"p99 latency {worst:g} ms above the {slo[row]:g} ms SLO: {why}",
                )
            )
    return incidents


# --------------------------------------------------------------------------------------------
# Missing rows
# --------------------------------------------------------------------------------------------


def _keep_mask(events: list[_Event], ts: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Which rows exist, shape (regions, services, metrics, hours).

    The outage region loses every row during the outage; a handful of single series lose
    one to three hours at random (never in the first or last day).
    """
    n = len(ts)
    keep = np.ones((len(_REGIONS), len(_SERVICES), len(_METRICS), n), dtype=bool)
    for event in events:
        if event.kind == "outage":
            keep[_REGIONS.index(event.regions[0]), :, :, _event_window(event, ts[0], n)] = False
    if n > 72:
        for _ in range(8):
            r, s, m = (int(rng.integers(k)) for k in keep.shape[:3])
            lo = int(rng.integers(24, n - 27))
            keep[r, s, m, lo : lo + int(rng.integers(1, 4))] = False
    return keep


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _iso(ts: pd.Timestamp) -> str:
    """ISO 8601 with an explicit UTC offset, to the second."""
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _write_telemetry(
    path: Path, ts: pd.DatetimeIndex, values: np.ndarray, keep: np.ndarray
) -> None:
    """Write the long telemetry, sorted by (region, service, metric, ts), zstd Parquet."""
    r, s, m, n = values.shape
    grid = np.indices((r, s, m, n))
    flat = keep.ravel()
    micros = ts.as_unit("us").asi8
    names = [np.asarray(v, dtype=object) for v in (_REGIONS, _SERVICES, _METRICS)]
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


def _write_calendar(path: Path, events: list[_Event]) -> None:
    """Write ``calendar.csv``; ids are ``EV-0001``... in start order."""
    rows = []
    for number, event in enumerate(events, start=1):
        regions = C.ALL_REGIONS if event.regions == _REGIONS else ";".join(event.regions)
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


def _write_deploys(path: Path, deploys: list[_Deploy]) -> None:
    """Number the deploys in time order (``DEP-00001``...) and write ``deploys.csv``."""
    deploys.sort(key=lambda d: (d.at, d.region, d.service, d.change))
    for number, deploy in enumerate(deploys, start=1):
        deploy.deploy_id = f"DEP-{number:05d}"
    rows = [(d.deploy_id, d.region, d.service, _iso(d.at), d.change) for d in deploys]
    _write_csv(path, ("deploy_id", "region", "service", "deployed_at", "change"), rows)


def _write_incidents(path: Path, incidents: list[_Incident]) -> None:
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


def _fleet_yaml(current: Mapping[str, Mapping[str, int]]) -> str:
    """The text of ``fleet.yaml``, written from a template so it reads well."""
    lines = [
        "# LifeVerse demo fleet, written by capacity.demo.generate_demo.",
        "# Validate and load it with capacity.config.load_fleet(path).",
        "#",
        "# version          schema version of this file.",
        "# currency         the unit of every cost_per_hour below, shown in the plan's costs.",
        "# regions          where players are served: the IANA time zone the region's players",
        "#                  live in and the ISO country whose public holidays shape demand.",
        "# services         per service: the metric that is its load (game: ccu, concurrent",
        "#                  players in matches; matchmaking and chat: rps, requests per second),",
        "#                  the server type it runs on and its SLO (p99 latency in ms,",
        "#                  availability as a fraction).",
        "# server_types     per server type: safe_load_hint, the load per server the team",
        "#                  believes is safe (a rough, conservative guess; capacity.sizing learns",
        "#                  the real value from telemetry), cost_per_hour in currency,",
        "#                  boot_lead_time_minutes from request to serving traffic, and",
        "#                  procurement_lead_time_days to raise the quota beyond today's.",
        "# current_servers  servers provisioned per region and service: the most the autoscaler",
        "#                  ran in the last week of telemetry.",
        "# redundancy       the N+k rule: k spare servers per region and service, and never",
        "#                  fewer than min_servers.",
        "# failover         where each region's players go if the region is lost; the shares",
        "#                  of each region sum to 1.",
        "",
        "version: 1",
        "currency: USD",
        "",
        "regions:",
    ]
    for region in _REGIONS:
        truth = TRUTH.regions[region]
        lines += [
            f"  {region}:",
            f"    timezone: {truth.timezone}",
            f"    holidays_country: {truth.country}",
        ]
    lines += ["", "services:"]
    for service in _SERVICES:
        truth = TRUTH.services[service]
        lines += [
            f"  {service}:",
            f"    demand_metric: {truth.demand_metric}",
            f"    server_type: {_SERVER_TYPES[service][0]}",
            "    slo:",
            f"      latency_p99_ms: {truth.slo_latency_p99_ms:g}",
            f"      availability: {truth.slo_availability:g}",
        ]
    lines += ["", "server_types:"]
    for service in _SERVICES:
        name, hint, cost, boot, procure = _SERVER_TYPES[service]
        lines += [
            f"  {name}:",
            f"    safe_load_hint: {hint}",
            f"    cost_per_hour: {cost}",
            f"    boot_lead_time_minutes: {boot}",
            f"    procurement_lead_time_days: {procure}",
        ]
    lines += ["", "current_servers:"]
    for region in _REGIONS:
        lines.append(f"  {region}:")
        lines += [f"    {service}: {current[region][service]}" for service in _SERVICES]
    lines += ["", "redundancy:", "  k: 1", "  min_servers: 2", "", "failover:"]
    for region in _REGIONS:
        lines.append(f"  {region}:")
        lines += [f"    {other}: {share}" for other, share in _FAILOVER[region]]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


def _span(days: int, end: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First hour and exclusive end of the telemetry, validated."""
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ParameterError(
            f"days must be a whole number >= 1; got {days!r}", where="generate_demo(days=...)"
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
        When ``days`` is not a positive integer or ``end`` is not a whole UTC hour.
    """
    first, stop = _span(days, end)
    horizon = stop + pd.Timedelta(weeks=_CALENDAR_WEEKS_AHEAD)
    rng = np.random.default_rng(seed)
    ts = pd.date_range(first, stop, freq="h", inclusive="left")
    events = _calendar(first, stop, horizon)
    outage = next((e for e in events if e.kind == "outage"), None)

    players = (
        _baseline(ts) * _event_multiplier(ts, events) * np.exp(_ar1(rng, len(_REGIONS), len(ts)))
    )
    ccu, rps = _service_demand(players, rng)
    is_ccu = np.array([TRUTH.services[s].demand_metric == C.CCU for s in _SERVICES])
    load = np.where(is_ccu[None, :, None], ccu, rps).reshape(-1, len(ts))
    servers = _autoscale(load, _hold_mask(events, ts))
    latency, cpu, errors = _health(load, servers, rng)
    keep = _keep_mask(events, ts, rng)

    deploys = _deploys(events, first, stop, rng)
    incidents = _bad_deploys(deploys, outage, stop, rng)
    _apply_deploy_errors(errors, incidents, first, rng)
    incidents += _outage_incidents(outage, rng)
    latency_keep = keep[:, :, _METRICS.index(C.LATENCY_P99_MS)].reshape(-1, len(ts))
    incidents += _breach_incidents(latency, latency_keep, ts, events, rng)

    by_metric = {
        C.CCU: ccu.reshape(-1, len(ts)),
        C.RPS: rps.reshape(-1, len(ts)),
        C.SERVERS: servers,
        C.CPU_UTIL: cpu,
        C.LATENCY_P99_MS: latency,
        C.ERROR_RATE: errors,
    }
    values = np.stack([by_metric[m] for m in _METRICS], axis=1)
    values = values.reshape(len(_REGIONS), len(_SERVICES), len(_METRICS), len(ts))

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
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
    _write_telemetry(paths["telemetry"], ts, values, keep)
    _write_calendar(paths["calendar"], events)
    _write_deploys(paths["deploys"], deploys)
    _write_incidents(paths["incidents"], incidents)
    # The fleet as provisioned: the most servers each region/service ran in the last week
    # (an autoscaled fleet's count at one hour says little about what it can run).
    week = min(7 * 24, servers.shape[1])
    current = {
        r: {s: int(servers[i * len(_SERVICES) + j, -week:].max()) for j, s in enumerate(_SERVICES)}
        for i, r in enumerate(_REGIONS)
    }
    paths["fleet"].write_text(_fleet_yaml(current), encoding="utf-8")
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
