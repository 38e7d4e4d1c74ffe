"""The weekly run as cron or CI runs it: real `capacity plan` processes, stopped by Ctrl-C,
killed outright or run for a week already planned, and what the next run makes of it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.columns import quantile_column
from capacity.config import load_fleet
from capacity.demo import build_demo_store, generate_demo
from capacity.forecast_fleet import forecast_fleet
from capacity.plan import PlanResult, _tidy, run_plan
from capacity.store import Store

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists() or os.name != "posix", reason="POSIX signals, /proc"
)

REPOSITORY = Path(__file__).resolve().parents[1]
NOTEBOOK = REPOSITORY / "notebooks" / "weekly_capacity_plan.ipynb"
ENV = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
#: A small plan: one week of the 30-day demo, three days ahead, no backtest, one process.
SMALL = ["--week", "2026-W48", "--horizon", "3d", "--no-backtest", "--jobs", "1"]
HOLD_STORE = (
    "import sys, time\nfrom capacity import Store\ns = Store(sys.argv[1])\n"
    "print('held', flush=True)\ntime.sleep(120)\n"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unattended")
    generate_demo(folder / "fleet", days=30)
    return build_demo_store(folder / "store.duckdb", folder / "fleet"), folder / "fleet"


@pytest.fixture
def store(demo, tmp_path):
    """A copy of the demo store of this test's own, and the fleet file."""
    db, fleet = demo
    copy = tmp_path / "capacity.duckdb"
    shutil.copy(db, copy)
    return copy, fleet / "fleet.yaml"


def _interruptible() -> None:
    """Ctrl-C's default action in the child, whatever this process has: pytest run as a
    background job (``cmd &`` in a script, ``nohup``) ignores SIGINT, its children inherit
    that, and a plan started so rightly keeps ignoring it, which made the Ctrl-C tests fail."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _plan(db: Path, config: Path, out: Path, *extra: str, **popen) -> subprocess.Popen:
    """`capacity plan` as cron starts it: a process of its own, its output piped, Ctrl-C
    stopping it unless ``preexec_fn`` says otherwise."""
    command = [sys.executable, "-m", "capacity", "plan", "--db", str(db), "--config", str(config)]
    popen.setdefault("preexec_fn", _interruptible)
    return subprocess.Popen(
        [*command, "--out", str(out), *SMALL, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=popen.pop("env", ENV),
        **popen,
    )


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (the kernel, its worker processes), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _is_kernel(pid: int) -> bool:
    """Whether ``pid`` is a Jupyter kernel (``python -m ipykernel_launcher``)."""
    try:
        return b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone
    except OSError:
        return False


def _wait_for(check, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _a_cell_ran(out: Path) -> bool:
    """Whether the plan notebook being built has a cell with its outputs saved."""
    for path in out.glob(".2026-W48.*.building/capacity_plan.ipynb"):
        try:
            cells = json.loads(path.read_text())["cells"]
        except (OSError, ValueError, KeyError):  # being written
            continue
        if any(cell.get("execution_count") for cell in cells):
            return True
    return False


def _runs(db: Path) -> list[str]:
    with Store(db, read_only=True) as store:
        return sorted(store.forecast_runs()["run_id"])


def test_ctrl_c_exits_130_with_one_line_and_an_ignored_sigint_stays_ignored(store, tmp_path):
    """Ctrl-C exited 1 after click's "Aborted!", the status of a failed plan, so a wrapper
    could not tell an interrupted run from a failed one."""
    db, config = store
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_STORE, str(db)], stdout=subprocess.PIPE, text=True, env=ENV
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        # a run waiting for the store another process holds is stopped by Ctrl-C
        run = _plan(db, config, tmp_path / "forecasts", "--wait", "2min")
        try:
            assert "waiting up to 2min for it" in run.stderr.readline()
            run.send_signal(signal.SIGINT)
            out, err = run.communicate(timeout=60)
        finally:
            run.kill()
        assert run.returncode == 130 and out == ""
        assert err == (
            "capacity: stopped by SIGINT (exit 130); nothing unfinished was committed or "
            "published\n"
        )
        # started with SIGINT ignored (nohup, a background job of a script), it stays so
        ignoring = _plan(
            db,
            config,
            tmp_path / "forecasts",
            "--wait",
            "2min",
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
        try:
            assert "waiting up to 2min for it" in ignoring.stderr.readline()
            ignoring.send_signal(signal.SIGINT)
            time.sleep(1.5)
            assert ignoring.poll() is None
            ignoring.send_signal(signal.SIGTERM)
            _, err = ignoring.communicate(timeout=60)
        finally:
            ignoring.kill()
        assert ignoring.returncode == 143 and err.endswith(
            "capacity: stopped by SIGTERM (exit 143); nothing unfinished was committed or "
            "published\n"
        )
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "forecasts").exists()


def test_ctrl_c_during_the_notebook_stops_the_kernel_and_publishes_nothing(store, tmp_path):
    db, config = store
    out = tmp_path / "forecasts"
    before = _runs(db)
    run = _plan(db, config, out)
    try:
        # the kernel runs the notebook: its first cells are saved in the building folder,
        # and the kernel, once started, spends seconds importing the forecaster. Signalled a
        # fixed 3 s after the file appeared, a slow test process had once found the small
        # plan already published
        _wait_for(lambda: any(out.glob(".2026-W48.*.building/capacity_plan.ipynb")), 120, run)
        _wait_for(lambda: any(map(_is_kernel, _descendants(run.pid))), 120, run)
        time.sleep(0.5)
        below = _descendants(run.pid)
        assert below, "no kernel was seen"
        run.send_signal(signal.SIGINT)
        stdout, err = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 130, err
    assert "Aborted!" not in err and "Traceback" not in err
    assert err.splitlines()[-1] == (
        "capacity: stopped by SIGINT (exit 130); nothing unfinished was committed or published"
    )
    assert "report:" not in stdout
    # the kernel went with the run, not after it: it had outlived it by a moment now and
    # then, writing "Parent appears to have exited" under the run's last line
    assert not [pid for pid in below if _alive(pid)]
    assert not (out / "2026-W48").exists()
    assert _runs(db) == before  # its forecast run, if stored, was removed
    # and its folder with it: a clean stop had left .2026-W48.<run id>.building for the next
    # run to remove, as only a kill should
    assert not list(out.iterdir())


def test_a_kernel_killed_outright_fails_the_run_instead_of_hanging_it(store, tmp_path):
    """The out-of-memory killer picks the biggest process, the notebook's kernel. The plan
    then waited for the dead kernel's output for good, holding the plans folder's lock, so
    every later weekly run exited 3 until someone killed it by hand: the blocking kernel
    manager kept nbclient's check that the kernel is alive from ever running."""
    db, config = store
    out = tmp_path / "forecasts"
    before = _runs(db)
    run = _plan(db, config, out)
    try:
        # killed once a cell has run (papermill saves the notebook after each): killed
        # while it starts, under load, the kernel had not yet answered and no cell failed
        _wait_for(lambda: _a_cell_ran(out), 120, run)
        kernels = [pid for pid in _descendants(run.pid) if _is_kernel(pid)]
        os.kill(kernels[0], signal.SIGKILL)
        stdout, err = run.communicate(timeout=90)  # it had never returned
    finally:
        run.kill()
    assert run.returncode == 1, err
    assert "the plan notebook failed at a cell whose kernel died" in err
    assert "report:" not in stdout
    assert not (out / "2026-W48").exists()
    assert [p.name.startswith("2026-W48.failed-") for p in out.iterdir()] == [True]
    assert _runs(db) == before


def test_a_stopped_plan_ends_the_processes_it_started_and_no_others():
    """What a stopped plan ends is what it started: a process the caller had already started
    (a notebook's Dask worker, say) is left running."""
    from capacity.plan import KERNEL_STOP_SECONDS, _end_kernel_processes, _processes_below

    sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
    mine = subprocess.Popen(sleep)
    try:
        earlier = _processes_below()
        # a process ignoring SIGTERM, as a wedged kernel might: killed after the grace time
        stubborn = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import signal, time; "
                "signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(60)",
            ],
            stdout=subprocess.PIPE,
        )
        plans = subprocess.Popen(sleep)
        stubborn.stdout.readline()  # its handler is set
        assert mine.pid in earlier and plans.pid not in earlier
        started = time.monotonic()
        _end_kernel_processes(earlier)
        took = time.monotonic() - started
        # both ended (and reaped by the plan, so their exit status is not seen here)
        assert plans.poll() is not None and stubborn.poll() is not None
        assert KERNEL_STOP_SECONDS <= took < 3 * KERNEL_STOP_SECONDS  # killed after the grace
        assert mine.poll() is None
    finally:
        for process in (mine, plans, stubborn):
            process.kill()
            process.wait()


def test_a_killed_plans_forecast_run_is_removed_by_the_next_run_and_no_other(store, tmp_path):
    """A plan SIGKILLed (an OOM kill, a power cut) after storing its forecast run had left
    the run in the store for good: later plans' accuracy sections read it as that cutoff's
    forecast, and the next forecast-fleet started its fits from its parameters."""
    db, config = store
    out = tmp_path / "forecasts"
    with Store(db) as writable:  # a run made with forecast-fleet: the user's, kept
        mine = forecast_fleet(
            writable, load_fleet(config), horizon="6h", history="14d", jobs=1
        ).run_id
    # killed outright, the plan cannot remove its kernel's IPython and matplotlib folders:
    # they go to this test's own temporary folder, not the machine's
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**ENV, "TMPDIR": str(scratch)}
    run = _plan(db, config, out, start_new_session=True, env=env)
    try:
        # the tables are written once the notebook has stored its run and closed the store
        _wait_for(lambda: any(out.glob(".2026-W48.*.building/forecast.parquet")), 240, run)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the plan and its kernel, as an OOM kill does
        run.communicate()
    [building] = out.glob(".2026-W48.*.building")
    killed = building.name.split(".")[2]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the kernel's lock goes as it dies
        try:
            runs = _runs(db)
            break
        except Exception:
            time.sleep(0.2)
    assert runs == sorted([mine, killed])

    said: list[str] = []
    result = run_plan(
        db=db,
        config=config,
        out=out,
        notebook=NOTEBOOK,
        week="2026-W48",
        horizon="3d",
        jobs=1,
        backtest=False,
        say=said.append,
    )
    assert said[0] == (
        f"removed {building.name} and its forecast run {killed} from the store, left by an "
        "interrupted run"
    )
    assert result.status == "published" and [p.name for p in out.iterdir()] == ["2026-W48"]
    assert _runs(db) == sorted([mine, result.run_id])
    # the published plan's run and the user's stay, run after run
    refused = CliRunner().invoke(
        cli, ["plan", "--db", str(db), "--config", str(config), "--out", str(out), *SMALL]
    )
    assert refused.exit_code == 5
    assert _runs(db) == sorted([mine, result.run_id])


def test_a_week_already_planned_exits_5_with_a_note_and_changes_nothing(store, tmp_path):
    """It exited 2, as bad input does, so a wrapper told "nothing to do" from a broken
    fleet file only by the message."""
    db, config = store
    out = tmp_path / "forecasts"
    (out / "2026-W48").mkdir(parents=True)
    (out / "2026-W48" / "manifest.json").write_text('{"week": "2026-W48", "run_id": "r1"}')
    before = _runs(db)
    args = ["plan", "--db", str(db), "--config", str(config), "--out", str(out), *SMALL]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 5 and result.stdout == ""
    assert result.stderr == (
        f"note: A plan for 2026-W48 is already published at {out / '2026-W48'}; nothing was "
        "done. To plan the week again (after new telemetry, a changed fleet file), rerun with "
        "--force: the earlier plan is kept under history/\n"
    )
    assert [p.name for p in (out / "2026-W48").iterdir()] == ["manifest.json"]
    assert _runs(db) == before
    # with a report there, stdout names it, as a published run's last line does: a wrapper
    # counting 5 as done had no report to mail
    report = out / "2026-W48" / "capacity_plan.html"
    report.write_text("<html></html>")
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 5 and again.stdout == f"report: {report.resolve()}\n"
    # bad input still exits 2, even for a week already planned
    broken = tmp_path / "fleet.yaml"
    broken.write_text(config.read_text() + "bogus: 1\n")
    args[4] = str(broken)
    assert CliRunner().invoke(cli, args).exit_code == 2


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_a_week_path_that_holds_no_plan_exits_2_not_5(store, tmp_path, kind):
    """A week folder with no plan's manifest in it (made by hand, an interrupted copy), or a
    file of the week's name, exited 5, "A plan for 2026-W48 is already published", with no
    report line: a wrapper counting 5 as done took the week as planned, week after week,
    though no plan was ever published. It is for a person to fix: exit 2, naming it."""
    db, config = store
    out = tmp_path / "forecasts"
    out.mkdir()
    week = out / "2026-W48"
    if kind == "folder":
        week.mkdir()
        (week / "notes.txt").write_text("kept")
    else:
        week.write_text("kept")
    before = _runs(db)
    args = ["plan", "--db", str(db), "--config", str(config), "--out", str(out), *SMALL]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(
        f"error: {week} is a {kind} that holds no published plan (no readable manifest.json)"
    )
    assert "--force" in result.stderr and "already published" not in result.stderr
    assert _runs(db) == before
    assert [p.name for p in out.iterdir()] == ["2026-W48"]
    assert week.read_text() == "kept" if kind == "file" else (week / "notes.txt").is_file()


def test_a_left_folder_whose_run_cannot_be_removed_now_waits_for_the_next_run(store, tmp_path):
    db, _ = store
    orphan = "20261123T060000Z-0dead0"
    with Store(db) as writable:  # what a plan killed after its forecast left in the store
        writable.save_forecast(
            pd.DataFrame(
                {
                    "region": ["eu-west"],
                    "service": ["game"],
                    "metric": ["ccu"],
                    "ts": [pd.Timestamp("2026-11-23", tz="UTC")],
                    "yhat": [100.0],
                    quantile_column(0.95): [120.0],
                    "model": ["prophet"],
                    "fallback": [False],
                }
            ),
            run_id=orphan,
            quantiles=[0.95],
            params={},
        )
    out = tmp_path / "forecasts"
    building = out / f".2026-W48.{orphan}.building"
    building.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_STORE, str(db)], stdout=subprocess.PIPE, text=True, env=ENV
    )
    said: list[str] = []
    try:
        assert holder.stdout.readline().strip() == "held"
        _tidy(out, said.append, db)
    finally:
        holder.kill()
        holder.wait()
    assert building.is_dir() and said[0].startswith(
        f"note: {building.name}, left by an interrupted run, stays until a run can remove its "
        "forecast run from the store ("
    )
    _tidy(out, said.append, db)
    assert not building.exists() and _runs(db) == []
    assert said[1] == (
        f"removed {building.name} and its forecast run {orphan} from the store, left by an "
        "interrupted run"
    )


def test_a_read_only_home_leaves_no_warning_in_the_log_or_report_nor_folders(store, tmp_path):
    """Under a cron user's read-only HOME, IPython and matplotlib (imported with Prophet, in
    the kernel and each worker process) warned into the log and into the published report,
    and IPython's stand-in folders stayed in the temporary folder."""
    db, config = store
    home = tmp_path / "home"
    home.write_text("not a folder: nothing can be made under it, even by root")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "forecasts"
    command = [sys.executable, "-m", "capacity", "plan", "--db", str(db), "--config", str(config)]
    done = subprocess.run(
        [*command, "--out", str(out), *SMALL[:-2], "--jobs", "2"],  # worker processes too
        capture_output=True,
        text=True,
        # the forecast cache on, at its default place under HOME, where it cannot be made
        env={
            **{k: v for k, v in ENV.items() if k not in ("CAPACITY_CACHE_DIR", "XDG_CACHE_HOME")},
            "HOME": str(home),
            "TMPDIR": str(scratch),
        },
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[:2] == [
        done.stderr.splitlines()[0],  # running the plan for 2026-W48 (run ...) ...
        "exporting the HTML report ...",
    ]
    # where the time went, as the manifest records it, for a cron log to show
    manifest = json.loads((out / "2026-W48" / "manifest.json").read_text())
    summary = PlanResult("2026-W48", out, "published", "r", timings=manifest["timings"])
    took = done.stderr.splitlines()[2]
    # "took 48 s: ..." or, on a loaded machine, "took 1 min 12 s: ..."
    took_line = re.fullmatch(r"took (?:\d+ min )?\d+ s: (.*)", took)
    assert took_line, done.stderr
    assert took_line.group(1) == summary.timing_summary()
    # and the plan's own warning: 3 days ahead leave no time to order servers
    assert [line[:27] for line in done.stderr.splitlines()[3:]] == ["warning: the plan's horizon"]
    report = (out / "2026-W48" / "capacity_plan.html").read_text()
    assert "Matplotlib created" not in report and "is not a writable location" not in report
    assert list(scratch.iterdir()) == []
