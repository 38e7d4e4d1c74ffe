"""The live-ops calendar of the demo fleet: what it lists and what the telemetry feels.

Seasons every 70 days (each with a patch, a marketing push and esports finals), the yearly
Winter Festival, weekly maintenance, public holidays, and the one unplanned outage. Each
:class:`Event` carries both the calendar's view (name, kind, window, expected uplift) and
the effect the demand simulation applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from capacity.demo.holidays import HOLIDAY_BIG, HOLIDAYS
from capacity.demo.truth import REGIONS, TRUTH

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


@dataclass(frozen=True)
class Event:
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


def _next_weekday(day: pd.Timestamp, weekday: int) -> pd.Timestamp:
    """The first day on or after ``day`` (normalised) that falls on ``weekday`` (Monday 0)."""
    day = day.normalize()
    return day + pd.Timedelta(days=(weekday - day.day_of_week) % 7)


def _season_events(end: pd.Timestamp) -> list[Event]:
    """Season launches every 70 days, each followed by a patch, marketing and esports finals.

    The launches are anchored six weeks after ``end`` so the calendar always has one coming.
    """
    anchor = _next_weekday(end + pd.Timedelta(days=42), 3) + pd.Timedelta(hours=15)
    events: list[Event] = []
    for back in range(12):
        number = 14 - back
        launch = anchor - pd.Timedelta(days=TRUTH.season_interval_days * back)
        peak = _SEASON_PEAKS[number % len(_SEASON_PEAKS)]
        title = _SEASON_TITLES[number % len(_SEASON_TITLES)]
        region, push = _MARKETING[number % len(_MARKETING)]
        events += [
            Event(
                f"Season {number}: {title}",
                "season",
                launch,
                launch + pd.Timedelta(days=TRUTH.season_days),
                REGIONS,
                peak,
                peak,
                f"pre-load ramp from {TRUTH.season_pre_ramp_hours:g} h before launch; "
                f"peak {TRUTH.season_rise_hours:g} h after launch, then decays to normal "
                "by the end",
            ),
            Event(
                f"Season {number} mid-season content patch",
                "patch",
                launch + pd.Timedelta(days=21, hours=-6),
                launch + pd.Timedelta(days=23, hours=-6),
                REGIONS,
                TRUTH.patch_uplift,
                TRUTH.patch_uplift,
                "new maps and balance changes; uplift fades over 2 days",
            ),
            Event(
                f"Season {number} marketing push ({region})",
                "marketing",
                launch + pd.Timedelta(days=35, hours=-3),
                launch + pd.Timedelta(days=40, hours=-3),
                (region,),
                push,
                push,
                "influencer campaign and store discount in one region",
            ),
            Event(
                f"Season {number} Champions Finals",
                "esports",
                launch + pd.Timedelta(days=51, hours=2),
                launch + pd.Timedelta(days=51, hours=6),
                REGIONS,
                TRUTH.esports_uplift,
                TRUTH.esports_uplift,
                "global broadcast with in-game drops; demand jumps "
                "at start and fades over 2 h after the end",
            ),
        ]
    return events


def _winter_festivals(end: pd.Timestamp) -> list[Event]:
    """The yearly Winter Festival in eu-west and na-east, 18 Dec to 4 Jan."""
    events = []
    for year in range(end.year - 3, end.year + 2):
        start = pd.Timestamp(f"{year}-12-18T08:00", tz="UTC")
        uplift = 1.6 if start >= end else 1.5
        events.append(
            Event(
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


def _maintenance_events(first: pd.Timestamp, last: pd.Timestamp) -> list[Event]:
    """Weekly patch maintenance: every Tuesday 06:00-08:00 local time in each region."""
    events = []
    for region in REGIONS:
        zone = TRUTH.regions[region].timezone
        day = _next_weekday(first.tz_convert(zone).tz_localize(None) - pd.Timedelta(days=1), 1)
        while day.tz_localize(zone) < last:
            start = (day + pd.Timedelta(hours=6)).tz_localize(zone).tz_convert("UTC")
            events.append(
                Event(
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


def _holiday_events() -> list[Event]:
    """Public holidays of each region's country, one local day each."""
    events = []
    for region in REGIONS:
        truth = TRUTH.regions[region]
        for day, name in HOLIDAYS[truth.country]:
            start = pd.Timestamp(day).tz_localize(truth.timezone)
            effect = TRUTH.holiday_big if name in HOLIDAY_BIG else TRUTH.holiday_small
            events.append(
                Event(
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


def _outage_event(end: pd.Timestamp) -> Event:
    """The one unplanned regional outage, nine days before ``end``."""
    start = (end - pd.Timedelta(days=9)).normalize() + pd.Timedelta(hours=17)
    return Event(
        f"Unplanned outage {TRUTH.outage_region}",
        "outage",
        start,
        start + pd.Timedelta(hours=TRUTH.outage_hours),
        (TRUTH.outage_region,),
        1.0,
        None,
        "unplanned: upstream network provider failure; no telemetry",
    )


def calendar(first: pd.Timestamp, end: pd.Timestamp, horizon: pd.Timestamp) -> list[Event]:
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
