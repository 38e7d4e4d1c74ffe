"""Reading a single series from any CSV (the `capacity forecast` input)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from capacity.errors import DataError, ParameterError
from capacity.sources import read_series_csv

CSV = (
    "when,players,note\n"
    "2026-01-01 00:00,10,a\n"
    "2026-01-01 00:30,20,b\n"
    "2026-01-01T01:00:00+01:00,99,c\n"  # 00:00 UTC, as the first row
    "2026-01-01 03:15,30,\n"
    "2026-01-01 03:45,,gap\n"
)


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def test_resamples_to_hourly_mean_with_naive_as_utc_and_gaps_nan(con, write):
    frame = read_series_csv(con, write("s.csv", CSV), time_column="when", value_column="players")
    assert frame["ts"].dt.strftime("%H:%M").tolist() == ["00:00", "01:00", "02:00", "03:00"]
    assert str(frame["ts"].dt.tz) == "UTC"
    assert frame["value"].iloc[0] == pytest.approx((10 + 20 + 99) / 3)
    assert frame["value"].isna().tolist() == [False, True, True, False]
    assert frame["value"].iloc[3] == 30.0


def test_rows_at_one_instant_are_aggregated_not_refused_nor_merged(con, write):
    """Per-host rows of one total, summed with agg="sum": two hosts at 100 are 200, also when
    their values are equal (reading such rows once had made it 100)."""
    text = (
        "when,players\n2026-01-01 00:10,100\n2026-01-01 00:10,100\n"
        "2026-01-01T01:10:00+01:00,50\n2026-01-01 00:20,1\n"
    )
    frame = read_series_csv(
        con, write("s.csv", text), time_column="when", value_column="players", agg="sum"
    )
    assert frame["value"].tolist() == [251.0]


def test_other_frequency_and_aggregate(con, write):
    frame = read_series_csv(
        con, write("s.csv", CSV), time_column="when", value_column="players", freq="2h", agg="max"
    )
    assert frame["value"].tolist() == [99.0, 30.0]


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        (CSV, {"time_column": "time"}, r"s\.csv: header: column 'time' not found.*--time-column"),
        (CSV, {"value_column": "player"}, r"did you mean 'players'\?"),
        (CSV.replace("2026-01-01 03:15", "noon"), {}, r"line 5, column 'when': time 'noon'"),
        (CSV.replace(",30,", ",thirty,"), {}, r"line 5, column 'players': value 'thirty'"),
        ("", {}, r"s\.csv: the file is empty"),
    ],
)
def test_bad_input(con, write, text, kwargs, message):
    arguments = {"time_column": "when", "value_column": "players", **kwargs}
    with pytest.raises(DataError, match=message):
        read_series_csv(con, write("s.csv", text), **arguments)


def test_bad_frequency(con, write):
    with pytest.raises(ParameterError, match="'freq' parameter"):
        read_series_csv(
            con, write("s.csv", CSV), time_column="when", value_column="players", freq="often"
        )


def test_real_dataset_round_trip(con, tmp_path):
    path = tmp_path / "taxi.csv"
    ts = pd.date_range("2014-07-01", periods=96, freq="30min")
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"), "value": range(96)}).to_csv(
        path, index=False
    )
    frame = read_series_csv(con, path, time_column="timestamp", value_column="value")
    assert len(frame) == 48
    assert frame["value"].tolist()[:3] == [0.5, 2.5, 4.5]
