"""Forecasting every demand series of the fleet, fanned out through :mod:`capacity.parallel`.

For each region and service in the fleet configuration, the service's demand metric (``ccu``
or ``rps``) is read from the store over the training history, the live-ops calendar is scoped
to the region and cut to what is known at the cutoff, and a
:class:`~capacity.forecast.DemandForecaster` is fitted and asked for the horizon. One series
that cannot be forecast never stops the run: it falls back to a seasonal-naive baseline, or,
when even that is impossible, is reported as skipped.
"""

from __future__ import annotations

import errno
import logging
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from capacity.columns import (
    DEFAULT_QUANTILES,
    END_TS,
    EVENT_ID,
    FALLBACK,
    KIND,
    METRIC,
    MODEL,
    NAME,
    REGION,
    SERVICE,
    SHARED_QUANTILES,
    START_TS,
    TS,
    quantile_column,
)
from capacity.config import FleetConfig
from capacity.demand_held import first_held_instead, stored_demand_metrics
from capacity.errors import CapacityError, DataError, ParameterError, ResourceError, the_parameter
from capacity.fingerprints import code_sha256
from capacity.forecast_cache import ForecastCache, cached_map, series_key
from capacity.quantile_levels import check_quantiles
from capacity.scratch import user_tempdir
from capacity.store import Store
from capacity.texts import first_few
from capacity.units import as_utc, parse_duration

__all__ = [
    "FleetForecast",
    "SeriesTask",
    "fallen_back",
    "forecast_fleet",
    "horizon_hours",
    "new_run_id",
]

log = logging.getLogger(__name__)

#: A series whose telemetry ends longer than this before the fleet's cutoff gets a note.
STALE_AFTER = pd.Timedelta(days=1)
#: The longest horizon: holidays are known 400 days ahead, and a year bounds any plan.
MAX_HORIZON = pd.Timedelta(days=366)
#: What a fit imports only when it runs, beside this module: every Dask worker is asked to
#: import them before any fit is sent (:func:`capacity.parallel.map_tasks`).
WORKER_IMPORTS = ("capacity.forecast", "prophet")
#: How far past the machine's clock the newest telemetry may lie (clock skew).
_FUTURE_TOLERANCE = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class SeriesTask:
    """Everything one worker needs to forecast one series (it is pickled)."""

    region: str
    service: str
    metric: str
    series: pd.DataFrame
    events: pd.DataFrame | None
    timezone: str | None
    holidays_country: str | None
    horizon: int
    params: dict[str, Any] = field(default_factory=dict)
    warm_start: dict[str, Any] | None = None


@dataclass(frozen=True)
class FleetForecast:
    """A fleet forecast run.

    Attributes
    ----------
    run_id : str
        Its id in the store.
    frame : pandas.DataFrame
        ``region, service, metric, ts, yhat``, the quantile columns, ``model``, ``fallback``.
    summary : pandas.DataFrame
        One row per series: ``region, service, metric, model, fallback, masked_hours,
        history_hours, last_ts`` (the last observed hour), ``warm_start, status`` (``ok``;
        ``baseline`` whenever ``fallback`` is true, whether the forecaster refused the series
        or fell back inside its fit, as for a constant series; ``skipped: <reason>``),
        ``unsized_events`` (``(name, kind, start, end)`` of each event its forecast leaves
        out, :meth:`unsized_notes`) and ``cached`` (reused from the forecast cache:
        ``warm_start`` is then the first fit's).
    cutoff : pandas.Timestamp
        The first forecast hour; the history ends just before it.
    seconds : float
        Wall time of the run.
    quantiles, params, fit_params
        What :meth:`save` stores beside the forecast: the quantiles, the run's settings and
        each series' fitted Prophet parameters (the next run's warm start).
    held : dict
        For each region/service skipped for want of its demand metric, the demand metrics the
        store holds for it (the other one, loaded under the wrong name:
        :mod:`capacity.demand_held`); empty when every series had telemetry.
    """

    run_id: str
    frame: pd.DataFrame
    summary: pd.DataFrame
    cutoff: pd.Timestamp
    seconds: float
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    params: dict[str, Any] = field(default_factory=dict)
    fit_params: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    held: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def save(self, store: Store) -> None:
        """Store the run in ``store``'s ``forecasts`` table (open it writable).

        A run is saved after its fits, so the store need be open for writing only then.
        """
        store.save_forecast(
            self.frame,
            run_id=self.run_id,
            quantiles=self.quantiles,
            params=self.params,
            cutoff=self.cutoff,
            seconds=self.seconds,
            fit_params=self.fit_params,
            skipped=self.skipped(),
        )

    def skipped(self) -> list[dict[str, str]]:
        """The series the run left out (its ``skipped: ...`` summary rows), each as
        ``region, service, metric, reason``; :meth:`save` stores them with the run, so that
        :meth:`Store.forecast_runs` tells a fleet forecast whole from one that left some out.
        """
        if self.summary.empty or "status" not in self.summary:
            return []
        status = self.summary["status"].astype(str)
        rows = self.summary[status.str.startswith("skipped")]
        return [
            {
                REGION: str(row[REGION]),
                SERVICE: str(row[SERVICE]),
                METRIC: str(row[METRIC]),
                "reason": str(row["status"]).removeprefix("skipped: "),
            }
            for _, row in rows.iterrows()
        ]

    def notes(self) -> list[str]:
        """``note:`` lines for series whose telemetry ends over a day before the cutoff (their
        forecasts start across that gap), then for events the forecasts leave out (see
        :meth:`capacity.DemandForecaster.unsized_events`), one line per event."""
        lines = []
        if "last_ts" not in self.summary:
            return lines + self.unsized_notes()
        for row in self.summary.itertuples(index=False):
            last = row.last_ts
            if pd.isna(last) or self.cutoff - last <= STALE_AFTER:
                continue
            days = (self.cutoff - last) / pd.Timedelta(days=1)
            lines.append(
                f"note: {row.region}/{row.service} ({row.metric}) telemetry ends "
                f"{last:%Y-%m-%d %H:%M} UTC, {days:.1f} days before the forecast starts; "
                "its forecast crosses that gap"
            )
        return lines + self.unsized_notes()

    def unsized_notes(self, start: Any = None, end: Any = None) -> list[str]:
        """One ``note:`` per event some series' forecast leaves out, naming those series: of a
        kind too rare in their history to learn and with no ``expected_uplift`` (see
        :meth:`capacity.DemandForecaster.unsized_events`).

        Parameters
        ----------
        start, end : timestamp-like, optional
            Only events overlapping ``[start, end)``; default: every one in the horizon.

        Returns
        -------
        list of str
            The lines, the earliest event first.
        """
        if "unsized_events" not in self.summary:
            return []
        lo = None if start is None else as_utc(pd.Timestamp(start))
        hi = None if end is None else as_utc(pd.Timestamp(end))
        where: dict[tuple[str, str, pd.Timestamp, pd.Timestamp], list[str]] = {}
        for row in self.summary.itertuples(index=False):
            if not isinstance(row.unsized_events, tuple):
                continue
            for label in row.unsized_events:
                if (hi is not None and label[2] >= hi) or (lo is not None and label[3] <= lo):
                    continue
                where.setdefault(label, []).append(f"{row.region}/{row.service}")
        lines = []
        for (name, kind, begins, _), pairs in sorted(where.items(), key=lambda item: item[0][2]):
            lines.append(
                f"note: the forecasts of {first_few(sorted(set(pairs)), 4)} leave out "
                f"{name!r} ({kind}, from {begins:%Y-%m-%d %H:%M} UTC): their history holds "
                f"too few {kind} events to learn the effect and the calendar gives it no "
                "expected_uplift; give it one (the multiple of normal demand it brings, "
                "1.3 for 30 % more) and import the calendar again"
            )
        return lines


def fallen_back(summary: pd.DataFrame) -> set[tuple[str, str]]:
    """The (region, service) pairs whose forecast fell back to a baseline, from a forecast
    run's summary (its ``fallback`` column)."""
    if summary.empty or FALLBACK not in summary:
        return set()
    rough = summary[summary[FALLBACK].eq(True)]  # a skipped series has none: not rough
    return set(zip(rough[REGION].astype(str), rough[SERVICE].astype(str), strict=True))


def horizon_hours(horizon: str) -> int:
    """The hours a fleet forecast's ``horizon`` spans.

    Parameters
    ----------
    horizon : str
        A duration such as ``28d``.

    Returns
    -------
    int
        Whole hours, 1 to :data:`MAX_HORIZON`'s.

    Raises
    ------
    ParameterError
        When it is not a positive duration, not whole hours (the forecast is hourly) or longer
        than :data:`MAX_HORIZON`.
    """
    reach = parse_duration(horizon, "horizon")
    if reach % pd.Timedelta(hours=1) or reach > MAX_HORIZON:
        raise ParameterError(
            f"{the_parameter('--horizon')} must be whole hours, at most {MAX_HORIZON.days} "
            f"days (the forecast is hourly). Got {horizon!r}.",
            fix="give hours or days, such as 168h or 28d",
        )
    return int(reach / pd.Timedelta(hours=1))


def new_run_id(now: pd.Timestamp | None = None) -> str:
    """A sortable, unique run id such as ``20261123T060000Z-3f9a1c``."""
    moment = (now or pd.Timestamp.now(tz="UTC")).tz_convert("UTC")
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _forecast_one(
    task: SeriesTask,
) -> tuple[pd.DataFrame | None, dict[str, Any], dict[str, Any] | None]:
    """Fit and predict one series; never raises for a problem of the series itself.

    Returns the forecast, the summary row and the fitted parameters (None without a fit).
    Raises :class:`~capacity.errors.ResourceError` when the machine fails the fit (an
    ``OSError``: a full disk, a file-size limit, a temporary folder it cannot write).
    """
    try:
        return _fit_one(task)
    except OSError as exc:
        raise _machine_failed(task, exc) from None


def _machine_failed(task: SeriesTask, exc: OSError) -> ResourceError:
    """One line for an OSError met while fitting ``task``: what, where, and what to do."""
    code = errno.errorcode.get(exc.errno, "") if exc.errno is not None else ""
    what = exc.strerror or str(exc) or type(exc).__name__
    what += f" ({code})" if code else ""
    what += f": {exc.filename}" if exc.filename else ""
    host = socket.gethostname()
    return ResourceError(
        f"the fit of {task.region}/{task.service} ({task.metric}) on {host} failed: {what}. "
        f"Nothing was stored; fits write to {host}'s temporary folder "
        f"{user_tempdir()}: free space there, lift its file-size limit or set TMPDIR "
        "to a writable folder, then run again"
    )


def _fit_one(
    task: SeriesTask,
) -> tuple[pd.DataFrame | None, dict[str, Any], dict[str, Any] | None]:
    """The body of :func:`_forecast_one`."""
    from capacity.forecast import DemandForecaster

    info: dict[str, Any] = {
        REGION: task.region,
        SERVICE: task.service,
        METRIC: task.metric,
        "history_hours": int(task.series["value"].notna().sum()),
        "last_ts": task.series.loc[task.series["value"].notna(), TS].max(),
        "warm_start": False,
    }
    fitted = None
    try:
        model = DemandForecaster(**task.params).fit(
            task.series,
            task.events,
            holidays_country=task.holidays_country,
            timezone=task.timezone,
            warm_start=task.warm_start,
        )
        predicted = model.predict(task.horizon)
        masked = getattr(model, "masked_", None)
        info["masked_hours"] = 0 if masked is None else len(masked)
        info["status"] = "ok"
        # whether the fits did start from the stored parameters (a changed transform refuses
        # them), not whether there were any
        info["warm_start"] = bool(getattr(model, "warm_started_", False))
        fitted = getattr(model, "stan_params_", None)
        info["unsized_events"] = _event_labels(model.unsized_events(task.horizon))
    except DataError as exc:
        predicted = _baseline(task, str(exc))
        info["masked_hours"] = 0
        info["status"] = "baseline" if predicted is not None else f"skipped: {exc}"
    if predicted is None:
        info.update({MODEL: None, FALLBACK: True})
        return None, info, None
    info[MODEL] = str(predicted[MODEL].iloc[0])
    info[FALLBACK] = bool(predicted[FALLBACK].any())
    if info[FALLBACK]:
        # the forecaster falls back inside fit too (a constant series): the status says
        # "baseline" whenever the forecast is one, as `fallback` does, not only when it refused
        info["status"] = "baseline"
    predicted.insert(0, METRIC, task.metric)
    predicted.insert(0, SERVICE, task.service)
    predicted.insert(0, REGION, task.region)
    return predicted, info, fitted


def _event_labels(
    events: pd.DataFrame,
) -> tuple[tuple[str, str, pd.Timestamp, pd.Timestamp], ...]:
    """(name, kind, start, end) of each event: the name, or the id of an unnamed one."""
    labels = []
    for row in events.itertuples(index=False):
        name = getattr(row, NAME, None)
        if not isinstance(name, str) or not name.strip():
            event_id = getattr(row, EVENT_ID, None)  # NaN where a frame without ids joined
            name = (
                event_id if isinstance(event_id, str) and event_id.strip() else "an unnamed event"
            )
        start, end = pd.Timestamp(getattr(row, START_TS)), pd.Timestamp(getattr(row, END_TS))
        labels.append((name, str(getattr(row, KIND)), start, end))
    return tuple(labels)


def _baseline(task: SeriesTask, reason: str) -> pd.DataFrame | None:
    """Seasonal naive for a series the forecaster refused; None when even that fails."""
    from capacity.baselines import SeasonalNaive

    quantiles = task.params.get("quantiles", DEFAULT_QUANTILES)
    try:
        predicted = SeasonalNaive(season_length=24, quantiles=quantiles).fit(task.series)
        frame = predicted.predict(task.horizon)
    except CapacityError:
        return None
    frame[MODEL] = f"snaive (fallback: {reason})"
    frame[FALLBACK] = True
    return frame


def forecast_fleet(
    store: Store,
    fleet: FleetConfig,
    *,
    horizon: str = "28d",
    history: str = "112d",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    cutoff: Any = None,
    jobs: int | None = None,
    scheduler: Any = None,
    progress: Callable[[int, int], None] | None = None,
    run_id: str | None = None,
    save: bool = True,
    params: dict[str, Any] | None = None,
    exclude_events: Sequence[str] = (),
    extra_events: pd.DataFrame | None = None,
    warm_start: bool = True,
    flags: dict[str, str] | None = None,
    cache: bool = True,
) -> FleetForecast:
    """Forecast every (region, service, demand metric) series and store the run.

    Parameters
    ----------
    store : Store
        Where the telemetry is read and, with ``save``, the run written (open it writable).
    fleet : FleetConfig
        Regions (time zones, holidays) and services (demand metrics).
    horizon, history : str
        How far ahead to forecast and how much history to read, as durations.
    quantiles : sequence of float
        The quantiles to report, in this order: distinct, each strictly between 0 and 1
        (else a :class:`~capacity.errors.ParameterError`, before any work). Each series is fitted on
        :data:`capacity.columns.SHARED_QUANTILES` too (which changes none of these), so the
        run shares its fits, through the forecast cache, with the weekly plan's.
    cutoff : timestamp-like, optional
        The first forecast hour; default: the hour after the newest demand telemetry.
    jobs, scheduler
        The fan-out (see :func:`capacity.parallel.map_tasks`).
    progress : callable, optional
        ``progress(done, total)`` after each series.
    run_id : str, optional
        Default: :func:`new_run_id`.
    save : bool
        Store the run in the ``forecasts`` table.
    params : dict, optional
        Extra keyword arguments of :class:`~capacity.forecast.DemandForecaster`.
    exclude_events : sequence of str
        Ids of stored events to leave out of the forecast (a scenario that replaces them).
    extra_events : pandas.DataFrame, optional
        Events to forecast with as if stored (a scenario), in the shape of
        :meth:`Store.events`; each applies to the regions it names (``all``: every region).
    warm_start : bool
        Start each series' Prophet fits from the parameters the newest stored run learned
        for it (faster refits; the optimum is the same up to the optimiser's tolerance, so
        forecasts can differ slightly from a cold fit's). False fits every series cold.
    flags : dict, optional
        The command-line options that gave ``jobs`` and ``scheduler``, named in their errors
        (see :func:`capacity.parallel.map_tasks`).
    cache : bool
        Reuse a series' forecast from the forecast cache when its inputs are unchanged, and
        keep the new ones there (:mod:`capacity.forecast_cache`; the environment variable
        ``CAPACITY_CACHE_DIR`` places it or, set to ``off``, turns it off). False fits every
        series.

    Returns
    -------
    FleetForecast
    """
    from capacity.backtest import known_events

    started = time.perf_counter()
    requested = check_quantiles(quantiles, allow_empty=False, increasing=False)
    step = pd.Timedelta(hours=1)
    steps = horizon_hours(horizon)
    span = parse_duration(history, "history")
    wanted = fleet.demand_series()
    metrics = sorted({m for _, _, m in wanted})
    if cutoff is None:
        newest = store.con.execute(
            "SELECT max(ts) FROM telemetry WHERE list_contains(?, metric)", [metrics]
        ).fetchall()[0][0]
        if newest is None:
            held = stored_demand_metrics(store.con, [(r, s) for r, s, _ in wanted])
            instead = first_held_instead(wanted, held)
            if instead:
                raise DataError(
                    f"the store holds no {' or '.join(metrics)} telemetry, the fleet file's "
                    f"demand metric; {instead}",
                    source=str(store.path),
                )
            raise DataError(
                f"the store holds no demand telemetry ({' or '.join(metrics)})",
                source=str(store.path),
                fix="load telemetry first (capacity ingest)",
            )
        newest = pd.Timestamp(newest).tz_convert("UTC")
        now = pd.Timestamp.now(tz="UTC")
        if newest > now + _FUTURE_TOLERANCE:
            where = store.con.execute(
                "SELECT region, service, metric FROM telemetry "
                "WHERE list_contains(?, metric) AND ts = ? LIMIT 1",
                [metrics, newest],
            ).fetchall()[0]
            raise DataError(
                f"the newest demand telemetry, {'/'.join(where)} at {newest:%Y-%m-%d %H:%M} "
                f"UTC, is in the future (now {now:%Y-%m-%d %H:%M} UTC); every series would "
                "be forecast from there",
                source=str(store.path),
                fix="check that row's time and UTC offset and load it corrected",
            )
        cutoff = newest.floor("h") + step
    cutoff = pd.Timestamp(cutoff)
    cutoff = as_utc(cutoff)
    history_frame = store.series(
        region=list(fleet.regions),
        metric=metrics,
        start=cutoff - span,
        end=cutoff,
        freq="1h",
        strict=False,
    )
    grouped = {key: part for key, part in history_frame.groupby([REGION, SERVICE, METRIC])}
    # fitted on the shared grid too (a quantile changes none of the others), so that a run
    # asking for other quantiles shares each series' fit, and its forecast cache entry, with
    # the weekly plan's; the run keeps only the columns asked for (`_asked_columns`). A shared
    # level whose column a requested one names (0.05 for 0.05000001: both q0.05) is left out,
    # or the forecaster would refuse a grid the caller never gave
    asked = {quantile_column(q) for q in requested}
    shared = [q for q in SHARED_QUANTILES if quantile_column(q) not in asked]
    model_params = {"quantiles": tuple(sorted({*shared, *requested})), **(params or {})}
    previous = store.fit_params() if warm_start else {}
    tasks, missing = [], []
    for region, service, metric in wanted:
        part = grouped.get((region, service, metric))
        if part is None or part["value"].notna().sum() == 0:
            missing.append(
                {
                    REGION: region,
                    SERVICE: service,
                    METRIC: metric,
                    "status": "skipped: no telemetry in the history window",
                }
            )
            continue
        calendar = store.events(region=region, strict=False)
        calendar = calendar[~calendar["event_id"].isin(list(exclude_events))]
        if extra_events is not None and not extra_events.empty:
            mine = extra_events["regions"].map(lambda rs, r=region: r in rs or "all" in rs)
            if mine.any():
                calendar = pd.concat([calendar, extra_events[mine]], ignore_index=True)
        events = known_events(calendar, cutoff, cutoff + steps * step)
        tasks.append(
            SeriesTask(
                region=region,
                service=service,
                metric=metric,
                series=part.loc[:, [TS, "value"]].reset_index(drop=True),
                events=events,
                timezone=fleet.regions[region].timezone,
                holidays_country=fleet.regions[region].holidays_country,
                horizon=steps,
                params=model_params,
                warm_start=previous.get((region, service, metric)),
            )
        )
    log.info("forecasting %d series from %s over %d hours", len(tasks), cutoff, steps)
    results = _forecast_all(
        tasks,
        ForecastCache.from_environment() if cache else None,
        jobs=jobs,
        scheduler=scheduler,
        progress=progress,
        flags=flags,
    )
    frames = [frame for frame, _, _ in results if frame is not None]
    summary = pd.DataFrame([info for _, info, _ in results] + missing)
    # a skipped pair may hold the other demand metric: the warnings name it, not "load it"
    held = stored_demand_metrics(store.con, [(row[REGION], row[SERVICE]) for row in missing])
    fitted = {
        (info[REGION], info[SERVICE], info[METRIC]): params for _, info, params in results if params
    }
    if not frames:
        # each series' reason without its own fix: the run's one fix follows
        reasons = (
            summary["status"]
            .str.removeprefix("skipped: ")
            .str.replace(r"\. Fix: .*$", "", regex=True)
            .drop_duplicates()
        )
        stored = sorted(
            f"{r}/{s}"
            for r, s in store.con.execute(
                "SELECT DISTINCT region, service FROM telemetry"
            ).fetchall()
        )
        planned = sorted({f"{r}/{s}" for r, s, _ in fleet.demand_series()})
        if stored and not set(stored) & set(planned):
            # a store and a fleet file of two different fleets (one of them the demo's,
            # taken by default), not too little telemetry
            raise DataError(
                f"the store holds telemetry of {_some(stored)} but none of the fleet file's "
                f"regions and services ({_some(planned)})",
                source=str(store.path),
                fix="check that --db and --config name the same fleet (without them, the "
                "demo's store and fleet file are used)",
            )
        instead = first_held_instead(
            [(row[REGION], row[SERVICE], row[METRIC]) for row in missing], held
        )
        if instead:
            raise DataError(
                f"no series could be forecast ({'; '.join(reasons)}); {instead}",
                source=str(store.path),
            )
        raise DataError(
            f"no series could be forecast ({'; '.join(reasons)})",
            source=str(store.path),
            fix=_short_history_fix(store, fleet, metrics, cutoff, span, history),
        )
    run = FleetForecast(
        run_id or new_run_id(),
        _asked_columns(pd.concat(frames, ignore_index=True), model_params["quantiles"], requested),
        summary,
        cutoff,
        time.perf_counter() - started,
        quantiles=requested,
        params={
            "horizon": horizon,
            "history": history,
            "warm_start": warm_start,
            **model_params,
            "quantiles": requested,
        },
        fit_params=fitted,
        held=held,
    )
    if save:
        run.save(store)
    return run


#: The history a fleet forecast reads by default (:func:`forecast_fleet`'s ``history``).
_DEFAULT_HISTORY_DAYS = 112


def _short_history_fix(
    store: Store,
    fleet: FleetConfig,
    metrics: list[str],
    cutoff: pd.Timestamp,
    span: pd.Timedelta,
    history: str,
) -> str:
    """The fix for a run whose history window left no series enough telemetry: a longer
    ``--history`` first when the store holds demand telemetry older than the window (saying
    how far back it reaches), else loading more telemetry.

    Parameters
    ----------
    store : Store
        The store the run read.
    fleet : FleetConfig
        The fleet whose regions count.
    metrics : list of str
        The fleet's demand metrics.
    cutoff : pandas.Timestamp
        The first forecast hour.
    span : pandas.Timedelta
        The history window's length.
    history : str
        The history as given, named in the text.

    Returns
    -------
    str
        The fix, without the ``Fix:`` prefix.
    """
    load = "load more telemetry (capacity ingest, capacity pull)"
    oldest = store.con.execute(
        "SELECT min(ts) FROM telemetry WHERE list_contains(?, metric) "
        "AND list_contains(?, region) AND ts < ?",
        [metrics, list(fleet.regions), cutoff],
    ).fetchall()[0][0]
    if oldest is None or pd.Timestamp(oldest).tz_convert("UTC") >= cutoff - span:
        return f"{load}: each series needs at least 2 days in the history window"
    oldest = pd.Timestamp(oldest).tz_convert("UTC")
    days = int(-(-(cutoff - oldest) // pd.Timedelta(days=1)))  # whole days, rounded up
    return (
        f"give a longer history, such as forecast-fleet --history "
        f"{min(days, _DEFAULT_HISTORY_DAYS)}d (each series needs at least 2 days in the "
        f"history window): --history {history} reads from "
        f"{cutoff - span:%Y-%m-%d %H:%M} UTC, and the store's demand telemetry reaches "
        f"back to {oldest:%Y-%m-%d %H:%M} UTC, {days} days before the forecast starts; "
        f"or {load}"
    )


def _asked_columns(
    frame: pd.DataFrame, fitted: Sequence[float], asked: Sequence[float]
) -> pd.DataFrame:
    """``frame`` with the quantile columns of ``asked`` in that order, where those of
    ``fitted`` stood, and no other quantile column."""
    grid = {quantile_column(q) for q in fitted}
    columns: list[str] = []
    for column in frame.columns:
        if column not in grid:
            columns.append(column)
        elif column == quantile_column(fitted[0]):  # the first of the grid
            columns.extend(quantile_column(q) for q in asked)
    return frame.loc[:, columns]


def _forecast_all(
    tasks: list[SeriesTask],
    cache: ForecastCache | None,
    *,
    jobs: int | None,
    scheduler: Any,
    progress: Callable[[int, int], None] | None,
    flags: dict[str, str] | None,
) -> list[tuple[pd.DataFrame | None, dict[str, Any], dict[str, Any] | None]]:
    """Each task's forecast, summary row and fitted parameters, in the tasks' order: from the
    cache where an entry matches, else fitted (through the fan-out) and then cached."""
    keys = [
        series_key(
            task.series,
            task.events,
            timezone=task.timezone,
            holidays_country=task.holidays_country,
            horizon=task.horizon,
            params=task.params,
        )
        for task in (tasks if cache is not None else [])
    ]
    outcomes = cached_map(
        _forecast_one,
        tasks,
        keys,
        cache,
        jobs=jobs,
        scheduler=scheduler,
        progress=progress,
        flags=flags,
        imports=WORKER_IMPORTS,
        # a worker with another version of capacity computes something else, which would
        # be stored, and cached under this version's keys, as this version's
        fingerprint=code_sha256,
    )
    return [(frame, {**info, "cached": hit}, fitted) for (frame, info, fitted), hit in outcomes]


def _some(names: list[str]) -> str:
    """The first four names and how many more: ``a, b, c, d and 8 more``."""
    return first_few(names, 4)
