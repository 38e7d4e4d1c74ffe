"""Getting data into the store: ``demo``, ``ingest``, ``pull``, and the ``import`` commands of
``events``, ``incidents`` and ``deploys``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from capacity.cli.common import (
    DEFAULT_CONFIG,
    DEFAULT_DB,
    UserPath,
    _check_tz,
    _config_option,
    _db_option,
    _fleet_file,
    _load_config,
    _reports_errors,
)


@click.command()
@click.option(
    "--out",
    "out",
    type=UserPath(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the demo fleet into.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--days",
    type=click.IntRange(min=28, max=3650),
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


@click.command()
@click.argument("files", nargs=-1, required=True, type=UserPath(dir_okay=False, path_type=Path))
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


@click.command()
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
    help="End, ISO, taken on to the last step of its hour (a pull covers whole hours), and "
    "never past now [default: now].",
)
@_reports_errors
def pull(
    db: Path | None, config: Path | None, url: str | None, since: str | None, until: str | None
) -> None:
    """Pull telemetry from Prometheus's HTTP API into the store, in one transaction."""
    from capacity.columns import DEMAND_METRICS
    from capacity.config import load_fleet
    from capacity.errors import ConfigError
    from capacity.prometheus import (
        NAN_CAUSE,
        first_pulls,
        nan_text,
        pull_notes,
        pull_window,
        server_lines,
    )
    from capacity.prometheus import pull as pull_rows
    from capacity.store import Store

    path = _fleet_file(config)
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
        fleet=fleet,
    )
    if got.rows.empty:
        for line in server_lines(got):  # a remote storage that failed may be the cause
            click.echo(line, err=True)
        # the wrong server, a renamed metric, a wiped or young TSDB, a range it no longer
        # keeps: a person must look, and a plan that followed would rest on old telemetry
        since = f"{min([start, *starts.values()]):%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
        if got.only_nan:
            metric = got.only_nan[0][0]
            others = [m for m in got.empty if m not in dict(got.only_nan)]
            raise ConfigError(
                f"no query returned a sample that is a number from {since} at {got.url}: "
                + "; ".join(nan_text(m, p, cause=False) for m, p in got.only_nan)
                + (f"; {', '.join(others)} returned no samples" if others else "")
                + "; nothing was loaded",
                source=str(path),
                where=f"key 'prometheus.queries.{metric}'",
                fix=f"{NAN_CAUSE}; or pull a range with traffic (--since and --until)",
            )
        raise ConfigError(
            f"no query returned a sample from {since} at {got.url} "
            f"({', '.join(source.queries)}); nothing was loaded",
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


@click.group()
def events() -> None:
    """The live-ops calendar."""


def _file_import(kind: str, description: str) -> Callable[..., None]:
    """An ``import`` command that loads ``kind`` files into the store in one transaction."""

    @click.argument("files", nargs=-1, required=True, type=UserPath(dir_okay=False, path_type=Path))
    @_db_option
    @click.option("--tz", default=None, help="Time zone of naive times in the files.")
    @_config_option("Fleet YAML; when given, regions and services must be ones it names.")
    @click.option(
        "--allow-empty",
        is_flag=True,
        help=f"Let a file of no {kind} (its header alone) remove the {kind} an earlier import "
        "of it stored; refused without it.",
    )
    @_reports_errors
    def command(
        files: tuple[Path, ...],
        db: Path | None,
        tz: str | None,
        config: Path | None,
        allow_empty: bool,
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
            report = method(files, tz=tz, fleet=fleet, allow_empty=allow_empty)
        click.echo(report.describe())
        for note in report.notes:
            click.echo(note, err=True)

    command.__doc__ = description
    return command


@click.group()
def incidents() -> None:
    """The incident log."""


@click.group()
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
