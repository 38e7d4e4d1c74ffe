"""The live-ops calendar reader is a package: ``capacity.calendar`` holds the five reading
functions and the names callers import, its modules (``capacity.calendar.ics``, ``.tabular``,
``.events``, ...) do the work, import one another one way (none uses the package's own names)
and do nothing at import. A package named ``calendar`` must not hide the standard library's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import capacity
from tests import package_layout as layout

PACKAGE = "capacity.calendar"
PARTS_DIR = layout.package_dir(PACKAGE)

#: Each part and the parts it may import: a part imports only parts listed before it.
LAYERS = {
    "fields": set(),
    "times": set(),
    "events": {"fields", "times"},
    "tabular": {"fields"},
    "ics": {"fields", "times"},
    "formats": {"events", "ics", "tabular", "times"},
}


def test_the_package_has_one_module_per_concern():
    layout.check_small_documented_parts(PACKAGE, LAYERS, 400)


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
    layout.check_homes(
        PACKAGE,
        {
            "MAX_UPLIFT": "events",
            "SUPPORTED_EXTENSIONS": "formats",
            "ICS_DEFAULT_HORIZON_DAYS": "ics",
        },
    )
    assert calendar.MAX_UPLIFT == 20.0 and calendar.ICS_DEFAULT_HORIZON_DAYS == 400
    assert calendar.SUPPORTED_EXTENSIONS == (".csv", ".yaml", ".yml", ".ics")


def test_the_parts_import_one_another_one_way():
    """A part imports only the parts below it, never the package root: a part taking a name
    of ``capacity.calendar`` back, or two parts importing each other, would be a cycle."""
    layout.check_layers(PACKAGE, LAYERS)
    root = layout.imported_parts(PARTS_DIR / "__init__.py", PACKAGE)
    assert root <= set(LAYERS), root


def test_callers_import_only_the_package_root():
    """``capacity.calendar`` is the one import: no module outside the package reaches into a
    part, so the parts may move again without touching the store, the CLI or the event check."""
    root = Path(capacity.__file__).parent
    layout.check_callers_use_the_root(
        PACKAGE, [p for p in root.rglob("*.py") if PARTS_DIR not in p.parents]
    )


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
    layout.check_quiet_import(
        [PACKAGE, *(f"{PACKAGE}.{stem}" for stem in LAYERS)],
        unloaded=["icalendar", "recurring_ical_events"],
    )
