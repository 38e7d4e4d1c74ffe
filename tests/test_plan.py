"""The weekly run: a real papermill execution, the HTML report, atomic publishing."""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.demo import build_demo_store, generate_demo
from capacity.errors import ParameterError
from capacity.plan import PLAN_FILES, PlanExistsError, PlanFailedError, PlanLockedError, run_plan
from capacity.store import Store
from capacity.weekly import overdue_from, parse_week, stale_data_warning

#: the module's plans share their fits (see ``shared_fits`` in conftest.py)
pytestmark = pytest.mark.usefixtures("shared_fits")
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "weekly_capacity_plan.ipynb"
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    generate_demo(folder / "fleet", days=30)
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    calendar = folder / "evil.csv"
    calendar.write_text(
        "name,kind,start,end,regions,expected_uplift\n"
        f'"{EVIL}",marketing,2026-11-25T00:00:00Z,2026-11-27T00:00:00Z,eu-west,1.2\n'
    )
    with Store(db) as store:
        store.import_events([calendar])
    return db, folder / "fleet" / "fleet.yaml"


def plan(demo, out, **kwargs):
    db, config = demo
    options = {"week": "2026-W48", "horizon": "3d", "history": "21d", "jobs": 1, "backtest": False}
    options.update(kwargs)
    return run_plan(db=db, config=config, out=out, **{"notebook": NOTEBOOK, **options})


@pytest.fixture(scope="module")
def published(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("forecasts")
    return plan(demo, out), out


def test_publishes_every_file(published):
    result, out = published
    assert result.status == "published"
    assert result.folder == out / "2026-W48"
    assert sorted(p.name for p in result.folder.iterdir()) == sorted(PLAN_FILES)
    assert [p.name for p in out.iterdir()] == ["2026-W48"]  # no temporary folder left
    # the schedule file is what `capacity schedule --format csv` prints: ISO UTC, 3 decimals
    lines = (result.folder / "scaling_schedule.csv").read_text().splitlines()
    assert lines[0] == "region,service,ts,min_servers,demand,safe_load"
    _, _, ts, floor, demand, _ = lines[1].split(",")
    assert ts == "2026-11-23T00:00:00Z" and floor.isdigit()
    assert len(demand.partition(".")[2]) <= 3


def test_manifest(published):
    result, _ = published
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["week"] == "2026-W48" and manifest["status"] == "published"
    assert manifest["cutoff"].startswith("2026-11-23T00:00:00")
    assert manifest["parameters"]["horizon"] == "3d"
    assert (
        manifest["inputs"]["telemetry_rows"] > 0 and len(manifest["inputs"]["config_sha256"]) == 64
    )
    assert {"forecast", "sizing", "headroom", "resilience", "notebook", "html"} <= set(
        manifest["timings"]
    )
    assert manifest["versions"]["prophet"] and manifest["versions"]["duckdb"]
    assert len(manifest["verdicts"]) == 12
    # the telemetry reaches the week's start; 3 days ahead are too few to order servers in
    assert [w.partition(",")[0] for w in manifest["warnings"]] == ["the plan's horizon"]


def test_report_is_offline_without_code_and_escapes_names(published):
    result, _ = published
    page = result.report.read_text()
    # No code: markdown renders in an input area too, but no editor or highlighted source.
    assert 'class="jp-CodeMirrorEditor' not in page and 'class="highlight' not in page
    assert "import plotly" not in page and "pio.renderers" not in page
    assert "weekly.build_plan" not in page and "injected-parameters" not in page
    assert len(re.findall(r"Plotly\.newPlot", page)) >= 14  # 12 fan charts, heatmap, schedule
    # Opens offline: plotly.js is embedded, once, and no script is fetched from the network
    # (nbconvert's require.js and the MathJax loaders it and plotly add are left out).
    assert page.count("plotly.js v") == 1
    assert re.findall(r'<script[^>]*src="(https?://[^"]+)"', page) == []
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert ">NaT<" not in page and ">None<" not in page  # a missing date is an empty cell
    # nothing to fetch: plotly.js inline, no require.js or MathJax from a CDN
    assert not re.search(r"<script[^>]*\ssrc=\"https?://", page)
    assert "<title>Capacity plan 2026-W48</title>" in page
    assert "<th>act by (UTC)</th>" in page and "<th>lowest headroom</th>" in page
    assert "<th>overdue</th>" not in page and "<th>min_headroom</th>" not in page
    for heading in (
        "1. Verdict",
        "2. Demand and capacity",
        "3. Headroom",
        "4. Predictive-scaling schedule",
        "5. Forecast accuracy",
        "6. Data quality",
        "7. Resilience",
        "Error-budget burn rate",
    ):
        assert heading in page


def test_the_reports_tables_are_headed_in_words_and_the_files_keep_machine_names(published):
    """The report headed its tables with the CSV's names (``missing_hours``, ``mtbf_hours``):
    every header now reads in words, while the files scripts read keep those names."""
    result, _ = published
    page = result.report.read_text()
    found = re.findall(r"<th>([^<]*)</th>", page)
    assert len(found) > 60  # the plan's eight tables
    assert [h for h in found if "_" in h] == []
    assert "<th>missing hours</th>" in page and "<th>MTBF (h)</th>" in page
    header = (result.folder / "recommendations.csv").read_text().splitlines()[0]
    assert header.split(",")[-3:] == ["reason", "safe_load", "safe_load_source"]
    verdict = json.loads((result.folder / "manifest.json").read_text())["verdicts"][0]
    assert {"servers_now", "act_by", "min_headroom"} <= set(verdict)


def test_rerun_needs_force_and_keeps_the_earlier_plan(
    demo, published, tmp_path, capfd, monkeypatch
):
    monkeypatch.setenv("CAPACITY_CACHE_DIR", "off")
    result, out = published
    copy = tmp_path / "forecasts"
    shutil.copytree(out, copy)
    with pytest.raises(PlanExistsError, match="already published"):
        plan(demo, copy)
    with Store(demo[0], read_only=True) as store:
        runs = store.forecast_runs()["run_id"].tolist()
    # Cold fits (no warm start from the first run's stored parameters): the same plan. How
    # many worker processes made it does not change it (it had been republished).
    again = plan(demo, copy, force=True, jobs=2)
    assert again.status == "identical"
    with Store(demo[0], read_only=True) as store:  # no plan refers to the rerun's run
        assert store.forecast_runs()["run_id"].tolist() == runs
        assert (
            store.con.execute(
                "SELECT count(*) FROM forecasts WHERE run_id = ?", [again.run_id]
            ).fetchall()[0][0]
            == 0
        )
    assert json.loads((again.folder / "manifest.json").read_text())["run_id"] == result.run_id
    # The kernel talks over Unix sockets, so ipykernel has no plain-TCP warning to print.
    assert "without encryption" not in capfd.readouterr().err
    third = plan(demo, copy, force=True, horizon="2d")  # a different plan: history grows
    assert third.status == "republished"
    kept = sorted(p.name for p in (third.folder / "history").iterdir())
    assert result.run_id in kept
    assert [p.name for p in copy.iterdir()] == ["2026-W48"]
    manifest = json.loads((third.folder / "manifest.json").read_text())
    assert (manifest["status"], manifest["replaces"]) == ("republished", result.run_id)
    # the same tables with a backtest section the kept report lacks: a new plan (it had
    # been "unchanged", keeping the report without it)
    fourth = plan(demo, copy, force=True, horizon="2d", backtest=True)
    assert fourth.status == "republished"


def test_a_held_fallback_targets_the_servers_now_in_every_output(demo, tmp_path):
    """A series held because its forecast fell back had reported the lower need as its
    target (2 of 12), so applying target would make the scale-down the hold blocks."""
    import yaml

    db, config = demo
    db = Path(shutil.copy(db, tmp_path / "store.duckdb"))
    with Store(db) as store:  # a constant series: the forecaster refuses it, snaive stands in
        store.con.execute(
            "UPDATE telemetry SET value = 50 WHERE region = 'sa-east' AND service = 'chat' "
            "AND metric = 'rps'"
        )
    fleet = yaml.safe_load(config.read_text())
    fleet["current_servers"]["sa-east"]["chat"] = 40  # above its region-loss need
    bigger = tmp_path / "fleet.yaml"
    bigger.write_text(yaml.safe_dump(fleet))
    result = plan((db, bigger), tmp_path / "out", horizon="1d")
    recs = pd.read_csv(result.folder / "recommendations.csv").set_index(["region", "service"])
    held = recs.loc[("sa-east", "chat")]
    assert (held["action"], held["servers_now"], held["target"], held["change"]) == (
        "hold",
        40,
        40,
        0,
    )
    assert "held rather than scaled down by" in held["reason"]
    assert held["needed_loss"] < 40 and held["needed_nk"] < 40
    manifest = json.loads((result.folder / "manifest.json").read_text())
    [verdict] = [
        v for v in manifest["verdicts"] if (v["region"], v["service"]) == ("sa-east", "chat")
    ]
    assert (verdict["action"], verdict["target"], verdict["act_by"]) == ("hold", 40, None)
    # nothing to act on is null in the manifest, not the string "NaT"
    assert all(v["act_by"] != "NaT" for v in manifest["verdicts"])
    page = result.report.read_text()
    row = re.search(r"<tr>\s*<td>sa-east</td>\s*<td>chat</td>(.*?)</tr>", page, re.S)
    assert re.findall(r"<td>([^<]*)</td>", row.group(1))[:4] == ["hold", "40", "40", "0"]


def test_a_week_after_the_telemetry_ends_is_planned_with_a_warning(demo, tmp_path):
    db, config = demo
    db = Path(shutil.copy(db, tmp_path / "store.duckdb"))
    with Store(db) as store:  # one series' telemetry stops two days early
        store.con.execute(
            "DELETE FROM telemetry WHERE region = 'sa-east' AND service = 'chat' "
            "AND ts >= '2026-11-21T00:00Z'"
        )
    args = ["plan", "--week", "2026-W49", "--db", str(db), "--config", str(config)]
    args += ["--out", str(tmp_path), "--horizon", "8d", "--jobs", "1", "--no-backtest"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    # measured to the week's start (30 November) or to now, whichever comes first
    found = re.search(
        r"warning: (the newest demand telemetry ends 2026-11-23 00:00 UTC, (\d+\.\d) days "
        r"before (the week starts|now), so this plan's forecast starts then)",
        result.stderr,
    )
    assert found is not None, result.stderr
    assert 1 < float(found.group(2)) <= 7.0
    folder = tmp_path / "2026-W49"
    # the README's and docs/weekly-run.md's contract: a script takes the path from this line
    report = (folder / "capacity_plan.html").resolve()
    assert result.stdout.splitlines()[-1] == f"report: {report}"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["cutoff"].startswith("2026-11-23T00:00:00")
    assert manifest["warnings"][0].startswith(found.group(1))
    assert f"<b>Warning:</b> {found.group(1)}" in (folder / "capacity_plan.html").read_text()
    assert manifest["warnings"][1].startswith("the plan's horizon, 8d, is shorter")
    # and the series that stopped early is named (the store-wide warning had hidden it)
    assert manifest["warnings"][2] == (
        "sa-east/chat (rps) telemetry ends 2026-11-20 23:00 UTC, 2.0 days before the forecast "
        "starts; its forecast crosses that gap"
    )
    # and the calendar's Thanksgiving, stated without an uplift: these 30 days of history hold
    # too few US holidays to learn the kind, so the forecast leaves it out and says so
    assert [w.split(" (holiday, ")[0] for w in manifest["warnings"][3:]] == [
        "the forecasts of na-east/chat, na-east/game, na-east/matchmaking leave out "
        "'Thanksgiving Day (US)'"
    ]


def test_a_stale_plan_counts_dates_before_its_weeks_start_as_overdue(demo, tmp_path):
    # the export stopped on Wednesday: the plan for 2026-W48 forecasts from 2026-11-18, but is
    # read from Monday 2026-11-23, when a date to act by in between has passed too
    db, config = demo
    db = Path(shutil.copy(db, tmp_path / "store.duckdb"))
    with Store(db) as store:
        store.con.execute("DELETE FROM telemetry WHERE ts >= '2026-11-18T00:00Z'")
    args = ["plan", "--week", "2026-W48", "--db", str(db), "--config", str(config)]
    args += ["--out", str(tmp_path / "out"), "--jobs", "1", "--no-backtest"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "out" / "2026-W48"
    assert json.loads((folder / "manifest.json").read_text())["cutoff"].startswith("2026-11-18")
    recs = pd.read_csv(folder / "recommendations.csv")
    act_by = pd.to_datetime(recs["act_by"], utc=True)
    monday = pd.Timestamp("2026-11-23", tz="UTC")
    between = (act_by >= pd.Timestamp("2026-11-18", tz="UTC")) & (act_by < monday)
    assert between.any(), recs[["region", "service", "act_by"]]  # what is checked happens
    assert recs["overdue"].tolist() == (act_by < monday).tolist()
    page = (folder / "capacity_plan.html").read_text()
    assert "was before 2026-11-23 00:00 UTC): order them now" in page


def test_weeks_the_store_cannot_plan_and_a_locked_store_stop_before_any_work(demo, tmp_path):
    db, config = demo
    runner = CliRunner()
    base = ["plan", "--db", str(db), "--config", str(config), "--out", str(tmp_path)]
    # the demo's telemetry ends 2026-11-23; three days of forecast do not reach W49
    beyond = runner.invoke(cli, [*base, "--week", "2026-W49", "--horizon", "3d"])
    assert beyond.exit_code == 2
    assert "The week starting 2026-11-30 lies beyond the forecast" in beyond.stderr
    assert "forecasts 3d from there, to 2026-11-26 00:00 UTC" in beyond.stderr
    # a region in the fleet file with no telemetry had been left out of the plan, its loss
    # reported survivable
    import yaml

    data = yaml.safe_load(config.read_text())
    for region in ("me-central", "me-south", "me-west"):
        data["regions"][region] = {"timezone": "Asia/Dubai"}
        data["current_servers"][region] = dict.fromkeys(data["services"], 10)
        data["failover"][region] = {"eu-west": 1.0}
    wider = tmp_path.parent / f"{tmp_path.name}-wider.yaml"
    wider.write_text(yaml.safe_dump(data))
    places = ["--db", str(db), "--config", str(wider), "--out", str(tmp_path)]
    unknown = runner.invoke(cli, ["plan", *places, "--week", "2026-W48"])
    assert unknown.exit_code == 2, unknown.stderr
    assert (
        "plans 9 region/service(s) with no demand telemetry before 2026-11-23 00:00 UTC: "
        "me-central/chat (rps), me-central/game (ccu)" in unknown.stderr
    )
    # past six, the rest are counted (it had said "and more")
    assert "me-south/matchmaking (rps) and 3 more. Fix: load that telemetry" in unknown.stderr
    before = runner.invoke(cli, [*base, "--week", "2025-W35"])
    assert before.exit_code == 2
    assert "The week starting 2025-08-25 has 0.0 days of demand telemetry before it" in (
        before.stderr
    )
    held = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom capacity import Store\ns = Store(sys.argv[1])\n"
            "print('held', flush=True)\ntime.sleep(120)\n",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert held.stdout.readline().strip() == "held"
        locked = runner.invoke(cli, [*base, "--week", "2026-W48", "--horizon", "3d"])
        assert locked.exit_code == 3, locked.stderr
        assert "locked" in locked.stderr
    finally:
        held.kill()
        held.wait()
    assert list(tmp_path.iterdir()) == []  # nothing started, no failed folder


def test_a_week_is_read_in_either_case_and_a_53rd_week_is_checked_against_its_year():
    monday = pd.Timestamp("2026-11-23T00:00Z")
    for text in ("2026-W48", "2026-w48", "2026W48", " 2026-W48\n"):
        assert parse_week(text) == ("2026-W48", monday)
    assert parse_week("2026-W53")[1] == pd.Timestamp("2026-12-28T00:00Z")  # 2026 has 53
    with pytest.raises(ParameterError, match="week 53 of 2025, which has 52 ISO weeks"):
        parse_week("2025-W53")
    for text in ("2026-W00", "2026-W54", "2026-11-23", "W48", ""):
        with pytest.raises(ParameterError, match="must be an ISO week such as 2026-W48"):
            parse_week(text)


def test_a_plan_is_stale_only_when_the_telemetry_ends_over_a_day_before_it_could_reach():
    monday = pd.Timestamp("2026-11-23T00:00Z")
    later = pd.Timestamp("2026-12-01T00:00Z")
    assert stale_data_warning(monday, monday, now=later) is None
    assert stale_data_warning(monday, monday - pd.Timedelta(hours=24), now=later) is None
    late = stale_data_warning(monday, monday - pd.Timedelta(hours=30), now=later)
    assert late is not None and "2026-11-21 18:00 UTC, 1.2 days before the week starts" in late
    # planning next week on Friday from telemetry up to Friday is not stale
    friday = pd.Timestamp("2026-11-20T09:00Z")
    assert stale_data_warning(monday, friday - pd.Timedelta(hours=2), now=friday) is None
    old = stale_data_warning(monday, friday - pd.Timedelta(days=3), now=friday)
    assert old is not None and "3.0 days before now" in old


def test_a_date_to_act_by_is_overdue_from_the_weeks_start_or_now_never_before_the_cutoff():
    monday = pd.Timestamp("2026-11-23T00:00Z")
    wednesday = pd.Timestamp("2026-11-18T00:00Z")
    later = pd.Timestamp("2026-12-01T00:00Z")
    assert overdue_from(monday, monday, now=later) == monday
    assert overdue_from(monday, wednesday, now=later) == monday  # a stale export
    friday = pd.Timestamp("2026-11-20T09:00Z")  # next week planned on Friday
    assert overdue_from(monday, friday - pd.Timedelta(hours=2), now=friday) == friday
    assert overdue_from(monday, friday, now=friday - pd.Timedelta(hours=1)) == friday


def test_failing_cell_publishes_nothing(demo, tmp_path):
    out = tmp_path / "forecasts"
    with pytest.raises(PlanFailedError, match=r"cell \d+: ParameterError.*'quantile' parameter"):
        plan(demo, out, quantile=0.42)
    folders = [p.name for p in out.iterdir()]
    assert len(folders) == 1 and folders[0].startswith("2026-W48.failed-")
    assert (out / folders[0] / "capacity_plan.ipynb").is_file()


def test_a_plan_failing_after_its_forecast_leaves_no_run_in_the_store(demo, tmp_path):
    """A run that published nothing had kept its forecast run: later plans' accuracy
    sections read it as that cutoff's newest forecast, and their inputs changed with it."""
    import nbformat

    late = nbformat.read(NOTEBOOK, as_version=4)
    late.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("after the forecast")'))
    notebook = tmp_path / "late_failure.ipynb"
    nbformat.write(late, notebook)
    with Store(demo[0], read_only=True) as store:
        runs = store.forecast_runs()["run_id"].tolist()
    with pytest.raises(PlanFailedError, match="RuntimeError: after the forecast"):
        plan(demo, tmp_path / "forecasts", notebook=notebook, horizon="1d")
    with Store(demo[0], read_only=True) as store:
        assert store.forecast_runs()["run_id"].tolist() == runs


def test_what_the_kernel_leaves_in_its_temporary_folder_goes_with_the_run(demo, tmp_path):
    """A worker process that ends without tidying up leaves cmdstanpy's folder behind; under
    a full suite one now and then did, in the user's temporary folder for good."""
    import nbformat

    left = nbformat.v4.new_notebook()
    left.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    left.metadata["language_info"] = {"name": "python"}
    left.cells = [
        nbformat.v4.new_code_cell('week = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import tempfile\nprint(tempfile.mkdtemp(prefix='left-by-a-worker-'))"
        ),
        nbformat.v4.new_code_cell('raise RuntimeError("stop here")'),
    ]
    notebook = tmp_path / "leaves_a_folder.ipynb"
    nbformat.write(left, notebook)
    out = tmp_path / "forecasts"
    with pytest.raises(PlanFailedError, match="RuntimeError: stop here"):
        plan(demo, out, notebook=notebook)
    [failed] = out.iterdir()
    executed = nbformat.read(failed / "capacity_plan.ipynb", as_version=4)
    [made] = [cell for cell in executed.cells if "mkdtemp" in cell.source]
    folder = Path(made.outputs[0]["text"].strip())
    assert folder.name.startswith("left-by-a-worker-")
    # the run's own temporary folder, removed with everything in it
    assert folder.parent.name == "tmp" and folder.parent.parent.name.startswith("capacity-plan-")
    assert not folder.parent.parent.exists()


def test_cli_exit_codes(demo, tmp_path):
    db, config = demo
    runner = CliRunner()
    bad_week = runner.invoke(
        cli, ["plan", "--week", "2026-W60", "--db", str(db), "--out", str(tmp_path)]
    )
    assert bad_week.exit_code == 2 and "ISO week" in bad_week.stderr
    missing = runner.invoke(
        cli,
        [
            "plan",
            "--week",
            "2026-W48",
            "--db",
            str(tmp_path / "no.duckdb"),
            "--config",
            str(config),
            "--out",
            str(tmp_path),
        ],
    )
    assert missing.exit_code == 2 and "store not found" in missing.stderr
    broken = tmp_path / "fleet.yaml"
    broken.write_text("regions: {}\nservices: {}\nbogus: 1\n")
    bad_config = runner.invoke(
        cli,
        [
            "plan",
            "--week",
            "2026-W48",
            "--db",
            str(db),
            "--config",
            str(broken),
            "--out",
            str(tmp_path),
        ],
    )
    assert bad_config.exit_code == 2 and "fleet.yaml" in bad_config.stderr
    place = ["--week", "2026-W48", "--db", str(db), "--config", str(config)]
    bad_horizon = runner.invoke(cli, ["plan", *place, "--out", str(tmp_path), "--horizon", "0d"])
    assert bad_horizon.exit_code == 2
    assert "'horizon' parameter (--horizon) must be a positive duration" in bad_horizon.stderr
    # --wait 0 (a wrapper's --wait ${WAIT:-0}) means "do not wait": the run goes on to the
    # horizon check (it had been refused as "not a positive duration")
    no_wait = runner.invoke(
        cli, ["plan", *place, "--out", str(tmp_path), "--horizon", "0d", "--wait", "0"]
    )
    assert no_wait.exit_code == 2 and "'horizon' parameter" in no_wait.stderr, no_wait.stderr
    bad_wait = runner.invoke(cli, ["plan", *place, "--out", str(tmp_path), "--wait", "15x"])
    assert bad_wait.exit_code == 2
    assert bad_wait.stderr.startswith("error: The 'wait' parameter (--wait) must be a ")
    # a missing --config is named as the option it is, not as a notebook's parameter
    no_config = runner.invoke(
        cli, ["plan", "--db", str(db), "--config", str(tmp_path / "nope.yaml"), "--out", "x"]
    )
    assert no_config.exit_code == 2
    assert no_config.stderr == (
        f"error: {tmp_path / 'nope.yaml'}: file not found. Fix: pass --config with an existing "
        "fleet YAML\n"
    )
    part_hours = runner.invoke(cli, ["plan", *place, "--out", str(tmp_path), "--horizon", "30m"])
    assert part_hours.exit_code == 2  # refused before the notebook (it had failed a cell)
    assert "must be whole hours" in part_hours.stderr
    no_notebook = runner.invoke(
        cli, ["plan", *place, "--out", str(tmp_path), "--notebook", str(tmp_path / "x.ipynb")]
    )
    assert no_notebook.exit_code == 2
    assert "Fix: pass --notebook with the path of notebooks/" in no_notebook.stderr
    # a file that is not a plan notebook is refused before any work: it had failed once
    # executed, with exit 1 and an empty .failed- folder per attempt
    empty, csv, untagged = (tmp_path / n for n in ("empty.ipynb", "t.csv", "untagged.ipynb"))
    empty.write_text("")
    csv.write_text("ts,v\n2026-11-01T00:00Z,1\n")
    untagged.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    for path, message in (
        (empty, f"The plan notebook {empty} is not a Jupyter notebook (NotJSONError)"),
        (csv, f"The plan notebook {csv} is not a Jupyter notebook (NotJSONError)"),
        (untagged, f"The plan notebook {untagged} has no cell tagged 'parameters'"),
    ):
        result = runner.invoke(cli, ["plan", *place, "--out", str(tmp_path), "--notebook", path])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: {message}") and "Fix: " in result.stderr
    assert not any(tmp_path.glob("2026-W48*"))


def test_the_plan_notebook_and_python_m_work_from_any_folder(tmp_path):
    """Run outside the repository, the plan had looked for notebooks/ under the current
    folder; ``python -m capacity`` had done nothing."""
    from capacity.cli import DEFAULT_NOTEBOOK

    repository = Path(__file__).resolve().parents[1]
    assert repository / "notebooks" / "weekly_capacity_plan.ipynb" == DEFAULT_NOTEBOOK
    assert DEFAULT_NOTEBOOK.is_file()
    for module in ("capacity", "capacity.cli"):
        done = subprocess.run(
            [sys.executable, "-m", module, "--version"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        assert done.returncode == 0 and done.stdout.startswith("capacity, version "), done


def test_a_second_run_in_the_same_folder_stops_at_once(demo, tmp_path):
    db, config = demo
    out = tmp_path / "forecasts"
    out.mkdir()
    # Another process holds the folder's lock, as a weekly run does while it works.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(120)\n",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(PlanLockedError, match="another weekly run is working in"):
            plan(demo, out)
        args = ["plan", "--week", "2026-W48", "--db", str(db), "--config", str(config)]
        result = CliRunner().invoke(cli, [*args, "--out", str(out)])
        assert result.exit_code == 3 and "another weekly run" in result.stderr
        assert list(out.iterdir()) == []  # nothing started
    finally:
        holder.kill()
        holder.wait()
    # The lock went with its process: the folder is free again.
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_what_a_killed_republication_left_is_put_right(demo, published, tmp_path):
    result, out = published
    copy = tmp_path / "forecasts"
    shutil.copytree(out, copy)
    target = copy / "2026-W48"
    # Killed between the two renames: the old plan set aside, no new one in place yet; and a
    # half-built folder of the run that was killed.
    target.rename(copy / f".2026-W48.{result.run_id}.previous")
    dead = copy / ".2026-W48.20261123T060000Z-dead.building"
    dead.mkdir()
    (dead / "forecast.parquet").write_bytes(b"half")
    # and one a run for an earlier week left: no run will plan that week again to clear it
    (copy / ".2026-W47.20261116T060000Z-dead.building").mkdir()
    with pytest.raises(PlanExistsError, match="already published"):
        plan(demo, copy)  # the earlier plan is back, so this week needs --force again
    assert [p.name for p in copy.iterdir()] == ["2026-W48"]
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["run_id"] == result.run_id

    # Killed after the new plan was in place but before the old one was filed under history/.
    older = copy / ".2026-W48.older-run.previous"
    shutil.copytree(target, older, ignore=shutil.ignore_patterns("history"))
    manifest["run_id"] = "older-run"
    (older / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PlanExistsError, match="already published"):
        plan(demo, copy)
    assert [p.name for p in copy.iterdir()] == ["2026-W48"]
    assert [p.name for p in (target / "history").iterdir()] == ["older-run"]


def test_a_week_folder_that_is_not_a_whole_plan_is_filed_under_history(demo, tmp_path):
    """A week folder without a plan's files (made by hand, or half copied) had made every
    --force rerun fail after all its work, as a plan that "could not be written"."""
    out = tmp_path / "forecasts"
    stray = out / "2026-W48"
    stray.mkdir(parents=True)
    (stray / "notes.txt").write_text("kept")
    result = plan(demo, out, force=True)
    assert result.status == "republished"
    assert sorted(PLAN_FILES) == sorted(p.name for p in result.folder.iterdir() if p.is_file())
    [kept] = (result.folder / "history").iterdir()
    assert (kept / "notes.txt").read_text() == "kept"
    assert result.previous == kept
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["replaces"] == kept.name


def test_a_fleet_file_of_some_stored_regions_plans_them_alone(demo, tmp_path):
    """The store holds four regions' telemetry and logs; a fleet file of two plans those
    two (its resilience section once failed on the other regions' incidents)."""
    import yaml

    from capacity.config import load_fleet
    from capacity.weekly import _resilience

    db, config = demo
    data = yaml.safe_load(config.read_text())
    for gone in ("ap-southeast", "sa-east"):
        del data["regions"][gone], data["current_servers"][gone], data["failover"][gone]
    data["failover"] = {"eu-west": {"na-east": 1.0}, "na-east": {"eu-west": 1.0}}
    two = tmp_path / "two.yaml"
    two.write_text(yaml.safe_dump(data))
    with Store(db, read_only=True) as store:
        assert set(store.incidents()["region"]) - {"eu-west", "na-east"}  # others are stored
        section = _resilience(store, load_fleet(two), pd.Timestamp("2026-11-23T00:00Z"))
    regions = set(section["resilience"]["region"]) - {"all"}
    assert regions == {"eu-west", "na-east"}


def test_a_rerun_after_a_new_incident_is_a_new_plan(demo, published, tmp_path):
    """The tables may not move, but the report's resilience section does: a rerun with new
    inputs replaces the plan (it once said 'matches the published plan' and kept it)."""
    db, config = demo
    mine = tmp_path / "store.duckdb"
    shutil.copy(db, mine)  # holding the published plan's run: as if planned here
    out = tmp_path / "forecasts"
    first, published_out = published
    shutil.copytree(published_out, out)
    log = tmp_path / "incidents.csv"
    log.write_text(
        "incident_id,region,service,severity,started_at,detected_at,resolved_at,cause,deploy_id\n"
        "INC-9001,eu-west,game,sev1,2026-11-20T10:00:00Z,2026-11-20T10:05:00Z,"
        "2026-11-20T11:00:00Z,capacity,\n"
    )
    with Store(mine) as store:
        store.import_incidents([log])
    again = plan((mine, config), out, force=True)
    assert again.status == "republished" and again.run_id != first.run_id
    assert "INC-9001" in (again.folder / "capacity_plan.html").read_text()
    assert (again.folder / "history" / first.run_id).is_dir()


def test_a_rerun_of_a_past_week_after_a_later_incident_keeps_the_plan(demo, published, tmp_path):
    """An incident and a deploy logged after the week's cutoff are nothing the plan can see;
    its input fingerprints once hashed the whole logs, so a --force rerun counted them as
    new inputs and filed the unchanged plan under history/. The rerun reads a copy of the
    store the plan was made from: where the store lies is no input either."""
    db, config = demo
    mine = tmp_path / "store.duckdb"
    shutil.copy(db, mine)  # holding the published plan's run: as if planned here
    out = tmp_path / "forecasts"
    first, published_out = published
    shutil.copytree(published_out, out)
    deploys = tmp_path / "later-deploys.csv"
    deploys.write_text(
        "deploy_id,region,service,deployed_at,change\n"
        "DEP-9002,eu-west,game,2026-11-24T08:00:00Z,hotfix\n"
    )
    log = tmp_path / "later-incidents.csv"
    log.write_text(
        "incident_id,region,service,severity,started_at,detected_at,resolved_at,cause,deploy_id\n"
        "INC-9002,eu-west,game,sev1,2026-11-24T10:00:00Z,2026-11-24T10:05:00Z,"
        "2026-11-24T11:00:00Z,bad deploy,DEP-9002\n"
    )
    with Store(mine) as store:
        store.import_deploys([deploys])
        store.import_incidents([log])
    again = plan((mine, config), out, force=True)
    assert again.status == "identical"
    assert not (again.folder / "history").exists()
    assert json.loads((again.folder / "manifest.json").read_text())["run_id"] == first.run_id
    assert "INC-9002" not in (again.folder / "capacity_plan.html").read_text()


def test_plan_tables_read_as_dates_in_utc_percentages_and_signed_costs():
    from capacity.report import plan_table

    frame = pd.DataFrame(
        {
            "region": ["eu-west", "na-east", "sa-east"],
            "act_by": [
                pd.Timestamp("2026-11-20 10:58", tz="UTC"),
                pd.NaT,
                pd.Timestamp("2026-12-04 16:00", tz="UTC"),
            ],
            "overdue": [True, False, False],
            "cost_per_week_change": [5484.2, -3.5, 0.0],
            "min_headroom": [-0.217, float("-inf"), 0.25],
        }
    )
    page = plan_table(frame).data
    headers = re.findall(r"<th>([^<]*)</th>", page)
    # no currency in the fleet file: the costs are said to be in its units, not dollars
    assert headers == [
        "region",
        "act by (UTC)",
        "cost change / week (fleet cost units)",
        "lowest headroom",
    ]
    named = re.findall(r"<th>([^<]*)</th>", plan_table(frame, currency="EUR").data)
    assert named[2] == "cost change / week (EUR)"
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert cells == [
        "eu-west",
        "2026-11-20 10:58 (overdue)",
        "+5,484",
        "-22 %",
        "na-east",
        "",
        "-3.50",
        "no servers",
        "sa-east",
        "2026-12-04 16:00",
        "0",
        "+25 %",
    ]


def test_resilience_trend_shows_fractions_as_percentages_and_every_change_signed():
    from capacity.report import trend_table

    trend = pd.DataFrame(
        {
            "region": ["eu-west"] * 4,
            "service": ["game"] * 4,
            "figure": ["availability", "error_budget_remaining", "mttr_minutes", "incidents"],
            "previous": [0.99958, 0.916, 30.25, 2.0],
            "current": [0.999584, 0.918, float("nan"), 3.0],
            "change": [0.000004, 0.002, float("nan"), 1.0],
            "direction": ["better", "better", None, "worse"],
        }
    )
    cells = re.findall(r"<td>([^<]*)</td>", trend_table(trend).data)
    # an availability change of 4e-6 was "0.000" beside "better"
    assert cells[3:7] == ["99.9580 %", "99.9584 %", "+0.0004 pp", "better"]
    assert cells[10:13] == ["91.6 %", "91.8 %", "+0.2 pp"]
    assert cells[17:21] == ["30.2", "", "", ""]
    assert cells[24:27] == ["2", "3", "+1"]


def test_accuracy_reads_the_newest_run_of_each_of_the_last_cutoffs(tmp_path):
    """Ad-hoc forecast-fleet runs from the same data had filled all four places, pushing
    the earlier week's forecast out of the report."""
    from capacity.weekly import _accuracy

    hours = pd.date_range("2026-01-01", periods=72, freq="h", tz="UTC")
    telemetry = tmp_path / "t.csv"
    pd.DataFrame(
        {"ts": hours, "region": "eu-west", "service": "game", "metric": "ccu", "value": 100.0}
    ).to_csv(telemetry, index=False)

    def run(start: str) -> pd.DataFrame:
        ts = pd.date_range(start, periods=24, freq="h", tz="UTC")
        frame = pd.DataFrame({"region": "eu-west", "service": "game", "metric": "ccu", "ts": ts})
        return frame.assign(
            yhat=110.0, **{"q0.05": 90.0, "q0.95": 120.0}, model="m", fallback=False
        )

    with Store(tmp_path / "s.duckdb") as store:
        store.ingest([telemetry])
        for run_id, start in [("a", "2026-01-01"), *((f"b{i}", "2026-01-02") for i in range(5))]:
            store.save_forecast(
                run(start), run_id=run_id, quantiles=(0.05, 0.95), params={}, cutoff=start
            )
        accuracy = _accuracy(store, pd.Timestamp("2026-01-04", tz="UTC"))
    assert accuracy["run_id"].tolist() == ["b4", "a"]
    # the cutoff each forecast was made from: run ids of reruns or catch-ups, made on one day,
    # do not tell the weeks apart
    assert accuracy["cutoff"].tolist() == [
        pd.Timestamp("2026-01-02", tz="UTC"),
        pd.Timestamp("2026-01-01", tz="UTC"),
    ]
    assert accuracy["mape"].round(3).tolist() == [0.1, 0.1]
    assert accuracy["coverage_90"].tolist() == [1.0, 1.0]


def test_a_plan_that_cannot_be_written_leaves_nothing(demo, tmp_path, monkeypatch):
    """A full disk while exporting had ended in a traceback, its partial folder left
    behind filling the disk."""
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "capacity_plan.html")

    monkeypatch.setattr("capacity.plan.export_html", full)
    with pytest.raises(PlanFailedError) as failed:
        plan(demo, tmp_path, horizon="1d")
    assert str(failed.value) == (
        "the plan could not be written: No space left on device (capacity_plan.html). Nothing "
        "was published; free the space or fix the folder, then run it again"
    )
    assert list(tmp_path.iterdir()) == []


def test_data_quality_counts_gaps_from_each_series_start_and_short_histories_are_rough():
    from capacity.forecast_fleet import FleetForecast
    from capacity.weekly import _quality, rough_warning

    history = pd.DataFrame(
        {
            "region": ["a"] * 5 + ["b"] * 3,
            "service": "x",
            "metric": "ccu",
            "ts": [*range(5), *range(3)],
            "value": [None, None, 1.0, None, 2.0, 1.0, None, 1.0],
        }
    )
    summary = pd.DataFrame(
        {
            "region": ["a", "b"],
            "service": "x",
            "metric": "ccu",
            "model": "m",
            "fallback": False,
            "masked_hours": 0,
            "status": "ok",
            "history_hours": [96, 400],
        }
    )
    quality = _quality(history, summary)
    # the window's hours before a series began are not missing (they had been counted)
    assert quality[["hours", "missing_hours"]].values.tolist() == [[3, 1], [3, 1]]
    run = FleetForecast("r", pd.DataFrame(), summary, pd.Timestamp("2026-11-23", tz="UTC"), 1.0)
    assert rough_warning(run) == (
        "1 of the forecasts rest on under 14 days of telemetry (the shortest, a/x, on 4.0 "
        "days), so their targets are rough"
    )
    assert rough_warning(replace(run, summary=summary.assign(history_hours=400))) is None


def _cells(page: str) -> list[str]:
    return re.findall(r"<td>([^<]*)</td>", page)


def test_resilience_kpis_show_fractions_as_percentages_like_the_trend():
    """The KPI table showed 0.99958 and 0.916 right above a trend of 99.9580 % and 91.6 %."""
    from capacity.report import kpi_table, trend_table

    kpis = pd.DataFrame(
        {
            "region": ["eu-west", "na-east"],
            "service": ["game", "chat"],
            "availability": [0.99958, 0.9941],
            "slo_target": [0.999, 0.995],
            "error_budget_remaining": [0.916, -0.18],
            "known_hours": [672, 672],
            "mttr_minutes": [30.5, float("nan")],
            "deploys": [4, 0],
            "change_failure_rate": [0.25, float("nan")],
        }
    )
    page = kpi_table(kpis).data
    cells = _cells(page)
    # the SLO's table, then the incidents' and changes': na-east/chat logged neither
    assert cells[:12] == [
        *("eu-west", "game", "99.9580 %", "99.9000 %", "91.6 %", "672"),
        *("na-east", "chat", "99.4100 %", "99.5000 %", "-18.0 %", "672"),
    ]
    assert cells[12:] == [*("eu-west", "game", "30.5", "4", "25.0 %")]
    assert "The other region/service logged no incident and no deploy" in page
    trend = pd.DataFrame(
        {
            "region": ["eu-west"],
            "service": ["game"],
            "figure": ["availability"],
            "previous": [0.9995],
            "current": [0.99958],
            "change": [0.00008],
            "direction": ["better"],
        }
    )
    assert _cells(trend_table(trend).data)[4] == cells[2]  # the same figure, the same text


def test_report_tables_scroll_sideways_in_their_own_box():
    """A table wider than the page had its right-hand columns cut off."""
    from capacity.report import table

    page = table(pd.DataFrame({f"column_{i}": [1.5] for i in range(30)})).data
    box = re.search(r"<div[^>]*style='([^']*)'[^>]*>\s*<table", page)
    assert box is not None and "overflow-x:auto" in box.group(1)
    assert page.index("</table>") < page.rindex("</div>")


def test_accuracy_and_backtest_show_errors_and_coverage_as_percentages_to_a_tenth():
    """MAPE was a fraction, and coverage 0.99405 sat beside 0.929 (availability digits)."""
    from capacity.report import accuracy_table

    accuracy = pd.DataFrame(
        {
            "run_id": ["a", "b"],
            "hours": [72, 24],
            "mape": [0.0412, 0.1],
            "coverage_90": [0.99405, 0.929],
            "peak_ape": [0.0566, float("nan")],
        }
    )
    assert _cells(accuracy_table(accuracy).data) == [
        "a",
        "72",
        "4.1 %",
        "99.4 %",
        "5.7 %",
        "b",
        "24",
        "10.0 %",
        "92.9 %",
        "",
    ]
    backtest = pd.DataFrame(
        {
            "model": ["capacity", "seasonal naive (weekly)"],
            "mase": [0.499, 1.134],
            "coverage_90": [0.899, 0.99405],
            "peak_ape": [0.041, 0.131],
        }
    )
    assert _cells(accuracy_table(backtest).data) == [
        "capacity",
        "0.499",
        "89.9 %",
        "4.1 %",
        "seasonal naive (weekly)",
        "1.134",
        "99.4 %",
        "13.1 %",
    ]


def test_a_plan_without_a_backtest_says_it_was_skipped(published):
    """Section 5 promised last week's backtest and showed nothing."""
    result, _ = published
    page = result.report.read_text()
    section = page[page.index("5. Forecast accuracy") : page.index("6. Data quality")]
    assert "backtest against weekly seasonal naive was skipped for this plan" in section


def test_the_report_shows_no_tqdm_warning(published):
    """With jobs=1, Prophet's first import in the kernel put tqdm's "IProgress not found"
    warning in a stderr box under the report's title."""
    result, _ = published
    page = result.report.read_text()
    assert "TqdmWarning" not in page and "IProgress" not in page


@pytest.mark.parametrize(
    "model",
    ["ProphetDefault(uncertainty_samples=10)", "DemandForecaster(quantiles=(0.5,))"],
)
def test_prophet_is_first_imported_without_the_notebook_tqdm_warning(model):
    """In a kernel (ipykernel loaded) without ipywidgets, importing tqdm.auto warns; the first
    fit imports Prophet and cmdstanpy, which import it, and must not let that warning out."""
    code = (
        "import warnings, ipykernel.zmqshell\n"
        "import pandas as pd\n"
        "from capacity.baselines import ProphetDefault\n"
        "from capacity.forecast import DemandForecaster\n"
        "ts = pd.date_range('2026-01-01', periods=96, freq='h', tz='UTC')\n"
        "series = pd.DataFrame({'ts': ts, 'value': 100.0 + ts.hour})\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    {model}.fit(series)\n"
        "print(sorted({type(w.message).__name__ for w in caught}))\n"
    )
    repository = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": repository},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[") and "TqdmWarning" not in done.stdout


def test_a_series_too_young_for_the_backtest_is_named_with_the_days_it_needs():
    from capacity.weekly import _backtest_task

    ts = pd.date_range("2026-01-01", periods=10 * 24, freq="h", tz="UTC")
    series = pd.DataFrame({"ts": ts, "value": 50.0})
    place = {"holidays_country": None, "timezone": None}
    (row,) = _backtest_task(("eu-west", "game", "ccu", series, None, place))
    assert row["region"] == "eu-west" and row["model"] == "capacity"
    assert row["error"] == (
        "10.0 days of telemetry: the backtest scores last week's forecast against a weekly "
        "naive, which needs over 14 days"
    )


def _hold(code: str, path: Path, seconds: float) -> subprocess.Popen:
    """A real second process holding ``path`` (a store or a plans folder) for ``seconds``."""
    script = f"{code}\nprint('held', flush=True)\ntime.sleep({seconds})\n"
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_wait_lets_a_plan_through_a_store_and_a_folder_held_for_a_while(demo, tmp_path):
    """Without --wait a cron run that met an analyst's open store exited 3 at once."""
    db, config = demo
    store_code = "import sys, time\nfrom capacity import Store\ns = Store(sys.argv[1])"
    folder_code = (
        "import fcntl, os, sys, time\nfd = os.open(sys.argv[1], os.O_RDONLY)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)"
    )
    # W49 with a 3-day horizon is refused once the store is read: the refusal shows the wait
    # got past the lock, without running a notebook
    args = ["plan", "--db", str(db), "--config", str(config), "--out", str(tmp_path)]
    args += ["--week", "2026-W49", "--horizon", "3d"]
    holder = _hold(store_code, db, 3)
    try:
        assert CliRunner().invoke(cli, args).exit_code == 3
        waited = CliRunner().invoke(cli, [*args, "--wait", "1min"])
    finally:
        holder.kill()
        holder.wait()
    assert waited.exit_code == 2, waited.stderr
    assert f"the store {db} is held by another process; waiting up to 1min for it" in (
        waited.stderr
    )
    assert "lies beyond the forecast" in waited.stderr
    short = _hold(store_code, db, 60)
    try:
        gave_up = CliRunner().invoke(cli, [*args, "--wait", "3s"])
    finally:
        short.kill()
        short.wait()
    assert gave_up.exit_code == 3 and "waiting up to 3s" in gave_up.stderr
    # the plans folder: W48 is plannable, and an existing plan refuses it (no --force) once
    # the folder is free, again without running a notebook
    (tmp_path / "2026-W48").mkdir()
    (tmp_path / "2026-W48" / "manifest.json").write_text('{"run_id": "earlier"}')
    args[-3:] = ["2026-W48", "--horizon", "28d"]
    holder = _hold(folder_code, tmp_path, 3)
    try:
        waited = CliRunner().invoke(cli, [*args, "--wait", "1min"])
    finally:
        holder.kill()
        holder.wait()
    assert waited.exit_code == 5, waited.stderr
    assert "another weekly run works in" in waited.stderr
    assert "A plan for 2026-W48 is already published" in waited.stderr


def test_backtest_rows_put_the_projects_forecaster_first_in_every_series():
    from capacity.weekly import sort_backtest

    # compare() lists each series' models best first: the order flipped between series
    rows = pd.DataFrame(
        {
            "region": ["na-east", "na-east", "eu-west", "eu-west", "eu-west"],
            "service": ["game", "game", "chat", "chat", "chat"],
            "metric": ["ccu", "ccu", "rps", "rps", "rps"],
            "model": ["seasonal naive (weekly)", "capacity", "capacity", "arima", "naive"],
            "mase": [1.15, 1.19, 0.5, 0.6, 0.7],
        }
    )
    shown = sort_backtest(rows)
    assert list(zip(shown["region"], shown["model"], strict=True)) == [
        ("eu-west", "capacity"),
        ("eu-west", "arima"),
        ("eu-west", "naive"),
        ("na-east", "capacity"),
        ("na-east", "seasonal naive (weekly)"),
    ]
    assert shown.loc[shown["model"] == "capacity", "mase"].tolist() == [0.5, 1.19]
    assert sort_backtest(pd.DataFrame()).empty


def test_stage_timings_are_a_muted_footnote():
    from capacity.report import timings_line

    line = timings_line({"history": 0.196, "forecast": 7.945}).data
    assert "class='cap-footnote'" in line and "font-size:11px" in line and "color:#777" in line
    assert "Stage timings (seconds): history 0.2, forecast 7.9;" in line
    assert "manifest.json" in line
    assert timings_line({}).data == ""


def test_the_report_ends_with_the_timings_footnote_and_the_manifest_keeps_them(published):
    result, _ = published
    page = result.report.read_text()
    assert page.count("Stage timings (seconds)") == 1
    footnote = page.index("cap-footnote")
    # after every section, the data quality one included
    assert footnote > page.index("7. Resilience") > page.index("6. Data quality")
    assert "Plotly.newPlot" not in page[footnote:] and "<table" not in page[footnote:]
    timings = json.loads((result.folder / "manifest.json").read_text())["timings"]
    assert {"history", "forecast", "notebook", "html"} <= set(timings)


def test_the_resilience_trend_can_show_only_the_figures_that_changed():
    from capacity.report import trend_table

    trend = pd.DataFrame(
        {
            "region": ["eu-west"] * 3,
            "service": ["game"] * 3,
            "figure": ["incidents", "mttr_minutes", "mtbf_hours"],
            "previous": [2.0, 30.0, 10.0],
            "current": [3.0, 30.0, 12.0],
            "change": [1.0, 0.0, 2.0],
            "direction": ["worse", "same", "better"],
        }
    )
    shown = trend_table(trend, changed_only=True).data
    # each figure named as the KPI table heads it
    assert "incidents" in shown and "MTBF (h)" in shown and "MTTR (min)" not in shown
    assert "MTTR (min)" in trend_table(trend).data  # every figure by default
    calm = trend.assign(direction="same")
    assert "No resilience figure got better or worse" in trend_table(calm, changed_only=True).data


def test_the_resilience_trend_lists_no_change_too_small_to_matter():
    from capacity.report import trend_table

    # at 40 pairs the table had listed "-0.0000 pp worse" and changes of 0.0004 pp
    trend = pd.DataFrame(
        {
            "region": ["eu-west"] * 5,
            "service": ["game"] * 5,
            "figure": [
                "availability",
                "availability",
                "error_budget_remaining",
                "error_budget_remaining",
                "incidents",
            ],
            "previous": [0.99958601, 0.999586, 0.917, 0.917, 2.0],
            "current": [0.99958599, 0.999582, 0.916, 0.880, 3.0],
            "change": [-2e-8, -4e-6, -0.001, -0.037, 1.0],
            "direction": ["worse"] * 5,
        }
    )
    shown = trend_table(trend, changed_only=True).data
    assert "-0.0000 pp" not in shown and "-0.0004 pp" not in shown and "-0.1 pp" not in shown
    assert "-3.7 pp" in shown and "+1" in shown  # a budget change of a point or more, a count
    assert "3 smaller changes" in shown
    assert "-0.0004 pp" in trend_table(trend).data  # every row without changed_only
    tiny = trend.iloc[:3]
    assert "by more than noise" in trend_table(tiny, changed_only=True).data


def test_recommend_after_the_plan_reuses_its_fits_and_agrees_with_it(demo, tmp_path, monkeypatch):
    """With the forecast cache on, `capacity recommend` and `capacity check-event` (a new
    scenario) on the telemetry the plan read fit nothing (every series is a hit), and
    recommend prints the plan's recommendations.csv."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CAPACITY_CACHE_DIR", str(cache))
    result = plan(demo, tmp_path / "forecasts", horizon="28d", history="112d")
    entries = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.joblib")}
    db, config = demo
    done = CliRunner().invoke(
        cli, ["recommend", "--db", str(db), "--config", str(config), "--format", "csv"]
    )
    assert done.exit_code == 0, done.output
    event = ["--name", "Cup final", "--start", "2026-11-30T18:00", "--end", "2026-11-30T23:00"]
    event += ["--regions", "eu-west", "--uplift", "1.4", "--format", "json"]
    check = CliRunner().invoke(
        cli, ["check-event", "--db", str(db), "--config", str(config), *event]
    )
    assert check.exit_code == 0, check.output
    assert {row["region"] for row in json.loads(check.stdout)} == {"eu-west"}
    assert len(entries) == 12
    assert {p.name for p in cache.glob("*.joblib")} == set(entries)  # no new fit was kept
    plan_rows = pd.read_csv(result.folder / "recommendations.csv")
    cli_rows = pd.read_csv(io.StringIO(done.stdout))
    # `overdue` is read against the plan's cutoff in one and against now in the other
    pd.testing.assert_frame_equal(
        cli_rows.drop(columns="overdue"), plan_rows.drop(columns="overdue")
    )


def test_a_rerun_of_the_plans_backtest_takes_each_series_from_the_cache(
    demo, tmp_path, monkeypatch
):
    """The backtest of a series whose history, calendar and code are unchanged is read from the
    forecast cache, not run again (an entry altered on disk shows through), also after an
    event is planned past the history's end, which the backtest never sees; with the cache
    off it is computed, and gives what the first run stored."""
    import joblib

    from capacity.config import load_fleet
    from capacity.weekly import _backtests

    cache = tmp_path / "cache"
    monkeypatch.setenv("CAPACITY_CACHE_DIR", str(cache))
    db, config = demo
    db = Path(shutil.copy(db, tmp_path / "store.duckdb"))  # an event is planned in it below
    full = load_fleet(config)
    fleet = full.model_copy(update={"regions": {"eu-west": full.regions["eu-west"]}})
    with Store(db, read_only=True) as store:
        history = store.series(region=["eu-west"], metric=["ccu", "rps"])
        wanted = set(fleet.demand_series())
        keys = zip(history["region"], history["service"], history["metric"], strict=True)
        history = history[[key in wanted for key in keys]].reset_index(drop=True)
        first = _backtests(store, fleet, history, jobs=1)
        entries = sorted(cache.glob("*.joblib"))
        assert len(entries) == 3 and len(first) == 6  # ours and weekly naive per series
        rows = joblib.load(entries[0])
        altered = {**rows[0], "mase": 123.0}
        joblib.dump([altered, *rows[1:]], entries[0])
        again = _backtests(store, fleet, history, jobs=1)
    calendar = tmp_path / "later.csv"  # the telemetry ends on 2026-11-22 23:00
    calendar.write_text(
        "name,kind,start,end,regions,expected_uplift\n"
        "Winter season,season_launch,2026-11-23T00:00:00Z,2026-11-26T00:00:00Z,eu-west,1.5\n"
    )
    with Store(db) as store:
        store.import_events([calendar])
    with Store(db, read_only=True) as store:
        planned = _backtests(store, fleet, history, jobs=1)
        monkeypatch.setenv("CAPACITY_CACHE_DIR", "off")
        fresh = _backtests(store, fleet, history, jobs=1)
    pd.testing.assert_frame_equal(planned, again)
    assert sorted(cache.glob("*.joblib")) == entries  # nothing new was written
    marked = again[again["mase"] == 123.0]
    assert len(marked) == 1
    assert marked.iloc[0][["service", "model"]].tolist() == [altered["service"], altered["model"]]
    pd.testing.assert_frame_equal(again[again["mase"] != 123.0], first.drop(index=marked.index))
    pd.testing.assert_frame_equal(fresh, first)
