"""The analyst's and planner's notebooks: review computations, explore figures, and the three
notebooks executed with papermill on a small demo store and exported as HTML."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity import explore_charts as charts
from capacity import review
from capacity.baselines import SeasonalNaive
from capacity.charts import backtest_figure
from capacity.errors import ParameterError
from capacity.event_check import EventCheck, PlannedEvent

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)"
MONDAY = pd.Timestamp("2026-11-02T00:00Z")  # a Monday


def hourly(values, start=MONDAY):
    values = np.asarray(values, dtype=float)
    return pd.DataFrame(
        {"ts": pd.date_range(start, periods=len(values), freq="h"), "value": values}
    )


# ------------------------------------------------------------------------------ profiles


def test_weekday_hour_profile_is_the_cell_mean_and_skips_gaps():
    ts = pd.date_range(MONDAY, periods=14 * 24, freq="h")
    week = (ts - MONDAY).days // 7
    values = 10 * ts.day_of_week + ts.hour + 100 * week
    series = pd.DataFrame({"ts": ts, "value": values.astype(float)})
    series.loc[24 + 5, "value"] = np.nan  # Tuesday 05:00 of the first week
    profile = review.weekday_hour_profile(series)
    assert profile.shape == (7, 24)
    assert profile.loc[0, 0] == 50  # (0 + 100) / 2
    assert profile.loc[6, 23] == 60 + 23 + 50
    assert profile.loc[1, 5] == 10 + 5 + 100  # only the second week is known
    # In Singapore (UTC+8) Monday 00:00 UTC is Monday 08:00.
    local = review.weekday_hour_profile(series, timezone="Asia/Singapore")
    assert local.loc[0, 8] == 50
    assert local.loc[0, 7] == 60 + 23 + 50  # Sunday 23:00 UTC


def test_weekday_hour_profile_refuses_daily_data_and_unknown_zones():
    daily = pd.DataFrame(
        {"ts": pd.date_range(MONDAY, periods=20, freq="D"), "value": np.arange(20.0)}
    )
    with pytest.raises(ParameterError, match="hourly"):
        review.weekday_hour_profile(daily)
    with pytest.raises(ParameterError, match="IANA"):
        review.weekday_hour_profile(hourly(range(48)), timezone="Mars/Olympus")


DAILY = 10 * np.sin(2 * np.pi * np.arange(24) / 24)
WEEKLY = np.array([-3.0, -2, -1, 0, 1, 2, 3])


def test_decompose_recovers_a_known_trend_and_profiles():
    ts = pd.date_range(MONDAY, periods=4 * 168, freq="h")
    series = pd.DataFrame({"ts": ts, "value": 100 + DAILY[ts.hour] + WEEKLY[ts.day_of_week]})
    parts = review.decompose(series)
    frame = parts.frame
    assert list(frame.columns) == ["ts", "value", "trend", "daily", "weekly", "residual"]
    # The centred week lies wholly inside the series from row 84 to row n - 84.
    assert frame["trend"].iloc[:84].isna().all() and frame["trend"].iloc[-83:].isna().all()
    inside = frame["trend"].iloc[84:-83]
    np.testing.assert_allclose(inside, 100, atol=1e-9)
    np.testing.assert_allclose(parts.daily.to_numpy(), DAILY, atol=1e-9)
    np.testing.assert_allclose(parts.weekly.to_numpy(), WEEKLY, atol=1e-9)
    np.testing.assert_allclose(frame["residual"].dropna(), 0, atol=1e-9)
    np.testing.assert_allclose(frame["daily"], DAILY[ts.hour], atol=1e-9)
    assert parts.describe() == (
        "Level 100. The daily profile swings 20 (20% of the level), highest at 06:00 UTC "
        "time; the weekly profile swings 6 (6% of the level), highest on Sun. What is left "
        "has a standard deviation of 0. The profiles rest on 21 days of hours with a known "
        "trend."
    )


def test_decompose_needs_one_full_window():
    with pytest.raises(ParameterError, match="full trend window"):
        review.decompose(hourly(np.ones(100)))
    gappy = hourly(np.where(np.arange(200) % 5 == 0, np.nan, 1.0))  # 80 % known
    with pytest.raises(ParameterError, match="90%"):
        review.decompose(gappy)


# ------------------------------------------------------------------------------ latency


def long_telemetry(demand, servers, latency):
    ts = pd.date_range(MONDAY, periods=len(demand), freq="h")
    rows = []
    for metric, values in (("ccu", demand), ("servers", servers), ("latency_p99_ms", latency)):
        rows.append(pd.DataFrame({"ts": ts, "metric": metric, "value": values}))
    return pd.concat(rows, ignore_index=True)


def test_load_latency_frame_divides_drops_and_flags():
    telemetry = long_telemetry([100.0, 200, 300, 400], [2.0, 0, 3, 4], [40.0, 50, np.nan, 80])
    events = pd.DataFrame(
        {"start_ts": [MONDAY + pd.Timedelta(hours=3)], "end_ts": [MONDAY + pd.Timedelta(hours=4)]}
    )
    frame = review.load_latency_frame(telemetry, demand_metric="ccu", events=events)
    assert list(frame.columns) == ["ts", "load_per_server", "latency_p99_ms", "excluded"]
    assert list(frame["ts"]) == [MONDAY, MONDAY + pd.Timedelta(hours=3)]
    assert list(frame["load_per_server"]) == [50.0, 100.0]
    assert list(frame["latency_p99_ms"]) == [40.0, 80.0]
    assert list(frame["excluded"]) == [False, True]


def test_latency_by_load_takes_medians_of_equal_bins_without_excluded_hours():
    frame = pd.DataFrame(
        {
            "load_per_server": np.arange(1.0, 11),
            "latency_p99_ms": np.arange(10.0, 101, 10),
            "excluded": [False] * 9 + [True],
        }
    )
    binned = review.latency_by_load(frame, bins=2)
    assert binned.to_dict("list") == {
        "load_per_server": [3.0, 7.5],
        "latency_p99_ms": [30.0, 75.0],
        "hours": [5, 4],
    }
    assert review.latency_by_load(frame[frame["excluded"]]).empty


def test_status_summary():
    status = pd.DataFrame(
        {
            "region": ["eu-west", "eu-west", "na-east"],
            "first_ts": pd.to_datetime(["2026-11-01", "2026-11-02", "2026-11-01"], utc=True),
            "last_ts": pd.to_datetime(
                ["2026-11-20T00:00", "2026-11-22T23:00", "2026-11-21T00:00"], utc=True
            ),
            "rows": [10, 20, 30],
            "missing_hours": [0, 3, 4],
            "gaps": [0, 1, 2],
        }
    )
    assert review.status_summary(status) == (
        "3 series in 2 regions, 60 rows from 2026-11-01 00:00 to 2026-11-22 23:00 UTC; "
        "7 missing hours in 3 gaps."
    )
    assert review.status_summary(status.iloc[:0]) == "The store holds no telemetry yet."


# ------------------------------------------------------------------------------ accuracy


def test_join_actuals_keeps_known_hours_and_counts_steps():
    ts = pd.date_range(MONDAY, periods=3, freq="h")
    key = {"region": "eu-west", "service": "game", "metric": "ccu"}
    forecast = pd.DataFrame({"run_id": "r1", **key, "ts": ts, "yhat": [1.0, 2.0, 3.0]})
    actual = pd.DataFrame({"ts": ts, **key, "value": [10.0, np.nan, 30.0]})
    joined = review.join_actuals(forecast, actual, cutoff=MONDAY)
    assert list(joined["step"]) == [1, 3]
    assert list(joined["actual"]) == [10.0, 30.0]
    assert (joined["cutoff"] == MONDAY).all()
    later = review.join_actuals(forecast, actual, cutoff=MONDAY - pd.Timedelta(hours=2))
    assert list(later["step"]) == [3, 5]


def joined_frame():
    """One run, one series: 24 hours on day 1 and 2 hours on day 2."""
    ts = pd.date_range(MONDAY, periods=26, freq="h")
    actual = np.full(26, 100.0)
    actual[12] = 200.0
    yhat = np.full(26, 110.0)
    yhat[24:] = 100.0
    return pd.DataFrame(
        {
            "run_id": "r1",
            "region": "eu-west",
            "service": "game",
            "metric": "ccu",
            "ts": ts,
            "yhat": yhat,
            "q0.05": 95.0,
            "q0.95": 150.0,
            "cutoff": MONDAY,
            "step": np.arange(1, 27),
            "actual": actual,
        }
    )


def test_accuracy_by_hand():
    table = review.accuracy(joined_frame())
    assert len(table) == 1
    row = table.iloc[0]
    assert row["hours"] == 26
    # 23 hours 10 % over, one 45 % under (the 200 peak), two exact.
    assert row["mape"] == pytest.approx((23 * 0.1 + 0.45) / 26)
    assert row["bias"] == pytest.approx((23 * 0.1 - 0.45) / 26)
    assert row["coverage_90"] == pytest.approx(25 / 26)
    # Only day 1 has 24 hours: |110 - 200| / 200.
    assert row["peak_ape"] == pytest.approx(0.45) and row["peak_days"] == 1
    per_run = review.accuracy(joined_frame(), by=("run_id",))
    assert list(per_run.columns) == [
        "run_id",
        "hours",
        "mape",
        "bias",
        "coverage_90",
        "peak_ape",
        "peak_days",
    ]
    assert per_run.iloc[0]["mape"] == pytest.approx(row["mape"])


def test_accuracy_without_quantiles_and_with_zero_actuals():
    joined = joined_frame().drop(columns=["q0.05", "q0.95"])
    joined.loc[0, "actual"] = 0.0  # left out of mape and bias, still an hour
    row = review.accuracy(joined).iloc[0]
    assert row["hours"] == 26
    assert row["mape"] == pytest.approx((22 * 0.1 + 0.45) / 25)
    assert math.isnan(row["coverage_90"])
    with pytest.raises(ParameterError, match="yhat"):
        review.accuracy(joined.drop(columns=["yhat"]))


def test_accuracy_by_lead_day():
    table = review.accuracy_by_lead(joined_frame())
    assert list(table["lead_day"]) == [1, 2]
    assert list(table["hours"]) == [24, 2]
    assert table["mape"].tolist() == pytest.approx([(23 * 0.1 + 0.45) / 24, 0.0])
    assert table["peak_days"].tolist() == [1, 0]


# ------------------------------------------------------------------------------ backtests


class Constant:
    """A stub forecaster: every quantile and the point forecast are ``level``."""

    def __init__(self, level=10.0, quantiles=(0.05, 0.5, 0.95)):
        self.level, self.quantiles = level, quantiles

    def get_params(self):
        return {"level": self.level, "quantiles": self.quantiles}

    def fit(self, series, events=None):
        self.last_ts_, self.freq_ = series["ts"].iloc[-1], pd.Timedelta(hours=1)
        return self

    def predict(self, horizon, events=None):
        ts = pd.date_range(self.last_ts_ + self.freq_, periods=horizon, freq="h")
        out = pd.DataFrame({"ts": ts, "yhat": self.level})
        for q in self.quantiles:
            out[f"q{q:g}"] = self.level
        return out


class Broken(Constant):
    def fit(self, series, events=None):
        raise RuntimeError("no luck")


def daily_series(days=10):
    ts = pd.date_range(MONDAY, periods=days * 24, freq="h")
    return pd.DataFrame({"ts": ts, "value": 10.0 + ts.hour})


def test_compare_forecasters_scores_known_forecasts():
    series = daily_series()
    forecasters = {
        "naive": SeasonalNaive(season_length=24, quantiles=(0.05, 0.5, 0.95)),
        "constant": Constant(),
        "broken": Broken(),
    }
    result = review.compare_forecasters(
        series, forecasters, horizon=24, n_windows=2, season_length=1
    )
    assert list(result.overall["model"]) == ["naive", "constant"]
    assert result.errors.to_dict("records") == [
        {"model": "broken", "error": "RuntimeError: no luck"}
    ]
    assert len(result.windows) == 4 and result.windows["cutoff"].nunique() == 2
    assert set(result.results["model"]) == {"naive", "constant"}
    naive = result.overall.set_index("model").loc["naive"]
    assert naive["mase"] == 0 and naive["smape"] == 0 and naive["peak_ape"] == 0
    constant = result.overall.set_index("model").loc["constant"]
    h = np.arange(24)
    assert constant["n"] == 48
    assert constant["smape"] == pytest.approx(np.mean(200 * h / (20 + h)))
    # Pinball at 0.05, 0.5 and 0.95 of an error 11.5 on average: (0.05 + 0.5 + 0.95) / 3 x 11.5.
    assert constant["pinball"] == pytest.approx(11.5 * 0.5)
    assert constant["coverage_90"] == pytest.approx(1 / 24)
    assert constant["peak_ape"] == pytest.approx(23 / 33)
    # The results draw with the project's backtest figure (band of the "constant" model).
    figure = backtest_figure(result.results, series, band_model="constant")
    names = [t.name for t in figure.data if t.showlegend is not False]
    # the actuals are drawn last, over the forecasts (first in the legend by its rank)
    assert names == ["constant 5–95 %", "constant", "naive", "actual"]


def test_compare_forecasters_raises_on_a_series_too_short():
    with pytest.raises(ParameterError, match="too short"):
        review.compare_forecasters(daily_series(3), {"c": Constant()}, horizon=24, n_windows=4)


def test_compare_forecasters_when_every_forecaster_fails():
    result = review.compare_forecasters(daily_series(), {"b": Broken()}, horizon=24, n_windows=1)
    assert result.results.empty and result.windows.empty and result.overall.empty
    assert list(result.errors["model"]) == ["b"]


def test_default_forecasters_are_the_project_and_two_baselines():
    from capacity.baselines import ProphetDefault
    from capacity.forecast import DemandForecaster

    chosen = review.default_forecasters(holidays_country="DE", timezone="Europe/Berlin")
    assert list(chosen) == ["capacity", "seasonal naive (weekly)", "prophet (defaults)"]
    ours = chosen["capacity"]
    assert isinstance(ours.model, DemandForecaster)
    assert ours.fit_kwargs == {"holidays_country": "DE", "timezone": "Europe/Berlin"}
    assert ours.quantiles == review.COMPARE_QUANTILES
    fresh = type(ours)(**ours.get_params())  # what backtest does per window
    assert fresh.model is not ours.model and fresh.fit_kwargs == ours.fit_kwargs
    assert chosen["seasonal naive (weekly)"].season_length == 168
    assert isinstance(chosen["prophet (defaults)"], ProphetDefault)


# ------------------------------------------------------------------------------ event words


def test_verdict_thresholds_follow_the_constants():
    text = review.verdict_thresholds()
    assert "below 5%" in text and "reaches 50%" in text
    assert "never show below 1% or above 99%" in text


def test_event_summary_counts_verdicts_and_escapes_names():
    event = PlannedEvent(
        EVIL,
        pd.Timestamp("2026-12-18T08:00Z"),
        pd.Timestamp("2027-01-04T08:00Z"),
        ("eu-west", "na-east"),
        1.6,
    )
    table = pd.DataFrame(
        {
            "region": ["eu-west", "na-east"],
            "service": ["game", "<b>chat</b>"],
            "verdict": ["GO", "AT_RISK"],
            "add_servers": [0, 3],
            "act_by": [pd.NaT, pd.Timestamp("2026-11-27T08:00Z")],
            "overdue": [False, True],
        }
    )
    check = EventCheck(event, table, pd.DataFrame(), replaced=("<i>Winter</i>",))
    text = review.event_summary(check)
    assert EVIL not in text and ESCAPED in text
    assert "<b>chat</b>" not in text and "&lt;b&gt;chat&lt;/b&gt;" in text
    assert "&lt;i&gt;Winter&lt;/i&gt;" in text
    assert "2 region/services checked: 1 GO, 1 AT_RISK, 0 NO_GO." in text
    assert "Add 3 servers across 1 region/service;" in text
    assert "2026-11-27 08:00 UTC" in text and "1 already overdue" in text
    assert "expected uplift x1.6 (" in text
    calm = EventCheck(event, table.iloc[:1], pd.DataFrame())
    assert "No servers to add." in review.event_summary(calm)
    # a stored event without an uplift is not read as demand x1 (as the report says it)
    unstated = dataclasses.replace(event, uplift=1.0, uplift_stated=False)
    quiet = review.event_summary(EventCheck(unstated, table, pd.DataFrame()))
    assert "no uplift in the calendar (" in quiet and "x1" not in quiet


# ------------------------------------------------------------------------------ figures


def test_series_with_events_shades_clips_and_escapes():
    series = hourly(np.arange(48.0))
    start = series["ts"].iloc[0]
    events = pd.DataFrame(
        {
            "name": ["Weekly patch maintenance", EVIL, "Far away"],
            "kind": ["maintenance", "season", "season"],
            "start_ts": [
                start + pd.Timedelta(hours=5),
                start - pd.Timedelta(days=2),
                start + pd.Timedelta(days=9),
            ],
            "end_ts": [
                start + pd.Timedelta(hours=7),
                start + pd.Timedelta(hours=10),
                start + pd.Timedelta(days=10),
            ],
        }
    )
    figure = charts.series_with_events(series, events, title="a <b>", name="ccu")
    assert [t.name for t in figure.data] == ["ccu", "maintenance", "season"]
    assert list(figure.data[0].y) == list(range(48))
    shapes = figure.layout.shapes
    assert len(shapes) == 2
    assert pd.Timestamp(shapes[1].x0) == start  # clipped to the series
    texts = [a.text for a in figure.layout.annotations]
    assert texts == ["&lt;script&gt;alert(1)&lt;/script&gt;"]  # maintenance is not named
    assert figure.layout.title.text == "a &lt;b&gt;"
    assert len(charts.series_with_events(series).data) == 1


def test_weekday_hour_heatmap_axes():
    profile = pd.DataFrame(np.arange(168.0).reshape(7, 24))
    figure = charts.weekday_hour_heatmap(profile, timezone="Asia/Singapore")
    (heat,) = figure.data
    assert list(heat.y) == list(review.WEEKDAYS)
    assert list(heat.x) == [f"{h:02d}" for h in range(24)]
    assert np.asarray(heat.z).shape == (7, 24) and heat.z[6][23] == 167
    assert "Asia/Singapore" in figure.layout.xaxis.title.text


def test_decomposition_chart_panels():
    ts = pd.date_range(MONDAY, periods=3 * 168, freq="h")
    series = pd.DataFrame({"ts": ts, "value": 100 + DAILY[ts.hour] + WEEKLY[ts.day_of_week]})
    parts = review.decompose(series)
    figure = charts.decomposition_chart(parts, title="x")
    assert [t.name for t in figure.data] == [
        "observed",
        "trend",
        "daily profile",
        "weekly profile",
        "residual",
    ]
    np.testing.assert_allclose(figure.data[2].y, DAILY, atol=1e-9)
    assert list(figure.data[3].x) == list(review.WEEKDAYS)
    assert [t.yaxis for t in figure.data] == ["y", "y", "y2", "y3", "y4"]


def test_latency_curve_traces_lines_and_interval():
    frame = pd.DataFrame(
        {
            "load_per_server": [100.0, 200, 300, 150],
            "latency_p99_ms": [40.0, 60, 110, 400],
            "excluded": [False, False, False, True],
        }
    )
    figure = charts.latency_curve(
        frame,
        safe_load=280,
        slo_ms=100,
        low=260,
        high=300,
        binned=review.latency_by_load(frame, bins=2),
        source="learned",
    )
    assert [t.name for t in figure.data] == [
        "hours",
        "maintenance/outage hours (left out)",
        "median p99",
        "p99 SLO 100 ms",
        "safe load 280 (learned)",
    ]
    assert list(figure.data[0].x) == [100, 200, 300] and list(figure.data[1].y) == [400]
    assert list(figure.data[3].y) == [100, 100]
    assert list(figure.data[4].x) == [280, 280]
    assert len(figure.layout.shapes) == 1  # the safe load's interval
    assert figure.layout.yaxis.type == "log"
    assert list(figure.layout.yaxis.tickvals) == [50, 100, 200]  # 1-2-5 inside 36..440
    plain = charts.latency_curve(frame.drop(columns="excluded"), safe_load=280, slo_ms=100)
    assert [t.name for t in plain.data] == ["hours", "p99 SLO 100 ms", "safe load 280 (learned)"]
    assert len(plain.layout.shapes) == 0


def test_accuracy_over_time_and_lead_time_chart():
    first = joined_frame()
    second = joined_frame().assign(
        run_id="r2", cutoff=MONDAY + pd.Timedelta(days=7), service="chat"
    )
    joined = pd.concat([first, second], ignore_index=True)
    table = review.accuracy(joined)
    figure = charts.accuracy_over_time(table)
    assert [t.name for t in figure.data] == [
        "eu-west / chat",
        "eu-west / chat",
        "eu-west / game",
        "eu-west / game",
    ]
    assert [t.showlegend for t in figure.data] == [True, False, True, False]
    assert figure.data[1].y[0] == pytest.approx(25 / 26)
    assert len(figure.layout.shapes) == 1  # the nominal 90 % line
    lead = charts.lead_time_chart(review.accuracy_by_lead(joined))
    assert [t.name for t in lead.data] == ["2026-11-02 (r1)", "2026-11-09 (r2)"]
    assert list(lead.data[0].x) == [1, 2]


# ------------------------------------------------------------------------------ the store


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from capacity import Store, load_fleet
    from capacity.demo import build_demo_store, generate_demo
    from capacity.forecast_fleet import forecast_fleet

    folder = tmp_path_factory.mktemp("explore")
    generate_demo(folder / "fleet", days=30)
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    config = folder / "fleet" / "fleet.yaml"
    calendar = folder / "evil.csv"
    calendar.write_text(
        "name,kind,start,end,regions,expected_uplift\n"
        f'"{EVIL}",marketing,2026-11-18T00:00:00Z,2026-11-19T00:00:00Z,eu-west,1.1\n'
    )
    fleet = load_fleet(config)
    one_region = fleet.model_copy(update={"regions": {"eu-west": fleet.regions["eu-west"]}})
    with Store(db) as store:
        store.import_events([calendar])
        # A real run of one region, then a made-up one whose error is known: 10 % high.
        forecast_fleet(
            store,
            one_region,
            horizon="2d",
            history="14d",
            cutoff="2026-11-16T00:00Z",
            jobs=1,
            run_id="real",
        )
        actual = store.series(
            region="eu-west",
            service="game",
            metric="ccu",
            start="2026-11-20T00:00Z",
            end="2026-11-22T00:00Z",
        )
        made_up = actual.assign(
            yhat=actual["value"] * 1.1,
            model="x1.1",
            fallback=False,
            **{"q0.05": actual["value"] * 0.5, "q0.95": actual["value"] * 1.2},
        ).drop(columns="value")
        store.save_forecast(
            made_up,
            run_id="ten-percent",
            quantiles=(0.05, 0.95),
            params={},
            cutoff="2026-11-20T00:00Z",
        )
    return db, config


def test_runs_from_the_store(demo):
    from capacity import Store

    db, _ = demo
    with Store(db, read_only=True) as store:
        newest = review.recent_runs(store, 1)
        both = review.recent_runs(store, 4)
        joined = review.run_actuals(store, 4)
    assert list(newest["run_id"]) == ["ten-percent"]
    assert list(both["run_id"]) == ["ten-percent", "real"]
    assert newest["horizon_end"].iloc[0] == pd.Timestamp("2026-11-22T00:00Z")
    table = review.accuracy(joined).set_index("run_id")
    made_up = table.loc["ten-percent"]
    assert made_up["hours"] == 48 and made_up["peak_days"] == 2
    assert made_up["mape"] == pytest.approx(0.1) and made_up["bias"] == pytest.approx(0.1)
    assert made_up["coverage_90"] == 1 and made_up["peak_ape"] == pytest.approx(0.1)
    real = table.loc[["real"]]
    assert list(real["service"]) == ["chat", "game", "matchmaking"]
    assert (real["hours"] == 48).all() and (real["mape"] < 0.5).all()


def test_load_latency_from_the_store(demo):
    from capacity import Store, load_fleet

    db, config = demo
    fleet = load_fleet(config)
    with Store(db, read_only=True) as store:
        frame = review.load_latency(store, fleet, "eu-west", "game")
        with pytest.raises(ParameterError, match="region"):
            review.load_latency(store, fleet, "moon", "game")
    assert len(frame) > 600 and frame["excluded"].sum() >= 8  # weekly maintenance, 2 h each
    assert (frame["load_per_server"] > 0).all()


# ------------------------------------------------------------------------------ notebooks


def execute(name, parameters, tmp_path):
    import papermill

    from capacity.plan import export_html

    executed = tmp_path / f"{name}.ipynb"
    before = {p.name for p in tmp_path.iterdir()}
    beside = sorted(p.name for p in NOTEBOOKS.iterdir())
    papermill.execute_notebook(
        str(NOTEBOOKS / f"{name}.ipynb"),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    # the run writes nothing of its own where it runs or beside the notebooks (no caches,
    # no model files, no copy of plotly.js): the executed notebook is papermill's
    assert {p.name for p in tmp_path.iterdir()} == before | {executed.name}
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == beside
    page = tmp_path / f"{name}.html"
    export_html(executed, page)
    return page.read_text(encoding="utf-8")


def assert_report(page, headings, plots):
    assert 'class="jp-CodeMirrorEditor' not in page and 'class="highlight' not in page
    assert "injected-parameters" not in page and "pio.renderers" not in page
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page  # no warnings shown
    assert len(re.findall(r"Plotly\.newPlot", page)) >= plots
    assert page.count("plotly.js v") == 1
    for heading in headings:
        assert heading in page
    assert EVIL not in page


def test_explore_telemetry_notebook(demo, tmp_path):
    db, config = demo
    page = execute(
        "explore_telemetry",
        {
            "db": str(db),
            "config": str(config),
            "region": "eu-west",
            "service": "game",
            "metric": "ccu",
            "start": "",
            "end": "",
        },
        tmp_path,
    )
    assert_report(
        page,
        [
            "Explore telemetry",
            "1. What the store holds",
            "2. The series and its events",
            "3. Daily and weekly shape",
            "4. Load per server against p99 latency",
        ],
        plots=4,
    )
    assert ESCAPED in page  # the event's name, escaped in the chart's annotation
    assert "72 series in 4 regions" in page
    # the safe load's table heads its columns in words, as the event check's does
    assert "<th>safe load per server</th>" in page and "<th>latency SLO (ms)</th>" in page
    assert "<th>safe_load</th>" not in page and "<th>slo_ms</th>" not in page
    # so do the store's table and the events ahead (they had shown first_ts, start_ts, ...)
    for header in ("first hour (UTC)", "last loaded (UTC)", "event", "starts (UTC)"):
        assert f"<th>{header}</th>" in page, header
    for column in ("first_ts", "last_loaded_at", "start_ts", "expected_uplift"):
        assert f"<th>{column}</th>" not in page, column


def test_event_headroom_check_notebook(demo, tmp_path):
    db, config = demo
    page = execute(
        "event_headroom_check",
        {
            "name": EVIL,
            "start": "2026-11-23T18:00:00Z",
            "end": "2026-11-24T00:00:00Z",
            "regions": ["eu-west"],
            "uplift": 1.3,
            "event_id": "",
            "db": str(db),
            "config": str(config),
            "jobs": 1,
        },
        tmp_path,
    )
    assert_report(
        page,
        [
            "Event headroom check",
            "1. Verdict per region and service",
            "2. Demand with the event against safe capacity",
            "3. How the verdict is reached",
            "4. Safe load per server",
        ],
        plots=1,
    )
    assert ESCAPED in page
    assert "3 region/services checked" in page
    assert "NO_GO" in page and "below 5%" in page
    # the notes the CLI prints on stderr are in the report too (the demo's telemetry is old)
    assert "<b>Warning:</b> the newest demand telemetry ends 2026-11-23 00:00 UTC" in page


def test_forecast_accuracy_review_notebook(demo, tmp_path):
    db, config = demo
    page = execute(
        "forecast_accuracy_review",
        {
            "db": str(db),
            "config": str(config),
            "runs": 4,
            "region": "eu-west",
            "service": "game",
            "metric": "ccu",
            "history": "30d",
            "horizon": 168,
            "n_windows": 2,
        },
        tmp_path,
    )
    assert_report(
        page,
        [
            "Forecast accuracy review",
            "1. Stored forecast runs",
            "2. Past forecasts against what happened",
            "3. Error by lead time",
            "4. Rolling backtest against the baselines",
        ],
        plots=3,
    )
    for name in ("ten-percent", "real", "seasonal naive (weekly)", "prophet (defaults)"):
        assert name in page
    assert "Forecasters that failed" not in page


def test_explore_telemetry_notebook_goes_on_past_a_span_too_short_to_decompose(demo, tmp_path):
    """A three-day span failed in cell 6 with pandas' "7 days 00:00:00" text."""
    db, config = demo
    page = execute(
        "explore_telemetry",
        {
            "db": str(db),
            "config": str(config),
            "region": "eu-west",
            "service": "game",
            "metric": "ccu",
            "start": "2026-11-19T00:00:00Z",
            "end": "2026-11-22T00:00:00Z",
        },
        tmp_path,
    )
    assert "No decomposition: The decomposition needs at least one full trend window" in page
    assert "00:00:00" not in re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert "4. Load per server against p99 latency" in page


def test_check_series_names_the_parameter_and_what_there_is():
    from pathlib import Path

    from capacity.config import load_fleet

    fleet = load_fleet(Path(__file__).resolve().parents[1] / "data" / "demo" / "fleet.yaml")
    one = pd.DataFrame({"ts": pd.date_range("2026-11-01", periods=2, freq="h", tz="UTC")})
    data = one.assign(value=[1.0, 2.0])
    review.check_series(fleet, data, region="eu-west", service="game", metric="ccu")
    cases = [
        ({"region": "mars"}, data, "The 'region' parameter must be one of ap-southeast"),
        ({"metric": "cpu_utl"}, data, "Got 'cpu_utl'. Fix: did you mean 'cpu_util'?"),
        ({}, one.assign(value=[np.nan, np.nan]), "The store holds no ccu for eu-west/game"),
    ]
    for over, frame, message in cases:
        choice = {"region": "eu-west", "service": "game", "metric": "ccu", **over}
        with pytest.raises(ParameterError, match=re.escape(message)):
            review.check_series(fleet, frame, **choice)
