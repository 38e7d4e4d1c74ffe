"""Atomic writes."""

from __future__ import annotations

import os
import stat

import pytest

from capacity.errors import ParameterError
from capacity.files import check_writable, write_text_atomically


def test_writes_whole_file_with_ordinary_permissions(tmp_path):
    target = write_text_atomically(tmp_path / "out" / "plan.csv", "a,b\n1,2\n")
    assert target.read_text() == "a,b\n1,2\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in target.parent.iterdir()] == ["plan.csv"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = write_text_atomically(tmp_path / "plan.csv", "old\n")
    with pytest.raises(TypeError):
        write_text_atomically(target, None)  # type: ignore[arg-type]
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_check_refuses_a_folder_that_takes_no_files_even_for_root():
    # /proc refuses new files to root too, where os.access(W_OK) says yes to root
    with pytest.raises(
        ParameterError, match=r"cannot be written: nothing can be created in the folder '/proc'"
    ):
        check_writable("/proc/x.html", "output")


def test_check_leaves_no_folder_or_file_behind(tmp_path):
    target = tmp_path / "new" / "deeper" / "report.html"
    assert check_writable(target, "output") == target
    assert list(tmp_path.iterdir()) == []  # the write creates the folders, not the check
    # a name too long for the file system: the folders are made, then the file is refused
    too_long = tmp_path / "new" / "deeper" / ("x" * 300 + ".html")
    with pytest.raises(ParameterError, match=r"'output' parameter cannot be written.*deeper"):
        check_writable(too_long, "output")
    assert list(tmp_path.iterdir()) == []
