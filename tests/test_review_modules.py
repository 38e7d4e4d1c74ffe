"""``capacity.review`` is a package: the notebooks import its root, one module per notebook
topic does the work, the parts depend one way (``constants`` and ``inputs`` at the bottom, no
topic module on another, none on the package's own names) and nothing runs at import."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import capacity

PARTS_DIR = Path(capacity.__file__).parent / "review"
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


def _imports(part: Path) -> set[str]:
    """The ``capacity.review`` modules ``part`` imports (``capacity.review`` for the root)."""
    found = set()
    for node in ast.walk(ast.parse(part.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n == "capacity.review" or n.startswith("capacity.review.")}
    return found


def test_the_package_root_exports_what_the_notebooks_and_figures_import():
    from capacity import explore_charts, review

    assert sorted(review.__all__) == sorted(HOMES)
    for name, home in HOMES.items():
        obj = getattr(review, name)
        part = sys.modules[f"capacity.review.{home}"]
        assert getattr(part, name) is obj, name
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__module__ == f"capacity.review.{home}", name
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
    parts = {p.stem for p in PARTS_DIR.glob("*.py")} - {"__init__"}
    assert parts == TOPICS | BOTTOM
    tree = ast.parse((PARTS_DIR / "__init__.py").read_text(encoding="utf-8"))
    defined = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    assert defined == [], "code belongs in a part, not in the package root"
    for part in PARTS_DIR.glob("*.py"):
        assert ast.get_docstring(ast.parse(part.read_text(encoding="utf-8"))), part.name
        assert len(part.read_text(encoding="utf-8").splitlines()) < 400, part.name


def test_the_parts_depend_one_way():
    """Topics use the bottom layer only; the bottom layer uses no topic; no part uses the
    package root (that would be a cycle through ``__init__``)."""
    for part in PARTS_DIR.glob("*.py"):
        if part.stem == "__init__":
            continue
        used = _imports(part)
        assert "capacity.review" not in used, part.name
        allowed = {"capacity.review.constants"} if part.stem in BOTTOM else set()
        if part.stem in TOPICS:
            allowed = {f"capacity.review.{b}" for b in BOTTOM}
        assert used <= allowed, (part.name, used - allowed)


def test_importing_review_opens_no_store_and_loads_no_prophet_or_papermill():
    code = (
        "import sys, duckdb\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('a connection at import')\n"
        "duckdb.connect = refuse\n"
        "import capacity.review\n"
        "heavy = [m for m in ('prophet', 'papermill') if m in sys.modules]\n"
        "print(heavy or 'ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
