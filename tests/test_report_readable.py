"""The weekly report's tables read as a person reads them: headers in words, not the CSV's
snake_case names; whole numbers with thousands separators, changes signed, durations to a
tenth, yes/no for flags. The CSV and JSON files keep their machine names (tests in
test_plan.py and test_plan_published.py read them)."""

from __future__ import annotations

import re

import pandas as pd

from capacity import report
from tests.notebook_data import cells


def headers(page: str) -> list[str]:
    return re.findall(r"<th>([^<]*)</th>", page)


def test_the_verdict_table_separates_thousands_and_signs_the_change():
    status = pd.DataFrame(
        {
            "region": ["eu-west", "sa-east"],
            "service": ["game", "chat"],
            "status": ["act", "OK"],
            "action": ["scale_up", "scale_down"],
            "servers_now": [718, 17],
            "target": [1766, 12],
            "change": [1048, -5],
            "act_by": [pd.Timestamp("2026-11-07 19:54", tz="UTC"), pd.NaT],
            "overdue": [True, False],
            "cost_per_week_change": [59861.76, -57.12],
            "min_headroom": [-1.46, 0.3],
        }
    )
    page = report.plan_table(status, currency="USD").data
    assert headers(page) == [
        "region",
        "service",
        "status",
        "action",
        "servers now",
        "target",
        "change",
        "act by (UTC)",
        "cost change / week (USD)",
        "lowest headroom",
    ]
    rows = [re.sub(r"<[^>]+>", "", c) for c in cells(page)]
    assert rows[:10] == [
        "eu-west",
        "game",
        "act",
        "scale up",
        "718",
        "1,766",  # was 1766
        "+1,048",  # was 1048
        "2026-11-07 19:54 (overdue)",
        "+59,862",
        "-146 %",
    ]
    assert rows[13:17] == ["scale down", "17", "12", "-5"]


def test_the_actions_reason_and_safe_load_columns_are_headed_in_words():
    recommendations = pd.DataFrame(
        {
            "region": ["eu-west"],
            "service": ["game"],
            "needed_nk": [1324],
            "needed_loss": [1766],
            "first_shortfall": [pd.Timestamp("2026-12-04 11:00", tz="UTC")],
            "safe_load": [397.04],
            "safe_load_source": ["learned"],
        }
    )
    page = report.plan_table(recommendations).data
    assert headers(page) == [
        "region",
        "service",
        "needed with N+k",
        "needed if a region is lost",
        "first shortfall (UTC)",
        "safe load per server",
        "safe load from",
    ]
    assert cells(page)[2:6] == ["1,324", "1,766", "2026-12-04 11:00", "397.0"]


def test_a_safe_load_and_its_interval_are_shown_to_a_tenth_alike():
    """The notebooks' safe-load tables showed a learned load as 3,165.7 beside the bounds of
    its interval as 3,101 and 3,230: one quantity, two roundings in one row."""
    frame = pd.DataFrame(
        {"safe_load": [3165.66, 397.02], "low": [3100.6, 390.0], "high": [3230.04, 9.5]}
    )
    assert cells(report.table(frame, headers=report.HEADERS).data) == [
        *("3,165.7", "3,100.6", "3,230.0"),
        *("397.0", "390.0", "9.5"),
    ]


def test_a_latency_slo_is_shown_as_the_fleet_file_writes_it():
    """The notebooks' safe-load tables showed a p99 SLO of 100 ms as 100.0 (and 8 ms as
    8.000), where the fleet file writes 100."""
    frame = pd.DataFrame({"slo_ms": [100.0, 8.0, 99.5, 1500.0, 2.25]})
    assert cells(report.table(frame).data) == ["100", "8", "99.5", "1,500", "2.25"]


def test_peak_demand_is_shown_to_the_unit_as_the_terminal_writes_it():
    """check-event's report showed a peak of 525.3 requests a second as 525.3 (and 8.25 as
    8.250) where its terminal table printed 525 (and 8); below 10 both keep a decimal or two,
    since a quiet service's 0.35 requests a second, written 0, still needs a server."""
    from capacity.terminal import demand

    frame = pd.DataFrame(
        {"service": ["chat", "voice", "game", "admin"], "peak_demand": [525.3, 8.25, 1e6, 0.35]}
    )
    page = report.plan_table(frame).data
    assert headers(page) == ["service", "peak demand"]
    assert cells(page)[1::2] == [demand(v) for v in frame["peak_demand"]]
    assert cells(page)[1::2] == ["525", "8.2", "1,000,000", "0.35"]


def test_data_quality_counts_hours_with_separators_and_says_yes_or_no():
    quality = pd.DataFrame(
        {
            "region": ["eu-west", "sa-east"],
            "service": ["game", "chat"],
            "metric": ["ccu", "rps"],
            "hours": [2688, 2688],
            "missing_hours": [0, 6],
            "model": ["prophet", "snaive"],
            "fallback": [False, True],
            "masked_hours": [0.0, float("nan")],  # a series the forecast summary lacks
            "status": ["ok", "fallback"],
        }
    )
    page = report.quality_table(quality).data
    assert headers(page) == [
        "region",
        "service",
        "metric",
        "hours",
        "missing hours",
        "model",
        "baseline stood in",
        "masked hours",
        "status",
    ]
    assert cells(page) == [
        "eu-west",
        "game",
        "ccu",
        "2,688",
        "0",
        "prophet",
        "no",
        "0",
        "ok",
        "sa-east",
        "chat",
        "rps",
        "2,688",
        "6",
        "snaive",
        "yes",
        "",
        "fallback",
    ]


def test_the_resilience_kpis_are_headed_in_words_and_durations_read_to_a_tenth():
    kpis = pd.DataFrame(
        {
            "region": ["all"],
            "service": ["all"],
            "availability": [0.999574],
            "slo_target": [0.997667],
            "error_budget_remaining": [0.817],
            "known_hours": [8046],
            "burn_1h": [0.182],
            "mttr_minutes": [201.4],
            "mttd_minutes": [5.75],
            "mtbf_hours": [54.8],
            "incidents_sev1": [3],
            "change_failure_rate": [0.0],
        }
    )
    page = report.kpi_table(kpis).data
    # two tables, each keyed by region and service: the SLO's figures, then the incidents'
    assert headers(page) == [
        "region",
        "service",
        "availability",
        "SLO target",
        "error budget left",
        "hours known",
        "burn 1 h",
        "region",
        "service",
        "MTTR (min)",
        "MTTD (min)",
        "MTBF (h)",
        "sev1",
        "change failure rate",
    ]
    assert page.index("Availability and error budget") < page.index("Incidents and changes")
    assert cells(page) == [
        *("all", "all", "99.9574 %", "99.7667 %", "81.7 %"),
        "8,046",  # was 8046
        "0.182",
        *("all", "all", "201.4"),
        "5.8",  # was 5.750
        "54.8",
        "3",
        "0.0 %",
    ]


def test_the_backtest_is_headed_in_words():
    backtest = pd.DataFrame(
        {
            "region": ["na-east"],
            "service": ["game"],
            "metric": ["ccu"],
            "model": ["capacity"],
            "mase": [1.197],
            "coverage_90": [0.744],
            "peak_ape": [0.133],
        }
    )
    page = report.accuracy_table(backtest).data
    assert headers(page) == [
        "region",
        "service",
        "metric",
        "model",
        "MASE",
        "hours in 90 % band",
        "daily-peak error",
    ]
    assert cells(page)[4:] == ["1.197", "74.4 %", "13.3 %"]


def test_incidents_and_unknown_columns_have_no_underscores():
    incidents = pd.DataFrame(
        {
            "incident_id": ["INC-1"],
            "region": ["eu-west"],
            "started_at": [pd.Timestamp("2026-11-20 18:05", tz="UTC")],
            "resolved_at": [pd.NaT],
            "deploy_id": [None],
            "preceding_events": ["Season 13 launch"],
            "some_new_column": [1234567],
        }
    )
    page = report.incidents_table(incidents).data
    assert headers(page) == [
        "incident",
        "region",
        "started (UTC)",
        "resolved (UTC)",
        "deploy",
        "live-ops events in the 24 h before",
        "some new column",
    ]
    assert cells(page) == [
        "INC-1",
        "eu-west",
        "2026-11-20 18:05",
        "",
        "",
        "Season 13 launch",
        "1,234,567",
    ]


def test_a_plain_table_keeps_its_column_names():
    """The analyst notebooks' tables show the frame's own columns: headers are the weekly
    report's choice, asked for with ``headers``."""
    frame = pd.DataFrame(
        {"safe_load": [340.0], "start_ts": [pd.Timestamp("2026-11-23", tz="UTC")], "peak_at": [1]}
    )
    assert headers(report.table(frame).data) == ["safe_load", "start_ts", "peak_at"]
    # a column the headers leave out reads with spaces for its underscores
    assert headers(report.table(frame, headers=report.HEADERS).data) == [
        "safe load per server",
        "starts (UTC)",
        "peak at",
    ]


def test_an_empty_table_with_a_time_column_is_an_empty_table():
    """The telemetry notebook's table of events ahead had raised TypeError (pandas refuses
    any() over datetimes) when no event fell in the 28 days after its end."""
    empty = pd.DataFrame(
        {
            "name": pd.Series([], dtype=object),
            "start_ts": pd.Series([], dtype="datetime64[us, UTC]"),
        }
    )
    page = report.table(empty, max_rows=20).data
    assert "<th>name</th><th>start_ts</th></tr></table>" in page


def test_the_incidents_table_says_why_the_fleets_failures_are_not_the_rows_sum():
    """The demo plan's rows counted 8 failures (an outage in sa-east opened one incident in
    each of its three services) and its `all` row 3, with nothing saying why."""
    kpis = pd.DataFrame(
        {
            "region": ["sa-east", "sa-east", "all"],
            "service": ["chat", "game", "all"],
            "availability": [0.9995, 0.9995, 0.9995],
            "incidents": [1, 1, 2],
            "failures": [1, 1, 1],
        }
    )
    page = report.kpi_table(kpis).data
    note = page.index("incidents whose spans overlap count as one")
    assert page.index("Incidents and changes") < note < page.index("<th>failures</th>")


def test_the_incidents_table_shows_no_rows_of_zeros():
    """Without an incident log a 40-pair plan showed 41 rows of zeros and blanks."""
    kpis = pd.DataFrame(
        {
            "region": ["eu-west", "eu-west", "na-east", "all"],
            "service": ["chat", "game", "game", "all"],
            "availability": [0.9995, 0.9995, 0.9995, 0.9995],
            "mttr_minutes": [float("nan")] * 4,
            "mtbf_hours": [float("nan")] * 4,
            "incidents": [0, 0, 0, 0],
            "deploys": [0, 0, 0, 0],
            "change_failure_rate": [float("nan")] * 4,
        }
    )
    page = report.kpi_table(kpis).data
    assert "Incidents and changes" in page
    assert "MTTR (min)" not in page and "No incident and no deploy is logged" in page
    assert cells(page) == [  # the SLO's table alone
        *("eu-west", "chat", "99.9500 %"),
        *("eu-west", "game", "99.9500 %"),
        *("na-east", "game", "99.9500 %"),
        *("all", "all", "99.9500 %"),
    ]
    # one incident: its row and the fleet's, and a sentence for the other two
    one = kpis.assign(incidents=[0, 1, 0, 1], mttr_minutes=[float("nan"), 42.0, float("nan"), 42.0])
    page = report.kpi_table(one).data
    assert cells(page)[12:] == [
        *("eu-west", "game", "42.0", "", "1", "0", ""),
        *("all", "all", "42.0", "", "1", "0", ""),
    ]
    assert "The other 2 region/services logged no incident and no deploy" in page
