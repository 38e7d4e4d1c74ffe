"""The event planner's go/no-go: will each touched region/service hold an event's demand?

For every region/service the event touches, over the event's hours (every hour the event
overlaps: its start floored to the hour, its end raised to the next):

- demand comes from a fresh forecast of those series up to the event's end, and at least
  :data:`SHARED_HORIZON_HOURS` ahead (recommend's and the plan's horizon, so the same hours
  get the same demand as there: the forecaster's blend depends on the horizon up to a week);
  a new event (not in the stored calendar) is a scenario that multiplies every forecast
  quantile by the planner's uplift, while a stored event is already in the forecast (learned
  from history, or the planner's uplift when its kind is too rare to learn);
- ``peak_demand`` is the highest hourly demand at the policy quantile (0.95 by default);
- ``servers_needed`` = max(ceil(peak / safe load) + k, min_servers), the N+k rule
  (:func:`capacity.headroom.with_redundancy`, recommend's ``needed_nk``; the region-loss need
  recommend adds on top is not part of an event's verdict);
- ``breach_probability`` is the highest, over the event's hours, probability that demand
  exceeds the safe capacity of the servers available (read off the forecast's quantiles by
  linear interpolation; beyond the outermost quantiles it is reported at their bound);
- the verdict: ``NO_GO`` when that probability is 0.5 or more (demand more likely than not
  exceeds safe capacity at some hour), ``AT_RISK`` when it is 0.05 or more or the servers
  available fall short of N+k, ``GO`` otherwise;
- ``add_servers`` to reach ``servers_needed``, and ``act_by``: the start of the hour the event
  starts in (the first hour it is sized for) minus the server type's boot and procurement
  lead times.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from capacity.calendar import MAX_UPLIFT
from capacity.columns import REGION, SERVICE, SHARED_QUANTILES, TS, quantile_column
from capacity.config import FleetConfig
from capacity.errors import ParameterError, the_parameter
from capacity.headroom import servers_for, with_redundancy
from capacity.records import suggest
from capacity.store import Store
from capacity.texts import first_few, servers_text
from capacity.units import as_utc, parse_timestamp

__all__ = [
    "AT_RISK_PROBABILITY",
    "CHECK_QUANTILES",
    "MEASURED_DAYS",
    "NO_GO_PROBABILITY",
    "SHARED_HORIZON_HOURS",
    "EventCheck",
    "PlannedEvent",
    "breach_probability",
    "check_event",
    "forecast_start",
    "probability_bound",
    "probability_text",
    "render_report",
    "report_frame",
    "stored_event",
]

#: How to give an uplift, for the errors that refuse one.
_UPLIFT_FIX = "give the expected demand as a multiple of normal: 1.6 for 60% more, 1 for none"

#: A number as a planner types one: digits, a decimal point, an exponent (no ``_``).
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

#: Breach probabilities at or above these make an event AT_RISK and NO_GO.
AT_RISK_PROBABILITY = 0.05
NO_GO_PROBABILITY = 0.5
#: Quantiles forecast for a check: a fine grid, so probabilities can be read off (the plan's
#: and recommend's too, so a check after them reuses their fits).
CHECK_QUANTILES = SHARED_QUANTILES
#: The shortest forecast a check makes, in hours: the default horizon of ``capacity
#: recommend`` and the weekly plan (28 days), so an event's hours get the demand they get.
SHARED_HORIZON_HOURS = 28 * 24
#: How far ahead forecasts are measured (benchmarks/fleet_horizon.py): a check of an event
#: ending further out than this says its verdict is provisional.
MEASURED_DAYS = 28


#: How many region/services, and how many dates, the overdue warning names before counting.
_NAMED = 5


def _listed(names: list[str]) -> str:
    """Names as a sentence lists them: ``a``, ``a and b``, ``a, b and c``; past
    :data:`_NAMED`, the first few and how many more (a fleet-wide event had put 16 names in
    a row joined by "and")."""
    if len(names) > _NAMED:
        return first_few(names, shown=_NAMED)
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


@dataclass(frozen=True)
class PlannedEvent:
    """An event to check.

    Attributes
    ----------
    name : str
        What the planner calls it.
    start, end : pandas.Timestamp
        Its window, UTC, ``start < end``.
    regions : tuple of str, or str
        The regions it touches; ``all`` means every region of the fleet (beside named
        regions it is refused by :meth:`validated`).
        A single string is one region, or several separated by commas (``"eu-west"``,
        ``"eu-west, na-east"``), never its letters; any other iterable is taken as a tuple.
    uplift : float
        Expected demand as a multiple of normal (1.6 = 60 % more players).
    stored : bool
        True when it is in the stored calendar, so the forecast already includes it.
    uplift_stated : bool
        False for a stored event whose calendar entry has no ``expected_uplift`` (``uplift``
        is then 1): its titles say so rather than ``x1``, which reads as normal demand where
        the forecast applies the effect learned for its kind (a maintenance dip).
    options : bool
        True when it was given as the CLI's options, so an error names ``--end``; False for
        a notebook's parameters, named ``end`` (and its fixes say so). Not compared.
    """

    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    regions: tuple[str, ...]
    uplift: float
    stored: bool = False
    uplift_stated: bool = True
    options: bool = field(default=True, compare=False)

    def the_parameter(self, name: str) -> str:
        """How an error opens on the parameter ``name`` (``end``, ``event_id``): as the CLI's
        option (``The 'end' parameter (--end)``) or, given by a notebook, as its parameter.

        Parameters
        ----------
        name : str
            The parameter's name, as the notebook's (and the function's) parameter.

        Returns
        -------
        str
        """
        return the_parameter(f"--{name.replace('_', '-')}" if self.options else name)

    @property
    def uplift_text(self) -> str:
        """``uplift x1.6``, or ``no uplift in the calendar`` for a stored event without one."""
        return f"uplift x{self.uplift:g}" if self.uplift_stated else "no uplift in the calendar"

    @property
    def expected_text(self) -> str:
        """``expected uplift x1.6``, or ``no uplift in the calendar``."""
        return f"expected {self.uplift_text}" if self.uplift_stated else self.uplift_text

    def __post_init__(self) -> None:
        regions = self.regions
        if isinstance(regions, str):  # a notebook's `regions = "sa-east"`
            regions = regions.split(",")
        object.__setattr__(self, "regions", tuple(regions))

    @classmethod
    def from_text(
        cls,
        name: str,
        start: str | pd.Timestamp,
        end: str | pd.Timestamp,
        regions: str | Iterable[str],
        uplift: float | str,
        *,
        options: bool = True,
    ) -> PlannedEvent:
        """An event as a planner types it (the CLI's options, a notebook's parameters).

        Parameters
        ----------
        name : str
            What the planner calls it.
        start, end : str or pandas.Timestamp
            ISO 8601 times; one without an offset (or a bare date) is UTC.
        regions : str or iterable of str
            ``"eu-west,na-east"``, ``"all"``, or a list of names.
        uplift : float or str
            Expected demand as a multiple of normal.
        options : bool
            True for the CLI's options, whose errors name ``--end``; False for a notebook's
            parameters, named ``end``.

        Returns
        -------
        PlannedEvent
            Not yet checked against a fleet: call :meth:`validated`.

        Raises
        ------
        ParameterError
            When a time or the uplift cannot be read.
        """
        try:
            # as written, in digits: float() also reads '1_5' (a typo of 1.5) as 15
            if isinstance(uplift, str) and not _DECIMAL.fullmatch(uplift.strip()):
                raise ValueError(uplift)
            factor = float(uplift)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{the_parameter('--uplift' if options else 'uplift')} must be a positive "
                f"number. Got {uplift!r}.",
                fix=_UPLIFT_FIX,
            ) from None
        return cls(
            name=name,
            start=_moment_as_typed(start, "--start" if options else "start"),
            end=_moment_as_typed(end, "--end" if options else "end"),
            regions=regions,
            uplift=factor,
            options=options,
        )

    def touched(self, fleet: FleetConfig) -> FleetConfig:
        """``fleet`` cut down to the regions the (validated) event touches."""
        return fleet.model_copy(update={"regions": {r: fleet.regions[r] for r in self.regions}})

    def validated(self, fleet: FleetConfig) -> PlannedEvent:
        """Check the event against the fleet; raise ParameterError naming what is wrong."""
        if not str(self.name).strip():
            raise ParameterError(
                f"{self.the_parameter('name')} must name the event. Got {self.name!r}.",
                fix="give the name the planners use (it titles the verdict and the report), "
                + (
                    "e.g. --name 'Winter Festival'"
                    if self.options
                    else "e.g. name = 'Winter Festival' in the parameters cell"
                ),
            )
        if not self.end > self.start:
            raise ParameterError(
                f"{self.the_parameter('end')} must be after the event's start. Got start "
                f"{self.start.isoformat()} and end {self.end.isoformat()}.",
                fix="give an end later than the start (the end is excluded: a one-day event "
                "on 2026-12-18 ends 2026-12-19)",
            )
        if not (math.isfinite(self.uplift) and self.uplift > 0):
            raise ParameterError(
                f"{self.the_parameter('uplift')} must be a positive number. Got {self.uplift!r}.",
                fix=_UPLIFT_FIX,
            )
        if self.uplift > MAX_UPLIFT:
            raise ParameterError(
                f"{self.the_parameter('uplift')} must be at most {MAX_UPLIFT:g} (a multiple of "
                f"normal demand: 1.6 for 60% more). Got {self.uplift!r}.",
                fix=f"write a multiple: for {self.uplift:g}% more demand, "
                f"{1 + self.uplift / 100:g}",
            )
        named = list(dict.fromkeys(r.strip() for r in self.regions if r.strip()))
        everywhere = any(r.lower() == "all" for r in named)
        if everywhere and len(named) > 1:  # as a calendar file's regions are read
            raise ParameterError(
                f"{self.the_parameter('regions')} mixes 'all' with named regions. Got "
                f"{','.join(self.regions)!r}.",
                fix="give either 'all' or the region names",
            )
        regions = list(fleet.regions) if everywhere else named
        unknown = [r for r in regions if r not in fleet.regions]
        if unknown and self.stored:  # the calendar's regions, not an option the planner gave
            raise ParameterError(
                f"{self.the_parameter('event_id')} names the stored event {self.name!r}, whose "
                f"regions include {unknown[0]!r}, a region the fleet file does not have "
                f"({', '.join(fleet.regions)}).",
                fix=f"give the fleet file that has it ({self._config}), or correct the event's "
                "regions in the calendar and import it again (capacity events import --config "
                "FLEET refuses regions the fleet does not have)",
            )
        if unknown:
            # 'eu-west;na-east' (a calendar file's separator) or 'eu-west na-east': several
            # regions, not a misspelt one ('did you mean sa-east?' pointed at another region)
            parts = [part for part in re.split(r"[;\s]+", unknown[0]) if part]
            if len(parts) > 1 and all(part in fleet.regions for part in parts):
                hint = f"did you mean {','.join(parts)!r} (regions are separated by commas)? "
            else:
                hint = suggest(unknown[0], list(fleet.regions))
            raise ParameterError(
                f"{self.the_parameter('regions')} names unknown region {unknown[0]!r}; "
                f"{hint}the fleet has {', '.join(fleet.regions)}.",
                fix="name regions of the fleet file, or 'all'",
            )
        if not regions:
            raise ParameterError(
                f"{self.the_parameter('regions')} must name at least one region. Got "
                f"{','.join(self.regions)!r}.",
                fix=f"name regions of the fleet file ({', '.join(fleet.regions)}), comma-"
                "separated, or 'all'",
            )
        return PlannedEvent(
            self.name,
            self.start,
            self.end,
            tuple(regions),
            self.uplift,
            self.stored,
            self.uplift_stated,
            self.options,
        )

    @property
    def _config(self) -> str:
        """The fleet file's parameter, as a fix names it: ``--config``, or in a notebook
        ``the 'config' parameter``."""
        return "--config" if self.options else "the 'config' parameter"


@dataclass(frozen=True)
class EventCheck:
    """The result of :func:`check_event`.

    Attributes
    ----------
    event : PlannedEvent
        The event as checked (regions resolved).
    table : pandas.DataFrame
        One row per touched region/service with the verdict.
    hourly : pandas.DataFrame
        The event's hours per region/service: the quantile forecast with the event, and
        ``safe_capacity`` (servers available x safe load).
    replaced : tuple of str
        Stored events this (new) event plans again, by name (``Winter Festival`` for the
        stored ``Winter Festival 2026``): left out of the forecast so that the planner's
        uplift is not applied on top of them.
    cutoff : pandas.Timestamp or None
        Where the forecast starts: the hour after the newest telemetry of the regions.
    checked_at : pandas.Timestamp or None
        The moment ``overdue`` is measured from: a date to act by before it is overdue
        (the clock when the check ran, not the forecast's start).
    skipped : tuple of str
        A ``warning:`` line per touched region/service the forecast skipped (no demand
        telemetry in its history window): it has no row in ``table``.
    beside : tuple of str
        Stored launches, season starts and marketing pushes of another name that share at
        least half of each window with this event (``'Winter Festival 2026' (EV-0047)``):
        kept in the forecast, this event checked on top of them.
    unsized : tuple of str
        A ``note:`` line per stored event overlapping this one that the forecast leaves out
        (a kind too rare in the history to learn, and no ``expected_uplift``): this event
        itself when checked with ``--event-id``, or another one at the same time.
    """

    event: PlannedEvent
    table: pd.DataFrame
    hourly: pd.DataFrame
    replaced: tuple[str, ...] = ()
    cutoff: pd.Timestamp | None = None
    checked_at: pd.Timestamp | None = None
    skipped: tuple[str, ...] = ()
    beside: tuple[str, ...] = ()
    unsized: tuple[str, ...] = ()

    @property
    def lead_days(self) -> float:
        """Days from the forecast's start to the event's end (0 without a cutoff)."""
        if self.cutoff is None:
            return 0.0
        return (self.event.end - self.cutoff) / pd.Timedelta(days=1)

    @property
    def origin(self) -> str:
        """Where the event came from: the stored calendar, or a new scenario (in place of the
        stored event it was taken to be)."""
        if self.event.stored:
            return "in the stored calendar"
        if self.replaced:
            return f"a new scenario in place of the stored {self.replaced[0]}"
        return "a new scenario"

    def notes(self, now: Any = None) -> list[str]:
        """What the verdict rests on, for the terminal and the report alike.

        Parameters
        ----------
        now : timestamp-like, optional
            When the check is read (for the stale-telemetry warning); default: now.

        Returns
        -------
        list of str
            One line each, starting ``note:`` or ``warning:``: touched regions/services
            left out for want of demand telemetry, stored events the forecast leaves out
            (``unsized``), stored events taken to be this one,
            stored events of another name it is checked on top of, telemetry ending over a
            day before ``now``, an event already over at ``now``, an event that started
            before the forecast (only its later
            hours are checked), dates to act by already past when the check ran
            (``overdue``), and an event ending more than :data:`MEASURED_DAYS` days after the
            forecast starts (a provisional verdict).
        """
        from capacity.weekly import STALE_AFTER

        lines = list(self.skipped) + list(self.unsized)
        lines += [
            f"note: taken to be the stored event {same!r}; the forecast moves it to this "
            f"window and regions with the uplift x{self.event.uplift:g}, keeping the shape "
            "learned for its kind"
            for same in self.replaced[:1]
        ]
        lines += [
            f"note: also taken to be the stored event {same!r}, left out of the forecast"
            for same in self.replaced[1:]
        ]
        lines += [
            f"note: the stored event {same} overlaps most of this one and stays in the "
            f"forecast: the uplift x{self.event.uplift:g} is checked on top of it. To re-plan "
            "that event instead, give it its stored name or use --event-id"
            for same in self.beside
        ]
        if self.cutoff is not None:
            moment = _moment(now)
            behind = moment - self.cutoff
            if behind > STALE_AFTER:
                lines.append(
                    f"warning: the newest demand telemetry ends {self.cutoff:%Y-%m-%d %H:%M} "
                    f"UTC, {behind / pd.Timedelta(days=1):.1f} days ago, so the forecast behind "
                    "this verdict starts then. Load or pull the latest telemetry (capacity "
                    "ingest, capacity pull) first"
                )
        checked = _moment(now)
        if self.event.end <= checked:
            lines.append(
                f"warning: the event ended {self.event.end:%Y-%m-%d %H:%M} UTC, before this "
                f"check ({checked:%Y-%m-%d %H:%M} UTC): the verdict is what the forecast "
                "expected of hours now past, not what happened (their telemetry shows that: "
                "the explore notebook). For an event ahead, check its dates"
            )
        if self.cutoff is not None and self.event.start < self.cutoff:
            lines.append(
                f"note: the event started {self.event.start:%Y-%m-%d %H:%M} UTC, before the "
                f"forecast's start; only its hours from {self.cutoff:%Y-%m-%d %H:%M} UTC on are "
                "checked (the hours before are telemetry, not forecast)"
            )
        late = self.table[self.table["overdue"]] if "overdue" in self.table else self.table[:0]
        if len(late):
            when = self.checked_at if self.checked_at is not None else _moment(now)
            names = late[REGION] + "/" + late[SERVICE]
            groups = list(late.groupby("act_by", sort=True))
            dates = "; ".join(
                f"{_listed(list(names[part.index]))} by {act_by:%Y-%m-%d %H:%M} UTC"
                for act_by, part in groups[:_NAMED]
            )
            if len(groups) > _NAMED:
                later = sum(len(part) for _, part in groups[_NAMED:])
                dates += f"; and {later} more region/service(s) by later dates"
            lines.append(
                f"warning: overdue, the date to act by is before this check "
                f"({when:%Y-%m-%d %H:%M} UTC): {dates}. On the fleet file's boot and "
                "procurement lead times, the servers to add there cannot all be in place when "
                "the event starts"
            )
        if self.lead_days > MEASURED_DAYS:
            lines.append(
                f"note: the event ends {self.lead_days:.0f} days after the newest telemetry; "
                f"forecast bands are measured up to {MEASURED_DAYS} days ahead "
                "(docs/forecasting.md), so this verdict is provisional: check again within "
                f"{MEASURED_DAYS} days of the event"
            )
        return lines


def _moment_as_typed(value: str | pd.Timestamp, option: str) -> pd.Timestamp:
    """An event's start or end as typed, refused with how to write one."""
    try:
        return parse_timestamp(value, option)
    except ParameterError as error:
        raise ParameterError(
            error.problem,
            fix="write it as 2026-12-18T08:00Z, or with the local offset, 2026-12-18T09:00+01:00 "
            "(a time without an offset, or a bare date, is UTC)",
        ) from None


def _moment(now: Any = None) -> pd.Timestamp:
    """``now`` as a UTC timestamp; the clock's time when it is None."""
    return pd.Timestamp.now(tz="UTC") if now is None else as_utc(pd.Timestamp(now))


def _event_hours(event: PlannedEvent) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The hours an event overlaps: its start floored to the hour, its end raised to the next.

    An event from 08:10 to 08:40 is checked over the hour from 08:00 to 09:00, and one from
    08:30 to 10:00 over 08:00 to 10:00: the forecast is hourly, and the hour an event starts in
    carries its demand as much as the next.
    """
    return event.start.floor("h"), event.end.ceil("h")


def stored_event(store: Store, event_id: str, *, options: bool = True) -> PlannedEvent:
    """The stored calendar's event ``event_id`` as a :class:`PlannedEvent`.

    Ids match exactly, or else regardless of case when only one stored id does (``ev-0047``
    finds ``EV-0047``); several ids differing only in case must be written exactly.

    Parameters
    ----------
    store : Store
        The store whose calendar holds the event.
    event_id : str
        The event's id (a repeating event's occurrence: ``UID@YYYYMMDDTHHMMZ``).
    options : bool
        True when the id was given as the CLI's ``--event-id``; False for a notebook's
        ``event_id`` parameter: the event's later errors name it so.

    Returns
    -------
    PlannedEvent
        The event, with its name, span, regions and uplift as stored.

    Raises
    ------
    ParameterError
        When no stored event has the id, several do when case is ignored, or the id is a
        repeating event's without the occurrence.
    """
    query = (
        "SELECT event_id, name, start_ts, end_ts, regions, expected_uplift FROM events "
        "WHERE {} ORDER BY event_id"
    )
    rows = store.con.execute(query.format("event_id = ?"), [event_id]).fetchall()
    if not rows:
        rows = store.con.execute(query.format("lower(event_id) = lower(?)"), [event_id]).fetchall()
    if len(rows) > 1:
        ids = ", ".join(repr(row[0]) for row in rows)
        raise ParameterError(
            f"The 'event_id' parameter {event_id!r} matches stored events {ids} when case is "
            "ignored.",
            fix="write the id with its exact case",
        )
    if not rows:
        _refuse_series_uid(store, event_id)
        raise ParameterError(
            f"The 'event_id' parameter must name an event in the stored calendar. Got "
            f"{event_id!r}.",
            fix="list event ids with capacity status (--ahead 365d for a year ahead), or import "
            "the calendar",
        )
    _, name, start, end, regions, uplift = rows[0]
    stated = not (uplift is None or (isinstance(uplift, float) and math.isnan(uplift)))
    return PlannedEvent(
        name,
        pd.Timestamp(start).tz_convert("UTC"),
        pd.Timestamp(end).tz_convert("UTC"),
        tuple(regions),
        float(uplift) if stated else 1.0,
        stored=True,
        uplift_stated=stated,
        options=options,
    )


def _refuse_series_uid(store: Store, event_id: str) -> None:
    """Refuse the UID of a repeating iCalendar event, naming how its occurrences are stored
    (``UID@YYYYMMDDTHHMMZ``) and up to three of them, the coming ones first."""
    occurrences = store.con.execute(
        "SELECT event_id, count(*) OVER () FROM events "
        "WHERE starts_with(lower(event_id), lower(? || '@')) "
        "ORDER BY end_ts <= now(), CASE WHEN end_ts > now() THEN start_ts END, start_ts DESC "
        "LIMIT 3",
        [event_id],
    ).fetchall()
    if occurrences:
        shown = ", ".join(repr(row[0]) for row in occurrences)
        uid = occurrences[0][0].rsplit("@", 1)[0]  # as stored, whatever case was typed
        raise ParameterError(
            f"The 'event_id' parameter {event_id!r} is a repeating event: its "
            f"{occurrences[0][1]} stored occurrences each have an id of their own, "
            f"{uid}@YYYYMMDDTHHMMZ (the occurrence's UTC start), e.g. {shown}.",
            fix="give one occurrence's id (capacity status --ahead 365d lists those ahead)",
        )


def breach_probability(levels: np.ndarray, values: np.ndarray, capacity: float) -> float:
    """P(demand > capacity) from one hour's quantiles (levels ascending, values monotone)."""
    if capacity <= values[0]:
        return float(1 - levels[0])
    if capacity >= values[-1]:
        return float(1 - levels[-1])
    below = np.interp(capacity, values, levels)
    return float(1 - below)


def probability_bound(probability: float) -> str | None:
    """Whether a breach probability is only a bound of what the forecast's quantiles resolve.

    Returns
    -------
    str or None
        ``"<="`` when capacity clears even the 99 % quantile (the probability is at most
        0.01), ``">="`` when demand exceeds it even at the 1 % quantile (at least 0.99), and
        None when the probability is read between the quantiles.
    """
    low, high = 1 - CHECK_QUANTILES[-1], 1 - CHECK_QUANTILES[0]
    if probability <= low + 1e-9:
        return "<="
    if probability >= high - 1e-9:
        return ">="
    return None


def probability_text(probability: float) -> str:
    """A breach probability for people: two decimals, and at the bounds of what the forecast's
    quantiles resolve (below the 1 % or above the 99 % quantile) ``≤0.01`` or ``≥0.99``."""
    bound = probability_bound(probability)
    if bound == "<=":
        return f"≤{1 - CHECK_QUANTILES[-1]:.2f}"
    if bound == ">=":
        return f"≥{1 - CHECK_QUANTILES[0]:.2f}"
    if _rounded(probability, 2) != round(probability, 2):  # 0.046 read 0.05 beside GO
        return f"{_rounded(probability, 3):.3f}"
    return f"{probability:.2f}"


def _rounded(probability: float, digits: int) -> float:
    """``probability`` to ``digits`` decimals, never rounded up to a verdict's threshold it
    is below (0.0496 is GO, and to 2 decimals 0.04, not the 0.05 at which AT_RISK starts)."""
    rounded = round(probability, digits)
    if any(probability < t <= rounded for t in (AT_RISK_PROBABILITY, NO_GO_PROBABILITY)):
        return math.floor(probability * 10**digits) / 10**digits
    return rounded


def forecast_start(store: Store, event: PlannedEvent) -> pd.Timestamp:
    """Where the check's forecast starts: the hour after the newest telemetry of the event's
    regions. Checked before anything else is worked out, so that an event the store cannot
    check stops with one error, not after the notes of the work done for it.

    Parameters
    ----------
    store : Store
        The telemetry.
    event : PlannedEvent
        The event, validated against the fleet.

    Returns
    -------
    pandas.Timestamp
        A whole UTC hour.

    Raises
    ------
    ParameterError
        When the store holds no telemetry of the event's regions, or the event ends before
        the forecast would start.
    """
    newest = store.con.execute(
        "SELECT max(ts) FROM telemetry WHERE list_contains(?, region)", [list(event.regions)]
    ).fetchall()[0][0]
    if newest is None:
        raise ParameterError(
            f"The store holds no telemetry for {', '.join(event.regions)}, the event's "
            "region(s): there is no demand to forecast the event on",
            fix="load that region's telemetry first (capacity ingest, capacity pull); "
            "capacity status --config FLEET lists the fleet's region/services without it",
        )
    cutoff = pd.Timestamp(newest).tz_convert("UTC").floor("h") + pd.Timedelta(hours=1)
    if event.end <= cutoff:
        which = "event_id" if event.stored else "end"
        raise ParameterError(
            f"{event.the_parameter(which)} gives an event that ends "
            f"{event.end:%Y-%m-%d %H:%M} UTC, "
            f"but the check forecasts from the end of the newest telemetry of "
            f"{', '.join(event.regions)}, {cutoff:%Y-%m-%d %H:%M} UTC: the event must end "
            "after it.",
            fix="check an event still ahead (capacity status --ahead 365d lists them), or "
            "load the telemetry up to now first (capacity ingest, capacity pull)",
        )
    return cutoff


def check_event(
    store: Store,
    fleet: FleetConfig,
    event: PlannedEvent,
    *,
    safe: pd.DataFrame,
    quantile: float = 0.95,
    now: Any = None,
    jobs: int | None = 1,
    history: str = "112d",
) -> EventCheck:
    """Check an event region by region and service by service.

    Parameters
    ----------
    store : Store
        Telemetry and calendar (open for reading is enough).
    fleet : FleetConfig
        Regions, services, current servers, redundancy, server types.
    event : PlannedEvent
        The event.
    safe : pandas.DataFrame
        ``region, service, safe_load``.
    quantile : float
        The demand quantile sized for (one of :data:`CHECK_QUANTILES`).
    now : timestamp-like, optional
        When the check is made (for ``overdue``); default: now.
    jobs : int, optional
        Worker processes for the forecasts.
    history : str
        History to fit the forecasts on.

    Returns
    -------
    EventCheck
        ``table`` has one row per touched region/service: ``region, service, metric,
        peak_demand, peak_at, safe_load, servers_needed, servers_available,
        breach_probability, verdict, add_servers, act_by, overdue``.
    """
    from capacity.forecast_fleet import MAX_HORIZON, forecast_fleet
    from capacity.skipped import skipped_warnings

    if quantile not in CHECK_QUANTILES:
        raise ParameterError(
            f"The 'quantile' parameter must be one of {CHECK_QUANTILES}. Got {quantile!r}."
        )
    event = event.validated(fleet)
    moment = _moment(now)
    touched = event.touched(fleet)
    cutoff = forecast_start(store, event)
    # never shorter than recommend's and the plan's horizon: a forecaster chooses its blend on
    # as many validation hours as it forecasts (up to a week), so an event a few days ahead,
    # forecast over its own few hours alone, got other demand than recommend for the same hours
    hours = max(math.ceil((event.end - cutoff) / pd.Timedelta(hours=1)), SHARED_HORIZON_HOURS)
    if pd.Timedelta(hours=hours) > MAX_HORIZON:
        which = "event_id" if event.stored else "end"
        raise ParameterError(
            f"{event.the_parameter(which)} gives an event that ends "
            f"{event.end:%Y-%m-%d %H:%M} UTC, "
            f"more than {MAX_HORIZON.days} days after the newest telemetry of "
            f"{', '.join(event.regions)} ({cutoff:%Y-%m-%d %H:%M} UTC), the furthest a "
            "forecast reaches.",
            fix="check the event within a year of the telemetry (load the latest first: "
            "capacity ingest, capacity pull)",
        )
    overlapping = None if event.stored else _overlapping_stored_events(store, event)
    replaced = None if overlapping is None else overlapping[overlapping["same"]]
    stand_in = _stand_in(replaced, event) if replaced is not None and len(replaced) else None
    run = forecast_fleet(
        store,
        touched,
        horizon=f"{hours}h",
        history=history,
        quantiles=CHECK_QUANTILES,
        cutoff=cutoff,
        jobs=jobs,
        save=False,
        exclude_events=() if replaced is None else tuple(replaced["event_id"]),
        extra_events=stand_in,
    )
    first, last = _event_hours(event)
    window = run.frame[(run.frame[TS] >= first) & (run.frame[TS] < last)].copy()
    columns = [quantile_column(q) for q in CHECK_QUANTILES]
    if not event.stored and stand_in is None:  # a new scenario of no known kind
        window[columns] = window[columns] * event.uplift
    levels = np.array(CHECK_QUANTILES)
    k = fleet.redundancy.k
    rows, hourly = [], []
    for (region, service), part in window.groupby([REGION, SERVICE], sort=True):
        matches = safe[(safe[REGION] == region) & (safe[SERVICE] == service)]
        if matches.empty:
            raise ParameterError(f"The 'safe' parameter has no safe load for {region}/{service}.")
        safe_load = float(matches["safe_load"].iloc[0])
        demand = part[quantile_column(quantile)]
        at = demand.idxmax()
        peak = float(demand.max())
        needed = int(with_redundancy(servers_for(peak, safe_load), fleet))
        available = fleet.servers_now(region, service)
        capacity = available * safe_load
        probability = max(
            breach_probability(levels, values, capacity) for values in part[columns].to_numpy()
        )
        if probability >= NO_GO_PROBABILITY:
            verdict = "NO_GO"
        elif probability >= AT_RISK_PROBABILITY or available < needed:
            verdict = "AT_RISK"
        else:
            verdict = "GO"
        server_type = fleet.server_type_of(service)
        lead = pd.Timedelta(minutes=server_type.boot_lead_time_minutes) + pd.Timedelta(
            days=server_type.procurement_lead_time_days
        )
        add = max(0, needed - available)
        # sized from the hour the event starts in, whole: the servers must be there by then
        act_by = event.start.floor("h") - lead if add else pd.NaT
        hourly.append(part.assign(safe_capacity=capacity, needed_capacity=(needed - k) * safe_load))
        rows.append(
            {
                REGION: region,
                SERVICE: service,
                "metric": str(part["metric"].iloc[0]),
                "peak_demand": round(peak, 1),
                "peak_at": part.loc[at, TS],
                # as learned: rounding here, and again for display, showed 1222.51 as 1,222
                # in the verdict but 1,223 in the safe loads and their reason
                "safe_load": safe_load,
                "servers_needed": needed,
                "servers_available": available,
                # as the verdict reads it: 0.049996 is GO, not 0.05
                "breach_probability": _rounded(probability, 4),
                "verdict": verdict,
                "add_servers": add,
                "act_by": act_by,
                "overdue": bool(add and act_by < moment),
            }
        )
    names = () if replaced is None else tuple(replaced["name"])
    beside = (
        ()
        if overlapping is None
        else tuple(
            f"{name!r} ({event_id})"
            for name, event_id in overlapping.loc[
                overlapping["majority"] & ~overlapping["same"], ["name", "event_id"]
            ].itertuples(index=False)
        )
    )
    skipped = skipped_warnings(
        run.summary, "this check's table", history=history, cutoff=run.cutoff, held=run.held
    )
    return EventCheck(
        event,
        pd.DataFrame(rows),
        pd.concat(hourly, ignore_index=True),
        names,
        cutoff,
        moment,
        tuple(skipped),
        beside,
        tuple(run.unsized_notes(first, last)),
    )


#: Kinds of stored event that a new planned event of the same name replaces.
_REPLACEABLE_KINDS = ("launch", "season", "marketing")


def _name_words(name: str) -> frozenset[str]:
    """The words of an event's name, case folded: ``Winter Festival 2026`` -> winter, ..."""
    return frozenset(re.findall(r"\w+", name.casefold()))


def _same_name(a: str, b: str) -> bool:
    """Whether two event names name one event: the words of one are all in the other
    (``Winter Festival`` and ``Winter Festival 2026``, not ``Holiday store sale``)."""
    first, second = _name_words(a), _name_words(b)
    return bool(first and second) and (first <= second or second <= first)


def _overlapping_stored_events(store: Store, event: PlannedEvent) -> pd.DataFrame:
    """Stored launches, season starts and marketing pushes that overlap the new event.

    Those touching one of the event's regions whose windows overlap it, with a column
    ``same``: whether the stored event is this new one planned again. That is decided by the
    name (see :func:`_same_name`), never by the dates alone, because an error that way is not
    symmetric: a sale during a festival taken to be the festival drops the festival's demand
    and can turn NO_GO into GO, while a festival checked under a name of its own is counted
    twice and errs towards more servers. A stored event that is the same one is left out of the
    forecast and the planner's uplift applied instead; any other stays in the forecast and the
    new event is checked on top of it (``majority``: the two share at least half of each
    window, which the notes point out, with the way to re-plan the stored event instead).
    Short stored events inside the window (esports finals, maintenance, holidays) stay as
    they are.
    """
    stored = store.events(start=event.start, end=event.end)
    if stored.empty:
        return stored.assign(same=pd.Series(dtype=bool), majority=pd.Series(dtype=bool))
    touches = stored["regions"].map(lambda rs: "all" in rs or bool(set(rs) & set(event.regions)))
    stored = stored.loc[touches & stored["kind"].isin(_REPLACEABLE_KINDS)]
    shared = stored["end_ts"].clip(upper=event.end) - stored["start_ts"].clip(lower=event.start)
    covers_new = shared / (event.end - event.start) >= 0.5
    covers_stored = shared / (stored["end_ts"] - stored["start_ts"]) >= 0.5
    return stored.assign(
        same=stored["name"].map(lambda name: _same_name(name, event.name)).astype(bool),
        majority=(covers_new & covers_stored).astype(bool),
    ).reset_index(drop=True)


def _stand_in(replaced: pd.DataFrame, event: PlannedEvent) -> pd.DataFrame:
    """The stored event that ``event`` replaces, moved to its window, regions and uplift.

    Forecast in its place, the event keeps the stored one's kind, so the forecaster gives it
    the shape it learned for that kind (a launch's ramp before and decay after) sized by the
    planner's uplift, as it would had the planner stored it. Of several replaced events the
    one sharing most hours with the new window stands in.
    """
    shared = replaced["end_ts"].clip(upper=event.end) - replaced["start_ts"].clip(lower=event.start)
    row = replaced.loc[[shared.idxmax()]].copy()
    row["name"] = event.name
    row["start_ts"] = event.start
    row["end_ts"] = event.end
    row["regions"] = [list(event.regions)]
    row["expected_uplift"] = event.uplift
    if "announced_at" in row:
        row["announced_at"] = pd.NaT
    return row.reset_index(drop=True)


#: The report's table: what to do first (verdict, servers to add, by when), then why; headed
#: with spaces so the headers wrap and the table fits a laptop's width.
_REPORT_COLUMNS = {
    REGION: REGION,
    SERVICE: SERVICE,
    "verdict": "verdict",
    "add_servers": "add servers",
    "act_by": "act_by",  # plan_table heads it "act by (UTC)" and marks it when overdue
    "overdue": "overdue",
    "servers_needed": "servers needed (N+k)",
    "servers_available": "servers available",
    "breach_probability": "breach probability",
    "peak_demand": "peak_demand",  # headed "peak demand", shown to the unit, by plan_table
    "peak_at": "peak at (UTC)",
    "metric": "metric",
    # headed "safe load per server" by plan_table, which shows it to a tenth by this name
    "safe_load": "safe_load",
}

_VERDICT_ORDER = ("GO", "AT_RISK", "NO_GO")


def _what_to_do(check: EventCheck) -> str:
    """HTML: the worst verdict, then each region/service to add servers to, earliest first."""
    import html

    table = check.table
    if table.empty:
        return ""
    counts = table["verdict"].value_counts()
    worst = max(table["verdict"], key=_VERDICT_ORDER.index)
    tally = ", ".join(f"{counts[v]} {v}" for v in reversed(_VERDICT_ORDER) if v in counts)
    head = (
        f"<p class='verdict'>Verdict: <b>{worst}</b> (the worst of {len(table)} "
        f"region/service{'s' if len(table) != 1 else ''}: {tally}).</p>"
    )
    short = table[table["add_servers"] > 0].sort_values(["act_by", REGION, SERVICE])
    if short.empty:
        return head + "<p>No servers to add: the servers available cover the N+k need.</p>"
    items = []
    for _, row in short.iterrows():
        late = " <b>(overdue: already past)</b>" if row["overdue"] else ""
        items.append(
            f"<li>{html.escape(f'{row[REGION]} / {row[SERVICE]}')}: add "
            f"{servers_text(int(row['add_servers']))} ({int(row['servers_available']):,} to "
            f"{int(row['servers_needed']):,}) by {row['act_by']:%Y-%m-%d %H:%M} UTC{late}</li>"
        )
    when = "" if check.checked_at is None else f", {check.checked_at:%Y-%m-%d %H:%M} UTC"
    return (
        head + f"<p>What to do, earliest first (a date to act by is the event's first hour less "
        f"the server type's boot and procurement lead times; <i>overdue</i> means it was "
        f"already past when the check ran{when}):</p>\n<ul>\n" + "\n".join(items) + "\n</ul>"
    )


def report_frame(check: EventCheck) -> pd.DataFrame:
    """The check's table as its report and notebook show it (through
    :func:`capacity.report.plan_table`): what to do first (verdict, servers to add, by
    when), then why, headed in words, the breach probability as :func:`probability_text`
    writes it and the peak hour to the minute.

    Parameters
    ----------
    check : EventCheck
        From :func:`check_event`.

    Returns
    -------
    pandas.DataFrame
        The columns of ``_REPORT_COLUMNS`` the table has, renamed; ``act_by`` and
        ``overdue`` keep their names for ``plan_table`` to fold into one marked date.
    """
    table = check.table.copy()
    table["peak_at"] = table["peak_at"].map(lambda t: "-" if pd.isna(t) else f"{t:%Y-%m-%d %H:%M}")
    table["breach_probability"] = table["breach_probability"].map(probability_text)
    return table[[c for c in _REPORT_COLUMNS if c in table]].rename(columns=_REPORT_COLUMNS)


def render_report(check: EventCheck, *, now: Any = None) -> str:
    """A self-contained HTML page (plotly embedded, opens offline) for one check.

    Parameters
    ----------
    check : EventCheck
        From :func:`check_event`.
    now : timestamp-like, optional
        When the report is made (for the stale-telemetry warning); default: now.

    Returns
    -------
    str
        The page: the event, the worst verdict and the servers to add by when, where the
        forecast starts, the notes the terminal prints (:meth:`EventCheck.notes`), the table
        (probabilities at the quantiles' bounds written ``≤0.01``/``≥0.99``) and the chart.
    """
    import html

    from capacity.charts import event_check_figure
    from capacity.report import plan_table

    event = check.event
    # as the notebook shows it: numbers rounded, the act-by date marked when overdue
    shown = plan_table(report_frame(check)).data
    todo = _what_to_do(check)
    notes = "\n".join(f"<li>{html.escape(line)}</li>" for line in check.notes(now))
    notes = f"<ul class='note'>\n{notes}\n</ul>" if notes else ""
    start = (
        ""
        if check.cutoff is None
        else f"<p>Forecast from {check.cutoff:%Y-%m-%d %H:%M} UTC, the hour after the newest "
        "telemetry of these regions.</p>"
    )
    figure = event_check_figure(check).to_html(full_html=False, include_plotlyjs=True)
    title = html.escape(f"Event check: {event.name}")
    scenario = html.escape(check.origin)
    uplift = event.expected_text
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }}
td, th {{ padding: 3px 6px; border-bottom: 1px solid #ddd; }}
td {{ white-space: nowrap; }}
.note {{ color: #8a5a00; }}
.verdict {{ font-size: 1.15rem; }}
</style></head><body>
<h1>{title}</h1>
<p>{html.escape(event.start.strftime("%Y-%m-%d %H:%M"))} to
{html.escape(event.end.strftime("%Y-%m-%d %H:%M"))} UTC in
{html.escape(", ".join(event.regions))}; {uplift}
({scenario}).</p>
{todo}
{start}
{notes}
{shown}
<p>Verdicts: GO when the probability that demand exceeds safe capacity (the servers available
times the safe load per server) stays under {AT_RISK_PROBABILITY:.0%} at every hour and the
servers cover N+k; AT_RISK from {AT_RISK_PROBABILITY:.0%} or without the N+k spare; NO_GO from
{NO_GO_PROBABILITY:.0%}. A probability of ≤0.01 is a bound: safe capacity clears even the
forecast's 99% quantile; ≥0.99, it falls short of even the 1% quantile. Servers needed: the
event's peak demand divided by the safe load, plus N+k; the region-loss need of
<code>capacity recommend</code> is not included.</p>
{figure}
</body></html>
"""
