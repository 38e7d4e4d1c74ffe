"""Notebooks are thin, reviewable as text, stripped of outputs and in sync with their pairs."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import jupytext
import pytest

FOLDER = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))


def test_there_are_notebooks():
    assert "weekly_capacity_plan.ipynb" in [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_and_with_kernel_metadata(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["metadata"]["language_info"]["name"] == "python"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_paired_text_file_is_in_sync(path):
    text = path.with_suffix(".py")
    assert text.is_file(), (
        f"{text.name} missing: pair it with jupytext --set-formats ipynb,py:percent"
    )
    from_text = jupytext.read(text)
    from_json = jupytext.read(path)
    sources = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    assert sources(from_text) == sources(from_json), (
        f"{path.name} and {text.name} differ: run jupytext --sync {text}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_thin_parameters_of_literals_and_no_definitions(path):
    nb = jupytext.read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for statement in ast.parse(code[0].source).body:
        assert isinstance(statement, ast.Assign)
        ast.literal_eval(statement.value)  # literals only: nothing derived
    for cell in code:
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Lambda)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_filters_a_frame_inline(path):
    # a mask such as trend[trend["direction"].isin([...])] is logic: it belongs in capacity
    nb = jupytext.read(path)
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Subscript):
                assert not isinstance(node.slice, ast.Compare | ast.Call | ast.BoolOp | ast.BinOp)
            if isinstance(node, ast.Attribute):
                assert node.attr not in {"isin", "query", "loc", "where", "mask"}
