"""``capacity.demo`` is a package: callers import its root, one module per part of the
simulation does the work, the parts depend one way (``truth`` at the bottom, ``generate`` at
the top, none on the package's own names) and importing it writes nothing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import capacity

PARTS_DIR = Path(capacity.__file__).parent / "demo"

#: Each part and the parts it may import.
ALLOWED = {
    "truth": set(),
    "holidays": set(),
    "events": {"truth", "holidays"},
    "demand": {"truth", "events"},
    "telemetry": {"truth", "events", "demand"},
    "logs": {"truth", "events"},
    "writers": {"truth", "events", "logs"},
    "fleet_yaml": {"truth"},
    "generate": {"truth", "events", "demand", "telemetry", "logs", "writers", "fleet_yaml"},
}


def _imports(part: Path) -> set[str]:
    """The ``capacity.demo`` parts ``part`` imports (``""`` for the package root)."""
    found = set()
    for node in ast.walk(ast.parse(part.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name == "capacity.demo":
                found.add("")
            elif name.startswith("capacity.demo."):
                found.add(name.removeprefix("capacity.demo."))
    return found


def test_the_package_root_exports_what_callers_import():
    from capacity import demo
    from capacity.demo import demand, events, generate, truth

    assert demo.__all__ == [
        "TRUTH",
        "RegionTruth",
        "ServiceTruth",
        "Truth",
        "build_demo_store",
        "generate_demo",
    ]
    assert demo.generate_demo is generate.generate_demo
    assert demo.build_demo_store is generate.build_demo_store
    assert demo.generate_demo.__module__ == "capacity.demo.generate"
    for name in ("TRUTH", "RegionTruth", "ServiceTruth", "Truth"):
        assert getattr(demo, name) is getattr(truth, name), name
    assert demo.Truth.__module__ == "capacity.demo.truth"
    assert demo.TRUTH.safe_load("game") == truth.TRUTH.services["game"].safe_load
    # tests/test_demo.py reads these two by the names they had in the one-module demo
    assert demo._calendar is events.calendar
    assert demo._event_multiplier is demand.event_multiplier


def test_the_parts_and_their_one_way_imports():
    parts = {p.stem for p in PARTS_DIR.glob("*.py")} - {"__init__"}
    assert parts == set(ALLOWED)
    for part in sorted(PARTS_DIR.glob("*.py")):
        if part.stem == "__init__":
            continue
        used = _imports(part)
        assert "" not in used, f"{part.name} imports the package root: a cycle"
        assert used <= ALLOWED[part.stem], (part.name, used - ALLOWED[part.stem])
        assert ast.get_docstring(ast.parse(part.read_text(encoding="utf-8"))), part.name
        assert len(part.read_text(encoding="utf-8").splitlines()) < 400, part.name


def test_the_package_root_holds_no_simulation():
    tree = ast.parse((PARTS_DIR / "__init__.py").read_text(encoding="utf-8"))
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    assert defined == []


def test_importing_the_demo_writes_nothing(tmp_path):
    code = "import capacity.demo, capacity.demo.generate\nprint('ok')\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "ok"
    assert list(tmp_path.iterdir()) == []
