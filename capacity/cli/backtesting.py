"""``capacity backtest``: the forecaster against the baselines over rolling origins, from a CSV
file or a series of the store."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from capacity.cli.common import (
    DEFAULT_CONFIG,
    TZ_HELP,
    UserPath,
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
from capacity.columns import DEMAND_METRICS
from capacity.errors import ParameterError, the_parameter
from capacity.units import iso_utc, parse_duration


@click.command("backtest")
@click.option(
    "--input",
    "input_path",
    type=UserPath(dir_okay=False, path_type=Path),
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
    "--metric",
    default=None,
    help="From the store: ccu or rps [default: the service's demand metric].",
)
@_db_option
@_config_option(f"Fleet YAML [default: {DEFAULT_CONFIG}].")
@click.option(
    "--events",
    "events_path",
    type=UserPath(dir_okay=False, path_type=Path),
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
@click.option("--tz", default=None, help="With --input: " + TZ_HELP)
@click.option("--prophet-default", is_flag=True, help="Also score Prophet with its defaults.")
@click.option(
    "--out",
    type=UserPath(file_okay=False, path_type=Path),
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
    tz: str | None,
    prophet_default: bool,
    out: Path,
) -> None:
    """Rolling-origin backtest of the forecaster against the baselines: metrics and a chart."""
    from capacity.backtest import windows_that_fit
    from capacity.charts import backtest_figure
    from capacity.comparison import compare, default_models, mase_season
    from capacity.files import check_writable, write_text_atomically
    from capacity.report import backtest_page_table, standalone_page
    from capacity.sources import covered_until, read_series_csv
    from capacity.store.sql import open_duckdb

    check_writable(out / "metrics.csv", "out")  # before the fits, not after them
    grid_text = freq if input_path is not None else "1h"
    grid = parse_duration(grid_text, "--freq")
    h = parse_duration(horizon, "--horizon") / grid
    s = parse_duration(step, "--step") / grid
    if h != int(h) or s != int(s):
        raise ParameterError(
            f"--horizon ({horizon}) and --step ({step}) must be whole numbers of steps of "
            f"{grid_text}.",
            fix=f"give multiples of {grid_text}, such as 168h",
        )
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
        _refuse_unused(("config", "history"), "a series of the store, not with --input")
        _check_tz(tz)
        con = open_duckdb()
        series = read_series_csv(
            con,
            input_path,
            time_column=time_column,
            value_column=value_column,
            freq=freq,
            agg=agg,
            tz=tz,
        )
        end = covered_until(
            con, input_path, time_column=time_column, value_column=value_column, tz=tz
        )
        con.close()
        last = series["ts"].iloc[-1]
        if end is not None and end < last + grid:
            # the last window ends with the series: a bucket the file covers only in part
            # (half a day's sum, a day's max without its evening) is not an actual to score
            click.echo(
                f"note: the file ends at {end:%Y-%m-%d %H:%M} UTC, inside the last {freq} "
                f"bucket ({last:%Y-%m-%d %H:%M}); that bucket is left out",
                err=True,
            )
            series = series.iloc[:-1].reset_index(drop=True)
        events = _file_events(events_path, region)
        label = input_path.name
        if tz is not None:
            fit_kwargs = {"timezone": tz}
    else:
        if not region or not service:
            raise ParameterError("Give --input FILE, or --region and --service of the store.")
        _refuse_unused(
            ("time_column", "value_column", "events_path", "freq", "agg", "tz"),
            "--input: a series of the store is hourly, its calendar is the store's and its "
            "time zone the fleet file's",
        )
        fleet = _load_config(_fleet_file(config))
        for name, value, known in (
            ("region", region, fleet.regions),
            ("service", service, fleet.services),
        ):
            if value not in known:
                from capacity.records import suggest

                hint = suggest(value, list(known)).strip()
                raise ParameterError(
                    f"{the_parameter('--' + name)} must be one of {', '.join(known)}. "
                    f"Got {value!r}" + (f" ({hint})." if hint else "."),
                    fix=f"name a {name} of the fleet file",
                )
        fleet_metric = metric is None
        metric = metric or fleet.services[service].demand_metric
        if metric not in DEMAND_METRICS:
            raise ParameterError(
                f"{the_parameter('--metric')} must be a demand metric, "
                f"{' or '.join(DEMAND_METRICS)}: the forecaster models demand, raised or "
                f"lowered by the calendar's events. Got {metric!r}.",
                fix=f"leave it out for {service}'s {fleet.services[service].demand_metric}",
            )
        fit_kwargs = {
            "holidays_country": fleet.regions[region].holidays_country,
            "timezone": fleet.regions[region].timezone,
        }
        with _reading_store(db) as store:
            whole = store.series(region=region, service=service, metric=metric, strict=False)
            if whole.empty and fleet_metric:
                from capacity.demand_held import held_instead, other_metrics, stored_demand_metrics

                held = stored_demand_metrics(store.con, [(region, service)])
                others = other_metrics(held, region, service, metric)
                if others:
                    raise ParameterError(
                        f"The store has no {metric} for {region}/{service}: "
                        f"{held_instead(service, metric, others)} (or backtest it with "
                        f"--metric {others[0]})"
                    )
            if whole.empty:
                raise ParameterError(
                    f"The store has no {metric} for {region}/{service}",
                    fix=f"load its {metric} telemetry (capacity ingest, capacity pull); "
                    "capacity status --by-metric lists what the store holds",
                )
            end = whole["ts"].max() + pd.Timedelta(hours=1)
            span = parse_duration(history, "history") + (windows - 1) * parse_duration(step, "step")
            series = whole[whole["ts"] >= end - span - parse_duration(horizon, "--horizon")]
            series = series.loc[:, ["ts", "value"]].reset_index(drop=True)
            events = store.events(region=region, strict=False)
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
        fix = "lower --windows or --step, or give a longer series"
        room = len(series) - min_train
        if not fit:
            # fewer windows or a shorter step cannot help: the first window alone is too long
            fix = "give a longer series"
            if room > 0:
                one = "" if windows == 1 else "--windows 1 and "
                fix = (
                    f"give {one}a --horizon of at most {_steps_text(room * grid)} (the rows "
                    f"after the {min_train} to train on), or a longer series"
                )
        raise ParameterError(
            f"--windows {windows} with --horizon {horizon} every --step {step} needs more "
            f"history than the series' {len(series)} rows ({min_train} of them to train on "
            f"before the first window, for the {longest}); {most}.",
            fix=fix,
        )
    comparison = compare(
        series,
        models,
        horizon=int(h),
        n_windows=windows,
        step=int(s),
        events=events,
        season_length=season,
        min_train=min_train,
    )
    out.mkdir(parents=True, exist_ok=True)
    scores = comparison.scores
    times = {  # ISO 8601 in UTC with Z in both files, as the forecast CSVs write them
        c: scores[c].map(lambda t: iso_utc(t) if pd.notna(t) else None)
        for c in scores.columns
        if isinstance(scores[c].dtype, pd.DatetimeTZDtype)
    }
    write_text_atomically(out / "metrics.csv", scores.assign(**times).to_csv(index=False))
    write_text_atomically(
        out / "metrics.json", scores.assign(**times).to_json(orient="records", indent=2)
    )
    overall = comparison.overall()
    columns = [
        c for c in ("model", "mase", "smape", "coverage_90", "peak_ape", "n") if c in overall
    ]
    # the y axis names what the series measures: the store's metric, or the CSV's column
    figure = backtest_figure(comparison.results, series, metric=metric or value_column)
    cutoffs = sorted(comparison.results["cutoff"].unique())
    page = standalone_page(
        f"Backtest: {label}",
        [
            f"{windows} rolling origins from {pd.Timestamp(cutoffs[0]):%Y-%m-%d %H:%M} to "
            f"{pd.Timestamp(cutoffs[-1]):%Y-%m-%d %H:%M} UTC, each forecasting {horizon} "
            f"ahead, every {step}; each model is fitted only on the data before its origin.",
            f"Scaled error (MASE): mean absolute error scaled by the {scaled_by} naive's "
            "in-sample error over all the data before the origin (a lag of "
            f"{season} step(s) of {grid_text}; below 1 beats it). Symmetric error (sMAPE): "
            "symmetric percentage error, in %. Actuals inside the 5–95 % band: the share of "
            "actual values inside the forecast's 5–95 % band, in % (90 % for a calibrated "
            "band). Daily-peak error: the relative error of each day's peak, in %. The chart "
            "shows the actuals (the thick dark line), each model's median and the capacity "
            "forecaster's 5–95 % band. Every window's figures are in metrics.csv and "
            "metrics.json, under the column names mase, smape (in %), coverage_90 and "
            "peak_ape (fractions: 0.05 is 5 %)."
            + (
                f" The windows overlap (--horizon {horizon} is longer than --step {step}): an "
                "hour forecast from several origins is scored once per origin, in n and in "
                "every overall figure."
                if h > s and windows > 1
                else ""
            ),
        ],
        backtest_page_table(overall.loc[:, columns]),
        figure.to_html(full_html=False, include_plotlyjs=True),
    )
    write_text_atomically(out / "backtest.html", page)
    click.echo(f"{label}: {windows} windows of {horizon}, every {step}")
    click.echo(_table(overall.loc[:, columns]))
    click.echo(f"written: {out}/metrics.csv, metrics.json, backtest.html", err=True)


def _refuse_unused(names: tuple[str, ...], where: str) -> None:
    """Refuse the options of ``names`` given on the command line, which only apply ``where``
    (they would be ignored without a word otherwise).

    Parameters
    ----------
    names : tuple of str
        The options' parameter names (``events_path`` for ``--events``).
    where : str
        What they apply to, for the message.

    Raises
    ------
    ParameterError
        When one of them was given.
    """
    context = click.get_current_context()
    given = [
        next(o for o in p.opts if o.startswith("--"))
        for p in context.command.params
        if p.name in names
        and context.get_parameter_source(p.name) is click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        raise ParameterError(
            f"{', '.join(given)} only {'applies' if len(given) == 1 else 'apply'} to {where}; "
            f"{'it' if len(given) == 1 else 'they'} would be ignored here.",
            fix=f"leave {'it' if len(given) == 1 else 'them'} out",
        )


def _steps_text(span: pd.Timedelta) -> str:
    """A span as an option value: ``72h``, or ``90min`` when not whole hours."""
    minutes = int(span / pd.Timedelta(minutes=1))
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}min"
