"""What a weekly plan asks of its reader, as tidy frames: the changes per server type, the
region-loss survival before and after the plan's targets, what changed since the plan
published the week before, and the series on which the plan's forecaster lost to a baseline in
its backtest. :mod:`capacity.report` shows them; scripts can use them as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capacity.columns import METRIC, MODEL, OWN_MODEL, REGION, SERVICE
from capacity.config import FleetConfig
from capacity.headroom import region_loss_survival
from capacity.texts import first_few

__all__ = [
    "BACKTEST_LOSS_COLUMNS",
    "BACKTEST_LOSS_WARNING",
    "MASE_DECIMALS",
    "PreviousPlan",
    "backtest_losses",
    "backtest_warning",
    "changes_since",
    "order_frame",
    "overdue_first_seen",
    "overdue_moved_earlier",
    "previous_plan",
    "read_previous_plan",
    "region_loss_frame",
    "series_names",
    "stale_comparison_note",
    "urgency_order",
    "week_after",
    "week_before",
]


def series_names(frame: pd.DataFrame) -> str:
    """``region/service`` of each row of ``frame``, comma-separated."""
    return ", ".join(f"{r}/{s}" for r, s in zip(frame[REGION], frame[SERVICE], strict=True))


def order_frame(recommendations: pd.DataFrame, fleet: FleetConfig) -> pd.DataFrame:
    """The plan's changes per server type: what to order, or release, and by when.

    Parameters
    ----------
    recommendations : pandas.DataFrame
        :func:`capacity.headroom.recommend`'s rows.
    fleet : FleetConfig
        Which server type each service runs on.

    Returns
    -------
    pandas.DataFrame
        One row per server type with a change: ``server_type, add, remove,
        cost_per_week_change, act_by`` (the earliest date to act by of its additions),
        ``overdue`` (that date was before the plan) and ``where`` (the region/services it
        adds to or removes from), sorted by that date.
    """
    changed = recommendations[recommendations["change"] != 0].copy()
    columns = ["server_type", "add", "remove", "cost_per_week_change", "act_by", "overdue"]
    if changed.empty:
        return pd.DataFrame(columns=[*columns, "where"])
    changed["server_type"] = [fleet.services[s].server_type for s in changed[SERVICE]]
    rows = []
    for server_type, part in changed.groupby("server_type", sort=True):
        adds = part[part["change"] > 0]
        dated = adds.dropna(subset=["act_by"]).sort_values("act_by")
        rows.append(
            {
                "server_type": server_type,
                "add": int(adds["change"].sum()),
                "remove": int(-part.loc[part["change"] < 0, "change"].sum()),
                "cost_per_week_change": round(float(part["cost_per_week_change"].sum()), 2),
                "act_by": dated["act_by"].iloc[0] if len(dated) else pd.NaT,
                "overdue": bool(dated["overdue"].iloc[0]) if len(dated) else False,
                "where": series_names(part),
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values("act_by", na_position="last", kind="stable").reset_index(drop=True)


def region_loss_frame(
    need: pd.DataFrame, recommendations: pd.DataFrame, fleet: FleetConfig
) -> pd.DataFrame:
    """For each region, whether losing it is survived now and after the plan's actions.

    Parameters
    ----------
    need : pandas.DataFrame
        From :func:`capacity.headroom.hourly_need`.
    recommendations : pandas.DataFrame
        Their ``target`` servers per region/service.
    fleet : FleetConfig
        The failover map.

    Returns
    -------
    pandas.DataFrame
        ``lost, now, short_now, where_now, after_actions, short_after``: ``now`` and
        ``after_actions`` read a :attr:`capacity.headroom.RegionLoss.status` (``survives``,
        ``short``, ``not checked``, ``no failover`` or ``only region``); a shortfall is
        the most servers one surviving region/service lacks, ``where_now`` that
        region/service and hour (UTC). The demand sized for is the plan's quantile, without
        N+k (a lost region is the failure the spare servers are for).
    """
    targets = recommendations.loc[:, [REGION, SERVICE, "target"]]
    after_need = need.drop(columns=["servers_now"]).merge(targets, on=[REGION, SERVICE])
    after_need = after_need.rename(columns={"target": "servers_now"})
    now = region_loss_survival(need, fleet)
    after = {loss.lost: loss for loss in region_loss_survival(after_need, fleet)}

    return pd.DataFrame(
        [
            {
                "lost": loss.lost,
                "now": loss.status,
                "short_now": loss.shortfall,
                "where_now": loss.where,
                "after_actions": after[loss.lost].status,
                "short_after": after[loss.lost].shortfall,
            }
            for loss in now
        ],
        columns=["lost", "now", "short_now", "where_now", "after_actions", "short_after"],
    )


def week_before(week: str) -> str:
    """The ISO week before ``week``: ``2026-W48`` gives ``2026-W47``, ``2027-W01`` ``2026-W53``.

    Parameters
    ----------
    week : str
        An ISO week as :func:`capacity.weekly.parse_week` returns it (``2026-W48``).

    Returns
    -------
    str
        The week before, written the same way.
    """
    year, number = (int(part) for part in week.upper().split("-W"))
    monday = dt.date.fromisocalendar(year, number, 1) - dt.timedelta(days=7)
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def week_after(week: str) -> str:
    """The ISO week after ``week``: ``2026-W47`` gives ``2026-W48``, ``2026-W53`` ``2027-W01``.

    Parameters
    ----------
    week : str
        An ISO week as :func:`capacity.weekly.parse_week` returns it (``2026-W47``).

    Returns
    -------
    str
        The week after, written the same way.
    """
    year, number = (int(part) for part in week.upper().split("-W"))
    monday = dt.date.fromisocalendar(year, number, 1) + dt.timedelta(days=7)
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


@dataclass(frozen=True)
class PreviousPlan:
    """The plan published for the week before, as a later plan reads it.

    Attributes
    ----------
    week : str
        Its ISO week (``2026-W47``).
    run_id : str
        The run id its ``manifest.json`` records.
    sha256 : str
        The SHA-256 of its ``recommendations.csv`` as read, so that a plan that compared
        itself with it can tell when it was republished.
    recommendations : pandas.DataFrame
        That file, ``act_by`` and ``first_shortfall`` as UTC times.
    """

    week: str
    run_id: str
    sha256: str
    recommendations: pd.DataFrame

    def reference(self) -> dict[str, str]:
        """What a manifest records of it: ``week``, ``run_id`` and ``recommendations_sha256``."""
        return {"week": self.week, "run_id": self.run_id, "recommendations_sha256": self.sha256}


def read_previous_plan(plans_dir: str | Path, week: str) -> PreviousPlan | None:
    """The plan published for the week before ``week`` in ``plans_dir``, if there is one.

    Parameters
    ----------
    plans_dir : str or Path
        The folder plans are published in (``capacity plan --out``), one folder per week.
    week : str
        This plan's ISO week (``2026-W48``).

    Returns
    -------
    PreviousPlan or None
        None when that week has no published plan (its ``recommendations.csv`` and
        ``manifest.json``) there.
    """
    before = week_before(week)
    folder = Path(plans_dir) / before
    table, manifest = folder / "recommendations.csv", folder / "manifest.json"
    if not (table.is_file() and manifest.is_file()):
        return None
    run_id = str(json.loads(manifest.read_text(encoding="utf-8")).get("run_id", ""))
    content = table.read_bytes()  # hashed and parsed from the same bytes
    frame = pd.read_csv(io.BytesIO(content))
    for column in ("act_by", "first_shortfall"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return PreviousPlan(before, run_id, hashlib.sha256(content).hexdigest(), frame)


def previous_plan(plans_dir: str | Path, week: str) -> tuple[str, str, pd.DataFrame] | None:
    """:func:`read_previous_plan` as a tuple ``(week, run_id, recommendations)``; None when
    the week before has no published plan in ``plans_dir``."""
    earlier = read_previous_plan(plans_dir, week)
    return None if earlier is None else (earlier.week, earlier.run_id, earlier.recommendations)


def stale_comparison_note(plans_dir: str | Path, week: str) -> str | None:
    """A note when the plan published for the week after ``week`` compared itself with
    another plan of ``week`` than the one now published (or with none: a week planned late).

    Parameters
    ----------
    plans_dir : str or Path
        The folder plans are published in.
    week : str
        The week just published (``2026-W46``).

    Returns
    -------
    str or None
        The note, naming the later week, what its report compared with and the rerun that
        compares it with this plan; None when there is no later plan, it has no readable
        ``manifest.json``, or it compared itself with this very plan.
    """
    later = week_after(week)
    try:
        recorded = json.loads((Path(plans_dir) / later / "manifest.json").read_text("utf-8"))
        compared = recorded["inputs"]["previous_plan"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    current = read_previous_plan(plans_dir, later)
    if current is None or compared == current.reference():
        return None
    was = (
        f"no plan for {week}"
        if not compared
        else f"the plan of {week} published before (run {compared.get('run_id', '?')})"
    )
    return (
        f'the plan published for {later} compared itself with {was}: its "what changed since '
        'last week" and its overdue additions new this week are not measured against this plan. '
        f"Fix: capacity plan --week {later} --force (same --db, --config and --out)"
    )


def overdue_first_seen(
    current: pd.DataFrame, previous: pd.DataFrame | None
) -> set[tuple[str, str]]:
    """The additions that are overdue the first time a plan asks for them.

    Parameters
    ----------
    current : pandas.DataFrame
        This plan's recommendations (``region, service, action, overdue``).
    previous : pandas.DataFrame or None
        The recommendations of the plan published the week before; None when there is none
        (then nothing can be told to be new, and nothing is returned).

    Returns
    -------
    set of (region, service)
        The ``scale_up`` rows of ``current`` whose date to act by was before the plan while
        the week before's plan did not ask to scale them up: the reader hears of the order
        only once it is late.
    """
    if previous is None:
        return set()
    asked = {
        (r, s)
        for r, s, a in zip(previous[REGION], previous[SERVICE], previous["action"], strict=True)
        if a == "scale_up"
    }
    late = current[
        (current["action"] == "scale_up") & current["overdue"].fillna(False).astype(bool)
    ]
    return {(r, s) for r, s in zip(late[REGION], late[SERVICE], strict=True) if (r, s) not in asked}


def overdue_moved_earlier(
    current: pd.DataFrame, previous: pd.DataFrame | None, cutoff: pd.Timestamp
) -> dict[tuple[str, str], pd.Timestamp]:
    """The overdue additions that last week's plan asked for by a date not yet reached.

    Parameters
    ----------
    current : pandas.DataFrame
        This plan's recommendations (``region, service, action, overdue``).
    previous : pandas.DataFrame or None
        The recommendations of the plan published the week before (``region, service,
        action, act_by``); None when there is none (nothing is returned).
    cutoff : pandas.Timestamp
        This plan's start: an ``overdue`` date to act by is before it.

    Returns
    -------
    dict of (region, service) to pandas.Timestamp
        The ``scale_up`` rows of ``current`` overdue now that the week before's plan also
        scaled up, but by a date at or after ``cutoff``, with that date: whoever followed last
        week's plan is not late, the forecast moved the date before this plan. Such an
        addition is not one :func:`overdue_first_seen` returns, nor an order left undone.
    """
    if previous is None:
        return {}
    start = pd.Timestamp(cutoff)
    start = start.tz_localize("UTC") if start.tzinfo is None else start
    asked = {
        (r, s): pd.Timestamp(a)
        for r, s, action, a in zip(
            previous[REGION], previous[SERVICE], previous["action"], previous["act_by"], strict=True
        )
        if action == "scale_up" and pd.notna(a) and pd.Timestamp(a) >= start
    }
    late = current[
        (current["action"] == "scale_up") & current["overdue"].fillna(False).astype(bool)
    ]
    keys = zip(late[REGION], late[SERVICE], strict=True)
    return {key: asked[key] for key in keys if key in asked}


def changes_since(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """What changed from an earlier plan's recommendations to this one's.

    Parameters
    ----------
    previous, current : pandas.DataFrame
        Recommendations (``region, service, action, target, act_by``), the earlier plan's
        and this plan's.

    Returns
    -------
    pandas.DataFrame
        One row per region/service whose action, target or date to act by changed, or that
        is in one plan only: ``region, service, action_before, action, target_before,
        target, target_change, act_by_before, act_by``; empty when nothing changed. When
        both frames have an ``overdue`` column, a date to act by overdue in both plans is no
        change by itself: a shortfall from a plan's first hour puts the date the lead time
        before that hour, a week later in each plan, while the order is as late as it was.
    """
    keep = [REGION, SERVICE, "action", "target", "act_by"]
    late = "overdue" in previous and "overdue" in current
    extra = ["overdue"] if late else []
    merged = previous.loc[:, keep + extra].merge(
        current.loc[:, keep + extra], on=[REGION, SERVICE], how="outer", suffixes=("_before", "")
    )

    def differs(a: pd.Series, b: pd.Series) -> pd.Series:
        return ~((a == b) | (a.isna() & b.isna()))

    moved = differs(merged["act_by_before"], merged["act_by"])
    if late:
        both = (merged["overdue_before"] == True) & (merged["overdue"] == True)  # noqa: E712
        moved &= ~both
    changed = (
        differs(merged["action_before"], merged["action"])
        | differs(merged["target_before"], merged["target"])
        | moved
    )
    merged["target_change"] = merged["target"] - merged["target_before"]
    columns = [
        REGION,
        SERVICE,
        "action_before",
        "action",
        "target_before",
        "target",
        "target_change",
        "act_by_before",
        "act_by",
    ]
    out = merged.loc[changed, columns].sort_values([REGION, SERVICE]).reset_index(drop=True)
    for column in ("target_before", "target", "target_change"):
        out[column] = out[column].astype("Int64")
    return out


#: Columns of :func:`backtest_losses`.
BACKTEST_LOSS_COLUMNS = (
    REGION,
    SERVICE,
    METRIC,
    "baseline",
    "mase",
    "baseline_mase",
    "worse_by",
    "peak_ape",
    "baseline_peak_ape",
)

#: The decimals a backtest's MASE is shown to (:func:`capacity.report.accuracy_table`): a
#: forecaster loses only where the figures the reader sees differ.
MASE_DECIMALS = 3


def backtest_losses(backtest: pd.DataFrame, *, own_model: str = OWN_MODEL) -> pd.DataFrame:
    """The series on which the plan's forecaster did worse than a baseline in a backtest.

    Parameters
    ----------
    backtest : pandas.DataFrame
        One row per series and model (:attr:`capacity.weekly.WeeklyPlan.backtest`):
        ``region, service, metric, model, mase`` and, when present, ``peak_ape``; a row
        without a ``mase`` (a series too young to backtest) is left out.
    own_model : str
        The ``model`` name of the forecaster the plan sizes on; every other model is a
        baseline.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BACKTEST_LOSS_COLUMNS`, one row per series whose forecaster's MASE,
        to the :data:`MASE_DECIMALS` the report shows, is above the best baseline's:
        ``baseline`` names that baseline, ``worse_by`` is ``mase / baseline_mase - 1`` (0.04:
        its mean error 4 % larger), ``peak_ape`` and ``baseline_peak_ape`` are the two
        models' mean errors on the daily peak (fractions; NaN without a ``peak_ape``
        column). Sorted by ``worse_by``, largest first; empty when the forecaster did at
        least as well as every baseline everywhere, or ``backtest`` has no scores.
    """
    empty = pd.DataFrame(columns=list(BACKTEST_LOSS_COLUMNS))
    needed = {REGION, SERVICE, METRIC, MODEL, "mase"}
    if backtest.empty or not needed <= set(backtest.columns):
        return empty
    scored = backtest.dropna(subset=["mase"])
    if "peak_ape" not in scored:
        scored = scored.assign(peak_ape=float("nan"))
    keys = [REGION, SERVICE, METRIC]
    own = scored[scored[MODEL] == own_model]
    baselines = scored[scored[MODEL] != own_model].sort_values("mase", kind="stable")
    best = baselines.drop_duplicates(keys)  # each series' best baseline
    pairs = own.loc[:, [*keys, "mase", "peak_ape"]].merge(
        best.loc[:, [*keys, MODEL, "mase", "peak_ape"]].rename(
            columns={MODEL: "baseline", "mase": "baseline_mase", "peak_ape": "baseline_peak_ape"}
        ),
        on=keys,
    )
    lost = pairs[
        pairs["mase"].round(MASE_DECIMALS) > pairs["baseline_mase"].round(MASE_DECIMALS)
    ].copy()
    if lost.empty:
        return empty
    lost["worse_by"] = lost["mase"] / lost["baseline_mase"] - 1
    lost = lost.sort_values(["worse_by", *keys], ascending=[False, True, True, True])
    return lost.loc[:, list(BACKTEST_LOSS_COLUMNS)].reset_index(drop=True)


#: How :func:`backtest_warning` begins: the report, which shows the losses in a block of
#: their own, leaves that warning out of its list of warnings.
BACKTEST_LOSS_WARNING = "the forecaster did worse than a baseline in last week's backtest"


def backtest_warning(backtest: pd.DataFrame, *, own_model: str = OWN_MODEL) -> str | None:
    """One line for the plan's warnings (the manifest, ``capacity plan``'s stderr) when the
    forecaster lost to a baseline in the plan's backtest (:func:`backtest_losses`).

    Parameters
    ----------
    backtest : pandas.DataFrame
        :attr:`capacity.weekly.WeeklyPlan.backtest`.
    own_model : str
        The ``model`` name of the forecaster the plan sizes on.

    Returns
    -------
    str or None
        ``the forecaster did worse than a baseline in last week's backtest on 2 of 12
        series: na-east/matchmaking (MASE 1.154 against 1.099 for SeasonalNaive(168)), ...;
        their servers rest on it``; None when it lost nowhere. A weekly job that reads only
        the manifest had not been told.
    """
    losses = backtest_losses(backtest, own_model=own_model)
    if losses.empty:
        return None
    scored = backtest[(backtest[MODEL] == own_model) & backtest["mase"].notna()]
    total = len(scored.drop_duplicates([REGION, SERVICE, METRIC]))
    named = [
        f"{row.region}/{row.service} (MASE {row.mase:.{MASE_DECIMALS}f} against "
        f"{row.baseline_mase:.{MASE_DECIMALS}f} for {row.baseline})"
        for row in losses.itertuples(index=False)
    ]
    return (
        f"{BACKTEST_LOSS_WARNING} on {len(losses)} of {total} series: {first_few(named)}; the "
        "plan sizes them on that forecaster all the same, so check their targets against last "
        "week's peaks"
    )


#: The order of the verdicts in :func:`urgency_order`: what to act on first.
_VERDICT_RANK = {"act": 0, "watch": 1, "OK": 2}


def urgency_order(status: pd.DataFrame) -> list[tuple[str, str]]:
    """The region/services of a plan's verdict table, most urgent first.

    Parameters
    ----------
    status : pandas.DataFrame
        :func:`capacity.weekly.status_table`: ``region, service, status, act_by,
        min_headroom``.

    Returns
    -------
    list of (str, str)
        ``act`` before ``watch`` before ``OK``; within ``act`` the earliest date to act by
        first (the overdue ones lead), within each the lowest headroom first, then by region
        and service.
    """
    ranked = status.assign(
        _rank=status["status"].map(_VERDICT_RANK).fillna(len(_VERDICT_RANK)),
        _act_by=pd.to_datetime(status["act_by"], utc=True),
    ).sort_values(
        ["_rank", "_act_by", "min_headroom", REGION, SERVICE],
        na_position="last",
        kind="stable",
    )
    return list(zip(ranked[REGION], ranked[SERVICE], strict=True))
