"""The terminal tables of ``capacity recommend``, ``kpis`` and ``status``, within 100 columns.

Each keeps every figure its frame holds, laid out as :mod:`capacity.terminal` does: figures
on one line per row under two-word headers, what is long on an indented line below.
``recommend`` puts the action and its dates under each row; ``kpis`` splits its 23 figures
into three tables of the same rows (availability, incidents and deploys, times); ``status``
gives each event's name a line of its own and the time of the last load once when every
series shares it. ``--format csv`` and ``json`` are the frames as they are.
"""

from __future__ import annotations

import pandas as pd

from capacity.columns import REGION, SERVICE
from capacity.terminal import (
    INDENT,
    Column,
    count,
    decimals,
    grid,
    percent,
    plain,
    signed,
    time,
)

__all__ = [
    "KPI_TABLES",
    "event_table",
    "fold_weekly",
    "kpi_tables",
    "recommend_table",
    "telemetry_table",
]

_KEYS = (
    Column(REGION, "", "region", plain, right=False),
    Column(SERVICE, "", "service", plain, right=False),
)


def _action(row: pd.Series) -> str:
    """A recommendation's second line: the action in words, the date to act by, the first
    hour short."""
    action = str(row["action"]).replace("_", " ")
    if row["change"]:
        action += f" by {abs(int(row['change'])):,}"
    parts = [action]
    if pd.notna(row["act_by"]):
        late = " (overdue)" if bool(row["overdue"]) else ""
        parts.append(f"act by {row['act_by']:%Y-%m-%d %H:%M} UTC{late}")
    if pd.notna(row["first_shortfall"]):
        parts.append(f"first hour short {row['first_shortfall']:%Y-%m-%d %H:%M} UTC")
    else:
        parts.append("no hour short")
    return "; ".join(parts)


def recommend_table(recs: pd.DataFrame, *, k: int, unit: str) -> str:
    """``capacity recommend``'s table: the servers per region/service, then the action.

    Parameters
    ----------
    recs : pandas.DataFrame
        :func:`capacity.headroom.recommend`'s rows (``reason`` is not shown here).
    k : int
        The fleet's N+k, for the header.
    unit : str
        The currency of ``cost_per_week_change``, for the header.

    Returns
    -------
    str
        Per row a line of servers now, needed (for demand, with N+k, on a region's loss),
        target, change (signed) and the weekly cost change (signed, to the cent), and an
        indented line such as ``scale up by 96; act by 2026-11-13 11:54 UTC (overdue);
        first hour short 2026-12-04 12:00 UTC``.
    """
    columns = (
        *_KEYS,
        Column("servers_now", "servers", "now", count),
        Column("needed", "needed", "demand", count),
        Column("needed_nk", "needed", f"N+{k}", count),
        Column("needed_loss", "needed", "region loss", count),
        Column("target", "", "target", count),
        Column("change", "", "change", signed(0)),
        Column("cost_per_week_change", "cost/week", unit, signed(2)),
    )
    return grid(recs, columns, _action)


#: ``capacity kpis``' three tables: a title and the columns after region and service.
KPI_TABLES: tuple[tuple[str, tuple[Column, ...]], ...] = (
    (
        "Availability and error budget (burn: budget spent per budget allowed):",
        (
            # the digits the plan report's resilience table gives them (report.kpi_table):
            # 99.9589% in both, where this table had 99.959%
            Column("availability", "", "availability", percent(4)),
            Column("slo_target", "SLO", "target", percent(4)),
            Column("error_budget_remaining", "budget", "left", percent(1)),
            Column("burn_1h", "burn", "1h", decimals(3)),
            Column("burn_6h", "burn", "6h", decimals(3)),
            Column("burn_3d", "burn", "3d", decimals(3)),
            Column("alert", "", "alert", plain, right=False),
        ),
    ),
    (
        "Incidents and deploys:",
        (
            Column("incidents", "", "incidents", count),
            Column("incidents_open", "", "open", count),
            Column("incidents_sev1", "sev", "1", count),
            Column("incidents_sev2", "sev", "2", count),
            Column("incidents_sev3", "sev", "3", count),
            Column("incidents_sev4", "sev", "4", count),
            Column("failures", "", "failures", count),
            Column("deploys", "", "deploys", count),
            Column("change_failure_rate", "change", "fail rate", percent(1)),
        ),
    ),
    (
        "Times (minutes to repair and detect, hours between failures) and hours measured:",
        (
            Column("mttr_minutes", "MTTR", "mean", decimals(1)),
            Column("mttr_median_minutes", "MTTR", "median", decimals(1)),
            Column("mttd_minutes", "MTTD", "mean", decimals(1)),
            Column("mtbf_hours", "MTBF", "hours", decimals(1)),
            Column("known_hours", "hours", "measured", count),
            Column("unknown_hours", "hours", "unknown", count),
        ),
    ),
)


def kpi_tables(frame: pd.DataFrame) -> str:
    """``capacity kpis``' table as three tables of the same rows, each within 100 columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`capacity.resilience.kpis`' frame (``KPI_COLUMNS``).

    Returns
    -------
    str
        The tables of :data:`KPI_TABLES`, each under its title, a blank line apart:
        availability and SLO target as percentages to four decimals, budget left to one,
        burn rates to three decimals (as the plan report's resilience table gives them),
        counts with thousands separators, times to a tenth, ``-`` for a figure that cannot
        be measured.
    """
    if frame.empty:
        return "  (none)"
    return "\n\n".join(
        f"{title}\n{grid(frame, (*_KEYS, *columns))}" for title, columns in KPI_TABLES
    )


def telemetry_table(series: pd.DataFrame, *, by_metric: bool) -> str:
    """``capacity status``' telemetry: per region/service (or metric) its span and holes.

    Parameters
    ----------
    series : pandas.DataFrame
        ``region, service`` and ``metric`` (by metric) or ``metrics`` (their count), then
        ``first_ts, last_ts, rows, missing_hours, gaps, last_loaded_at``.
    by_metric : bool
        One row per metric rather than per region/service.

    Returns
    -------
    str
        A line per row; the time of the last load (to the minute) on the line above the
        table when every row shares it, else on an indented line under each row.
    """
    if series.empty:
        return "  (none)"
    what = Column("metric", "", "metric", plain, right=False) if by_metric else None
    columns = (
        *_KEYS,
        what or Column("metrics", "", "metrics", count),
        Column("first_ts", "first hour", "(UTC)", time, right=False),
        Column("last_ts", "last hour", "(UTC)", time, right=False),
        Column("rows", "", "rows", count),
        Column("missing_hours", "missing", "hours", count),
        Column("gaps", "", "gaps", count),
    )
    loads = series["last_loaded_at"].map(time)  # to the minute, as shown
    if loads.nunique() == 1:
        return f"{INDENT}last loaded, every row: {loads.iloc[0]} UTC\n" + grid(series, columns)
    return grid(series, columns, lambda row: f"last loaded {time(row['last_loaded_at'])} UTC")


def _uplift(value: object) -> str:
    return "-" if value is None or pd.isna(value) else f"x{float(value):g}"


def event_table(events: pd.DataFrame) -> str:
    """``capacity status``' events ahead: the figures on a line, the name on the next.

    Parameters
    ----------
    events : pandas.DataFrame
        ``event_id, start_ts, end_ts, kind, name, regions`` (joined by ``, ``) and
        ``expected_uplift``.

    Returns
    -------
    str
        Per event a line of id, start and end (UTC), kind, uplift (``x1.75``, ``-`` for
        none) and regions, and an indented line with its name.
    """
    if "repeats" not in events:
        events = events.assign(repeats=1, last_start=events["start_ts"], ids=None)
    columns = (
        Column("event_id", "event", "id", plain, right=False),
        Column("start_ts", "starts", "(UTC)", time, right=False),
        Column("end_ts", "ends", "(UTC)", time, right=False),
        Column("kind", "", "kind", plain, right=False),
        Column("expected_uplift", "", "uplift", _uplift),
        Column("regions", "", "regions", plain, right=False),
    )
    return grid(events, columns, _event_text)


def _event_text(row: pd.Series) -> str:
    """An event's name, and for a weekly window folded by :func:`fold_weekly` how many, the
    last one's start and every one's id."""
    if row["repeats"] <= 1:
        return str(row["name"])
    return (
        f"{row['name']}: weekly, {row['repeats']} times, the last starting "
        f"{row['last_start']:%Y-%m-%d %H:%M} ({', '.join(row['ids'])})"
    )


def fold_weekly(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with each window repeated weekly on one row: the same name, kind, uplift,
    regions and duration, each one starting 7 days after the one before.

    Parameters
    ----------
    events : pandas.DataFrame
        As :func:`event_table` takes them, in order of start.

    Returns
    -------
    pandas.DataFrame
        The same columns, a row per event or weekly series (its first window's id and
        times, where its first window was), and ``repeats`` (1 for one event), ``last_start`` and
        ``ids`` (every window's, in order): every event's id and times can be read back. A
        series whose windows are not exactly a week apart stays a row per event.
    """
    if events.empty:
        return events.assign(repeats=1, last_start=events["start_ts"], ids=None)
    frame = events.reset_index(drop=True)
    keys = ["name", "kind", "regions"]
    uplift = frame["expected_uplift"].astype(float).fillna(-1.0)
    length = frame["end_ts"] - frame["start_ts"]
    rows = []
    grouped = frame.assign(_uplift=uplift, _length=length).groupby(
        [*keys, "_uplift", "_length"], sort=False, dropna=False
    )
    for _, group in grouped:
        group = group.sort_values("start_ts", kind="stable")
        steps = group["start_ts"].diff().dropna()
        if len(group) > 1 and (steps == pd.Timedelta(days=7)).all():
            first = group.iloc[0].copy()
            first["repeats"] = len(group)
            first["last_start"] = group["start_ts"].iloc[-1]
            first["ids"] = [str(i) for i in group["event_id"]]
            rows.append(first)
        else:
            for _, row in group.iterrows():
                row = row.copy()
                row["repeats"], row["last_start"], row["ids"] = 1, row["start_ts"], None
                rows.append(row)
    folded = pd.DataFrame(rows).drop(columns=["_uplift", "_length"])
    return folded.sort_index().reset_index(drop=True)  # in the order given, by first window
