"""Input errors carry their fix apart from the problem, as ``fix=``, so a caller can read or
replace it (``.problem``, ``.fix``); the rendered line still ends ``. Fix: ...``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import capacity
from capacity.errors import InputError, ParameterError

PACKAGE = Path(capacity.__file__).parent


def _input_error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """The names of InputError and every class of the package derived from it."""
    names = {"InputError"}
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {
                        b.id if isinstance(b, ast.Name) else getattr(b, "attr", None)
                        for b in node.bases
                    }
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def test_no_input_error_writes_its_fix_into_the_problem() -> None:
    trees = {path: ast.parse(path.read_text(), str(path)) for path in PACKAGE.rglob("*.py")}
    classes = _input_error_classes(trees)
    assert {"DataError", "ConfigError", "ParameterError"} <= classes
    inline = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _called(node) in classes):
                continue
            problems = [*node.args, *(k.value for k in node.keywords if k.arg == "problem")]
            for problem in problems:
                for part in ast.walk(problem):
                    if (
                        isinstance(part, ast.Constant)
                        and isinstance(part.value, str)
                        and "fix:" in part.value.lower()
                    ):
                        inline.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert inline == [], f"give these errors' fix as fix=, not in the problem: {inline}"


def test_the_fix_renders_after_the_problem() -> None:
    error = ParameterError("The 'n' parameter must be positive. Got 0.", fix="set it to 1")
    assert str(error) == "The 'n' parameter must be positive. Got 0. Fix: set it to 1"
    assert error.problem == "The 'n' parameter must be positive. Got 0."
    assert error.fix == "set it to 1"


def test_a_week_53_error_carries_its_fix() -> None:
    from capacity.weekly import parse_week

    with pytest.raises(ParameterError) as caught:
        parse_week("2027-W53")
    assert caught.value.fix == "plan 2027-W52 or 2028-W01"
    assert "Fix:" not in caught.value.problem
    assert str(caught.value).endswith("Got '2027-W53'. Fix: plan 2027-W52 or 2028-W01")


def test_a_count_parameter_error_carries_its_fix() -> None:
    from capacity.review.inputs import positive_int

    with pytest.raises(ParameterError) as caught:
        positive_int(0, "top_n")
    assert caught.value.fix == "set it to a whole number of 1 or more in the parameters cell"
    assert str(caught.value) == (
        "The 'top_n' parameter must be a positive integer. Got 0. "
        "Fix: set it to a whole number of 1 or more in the parameters cell"
    )


def test_a_folder_as_an_output_file_carries_its_fix(tmp_path: Path) -> None:
    from capacity.files import check_writable

    with pytest.raises(InputError) as caught:
        check_writable(tmp_path, "output")
    assert caught.value.fix == "name a file in it, e.g. report.html"
    assert str(caught.value) == (
        f"The 'output' parameter must be a file path; {str(tmp_path)!r} is a folder. "
        "Fix: name a file in it, e.g. report.html"
    )


def test_too_many_jobs_carries_its_fix() -> None:
    from capacity.parallel import check_jobs, default_jobs, max_jobs

    with pytest.raises(ParameterError) as caught:
        check_jobs(max_jobs() + 1, "--jobs")
    assert caught.value.fix == f"pass --jobs {default_jobs()} (a process per usable core) or fewer"
    assert str(caught.value).endswith(
        f"Got {max_jobs() + 1}. Fix: pass --jobs {default_jobs()} (a process per usable core) "
        "or fewer"
    )
