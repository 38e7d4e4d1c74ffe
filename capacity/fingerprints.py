"""Fingerprints of the code that made an output: a plan's manifest and the forecast cache's
keys both change when the package's sources do."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


def package_sha256(package: Path) -> str:
    """A SHA-256 over a package folder's Python sources: each file's path relative to the
    folder (sorted), its length and its bytes.

    Parameters
    ----------
    package : pathlib.Path
        The folder.

    Returns
    -------
    str
        A hex digest.
    """
    root = Path(package)
    digest = hashlib.sha256()
    for name in sorted(path.relative_to(root).as_posix() for path in root.rglob("*.py")):
        content = (root / name).read_bytes()
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


@functools.cache
def code_sha256() -> str:
    """:func:`package_sha256` of the installed ``capacity`` package, computed once."""
    return package_sha256(Path(__file__).resolve().parent)
