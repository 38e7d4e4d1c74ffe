"""The analyst notebooks' figures, as the notebook review found them: inspected through their
plotly objects (titles, trace types, colours, tick settings, panel sizes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capacity import charts, explore_charts, review
from capacity.event_check import EventCheck, PlannedEvent
from tests.notebook_data import MONDAY, REGIONS, SERVICES, accuracy_rows, hourly

# --------------------------------------------------------------- 3, 5: accuracy charts


def test_accuracy_over_time_with_one_run_draws_bars_named_by_series():
    figure = explore_charts.accuracy_over_time(accuracy_rows([MONDAY]))
    assert {type(t).__name__ for t in figure.data} == {"Bar"}
    assert len(figure.data) == 24  # 12 series, MAPE and coverage
    assert figure.data[0].x == ("ap-southeast / chat",)
    # no time axis to read "23:59:59.999" off; the run's cutoff is in the title
    assert figure.layout.xaxis.type != "date"
    assert "2026-11-02 00:00 UTC" in figure.layout.title.text
    looks = {(t.marker.color, t.marker.pattern.shape) for t in figure.data if t.showlegend}
    assert len(looks) == 12


def test_accuracy_over_time_with_runs_gives_each_series_its_own_look_and_a_tick_per_run():
    cutoffs = [MONDAY, MONDAY + pd.Timedelta(days=7)]
    figure = explore_charts.accuracy_over_time(accuracy_rows(cutoffs))
    assert {type(t).__name__ for t in figure.data} == {"Scatter"}
    shown = [t for t in figure.data if t.showlegend]
    assert len(shown) == 12
    assert len({(t.line.color, t.line.dash) for t in shown}) == 12
    assert len({t.line.color for t in shown}) == 4  # the colour names the region
    assert [pd.Timestamp(v) for v in figure.layout.xaxis.tickvals] == cutoffs
    assert list(figure.layout.xaxis.ticktext) == ["2026-11-02 00:00", "2026-11-09 00:00"]


def test_series_styles_do_not_repeat_for_twelve_series():
    styles = charts.series_styles((r, s) for r in REGIONS for s in SERVICES)
    assert len({(v["color"], v["dash"]) for v in styles.values()}) == 12


def test_lead_time_chart_title_states_no_conclusion():
    by_lead = pd.DataFrame(
        {"run_id": "r", "cutoff": MONDAY, "lead_day": [1, 2, 3], "mape": [0.1, 0.05, 0.02]}
    )
    title = explore_charts.lead_time_chart(by_lead).layout.title.text
    assert "grows" not in title and "MAPE by day ahead" in title


# --------------------------------------------------------------- 9, 11: axes


def fake_check(pairs, hours=24):
    ts = pd.date_range("2026-12-18T08:00Z", periods=hours, freq="h")
    hourly_rows, table = [], []
    for region, service in pairs:
        metric = "rps" if service == "matchmaking" else "ccu"
        hourly_rows.append(
            pd.DataFrame(
                {
                    "region": region,
                    "service": service,
                    "metric": metric,
                    "ts": ts,
                    "q0.05": 1.0,
                    "q0.5": 2.0,
                    "q0.95": 3.0,
                    "safe_capacity": 4.0,
                }
            )
        )
        table.append({"region": region, "service": service, "verdict": "GO"})
    event = PlannedEvent("Fest", ts[0], ts[-1], tuple(r for r, _ in pairs), 1.5)
    return EventCheck(event, pd.DataFrame(table), pd.concat(hourly_rows, ignore_index=True))


def test_event_check_figure_keeps_panels_readable_and_titles_their_metric():
    pairs = [(r, s) for r in REGIONS for s in SERVICES]
    many = charts.event_check_figure(fake_check(pairs))
    two = charts.event_check_figure(fake_check(pairs[:2]))

    def panel_px(figure):
        low, high = figure.layout.yaxis.domain
        margin = figure.layout.margin
        return (high - low) * (figure.layout.height - margin.t - margin.b)

    assert panel_px(many) == pytest.approx(panel_px(two)) and panel_px(many) >= 180
    gaps = many.layout.yaxis.domain[0] - many.layout.yaxis2.domain[1]
    # the spacing was 66 % of the height with twelve panels; each gap now holds its panel's
    # dates as well as the next panel's title (80 px of each 280)
    assert gaps * 11 < 0.3
    titles = [many.layout[f"yaxis{i if i > 1 else ''}"].title.text for i in range(1, 13)]
    assert titles[:3] == ["players online (ccu)", "players online (ccu)", "requests/s (rps)"]
    # the times are UTC, and the bottom panel's axis says so; every panel hovers them in UTC
    assert many.layout.xaxis12.title.text == "time (UTC)" and many.layout.xaxis.title.text is None
    assert many.layout.xaxis.hoverformat == "%Y-%m-%d %H:%M UTC"


def test_axes_carry_the_metric():
    series = hourly(np.arange(24.0))
    figure = explore_charts.series_with_events(series, name="ccu")
    assert figure.layout.yaxis.title.text == "players online (ccu)"
    # times hover in UTC; the legend sits where an axis title would (the section says UTC)
    assert figure.layout.xaxis.hoverformat == "%Y-%m-%d %H:%M UTC"
    assert figure.layout.xaxis.title.text == "time (UTC)"
    ts = pd.date_range(MONDAY, periods=3 * 168, freq="h")
    parts = review.decompose(pd.DataFrame({"ts": ts, "value": 100.0 + (ts.hour == 20)}))
    panels = explore_charts.decomposition_chart(parts, metric="rps")
    assert [panels.layout[a].title.text for a in ("yaxis", "yaxis2", "yaxis3", "yaxis4")] == [
        "requests/s (rps)",
        "rps vs trend",
        "rps vs trend",
        "rps left",
    ]
    results = pd.DataFrame(
        {
            "ts": ts[-24:],
            "yhat": 1.0,
            "model": "capacity",
            "cutoff": ts[-24],
        }
    )
    backtest = charts.backtest_figure(results, pd.DataFrame({"ts": ts, "value": 1.0}), metric="ccu")
    assert backtest.layout.yaxis.title.text == "players online (ccu)"
    assert backtest.layout.xaxis.title.text == "time (UTC)"


@pytest.mark.parametrize(
    ("metric", "title"),
    [
        ("latency_p99_ms", "p99 latency, ms (latency_p99_ms)"),
        ("cpu_util", "CPU utilisation (cpu_util)"),
        ("servers", "servers running (servers)"),
        ("rps", "requests/s (rps)"),
    ],
)
def test_the_backtest_chart_says_what_any_metric_measures(metric, title):
    """forecast_accuracy_review backtests any stored metric; its chart's y axis read a bare
    'latency_p99_ms', no unit, where the explore charts say 'p99 latency, ms'."""
    ts = pd.date_range(MONDAY, periods=48, freq="h")
    results = pd.DataFrame({"ts": ts[-24:], "yhat": 1.0, "model": "capacity", "cutoff": ts[-24]})
    figure = charts.backtest_figure(results, pd.DataFrame({"ts": ts, "value": 1.0}), metric=metric)
    assert figure.layout.yaxis.title.text == title
    assert explore_charts.metric_title(metric) == title


def test_schedule_chart_has_plain_log_ticks_and_a_look_per_series():
    ts = pd.date_range(MONDAY, periods=24, freq="h")
    rows = []
    for i, (region, service) in enumerate((r, s) for r in REGIONS for s in SERVICES):
        rows.append(
            pd.DataFrame(
                {"region": region, "service": service, "ts": ts, "min_servers": 5 + 80 * i}
            )
        )
    figure = charts.schedule_chart(pd.concat(rows, ignore_index=True))
    axis = figure.layout.yaxis
    assert axis.type == "log"
    assert list(axis.tickvals) == [5, 10, 20, 50, 100, 200, 500]
    assert list(axis.ticktext) == ["5", "10", "20", "50", "100", "200", "500"]
    assert len({(t.line.color, t.line.dash) for t in figure.data}) == 12
    assert figure.layout.xaxis.title.text == "time (UTC)"
    assert figure.layout.xaxis.hoverformat == "%Y-%m-%d %H:%M UTC"


# --------------------------------------------------------------- weekly report: demand units


def weekly_frames(metric: str, service: str = "game"):
    """A region/service's history, forecast and hourly need, as the weekly plan holds them."""
    past = pd.date_range(MONDAY - pd.Timedelta(days=2), periods=48, freq="h")
    ahead = pd.date_range(MONDAY, periods=24, freq="h")
    key = {"region": "eu-west", "service": service}
    history = pd.DataFrame({**key, "metric": metric, "ts": past, "value": 100.0})
    quantiles = {f"q{q:g}": 100.0 * (0.5 + q) for q in (0.05, 0.1, 0.5, 0.9, 0.95, 0.99)}
    forecast = pd.DataFrame({**key, "metric": metric, "ts": ahead, **quantiles})
    need = pd.DataFrame(
        {
            **key,
            "ts": ahead,
            "safe_load": 10.0,
            "servers_now": 20,
            "needed_nk": 16,
            "required": 18,
            "headroom": 0.1,
        }
    )
    return history, forecast, need


@pytest.mark.parametrize(
    ("metric", "title"), [("ccu", "players online (ccu)"), ("rps", "requests/s (rps)")]
)
def test_weekly_demand_charts_title_the_y_axis_with_the_metrics_meaning(metric, title):
    history, forecast, need = weekly_frames(metric)
    figure = charts.fan_chart(history, forecast, need, None, "eu-west", "game")
    assert figure.layout.yaxis.title.text == title
    # said outright, it wins over the forecast's column
    figure = charts.fan_chart(history, forecast, need, None, "eu-west", "game", metric="ccu")
    assert figure.layout.yaxis.title.text == "players online (ccu)"
    # times hover in UTC and the axis says so, its legend below the axis title
    assert figure.layout.xaxis.hoverformat == "%Y-%m-%d %H:%M UTC"
    assert figure.layout.xaxis.title.text == "time (UTC)"
    plot_px = figure.layout.height - figure.layout.margin.t - figure.layout.margin.b
    assert figure.layout.legend.yanchor == "top" and figure.layout.legend.y * plot_px <= -50


# --------------------------------------------------------------- weekly report: headroom colours


def test_headroom_heatmap_says_its_colours_stop_at_minus_100_and_hovers_the_true_value():
    ts = pd.date_range(MONDAY, periods=48, freq="h")
    need = pd.DataFrame(
        {
            "region": "eu-west",
            "service": ["game"] * 24 + ["chat"] * 24,
            "ts": list(ts[:24]) * 2,
            "headroom": [-1.46] * 24 + [0.25] * 23 + [float("-inf")],
        }
    )
    trace = charts.headroom_heatmap(need).data[0]
    assert (trace.zmin, trace.zmax) == (-100, 100)
    assert trace.colorbar.ticktext[0] == "≤ −100 %"
    assert trace.colorbar.tickvals[0] == -100
    # the colour is clipped; the hover text is what the verdict table says
    assert list(trace.y) == ["eu-west / game", "eu-west / chat"]
    assert trace.z[0][0] == -100 and trace.text[0][0] == "-146 %"
    assert trace.text[1][0] == "no servers" and trace.z[1][0] == -100
    assert "%{text}" in trace.hovertemplate


def test_backtest_chart_draws_the_projects_forecaster_first_and_the_series_sorted():
    backtest = pd.DataFrame(
        {
            "region": ["na-east", "na-east", "eu-west", "eu-west"],
            "service": "game",
            "model": ["capacity", "arima", "arima", "capacity"],
            "mase": [1.2, 1.1, 0.6, 0.5],
        }
    )
    figure = charts.accuracy_chart(backtest)
    assert [t.name for t in figure.data] == ["capacity", "arima"]
    assert list(figure.layout.xaxis.categoryarray) == ["eu-west / game", "na-east / game"]
    assert list(figure.data[0].x) == ["eu-west / game", "na-east / game"]
    assert figure.layout.yaxis.title.text == "MASE"  # short enough to show whole


def test_demand_against_capacity_charts_start_their_y_axis_at_zero():
    """A 4-hour event's panels drew demand at 25k under capacity at 72k on an axis from 15k:
    the headroom looked twice the share it is."""
    check = fake_check([("eu-west", "game"), ("na-east", "matchmaking")], hours=4)
    figure = charts.event_check_figure(check)
    assert [figure.layout[f"yaxis{i if i > 1 else ''}"].rangemode for i in (1, 2)] == [
        "tozero",
        "tozero",
    ]
    history, forecast, need = weekly_frames("ccu")
    weekly = charts.fan_chart(history, forecast, need, None, "eu-west", "game")
    assert weekly.layout.yaxis.rangemode == "tozero"


def test_an_event_names_near_the_horizon_does_not_stretch_the_time_axis_past_it():
    """The demo plan's 'Season 13 Champions Finals', a day before the horizon's end, was
    labelled reading rightwards from its start: plotly widened the time axis to hold the
    label, five days of empty chart after the forecast."""
    history, forecast, need = weekly_frames("ccu")
    end = forecast["ts"].max()
    events = pd.DataFrame(
        {
            "name": ["Early patch", "Finals"],
            "kind": ["patch", "esports"],
            "regions": [("eu-west",), ("all",)],
            "start_ts": [history["ts"].min(), end - pd.Timedelta(hours=4)],
            "end_ts": [history["ts"].min() + pd.Timedelta(hours=6), end],
        }
    )
    figure = charts.fan_chart(history, forecast, need, events, "eu-west", "game")
    labels = {a.text: a for a in figure.layout.annotations}
    assert labels["Early patch"].xanchor == "left"
    # the late one ends where its span ends, inside the data, and reads leftwards
    assert labels["Finals"].xanchor == "right"
    assert pd.Timestamp(labels["Finals"].x) == end


def test_an_event_name_near_the_series_end_does_not_stretch_explore_time_axis():
    """explore_telemetry with `end` 2026-11-20T12:00 labelled 'Season 13 mid-season content
    patch', a day before the series' end, reading rightwards from its start: plotly widened
    the time axis to hold the label, six days of empty chart that read as missing
    telemetry after the window."""
    series = hourly(np.arange(24.0 * 14))
    first, last = series["ts"].min(), series["ts"].max()
    events = pd.DataFrame(
        {
            "name": ["Early patch", "Mid-season content patch"],
            "kind": ["patch", "patch"],
            "start_ts": [first, last - pd.Timedelta(hours=26)],
            "end_ts": [first + pd.Timedelta(hours=6), last + pd.Timedelta(days=1)],
        }
    )
    figure = explore_charts.series_with_events(series, events, name="rps")
    labels = {a.text: a for a in figure.layout.annotations}
    assert labels["Early patch"].xanchor == "left"
    # the late one ends where the series ends and reads leftwards, inside the data
    assert labels["Mid-season content patch"].xanchor == "right"
    assert pd.Timestamp(labels["Mid-season content patch"].x) == last


def test_event_names_close_together_on_the_explore_chart_take_lanes_of_their_own():
    """explore_telemetry for sa-east drew 'Season 13: Verdant Reach', 'Unplanned outage
    sa-east' and 'Season 13 mid-season content patch' over one another: names alternated top
    and bottom whatever their place, so the first and third of three close ones collided."""
    series = hourly(np.arange(24.0 * 56))
    first = series["ts"].min()
    names = ["Season 13: Verdant Reach", "Unplanned outage sa-east", "Season 13 content patch"]
    events = pd.DataFrame(
        {
            "name": [*names, "Far later"],
            "kind": ["season", "outage", "patch", "holiday"],
            "start_ts": [first + pd.Timedelta(days=d) for d in (3, 4, 5, 30)],
            "end_ts": [first + pd.Timedelta(days=d) for d in (10, 4.2, 6, 31)],
        }
    )
    figure = explore_charts.series_with_events(series, events, name="rps")
    labels = {a.text: a for a in figure.layout.annotations}
    places = [(labels[n].y, labels[n].yanchor) for n in names]
    assert len(set(places)) == 3  # three lanes, none shared
    assert places[:2] == [(1, "top"), (0, "bottom")]
    # a name with room beside the others goes back to the top lane
    assert (labels["Far later"].y, labels["Far later"].yanchor) == (1, "top")
    assert all(labels[n].yref == "paper" and labels[n].xanchor == "left" for n in names)


def test_backtest_chart_keeps_its_plot_height_under_many_long_series_names():
    """With 40 series named like 'ap-northeast / matchmaking', the names took all but 90 px
    of a figure of fixed height and the bars were slivers."""
    pairs = [(r, s) for r in ("ap-northeast", "eu-west", "me-central") for s in ("game", "chat")]
    pairs.append(("ap-southeast", "matchmaking"))
    backtest = pd.DataFrame(
        [
            {"region": r, "service": s, "model": m, "mase": 0.8}
            for r, s in pairs
            for m in ("capacity", "seasonal naive (weekly)")
        ]
    )
    figure = charts.accuracy_chart(backtest)
    layout = figure.layout
    longest = len("ap-southeast / matchmaking")
    assert layout.xaxis.tickangle == -90
    assert layout.margin.b >= 6 * longest  # room for the longest name standing upright
    assert layout.height - layout.margin.t - layout.margin.b >= 250
    short = charts.accuracy_chart(backtest[backtest["service"] == "game"])
    plot = short.layout.height - short.layout.margin.t - short.layout.margin.b
    assert plot == layout.height - layout.margin.t - layout.margin.b
