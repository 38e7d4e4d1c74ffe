"""Forecasting every demand series of the fleet, fanned out through :mod:`capacity.parallel`.

For each region and service in the fleet configuration, the service's demand metric (``ccu``
or ``rps``) is read from the store over the training history, the live-ops calendar is scoped
to the region and cut to what is known at the cutoff, and a
:class:`~capacity.forecast.DemandForecaster` is fitted and asked for the horizon. One series
that cannot be forecast never stops the run: it falls back to a seasonal-naive baseline, or,
when even that is impossible, is reported as skipped.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from capacity.columns import DEFAULT_QUANTILES, FALLBACK, METRIC, MODEL, REGION, SERVICE, TS
from capacity.config import FleetConfig
from capacity.errors import CapacityError, DataError
from capacity.parallel import map_tasks
from capacity.store import Store
from capacity.units import as_utc, parse_duration

__all__ = ["FleetForecast", "SeriesTask", "forecast_fleet", "new_run_id"]

log = logging.getLogger(__name__)


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
        history_hours, warm_start, status``.
    cutoff : pandas.Timestamp
        The first forecast hour; the history ends just before it.
    seconds : float
        Wall time of the run.
    """

    run_id: str
    frame: pd.DataFrame
    summary: pd.DataFrame
    cutoff: pd.Timestamp
    seconds: float


def new_run_id(now: pd.Timestamp | None = None) -> str:
    """A sortable, unique run id such as ``20261123T060000Z-3f9a1c``."""
    moment = (now or pd.Timestamp.now(tz="UTC")).tz_convert("UTC")
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _forecast_one(
    task: SeriesTask,
) -> tuple[pd.DataFrame | None, dict[str, Any], dict[str, Any] | None]:
    """Fit and predict one series; never raises for a problem of the series itself.

    Returns the forecast, the summary row and the fitted parameters (None without a fit).
    """
    from capacity.forecast import DemandForecaster

    info: dict[str, Any] = {
        REGION: task.region,
        SERVICE: task.service,
        METRIC: task.metric,
        "history_hours": int(task.series["value"].notna().sum()),
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
    except DataError as exc:
        predicted = _baseline(task, str(exc))
        info["masked_hours"] = 0
        info["status"] = "baseline" if predicted is not None else f"skipped: {exc}"
    if predicted is None:
        info.update({MODEL: None, FALLBACK: True})
        return None, info, None
    info[MODEL] = str(predicted[MODEL].iloc[0])
    info[FALLBACK] = bool(predicted[FALLBACK].any())
    predicted.insert(0, METRIC, task.metric)
    predicted.insert(0, SERVICE, task.service)
    predicted.insert(0, REGION, task.region)
    return predicted, info, fitted


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
    warm_start: bool = True,
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
        The quantiles to report.
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
    warm_start : bool
        Start each series' Prophet fits from the parameters the newest stored run learned
        for it (faster refits; the optimum is the same up to the optimiser's tolerance, so
        forecasts can differ slightly from a cold fit's). False fits every series cold.

    Returns
    -------
    FleetForecast
    """
    from capacity.backtest import known_events

    started = time.perf_counter()
    step = pd.Timedelta(hours=1)
    steps = int(parse_duration(horizon, "horizon") / step)
    span = parse_duration(history, "history")
    wanted = [(r, s, svc.demand_metric) for r in fleet.regions for s, svc in fleet.services.items()]
    metrics = sorted({m for _, _, m in wanted})
    if cutoff is None:
        newest = store.con.execute(
            "SELECT max(ts) FROM telemetry WHERE list_contains(?, metric)", [metrics]
        ).fetchall()[0][0]
        if newest is None:
            raise DataError(
                "the store holds no demand telemetry (ccu or rps)",
                source=str(store.path),
                fix="load telemetry first (capacity ingest)",
            )
        cutoff = pd.Timestamp(newest).tz_convert("UTC").floor("h") + step
    cutoff = pd.Timestamp(cutoff)
    cutoff = as_utc(cutoff)
    history_frame = store.series(
        region=list(fleet.regions), metric=metrics, start=cutoff - span, end=cutoff, freq="1h"
    )
    grouped = {key: part for key, part in history_frame.groupby([REGION, SERVICE, METRIC])}
    model_params = {"quantiles": tuple(float(q) for q in quantiles), **(params or {})}
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
        calendar = store.events(region=region)
        calendar = calendar[~calendar["event_id"].isin(list(exclude_events))]
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
    results = map_tasks(_forecast_one, tasks, jobs=jobs, scheduler=scheduler, progress=progress)
    frames = [frame for frame, _, _ in results if frame is not None]
    summary = pd.DataFrame([info for _, info, _ in results] + missing)
    fitted = {
        (info[REGION], info[SERVICE], info[METRIC]): params for _, info, params in results if params
    }
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    run_id = run_id or new_run_id()
    seconds = time.perf_counter() - started
    if save and not frame.empty:
        store.save_forecast(
            frame,
            run_id=run_id,
            quantiles=model_params["quantiles"],
            params={
                "horizon": horizon,
                "history": history,
                "warm_start": warm_start,
                **model_params,
            },
            cutoff=cutoff,
            seconds=seconds,
            fit_params=fitted,
        )
    return FleetForecast(run_id, frame, summary, cutoff, seconds)
