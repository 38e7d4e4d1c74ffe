"""Writing outputs so that a reader never sees half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from capacity.errors import ParameterError

__all__ = ["check_writable", "write_text_atomically"]


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def check_writable(path: str | Path, name: str) -> Path:
    """Refuse, before any work, an output path that :func:`write_text_atomically` cannot write.

    Parameters
    ----------
    path : str or Path
        The destination file; missing folders on the way are fine (they are created).
    name : str
        The parameter it came from, for the message (``output``).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ParameterError
        When ``path`` is a folder, a part of it is a file, or its nearest existing folder is
        not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise ParameterError(
            f"The '{name}' parameter must be a file path; {str(path)!r} is a folder. Fix: "
            "name a file in it, e.g. report.html"
        )
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ParameterError(
            f"The '{name}' parameter cannot be written: {str(folder)!r} is a file, not a "
            "folder. Fix: choose a path in a folder"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ParameterError(
            f"The '{name}' parameter cannot be written: the folder {str(folder)!r} is not "
            "writable. Fix: choose a path in a folder you can write to"
        )
    return path


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place.

    Parameters
    ----------
    path : str or Path
        The destination; its folder is created when missing.
    text : str
        The content, written as UTF-8.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes files private; outputs are not
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
