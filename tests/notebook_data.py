"""Small synthetic data shared by the notebook figure and text tests."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

FLEET = Path(__file__).resolve().parents[1] / "data" / "demo" / "fleet.yaml"
MONDAY = pd.Timestamp("2026-11-02T00:00Z")
REGIONS = ("ap-southeast", "eu-west", "na-east", "sa-east")
SERVICES = ("chat", "game", "matchmaking")


def hourly(values, start=MONDAY):
    values = np.asarray(values, dtype=float)
    return pd.DataFrame(
        {"ts": pd.date_range(start, periods=len(values), freq="h"), "value": values}
    )


def cells(page: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", page)


def accuracy_rows(cutoffs):
    rows = []
    for i, cutoff in enumerate(cutoffs):
        for region in REGIONS:
            for service in SERVICES:
                rows.append(
                    {
                        "run_id": f"r{i}",
                        "cutoff": cutoff,
                        "region": region,
                        "service": service,
                        "metric": "ccu",
                        "hours": 48,
                        "mape": 0.05 + 0.01 * i,
                        "bias": 0.01,
                        "coverage_90": 0.9,
                        "peak_ape": 0.04,
                        "peak_days": 2,
                    }
                )
    return pd.DataFrame(rows)
