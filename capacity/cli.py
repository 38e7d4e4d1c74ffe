"""The ``capacity`` command. The only place that configures logging.

Exit codes: 0 success; 1 an unexpected failure; 2 bad input (the message names the file,
row or key and the fix); 3 the store is locked by another process (try again later).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import pandas as pd

from capacity.errors import CapacityError, StoreLockedError

__all__ = ["main"]

log = logging.getLogger("capacity")

#: Default paths, relative to the folder the command runs in.
DEFAULT_DB = Path("data/capacity.duckdb")
DEFAULT_DEMO = Path("data/demo")
DEFAULT_CONFIG = DEFAULT_DEMO / "fleet.yaml"

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INPUT = 2
EXIT_LOCKED = 3


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _reports_errors(func: F) -> F:
    """Turn the package's errors into one line on stderr and a documented exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except StoreLockedError as exc:
            _fail(str(exc), EXIT_LOCKED)
        except CapacityError as exc:
            _fail(str(exc), EXIT_INPUT)

    return wrapper  # type: ignore[return-value]


def _db_option(func: F) -> F:
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"DuckDB store file [default: {DEFAULT_DB}].",
    )(func)


def _config_option(required_help: str) -> Callable[[F], F]:
    return click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=required_help,
    )


def _load_config(path: Path | None):
    if path is None:
        return None
    from capacity.config import load_fleet

    return load_fleet(path)


def _reading_store(db: Path | None):
    """Open the store for reading; without --db, fall back to the demo store (built once)."""
    from capacity.store import Store

    if db is None:
        db = DEFAULT_DB
        if not db.exists():
            from capacity.demo import build_demo_store

            click.echo(
                f"No store at {db}: building the demo store from {DEFAULT_DEMO}/ ...", err=True
            )
            build_demo_store(db, DEFAULT_DEMO)
    return Store(db, read_only=True)


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "  (none)"
    shown = frame.copy()
    for column in shown.columns:
        if isinstance(shown[column].dtype, pd.DatetimeTZDtype):
            shown[column] = shown[column].dt.strftime("%Y-%m-%d %H:%M")
    return shown.to_string(index=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="capacity")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Capacity planning and predictive scaling for LifeVerse's online services."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.command()
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the demo fleet into.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--days",
    type=click.IntRange(min=28),
    default=420,
    show_default=True,
    help="Days of hourly telemetry.",
)
@_reports_errors
def demo(out: Path, seed: int, days: int) -> None:
    """Write the deterministic LifeVerse demo fleet (telemetry, calendar, fleet config, logs)."""
    from capacity.demo import generate_demo

    files = generate_demo(out, seed=seed, days=days)
    for name, path in files.items():
        click.echo(f"{name:<12} {path}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_db_option
@click.option(
    "--format",
    "layout",
    type=click.Choice(["auto", "long", "wide"]),
    default="auto",
    show_default=True,
    help="Long (ts, region, service, metric, value) or wide.",
)
@click.option(
    "--tz",
    default=None,
    help="Time zone of naive timestamps (e.g. UTC); without it they are refused.",
)
@_config_option("Fleet YAML; when given, regions and services must be ones it names.")
@_reports_errors
def ingest(
    files: tuple[Path, ...], db: Path | None, layout: str, tz: str | None, config: Path | None
) -> None:
    """Load telemetry files (CSV, gzip CSV, Parquet) into the store, in one transaction."""
    from capacity.store import Store

    fleet = _load_config(config)
    with Store(db or DEFAULT_DB) as store:
        reports = store.ingest(files, layout=layout, tz=tz, fleet=fleet)  # type: ignore[arg-type]
    for report in reports:
        click.echo(report.describe())


@cli.group()
def events() -> None:
    """The live-ops calendar."""


@events.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_db_option
@click.option("--tz", default=None, help="Time zone of naive times in the calendar.")
@_config_option("Fleet YAML; when given, event regions must be ones it names.")
@_reports_errors
def events_import(
    files: tuple[Path, ...], db: Path | None, tz: str | None, config: Path | None
) -> None:
    """Import live-ops calendars (CSV, YAML or iCalendar .ics) into the store."""
    from capacity.store import Store

    fleet = _load_config(config)
    with Store(db or DEFAULT_DB) as store:
        report = store.import_events(files, tz=tz, fleet=fleet)
    click.echo(report.describe())


@cli.command()
@_db_option
@click.option("--now", default=None, help="Show events ahead of this time [default: now].")
@click.option("--ahead", default="28d", show_default=True, help="How far ahead to list events.")
@click.option("--by-metric", is_flag=True, help="One row per metric instead of per service.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@_reports_errors
def status(db: Path | None, now: str | None, ahead: str, by_metric: bool, fmt: str) -> None:
    """Summarise the store: per series its span, rows, gaps and last load; events ahead."""
    with _reading_store(db) as store:
        series, upcoming = store.status(now=now, ahead=ahead)
        path = store.path
    if fmt == "json":
        payload = {
            "store": str(path),
            "series": series.to_dict(orient="records"),
            "events_ahead": upcoming.to_dict(orient="records"),
        }
        click.echo(json.dumps(payload, default=_json_default, indent=2))
        return
    if not by_metric and not series.empty:
        series = series.groupby(["region", "service"], as_index=False).agg(
            metrics=("metric", "count"),
            first_ts=("first_ts", "min"),
            last_ts=("last_ts", "max"),
            rows=("rows", "sum"),
            missing_hours=("missing_hours", "max"),
            gaps=("gaps", "max"),
            last_loaded_at=("last_loaded_at", "max"),
        )
    click.echo(f"Store: {path}")
    click.echo(f"\nTelemetry ({len(series)} {'series' if by_metric else 'region/services'}):")
    click.echo(_table(series.drop(columns=["last_load_id"], errors="ignore")))
    click.echo(f"\nEvents in the next {ahead} ({len(upcoming)}):")
    columns = ["start_ts", "end_ts", "kind", "name", "regions", "expected_uplift"]
    shown = upcoming.loc[:, columns].assign(regions=upcoming["regions"].map(", ".join))
    click.echo(_table(shown))


def main() -> None:
    """Entry point of the ``capacity`` console script."""
    cli(prog_name="capacity")
