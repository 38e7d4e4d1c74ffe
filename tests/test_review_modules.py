"""``capacity.review`` is a package: the notebooks import its root, one module per notebook
topic does the work, the parts depend one way (``constants`` and ``inputs`` at the bottom, no
topic module on another, none on the package's own names) and nothing runs at import."""

from __future__ import annotations

from tests import package_layout as layout

PACKAGE = "capacity.review"
PARTS_DIR = layout.package_dir(PACKAGE)
TOPICS = {"shapes", "latency", "stored_runs", "backtests", "event_headroom", "headlines"}
BOTTOM = {"constants", "inputs"}

#: Where each name of the package root is defined.
HOMES = {
    "COMPARE_QUANTILES": "constants",
    "EXCLUDED": "constants",
    "LOAD_PER_SERVER": "constants",
    "RUN_ID": "constants",
    "WEEKDAYS": "constants",
    "weekday_hour_profile": "shapes",
    "Decomposition": "shapes",
    "decompose": "shapes",
    "decompose_or_note": "shapes",
    "load_latency_frame": "latency",
    "load_latency": "latency",
    "latency_by_load": "latency",
    "recent_runs": "stored_runs",
    "join_actuals": "stored_runs",
    "run_actuals": "stored_runs",
    "accuracy": "stored_runs",
    "accuracy_by_lead": "stored_runs",
    "default_forecasters": "backtests",
    "backtest_history": "backtests",
    "BacktestComparison": "backtests",
    "compare_forecasters": "backtests",
    "verdict_thresholds": "event_headroom",
    "event_summary": "event_headroom",
    "region_status": "headlines",
    "status_summary": "headlines",
    "series_summary": "headlines",
    "review_summary": "headlines",
    "check_series": "inputs",
    "notebook_file": "inputs",
}


def test_the_package_root_exports_what_the_notebooks_and_figures_import():
    from capacity import explore_charts, review

    assert sorted(review.__all__) == sorted(HOMES)
    layout.check_homes(PACKAGE, HOMES)
    assert (review.RUN_ID, review.LOAD_PER_SERVER, review.EXCLUDED) == (
        "run_id",
        "load_per_server",
        "excluded",
    )
    assert review.WEEKDAYS == ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert review.COMPARE_QUANTILES == (0.05, 0.5, 0.95)
    # explore_charts draws what review computes, with the same names and result type
    assert explore_charts.Decomposition is review.Decomposition
    assert explore_charts.EXCLUDED is review.EXCLUDED


def test_the_parts_are_the_topics_and_the_root_holds_no_code():
    layout.check_small_documented_parts(PACKAGE, TOPICS | BOTTOM, 400)
    layout.check_small_documented(PARTS_DIR / "__init__.py", 400)
    assert layout.root_own_names(PACKAGE) == {"__all__"}, (
        "code belongs in a part, not in the package root"
    )


def test_the_parts_depend_one_way():
    """Topics use the bottom layer only; the bottom layer uses no topic; no part uses the
    package root (that would be a cycle through ``__init__``)."""
    layers = {"constants": set(), "inputs": {"constants"}}
    layout.check_layers(PACKAGE, {**layers, **{topic: BOTTOM for topic in sorted(TOPICS)}})


def test_importing_review_opens_no_store_and_loads_no_prophet_or_papermill():
    layout.check_quiet_import(
        [PACKAGE], unloaded=["prophet", "papermill"], refused=["duckdb.connect"]
    )
