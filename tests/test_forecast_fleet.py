"""Fleet forecasting: every demand series, stored under a run id, never stopped by one series."""

from __future__ import annotations

import os
import re
import time

import joblib
import pandas as pd
import pytest

from capacity.columns import quantile_column
from capacity.config import Region, load_fleet
from capacity.demo import build_demo_store, generate_demo
from capacity.forecast_cache import CACHE_ENV, KEEP_FOR, ForecastCache, series_key
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


def _copy(db, tmp_path):
    copy = tmp_path / "store.duckdb"
    copy.write_bytes(db.read_bytes())
    return copy


def test_runs_that_cannot_be_right_are_refused(demo_store, tmp_path):
    from capacity.errors import DataError, ParameterError

    db, fleet = demo_store
    copy = _copy(db, tmp_path)
    with Store(copy) as store:
        # every series skipped: the run had printed a run id, stored nothing and exited 0
        with pytest.raises(DataError, match=r"no series could be forecast \(no telemetry"):
            forecast_fleet(store, one_region(fleet), history="1d", cutoff="2020-01-01", jobs=1)
        # too short everywhere: the series' reason once, without its own fix, then the run's
        with pytest.raises(DataError) as short:
            forecast_fleet(
                store, one_region(fleet), history="1d", cutoff="2026-11-20T04:00Z", jobs=1
            )
        text = str(short.value)
        assert "no series could be forecast (" in text and "days of data; got 1.0 days" in text
        assert text.count("Fix:") == 1 and "at least 2 days in the history window" in text
        for horizon in ("1.5h", "30m", "400d"):  # cut to whole steps, or a year's holidays
            with pytest.raises(
                ParameterError,
                match=r"The 'horizon' parameter \(--horizon\) must be whole hours, at most "
                r"366 days .* Fix: give hours or days",
            ):
                forecast_fleet(store, one_region(fleet), horizon=horizon, jobs=1)
        assert store.forecast_runs().empty
    # one row dated years ahead had moved every series' cutoff there (ingest now refuses such
    # a row; a store loaded before it did, or written to directly, may still hold one)
    with Store(copy) as store:
        store.con.execute(
            "INSERT INTO telemetry VALUES ('2099-06-01T00:00:00Z', 'eu-west', 'game', 'ccu', 5, "
            "(SELECT max(load_id) FROM telemetry))"
        )
        with pytest.raises(
            DataError, match=r"eu-west/game/ccu at 2099-06-01 00:00 UTC, is in the fut"
        ):
            forecast_fleet(store, one_region(fleet), horizon="1h", jobs=1)


@pytest.mark.parametrize(
    ("quantiles", "problem"),
    [
        ((0.5, 0.5), "0.5 repeats"),
        ((), "it is empty"),
        ((0.05, 0.0), "0.0 is not a number strictly between 0 and 1"),
        ((0.5, 1.5), "1.5 is not a number strictly between 0 and 1"),
        ((float("nan"),), "nan is not a number"),
        (0.5, "not a sequence"),
        (("0.5",), "'0.5' is not a number"),
        # distinct levels, one column name (q0.5): stored twice, not read back either
        ((0.5, 0.5000001), "0.5000001 has the column name of 0.5 (q0.5)"),
    ],
)
def test_quantiles_a_run_cannot_store_are_refused_before_any_fit(
    demo_store, tmp_path, quantiles, problem
):
    """A repeated quantile had stored a run whose two columns of one name `Store.forecast`
    could not read back (an AssertionError), an empty list a run without quantiles, and one
    out of range was named inside the forecaster's grid, which the caller never gave."""
    from capacity.errors import ParameterError

    db, fleet = demo_store
    with Store(_copy(db, tmp_path)) as store:
        with pytest.raises(ParameterError) as refused:
            forecast_fleet(
                store,
                one_region(fleet),
                horizon="2h",
                history="7d",
                jobs=1,
                quantiles=quantiles,
                cache=False,
            )
        assert store.forecast_runs().empty
    text = str(refused.value)
    assert text.startswith(
        "The 'quantiles' parameter must be a non-empty sequence of distinct numbers strictly "
        f"between 0 and 1, such as (0.05, 0.5, 0.95). Got {quantiles!r} ("
    )
    assert problem in text


@pytest.mark.parametrize(
    ("quantiles", "columns"),
    [
        # a fleet run keeps the order it is given
        ((0.9, 0.5), ["q0.9", "q0.5"]),
        # 0.05000001's column is q0.05, the name of the shared grid's 0.05: fitted beside it,
        # the forecaster refused a grid with two levels of one column, which the caller never
        # gave; the level asked for replaces the shared one
        ((0.05000001, 0.5), ["q0.05", "q0.5"]),
    ],
)
def test_the_levels_asked_for_are_stored_and_read_back(demo_store, tmp_path, quantiles, columns):
    db, fleet = demo_store
    with Store(_copy(db, tmp_path)) as store:
        run = forecast_fleet(
            store,
            one_region(fleet),
            horizon="2h",
            history="7d",
            jobs=1,
            quantiles=list(quantiles),
            cache=False,
        )
        stored = store.forecast(run.run_id)
    assert run.quantiles == quantiles
    assert [c for c in stored.columns if c.startswith("q")] == columns


def test_a_series_whose_telemetry_stopped_early_gets_a_note(demo_store, tmp_path):
    db, fleet = demo_store
    copy = _copy(db, tmp_path)
    with Store(copy) as store:
        newest = store.con.execute("SELECT max(ts) FROM telemetry").fetchall()[0][0]
        store.con.execute(
            "DELETE FROM telemetry WHERE service = 'chat' AND ts > ?",
            [pd.Timestamp(newest) - pd.Timedelta(days=3)],
        )
        run = forecast_fleet(store, one_region(fleet), horizon="6h", history="14d", jobs=1)
    assert run.notes() == [
        f"note: eu-west/chat (rps) telemetry ends {run.summary['last_ts'].min():%Y-%m-%d %H:%M} "
        "UTC, 3.0 days before the forecast starts; its forecast crosses that gap"
    ]


def test_an_event_the_forecasts_leave_out_gets_one_note(demo_store, tmp_path):
    # a kind the demo's history never held: with an uplift it is a scenario, without one the
    # forecasts cannot size it and the run says so, once for the event
    db, fleet = demo_store
    copy = _copy(db, tmp_path)
    calendar = tmp_path / "calendar.csv"
    calendar.write_text(
        "event_id,name,kind,start,end,regions,expected_uplift\n"
        "CH-1,Charity stream,charity,2026-11-23T18:00Z,2026-11-23T22:00Z,eu-west,\n"
        "CH-2,Charity replay,charity,2026-11-23T20:00Z,2026-11-23T22:00Z,eu-west,1.2\n"
        "CH-3,Charity finale,charity,2026-11-25T18:00Z,2026-11-25T22:00Z,eu-west,\n"
    )
    with Store(copy) as store:
        store.import_events([calendar])
        run = forecast_fleet(store, one_region(fleet), horizon="24h", history="14d", jobs=1)
    assert run.notes() == [
        "note: the forecasts of eu-west/chat, eu-west/game, eu-west/matchmaking leave out "
        "'Charity stream' (charity, from 2026-11-23 18:00 UTC): their history holds too few "
        "charity events to learn the effect and the calendar gives it no expected_uplift; "
        "give it one (the multiple of normal demand it brings, 1.3 for 30 % more) and import "
        "the calendar again"
    ]
    assert run.summary["unsized_events"].map(len).tolist() == [1, 1, 1]


def test_an_event_is_named_by_its_name_else_its_id():
    import numpy as np

    from capacity.forecast_fleet import _event_labels

    start, end = pd.Timestamp("2026-12-01T18:00Z"), pd.Timestamp("2026-12-01T20:00Z")
    events = pd.DataFrame(
        {
            "event_id": ["EV-1", "EV-2", np.nan],  # NaN: a frame without ids joined
            "name": ["Cup final", np.nan, np.nan],
            "kind": "esports",
            "start_ts": start,
            "end_ts": end,
        }
    )
    labels = [label[0] for label in _event_labels(events)]
    assert labels == ["Cup final", "EV-2", "an unnamed event"]


def _children(pid):
    import pathlib

    found = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/stat").exists(), reason="/proc")
def test_the_store_is_readable_while_fitting_and_sigterm_stops_the_workers(demo_store, tmp_path):
    """The run had held the write lock through its fits (readers got exit 3), and SIGTERM
    (a cron timeout) left its worker processes running for good."""
    import os
    import signal
    import subprocess
    import sys
    import time

    db, _ = demo_store
    copy = _copy(db, tmp_path)
    config = db.parent / "fleet" / "fleet.yaml"
    command = [sys.executable, "-c", "from capacity.cli import main; main()", "forecast-fleet"]
    args = ["--db", str(copy), "--config", str(config), "--jobs", "2", "--cold", "--horizon", "28d"]
    # workers killed mid-fit cannot remove their fits' CmdStan folders: this test's, not /tmp
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    run = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        deadline = time.monotonic() + 120
        workers = []
        while len(workers) < 2 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children(run.pid)
        assert len(workers) >= 2, "the run ended before its workers were seen"
        # each worker makes a tmp* folder when it imports cmdstanpy, kept if it is killed
        while not list(scratch.rglob("tmp*")) and time.monotonic() < deadline:
            time.sleep(0.2)
        with Store(copy, read_only=True) as store:  # a reader shares the store meanwhile
            assert not store.series(metric="ccu", region="eu-west").empty
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 143 and b"Aborted!" not in err  # capacity's line alone
    assert b"capacity: stopped by SIGTERM (exit 143); nothing unfinished was committed" in err
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.5)
    assert not any(_alive(pid) for pid in workers)
    with Store(copy, read_only=True) as store:
        assert store.forecast_runs().empty  # nothing half-saved
    # what the killed workers left went with the run's own temporary folder
    assert list(scratch.iterdir()) == []


def _alive(pid):
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = f"/proc/{pid}/stat"
    try:
        with open(stat) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone
    except OSError:
        return False


def test_a_repeated_forecast_reuses_the_cached_fits_of_unchanged_series(
    demo_store, tmp_path, monkeypatch
):
    """The second run fits nothing and gives the same frame; a scenario event in one region
    refits only that region's series; the warm start is not part of the key."""
    db, fleet = demo_store
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    two = fleet.model_copy(
        update={"regions": {r: fleet.regions[r] for r in ("eu-west", "na-east")}}
    )
    options = {"horizon": "24h", "history": "14d", "jobs": 1}
    with Store(_copy(db, tmp_path)) as store:
        first = forecast_fleet(store, two, **options)
        entries = sorted(folder.glob("*.joblib"))
        # stored parameters now exist, so this run's fits would start warm
        again = forecast_fleet(store, two, save=False, **options)
        event = (
            store.events()
            .iloc[[0]]
            .assign(
                event_id="scenario-1",
                start_ts=first.cutoff + pd.Timedelta(hours=2),
                end_ts=first.cutoff + pd.Timedelta(hours=8),
                regions=[["eu-west"]],
                kind="launch",
                expected_uplift=1.5,
            )
        )
        scenario = forecast_fleet(store, two, save=False, extra_events=event, **options)
        uncached = forecast_fleet(store, two, save=False, cache=False, **options)
        # every fit cached: the scheduler asked for is not needed, so one that is down
        # (nothing listens on port 1) does not stop the run
        down = {**options, "jobs": None, "scheduler": "tcp://127.0.0.1:1"}
        remote = forecast_fleet(store, two, save=False, **down)
    assert remote.summary["cached"].all()
    pd.testing.assert_frame_equal(remote.frame, first.frame)
    assert len(first.summary) == 6 and not first.summary["cached"].any()
    assert len(entries) == 6 and all(p.stat().st_size > 0 for p in entries)
    assert again.summary["cached"].all()
    pd.testing.assert_frame_equal(again.frame, first.frame)
    assert again.summary.drop(columns="cached").equals(first.summary.drop(columns="cached"))
    by_region = scenario.summary.groupby("region")["cached"].agg(["all", "any"])
    assert by_region.loc["na-east", "all"] and not by_region.loc["eu-west", "any"]
    lifted = scenario.frame.merge(first.frame, on=["region", "service", "metric", "ts"])
    eu = lifted[lifted["region"] == "eu-west"]
    assert (eu["yhat_x"] > eu["yhat_y"] * 1.05).any()  # the event is in the refit
    assert len(list(folder.glob("*.joblib"))) == 9
    assert not uncached.summary["cached"].any() and uncached.summary["warm_start"].all()


def test_the_cache_key_follows_every_input():
    series = pd.DataFrame(
        {"ts": pd.date_range("2026-11-01", periods=48, freq="h", tz="UTC"), "value": 100.0}
    )
    base = {
        "timezone": "Europe/Berlin",
        "holidays_country": "DE",
        "horizon": 24,
        "params": {"quantiles": (0.05, 0.5, 0.95)},
    }
    key = series_key(series, None, **base)
    # the same inputs in another frame layout make the same key
    shuffled = series.set_index(series.index + 7)
    assert series_key(shuffled, None, **base) == key
    changed = series.copy()
    changed.loc[5, "value"] = 100.000001
    events = pd.DataFrame({"kind": ["patch"], "start_ts": [series["ts"].iloc[-1]]})
    others = [
        series_key(changed, None, **base),
        series_key(series, events, **base),
        series_key(series, None, **{**base, "timezone": "UTC"}),
        series_key(series, None, **{**base, "holidays_country": "FR"}),
        series_key(series, None, **{**base, "horizon": 25}),
        series_key(series, None, **{**base, "params": {"quantiles": (0.05, 0.5, 0.9)}}),
    ]
    assert len({key, *others}) == 7


def test_a_damaged_entry_or_an_unwritable_folder_only_costs_a_fit(
    demo_store, tmp_path, monkeypatch
):
    db, fleet = demo_store
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    options = {"horizon": "12h", "history": "10d", "jobs": 1, "save": False}
    with Store(_copy(db, tmp_path)) as store:
        first = forecast_fleet(store, one_region(fleet), **options)
        entries = sorted(folder.glob("*.joblib"))
        entries[0].write_bytes(b"not a pickle")
        entries[1].write_bytes(entries[1].read_bytes()[:100])  # cut short
        again = forecast_fleet(store, one_region(fleet), **options)
        # a folder that cannot be made: the run goes on without the cache
        blocked = tmp_path / "a-file"
        blocked.write_text("")
        monkeypatch.setenv(CACHE_ENV, str(blocked / "cache"))
        blocked_run = forecast_fleet(store, one_region(fleet), **options)
        monkeypatch.setenv(CACHE_ENV, "off")
        off = forecast_fleet(store, one_region(fleet), **options)
    assert sorted(again.summary["cached"]) == [False, False, True]
    pd.testing.assert_frame_equal(again.frame, first.frame)
    assert all(joblib.load(p)[1]["status"] == "ok" for p in entries)  # rewritten whole
    assert not blocked_run.summary["cached"].any() and blocked.read_text() == ""
    assert not off.summary["cached"].any()
    assert not list(folder.glob(".partial-*"))


def test_entries_unused_for_two_weeks_are_removed(tmp_path):
    cache = ForecastCache(tmp_path)
    assert cache.put("old", 1) and cache.put("new", 2)
    stale = time.time() - KEEP_FOR.total_seconds() - 60
    os.utime(tmp_path / "old.joblib", (stale, stale))
    (tmp_path / ".partial-x").write_text("")
    os.utime(tmp_path / ".partial-x", (stale, stale))
    (tmp_path / "notes.txt").write_text("not the cache's")
    os.utime(tmp_path / "notes.txt", (stale, stale))
    assert cache.prune() == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.joblib", "notes.txt"]
    assert cache.get("new") == 2 and cache.get("old") is None


def test_a_run_of_other_quantiles_shares_the_weekly_plans_fits(demo_store, tmp_path, monkeypatch):
    """`capacity forecast-fleet` (its own quantiles, all on the shared grid) after the weekly
    plan (the shared grid) on the same telemetry fits nothing: each series is fitted on the
    shared grid too, and the run keeps only the quantiles it asked for, in the order asked,
    stored as such."""
    from capacity.columns import SHARED_QUANTILES

    db, fleet = demo_store
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    options = {"horizon": "24h", "history": "14d", "jobs": 1}
    with Store(_copy(db, tmp_path)) as store:
        plans = forecast_fleet(
            store, one_region(fleet), quantiles=SHARED_QUANTILES, save=False, **options
        )
        entries = sorted(folder.glob("*.joblib"))
        mine = forecast_fleet(store, one_region(fleet), quantiles=(0.95, 0.05, 0.5), **options)
        stored = store.forecast(mine.run_id)
        params = store.forecast_runs().iloc[0]
    assert len(entries) == 3 and sorted(folder.glob("*.joblib")) == entries
    assert mine.summary["cached"].all() and mine.quantiles == (0.95, 0.05, 0.5)
    asked = [quantile_column(q) for q in (0.95, 0.05, 0.5)]
    assert [c for c in mine.frame.columns if c.startswith("q")] == asked
    assert mine.params["quantiles"] == (0.95, 0.05, 0.5)
    shown = ["region", "service", "metric", "ts", "yhat", *asked, "model", "fallback"]
    assert list(mine.frame.columns) == shown
    pd.testing.assert_frame_equal(mine.frame, plans.frame[shown])
    assert {c for c in stored.columns if c.startswith("q")} == set(asked)
    assert params["run_id"] == mine.run_id
    assert list(params["quantiles"]) == [0.95, 0.05, 0.5]


def _bar_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """What ``capacity`` writes to stderr when stderr is a terminal (the progress bar draws
    only there), with ``\\r`` turned into line ends."""
    import pty
    import subprocess
    import sys

    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "capacity", *args],
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal's other end closed: the process ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(300) == 0
    return b"".join(chunks).decode(errors="replace").replace("\r", "\n")


def test_the_progress_bar_ends_full_when_the_series_come_from_the_cache(demo_store, tmp_path):
    """The bar moved by one per report, and the forecast cache reports every reused series
    at once: a second run of the same fleet, every series reused, stopped the bar at 1 of
    its series (8 % of the demo's 12)."""
    db, _ = demo_store
    copy = _copy(db, tmp_path)
    config = db.parent / "fleet" / "fleet.yaml"
    env = {**os.environ, CACHE_ENV: str(tmp_path / "cache"), "COLUMNS": "100"}
    args = ["forecast-fleet", "--db", str(copy), "--config", str(config)]
    args += ["--jobs", "2", "--horizon", "2h", "--history", "7d"]
    for run in ("fits", "reused"):
        drawn = re.findall(r"\] +(\d+)%", _bar_on_a_terminal(args, env))
        assert drawn and drawn[-1] == "100", (run, drawn)


def test_the_stored_run_records_the_series_it_skipped(demo_store, tmp_path):
    db, fleet = demo_store
    copy = _copy(db, tmp_path)
    with Store(copy) as store:
        # 30 hours: every eu-west series falls back to seasonal naive (no Prophet fit, fast);
        # mars-1 has no telemetry at all and is skipped
        run = forecast_fleet(
            store, one_region(fleet, "mars-1"), horizon="6h", history="30h", jobs=1
        )
        store.save_forecast(
            run.frame, run_id="by-hand", quantiles=run.quantiles, params={"note": "no record"}
        )
    with Store(copy, read_only=True) as store:
        runs = store.forecast_runs().set_index("run_id")
    mine = runs.loc[run.run_id]
    assert mine["series"] == 3 and mine["skipped"] == 3
    assert mine["series"] + mine["skipped"] == len(run.summary)
    assert sorted(mine["skipped_series"]) == sorted(
        f"mars-1/{s} ({m}): no telemetry in the history window"
        for r, s, m in one_region(fleet, "mars-1").demand_series()
        if r == "mars-1"
    )
    # a run stored without the record reads as unknown, not as "none skipped"
    assert pd.isna(runs.loc["by-hand", "skipped"]) and runs.loc["by-hand", "skipped_series"] is None


def test_a_constant_series_reads_baseline_as_its_fallback_says(fleet_file, db):
    # the forecaster falls back inside its fit for a constant series (no refusal): the summary
    # had said "ok" beside fallback=True, where the other fallbacks say "baseline"
    hours = pd.date_range("2026-11-01", periods=5 * 24, freq="h", tz="UTC")
    frame = pd.DataFrame(
        {"ts": hours, "region": "eu-west", "service": "game", "metric": "ccu", "value": 500.0}
    )
    fleet = load_fleet(fleet_file)
    with Store(db) as store:
        store.ingest_frame(frame, source="constant", fleet=fleet)
        run = forecast_fleet(store, fleet, horizon="6h", history="7d", jobs=1, save=False)
    row = run.summary.set_index("region").loc["eu-west"]
    assert row["fallback"] and row["model"].startswith("snaive (fallback: constant series")
    assert row["status"] == "baseline"


def test_a_history_too_short_for_the_store_is_fixed_by_a_longer_one_first(demo_store, tmp_path):
    from capacity.errors import DataError

    db, fleet = demo_store
    with Store(_copy(db, tmp_path)) as store:
        first = pd.Timestamp(store.con.execute("SELECT min(ts) FROM telemetry").fetchall()[0][0])
        # the store holds 35 days: the first fix is the longer --history, with the reach
        with pytest.raises(DataError) as short:
            forecast_fleet(store, one_region(fleet), history="1d", jobs=1, save=False)
        fix = str(short.value).split("Fix: ", 1)[1]
        assert fix.startswith("give a longer history, such as forecast-fleet --history 35d")
        assert f"reaches back to {first.tz_convert('UTC'):%Y-%m-%d %H:%M} UTC, 35 days" in fix
        assert fix.index("--history") < fix.index("load more telemetry")
        # a window that already reaches the oldest telemetry: loading more is the fix
        with pytest.raises(DataError) as whole:
            forecast_fleet(
                store,
                one_region(fleet),
                history="60d",
                cutoff=first + pd.Timedelta(hours=20),
                jobs=1,
                save=False,
            )
        assert str(whole.value).split("Fix: ", 1)[1].startswith("load more telemetry")


def test_the_run_line_counts_the_series_forecast_apart_from_those_skipped(demo_store, tmp_path):
    """The line had read "6 series" for a run that forecast 3 and skipped 3 (a region with
    no telemetry), as if the store now held six forecasts."""
    import yaml
    from click.testing import CliRunner

    from capacity.cli import cli

    db, _ = demo_store
    copy = _copy(db, tmp_path)
    config = tmp_path / "fleet.yaml"
    data = yaml.safe_load((db.parent / "fleet" / "fleet.yaml").read_text())
    for gone in ("na-east", "ap-southeast", "sa-east"):
        del data["regions"][gone], data["current_servers"][gone], data["failover"][gone]
    data["regions"]["mars-1"] = {"timezone": "UTC"}
    data["failover"] = {"eu-west": {"mars-1": 1.0}, "mars-1": {"eu-west": 1.0}}
    config.write_text(yaml.safe_dump(data))
    args = ["forecast-fleet", "--db", str(copy), "--config", str(config)]
    # 30 hours: every eu-west series falls back to seasonal naive (no Prophet fit, fast)
    result = CliRunner().invoke(cli, [*args, "--jobs", "1", "--horizon", "6h", "--history", "30h"])
    assert result.exit_code == 0, result.output
    assert re.search(
        r"^run \S+: 3 series forecast \(3 skipped: no forecast stored\) from ", result.stdout, re.M
    ), result.stdout
    with Store(copy, read_only=True) as store:
        assert store.forecast_runs()["series"].tolist() == [3]


def _loky_workers(pid):
    import pathlib

    workers = []
    for child in _children(pid):
        try:
            cmdline = pathlib.Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"LokyProcess" in cmdline:
            workers.append(child)
    return workers


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/stat").exists(), reason="/proc")
def test_the_workers_end_with_a_run_killed_by_sigkill(demo_store, tmp_path):
    """A run killed with SIGKILL (a timeout's last resort, the out-of-memory killer) had left
    its worker processes blocked for good writing results nobody read, about 200 MB each."""
    import signal
    import subprocess
    import sys

    db, _ = demo_store
    copy = _copy(db, tmp_path)
    config = db.parent / "fleet" / "fleet.yaml"
    command = [sys.executable, "-c", "from capacity.cli import main; main()", "forecast-fleet"]
    args = ["--db", str(copy), "--config", str(config), "--jobs", "2", "--cold", "--horizon", "28d"]
    scratch = tmp_path / "tmp"  # the fits' CmdStan folders a killed worker leaves behind
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    run = subprocess.Popen(
        [*command, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    workers = []
    try:
        deadline = time.monotonic() + 120
        # a worker running CmdStan is inside a task: its watcher has started
        while run.poll() is None and time.monotonic() < deadline:
            workers = _loky_workers(run.pid)
            if any(_children(worker) for worker in workers):
                break
            time.sleep(0.1)
        assert workers and run.poll() is None, "the run ended before a worker was seen fitting"
        run.send_signal(signal.SIGKILL)
        run.wait(30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers)
    finally:
        run.kill()
        for pid in workers:
            with __import__("contextlib").suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_taking_up_a_task_after_its_sender_died_ends_at_once(tmp_path):
    """A task still queued when the run was SIGKILLed is taken up by a worker whose parent is
    already gone: it had watched its new parent (init) and stayed for good."""
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: no process has this id now
    code = "import sys; from capacity.worker_watch import run_watched; "
    code += "run_watched(print, 'ran', int(sys.argv[1]))"
    orphan = subprocess.run(
        [sys.executable, "-c", code, str(gone.pid)], capture_output=True, text=True, timeout=60
    )
    assert orphan.returncode == 1 and "ran" not in orphan.stdout and orphan.stderr == ""
    # sent by its own parent, alive: the task runs
    sent = subprocess.run(
        [sys.executable, "-c", code, str(os.getpid())], capture_output=True, text=True, timeout=60
    )
    assert sent.returncode == 0 and sent.stdout == "ran\n"
