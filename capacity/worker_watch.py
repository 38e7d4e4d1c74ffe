"""Local worker processes that end with the process that started them.

A fleet run's worker processes (joblib's loky pool) outlived a run killed with SIGKILL (a
cron or CI timeout's last resort, the out-of-memory killer): each blocked for good writing
its result to a pipe nobody read, holding the 200 MB or so of an imported Prophet. Every
task a local worker runs first makes sure a watcher thread runs in that process: once the
process's parent is gone (the worker is handed to another parent, most often init), the
watcher ends the worker at once. A run that ends normally is not affected: its workers
still have their parent.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["WATCH_SECONDS", "run_watched"]

T = TypeVar("T")
R = TypeVar("R")

#: Seconds between two looks at the worker's parent.
WATCH_SECONDS = 1.0

_lock = threading.Lock()
_watched: int | None = None  # the parent this process's watcher watches


def run_watched(func: Callable[[T], R], item: T, sent_by: int | None = None) -> R:
    """``func(item)``, in a worker process that ends once its parent is gone.

    Parameters
    ----------
    func : callable
        The task's function.
    item : object
        The task.
    sent_by : int, optional
        The process id of the process that sent the task (the worker's parent). A worker
        that takes the task up only after that process is gone (a task still queued when the
        run was killed) ends at once, rather than watch the parent it was handed to.

    Returns
    -------
    object
        What ``func`` returned.
    """
    _watch_parent(sent_by)
    return func(item)


def _watch_parent(sent_by: int | None = None) -> None:
    """Start this process's watcher, once per parent it has; end the process now when the
    process that sent its task is already gone."""
    global _watched
    parent = os.getppid()
    if sent_by is not None and parent != sent_by and not _alive(sent_by):
        os._exit(1)
    with _lock:
        if _watched == parent:
            return
        _watched = parent
    threading.Thread(
        target=_end_when_orphaned, args=(parent,), name="capacity-parent-watch", daemon=True
    ).start()


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a zombie counts: it has not been reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the id
        return True
    return True


def _end_when_orphaned(parent: int) -> None:
    """Wait while ``parent`` is this process's parent, then end the process at once (its
    result could no longer reach anyone, and its main thread may be blocked writing it)."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)
