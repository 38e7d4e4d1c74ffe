"""The demo's ``fleet.yaml``: regions, services, server types, current servers,
redundancy and failover, written from a template so that it reads well.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from capacity.demo.truth import REGIONS, SERVICES, TRUTH

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


def fleet_yaml(current: Mapping[str, Mapping[str, int]]) -> str:
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
    for region in REGIONS:
        truth = TRUTH.regions[region]
        lines += [
            f"  {region}:",
            f"    timezone: {truth.timezone}",
            f"    holidays_country: {truth.country}",
        ]
    lines += ["", "services:"]
    for service in SERVICES:
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
    for service in SERVICES:
        name, hint, cost, boot, procure = _SERVER_TYPES[service]
        lines += [
            f"  {name}:",
            f"    safe_load_hint: {hint}",
            f"    cost_per_hour: {cost}",
            f"    boot_lead_time_minutes: {boot}",
            f"    procurement_lead_time_days: {procure}",
        ]
    lines += ["", "current_servers:"]
    for region in REGIONS:
        lines.append(f"  {region}:")
        lines += [f"    {service}: {current[region][service]}" for service in SERVICES]
    lines += ["", "redundancy:", "  k: 1", "  min_servers: 2", "", "failover:"]
    for region in REGIONS:
        lines.append(f"  {region}:")
        lines += [f"    {other}: {share}" for other, share in _FAILOVER[region]]
    return "\n".join(lines) + "\n"
