"""Presentation helpers for the report notebooks: escaped HTML tables and verdict text.

Notebooks stay thin by calling these; every value that comes from data (event names,
regions) is HTML-escaped here, so a calendar entry named ``<script>`` renders as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Collection, Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from IPython.display import HTML

from capacity.columns import METRIC, MODEL, OWN_MODEL, REGION, SERVICE
from capacity.decision import (
    BACKTEST_LOSS_WARNING,
    PreviousPlan,
    backtest_losses,
    changes_since,
    read_previous_plan,
    region_loss_frame,
    week_before,
)
from capacity.resilience import KPI_COLUMNS
from capacity.texts import carried_text, demand_text, first_few, load_text, servers_text

if TYPE_CHECKING:
    from capacity.weekly import WeeklyPlan

__all__ = [
    "HEADERS",
    "accuracy_table",
    "backtest_losses_line",
    "backtest_note",
    "backtest_page_table",
    "changes_since_last_week",
    "changes_since_previous",
    "changes_table",
    "cost_header",
    "decision_line",
    "hint_line",
    "incidents_table",
    "kpi_table",
    "note_lines",
    "plan_table",
    "quality_table",
    "region_loss_lines",
    "region_loss_table",
    "standalone_page",
    "table",
    "timings_line",
    "trend_table",
    "verdict_counts",
    "warning_lines",
]

_STYLE = (
    "<style>.cap-table{border-collapse:collapse;font-size:13px}"
    ".cap-table td,.cap-table th{padding:3px 9px;border-bottom:1px solid #e3e3e3;text-align:right;"
    "white-space:nowrap}.cap-table th{white-space:normal}"
    ".cap-table th{background:#f6f6f6}.cap-act{color:#b00020;font-weight:600}"
    ".cap-watch{color:#9a6700;font-weight:600}.cap-ok{color:#1a7f37}</style>"
)


#: Columns of fractions whose digits that matter are far right (an availability of 0.99958):
#: shown to five decimals. Other fractions (a coverage of 0.99405) keep three, so a column
#: reads alike from row to row.
_AVAILABILITY_COLUMNS = frozenset({"availability", "slo_target", "slo_availability"})
#: Durations in minutes or hours: a tenth is as fine as they are worth reading (an MTTD of
#: 5.75 minutes reads 5.8, not 5.750). A safe load per server to a tenth too, as the terminal
#: tables write it: 3,165.7 in both, where the report had shown 3,166; and the bounds of its
#: bootstrap interval (``low``, ``high``) beside it likewise. A stored run's ``seconds`` too:
#: the accuracy review's runs read 6.788 above 10.5.
_TENTHS_COLUMNS = frozenset(
    {
        "seconds",
        "mttr_minutes",
        "mttr_median_minutes",
        "mttd_minutes",
        "mtbf_hours",
        "safe_load",
        "low",
        "high",
    }
)
#: Demand (players, requests a second) to the unit, as the terminal tables and the reasons
#: write it: a peak of 525.3 requests a second read 525.3 here and 525 in the terminal; below
#: 10, with the decimals :func:`capacity.texts.demand_text` keeps.
_UNITS_COLUMNS = frozenset({"peak_demand"})
#: Thresholds the fleet file sets (a p99 latency SLO of 100 ms): shown as written there, a
#: whole number without decimals (``100``, not ``100.0``), any other with the decimals it has
#: (``99.5``).
_AS_WRITTEN_COLUMNS = frozenset({"slo_ms"})


def _cell(value: object, column: object = None) -> str:
    if value is None or value is pd.NaT or value is pd.NA:  # no value: an empty cell
        return ""
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, bool | np.bool_):  # before int: a bool is an int to Python
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if isinstance(value, float | np.floating):
        value = float(value)
        if pd.isna(value):
            return ""
        if column in _AVAILABILITY_COLUMNS and abs(value) < 10:
            return f"{value:.5f}"
        if column in _TENTHS_COLUMNS:
            return f"{value:,.1f}"
        if column in _UNITS_COLUMNS:
            return demand_text(value)
        if column in _AS_WRITTEN_COLUMNS:
            return f"{value:,.0f}" if value.is_integer() else f"{value:,.6g}"
        if abs(value) < 10:
            return f"{value:,.3f}"
        return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    text = str(value)
    return {
        "act": "<span class='cap-act'>act</span>",
        "watch": "<span class='cap-watch'>watch</span>",
        "OK": "<span class='cap-ok'>OK</span>",
        # the event check's verdicts, coloured as the plan's
        "NO_GO": "<span class='cap-act'>NO_GO</span>",
        "AT_RISK": "<span class='cap-watch'>AT_RISK</span>",
        "GO": "<span class='cap-ok'>GO</span>",
    }.get(text, html.escape(text))


def table(
    frame: pd.DataFrame,
    *,
    max_rows: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTML:
    """An HTML table of ``frame`` with every value escaped and numbers formatted.

    Whole numbers show thousands separators (``1,766``), booleans ``yes``/``no``; other
    numbers below 10 show three decimals, below 1,000 one, larger ones none; columns of
    availabilities (``availability``, ``slo_target``) five, and of durations (``seconds``,
    ``mttr_minutes``, ``mtbf_hours``) and safe loads (``safe_load``, with its interval's
    ``low`` and ``high``) one, and demand (``peak_demand``) none, whatever their values; a
    latency SLO (``slo_ms``) as the fleet file writes it, ``100`` or ``99.5``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to show; its column names pick the formats above.
    max_rows : int, optional
        Show the first rows only, with a line counting the others (``… and 3 more rows,
        not shown.``).
    headers : mapping, optional
        Headers to show instead of column names (:data:`HEADERS`, for the weekly report);
        a column it leaves out keeps its name. Without it every column keeps its name.
    """
    shown = frame if max_rows is None else frame.head(max_rows)
    columns = list(shown.columns)
    head = "".join(f"<th>{html.escape(_header(c, headers))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{_cell(v, c)}</td>" for v, c in zip(row, columns, strict=True))
        + "</tr>"
        for row in shown.itertuples(index=False)
    )
    more = ""
    if max_rows is not None and len(frame) > max_rows:
        # the notebooks that cut a table short write no CSV beside it: say what is left out,
        # not where it would be
        left = len(frame) - max_rows
        more = f"<p>… and {left:,} more {'row' if left == 1 else 'rows'}, not shown.</p>"
    # A table wider than the page scrolls sideways in its own box instead of being cut off.
    return HTML(
        f"{_STYLE}{_prose_style(shown)}"
        "<div class='cap-scroll' style='overflow-x:auto;max-width:100%'>"
        f"<table class='{_table_class(shown)}'><tr>{head}</tr>{body}</table></div>{more}"
    )


#: A column with a value longer than this is prose (a reason, an event's name list).
_PROSE_CHARS = 40


def _prose_columns(frame: pd.DataFrame) -> list[int]:
    """Positions of the columns of ``frame`` that hold prose: text longer than a label."""
    return [
        i
        for i, column in enumerate(frame.columns)
        # a generator, not Series.map: an empty datetime column maps to datetimes, and
        # pandas refuses any() on those
        if any(isinstance(v, str) and len(v) > _PROSE_CHARS for v in frame[column])
    ]


def _table_class(frame: pd.DataFrame) -> str:
    """``cap-table``, plus a class naming the prose columns (``cap-prose-6``) when any."""
    prose = _prose_columns(frame)
    if not prose:
        return "cap-table"
    return "cap-table cap-prose-" + "-".join(map(str, prose))


def _prose_style(frame: pd.DataFrame) -> str:
    """CSS that sets the prose columns of this table flush left and lets them wrap.

    Every other cell stays on one line (a region never breaks as ``ap-`` / ``southeast``)
    and right-aligned, so numbers line up; the class is made of the prose columns'
    positions, so the same layout gives the same page.
    """
    prose = _prose_columns(frame)
    if not prose:
        return ""
    name = _table_class(frame).split()[-1]
    cells = ",".join(f".{name} td:nth-child({i + 1}),.{name} th:nth-child({i + 1})" for i in prose)
    return f"<style>{cells}{{text-align:left;white-space:normal;min-width:24em}}</style>"


#: Headers the weekly report's tables are shown under, for columns whose stored names (kept
#: as they are in the CSV and JSON files, which scripts read) say less to a person. A column
#: not named here is headed by its name with spaces for underscores.
HEADERS: dict[str, str] = {
    # the plan: verdicts, actions, orders
    "server_type": "server type",
    "servers_now": "servers now",
    "act_by": "act by (UTC)",
    "first_shortfall": "first shortfall (UTC)",
    "min_headroom": "lowest headroom",
    "needed_nk": "needed with N+k",
    "needed_loss": "needed if a region is lost",
    "safe_load": "safe load per server",
    "safe_load_source": "safe load from",
    "low": "low (5 %)",  # a learned safe load's bootstrap interval
    "high": "high (95 %)",
    "slo_ms": "latency SLO (ms)",
    # forecast accuracy and the backtest
    "run_id": "run",
    "cutoff": "cutoff (UTC)",
    "mase": "MASE",
    "mape": "MAPE",
    "smape": "sMAPE",
    "coverage_90": "hours in 90 % band",
    "peak_ape": "daily-peak error",
    # data quality
    "missing_hours": "missing hours",
    "masked_hours": "masked hours",
    "fallback": "baseline stood in",
    # resilience
    "slo_target": "SLO target",
    "error_budget_remaining": "error budget left",
    "known_hours": "hours known",
    "unknown_hours": "hours unknown",
    "burn_1h": "burn 1 h",
    "burn_6h": "burn 6 h",
    "burn_3d": "burn 3 d",
    "mttr_minutes": "MTTR (min)",
    "mttr_median_minutes": "median TTR (min)",
    "mttd_minutes": "MTTD (min)",
    "mtbf_hours": "MTBF (h)",
    "incidents_open": "open",
    "incidents_sev1": "sev1",
    "incidents_sev2": "sev2",
    "incidents_sev3": "sev3",
    "incidents_sev4": "sev4",
    "change_failure_rate": "change failure rate",
    "incident_id": "incident",
    "started_at": "started (UTC)",
    "detected_at": "detected (UTC)",
    "resolved_at": "resolved (UTC)",
    "deploy_id": "deploy",
    "preceding_events": "live-ops events in the 24 h before",
    # the store and the calendar (the explore notebook)
    "first_ts": "first hour (UTC)",
    "last_ts": "last hour (UTC)",
    "last_loaded_at": "last loaded (UTC)",
    "event_id": "event",
    "start_ts": "starts (UTC)",
    "end_ts": "ends (UTC)",
    "expected_uplift": "expected uplift",
}

#: How the plan's actions read in the report (``recommendations.csv`` keeps ``scale_up``).
_ACTIONS = {"scale_up": "scale up", "scale_down": "scale down"}


def _header(column: object, headers: Mapping[str, str] | None) -> str:
    """The header of ``column``: its name, or with ``headers`` its entry there, else its name
    with spaces for underscores."""
    name = str(column)
    if headers is None:
        return name
    return headers.get(name, name.replace("_", " "))


def _percent(headroom: float) -> str:
    if pd.isna(headroom):
        return ""
    if math.isinf(headroom):  # no servers now: any demand is a shortfall
        return "no servers"
    return f"{headroom * 100:+,.0f} %"


def _signed(cost: float) -> str:
    """A cost change, signed, rounded half away from zero as money is: a total of 8,756.50
    read +8,756 (Python's half to even) beside rows that add up to +8,757."""
    if pd.isna(cost):
        return ""
    if cost == 0:
        return "0"
    places = Decimal(1) if abs(cost) >= 10 else Decimal("0.01")
    # through the cents first, so a float sum such as 8756.499999999 counts as 8756.50
    exact = Decimal(repr(round(float(cost), 2))).quantize(places, rounding=ROUND_HALF_UP)
    return f"{exact:+,}"


def _signed_count(count: object) -> str:
    """A change in servers, signed: ``+96``, ``-5``, ``0``."""
    if count is None or pd.isna(count):
        return ""
    number = int(count)
    return f"{number:+,}" if number else "0"


def cost_header(currency: str | None) -> str:
    """The header of a weekly cost change: ``cost change / week (USD)`` when the fleet file
    names its ``currency``, else ``cost change / week (fleet cost units)``: a bare number
    would read as dollars whatever the file's costs are in."""
    unit = currency if currency else "fleet cost units"
    return f"cost change / week ({unit})"


def _among(frame: pd.DataFrame, pairs: Collection[tuple[str, str]]) -> pd.Series:
    """Whether each row's (region, service) is one of ``pairs``; all False without those
    columns."""
    if REGION not in frame or SERVICE not in frame:
        return pd.Series(False, index=frame.index, dtype=bool)
    chosen = set(pairs)
    keys = zip(frame[REGION], frame[SERVICE], strict=True)
    return pd.Series([key in chosen for key in keys], index=frame.index, dtype=bool)


#: How an overdue date to act by reads when the plan the week before did not ask for it.
FIRST_SEEN_OVERDUE = "(overdue, new this week)"

#: How an overdue date to act by reads when the plan the week before asked for the addition
#: by a later date, not yet reached when this plan starts (its date follows).
MOVED_EARLIER_OVERDUE = "(overdue; last week's plan said by"


def _moved_marker(date: pd.Timestamp) -> str:
    return f"{MOVED_EARLIER_OVERDUE} {_cell(date)})"


def plan_table(
    frame: pd.DataFrame,
    *,
    currency: str | None = None,
    new_overdue: Collection[tuple[str, str]] = (),
    moved_earlier: Mapping[tuple[str, str], pd.Timestamp] | None = None,
) -> HTML:
    """A plan table (the verdicts, the actions) as a reader wants it.

    The date to act by is headed as UTC, to the minute, and marked ``overdue`` when it has
    passed (the ``overdue`` column folds into it), :data:`FIRST_SEEN_OVERDUE` for the
    region/services in ``new_overdue`` (:func:`capacity.decision.overdue_first_seen`: last
    week's plan did not ask for them), :data:`MOVED_EARLIER_OVERDUE` and last week's date
    for those in ``moved_earlier`` (:func:`capacity.decision.overdue_moved_earlier`: last
    week's plan asked for them by a date not yet reached); headroom is a percentage of the
    servers now; cost changes are per week, headed with ``currency`` (the fleet file's
    ``currency``; :func:`cost_header`).

    Parameters
    ----------
    frame : pandas.DataFrame
        The plan's rows (its verdicts or its actions).
    currency : str, optional
        The fleet file's currency, for the cost headers.
    new_overdue : collection of (region, service)
        The overdue region/services last week's plan did not ask for.
    moved_earlier : mapping of (region, service) to pandas.Timestamp, optional
        The overdue region/services last week's plan asked for by a later date, and that
        date.

    Returns
    -------
    IPython.display.HTML
        The table.
    """
    shown = frame.copy()
    if "act_by" in shown:
        dates = shown["act_by"].map(_cell)
        if "overdue" in shown:
            late = shown["overdue"].fillna(False).astype(bool)
            fresh = late & _among(shown, new_overdue)
            dates = dates.where(~late, dates + " (overdue)")
            dates = dates.where(~fresh, shown["act_by"].map(_cell) + " " + FIRST_SEEN_OVERDUE)
            for key, before in (moved_earlier or {}).items():
                moved = late & _among(shown, [key])
                dates = dates.where(
                    ~moved, shown["act_by"].map(_cell) + " " + _moved_marker(before)
                )
        shown["act_by"] = dates
    shown = shown.drop(columns=["overdue"], errors="ignore")
    if "min_headroom" in shown:
        shown["min_headroom"] = shown["min_headroom"].map(_percent)
    if "cost_per_week_change" in shown:
        shown["cost_per_week_change"] = shown["cost_per_week_change"].map(_signed)
    if "change" in shown:
        shown["change"] = shown["change"].map(_signed_count)
    if "action" in shown:
        shown["action"] = shown["action"].map(lambda a: _ACTIONS.get(a, a))
    return table(shown, headers={**HEADERS, "cost_per_week_change": cost_header(currency)})


def _many(count: int) -> str:
    return f"{count} region/service" + ("" if count == 1 else "s")


def decision_line(
    recommendations: pd.DataFrame,
    *,
    cutoff: pd.Timestamp,
    currency: str | None = None,
    new_overdue: Collection[tuple[str, str]] = (),
    moved_earlier: Mapping[tuple[str, str], pd.Timestamp] | None = None,
) -> str:
    """The plan's decision in two or three sentences of Markdown, for the top of the report.

    Parameters
    ----------
    recommendations : pandas.DataFrame
        :func:`capacity.headroom.recommend`'s rows: ``region, service, action, change,
        act_by, overdue, cost_per_week_change``.
    cutoff : pandas.Timestamp
        When the plan is made (its start): an ``overdue`` date to act by was before it.
    currency : str, optional
        The fleet file's ``currency``; without one, costs are in "fleet cost units".
    new_overdue : collection of (region, service)
        The overdue additions last week's plan did not ask for
        (:func:`capacity.decision.overdue_first_seen`), named as such.
    moved_earlier : mapping of (region, service) to Timestamp, optional
        The overdue additions last week's plan asked for by a later date, not yet reached
        (:func:`capacity.decision.overdue_moved_earlier`), named with that date.

    Returns
    -------
    str
        How many servers to add and remove in how many region/services, the weekly cost
        change, which additions are overdue (order them now; those new this week named, and
        those last week's plan asked for by a later date, with it) and the next date to act
        by; or that no server is to be added or removed.
    """
    unit = currency if currency else "fleet cost units"
    up = recommendations[recommendations["action"] == "scale_up"]
    down = recommendations[recommendations["action"] == "scale_down"]
    if up.empty and down.empty:
        return "**Decision:** no servers to add or remove this week; hold every region/service."
    parts = []
    if len(up):
        parts.append(f"add {servers_text(int(up['change'].sum()))} in {_many(len(up))}")
    if len(down):
        parts.append(f"remove {servers_text(int(-down['change'].sum()))} in {_many(len(down))}")
    cost = float(recommendations["cost_per_week_change"].sum())
    text = f"**Decision:** {' and '.join(parts)}, {_signed(cost)} {unit} / week in all."
    late = up[up["overdue"].fillna(False).astype(bool)]
    if len(late):
        text += (
            f" {len(late)} of {len(up)} additions are overdue (their date to act by, which allows"
            f" for the procurement lead time, was before {cutoff:%Y-%m-%d %H:%M} UTC):"
            f" order them now ({_first_names(late)})."
        )
        fresh = late[_among(late, new_overdue)]
        if len(fresh):
            one = len(fresh) == 1
            text += (
                f" {len(fresh)} of them {'was' if one else 'were'} not in last week's plan:"
                f" overdue the first time a plan shows {'it' if one else 'them'}"
                f" ({_first_names(fresh)})."
            )
        moved = late[_among(late, list(moved_earlier or {}))]
        if len(moved):
            one = len(moved) == 1
            dated = first_few(
                [
                    f"{r}/{s} by {moved_earlier[(r, s)]:%Y-%m-%d %H:%M} UTC"
                    for r, s in zip(moved[REGION], moved[SERVICE], strict=True)
                ],
                DECISION_NAMES,
            )
            text += (
                f" {len(moved)} of them {'was' if one else 'were'} due later in last week's"
                f" plan, by a date still ahead when this plan starts: the forecast moved"
                f" {'it' if one else 'them'} earlier, no one left {'it' if one else 'them'}"
                f" undone ({dated})."
            )
    coming = up[~up.index.isin(late.index) & up["act_by"].notna()].sort_values("act_by")
    if len(coming):
        first = coming.iloc[0]
        text += (
            f" Next date to act by: {first['act_by']:%Y-%m-%d %H:%M} UTC"
            f" ({first[REGION]}/{first[SERVICE]}, {servers_text(int(first['change']))})."
        )
    return text


#: Region/services named in the decision's sentences before the rest are counted: a large
#: fleet's plan had listed 44 overdue pairs in its first paragraph.
DECISION_NAMES = 8


def _first_names(frame: pd.DataFrame) -> str:
    """The region/services of ``frame``, most overdue (earliest act-by) first: the first
    :data:`DECISION_NAMES` named, the rest counted (the verdict table lists every one)."""
    ordered = frame.sort_values("act_by", kind="stable") if "act_by" in frame else frame
    names = [f"{r}/{s}" for r, s in zip(ordered[REGION], ordered[SERVICE], strict=True)]
    return first_few(names, DECISION_NAMES)


#: Headers of :func:`changes_table`, for :func:`changes_since`'s columns.
_CHANGE_HEADERS = {
    "action_before": "action last week",
    "target_before": "target last week",
    "target_change": "change in target",
    "act_by_before": "act by last week (UTC)",
    "act_by": "act by (UTC)",
}


def changes_table(changes: pd.DataFrame) -> HTML:
    """:func:`changes_since` as a report table: dates to the minute, target changes signed,
    a region/service in one plan only with empty cells on the other side."""
    shown = changes.astype({c: object for c in changes.columns})
    for column in ("act_by_before", "act_by"):
        shown[column] = changes[column].map(_cell)
    shown["target_change"] = changes["target_change"].map(_signed_count)
    for column in ("action_before", "action"):
        shown[column] = changes[column].map(lambda a: _ACTIONS.get(a, a))
    return table(shown, headers={**HEADERS, **_CHANGE_HEADERS})


def changes_since_last_week(plans_dir: str | Path, week: str, current: pd.DataFrame) -> HTML:
    """The report's "what changed since last week": this plan's recommendations against the
    plan published for the week before in ``plans_dir``
    (:func:`capacity.decision.read_previous_plan`; :func:`changes_since_previous`).

    Parameters
    ----------
    plans_dir : str or Path
        The folder plans are published in.
    week : str
        This plan's ISO week.
    current : pandas.DataFrame
        This plan's recommendations.

    Returns
    -------
    IPython.display.HTML
        A line naming the earlier plan (week and run id) and how many region/services
        changed, then :func:`changes_table`; or a line saying there is no earlier plan.
    """
    return changes_since_previous(read_previous_plan(plans_dir, week), week, current)


def changes_since_previous(previous: PreviousPlan | None, week: str, current: pd.DataFrame) -> HTML:
    """:func:`changes_since_last_week` from the plan already read (``WeeklyPlan.previous``).

    Parameters
    ----------
    previous : PreviousPlan or None
        The plan published for the week before; None when there is none.
    week : str
        This plan's ISO week.
    current : pandas.DataFrame
        This plan's recommendations.

    Returns
    -------
    IPython.display.HTML
        As :func:`changes_since_last_week`.
    """
    if previous is None:
        return HTML(
            f"<p>No plan was published for {week_before(week)} in this plans folder: "
            "nothing to compare with.</p>"
        )
    changes = changes_since(previous.recommendations, current)
    named = f"Against the plan published for {previous.week} (run {html.escape(previous.run_id)}): "
    if changes.empty:
        return HTML(f"<p>{named}no action, target or date to act by changed.</p>")
    count = f"{_many(len(changes))} changed."
    return HTML(f"<p>{named}{count}</p>{changes_table(changes).data}")


#: Resilience figures that are fractions, shown as percentages with the decimals that tell
#: their changes apart (an availability moves in the thousandths of a percent): the trend's
#: figures, and the KPI table's columns of the same names.
_PERCENT_FIGURES = {
    "availability": 4,
    "slo_target": 4,
    "error_budget_remaining": 1,
    "change_failure_rate": 1,
}

#: Accuracy columns that are fractions (errors, the share of hours inside the 90 % band),
#: shown as percentages to a tenth; a MASE is a ratio to a naive forecast's error and stays.
_ACCURACY_PERCENTS = {"mape": 1, "coverage_90": 1, "peak_ape": 1}
#: Accuracy columns that are signed fractions (positive: the forecast was too high).
_ACCURACY_SIGNED = {"bias": 1}
#: Accuracy columns already in percent (the backtest's sMAPE).
_ACCURACY_IN_PERCENT = {"smape": 1}


def _as_percent(value: float, digits: int, *, scale: float = 100, sign: str = "") -> str:
    return "" if pd.isna(value) else f"{value * scale:{sign}.{digits}f} %"


def _percent_columns(
    frame: pd.DataFrame, digits: dict[str, int], *, scale: float = 100, sign: str = ""
) -> pd.DataFrame:
    """``frame`` with each of its columns named in ``digits`` as percentage text."""
    shown = frame.copy()
    for column, places in digits.items():
        if column in shown:
            shown[column] = shown[column].map(
                lambda v, p=places: _as_percent(v, p, scale=scale, sign=sign)
            )
    return shown


def kpi_table(kpis: pd.DataFrame) -> HTML:
    """Resilience KPIs (:func:`capacity.resilience.kpis`) with fractions as percentages.

    Parameters
    ----------
    kpis : pandas.DataFrame
        One row per region/service; ``availability``, ``slo_target``,
        ``error_budget_remaining`` and ``change_failure_rate`` are fractions.

    Returns
    -------
    IPython.display.HTML
        Two tables, each with the region and service: the SLO's figures (availability, target,
        budget, hours, burn rates, alert) and the incidents' and changes' (MTTR, MTTD, MTBF,
        counts, change failure rate); fractions in percent with the digits
        :func:`trend_table` gives the same figures. In one table the 24 columns had scrolled
        sideways on any screen. The second table leaves out the rows with no incident and
        no deploy (every figure zero or blank), a sentence counting them; when no row has
        either, one sentence says so instead of the table.
    """
    shown = _percent_columns(kpis, _PERCENT_FIGURES)
    keys = [c for c in (REGION, SERVICE) if c in shown]
    slo = [c for c in shown if c in _SLO_FIGURES]
    rest = [c for c in shown if c not in keys and c not in _SLO_FIGURES]
    parts = [
        (title, columns)
        for title, columns in (
            ("Availability and error budget", slo),
            ("Incidents and changes", rest),
        )
        if columns
    ]
    if len(parts) < 2:
        return table(shown, headers=HEADERS)
    first = table(shown[keys + slo], headers=HEADERS).data
    html_parts = [f"<p><b>Availability and error budget</b></p>{first}"]
    # a row with no incident and no deploy is zeros and blanks: said in a sentence, not shown
    # (at 40 region/services without an incident log, 41 rows of zeros)
    quiet = kpis[rest].apply(lambda column: column.fillna(0).eq(0)).all(axis=1)
    html_parts.append("<p><b>Incidents and changes</b></p>")
    if quiet.all():
        html_parts.append(f"<p>{_NOTHING_LOGGED}</p>")
    else:
        note = _FAILURES_NOTE if "failures" in rest else ""
        html_parts.append(note + table(shown.loc[~quiet, keys + rest], headers=HEADERS).data)
        if quiet.any():
            others = int(quiet.sum())
            who = "The other region/service" if others == 1 else f"The other {_many(others)}"
            html_parts.append(
                f"<p>{who} logged no incident and no deploy in the window: "
                "every figure of this table is zero or cannot be measured there.</p>"
            )
    return HTML("".join(html_parts))


#: What :func:`kpi_table` says instead of the incidents' and changes' table when no row has
#: an incident or a deploy.
_NOTHING_LOGGED = (
    "No incident and no deploy is logged in the window for any region/service, so there is "
    "no MTTR, MTTD, MTBF or change failure rate to show. If that is not so, import the logs: "
    "<code>capacity incidents import</code>, <code>capacity deploys import</code>."
)


#: Why the ``all`` row's failures are not the sum of the rows above it: the demo plan's rows
#: counted 8 failures and its ``all`` row 3, with nothing on the page saying why.
_FAILURES_NOTE = (
    "<p>Failures: incidents whose spans overlap count as one (a regional outage that opens an "
    "incident in each of its services is one failure of the region and of the fleet), so a "
    "group's failures, and the MTBF between them, are not the sum of its rows'. An incident "
    "still open at the window's end (a plan's cutoff) counts as open until then: the incidents "
    "that start while it is open are part of its failure.</p>"
)


#: The KPI columns of the first of :func:`kpi_table`'s two tables: the SLO and its budget,
#: from ``availability`` to ``alert`` in the KPI frame's own order.
_SLO_FIGURES = KPI_COLUMNS[KPI_COLUMNS.index("availability") : KPI_COLUMNS.index("alert") + 1]


#: Counts of hours in the data-quality table: whole numbers, even where a merge made them
#: floats.
_HOUR_COUNTS = ("hours", "missing_hours", "masked_hours")


def quality_table(quality: pd.DataFrame) -> HTML:
    """The plan's data quality per series, headed for people.

    Parameters
    ----------
    quality : pandas.DataFrame
        :attr:`capacity.weekly.WeeklyPlan.quality`: ``region, service, metric, hours,
        missing_hours, model, fallback, masked_hours, status``.

    Returns
    -------
    IPython.display.HTML
        The table: hour counts with thousands separators, ``fallback`` as yes/no.
    """
    shown = quality.copy()
    for column in _HOUR_COUNTS:
        if column in shown:
            shown[column] = shown[column].astype("Int64")
    return table(shown.astype(object), headers=HEADERS)


def incidents_table(incidents: pd.DataFrame) -> HTML:
    """Last week's incidents, times to the minute in UTC and the columns headed for people.

    Parameters
    ----------
    incidents : pandas.DataFrame
        :attr:`capacity.weekly.WeeklyPlan.incidents_week`: the incident log's columns and
        ``preceding_events``.

    Returns
    -------
    IPython.display.HTML
        The table.
    """
    return table(incidents, headers=HEADERS)


def accuracy_table(accuracy: pd.DataFrame, *, max_rows: int | None = None) -> HTML:
    """Forecast accuracy or a backtest, with its fractions as percentages to a tenth.

    Parameters
    ----------
    accuracy : pandas.DataFrame
        Rows of ``mape``, ``coverage_90``, ``peak_ape`` and/or ``bias`` as fractions, and
        ``smape`` already in percent (:func:`capacity.review.accuracy`, a backtest's scores);
        other columns, a ``mase`` and a ``pinball`` loss among them, are shown as they are.
    max_rows : int, optional
        Show the first rows only, as :func:`table` does.

    Returns
    -------
    IPython.display.HTML
        The table: every error and coverage as ``12.3 %``, a bias signed (``+2.2 %``).
    """
    shown = _percent_columns(accuracy, _ACCURACY_PERCENTS)
    shown = _percent_columns(shown, _ACCURACY_SIGNED, sign="+")
    shown = _percent_columns(shown, _ACCURACY_IN_PERCENT, scale=1)
    return table(shown, max_rows=max_rows, headers=HEADERS)


#: The backtest page's headers (``capacity backtest``'s ``backtest.html``): the metrics in words
#: with their units, for an analyst; ``metrics.csv`` and ``metrics.json`` keep the column names.
BACKTEST_PAGE_HEADERS: dict[str, str] = {
    "model": "model",
    "mase": "scaled error (MASE, below 1 beats the naive)",
    "smape": "symmetric error (sMAPE, %)",
    "coverage_90": "actuals inside the 5–95 % band (%)",
    "peak_ape": "daily-peak error (%)",
    "n": "values scored",
}


def backtest_page_table(overall: pd.DataFrame) -> HTML:
    """A backtest's overall scores as its page shows them: headers in words with units, and
    every error and share in percent (``peak_ape`` and ``coverage_90`` are fractions in the
    scores, ``smape`` already a percentage), to a tenth, without a ``%`` in each cell.

    Parameters
    ----------
    overall : pandas.DataFrame
        Columns of :data:`BACKTEST_PAGE_HEADERS` (some may be missing), as
        :meth:`capacity.comparison.Comparison.overall` gives them.

    Returns
    -------
    IPython.display.HTML
        The table; the scores themselves are not changed.
    """
    shown = overall.copy()
    for column, scale in (("smape", 1.0), ("coverage_90", 100.0), ("peak_ape", 100.0)):
        if column in shown:
            shown[column] = shown[column].map(
                lambda v, k=scale: "" if pd.isna(v) else f"{float(v) * k:,.1f}"
            )
    return table(shown, headers=BACKTEST_PAGE_HEADERS)


def backtest_note(ran: bool) -> str:
    """Markdown for a plan whose backtest has no rows to show.

    Parameters
    ----------
    ran : bool
        Whether the plan was asked to backtest (``capacity plan`` without ``--no-backtest``).

    Returns
    -------
    str
        One line: the backtest was skipped, or it gave no results.
    """
    if not ran:
        return (
            "The backtest against weekly seasonal naive was skipped for this plan "
            "(`--no-backtest`)."
        )
    return "The backtest against weekly seasonal naive gave no results for this plan."


#: What each baseline of a backtest does, in words: what the forecaster lost to.
_BASELINE_MEANS = {
    "seasonal naive (weekly)": "simply repeating the week before",
    "seasonal naive (daily)": "simply repeating the day before",
    "naive (last value)": "simply repeating the last value",
}

_WARNING_STYLE = "background:#fff3cd;border-left:4px solid #d39e00;padding:6px 10px;margin:8px 0"


def backtest_losses_line(backtest: pd.DataFrame) -> HTML:
    """A warning naming each series on which the plan's forecaster did worse than a baseline
    in the plan's backtest (:func:`capacity.decision.backtest_losses`), for the report's top.

    Parameters
    ----------
    backtest : pandas.DataFrame
        :attr:`capacity.weekly.WeeklyPlan.backtest`.

    Returns
    -------
    IPython.display.HTML
        A highlighted block: on how many of the backtested series the forecaster lost and
        what that means for the plan (its servers for those series rest on a forecast that
        did worse than the baseline: for the weekly seasonal naive, than repeating last
        week), then per series, worst first, the baseline, both MASEs, how much worse in
        percent and both daily-peak errors. Nothing when it lost nowhere or nothing was
        backtested.
    """
    losses = backtest_losses(backtest)
    if losses.empty:
        return HTML("")
    own = backtest[(backtest[MODEL] == OWN_MODEL) & backtest["mase"].notna()]
    total = len(own.drop_duplicates([REGION, SERVICE, METRIC]))
    means = [_BASELINE_MEANS.get(b, f"the baseline {b}") for b in losses["baseline"]]
    items = []
    for row in losses.itertuples(index=False):
        peak = ""
        if pd.notna(row.peak_ape) and pd.notna(row.baseline_peak_ape):
            peak = (
                f"; daily-peak error {row.peak_ape * 100:.1f} % against "
                f"{row.baseline_peak_ape * 100:.1f} %"
            )
        items.append(
            f"<li><b>{html.escape(f'{row.region}/{row.service}')}</b> "
            f"({html.escape(str(row.metric))}): MASE {row.mase:.3f} against "
            f"{row.baseline_mase:.3f} for {html.escape(str(row.baseline))}, "
            f"{_worse(row.worse_by)}{peak}.</li>"
        )
    one = len(losses) == 1
    kinds = sorted(set(means))
    than = kinds[0] if len(kinds) == 1 else f"a baseline ({', '.join(kinds)})"
    return HTML(
        f"<div class='cap-backtest-loss' style='{_WARNING_STYLE}'>"
        f"<p style='margin:0'><b>Warning: the forecaster did worse than a baseline in last "
        f"week's backtest on {len(losses)} of {total} series.</b> This plan sizes "
        f"{'that series' if one else 'those series'} on the same forecaster: "
        f"{'its' if one else 'their'} servers rest on a forecast that did worse than "
        f"{html.escape(than)}.</p>"
        f"<ul style='margin:4px 0'>{''.join(items)}</ul>"
        f"<p style='margin:0'>Check {'its target' if one else 'their targets'} against "
        f"last week's peaks before acting on {'it' if one else 'them'}; the backtest is in "
        "5. Forecast accuracy.</p></div>"
    )


def _worse(fraction: float) -> str:
    """How much larger an error is, in words: ``4.1 % worse``, or ``worse`` against 0."""
    if math.isinf(fraction):
        return "against a baseline that made no error"
    return f"{fraction * 100:.1f} % worse"


#: The trend directions :func:`trend_table` keeps with ``changed_only``.
_CHANGED = ("better", "worse")

#: The smallest change, as shown, that :func:`trend_table` lists with ``changed_only``, per
#: figure, in the unit shown (percentage points for fractions). Smaller changes are noise at a
#: plan's scale: 0.001 pp of availability is 24 s of downtime in four weeks, or 1 pp of a
#: 99.9 % SLO's error budget. A figure not named here (the counts) is listed on any change.
TREND_MIN_CHANGE = {
    "availability": 0.001,
    "error_budget_remaining": 1.0,
    "mttr_minutes": 1.0,
    "mttd_minutes": 1.0,
    "mtbf_hours": 1.0,
    "change_failure_rate": 1.0,
}


def _worth_a_row(row: pd.Series) -> bool:
    """Whether a trend row's change, as :func:`trend_table` shows it, reaches
    :data:`TREND_MIN_CHANGE` (a change that rounds to zero never does)."""
    digits = _PERCENT_FIGURES.get(row["figure"])
    if digits is None:
        values = [row[c] for c in ("previous", "current", "change") if pd.notna(row[c])]
        places = 0 if all(float(v).is_integer() for v in values) else 1
        shown = _shown_change(row, scale=1, digits=places)
        shown = round(shown, places)
    else:
        shown = round(_shown_change(row, scale=100, digits=digits), digits)
    least = TREND_MIN_CHANGE.get(row["figure"], 0.0)
    # a small tolerance: 0.0010 pp shown is 0.001 whatever its binary value
    return abs(shown) > 0 and abs(shown) >= least - 1e-9


def trend_table(trend: pd.DataFrame, *, changed_only: bool = False) -> HTML:
    """Resilience figures now against the period before, with changes that read at a glance.

    Fractions are percentages and their changes percentage points (``pp``); every change
    is signed, so a tiny change never shows as ``-0.000`` beside ``worse``.

    Parameters
    ----------
    trend : pandas.DataFrame
        From :func:`capacity.resilience.trend`: ``figure, previous, current, change,
        direction`` per region/service.
    changed_only : bool
        Keep only the figures that got ``better`` or ``worse`` by at least
        :data:`TREND_MIN_CHANGE` as shown (a change that rounds to zero is no change), with
        a line counting the smaller changes left out; when none is left, one line says so
        instead of an empty table.
    """
    if changed_only:
        moved = trend[trend["direction"].isin(_CHANGED)]
        worth = pd.Series([_worth_a_row(r) for _, r in moved.iterrows()], moved.index, bool)
        trend = moved[worth]
        small = len(moved) - len(trend)
        note = ""
        if small:
            note = (
                f"<p>{small:,} smaller {'change' if small == 1 else 'changes'} (under 1 pp of "
                "error budget, 0.001 pp of availability, 1 minute of MTTR or MTTD, 1 hour of "
                "MTBF or 1 pp of change failure rate, as shown) not listed.</p>"
            )
        if trend.empty:
            return HTML(
                "<p>No resilience figure got better or worse than the period before"
                f"{' by more than noise' if small else ''}.</p>{note}"
            )
        return HTML(trend_table(trend).data + note)
    shown = trend.copy().astype({"previous": object, "current": object, "change": object})
    for i, row in trend.iterrows():
        digits = _PERCENT_FIGURES.get(row["figure"])
        # A row's three figures share their decimals: 103 against 201.4 reads as 103.0.
        values = [row[c] for c in ("previous", "current", "change") if pd.notna(row[c])]
        places = 0 if all(float(v).is_integer() for v in values) else 1
        for column in ("previous", "current", "change"):
            value = row[column]
            if pd.isna(value):
                shown.at[i, column] = ""
            elif digits is None:
                if column == "change":
                    value = _shown_change(row, scale=1, digits=places)
                sign = "+" if column == "change" else ""
                shown.at[i, column] = f"{value:{sign},.{places}f}"
            elif column == "change":
                change = _shown_change(row, scale=100, digits=digits)
                shown.at[i, column] = f"{change:+.{digits}f} pp"
            else:
                shown.at[i, column] = _as_percent(value, digits)
    # the figure named as its column is headed in the KPI table above
    shown["figure"] = trend["figure"].map(lambda f: _header(f, HEADERS))
    return table(shown, headers=HEADERS)


def _shown_change(row: pd.Series, *, scale: float, digits: int) -> float:
    """A trend row's change as the difference of its two figures as shown (``scale`` times,
    to ``digits`` places), so that the row's arithmetic checks (58.3 % to 57.4 % is -0.9 pp,
    not the -0.8 of the unrounded figures); a change too small to show keeps its sign."""
    change = row["change"] * scale
    if pd.isna(row["previous"]) or pd.isna(row["current"]):
        return change
    shown = float(f"{row['current'] * scale:.{digits}f}") - float(
        f"{row['previous'] * scale:.{digits}f}"
    )
    shown = round(shown, digits)
    return shown if shown != 0 else math.copysign(0.0, change)


def timings_line(timings: dict[str, float]) -> HTML:
    """The plan's stage timings as a small, muted footnote for the end of a report.

    Parameters
    ----------
    timings : dict
        Seconds per stage, in the order they ran (:attr:`capacity.weekly.WeeklyPlan.timings`).

    Returns
    -------
    IPython.display.HTML
        One grey line under a rule, ``Stage timings (seconds): history 0.2, forecast 7.9, …``,
        pointing to ``manifest.json``, which keeps them with the notebook's and the export's;
        nothing when there are none.
    """
    if not timings:
        return HTML("")
    stages = ", ".join(f"{html.escape(str(k))} {v:.1f}" for k, v in timings.items())
    style = (
        "color:#777;font-size:11px;margin-top:2.5em;padding-top:6px;border-top:1px solid #e3e3e3"
    )
    return HTML(
        f"<p class='cap-footnote' style='{style}'>Stage timings (seconds): {stages}; "
        "with the notebook's and the export's in manifest.json.</p>"
    )


#: Region/services :func:`hint_line` lists with their reasons before the rest are named only,
#: as ``capacity recommend`` notes five (:data:`capacity.cli.common.HINT_NOTES_EACH`): at 40
#: region/services the report had listed 13 long bullets, and a fleet can have one per pair.
HINT_ITEMS = 5


def hint_line(safe: pd.DataFrame) -> str:
    """Which region/services are sized at the fleet file's ``safe_load_hint`` rather than a
    safe load learned from their telemetry, and why, as Markdown.

    Parameters
    ----------
    safe : pandas.DataFrame
        :func:`capacity.sizing.safe_loads`' rows (``region, service, safe_load, source,
        reason``).

    Returns
    -------
    str
        The hinted ones, a list item each with its load per server and the reason, the
        first :data:`HINT_ITEMS` of them; past those, one more item naming the first
        :data:`DECISION_NAMES` of the rest and counting the others, and where each is
        marked (``safe_load_source`` in ``recommendations.csv``) and its reason given
        (``capacity -v recommend``). Or a sentence saying every one is learned.
    """
    hinted = safe[safe["source"] != "learned"]
    if hinted.empty:
        return (
            "Every region/service is sized at a safe load per server learned from its "
            "telemetry (load per server against p99 latency)."
        )
    listed = hinted.head(HINT_ITEMS)
    items = "".join(
        f"\n- {r}/{s}: {load_text(load)} per server; {reason}"
        for r, s, load, reason in zip(
            listed[REGION], listed[SERVICE], listed["safe_load"], listed["reason"], strict=True
        )
    )
    rest = hinted.iloc[HINT_ITEMS:]
    if len(rest):
        names = [f"{r}/{s}" for r, s in zip(rest[REGION], rest[SERVICE], strict=True)]
        items += (
            f"\n- and {len(rest)} more: {first_few(names, DECISION_NAMES)}. Each is marked "
            "`hint` in the `safe_load_source` column of `recommendations.csv`; "
            "`capacity -v recommend` gives each one's reason."
        )
    return (
        f"**Sized at the fleet file's safe_load_hint, not learned from telemetry: "
        f"{len(hinted)} of {len(safe)} region/services.** Their targets rest on that guess:\n"
        f"{items}"
    )


def verdict_counts(status: pd.DataFrame) -> str:
    """One sentence: how many region/services need action, watching, or are fine."""
    counts = status["status"].value_counts()
    return (
        f"{counts.get('act', 0)} region/services need action, {counts.get('watch', 0)} to watch, "
        f"{counts.get('OK', 0)} OK."
    )


def warning_lines(warnings: list[str]) -> HTML:
    """The plan's warnings, each in a highlighted paragraph; nothing when there are none.
    The backtest's (:func:`capacity.decision.backtest_warning`) is left out: the report shows
    it in full under the decision (:func:`backtest_losses_line`)."""
    shown = [w for w in warnings if not w.startswith(BACKTEST_LOSS_WARNING)]
    return note_lines([f"warning: {w}." for w in shown])


def note_lines(lines: list[str]) -> HTML:
    """Lines that start ``note:`` or ``warning:`` (an event check's :meth:`notes`), each in a
    highlighted paragraph headed by its kind; nothing when there are none."""
    styles = {
        "warning": "background:#fff3cd;border-left:4px solid #d39e00",
        "note": "background:#eef4fb;border-left:4px solid #4a78b5",
    }
    items = []
    for line in lines:
        kind, sep, text = line.partition(": ")
        if not sep or kind not in styles:
            kind, text = "note", line
        style = f"{styles[kind]};padding:6px 10px;margin:8px 0"
        items.append(f"<p style='{style}'><b>{kind.capitalize()}:</b> {html.escape(text)}</p>")
    return HTML("".join(items))


def region_loss_lines(plan: WeeklyPlan) -> HTML:
    """A list: for each region, whether the fleet as it stands survives losing it.

    Parameters
    ----------
    plan : WeeklyPlan
        The plan whose region losses (``plan.survival``) are listed.

    Returns
    -------
    IPython.display.HTML
        An HTML list, a line per region.
    """
    items = []
    carried = carried_text([spec.demand_metric for spec in plan.fleet.services.values()])
    for loss in plan.survival:
        said = html.escape(loss.describe(carried))
        items.append(f"<li>Without <b>{html.escape(loss.lost)}</b>: {said}.</li>")
    return HTML("<ul>" + "".join(items) + "</ul>")


#: Headers of the region-loss table (:func:`region_loss_frame`'s columns).
_LOSS_HEADERS = {
    "lost": "region lost",
    "now": "with the servers now",
    "short_now": "short by (servers)",
    "where_now": "worst at (region/service, UTC)",
    "after_actions": "after the actions above",
    "short_after": "short by after (servers)",
}


def region_loss_table(plan: WeeklyPlan) -> HTML:
    """The region-loss survival table: each region lost, with the servers now and after the
    plan's targets (:func:`region_loss_frame`), a shortfall of 0 left as an empty cell."""
    frame = region_loss_frame(plan.need, plan.recommendations, plan.fleet)
    for column in ("short_now", "short_after"):
        frame[column] = frame[column].map(lambda n: f"{int(n):,}" if n else "")
    return table(frame, headers={**HEADERS, **_LOSS_HEADERS})


def standalone_page(
    title: str, paragraphs: list[str], frame: pd.DataFrame | HTML, figure_html: str
) -> str:
    """A self-contained HTML page: a title, plain-text paragraphs, a table and a figure.

    Parameters
    ----------
    title : str
        The page's title and heading (escaped here).
    paragraphs : list of str
        Plain text, one paragraph each (escaped here).
    frame : pandas.DataFrame or IPython.display.HTML
        Shown with :func:`table`, in a box that scrolls sideways on a narrow screen; a table
        already made (such as :func:`backtest_page_table`'s) is shown as it is.
    figure_html : str
        A plotly figure's ``to_html(full_html=False, include_plotlyjs=True)``, so the page
        opens offline.

    Returns
    -------
    str
        The page.
    """
    heading = html.escape(title)
    text = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    shown = table(frame) if isinstance(frame, pd.DataFrame) else frame
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{heading}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
        "</style></head><body>"
        f"<h1>{heading}</h1>{text}{shown.data}"
        f"{figure_html}</body></html>\n"
    )
