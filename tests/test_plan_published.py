"""The published plan as scripts and readers take it, and when a ``--force`` rerun publishes
again: real papermill runs of two consecutive weeks of the 30-day demo into one plans folder."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from capacity import decision
from capacity.demo import build_demo_store, generate_demo
from capacity.plan import run_plan

#: the module's plans share their fits (see ``shared_fits`` in conftest.py)
pytestmark = pytest.mark.usefixtures("shared_fits")
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "weekly_capacity_plan.ipynb"
#: Small plans: three days ahead, three weeks of history, one process, no backtest.
SMALL = {"horizon": "3d", "history": "21d", "jobs": 1, "backtest": False}
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("published")
    generate_demo(folder / "fleet", days=30)  # telemetry to 2026-11-22 23:00
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    return db, folder / "fleet" / "fleet.yaml"


@pytest.fixture(scope="module")
def two_weeks(demo, tmp_path_factory):
    db, config = demo
    out = tmp_path_factory.mktemp("plans")
    first = run_plan(db=db, config=config, out=out, notebook=NOTEBOOK, week="2026-W47", **SMALL)
    second = run_plan(db=db, config=config, out=out, notebook=NOTEBOOK, week="2026-W48", **SMALL)
    return first, second, out


def test_the_manifest_and_tables_carry_iso_times_and_the_safe_load_of_each_row(two_weeks):
    _, second, _ = two_weeks
    manifest = json.loads((second.folder / "manifest.json").read_text())
    dated = [v["act_by"] for v in manifest["verdicts"] if v["act_by"] is not None]
    assert dated and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\+00:00", t) for t in dated)
    short = [loss for loss in manifest["region_loss"] if not loss["survives"]]
    assert short
    for loss in short:  # the place, as fields for scripts and as text for people
        hour = pd.Timestamp(loss["ts"])
        assert hour.tz is not None and hour.utcoffset() == pd.Timedelta(0)
        assert loss["where"] == f"{loss['region']}/{loss['service']} at {hour:%Y-%m-%d %H:%M}"
    with (second.folder / "recommendations.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12
    times = [row[c] for row in rows for c in ("first_shortfall", "act_by") if row[c]]
    assert times and all(ISO_Z.fullmatch(t) for t in times)
    # under three weeks of telemetry: every series is sized at the fleet file's hint
    assert {row["safe_load_source"] for row in rows} == {"hint"}
    hints = {"game": "340.0", "matchmaking": "1030.0", "chat": "2700.0"}
    assert all(row["safe_load"] == hints[row["service"]] for row in rows)


def test_the_report_is_titled_for_any_fleet_and_says_what_rests_on_the_hint(two_weeks):
    _, second, _ = two_weeks
    page = html.unescape(second.report.read_text())
    assert re.search(r"<h1[^>]*>Weekly capacity plan", page) and "LifeVerse" not in page
    found = re.search(r"Sized at the fleet file's safe_load_hint.*?</ul>", page, re.S)
    assert found is not None
    assert "12 of 12 region/services" in found.group(0)
    assert "eu-west/game: 340 per server;" in re.sub(r"<[^>]+>", "", found.group(0))


def test_the_warnings_name_the_short_horizon_and_the_telemetry_a_past_week_leaves_out(two_weeks):
    first, second, _ = two_weeks
    horizon = (
        "the plan's horizon, 3d, is shorter than the longest procurement lead time, 21 days "
        "(game-c6i-2xlarge), plus a week"
    )
    assert [w[: len(horizon)] for w in second.warnings] == [horizon]
    assert first.warnings[0] == (
        "the demand telemetry from 2026-11-16 00:00 to 2026-11-22 23:00 UTC (7.0 days) is after "
        "this plan's cutoff, the start of 2026-W47, and not used. Plan 2026-W48 "
        "(--week 2026-W48) to forecast from the newest telemetry"
    )
    manifest = json.loads((first.folder / "manifest.json").read_text())
    assert manifest["warnings"] == list(first.warnings)
    page = html.unescape(first.report.read_text())
    assert "<b>Warning:</b> the demand telemetry from 2026-11-16 00:00" in page
    assert f"<b>Warning:</b> {horizon}" in page


def test_a_rerun_republishes_after_the_notebook_or_last_weeks_plan_changed(
    demo, two_weeks, tmp_path
):
    """A ``--force`` rerun had kept the published plan, report and all, when only the
    notebook or the package changed (an upgrade), or when last week's plan, which the report
    compares with, had been republished: they were no inputs of the rerun's fingerprint."""
    db, config = demo
    first, second, out = two_weeks
    plans = tmp_path / "plans"
    shutil.copytree(out, plans)
    manifest = json.loads((second.folder / "manifest.json").read_text())
    inputs = manifest["inputs"]
    assert inputs["notebook_sha256"] == hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    assert len(inputs["code_sha256"]) == 64
    csv_of_w47 = (first.folder / "recommendations.csv").read_bytes()
    assert inputs["previous_plan"] == {
        "week": "2026-W47",
        "run_id": first.run_id,
        "recommendations_sha256": hashlib.sha256(csv_of_w47).hexdigest(),
    }

    def rerun(week: str, notebook: Path):
        return run_plan(
            db=db, config=config, out=plans, notebook=notebook, week=week, force=True, **SMALL
        )

    # a notebook that reads differently (a new release's): a new report
    changed = tmp_path / "changed.ipynb"
    notebook = json.loads(NOTEBOOK.read_text())
    notebook["cells"][0]["source"] = ["# Weekly capacity plan, as the new release writes it\n"]
    changed.write_text(json.dumps(notebook))
    newer = rerun("2026-W48", changed)
    assert newer.status == "republished"
    assert newer.previous == plans / "2026-W48" / "history" / second.run_id
    assert "as the new release writes it" in newer.report.read_text()
    # last week's plan changed under this one (republished, or edited by hand): the store
    # and its runs are as they were, only the plan compared with differs
    edited = plans / "2026-W47" / "recommendations.csv"
    rows = edited.read_text().splitlines()
    edited.write_text("\n".join([rows[0], *reversed(rows[1:])]) + "\n")
    again = rerun("2026-W48", changed)
    assert again.status == "republished"
    recorded = json.loads((again.folder / "manifest.json").read_text())["inputs"]
    assert recorded["previous_plan"]["recommendations_sha256"] == (
        hashlib.sha256(edited.read_bytes()).hexdigest()
    )
    assert f"Against the plan published for 2026-W47 (run {first.run_id})" in (
        html.unescape(again.report.read_text())
    )
    # and with nothing changed, the plan is kept as it is, wherever the notebook lies
    elsewhere = tmp_path / "elsewhere" / "plan.ipynb"
    elsewhere.parent.mkdir()
    shutil.copy(changed, elsewhere)
    assert rerun("2026-W48", elsewhere).status == "identical"


def test_the_report_leads_with_the_decision_and_compares_with_last_weeks_plan(two_weeks):
    first, second, _ = two_weeks
    before = html.unescape(first.report.read_text())
    assert "No plan was published for 2026-W46 in this plans folder" in before
    page = html.unescape(second.report.read_text())
    decision = page.index("Decision:")
    assert decision < page.index("1. Verdict")  # the decision comes first
    assert f"Against the plan published for 2026-W47 (run {first.run_id})" in page
    assert "<th>region lost</th>" in page and "<th>after the actions above</th>" in page
    assert page.index("What changed since last week") < page.index("2. Demand and capacity")


def test_a_week_planned_after_the_week_that_follows_it_says_that_plan_compared_with_another(
    demo, two_weeks, tmp_path
):
    """A week skipped and caught up after the next week's plan (or replanned) had left that
    plan's "what changed since last week" measured against no plan, or an earlier one, with
    nothing to say so."""
    db, config = demo
    first, _, out = two_weeks
    plans = tmp_path / "plans"
    shutil.copytree(out, plans)
    shutil.rmtree(plans / "2026-W47")  # as if 2026-W47 had been skipped, then caught up
    late = run_plan(db=db, config=config, out=plans, notebook=NOTEBOOK, week="2026-W47", **SMALL)
    assert late.status == "published"
    assert late.notes == (
        f"the plan published for 2026-W48 compared itself with the plan of 2026-W47 published "
        f'before (run {first.run_id}): its "what changed since last week" and its overdue '
        "additions new this week are not measured against this plan. Fix: capacity plan --week "
        "2026-W48 --force (same --db, --config and --out)",
    )
    # the week after compared with no plan of this week at all
    manifest = plans / "2026-W48" / "manifest.json"
    recorded = json.loads(manifest.read_text())
    recorded["inputs"]["previous_plan"] = None
    manifest.write_text(json.dumps(recorded))
    note = decision.stale_comparison_note(plans, "2026-W47")
    assert note is not None and "compared itself with no plan for 2026-W47:" in note
    # nothing to say: no later plan, or one compared with the plan now published
    assert decision.stale_comparison_note(plans, "2026-W48") is None
    assert decision.stale_comparison_note(out, "2026-W47") is None
