"""The command's own temporary folder: what its worker processes leave goes with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from capacity.scratch import (
    DEAD_RUN_AGE,
    PREFIX,
    _host,
    own_tempdir,
    remove_dead_runs,
    user_tempdir,
)


def test_the_block_and_its_children_use_a_folder_removed_at_the_end(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with own_tempdir() as folder:
        assert folder.parent == tmp_path and folder.name.startswith(PREFIX)
        assert tempfile.gettempdir() == str(folder) == os.environ["TMPDIR"]
        assert user_tempdir() == tmp_path
        child = subprocess.run(
            [sys.executable, "-c", "import tempfile; print(tempfile.mkdtemp())"],
            capture_output=True,
            text=True,
            check=True,
        )
        # as a killed worker leaves its folder
        assert os.path.dirname(child.stdout.strip()) == str(folder)
    assert list(tmp_path.iterdir()) == []
    assert tempfile.gettempdir() == str(tmp_path) == os.environ["TMPDIR"]
    assert user_tempdir() == tmp_path


def test_an_error_in_the_block_still_removes_the_folder_and_restores_tmpdir(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("TMPDIR", raising=False)
    with pytest.raises(KeyboardInterrupt), own_tempdir() as folder:
        (folder / "left.txt").write_text("x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == [] and "TMPDIR" not in os.environ


def test_a_temporary_folder_that_cannot_hold_a_new_folder_leaves_things_as_they_were(
    tmp_path, monkeypatch
):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocked))
    with own_tempdir() as folder:
        assert folder is None and tempfile.gettempdir() == str(blocked)


KILLED_RUN = """
import os, signal
from capacity.scratch import own_tempdir
block = own_tempdir()
folder = block.__enter__()
(folder / "fit.csv").write_text("left behind")
print(folder, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_next_run_removes_the_folder_a_killed_run_left(tmp_path, monkeypatch):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN], capture_output=True, text=True, env=env
    )
    assert killed.returncode == -signal.SIGKILL
    left = Path(killed.stdout.strip())
    assert left.parent == tmp_path and (left / "fit.csv").exists()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with own_tempdir() as folder:  # a folder that young may be a live run's elsewhere
        assert left.exists()
    _age(left, DEAD_RUN_AGE + 60)
    with own_tempdir() as folder:
        assert not left.exists()
        assert list(tmp_path.iterdir()) == [folder]
    assert list(tmp_path.iterdir()) == []


def test_only_old_folders_of_dead_runs_of_this_host_are_removed(tmp_path):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead, live = int(gone.stdout), os.getppid()
    host = _host()
    folders = {
        "dead": tmp_path / f"{PREFIX}{host}-{dead}-k2j_x9ab",
        "live": tmp_path / f"{PREFIX}{host}-{live}-aaaa1111",
        "other host": tmp_path / f"{PREFIX}not-{host}-{dead}-bbbb2222",
        "unnamed": tmp_path / f"{PREFIX}cccc3333",  # made before folders carried a pid
        "young": tmp_path / f"{PREFIX}{host}-{dead}-dddd4444",
    }
    for name, path in folders.items():
        path.mkdir()
        (path / "x").write_text("")
        if name != "young":
            _age(path, DEAD_RUN_AGE + 60)
    assert remove_dead_runs(tmp_path) == [folders["dead"]]
    assert sorted(tmp_path.iterdir()) == sorted(p for n, p in folders.items() if n != "dead")
