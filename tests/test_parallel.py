"""The fan-out seam: the same results in this process, in local workers and on Dask."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import pytest

from capacity.errors import ParameterError, ResourceError, SourceUnavailableError
from capacity.parallel import map_tasks
from tests.fake_servers import banner_server


def square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def die(task: object) -> None:
    """End the worker process running the task at once, as an out-of-memory kill does."""
    os._exit(1)


def test_in_process_keeps_order_and_reports_progress():
    seen = []
    results = map_tasks(
        square_with_pid, range(5), jobs=1, progress=lambda d, t: seen.append((d, t))
    )
    assert [r for r, _ in results] == [0, 1, 4, 9, 16]
    assert {pid for _, pid in results} == {os.getpid()}
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_local_processes_keep_order():
    results = map_tasks(square_with_pid, range(20), jobs=2)
    assert [r for r, _ in results] == [x * x for x in range(20)]
    assert os.getpid() not in {pid for _, pid in results}


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_bad_jobs(jobs):
    with pytest.raises(ParameterError, match="'jobs' parameter must be a positive integer"):
        map_tasks(square_with_pid, [1, 2], jobs=jobs)


def test_on_a_real_dask_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask

    # The scheduler and workers keep their scratch space under the test's folder, not /tmp.
    with (
        dask.config.set({"temporary-directory": str(tmp_path)}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        done = []
        results = map_tasks(
            square_with_pid,
            range(10),
            scheduler=cluster.scheduler_address,
            progress=lambda d, t: done.append(d),
        )
        workers = {w.pid for w in cluster.scheduler.workers.values()}
    assert [r for r, _ in results] == [x * x for x in range(10)]
    assert {pid for _, pid in results} <= workers
    assert sorted(done) == list(range(1, 11))


def test_a_task_whose_every_worker_dies_running_it_is_one_line_naming_it(tmp_path):
    """Dask's KilledWorker (the task's workers each died running it, as when a fit outgrows
    a worker's memory) had come out of forecast-fleet as a traceback."""
    distributed = pytest.importorskip("distributed")
    import dask

    task = types.SimpleNamespace(region="eu-west", service="game", metric="ccu")
    with (
        dask.config.set(
            {"temporary-directory": str(tmp_path), "distributed.scheduler.allowed-failures": 1}
        ),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        pytest.raises(ResourceError) as caught,
    ):
        map_tasks(die, [task], scheduler=cluster.scheduler_address)
    message = str(caught.value)
    assert message.startswith(
        "the fit of eu-west/game (ccu): each of the 2 Dask workers running it died (the last, "
        "tcp://127.0.0.1:"
    )
    assert "nothing was stored" in message and "\n" not in message


def die_on_two(task: int) -> int:
    """Kill the worker process running task 2 outright, as the out-of-memory killer does."""
    if task == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return task


def test_a_local_worker_killed_running_a_task_is_one_line():
    """A loky worker killed mid-run (the out-of-memory killer) had come out of
    forecast-fleet, recommend and the others as joblib's TerminatedWorkerError traceback."""
    with pytest.raises(ResourceError) as caught:
        map_tasks(die_on_two, [1, 2, 3, 4], jobs=2, flags={"jobs": "--jobs"})
    message = str(caught.value)
    assert message.startswith(
        "a local worker process died running a task (exit SIGKILL(-9)); nothing was stored."
    )
    assert "run fewer processes (--jobs 1), then run again" in message
    assert "\n" not in message


def test_an_unreachable_scheduler_is_unavailable_not_bad_input(monkeypatch):
    """Nothing listening had been a ParameterError (exit 2, "fix your input"); a scheduler
    that is down is "try again later" (exit 4), as a Prometheus server that is down."""
    pytest.importorskip("distributed")
    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with pytest.raises(SourceUnavailableError, match="try again once it is up") as caught:
        map_tasks(square_with_pid, [1], scheduler="tcp://127.0.0.1:1")
    assert "the Dask scheduler at 'tcp://127.0.0.1:1' cannot be used" in str(caught.value)


def finishes_within(seconds: float, call: Callable[[], Any]) -> BaseException | None:
    """The exception ``call()`` raised, or None; fails the test if it is still running after
    ``seconds`` (a hang is left behind on a daemon thread rather than holding the suite)."""
    outcome: dict[str, BaseException | None] = {}

    def run() -> None:
        try:
            call()
            outcome["error"] = None
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert "error" in outcome, f"still running after {seconds} s"
    return outcome["error"]


def test_a_scheduler_without_workers_is_unavailable(tmp_path, monkeypatch):
    """Tasks sent to a scheduler with no workers had waited for one forever, silently; then
    it was a ParameterError (exit 2), though workers may yet join (exit 4: try again)."""
    distributed = pytest.importorskip("distributed")
    import dask

    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with (
        dask.config.set({"temporary-directory": str(tmp_path)}),
        distributed.LocalCluster(n_workers=0, dashboard_address=None) as cluster,
    ):
        error = finishes_within(
            30, lambda: map_tasks(square_with_pid, [1, 2], scheduler=cluster.scheduler_address)
        )
    assert isinstance(error, SourceUnavailableError), repr(error)
    assert "it has no workers (none joined within 1 s)" in str(error)
    assert f"start workers (dask worker {cluster.scheduler_address}) and try again" in str(error)


def test_a_scheduler_lost_during_the_run_is_unavailable(tmp_path):
    """A scheduler that died mid-run had ended the command in a traceback (exit 1), then in
    a ParameterError (exit 2); it is a source that went away (exit 4: try again)."""
    distributed = pytest.importorskip("distributed")
    address_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    # on the loopback address: a test's traffic stays on this machine
    local = ["--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
    scheduler = subprocess.Popen(
        [*dask, "scheduler", *local, "--scheduler-file", address_file],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() or not address_file.read_text().strip():
            assert time.monotonic() < deadline and scheduler.poll() is None, "no scheduler"
            time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        worker = subprocess.Popen(
            [
                *dask,
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--no-nanny",
                "--no-dashboard",
                "--local-directory",
                tmp_path,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        # each task sleeps for 5 s; the scheduler is killed 2 s into the run
        killer = threading.Timer(2, scheduler.kill)
        killer.start()
        started = time.monotonic()
        error = finishes_within(60, lambda: map_tasks(time.sleep, [5, 5], scheduler=address))
        killer.join()
    finally:
        for process in (worker, scheduler):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
    assert isinstance(error, SourceUnavailableError), repr(error)
    assert "the connection to it was lost during the run; nothing was kept" in str(error)
    assert "try again once the scheduler is back" in str(error)
    assert "\n" not in str(error)
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("tcp://127.0.0.1:99999", "port 99999 is not between 1 and 65535"),
        ("inproc://x", "an inproc address reaches only the process that made it"),
    ],
)
def test_an_unusable_address_is_refused_at_once(address, problem):
    """These had been tried for the whole connect timeout, or refused in Dask's words
    ('not enough values to unpack')."""
    pytest.importorskip("distributed")
    started = time.monotonic()
    with pytest.raises(ParameterError, match="must be the address of a Dask scheduler") as caught:
        map_tasks(square_with_pid, [1], scheduler=address)
    assert problem in str(caught.value)
    assert time.monotonic() - started < 5


def test_a_failed_connection_says_why_not_that_it_timed_out(monkeypatch, capfd):
    """A connection attempt that failed otherwise than with OSError or ValueError (Dask's
    ucx transport without its package) printed a thread's traceback and was then reported
    as 'no Dask handshake within 15 s' at once."""
    pytest.importorskip("distributed")
    try:
        import ucp  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("ucx is installed here: the address would be tried for real")
    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with pytest.raises(ParameterError, match="must be the address of a Dask scheduler") as caught:
        map_tasks(square_with_pid, [1], scheduler="ucx://127.0.0.1:8786")
    assert "no Dask handshake" not in str(caught.value)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("address", ["abc", "", "http://127.0.0.1:8786", 8786])
def test_a_malformed_scheduler_address_is_refused_at_once(address):
    """Each had ended in a traceback (missing port, unknown scheme)."""
    pytest.importorskip("distributed")
    with pytest.raises(ParameterError, match=r"such as tcp://host:8786\. Got "):
        map_tasks(square_with_pid, [1], scheduler=address)


def test_a_server_that_never_answers_is_given_up_on(monkeypatch):
    """A port that accepts and never answers the handshake had held the run forever. It may
    be a scheduler too busy to answer as well as another server: unavailable, not bad input."""
    pytest.importorskip("distributed")
    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(SourceUnavailableError, match=r"no Dask handshake within 6 s"):
            map_tasks(square_with_pid, [1], scheduler=address)
    assert time.monotonic() - started < 20


def test_a_server_that_answers_otherwise_than_dask_is_bad_input(monkeypatch):
    """A server that speaks first (an SSH banner) had been refused with numpy's 'Unable to
    allocate 2.82 EiB' (the banner read as a frame count): it is not a Dask scheduler."""
    pytest.importorskip("distributed")
    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with (
        banner_server() as address,
        pytest.raises(ParameterError, match="it answered, but not as a Dask scheduler"),
    ):
        map_tasks(square_with_pid, [1], scheduler=address)


@pytest.fixture
def small_store(tmp_path, db, fleet_file):
    """A store with eight days of hourly ccu for the conftest fleet (enough for Prophet),
    and the fleet file."""
    from click.testing import CliRunner

    from capacity.cli import cli

    hours = [f"2026-11-{1 + h // 24:02d}T{h % 24:02d}:00:00Z" for h in range(8 * 24)]
    rows = [
        f"{ts},{region},game,ccu,{100 + 50 * math.sin(i / 24 * 2 * math.pi):.1f}"
        for i, ts in enumerate(hours)
        for region in ("eu-west", "na-east")
    ]
    telemetry = tmp_path / "t.csv"
    telemetry.write_text("ts,region,service,metric,value\n" + "\n".join(rows) + "\n")
    loaded = CliRunner().invoke(cli, ["ingest", "--db", str(db), str(telemetry)])
    assert loaded.exit_code == 0, loaded.output
    return db, fleet_file


def forecast_fleet_cli(small_store, *args: str) -> Any:
    from click.testing import CliRunner

    from capacity.cli import cli

    db, config = small_store
    command = ["forecast-fleet", "--db", str(db), "--config", str(config), "--horizon", "6h"]
    return CliRunner().invoke(cli, [*command, *args])


def test_the_cli_names_dask_scheduler_in_its_errors(small_store, tmp_path, monkeypatch):
    """Every error had named 'the scheduler parameter', which the command line has not:
    its user typed --dask-scheduler."""
    distributed = pytest.importorskip("distributed")
    import dask

    malformed = forecast_fleet_cli(small_store, "--dask-scheduler", "abc")
    assert malformed.exit_code == 2, malformed.output
    assert "error: The 'scheduler' parameter (--dask-scheduler) must be the address" in (
        malformed.output
    )
    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with (
        dask.config.set({"temporary-directory": str(tmp_path)}),
        distributed.LocalCluster(n_workers=0, dashboard_address=None) as cluster,
    ):
        address = cluster.scheduler_address
        idle = forecast_fleet_cli(small_store, "--dask-scheduler", address)
    assert idle.exit_code == 4, idle.output
    assert f"error: the Dask scheduler at '{address}' (--dask-scheduler) cannot be used: " in (
        idle.output
    )
    assert "or run in local processes (without --dask-scheduler)" in idle.output


def test_jobs_with_a_dask_scheduler_is_refused(small_store, tmp_path, monkeypatch):
    """--jobs had been dropped silently when --dask-scheduler was given: the run went to the
    cluster (here one without workers, exit 4) as if --jobs had not been typed."""
    distributed = pytest.importorskip("distributed")
    import dask

    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with (
        dask.config.set({"temporary-directory": str(tmp_path)}),
        distributed.LocalCluster(n_workers=0, dashboard_address=None) as cluster,
    ):
        both = forecast_fleet_cli(
            small_store, "--jobs", "2", "--dask-scheduler", cluster.scheduler_address
        )
    assert both.exit_code == 2, both.output
    assert both.output == (
        "error: The 'jobs' parameter (--jobs) sets the local worker processes and cannot be "
        "combined with --dask-scheduler, whose workers run the fits. Fix: give either --jobs "
        "or --dask-scheduler\n"
    )


def test_more_jobs_than_four_per_core_are_refused():
    """jobs had no upper bound: it was capped at the task count only, so jobs=10**20 on 20
    tasks started 20 processes on a machine of any size."""
    from capacity.parallel import default_jobs, max_jobs

    assert max_jobs() == 4 * default_jobs()
    assert len(map_tasks(square_with_pid, range(2), jobs=max_jobs())) == 2
    with pytest.raises(ParameterError, match=rf"must be at most {max_jobs()} \(4 per usable"):
        map_tasks(square_with_pid, range(20), jobs=10**20)


@pytest.mark.parametrize(
    "command", ["forecast-fleet", "recommend", "schedule", "plan", "check-event"]
)
def test_every_command_refuses_too_many_jobs_naming_the_option(command, tmp_path):
    """Each had accepted --jobs 99999999999999999999 (and forecast-fleet started as many
    processes as there were series)."""
    from click.testing import CliRunner

    from capacity.cli import cli
    from capacity.parallel import default_jobs, max_jobs

    db = tmp_path / "none.duckdb"
    result = CliRunner().invoke(cli, [command, "--db", str(db), "--jobs", "99999999999999999999"])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"error: The 'jobs' parameter (--jobs) must be at most {max_jobs()} (4 per usable "
        f"core, of {default_jobs()}: the fits are CPU-bound, and more processes only share "
        f"the cores). Got 99999999999999999999. Fix: pass --jobs {default_jobs()} (a process "
        "per usable core) or fewer\n"
    )
    assert not db.exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_fit_that_cannot_write_its_files_stops_the_run_in_one_line(small_store, jobs):
    """With a file-size limit (as a full disk) the fits' CmdStan input could not be written:
    the run ended in an 80-line traceback ending in 'OSError: [Errno 27] File too large',
    exit 1. It is not a per-series fallback either: that would store naive forecasts."""
    import resource

    db, config = small_store

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))

    command = [sys.executable, "-m", "capacity", "forecast-fleet", "--db", str(db)]
    run = subprocess.run(
        [*command, "--config", str(config), "--horizon", "6h", "--cold", "--jobs", jobs],
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert len(lines) == 2 and lines[0].startswith("forecasting"), run.stderr
    assert lines[1].startswith("error: the fit of ")
    assert " failed: File too large (EFBIG). Nothing was stored; " in lines[1]
    assert lines[1].endswith("then run again")
    from capacity.store import Store

    with Store(db, read_only=True) as store:
        assert store.con.execute("SELECT count(*) FROM forecasts").fetchone() == (0,)
