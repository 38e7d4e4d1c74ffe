"""The analyst's figures in UTC and in units: plotly drops a timestamp's zone and draws its
wall clock, so every figure converts to UTC and says so; axes name what a metric measures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity import charts, explore_charts, review
from tests.notebook_data import hourly


def test_series_with_events_draws_times_in_utc_whatever_the_frames_zone():
    """Plotly drops a timestamp's zone and draws its wall clock: a Berlin series was drawn an
    hour late, and an event in another zone beside it off by the difference."""
    berlin = hourly(np.arange(24.0)).assign(ts=lambda f: f["ts"].dt.tz_convert("Europe/Berlin"))
    events = pd.DataFrame(
        {
            "name": ["Patch"],
            "kind": ["patch"],
            "start_ts": [pd.Timestamp("2026-11-02T09:00:00+09:00")],  # 00:00 UTC
            "end_ts": [pd.Timestamp("2026-11-02T06:00Z")],
        }
    )
    figure = explore_charts.series_with_events(berlin, events, name="ccu")
    # plotly keeps the wall clock only: it must be UTC's
    # (plotly 5.20 keeps the UTC offset, plotly 7.1 the wall clock alone)
    assert pd.Timestamp(figure.data[0].x[0]).replace(tzinfo=None) == pd.Timestamp("2026-11-02")
    shape = figure.layout.shapes[0]
    assert pd.Timestamp(shape.x0) == pd.Timestamp("2026-11-02T00:00Z")
    assert figure.layout.xaxis.title.text == "time (UTC)"
    assert figure.layout.xaxis.hoverformat == "%Y-%m-%d %H:%M UTC"


def test_a_fraction_reads_in_percent_and_other_metrics_with_their_unit():
    series = hourly(np.full(24, 0.42))
    figure = explore_charts.series_with_events(series, name="cpu_util")
    assert figure.layout.yaxis.title.text == "CPU utilisation (cpu_util)"
    assert figure.layout.yaxis.tickformat == ".0~%"
    assert figure.data[0].hovertemplate == "%{y:.1~%}"
    latency = explore_charts.series_with_events(hourly(np.full(24, 80.0)), name="latency_p99_ms")
    assert latency.layout.yaxis.title.text == "p99 latency, ms<br>(latency_p99_ms)"
    assert latency.layout.yaxis.tickformat is None
    assert explore_charts.metric_title("ccu") == "players online (ccu)"
    assert explore_charts.metric_title("custom") == "custom"


def test_a_small_fraction_gets_the_decimals_it_needs_on_every_axis():
    """explore_telemetry for na-east/matchmaking error_rate (about 0.0004) read '0%' on every
    tick of the series, the heatmap's colour bar and all four decomposition panels."""
    rng = np.random.default_rng(0)
    values = 0.0004 + 0.0002 * np.sin(np.arange(24 * 28) / 24 * 2 * np.pi)
    values = values + rng.normal(0, 0.00003, values.size)
    series = hourly(values)
    figure = explore_charts.series_with_events(series, name="error_rate")
    assert figure.layout.yaxis.tickformat == ".3~%"  # 0.06% reads 0.06%, not 0%
    assert figure.data[0].hovertemplate == "%{y:.4~%}"
    profile = review.weekday_hour_profile(series)
    colorbar = explore_charts.weekday_hour_heatmap(profile, metric="error_rate").data[0].colorbar
    assert colorbar.tickformat == ".3~%"
    panels = explore_charts.decomposition_chart(review.decompose(series), metric="error_rate")
    formats = [panels.layout[f"yaxis{i if i > 1 else ''}"].tickformat for i in range(1, 5)]
    assert formats[0] == ".3~%" and all(f in (".3~%", ".4~%", ".5~%") for f in formats)
    # a share of tens of percent keeps whole percents
    assert (
        explore_charts.series_with_events(
            hourly([0.2, 0.6]), name="cpu_util"
        ).layout.yaxis.tickformat
        == ".0~%"
    )
    # a narrow band gets the decimals its spread needs: 4.0-4.2 % ticked 4.1 % twice
    narrow = explore_charts.series_with_events(hourly([0.040, 0.041, 0.042]), name="cpu_util")
    assert narrow.layout.yaxis.tickformat == ".2~%"


def test_weekday_hour_heatmap_names_its_metric_and_hovers_small_values_legibly():
    profile = pd.DataFrame(np.full((7, 24), 0.45)).rename_axis(index="weekday", columns="hour")
    trace = explore_charts.weekday_hour_heatmap(profile, metric="cpu_util").data[0]
    assert trace.colorbar.title.text == "mean cpu_util"
    assert trace.hovertemplate.endswith("mean %{z:.1~%}<extra></extra>")
    counts = explore_charts.weekday_hour_heatmap(profile * 1e5, metric="ccu").data[0]
    assert "%{z:,.0f}" in counts.hovertemplate and counts.colorbar.title.text == "mean ccu"
    small = explore_charts.weekday_hour_heatmap(profile * 10, metric="rps").data[0]
    assert "%{z:.3g}" in small.hovertemplate


def test_latency_curve_says_whose_load_per_server():
    frame = pd.DataFrame(
        {"load_per_server": [100.0, 200.0], "latency_p99_ms": [40.0, 60.0], "excluded": False}
    )
    figure = explore_charts.latency_curve(frame, safe_load=250.0, slo_ms=100.0, metric="rps")
    assert figure.layout.xaxis.title.text == "requests/s (rps) per server"


def test_latency_curve_draws_no_zero_line_at_the_left_edge():
    """The SLO line from x = 0 brought plotly's zero line in: a faint vertical line at the
    chart's left edge, read as one more marker."""
    frame = pd.DataFrame(
        {"load_per_server": [100.0, 200.0], "latency_p99_ms": [40.0, 60.0], "excluded": False}
    )
    figure = explore_charts.latency_curve(frame, safe_load=250.0, slo_ms=100.0, metric="rps")
    assert figure.layout.xaxis.zeroline is False
    assert figure.layout.yaxis.automargin is True


def test_a_long_upright_axis_title_is_wrapped_before_the_metric_name():
    """ "share of requests failing (error_rate)" was taller than a decomposition panel and
    was cut off at both ends; the margin grows to hold the second line."""
    series = hourly(0.01 + 0.001 * np.sin(np.arange(24 * 28) / 24 * 2 * np.pi))
    figure = explore_charts.series_with_events(series, name="error_rate")
    assert figure.layout.yaxis.title.text == "share of requests failing<br>(error_rate)"
    assert figure.layout.yaxis.automargin is True
    panels = explore_charts.decomposition_chart(
        review.decompose(series, timezone="UTC"), metric="error_rate"
    )
    assert panels.layout.yaxis.title.text == "share of requests failing<br>(error_rate)"
    assert all(panels.layout[f"yaxis{i}"].automargin is True for i in ("", 2, 3, 4))
    short = explore_charts.series_with_events(series, name="ccu")
    assert short.layout.yaxis.title.text == "players online (ccu)"


def test_latency_curve_without_an_hour_to_draw_says_so():
    """A store with demand telemetry but no servers or latency (sized at the hint) drew the
    SLO and safe-load lines on an empty plot, with no word of why."""
    empty = pd.DataFrame({"load_per_server": [], "latency_p99_ms": [], "excluded": []})
    figure = explore_charts.latency_curve(empty, safe_load=340.0, slo_ms=100.0, source="hint")
    [note] = figure.layout.annotations
    assert note.text.startswith("No hour to draw: none has both a load per server")
    drawn = pd.DataFrame({"load_per_server": [100.0], "latency_p99_ms": [40.0], "excluded": False})
    assert not explore_charts.latency_curve(drawn, safe_load=340.0, slo_ms=100.0).layout.annotations


def test_backtest_figure_draws_utc_and_keeps_the_report_default_title():
    ts = pd.date_range("2026-11-02T01:00+01:00", periods=48, freq="h")
    results = pd.DataFrame({"ts": ts[-24:], "yhat": 1.0, "model": "capacity", "cutoff": ts[-24]})
    figure = charts.backtest_figure(results, pd.DataFrame({"ts": ts, "value": 1.0}))
    # an even grid: its first time (milliseconds since the epoch) and step
    actual = next(trace for trace in figure.data if trace.name == "actual")
    first = pd.Timestamp(actual.x0, unit="ms", tz="UTC")
    assert first == pd.Timestamp("2026-11-02T00:00Z") and actual.dx == 3_600_000
    assert pd.Timestamp(figure.layout.shapes[0].x0) == pd.Timestamp("2026-11-03T00:00Z")
    assert figure.layout.yaxis.title.text == "value"  # the CLI's backtest gives no metric
    assert figure.layout.xaxis.title.text == "time (UTC)"


def test_series_with_events_refuses_several_series_and_says_when_nothing_is_drawn():
    """`store.series(metric="ccu")`, every region and service's, was drawn as one line zigzagging
    between them; an empty span drew an empty plot with no word of why."""
    import pytest

    from capacity.errors import ParameterError

    one = hourly(np.arange(24.0)).assign(region="eu-west", service="game", metric="ccu")
    two = pd.concat([one, one.assign(region="na-east")], ignore_index=True)
    with pytest.raises(ParameterError) as caught:
        explore_charts.series_with_events(two, name="ccu")
    assert str(caught.value) == (
        "The 'series' parameter holds 2 series (eu-west/game/ccu, na-east/game/ccu); the "
        "chart draws one. Fix: pick one, e.g. store.series(region=..., service=..., "
        "metric=...), or filter the frame on region, service, metric"
    )
    with pytest.raises(ParameterError, match="two rows at 2026-11-02 00:00 UTC"):
        explore_charts.series_with_events(pd.concat([one, one])[["ts", "value"]], name="ccu")
    assert not explore_charts.series_with_events(one, name="ccu").layout.annotations
    for nothing in (one.iloc[:0], one.assign(value=np.nan)):
        [note] = explore_charts.series_with_events(nothing, name="ccu").layout.annotations
        assert note.text.startswith("No value to draw")


def test_accuracy_charts_without_a_compared_hour_say_so():
    """With no stored run overlapping the telemetry, both charts were blank, one titled "The
    stored run ... per series" over no run."""
    from capacity import review

    names = "run_id region service metric ts yhat cutoff step actual"
    joined = pd.DataFrame(columns=names.split())
    over_time = explore_charts.accuracy_over_time(review.accuracy(joined))
    by_lead = explore_charts.lead_time_chart(review.accuracy_by_lead(joined))
    for figure in (over_time, by_lead):
        assert not figure.data
        assert figure.layout.annotations[-1].text.startswith("No stored forecast hour has a")
    assert over_time.layout.title.text == "Stored runs against what happened"
