"""Forecasts from young series: 8 to 13 days of history, 168 hours ahead.

A new region or service has days, not weeks, of telemetry. This cuts such histories from the
public series and the demo fleet at fixed cutoffs and scores ``DemandForecaster`` against the
weekly and daily seasonal naives (MASE with m = 24, scaled on each short history) and its 90 %
interval's coverage. ``--split tune`` uses cutoffs 5 to 12 weeks before each series' end (the
demo's four game series, and the public series at 5 to 8 weeks); ``--split report`` the last
4 weeks (all twelve demo series and the public series). ``machine-01`` (14 days) is left out.

No target of its own: it compares the forecaster with the seasonal naives on young series.
About 20 seconds per split on 2 cores. Prints one row per forecast, then the geometric means
and the mean coverage that ``benchmarks/RESULTS.md`` reports.

    .venv/bin/python benchmarks/young_series.py [--split tune|report] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import forecast_accuracy as fa
import numpy as np
import pandas as pd

from capacity.columns import TS, VALUE
from capacity.forecast import DemandForecaster

HORIZON = 168
#: (weeks before the end, days of history) per cutoff.
TUNE_DEMO = list(zip(range(5, 13), [8, 9, 10, 11, 12, 13, 9, 11], strict=True))
TUNE_PUBLIC = list(zip(range(5, 9), [8, 10, 12, 13], strict=True))
REPORT = list(zip(range(1, 5), [8, 10, 12, 13], strict=True))


def score(task: tuple[str, pd.DataFrame, Any, Any, int, int]) -> dict[str, Any]:
    """Fit on ``days`` of history before ``cut``, forecast a week, score it."""
    name, frame, events, place, cut, days = task
    train = frame.iloc[cut - days * 24 : cut].reset_index(drop=True)
    actual = frame[VALUE].iloc[cut : cut + HORIZON].to_numpy()
    history = train[VALUE].to_numpy()
    scale = np.nanmean(np.abs(history[24:] - history[:-24]))
    model = DemandForecaster(quantiles=(0.05, 0.5, 0.95)).fit(train, events, **(place or {}))
    forecast = model.predict(HORIZON)
    ok = np.isfinite(actual)
    low, high = forecast["q0.05"].to_numpy(), forecast["q0.95"].to_numpy()

    def mase(values: np.ndarray) -> float:
        return float(np.mean(np.abs(actual[ok] - values[ok])) / scale)

    return {
        "series": name,
        "cutoff": str(frame[TS].iloc[cut]),
        "days": days,
        "model": model.model_,
        "mase": mase(forecast["yhat"].to_numpy()),
        "weekly_naive": mase(np.resize(history[-168:], HORIZON)),
        "daily_naive": mase(np.resize(history[-24:], HORIZON)),
        "coverage_90": float(np.mean((low[ok] <= actual[ok]) & (actual[ok] <= high[ok]))),
    }


def tasks(split: str) -> list[tuple]:
    out = []
    for name, (frame, events, place) in fa.load_demo(fa.DEFAULT_DEMO).items():
        if split == "tune" and not name.endswith("game/ccu"):
            continue
        for weeks, days in TUNE_DEMO if split == "tune" else REPORT:
            out.append((name, frame, events, place, len(frame) - weeks * 168, days))
    for name, (frame, _) in fa.load_datasets(fa.DEFAULT_DATASETS).items():
        if name == "machine-01":
            continue
        for weeks, days in TUNE_PUBLIC if split == "tune" else REPORT:
            cut = len(frame) - weeks * 168
            if cut - days * 24 >= 0:
                out.append((name, frame, None, None, cut, days))
    return out


def gmean(values: pd.Series) -> float:
    return float(np.exp(np.log(values).mean()))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=("tune", "report"), default="report")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    with ProcessPoolExecutor(args.jobs) as pool:
        table = pd.DataFrame(list(pool.map(score, tasks(args.split))))
    print(f"## Young series, {args.split} split: {len(table)} forecasts, 8-13 days of history\n")
    columns = list(table.columns)
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in table.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        print("| " + " | ".join(cells) + " |")
    print(
        f"\ngmean MASE: DemandForecaster {gmean(table['mase']):.3f}, weekly naive "
        f"{gmean(table['weekly_naive']):.3f}, daily naive {gmean(table['daily_naive']):.3f}; "
        f"mean 90 % coverage {100 * table['coverage_90'].mean():.1f} %"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
