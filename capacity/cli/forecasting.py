"""Forecasts: ``forecast`` (one series from a CSV) and ``forecast-fleet`` (every demand
series, stored as a run); ``backtest``, how good they are, is in ``backtesting``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pandas as pd

from capacity.cli.common import (
    DEFAULT_CONFIG,
    TZ_HELP,
    UserPath,
    _check_jobs,
    _check_tz,
    _config_option,
    _db_option,
    _file_events,
    _fleet_file,
    _load_config,
    _reading_store,
    _reports_errors,
    _table,
)
from capacity.errors import ParameterError
from capacity.units import iso_utc, parse_duration, parse_timestamp


@click.command()
@click.option(
    "--input",
    "input_path",
    required=True,
    type=UserPath(dir_okay=False, path_type=Path),
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
    type=UserPath(dir_okay=False, path_type=Path),
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
@click.option("--tz", default=None, help=TZ_HELP)
@click.option(
    "--output",
    required=True,
    type=UserPath(dir_okay=False, path_type=Path),
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
    tz: str | None,
    output: Path,
) -> None:
    """Forecast one series from a CSV file: ts, yhat and the quantiles, horizon/freq rows."""
    from capacity.files import check_not_an_input, check_writable, write_text_atomically
    from capacity.forecast_file import forecast_csv, parse_quantiles

    to_stdout = str(output) == "-"
    if not to_stdout:
        inputs = {"--input": input_path, "--events": events_path}
        check_not_an_input(output, "--output", inputs, "the forecast")
        check_writable(output, "output")
    levels = parse_quantiles(quantiles)
    _check_tz(tz)
    start = parse_timestamp(train_end, "--train-end")
    parse_duration(freq, "--freq")  # malformed: named by its option, before the file is read
    parse_duration(horizon, "--horizon")
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
        tz=tz,
    )
    # ISO 8601 in UTC with Z, as every other CSV of capacity writes times
    frame = result.frame.assign(ts=result.frame["ts"].map(iso_utc))
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


@click.command("forecast-fleet")
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
            "combined with --dask-scheduler, whose workers run the fits.",
            fix="give either --jobs or --dask-scheduler",
        )
    _check_jobs(jobs)
    levels = [q for _, q in parse_quantiles(quantiles)]
    parse_duration(horizon, "--horizon")  # malformed: named by its option, before any work
    parse_duration(history, "--history")
    fleet = _load_config(_fleet_file(config))
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
            progress=_bar_follows(bar),
            warm_start=warm_start,
            save=False,
            flags={"jobs": "--jobs", "scheduler": "--dask-scheduler"},
        )
    with Store(path) as store:
        run.save(store)
    for note in run.notes():
        click.echo(note, err=True)
    skipped = len(run.skipped())
    forecast = run.summary.shape[0] - skipped
    left_out = f" ({skipped} skipped: no forecast stored)" if skipped else ""
    click.echo(
        f"run {run.run_id}: {forecast} series forecast{left_out} from"
        f" {run.cutoff:%Y-%m-%d %H:%M} UTC, {run.seconds:.1f} s"
    )
    # the events each forecast leaves out are in the notes above, one line per event
    click.echo(_table(run.summary.drop(columns="unsized_events", errors="ignore")))


def _bar_follows(bar: Any) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` that shows ``done`` of ``total`` on ``bar``.

    ``forecast_fleet`` reports the series reused from the forecast cache as done at once,
    and counts only the series it forecasts (not those without telemetry): a bar advanced by
    one a call had stopped at 8 % on a run of 12 series all reused from the cache.

    Parameters
    ----------
    bar : click's progress bar
        The bar to move.

    Returns
    -------
    callable
    """

    def follow(done: int, total: int) -> None:
        bar.length = total
        bar.update(done - bar.pos)

    return follow
