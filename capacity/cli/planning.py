"""Whether the fleet is big enough: ``check-event`` (the event planner's go/no-go) and
``recommend`` (servers needed, the action, its date and cost)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from capacity.cli.common import (
    DEFAULT_CONFIG,
    UserPath,
    _check_jobs,
    _check_output,
    _config_option,
    _db_option,
    _fleet_file,
    _jobs_option,
    _json_default,
    _load_config,
    _note_hints,
    _reading_store,
    _reports_errors,
    _safe_loads,
    _warn_if_stale,
)
from capacity.errors import ParameterError


@click.command("check-event")
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
    type=UserPath(dir_okay=False, path_type=Path),
    default=None,
    help="Also write an HTML report here (opens offline).",
)
@_jobs_option
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
        forecast_start,
        probability_bound,
        render_report,
        stored_event,
    )
    from capacity.event_terminal import terminal_table, terminal_title
    from capacity.files import write_text_atomically
    from capacity.servers_ran import count_note, counts_below_ran, servers_last_week

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
            f"cannot be combined with {', '.join(described)}.",
            fix="give either --event-id alone, or --name, --start, --end, --regions and "
            "--uplift for a new event",
        )
    if output is not None:
        _check_output(output, db, config, "the report")
    fleet = _load_config(_fleet_file(config))
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
        forecast_start(store, event)  # an event the store cannot check: before any note
        touched = event.touched(fleet)
        safe = _safe_loads(store, touched)  # the regions checked only
        result = check_event(store, fleet, event, safe=safe, jobs=jobs)
        ran = servers_last_week(store, [(r, s) for r, s, _ in touched.demand_series()])
    _note_hints(safe, result.table)
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
            | {
                "breach_probability_bound": probability_bound(row["breach_probability"]),
                "overdue": bool(row["overdue"]),
            }
            for row in table.to_dict(orient="records")
        ]
        click.echo(json.dumps(records, default=_json_default, indent=2))
    else:
        click.echo(terminal_title(event))
        # within 100 columns: the act-by date and the peak hour on a second line per row
        click.echo(terminal_table(table))
    now = pd.Timestamp.now(tz="UTC")
    for line in result.notes(now):
        click.echo(line, err=True)
    for line in count_note(counts_below_ran(touched, ran), "This check takes"):
        click.echo(line, err=True)
    if output is not None:
        write_text_atomically(output, render_report(result, now=now))
        click.echo(f"report: {output}", err=True)


@click.command()
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
@_jobs_option
@_reports_errors
def recommend(
    db: Path | None, config: Path | None, horizon: str, quantile: float, fmt: str, jobs: int | None
) -> None:
    """Per region/service: servers now and needed (N+k, region loss), action, date, cost."""
    _check_jobs(jobs)
    from capacity import headroom
    from capacity.forecast_fleet import fallen_back, forecast_fleet
    from capacity.servers_ran import count_note, counts_below_ran, servers_last_week
    from capacity.skipped import skipped_warnings
    from capacity.units import parse_duration

    parse_duration(horizon, "--horizon")  # named by its option, before the store's notes
    fleet = _load_config(_fleet_file(config))
    headroom.check_server_counts(fleet)  # every missing count at once, before the fits
    # only the quantile sized at: forecast_fleet fits on the weekly plan's grid as well, so
    # the forecast cache serves the plan's fits when it ran on the same telemetry
    with _reading_store(db) as store:
        run = forecast_fleet(
            store, fleet, horizon=horizon, quantiles=[quantile], jobs=jobs, save=False
        )
        safe = _safe_loads(store, fleet)
        events = store.events(start=run.cutoff)
        ran = servers_last_week(store, [(r, s) for r, s, _ in fleet.demand_series()])
    _note_hints(safe, run.frame)
    now = pd.Timestamp.now(tz="UTC")
    # as the weekly plan does, as of now
    assessment = headroom.assess(
        run.frame,
        safe,
        fleet,
        now=now,
        quantile=quantile,
        events=events,
        fallback=fallen_back(run.summary),
    )
    recs = assessment.recommendations
    _warn_if_stale(run.cutoff, "the forecast behind these recommendations starts then")
    for line in skipped_warnings(
        run.summary,
        "this table and of the region-loss check",
        history=run.params.get("history"),
        cutoff=run.cutoff,
        held=run.held,
    ):
        click.echo(line, err=True)
    for line in run.unsized_notes():  # events these recommendations are not sized for
        click.echo(line, err=True)
    # a stale count reads as servers to buy: said in every format, on stderr
    for line in count_note(counts_below_ran(fleet, ran), "These recommendations take"):
        click.echo(line, err=True)
    if fmt in ("csv", "json"):
        from capacity.weekly import sized_recommendations

        # what each row is sized at, and whether it was learned or is the fleet file's hint
        recs = sized_recommendations(recs, safe)
    if fmt == "csv":
        from capacity.weekly import recommendations_csv

        # the weekly plan's recommendations.csv, row for row (times ISO UTC, with Z)
        click.echo(recommendations_csv(assessment.recommendations, safe), nl=False)
        return
    if fmt == "json":
        # beside servers_now: what the servers telemetry ran (null without it), so a check
        # can tell a stale count from a shortfall
        recs = recs.assign(
            servers_ran_last_week=[
                ran.get((region, service))
                for region, service in zip(recs["region"], recs["service"], strict=True)
            ]
        )
        records = recs.astype(object).where(recs.notna(), None).to_dict(orient="records")
        click.echo(json.dumps(records, default=_json_default, indent=2, allow_nan=False))
        return
    from capacity.terminal import wrap
    from capacity.terminal_tables import recommend_table
    from capacity.texts import carried_text

    # within 100 columns: the action and its dates under each row, the reasons wrapped
    click.echo(
        f"Forecast from {run.cutoff:%Y-%m-%d %H:%M} UTC over {horizon}, sized at "
        f"p{quantile * 100:g}, N+{fleet.redundancy.k}."
    )
    click.echo(f"Overdue: the time to act by is before now, {now:%Y-%m-%d %H:%M} UTC.")
    # the table heads the cost with its unit; CSV and JSON keep the plain key other tools read
    unit = fleet.currency or "fleet cost units"
    click.echo(recommend_table(recs, k=fleet.redundancy.k, unit=unit))
    click.echo("")
    for row in recs.itertuples(index=False):
        click.echo(wrap(f"{row.region}/{row.service}: {row.reason}", first="- "))
    click.echo("\nLoss of one region:")
    # "not checked" where a region of the loss has no demand telemetry (RegionLoss.status)
    carried = carried_text([spec.demand_metric for spec in fleet.services.values()])
    for loss in assessment.survival:
        click.echo(wrap(f"without {loss.lost}: {loss.describe(carried)}", first="- "))
