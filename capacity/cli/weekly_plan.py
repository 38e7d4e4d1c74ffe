"""The weekly run: ``plan`` makes and publishes the week's capacity plan."""

from __future__ import annotations

import time
from pathlib import Path

import click

from capacity.cli.common import (
    DEFAULT_CONFIG,
    DEFAULT_NOTEBOOK,
    DEFAULT_OUT,
    UserPath,
    _check_jobs,
    _config_option,
    _db_option,
    _default_store,
    _fleet_file,
    _load_config,
    _reports_errors,
)
from capacity.texts import seconds_text
from capacity.units import parse_duration


@click.command()
@click.option("--week", default=None, help="ISO week such as 2026-W48 [default: this week].")
@_db_option
@_config_option(f"Fleet YAML [default: {DEFAULT_CONFIG}].")
@click.option(
    "--out",
    type=UserPath(file_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Where plans are published, one folder per week.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Run again for a week that has a plan (the earlier one moves to history/); without "
    "it, such a week is left as it is and the run exits 5.",
)
@click.option("--horizon", default="28d", show_default=True, help="How far ahead to plan.")
@click.option(
    "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes [default: 2]."
)
@click.option("--no-backtest", is_flag=True, help="Skip the one-week backtest section.")
@click.option(
    "--wait",
    default=None,
    help="How long to wait for a store or plans folder another process holds before giving up "
    "with exit 3 (e.g. 15m for a cron job that may meet an analyst's notebook; 0 or left out: "
    "not at all).",
)
@click.option(
    "--notebook",
    type=UserPath(dir_okay=False, path_type=Path),
    default=DEFAULT_NOTEBOOK,
    help="The plan notebook [default: the repository's notebooks/weekly_capacity_plan.ipynb].",
)
@_reports_errors
def plan(
    week: str | None,
    db: Path | None,
    config: Path | None,
    out: Path,
    force: bool,
    horizon: str,
    jobs: int | None,
    no_backtest: bool,
    wait: str | None,
    notebook: Path,
) -> None:
    """Run the weekly capacity plan and publish it under OUT/<week>/."""
    started = time.monotonic()
    _check_jobs(jobs)
    from capacity.plan import run_plan
    from capacity.weekly import parse_week

    if week is not None:
        parse_week(week)  # a malformed week fails before the demo store is built
    parse_duration(horizon, "--horizon")  # named by its option, before the store's notes
    config = _fleet_file(config)
    _load_config(config)  # a missing --config is named as an option
    if wait is not None and not parse_duration(wait, "--wait", allow_zero=True):
        wait = None  # --wait 0 (a wrapper's ${WAIT:-0}): do not wait, as without --wait
    result = run_plan(
        week=week,
        db=_default_store(db),
        config=config,
        out=out,
        notebook=notebook,
        force=force,
        horizon=horizon,
        jobs=jobs,
        backtest=not no_backtest,
        wait=wait,
        say=lambda line: click.echo(line, err=True),
    )
    if result.status == "identical":
        click.echo(f"{result.week}: unchanged; the published plan is {result.folder}/")
    else:
        click.echo(f"{result.week}: plan {result.status} in {result.folder}/")
        if result.previous is not None:
            click.echo(f"the earlier plan is kept in {result.previous}/")
    click.echo(f"report: {result.report.resolve()}")  # absolute: a cron job runs anywhere
    took = result.timing_summary()
    click.echo(
        f"took {seconds_text(time.monotonic() - started)}" + (f": {took}" if took else ""), err=True
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
