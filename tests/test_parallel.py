"""The fan-out seam: the same results in this process, in local workers and on Dask."""

from __future__ import annotations

import os
import socket
import time

import pytest

from capacity.errors import ParameterError
from capacity.parallel import map_tasks


def square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


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


def test_unreachable_scheduler(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with pytest.raises(ParameterError, match="reachable Dask scheduler"):
        map_tasks(square_with_pid, [1], scheduler="tcp://127.0.0.1:1")


@pytest.mark.parametrize("address", ["abc", "", "http://127.0.0.1:8786", 8786])
def test_a_malformed_scheduler_address_is_refused_at_once(address):
    """Each had ended in a traceback (missing port, unknown scheme)."""
    pytest.importorskip("distributed")
    with pytest.raises(ParameterError, match=r"such as tcp://host:8786\. Got "):
        map_tasks(square_with_pid, [1], scheduler=address)


def test_a_server_that_is_not_a_dask_scheduler_is_given_up_on(monkeypatch):
    """A port that accepts and never answers the handshake had held the run forever."""
    pytest.importorskip("distributed")
    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(ParameterError, match=r"no Dask handshake within 6 s"):
            map_tasks(square_with_pid, [1], scheduler=address)
    assert time.monotonic() - started < 20
