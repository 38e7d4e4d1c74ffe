"""Safe load per server, learned from telemetry against the p99 SLO, or the hint and why."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity import sizing
from capacity.config import Region, load_fleet
from capacity.demo import TRUTH, build_demo_store
from capacity.errors import DataError, ParameterError
from capacity.sizing import (
    LOAD_PER_SERVER,
    SAFE_LOAD_COLUMNS,
    SafeLoad,
    learn_safe_load,
    safe_loads,
)
from capacity.store import Store

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"

# The synthetic curve: p99 = 40 + 20 x / (500 - x); at the 120 ms SLO, x / (500 - x) = 4.
L0, L1, SATURATION, SLO = 40.0, 20.0, 500.0, 120.0
TRUE_CROSSING = SATURATION * 4 / 5  # 400


def curve_frame(n: int = 2000, *, top: float = 460.0, seed: int = 0, sigma: float = 0.05):
    """Hours with load per server uniform on [50, top] and lognormal noise around the curve."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(50.0, top, n)
    p99 = (L0 + L1 * x / (SATURATION - x)) * np.exp(rng.normal(0.0, sigma, n))
    return pd.DataFrame({LOAD_PER_SERVER: x, "latency_p99_ms": p99})


# --------------------------------------------------------------------------------------------
# The demo fleet: recovery of the true safe loads
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The committed demo fleet in a fresh store, its config, and safe_loads over it."""
    db = build_demo_store(tmp_path_factory.mktemp("sizing") / "demo.duckdb", DEMO)
    fleet = load_fleet(DEMO / "fleet.yaml")
    with Store(db, read_only=True) as store:
        yield store, fleet, safe_loads(store, fleet)


def test_demo_recovers_every_true_safe_load_within_10_percent(demo):
    _, fleet, result = demo
    assert list(result.columns) == list(SAFE_LOAD_COLUMNS)
    assert len(result) == 12
    assert set(zip(result["region"], result["service"], strict=True)) == {
        (r, s) for r in fleet.regions for s in fleet.services
    }
    assert (result["source"] == "learned").all(), result.loc[result["source"] != "learned"]
    assert (result["method"] == "isotonic+bootstrap").all()
    true = result["service"].map(TRUTH.safe_load)
    error = (result["safe_load"] / true - 1).abs()
    assert error.max() < 0.10
    # The learned values sit far closer than the contract asks (worst 0.73 % on seed 7), and
    # much closer than the hints, which are about 15 % low.
    assert error.max() < 0.02
    hints = result["service"].map(lambda s: fleet.server_type_of(s).safe_load_hint)
    assert ((hints / true - 1).abs() > 0.13).all()
    assert (
        result["metric"].tolist()
        == result["service"].map(lambda s: fleet.services[s].demand_metric).tolist()
    )
    assert (
        result["slo_ms"]
        == result["service"].map(TRUTH.services.get).map(lambda t: t.slo_latency_p99_ms)
    ).all()


def test_demo_intervals_are_tight_and_bracket_the_estimate(demo):
    _, _, result = demo
    assert (result["low"] <= result["safe_load"]).all()
    assert (result["safe_load"] <= result["high"]).all()
    width = (result["high"] - result["low"]) / result["safe_load"]
    assert (width > 0).all() and (width < 0.03).all()
    true = result["service"].map(TRUTH.safe_load)
    inside = ((result["low"] <= true) & (true <= result["high"])).sum()
    assert inside >= 10  # a 90 % interval; 11 of 12 on seed 7


def test_demo_leaves_out_maintenance_hours(demo):
    _, _, result = demo
    hours = 420 * 24
    maintenance = 60 * 2  # two hours a week, every week
    assert (result["samples"] <= hours - maintenance).all()
    assert (result["samples"] >= hours - maintenance - 6 - 3).all()  # outage, single gaps
    assert result["reason"].str.contains("120 hours in maintenance/outage windows").all()
    by_key = result.set_index(["region", "service"])
    assert by_key.loc[("ap-southeast", "game"), "samples"] == hours - maintenance


def test_region_without_telemetry_gets_the_hint(demo):
    store, fleet, _ = demo
    regions = {"eu-west": fleet.regions["eu-west"], "mars-1": Region(timezone="UTC")}
    bigger = fleet.model_copy(update={"regions": regions})
    result = safe_loads(store, bigger, services="game", n_boot=20).set_index("region")
    assert result.loc["eu-west", "source"] == "learned"
    assert result.loc["eu-west", "safe_load"] == pytest.approx(TRUTH.safe_load("game"), rel=0.02)
    assert result.loc["mars-1", "source"] == "hint"
    assert result.loc["mars-1", "safe_load"] == 340
    assert result.loc["mars-1", "samples"] == 0
    assert result.loc["mars-1", "reason"].startswith("no telemetry for this region/service")
    assert math.isnan(result.loc["mars-1", "low"])


def test_window_and_filters_restrict_the_hours(demo):
    store, fleet, _ = demo
    result = safe_loads(
        store,
        fleet,
        regions=["na-east"],
        services=["chat", "matchmaking"],
        start="2026-06-01",
        end="2026-09-01",
        n_boot=0,
    )
    assert result[["region", "service"]].values.tolist() == [
        ["na-east", "chat"],
        ["na-east", "matchmaking"],
    ]
    assert (result["samples"] == 92 * 24 - 26).all()  # 13 maintenance windows of 2 hours
    assert result["reason"].str.endswith("26 hours in maintenance/outage windows left out").all()
    assert result["low"].isna().all() and result["high"].isna().all()
    # Three summer months without a season launch: chat reaches its SLO in only 7 hours, too
    # few to call the crossing observed; matchmaking in 10, just enough.
    chat, matchmaking = result.itertuples()
    assert (chat.source, chat.safe_load) == ("hint", 2700)
    assert "only 7 hour(s) lie at or above it (min_above=10)" in chat.reason
    assert matchmaking.source == "learned"
    assert matchmaking.safe_load == pytest.approx(TRUTH.safe_load("matchmaking"), rel=0.02)


def test_fan_out_gives_the_same_frame(demo):
    store, fleet, _ = demo
    kwargs = {"regions": "eu-west", "n_boot": 20}
    here = safe_loads(store, fleet, jobs=1, **kwargs)
    pd.testing.assert_frame_equal(safe_loads(store, fleet, jobs=2, **kwargs), here)
    assert here["service"].tolist() == ["chat", "game", "matchmaking"]


def test_unknown_region_or_service_is_refused(demo):
    store, fleet, _ = demo
    with pytest.raises(ParameterError, match=r"The 'regions' parameter .* Got 'mars-1'"):
        safe_loads(store, fleet, regions=["mars-1"])
    with pytest.raises(ParameterError, match=r"The 'services' parameter .* Got 'voice'"):
        safe_loads(store, fleet, services="voice")


# --------------------------------------------------------------------------------------------
# A known curve
# --------------------------------------------------------------------------------------------


def test_known_curve_recovers_the_analytic_crossing():
    result = learn_safe_load(curve_frame(), slo_ms=SLO, hint=340.0, region="r", service="s")
    assert isinstance(result, SafeLoad)
    assert result.source == "learned"
    assert result.samples == 2000
    assert result.safe_load == pytest.approx(TRUE_CROSSING, rel=0.02)
    assert result.low <= TRUE_CROSSING <= result.high
    assert result.high - result.low < 0.05 * TRUE_CROSSING
    assert (result.region, result.service, result.slo_ms) == ("r", "s", SLO)
    assert "2,000 hours" in result.reason


def test_same_seed_same_interval_and_nan_rows_are_dropped():
    frame = curve_frame(seed=3)
    first = learn_safe_load(frame, slo_ms=SLO, n_boot=50, random_state=11)
    again = learn_safe_load(frame, slo_ms=SLO, n_boot=50, random_state=11)
    assert (first.low, first.high) == (again.low, again.high)
    gappy = frame.copy()
    gappy.loc[::4, "latency_p99_ms"] = np.nan
    gappy.loc[1::4, LOAD_PER_SERVER] = np.inf  # an hour with no servers
    result = learn_safe_load(gappy, slo_ms=SLO, n_boot=0)
    assert result.samples == 1000
    assert result.safe_load == pytest.approx(TRUE_CROSSING, rel=0.03)
    assert math.isnan(result.low) and math.isnan(result.high)
    assert frame.equals(curve_frame(seed=3))  # the caller's frame is not modified


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    # Up to 180 ms the crossing (x = 436) has about 35 of the 600 hours above it; near 200 ms
    # it has about 20, and a noisy draw can leave fewer than min_above=10 there, when the
    # learner rightly refuses (seed 3330 at 198 ms: 9 hours).
    slos=st.lists(st.floats(60.0, 180.0), min_size=2, max_size=2),
)
def test_a_higher_slo_never_gives_a_lower_safe_load(seed, slos):
    frame = curve_frame(600, seed=seed)
    lower, higher = (
        learn_safe_load(frame, slo_ms=s, n_boot=20, random_state=seed) for s in sorted(slos)
    )
    assert lower.source == higher.source == "learned"
    assert lower.safe_load <= higher.safe_load
    assert lower.low <= higher.low and lower.high <= higher.high


# --------------------------------------------------------------------------------------------
# Falling back to the hint
# --------------------------------------------------------------------------------------------


def test_thin_data_falls_back_to_the_hint_and_says_why():
    result = learn_safe_load(curve_frame(150), slo_ms=SLO, hint=340.0)
    assert (result.source, result.method, result.safe_load) == ("hint", "config hint", 340.0)
    assert result.samples == 150
    assert math.isnan(result.low) and math.isnan(result.high)
    assert result.reason == (
        "only 150 usable hours (min_samples=200); using the configured safe_load_hint 340"
    )
    mostly_gaps = curve_frame(600)
    mostly_gaps.loc[mostly_gaps.index[:450], "latency_p99_ms"] = np.nan
    assert learn_safe_load(mostly_gaps, slo_ms=SLO, hint=340.0).samples == 150


def test_slo_never_approached_falls_back_and_quotes_the_extrapolation():
    # Loads reach 300, where the curve is at 70 ms: 58 % of the 120 ms SLO.
    result = learn_safe_load(curve_frame(3000, top=300.0, seed=1), slo_ms=SLO, hint=340.0)
    assert (result.source, result.safe_load) == ("hint", 340.0)
    assert "never reaches the 120 ms SLO" in result.reason
    assert "57.8% of the SLO" in result.reason
    quoted = float(re.search(r"queueing-curve fit puts it near ([\d.]+)", result.reason)[1])
    assert quoted == pytest.approx(TRUE_CROSSING, rel=0.10)


def test_curve_just_short_of_the_slo_is_not_learned():
    # The median curve tops out at 96 % of the SLO, but noisy hours exceed it. Isotonic fits
    # spike at the boundary: a last block of a few loud hours may reach the SLO. Either the fit
    # stays below, or min_above catches the spike; the crossing is never "learned".
    reasons = []
    for seed in range(6):
        frame = curve_frame(3000, top=395.0, seed=seed)
        result = learn_safe_load(frame, slo_ms=SLO, hint=340.0, n_boot=0)
        assert (result.source, result.safe_load) == ("hint", 340.0)
        reasons.append(result.reason)
    below = [r for r in reasons if re.search(r"\(it peaks at [\d.]+ ms, 9\d\.\d% of the SLO", r)]
    spikes = [int(m[1]) for r in reasons if (m := re.search(r"but only (\d+) hour", r))]
    assert len(below) + len(spikes) == 6
    assert all(n < 10 for n in spikes)


def test_slo_breached_at_every_load_falls_back():
    result = learn_safe_load(curve_frame(), slo_ms=30.0, hint=340.0)
    assert result.source == "hint"
    assert "above the 30 ms SLO already at the lowest observed load" in result.reason


def test_crossing_seen_in_too_few_hours_falls_back():
    frame = curve_frame(3000, top=405.0, seed=4)
    result = learn_safe_load(frame, slo_ms=SLO, hint=340.0, min_above=500)
    assert result.source == "hint"
    assert re.search(r"but only \d+ hour\(s\) lie at or above it \(min_above=500\)", result.reason)


def test_no_hint_and_nothing_learned_is_an_error():
    with pytest.raises(DataError, match=r"cannot learn the safe load: only 150 usable hours"):
        learn_safe_load(curve_frame(150), slo_ms=SLO, service="game")


def test_bad_telemetry_in_the_store_falls_back_without_stopping_the_fleet(tmp_path, fleet_file):
    fleet = load_fleet(fleet_file)
    ts = pd.date_range("2026-01-01", periods=400, freq="h", tz="UTC")
    frame = curve_frame(400, seed=5)
    rows = []
    for region, scale in (("eu-west", 1.0), ("na-east", 0.0)):
        servers = np.full(len(ts), 10.0)
        values = {
            "ccu": frame[LOAD_PER_SERVER].round(0) * servers,
            "servers": servers,
            "latency_p99_ms": scale * frame["latency_p99_ms"].round(1),
        }
        for metric, column in values.items():
            rows.append(
                pd.DataFrame(
                    {
                        "ts": ts,
                        "region": region,
                        "service": "game",
                        "metric": metric,
                        "value": np.asarray(column, dtype="float64"),
                    }
                )
            )
    path = tmp_path / "telemetry.parquet"
    pd.concat(rows).to_parquet(path, index=False)
    with Store(tmp_path / "store.duckdb") as store:
        store.ingest([path], fleet=fleet)
        result = safe_loads(store, fleet, n_boot=10)
    result = result.set_index("region")
    # The conftest fleet's SLO is 120 ms, the curve's crossing 400 players per server.
    assert result.loc["eu-west", "source"] == "learned"
    assert result.loc["eu-west", "safe_load"] == pytest.approx(TRUE_CROSSING, rel=0.03)
    assert result.loc["na-east", "source"] == "hint"
    assert result.loc["na-east", "safe_load"] == 400  # the conftest hint
    assert "unusable telemetry" in result.loc["na-east", "reason"]
    assert "'latency_p99_ms'" in result.loc["na-east", "reason"]


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_missing_columns_are_refused():
    with pytest.raises(ParameterError, match=r"latency_p99_ms missing\. Got load_per_server"):
        learn_safe_load(pd.DataFrame({LOAD_PER_SERVER: [1.0]}), slo_ms=SLO)
    with pytest.raises(ParameterError, match=r"must be a pandas DataFrame .* Got dict"):
        learn_safe_load({LOAD_PER_SERVER: [1.0]}, slo_ms=SLO)


@pytest.mark.parametrize("slo", [0, -5.0, math.nan, math.inf, True, "100"])
def test_slo_must_be_a_positive_number(slo):
    with pytest.raises(ParameterError, match=r"The 'slo_ms' parameter must be a finite number"):
        learn_safe_load(curve_frame(300), slo_ms=slo)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"hint": 0.0}, "hint"),
        ({"min_samples": 0}, "min_samples"),
        ({"min_above": 2.5}, "min_above"),
        ({"n_boot": -1}, "n_boot"),
        ({"interval": (0.95, 0.05)}, "interval"),
        ({"interval": 0.9}, "interval"),
    ],
)
def test_other_parameters_are_checked(kwargs, name):
    with pytest.raises(ParameterError, match=rf"The '{name}' parameter must be"):
        learn_safe_load(curve_frame(300), slo_ms=SLO, **kwargs)


def test_impossible_values_name_the_column_and_row():
    frame = curve_frame(300)
    frame.loc[7, "latency_p99_ms"] = -3.0
    with pytest.raises(DataError, match=r"column 'latency_p99_ms', row 7: 1 value\(s\) not > 0"):
        learn_safe_load(frame, slo_ms=SLO)
    frame = curve_frame(300)
    frame[LOAD_PER_SERVER] = frame[LOAD_PER_SERVER].astype(str) + " players"
    with pytest.raises(DataError, match=r"column 'load_per_server'.*must be numbers"):
        learn_safe_load(frame, slo_ms=SLO)


def test_public_names():
    assert set(sizing.__all__) == {
        "LOAD_PER_SERVER",
        "SAFE_LOAD_COLUMNS",
        "SafeLoad",
        "learn_safe_load",
        "safe_loads",
    }
