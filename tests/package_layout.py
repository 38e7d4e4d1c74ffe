"""Checks shared by the ``tests/test_*_modules.py`` files: each package of ``capacity`` that was
one module (``capacity.calendar``, ``capacity.forecast``, ``capacity.store``, ...) keeps its old
names importable from the package root, holds one small, documented module per concern, its
modules import one another one way (never the package root: that would be a cycle through
``__init__``), and importing it runs nothing heavy.

Each test file keeps its own data (its layers, where each name lives, its limits) and calls these
functions with it; a function fails with an ``AssertionError`` that names the module or the name
at fault."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import capacity

#: How :func:`imported_parts` names the package root (``from capacity.x import Name``).
ROOT = ""


def package_dir(package: str) -> Path:
    """The folder of ``package``, a dotted name such as ``"capacity.store"``."""
    return Path(capacity.__file__).parent.joinpath(*package.split(".")[1:])


def layers_from_order(order: Sequence[str]) -> dict[str, set[str]]:
    """Layers where each part may import every part listed before it."""
    return {stem: set(order[:position]) for position, stem in enumerate(order)}


def imports_by_kind(
    path: Path, package: str, *, parts_from_root: bool = False
) -> tuple[set[str], set[str]]:
    """The parts of ``package`` a file imports, at run time and under ``if TYPE_CHECKING:``.

    Parameters
    ----------
    path
        The Python file to read (it is parsed, not imported).
    package
        The package's dotted name, e.g. ``"capacity.calendar"``.
    parts_from_root
        Count ``from capacity.calendar import fields`` as the part ``fields`` when ``fields.py``
        is one of the package's modules; without it, any ``from capacity.calendar import``
        is the package root.

    Returns
    -------
    tuple of set of str
        The run-time imports and the annotation-only ones, each a set of part names
        (``"fields"`` for ``capacity.calendar.fields``) with :data:`ROOT` for the package root.
    """
    parts = set()
    if parts_from_root:
        parts = {p.stem for p in package_dir(package).glob("*.py")} - {"__init__"}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    runtime: set[str] = set()
    typing: set[str] = set()
    for node in ast.walk(tree):
        found = set()
        if isinstance(node, ast.ImportFrom) and node.module == package:
            found = {alias.name if alias.name in parts else ROOT for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{package}."):
            found = {node.module.removeprefix(f"{package}.")}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package or alias.name.startswith(f"{package}."):
                    found.add(alias.name.removeprefix(package).removeprefix("."))
        (typing if id(node) in typing_only else runtime).update(found)
    return runtime, typing


def imported_parts(path: Path, package: str, *, parts_from_root: bool = False) -> set[str]:
    """The parts of ``package`` a file imports anywhere in it (see :func:`imports_by_kind`)."""
    runtime, typing = imports_by_kind(path, package, parts_from_root=parts_from_root)
    return runtime | typing


def check_small_documented_parts(
    package: str, parts: Iterable[str], max_lines: int, *, besides: Iterable[str] = ("__init__",)
) -> None:
    """The package's modules are exactly ``parts`` (other than ``besides``), and each has a
    module docstring and fewer than ``max_lines`` lines."""
    folder = package_dir(package)
    parts = set(parts)
    found = {p.stem for p in folder.glob("*.py")} - set(besides)
    assert found == parts, f"{package} holds {sorted(found ^ parts)} against the list"
    for stem in sorted(parts):
        check_small_documented(folder / f"{stem}.py", max_lines)


def check_small_documented(path: Path, max_lines: int) -> None:
    """``path`` says what it holds in a module docstring and has fewer than ``max_lines``."""
    text = path.read_text(encoding="utf-8")
    assert ast.get_docstring(ast.parse(text)), f"{path.name} says what it holds"
    lines = len(text.splitlines())
    assert lines < max_lines, f"{path.name} stays small ({lines} lines, the limit {max_lines})"


def check_layers(
    package: str,
    layers: Mapping[str, Iterable[str]],
    *,
    annotations_from_root: bool = False,
    parts_from_root: bool = False,
) -> None:
    """Each part imports only the parts ``layers`` allows it, never the package root, and every
    part it may import is listed before it (so no two parts import each other).

    With ``annotations_from_root``, run-time imports follow the layers and imports under
    ``if TYPE_CHECKING:`` may take names from the package root only (for annotations).
    ``parts_from_root`` is passed on to :func:`imports_by_kind`.
    """
    folder = package_dir(package)
    order = list(layers)
    for stem, allowed in layers.items():
        allowed = set(allowed)
        runtime, typing = imports_by_kind(
            folder / f"{stem}.py", package, parts_from_root=parts_from_root
        )
        used = runtime if annotations_from_root else runtime | typing
        assert ROOT not in used, f"{stem}.py imports the package root {package}: a cycle"
        assert used <= allowed, f"{stem}.py imports {sorted(used - allowed)}"
        assert all(below in order[: order.index(stem)] for below in allowed), (
            f"{stem} may import a part listed after it"
        )
        if annotations_from_root:
            assert typing <= {ROOT}, f"{stem}.py imports {sorted(typing)} for annotations"


def check_callers_use_the_root(package: str, callers: Iterable[Path]) -> None:
    """None of ``callers`` (there must be some) reaches into a part of ``package``: they import
    the package root only, so the parts may move without touching them."""
    callers = list(callers)
    assert callers
    for path in callers:
        used = imported_parts(path, package)
        assert used <= {ROOT}, f"{path.name} imports {sorted(used)} of {package}"


def root_own_names(package: str, *, plain_imports: bool = False) -> set[str]:
    """The names the package's ``__init__`` defines itself (assignments, functions, classes).

    Every other statement after the docstring must be ``from ... import ...`` (or, with
    ``plain_imports``, also ``import ...``): nothing else runs in the package root.
    """
    tree = ast.parse((package_dir(package) / "__init__.py").read_text(encoding="utf-8"))
    imports = (ast.ImportFrom, ast.Import) if plain_imports else (ast.ImportFrom,)
    own: set[str] = set()
    for node in tree.body[1:]:  # after the docstring
        if isinstance(node, ast.Assign):
            own |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            own.add(node.target.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            own.add(node.name)
        else:
            assert isinstance(node, imports), f"{package} runs {ast.dump(node)[:80]}"
    return own


def check_homes(package: str, homes: Mapping[str, str], *, borrowed: Iterable[str] = ()) -> None:
    """Each name of ``homes`` imports from the package root as the very object its home part
    holds, and a function or class (anything callable) is defined there, under that module's
    name, unless it is ``borrowed`` (its home only re-exports it).

    Parameters
    ----------
    package
        The package's dotted name, e.g. ``"capacity.scaling"``.
    homes
        Each name and the part it lives in (``{"simulate": "simulator"}``).
    borrowed
        Callable names whose home imports them from elsewhere (a type alias, say).
    """
    root = importlib.import_module(package)
    borrowed = set(borrowed)
    for name, home in homes.items():
        part = importlib.import_module(f"{package}.{home}")
        obj = getattr(part, name)
        assert getattr(root, name) is obj, f"{package}.{name} is not {package}.{home}.{name}"
        if callable(obj) and name not in borrowed:
            assert obj.__module__ == f"{package}.{home}", f"{name} is defined in {obj.__module__}"


def check_quiet_import(
    modules: Iterable[str],
    *,
    unloaded: Iterable[str] = (),
    refused: Iterable[str] = (),
    cwd: Path | None = None,
) -> None:
    """Importing ``modules`` in a fresh interpreter loads none of ``unloaded`` and calls none
    of ``refused``.

    Parameters
    ----------
    modules
        Dotted module names to import, in order.
    unloaded
        Modules that must not be in ``sys.modules`` afterwards (``"prophet"``).
    refused
        Dotted callables replaced before the imports by one that exits the interpreter
        (``"duckdb.connect"``, ``"socket.socket.connect"``): calling one at import fails.
    cwd
        The folder the interpreter runs in (to see that importing writes nothing there).
    """
    lines = [
        "import sys",
        "def refusing(name):",
        "    def refuse(*args, **kwargs):",
        "        raise SystemExit(f'{name} called at import')",
        "    return refuse",
    ]
    for target in refused:
        lines += [f"import {target.split('.')[0]}", f"{target} = refusing({target!r})"]
    lines += [f"import {module}" for module in modules]
    lines.append(f"print([m for m in {list(unloaded)!r} if m in sys.modules])")
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(lines) + "\n"], capture_output=True, text=True, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"importing loaded {done.stdout.strip()}"
