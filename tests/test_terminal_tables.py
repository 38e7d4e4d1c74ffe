"""The terminal tables of ``kpis``, ``status`` and ``recommend``: within 100 columns, every
figure of the CSV/JSON shown, read for people (they were 327, 128 and 318 columns wide)."""

from __future__ import annotations

import io
import itertools
import json
import re
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.demo import build_demo_store, generate_demo
from capacity.terminal import percent, wrap
from capacity.terminal_tables import recommend_table
from tests.conftest import HEADER


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("terminal")
    generate_demo(folder / "fleet", days=35)
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    return db, folder / "fleet" / "fleet.yaml"


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def pct(value: float, places: int) -> str:
    return "-" if pd.isna(value) else f"{value * 100:.{places}f}%"


def num(value: float, places: int) -> str:
    return "-" if pd.isna(value) else f"{value:,.{places}f}"


def kpi_cells(row: pd.Series) -> list[list[str]]:
    """A kpis row as each of the three tables should show it, written out independently."""
    keys = [row["region"], row["service"]]
    sev = [f"{row[f'incidents_sev{i}']:,}" for i in range(1, 5)]
    return [
        [
            *keys,
            pct(row["availability"], 4),
            pct(row["slo_target"], 4),
            pct(row["error_budget_remaining"], 1),
            *(num(row[f"burn_{w}"], 3) for w in ("1h", "6h", "3d")),
            row["alert"],
        ],
        [
            *keys,
            f"{row['incidents']:,}",
            f"{row['incidents_open']:,}",
            *sev,
            f"{row['failures']:,}",
            f"{row['deploys']:,}",
            pct(row["change_failure_rate"], 1),
        ],
        [
            *keys,
            *(num(row[c], 1) for c in ("mttr_minutes", "mttr_median_minutes", "mttd_minutes")),
            num(row["mtbf_hours"], 1),
            f"{row['known_hours']:,}",
            f"{row['unknown_hours']:,}",
        ],
    ]


def test_kpis_table_gives_the_figures_the_plan_reports_resilience_table_gives(demo):
    """The fleet's availability read 99.943% here and 99.9429 % in the plan report's
    resilience table, its burn rates to two decimals here and three there: the same figures,
    rounded two ways. The terminal now gives the report's digits."""
    import re

    from capacity.report import kpi_table

    db, config = demo
    common = ("kpis", "--db", str(db), "--config", str(config))
    table = run(*common).stdout
    frame = pd.read_csv(io.StringIO(run(*common, "--format", "csv").stdout))
    page = kpi_table(frame).data
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    fleet = next(re.findall(r"<td>([^<]*)</td>", r) for r in rows if r.startswith("<td>all</td>"))
    terminal = next(line.split() for line in table.splitlines() if line.startswith("all "))
    # region, service, availability, SLO target, budget left, burn 1h, 6h, 3d
    shown = [cell.replace("%", " %") for cell in terminal[2:8]]
    # the report's first table: availability, SLO target, budget left, hours known and
    # unknown, then the burn rates
    assert shown == [*fleet[2:5], *fleet[7:10]], (terminal, fleet)


@pytest.mark.parametrize("by", ["region,service", "region", "service", ""])
def test_kpis_table_fits_100_columns_with_every_figure_of_the_csv(demo, by):
    db, config = demo
    common = ("kpis", "--db", str(db), "--config", str(config), "--by", by)
    table = run(*common).stdout
    frame = pd.read_csv(io.StringIO(run(*common, "--format", "csv").stdout))
    assert widest(table) <= 100, table
    first, *rest = table.split("\n\n")
    window, first = first.split("\n", 1)
    assert window == "2026-10-26 00:00 to 2026-11-23 00:00 UTC"
    blocks = [first, *rest]
    assert [b.splitlines()[0] for b in blocks] == [
        "Availability and error budget (burn: budget spent per budget allowed):",
        "Incidents and deploys:",
        "Times (minutes to repair and detect, hours between failures) and hours measured:",
    ]
    assert blocks[0].splitlines()[2].split() == [
        *("region", "service", "availability", "target", "left", "1h", "6h", "3d", "alert")
    ]
    for i, block in enumerate(blocks):
        rows = [line.split() for line in block.splitlines()[3:]]
        assert rows == [kpi_cells(row)[i] for _, row in frame.iterrows()], block
    if by == "region,service":
        # the demo's figures, read as a person would: 99.9429% available, MTTR 201.4 min
        fleet = [line for line in table.splitlines() if line.startswith("all ")]
        assert fleet[0].split()[2:5] == ["99.9429%", "99.7667%", "75.5%"], fleet
        assert "-" in blocks[2].splitlines()[3].split()  # no incident: no MTTR, not NaN
        assert "NaN" not in table and "nan" not in table


def test_status_tables_fit_100_columns_with_every_figure_of_the_json(demo, tmp_path):
    db, _ = demo
    for by_metric in (False, True):
        flag = ("--by-metric",) if by_metric else ()
        common = ("status", "--db", str(db), "--now", "2026-11-01", *flag)
        table = run(*common).stdout
        payload = json.loads(run(*common, "--format", "json").stdout)
        assert widest(table) <= 100, table
        lines = table.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("Telemetry ("))
        loaded = {s["last_loaded_at"] for s in payload["series"]}
        [when] = loaded  # one load built the store: said once, above the table
        assert lines[start + 1] == (
            f"  last loaded, every row: {pd.Timestamp(when):%Y-%m-%d %H:%M} UTC"
        )
        rows = [line.split() for line in lines[start + 4 : lines.index("", start)]]
        series = pd.DataFrame(payload["series"])
        if not by_metric:
            series = series.groupby(["region", "service"], as_index=False).agg(
                metrics=("metric", "count"),
                first_ts=("first_ts", "min"),
                last_ts=("last_ts", "max"),
                rows=("rows", "sum"),
                missing_hours=("missing_hours", "max"),
                gaps=("gaps", "max"),
            )
        expected = [
            [
                row["region"],
                row["service"],
                row["metric"] if by_metric else str(row["metrics"]),
                *f"{pd.Timestamp(row['first_ts']):%Y-%m-%d %H:%M}".split(),
                *f"{pd.Timestamp(row['last_ts']):%Y-%m-%d %H:%M}".split(),
                f"{row['rows']:,}",
                f"{row['missing_hours']:,}",
                f"{row['gaps']:,}",
            ]
            for _, row in series.iterrows()
        ]
        assert rows == expected
        # each event: its figures on a line, its name on the next, indented; a window
        # repeated weekly once, with every one's id (fold_weekly)
        n = len(payload["events_ahead"])
        events = re.split(rf"Events in the next 28d \({n}(?:; [a-z ]+)?\):\n", table)[1]
        entries: list[tuple[str, list[str]]] = []
        for line in events.splitlines()[2:]:
            if line.startswith("  "):
                entries[-1][1].append(line.strip())
            else:
                entries.append((line, []))
        by_id = {event["event_id"]: event for event in payload["events_ahead"]}
        seen: list[str] = []
        for first, below in entries:
            event = by_id[first.split()[0]]
            uplift = event["expected_uplift"]
            assert first.split() == [
                event["event_id"],
                *f"{pd.Timestamp(event['start_ts']):%Y-%m-%d %H:%M}".split(),
                *f"{pd.Timestamp(event['end_ts']):%Y-%m-%d %H:%M}".split(),
                event["kind"],
                "-" if uplift is None or np.isnan(uplift) else f"x{uplift:g}",
                *", ".join(event["regions"]).split(),
            ]
            text = " ".join(below)
            if text == event["name"]:
                seen.append(event["event_id"])
                continue
            ids = text[text.rindex("(") + 1 : -1].split(", ")
            assert text.startswith(f"{event['name']}: weekly, {len(ids)} times"), text
            starts = [pd.Timestamp(by_id[i]["start_ts"]) for i in ids]
            assert all(b - a == pd.Timedelta(days=7) for a, b in itertools.pairwise(starts))
            assert {by_id[i]["name"] for i in ids} == {event["name"]}
            seen += ids
        assert sorted(seen) == sorted(by_id) and n > 0  # every event, once
    # a later load of one series: each row says when it was last loaded, on its own line
    copy = tmp_path / "store.duckdb"
    shutil.copy(db, copy)
    extra = tmp_path / "extra.csv"
    extra.write_text(HEADER + "2026-11-23T00:00:00Z,eu-west,game,ccu,100\n")
    run("ingest", str(extra), "--db", str(copy))
    with duckdb.connect(str(copy)) as con:  # the build a day before this load, at fixed times
        con.execute(
            "UPDATE loads SET loaded_at = CASE WHEN load_id = (SELECT max(load_id) FROM loads) "
            "THEN TIMESTAMPTZ '2026-11-23 09:30:00+00' "
            "ELSE TIMESTAMPTZ '2026-11-22 09:30:00+00' END"
        )
    table = run("status", "--db", str(copy), "--now", "2026-11-24").stdout
    assert widest(table) <= 100, table
    lines = table.splitlines()
    game = lines.index(next(line for line in lines if line.startswith("eu-west       game")))
    assert lines[game].split()[5:7] == ["2026-11-23", "00:00"]
    later, earlier = lines[game + 1], lines[game - 1]
    assert later.startswith("  last loaded ") and earlier.startswith("  last loaded ")
    assert earlier == "  last loaded 2026-11-22 09:30 UTC"
    assert later == "  last loaded 2026-11-23 09:30 UTC"


def recs_frame() -> pd.DataFrame:
    """A scale-down, a hold and a large overdue scale-up, with the long names of the demo."""
    t = pd.Timestamp
    return pd.DataFrame(
        {
            "region": ["ap-southeast", "eu-west", "na-east"],
            "service": ["matchmaking", "chat", "game"],
            "servers_now": [10_000, 40, 812],
            "needed": [50, 38, 10_400],
            "needed_nk": [51, 39, 10_401],
            "needed_loss": [60, 40, 16_720],
            "target": [60, 40, 16_720],
            "action": ["scale_down", "hold", "scale_up"],
            "change": [-9_940, 0, 15_908],
            "first_shortfall": [pd.NaT, pd.NaT, t("2026-12-18T17:00Z")],
            "act_by": [pd.NaT, pd.NaT, t("2026-11-27T16:54Z")],
            "overdue": [False, False, True],
            "cost_per_week_change": [-567_974.52, 0.0, 908_647.2],
            "reason": ["r", "r", "r"],
        }
    )


def test_recommend_table_reads_scale_downs_holds_and_long_units_within_100_columns():
    text = recommend_table(recs_frame(), k=2, unit="fleet cost units")
    lines = text.splitlines()
    assert widest(text) <= 100, text
    assert lines[1].split() == [
        *("region", "service", "now", "demand", "N+2", "region", "loss", "target", "change"),
        *("fleet", "cost", "units"),
    ]
    assert lines[2].split() == [
        *("ap-southeast", "matchmaking", "10,000", "50", "51", "60", "60", "-9,940"),
        "-567,974.52",
    ]
    assert lines[3] == "  scale down by 9,940; no hour short"
    assert lines[4].split()[-2:] == ["0", "0.00"]  # no change: no sign
    assert lines[5] == "  hold; no hour short"
    assert lines[6].split()[2:] == [
        *("812", "10,400", "10,401", "16,720", "16,720", "+15,908", "+908,647.20")
    ]
    assert lines[7] == (
        "  scale up by 15,908; act by 2026-11-27 16:54 UTC (overdue); first hour short "
        "2026-12-18 17:00 UTC"
    )


def test_percentages_and_wrapped_text():
    assert percent(3)(0.999589) == "99.959%"
    assert percent(3)(0.9999996) == ">99.999%"  # not 100% while anything failed
    assert percent(3)(1.0) == "100.000%"
    assert percent(1)(-0.371) == "-37.1%" and percent(1)(np.nan) == "-"
    text = wrap("word " * 40, first="- ")
    assert widest(text) <= 100 and text.startswith("- word")
    assert all(line.startswith("  word") for line in text.splitlines()[1:])


def test_status_folds_a_window_repeated_weekly_keeping_every_id_and_date():
    """At 8 regions status listed 47 events, 32 of them weekly maintenance."""
    from capacity.terminal_tables import event_table, fold_weekly

    monday = pd.Timestamp("2026-11-30 05:00", tz="UTC")
    weekly = [monday + pd.Timedelta(weeks=w) for w in range(3)]
    events = pd.DataFrame(
        {
            "event_id": ["EV-1", "EV-2", "EV-3", "EV-9", "EV-4"],
            "start_ts": [weekly[0], weekly[1], weekly[2], weekly[0], weekly[0]],
            "end_ts": [t + pd.Timedelta(hours=2) for t in weekly]
            + [weekly[0] + pd.Timedelta(hours=2), weekly[0] + pd.Timedelta(hours=3)],
            "kind": ["maintenance"] * 5,
            "name": ["Patch eu-west"] * 3 + ["Patch eu-west (long)", "Patch na-east"],
            "regions": ["eu-west"] * 4 + ["na-east"],
            "expected_uplift": [float("nan")] * 5,
        }
    ).sort_values("start_ts", kind="stable")
    folded = fold_weekly(events)
    assert list(folded["event_id"]) == ["EV-1", "EV-9", "EV-4"]
    text = event_table(folded)
    assert (
        "  Patch eu-west: weekly, 3 times, the last starting 2026-12-14 05:00 (EV-1, EV-2, EV-3)"
    ) in text.splitlines()
    assert "  Patch na-east" in text.splitlines() and widest(text) <= 100
    # windows not a week apart stay an event each
    uneven = events.assign(
        start_ts=[weekly[0], weekly[1], weekly[2] + pd.Timedelta(days=1)] + [weekly[0]] * 2
    )
    uneven = uneven.assign(end_ts=uneven["start_ts"] + pd.Timedelta(hours=2))
    assert len(fold_weekly(uneven)) == 5
