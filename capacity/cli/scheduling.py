"""Predictive scaling: ``schedule`` and its exports (CSV, AWS scheduled actions, KEDA), with
the checks of its horizon and of what AWS accepts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    _load_config,
    _note_hints,
    _reading_store,
    _reports_errors,
    _safe_loads,
    _warn_if_stale,
)
from capacity.errors import ParameterError, the_parameter
from capacity.texts import first_few
from capacity.units import parse_timestamp

if TYPE_CHECKING:
    from capacity.config import FleetConfig
    from capacity.store import Store


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


def _keda_floors(floors: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """The floors of the hour ``now`` falls in and later, with a warning on stderr for the
    hours left out: cron has no year, so a window already past would fire again a year later
    (and lower ``minReplicaCount``, the schedule's lowest floor)."""
    hour = now.floor("h")
    kept = floors[floors["ts"] >= hour]
    if kept.empty:
        first, last = floors["ts"].min(), floors["ts"].max() + pd.Timedelta(hours=1)
        raise ParameterError(
            f"The 'horizon' parameter (--horizon) leaves no hour from now ({now:%Y-%m-%d %H:%M} "
            f"UTC) on to schedule: the schedule runs from {first:%Y-%m-%d %H:%M} to "
            f"{last:%Y-%m-%d %H:%M} UTC, and a KEDA window already past would fire again a "
            "year later.",
            fix="load or pull the latest telemetry (capacity ingest, capacity pull) first, "
            "or give a longer --horizon",
        )
    left_out = int((floors["ts"].drop_duplicates() < hour).sum())  # hours, not floors
    if left_out:
        click.echo(
            f"warning: left out the {left_out:,} hour{'s' if left_out != 1 else ''} of floors "
            f"before now ({now:%Y-%m-%d %H:%M} UTC): a KEDA window already past would fire "
            f"again a year later; the windows start at {hour:%Y-%m-%d %H:%M} UTC",
            err=True,
        )
    return kept


#: How many Auto Scaling groups over AWS's limit the warning names (``first_few``'s default).
_GROUPS_NAMED = 5


def _aws_actions(
    floors: pd.DataFrame,
    template: str,
    now: pd.Timestamp | None = None,
    max_actions: int | None = None,
) -> list[dict[str, Any]]:
    """The schedule as AWS scheduled actions from the hour after ``now`` (default: the real
    now) on, at most ``max_actions`` (default AWS's 125) a group, with notes on stderr."""
    from capacity import scaling
    from capacity.scaling.aws import AWS_APPLY_MINUTES, aws_publish_from, merged_server_hours

    given = now is not None
    now = aws_publish_from(now)
    before = (
        f"now ({now:%Y-%m-%d %H:%M} UTC)"
        if given
        else f"now and the {AWS_APPLY_MINUTES} minutes to apply them ({now:%Y-%m-%d %H:%M} UTC)"
    )
    limit = scaling.AWS_MAX_SCHEDULED_ACTIONS if max_actions is None else max_actions
    every = scaling.to_aws_scheduled_actions(floors, group_name_template=template)
    plain = scaling.to_aws_scheduled_actions(floors, group_name_template=template, now=now)
    first, last = floors["ts"].min(), floors["ts"].max() + pd.Timedelta(hours=1)
    if not plain:
        raise ParameterError(
            f"The 'horizon' parameter (--horizon) leaves no hour after {before} to "
            "schedule: the schedule runs from "
            f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC, and AWS refuses actions "
            "that start in the past.",
            fix="load or pull the latest telemetry (capacity ingest, capacity pull) first, "
            "or give a longer --horizon",
        )
    past = sum(pd.Timestamp(a["StartTime"]) < now for a in every)
    if past:
        click.echo(
            f"warning: left out {past:,} of {len(every):,} AWS scheduled actions, the ones "
            f"that start before {before}, since AWS refuses them; each "
            f"group's first action sets its floor from {now.ceil('h'):%Y-%m-%d %H:%M} UTC",
            err=True,
        )
    actions = scaling.to_aws_scheduled_actions(
        floors, group_name_template=template, now=now, max_actions=limit
    )
    over = scaling.aws_groups_over_limit(plain, limit=limit)
    if over:
        fits = min(int((cut - first) / pd.Timedelta(hours=1)) for _, cut in over.values())
        extra, held = merged_server_hours(floors, list(over), template, now, limit)
        named = first_few(
            [f"{group} ({count})" for group, (count, _) in over.items()], shown=_GROUPS_NAMED
        )
        # a large fleet has dozens of groups over: their number, then the first few
        groups = f"{len(over)} groups, {named}" if len(over) > _GROUPS_NAMED else named
        click.echo(
            (
                f"note: AWS allows {limit} scheduled actions per Auto Scaling group"
                if limit == scaling.AWS_MAX_SCHEDULED_ACTIONS
                else f"note: --max-actions {limit} allows {limit} scheduled actions per group"
            )
            + f", and the floors change more often for {groups}: each gets at most {limit}, "
            f"holding a floor longer where it changes least (never lower), {extra:,} more "
            f"server-hours ({extra / held:.1%} of theirs). --horizon {fits}h or less needs no "
            f"merging (the horizon counts from the schedule's first hour, "
            f"{first:%Y-%m-%d %H:%M} UTC)",
            err=True,
        )
    return actions


@click.command()
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
    "--max-actions",
    "max_actions",
    type=click.IntRange(1, 125),
    default=None,
    help="With --format aws: the most scheduled actions per Auto Scaling group; floors that "
    "change more often are held longer where they change least, never lowered. Less than 125 "
    "leaves room for the group's other scheduled actions [default: 125, AWS's quota].",
)
@click.option(
    "--now",
    default=None,
    help="With --format aws or keda: leave out what starts before this ISO time (AWS refuses "
    "actions in the past; a KEDA window past its hour would fire again a year later) "
    "[default: now; for AWS, now plus 10 minutes to apply the file].",
)
@click.option(
    "--namespace",
    default=None,
    help="With --format keda: the Kubernetes namespace of the deployments [default: game, "
    "the demo's].",
)
@click.option(
    "--deployment-name",
    "deployment_name",
    default=None,
    metavar="TEMPLATE",
    help="With --format keda: the deployment's name from {region} and {service} "
    "[default: {service}-{region}].",
)
@click.option(
    "--scale-up-tolerance",
    "scale_up_tolerance",
    type=click.FloatRange(min=0, max=1),
    default=None,
    help="With --format keda: the HPA's scale-up tolerance (0 meets the floors exactly; "
    "Kubernetes 1.33+) [default: the HPA's 10 %].",
)
@click.option(
    "--region-loss",
    is_flag=True,
    help="Hold the servers needed if another region is lost, not only N+k.",
)
@click.option(
    "--output",
    type=UserPath(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of standard output.",
)
@_jobs_option
@_reports_errors
def schedule(
    db: Path | None,
    config: Path | None,
    region: str | None,
    service: str | None,
    horizon: str,
    fmt: str,
    group_name: str | None,
    max_actions: int | None,
    now: str | None,
    namespace: str | None,
    deployment_name: str | None,
    scale_up_tolerance: float | None,
    region_loss: bool,
    output: Path | None,
    jobs: int | None,
) -> None:
    """Predictive-scaling floors per hour, raised ahead of demand by the boot lead time."""
    _check_jobs(jobs)
    from capacity import scaling
    from capacity.columns import SHARED_QUANTILES
    from capacity.demand_held import first_held_instead, stored_demand_metrics
    from capacity.event_check import SHARED_HORIZON_HOURS
    from capacity.files import write_text_atomically
    from capacity.forecast_fleet import MAX_HORIZON, forecast_fleet
    from capacity.headroom import check_server_counts, hourly_need
    from capacity.skipped import skipped_warnings

    if output is not None:
        _check_output(output, db, config, "the schedule")  # before the forecast
    fleet = _load_config(_fleet_file(config))
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
    for flag, value, purpose, needs in (
        ("--now", now, "says from when AWS actions or KEDA windows are published", "aws keda"),
        ("--group-name", group_name, "names Auto Scaling groups", "aws"),
        ("--max-actions", max_actions, "limits the actions per Auto Scaling group", "aws"),
        ("--namespace", namespace, "names the KEDA objects' namespace", "keda"),
        ("--deployment-name", deployment_name, "names the deployments KEDA scales", "keda"),
        ("--scale-up-tolerance", scale_up_tolerance, "sets the HPA's tolerance", "keda"),
    ):
        if value is not None and fmt not in needs.split():
            formats = " or ".join(f"--format {n}" for n in needs.split())
            raise ParameterError(
                f"{the_parameter(flag)} {purpose}, so it needs {formats}. Got --format {fmt}.",
                fix=f"add {formats}, or leave out {flag}",
            )
    keda_options: dict[str, object] = {}
    if fmt == "keda":
        keda_options = {
            "namespace": namespace if namespace is not None else "game",
            "deployment_template": deployment_name or "{service}-{region}",
            "scale_up_tolerance": scale_up_tolerance,
        }
        scaling.check_keda_names(
            [
                (r, s)
                for r in fleet.regions
                for s in fleet.services
                if region in (None, r) and service in (None, s)
            ],
            str(keda_options["deployment_template"]),
            str(keda_options["namespace"]),
            names=("--namespace", "--deployment-name"),
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
    # the boot lead's look-ahead past the last hour, as far as a forecast reaches; and never
    # shorter than the plan's (the floors read only their hours and the look-ahead): a
    # forecaster tunes its blend on as many hours as it forecasts, up to a week, so a short
    # horizon made other demand than the plan's for the same hours, and the plan's fits,
    # cached, serve this one too
    reach = min(max(hours + lead, SHARED_HORIZON_HOURS), int(MAX_HORIZON / pd.Timedelta(hours=1)))
    wanted = fleet
    if not region_loss and (region is not None or service is not None):
        # only the series asked for: the others matter only when a region's players move
        wanted = fleet.model_copy(
            update={
                "regions": {r: v for r, v in fleet.regions.items() if region in (None, r)},
                "services": {s: v for s, v in fleet.services.items() if service in (None, s)},
            }
        )
    # every missing server count of the pairs scheduled at once, before the fits
    check_server_counts(wanted)
    with _reading_store(db) as store:
        if wanted is not fleet and not _holds_demand(store, wanted):
            # else the fit of nothing says the store and the fleet file are of two fleets
            pairs = [(r, s) for r, s, _ in wanted.demand_series()]
            held = stored_demand_metrics(store.con, pairs)
            raise _no_demand_telemetry(
                region, service, first_held_instead(wanted.demand_series(), held)
            )
        run = forecast_fleet(
            store,
            wanted,
            horizon=f"{reach}h",
            quantiles=SHARED_QUANTILES,
            jobs=jobs,
            save=False,
        )
        safe = _safe_loads(store, wanted)
    # a pair outside --region/--service is read only for where lost regions' players go
    summary = run.summary
    asked = summary["region"].isin([region] if region else list(fleet.regions))
    asked &= summary["service"].isin([service] if service else list(fleet.services))
    for chosen, left_out_of in (
        (asked, "this schedule" + (" and of the region-loss floors" if region_loss else "")),
        (~asked, "the region-loss floors"),
    ):
        for line in skipped_warnings(
            summary[chosen],
            left_out_of,
            history=run.params.get("history"),
            cutoff=run.cutoff,
            held=run.held,
        ):
            click.echo(line, err=True)
    # events the floors are not raised for: in the schedule's hours or the boot lead's
    # look-ahead past them (the forecast reaches further, for the plan's sake)
    seen_until = run.cutoff + pd.Timedelta(hours=hours + lead)
    for line in run.unsized_notes(run.cutoff, seen_until):
        click.echo(line, err=True)
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
    if floors.empty:
        raise _no_demand_telemetry(
            region, service, first_held_instead(wanted.demand_series(), run.held)
        )
    _note_hints(safe, floors)  # the pairs scheduled, not those read for region loss only
    count = f"{len(floors)} hourly floors"
    if fmt == "csv":
        text = scaling.to_csv_text(floors)
    elif fmt == "aws":
        actions = _aws_actions(floors, template, from_time, max_actions)
        text = json.dumps(actions, indent=2) + "\n"
        count += f", {len(actions)} AWS scheduled actions"
    else:
        floors = _keda_floors(floors, moment)
        count = f"{len(floors)} hourly floors"
        text = scaling.to_keda_yaml(floors, current_servers=fleet.current_servers, **keda_options)
        from capacity.scaling.keda import kubectl_apply_warning

        if warning := kubectl_apply_warning(text):
            click.echo(f"warning: {warning}", err=True)
        if namespace is None:
            click.echo(
                "note: the KEDA objects are in namespace 'game', the demo's; --namespace "
                "names yours",
                err=True,
            )
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text_atomically(output, text)
        click.echo(f"{output}: {count}", err=True)


def _holds_demand(store: Store, fleet: FleetConfig) -> bool:
    """Whether the store holds any demand telemetry of the region/services of ``fleet``."""
    keys = [f"{r}/{s}/{m}" for r, s, m in fleet.demand_series()]
    found = store.con.execute(
        "SELECT count(*) FROM telemetry "
        "WHERE list_contains(?, region || '/' || service || '/' || metric)",
        [keys],
    ).fetchall()[0][0]
    return bool(found)


def _no_demand_telemetry(
    region: str | None, service: str | None, instead: str = ""
) -> ParameterError:
    """The error for a --region/--service (or a fleet) with no demand telemetry stored.

    ``instead`` is what a pair holds in place of the fleet file's demand metric, and the fix
    (:func:`capacity.demand_held.first_held_instead`): loading telemetry already loaded under
    the other metric would not help."""
    asked = " and ".join(
        f"{flag} {value!r}"
        for flag, value in (("--region", region), ("--service", service))
        if value is not None
    )
    if instead:
        return ParameterError(f"{asked or 'the fleet'}: there is no floor to publish, as {instead}")
    return ParameterError(
        f"{asked or 'the fleet'} has no demand telemetry in the store, so there is no "
        "floor to publish",
        fix="load its telemetry (capacity status lists what the store holds)"
        + (", or leave out " + asked.split(" ")[0] if asked else ""),
    )
