"""Calibration at the fleet's horizon: 28 days ahead, scored by lead week.

``capacity forecast-fleet`` and the weekly plan forecast 28 days ahead, and headroom is sized
from the forecast's 0.95 quantile over all of them. ``forecast_accuracy.py`` scores 168-hour
forecasts only, the span the forecaster's intervals are calibrated on. This script scores the
whole 28 days: for every cutoff, one fit on the history before it (the last 112 days, as the
fleet run reads), a 672-hour forecast, and per lead week (days 1-7, 8-14, 15-21, 22-28):

- the 90 % interval's coverage (q0.05 to q0.95; stated: 90 %),
- how often demand stayed at or below q0.95, the quantile headroom is sized from (stated:
  95 %),
- the mean pinball loss over q0.05, q0.9, q0.95 and q0.99, in % of the mean actual demand.

Series and cutoffs (fixed dates, so that ``--demo`` can point at another seed of the demo
generator with the same calendar):

- the demo fleet's 12 demand series, with their region's calendar, time zone and holidays.
  ``tune``: 10 cutoffs every 3 weeks, 2026-01-05 to 2026-07-13; ``check``: 5 cutoffs every 2
  weeks, 2026-08-03 to 2026-09-28; ``report``: 4 weekly cutoffs, 2026-10-05 to 2026-10-26
  (the last whose 28 days the data hold);
- ``nyc_taxi`` (hourly means, naive times as UTC labels, US holidays as the scaling benchmark
  fits it). ``tune``: 2014-10-27 to 2014-12-01 weekly; ``check``: 2014-12-08 to 12-29 weekly;
  ``report``: 2015-01-04 (its 28 days overlap the check windows' last three weeks);
- ``taylor`` (hourly means). ``tune``: 2000-07-03, 07-10, 07-17; ``check``: 07-24, 07-31;
  no ``report`` cutoff is left. ``twitter_AMZN`` (8 weeks) and ``machine-01`` (14 days) are
  too short for a 28-day horizon after two weeks of history in more than one era.

Models: ``demand`` (``DemandForecaster``; ``--growth`` overrides its ``interval_growth``),
``snaive168`` and ``prophet`` (Prophet's defaults with its own sampled intervals).

No target of its own: it measures whether the stated coverage holds at the horizon users get.
It prints, first, one row per model in the layout of ``benchmarks/RESULTS.md``'s table, then
every measure per lead week and each series' coverage. About a minute per split on 2 cores.

    .venv/bin/python benchmarks/fleet_horizon.py [--split tune|check|report]
        [--models demand,snaive168,prophet] [--growth X] [--demo DIR] [--jobs 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import forecast_accuracy as fa
import numpy as np
import pandas as pd

from capacity.backtest import backtest
from capacity.baselines import ProphetDefault, SeasonalNaive
from capacity.comparison import PlacedForecaster
from capacity.forecast import DemandForecaster

HORIZON = 28 * 24
WEEK = 168
QUANTILES = (0.05, 0.5, 0.9, 0.95, 0.99)
SCORED = (0.05, 0.9, 0.95, 0.99)

CUTOFFS: dict[str, dict[str, list[str]]] = {
    "demo": {
        "tune": [str(d.date()) for d in pd.date_range("2026-01-05", periods=10, freq="21D")],
        "check": [str(d.date()) for d in pd.date_range("2026-08-03", periods=5, freq="14D")],
        "report": [str(d.date()) for d in pd.date_range("2026-10-05", periods=4, freq="7D")],
    },
    "nyc_taxi": {
        "tune": [str(d.date()) for d in pd.date_range("2014-10-27", periods=6, freq="7D")],
        "check": [str(d.date()) for d in pd.date_range("2014-12-08", periods=4, freq="7D")],
        "report": ["2015-01-04"],
    },
    "taylor": {
        "tune": ["2000-07-03", "2000-07-10", "2000-07-17"],
        "check": ["2000-07-24", "2000-07-31"],
        "report": [],
    },
}
PLACEMENT = {"nyc_taxi": {"holidays_country": "US"}, "taylor": {}}


def make_model(key: str, growth: float | None, place: dict[str, Any]) -> Any:
    if key == "snaive168":
        return SeasonalNaive(168, quantiles=QUANTILES)
    if key == "prophet":
        return ProphetDefault(quantiles=QUANTILES, random_state=0)
    params: dict[str, Any] = {"quantiles": QUANTILES}
    if growth is not None:
        params["interval_growth"] = growth
    model = DemandForecaster(**params)
    return PlacedForecaster(model, place) if place else model


def run(task: tuple[str, str, pd.DataFrame, Any, dict[str, Any], str, float | None]) -> Any:
    """One 28-day forecast from one cutoff, scored per step."""
    name, key, frame, events, place, cutoff, growth = task
    at = int(frame[fa.TS].searchsorted(pd.Timestamp(cutoff, tz="UTC")))
    if at + HORIZON > len(frame):
        raise SystemExit(f"{name}: cutoff {cutoff} leaves less than 28 days of data")
    start = max(0, at - 112 * 24)
    part = frame.iloc[start : at + HORIZON].reset_index(drop=True)
    out = backtest(
        make_model(key, growth, place),
        part,
        horizon=HORIZON,
        n_windows=1,
        step=WEEK,
        events=events,
        min_train=14 * 24,
    )
    out["series"], out["model_key"] = name, key
    return out


def tasks(split: str, keys: list[str], growth: float | None, demo: Path) -> list[tuple]:
    out = []
    for name, (frame, events, place) in fa.load_demo(demo).items():
        for cutoff in CUTOFFS["demo"][split]:
            out += [(name, key, frame, events, place, cutoff, growth) for key in keys]
    datasets = fa.load_datasets(fa.DEFAULT_DATASETS)
    for name in ("nyc_taxi", "taylor"):
        frame = datasets[name][0]
        for cutoff in CUTOFFS[name][split]:
            out += [(name, key, frame, None, PLACEMENT[name], cutoff, growth) for key in keys]
    return out


def score(results: pd.DataFrame) -> pd.DataFrame:
    """Per row: lead week, inside the 90 % band, at or below q0.95, pinball (x actual)."""
    r = results[results["actual"].notna()].copy()
    r["week"] = (r["step"] - 1) // WEEK + 1
    a = r["actual"].to_numpy()
    r["in90"] = (a >= r["q0.05"]) & (a <= r["q0.95"])
    r["below95"] = a <= r["q0.95"]
    loss = np.zeros(len(r))
    for q in SCORED:
        v = r[f"q{q}"].to_numpy()
        loss += np.where(a > v, q * (a - v), (1 - q) * (v - a))
    r["pinball"] = loss / len(SCORED)
    return r


NAMES = {
    "demand": "DemandForecaster",
    "snaive168": "SeasonalNaive(168)",
    "prophet": "ProphetDefault",
}


def summary(r: pd.DataFrame, era: str) -> str:
    """One row per model, as in ``benchmarks/RESULTS.md``: coverage per lead week, how often
    demand exceeded q0.95 in the last week, pinball loss in the first and last weeks."""
    last = r["week"].max()
    lines = [
        "| era | model | 90 % coverage, days 1-7 / 8-14 / 15-21 / 22-28 | above q0.95, days "
        "22-28 | pinball, % of mean demand, days 1-7 / 22-28 |",
        "|---|---|---|---:|---|",
    ]
    for key in [k for k in NAMES if k in set(r["model_key"])]:
        part = r[r["model_key"] == key]
        by = part.groupby("week")
        coverage = " / ".join(f"{v * 100:.1f}" for v in by["in90"].mean())
        above = (1 - by["below95"].mean()[last]) * 100
        pinball = by["pinball"].mean() / part["actual"].mean() * 100
        lines.append(
            f"| {era} | {NAMES[key]} | {coverage} | {above:.1f} % "
            f"| {pinball[1]:.2f} / {pinball[last]:.2f} |"
        )
    return "\n".join(lines)


def tables(r: pd.DataFrame) -> str:
    lines = []
    weeks = sorted(r["week"].unique())
    head = " | ".join(f"days {7 * (w - 1) + 1}-{7 * w}" for w in weeks)
    lines += [f"| model | measure | {head} |", "|---|---|" + "---:|" * len(weeks)]
    for key, part in r.groupby("model_key", sort=False):
        by = part.groupby("week")
        scale = part["actual"].mean()
        rows = {
            "90 % coverage": by["in90"].mean() * 100,
            "at or below q0.95": by["below95"].mean() * 100,
            "pinball, % of mean": by["pinball"].mean() / scale * 100,
        }
        for label, values in rows.items():
            cells = " | ".join(
                f"{values[w]:.1f}" if "pinball" not in label else f"{values[w]:.2f}" for w in weeks
            )
            lines.append(f"| {key} | {label} | {cells} |")
    lines += ["", "90 % coverage per series over the 28 days (days 22-28 in brackets):", ""]
    keys = list(r["model_key"].unique())
    lines += ["| series | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for series, part in r.groupby("series"):
        cells = []
        for key in keys:
            m = part[part["model_key"] == key]
            last = m[m["week"] == max(weeks)]["in90"].mean() * 100
            cells.append(f"{m['in90'].mean() * 100:.1f} ({last:.1f})")
        lines.append(f"| {series} | " + " | ".join(cells) + " |")
    for key in keys:
        per = r[r["model_key"] == key].groupby("series")["in90"].mean() * 100
        inside = int(((per >= 85) & (per <= 95)).sum())
        lines.append(f"\n{key}: {inside} of {len(per)} series in 85-95 % over the 28 days.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=("tune", "check", "report"), default="report")
    p.add_argument("--models", default="demand,snaive168,prophet")
    p.add_argument("--growth", type=float, default=None, help="DemandForecaster interval_growth")
    p.add_argument("--demo", type=Path, default=fa.DEFAULT_DEMO)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, help="write the scored rows here (Parquet)")
    args = p.parse_args(argv)
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = sorted(set(keys) - {"demand", "snaive168", "prophet"})
    if unknown or not keys:
        p.error(f"--models: unknown {', '.join(unknown) or '(none)'}")
    work = tasks(args.split, keys, args.growth, args.demo)
    work.sort(key=lambda t: t[1] != "prophet")  # the slowest first
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        parts = list(pool.map(run, work))
    took = time.perf_counter() - started
    r = score(pd.concat(parts, ignore_index=True))
    if args.out:
        r.to_parquet(args.out)
    growth = "default" if args.growth is None else f"{args.growth:g}"
    print(f"split {args.split}, {len(work)} forecasts, interval_growth {growth}, {took:.0f} s\n")
    print(summary(r, args.split) + "\n")
    print(tables(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
