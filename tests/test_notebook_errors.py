"""What an analyst notebook shows when a parameter is wrong: the one line that names the
parameter and the fix, not a traceback through ``capacity``'s code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from capacity.errors import ConfigError, ParameterError
from tests.notebook_data import FLEET

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failed_run(name: str, parameters: dict, tmp_path: Path) -> tuple[object, list[str]]:
    """Run a notebook that must fail; return papermill's error and the failed cell's shown
    traceback, colour codes removed."""
    import papermill

    out = tmp_path / "out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(NOTEBOOKS / f"{name}.ipynb"),
            str(out),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(tmp_path),
        )
    errors = [
        output
        for cell in json.loads(out.read_text(encoding="utf-8"))["cells"]
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]
    assert len(errors) == 1
    return caught.value, [ANSI.sub("", line) for line in errors[0]["traceback"]]


def test_an_input_error_shows_in_ipython_as_its_one_line():
    error = ParameterError("The 'region' parameter must be one of a, b.", fix="set it")
    assert error._render_traceback_() == [
        "ParameterError: The 'region' parameter must be one of a, b. Fix: set it"
    ]
    assert ConfigError("bad", source="fleet.yaml")._render_traceback_() == [
        "ConfigError: fleet.yaml: bad"
    ]


def test_a_path_parameter_naming_no_file_stops_the_notebook_with_one_line(tmp_path):
    """The notebook showed a 30-line traceback through review/inputs.py, the parameter and
    the fix on its last line."""
    missing = tmp_path / "nowhere.duckdb"
    error, shown = failed_run(
        "explore_telemetry", {"db": str(missing), "config": str(FLEET)}, tmp_path
    )
    assert error.ename == "ParameterError"
    assert shown == [
        f"ParameterError: The 'db' parameter names '{missing}', which is not a file. Fix: give "
        "the path of an existing file: -p db /path/to/file; make plan builds the demo store"
    ]
