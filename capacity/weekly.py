"""The weekly capacity plan's content: every table the report shows, computed in one place.

:func:`build_plan` runs the stages in order (history, fleet forecast, safe loads, headroom,
recommendations, region-loss survival, scaling schedule, accuracy of earlier runs, a short
backtest against seasonal naive, data quality) and returns a :class:`WeeklyPlan`;
:func:`write_outputs` writes its tables. The notebook ``weekly_capacity_plan`` only calls
these and draws the figures, so everything here is tested as ordinary code.

The plan for ISO week ``W`` is made as of the start of that week (Monday 00:00 UTC), or the
hour after the newest telemetry when that is earlier: rerunning a past week uses only the data
that existed for it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capacity import scaling
from capacity.columns import (
    METRIC,
    MODEL,
    OWN_MODEL,
    REGION,
    SERVICE,
    SHARED_QUANTILES,
    TS,
    model_order,
    quantile_column,
)
from capacity.config import FleetConfig, load_fleet
from capacity.decision import PreviousPlan, backtest_warning, read_previous_plan
from capacity.demand_held import first_held_instead, stored_demand_metrics
from capacity.errors import CapacityError, ParameterError
from capacity.forecast_fleet import STALE_AFTER, FleetForecast, fallen_back
from capacity.headroom import RegionLoss, assess, check_server_counts
from capacity.servers_ran import count_note, counts_below_ran, servers_last_week
from capacity.store import Store
from capacity.texts import first_few
from capacity.units import iso_utc, parse_duration

__all__ = [
    "ACT_WINDOW_DAYS",
    "PLAN_QUANTILES",
    "SAFE_LOAD_DECIMALS",
    "WeeklyPlan",
    "build_plan",
    "check_plannable",
    "horizon_warning",
    "json_safe",
    "overdue_from",
    "parse_week",
    "recommendations_csv",
    "rough_warning",
    "sized_recommendations",
    "sort_backtest",
    "stale_data_warning",
    "status_table",
    "unused_telemetry_warning",
    "week_of",
    "write_outputs",
]

#: Quantiles every weekly forecast carries (those recommend and check-event ask for too).
PLAN_QUANTILES = SHARED_QUANTILES
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)
#: Headroom under this share of the servers makes a region/service one to watch.
WATCH_HEADROOM = 0.10


def parse_week(text: str) -> tuple[str, pd.Timestamp]:
    """Read an ISO week such as ``2026-W48`` (or ``2026-w48``, ``2026W48``); return it as
    ``2026-W48`` and its Monday 00:00 UTC.

    Parameters
    ----------
    text : str
        The week as given.

    Returns
    -------
    tuple of (str, pandas.Timestamp)
        The week as ``2026-W48``, and its Monday 00:00 UTC.

    Raises
    ------
    ParameterError
        When the text is not an ISO week that exists.
    """
    match = _WEEK.match(text.strip()) if isinstance(text, str) else None
    if match:
        year, number = int(match.group(1)), int(match.group(2))
        try:
            monday = dt.date.fromisocalendar(year, number, 1)
        except ValueError:
            monday = None
        if monday is not None:
            return f"{year}-W{number:02d}", pd.Timestamp(monday, tz="UTC")
        if number == 53:  # a real week number, in a year that has 52
            raise ParameterError(
                f"The 'week' parameter names week 53 of {year}, which has 52 ISO weeks. "
                f"Got {text!r}.",
                fix=f"plan {year}-W52 or {year + 1}-W01",
            )
    raise ParameterError(
        f"The 'week' parameter must be an ISO week such as 2026-W48 (weeks 01 to 52 or 53). "
        f"Got {text!r}."
    )


def week_of(moment: pd.Timestamp) -> str:
    """The ISO week label of a moment, e.g. ``2026-W48``."""
    year, number, _ = moment.isocalendar()
    return f"{year}-W{number:02d}"


@dataclass
class WeeklyPlan:
    """Everything one week's plan shows. Build it with :func:`build_plan`."""

    week: str
    run_id: str
    cutoff: pd.Timestamp
    horizon: str
    quantile: float
    fleet: FleetConfig
    history: pd.DataFrame
    forecast: pd.DataFrame
    forecast_summary: pd.DataFrame
    safe: pd.DataFrame
    need: pd.DataFrame
    recommendations: pd.DataFrame
    survival: list[RegionLoss]
    schedule: pd.DataFrame
    events: pd.DataFrame
    accuracy: pd.DataFrame
    backtest: pd.DataFrame
    quality: pd.DataFrame
    inputs: dict[str, Any]
    resilience: pd.DataFrame = field(default_factory=pd.DataFrame)
    resilience_trend: pd.DataFrame = field(default_factory=pd.DataFrame)
    burn: pd.DataFrame = field(default_factory=pd.DataFrame)
    incidents_week: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: The plan published for the week before in the same plans folder, when it was asked
    #: for (``build_plan(plans_dir=...)``) and there is one.
    previous: PreviousPlan | None = None
    #: The moment a date to act by is overdue before (:func:`overdue_from`): the week's
    #: start, or now for a week still ahead, never before the cutoff; None: the cutoff.
    overdue_since: pd.Timestamp | None = None

    @property
    def overdue_from(self) -> pd.Timestamp:
        """When a date to act by is overdue before: :attr:`overdue_since`, else the cutoff."""
        return self.cutoff if self.overdue_since is None else self.overdue_since


#: Fewest days of telemetry behind a forecast before the plan calls its targets rough.
ROUGH_UNDER_DAYS = 14


def rough_warning(run: FleetForecast) -> str | None:
    """A warning when some forecasts rest on under :data:`ROUGH_UNDER_DAYS` days of telemetry:
    a week or two of history cannot tell a trend from a season, and the targets sized from
    them can be far off (a plan from four days of a 60-day demo asked for 2.3 times the peak).

    Returns
    -------
    str or None
        The warning, naming how many series and the shortest; None when every series has
        enough.
    """
    hours = run.summary.dropna(subset=["history_hours"])
    short = hours[hours["history_hours"] < ROUGH_UNDER_DAYS * 24]
    if short.empty:
        return None
    worst = short.loc[short["history_hours"].idxmin()]
    return (
        f"{len(short)} of the forecasts rest on under {ROUGH_UNDER_DAYS} days of telemetry "
        f"(the shortest, {worst[REGION]}/{worst[SERVICE]}, on "
        f"{worst['history_hours'] / 24:.1f} days), so their targets are rough"
    )


def overdue_from(
    week_start: pd.Timestamp, cutoff: pd.Timestamp, now: pd.Timestamp | None = None
) -> pd.Timestamp:
    """The moment before which a plan's date to act by is overdue.

    A plan is read from its week's start (Monday 00:00 UTC), or now for a week still ahead;
    when its telemetry ends before that (a stale export), a date between the end of the
    telemetry and then has passed too by the time the plan is read.

    Parameters
    ----------
    week_start : Timestamp
        Monday 00:00 UTC of the planned week.
    cutoff : Timestamp
        What the plan is made as of: the week's start, or the hour after the newest telemetry.
    now : Timestamp, optional
        The moment of planning; default the clock's.

    Returns
    -------
    Timestamp
        The later of ``cutoff`` and the earlier of ``week_start`` and ``now``.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    return max(cutoff, min(week_start, now))


def stale_data_warning(
    week_start: pd.Timestamp, cutoff: pd.Timestamp, now: pd.Timestamp | None = None
) -> str | None:
    """A warning when the plan is made from telemetry that ends well before it could.

    Telemetry can reach at most to now, and a plan needs it no later than its week's start,
    so the lag is measured to whichever comes first: planning next week on a Friday from
    telemetry up to that Friday is not stale.

    Parameters
    ----------
    week_start : Timestamp
        Monday 00:00 UTC of the planned week.
    cutoff : Timestamp
        What the plan is made as of: the week's start, or the hour after the newest telemetry.
    now : Timestamp, optional
        The moment of planning; default the clock's.

    Returns
    -------
    str or None
        The warning, or None when the telemetry reaches to within :data:`STALE_AFTER` of the
        week's start (or of now, for a week still ahead).
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    # how far the telemetry ends before the plan is read (overdue_from's moment)
    lag = overdue_from(week_start, cutoff, now) - cutoff
    if lag <= STALE_AFTER:
        return None
    days = lag / pd.Timedelta(days=1)
    before = "the week starts" if week_start <= now else "now"
    return (
        f"the newest demand telemetry ends {cutoff:%Y-%m-%d %H:%M} UTC, {days:.1f} days before "
        f"{before}, so this plan's forecast starts then and is {days:.1f} days older than it "
        "could be. Load or pull the latest telemetry (capacity ingest, capacity pull) and plan "
        "the week again with --force"
    )


def unused_telemetry_warning(
    week: str,
    cutoff: pd.Timestamp,
    newest: pd.Timestamp,
    plans_dir: str | Path | None = None,
) -> str | None:
    """A warning when telemetry newer than the plan's cutoff is left out of it.

    A plan for week W is made as of Monday 00:00 UTC of W: run later in the week (``capacity
    plan`` without ``--week`` on a Friday), it leaves out the days since, and so does a
    rerun of a past week, on purpose.

    Parameters
    ----------
    week : str
        The planned ISO week.
    cutoff : Timestamp
        What the plan is made as of.
    newest : Timestamp
        The newest demand telemetry's hour in the store.
    plans_dir : str or Path, optional
        The plans folder: when the week whose plan would start from the newest telemetry is
        published there already, the warning says so instead of asking for that plan.

    Returns
    -------
    str or None
        The warning, naming the telemetry left out and the week whose plan would start from
        it; None when the telemetry reaches at most :data:`STALE_AFTER` past the cutoff.
    """
    end = newest.tz_convert("UTC").floor("h") + pd.Timedelta(hours=1)
    if end - cutoff <= STALE_AFTER:
        return None
    monday = end.normalize() + pd.Timedelta(days=(7 - end.weekday()) % 7)
    if monday < end:
        monday += pd.Timedelta(days=7)
    later = week_of(monday)
    days = (end - cutoff) / pd.Timedelta(days=1)
    published = plans_dir is not None and (Path(plans_dir) / later / "manifest.json").is_file()
    then = (
        f"{later}'s plan, published in the same folder, forecasts from it"
        if published
        else f"Plan {later} (--week {later}) to forecast from the newest telemetry"
    )
    return (
        f"the demand telemetry from {cutoff:%Y-%m-%d %H:%M} to {newest:%Y-%m-%d %H:%M} UTC "
        f"({days:.1f} days) is after this plan's cutoff, the start of {week}, and not used. "
        f"{then}"
    )


#: The plans' cadence, in days: a shortfall that enters the horizon just after one weekly
#: plan is first shown by the next, this much nearer. A horizon shorter than the longest
#: procurement lead time plus this can show an addition overdue the first time it appears.
ACT_WINDOW_DAYS = 7


def horizon_warning(fleet: FleetConfig, horizon: str) -> str | None:
    """A warning when the plan's horizon leaves too little time to order what it shows.

    An addition is due its procurement lead time before the shortfall it covers, and a
    weekly plan first shows a shortfall up to :data:`ACT_WINDOW_DAYS` after it entered the
    horizon. With a 28-day horizon and a 21-day lead time, the first plan to show a shortfall
    leaves 0 to 7 days to order it; with a 24-day horizon, one entering the horizon just after
    a plan is overdue when the next one shows it. Only that case is warned of: a margin
    beyond it (the lead time plus two weeks leaves at least a week) is the planner's choice,
    and a warning on every run of a sound configuration would teach people to ignore it.

    Parameters
    ----------
    fleet : FleetConfig
        Its server types' ``procurement_lead_time_days`` (of the types its services run on).
    horizon : str
        The plan's horizon, as given (``28d``).

    Returns
    -------
    str or None
        The warning, naming the horizon, the longest lead time and its server type, and the
        ``--horizon`` that leaves :data:`ACT_WINDOW_DAYS` days to act, or, when that is
        beyond the longest horizon a plan forecasts, that none does and what to do instead;
        None when the horizon already reaches that far.
    """
    from capacity.forecast_fleet import MAX_HORIZON

    reach = parse_duration(horizon, "horizon")
    used = sorted({fleet.services[s].server_type for s in fleet.services})
    lead, slowest = max(
        ((fleet.server_types[t].procurement_lead_time_days, t) for t in used),
        key=lambda pair: pair[0],
    )
    wanted = pd.Timedelta(days=lead + ACT_WINDOW_DAYS)
    if reach >= wanted:
        return None
    left = (reach - pd.Timedelta(days=lead)) / pd.Timedelta(days=1)
    late = (
        "is overdue even at the horizon's end"
        if left <= 0
        else f"leaves {left:g} day{'' if left == 1 else 's'} to order at the horizon's end and "
        "is overdue a week later"
    )
    head = (
        f"the plan's horizon, {horizon}, is shorter than the longest procurement lead time, "
        f"{lead:g} days ({slowest}), plus a week: a shortfall {late}, so a weekly plan can show "
        "an addition already overdue. "
    )
    suggested = math.ceil(lead + 2 * ACT_WINDOW_DAYS)
    if suggested <= MAX_HORIZON.days:
        return head + (
            f"Plan with --horizon {suggested}d to leave at least a week to act on every "
            "addition when a weekly plan first shows it"
        )
    # no horizon a plan forecasts leaves a week: say so, rather than name one that does not
    longest = f"{MAX_HORIZON.days}d"
    further = (
        f"Plan with --horizon {longest}, the longest a plan forecasts, for the most notice, though "
        if reach < MAX_HORIZON
        else f"A plan forecasts at most {longest}, so "
    )
    return (
        head
        + further
        + (
            f"no horizon leaves a week to act on a {lead:g}-day lead time: order servers of "
            f"type {slowest} ahead of the plan, or shorten its procurement_lead_time_days if "
            "the supplier allows"
        )
    )


#: Decimals of a safe load in the machine outputs: as ``scaling_schedule.csv`` writes it, so
#: that ``recommendations.csv`` and the schedule give one value for one region/service.
SAFE_LOAD_DECIMALS = 3


def sized_recommendations(recommendations: pd.DataFrame, safe: pd.DataFrame) -> pd.DataFrame:
    """The recommendations with what each row is sized at: the rows of
    ``recommendations.csv`` and of ``capacity recommend --format csv`` and ``json``.

    Parameters
    ----------
    recommendations : pandas.DataFrame
        :func:`capacity.headroom.recommend`'s rows.
    safe : pandas.DataFrame
        :func:`capacity.sizing.safe_loads`' rows: each row's ``safe_load`` (rounded to
        :data:`SAFE_LOAD_DECIMALS`, as ``scaling_schedule.csv`` writes it) and its
        ``source`` (``learned``, or ``hint``: the fleet file's ``safe_load_hint``) are added
        as ``safe_load, safe_load_source``.

    Returns
    -------
    pandas.DataFrame
        ``recommendations``' columns, then ``safe_load, safe_load_source``.
    """
    sized = safe.loc[:, [REGION, SERVICE, "safe_load", "source"]].rename(
        columns={"source": "safe_load_source"}
    )
    sized["safe_load"] = sized["safe_load"].astype(float).round(SAFE_LOAD_DECIMALS)
    return recommendations.merge(sized, on=[REGION, SERVICE], how="left")


def recommendations_csv(recommendations: pd.DataFrame, safe: pd.DataFrame) -> str:
    """The recommendations as CSV text: ``recommendations.csv`` of the weekly plan, and what
    ``capacity recommend --format csv`` prints.

    Parameters
    ----------
    recommendations : pandas.DataFrame
        :func:`capacity.headroom.recommend`'s rows.
    safe : pandas.DataFrame
        :func:`capacity.sizing.safe_loads`' rows, added as :func:`sized_recommendations`
        adds them.

    Returns
    -------
    str
        A header and one row per region/service, ``\\n`` line endings; times in UTC as
        ``2026-11-23T00:00:00Z`` (as ``scaling_schedule.csv``), an empty cell for none;
        flags (``overdue``) as ``true`` or ``false``, as ``recommend --format json`` writes
        them.
    """
    table = sized_recommendations(recommendations, safe)
    for column in table.columns:
        if isinstance(table[column].dtype, pd.DatetimeTZDtype):
            table[column] = table[column].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif pd.api.types.is_bool_dtype(table[column]):
            # JSON's spelling, not Python's True/False
            table[column] = table[column].map({True: "true", False: "false"})
    return table.to_csv(index=False, lineterminator="\n")


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - started, 3)


def _accuracy(store: Store, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Earlier stored runs against what happened: per run (and the cutoff it forecast from:
    a run id names when a run was made, not the week it planned) and series, MAPE, coverage,
    peak.

    The newest run of each of the last four cutoffs before ``cutoff``: runs repeated from the
    same data (ad-hoc ``forecast-fleet`` runs, reruns) would otherwise crowd out the earlier
    weeks' forecasts.
    """
    runs = store.forecast_runs()
    runs = runs.assign(cutoff=pd.to_datetime(runs["cutoff"], utc=True))
    runs = runs[runs["cutoff"] < cutoff].sort_values(
        ["cutoff", "created_at"], ascending=False, kind="stable"
    )
    rows = []
    for run_id, made_from in (
        runs.drop_duplicates("cutoff")[["run_id", "cutoff"]].head(4).itertuples(index=False)
    ):
        forecast = store.forecast(run_id)
        lo, hi = forecast[TS].min(), min(forecast[TS].max() + pd.Timedelta(hours=1), cutoff)
        if hi <= lo:
            continue
        actual = store.series(
            region=sorted(forecast[REGION].unique()),
            metric=sorted(forecast[METRIC].unique()),
            start=lo,
            end=hi,
            strict=False,
        )
        both = forecast.merge(actual, on=[REGION, SERVICE, METRIC, TS]).dropna(subset=["value"])
        low, high = quantile_column(0.05), quantile_column(0.95)
        for (region, service, metric), part in both.groupby([REGION, SERVICE, METRIC]):
            if part.empty:
                continue
            actual_v, predicted = part["value"].to_numpy(), part["yhat"].to_numpy()
            positive = actual_v > 0
            daily = part.assign(day=part[TS].dt.floor("D")).groupby("day")
            peaks = daily["value"].max()
            rows.append(
                {
                    "run_id": run_id,
                    "cutoff": made_from,
                    REGION: region,
                    SERVICE: service,
                    METRIC: metric,
                    "hours": len(part),
                    "mape": float(
                        np.mean(np.abs(predicted - actual_v)[positive] / actual_v[positive])
                    ),
                    "coverage_90": float(
                        np.mean((part[low] <= part["value"]) & (part["value"] <= part[high]))
                    )
                    if low in part and high in part
                    else np.nan,
                    "peak_ape": float(np.mean(np.abs(daily["yhat"].max() - peaks) / peaks)),
                }
            )
    return pd.DataFrame(rows)


#: Hours of history the plan's backtest needs: the week it scores, and before it the weekly
#: naive's week plus the hour it repeats from.
_BACKTEST_HOURS = 168 + 169


#: The quantiles the plan's backtest scores (its 90 % interval and the median).
_BACKTEST_QUANTILES = (0.05, 0.5, 0.95)


def _backtest_task(task: tuple[str, str, str, pd.DataFrame, pd.DataFrame, dict]) -> list[dict]:
    from capacity.baselines import SeasonalNaive
    from capacity.comparison import PlacedForecaster, compare
    from capacity.forecast import DemandForecaster

    region, service, metric, series, events, place = task
    quantiles = _BACKTEST_QUANTILES
    models = {
        OWN_MODEL: PlacedForecaster(DemandForecaster(quantiles=quantiles), place),
        "seasonal naive (weekly)": SeasonalNaive(season_length=168, quantiles=quantiles),
    }
    key = {REGION: region, SERVICE: service, METRIC: metric}
    if len(series) < _BACKTEST_HOURS:
        problem = (
            f"{len(series) / 24:.1f} days of telemetry: the backtest scores last week's forecast "
            f"against a weekly naive, which needs over {_BACKTEST_HOURS // 24} days"
        )
        return [{**key, "model": OWN_MODEL, "error": problem}]
    try:
        overall = compare(
            series, models, horizon=168, n_windows=1, step=168, events=events
        ).overall()
    except CapacityError as exc:  # a series too young for the window: shown, not fatal
        return [{**key, "model": OWN_MODEL, "error": f"{type(exc).__name__}: {exc}"}]
    return [
        {
            **key,
            "model": row["model"],
            "mase": float(row["mase"]),
            "coverage_90": float(row.get("coverage_90", np.nan)),
            "peak_ape": float(row["peak_ape"]),
        }
        for _, row in overall.iterrows()
    ]


def _backtests(
    store: Store, fleet: FleetConfig, history: pd.DataFrame, jobs: int | None
) -> pd.DataFrame:
    """Each demand series' one-week backtest rows, from the forecast cache where the same
    history, calendar (the events starting before the history ends) and code were
    backtested before (a rerun of the week)."""
    from capacity.forecast_cache import ForecastCache, cached_map, series_key

    cache = ForecastCache.from_environment()
    tasks, keys = [], []
    for (region, service, metric), part in history.groupby([REGION, SERVICE, METRIC], sort=True):
        place = {
            "holidays_country": fleet.regions[region].holidays_country,
            "timezone": fleet.regions[region].timezone,
        }
        series = part.loc[:, [TS, "value"]].reset_index(drop=True)
        # the backtest's last window ends with the series, so an event starting later is
        # never seen: left out, a newly planned one does not make a rerun backtest again
        events = store.events(
            region=region, end=series[TS].max() + pd.Timedelta(hours=1), strict=False
        )
        tasks.append((region, service, metric, series, events, place))
        if cache is not None:
            # the series' names too: the rows kept carry them
            keys.append(
                series_key(
                    series,
                    events,
                    timezone=place["timezone"],
                    holidays_country=place["holidays_country"],
                    horizon=168,
                    params={
                        "backtest": "weekly plan",
                        "series": (region, service, metric),
                        "quantiles": _BACKTEST_QUANTILES,
                    },
                )
            )
    outcomes = cached_map(_backtest_task, tasks, keys, cache, jobs=jobs)
    rows = [row for result, _ in outcomes for row in result]
    return sort_backtest(pd.DataFrame(rows))


def sort_backtest(backtest: pd.DataFrame) -> pd.DataFrame:
    """Backtest rows in one order for every series: the series sorted (region, service,
    metric), and within each the project's forecaster first, then the baselines by name.

    :func:`capacity.comparison.compare` lists a series' models best first, so the order
    flipped from one series to the next and a reader comparing down the table misread them.
    """
    if backtest.empty or MODEL not in backtest:
        return backtest
    keys = [c for c in (REGION, SERVICE, METRIC) if c in backtest]
    ranked = backtest.assign(_rank=backtest[MODEL].map(model_order))
    return (
        ranked.sort_values([*keys, "_rank"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _quality(history: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Per series: the hours from its first observation to the cutoff, the missing ones among
    them (the window's hours before a series began are not missing: it did not exist), and
    the forecast's model, fallback, masked hours and status."""
    observed = history["value"].notna()
    began = observed.groupby([history[REGION], history[SERVICE], history[METRIC]]).cummax()
    gaps = (
        history[began.to_numpy()]
        .assign(missing=lambda frame: frame["value"].isna())
        .groupby([REGION, SERVICE, METRIC], as_index=False)
        .agg(hours=("value", "size"), missing_hours=("missing", "sum"))
    )
    columns = [REGION, SERVICE, METRIC, "model", "fallback", "masked_hours", "status"]
    present = [c for c in columns if c in summary]
    return gaps.merge(summary.loc[:, present], on=[REGION, SERVICE, METRIC], how="outer")


def status_table(plan: WeeklyPlan) -> pd.DataFrame:
    """The verdict per region/service: ``act``, ``watch`` or ``OK``, with the action and date.

    ``act``: the action is to scale up. ``OK`` when it is to scale down: a surplus every
    hour, after N+k and the region-loss need, is no reason to watch, however small the
    headroom over the servers now. Otherwise ``watch`` when the headroom falls under
    :data:`WATCH_HEADROOM` at some hour or the forecast fell back to a baseline (such a
    series is held, never scaled down: :func:`capacity.headroom.recommend`), else ``OK``.
    """
    worst = plan.need.groupby([REGION, SERVICE])["headroom"].min().rename("min_headroom")
    table = plan.recommendations.merge(worst.reset_index(), on=[REGION, SERVICE])
    rough = fallen_back(plan.forecast_summary)

    def verdict(row: pd.Series) -> str:
        if row["action"] == "scale_up":
            return "act"
        if row["action"] == "scale_down":
            return "OK"
        if row["min_headroom"] < WATCH_HEADROOM or (row[REGION], row[SERVICE]) in rough:
            return "watch"
        return "OK"

    table["status"] = table.apply(verdict, axis=1)
    return table.loc[
        :,
        [
            REGION,
            SERVICE,
            "status",
            "action",
            "servers_now",
            "target",
            "change",
            "act_by",
            "overdue",
            "cost_per_week_change",
            "min_headroom",
        ],
    ]


#: Fewest days of demand telemetry before a plan's cutoff that a forecast is made from.
MIN_HISTORY_DAYS = 3


def check_plannable(
    store: Store, fleet: FleetConfig, monday: pd.Timestamp, horizon: pd.Timedelta
) -> None:
    """Refuse, before any work, a week the store cannot plan.

    Parameters
    ----------
    store : Store
        The telemetry.
    fleet : FleetConfig
        The fleet planned: its demand metrics, and a server count for every region/service.
    monday : Timestamp
        The week's Monday 00:00 UTC.
    horizon : Timedelta
        How far the plan forecasts from the newest telemetry.

    Raises
    ------
    ParameterError
        When the store has no demand telemetry, less than :data:`MIN_HISTORY_DAYS` of it
        before the week, none for a region/service the fleet plans, or the week starts after
        the forecast ends.
    ConfigError
        When the fleet file has no server count for a region/service.
    """
    check_server_counts(fleet)  # every missing count at once, not one a run
    metrics = sorted({s.demand_metric for s in fleet.services.values()})
    oldest, newest = store.con.execute(
        "SELECT min(ts), max(ts) FROM telemetry WHERE list_contains(?, metric)", [metrics]
    ).fetchall()[0]
    if newest is None:
        wanted = fleet.demand_series()
        held = stored_demand_metrics(store.con, [(r, s) for r, s, _ in wanted])
        instead = first_held_instead(wanted, held)
        raise ParameterError(
            f"The store holds no demand telemetry ({', '.join(metrics)}) to plan from"
            + (f"; {instead}" if instead else ""),
            fix=None if instead else "load telemetry first (capacity ingest, capacity pull)",
        )
    oldest, newest = pd.Timestamp(oldest), pd.Timestamp(newest)
    cutoff = min(monday, newest.tz_convert("UTC").floor("h") + pd.Timedelta(hours=1))
    days = max((cutoff - oldest) / pd.Timedelta(days=1), 0.0)
    if days < MIN_HISTORY_DAYS:
        raise ParameterError(
            f"The week starting {monday:%Y-%m-%d} has {days:.1f} days of demand telemetry "
            f"before it (the telemetry starts {oldest:%Y-%m-%d %H:%M} UTC); a plan needs "
            f"{MIN_HISTORY_DAYS}.",
            fix="plan a later week",
        )
    wanted = fleet.demand_series()
    present = set(
        store.con.execute(
            "SELECT DISTINCT region, service, metric FROM telemetry "
            "WHERE list_contains(?, metric) AND ts < ?",
            [metrics, cutoff],
        ).fetchall()
    )
    lacking = [(r, s, m) for r, s, m in wanted if (r, s, m) not in present]
    absent = [f"{r}/{s} ({m})" for r, s, m in lacking]
    # a pair whose telemetry was loaded under the other demand metric: name it, not "load"
    held = stored_demand_metrics(store.con, [(r, s) for r, s, _ in lacking])
    instead = first_held_instead(lacking, held)
    if instead:
        raise ParameterError(
            f"The fleet file plans {len(absent)} region/service(s) with no demand telemetry "
            f"before {cutoff:%Y-%m-%d %H:%M} UTC: {first_few(absent, 6)}; {instead}"
        )
    if absent:
        # planned as no demand, it would need no servers and its loss would look survivable
        raise ParameterError(
            f"The fleet file plans {len(absent)} region/service(s) with no demand telemetry "
            f"before {cutoff:%Y-%m-%d %H:%M} UTC: {first_few(absent, 6)}.",
            fix="load that telemetry (capacity ingest, capacity pull); a service that does not "
            "run in one region cannot be left out of that region alone (every service is "
            "planned in every region): plan such a region with a fleet file of its own",
        )
    reach = cutoff + horizon
    if monday >= reach:
        hours = horizon / pd.Timedelta(hours=1)
        span = f"{hours / 24:g}d" if hours % 24 == 0 else f"{hours:g}h"
        raise ParameterError(
            f"The week starting {monday:%Y-%m-%d} lies beyond the forecast: the demand "
            f"telemetry ends {cutoff:%Y-%m-%d %H:%M} UTC and the plan forecasts {span} from "
            f"there, to {reach:%Y-%m-%d %H:%M} UTC.",
            fix="load newer telemetry, or give a longer --horizon",
        )


def build_plan(
    *,
    week: str,
    db: str | Path,
    config: str | Path,
    run_id: str,
    horizon: str = "28d",
    history: str = "112d",
    quantile: float = 0.95,
    jobs: int | None = None,
    backtest: bool = True,
    progress: Callable[[str], None] | None = None,
    plans_dir: str | Path | None = None,
) -> WeeklyPlan:
    """Compute one week's plan and store its forecast run.

    Parameters
    ----------
    week : str
        ISO week, e.g. ``2026-W48``.
    db, config : str or Path
        The store (opened for writing: the forecast run is stored) and the fleet YAML.
    run_id : str
        The id of this plan's forecast run; empty for a new one.
    horizon, history : str
        How far ahead to plan and how much history to fit.
    quantile : float
        The demand quantile to size for (one of :data:`PLAN_QUANTILES`).
    jobs : int, optional
        Worker processes.
    backtest : bool
        Include the one-week backtest against seasonal naive.
    progress : callable, optional
        Called with the name of each stage as it starts.
    plans_dir : str or Path, optional
        The folder plans are published in: the plan published there for the week before is
        read (:func:`capacity.decision.read_previous_plan`) for the report's comparison,
        and recorded in ``inputs["previous_plan"]``.

    Returns
    -------
    WeeklyPlan
    """
    from capacity.forecast_fleet import forecast_fleet, new_run_id
    from capacity.sizing import safe_loads

    run_id = run_id or new_run_id()
    label, monday = parse_week(week)
    if quantile not in PLAN_QUANTILES:
        raise ParameterError(
            f"The 'quantile' parameter must be one of {PLAN_QUANTILES}. Got {quantile!r}."
        )
    step = parse_duration(horizon, "horizon")
    span = parse_duration(history, "history")
    fleet = load_fleet(config)
    timings: dict[str, float] = {}
    say = progress or (lambda stage: None)
    with Store(db) as store:
        metrics = sorted({s.demand_metric for s in fleet.services.values()})
        newest = store.con.execute(
            "SELECT max(ts) FROM telemetry WHERE list_contains(?, metric)", [metrics]
        ).fetchall()[0][0]
        if newest is None:
            raise ParameterError(f"The store {db} holds no demand telemetry to plan from.")
        newest = pd.Timestamp(newest).tz_convert("UTC")
        cutoff = min(monday, newest.floor("h") + pd.Timedelta(hours=1))
        # a stale plan is read from the week's start all the same: dates before then are late
        late_from = overdue_from(monday, cutoff)
        say("history")
        with _timed(timings, "history"):
            demand = store.series(
                region=list(fleet.regions),
                metric=metrics,
                start=cutoff - span,
                end=cutoff,
                strict=False,
            )
            wanted = set(fleet.demand_series())
            keys = list(zip(demand[REGION], demand[SERVICE], demand[METRIC], strict=True))
            demand = demand[[key in wanted for key in keys]].reset_index(drop=True)
        say("forecast")
        with _timed(timings, "forecast"):
            run = forecast_fleet(
                store,
                fleet,
                horizon=horizon,
                history=history,
                quantiles=PLAN_QUANTILES,
                cutoff=cutoff,
                jobs=jobs,
                run_id=run_id,
                # Cold fits: a rerun of the same week must reproduce the published plan.
                warm_start=False,
            )
        say("sizing")
        with _timed(timings, "sizing"):
            safe = safe_loads(store, fleet, end=cutoff)
        say("headroom")
        with _timed(timings, "headroom"):
            events = store.events(start=cutoff - pd.Timedelta(days=28), end=cutoff + step)
            # as `capacity recommend` does, forecast from the cutoff
            sized = assess(
                run.frame,
                safe,
                fleet,
                now=late_from,
                quantile=quantile,
                events=events,
                fallback=fallen_back(run.summary),
            )
            schedule = scaling.schedule(sized.need, fleet)
        say("accuracy")
        with _timed(timings, "accuracy"):
            accuracy = _accuracy(store, cutoff)
        say("backtest")
        with _timed(timings, "backtest"):
            backtests = _backtests(store, fleet, demand, jobs) if backtest else pd.DataFrame()
        say("resilience")
        with _timed(timings, "resilience"):
            resilience = _resilience(store, fleet, cutoff)
        inputs = _fingerprints(store, db, config, cutoff)
        # a current_servers count below what ran reads as servers to buy in the plan
        ran = servers_last_week(store, [(r, s) for r, s, _ in fleet.demand_series()], end=cutoff)
    previous = None if plans_dir is None else read_previous_plan(plans_dir, label)
    # what "what changed since last week" compares with: its republication changes the report
    inputs["previous_plan"] = None if previous is None else previous.reference()
    quality = _quality(demand, run.summary)
    warnings = [
        stale_data_warning(monday, cutoff),
        unused_telemetry_warning(label, cutoff, newest, plans_dir),
        horizon_warning(fleet, horizon),
        rough_warning(run),
        backtest_warning(backtests),
    ]
    warnings += [
        note.removeprefix("note: ")
        for note in count_note(counts_below_ran(fleet, ran), "This plan takes")
    ]
    return WeeklyPlan(
        week=label,
        run_id=run.run_id,
        cutoff=cutoff,
        horizon=horizon,
        quantile=quantile,
        fleet=fleet,
        history=demand,
        forecast=run.frame,
        forecast_summary=run.summary,
        safe=safe,
        need=sized.need,
        recommendations=sized.recommendations,
        survival=sized.survival,
        schedule=schedule,
        events=events,
        accuracy=accuracy,
        backtest=backtests,
        quality=quality,
        inputs=inputs,
        timings=timings,
        warnings=[w for w in warnings if w] + [note.removeprefix("note: ") for note in run.notes()],
        previous=previous,
        overdue_since=late_from,
        **resilience,
    )


def _resilience(store: Store, fleet: FleetConfig, cutoff: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The last 4 weeks' resilience figures, their trend, daily burn and the week's incidents."""
    from capacity import resilience

    since = cutoff - pd.Timedelta(weeks=8)
    rates = store.series(
        metric="error_rate",
        region=list(fleet.regions),
        service=list(fleet.services),
        start=since,
        end=cutoff,
        strict=False,
    )
    incidents, _ = resilience.within_fleet(store.incidents(), fleet)
    deploys, _ = resilience.within_fleet(store.deploys(), fleet)
    incidents = _as_of(incidents, cutoff)
    deploys = deploys[deploys["deployed_at"] < cutoff]
    current = resilience.kpis(
        incidents, deploys, rates, fleet, since=cutoff - pd.Timedelta(weeks=4), until=cutoff
    )
    change = resilience.trend(incidents, deploys, rates, fleet, until=cutoff, weeks=4)
    recent = rates[rates[TS] >= cutoff - pd.Timedelta(weeks=4)]
    # pooled as kpis pools a group: the region's errors over its budget, each known
    # series-hour weighing the same (a mean of each series' burn rate overweighted the
    # services with the smallest budgets)
    target = recent[SERVICE].map({s: v.slo.availability for s, v in fleet.services.items()})
    daily = (
        recent.assign(
            day=recent[TS].dt.floor("D"),
            allowed=(1 - target).where(recent["value"].notna(), 0.0),
        )
        .groupby([REGION, "day"], as_index=False)[["value", "allowed"]]
        .sum()
    )
    burn = daily.assign(burn=daily["value"] / daily["allowed"]).loc[:, [REGION, "day", "burn"]]
    week = incidents[incidents["started_at"] >= cutoff - pd.Timedelta(weeks=1)].copy()
    calendar = store.events(start=cutoff - pd.Timedelta(weeks=2), end=cutoff)
    week["preceding_events"] = [
        ", ".join(
            calendar.loc[
                calendar["regions"].map(lambda rs, r=region: r in rs or "all" in rs)
                & (calendar["start_ts"] <= started)
                & (calendar["end_ts"] >= started - pd.Timedelta(hours=24)),
                "name",
            ]
        )
        for region, started in zip(week[REGION], week["started_at"], strict=True)
    ]
    return {
        "resilience": current,
        "resilience_trend": change,
        "burn": burn,
        "incidents_week": week.reset_index(drop=True),
    }


def _as_of(incidents: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The incidents as they stood at ``cutoff``: those that started before it, with a
    ``detected_at`` or ``resolved_at`` at or after it not yet known (NaT), so that an incident
    open at the cutoff is open in a plan made then, whenever it was resolved."""
    known = incidents[incidents["started_at"] < cutoff].copy()
    for column in ("detected_at", "resolved_at"):
        known[column] = known[column].where(known[column] < cutoff)
    return known


def _sha256(path: str | Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _fingerprints(store: Store, db: str | Path, config: str | Path, cutoff: pd.Timestamp) -> dict:
    # bit_xor of row hashes: a checksum of the content, whatever the order, in one scan
    rows, first, last, telemetry_sum = store.con.execute(
        "SELECT count(*), min(ts), max(ts), "
        "coalesce(bit_xor(hash(ts, region, service, metric, value)), 0) "
        "FROM telemetry WHERE ts < ?",
        [cutoff],
    ).fetchall()[0]
    from capacity.resilience import DEPLOY_COLUMNS, INCIDENT_COLUMNS

    # what the plan reads of the logs (see _as_of): the incidents that started before the
    # cutoff with a detection or resolution after it unknown, and the deploys before it; an
    # incident logged, or resolved, after the cutoff leaves a past week's plan as it was
    as_seen = {
        "detected_at": "CASE WHEN detected_at < $cutoff THEN detected_at END",
        "resolved_at": "CASE WHEN resolved_at < $cutoff THEN resolved_at END",
    }
    logs = {
        table: store.con.execute(
            f"SELECT count(*), coalesce(bit_xor(hash("
            f"{', '.join(as_seen.get(c, c) for c in columns)})), 0) "
            f"FROM {table} WHERE {moment} < $cutoff",
            {"cutoff": cutoff},
        ).fetchall()[0]
        for table, columns, moment in (
            ("incidents", INCIDENT_COLUMNS, "started_at"),
            ("deploys", DEPLOY_COLUMNS, "deployed_at"),
        )
    }
    calendar = store.con.execute(
        "SELECT count(*), coalesce(sha256(string_agg(event_id || name || kind || start_ts || "
        "end_ts || array_to_string(regions, ';') || coalesce(expected_uplift::VARCHAR, ''), '|' "
        "ORDER BY event_id)), '') FROM events"
    ).fetchall()[0]
    return {
        "store": str(db),
        "telemetry_rows": int(rows),
        "telemetry_first": None if first is None else pd.Timestamp(first).isoformat(),
        "telemetry_last": None if last is None else pd.Timestamp(last).isoformat(),
        "telemetry_checksum": f"{telemetry_sum:016x}",
        "calendar_events": int(calendar[0]),
        "calendar_sha256": calendar[1],
        "config": str(config),
        "config_sha256": _sha256(config),
        **{f"{table}": int(count) for table, (count, _) in logs.items()},
        **{f"{table}_checksum": f"{total:016x}" for table, (_, total) in logs.items()},
    }


def write_outputs(plan: WeeklyPlan, out_dir: str | Path) -> dict[str, Path]:
    """Write the plan's tables into ``out_dir``; return their paths by name.

    ``forecast.parquet`` (the fleet forecast), ``recommendations.csv``,
    ``scaling_schedule.csv`` and ``plan.json`` (verdicts, survival, timings, inputs).

    Parameters
    ----------
    plan : WeeklyPlan
        The plan to write.
    out_dir : str or Path
        The folder to write into (created when missing).

    Returns
    -------
    dict of str to Path
        The files written, by name: ``forecast``, ``recommendations``, ``schedule``,
        ``summary``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "forecast": out / "forecast.parquet",
        "recommendations": out / "recommendations.csv",
        "schedule": out / "scaling_schedule.csv",
        "summary": out / "plan.json",
    }
    plan.forecast.to_parquet(paths["forecast"], index=False)
    paths["recommendations"].write_text(
        recommendations_csv(plan.recommendations, plan.safe), encoding="utf-8"
    )
    # the same text as `capacity schedule --format csv`: ISO times in UTC, 3 decimals
    paths["schedule"].write_text(scaling.to_csv_text(plan.schedule), encoding="utf-8")
    summary = {
        "week": plan.week,
        "run_id": plan.run_id,
        "cutoff": plan.cutoff.isoformat(),
        "horizon": plan.horizon,
        "quantile": plan.quantile,
        "status": status_table(plan).to_dict(orient="records"),
        # status beside survives: a loss not checked has survives null
        "region_loss": [loss.record() for loss in plan.survival],
        # the earlier runs the accuracy section read: a new one changes the report
        "inputs": {
            **plan.inputs,
            "earlier_runs": sorted(plan.accuracy["run_id"].unique().tolist())
            if "run_id" in plan.accuracy
            else [],
        },
        "timings": plan.timings,
        "warnings": plan.warnings,
    }
    text = json.dumps(json_safe(summary), indent=2, default=str, allow_nan=False)
    paths["summary"].write_text(text, encoding="utf-8")
    return paths


def json_safe(value: Any, *, utc_z: bool = False) -> Any:
    """``value`` with every NaN or infinite float replaced by None, so that ``json.dumps``
    writes valid JSON (``null``) rather than ``NaN`` or ``-Infinity``, which JSON readers
    refuse (a service with no servers has a headroom of minus infinity), and every missing
    time (``NaT``: an ``act_by`` with nothing to act on) by None, not the string ``"NaT"``;
    every other time is ISO 8601 (``2026-11-20T10:58:00+00:00``, as ``manifest.json``
    documents it), as JSON readers parse it; with ``utc_z``, in UTC with ``Z``
    (``2026-11-20T10:58:00Z``), as the commands' JSON and every CSV write it."""
    if value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {k: json_safe(v, utc_z=utc_z) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, utc_z=utc_z) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime):  # pandas Timestamps too: ISO 8601, 'T' and offset
        return iso_utc(value) if utc_z else value.isoformat()
    return value
