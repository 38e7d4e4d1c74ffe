"""The command's own temporary folder: what its worker processes leave goes with it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from capacity.scratch import PREFIX, own_tempdir, user_tempdir


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
