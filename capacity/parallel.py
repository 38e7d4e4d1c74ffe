"""Fan-out of per-series work: one seam for every engine.

:func:`map_tasks` applies a function to many independent tasks (one per series) and returns
the results in order. It runs them in this process (``jobs=1``), in local worker processes
(joblib's process pool, the default), or on an existing Dask cluster when given its scheduler
address or a ``distributed.Client``. The models never know which: a distributed engine slots
in here without touching them.

The function must be importable at module level (it is pickled), and should catch the
failures it can recover from itself: an exception raised by one task stops the whole map.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from capacity.errors import ParameterError, ResourceError, SourceUnavailableError
from capacity.worker_watch import run_watched

__all__ = ["check_jobs", "default_jobs", "map_tasks", "max_jobs"]

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[int, int], None]

#: How long to wait for a Dask scheduler to answer, in seconds.
CONNECT_TIMEOUT = 10
#: Local worker processes allowed per usable core (see :func:`max_jobs`).
JOBS_PER_CORE = 4
#: How long, in seconds, a Dask run waits for a worker once every worker of its scheduler is
#: gone (lost during the run, the scheduler still up) before it gives up: tasks on a scheduler
#: without workers wait for one forever, and an unattended run would never end.
WORKERLESS_TIMEOUT = 300
#: Seconds between two looks at the scheduler's workers while a Dask run waits for results.
POLL_SECONDS = 2.0


def default_jobs() -> int:
    """The number of local worker processes used when none is given: the usable cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def max_jobs() -> int:
    """The most local worker processes :func:`map_tasks` starts: :data:`JOBS_PER_CORE` per
    usable core. A fit is CPU-bound, so processes past the cores only share them, and each
    one imports Prophet (about 200 MB): ``--jobs 1000`` on a 500-series fleet started 500."""
    return JOBS_PER_CORE * default_jobs()


def check_jobs(jobs: Any, flag: str | None = None) -> int:
    """``jobs`` as a number of local worker processes, or a ParameterError.

    Parameters
    ----------
    jobs : int
        The number asked for.
    flag : str, optional
        The command-line option it came from (``--jobs``), named in the error.

    Returns
    -------
    int
        ``jobs``, checked.

    Raises
    ------
    ParameterError
        When it is not a positive integer, or above :func:`max_jobs`.
    """
    name = _parameter("jobs", flag)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ParameterError(f"{name} must be a positive integer. Got {jobs!r}.")
    most = max_jobs()
    if jobs > most:
        option = flag or "jobs="
        separator = " " if flag else ""
        raise ParameterError(
            f"{name} must be at most {most} ({JOBS_PER_CORE} per usable core, of "
            f"{default_jobs()}: the fits are CPU-bound, and more processes only share the "
            f"cores). Got {jobs}.",
            fix=f"pass {option}{separator}{default_jobs()} (a process per usable core) or fewer",
        )
    return jobs


def map_tasks(
    func: Callable[[T], R],
    tasks: Iterable[T],
    *,
    jobs: int | None = None,
    scheduler: Any = None,
    progress: Progress | None = None,
    flags: Mapping[str, str] | None = None,
    imports: Sequence[str] = (),
    fingerprint: Callable[[], Any] | None = None,
) -> list[R]:
    """Apply ``func`` to every task and return the results in the tasks' order.

    Parameters
    ----------
    func : callable
        A module-level function of one task.
    tasks : iterable
        The tasks.
    jobs : int, optional
        Local worker processes; 1 runs in this process. Default: the usable cores.
        Ignored when ``scheduler`` is given.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``tcp://host:8786``) or a connected client: run there.
    progress : callable, optional
        Called as ``progress(done, total)`` after each task finishes.
    flags : mapping, optional
        The command-line option that gave ``jobs`` or ``scheduler`` (``{"scheduler":
        "--dask-scheduler"}``), named in their errors beside the parameter, as the CLI's
        own errors do: ``The 'scheduler' parameter (--dask-scheduler) must be ...``.
    imports : sequence of str
        Modules that ``func`` imports only when it runs (``prophet`` for a fit), which every
        Dask worker is asked to import before any task is sent, beside ``func``'s own module.
    fingerprint : callable, optional
        A module-level function of no arguments whose answer on every Dask worker must equal
        its answer here, asked before any task is sent: the code ``func`` runs
        (:func:`capacity.fingerprints.code_sha256`), which another version on a worker would
        change without failing.

    Returns
    -------
    list
        ``[func(task) for task in tasks]``, computed by the chosen engine. With no tasks no
        engine starts: no worker process, no connection to the scheduler (whose address is
        still checked for its form).

    Raises
    ------
    ParameterError
        When ``jobs`` is not a positive integer or above :func:`max_jobs`, or the scheduler
        address is malformed, names no usable transport or reaches a server that answers
        otherwise than Dask does.
    SourceUnavailableError
        When the scheduler cannot be reached (refused, timed out, no handshake), has no
        workers (at the start, or for :data:`WORKERLESS_TIMEOUT` seconds once every worker was
        lost), or is lost during the run: the same call may succeed once it is back.
    ResourceError
        When a local worker process died running a task, every Dask worker that ran a task
        died running it (Dask's ``KilledWorker``), a
        worker cannot import ``func``'s module or one of ``imports``, or its ``fingerprint``
        differs from this process's.
    """
    items: Sequence[T] = list(tasks)
    total = len(items)
    flags = flags or {}
    if scheduler is not None:
        return _on_dask(
            func, items, scheduler, progress, flags.get("scheduler"), imports, fingerprint
        )
    jobs = default_jobs() if jobs is None else check_jobs(jobs, flags.get("jobs"))
    jobs = min(jobs, max(total, 1))
    if jobs == 1:
        results = []
        for done, item in enumerate(items, start=1):
            results.append(func(item))
            if progress is not None:
                progress(done, total)
        return results
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    runner = Parallel(n_jobs=jobs, backend="loky", return_as="generator")
    results = []
    try:
        calls = (delayed(run_watched)(func, item, os.getpid()) for item in items)
        for done, result in enumerate(runner(calls), start=1):
            results.append(result)
            if progress is not None:
                progress(done, total)
    except TerminatedWorkerError as exc:
        raise _worker_died(exc, jobs, flags.get("jobs")) from None
    return results


def _worker_died(exc: Exception, jobs: int, flag: str | None) -> ResourceError:
    """One line for a local worker process that died running a task (loky's
    ``TerminatedWorkerError``: killed by a signal, as the out-of-memory killer kills), as
    :func:`_killed` is for a Dask worker: it had come out of every command as joblib's
    traceback, read as a bug."""
    found = re.search(r"exit codes of the workers are \{([^}]*)\}", str(exc))
    how = f" (exit {found.group(1)})" if found else ""
    fewer = f"{flag} {max(1, jobs // 2)}" if flag else f"jobs={max(1, jobs // 2)}"
    return ResourceError(
        f"a local worker process died running a task{how}; nothing was stored. A worker "
        "process is killed when it outgrows the machine's memory (the out-of-memory "
        "killer: see dmesg or journalctl -k) or by another process: free memory or run "
        f"fewer processes ({fewer}), then run again"
    )


def _parameter(name: str, flag: str | None) -> str:
    """``The 'name' parameter``, and ``(--flag)`` when the value came from that option."""
    return f"The '{name}' parameter" + (f" ({flag})" if flag else "")


def _on_dask(
    func: Callable[[T], R],
    items: Sequence[T],
    scheduler: Any,
    progress: Progress | None,
    flag: str | None = None,
    imports: Sequence[str] = (),
    fingerprint: Callable[[], Any] | None = None,
) -> list[R]:
    from concurrent.futures import CancelledError

    try:
        from distributed import Client, KilledWorker
    except ImportError:
        raise ParameterError(
            "Running on a Dask cluster needs the 'distributed' package.",
            fix="pip install 'capacity[dask]'",
        ) from None
    own_client = not isinstance(scheduler, Client)
    if not items:  # nothing to run (every forecast cached): the address checked, no connection
        if own_client:
            _check_address(scheduler, flag)
        return []
    client = _connect(Client, scheduler, flag) if own_client else scheduler
    address = scheduler if own_client else client.scheduler.address
    try:
        # tasks sent to a scheduler without workers wait for one forever, silently
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            raise _unavailable(
                address,
                flag,
                f"it has no workers (none joined within {CONNECT_TIMEOUT} s)",
                f"start workers (dask worker {address}) and try again",
            ) from None
        _check_workers_import(client, func, address, flag, imports)
        if fingerprint is not None:
            _check_workers_code(client, fingerprint, address, flag)
        futures = client.map(func, items, pure=False)
        try:
            _await(client, futures, progress, address, flag)
            return client.gather(futures)
        except KilledWorker as exc:
            # every worker that ran the task died doing it: the machine's doing (its memory
            # limit, the out-of-memory killer), not the scheduler's, and not for later
            index = next((i for i, f in enumerate(futures) if f.key == exc.task), None)
            raise _killed(exc, None if index is None else items[index]) from None
        except CancelledError:  # distributed's FutureCancelledError, FuturesCancelledError
            # the client cancels every task when it loses the scheduler
            raise _unavailable(
                address,
                flag,
                "the connection to it was lost during the run; nothing was kept",
                "try again once the scheduler is back",
            ) from None
    finally:
        if own_client:
            client.close()


def _await(
    client: Any, futures: list[Any], progress: Progress | None, address: Any, flag: str | None
) -> None:
    """Wait for every task, calling ``progress`` as each finishes, and look at the scheduler's
    workers between two waits: once it has had none for :data:`WORKERLESS_TIMEOUT` seconds
    (every worker lost, none joined since), cancel the tasks and give up. A cancelled task (the
    client lost the scheduler) ends the wait too, for ``gather`` to report."""
    from distributed import wait

    pending = set(futures)
    workerless_since: float | None = None
    done = 0
    while pending:
        try:
            finished, pending = wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
        except TimeoutError:
            finished = set()
        if progress is not None:
            for _ in finished:
                done += 1
                progress(done, len(futures))
        if any(future.cancelled() for future in finished):
            return
        try:
            workers = len(client.nthreads())
        except Exception:  # no answer now: the scheduler going, or busy; judged next time
            continue
        now = time.monotonic()
        if workers:
            workerless_since = None
        elif workerless_since is None:
            workerless_since = now
        elif pending and now - workerless_since >= WORKERLESS_TIMEOUT:
            client.cancel(futures)
            raise _unavailable(
                address,
                flag,
                f"every worker was lost during the run and none joined within "
                f"{WORKERLESS_TIMEOUT:g} s; nothing was kept",
                f"start workers (dask worker {address}) and try again",
            )


def _check_workers_import(
    client: Any,
    func: Callable[..., Any],
    address: Any,
    flag: str | None,
    imports: Sequence[str] = (),
) -> None:
    """Refuse a cluster whose workers (those there at the start) cannot import the module
    ``func`` comes from, or one of ``imports`` (what ``func`` imports only when it runs:
    a worker with capacity but without Prophet had passed this check, and the first fit
    then failed with Prophet's traceback as an unexpected error).

    A worker that cannot unpickle a task (capacity not installed where it runs, or one of its
    dependencies missing there) dies of it, and the run would then wait
    :data:`WORKERLESS_TIMEOUT` seconds for another and blame the scheduler. Each worker is
    asked to import the module first: a builtin (``exec`` of one import statement, in a
    namespace of its own) travels to a worker without capacity, where a function of
    capacity's own cannot."""
    module = getattr(getattr(func, "func", func), "__module__", None)  # a partial's function
    modules = [] if not isinstance(module, str) or module in ("__main__", "builtins") else [module]
    modules += [name for name in imports if name not in modules]
    if not modules:
        return
    module = ", ".join(modules)
    answers = _run_on_workers(client, address, flag, exec, f"import {module}", {})
    failed = _import_failures(answers)
    if not failed:
        return
    worker, error = failed[0]
    lines = str(error).strip().splitlines()
    detail = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    scheduler = f"the Dask scheduler at {address!r}" + (f" ({flag})" if flag else "")
    raise ResourceError(
        f"{len(failed)} of {len(answers)} workers of {scheduler} cannot import {module} "
        f"(the first, {worker}: {detail}); nothing was run. Install capacity on every worker, "
        "as on this machine (pip install 'capacity[dask]' in the environment `dask worker` "
        "runs in), then run again"
    )


def _check_workers_code(
    client: Any, fingerprint: Callable[[], Any], address: Any, flag: str | None
) -> None:
    """Refuse a cluster whose workers (those there at the start) answer ``fingerprint``
    otherwise than this process does: another version of capacity on a worker imports, runs
    and computes something else, and its forecasts were stored, and kept in the forecast
    cache under this version's keys, as if this version had made them."""
    here = fingerprint()
    answers = _run_on_workers(client, address, flag, fingerprint)
    other = sorted(
        (worker, answer)
        for worker, answer in answers.items()
        if not isinstance(answer, OSError) and answer != here  # OSError: not reached
    )
    if not other:
        return
    worker, answer = other[0]
    theirs = (
        f"{type(answer).__name__}: {answer}"
        if isinstance(answer, BaseException)
        else f"{str(answer)[:12]}"
    )
    scheduler = f"the Dask scheduler at {address!r}" + (f" ({flag})" if flag else "")
    raise ResourceError(
        f"{len(other)} of {len(answers)} workers of {scheduler} run another version of "
        f"capacity than this machine (its code {str(here)[:12]}; the first, {worker}: "
        f"{theirs}); nothing was run. Install the same version of capacity on every worker "
        "as on this machine (pip install 'capacity[dask]' in the environment `dask worker` "
        "runs in), then run again"
    )


def _import_failures(answers: Mapping[str, Any]) -> list[tuple[str, BaseException]]:
    """The workers whose answer to the import is an error of the import, by address.

    A worker the scheduler could not reach (going away, scaled in) answers with an
    ``OSError`` (distributed's ``CommClosedError`` is one): not this check's business, the
    run goes on with the others as it always did."""
    return sorted(
        (worker, answer)
        for worker, answer in answers.items()
        if isinstance(answer, BaseException) and not isinstance(answer, OSError)
    )


def _killed(exc: Any, item: Any) -> ResourceError:
    """One line for a task whose every worker died running it (Dask's ``KilledWorker``):
    which task (a series' fit names its series), the last worker, and what to look at."""
    names = [getattr(item, part, None) for part in ("region", "service", "metric")]
    what = (
        f"the fit of {names[0]}/{names[1]} ({names[2]})"
        if all(isinstance(name, str) for name in names)
        else f"the task {exc.task!r}"
    )
    tries = exc.allowed_failures + 1
    workers = "the Dask worker" if tries == 1 else f"each of the {tries} Dask workers"
    return ResourceError(
        f"{what}: {workers} running it died (the last, {exc.last_worker.address}); "
        "nothing was stored. A worker process "
        "is killed when it outgrows its memory (dask worker --memory-limit, or the "
        "machine's out-of-memory killer): read that worker's log, give the workers more "
        "memory, then run again"
    )


def _refuse(address: Any, flag: str | None, problem: str) -> ParameterError:
    """The error for a scheduler address that cannot be used, and why."""
    return ParameterError(
        f"{_parameter('scheduler', flag)} must be the address of a Dask scheduler such as "
        f"tcp://host:8786. Got {address!r} ({problem})."
    )


def _run_on_workers(
    client: Any, address: Any, flag: str | None, function: Callable[..., Any], *args: Any
) -> dict[str, Any]:
    """``function(*args)`` on every worker of ``client``: each worker's answer, or the error it
    raised; a scheduler lost on the way is :func:`_unavailable` (exit 4), not a traceback."""
    try:
        return client.run(function, *args, on_error="return")
    except OSError:  # distributed's CommClosedError is one
        raise _unavailable(
            address,
            flag,
            "the connection to it was lost before the run; nothing was kept",
            "try again once the scheduler is back",
        ) from None


def _unavailable(
    address: Any, flag: str | None, problem: str, retry: str
) -> SourceUnavailableError:
    """The error for a well-formed scheduler address that cannot be used now: not bad input,
    so an unattended run can tell "try later" from "fix the command"."""
    given = f" ({flag})" if flag else ""
    local = f"without {flag}" if flag else "without a scheduler"
    return SourceUnavailableError(
        f"the Dask scheduler at {address!r}{given} cannot be used: {problem}; {retry}, or "
        f"run in local processes ({local})"
    )


def _check_address(address: Any, flag: str | None = None) -> None:
    """Refuse, without connecting, an address no Dask scheduler can have: malformed, of a
    scheme Dask has no transport for (``http://``), a port out of range, or ``inproc``
    (which reaches only the process that made it)."""
    from distributed.comm import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        if scheme == "inproc":
            raise ValueError("an inproc address reaches only the process that made it")
        get_backend(scheme)  # an unknown scheme: ValueError, naming the known ones
        if scheme in ("tcp", "tls"):
            _, port = parse_host_port(location)
            if not 0 < port < 65536:
                raise ValueError(f"port {port} is not between 1 and 65535")
    except (TypeError, ValueError) as exc:
        raise _refuse(address, flag, str(exc)) from None


def _connect(client_type: Any, address: Any, flag: str | None = None) -> Any:
    """A client of the Dask scheduler at ``address`` within about :data:`CONNECT_TIMEOUT`
    seconds, or the reason why not: a ParameterError for a malformed address or a server
    that answers otherwise than Dask does, a SourceUnavailableError when nothing answers
    (refused, timed out, or a server that never completes the handshake: a scheduler too busy
    to answer, or something else on that port, cannot be told apart)."""
    _check_address(address, flag)
    outcome: dict[str, Any] = {}
    lock = threading.Lock()

    def connect() -> None:
        # made in two steps so that a client whose start fails can be closed here: left to
        # the garbage collector, its __del__ closes it on whichever thread collects it, and
        # a thread that holds distributed's (non-reentrant) loop-runner lock at that moment
        # waits for itself forever, and with it every later client and LocalCluster
        client = client_type.__new__(client_type)
        try:
            client.__init__(address, timeout=f"{CONNECT_TIMEOUT}s")
        except Exception as exc:  # reported below as the address's problem, not a traceback
            _close_quietly(client)
            outcome["error"] = exc
            return
        with lock:
            keep = not outcome.get("abandoned")  # connected after the caller gave up: not kept
            if keep:
                outcome["client"] = client
        if not keep:
            _close_quietly(client)

    # the handshake itself has no timeout: a server that accepts and stays silent would
    # hold the run forever, so the connection is made on a thread that may be left behind
    thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT + 5)
    with lock:
        outcome["abandoned"] = True
        if "client" in outcome:
            return outcome["client"]
    if "error" in outcome:
        error = outcome["error"]
        text = str(error).strip().splitlines()
        detail = text[0] if text else type(error).__name__
        if isinstance(error, OSError):  # refused, unresolved, timed out: try again later
            raise _unavailable(address, flag, detail, "try again once it is up")
        if isinstance(error, ValueError):
            raise _refuse(address, flag, detail)
        if isinstance(error, TypeError) and "ssl_context" in detail:  # tls:// without certs
            raise _refuse(
                address,
                flag,
                "a tls:// scheduler needs Dask's TLS settings, and none are set: give the CA "
                "file, client certificate and key in the Dask configuration "
                "(distributed.comm.tls.ca-file, .client.cert, .client.key; or the variables "
                "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ...__CLIENT__CERT, ...__CLIENT__KEY)",
            )
        if isinstance(error, TypeError):  # a transport whose package is missing (ucx)
            raise _refuse(address, flag, f"{type(error).__name__}: {detail}")
        # it answered, but its first bytes are not a Dask message (an SSH server's banner
        # read as a frame count asks for exabytes)
        raise _refuse(
            address, flag, f"it answered, but not as a Dask scheduler does: {type(error).__name__}"
        )
    raise _unavailable(
        address,
        flag,
        f"no Dask handshake within {CONNECT_TIMEOUT + 5} s (a scheduler too busy to answer, "
        "or a server on that port that is not a Dask scheduler)",
        "check the address, and try again once the scheduler answers",
    )


def _close_quietly(client: Any) -> None:
    """Close a client that is not handed out (its start failed, or it came too late), so
    that its IO loop thread stops now rather than when the garbage collector finds it."""
    # a client that never started, or whose scheduler is gone: nothing to keep
    with contextlib.suppress(Exception):
        client.close(timeout=CONNECT_TIMEOUT)
    # a client whose start failed has marked itself closed without stopping its loop
    # thread; stopping a loop runner twice does nothing
    runner = getattr(client, "_loop_runner", None)
    if runner is not None:
        with contextlib.suppress(Exception):
            runner.stop()
