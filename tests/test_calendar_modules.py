"""The live-ops calendar reader is a package: ``capacity.calendar`` holds the five reading
functions and the names callers import, its modules (``capacity.calendar.ics``, ``.tabular``,
``.events``, ...) do the work, import one another one way (none uses the package's own names)
and do nothing at import. A package named ``calendar`` must not hide the standard library's."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import capacity

PARTS_DIR = Path(capacity.__file__).parent / "calendar"

#: Each part and the parts it may import: a part imports only parts listed before it.
LAYERS = {
    "fields": set(),
    "times": set(),
    "events": {"fields", "times"},
    "tabular": {"fields"},
    "ics": {"fields", "times"},
    "formats": {"events", "ics", "tabular", "times"},
}


def _imported_parts(path: Path) -> set[str]:
    """The parts of the package a module imports (``from capacity.calendar.x import ...``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "capacity.calendar":
                found.add("(the package root)")
            elif node.module.startswith("capacity.calendar."):
                found.add(node.module.removeprefix("capacity.calendar."))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "capacity.calendar" or alias.name.startswith("capacity.calendar."):
                    found.add(alias.name)
    return found


def test_the_package_has_one_module_per_concern():
    parts = {p.stem for p in PARTS_DIR.glob("*.py")} - {"__init__"}
    assert parts == set(LAYERS)
    for stem in LAYERS:
        text = (PARTS_DIR / f"{stem}.py").read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), f"{stem}.py says what it holds"
        assert len(text.splitlines()) < 400, f"{stem}.py stays small"


def test_capacity_calendar_exports_what_callers_import():
    from capacity import calendar

    assert calendar.__all__ == [
        "events_touching",
        "read_calendar",
        "read_calendar_files",
        "read_calendars",
        "validate_events",
    ]
    for name in calendar.__all__:  # the API stays in the package root, under its own name
        assert getattr(calendar, name).__module__ == "capacity.calendar", name
    homes = {
        "MAX_UPLIFT": "events",
        "SUPPORTED_EXTENSIONS": "formats",
        "ICS_DEFAULT_HORIZON_DAYS": "ics",
    }
    for name, home in homes.items():
        part = importlib.import_module(f"capacity.calendar.{home}")
        assert getattr(calendar, name) is getattr(part, name), name
    assert calendar.MAX_UPLIFT == 20.0 and calendar.ICS_DEFAULT_HORIZON_DAYS == 400
    assert calendar.SUPPORTED_EXTENSIONS == (".csv", ".yaml", ".yml", ".ics")


def test_the_parts_import_one_another_one_way():
    """A part imports only the parts below it, never the package root: a part taking a name
    of ``capacity.calendar`` back, or two parts importing each other, would be a cycle."""
    for stem, allowed in LAYERS.items():
        used = _imported_parts(PARTS_DIR / f"{stem}.py")
        assert used <= allowed, f"{stem}.py imports {sorted(used - allowed)}"
    order = list(LAYERS)
    for stem, allowed in LAYERS.items():
        assert all(order.index(below) < order.index(stem) for below in allowed), stem
    root = _imported_parts(PARTS_DIR / "__init__.py")
    assert root <= set(LAYERS), root


def test_callers_import_only_the_package_root():
    """``capacity.calendar`` is the one import: no module outside the package reaches into a
    part, so the parts may move again without touching the store, the CLI or the event check."""
    root = Path(capacity.__file__).parent
    callers = [p for p in root.rglob("*.py") if PARTS_DIR not in p.parents]
    assert callers
    for path in callers:
        used = _imported_parts(path)
        assert not used - {"(the package root)"}, f"{path.name} imports {sorted(used)}"


def test_the_standard_library_calendar_is_still_the_one_imported():
    """With ``capacity.calendar`` imported, ``import calendar`` is still the standard library's,
    and what uses it (pandas, holidays, the iCalendar readers) imports and works."""
    code = (
        "import capacity.calendar, capacity.calendar.ics, capacity.forecast\n"
        "import calendar, holidays, icalendar, pandas, recurring_ical_events\n"
        "assert calendar is not capacity.calendar\n"
        "print(calendar.monthrange(2026, 2)[1], holidays.country_holidays('DE', years=2026)"
        ".get('2026-12-25'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split(maxsplit=1) == ["28", "Christmas Day\n"]


def test_importing_the_calendar_loads_no_icalendar_library():
    """The iCalendar libraries are loaded by the first ``.ics`` read, not at import."""
    code = (
        "import sys\n"
        "import capacity.calendar\n"
        + "".join(f"import capacity.calendar.{stem}\n" for stem in LAYERS)
        + "print('icalendar' in sys.modules, 'recurring_ical_events' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
