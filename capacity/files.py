"""Writing outputs so that a reader never sees half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from capacity.errors import ParameterError, the_parameter

__all__ = ["check_not_an_input", "check_writable", "write_text_atomically"]


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def check_writable(path: str | Path, name: str) -> Path:
    """Refuse, before any work, an output path that :func:`write_text_atomically` cannot write.

    The check does what the write will do: it creates the missing folders on the way and a
    temporary file beside ``path``, then removes both, so it holds for root as for anyone
    (``os.access`` says yes to root whatever the folder is, e.g. under ``/proc``).

    Parameters
    ----------
    path : str or Path
        The destination file; missing folders on the way are fine (the write creates them;
        the check leaves none behind).
    name : str
        The parameter it came from, for the message (``output``).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ParameterError
        When ``path`` is a folder, a part of it is a file, or a missing folder or a file
        cannot be created where the write would create it.
    """
    path = Path(path)
    if path.is_dir():
        raise ParameterError(
            f"The '{name}' parameter must be a file path; {str(path)!r} is a folder.",
            fix="name a file in it, e.g. report.html",
        )
    missing = []
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    if not folder.is_dir():
        raise ParameterError(
            f"The '{name}' parameter cannot be written: {str(folder)!r} is a file, not a folder.",
            fix="choose a path in a folder",
        )
    created: list[Path] = []
    try:
        for step in reversed(missing):
            step.mkdir()
            created.append(step)
        handle, temporary = _temporary_beside(path)
        os.close(handle)
        os.unlink(temporary)
    except OSError as exc:
        where = Path(exc.filename).parent if exc.filename else path.parent
        raise ParameterError(
            f"The '{name}' parameter cannot be written: nothing can be created in the folder "
            f"{str(where)!r} ({exc.strerror or exc}).",
            fix="choose a path in a folder you can write to",
        ) from None
    finally:
        for step in reversed(created):  # deepest first; one another process filled stays
            with contextlib.suppress(OSError):
                step.rmdir()
    return path


def check_not_an_input(
    path: str | Path, option: str, inputs: dict[str, Path | None], what: str
) -> Path:
    """Refuse, before any work, an output path that is one of the command's input files.

    The same file by any path counts: a link, a hard link, ``./in.csv`` for ``in.csv``
    (:func:`os.path.samefile` when both exist, else the resolved paths compared). The
    write would replace the input with the output.

    Parameters
    ----------
    path : str or Path
        The destination file.
    option : str
        The option it came from, as typed (``--output``).
    inputs : dict of str to Path or None
        The command's input files by option (``{"--input": ..., "--events": None}``); None
        for an option not given.
    what : str
        What the command writes, for the fix (``the forecast``).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ParameterError
        When ``path`` is one of ``inputs``.
    """
    path = Path(path)
    for given, source in inputs.items():
        if source is None:
            continue
        try:
            same = os.path.samefile(path, source)
        except OSError:  # one of them does not exist (yet)
            same = path.resolve() == Path(source).resolve()
        if same:
            raise ParameterError(
                f"{the_parameter(option)} names the same file as {given} ({str(source)!r}): "
                f"writing {what} there would overwrite it.",
                fix=f"write {what} to another file",
            )
    return path


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new private file in ``path``'s folder, named after ``path``: its handle and path."""
    return tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)


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
    handle, temporary = _temporary_beside(path)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes files private; outputs are not
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
