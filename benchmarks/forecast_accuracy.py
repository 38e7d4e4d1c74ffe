"""Forecast accuracy: every model on the same rolling-origin backtests, side by side.

Part A, capacity-shaped series, hourly: the four public demand series in the shared datasets
folder and the demo fleet's 12 demand series (per region and service, the service's demand
metric from ``fleet.yaml``, with the region's live-ops calendar). Weekly cutoffs, a 168-hour
horizon, MASE (m = 24), 90% interval coverage and the error on each day's peak.

Part B, the M4 Hourly protocol: all 414 series, horizon 48, sMAPE, MASE (m = 24) and OWA
against Naive2 computed per series (this harness reproduces the published Naive2 and
seasonal-naive figures to three decimals).

Honesty: ``--split tune`` backtests part A on the 4 weekly cutoffs before the latest 4 (5 to 8
weeks back); ``--split report`` (the default) on the latest 4. Tune on ``tune``; targets are
judged on ``report``. Part B's ``report`` is M4's official test set; its ``tune`` is the last
48 hours of each series' training data (forecast from the 48 before them), the test set unseen.

Targets (judged on ``report``): geometric-mean MASE at most 0.65 x ``ProphetDefault`` and at
most 0.90 x ``SeasonalNaive(168)``; the 90 % interval covering 85-95 % on every series; the
daily-peak error below ``ProphetDefault``'s on every series; M4 Hourly OWA at most 0.55.

Run from the repository root (``--quick``: about a minute on 2 cores; the full run about 5)::

    .venv/bin/python benchmarks/forecast_accuracy.py --quick
    .venv/bin/python benchmarks/forecast_accuracy.py --models snaive24,snaive168,prophet \\
        --split report --out /tmp/accuracy

It prints Markdown tables ready for ``benchmarks/RESULTS.md``; ``--out`` also writes the
per-window and per-series figures (CSV), a summary (JSON) and the tables (Markdown).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capacity.backtest import backtest, metrics
from capacity.baselines import Naive2, ProphetDefault, SeasonalNaive
from capacity.calendar import read_calendar
from capacity.columns import ALL_REGIONS, REGIONS, TS, VALUE
from capacity.comparison import PlacedForecaster
from capacity.config import load_fleet

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASETS = REPO.parent / "shared" / "datasets"
DEFAULT_DEMO = REPO / "data" / "demo"

#: Command-line key -> name in the tables.
MODELS = {
    "snaive24": "SeasonalNaive(24)",
    "snaive168": "SeasonalNaive(168)",
    "prophet": "ProphetDefault",
    "demand": "DemandForecaster",
}
PROPHET = MODELS["prophet"]
WEEKLY_NAIVE = MODELS["snaive168"]
NAIVE2 = "Naive2"
#: MASE's seasonal lag in every part (hourly data, as in M4).
SEASON = 24
#: Cutoffs per split; --quick uses 2.
WINDOWS, QUICK_WINDOWS = 4, 2
M4_HORIZON = 48
M4_START = pd.Timestamp("2017-01-02T00:00:00Z")  # a Monday: value 0 is hour 0 of a Monday
M4_QUICK_SERIES = 50
#: Published M4 Hourly figures (Evaluation and Ranks.xlsx): sMAPE, MASE, OWA.
M4_PUBLISHED = {"SeasonalNaive(24)": (13.912, 1.193, 0.628), NAIVE2: (18.383, 2.395, 1.0)}


@dataclass(frozen=True)
class Protocol:
    """How one series is backtested: horizon and step in hours, least training hours."""

    horizon: int
    step: int
    min_train: int
    name: str


#: Weekly cutoffs, a week ahead, at least two weeks of history (SeasonalNaive(168) needs more
#: than one week, and Prophet turns weekly seasonality on from two).
WEEKLY = Protocol(horizon=168, step=168, min_train=336, name="weekly")
#: For a series too short for weekly windows (machine-01 spans 14 days): daily cutoffs, a day
#: ahead, at least 8 days of history.
DAILY = Protocol(horizon=24, step=24, min_train=192, name="daily")


# --------------------------------------------------------------------------- models


def make_model(
    key: str,
    horizon: int,
    fit_kwargs: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> Any:
    """A fresh, unfitted model for ``key`` (a key of MODELS, or "naive2"); ``fit_kwargs``
    (time zone, holidays country) and ``params`` (constructor settings, ``--set``) are given
    to the project's forecaster only."""
    if key == "snaive24":
        return SeasonalNaive(24)
    if key == "snaive168":
        return SeasonalNaive(168)
    if key == "prophet":
        return ProphetDefault()
    if key == "naive2":
        return Naive2(SEASON)
    if key == "demand":
        from capacity.forecast import DemandForecaster

        # Its documentation asks for an inner validation window no longer than the horizon.
        days = horizon / 24
        settings = dict(params or {})
        if days < 7:
            settings["validation_days"] = days
        model = DemandForecaster(**settings)
        return PlacedForecaster(model, fit_kwargs) if fit_kwargs else model
    raise SystemExit(f"unknown model {key!r}; choose from {', '.join(MODELS)}")


def demand_available() -> str | None:
    """None when DemandForecaster can be built, else why not."""
    try:
        make_model("demand", 168)
    except Exception as exc:  # any failure means: skip it, with the reason
        return f"{type(exc).__name__}: {exc}"
    return None


# --------------------------------------------------------------------------- data


def _hourly(ts: pd.Series, values: pd.Series) -> pd.DataFrame:
    """Hourly means on a regular UTC grid; hours without data are NaN."""
    s = pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(ts)).sort_index()
    s = s.resample("1h").mean()
    return pd.DataFrame({TS: s.index, VALUE: s.to_numpy()})


#: What a user knows about a public series and passes to the project's forecaster (the scaling
#: benchmark fits nyc_taxi the same way). Taylor's span (June to August 2000) holds no English
#: bank holiday; Twitter's and machine-01's audiences have no single country.
DATASET_PLACEMENT: dict[str, dict[str, Any]] = {"nyc_taxi": {"holidays_country": "US"}}


def load_datasets(folder: Path) -> dict[str, tuple[pd.DataFrame, Protocol]]:
    """The four public series, hourly. Naive timestamps are read as UTC (labels only)."""
    out: dict[str, tuple[pd.DataFrame, Protocol]] = {}
    nyc = pd.read_csv(folder / "nyc_taxi.csv")
    out["nyc_taxi"] = (_hourly(pd.to_datetime(nyc["timestamp"], utc=True), nyc["value"]), WEEKLY)
    tw = pd.read_csv(folder / "Twitter_volume_AMZN.csv")
    # Collection outages: 26 zeros on 2015-03-11 and 2 on 2015-03-12 05:27-05:32, amid
    # 35-70 tweets per 5 minutes. Masked as NaN, not averaged in as demand.
    tw_value = tw["value"].astype(float).mask(tw["value"] == 0)
    out["twitter_AMZN"] = (_hourly(pd.to_datetime(tw["timestamp"], utc=True), tw_value), WEEKLY)
    taylor = pd.read_csv(folder / "taylor_30_min.csv")
    out["taylor"] = (_hourly(pd.to_datetime(taylor["date"], utc=True), taylor["value"]), WEEKLY)
    ms = pd.read_csv(folder / "machine-01.csv").drop(columns=["Label"])
    out["machine-01"] = (_hourly(pd.to_datetime(ms["TimeStamp"], utc=True), ms["Value"]), DAILY)
    return out


def load_demo(folder: Path) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]]:
    """The demo fleet's demand series, each one's regional calendar, and its region's time zone
    and holidays country as ``fit`` keyword arguments (what ``forecast-fleet`` passes)."""
    fleet = load_fleet(folder / "fleet.yaml")
    telemetry = pd.read_parquet(folder / "telemetry.parquet")
    calendar = read_calendar(folder / "calendar.csv", regions=list(fleet.regions))
    out = {}
    for region, spec_region in fleet.regions.items():
        placement = {
            "timezone": spec_region.timezone,
            "holidays_country": spec_region.holidays_country,
        }
        touches = calendar[REGIONS].map(lambda names, r=region: r in names or ALL_REGIONS in names)
        events = calendar[touches.to_numpy(bool)].reset_index(drop=True)
        for service, spec in fleet.services.items():
            rows = telemetry[
                (telemetry["region"] == region)
                & (telemetry["service"] == service)
                & (telemetry["metric"] == spec.demand_metric)
            ]
            s = rows.set_index(TS)[VALUE].sort_index()
            s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="h"))
            frame = pd.DataFrame({TS: s.index, VALUE: s.to_numpy(dtype=float)})
            out[f"demo/{region}/{service}/{spec.demand_metric}"] = (frame, events, placement)
    return out


def load_m4(folder: Path, limit: int | None) -> dict[str, tuple[pd.DataFrame, int]]:
    """M4 Hourly, train and test joined, from hour 0 of a Monday; id -> (series, train rows)."""
    train = pd.read_csv(folder / "Hourly-train.csv", index_col=0)
    test = pd.read_csv(folder / "Hourly-test.csv", index_col=0)
    out = {}
    for sid in train.index[:limit]:
        history = train.loc[sid].dropna().to_numpy(dtype=float)
        values = np.r_[history, test.loc[sid].to_numpy(dtype=float)]
        ts = pd.date_range(M4_START, periods=len(values), freq="h")
        out[str(sid)] = (pd.DataFrame({TS: ts, VALUE: values}), len(history))
    return out


def windows_for(n: int, protocol: Protocol, per_split: int, split: str) -> tuple[int, int]:
    """(rows cut from the end, windows) for a split: report = latest, tune = the ones before."""
    cut = per_split * protocol.step if split == "tune" else 0
    fit = (n - cut - protocol.horizon - protocol.min_train) // protocol.step + 1
    return cut, max(0, min(per_split, fit))


# --------------------------------------------------------------------------- work


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Backtest one model on one series (runs in a worker process)."""
    result = {k: task[k] for k in ("part", "series", "model", "windows", "protocol")}
    started = time.perf_counter()
    try:
        model = make_model(task["key"], task["horizon"], task.get("fit_kwargs"), task.get("params"))
        frame = task["frame"]
        if task["cut"]:
            frame = frame.iloc[: len(frame) - task["cut"]]
        results = backtest(
            model,
            frame,
            horizon=task["horizon"],
            n_windows=task["windows"],
            step=task["step"],
            events=task["events"],
            season_length=SEASON,
            min_train=task["min_train"],
        )
        table = metrics(results, frame, season_length=SEASON)
        result["rows"] = table.assign(cutoff=table["cutoff"].astype(str)).to_dict("records")
        result["error"] = None
    except Exception as exc:  # one failing series must not sink the run; it is reported
        result["rows"] = []
        result["error"] = f"{type(exc).__name__}: {exc}"
    result["seconds"] = time.perf_counter() - started
    return result


def run_all(tasks: list[dict[str, Any]], jobs: int, label: str) -> list[dict[str, Any]]:
    """Run tasks over a process pool, heaviest first, with progress on stderr."""
    weight = {"prophet": 4, "demand": 5}
    tasks = sorted(tasks, key=lambda t: -weight.get(t["key"], 1) * len(t["frame"]))
    done: list[dict[str, Any]] = []
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_task, t) for t in tasks]
        for i, future in enumerate(as_completed(futures), 1):
            done.append(future.result())
            if i == len(futures) or i % max(1, len(futures) // 10) == 0:
                took = time.perf_counter() - started
                print(f"[{label}] {i}/{len(futures)} tasks, {took:.0f} s", file=sys.stderr)
    return done


def part_a_tasks(
    series: dict[str, tuple[pd.DataFrame, pd.DataFrame | None, Protocol]],
    keys: Sequence[str],
    per_split: int,
    split: str,
    notes: list[str],
) -> list[dict[str, Any]]:
    tasks = []
    for name, (frame, events, protocol) in series.items():
        cut, windows = windows_for(len(frame), protocol, per_split, split)
        if windows == 0:
            notes.append(f"{name}: too short for any {split} window ({len(frame)} hours); skipped")
            continue
        if windows < per_split:
            notes.append(
                f"{name}: {len(frame)} hours hold only {windows} of the {per_split} {split} windows"
            )
        if protocol is not WEEKLY:
            notes.append(
                f"{name}: {protocol.name} protocol (horizon {protocol.horizon} h, step "
                f"{protocol.step} h), since it spans {len(frame) // 24} days"
            )
        for key in keys:
            tasks.append(
                {
                    "part": "A",
                    "series": name,
                    "model": MODELS[key],
                    "key": key,
                    "frame": frame,
                    "events": events,
                    "cut": cut,
                    "windows": windows,
                    "horizon": protocol.horizon,
                    "step": protocol.step,
                    "min_train": protocol.min_train,
                    "protocol": protocol.name,
                }
            )
    return tasks


def m4_tasks(
    series: dict[str, tuple[pd.DataFrame, int]], keys: Sequence[str], split: str = "report"
) -> list[dict]:
    """One task per series and model: the official test set (``report``), or the last
    ``M4_HORIZON`` hours of the training data with the test set cut off (``tune``)."""
    tasks = []
    for sid, (frame, train_rows) in series.items():
        cut = len(frame) - train_rows if split == "tune" else 0
        start = train_rows - M4_HORIZON if split == "tune" else train_rows
        for key in [*keys, "naive2"]:
            tasks.append(
                {
                    "part": "B",
                    "series": sid,
                    "model": NAIVE2 if key == "naive2" else MODELS[key],
                    "key": key,
                    "frame": frame,
                    "events": None,
                    "cut": cut,
                    "windows": 1,
                    "horizon": M4_HORIZON,
                    "step": M4_HORIZON,
                    "min_train": start,
                    "protocol": "m4",
                }
            )
    return tasks


# --------------------------------------------------------------------------- summaries


def overall_rows(done: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per (series, model): the backtest's overall metrics."""
    rows = []
    for result in done:
        if result["error"]:
            continue
        overall = result["rows"][-1]
        rows.append(
            {
                "part": result["part"],
                "series": result["series"],
                "model": result["model"],
                "protocol": result["protocol"],
                "windows": result["windows"],
                "seconds": result["seconds"],
                **{k: v for k, v in overall.items() if k not in ("cutoff", "model")},
            }
        )
    return pd.DataFrame(rows)


def window_rows(done: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for result in done:
        for row in result["rows"]:
            rows.append(
                {
                    "part": result["part"],
                    "series": result["series"],
                    **row,
                    "model": result["model"],
                }
            )
    return pd.DataFrame(rows)


def gmean(values: pd.Series) -> float:
    values = values.dropna()
    if len(values) == 0 or (values <= 0).any():
        return math.nan
    return float(np.exp(np.log(values).mean()))


def _fmt(value: float, digits: int = 3, suffix: str = "") -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.{digits}f}{suffix}"


def _pct(value: float) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{100 * value:.1f}%"


def coverage_by_chance(
    windows: pd.DataFrame, model: str, n_windows: int, draws: int = 100_000
) -> dict[str, float] | None:
    """How much of a series' coverage figure is chance, from this run's own windows.

    Each window's 90 % coverage minus its series' mean over the windows (scaled by
    sqrt(k / (k - 1)) for the k windows a series has) is the part of that window's coverage
    that its series' calibration does not explain. Drawing ``n_windows`` of them with
    replacement gives the spread of a series' mean coverage if its band were calibrated exactly
    at 90 %: ``p_in_range`` is the chance such a series lands in 85-95 %, and ``p_all`` the
    chance that every one of the run's series does.
    """
    rows = windows[(windows["model"] == model) & windows["coverage_90"].notna()]
    counts = rows.groupby("series")["coverage_90"].transform("count")
    rows = rows[counts >= 2]
    if rows.empty:
        return None
    counts = counts[rows.index]
    centred = rows["coverage_90"] - rows.groupby("series")["coverage_90"].transform("mean")
    deviations = (centred * np.sqrt(counts / (counts - 1))).to_numpy(float)
    rng = np.random.default_rng(0)
    means = 0.90 + rng.choice(deviations, size=(draws, n_windows)).mean(axis=1)
    p_in = float(((means >= 0.85) & (means <= 0.95)).mean())
    n_series = int(rows["series"].nunique())
    return {
        "window_sd": float(deviations.std()),
        "series": n_series,
        "windows": n_windows,
        "p_in_range": p_in,
        "p_all": p_in**n_series,
    }


def summarise_a(table: pd.DataFrame, models: list[str]) -> tuple[list[dict], list[str]]:
    """Per model: gmean MASE, ratios on common series, coverage range, peak error; and Markdown."""
    mase = table.pivot(index="series", columns="model", values="mase")
    peak = table.pivot(index="series", columns="model", values="peak_ape")
    cover = table.pivot(index="series", columns="model", values="coverage_90")
    seconds = table.groupby("model")["seconds"].sum()

    def ratio(model: str, reference: str) -> float:
        if reference not in mase.columns or model not in mase.columns:
            return math.nan
        if model == reference:
            return 1.0
        both = mase[[model, reference]].dropna()
        return gmean(both[model]) / gmean(both[reference]) if len(both) else math.nan

    summary = []
    for model in models:
        if model not in mase.columns:
            continue
        summary.append(
            {
                "model": model,
                "series": int(mase[model].notna().sum()),
                "gmean_mase": gmean(mase[model]),
                "vs_prophet": ratio(model, PROPHET),
                "vs_weekly_naive": ratio(model, WEEKLY_NAIVE),
                "coverage_90_min": float(cover[model].min()),
                "coverage_90_max": float(cover[model].max()),
                "coverage_90_mean": float(cover[model].mean()),
                "coverage_90_in_range": int(cover[model].between(0.85, 0.95).sum()),
                "mean_peak_ape": float(peak[model].mean()),
                "seconds": float(seconds.get(model, math.nan)),
            }
        )
    lines = [
        "| model | series | gmean MASE | ÷ ProphetDefault | ÷ SeasonalNaive(168) | "
        "90% coverage min–max (mean) | mean daily-peak error | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        lines.append(
            f"| {s['model']} | {s['series']} | {_fmt(s['gmean_mase'])} | "
            f"{_fmt(s['vs_prophet'])} | {_fmt(s['vs_weekly_naive'])} | "
            f"{_pct(s['coverage_90_min'])}–{_pct(s['coverage_90_max'])} "
            f"({_pct(s['coverage_90_mean'])}) | {_pct(s['mean_peak_ape'])} | "
            f"{s['seconds']:.0f} |"
        )
    shown = [m for m in models if m in mase.columns]
    lines += ["", "MASE (m = 24) per series:", ""]
    lines += ["| series | windows | " + " | ".join(shown) + " |"]
    lines += ["|---|---|" + "---|" * len(shown)]
    windows = table.groupby("series")["windows"].max()
    for series in mase.index:
        cells = [_fmt(mase.loc[series, m]) for m in shown]
        lines.append(f"| {series} | {windows[series]} | " + " | ".join(cells) + " |")
    lines += ["", "Daily-peak error per series (× ProphetDefault's):", ""]
    lines += ["| series | " + " | ".join(shown) + " |", "|---|" + "---|" * len(shown)]
    for series in peak.index:
        cells = []
        for m in shown:
            value = peak.loc[series, m]
            base = peak.loc[series, PROPHET] if PROPHET in peak.columns else math.nan
            times = value / base if m != PROPHET and np.isfinite(base) and base > 0 else math.nan
            cells.append(_pct(value) + (f" ({times:.2f}×)" if np.isfinite(times) else ""))
        lines.append(f"| {series} | " + " | ".join(cells) + " |")
    lines += ["", "90% interval coverage per series (target 85–95%):", ""]
    lines += ["| series | " + " | ".join(shown) + " |", "|---|" + "---|" * len(shown)]
    for series in cover.index:
        cells = [_pct(cover.loc[series, m]) for m in shown]
        lines.append(f"| {series} | " + " | ".join(cells) + " |")
    in_range = " · ".join(
        f"{s['model']} {s['coverage_90_in_range']} of {s['series']}" for s in summary
    )
    lines += ["", f"Series with coverage in 85–95%: {in_range}."]
    return summary, lines


def summarise_m4(table: pd.DataFrame, models: list[str]) -> tuple[list[dict], list[str]]:
    """Per model: mean sMAPE and MASE over the series, OWA against per-series Naive2."""
    means = table.groupby("model")[["smape", "mase"]].mean()
    counts = table.groupby("model")["series"].nunique()
    seconds = table.groupby("model")["seconds"].sum()
    coverage = table.groupby("model")["coverage_90"].mean() if "coverage_90" in table else None
    naive2 = means.loc[NAIVE2] if NAIVE2 in means.index else None
    summary = []
    for model in [*models, NAIVE2]:
        if model not in means.index:
            continue
        smape, mase = means.loc[model]
        owa = (
            (smape / naive2["smape"] + mase / naive2["mase"]) / 2
            if naive2 is not None
            else math.nan
        )
        cov = coverage.get(model, math.nan) if coverage is not None else math.nan
        summary.append(
            {
                "model": model,
                "series": int(counts[model]),
                "smape": float(smape),
                "mase": float(mase),
                "owa": float(owa),
                "coverage_90_mean": float(cov),
                "seconds": float(seconds[model]),
            }
        )
    lines = [
        "| model | series | sMAPE | MASE | OWA | 90% coverage (mean) | CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        lines.append(
            f"| {s['model']} | {s['series']} | {_fmt(s['smape'])} | {_fmt(s['mase'])} | "
            f"{_fmt(s['owa'])} | {_pct(s['coverage_90_mean'])} | {s['seconds']:.0f} |"
        )
    published = "; ".join(
        f"{m} sMAPE {v[0]:.3f}, MASE {v[1]:.3f}, OWA {v[2]:.3f}" for m, v in M4_PUBLISHED.items()
    )
    lines += ["", f"Published (M4, all 414 series): {published}."]
    return summary, lines


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--demo", type=Path, default=DEFAULT_DEMO)
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated, from {', '.join(MODELS)} (default: all)",
    )
    parser.add_argument(
        "--only", default="demo,datasets,m4", help="comma-separated parts: demo, datasets, m4"
    )
    parser.add_argument("--split", choices=("tune", "report"), default="report")
    parser.add_argument(
        "--utc-demo",
        action="store_true",
        help="fit the demo series without their region's time zone and holidays (the protocol "
        "before 2026-11-26)",
    )
    parser.add_argument(
        "--bare-datasets",
        action="store_true",
        help="fit the public series without their holidays (the protocol before 2026-11-27)",
    )
    parser.add_argument("--quick", action="store_true", help="2 cutoffs and 50 M4 series")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a DemandForecaster setting to try, e.g. interval_space=log (repeatable; the "
        "value is read as JSON, else as text)",
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, help="folder for CSV, JSON and Markdown results")
    args = parser.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.only = {p.strip() for p in args.only.split(",") if p.strip()}
    args.params = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            parser.error(f"--set takes NAME=VALUE; got {item!r}")
        try:
            args.params[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            args.params[name.strip()] = value
    if args.params:
        from capacity.errors import ParameterError
        from capacity.forecast import DemandForecaster

        try:
            DemandForecaster(**args.params)._check_params()
        except (TypeError, ParameterError) as exc:
            parser.error(f"--set: {exc}")
    for key in args.models:
        if key not in MODELS:
            parser.error(f"unknown model {key!r}; choose from {', '.join(MODELS)}")
    for part in args.only:
        if part not in ("demo", "datasets", "m4"):
            parser.error(f"unknown part {part!r}; choose from demo, datasets, m4")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    notes: list[str] = []
    keys = list(args.models)
    if "demand" in keys:
        why = demand_available()
        if why:
            keys.remove("demand")
            notes.append(f"DemandForecaster skipped: capacity.forecast is not usable ({why})")
    models = [MODELS[k] for k in keys]
    per_split = QUICK_WINDOWS if args.quick else WINDOWS
    started = time.perf_counter()
    report: list[str] = [
        f"Forecast accuracy, {pd.Timestamp.now(tz='UTC'):%Y-%m-%d}, "
        f"{platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"pandas {pd.__version__}; split {args.split}, {per_split} cutoffs per series"
        f"{' (--quick)' if args.quick else ''}"
        f"{''.join(f'; {k}={v!r}' for k, v in args.params.items())}.",
        "",
    ]
    summary: dict[str, Any] = {
        "args": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(args).items()}
    }
    done_a: list[dict] = []
    done_m4: list[dict] = []

    series: dict[str, tuple[pd.DataFrame, pd.DataFrame | None, Protocol]] = {}
    placements: dict[str, dict[str, Any]] = {}
    if "datasets" in args.only:
        for name, (frame, protocol) in load_datasets(args.datasets).items():
            series[name] = (frame, None, protocol)
            if not args.bare_datasets and name in DATASET_PLACEMENT:
                placements[name] = DATASET_PLACEMENT[name]
    if "demo" in args.only:
        for name, (frame, events, placement) in load_demo(args.demo).items():
            series[name] = (frame, events, WEEKLY)
            if not args.utc_demo:
                placements[name] = placement
    if series:
        tasks = part_a_tasks(series, keys, per_split, args.split, notes)
        for task in tasks:
            task["fit_kwargs"] = placements.get(task["series"])
            task["params"] = args.params
        done_a = run_all(tasks, args.jobs, "part A")
        table = overall_rows(done_a)
        summary["part_a"], lines = summarise_a(table, models) if len(table) else ([], [])
        chance = coverage_by_chance(window_rows(done_a), MODELS["demand"], per_split)
        summary["coverage_by_chance"] = chance
        if chance is not None:
            lines += [
                "",
                f"Coverage by chance ({MODELS['demand']}): one window's coverage strays "
                f"{100 * chance['window_sd']:.1f} points (sd) from its series' mean; a series "
                f"calibrated at exactly 90 % would land in 85–95 % over {chance['windows']} "
                f"windows with probability {chance['p_in_range']:.2f}, all {chance['series']} "
                f"series with {chance['p_all']:.3f}.",
            ]
        report += [
            f"## Part A: rolling origin, {args.split} split (weekly cutoffs, 168 h ahead, hourly)",
            "",
            *lines,
            "",
        ]
    if "m4" in args.only:
        m4 = load_m4(args.datasets / "m4-hourly", M4_QUICK_SERIES if args.quick else None)
        m4_work = m4_tasks(m4, keys, args.split)
        for task in m4_work:
            task["params"] = args.params
        done_m4 = run_all(m4_work, args.jobs, "M4")
        table = overall_rows(done_m4)
        summary["m4"], lines = summarise_m4(table, models) if len(table) else ([], [])
        report += [
            f"## Part B: M4 Hourly ({len(m4)} series, horizon 48, OWA vs per-series Naive2"
            + (
                "; tune: the last 48 training hours, not the test set)"
                if args.split == "tune"
                else ")"
            ),
            "",
            *lines,
            "",
        ]
    failures = [r for r in done_a + done_m4 if r["error"]]
    for failure in failures[:20]:
        notes.append(f"{failure['model']} failed on {failure['series']}: {failure['error']}")
    if len(failures) > 20:
        notes.append(f"... and {len(failures) - 20} more failures")
    elapsed = time.perf_counter() - started
    report += ["Notes:", ""] + [f"- {n}" for n in notes] + [f"- wall time {elapsed:.0f} s", ""]
    text = "\n".join(report)
    print(text)
    summary.update(notes=notes, failures=len(failures), wall_seconds=elapsed)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        window_rows(done_a).to_csv(args.out / "part_a_windows.csv", index=False)
        overall_rows(done_a).to_csv(args.out / "part_a_series.csv", index=False)
        overall_rows(done_m4).to_csv(args.out / "m4_series.csv", index=False)
        (args.out / "summary.json").write_text(
            json.dumps(_plain(summary), indent=2), encoding="utf-8"
        )
        (args.out / "results.md").write_text(text, encoding="utf-8")
    return 1 if failures else 0


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars Python ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
