"""Fleet forecasting speed: 500 hourly series of 8 weeks through ``capacity forecast-fleet``.

Builds, in a temporary folder, a fleet of 125 regions x 4 services (500 demand series, 8 weeks
hourly, daily and weekly cycles by region time zone, noise, a few gaps) and its store, then
times the real command ``capacity forecast-fleet --horizon 28d --jobs N`` end to end (reading,
fitting, predicting quantiles, storing the run). In the same run it times a bare Prophet
fit + predict with its defaults on a sample of the same series, and reports the ratio of the
time per series.

Then the daily refit: one more day of telemetry is loaded and the fleet is forecast again,
once starting every fit from the parameters the first run stored (the default, warm start)
and once with ``--cold``; it reports both wall times and their ratio.

Target: at most 120 s for 500 series on a 2-core machine (the first run).

Usage: ``.venv/bin/python benchmarks/forecast_speed.py [--series 500] [--weeks 8] [--jobs 2]
[--sample 20] [--no-refit]``. About 5 minutes on an idle machine; ``--series 20 --no-refit``
is a smoke run of about 15 seconds. Prints a row for each of ``benchmarks/RESULTS.md``'s two
tables.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Singapore", "America/Sao_Paulo", "UTC")
SERVICES = {"game": "ccu", "matchmaking": "rps", "chat": "rps", "voice": "ccu"}


def fleet_yaml(regions: list[str]) -> str:
    """A valid fleet configuration for the synthetic regions."""
    lines = ["version: 1", "regions:"]
    for i, region in enumerate(regions):
        lines.append(f"  {region}: {{timezone: {ZONES[i % len(ZONES)]}}}")
    lines.append("services:")
    for service, metric in SERVICES.items():
        lines.append(
            f"  {service}: {{demand_metric: {metric}, server_type: {service}-std, "
            "slo: {latency_p99_ms: 100, availability: 0.999}}"
        )
    lines.append("server_types:")
    for service in SERVICES:
        lines.append(
            f"  {service}-std: {{safe_load_hint: 400, cost_per_hour: 0.3, "
            "boot_lead_time_minutes: 5, procurement_lead_time_days: 7}"
        )
    lines.append("current_servers: {}")
    lines.append("failover:")
    for i, region in enumerate(regions):
        lines.append(f"  {region}: {{{regions[(i + 1) % len(regions)]}: 1.0}}")
    return "\n".join(lines) + "\n"


def telemetry(regions: list[str], weeks: int, seed: int = 0) -> pd.DataFrame:
    """Long telemetry: one demand metric per region/service, hourly, ending 2026-11-23 (plus
    the next day, 2026-11-23, for the refit)."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(end="2026-11-23 23:00", periods=weeks * 168 + 24, freq="h", tz="UTC")
    frames = []
    for i, region in enumerate(regions):
        local = ts.tz_convert(ZONES[i % len(ZONES)])
        hour, weekend = local.hour.to_numpy(), local.day_of_week.to_numpy() >= 5
        daily = 1 + 0.6 * np.sin(2 * np.pi * (hour - 14) / 24)
        base = rng.uniform(2e3, 2e5) * daily * np.where(weekend, 1.15, 1.0)
        for service, metric in SERVICES.items():
            noise = np.exp(rng.normal(0, 0.05, len(ts)))
            value = base * rng.uniform(0.2, 1.0) * noise
            keep = rng.random(len(ts)) > 0.002
            frames.append(
                pd.DataFrame(
                    {
                        "ts": ts[keep],
                        "region": region,
                        "service": service,
                        "metric": metric,
                        "value": value[keep].round(1),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def bare_prophet_seconds(frame: pd.DataFrame, sample: int) -> float:
    """Median seconds of a Prophet fit + 28-day predict with defaults, per series."""
    import cmdstanpy
    from prophet import Prophet

    cmdstanpy.disable_logging()
    logging.getLogger("prophet").setLevel(logging.ERROR)
    times = []
    for _, part in list(frame.groupby(["region", "service"]))[:sample]:
        df = pd.DataFrame({"ds": part["ts"].dt.tz_localize(None), "y": part["value"]})
        started = time.perf_counter()
        model = Prophet().fit(df)
        model.predict(model.make_future_dataframe(periods=28 * 24, freq="h", include_history=False))
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main() -> None:
    """Build the fleet, time the command and the bare Prophet baseline, print a table row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--series", type=int, default=500, help="demand series (rounded down to a multiple of 4)"
    )
    parser.add_argument("--weeks", type=int, default=8, help="weeks of hourly history")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=20, help="series for the bare Prophet fit")
    parser.add_argument("--no-refit", action="store_true", help="Skip the refit timing.")
    args = parser.parse_args()
    # cold fits, as in RESULTS.md's earlier rows: the forecast cache would serve repeats
    os.environ["CAPACITY_CACHE_DIR"] = "off"
    regions = [f"r{i:03d}" for i in range(max(1, args.series // len(SERVICES)))]
    with tempfile.TemporaryDirectory(prefix="capacity-speed-") as tmp:
        folder = Path(tmp)
        full = telemetry(regions, args.weeks)
        next_day = full["ts"] >= pd.Timestamp("2026-11-23", tz="UTC")
        frame = full[~next_day]
        frame.to_parquet(folder / "telemetry.parquet", index=False)
        full[next_day].to_parquet(folder / "next_day.parquet", index=False)
        (folder / "fleet.yaml").write_text(fleet_yaml(regions))
        capacity = [str(Path(sys.executable).with_name("capacity"))]
        db = str(folder / "store.duckdb")
        command = [
            *capacity,
            "forecast-fleet",
            "--db",
            db,
            "--config",
            str(folder / "fleet.yaml"),
            "--horizon",
            "28d",
            "--history",
            f"{args.weeks * 7}d",
            "--jobs",
            str(args.jobs),
        ]

        def timed(*extra: str) -> float:
            started = time.perf_counter()
            run = subprocess.run([*command, *extra], check=True, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            print(run.stdout.splitlines()[0], flush=True)
            return seconds

        subprocess.run(
            [*capacity, "ingest", str(folder / "telemetry.parquet"), "--db", db],
            check=True,
            capture_output=True,
        )
        elapsed = timed()
        series = len(regions) * len(SERVICES)
        if not args.no_refit:
            subprocess.run(
                [*capacity, "ingest", str(folder / "next_day.parquet"), "--db", db],
                check=True,
                capture_output=True,
            )
            warm, cold = timed(), timed("--cold")
        bare = bare_prophet_seconds(frame, args.sample)
    ours = elapsed * args.jobs / series  # CPU-seconds per series, comparable with one process
    print(
        f"\n| {time.strftime('%Y-%m-%d')} | {platform.machine()}, {os.cpu_count()} cores | "
        f"{series} x {args.weeks} weeks hourly, horizon 28 d | {args.jobs} | {elapsed:.1f} s | "
        f"{ours:.2f} s | {bare:.2f} s | {ours / bare:.2f} |"
    )
    if not args.no_refit:
        print(
            f"\nrefit a day later: | {time.strftime('%Y-%m-%d')} | {series} series | "
            f"{args.jobs} | warm start {warm:.1f} s | cold {cold:.1f} s | {warm / cold:.2f} |"
        )


if __name__ == "__main__":
    main()
