"""A temporary folder of the command's own, removed when it ends however it ends.

Prophet's fits write CmdStan's files to the temporary folder, and every worker process that
imports cmdstanpy makes a ``tmp*`` folder there that it removes only when its interpreter
exits normally. A run stopped by SIGTERM or Ctrl-C ends its workers outright, and those
folders had stayed in ``/tmp`` for good, one set per stopped run (a cron job cut by
``timeout`` every week). :func:`own_tempdir` points ``TMPDIR`` (which the workers inherit)
and this process's :mod:`tempfile` at a folder of the run's own inside the user's choice of
temporary folder, and removes it, with whatever was left in it, at the end.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

#: How the run's own temporary folder is named (then a random part).
PREFIX = "capacity-run-"


def user_tempdir() -> Path:
    """The user's temporary folder: the one :func:`own_tempdir` made its folder in, when
    called inside it (here or in a worker process), else :func:`tempfile.gettempdir`."""
    current = Path(tempfile.gettempdir())
    return current.parent if current.name.startswith(PREFIX) else current


@contextlib.contextmanager
def own_tempdir() -> Iterator[Path | None]:
    """Run the block with ``TMPDIR`` and :mod:`tempfile` pointed at a new folder inside the
    current temporary folder, removed (with its contents) when the block ends.

    Yields
    ------
    pathlib.Path or None
        The folder; None when it could not be made (a full or read-only temporary folder),
        in which case the block runs with the temporary folder as it was, whose error, if
        the block needs it, says more than this one could.
    """
    try:
        folder = Path(tempfile.mkdtemp(prefix=PREFIX))
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
