"""`capacity forecast` and `capacity backtest` on the CSV files people actually have."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.forecast_file import MAX_FORECAST_ROWS
from capacity.sources import MAX_GRID_ROWS
from tests.test_forecast_cli import base_args


def hourly(days: int = 21) -> pd.DataFrame:
    """Hourly demand with a daily cycle, ``when`` as ISO text with ``Z``."""
    ts = pd.date_range("2026-03-02", periods=days * 24, freq="h", tz="UTC")
    hours = ts.hour.to_numpy()
    value = 1000 + 400 * np.sin(2 * np.pi * (hours - 14) / 24)
    value += np.random.default_rng(11).normal(0, 20, len(ts))
    return pd.DataFrame({"when": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "players": value.round(1)})


def forecast(path, out, **over):
    """The contract's command on ``path``, with the command's own default quantiles."""
    args = base_args(path, out, **{"--quantiles": "0.05,0.5,0.95", **over})
    return CliRunner().invoke(cli, ["forecast", *args])


def test_nan_na_and_null_values_are_gaps_like_empty_ones(tmp_path):
    frame = hourly().astype({"players": object})
    frame.loc[[5, 6, 7, 8], "players"] = ["", "NaN", "NA", "null"]
    frame.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.csv"
    result = forecast(tmp_path / "in.csv", out)
    assert result.exit_code == 0, result.output
    # 18 days before --train-end, four of their hours empty
    assert "trained on 428 rows" in result.stderr
    written = pd.read_csv(out)
    assert list(written.columns) == ["ts", "yhat", "q0.05", "q0.5", "q0.95"]
    assert len(written) == 48 and written.notna().all().all()


@pytest.mark.parametrize(
    ("column", "raw", "message"),
    [
        (
            "when",
            "1772409600",
            "time '1772409600' is a bare number (Unix epoch seconds or "
            "milliseconds?), not a time. Fix: convert the column to ISO 8601 times",
        ),
        ("when", "1772409600000", "time '1772409600000' is a bare number"),
        (
            "when",
            "03/02/2026 05:00",
            "time '03/02/2026 05:00' does not parse. Fix: use ISO 8601 times such as "
            "2026-01-05T00:00:00Z",
        ),
        (
            "players",
            "1,002.5",
            "value '1,002.5' has thousands separators. Fix: write plain numbers (1002.5)",
        ),
        ("players", "12,5", "value '12,5' has a decimal comma. Fix: write a decimal point (12.5)"),
        (
            "players",
            "1,002",
            "value '1,002' has a comma, a thousands separator or a decimal comma. Fix: write "
            "plain numbers with a decimal point (1002 or 1.002)",
        ),
        ("players", "inf", "value 'inf' does not parse. Fix: give a number, or leave it empty"),
    ],
    ids=["epoch-s", "epoch-ms", "month-first", "thousands", "decimal-comma", "comma", "inf"],
)
def test_an_unreadable_time_or_value_names_its_likely_cause(tmp_path, column, raw, message):
    frame = hourly().astype({column: object})
    frame.loc[5, column] = raw
    frame.to_csv(tmp_path / "in.csv", index=False)  # "1,002.5" is quoted, one field
    result = forecast(tmp_path / "in.csv", tmp_path / "out.csv")
    assert result.exit_code == 2, result.output
    assert f"in.csv: line 7, column '{column}': {message}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_daily_values_on_a_finer_grid_are_not_taken_for_a_stale_series(tmp_path):
    # 200 daily values: the 112 days before --train-end hold 112 of them, one per 96
    # 15-minute steps; they span 112 days, not 112 steps
    days = pd.date_range("2025-05-15", periods=200, freq="D")
    rng = np.random.default_rng(2)
    pd.DataFrame(
        {"when": days.strftime("%Y-%m-%d"), "players": (500 + rng.normal(0, 5, 200)).round(1)}
    ).to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.csv"
    result = forecast(
        tmp_path / "in.csv",
        out,
        **{"--train-end": "2025-12-01", "--horizon": "1d", "--freq": "15min"},
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert len(written) == 96
    assert written["ts"].iloc[[0, -1]].tolist() == [
        "2025-12-01T00:00:00Z",
        "2025-12-01T23:45:00Z",
    ]


def test_a_grid_too_fine_for_the_file_is_refused_before_it_is_built(tmp_path):
    hourly(days=30).to_csv(tmp_path / "in.csv", index=False)
    started = time.monotonic()
    result = forecast(
        tmp_path / "in.csv",
        tmp_path / "out.csv",
        **{"--freq": "1s", "--horizon": "60s", "--train-end": "2026-03-31"},
    )
    assert result.exit_code == 2, result.output
    assert (
        "in.csv: resampled to --freq 1s, the values from 2026-03-02T00:00:00+00:00 to "
        f"2026-03-31T00:00:00+00:00 make 2,505,600 steps, more than the {MAX_GRID_ROWS:,} read. "
        "Fix: give a coarser --freq" in result.stderr
    )
    assert time.monotonic() - started < 30


def test_a_horizon_of_too_many_rows_is_refused_at_once(tmp_path):
    hourly().to_csv(tmp_path / "in.csv", index=False)
    started = time.monotonic()
    result = forecast(
        tmp_path / "in.csv", tmp_path / "out.csv", **{"--horizon": "73050d", "--freq": "1min"}
    )
    assert result.exit_code == 2, result.output
    assert (
        f"The 'horizon' parameter must be at most {MAX_FORECAST_ROWS:,} steps of 1min. Got "
        "'73050d', 105,192,000 steps. Fix: give a shorter --horizon or a coarser --freq"
        in result.stderr
    )
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("over", "message"),
    [
        (
            {"--horizon": "100min", "--freq": "30min"},
            "The 'horizon' parameter must be a whole number of 30min steps, e.g. 90min or 2h. "
            "Got '100min'.",
        ),
        ({"--horizon": "20min", "--freq": "30min"}, "30min steps, e.g. 30min. Got '20min'."),
        ({"--horizon": "36h", "--freq": "1d"}, "1d steps, e.g. 1d or 2d. Got '36h'."),
        ({"--quantiles": "5%,95%"}, "(write 5% as 0.05). Got '5%' in '5%,95%'."),
    ],
)
def test_a_parameter_that_does_not_fit_says_what_would(tmp_path, over, message):
    hourly().to_csv(tmp_path / "in.csv", index=False)
    result = forecast(tmp_path / "in.csv", tmp_path / "out.csv", **over)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_messy_export_forecasts_as_its_clean_original(tmp_path):
    """Semicolons, a BOM, CRLF, quoted headers with spaces, local offsets across the
    spring-forward change, rows shuffled and repeated: the same forecast as the plain file."""
    clean = hourly(days=30)
    clean.to_csv(tmp_path / "clean.csv", index=False)
    local = pd.to_datetime(clean["when"]).dt.tz_convert("Europe/Berlin")
    messy = pd.DataFrame(
        {"Time Stamp": [t.isoformat() for t in local], "Active Players": clean["players"]}
    )
    assert {t[-6:] for t in messy["Time Stamp"]} == {"+01:00", "+02:00"}
    messy = pd.concat([messy, messy.iloc[::7]]).sample(frac=1, random_state=4)
    with (tmp_path / "messy.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        messy.to_csv(fh, index=False, sep=";", quoting=1, lineterminator="\r\n")
    over = {"--train-end": "2026-03-30T00:00:00+02:00", "--quantiles": "0.95,0.05"}
    assert forecast(tmp_path / "clean.csv", tmp_path / "a.csv", **over).exit_code == 0
    result = forecast(
        tmp_path / "messy.csv",
        tmp_path / "b.csv",
        **over,
        **{"--time-column": "Time Stamp", "--value-column": "Active Players"},
    )
    assert result.exit_code == 0, result.output
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["ts", "yhat", "q0.05", "q0.95"]
    assert a["ts"].iloc[0] == "2026-03-29T22:00:00Z" and len(a) == 48


def test_backtest_refuses_an_unwritable_out_before_the_fits(tmp_path):
    hourly(days=28).to_csv(tmp_path / "in.csv", index=False)
    result = CliRunner().invoke(
        cli,
        [
            *("backtest", "--input", str(tmp_path / "in.csv"), "--time-column", "when"),
            *("--value-column", "players", "--windows", "1", "--horizon", "24h"),
            *("--out", str(tmp_path / "in.csv" / "bt")),  # a file where a folder should be
        ],
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "The 'out' parameter cannot be written: " in result.stderr
    assert "is a file, not a folder" in result.stderr
    assert "windows of" not in result.output  # nothing was fitted
