"""What every command of ``capacity`` shares: default paths, exit codes, turning the package's
errors into one line and an exit code, the options several commands take, opening the store,
and printing tables."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import pandas as pd

from capacity.errors import (
    CapacityError,
    ParameterError,
    PlanExistsError,
    PlanFailedError,
    PlanLockedError,
    ResourceError,
    SourceUnavailableError,
    StoreLockedError,
)

if TYPE_CHECKING:
    from capacity.config import FleetConfig
    from capacity.store import Store

log = logging.getLogger("capacity")

#: Default paths, relative to the folder the command runs in.
DEFAULT_DB = Path("data/capacity.duckdb")
DEFAULT_DEMO = Path("data/demo")
DEFAULT_CONFIG = DEFAULT_DEMO / "fleet.yaml"
DEFAULT_OUT = Path("forecasts")
#: The plan notebook of the repository the package is installed from (``pip install -e``),
#: wherever the command runs.
DEFAULT_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "weekly_capacity_plan.ipynb"

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_LOCKED = 3
EXIT_UNAVAILABLE = 4
#: ``capacity plan`` made no plan: the week has one already (not bad input, not a failure).
EXIT_PLANNED = 5


class UserPath(click.Path):
    """``click.Path`` that reads a leading ``~`` as the home folder, as ``Store`` and
    ``load_fleet`` do: the shell does not expand it in ``--db=~/capacity.duckdb`` or in a
    systemd ``ExecStart=`` line, and taken literally it named a folder called ``~``."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            value = os.path.expanduser(value)
        elif isinstance(value, Path):
            value = value.expanduser()
        return super().convert(value, param, ctx)


def _check_jobs(jobs: int | None) -> None:
    """Refuse a ``--jobs`` above :func:`capacity.parallel.max_jobs` before any work."""
    from capacity.parallel import check_jobs

    if jobs is not None:
        check_jobs(jobs, "--jobs")


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _reports_errors(func: F) -> F:
    """Turn the package's errors into one line on stderr and a documented exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (StoreLockedError, PlanLockedError) as exc:
            _fail(str(exc), EXIT_LOCKED)
        except (PlanFailedError, ResourceError) as exc:
            _fail(str(exc), EXIT_FAILED)
        except SourceUnavailableError as exc:
            _fail(str(exc), EXIT_UNAVAILABLE)
        except PlanExistsError as exc:  # nothing wrong: a note, not an error
            click.echo(f"note: {exc}", err=True)
            if exc.report is not None:  # the published plan's, for a wrapper that mails it
                click.echo(f"report: {exc.report}")
            sys.exit(EXIT_PLANNED)
        except CapacityError as exc:
            _fail(str(exc), EXIT_INPUT)

    return wrapper  # type: ignore[return-value]


def _db_option(func: F) -> F:
    return click.option(
        "--db",
        "db",
        type=UserPath(dir_okay=False, path_type=Path),
        default=None,
        help=f"DuckDB store file [default: {DEFAULT_DB}].",
    )(func)


def _jobs_option(func: F) -> F:
    """``--jobs``: the worker processes of a command that forecasts the fleet."""
    return click.option(
        "--jobs",
        type=click.IntRange(min=1),
        default=None,
        help="Worker processes [default: the usable cores].",
    )(func)


def _config_option(required_help: str) -> Callable[[F], F]:
    return click.option(
        "--config",
        "config",
        type=UserPath(dir_okay=False, path_type=Path),
        default=None,
        help=required_help,
    )


def _load_config(path: Path | None) -> FleetConfig | None:
    if path is None:
        return None
    from capacity.config import load_fleet
    from capacity.errors import ConfigError

    if not Path(path).exists():  # named as the command line gives it (load_fleet cannot)
        raise ConfigError(
            "file not found", source=str(path), fix="pass --config with an existing fleet YAML"
        )
    return load_fleet(path)


#: ``--tz`` of the commands that read one series from a CSV (``forecast``, ``backtest``).
TZ_HELP = (
    "The series' time zone (IANA, e.g. Europe/Berlin): naive times in the file are its local "
    "times, and the daily and weekly cycles follow its clock through daylight-saving changes "
    "[default: UTC]."
)


def _check_tz(tz: str | None) -> None:
    """Refuse an unknown ``--tz`` in the option's own name, before any file is read."""
    from capacity.records import zone, zone_meant

    problem = (
        "The 'tz' parameter (--tz) must be an IANA time zone such as 'Europe/Berlin' or "
        f"'UTC'. Got {tz!r}"
    )
    try:
        zone(tz, problem=f"{problem}.")
    except ParameterError:
        meant = zone_meant(str(tz))
        if meant is None:
            raise
        zone(tz, problem=f"{problem} (did you mean {meant!r}?).")


def _default_store(db: Path | None) -> Path:
    """The store to use: ``--db``, or the demo store (built from data/demo/ when missing).

    Without ``--db`` a note says which store is read, on every run: a team that forgot the
    option would otherwise get the demo game's answers without a word."""
    if db is not None:
        return db
    if not DEFAULT_DB.exists():
        from capacity.demo import build_demo_store

        click.echo(
            f"No store at {DEFAULT_DB}: building the demo store from {DEFAULT_DEMO}/ ...",
            err=True,
        )
        build_demo_store(DEFAULT_DB, DEFAULT_DEMO)
    else:
        click.echo(f"note: no --db given: using the store {DEFAULT_DB}", err=True)
    return DEFAULT_DB


def _fleet_file(config: Path | None) -> Path:
    """The fleet file to use: ``--config``, or the demo's, said on stderr on every run."""
    if config is not None:
        return config
    click.echo(f"note: no --config given: using the demo fleet file {DEFAULT_CONFIG}", err=True)
    return DEFAULT_CONFIG


def _check_output(output: Path, db: Path | None, config: Path | None, what: str) -> None:
    """Refuse, before any work, an ``--output`` that is the store or the fleet file (their
    defaults when not given), which the write would replace, or that cannot be written."""
    from capacity.files import check_not_an_input, check_writable

    inputs = {
        "--db": DEFAULT_DB if db is None else db,
        "--config": DEFAULT_CONFIG if config is None else config,
    }
    check_not_an_input(output, "--output", inputs, what)
    check_writable(output, "output")


def _reading_store(db: Path | None) -> Store:
    """Open the store for reading; without --db, fall back to the demo store (built once)."""
    from capacity.store import Store

    return Store(_default_store(db), read_only=True)


def _warn_if_stale(
    starts: pd.Timestamp | None, consequence: str, now: pd.Timestamp | None = None
) -> None:
    """Say on stderr when a forecast starts more than a day before ``now`` (the clock unless
    given; old telemetry)."""
    from capacity.weekly import STALE_AFTER

    if starts is None:
        return
    behind = (now if now is not None else pd.Timestamp.now(tz="UTC")) - starts
    if behind <= STALE_AFTER:
        return
    click.echo(
        f"warning: the newest demand telemetry ends {starts:%Y-%m-%d %H:%M} UTC, "
        f"{behind / pd.Timedelta(days=1):.1f} days ago, so {consequence}. Load or pull the "
        "latest telemetry (capacity ingest, capacity pull) first",
        err=True,
    )


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "  (none)"
    shown = frame.copy()
    for column in shown.columns:
        if isinstance(shown[column].dtype, pd.DatetimeTZDtype):
            shown[column] = shown[column].dt.strftime("%Y-%m-%d %H:%M")
    return shown.to_string(index=False)


def _file_events(path: Path | None, region: str | None) -> pd.DataFrame | None:
    """A calendar file's events for one series: those touching ``region`` when given, else
    all of them, with a note on stderr when they span several regions (and then without
    their ``regions`` column, so that the forecaster applies them all as the note says)."""
    from capacity.calendar import events_touching, read_calendar

    if path is None:
        if region is not None:
            raise ParameterError("--region picks events of a calendar: give --events too.")
        return None
    events = read_calendar(path)
    named = sorted({r for regions in events["regions"] for r in regions} - {"all"})
    if region is None:
        if len(named) > 1:
            click.echo(
                f"note: every event of {path.name} applies, whatever its regions "
                f"({', '.join(named)}); pass --region to keep one region's events",
                err=True,
            )
            # applied whole by choice, said above: without its regions, which the
            # forecaster would refuse as several regions' calendars for one series
            return events.drop(columns="regions")
        return events
    if region not in named:
        raise ParameterError(
            f"No event of {path.name} names region {region!r}; its regions are "
            f"{', '.join(named) or 'only all'}.",
            fix="pass one of them with --region (events for all regions always apply)",
        )
    return events_touching(events, region)


def _json_default(value: Any) -> Any:
    """What ``json.dumps`` writes for a value it has no rule for: null for a missing value,
    a time in UTC with ``Z`` (as the CSVs write it), an array's items, else the text."""
    from capacity.units import iso_utc

    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return iso_utc(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


#: Up to this many region/services sized at the hint get a note each; more get one note in
#: all (each one's reason logged at INFO, shown by ``capacity -v``).
HINT_NOTES_EACH = 5


def _safe_loads(store: Store, fleet: FleetConfig) -> pd.DataFrame:
    """The safe load per server of every region/service (:func:`capacity.sizing.safe_loads`);
    :func:`_note_hints` says which the servers asked for rest on the fleet file's hint."""
    from capacity.sizing import safe_loads

    return safe_loads(store, fleet)


def _note_hints(safe: pd.DataFrame, sized: pd.DataFrame) -> None:
    """On stderr, a note for each region/service of ``sized`` whose safe load is the fleet
    file's hint rather than learned, since the servers asked for rest on it (past
    :data:`HINT_NOTES_EACH` of them, one note counting them and naming the first four).

    Parameters
    ----------
    safe : pandas.DataFrame
        :func:`_safe_loads`' rows.
    sized : pandas.DataFrame
        The rows sized (``region, service``, e.g. a forecast's): the pairs with demand
        telemetry. A pair without any is not
        sized at anything: its warning (:func:`capacity.skipped.skipped_warnings`) gives its
        reason, and the other demand metric where the store holds that instead.
    """
    from capacity.texts import first_few, load_text

    wanted = set(sized[["region", "service"]].drop_duplicates().itertuples(index=False, name=None))
    used = safe[[(r, s) in wanted for r, s in zip(safe["region"], safe["service"], strict=True)]]
    hinted = used[used["source"] != "learned"]
    lines = [
        f"{row.region}/{row.service} is sized at the fleet file's safe_load_hint, "
        f"{load_text(row.safe_load)} per server, not a learned value: {row.reason}"
        for row in hinted.itertuples(index=False)
    ]
    if len(lines) <= HINT_NOTES_EACH:
        for line in lines:
            click.echo(f"note: {line}", err=True)
        return
    for line in lines:
        log.info(line)
    names = [f"{row.region}/{row.service}" for row in hinted.itertuples(index=False)]
    click.echo(
        f"note: {len(hinted)} of {len(used)} region/services are sized at the fleet file's "
        f"safe_load_hint, not a learned safe load: {first_few(names, 4)}; run with -v "
        "(capacity -v ...) for each one's reason",
        err=True,
    )
