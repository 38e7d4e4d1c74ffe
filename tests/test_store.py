"""The store: loads, validation, idempotence, merging, queries and locking."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from capacity import DataError, ParameterError, SchemaError, Store, StoreError, StoreLockedError
from capacity.config import load_fleet
from tests.conftest import HEADER
from tests.notebook_data import FLEET

GOOD = HEADER + (
    "2026-01-01T00:00:00Z,eu-west,game,ccu,100\n"
    "2026-01-01T01:00:00Z,eu-west,game,ccu,110\n"
    "2026-01-01T03:00:00Z,eu-west,game,ccu,130\n"
    "2026-01-01T01:00:00+01:00,eu-west,game,cpu_util,0.5\n"
)


def snapshot(db: Path) -> tuple[list, list]:
    """Everything a load could change: the telemetry rows and the record of loads."""
    with Store(db, read_only=True) as store:
        rows = store.con.execute(
            "SELECT ts, region, service, metric, value FROM telemetry ORDER BY ALL"
        ).fetchall()
        loads = store.con.execute("SELECT load_id, source, sha256 FROM loads ORDER BY 1").fetchall()
    return rows, loads


def test_long_csv_loads_with_offsets_converted_to_utc(db, write):
    with Store(db) as store:
        [report] = store.ingest([write("t.csv", GOOD)])
        rows = store.con.execute(
            "SELECT strftime(ts, '%Y-%m-%dT%H:%M'), metric, value FROM telemetry "
            "ORDER BY metric, ts"
        ).fetchall()
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (4, 4, 0, 0)
    assert rows == [
        ("2026-01-01T00:00", "ccu", 100.0),
        ("2026-01-01T01:00", "ccu", 110.0),
        ("2026-01-01T03:00", "ccu", 130.0),
        ("2026-01-01T00:00", "cpu_util", 0.5),
    ]


def test_same_file_twice_changes_nothing(db, write):
    path = write("t.csv", GOOD)
    with Store(db) as store:
        store.ingest([path])
    before = snapshot(db)
    with Store(db) as store:
        [report] = store.ingest([path])
    assert report.skipped
    assert "already loaded" in report.describe()
    assert snapshot(db) == before


def test_overlapping_file_updates_rows_and_counts_them(db, write):
    with Store(db) as store:
        store.ingest([write("a.csv", GOOD)])
        [report] = store.ingest(
            [
                write(
                    "b.csv",
                    HEADER + "2026-01-01T00:00:00Z,eu-west,game,ccu,100\n"
                    "2026-01-01T01:00:00Z,eu-west,game,ccu,111\n"
                    "2026-01-01T02:00:00Z,eu-west,game,ccu,120\n",
                )
            ]
        )
        values = store.con.execute(
            "SELECT value FROM telemetry WHERE metric = 'ccu' ORDER BY ts"
        ).fetchall()
        total = store.con.execute("SELECT count(*) FROM telemetry").fetchone()[0]
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)
    assert [v for (v,) in values] == [100.0, 111.0, 120.0, 130.0]
    assert total == 5


def test_identical_duplicate_rows_collapse(db, write):
    text = HEADER + "2026-01-01T00:00:00Z,eu-west,game,ccu,7\n" * 3
    with Store(db) as store:
        [report] = store.ingest([write("d.csv", text)])
        count = store.con.execute("SELECT count(*) FROM telemetry").fetchone()[0]
    assert report.rows == 1 and report.collapsed == 2
    assert count == 1
    assert report.describe().endswith(
        "d.csv: 3 rows read (2 identical duplicates kept once), 1 inserted, 0 updated, 0 unchanged"
    )


def test_a_load_of_one_row_says_row(db, write):
    """It said "1 rows read"."""
    with Store(db) as store:
        [report] = store.ingest(
            [write("one.csv", HEADER + "2026-01-01T00:00:00Z,eu-west,game,ccu,7\n")]
        )
    assert report.describe().endswith("one.csv: 1 row read, 1 inserted, 0 updated, 0 unchanged")


def test_gzip_csv_and_parquet_load_the_same_rows(db, tmp_path, write):
    csv_path = write("t.csv", GOOD)
    gz_path = tmp_path / "t.csv.gz"
    gz_path.write_bytes(gzip.compress(csv_path.read_bytes()))
    frame = pd.read_csv(csv_path)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    parquets = []
    for unit in ("us", "ns"):  # pandas 3 writes microseconds; pandas 2 nanoseconds (TIMESTAMPTZ_NS)
        parquets.append(tmp_path / f"t_{unit}.parquet")
        frame.assign(ts=frame["ts"].dt.as_unit(unit)).to_parquet(parquets[-1], index=False)
    results = []
    for i, path in enumerate([csv_path, gz_path, *parquets]):
        with Store(tmp_path / f"s{i}.duckdb") as store:
            store.ingest([path])
            results.append(
                store.con.execute("SELECT ts, metric, value FROM telemetry ORDER BY ALL").fetchall()
            )
    assert results[0] == results[1] == results[2] == results[3]
    assert len(results[0]) == 4


def test_parquet_with_naive_timestamps_needs_tz(db, tmp_path):
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-07-01 10:00", "2026-07-01 11:00"]),
            "region": "eu-west",
            "service": "game",
            "metric": "ccu",
            "value": [1.0, 2.0],
        }
    )
    path = tmp_path / "naive.parquet"
    frame.to_parquet(path, index=False)
    with (
        Store(db) as store,
        pytest.raises(DataError, match=r"naive\.parquet: row 1.*no UTC offset"),
    ):
        store.ingest([path])
    with Store(db) as store:
        store.ingest([path], tz="Europe/Berlin")
        first = store.con.execute("SELECT strftime(min(ts), '%H:%M') FROM telemetry").fetchone()[0]
    assert first == "08:00"  # 10:00 in Berlin summer time is 08:00 UTC


def test_naive_csv_with_tz_is_localised(db, write):
    text = HEADER + "2026-01-15 10:00,eu-west,game,ccu,1\n2026-07-15 10:00,eu-west,game,ccu,2\n"
    with Store(db) as store:
        store.ingest([write("n.csv", text)], tz="Europe/Berlin")
        hours = store.con.execute("SELECT strftime(ts, '%H') FROM telemetry ORDER BY ts").fetchall()
    assert hours == [("09",), ("08",)]


@pytest.mark.parametrize(
    ("zone", "when", "problem", "choice"),
    [
        (
            "Europe/Berlin",
            "2026-10-25 02:30",
            "occurs twice in Europe/Berlin (the clocks go back)",
            "2026-10-25T02:30:00+02:00 or +01:00",
        ),
        (
            "Europe/Berlin",
            "2026-03-29 02:30",
            "does not exist in Europe/Berlin (the clocks skip",
            "2026-03-29T02:30:00+01:00 or +02:00",
        ),
        # Lord Howe Island's clocks move by half an hour
        (
            "Australia/Lord_Howe",
            "2026-04-05 01:45",
            "occurs twice in Australia/Lord_Howe",
            "2026-04-05T01:45:00+11:00 or +10:30",
        ),
        (
            "Australia/Lord_Howe",
            "2026-10-04 02:15",
            "does not exist in Australia/Lord_Howe",
            "2026-10-04T02:15:00+10:30 or +11:00",
        ),
    ],
)
def test_naive_times_the_clock_change_repeats_or_skips_are_refused(
    db, write, zone, when, problem, choice
):
    text = HEADER + f"2026-10-25 01:30,eu-west,game,ccu,1\n{when},eu-west,game,ccu,2\n"
    for typed in (False, True):  # read as text, and as a naive TIMESTAMP column (Parquet)
        path = write("n.csv", text)
        if typed:
            frame = pd.read_csv(path, parse_dates=["ts"])
            path = path.with_suffix(".parquet")
            frame.to_parquet(path, index=False)
        pattern = rf"n\.(csv|parquet): (line 3|row 2), column 'ts': timestamp '{when}(:00)?' "
        with Store(db) as store, pytest.raises(DataError, match=pattern + re.escape(problem)) as e:
            store.ingest([path], tz=zone)
        # the fix names this moment with the offsets its zone has either side of the change
        assert f"write timestamps with their UTC offset ({choice} says which)" in str(e.value)
        with Store(db) as store:
            assert store.con.execute("SELECT count(*) FROM telemetry").fetchone()[0] == 0
    # Either side of the change is fine: 01:30 summer time, 03:30 winter time.
    with Store(db) as store:
        store.ingest(
            [
                write(
                    "ok.csv",
                    HEADER + "2026-10-25 01:30,eu-west,game,ccu,1\n"
                    "2026-10-25 03:30,eu-west,game,ccu,2\n",
                )
            ],
            tz="Europe/Berlin",
        )
        hours = store.con.execute("SELECT strftime(ts, '%H:%M') FROM telemetry ORDER BY ts")
        assert hours.fetchall() == [("23:30",), ("02:30",)]


def test_wide_csv_unpivots_and_empty_cells_are_gaps(db, write):
    text = (
        "ts,region,service,ccu,rps,cpu_util\n"
        "2026-01-01T00:00:00Z,eu-west,game,10,,0.25\n"
        "2026-01-01T01:00:00Z,eu-west,game,12,3.5,0.3\n"
    )
    with Store(db) as store:
        [report] = store.ingest([write("w.csv", text)])
        rows = store.con.execute(
            "SELECT metric, count(*), sum(value) FROM telemetry GROUP BY metric ORDER BY metric"
        ).fetchall()
    assert report.rows == 5
    assert rows == [("ccu", 2, 22.0), ("cpu_util", 2, 0.55), ("rps", 1, 3.5)]


BAD_INPUTS = {
    "missing column": (
        "ts,region,service,metric,vlaue\n2026-01-01T00:00:00Z,eu-west,game,ccu,1\n",
        r"bad\.csv: header: required column 'value' is missing.*rename column 'vlaue' to 'value'",
    ),
    "misspelt ts": (
        "timestamp,region,service,metric,value\n2026-01-01T00:00:00Z,eu-west,game,ccu,1\n",
        r"bad\.csv: header: required column 'ts' is missing.*rename column 'timestamp' to 'ts'",
    ),
    "unparseable timestamp": (
        HEADER + "2026-01-01T00:00:00Z,eu-west,game,ccu,1\nnot-a-time,eu-west,game,ccu,2\n",
        r"bad\.csv: line 3, column 'ts': timestamp 'not-a-time' does not parse",
    ),
    "naive timestamp": (
        HEADER + "2026-01-01T00:00:00Z,eu-west,game,ccu,1\n2026-01-01 01:00,eu-west,game,ccu,2\n",
        r"bad\.csv: line 3, column 'ts': timestamp '2026-01-01 01:00' has no UTC offset.*--tz",
    ),
    "non-numeric value": (
        HEADER + "2026-01-01T00:00:00Z,eu-west,game,ccu,lots\n",
        r"bad\.csv: line 2, column 'value': value of metric 'ccu' is 'lots', not a number",
    ),
    "negative count": (
        HEADER
        + "2026-01-01T00:00:00Z,eu-west,game,ccu,1\n2026-01-01T01:00:00Z,eu-west,game,servers,-3\n",
        r"bad\.csv: line 3, column 'value': value of metric 'servers' is -3.*cannot be negative",
    ),
    "percent as fraction": (
        HEADER + "2026-01-01T00:00:00Z,eu-west,game,cpu_util,57\n",
        r"line 2, column 'value': value of metric 'cpu_util' is 57, outside \[0, 1\]",
    ),
    "thousands separators": (
        HEADER + '2026-01-01T00:00:00Z,eu-west,game,ccu,"1,212,400"\n',
        r"line 2, column 'value': value '1,212,400' has thousands separators \(metric 'ccu'\)\. "
        r"Fix: write plain numbers \(1212400\), or drop the row",
    ),
    "decimal comma": (
        'ts,region,service,ccu,cpu_util\n2026-01-01T00:00:00Z,eu-west,game,10,"0,75"\n',
        r"line 2, column 'cpu_util': value '0,75' has a decimal comma \(metric 'cpu_util'\)\. "
        r"Fix: write a decimal point \(0\.75\)",
    ),
    "time in the future": (
        HEADER
        + "2026-01-01T00:00:00Z,eu-west,game,ccu,1\n2062-01-01T01:00:00Z,eu-west,game,ccu,2\n",
        r"bad\.csv: line 3, column 'ts': time '2062-01-01T01:00:00Z' is more than 24 hours after "
        r"now \(\d{4}-.* UTC\).*cannot come from the future.*check that row's year and UTC offset",
    ),
    "conflicting duplicate": (
        HEADER + "2026-01-01T00:00:00Z,eu-west,game,ccu,1\n"
        "2026-01-01T01:00:00Z,eu-west,game,ccu,5\n"
        "2026-01-01T00:00:00Z,eu-west,game,ccu,2\n",
        r"bad\.csv: line 2 and line 4: two rows for the same key .*different values \(1 and 2\)",
    ),
    "empty region": (
        HEADER + "2026-01-01T00:00:00Z,,game,ccu,1\n",
        r"bad\.csv: line 2, column 'region': region is empty",
    ),
    "misspelt metric": (
        HEADER
        + "2026-01-01T00:00:00Z,eu-west,game,ccu,1\n"
        + "2026-01-01T00:00:00Z,eu-west,game,cpu_utl,0.5\n",
        r"bad\.csv: line 3, column 'metric': unknown metric 'cpu_utl' "
        r"\(did you mean 'cpu_util'\?\)",
    ),
    "unknown metric column": (
        "ts,region,service,ccu,queue\n2026-01-01T00:00:00Z,eu-west,game,10,3\n",
        r"bad\.csv: line 2, column 'queue': unknown metric 'queue'; capacity reads ccu, rps",
    ),
    "label column in a wide file": (
        "ts,region,service,ccu,host\n2026-01-01T00:00:00Z,eu-west,game,10,host-1\n",
        r"bad\.csv: line 2, column 'host': unknown metric 'host'; capacity reads ccu, rps.*"
        r"in a wide file every column but 'ts', 'region' and 'service' is read as a metric",
    ),
    "text under an unknown metric": (
        HEADER + "2026-01-01T00:00:00Z,eu-west,game,hostname,host-1\n",
        r"bad\.csv: line 2, column 'metric': unknown metric 'hostname'; capacity reads ccu",
    ),
    "no rows": (HEADER, r"bad\.csv: has no data rows"),
    "empty file": ("", r"bad\.csv: the file is empty"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_and_store_unchanged(case, db, write):
    with Store(db) as store:
        store.ingest([write("good.csv", GOOD)])
    before = snapshot(db)
    text, message = BAD_INPUTS[case]
    with Store(db) as store, pytest.raises(DataError, match=message):
        store.ingest([write("bad.csv", text)])
    assert snapshot(db) == before


def test_a_bad_file_rolls_back_the_good_files_of_the_same_command(db, write):
    with Store(db) as store:
        store.ingest([write("seed.csv", GOOD)])
    before = snapshot(db)
    good = write("more.csv", HEADER + "2026-02-01T00:00:00Z,eu-west,game,ccu,1\n")
    bad = write("bad.csv", HEADER + "2026-02-01T00:00:00Z,eu-west,game,ccu,-1\n")
    with Store(db) as store, pytest.raises(DataError):
        store.ingest([good, bad])
    assert snapshot(db) == before


def test_unknown_region_or_service_with_fleet(db, write, fleet_file):
    fleet = load_fleet(fleet_file)
    Store(db).close()
    before = snapshot(db)
    text = (
        HEADER
        + "2026-01-01T00:00:00Z,eu-west,game,ccu,1\n2026-01-01T00:00:00Z,eu-wset,game,ccu,1\n"
    )
    with (
        Store(db) as store,
        pytest.raises(
            DataError, match=r"line 3, column 'region': unknown region 'eu-wset'.*eu-west, na-east"
        ),
    ):
        store.ingest([write("r.csv", text)], fleet=fleet)
    text = HEADER + "2026-01-01T00:00:00Z,eu-west,chat,ccu,1\n"
    with Store(db) as store, pytest.raises(DataError, match=r"unknown service 'chat'"):
        store.ingest([write("s.csv", text)], fleet=fleet)
    assert snapshot(db) == before
    with Store(db) as store:
        [report] = store.ingest([write("ok.csv", GOOD)], fleet=fleet)
    assert report.inserted == 4


def test_unsupported_file_and_bad_tz(db, write):
    with Store(db) as store:
        with pytest.raises(DataError, match=r"t\.xlsx: unsupported file type"):
            store.ingest([write("t.xlsx", "x")])
        with pytest.raises(ParameterError, match="'tz' parameter must be an IANA time zone"):
            store.ingest([write("t.csv", GOOD)], tz="Mars/Olympus")


def test_series_fills_gaps_with_nan_not_zero(db, write):
    with Store(db) as store:
        store.ingest([write("t.csv", GOOD)])
    with Store(db, read_only=True) as store:
        frame = store.series(region="eu-west", service="game", metric="ccu")
        two_hourly = store.series(metric="ccu", freq="2h", agg="max")
        window = store.series(metric="ccu", start="2026-01-01T01:00Z", end="2026-01-01T03:00Z")
    assert list(frame.columns) == ["ts", "region", "service", "metric", "value"]
    assert str(frame["ts"].dt.tz) == "UTC"
    assert frame["value"].tolist()[:2] == [100.0, 110.0]
    assert pd.isna(frame["value"].iloc[2])
    assert frame["value"].iloc[3] == 130.0
    assert two_hourly["value"].tolist() == [110.0, 130.0]
    assert window["ts"].dt.hour.tolist() == [1, 2]
    assert window["value"].tolist()[0] == 110.0 and pd.isna(window["value"].iloc[1])


def test_series_refuses_bad_parameters(db, write):
    with Store(db) as store:
        store.ingest([write("t.csv", GOOD)])
        with pytest.raises(ParameterError, match="'freq' parameter must be a positive duration"):
            store.series(freq="soon")
        with pytest.raises(ParameterError, match="'agg' parameter must be one of"):
            store.series(agg="p99; DROP TABLE telemetry")


def test_series_refuses_names_the_store_does_not_hold(db, write):
    """A typo in a region had returned an empty frame, read as "no data" (issue: unknown
    regions get a clear error); strict=False keeps the empty answer for callers that ask
    for a fleet's regions whether loaded or not."""
    with Store(db) as store:
        store.ingest([write("t.csv", GOOD)])
    with Store(db, read_only=True) as store:
        with pytest.raises(ParameterError) as caught:
            store.series(region="eu-wset", metric="ccu")
        message = str(caught.value)
        assert str(db) in message and ": region:" in message
        assert "no telemetry of region 'eu-wset' (did you mean 'eu-west'?)" in message
        assert "its regions are eu-west" in message and "Fix:" in message
        with pytest.raises(ParameterError, match=r"service 'gmae' \(did you mean 'game'\?\)"):
            store.series(region=["eu-west"], service=["game", "gmae"])
        with pytest.raises(
            ParameterError, match=r"unknown metric 'players'; capacity reads ccu, rps"
        ):
            store.series(metric="players")
        assert store.series(region="eu-wset", metric="ccu", strict=False).empty
        assert len(store.series(region=["eu-west"], service="game", metric="ccu")) == 4


def test_series_refuses_a_start_not_before_end(db, write):
    """store.series(start="2026-11-10", end="2026-11-01") returned an empty frame, read as
    "no data" as a typo'd region had been; strict=False keeps the empty answer."""
    with Store(db) as store:
        store.ingest([write("t.csv", GOOD)])
    with Store(db, read_only=True) as store:
        with pytest.raises(ParameterError) as caught:
            store.series(metric="ccu", start="2026-11-10", end="2026-11-01")
        message = str(caught.value)
        assert ": start: start (2026-11-10 00:00 UTC) must be before end" in message
        assert "Fix: swap them" in message
        with pytest.raises(ParameterError, match="must be before end"):
            store.series(metric="ccu", start="2026-11-10T00:00Z", end="2026-11-10")
        assert store.series(metric="ccu", start="2026-11-10", end="2026-11-01", strict=False).empty


def test_status_counts_gaps_per_series(db, write):
    with Store(db) as store:
        store.ingest([write("t.csv", GOOD)])
        series, ahead = store.status(now="2026-01-01T00:00Z")
    ccu = series.set_index("metric").loc["ccu"]
    assert (ccu["rows"], ccu["missing_hours"], ccu["gaps"]) == (3, 1, 1)
    assert ccu["last_load_id"] == 1
    assert ahead.empty


def test_read_only_store_must_exist(tmp_path):
    with pytest.raises(StoreError, match="store not found"):
        Store(tmp_path / "nope.duckdb", read_only=True)


def test_a_path_under_the_home_folder_is_read_as_the_shell_reads_it(tmp_path, write, monkeypatch):
    """Store("~/capacity.duckdb", read_only=True) said 'store not found' of a store that was
    there, and opened for writing made a folder named '~' in the working folder and a new
    empty store in it; load_fleet("~/fleet.yaml") said 'file not found'."""
    home, elsewhere = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    elsewhere.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    with Store("~/capacity.duckdb") as store:
        store.ingest([write("t.csv", GOOD)])
    assert (home / "capacity.duckdb").is_file() and not (elsewhere / "~").exists()
    with Store("~/capacity.duckdb", read_only=True) as store:
        assert store.path == home / "capacity.duckdb"
        assert len(store.series(metric="ccu")) == 4
    (home / "fleet.yaml").write_text(FLEET.read_text())
    assert "eu-west" in load_fleet("~/fleet.yaml").regions


def test_newer_schema_is_refused(db):
    Store(db).close()
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO schema_version VALUES (99, now())")
    con.close()
    with pytest.raises(SchemaError, match="schema version 99, newer"):
        Store(db)


HOLDER = """
import sys, time
from capacity import Store
store = Store(sys.argv[1])
print("locked", flush=True)
time.sleep(30)
"""


def test_second_writer_is_told_the_store_is_locked(db, write):
    Store(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match="store is locked by another process"):
            Store(db)
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 10
    while True:  # the lock is released with the process
        try:
            Store(db).close()
            break
        except StoreLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def forecast_frame(region: str, values: list[float], model: str = "prophet") -> pd.DataFrame:
    ts = pd.date_range("2026-01-02", periods=len(values), freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "region": region,
            "service": "game",
            "metric": "ccu",
            "ts": ts,
            "yhat": values,
            "q0.05": [v * 0.9 for v in values],
            "q0.95": [v * 1.1 for v in values],
            "model": model,
            "fallback": model != "prophet",
        }
    )


def test_forecast_runs_round_trip_and_newest_first(db):
    first = pd.concat(
        [forecast_frame("eu-west", [10, 20, 30]), forecast_frame("na-east", [5, 6, 7], "snaive")]
    )
    with Store(db) as store:
        store.save_forecast(first, run_id="run-1", quantiles=[0.05, 0.95], params={"h": 3})
        store.save_forecast(
            forecast_frame("eu-west", [11, 21]), run_id="run-2", quantiles=[0.05, 0.95], params={}
        )
        with pytest.raises(ParameterError, match="'run_id' parameter must be new"):
            store.save_forecast(first, run_id="run-1", quantiles=[0.05, 0.95], params={})
        runs = store.forecast_runs()
    with Store(db, read_only=True) as store:
        newest = store.forecast()
        old = store.forecast("run-1", region="eu-west")
        with pytest.raises(ParameterError, match="must name a stored run"):
            store.forecast("run-9")
    assert runs["run_id"].tolist() == ["run-2", "run-1"]
    assert runs.set_index("run_id").loc["run-1", "fallbacks"] == 1
    assert runs.set_index("run_id").loc["run-1", "horizon_steps"] == 3
    assert newest["yhat"].tolist() == [11.0, 21.0]
    assert list(old.columns) == [
        "run_id",
        "region",
        "service",
        "metric",
        "ts",
        "yhat",
        "q0.05",
        "q0.95",
        "model",
        "fallback",
    ]
    assert old["q0.95"].round(6).tolist() == [11.0, 22.0, 33.0]
    assert str(old["ts"].dt.tz) == "UTC"


def test_forecast_refuses_a_name_the_run_does_not_hold(db):
    """store.forecast(region="eu-wset") or metric="cpu_util" returned an empty frame, read
    as a run without that series; strict=False keeps the empty answer."""
    first = pd.concat([forecast_frame("eu-west", [10, 20]), forecast_frame("na-east", [5, 6])])
    with Store(db) as store:
        store.save_forecast(first, run_id="run-1", quantiles=[0.05, 0.95], params={})
        store.save_forecast(
            forecast_frame("eu-west", [11, 21]), run_id="run-2", quantiles=[0.05, 0.95], params={}
        )
    with Store(db, read_only=True) as store:
        with pytest.raises(ParameterError) as caught:
            store.forecast(region="eu-wset")
        message = str(caught.value)
        assert ": region: run run-2 holds no forecast of region 'eu-wset'" in message
        assert "(did you mean 'eu-west'?); its regions are eu-west. Fix:" in message
        # the newest run has no na-east: named against the run read, not every run
        with pytest.raises(ParameterError, match="run run-2 holds no forecast of region 'na-east'"):
            store.forecast(region=["eu-west", "na-east"])
        with pytest.raises(ParameterError, match="metric 'cpu_util'; its metrics are ccu"):
            store.forecast("run-1", metric="cpu_util")
        assert len(store.forecast("run-1", region=["eu-west", "na-east"], service="game")) == 4
        assert store.forecast(region="eu-wset", strict=False).empty


def _schema_1_store(db: Path) -> duckdb.DuckDBPyConnection:
    """A store as the first schema made it, left open for more rows."""
    from capacity.store import MIGRATIONS

    db.parent.mkdir(parents=True)
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMPTZ)")
    for statement in MIGRATIONS[0]:
        con.execute(statement)
    con.execute("INSERT INTO schema_version VALUES (1, now())")
    return con


def test_an_older_store_is_migrated_when_opened(db):
    from capacity.store import SCHEMA_VERSION

    con = _schema_1_store(db)
    con.execute("INSERT INTO telemetry VALUES ('2026-01-01 00:00+00', 'eu', 'game', 'ccu', 3, 1)")
    con.close()
    with Store(db, read_only=True) as store:  # a reader migrates it first
        assert store.schema_version() == SCHEMA_VERSION > 1
        assert store.con.execute("SELECT value FROM telemetry").fetchall() == [(3.0,)]
        assert store.forecast_runs().empty
        with pytest.raises(duckdb.Error):  # and still reads only
            store.con.execute("DELETE FROM telemetry")


def test_a_reader_that_cannot_upgrade_an_older_store_says_why(db):
    """A reader of an older store upgrades it with a short writable open; when another
    process held the store, the reader said only that it was locked, though it only reads."""
    from capacity.store import SCHEMA_VERSION

    _schema_1_store(db).close()
    script = (
        "import sys, time, duckdb\ncon = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print('held', flush=True)\ntime.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError) as info:
            Store(db, read_only=True)
    finally:
        holder.kill()
        holder.wait()
    assert str(info.value).startswith(
        f"store is locked by another process: {db}; it was written by an older capacity "
        f"(schema 1; this one reads {SCHEMA_VERSION}) and a reader upgrades it once"
    )
    with Store(db, read_only=True) as store:  # free again: the reader upgrades it
        assert store.schema_version() == SCHEMA_VERSION


def _frame(values: list[float], **columns: object) -> pd.DataFrame:
    ts = pd.date_range("2026-01-01", periods=len(values), freq="h", tz="UTC")
    frame = pd.DataFrame(
        {"ts": ts, "region": "eu-west", "service": "game", "metric": "ccu", "value": values}
    )
    return frame.assign(**columns)


def test_rows_in_memory_load_and_merge_like_a_file(db, write, fleet_file):
    fleet = load_fleet(fleet_file)
    with Store(db) as store:
        store.ingest([write("t.csv", GOOD)])
        report = store.ingest_frame(_frame([100, 111, 120, 130]), source="pulled", fleet=fleet)
        assert (report.rows, report.inserted, report.updated, report.unchanged) == (4, 1, 1, 2)
        again = store.ingest_frame(_frame([100, 111, 120, 130]), source="pulled", fleet=fleet)
        assert again.skipped
        twice = pd.concat([_frame([100, 111]), _frame([100])])  # an identical row repeated
        assert store.ingest_frame(twice, source="again").rows == 2
        hourly = store.series(metric="ccu")
    assert hourly.value.tolist() == [100, 111, 120, 130]
    assert [load[1] for load in snapshot(db)[1]][-2:] == ["pulled", "again"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_frame([1.0, -2.0]), "ccu of eu-west/game at 2026-01-01T01:00:00+00:00: value of metric"),
        (_frame([1.0], metric="cpu_util", value=[1.5]), "outside [0, 1]"),
        (_frame([1.0, 2.0], region=["eu-west", "eu-wst"]), "unknown region 'eu-wst'"),
        (_frame([1.0], metric="cpu_utl"), "unknown metric 'cpu_utl' (did you mean 'cpu_util'?)"),
        (pd.concat([_frame([1.0]), _frame([2.0])]), "two rows for the same key"),
        (_frame([1.0]).drop(columns="service"), "missing column(s) service"),
        (_frame([1.0, "abc"]), "at 2026-01-01T01:00:00+00:00: value of metric 'ccu' is 'abc', not"),
        (_frame([1.0]).assign(ts=pd.Timestamp("2026-01-01")), "not times with a time zone"),
        (
            _frame([1.0]).assign(ts=pd.Timestamp("2062-01-01T05:00Z")),
            "at 2062-01-01T05:00:00+00:00: time '2062-01-01T05:00:00+00:00' is more than 24 hours",
        ),
    ],
)
def test_bad_rows_in_memory_are_refused_by_key_and_nothing_loads(db, fleet_file, frame, message):
    with Store(db) as store:
        store.ingest_frame(_frame([5.0], region="na-east"), source="first")
    before = snapshot(db)
    with Store(db) as store, pytest.raises(DataError) as caught:
        store.ingest_frame(frame, source="pulled", fleet=load_fleet(fleet_file))
    assert str(caught.value).startswith("pulled: ")
    assert message in str(caught.value)
    assert snapshot(db) == before


def test_a_malformed_line_past_the_sniffed_sample_is_named_and_loads_nothing(db, write):
    with Store(db) as store:
        store.ingest([write("a.csv", GOOD)])
    before = snapshot(db)
    start = pd.Timestamp("2026-02-01T00:00Z")
    lines = [
        f"{start + pd.Timedelta(hours=h):%Y-%m-%dT%H:%M:%SZ},eu-west,game,ccu,{h}"
        for h in range(40_000)
    ]
    lines[30_000] += ",extra"
    path = write("big.csv", HEADER + "\n".join(lines) + "\n")
    with Store(db) as store, pytest.raises(DataError) as err:
        store.ingest([path])
    assert "big.csv: line 30002: 6 fields where the header has 5" in str(err.value)
    assert snapshot(db) == before


def test_a_bad_row_is_named_by_its_line_even_after_blank_lines(db, write):
    text = (
        HEADER
        + "\n2026-01-01T00:00:00Z,eu-west,game,ccu,100\n\n\n"
        + "2026-01-01T01:00:00Z,eu-west,game,ccu,-5\n"
    )
    with Store(db) as store, pytest.raises(DataError, match=r"b\.csv: line 6, column 'value'"):
        store.ingest([write("b.csv", text)])


def test_a_file_loaded_again_after_a_correction_is_applied_again(db, write):
    """The same content loaded twice changes nothing, unless a later load has replaced
    some of its rows: then loading it again puts its values back (it once said "already
    loaded, nothing changed" and left the corrected values in place)."""
    row = "2026-01-01T00:00:00Z,eu-west,game,ccu,{}\n"
    original, corrected = HEADER + row.format(100), HEADER + row.format(200)
    with Store(db) as store:
        store.ingest([write("t.csv", original)])
        [again] = store.ingest([write("t.csv", original)])
        assert again.skipped  # nothing else touched its rows
        store.ingest([write("t.csv", corrected)])
        [back] = store.ingest([write("t.csv", original)])
        value = store.con.execute("SELECT value FROM telemetry").fetchone()[0]
    assert not back.skipped and (back.updated, value) == (1, 100.0)


def test_an_events_file_loaded_again_after_an_edit_is_applied_again(db, write):
    header = "event_id,name,kind,start,end,regions,expected_uplift\n"
    line = "X1,Push,marketing,2026-12-01T00:00:00Z,2026-12-02T00:00:00Z,eu-west,{}\n"
    with Store(db) as store:
        store.import_events([write("ids.csv", header + line.format(1.5))])
        store.import_events([write("ids.csv", header + line.format(1.6))])
        report = store.import_events([write("ids.csv", header + line.format(1.5))])
        uplift = store.con.execute("SELECT expected_uplift FROM events").fetchone()[0]
    assert (report.updated, uplift) == (1, 1.5)


def test_a_load_replaces_the_hours_it_holds_whole(db, write):
    """Five-minute pulls then an hourly file of the same hours had kept the pulls' other
    eleven points of each hour beside the file's, and the hour's mean matched neither."""
    key = "eu-west,game,ccu"
    fine = HEADER + "".join(
        f"2026-11-22T10:{m:02d}:00Z,{key},{1000 + m}\n" for m in range(0, 60, 5)
    )
    hourly = HEADER + f"2026-11-22T10:00:00Z,{key},95953\n2026-11-22T11:00:00Z,{key},90000\n"
    with Store(db) as store:
        store.ingest([write("pull.csv", fine)])
        [report] = store.ingest([write("hourly.csv", hourly)])
        assert (report.inserted, report.updated, report.replaced) == (1, 1, 11)
        assert "11 stored rows at other times of those hours replaced" in report.describe()
        series = store.series(region="eu-west", service="game", metric="ccu")
        assert series["value"].tolist() == [95953, 90000]
        # the finer data loaded again takes its hour back, whole; 11:00 is not touched
        [again] = store.ingest([write("pull-again.csv", fine)])
        assert (again.inserted, again.updated, again.replaced) == (11, 1, 0)
        series = store.series(region="eu-west", service="game", metric="ccu")
        assert series["value"].tolist() == [1027.5, 90000]
        # a part of an hour replaces that hour (its mean is of the part)
        half = HEADER + "".join(
            f"2026-11-22T10:{m:02d}:00Z,{key},{2000 + m}\n" for m in range(30, 60, 5)
        )
        [part] = store.ingest([write("half.csv", half)])
        assert (part.updated, part.replaced) == (6, 6)
        series = store.series(region="eu-west", service="game", metric="ccu")
        assert series["value"].tolist() == [2042.5, 90000]


def test_a_clock_a_little_ahead_is_not_the_future(db):
    """Within a day of now a time loads: clocks and offsets disagree a little."""
    soon = pd.Timestamp.now(tz="UTC").floor("h") + pd.Timedelta(hours=20)
    with Store(db) as store:
        report = store.ingest_frame(_frame([1.0]).assign(ts=soon), source="ahead")
    assert report.inserted == 1


def test_a_refused_first_load_leaves_no_store_behind(tmp_path, write):
    db = tmp_path / "new" / "deeper" / "store.duckdb"
    bad = write("bad.csv", HEADER + "2026-01-01T00:00:00Z,eu-west,game,ccu,-5\n")
    with pytest.raises(DataError), Store(db) as store:
        store.ingest([bad])
    assert not db.exists()
    assert not (tmp_path / "new").exists()  # the folders it made for the file go too
    # a store that already existed is kept, and so is a new one something was stored in
    with Store(db) as store:
        store.ingest([write("t.csv", GOOD)])
    with pytest.raises(DataError), Store(db) as store:
        store.ingest([bad])
    assert snapshot(db)[0]
    other = tmp_path / "other.duckdb"
    with pytest.raises(KeyboardInterrupt), Store(other) as store:
        store.ingest([write("t.csv", GOOD)])
        raise KeyboardInterrupt
    assert len(snapshot(other)[0]) == 4


BUSY_QUERY = """
import sys
from capacity import Store
for read_only in (False, True):
    con = Store(sys.argv[1], read_only=read_only).con
    con.execute("SET progress_bar_time = 0")  # the bar at once, not after 2 s
    con.execute("SELECT count(*) FROM range(20000000) t(i) WHERE i % 7 = 3").fetchall()
    [(zone,)] = con.execute("SELECT current_setting('TimeZone')").fetchall()
    print(zone)
    con.close()
"""


def test_connections_draw_no_progress_bar_on_stdout(db):
    """DuckDB draws its bar on stdout, even into a file or a pipe (not under pytest), for
    queries over 2 s: it would corrupt the CSV or JSON a command prints there."""
    done = subprocess.run(
        [sys.executable, "-c", BUSY_QUERY, str(db)], capture_output=True, text=True, check=True
    )
    assert done.stdout == "UTC\nUTC\n"
