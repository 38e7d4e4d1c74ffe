"""Atomic writes."""

from __future__ import annotations

import os
import stat

import pytest

from capacity.files import write_text_atomically


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
