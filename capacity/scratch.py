"""A temporary folder of the command's own, removed when it ends however it ends.

Prophet's fits write CmdStan's files to the temporary folder, and every worker process that
imports cmdstanpy makes a ``tmp*`` folder there that it removes only when its interpreter
exits normally. A run stopped by SIGTERM or Ctrl-C ends its workers outright, and those
folders had stayed in ``/tmp`` for good, one set per stopped run (a cron job cut by
``timeout`` every week). :func:`own_tempdir` points ``TMPDIR`` (which the workers inherit)
and this process's :mod:`tempfile` at a folder of the run's own inside the user's choice of
temporary folder, and removes it, with whatever was left in it, at the end.

A run killed outright (SIGKILL, an out-of-memory kill) cannot remove its folder. The folder's
name carries the host and process id of the run that made it
(``capacity-run-<host>-<pid>-<random>``), so the next run on the same host removes those of
runs whose process is gone (:func:`remove_dead_runs`); folders of another host, or of a
process that is still alive (or may be: one of another user), are left alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

#: How the run's own temporary folder is named (then the host, the process id, a random part).
PREFIX = "capacity-run-"

#: A dead run's folder is only removed once it is this old (seconds): a folder just made by
#: a process this one cannot see (another pid namespace of the same host name) is spared.
DEAD_RUN_AGE = 600.0

_RUN_NAME = re.compile(re.escape(PREFIX) + r"(?P<host>.+)-(?P<pid>\d+)-[^-]+")


def _host() -> str:
    """This machine's name as it goes into a folder name (letters, digits, dots, dashes)."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "host"


def _alive(pid: int) -> bool:
    """Whether a process of this id may be running (one of another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, another user's
        return True
    return True


def remove_dead_runs(parent: Path, *, now: float | None = None) -> list[Path]:
    """Remove the folders in ``parent`` that runs on this host left when they were killed.

    A folder is removed when its name is a run folder's of this host, the process that made
    it no longer exists, and it was last changed more than :data:`DEAD_RUN_AGE` ago.

    Parameters
    ----------
    parent : Path
        The temporary folder the runs made their folders in.
    now : float, optional
        The time to age folders against (seconds since the epoch) [default: now].

    Returns
    -------
    list of Path
        The folders removed.
    """
    if os.name != "posix":  # os.kill(pid, 0) asks only on POSIX
        return []
    now = time.time() if now is None else now
    host, removed = _host(), []
    try:
        entries = list(parent.glob(PREFIX + "*"))
    except OSError:
        return []
    for entry in entries:
        match = _RUN_NAME.fullmatch(entry.name)
        if match is None or match["host"] != host:
            continue
        pid = int(match["pid"])
        if pid == os.getpid():
            continue
        try:
            if (
                not entry.is_dir()
                or entry.is_symlink()
                or now - entry.stat().st_mtime < DEAD_RUN_AGE
            ):
                continue
        except OSError:
            continue
        if _alive(pid):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            log.debug("removed %s, left by a run that was killed", entry)
            removed.append(entry)
    return removed


def user_tempdir() -> Path:
    """The user's temporary folder: the one :func:`own_tempdir` made its folder in, when
    called inside it (here or in a worker process), else :func:`tempfile.gettempdir`."""
    current = Path(tempfile.gettempdir())
    return current.parent if current.name.startswith(PREFIX) else current


@contextlib.contextmanager
def own_tempdir() -> Iterator[Path | None]:
    """Run the block with ``TMPDIR`` and :mod:`tempfile` pointed at a new folder inside the
    current temporary folder, removed (with its contents) when the block ends. Folders that
    killed runs of this host left there are removed first (:func:`remove_dead_runs`).

    Yields
    ------
    pathlib.Path or None
        The folder; None when it could not be made (a full or read-only temporary folder),
        in which case the block runs with the temporary folder as it was, whose error, if
        the block needs it, says more than this one could.
    """
    remove_dead_runs(Path(tempfile.gettempdir()))
    try:
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{_host()}-{os.getpid()}-"))
    except OSError as exc:
        log.debug("no temporary folder of the run's own (%s)", exc)
        yield None
        return
    saved_env, saved_module = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        tempfile.tempdir = saved_module
        shutil.rmtree(folder, ignore_errors=True)
