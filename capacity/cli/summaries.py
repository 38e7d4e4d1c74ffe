"""What the store holds and how the services ran: ``status`` and ``kpis``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pandas as pd

from capacity.cli.common import (
    DEFAULT_CONFIG,
    _config_option,
    _db_option,
    _fleet_file,
    _json_default,
    _load_config,
    _reading_store,
    _reports_errors,
)
from capacity.columns import LATENCY_P99_MS, SERVERS
from capacity.demand_held import Held, held_from_rows, held_instead, other_metrics
from capacity.errors import ParameterError
from capacity.servers_ran import count_note, counts_below_ran, servers_last_week
from capacity.units import parse_duration, parse_timestamp

if TYPE_CHECKING:
    from capacity.config import FleetConfig


@click.command()
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
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@_reports_errors
def kpis(
    db: Path | None, config: Path | None, since: str | None, until: str | None, by: str, fmt: str
) -> None:
    """Availability, error budget and burn, MTTR, MTTD, MTBF and change failure rate."""
    from capacity import resilience

    resilience.group_keys(by, name="--by")  # refused in the option's own name, before reading
    fleet = _load_config(_fleet_file(config))
    with _reading_store(db) as store:
        if until is None:
            # the fleet's own series: another fleet's telemetry in the same store must not
            # move this one's window
            newest = store.con.execute(
                "SELECT max(ts) FROM telemetry WHERE metric = 'error_rate' "
                "AND list_contains(?, region) AND list_contains(?, service)",
                [list(fleet.regions), list(fleet.services)],
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
            strict=False,
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
    if not frame.empty and not (frame["known_hours"] > 0).any():
        click.echo(_no_telemetry_note(frame, start, end), err=True)
    still_open = int(frame["incidents_open"].iloc[-1]) if not frame.empty else 0
    if still_open:
        click.echo(
            f"note: {still_open} incident(s) of the window have no resolved_at: each is counted "
            f"as open until {end:%Y-%m-%d %H:%M} UTC ("
            + ("--until" if until is not None else "the window's end, no --until given")
            + "), so incidents that start while "
            "it is open are part of its failure (failures, mtbf_hours), and it has no repair "
            "time (mttr_minutes). If one is over, give its resolved_at and import the log again",
            err=True,
        )
    if fmt == "json":
        click.echo(json.dumps(resilience.kpis_json(frame), indent=2, allow_nan=False))
        return
    if fmt == "csv":
        click.echo(frame.to_csv(index=False, na_rep=""), nl=False)
        return
    from capacity.terminal_tables import kpi_tables

    click.echo(f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    # 23 figures a row: three tables of the same rows, each within 100 columns
    click.echo(kpi_tables(frame))


def _no_telemetry_note(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> str:
    """Why a KPI frame without a known series-hour in its window has null availability.

    The burn rates are of the hours before ``end`` whatever ``start`` is: they may be measured
    when the window's own hours are not, and the note said they were null beside them. A
    window shorter than an hour may hold no hour's start, and no hour at all to measure."""
    if not ((frame["known_hours"] + frame["unknown_hours"]) > 0).any():
        problem = (
            f"no hour starts between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC: "
            "availability and error budgets are measured over the hours whose start is in "
            "the window (null)"
        )
        fix = "widen the window to hold an hour's start"
    else:
        problem = (
            f"no error_rate telemetry from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC "
            "for the fleet's regions and services: "
            "availability and error budgets cannot be measured (null)"
        )
        fix = "check --since/--until or load the telemetry"
    burns = frame[["burn_1h", "burn_6h", "burn_3d"]]
    if burns.isna().all().all():
        burn = "; nor can the burn rates, over the 3 days before --until"
    else:
        burn = (
            "; the burn rates are of the 1, 6 and 72 hours before --until, and are measured "
            "where those hours have data"
        )
    return f"note: {problem}{burn}; {fix}"


@click.command()
@_db_option
@_config_option(
    "Fleet YAML: also list its regions/services that lack telemetry in the store "
    "[default: none, the store alone]."
)
@click.option("--now", default=None, help="Show events ahead of this time [default: now].")
@click.option("--ahead", default="28d", show_default=True, help="How far ahead to list events.")
@click.option("--by-metric", is_flag=True, help="One row per metric instead of per service.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@_reports_errors
def status(
    db: Path | None,
    config: Path | None,
    now: str | None,
    ahead: str,
    by_metric: bool,
    fmt: str,
) -> None:
    """Summarise the store: per series its span, rows, gaps and last load; events ahead."""
    moment = parse_timestamp(now, "--now") if now is not None else pd.Timestamp.now(tz="UTC")
    parse_duration(ahead, "--ahead")  # malformed: named by its option
    # no demo fleet by default: the store's summary needs none
    fleet = _load_config(config) if config is not None else None
    with _reading_store(db) as store:
        series, upcoming = store.status(now=moment, ahead=ahead)
        path = store.path
        ran = None if fleet is None else servers_last_week(store)
    gaps = None if fleet is None else fleet_gaps(series, fleet)
    short = [] if fleet is None or ran is None else counts_below_ran(fleet, ran)
    held = held_from_rows(zip(series["region"], series["service"], series["metric"], strict=True))
    if fmt == "json":
        payload = {
            "store": str(path),
            "now": moment,
            "series": series.assign(
                hours_behind_now=_hours_behind(moment, series["last_ts"])
            ).to_dict(orient="records"),
            "events_ahead": upcoming.to_dict(orient="records"),
        }
        if gaps is not None:
            payload["config"] = str(config)
            payload["fleet_missing_telemetry"] = gaps.to_dict(orient="records")
            # a count below what ran reads as servers to buy in recommend, check-event, plan
            payload["current_servers_below_ran"] = short
        from capacity.weekly import json_safe

        # null, not NaN, for an event without an expected uplift: JSON readers refuse NaN;
        # times in UTC with Z, as recommend's and check-event's JSON write them
        text = json.dumps(
            json_safe(payload, utc_z=True), default=_json_default, indent=2, allow_nan=False
        )
        click.echo(text)
        return
    from capacity.terminal import wrap
    from capacity.terminal_tables import event_table, fold_weekly, telemetry_table

    # the table's columns are hours: a series of 5-minute samples ends in the 23:00 hour,
    # not at 23:55 (the JSON keeps the samples' own times)
    series = series.assign(
        first_ts=pd.to_datetime(series["first_ts"], utc=True).dt.floor("h"),
        last_ts=pd.to_datetime(series["last_ts"], utc=True).dt.floor("h"),
    )
    stale = _staleness_notes(series, moment, by_metric=by_metric)
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
    click.echo(telemetry_table(series, by_metric=by_metric))
    if gaps is not None:
        click.echo("")
        for line in _gap_lines(gaps, fleet, config, held):
            # within 100 columns, as the tables above: a pair's line indented under its dash
            click.echo(wrap(line, first="", later="  " if line.startswith("- ") else ""))
    for line in [*lagging, *stale, *_other_fleet_notes(series, fleet), *count_note(short)]:
        click.echo(line, err=True)
    # a window repeated weekly on one line, its count and every id and date kept: at 8
    # regions the weekly maintenance had filled 32 of 47 entries
    folded = fold_weekly(upcoming.assign(regions=upcoming["regions"].map(", ".join)))
    how = "" if len(folded) == len(upcoming) else "; a weekly window on one line"
    click.echo(f"\nEvents in the next {ahead} ({len(upcoming)}{how}):")
    click.echo(event_table(folded))


def fleet_gaps(series: pd.DataFrame, fleet: FleetConfig) -> pd.DataFrame:
    """The fleet file's region/services that lack telemetry a plan needs.

    Parameters
    ----------
    series : pandas.DataFrame
        The store's series, one row per ``region, service, metric`` (``Store.status``).
    fleet : FleetConfig
        The fleet whose region/services are looked up.

    Returns
    -------
    pandas.DataFrame
        ``region, service, demand_metric, missing`` (the metrics, of the demand metric,
        ``servers`` and ``latency_p99_ms``, with no row in the store), one row per pair that
        lacks any: first those without their demand metric (not forecast, and refused by
        ``capacity plan``), then those sized at the hint, each in the fleet file's order.
    """
    held = set(
        zip(
            series["region"].astype(str),
            series["service"].astype(str),
            series["metric"].astype(str),
            strict=True,
        )
    )
    rows = []
    for region, service, metric in fleet.demand_series():
        missing = [m for m in (metric, SERVERS, LATENCY_P99_MS) if (region, service, m) not in held]
        if missing:
            rows.append(
                {"region": region, "service": service, "demand_metric": metric, "missing": missing}
            )
    # what stops a plan before what only sizes at the hint
    rows.sort(key=lambda row: row["demand_metric"] not in row["missing"])
    return pd.DataFrame(rows, columns=["region", "service", "demand_metric", "missing"])


def _other_fleet_notes(series: pd.DataFrame, fleet: FleetConfig | None) -> list[str]:
    """A note when the store's telemetry and the fleet file share no region/service: two
    fleets' files, not a fleet short of telemetry (as recommend and plan say too)."""
    from capacity.texts import first_few

    if fleet is None or series.empty:
        return []
    stored = sorted({f"{r}/{s}" for r, s in zip(series["region"], series["service"], strict=True)})
    planned = sorted({f"{r}/{s}" for r, s, _ in fleet.demand_series()})
    if set(stored) & set(planned):
        return _unnamed_notes(series, fleet)
    return [
        f"note: the store holds telemetry of {first_few(stored, 4)} but none of the fleet "
        f"file's regions and services ({first_few(planned, 4)}): check that --db and "
        "--config name the same fleet"
    ]


def _unnamed_notes(series: pd.DataFrame, fleet: FleetConfig) -> list[str]:
    """A note per region or service of the store's telemetry that the fleet file does not
    name (loaded without --config, with a name spelt otherwise): no command reads it."""
    from capacity.records import suggest

    notes = []
    for column, known in (("region", fleet.regions), ("service", fleet.services)):
        for name in sorted(set(series[column].astype(str)) - set(known)):
            hint = suggest(name, list(known)).strip()
            notes.append(
                f"note: the store holds telemetry of {column} {name!r}, which the fleet file "
                f"does not name{f' ({hint})' if hint else ''}: no command reads it with this "
                f"fleet file, as names are matched exactly. Fix: use the fleet file's name in "
                f"the export and load it again, or add the {column} to the fleet file"
            )
    return notes


def _gap_lines(
    gaps: pd.DataFrame,
    fleet: FleetConfig,
    config: Path | None,
    held: Held,
) -> list[str]:
    """What the fleet file plans but the store lacks, a line per region/service.

    ``held`` is the demand metrics the store holds per region/service: a pair without its
    fleet file's demand metric but with the other one is most often a ``demand_metric`` of
    the wrong kind, or an export that named the column after the other metric.
    """
    pairs = len(fleet.demand_series())
    if gaps.empty:
        return [
            f"Fleet file {config}: each of its {pairs} region/services has demand, servers and "
            "latency_p99_ms telemetry."
        ]
    lines = [
        f"Fleet file {config}: {len(gaps)} of its {pairs} region/services lack telemetry of "
        "their demand, servers or latency_p99_ms:"
    ]
    for row in gaps.itertuples(index=False):
        name = f"- {row.region}/{row.service} ({row.demand_metric})"
        other = other_metrics(held, row.region, row.service, row.demand_metric)
        if len(row.missing) == 3 and not other:
            lines.append(
                f"{name}: no telemetry; not forecast, so left out of recommend, check-event "
                "and schedule, and capacity plan refuses the fleet"
            )
        elif row.demand_metric in row.missing:
            instead = f" ({held_instead(row.service, row.demand_metric, other)})" if other else ""
            lines.append(
                f"{name}: no {row.demand_metric} (demand) telemetry{instead}; not forecast, so "
                "left out of recommend, check-event and schedule, and capacity plan refuses "
                "the fleet"
            )
        else:
            lines.append(
                f"{name}: no {' or '.join(row.missing)} telemetry; sized at the fleet file's "
                "safe_load_hint, not a safe load learned from latency"
            )
    return lines


def _hours_behind(moment: pd.Timestamp, last_ts: pd.Series) -> pd.Series:
    """Whole hours from the end of each series' last hour to ``moment`` (0 when current)."""
    # the hour the last sample falls in ends on the next whole hour (a 5-minute sample at
    # 23:55 ends the 23:00 hour at 00:00, not at 00:55)
    ends = pd.to_datetime(last_ts, utc=True).dt.floor("h") + pd.Timedelta(hours=1)
    behind = (moment - ends) / pd.Timedelta(hours=1)
    return behind.clip(lower=0).round().astype("Int64")


def _staleness_notes(series: pd.DataFrame, moment: pd.Timestamp, *, by_metric: bool) -> list[str]:
    """Notes for telemetry that ended: the store's newest hour long before ``moment``, and
    each series (region/service, or metric with ``by_metric``) stopped before the others.

    The table's ``last_loaded_at`` moves with every load, also one that found nothing newer
    (an hourly pull re-reading its last hour), so it cannot tell by itself that a source has
    stopped reporting."""
    if series.empty:
        return []
    ends = pd.to_datetime(series["last_ts"], utc=True).dt.floor("h") + pd.Timedelta(hours=1)
    newest = ends.max()
    notes = []
    keys = ["region", "service", "metric"] if by_metric else ["region", "service"]
    ended = series.assign(end=ends).groupby(keys, as_index=False)["end"].max()
    for row in ended.itertuples(index=False):
        behind = (newest - row.end) / pd.Timedelta(hours=1)
        if behind > 1:
            name = "/".join(str(getattr(row, k)) for k in keys)
            notes.append(
                f"note: {name} telemetry ends {row.end:%Y-%m-%d %H:%M} UTC, {behind:.0f} hours "
                f"before the store's newest ({newest:%Y-%m-%d %H:%M} UTC): check that its "
                "source still reports it"
            )
    behind_now = (moment - newest) / pd.Timedelta(hours=1)
    if behind_now > 1:
        notes.append(
            f"note: the newest telemetry ends {newest:%Y-%m-%d %H:%M} UTC, {behind_now:,.0f} "
            f"hours before now ({moment:%Y-%m-%d %H:%M} UTC); a forecast or plan made now "
            "starts from there. Load newer telemetry (capacity ingest or pull), or give --now "
            "to look at the store as of an earlier time"
        )
    return notes
