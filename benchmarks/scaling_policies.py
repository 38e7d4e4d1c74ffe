"""Scaling policies replayed on real demand: static peak, reactive, predictive with reactive.

For every series, the last 4 whole weeks are the replay window (the *report* split). Three
policies are replayed hour by hour with :func:`capacity.scaling.simulate`:

- **static**: the window's actual peak need with N+k, ``max(ceil(peak / safe_load) + k,
  min_servers)``, every hour. It knows the peak in advance, which no real static fleet does;
- **reactive**: ``ReactivePolicy()``, like an HPA or target tracking. It scales on the load it
  saw 2 hours earlier (target 70 % of the safe load), scales out at once, and scales in by
  at most 10 % an hour after a 1-hour cooldown;
- **predictive**: ``PredictivePolicy(floors, ReactivePolicy(...), expected=...)``. One
  ``DemandForecaster`` fit per replayed day (:func:`capacity.scaling.rolling_forecasts`), on
  the 112 days before that day only (what the fleet run reads). Each fit sees the calendar as
  known at its cutoff and forecasts 24 h plus the boot lead. The floor covers a forecast
  quantile with N+k, raised one boot lead ahead (a level the forecaster does not report is
  interpolated between its quantiles). A reactive policy runs on top, and projects the load
  it saw 2 hours earlier along the forecast median's shape (``expected``), so it does not lag
  the daily ramps; its delay and cooldown are the baseline's.

**Tuning is honest.** The predictive policy's settings are its floors' quantile, and the target
and scale-in step of its reactive part (``GRID``). They are chosen per dataset on the *tune*
split, the 8 weeks just before the report window, scored as two 4-week tune windows (each as
long as the report window, so a holiday fortnight is at most half of one), by
``SELECTION_RULE``, and only then replayed on the report window. The report window will differ
from every tune window, so the rule asks for room: a setting must meet every target in both
tune windows with the server-hour targets at least ``COST_MARGIN`` away, and among those it
takes the fewest under-provisioned hours (the spare server-hours buy safety). When no setting
has that room, it takes the setting furthest from missing its tightest target. The choice is
automatic, so it follows the forecaster as it changes. ``--tune-only`` prints the
whole grid and stops. ``--quantile``, ``--target`` and ``--scale-in-step`` skip tuning.

Series:

- the demo fleet's 12 demand series (``data/demo/telemetry.parquet``, each service's demand
  metric from ``fleet.yaml``). Each region's calendar, holidays and time zone are used. The safe
  load is the true one (``capacity.demo.TRUTH``), the N+k rule and boot lead times come from
  ``fleet.yaml``;
- ``nyc_taxi`` from ``--datasets`` (30-minute counts, resampled to hourly means; naive times
  read as UTC labels). US holidays, ``k = 1``, ``min_servers = 2``, a 1-hour boot lead, and
  ``safe_load = p99 / 20`` of the 4 weeks before the report window, so the static peak policy
  needs about 20 servers.

The 2 days before a window warm the reactive state up; they are not scored.

Targets, per dataset: predictive has at most 25 % of reactive's under-provisioned hours, at
most 110 % of its server-hours, and at most 70 % of static's server-hours. The exit status is
1 when a target is missed.

Run from the repository root::

    .venv/bin/python benchmarks/scaling_policies.py            # about 9 minutes on 2 cores
    .venv/bin/python benchmarks/scaling_policies.py --quick    # about a minute
    .venv/bin/python benchmarks/scaling_policies.py --only nyc_taxi   # under a minute

``--quick`` replays a week per split and, of the demo fleet, only the game service; nyc_taxi
still runs unless ``--only demo``.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capacity.calendar import read_calendar
from capacity.columns import ALL_REGIONS, REGIONS, TS, VALUE
from capacity.config import load_fleet
from capacity.demo import TRUTH
from capacity.parallel import map_tasks
from capacity.scaling import (
    PredictivePolicy,
    ReactivePolicy,
    StaticPolicy,
    boot_lead_hours,
    expected_load,
    floors_from_forecasts,
    rolling_forecasts,
    simulate,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASETS = REPO.parent / "shared" / "datasets"
DEFAULT_DEMO = REPO / "data" / "demo"

REPORT_DAYS, TUNE_DAYS, QUICK_DAYS = 28, 28, 7
#: Tune windows, each ``TUNE_DAYS`` long, back to back before the report window.
TUNE_WINDOWS = 2
WARMUP_DAYS = 2
#: History each daily fit sees, as ``capacity forecast-fleet`` reads by default (112 days).
HISTORY_HOURS = 112 * 24
NYC_SERVERS_AT_P99 = 20
POLICIES = ("static", "reactive", "predictive")

#: Settings of the predictive policy tried on the tune split: the floors' forecast quantile
#: (levels the forecaster does not report are interpolated between its quantiles), and the
#: target utilisation and scale-in step of its reactive part (its delay, 2 h, and cooldown,
#: 1 h, are the reactive baseline's: they describe the system, not the policy). The finer
#: steps (quantiles 0.4 to 0.8, targets 0.825 and 0.875) were added after nyc_taxi's report
#: window had been seen; benchmarks/RESULTS.md says what that means for its figures.
GRID = {
    "quantile": (0.25, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 0.99),
    "target": (0.7, 0.75, 0.8, 0.825, 0.85, 0.875, 0.9),
    "scale_in_step": (0.2, 0.3, 0.5),
}
#: How far (1 - ratio / limit) both server-hour targets must be met in every tune window before
#: a setting counts as having room to spend on safety.
COST_MARGIN = 0.05
SELECTION_RULE = (
    "among the settings meeting all three targets in every tune window with both server-hour "
    "margins (1 - ratio / limit) at least 0.05, the fewest under-provisioned hours, then the "
    "fewest server-hours; if there is none, the setting whose smallest margin over windows and "
    "targets is largest, then the fewest under-provisioned hours and server-hours"
)

# Targets: predictive vs reactive and static.
MAX_UNDER_VS_REACTIVE = 0.25
MAX_HOURS_VS_REACTIVE = 1.10
MAX_HOURS_VS_STATIC = 0.70


# --------------------------------------------------------------------------- data


def _hourly(ts: pd.Series, values: pd.Series) -> pd.Series:
    """Hourly means on a regular UTC grid; hours without data are NaN."""
    s = pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(ts)).sort_index()
    return s.resample("1h").mean()


def _windows(
    series: pd.Series, split: str, quick: bool, window: int = 0, shift_weeks: int = 0
) -> tuple[pd.Timestamp, int]:
    """A window's first hour and length in days.

    The report window ends ``shift_weeks`` weeks before the series' last whole day. Tune
    window 0 ends where the report window starts, window 1 where window 0 starts, ...
    """
    end = (series.index[-1] + pd.Timedelta(hours=1)).floor("D") - pd.Timedelta(weeks=shift_weeks)
    report = end - pd.Timedelta(days=REPORT_DAYS)
    if split == "report":
        days = QUICK_DAYS if quick else REPORT_DAYS
        return end - pd.Timedelta(days=days), days
    days = QUICK_DAYS if quick else TUNE_DAYS
    return report - pd.Timedelta(days=days * (window + 1)), days


def demo_tasks(
    folder: Path, split: str, quick: bool, window: int = 0, shift_weeks: int = 0
) -> list[dict[str, Any]]:
    fleet = load_fleet(folder / "fleet.yaml")
    telemetry = pd.read_parquet(folder / "telemetry.parquet")
    calendar = read_calendar(folder / "calendar.csv", regions=list(fleet.regions))
    tasks = []
    for region, spec_region in fleet.regions.items():
        touches = calendar[REGIONS].map(lambda names, r=region: r in names or ALL_REGIONS in names)
        events = calendar[touches.to_numpy(bool)].reset_index(drop=True)
        for service, spec in fleet.services.items():
            if quick and service != "game":
                continue
            rows = telemetry[
                (telemetry["region"] == region)
                & (telemetry["service"] == service)
                & (telemetry["metric"] == spec.demand_metric)
            ]
            s = rows.set_index(TS)[VALUE].sort_index()
            s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="h"))
            server_type = fleet.server_type_of(service)
            start, days = _windows(s, split, quick, window, shift_weeks)
            tasks.append(
                {
                    "dataset": "demo",
                    "series": f"{region}/{service}",
                    "demand": s,
                    "events": events,
                    "fit_kwargs": {
                        "holidays_country": spec_region.holidays_country,
                        "timezone": spec_region.timezone,
                    },
                    "safe_load": TRUTH.safe_load(service),
                    "k": fleet.redundancy.k,
                    "min_servers": fleet.redundancy.min_servers,
                    "boot_hours": boot_lead_hours(server_type.boot_lead_time_minutes),
                    "cost_per_hour": server_type.cost_per_hour,
                    "start": start,
                    "days": days,
                }
            )
    return tasks


def nyc_task(
    folder: Path, split: str, quick: bool, window: int = 0, shift_weeks: int = 0
) -> dict[str, Any]:
    raw = pd.read_csv(folder / "nyc_taxi.csv")
    s = _hourly(pd.to_datetime(raw["timestamp"], utc=True), raw["value"])
    start, days = _windows(s, split, quick, window, shift_weeks)
    report = _windows(s, "report", False, shift_weeks=shift_weeks)[0]
    before = s[(s.index < report) & (s.index >= report - pd.Timedelta(days=REPORT_DAYS))]
    safe = float(np.nanquantile(before.to_numpy(), 0.99)) / NYC_SERVERS_AT_P99
    return {
        "dataset": "nyc_taxi",
        "series": "nyc_taxi",
        "demand": s,
        "events": None,
        "fit_kwargs": {"holidays_country": "US"},
        "safe_load": safe,
        "k": 1,
        "min_servers": 2,
        "boot_hours": 1,
        "cost_per_hour": math.nan,
        "start": start,
        "days": days,
    }


# --------------------------------------------------------------------------- replay


_LOADED: dict[str, str] = {}


def _loaded_forecaster() -> str:
    """The forecaster's version as this process imported it (read right after): the first 12
    hex digits of the sha256 over the ``capacity/forecast/`` package's sources, as
    ``capacity.plan`` fingerprints the package's code. Before the package, 12 digits of the
    sha256 of the single file ``capacity/forecast.py`` (as ``benchmarks/RESULTS.md`` cites)."""
    if "version" not in _LOADED:
        import capacity.forecast
        from capacity.plan import _code_sha256

        package = Path(capacity.forecast.__file__).parent
        _LOADED["version"] = _code_sha256(package)[:12]
    return _LOADED["version"]


def setting_label(setting: dict[str, float]) -> str:
    return (
        f"q{setting['quantile']:g}, target {setting['target']:g}, "
        f"scale-in {setting['scale_in_step']:g}"
    )


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Replay the policies on one series (runs in a worker process)."""
    started = time.perf_counter()
    s: pd.Series = task["demand"]
    start, days = task["start"], task["days"]
    end = start + pd.Timedelta(days=days)
    window = s[(s.index >= start - pd.Timedelta(days=WARMUP_DAYS)) & (s.index < end)]
    scored = window[window.index >= start]
    safe, k, minimum = task["safe_load"], task["k"], task["min_servers"]
    history = pd.DataFrame({TS: s.index, VALUE: s.to_numpy()})
    version = _loaded_forecaster()
    forecasts = rolling_forecasts(
        history,
        start=start,
        days=days,
        lead_hours=task["boot_hours"],
        events=task["events"],
        fit_kwargs=task["fit_kwargs"],
        max_history_hours=HISTORY_HOURS,
    )
    floors = {
        quantile: floors_from_forecasts(
            forecasts,
            safe_load=safe,
            k=k,
            min_servers=minimum,
            boot_hours=task["boot_hours"],
            quantile=quantile,
        )
        for quantile in sorted({setting["quantile"] for setting in task["settings"]})
    }
    # The load the day's forecast expects: the reactive part projects what it saw along it.
    expected = expected_load(forecasts, 0.5)
    per_day = forecasts.groupby("cutoff", sort=True).first()
    fit_seconds = time.perf_counter() - started
    peak = float(np.nanmax(scored.to_numpy()))
    static = max(math.ceil(peak / safe - 1e-9) + k, minimum)
    policies: list[tuple[str, str, Any]] = [
        ("static", "", StaticPolicy(static)),
        ("reactive", "", ReactivePolicy(min_servers=minimum)),
    ]
    for setting in task["settings"]:
        reactive = ReactivePolicy(
            target_utilisation=setting["target"],
            scale_in_step=setting["scale_in_step"],
            min_servers=minimum,
        )
        policy = PredictivePolicy(floors[setting["quantile"]], reactive, expected=expected)
        policies.append(("predictive", setting_label(setting), policy))
    rows = []
    for name, label, policy in policies:
        result = simulate(window, safe_load=safe, policy=policy, start=start)
        row = result.summary()
        row.update(dataset=task["dataset"], series=task["series"], policy=name, setting=label)
        row["tune_window"] = task["tune_window"]
        row["cost"] = result.server_hours * task["cost_per_hour"]
        rows.append(row)
    return {
        "dataset": task["dataset"],
        "series": task["series"],
        "rows": rows,
        "fit_seconds": fit_seconds,
        "fits": len(per_day),
        "forecaster": version,
        "fallbacks": int(per_day["fallback"].astype(bool).sum()) if "fallback" in per_day else 0,
        "seconds": time.perf_counter() - started,
        "window": f"{start:%Y-%m-%d} to {end - pd.Timedelta(hours=1):%Y-%m-%d %H:%M} UTC",
        "safe_load": safe,
    }


# --------------------------------------------------------------------------- report


def _int(value: float) -> str:
    return f"{value:,.0f}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else ("—" if a == 0 else "∞")


def totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Per policy: summed server-hours, cost and under-provisioned hours; worst shortfall."""
    weights = frame["server_hours"]
    grouped = frame.assign(weighted=frame["mean_utilisation"] * weights).groupby("policy")
    out = grouped.agg(
        hours=("hours", "sum"),
        server_hours=("server_hours", "sum"),
        cost=("cost", "sum"),
        under=("under_provisioned_hours", "sum"),
        worst=("worst_shortfall", "max"),
        weighted=("weighted", "sum"),
    )
    out["utilisation"] = out["weighted"] / out["server_hours"]
    return out.reindex(list(POLICIES))


def dataset_table(name: str, frame: pd.DataFrame) -> list[str]:
    t = totals(frame)
    has_cost = t["cost"].notna().all() and (t["cost"] > 0).all()
    lines = [
        f"### {name}",
        "",
        "| policy | server-hours | vs static | vs reactive | under-provisioned hours "
        "| worst shortfall | mean utilisation |" + (" cost (USD) |" if has_cost else ""),
        "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if has_cost else ""),
    ]
    for policy, row in t.iterrows():
        cells = [
            str(policy),
            _int(row["server_hours"]),
            _ratio(row["server_hours"], t.loc["static", "server_hours"]),
            _ratio(row["server_hours"], t.loc["reactive", "server_hours"]),
            f"{int(row['under'])} of {int(row['hours'])}",
            str(int(row["worst"])),
            f"{row['utilisation']:.1%}",
        ]
        if has_cost:
            cells.append(f"{row['cost']:,.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def series_table(frame: pd.DataFrame) -> list[str]:
    wide = frame.pivot_table(
        index="series",
        columns="policy",
        values=["server_hours", "under_provisioned_hours", "worst_shortfall"],
    )
    lines = [
        "| series | static SH | reactive SH | predictive SH | reactive under | predictive under "
        "| reactive worst | predictive worst |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for series, row in wide.iterrows():
        lines.append(
            f"| {series} | {_int(row[('server_hours', 'static')])} "
            f"| {_int(row[('server_hours', 'reactive')])} "
            f"| {_int(row[('server_hours', 'predictive')])} "
            f"| {int(row[('under_provisioned_hours', 'reactive')])} "
            f"| {int(row[('under_provisioned_hours', 'predictive')])} "
            f"| {int(row[('worst_shortfall', 'reactive')])} "
            f"| {int(row[('worst_shortfall', 'predictive')])} |"
        )
    return lines


def margins(t: pd.DataFrame) -> tuple[float, float, float]:
    """How far predictive is from missing each target: ``1 - value / limit`` (< 0: missed).

    With no under-provisioned hour allowed (reactive had none), that margin is infinite when
    predictive has none either, and minus its count otherwise.
    """
    pred, react, stat = t.loc["predictive"], t.loc["reactive"], t.loc["static"]
    allowed = MAX_UNDER_VS_REACTIVE * react["under"]
    if allowed > 0:
        under = 1 - pred["under"] / allowed
    else:
        under = math.inf if pred["under"] == 0 else -float(pred["under"])
    hours_r = 1 - pred["server_hours"] / react["server_hours"] / MAX_HOURS_VS_REACTIVE
    hours_s = 1 - pred["server_hours"] / stat["server_hours"] / MAX_HOURS_VS_STATIC
    return float(under), float(hours_r), float(hours_s)


def _verdicts(t: pd.DataFrame, setting: str = "predictive") -> list[tuple[bool, str]]:
    pred, react, stat = t.loc[setting], t.loc["reactive"], t.loc["static"]
    under_ok = (
        pred["under"] <= MAX_UNDER_VS_REACTIVE * react["under"]
        if react["under"] > 0
        else pred["under"] == 0
    )
    hours_r = pred["server_hours"] / react["server_hours"]
    hours_s = pred["server_hours"] / stat["server_hours"]
    return [
        (
            bool(under_ok),
            f"under-provisioned hours {int(pred['under'])} vs reactive {int(react['under'])} "
            f"({_ratio(pred['under'], react['under'])}; target <= {MAX_UNDER_VS_REACTIVE:.2f})",
        ),
        (
            bool(hours_r <= MAX_HOURS_VS_REACTIVE),
            f"server-hours {hours_r:.3f} x reactive (target <= {MAX_HOURS_VS_REACTIVE:.2f})",
        ),
        (
            bool(hours_s <= MAX_HOURS_VS_STATIC),
            f"server-hours {hours_s:.3f} x static (target <= {MAX_HOURS_VS_STATIC:.2f})",
        ),
    ]


def check(name: str, frame: pd.DataFrame, setting: str) -> tuple[list[str], bool]:
    checks = _verdicts(totals(frame))
    lines = [f"- **{name}** (predictive: {setting}):"]
    lines += [f"  - {'met' if ok else 'MISSED'}: {text}" for ok, text in checks]
    return lines, all(ok for ok, _ in checks)


def grid_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Every predictive setting against the baselines per tune window, best first.

    The order is ``SELECTION_RULE``. Columns ending ``_<w>`` are tune window ``w``'s figures;
    ``under`` and ``server_hours`` are summed over the windows.
    """
    windows = sorted(frame["tune_window"].unique(), reverse=True)  # earliest first
    tables = []
    for w in windows:
        part = frame[frame["tune_window"] == w]
        base = part[part["policy"] != "predictive"]
        rows = []
        for label, own in part[part["policy"] == "predictive"].groupby("setting", sort=False):
            t = totals(pd.concat([base, own]))
            under, hours_r, hours_s = margins(t)
            rows.append(
                {
                    "setting": label,
                    f"server_hours_{w}": t.loc["predictive", "server_hours"],
                    f"under_{w}": int(t.loc["predictive", "under"]),
                    f"reactive_under_{w}": int(t.loc["reactive", "under"]),
                    f"vs_reactive_{w}": t.loc["predictive", "server_hours"]
                    / t.loc["reactive", "server_hours"],
                    f"vs_static_{w}": t.loc["predictive", "server_hours"]
                    / t.loc["static", "server_hours"],
                    f"margin_under_{w}": under,
                    f"margin_cost_{w}": min(hours_r, hours_s),
                }
            )
        tables.append(pd.DataFrame(rows).set_index("setting"))
    table = pd.concat(tables, axis=1)
    under_margin = table[[f"margin_under_{w}" for w in windows]].min(axis=1)
    cost_margin = table[[f"margin_cost_{w}" for w in windows]].min(axis=1)
    table["margin"] = np.minimum(under_margin, cost_margin)
    table["cost_margin"] = cost_margin
    table["under"] = table[[f"under_{w}" for w in windows]].sum(axis=1)
    table["server_hours"] = table[[f"server_hours_{w}" for w in windows]].sum(axis=1)
    table["room"] = (under_margin >= 0) & (cost_margin >= COST_MARGIN)
    table["rank"] = [
        (0, row.under, row.server_hours, 0.0)
        if row.room
        else (1, -row.margin, row.under, row.server_hours)
        for row in table.itertuples()
    ]
    table = table.sort_values("rank", kind="stable").drop(columns="rank")
    return table.reset_index()


def grid_table(name: str, frame: pd.DataFrame, limit: int | None = None) -> list[str]:
    table = grid_rows(frame)
    windows = sorted(frame["tune_window"].unique(), reverse=True)  # earliest first
    base = frame[frame["policy"] != "predictive"]
    heads = []
    for w in windows:
        t = totals(base[base["tune_window"] == w])
        heads.append(
            f"{'earlier' if w else 'later'} window: reactive "
            f"{_int(t.loc['reactive', 'server_hours'])} server-hours, "
            f"{int(t.loc['reactive', 'under'])} under-provisioned hours; static "
            f"{_int(t.loc['static', 'server_hours'])} server-hours"
        )
    lines = [
        f"### {name}: settings on the tune split ({'; '.join(heads)})",
        "",
        "Per tune window, earliest first, separated by `/`: server-hours vs reactive and vs "
        "static, under-provisioned hours. `room`: all targets met in every window with both "
        f"server-hour margins >= {COST_MARGIN:g}. `margin`: the smallest margin "
        "(1 - value / limit) over windows and targets.",
        "",
        "| setting | vs reactive | vs static | under-provisioned hours | room | margin |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    shown = table if limit is None else table.head(limit)
    for row in shown.itertuples(index=False):
        values = row._asdict()

        def per_window(key: str, form: str, values: dict[str, Any] = values) -> str:
            return " / ".join(format(values[f"{key}_{w}"], form) for w in windows)

        lines.append(
            f"| {row.setting} | {per_window('vs_reactive', '.3f')} "
            f"| {per_window('vs_static', '.3f')} | {per_window('under', 'd')} "
            f"| {'yes' if row.room else 'no'} | {row.margin:+.3f} |"
        )
    if limit is not None and len(table) > limit:
        lines.append(f"| ({len(table) - limit} more settings) | | | | | |")
    lines += ["", f"Selected ({SELECTION_RULE}): **{table['setting'].iloc[0]}**."]
    return lines


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="one week per split; of the demo fleet, the game service only",
    )
    p.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    p.add_argument("--demo", type=Path, default=DEFAULT_DEMO)
    p.add_argument("--only", default="demo,nyc_taxi", help="comma-separated: demo, nyc_taxi")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument(
        "--tune-only", action="store_true", help="print the whole grid on the tune split and stop"
    )
    p.add_argument("--quantile", type=float, help="skip tuning: forecast quantile of the floors")
    p.add_argument("--target", type=float, help="skip tuning: target of the reactive part")
    p.add_argument("--scale-in-step", type=float, help="skip tuning: its scale-in step")
    p.add_argument("--detail", action="store_true", help="also print a table per series")
    p.add_argument(
        "--shift-weeks",
        type=int,
        default=0,
        help="move the report and tune windows this many weeks earlier (check the procedure "
        "on another month)",
    )
    args = p.parse_args(argv)
    if args.shift_weeks < 0:
        p.error("--shift-weeks must be >= 0")
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(names) - {"demo", "nyc_taxi"})
    if unknown or not names:
        p.error(f"--only: unknown dataset {', '.join(unknown) or '(none)'}; choose demo, nyc_taxi")
    args.only = ",".join(names)
    return args


def grid_settings() -> list[dict[str, float]]:
    return [
        {"quantile": q, "target": t, "scale_in_step": step}
        for q in GRID["quantile"]
        for t in GRID["target"]
        for step in GRID["scale_in_step"]
    ]


def make_tasks(args: argparse.Namespace, split: str) -> list[dict[str, Any]]:
    only = {name.strip() for name in args.only.split(",")}
    tasks: list[dict[str, Any]] = []
    for window in range(TUNE_WINDOWS if split == "tune" else 1):
        these: list[dict[str, Any]] = []
        if "demo" in only:
            these += demo_tasks(args.demo, split, args.quick, window, args.shift_weeks)
        if "nyc_taxi" in only:
            these.append(nyc_task(args.datasets, split, args.quick, window, args.shift_weeks))
        tasks += [{**task, "tune_window": window} for task in these]
    return tasks


def replay(
    tasks: list[dict[str, Any]], settings: dict[str, list[dict[str, float]]], jobs: int
) -> tuple[pd.DataFrame, list[dict[str, Any]], float]:
    for task in tasks:
        task["settings"] = settings[task["dataset"]]
    started = time.perf_counter()
    done = map_tasks(run_task, tasks, jobs=jobs)
    frame = pd.DataFrame([row for result in done for row in result["rows"]])
    return frame, done, time.perf_counter() - started


def _run_line(done: list[dict[str, Any]], seconds: float, jobs: int) -> str:
    return (
        f"{platform.machine()}, {jobs} jobs, {seconds:.0f} s, "
        f"{sum(r['fits'] for r in done)} forecaster fits "
        f"({sum(r['fallbacks'] for r in done)} fell back to seasonal naive)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"## Scaling policies{' (quick)' if args.quick else ''}")
    print()
    print(
        "Reactive: ReactivePolicy() (target 0.7, delay 2 h, cooldown 1 h, scale-in 10 %/h). "
        "Static: the window's actual peak need with N+k."
    )
    # The forecaster is still being tuned: record which version each replay used.
    versions: set[str] = set()
    fixed = [args.quantile, args.target, args.scale_in_step]
    datasets = [d.strip() for d in args.only.split(",")]
    if any(v is not None for v in fixed):
        chosen = {
            name: {
                "quantile": 0.95 if args.quantile is None else args.quantile,
                "target": 0.7 if args.target is None else args.target,
                "scale_in_step": 0.1 if args.scale_in_step is None else args.scale_in_step,
            }
            for name in datasets
        }
        print()
        print("Settings given on the command line; no tuning.")
    else:
        tasks = make_tasks(args, "tune")
        frame, done, seconds = replay(
            tasks, {name: grid_settings() for name in datasets}, args.jobs
        )
        versions |= {r["forecaster"] for r in done}
        print()
        print(f"Tuning on the tune split: {_run_line(done, seconds, args.jobs)}")
        chosen = {}
        labels = {setting_label(s): s for s in grid_settings()}
        for dataset in dict.fromkeys(frame["dataset"]):
            part = frame[frame["dataset"] == dataset]
            windows = sorted({r["window"] for r in done if r["dataset"] == dataset})
            print()
            for line in grid_table(dataset, part, limit=None if args.tune_only else 5):
                print(line)
            print()
            print(f"Tune windows: {', '.join(windows)}.")
            chosen[dataset] = labels[grid_rows(part)["setting"].iloc[0]]
        if args.tune_only:
            return 0

    tasks = make_tasks(args, "report")
    frame, done, seconds = replay(tasks, {k: [v] for k, v in chosen.items()}, args.jobs)
    versions |= {r["forecaster"] for r in done}
    print()
    print(f"Replay on the report split: {_run_line(done, seconds, args.jobs)}")
    all_ok = True
    summary: list[str] = []
    for dataset in dict.fromkeys(frame["dataset"]):
        part = frame[frame["dataset"] == dataset]
        windows = sorted({r["window"] for r in done if r["dataset"] == dataset})
        setting = setting_label(chosen[dataset])
        print()
        for line in dataset_table(f"{dataset} (predictive: {setting})", part):
            print(line)
        print()
        print(f"Report window: {', '.join(windows)}; {part['series'].nunique()} series.")
        if args.detail or (dataset == "demo" and part["series"].nunique() > 1):
            print()
            for line in series_table(part):
                print(line)
        lines, ok = check(dataset, part, setting)
        summary += lines
        all_ok &= ok
    print()
    print("### Targets")
    print()
    for line in summary:
        print(line)
    print()
    print(f"Forecaster: capacity/forecast/ sha256 {', '.join(sorted(versions))}.")
    if len(versions) > 1:
        print("**capacity/forecast/ changed during this run: rerun for consistent figures.**")
        all_ok = False
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
