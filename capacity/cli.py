"""The ``capacity`` command. The only place that configures logging.

Exit codes: 0 success; 1 an unexpected failure, a failed plan, or a fit its machine failed
(disk full: one line, nothing stored); 2 bad input (the message names the file,
row or key and the fix); 3 the store, or the plans folder, is locked by another process (try
again later); 4 a telemetry server (Prometheus) or the Dask scheduler (``--dask-scheduler``)
is unreachable, failing or (Dask) without workers (try again later);
5 ``capacity plan`` made no plan: the week already has one (add ``--force``); 130 stopped by
Ctrl-C (SIGINT) and 143 by SIGTERM (nothing unfinished kept, one line on stderr says so).
"""

from __future__ import annotations

import json
import logging
import math
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    the_parameter,
)
from capacity.units import parse_duration, parse_timestamp

if TYPE_CHECKING:
    from capacity.config import FleetConfig
    from capacity.store import Store

__all__ = ["main"]

log = logging.getLogger("capacity")

#: Default paths, relative to the folder the command runs in.
DEFAULT_DB = Path("data/capacity.duckdb")
DEFAULT_DEMO = Path("data/demo")
DEFAULT_CONFIG = DEFAULT_DEMO / "fleet.yaml"
DEFAULT_OUT = Path("forecasts")
#: The plan notebook of the repository the package is installed from (``pip install -e``),
#: wherever the command runs.
DEFAULT_NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks/weekly_capacity_plan.ipynb"

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_LOCKED = 3
EXIT_UNAVAILABLE = 4
#: ``capacity plan`` made no plan: the week has one already (not bad input, not a failure).
EXIT_PLANNED = 5


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
            sys.exit(EXIT_PLANNED)
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


def _check_tz(tz: str | None) -> None:
    """Refuse an unknown ``--tz`` in the option's own name, before any file is read."""
    from capacity.records import zone

    zone(
        tz,
        problem="The 'tz' parameter (--tz) must be an IANA time zone such as 'Europe/Berlin' or "
        f"'UTC'. Got {tz!r}.",
    )


def _default_store(db: Path | None) -> Path:
    """The store to use: ``--db``, or the demo store (built from data/demo/ when missing)."""
    if db is not None:
        return db
    if not DEFAULT_DB.exists():
        from capacity.demo import build_demo_store

        click.echo(
            f"No store at {DEFAULT_DB}: building the demo store from {DEFAULT_DEMO}/ ...",
            err=True,
        )
        build_demo_store(DEFAULT_DB, DEFAULT_DEMO)
    return DEFAULT_DB


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
    all of them, with a note on stderr when they span several regions."""
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
        return events
    if region not in named:
        raise ParameterError(
            f"No event of {path.name} names region {region!r}; its regions are "
            f"{', '.join(named) or 'only all'}.",
            fix="pass one of them with --region (events for all regions always apply)",
        )
    return events_touching(events, region)


def _json_default(value: Any) -> Any:
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


#: The exit status of a run stopped by SIGTERM, as a shell reports a process it killed.
EXIT_TERMINATED = 128 + signal.SIGTERM
#: The exit status of a run stopped by Ctrl-C (SIGINT), as a shell reports it.
EXIT_INTERRUPTED = 128 + signal.SIGINT
#: The signals :func:`main` has turned into a KeyboardInterrupt (SIGTERM, SIGINT), in order.
_STOPPED_BY: list[int] = []


def _stopped_status() -> int:
    """The exit status of a run stopped by a signal: 128 plus the first signal's number."""
    return 128 + _STOPPED_BY[0]


@contextmanager
def _leaving_when_stopped() -> Iterator[None]:
    """Turn the KeyboardInterrupt that :func:`main`'s signal handler raised into SystemExit,
    once it has done its work (workers shut down, stores closed), before click's standalone
    mode takes it for a bare Ctrl-C and prints "Aborted!" and exits 1, which a wrapper could
    not tell from a failed run."""
    try:
        yield
    except KeyboardInterrupt:
        if _STOPPED_BY:
            raise SystemExit(_stopped_status()) from None
        raise


class _UsageError(click.UsageError):
    """A mistyped command line, said in one line as every other bad input is."""

    def show(self, file: Any = None) -> None:
        where = self.ctx.command_path if self.ctx is not None else "capacity"
        click.echo(f"error: {self.format_message()} Fix: see '{where} --help'.", err=True)


@contextmanager
def _usage_in_one_line() -> Iterator[None]:
    """Click's usage errors (an unknown option, a value out of range) as one ``error:`` line,
    in place of click's usage, hint and message on three."""
    try:
        yield
    except (_UsageError, click.exceptions.NoArgsIsHelpError):  # bare `capacity`: its help
        raise
    except click.UsageError as exc:
        raise _UsageError(exc.format_message(), exc.ctx) from None


class _Commands(click.Group):
    """The ``capacity`` group: a run stopped by a signal leaves without click's "Aborted!",
    and a mistyped command line gets one line, as other bad input does."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _leaving_when_stopped(), _usage_in_one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _leaving_when_stopped(), _usage_in_one_line():
            return super().invoke(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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

    _check_tz(tz)
    fleet = _load_config(config)
    with Store(db or DEFAULT_DB) as store:
        reports = store.ingest(files, layout=layout, tz=tz, fleet=fleet)  # type: ignore[arg-type]
    for report in reports:
        click.echo(report.describe())


@cli.command()
@_db_option
@_config_option(f"Fleet YAML with a 'prometheus' section [default: {DEFAULT_CONFIG}].")
@click.option("--url", default=None, help="Prometheus base URL [default: prometheus.url].")
@click.option(
    "--since",
    default=None,
    help="Start, ISO [default: the oldest of the pulled metrics' newest stored times; a metric "
    "with none starts 112 days before --until].",
)
@click.option(
    "--until",
    default=None,
    help="End, ISO, taken on to the last step of its hour (a pull covers whole hours) "
    "[default: now].",
)
@_reports_errors
def pull(
    db: Path | None, config: Path | None, url: str | None, since: str | None, until: str | None
) -> None:
    """Pull telemetry from Prometheus's HTTP API into the store, in one transaction."""
    from capacity.columns import DEMAND_METRICS
    from capacity.config import load_fleet
    from capacity.errors import ConfigError
    from capacity.prometheus import first_pulls, pull_notes, pull_window
    from capacity.prometheus import pull as pull_rows
    from capacity.store import Store

    path = config or DEFAULT_CONFIG
    fleet = load_fleet(path)
    if fleet.prometheus is None:
        raise ConfigError(
            "has no 'prometheus' section",
            source=str(path),
            fix="add one with the server's url and a query per metric (see the README)",
        )
    source = fleet.prometheus
    store_path = db or DEFAULT_DB
    newest = {}
    if store_path.exists():  # read, then let go: other commands may use the store meanwhile
        with Store(store_path, read_only=True) as store:
            newest = store.newest(source.queries)
    start, end, step = pull_window(source, newest=newest, start=since, end=until)
    # a metric with no rows yet goes back on its own, not every metric with it
    starts = {} if since is not None else first_pulls(source, newest=newest, start=start, end=end)
    got = pull_rows(
        source,
        start=start,
        end=end,
        step=step,
        url=url,
        config_source=str(path),
        starts=starts,
    )
    if got.rows.empty:
        # the wrong server, a renamed metric, a wiped or young TSDB, a range it no longer
        # keeps: a person must look, and a plan that followed would rest on old telemetry
        raise ConfigError(
            f"no query returned a sample from {min([start, *starts.values()]):%Y-%m-%d %H:%M} "
            f"to {end:%Y-%m-%d %H:%M} "
            f"UTC at {got.url} ({', '.join(source.queries)}); nothing was loaded",
            source=str(path),
            where="key 'prometheus.queries'",
            fix="check that prometheus.url (or --url) is the server that holds the telemetry "
            "and that the queries' metrics exist there (try them in its expression browser); "
            "for a range the server no longer keeps, pass --since and --until",
        )
    with Store(store_path) as store:
        report = store.ingest_frame(
            got.rows,
            source=f"prometheus {got.url}",
            fleet=fleet,
            fix="correct that metric's query under prometheus.queries in the fleet file "
            "(filter the series it returns, or clamp its values)",
        )
        stored = store.stored_series(DEMAND_METRICS)
    plural = "" if got.requests == 1 else "s"
    click.echo(
        f"Pulled {', '.join(source.queries)} from {got.url}: {start:%Y-%m-%d %H:%M} to "
        f"{end:%Y-%m-%d %H:%M} UTC every {source.step} ({got.requests} request{plural})"
        + (
            f"; {', '.join(starts)}, with nothing stored yet, from "
            f"{min(starts.values()):%Y-%m-%d %H:%M}"
            if starts
            else ""
        )
    )
    click.echo(report.describe())
    for line in pull_notes(got, fleet, stored=stored):
        click.echo(line, err=True)


@cli.group()
def events() -> None:
    """The live-ops calendar."""


def _file_import(kind: str, description: str) -> Callable[..., None]:
    """An ``import`` command that loads ``kind`` files into the store in one transaction."""

    @click.argument(
        "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
    )
    @_db_option
    @click.option("--tz", default=None, help="Time zone of naive times in the files.")
    @_config_option("Fleet YAML; when given, regions and services must be ones it names.")
    @_reports_errors
    def command(
        files: tuple[Path, ...], db: Path | None, tz: str | None, config: Path | None
    ) -> None:
        from capacity.store import Store

        _check_tz(tz)
        fleet = _load_config(config)
        with Store(db or DEFAULT_DB) as store:
            method = {
                "events": store.import_events,
                "incidents": store.import_incidents,
                "deploys": store.import_deploys,
            }[kind]
            report = method(files, tz=tz, fleet=fleet)
        click.echo(report.describe())
        for note in report.notes:
            click.echo(note, err=True)

    command.__doc__ = description
    return command


@cli.group()
def incidents() -> None:
    """The incident log."""


@cli.group()
def deploys() -> None:
    """The deploy log."""


events.command("import")(
    _file_import(
        "events", "Import live-ops calendars (CSV, YAML or iCalendar .ics) into the store."
    )
)
incidents.command("import")(
    _file_import("incidents", "Import incident logs (CSV or YAML) into the store.")
)
deploys.command("import")(
    _file_import("deploys", "Import deploy logs (CSV or YAML) into the store.")
)


@cli.command()
@_db_option
@_config_option(f"Fleet YAML [default: {DEFAULT_CONFIG}].")
@click.option("--since", default=None, help="Window start, ISO [default: 28 days before --until].")
@click.option(
    "--until", default=None, help="Window end, ISO [default: the hour after the newest error_rate]."
)
@click.option(
    "--by",
    default="region,service",
    show_default=True,
    help="Group by: region,service, region, service, or '' for the fleet only.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@_reports_errors
def kpis(
    db: Path | None, config: Path | None, since: str | None, until: str | None, by: str, fmt: str
) -> None:
    """Availability, error budget and burn, MTTR, MTTD, MTBF and change failure rate."""
    from capacity import resilience

    resilience.group_keys(by, name="--by")  # refused in the option's own name, before reading
    fleet = _load_config(config or DEFAULT_CONFIG)
    with _reading_store(db) as store:
        if until is None:
            newest = store.con.execute(
                "SELECT max(ts) FROM telemetry WHERE metric = 'error_rate'"
            ).fetchall()[0][0]
            end = (
                pd.Timestamp(newest).tz_convert("UTC").floor("h") + pd.Timedelta(hours=1)
                if newest is not None
                else pd.Timestamp.now(tz="UTC").floor("h")
            )
        else:
            end = parse_timestamp(until, "--until")
        start = (
            parse_timestamp(since, "--since") if since is not None else end - pd.Timedelta(days=28)
        )
        if until is None and start >= end:
            raise ParameterError(
                f"--since {start:%Y-%m-%d %H:%M} UTC is not before {end:%Y-%m-%d %H:%M} UTC, "
                "where the window ends by default (the hour after the newest error_rate "
                "telemetry). Pass --until too, or an earlier --since."
            )
        if start >= end:
            raise ParameterError(
                f"The 'until' parameter (--until) must be after --since. Got --since "
                f"{start:%Y-%m-%d %H:%M} UTC, --until {end:%Y-%m-%d %H:%M} UTC."
            )
        rates = store.series(
            metric="error_rate",
            region=list(fleet.regions),
            service=list(fleet.services),
            start=min(start, end - pd.Timedelta(days=3)),
            end=end,
        )
        incidents, left_incidents = resilience.within_fleet(store.incidents(), fleet)
        deploys, left_deploys = resilience.within_fleet(store.deploys(), fleet)
        frame = resilience.kpis(incidents, deploys, rates, fleet, since=start, until=end, by=by)
    left_out = sorted(set(left_incidents) | set(left_deploys))
    if left_out:
        click.echo(
            f"note: incidents and deploys of {', '.join(left_out)} are left out: the fleet "
            "file does not plan them.",
            err=True,
        )
    if fmt == "json":
        click.echo(json.dumps(resilience.kpis_json(frame), indent=2, allow_nan=False))
        return
    click.echo(f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    click.echo(_table(frame))


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
    lagging = []
    if not by_metric and not series.empty:
        # a row per region/service shows its newest metric's end: name the metrics behind it
        newest = series.groupby(["region", "service"])["last_ts"].transform("max")
        for (_, row), ahead_of in zip(series.iterrows(), newest - series["last_ts"], strict=True):
            if ahead_of > pd.Timedelta(hours=1):
                lagging.append(
                    f"note: {row['region']}/{row['service']} {row['metric']} ends "
                    f"{row['last_ts']:%Y-%m-%d %H:%M} UTC, {ahead_of / pd.Timedelta(hours=1):.0f} "
                    "hours before its newest metric (--by-metric shows each)"
                )
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
    for line in lagging:
        click.echo(line, err=True)
    click.echo(f"\nEvents in the next {ahead} ({len(upcoming)}):")
    columns = ["event_id", "start_ts", "end_ts", "kind", "name", "regions", "expected_uplift"]
    shown = upcoming.loc[:, columns].assign(regions=upcoming["regions"].map(", ".join))
    click.echo(_table(shown))


@cli.command()
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Any CSV file.",
)
@click.option("--time-column", required=True, help="The column holding the time.")
@click.option("--value-column", required=True, help="The column holding the value.")
@click.option(
    "--train-end",
    required=True,
    help="Train on rows strictly before this ISO time; the forecast starts here.",
)
@click.option("--horizon", required=True, help="How far ahead, e.g. 168h or 7d.")
@click.option(
    "--quantiles",
    default="0.05,0.5,0.95",
    show_default=True,
    help="Comma-separated quantiles; columns are named q + the quantile as given, lowest first.",
)
@click.option(
    "--events",
    "events_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A live-ops calendar (CSV, YAML or .ics).",
)
@click.option(
    "--region",
    default=None,
    help="With --events: the series' region; only its events and those for all regions apply.",
)
@click.option("--freq", default="1h", show_default=True, help="Resample to this step.")
@click.option(
    "--agg",
    default="mean",
    show_default=True,
    help="How values within a step combine: mean, max, min, sum, median, first, last.",
)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the forecast CSV; '-' writes it to standard output.",
)
@_reports_errors
def forecast(
    input_path: Path,
    time_column: str,
    value_column: str,
    train_end: str,
    horizon: str,
    quantiles: str,
    events_path: Path | None,
    region: str | None,
    freq: str,
    agg: str,
    output: Path,
) -> None:
    """Forecast one series from a CSV file: ts, yhat and the quantiles, horizon/freq rows."""
    from capacity.files import check_writable, write_text_atomically
    from capacity.forecast_file import forecast_csv, parse_quantiles

    to_stdout = str(output) == "-"
    if not to_stdout:
        check_writable(output, "output")
    levels = parse_quantiles(quantiles)
    start = parse_timestamp(train_end, "train_end")
    events = _file_events(events_path, region)
    result = forecast_csv(
        input_path,
        time_column=time_column,
        value_column=value_column,
        train_end=start,
        horizon=horizon,
        quantiles=levels,
        events=events,
        freq=freq,
        agg=agg,
    )
    frame = result.frame.assign(ts=result.frame["ts"].map(lambda t: t.isoformat()))
    if to_stdout:
        click.echo(frame.to_csv(index=False), nl=False)
    else:
        write_text_atomically(output, frame.to_csv(index=False))
    note = " (fallback)" if result.fallback else ""
    where = "standard output" if to_stdout else output
    click.echo(
        f"{where}: {len(frame)} rows from {frame['ts'].iloc[0]}, model {result.model}"
        f"{note}, trained on {result.history_rows} rows",
        err=True,
    )
    # the newest bucket holds values up to its end, a step after its start
    gap = start - result.newest - parse_duration(freq, "freq")
    if gap > pd.Timedelta(days=1):
        click.echo(
            f"note: the series ends at {(start - gap).isoformat()} (its last {freq} step "
            f"starts at {result.newest.isoformat()}), {gap / pd.Timedelta(days=1):.1f} days "
            "before --train-end; the forecast extrapolates across that gap",
            err=True,
        )
    if result.tied:
        same = ", ".join(f"q{outer} equals q{inner}" for outer, inner in result.tied.items())
        n = result.errors
        why = (
            f": the band is calibrated on {n} errors per window, which tell levels apart only "
            f"from {1 / (n + 1):.3g} to {n / (n + 1):.3g}"
            if n
            else ""
        )
        click.echo(f"note: {same} in every row{why}", err=True)


@cli.command("forecast-fleet")
@_db_option
@_config_option(f"Fleet YAML [default: {DEFAULT_CONFIG}].")
@click.option("--horizon", default="28d", show_default=True, help="How far ahead.")
@click.option("--history", default="112d", show_default=True, help="How much history to fit.")
@click.option(
    "--quantiles",
    default="0.05,0.5,0.9,0.95,0.99",
    show_default=True,
    help="Comma-separated quantiles to store.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes [default: the usable cores]; not with --dask-scheduler.",
)
@click.option(
    "--dask-scheduler",
    default=None,
    help="Run the fits on this Dask scheduler (tcp://host:8786) instead of local processes.",
)
@click.option(
    "--warm-start/--cold",
    default=True,
    show_default=True,
    help="Start each fit from the parameters the last stored run learned for the series.",
)
@_reports_errors
def forecast_fleet_command(
    db: Path | None,
    config: Path | None,
    horizon: str,
    history: str,
    quantiles: str,
    jobs: int | None,
    dask_scheduler: str | None,
    warm_start: bool,
) -> None:
    """Forecast every region/service demand series and store the run."""
    from capacity.forecast_file import parse_quantiles
    from capacity.forecast_fleet import forecast_fleet
    from capacity.store import Store

    if jobs is not None and dask_scheduler is not None:
        # map_tasks would ignore jobs: a user who asked for N processes is told, not ignored
        raise ParameterError(
            "The 'jobs' parameter (--jobs) sets the local worker processes and cannot be "
            "combined with --dask-scheduler, whose workers run the fits. Fix: give either "
            "--jobs or --dask-scheduler"
        )
    _check_jobs(jobs)
    levels = [q for _, q in parse_quantiles(quantiles)]
    fleet = _load_config(config or DEFAULT_CONFIG)
    # read-only while fitting (readers such as `capacity status` or a notebook may share
    # it), writable only to save the run
    with (
        _reading_store(db) as store,
        click.progressbar(
            length=len(fleet.regions) * len(fleet.services), label="forecasting", file=sys.stderr
        ) as bar,
    ):
        path = store.path
        run = forecast_fleet(
            store,
            fleet,
            horizon=horizon,
            history=history,
            quantiles=levels,
            jobs=jobs,
            scheduler=dask_scheduler,
            progress=lambda done, total: bar.update(1),
            warm_start=warm_start,
            save=False,
            flags={"jobs": "--jobs", "scheduler": "--dask-scheduler"},
        )
    with Store(path) as store:
        run.save(store)
    for note in run.notes():
        click.echo(note, err=True)
    click.echo(
        f"run {run.run_id}: {run.summary.shape[0]} series from {run.cutoff:%Y-%m-%d %H:%M}"
        f" UTC, {run.seconds:.1f} s"
    )
    click.echo(_table(run.summary))


def _safe_loads(store: Store, fleet: FleetConfig) -> pd.DataFrame:
    """The safe load per server of every region/service; on stderr, a note for each that is
    the fleet file's hint rather than learned, since the servers asked for rest on it."""
    from capacity.sizing import safe_loads

    safe = safe_loads(store, fleet)
    for row in safe[safe["source"] != "learned"].itertuples(index=False):
        click.echo(
            f"note: {row.region}/{row.service} is sized at the fleet file's safe_load_hint, "
            f"{row.safe_load:g} per server, not a learned value: {row.reason}",
            err=True,
        )
    return safe


@cli.command("check-event")
@click.option("--name", default=None, help="The event's name.")
@click.option("--start", default=None, help="When it starts (ISO 8601; naive is UTC).")
@click.option("--end", default=None, help="When it ends (ISO 8601; naive is UTC).")
@click.option("--regions", default=None, help="Comma-separated regions; 'all' for every one.")
@click.option("--uplift", default=None, help="Expected demand as a multiple of normal.")
@click.option(
    "--event-id",
    default=None,
    help="Check an event of the stored calendar as stored, instead of --name ... --uplift.",
)
@_db_option
@_config_option(f"Fleet YAML [default: {DEFAULT_CONFIG}].")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write an HTML report here (opens offline).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: the usable cores].",
)
@_reports_errors
def check_event_command(
    name: str | None,
    start: str | None,
    end: str | None,
    regions: str | None,
    uplift: str | None,
    event_id: str | None,
    db: Path | None,
    config: Path | None,
    fmt: str,
    output: Path | None,
    jobs: int | None,
) -> None:
    """The planner's go/no-go: per region/service touched, can the fleet hold the event?"""
    _check_jobs(jobs)
    from capacity.event_check import (
        PlannedEvent,
        check_event,
        probability_bound,
        probability_text,
        render_report,
        stored_event,
    )
    from capacity.files import check_writable, write_text_atomically

    new_event = (
        ("--name", name),
        ("--start", start),
        ("--end", end),
        ("--regions", regions),
        ("--uplift", uplift),
    )
    described = [flag for flag, value in new_event if value is not None]
    if event_id is not None and described:
        raise ParameterError(
            f"The 'event_id' parameter (--event-id) checks the stored event as it is and "
            f"cannot be combined with {', '.join(described)}. Fix: give either --event-id "
            "alone, or --name, --start, --end, --regions and --uplift for a new event"
        )
    if output is not None:
        check_writable(output, "output")
    fleet = _load_config(config or DEFAULT_CONFIG)
    with _reading_store(db) as store:
        if event_id is not None:
            event = stored_event(store, event_id)
        else:
            missing = [flag for flag, value in new_event if value is None]
            if missing:
                raise ParameterError(
                    f"check-event needs {', '.join(missing)} (or --event-id of a stored event)."
                )
            event = PlannedEvent.from_text(name, start, end, regions, uplift)
        event = event.validated(fleet)
        safe = _safe_loads(store, event.touched(fleet))  # notes for the regions checked only
        result = check_event(store, fleet, event, safe=safe, jobs=jobs)
    table = result.table
    if fmt == "json":
        keys = [
            "region",
            "service",
            "peak_demand",
            "servers_needed",
            "servers_available",
            "breach_probability",
            "verdict",
            "add_servers",
            "act_by",
        ]
        records = [
            {key: (None if pd.isna(row[key]) else row[key]) for key in keys}
            | {"breach_probability_bound": probability_bound(row["breach_probability"])}
            for row in table.to_dict(orient="records")
        ]
        click.echo(json.dumps(records, default=_json_default, indent=2))
    else:
        click.echo(
            f"{event.name}: {event.start:%Y-%m-%d %H:%M} to {event.end:%Y-%m-%d %H:%M} UTC, "
            f"{', '.join(event.regions)}, uplift x{event.uplift:g}"
        )
        shown = table.drop(columns=["metric"])
        shown["safe_load"] = shown["safe_load"].round(1)
        shown["breach_probability"] = shown["breach_probability"].map(probability_text)
        shown["act_by"] = [
            "-" if pd.isna(when) else f"{pd.Timestamp(when):%Y-%m-%d %H:%M}"
            for when in shown["act_by"]
        ]
        click.echo(_table(shown))
    now = pd.Timestamp.now(tz="UTC")
    for line in result.notes(now):
        click.echo(line, err=True)
    if output is not None:
        write_text_atomically(output, render_report(result, now=now))
        click.echo(f"report: {output}", err=True)


@cli.command()
@_db_option
@_config_option(f"Fleet YAML [default: {DEFAULT_CONFIG}].")
@click.option("--horizon", default="28d", show_default=True, help="How far ahead to plan.")
@click.option(
    "--quantile",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="The demand quantile to size for.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: the usable cores].",
)
@_reports_errors
def recommend(
    db: Path | None, config: Path | None, horizon: str, quantile: float, fmt: str, jobs: int | None
) -> None:
    """Per region/service: servers now and needed (N+k, region loss), action, date, cost."""
    _check_jobs(jobs)
    from capacity import headroom
    from capacity.forecast_fleet import fallen_back, forecast_fleet

    fleet = _load_config(config or DEFAULT_CONFIG)
    quantiles = sorted({0.05, 0.5, 0.95, quantile})
    with _reading_store(db) as store:
        run = forecast_fleet(
            store, fleet, horizon=horizon, quantiles=quantiles, jobs=jobs, save=False
        )
        safe = _safe_loads(store, fleet)
        events = store.events(start=run.cutoff)
    need = headroom.hourly_need(run.frame, safe, fleet, quantile=quantile)
    now = pd.Timestamp.now(tz="UTC")
    recs = headroom.recommend(
        need,
        fleet,
        now=now,
        events=events,
        quantile=quantile,
        fallback=fallen_back(run.summary),
    )
    survival = headroom.region_loss_survival(need, fleet)
    _warn_if_stale(run.cutoff, "the forecast behind these recommendations starts then")
    if fmt in ("csv", "json"):
        # what each row is sized at, and whether it was learned or is the fleet file's hint
        sized = safe[["region", "service", "safe_load", "source"]].rename(
            columns={"source": "safe_load_source"}
        )
        recs = recs.merge(sized, on=["region", "service"], how="left")
    if fmt == "csv":
        click.echo(recs.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        records = recs.astype(object).where(recs.notna(), None).to_dict(orient="records")
        click.echo(json.dumps(records, default=_json_default, indent=2, allow_nan=False))
        return
    click.echo(
        f"Forecast from {run.cutoff:%Y-%m-%d %H:%M} UTC over {horizon}, sized at "
        f"p{quantile * 100:g}, N+{fleet.redundancy.k}; overdue: act_by before now, "
        f"{now:%Y-%m-%d %H:%M} UTC:"
    )
    # the table heads the cost with its unit; CSV and JSON keep the plain key other tools read
    unit = fleet.currency or "fleet cost units"
    shown = recs.drop(columns=["reason"]).rename(
        columns={"cost_per_week_change": f"cost_per_week_change ({unit})"}
    )
    click.echo(_table(shown))
    click.echo("")
    for row in recs.itertuples(index=False):
        click.echo(f"- {row.region}/{row.service}: {row.reason}")
    click.echo("\nLoss of one region:")
    for loss in survival:
        click.echo(f"- without {loss.lost}: {loss.describe()}")


def _schedule_hours(horizon: str, fmt: str) -> int:
    """``schedule --horizon`` in whole hours, checked before anything is forecast."""
    from capacity.event_check import MEASURED_DAYS
    from capacity.forecast_fleet import MAX_HORIZON
    from capacity.scaling import KEDA_MAX_DAYS
    from capacity.units import parse_duration

    hour = pd.Timedelta(hours=1)
    duration = parse_duration(horizon, "--horizon")
    if duration < hour or duration % hour:
        raise ParameterError(
            "The 'horizon' parameter (--horizon) must be a whole number of hours, at least "
            f"1h: the schedule has one floor per hour. Got {horizon!r}.",
            fix=f"use --horizon {max(1, math.ceil(duration / hour))}h",
        )
    hours = int(duration / hour)
    if duration > MAX_HORIZON:
        raise ParameterError(
            f"The 'horizon' parameter (--horizon) must be at most {MAX_HORIZON.days} days, as "
            f"far as a fleet forecast reaches. Got {horizon!r}.",
            fix="publish --horizon 7d (or 84h for AWS) and rerun daily",
        )
    if fmt == "keda" and hours >= KEDA_MAX_DAYS * 24:
        raise ParameterError(
            f"The 'horizon' parameter (--horizon) must be under {KEDA_MAX_DAYS} days with "
            "--format keda: cron triggers have no year, so floors a year apart would fire on "
            "both days. "
            f"Got {horizon!r}.",
            fix="export --horizon 7d and re-apply it weekly",
        )
    if hours > MEASURED_DAYS * 24:
        click.echo(
            f"warning: --horizon {horizon} reaches past the {MEASURED_DAYS} days "
            "that forecasts are measured for, so the floors after that are extrapolation. "
            "Publish a week at a time and rerun",
            err=True,
        )
    return hours


def _aws_actions(
    floors: pd.DataFrame, template: str, now: pd.Timestamp | None = None
) -> list[dict[str, Any]]:
    """The schedule as AWS scheduled actions from the hour after ``now`` (default: the real
    now) on, with warnings on stderr."""
    from capacity import scaling

    now = pd.Timestamp.now(tz="UTC") if now is None else now
    every = scaling.to_aws_scheduled_actions(floors, group_name_template=template)
    actions = scaling.to_aws_scheduled_actions(floors, group_name_template=template, now=now)
    first, last = floors["ts"].min(), floors["ts"].max() + pd.Timedelta(hours=1)
    if not actions:
        raise ParameterError(
            "The 'horizon' parameter (--horizon) leaves no hour after now "
            f"({now:%Y-%m-%d %H:%M} UTC) to schedule: the schedule runs from "
            f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC, and AWS refuses actions "
            "that start in the past.",
            fix="load or pull the latest telemetry (capacity ingest, capacity pull) first, "
            "or give a longer --horizon",
        )
    past = sum(pd.Timestamp(a["StartTime"]) < now for a in every)
    if past:
        click.echo(
            f"warning: left out {past:,} of {len(every):,} AWS scheduled actions, the ones "
            f"that start before now ({now:%Y-%m-%d %H:%M} UTC), since AWS refuses them; each "
            f"group's first action sets its floor from {now.ceil('h'):%Y-%m-%d %H:%M} UTC",
            err=True,
        )
    over = scaling.aws_groups_over_limit(actions)
    if over:
        fits = min(int((cut - first) / pd.Timedelta(hours=1)) for _, cut in over.values())
        groups = ", ".join(f"{group} ({count})" for group, (count, _) in over.items())
        click.echo(
            f"warning: AWS allows {scaling.AWS_MAX_SCHEDULED_ACTIONS} scheduled actions per "
            f"Auto Scaling group, and this schedule gives more to {groups}: applying it fails "
            f"from each one's {scaling.AWS_MAX_SCHEDULED_ACTIONS + 1}th action on. --horizon "
            f"{fits}h or less fits every group (the horizon counts from the schedule's first "
            f"hour, {first:%Y-%m-%d %H:%M} UTC); publish that and rerun daily",
            err=True,
        )
    return actions


@cli.command()
@_db_option
@_config_option(f"Fleet YAML [default: {DEFAULT_CONFIG}].")
@click.option("--region", default=None, help="Only this region.")
@click.option("--service", default=None, help="Only this service.")
@click.option(
    "--horizon",
    default="7d",
    show_default=True,
    help="How long to schedule from the end of the telemetry, in whole hours (84h, 7d).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "aws", "keda"]),
    default="csv",
    show_default=True,
    help="CSV, AWS scheduled actions JSON, or KEDA YAML.",
)
@click.option(
    "--group-name",
    "group_name",
    default=None,
    metavar="TEMPLATE",
    help="With --format aws: the Auto Scaling group's name from {region} and {service} "
    "[default: {region}-{service}].",
)
@click.option(
    "--now",
    default=None,
    help="With --format aws: leave out the actions that start before this ISO time, as AWS "
    "refuses them [default: now].",
)
@click.option(
    "--region-loss",
    is_flag=True,
    help="Hold the servers needed if another region is lost, not only N+k.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of standard output.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: the usable cores].",
)
@_reports_errors
def schedule(
    db: Path | None,
    config: Path | None,
    region: str | None,
    service: str | None,
    horizon: str,
    fmt: str,
    group_name: str | None,
    now: str | None,
    region_loss: bool,
    output: Path | None,
    jobs: int | None,
) -> None:
    """Predictive-scaling floors per hour, raised ahead of demand by the boot lead time."""
    _check_jobs(jobs)
    from capacity import scaling
    from capacity.files import check_writable, write_text_atomically
    from capacity.forecast_fleet import MAX_HORIZON, forecast_fleet
    from capacity.headroom import hourly_need

    if output is not None:
        check_writable(output, "output")  # before the forecast, not after it
    fleet = _load_config(config or DEFAULT_CONFIG)
    for name, value, known in (
        ("region", region, fleet.regions),
        ("service", service, fleet.services),
    ):
        if value is not None and value not in known:
            from capacity.records import suggest

            hint = suggest(value, list(known)).strip()
            raise ParameterError(
                f"{the_parameter('--' + name)} must be one of {', '.join(known)}. Got {value!r}"
                + (f" ({hint})." if hint else "."),
                fix=f"name a {name} of the fleet file, or leave out --{name} for every one",
            )
    for flag, value, purpose in (
        ("--now", now, "says from when AWS actions are published"),
        ("--group-name", group_name, "names Auto Scaling groups"),
    ):
        if value is not None and fmt != "aws":
            raise ParameterError(
                f"{the_parameter(flag)} {purpose}, so it needs --format aws. Got --format {fmt}.",
                fix=f"add --format aws, or leave out {flag}",
            )
    template = "{region}-{service}"
    from_time = None if now is None else parse_timestamp(now, "--now")
    if group_name is not None:
        pairs = [
            (r, s)
            for r in fleet.regions
            for s in fleet.services
            if region in (None, r) and service in (None, s)
        ]
        scaling.group_names(group_name, pairs, "--group-name")
        template = group_name
    hours = _schedule_hours(horizon, fmt)
    if region_loss and not fleet.failover and len(fleet.regions) > 1:
        click.echo(
            "note: --region-loss adds nothing: the fleet file's failover is empty, so no "
            "region takes another's players. Give every region's shares under failover",
            err=True,
        )
    lead = max(
        scaling.boot_lead_hours(t.boot_lead_time_minutes) for t in fleet.server_types.values()
    )
    # the boot lead's look-ahead past the last hour, as far as a forecast reaches
    reach = min(hours + lead, int(MAX_HORIZON / pd.Timedelta(hours=1)))
    wanted = fleet
    if not region_loss and (region is not None or service is not None):
        # only the series asked for: the others matter only when a region's players move
        wanted = fleet.model_copy(
            update={
                "regions": {r: v for r, v in fleet.regions.items() if region in (None, r)},
                "services": {s: v for s, v in fleet.services.items() if service in (None, s)},
            }
        )
    with _reading_store(db) as store:
        run = forecast_fleet(
            store,
            wanted,
            horizon=f"{reach}h",
            quantiles=(0.05, 0.5, 0.95),
            jobs=jobs,
            save=False,
        )
        safe = _safe_loads(store, wanted)
    need = hourly_need(run.frame, safe, fleet, quantile=0.95)
    floors = scaling.schedule(
        need, fleet, hours=hours, use="required" if region_loss else "needed_nk"
    )
    moment = from_time if from_time is not None else pd.Timestamp.now(tz="UTC")
    past = int((floors["ts"].drop_duplicates() < moment.floor("h")).sum())
    _warn_if_stale(
        run.cutoff,
        f"the schedule starts then and its first {past} hour{'s are' if past != 1 else ' is'} "
        "already past",
        now=moment,
    )
    if region is not None:
        floors = floors[floors["region"] == region]
    if service is not None:
        floors = floors[floors["service"] == service]
    count = f"{len(floors)} hourly floors"
    if fmt == "csv":
        text = scaling.to_csv_text(floors)
    elif fmt == "aws":
        actions = _aws_actions(floors, template, from_time)
        text = json.dumps(actions, indent=2) + "\n"
        count += f", {len(actions)} AWS scheduled actions"
    else:
        text = scaling.to_keda_yaml(floors, current_servers=fleet.current_servers)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text_atomically(output, text)
        click.echo(f"{output}: {count}", err=True)


@cli.command("backtest")
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A CSV with one series (else --region/--service from the store).",
)
@click.option("--time-column", default=None, help="With --input: the time column.")
@click.option("--value-column", default=None, help="With --input: the value column.")
@click.option(
    "--region",
    default=None,
    help="From the store: the region. With --input and --events: only that region's events "
    "(and those for all regions) apply.",
)
@click.option("--service", default=None, help="From the store: the service.")
@click.option(
    "--metric", default=None, help="From the store: the metric [default: the demand metric]."
)
@_db_option
@_config_option(f"Fleet YAML [default: {DEFAULT_CONFIG}].")
@click.option(
    "--events",
    "events_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --input: a live-ops calendar.",
)
@click.option("--horizon", default="168h", show_default=True, help="Forecast horizon per window.")
@click.option(
    "--windows",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Number of rolling origins.",
)
@click.option("--step", default="168h", show_default=True, help="Distance between origins.")
@click.option(
    "--history",
    default="112d",
    show_default=True,
    help="From the store: history read before the first origin.",
)
@click.option("--freq", default="1h", show_default=True, help="With --input: resample step.")
@click.option("--agg", default="mean", show_default=True, help="With --input: resample by.")
@click.option("--prophet-default", is_flag=True, help="Also score Prophet with its defaults.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for metrics.csv, metrics.json and backtest.html.",
)
@_reports_errors
def backtest_command(
    input_path: Path | None,
    time_column: str | None,
    value_column: str | None,
    region: str | None,
    service: str | None,
    metric: str | None,
    db: Path | None,
    config: Path | None,
    events_path: Path | None,
    horizon: str,
    windows: int,
    step: str,
    history: str,
    freq: str,
    agg: str,
    prophet_default: bool,
    out: Path,
) -> None:
    """Rolling-origin backtest of the forecaster against the baselines: metrics and a chart."""
    import duckdb

    from capacity.backtest import windows_that_fit
    from capacity.charts import backtest_figure
    from capacity.comparison import compare, default_models, mase_season
    from capacity.files import check_writable, write_text_atomically
    from capacity.report import standalone_page
    from capacity.sources import read_series_csv
    from capacity.units import parse_duration

    check_writable(out / "metrics.csv", "out")  # before the fits, not after them
    grid_text = freq if input_path is not None else "1h"
    grid = parse_duration(grid_text, "freq")
    h = parse_duration(horizon, "horizon") / grid
    s = parse_duration(step, "step") / grid
    if h != int(h) or s != int(s):
        raise ParameterError("The 'horizon' and 'step' parameters must be whole numbers of steps.")
    fit_kwargs: dict = {}
    if input_path is not None:
        if not time_column or not value_column:
            raise ParameterError("With --input, give --time-column and --value-column.")
        if service or metric or db is not None:
            raise ParameterError(
                "--input backtests a CSV file; --service, --metric and --db pick a series of "
                "the store instead. Give one or the other (with --input, --region picks the "
                "calendar's events)."
            )
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        series = read_series_csv(
            con, input_path, time_column=time_column, value_column=value_column, freq=freq, agg=agg
        )
        con.close()
        events = _file_events(events_path, region)
        label = input_path.name
    else:
        if not region or not service:
            raise ParameterError("Give --input FILE, or --region and --service of the store.")
        fleet = _load_config(config or DEFAULT_CONFIG)
        if region not in fleet.regions or service not in fleet.services:
            raise ParameterError(
                f"Unknown region/service {region}/{service}; the fleet has regions "
                f"{', '.join(fleet.regions)} and services {', '.join(fleet.services)}."
            )
        metric = metric or fleet.services[service].demand_metric
        fit_kwargs = {
            "holidays_country": fleet.regions[region].holidays_country,
            "timezone": fleet.regions[region].timezone,
        }
        with _reading_store(db) as store:
            whole = store.series(region=region, service=service, metric=metric)
            if whole.empty:
                raise ParameterError(f"The store has no {metric} for {region}/{service}.")
            end = whole["ts"].max() + pd.Timedelta(hours=1)
            span = parse_duration(history, "history") + (windows - 1) * parse_duration(step, "step")
            series = whole[whole["ts"] >= end - span - parse_duration(horizon, "horizon")]
            series = series.loc[:, ["ts", "value"]].reset_index(drop=True)
            events = store.events(region=region)
        label = f"{region}/{service}/{metric}"
    models = default_models(prophet_default=prophet_default, fit_kwargs=fit_kwargs, step=grid)
    scaled_by, season = mase_season(grid)
    # every model must have its history before the first window: the weekly naive needs
    # a season and one step more (its quantiles come from last season's errors)
    longest = max(models, key=lambda name: getattr(models[name], "season_length", 0))
    min_train = max(2 * season, getattr(models[longest], "season_length", 0) + 1)
    fit = windows_that_fit(len(series), horizon=int(h), step=int(s), min_train=min_train)
    if fit < windows:
        most = f"at most {fit} window(s) fit" if fit else "no window fits"
        raise ParameterError(
            f"--windows {windows} with --horizon {horizon} every --step {step} needs more "
            f"history than the series' {len(series)} rows ({min_train} of them to train on "
            f"before the first window, for the {longest}); {most}.",
            fix="lower --windows or --step, or give a longer series",
        )
    comparison = compare(
        series,
        models,
        horizon=int(h),
        n_windows=windows,
        step=int(s),
        events=events,
        season_length=season,
    )
    out.mkdir(parents=True, exist_ok=True)
    scores = comparison.scores
    times = {  # ISO 8601, as the forecast CSVs and metrics.json write them
        c: scores[c].map(lambda t: t.isoformat() if pd.notna(t) else None)
        for c in scores.columns
        if isinstance(scores[c].dtype, pd.DatetimeTZDtype)
    }
    write_text_atomically(out / "metrics.csv", scores.assign(**times).to_csv(index=False))
    write_text_atomically(
        out / "metrics.json",
        comparison.scores.to_json(orient="records", date_format="iso", indent=2),
    )
    overall = comparison.overall()
    columns = [
        c for c in ("model", "mase", "smape", "coverage_90", "peak_ape", "n") if c in overall
    ]
    figure = backtest_figure(comparison.results, series)
    cutoffs = sorted(comparison.results["cutoff"].unique())
    page = standalone_page(
        f"Backtest: {label}",
        [
            f"{windows} rolling origins from {pd.Timestamp(cutoffs[0]):%Y-%m-%d %H:%M} to "
            f"{pd.Timestamp(cutoffs[-1]):%Y-%m-%d %H:%M} UTC, each forecasting {horizon} "
            f"ahead, every {step}; each model is fitted only on the data before its origin.",
            f"mase: mean absolute error scaled by the {scaled_by} naive's in-sample error "
            f"(a lag of {season} step(s) of {grid_text}; below 1 beats it); smape: symmetric "
            "percentage error, in %; coverage_90: share of actuals inside the 5-95 % band; "
            "peak_ape: relative error of each day's peak (0.05 is 5 %). The chart shows the "
            "actuals, each model's median and the capacity forecaster's 5-95 % band. Every "
            "window's figures are in metrics.csv.",
        ],
        overall.loc[:, columns],
        figure.to_html(full_html=False, include_plotlyjs=True),
    )
    write_text_atomically(out / "backtest.html", page)
    click.echo(f"{label}: {windows} windows of {horizon}, every {step}")
    click.echo(_table(overall.loc[:, columns]))
    click.echo(f"written: {out}/metrics.csv, metrics.json, backtest.html", err=True)


@cli.command()
@click.option("--week", default=None, help="ISO week such as 2026-W48 [default: this week].")
@_db_option
@_config_option(f"Fleet YAML [default: {DEFAULT_CONFIG}].")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
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
    type=click.Path(dir_okay=False, path_type=Path),
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
    _check_jobs(jobs)
    from capacity.plan import run_plan
    from capacity.weekly import parse_week

    if week is not None:
        parse_week(week)  # a malformed week fails before the demo store is built
    _load_config(config or DEFAULT_CONFIG)  # a missing --config is named as an option
    if wait is not None and not parse_duration(wait, "--wait", allow_zero=True):
        wait = None  # --wait 0 (a wrapper's ${WAIT:-0}): do not wait, as without --wait
    result = run_plan(
        week=week,
        db=_default_store(db),
        config=config or DEFAULT_CONFIG,
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
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def main() -> None:
    """Entry point of the ``capacity`` console script.

    SIGTERM (``timeout``, systemd, a cancelled CI job) and Ctrl-C (SIGINT) stop a run the same
    way: worker processes are shut down and stores closed rather than left orphaned, and the
    run exits with 128 plus the signal's number (:data:`EXIT_TERMINATED`,
    :data:`EXIT_INTERRUPTED`) rather than a failure's 1, printing one line that says so (and
    not click's "Aborted!"). The same signal a second time ends the process at once. A SIGINT
    the process was started ignoring (``nohup``, a background job) stays ignored.
    """
    stopped = _STOPPED_BY

    def stop(signum: int, frame: Any) -> None:
        stopped.append(signum)
        signal.signal(signum, signal.SIG_DFL)  # the same signal again ends it at once
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, stop)
    try:
        cli(prog_name="capacity")
    except SystemExit:
        if stopped:
            # say by what, and that nothing was left half-done
            status = _stopped_status()
            click.echo(
                f"capacity: stopped by {signal.Signals(stopped[0]).name} (exit {status}); "
                "nothing unfinished was committed or published",
                err=True,
            )
            raise SystemExit(status) from None
        raise


if __name__ == "__main__":
    main()
