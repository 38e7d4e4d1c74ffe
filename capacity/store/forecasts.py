"""Stored forecast runs: each run's parameters, its forecasts (one row per series and time,
the quantiles as one list) and the parameters each series' fit learned, the next run's warm
start.

A run is stored whole in one transaction and never changed; it can be removed whole.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from capacity.columns import FALLBACK, METRIC, MODEL, REGION, SERVICE, TS, YHAT, quantile_column
from capacity.errors import ParameterError
from capacity.records import did_you_mean
from capacity.store.sql import as_list, distinct, registered, transaction, utc

#: The key of a forecast row.
FORECAST_KEY = (REGION, SERVICE, METRIC, TS)
#: Where a run's ``params`` JSON lists the series it left out: one object per series with
#: ``region, service, metric, reason``. A key of the JSON rather than a column: stores written
#: before it was recorded stay readable as they are, and read as "not recorded".
SKIPPED_KEY = "skipped"


def save_run(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    *,
    run_id: str,
    quantiles: Sequence[float],
    params: dict[str, Any],
    cutoff: Any = None,
    seconds: float | None = None,
    fit_params: Mapping[tuple[str, str, str], Mapping[str, Any]] | None = None,
    skipped: Sequence[Mapping[str, str]] | None = None,
) -> None:
    """Store one fleet forecast run, its forecasts and fitted parameters, in one transaction
    (``Store.save_forecast``); the run id must be new. ``skipped`` (the series the run left
    out) is kept in the run's ``params`` JSON under :data:`SKIPPED_KEY`."""
    if skipped is not None:
        params = {**params, SKIPPED_KEY: [_skipped_record(entry) for entry in skipped]}
    levels = [float(q) for q in quantiles]
    columns = [quantile_column(q) for q in levels]
    missing = [c for c in (*FORECAST_KEY, YHAT, *columns, MODEL, FALLBACK) if c not in frame]
    if missing:
        raise ParameterError(
            f"The 'frame' parameter must have columns {', '.join(missing)}. "
            f"Got {', '.join(map(str, frame.columns))}."
        )
    steps = frame.groupby(list(FORECAST_KEY[:3])).size()
    deltas = frame.sort_values(TS)[TS].diff().dropna()
    freq = deltas[deltas > pd.Timedelta(0)].min() if len(deltas) else pd.Timedelta(hours=1)
    table = pa.table(
        {
            "run_id": pa.array([run_id] * len(frame), pa.string()),
            **{c: pa.array(frame[c].astype(str).tolist(), pa.string()) for c in FORECAST_KEY[:3]},
            "ts": pa.array(frame[TS], pa.timestamp("us", tz="UTC")),
            "yhat": pa.array(frame[YHAT].astype("float64")),
            "quantiles": pa.array(
                frame[columns].astype("float64").values.tolist(), pa.list_(pa.float64())
            ),
            "model": pa.array(frame[MODEL].astype(str).tolist(), pa.string()),
            "fallback": pa.array(frame[FALLBACK].astype(bool).tolist(), pa.bool_()),
        }
    )
    fallbacks = int(frame.groupby(list(FORECAST_KEY[:3]))[FALLBACK].any().sum())
    with transaction(con):
        stored = con.execute("SELECT count(*) FROM forecast_runs WHERE run_id = ?", [run_id])
        if stored.fetchall()[0][0]:
            raise ParameterError(
                f"The 'run_id' parameter must be new. Got {run_id!r}, which is stored."
            )
        con.execute(
            "INSERT INTO forecast_runs VALUES (?, now(), ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                utc(cutoff, "cutoff"),
                int(steps.max()) if len(steps) else 0,
                freq.total_seconds(),
                levels,
                json.dumps(params, sort_keys=True, default=str),
                len(steps),
                fallbacks,
                seconds,
            ],
        )
        with registered(con, "_incoming_forecast", table):
            con.execute("INSERT INTO forecasts SELECT * FROM _incoming_forecast")
        rows = [
            [run_id, *map(str, key), json.dumps(value, sort_keys=True)]
            for key, value in (fit_params or {}).items()
            if value
        ]
        if rows:
            con.executemany("INSERT INTO forecast_params VALUES (?, ?, ?, ?, ?)", rows)


def newest_fit_params(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The newest stored fitted parameters of every series, by ``(region, service,
    metric)``: what the last run that fitted the series learned (empty when none)."""
    rows = con.execute(
        """
        SELECT p.region, p.service, p.metric, p.params
        FROM forecast_params p JOIN forecast_runs r USING (run_id)
        QUALIFY row_number() OVER (
            PARTITION BY p.region, p.service, p.metric
            ORDER BY r.created_at DESC, r.run_id DESC
        ) = 1
        """
    ).fetchall()
    return {(r, s, m): json.loads(params) for r, s, m, params in rows}


def delete_run(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Remove a stored run, its forecasts and fitted parameters, in one transaction; True when
    the run was stored (``Store.delete_forecast_run``)."""
    with transaction(con):
        found = con.execute(
            "SELECT count(*) FROM forecast_runs WHERE run_id = ?", [run_id]
        ).fetchall()[0][0]
        for table in ("forecasts", "forecast_params", "forecast_runs"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
    return bool(found)


def _skipped_record(entry: Mapping[str, str]) -> dict[str, str]:
    """One skipped series as stored: ``region, service, metric, reason``, all text."""
    missing = [k for k in (REGION, SERVICE, METRIC, "reason") if k not in entry]
    if missing:
        raise ParameterError(
            "The 'skipped' parameter must hold mappings with keys region, service, metric "
            f"and reason. Got one without {', '.join(missing)}: {dict(entry)!r}."
        )
    return {k: str(entry[k]) for k in (REGION, SERVICE, METRIC, "reason")}


def stored_runs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The stored forecast runs, newest first, with ``skipped`` (how many series the run left
    out; missing for a run stored without that record) and ``skipped_series`` (each as
    ``region/service (metric): reason``) read from the run's ``params``."""
    runs = con.execute(
        "SELECT run_id, created_at, cutoff, horizon_steps, freq_seconds, quantiles, params, "
        "series, fallbacks, seconds FROM forecast_runs ORDER BY created_at DESC, run_id DESC"
    ).df()
    records = [json.loads(text).get(SKIPPED_KEY) for text in runs["params"]]
    position = runs.columns.get_loc("fallbacks") + 1
    runs.insert(
        position,
        "skipped",
        pd.array([None if r is None else len(r) for r in records], dtype="Int64"),
    )
    runs.insert(
        position + 1,
        "skipped_series",
        [
            None
            if r is None
            else [f"{e[REGION]}/{e[SERVICE]} ({e[METRIC]}): {e['reason']}" for e in r]
            for r in records
        ],
    )
    return runs


def stored_forecast(
    con: duckdb.DuckDBPyConnection,
    run_id: str | None = None,
    *,
    region: str | Collection[str] | None = None,
    service: str | Collection[str] | None = None,
    metric: str | Collection[str] | None = None,
    strict: bool = False,
    source: str | None = None,
) -> pd.DataFrame:
    """A stored run in tidy form, the newest when ``run_id`` is None (``Store.forecast``):
    one column per quantile, empty when no run is stored. ``strict`` refuses a region,
    service or metric the run holds no forecast of."""
    runs = con.execute(
        "SELECT run_id, quantiles FROM forecast_runs WHERE (? IS NULL OR run_id = ?) "
        "ORDER BY created_at DESC, run_id DESC LIMIT 1",
        [run_id, run_id],
    ).fetchall()
    if not runs:
        if run_id is not None:
            raise ParameterError(f"The 'run_id' parameter must name a stored run. Got {run_id!r}.")
        return pd.DataFrame(columns=["run_id", *FORECAST_KEY, YHAT, MODEL, FALLBACK])
    chosen, levels = runs[0]
    regions, services, metrics = as_list(region), as_list(service), as_list(metric)
    if strict:
        _check_run_names(con, chosen, regions, services, metrics, source=source)
    frame = con.execute(
        "SELECT run_id, region, service, metric, ts, yhat, quantiles, model, fallback "
        "FROM forecasts WHERE run_id = ? AND (? IS NULL OR list_contains(?, region)) "
        "AND (? IS NULL OR list_contains(?, service)) "
        "AND (? IS NULL OR list_contains(?, metric)) ORDER BY region, service, metric, ts",
        [chosen, regions, regions, services, services, metrics, metrics],
    ).df()
    values = pd.DataFrame(
        frame.pop("quantiles").tolist(),
        index=frame.index,
        columns=[quantile_column(q) for q in levels],
    )
    frame = pd.concat(
        [
            frame.loc[:, ["run_id", *FORECAST_KEY, YHAT]],
            values,
            frame.loc[:, [MODEL, FALLBACK]],
        ],
        axis=1,
    )
    return frame


def _check_run_names(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    regions: list[str] | None,
    services: list[str] | None,
    metrics: list[str] | None,
    *,
    source: str | None = None,
) -> None:
    """Refuse a filter naming a region, service or metric the run holds no forecast of:
    a typo (``eu-wset``), or a metric that is not forecast (``cpu_util``), would otherwise
    read as a run without that series."""
    for column, names in (("region", regions), ("service", services), ("metric", metrics)):
        if not names:
            continue
        held = distinct(con, f"SELECT {column} FROM forecasts WHERE run_id = ?", [run_id])
        unknown = [name for name in names if name not in set(held)]
        if unknown:
            name = unknown[0]
            raise ParameterError(
                f"run {run_id} holds no forecast of {column} {name!r}"
                f"{did_you_mean(name, held)}; its {column}s are "
                f"{', '.join(held) or 'none'}",
                source=source,
                where=column,
                fix="ask for one of those, or pass strict=False to get no rows for it",
            )
