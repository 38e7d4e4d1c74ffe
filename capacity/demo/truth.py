"""The true parameters of the demo fleet, :data:`TRUTH`, and the order of its names.

Everything the generator draws comes from these numbers; tests and benchmarks compare what
``capacity`` learns with them. ``REGIONS``, ``SERVICES`` and ``METRICS`` are sorted, so the
long telemetry comes out sorted by (region, service, metric, ts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from capacity import columns as C

#: An hour: the telemetry's step.
HOUR = pd.Timedelta(hours=1)


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
REGIONS = tuple(sorted(TRUTH.regions))
SERVICES = tuple(sorted(TRUTH.services))
METRICS = tuple(sorted(C.METRICS))
