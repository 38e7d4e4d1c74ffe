"""The published report read as its Monday reader reads it: a real papermill run of two
consecutive weeks into one plans folder, the second compared with the first."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from capacity.demo import build_demo_store, generate_demo
from capacity.plan import run_plan

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "weekly_capacity_plan.ipynb"


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two-weeks")
    generate_demo(folder / "fleet", days=30)
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    out = folder / "forecasts"
    options = {"horizon": "3d", "history": "21d", "jobs": 1, "backtest": False}
    config = folder / "fleet" / "fleet.yaml"
    first = run_plan(db=db, config=config, out=out, notebook=NOTEBOOK, week="2026-W47", **options)
    second = run_plan(db=db, config=config, out=out, notebook=NOTEBOOK, week="2026-W48", **options)
    return first, second


def test_the_report_leads_with_the_decision_and_compares_with_last_weeks_plan(two_weeks):
    first, second = two_weeks
    before = html.unescape(first.report.read_text())
    assert "No plan was published for 2026-W46 in this plans folder" in before
    page = html.unescape(second.report.read_text())
    decision = page.index("Decision:")
    assert decision < page.index("1. Verdict")  # the decision comes first
    run_id = json.loads((first.folder / "manifest.json").read_text())["run_id"]
    assert f"Against the plan published for 2026-W47 (run {run_id})" in page
    assert "<th>region lost</th>" in page and "<th>after the actions above</th>" in page
    assert page.index("What changed since last week") < page.index("2. Demand and capacity")
