"""What the weekly report leads with and how its tables and charts read: the decision, the
orders per server type, the region-loss table, what changed since last week, prose columns,
capacity hover text, UTC axes."""

from __future__ import annotations

import re

import pandas as pd

from capacity import charts, decision, report
from capacity.config import load_fleet
from tests.notebook_data import FLEET, cells

CUTOFF = pd.Timestamp("2026-11-23T00:00Z")


def recommendations() -> pd.DataFrame:
    """Three region/services of the demo fleet: an overdue addition, a later one, a release."""
    return pd.DataFrame(
        {
            "region": ["eu-west", "na-east", "sa-east", "ap-southeast"],
            "service": ["game", "game", "chat", "matchmaking"],
            "action": ["scale_up", "scale_up", "scale_down", "hold"],
            "servers_now": [718, 812, 17, 63],
            "target": [1766, 1672, 12, 63],
            "change": [1048, 860, -5, 0],
            "act_by": [
                pd.Timestamp("2026-11-07 19:54", tz="UTC"),
                pd.Timestamp("2026-11-27 16:54", tz="UTC"),
                pd.NaT,
                pd.NaT,
            ],
            "overdue": [True, False, False, False],
            "cost_per_week_change": [59861.76, 49123.2, -57.12, 0.0],
        }
    )


def test_the_report_leads_with_what_to_add_and_remove_by_when_and_the_cost():
    line = report.decision_line(recommendations(), cutoff=CUTOFF, currency="USD")
    assert line.startswith(
        "**Decision:** add 1,908 servers in 2 region/services and remove 5 servers in 1 "
        "region/service, +108,928 USD / week in all."
    )
    # 59,861.76 + 49,123.20 - 57.12 = 108,927.84
    assert "1 of 2 additions are overdue" in line and "before 2026-11-23 00:00 UTC" in line
    assert "order them now (eu-west/game)" in line
    assert line.endswith("Next date to act by: 2026-11-27 16:54 UTC (na-east/game, 860 servers).")


def test_one_server_is_one_server_in_the_decision():
    # the demo's 2026-W48 plan read "remove 1 servers in 1 region/service"
    recs = recommendations()
    recs.loc[1, ["target", "change", "cost_per_week_change"]] = [813, 1, 57.12]
    recs.loc[2, ["target", "change", "cost_per_week_change"]] = [16, -1, -11.42]
    line = report.decision_line(recs, cutoff=CUTOFF, currency="USD")
    assert "add 1,049 servers in 2 region/services and remove 1 server in 1 region/service," in line
    assert line.endswith("Next date to act by: 2026-11-27 16:54 UTC (na-east/game, 1 server).")


def test_a_large_fleets_overdue_additions_are_named_most_overdue_first_then_counted():
    """A plan of 60 region/services had listed 44 overdue ones in its opening paragraph."""
    many = pd.DataFrame(
        {
            "region": [f"r{i:02d}" for i in range(12)],
            "service": ["game"] * 12,
            "action": ["scale_up"] * 12,
            "change": [10] * 12,
            # r11 is the most overdue, r00 the least
            "act_by": [CUTOFF - pd.Timedelta(days=1 + i) for i in range(12)],
            "overdue": [True] * 12,
            "cost_per_week_change": [1.0] * 12,
        }
    )
    line = report.decision_line(many, cutoff=CUTOFF, new_overdue={("r00", "game")})
    assert (
        "order them now (r11/game, r10/game, r09/game, r08/game, r07/game, r06/game, "
        "r05/game, r04/game and 4 more)."
    ) in line
    assert "overdue the first time a plan shows it (r00/game)." in line


def test_a_plan_with_nothing_to_change_says_so_and_costs_name_the_fleet_units():
    held = recommendations().iloc[[3]]
    assert "no servers to add or remove" in report.decision_line(held, cutoff=CUTOFF)
    only_down = recommendations().iloc[[2]]
    line = report.decision_line(only_down, cutoff=CUTOFF)
    assert line == (
        "**Decision:** remove 5 servers in 1 region/service, -57 fleet cost units / week in all."
    )


def test_orders_are_summed_per_server_type_with_the_earliest_date_to_act_by():
    orders = decision.order_frame(recommendations(), load_fleet(FLEET))
    assert orders.to_dict("records") == [
        {
            "server_type": "game-c6i-2xlarge",
            "add": 1908,
            "remove": 0,
            "cost_per_week_change": 108984.96,
            "act_by": pd.Timestamp("2026-11-07 19:54", tz="UTC"),
            "overdue": True,
            "where": "eu-west/game, na-east/game",
        },
        {
            "server_type": "chat-c6g-large",
            "add": 0,
            "remove": 5,
            "cost_per_week_change": -57.12,
            "act_by": pd.NaT,
            "overdue": False,
            "where": "sa-east/chat",
        },
    ]
    shown = cells(report.plan_table(orders, currency="USD").data)
    assert shown[:5] == ["game-c6i-2xlarge", "1,908", "0", "+108,985", "2026-11-07 19:54 (overdue)"]


def loss_need() -> pd.DataFrame:
    """One hour of game demand in the demo fleet's four regions, 10 players a server."""
    demand = {"ap-southeast": 300, "eu-west": 400, "na-east": 400, "sa-east": 100}
    now = {"ap-southeast": 40, "eu-west": 45, "na-east": 60, "sa-east": 20}
    return pd.DataFrame(
        {
            "region": list(demand),
            "service": "game",
            "ts": CUTOFF,
            "demand": list(demand.values()),
            "safe_load": 10.0,
            "servers_now": list(now.values()),
        }
    )


def test_region_loss_table_shows_survival_now_and_after_the_targets():
    # By the demo failover shares: losing eu-west sends 0.6 x 400 to na-east, which then
    # needs (400 + 240) / 10 = 64 of its 60; losing ap-southeast sends 0.35 x 300 to
    # eu-west: 51 of 45; losing na-east sends 200 to eu-west (60 of 45) and 140 to sa-east
    # (24 of 20); losing sa-east is carried by all.
    targets = pd.DataFrame(
        {
            "region": ["ap-southeast", "eu-west", "na-east", "sa-east"],
            "service": "game",
            "target": [40, 59, 64, 24],
        }
    )
    frame = decision.region_loss_frame(loss_need(), targets, load_fleet(FLEET))
    assert frame.to_dict("list") == {
        "lost": ["ap-southeast", "eu-west", "na-east", "sa-east"],
        "now": ["short", "short", "short", "survives"],
        "short_now": [6, 4, 15, 0],
        "where_now": [
            "eu-west/game at 2026-11-23 00:00",
            "na-east/game at 2026-11-23 00:00",
            "eu-west/game at 2026-11-23 00:00",
            "",
        ],
        "after_actions": ["survives", "survives", "short", "survives"],
        "short_after": [0, 0, 1, 0],
    }


def test_prose_columns_read_flush_left_and_labels_stay_on_one_line():
    reason = "peak need 28 servers at 2026-12-05 12:00 UTC for p95 demand 75,706 (24 for demand)"
    page = report.table(
        pd.DataFrame({"region": ["ap-southeast"], "change": [5], "reason": [reason]})
    ).data
    assert "<table class='cap-table cap-prose-2'>" in page
    assert ".cap-prose-2 td:nth-child(3)" in page and "text-align:left" in page
    assert re.search(r"\.cap-table td,\.cap-table th\{[^}]*white-space:nowrap", page)
    assert cells(page) == ["ap-southeast", "5", reason]
    short = report.table(pd.DataFrame({"region": ["eu-west"], "change": [5]})).data
    assert "<table class='cap-table'>" in short and "cap-prose" not in short


def test_capacity_lines_hover_as_servers_not_demand_units():
    hours = pd.date_range(CUTOFF, periods=3, freq="h")
    key = {"region": "eu-west", "service": "game", "ts": hours}
    forecast = pd.DataFrame({**key, "metric": "ccu", "q0.5": [100.0, 200.0, 150.0]})
    need = pd.DataFrame(
        {
            **key,
            "safe_load": 10.0,
            "servers_now": 20,
            "needed_nk": [11, 21, 16],
            "required": [12, 25, 18],
        }
    )
    history = pd.DataFrame({**key, "value": [90.0, 95.0, 99.0]})
    figure = charts.fan_chart(history, forecast, need, pd.DataFrame(), "eu-west", "game")
    lines = {t.name: t for t in figure.data if t.name in {"capacity now", "needed with N+k"}}
    assert list(lines["capacity now"].y) == [200.0, 200.0, 200.0]  # drawn in players
    assert list(lines["capacity now"].customdata) == [20, 20, 20]  # hovered in servers
    assert list(lines["needed with N+k"].customdata) == [11, 21, 16]
    assert "%{customdata:,} servers" in lines["needed with N+k"].hovertemplate
    # the legend reads as drawn: forecast bands and median, actuals, then capacity
    assert figure.layout.legend.traceorder == "normal"
    named = [t.name for t in figure.data if t.showlegend is not False and t.name]
    assert named[-3:] == ["capacity now", "needed with N+k", "needed with region loss"]


def test_chart_times_are_written_as_a_grid_or_numbers_not_iso_text():
    """Each hour had been 30 characters of ISO text in the report, most of a fan chart."""
    hours = pd.date_range(CUTOFF, periods=48, freq="h")
    key = {"region": "eu-west", "service": "game", "ts": hours}
    forecast = pd.DataFrame({**key, "metric": "ccu", "q0.05": 1.0, "q0.5": 2.0, "q0.95": 3.0})
    need = pd.DataFrame(
        {**key, "safe_load": 10.0, "servers_now": 20, "needed_nk": 11, "required": 12}
    )
    # history with a gap: its times cannot be a grid
    past = pd.date_range(CUTOFF - pd.Timedelta(hours=10), periods=10, freq="h").delete(4)
    history = pd.DataFrame({"region": "eu-west", "service": "game", "ts": past, "value": 5.0})
    figure = charts.fan_chart(history, forecast, need, pd.DataFrame(), "eu-west", "game")
    assert figure.layout.xaxis.type == "date"
    median = next(t for t in figure.data if t.name == "forecast median")
    assert median.x is None
    assert pd.Timestamp(median.x0, unit="ms", tz="UTC") == CUTOFF and median.dx == 3_600_000
    actual = next(t for t in figure.data if t.name == "actual")
    assert [pd.Timestamp(x, unit="ms", tz="UTC") for x in actual.x] == list(past)
    assert "2026-11-23T" not in figure.to_json()  # no time written out as text


def test_a_trend_row_shares_its_decimals():
    trend = pd.DataFrame(
        {
            "region": ["all"],
            "service": ["all"],
            "figure": ["mttr_minutes"],
            "previous": [103.0],
            "current": [201.4],
            "change": [98.4],
            "direction": ["worse"],
        }
    )
    assert cells(report.trend_table(trend).data)[3:6] == ["103.0", "201.4", "+98.4"]


def test_region_loss_table_heads_its_columns_and_leaves_no_shortfall_empty():
    from types import SimpleNamespace

    targets = pd.DataFrame(
        {"region": ["ap-southeast", "eu-west", "na-east", "sa-east"], "service": "game"}
    ).assign(target=[40, 60, 64, 24])
    plan = SimpleNamespace(need=loss_need(), recommendations=targets, fleet=load_fleet(FLEET))
    page = report.region_loss_table(plan).data
    assert re.findall(r"<th>([^<]*)</th>", page) == [
        "region lost",
        "with the servers now",
        "short by (servers)",
        "worst at (region/service, UTC)",
        "after the actions above",
        "short by after (servers)",
    ]
    assert cells(page)[6:12] == [
        "eu-west",
        "short",
        "4",
        "na-east/game at 2026-11-23 00:00",
        "survives",
        "",
    ]


def test_the_daily_charts_name_their_axis_as_utc_days():
    hours = pd.date_range(CUTOFF, periods=48, freq="h")
    need = pd.DataFrame({"region": "eu-west", "service": "game", "ts": hours, "headroom": 0.2})
    heatmap = charts.headroom_heatmap(need)
    assert heatmap.layout.xaxis.title.text == "day (UTC)"
    assert heatmap.layout.xaxis.hoverformat == "%Y-%m-%d"
    burn = pd.DataFrame({"region": "eu-west", "day": hours[::24], "burn": [0.2, 0.4]})
    assert charts.burn_chart(burn).layout.xaxis.title.text == "day (UTC)"


def test_the_burn_chart_draws_no_region_in_the_budget_lines_red():
    """plotly's colours drew the second region (the demo's ap-southeast) in the red of the
    dashed line at 1; eight regions get eight colours, none of them that red."""
    days = pd.date_range(CUTOFF, periods=3, freq="D")
    burn = pd.DataFrame(
        [{"region": f"r{i}", "day": d, "burn": 0.3} for i in range(8) for d in days]
    )
    figure = charts.burn_chart(burn)
    colours = [trace.line.color for trace in figure.data]
    [line] = figure.layout.shapes
    assert len(set(colours)) == 8
    assert line.line.color not in colours and "rgb(214, 39, 40)" not in colours


def test_what_changed_since_last_week_reads_the_plan_published_before(tmp_path):
    current = recommendations()
    before = current.copy()
    before.loc[0, ["target", "act_by"]] = [1700, pd.Timestamp("2026-11-08 19:54", tz="UTC")]
    before.loc[2, "action"] = "hold"
    before = before.drop(index=3)  # ap-southeast/matchmaking is new this week
    # nothing published for 2026-W47 yet: said so, in one line
    empty = report.changes_since_last_week(tmp_path, "2026-W48", current).data
    assert empty.startswith("<p>No plan was published for 2026-W47")
    folder = tmp_path / "2026-W47"
    folder.mkdir()
    before.to_csv(folder / "recommendations.csv", index=False)  # as the plan writes it
    (folder / "manifest.json").write_text('{"run_id": "20261116T060000Z-abc123"}')
    changes = decision.changes_since(decision.previous_plan(tmp_path, "2026-W48")[2], current)
    assert changes[["region", "service"]].to_dict("list") == {
        "region": ["ap-southeast", "eu-west", "sa-east"],
        "service": ["matchmaking", "game", "chat"],
    }
    page = report.changes_since_last_week(tmp_path, "2026-W48", current).data
    assert "Against the plan published for 2026-W47 (run 20261116T060000Z-abc123): " in page
    assert "3 region/services changed." in page
    rows = cells(page)
    assert rows[:9] == ["ap-southeast", "matchmaking", "", "hold", "", "63", "", "", ""]
    assert rows[9:18] == [
        "eu-west",
        "game",
        "scale up",  # the report's words; recommendations.csv keeps scale_up
        "scale up",
        "1,700",  # thousands separated
        "1,766",
        "+66",
        "2026-11-08 19:54",
        "2026-11-07 19:54",
    ]
    # unchanged: one line, no table
    current.to_csv(folder / "recommendations.csv", index=False)
    same = report.changes_since_last_week(tmp_path, "2026-W48", current).data
    assert same.endswith("no action, target or date to act by changed.</p>")


def test_a_date_to_act_by_overdue_in_both_plans_is_no_change_by_itself():
    # the demo's sa-east/chat: short from each plan's first hour, so its date to act by came
    # a week later in each plan (2026-10-25, then 2026-11-01), overdue in both, target 21
    current = recommendations()
    before = current.copy()
    before.loc[0, "act_by"] = pd.Timestamp("2026-10-31 19:54", tz="UTC")  # overdue then too
    before.loc[1, ["act_by", "overdue"]] = [pd.Timestamp("2026-12-04 16:54", tz="UTC"), False]
    changes = decision.changes_since(before, current)
    assert changes[["region", "service"]].to_dict("list") == {
        "region": ["na-east"],
        "service": ["game"],
    }
    # without the overdue flags, as before: every date that moved
    bare = decision.changes_since(before.drop(columns="overdue"), current)
    assert bare["region"].tolist() == ["eu-west", "na-east"]
    # a target changed too: listed, with both dates
    before.loc[0, "target"] = 1700
    changed = decision.changes_since(before, current)
    assert changed["region"].tolist() == ["eu-west", "na-east"]
    assert changed.loc[0, "act_by_before"] == pd.Timestamp("2026-10-31 19:54", tz="UTC")


def test_the_week_before_the_first_iso_week_is_last_years_last():
    assert decision.week_before("2027-W01") == "2026-W53"
    assert decision.week_before("2026-W01") == "2025-W52"
    assert decision.week_before("2026-w48") == "2026-W47"


def test_the_most_urgent_region_services_come_first():
    status = pd.DataFrame(
        {
            "region": ["a", "b", "c", "d", "e"],
            "service": ["game"] * 5,
            "status": ["OK", "act", "watch", "act", "act"],
            "act_by": [pd.NaT, CUTOFF + pd.Timedelta(days=3), pd.NaT, CUTOFF, CUTOFF],
            "min_headroom": [0.5, -0.1, 0.05, -0.2, -0.4],
        }
    )
    # act (earliest date first, then the lowest headroom), then watch, then OK
    assert decision.urgency_order(status) == [
        ("e", "game"),
        ("d", "game"),
        ("b", "game"),
        ("c", "game"),
        ("a", "game"),
    ]


def _fleet_frames(pairs):
    hours = pd.date_range(CUTOFF, periods=4, freq="h")
    rows = [{"region": r, "service": s, "ts": ts} for r, s in pairs for ts in hours]
    key = pd.DataFrame(rows)
    forecast = key.assign(metric="ccu", **{"q0.05": 1.0, "q0.5": 2.0, "q0.95": 3.0})
    need = key.assign(safe_load=10.0, servers_now=20, needed_nk=11, required=12)
    history = key.assign(ts=key["ts"] - pd.Timedelta(hours=4), value=5.0)
    return history, forecast, need


def test_a_large_fleet_gets_charts_for_the_most_urgent_and_a_menu_for_the_rest():
    """A 60-pair plan had drawn 60 demand charts, some fifty screens of the report."""
    pairs = [(f"r{i:02d}", "game") for i in range(5)]
    history, forecast, need = _fleet_frames(pairs)
    urgent = [pairs[3], pairs[0], pairs[4], pairs[1], pairs[2]]
    # up to the limit: a chart each, by region and service, as before
    few = charts.fan_charts(history, forecast, need, pd.DataFrame(), urgent, limit=5)
    assert [f.layout.title.text for f in few] == [
        f"r{i:02d} / game: demand and capacity" for i in range(5)
    ]
    # past it: the most urgent in their order, then one chart with a menu for the others
    many = charts.fan_charts(history, forecast, need, pd.DataFrame(), urgent, limit=2)
    assert [f.layout.title.text for f in many[:2]] == [
        "r03 / game: demand and capacity",
        "r00 / game: demand and capacity",
    ]
    assert len(many) == 3
    menu = many[2]
    [dropdown] = menu.layout.updatemenus
    labels = [button.label for button in dropdown.buttons]
    assert labels == ["r01 / game", "r02 / game", "r04 / game"]  # by region and service
    each = len(menu.data) // 3
    assert len(menu.data) == 3 * each and each == len(few[0].data)
    assert [trace.visible for trace in menu.data] == [True] * each + [False] * (2 * each)
    picked = dropdown.buttons[1].args
    assert picked[0]["visible"] == [False] * each + [True] * each + [False] * each
    assert picked[1]["title.text"] == "r02 / game: demand and capacity"
    assert menu.layout.title.text == "r01 / game: demand and capacity"


def test_a_schedule_of_many_series_shows_one_regions_lines_at_a_time():
    hours = pd.date_range(CUTOFF, periods=3, freq="h")
    rows = [
        {"region": r, "service": s, "ts": ts, "min_servers": 10}
        for r in ("a", "b", "c")
        for s in ("chat", "game", "matchmaking", "voice", "store")
        for ts in hours
    ]
    figure = charts.schedule_chart(pd.DataFrame(rows))
    assert [t.visible for t in figure.data] == [True] * 5 + [False] * 10  # region a's
    [menu] = figure.layout.updatemenus
    assert [b.label for b in menu.buttons] == ["a", "b", "c"]
    assert menu.buttons[2].args[0]["visible"] == [False] * 10 + [True] * 5
    # one region's five lines in five colours, the same colour for a service in every region
    assert len({t.line.color for t in figure.data[:5]}) == 5
    assert [t.line.color for t in figure.data[5:10]] == [t.line.color for t in figure.data[:5]]
    # twelve series or fewer: every line, no menu (the demo's report)
    few = charts.schedule_chart(pd.DataFrame([r for r in rows if r["service"] != "voice"][:36]))
    assert not few.layout.updatemenus and all(t.visible is None for t in few.data)


def test_the_weekly_cost_in_all_adds_up_to_the_rows_when_it_ends_in_half_a_unit():
    """A 14-day demo plan's costs summed to 8,756.50 USD, and the decision read "+8,756"
    (half to even) while its verdict rows and orders per server type, rounded half up as
    money is, added up to +8,757."""
    costs = [57.12, 5483.52, 342.72, 342.72, 57.12, -2227.68, -142.8, 45.7, 4512.48, 285.6]
    rows = pd.DataFrame(
        {
            "region": [f"r{i}" for i in range(len(costs))],
            "service": ["game"] * len(costs),
            "action": ["scale_down" if c < 0 else "scale_up" for c in costs],
            "change": [-1 if c < 0 else 1 for c in costs],
            "act_by": [CUTOFF + pd.Timedelta(days=1)] * len(costs),
            "overdue": [False] * len(costs),
            "cost_per_week_change": costs,
        }
    )
    line = report.decision_line(rows, cutoff=CUTOFF, currency="USD")
    shown = report.plan_table(rows[["region", "cost_per_week_change"]], currency="USD").data
    cells = re.findall(r"<td>([+-][\d,]+)</td>", shown)
    assert len(cells) == len(costs)
    total = sum(int(c.replace(",", "")) for c in cells)
    assert total == 8757
    assert f"{total:+,} USD / week in all." in line


def test_a_trend_change_is_the_difference_of_the_figures_shown():
    """The change was worked out before rounding: 58.3 % to 57.4 % read -0.8 pp."""
    trend = pd.DataFrame(
        {
            "region": ["ap-southeast", "all", "all", "eu-west"],
            "service": ["matchmaking", "all", "all", "game"],
            "figure": ["error_budget_remaining", "availability", "mttr_minutes", "availability"],
            "previous": [0.58265, 0.9995456, 30.04, 0.99958],
            "current": [0.57415, 0.9995727, 30.96, 0.999580004],
            "change": [-0.0085, 0.0000271, 0.92, 0.000000004],
            "direction": ["worse", "better", "worse", "better"],
        }
    )
    rows = cells(report.trend_table(trend).data)
    assert rows[3:6] == ["58.3 %", "57.4 %", "-0.9 pp"]
    assert rows[10:13] == ["99.9546 %", "99.9573 %", "+0.0027 pp"]
    assert rows[17:20] == ["30.0", "31.0", "+1.0"]
    # a change too small to show keeps the sign of the direction beside it
    assert rows[24:28] == ["99.9580 %", "99.9580 %", "+0.0000 pp", "better"]
