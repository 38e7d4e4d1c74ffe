"""The command line is a package: ``capacity.cli`` holds the group, ``main`` and the names other
code imports; its modules hold the commands by user journey, depend one way (``app`` on the
command modules, those on ``common``; none on the package's own names) and do nothing at
import beyond defining the commands."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import click
from click.testing import CliRunner

from tests import package_layout as layout

PACKAGE = "capacity.cli"
PARTS_DIR = layout.package_dir(PACKAGE)
REPOSITORY = Path(__file__).resolve().parents[1]

#: Each command of ``capacity``, in the order the group holds them, and its module.
COMMANDS = {
    "demo": "data",
    "ingest": "data",
    "pull": "data",
    "events": "data",
    "incidents": "data",
    "deploys": "data",
    "kpis": "summaries",
    "status": "summaries",
    "forecast": "forecasting",
    "forecast-fleet": "forecasting",
    "check-event": "planning",
    "recommend": "planning",
    "schedule": "scheduling",
    "backtest": "backtesting",
    "plan": "weekly_plan",
}
COMMAND_MODULES = set(COMMANDS.values())


def test_capacity_cli_exports_what_callers_import():
    import capacity.cli as package
    from capacity.cli import DEFAULT_NOTEBOOK, _warn_if_stale, app, cli, common, main

    assert package.__all__ == ["main"]
    assert cli is app.cli and main is app.main and _warn_if_stale is common._warn_if_stale
    assert DEFAULT_NOTEBOOK == REPOSITORY / "notebooks" / "weekly_capacity_plan.ipynb"
    assert DEFAULT_NOTEBOOK.is_file()
    # the console script names the package's main
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"] == {"capacity": "capacity.cli:main"}
    # the names the old single module had, each the one its module defines
    for name, module in {
        "DEFAULT_DB": "common",
        "DEFAULT_CONFIG": "common",
        "EXIT_PLANNED": "common",
        "_reports_errors": "common",
        "_safe_loads": "common",
        "EXIT_TERMINATED": "app",
        "_STOPPED_BY": "app",
        "_Commands": "app",
        "_aws_actions": "scheduling",
        "_schedule_hours": "scheduling",
        "_file_import": "data",
    }.items():
        assert getattr(package, name) is getattr(getattr(package, module), name), name


def test_every_command_is_registered_once_in_the_old_order():
    from capacity import cli as package
    from capacity.cli import cli

    assert list(cli.commands) == list(COMMANDS)
    for name, module in COMMANDS.items():
        command = cli.commands[name]
        assert command.callback.__module__ == f"capacity.cli.{module}", name
        assert getattr(package, command.callback.__name__) is command, name
    for group in ("events", "incidents", "deploys"):
        assert isinstance(cli.commands[group], click.Group)
        assert list(cli.commands[group].commands) == ["import"]
    # ``capacity --help`` lists them by name, one a line
    listed = CliRunner().invoke(cli, ["--help"]).output.split("Commands:\n")[1].splitlines()
    assert [line.split()[0] for line in listed if line.startswith("  ") and line[2] != " "] == (
        sorted(COMMANDS)
    )


def test_the_package_is_split_by_journey_and_imports_one_way():
    """``app`` adds the commands; command modules use only ``common``; ``common`` uses no
    other part; no part takes a name from the package's ``__init__`` (a cycle), and the
    ``__init__`` defines nothing of its own (every name is a part's)."""
    parts = {"app", "common"} | COMMAND_MODULES
    layout.check_small_documented_parts(PACKAGE, parts, 500, besides=("__init__", "__main__"))
    layers = {
        "common": set(),
        **{stem: {"common"} for stem in sorted(COMMAND_MODULES)},
        "app": COMMAND_MODULES,
    }
    # ``from capacity.cli import common`` is the part ``common``, any other name the root
    layout.check_layers(PACKAGE, layers, parts_from_root=True)
    for stem, allowed in layers.items():  # each uses every part it may, too
        assert (
            layout.imported_parts(PARTS_DIR / f"{stem}.py", PACKAGE, parts_from_root=True)
            == allowed
        ), stem
    assert layout.root_own_names(PACKAGE) == {"__all__"}, (
        "capacity/cli/__init__.py defines code: keep it in a module of the package"
    )


def test_python_m_capacity_cli_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "capacity.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("capacity, version ")
