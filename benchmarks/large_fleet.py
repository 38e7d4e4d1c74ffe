"""The weekly run on a large fleet: N regions x M services through the real CLI, stage by stage.

Builds a fleet of ``--regions`` x ``--services`` pairs from the bundled demo generator
(:func:`capacity.demo.generate_demo`): region ``i`` plays the demo region ``i mod 4`` (its time
zone, holidays, calendar and demand shape) and service ``j`` the demo service ``j mod 3``; each
pair takes its telemetry, deploys and incidents from a demo run of its own seed, so no two
pairs share their noise. Copies are named after their demo region or service with a number
(``eu-west-2``, ``game-2``). It writes ``fleet.yaml``, a long ``telemetry.csv`` (every metric,
``--days`` of hours to 2026-11-23), ``calendar.csv``, ``incidents.csv`` and ``deploys.csv``,
then times each step of a weekly job in a fresh process, as cron would run it:

``ingest``, ``events import``, ``incidents import``, ``deploys import``, ``plan --week
2026-W48 --jobs J``, then ``recommend``, ``schedule`` and ``kpis`` on the same store.

Per step it reports the wall time, the exit status and the peak resident memory of the
process tree (the command, the plan's notebook kernel and their worker processes, summed;
sampled every 0.2 s). Then the store's size, the report's size and its number of charts and
table rows, and the plan's own stage timings from ``manifest.json``, and a row in
``RESULTS.md``'s layout.

Usage: ``.venv/bin/python benchmarks/large_fleet.py [--regions 10] [--services 6] [--days 112]
[--seed 7] [--jobs 2] [--work DIR] [--stages inputs,ingest,plan,recommend,schedule,kpis]``.
About 10 minutes at 10 x 6 on 2 cores; ``--regions 5 --services 4 --days 28 --stages
inputs,ingest`` is a smoke run of a few seconds. ``--work`` keeps the files (default: a
temporary folder, removed at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from the repository: its own package
    sys.path.insert(0, str(ROOT))

from capacity.config import FleetConfig, load_fleet  # noqa: E402
from capacity.demo import generate_demo  # noqa: E402
from capacity.demo.truth import REGIONS, SERVICES  # noqa: E402

#: The demo's telemetry ends here; the plan is for the week that starts then.
END = "2026-11-23T00:00:00Z"
WEEK = "2026-W48"
STAGES = ("inputs", "ingest", "plan", "recommend", "schedule", "kpis")
#: Failover shares to the next regions in the list, by how many other regions there are.
_SHARES = {0: (), 1: (1.0,), 2: (0.6, 0.4)}
_SHARES_MANY = (0.5, 0.3, 0.2)


def copy_names(templates: tuple[str, ...], count: int) -> list[tuple[str, str, int]]:
    """``count`` names cycling through ``templates``: (name, template, copy number from 0).

    The first copy keeps the template's name; later ones add ``-2``, ``-3`` ...
    """
    names = []
    for i in range(count):
        template, copy = templates[i % len(templates)], i // len(templates)
        names.append((template if copy == 0 else f"{template}-{copy + 1}", template, copy))
    return names


def failover(regions: list[str]) -> dict[str, dict[str, float]]:
    """Each region's players go to the next one to three regions of the list."""
    others = len(regions) - 1
    shares = _SHARES.get(others, _SHARES_MANY)
    return {
        region: {regions[(i + k + 1) % len(regions)]: share for k, share in enumerate(shares)}
        for i, region in enumerate(regions)
    }


def fleet_text(
    regions: list[tuple[str, str, int]],
    services: list[tuple[str, str, int]],
    current: dict[str, dict[str, int]],
    demo: FleetConfig,
) -> str:
    """The fleet file: the demo fleet's time zones, holidays, SLOs and server types, per copy."""
    lines = ["version: 1", "currency: USD", "regions:"]
    for name, template, _ in regions:
        place = demo.regions[template]
        lines.append(
            f"  {name}: {{timezone: {place.timezone}, holidays_country: {place.holidays_country}}}"
        )
    lines.append("services:")
    for name, template, _ in services:
        spec = demo.services[template]
        lines.append(
            f"  {name}: {{demand_metric: {spec.demand_metric}, server_type: {spec.server_type}, "
            f"slo: {{latency_p99_ms: {spec.slo.latency_p99_ms:g}, "
            f"availability: {spec.slo.availability:g}}}}}"
        )
    lines.append("server_types:")
    for kind in sorted({demo.services[template].server_type for _, template, _ in services}):
        spec = demo.server_types[kind]
        lines.append(
            f"  {kind}: {{safe_load_hint: {spec.safe_load_hint:g}, cost_per_hour: "
            f"{spec.cost_per_hour:g}, boot_lead_time_minutes: {spec.boot_lead_time_minutes:g}, "
            f"procurement_lead_time_days: {spec.procurement_lead_time_days:g}}}"
        )
    lines.append("current_servers:")
    for name, _, _ in regions:
        counts = ", ".join(f"{s}: {current[name][s]}" for s, _, _ in services)
        lines.append(f"  {name}: {{{counts}}}")
    k, floor = demo.redundancy.k, demo.redundancy.min_servers
    lines += [f"redundancy: {{k: {k}, min_servers: {floor}}}", "failover:"]
    for region, targets in failover([name for name, _, _ in regions]).items():
        shares = ", ".join(f"{other}: {share}" for other, share in targets.items())
        lines.append(f"  {region}: {{{shares}}}")
    return "\n".join(lines) + "\n"


def _spread_regions(text: str, copies: dict[str, list[str]]) -> str:
    """A calendar's ``regions`` cell with each demo region replaced by its copies."""
    if text == "all":
        return text
    return ";".join(name for region in text.split(";") for name in copies[region])


def write_inputs(folder: Path, n_regions: int, n_services: int, days: int, seed: int) -> dict:
    """Write the fleet's five input files into ``folder``; return their paths and counts."""
    regions = copy_names(REGIONS, n_regions)
    services = copy_names(SERVICES, n_services)
    service_copies = math.ceil(n_services / len(SERVICES))
    runs: dict[int, dict[str, Path]] = {}
    telemetry, incidents, deploys = [], [], []
    current: dict[str, dict[str, int]] = {}
    for region, r_template, r_copy in regions:
        current[region] = {}
        for service, s_template, s_copy in services:
            number = r_copy * service_copies + s_copy  # one demo run per (copy, copy)
            if number not in runs:
                runs[number] = generate_demo(
                    folder / "demo" / f"seed-{seed + number}",
                    seed=seed + number,
                    days=days,
                    end=END,
                )
            paths = runs[number]
            frame = pd.read_parquet(
                paths["telemetry"],
                filters=[("region", "==", r_template), ("service", "==", s_template)],
            )
            telemetry.append(frame.assign(region=region, service=service))
            fleet = load_fleet(paths["fleet"])
            current[region][service] = fleet.current_servers[r_template][s_template]
            suffix = f"-{region}-{service}"
            for log, rows, key in (
                ("deploys", deploys, "deploy_id"),
                ("incidents", incidents, "incident_id"),
            ):
                part = pd.read_csv(paths[log], dtype=str, keep_default_na=False)
                part = part[(part["region"] == r_template) & (part["service"] == s_template)]
                part = part.assign(region=region, service=service, **{key: part[key] + suffix})
                if log == "incidents":
                    linked = part["deploy_id"] != ""
                    part.loc[linked, "deploy_id"] = part.loc[linked, "deploy_id"] + suffix
                rows.append(part)
    paths = {name: folder / f"{name}.csv" for name in ("telemetry", "calendar", "incidents")}
    paths["deploys"] = folder / "deploys.csv"
    paths["fleet"] = folder / "fleet.yaml"
    demo = load_fleet(runs[0]["fleet"])
    paths["fleet"].write_text(fleet_text(regions, services, current, demo), encoding="utf-8")
    long = pd.concat(telemetry, ignore_index=True)
    long["ts"] = long["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    long.to_csv(paths["telemetry"], index=False, lineterminator="\n")
    copies: dict[str, list[str]] = {}
    for name, template, _ in regions:
        copies.setdefault(template, []).append(name)
    calendar = pd.read_csv(runs[0]["calendar"], dtype=str, keep_default_na=False)
    calendar["regions"] = calendar["regions"].map(lambda cell: _spread_regions(cell, copies))
    calendar = calendar[calendar["regions"] != ""]  # a demo region with no copy
    calendar.to_csv(paths["calendar"], index=False, lineterminator="\n")
    for name, rows in (("incidents", incidents), ("deploys", deploys)):
        pd.concat(rows, ignore_index=True).to_csv(paths[name], index=False, lineterminator="\n")
    return {"paths": paths, "pairs": n_regions * n_services, "rows": len(long)}


@dataclass
class Step:
    """One timed command."""

    name: str
    seconds: float
    status: int
    peak_rss: int
    stdout: str = ""
    stderr: str = ""
    extra: dict = field(default_factory=dict)


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):  # a process gone meanwhile
            total += proc.memory_info().rss
    return total


def run_step(name: str, args: list[str], cwd: Path, cache: Path | None = None) -> Step:
    """Run ``python -m capacity ARGS`` in a fresh process; time it and sample its memory.
    With ``cache``, the command uses that forecast cache folder (else the cache is off)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if cache is not None:
        env["CAPACITY_CACHE_DIR"] = str(cache)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "capacity", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    done.set()
    watcher.join()
    seconds = time.perf_counter() - started
    step = Step(name, seconds, proc.returncode, peak[0], out, err)
    logs = cwd / "logs"
    logs.mkdir(exist_ok=True)
    slug = name.replace(" ", "-")
    (logs / f"{slug}.out").write_text(out, encoding="utf-8")
    (logs / f"{slug}.err").write_text(err, encoding="utf-8")
    mark = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    said = len(err.splitlines())
    print(
        f"{name:<18} {seconds:7.1f} s  {peak[0] / 2**20:7.0f} MB  {mark}, "
        f"{len(out.splitlines())} lines out, {said} on stderr",
        flush=True,
    )
    if proc.returncode != 0:
        print(err.strip()[-2000:], file=sys.stderr, flush=True)
    return step


def report_figures(html: Path) -> dict[str, float]:
    """Size of the report and what it holds: charts, table rows, plotly.js copies."""
    text = html.read_text(encoding="utf-8")
    return {
        "html_mb": html.stat().st_size / 1e6,
        "charts": text.count("Plotly.newPlot("),
        "table_rows": text.count("<tr"),
        "plotly_js": text.count("plotly.js v"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--services", type=int, default=6)
    parser.add_argument("--days", type=int, default=112, help="Days of hourly telemetry.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None, help="Keep the files here.")
    parser.add_argument("--stages", default=",".join(STAGES), help="Comma-separated steps.")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="Also run recommend with the forecast cache the plan filled (a second row).",
    )
    args = parser.parse_args()
    # cold fits, as in RESULTS.md's earlier rows: the forecast cache would serve repeats
    os.environ["CAPACITY_CACHE_DIR"] = "off"
    stages = [s for s in args.stages.split(",") if s]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown or args.regions < 1 or args.services < 1 or args.days < 28:
        parser.error(
            f"--stages takes {', '.join(STAGES)}; --regions and --services at least 1, "
            f"--days at least 28 (got stages {unknown or 'ok'})"
        )
    with tempfile.TemporaryDirectory(prefix="capacity-large-fleet-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        return _run(work, args, stages)


def _run(work: Path, args: argparse.Namespace, stages: list[str]) -> int:
    inputs = work / "inputs"
    db, plans = work / "store.duckdb", work / "plans"
    fleet_path = inputs / "fleet.yaml"
    steps: list[Step] = []
    started = time.perf_counter()
    inputs.mkdir(exist_ok=True)
    built = write_inputs(inputs, args.regions, args.services, args.days, args.seed)
    paths = built["paths"]
    generated = time.perf_counter() - started
    size = paths["telemetry"].stat().st_size / 1e6
    print(
        f"inputs             {generated:7.1f} s  {built['pairs']} pairs, {built['rows']:,} "
        f"telemetry rows ({size:.0f} MB CSV) in {inputs}",
        flush=True,
    )
    common = ["--db", str(db), "--config", str(fleet_path)]
    jobs = ["--jobs", str(args.jobs)]
    if "ingest" in stages:
        db.unlink(missing_ok=True)
        steps.append(run_step("ingest", ["ingest", str(paths["telemetry"]), *common], work))
        for log in ("events", "deploys", "incidents"):  # an incident names its deploy
            source = paths["calendar" if log == "events" else log]
            steps.append(run_step(f"{log} import", [log, "import", str(source), *common], work))
    cache = work / "forecast-cache" if args.cache else None
    if "plan" in stages:
        notebook = ROOT / "notebooks" / "weekly_capacity_plan.ipynb"
        command = ["plan", *common, "--week", WEEK, "--out", str(plans), "--force", *jobs]
        steps.append(run_step("plan", [*command, "--notebook", str(notebook)], work, cache))
    if "recommend" in stages:
        command = ["recommend", *common, "--format", "csv", *jobs]
        steps.append(run_step("recommend", command, work))
        if cache is not None:  # the plan's fits, reused
            steps.append(run_step("recommend, cached", command, work, cache))
    if "schedule" in stages:
        out = work / "schedule.csv"
        command = ["schedule", *common, "--format", "csv", "--output", str(out), *jobs]
        steps.append(run_step("schedule", command, work))
    if "kpis" in stages:
        steps.append(run_step("kpis", ["kpis", *common], work))
    failed = [s.name for s in steps if s.status != 0]
    _summary(work, args, built, steps, generated)
    return 1 if failed else 0


def _summary(work: Path, args, built: dict, steps: list[Step], generated: float) -> None:
    import json

    db = work / "store.duckdb"
    print()
    if db.exists():
        print(f"store: {db.stat().st_size / 1e6:.1f} MB")
    plan = work / "plans" / WEEK
    figures: dict[str, float] = {}
    if (plan / "capacity_plan.html").is_file():
        figures = report_figures(plan / "capacity_plan.html")
        notebook = (plan / "capacity_plan.ipynb").stat().st_size / 1e6
        folder = sum(p.stat().st_size for p in plan.rglob("*") if p.is_file()) / 1e6
        print(
            f"report: {figures['html_mb']:.1f} MB HTML, {figures['charts']:.0f} charts, "
            f"{figures['table_rows']:.0f} table rows, plotly.js {figures['plotly_js']:.0f}x; "
            f"notebook {notebook:.1f} MB; plan folder {folder:.1f} MB"
        )
        manifest = json.loads((plan / "manifest.json").read_text(encoding="utf-8"))
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in manifest["timings"].items())
        print(f"plan stages: {timings}")
    by_name = {s.name: s for s in steps}

    def cell(name: str) -> str:
        step = by_name.get(name)
        if step is None:
            return "–"
        mark = "" if step.status == 0 else f" (exit {step.status})"
        return f"{step.seconds:.0f} s / {step.peak_rss / 2**20:,.0f} MB{mark}"

    # the four load commands in one cell: their total time and the largest peak
    loads = [by_name[n] for n in by_name if n == "ingest" or n.endswith(" import")]
    load_cell = (
        f"{sum(s.seconds for s in loads):.0f} s / {max(s.peak_rss for s in loads) / 2**20:,.0f} MB"
        if loads
        else "–"
    )
    html = f"{figures['html_mb']:.1f} MB, {figures['charts']:.0f} charts" if figures else "–"
    store = f"{db.stat().st_size / 1e6:.0f} MB" if db.exists() else "–"
    print(
        f"\n| {time.strftime('%Y-%m-%d')} | {platform.machine()}, {os.cpu_count()} cores | "
        f"{args.regions} x {args.services} = {built['pairs']} pairs, {args.days} d hourly | "
        f"{args.jobs} | {generated:.0f} s | {load_cell} | {cell('plan')} | {cell('recommend')} | "
        f"{cell('schedule')} | {cell('kpis')} | {store} | {html} |"
    )


if __name__ == "__main__":
    sys.exit(main())
