"""A Dask run whose workers are all lost while the scheduler stays up: real `dask scheduler`
and `dask worker` processes, the workers killed part-way through the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capacity.errors import ResourceError, SourceUnavailableError
from capacity.parallel import map_tasks
from capacity.units import parse_duration
from tests.test_parallel import finishes_within

DASK = [sys.executable, "-m", "dask"]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """The address of a real Dask scheduler with no worker yet."""
    pytest.importorskip("distributed")
    address_file = tmp_path / "scheduler.json"
    command = [*DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
    process = subprocess.Popen(
        [*command, "--scheduler-file", address_file],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() or not address_file.read_text().strip():
            assert time.monotonic() < deadline and process.poll() is None, "no scheduler"
            time.sleep(0.2)
        yield json.loads(address_file.read_text())["address"]
    finally:
        _stop(process)


def _worker(
    address: str,
    folder: Path,
    joined: bool = True,
    shadow: Path | None = None,
    path: str | None = None,
) -> subprocess.Popen:
    """A worker without a nanny, so that killing it loses it for good; returned once it has
    joined the scheduler, or at once (``joined=False``).

    Its joining is read from its log ("Registered to"), not asked of the scheduler through a
    ``distributed.Client``: a client's event loop started in the test process had once not
    come up within distributed's 10 s on a busy machine, failing the test before it began."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "worker.log"
    command = [*DASK, "worker", address, "--host", "127.0.0.1", "--no-nanny"]
    # shadow: a folder first on the worker's path, its working folder (`python -m` puts that
    # before PYTHONPATH and the installed packages): a worker without capacity, say; `path`,
    # its PYTHONPATH instead of the shadow alone
    env = None if shadow is None else {**os.environ, "PYTHONPATH": path or str(shadow)}
    with log.open("w") as sink:
        process = subprocess.Popen(
            [*command, "--no-dashboard", "--local-directory", folder],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=shadow,
        )
    if joined:
        deadline = time.monotonic() + 60
        while "Registered to" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline and process.poll() is None, log.read_text()
            time.sleep(0.1)
    return process


def test_a_run_whose_workers_are_all_lost_gives_up_as_unavailable(scheduler, tmp_path, monkeypatch):
    """Every worker lost while the scheduler stayed up: the run had waited for one forever,
    and a cron job never ended."""
    monkeypatch.setattr("capacity.parallel.WORKERLESS_TIMEOUT", 3)
    monkeypatch.setattr("capacity.parallel.POLL_SECONDS", 0.5)
    worker = _worker(scheduler, tmp_path)
    try:
        # each task sleeps for 5 s; the only worker is killed 2 s into the run
        killer = threading.Timer(2, worker.kill)
        killer.start()
        started = time.monotonic()
        error = finishes_within(
            60,
            lambda: map_tasks(
                time.sleep, [5, 5], scheduler=scheduler, flags={"scheduler": "--dask-scheduler"}
            ),
        )
        killer.join()
    finally:
        _stop(worker)
    assert isinstance(error, SourceUnavailableError), repr(error)
    assert str(error) == (
        f"the Dask scheduler at {scheduler!r} (--dask-scheduler) cannot be used: every worker "
        "was lost during the run and none joined within 3 s; nothing was kept; start workers "
        f"(dask worker {scheduler}) and try again, or run in local processes (without "
        "--dask-scheduler)"
    )
    assert 2 + 3 <= time.monotonic() - started < 20


def test_a_worker_that_joins_in_time_finishes_the_run(scheduler, tmp_path, monkeypatch):
    """The wait for a worker is not a deadline on the run: one that joins within it takes
    the lost worker's tasks."""
    monkeypatch.setattr("capacity.parallel.WORKERLESS_TIMEOUT", 60)
    monkeypatch.setattr("capacity.parallel.POLL_SECONDS", 0.5)
    first = _worker(scheduler, tmp_path / "first")
    second = None
    done: list[int] = []

    def replace() -> None:
        nonlocal second
        first.kill()
        first.wait()
        second = _worker(scheduler, tmp_path / "second", joined=False)

    outcome: dict[str, object] = {}

    def run() -> None:
        outcome["results"] = map_tasks(
            time.sleep, [4, 4], scheduler=scheduler, progress=lambda d, t: done.append(d)
        )

    replacing = threading.Timer(2, replace)
    replacing.start()
    try:
        assert finishes_within(90, run) is None
    finally:
        replacing.cancel()
        replacing.join()  # the second worker is started, or never will be
        for process in (first, second):
            if process is not None:
                _stop(process)
    assert outcome["results"] == [None, None] and done == [1, 2]


def test_workers_that_cannot_import_capacity_are_named_before_the_run(scheduler, tmp_path):
    """A worker that cannot unpickle a task dies of it: the run had waited five minutes and
    then said every worker was lost, sending the reader to restart workers that would die
    again."""
    shadow = tmp_path / "shadow"
    (shadow / "capacity").mkdir(parents=True)
    (shadow / "capacity" / "__init__.py").write_text(
        'raise ImportError("this environment has no capacity")\n'
    )
    worker = _worker(scheduler, tmp_path / "worker", shadow=shadow)
    try:
        started = time.monotonic()
        error = finishes_within(
            60,
            lambda: map_tasks(
                parse_duration, ["1h", "2h"], scheduler=scheduler, flags={"scheduler": "--s"}
            ),
        )
        # the worker is still there: nothing it could not read was sent to it
        assert worker.poll() is None
    finally:
        _stop(worker)
    assert isinstance(error, ResourceError), repr(error)
    text = str(error)
    assert text.startswith(
        f"1 of 1 workers of the Dask scheduler at {scheduler!r} (--s) cannot import "
        "capacity.units (the first, tcp://127.0.0.1:"
    )
    assert "ImportError: this environment has no capacity); nothing was run." in text
    assert "Install capacity on every worker" in text
    assert time.monotonic() - started < 30


def test_a_worker_the_scheduler_cannot_reach_is_not_taken_for_one_without_capacity():
    from distributed.comm.core import CommClosedError

    from capacity.parallel import _import_failures

    missing = ModuleNotFoundError("No module named 'capacity'")
    answers = {
        "tcp://10.0.0.3:4000": None,  # imported
        "tcp://10.0.0.2:4000": OSError("Timed out trying to connect after 30 s"),
        "tcp://10.0.0.4:4000": CommClosedError("in <TCP (closed)>"),
        "tcp://10.0.0.1:4000": missing,
    }
    assert _import_failures(answers) == [("tcp://10.0.0.1:4000", missing)]


def _one_region_demo(folder: Path) -> tuple[Path, Any]:
    """A demo store of four weeks and its fleet cut to eu-west: three series."""
    from capacity.config import load_fleet
    from capacity.demo import build_demo_store, generate_demo

    generate_demo(folder / "fleet", days=28)
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    fleet = load_fleet(folder / "fleet" / "fleet.yaml")
    return db, fleet.model_copy(update={"regions": {"eu-west": fleet.regions["eu-west"]}})


def _forecast_on(scheduler: str, db: Path, fleet: Any) -> BaseException | None:
    """What a fleet forecast on ``scheduler`` raised (None when it ran), and that it stored
    nothing."""
    from capacity.forecast_fleet import forecast_fleet
    from capacity.store import Store

    with Store(db) as store:
        error = finishes_within(
            60,
            lambda: forecast_fleet(
                store,
                fleet,
                horizon="2h",
                history="7d",
                scheduler=scheduler,
                cache=False,
                flags={"scheduler": "--dask-scheduler"},
            ),
        )
        assert error is not None or not store.forecast_runs().empty
        assert error is None or store.forecast_runs().empty
    return error


def _refused_with(scheduler: str, db: Path, fleet: Any, worker: subprocess.Popen) -> str:
    """The message of the ResourceError a fleet forecast on ``scheduler`` stops with, having
    stored nothing, while ``worker`` stays up; the worker is stopped after."""
    try:
        error = _forecast_on(scheduler, db, fleet)
        assert worker.poll() is None
    finally:
        _stop(worker)
    assert isinstance(error, ResourceError), repr(error)
    return str(error)


def test_a_worker_without_prophet_is_refused_before_any_fit(scheduler, tmp_path):
    """A worker with capacity but not Prophet (imported only when a fit runs) had passed the
    import check: the first fit then failed on it, and the run ended in Prophet's traceback
    as an unexpected error (exit 1, "please report it")."""
    db, fleet = _one_region_demo(tmp_path)
    shadow = tmp_path / "shadow"
    (shadow / "prophet").mkdir(parents=True)
    (shadow / "prophet" / "__init__.py").write_text(
        'raise ImportError("this environment has no prophet")\n'
    )
    # capacity as this process imports it, Prophet shadowed
    path = os.pathsep.join(p for p in (str(shadow), os.environ.get("PYTHONPATH", "")) if p)
    worker = _worker(scheduler, tmp_path / "worker", shadow=shadow, path=path)
    text = _refused_with(scheduler, db, fleet, worker)
    assert "cannot import capacity.forecast_fleet, capacity.forecast, prophet (the first" in text
    assert "ImportError: this environment has no prophet); nothing was run." in text


def test_a_worker_with_another_version_of_capacity_is_refused_before_any_fit(scheduler, tmp_path):
    """A worker importing other capacity code (another version installed where `dask worker`
    runs) passed every check and ran the fits: the run stored what that version computes,
    and the forecast cache kept it under this version's keys."""
    import shutil

    import capacity
    from capacity.fingerprints import code_sha256

    db, fleet = _one_region_demo(tmp_path)
    shadow = tmp_path / "shadow"
    shutil.copytree(
        Path(capacity.__file__).parent,
        shadow / "capacity",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    with (shadow / "capacity" / "forecast_fleet.py").open("a") as module:
        module.write("\n# another version\n")
    worker = _worker(scheduler, tmp_path / "worker", shadow=shadow)
    text = _refused_with(scheduler, db, fleet, worker)
    assert text.startswith(
        f"1 of 1 workers of the Dask scheduler at {scheduler!r} (--dask-scheduler) run another "
        f"version of capacity than this machine (its code {code_sha256()[:12]}; the first, "
        "tcp://127.0.0.1:"
    )
    assert "nothing was run. Install the same version of capacity on every worker" in text
    # the same code on the worker: the run goes ahead
    here = tmp_path / "here"
    here.mkdir()
    package_root = str(Path(capacity.__file__).parent.parent)
    same = _worker(scheduler, tmp_path / "same", shadow=here, path=package_root)
    try:
        assert _forecast_on(scheduler, db, fleet) is None
    finally:
        _stop(same)
