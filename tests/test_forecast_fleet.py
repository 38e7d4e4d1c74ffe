"""Fleet forecasting: every demand series, stored under a run id, never stopped by one series."""

from __future__ import annotations

import pandas as pd
import pytest

from capacity.columns import quantile_column
from capacity.config import Region, load_fleet
from capacity.demo import build_demo_store, generate_demo
from capacity.forecast_fleet import forecast_fleet
from capacity.store import Store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    generate_demo(folder / "fleet", days=35)
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    fleet = load_fleet(folder / "fleet" / "fleet.yaml")
    return db, fleet


def one_region(fleet, *extra):
    regions = {"eu-west": fleet.regions["eu-west"]}
    for name in extra:
        regions[name] = Region(timezone="UTC")
    return fleet.model_copy(update={"regions": regions})


def test_forecasts_and_stores_every_demand_series(demo_store, tmp_path):
    db, fleet = demo_store
    copy = tmp_path / "store.duckdb"
    copy.write_bytes(db.read_bytes())
    with Store(copy) as store:
        run = forecast_fleet(
            store,
            one_region(fleet, "mars-1"),
            horizon="24h",
            history="28d",
            jobs=1,
            quantiles=(0.05, 0.5, 0.95),
        )
        stored = store.forecast(run.run_id)
    summary = run.summary.set_index(["region", "service"])
    assert summary.loc[("eu-west", "game"), "metric"] == "ccu"
    assert summary.loc[("eu-west", "chat"), "metric"] == "rps"
    assert (summary.loc["eu-west", "status"] == "ok").all()
    assert summary.loc["mars-1", "status"].str.startswith("skipped").all()
    assert run.cutoff == pd.Timestamp("2026-11-23", tz="UTC")
    assert len(run.frame) == 3 * 24
    assert run.frame["ts"].min() == run.cutoff
    q = [quantile_column(x) for x in (0.05, 0.5, 0.95)]
    assert (run.frame[q[0]] <= run.frame[q[1]]).all() and (run.frame[q[1]] <= run.frame[q[2]]).all()
    assert (run.frame[q[0]] >= 0).all()
    assert len(stored) == len(run.frame)
    assert stored["yhat"].to_numpy() == pytest.approx(
        run.frame.sort_values(["region", "service", "metric", "ts"])["yhat"].to_numpy()
    )


def test_a_series_the_forecaster_refuses_falls_back(demo_store, tmp_path):
    db, fleet = demo_store
    copy = tmp_path / "store.duckdb"
    copy.write_bytes(db.read_bytes())
    with Store(copy) as store:
        # Only 30 hours of history: too little for the forecaster, enough for seasonal naive.
        run = forecast_fleet(
            store, one_region(fleet), horizon="12h", history="30h", jobs=1, save=False
        )
    assert set(run.summary["status"]) == {"baseline"}
    assert run.summary["fallback"].all()
    assert run.frame["model"].str.startswith("snaive (fallback:").all()
    assert len(run.frame) == 3 * 12


def test_a_refit_starts_from_the_last_runs_parameters(demo_store, tmp_path):
    db, fleet = demo_store
    copy = tmp_path / "store.duckdb"
    copy.write_bytes(db.read_bytes())
    options = {"horizon": "24h", "history": "21d", "jobs": 1}
    with Store(copy) as store:
        first = forecast_fleet(store, one_region(fleet), **options)
        assert not first.summary["warm_start"].any()  # nothing stored yet
        stored = store.fit_params()
        assert set(stored) == {
            ("eu-west", s, m)
            for s, m in zip(first.summary["service"], first.summary["metric"], strict=True)
        }
        assert all({"lambda", "core"} <= set(p) for p in stored.values())
        later = forecast_fleet(
            store, one_region(fleet), cutoff=first.cutoff - pd.Timedelta(hours=6), **options
        )
        cold = forecast_fleet(store, one_region(fleet), warm_start=False, save=False, **options)
        runs = store.forecast_runs()
        # four days of history choose other transforms: the stored parameters are refused,
        # and the summary says so (it had said "warm" whenever there were any)
        short = forecast_fleet(store, one_region(fleet), **{**options, "history": "4d"})
    assert not short.summary["warm_start"].all()
    assert later.summary["warm_start"].all() and (later.summary["status"] == "ok").all()
    assert not cold.summary["warm_start"].any()
    assert set(runs["run_id"]) == {first.run_id, later.run_id}
