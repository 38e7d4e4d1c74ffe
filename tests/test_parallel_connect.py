"""Connecting to a Dask scheduler leaves nothing behind: a client that failed to start, or
that connected only after the run gave up on it, is closed there and then.

Left to the garbage collector, such a client closed itself on whichever thread collected
it; when that thread held distributed's loop-runner lock (while starting another client or
a LocalCluster), it waited for itself forever, and so did every later client. The suite
hung that way about once in ten runs of tests/test_parallel.py.
"""

from __future__ import annotations

import contextlib
import gc
import re
import subprocess
import sys
import textwrap
import threading
import time
from typing import ClassVar

import pytest

from capacity.errors import ParameterError, SourceUnavailableError
from capacity.parallel import map_tasks
from tests.fake_servers import banner_server

distributed = pytest.importorskip("distributed")


def identity(x: int) -> int:
    return x


def io_loops() -> int:
    """Threads running a distributed client's event loop."""
    return sum(thread.name == "IO loop" for thread in threading.enumerate())


def open_clients() -> list[str]:
    """The status of every client object not yet closed, collected or not."""
    gc.collect()
    return [
        client.status
        for client in gc.get_objects()
        if isinstance(client, distributed.Client)
        and client.status not in ("closed", "newly-created")
    ]


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_no_tasks_make_no_connection_but_a_bad_address_is_still_refused(monkeypatch):
    """A run with nothing to fit (every forecast cached) needs no scheduler: one that is
    down does not fail it; an address no scheduler can have still does."""
    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    started = time.monotonic()
    assert map_tasks(identity, [], scheduler="tcp://127.0.0.1:1") == []
    assert time.monotonic() - started < 1  # no connection tried, no timeout waited
    assert open_clients() == []
    with pytest.raises(ParameterError, match="port 99999 is not between 1 and 65535"):
        map_tasks(identity, [], scheduler="tcp://127.0.0.1:99999", flags={"scheduler": "--x"})
    with pytest.raises(SourceUnavailableError, match=re.escape("127.0.0.1:1")):  # a task: connects
        map_tasks(identity, [1], scheduler="tcp://127.0.0.1:1")


@pytest.mark.parametrize("address", ["http://127.0.0.1:8786", "foo://bar"])
def test_an_unknown_scheme_is_refused_with_no_tasks_as_with_some(address):
    """With every forecast cached, forecast-fleet --dask-scheduler http://host:8786 exited 0,
    and the same command failed (exit 2) the first week a series needed fitting."""
    for tasks in ([1], []):
        with pytest.raises(ParameterError, match=f"unknown address scheme '{address[:3]}"):
            map_tasks(identity, tasks, scheduler=address, flags={"scheduler": "--x"})
    assert open_clients() == []


@pytest.mark.parametrize("kind", ["refused", "not http", "not dask"])
def test_a_failed_connection_leaves_no_client_or_loop_thread(kind, monkeypatch):
    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    assert wait_until(lambda: io_loops() == 0, 10), "a loop thread from an earlier test"
    expected = SourceUnavailableError if kind == "refused" else ParameterError
    with contextlib.ExitStack() as stack:
        address = {
            "refused": "tcp://127.0.0.1:1",
            "not http": "http://127.0.0.1:8786",
            "not dask": stack.enter_context(banner_server()),
        }[kind]
        with pytest.raises(expected):
            map_tasks(identity, [1], scheduler=address)
    # they had been left 'connecting', each with its event loop running on a thread
    assert open_clients() == []
    assert wait_until(lambda: io_loops() == 0, 10), f"{io_loops()} loop threads left running"


def test_collecting_garbage_while_a_client_starts_does_not_hang():
    """The hang itself, made certain: failed connections, then the garbage collector run
    while distributed's loop-runner lock is held, as when another client starts."""
    script = textwrap.dedent(
        """
        import gc, socket
        import capacity.parallel as parallel
        from distributed.utils import LoopRunner

        parallel.CONNECT_TIMEOUT = 1
        for address in ("tcp://127.0.0.1:1", "http://127.0.0.1:8786"):
            try:
                parallel.map_tasks(abs, [1], scheduler=address)
            except Exception as error:
                print(type(error).__name__)
        with LoopRunner._lock:
            gc.collect()
        print("collected")
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=90
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the garbage collector waited for the loop-runner lock it held")
    assert done.stdout.split() == ["SourceUnavailableError", "ParameterError", "collected"], (
        done.stderr
    )


class SlowClient(distributed.Client):
    """A real client that starts only seven seconds after it is asked to: a scheduler whose
    handshake comes after the run has given up on it (one cannot be made on demand)."""

    started: ClassVar[list[distributed.Client]] = []

    def __init__(self, *args, **kwargs):
        time.sleep(7)
        super().__init__(*args, **kwargs)
        self.started.append(self)


def test_a_client_that_connects_after_the_run_gave_up_is_closed(tmp_path, monkeypatch):
    """The connecting thread is left behind when the handshake takes too long; when the
    scheduler answered after all, that thread's client had stayed connected for good."""
    import dask

    from capacity.parallel import _connect

    monkeypatch.setattr("capacity.parallel.CONNECT_TIMEOUT", 1)
    with (
        dask.config.set({"temporary-directory": str(tmp_path)}),
        distributed.LocalCluster(n_workers=0, dashboard_address=None) as cluster,
    ):
        scheduler = cluster.scheduler
        idle = set(scheduler.clients)
        with pytest.raises(SourceUnavailableError, match="no Dask handshake within 6 s"):
            _connect(SlowClient, cluster.scheduler_address)
        joined = wait_until(lambda: SlowClient.started, 10)
        closed = wait_until(lambda: SlowClient.started[0].status == "closed", 20)
        left = wait_until(lambda: set(scheduler.clients) == idle, 10)
    assert joined, "the late client never connected: the test proves nothing"
    assert closed, f"the late client is {SlowClient.started[0].status}"
    assert left, f"still connected to the scheduler: {sorted(set(scheduler.clients) - idle)}"
    SlowClient.started.clear()
    assert open_clients() == []


def test_a_tls_scheduler_without_dask_tls_settings_names_what_to_set(monkeypatch):
    """tls:// without certificates came out as Dask's TypeError about an ssl_context."""
    for name in ("CA_FILE", "CLIENT__CERT", "CLIENT__KEY"):
        monkeypatch.delenv(f"DASK_DISTRIBUTED__COMM__TLS__{name}", raising=False)
    with pytest.raises(ParameterError) as caught:
        map_tasks(identity, [1], scheduler="tls://127.0.0.1:1", flags={"scheduler": "--x"})
    assert "(--x)" in str(caught.value)
    assert "needs Dask's TLS settings" in str(caught.value)
    assert "distributed.comm.tls.ca-file" in str(caught.value)
    assert "ssl_context" not in str(caught.value)
    assert open_clients() == []
