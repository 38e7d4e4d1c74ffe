"""`capacity forecast --tz` and `capacity backtest --tz`: a series whose players live by a
clock with daylight-saving time."""

from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from capacity.cli import cli
from capacity.sources import read_series_csv
from capacity.store.sql import open_duckdb
from tests.test_forecast_cli import base_args

ZONE = "Europe/Berlin"


def evenings(start: str, end: str) -> pd.DataFrame:
    """Hourly demand peaking at 20:00 Berlin time: 18:00 UTC in summer, 19:00 in winter."""
    ts = pd.date_range(start, end, freq="h", tz="UTC", inclusive="left")
    local = ts.tz_convert(ZONE)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60
    value = 1000 + 3000 * np.exp(-(((hour - 20 + 12) % 24 - 12) ** 2) / 8)
    value *= np.where(local.day_of_week.to_numpy() >= 5, 1.3, 1.0)
    value += np.random.default_rng(5).normal(0, 30, len(ts))
    return pd.DataFrame({"ts": ts, "value": value.round(1)})


def _forecast(path, out, *extra):
    over = {"--time-column": "when", "--train-end": "2026-10-28T00:00:00Z", "--horizon": "168h"}
    args = [*base_args(path, out, **over), *extra]
    return CliRunner().invoke(cli, ["forecast", *args])


def test_the_daily_cycle_follows_the_series_clock_through_a_clock_change(tmp_path):
    """Trained mostly on summer time up to three days after the October change, a UTC daily
    cycle keeps the summer's peak hour; with --tz it follows Berlin's clock."""
    frame = evenings("2026-08-03", "2026-11-04")
    path = tmp_path / "in.csv"
    # times with their local offsets, as an export writes them
    stamps = frame["ts"].dt.tz_convert(ZONE).map(lambda t: t.isoformat())
    pd.DataFrame({"when": stamps, "players": frame["value"]}).to_csv(path, index=False)
    actual = frame.set_index("ts")["value"]
    errors = {}
    for name, extra in (("utc", ()), ("local", ("--tz", ZONE))):
        out = tmp_path / f"{name}.csv"
        result = _forecast(path, out, *extra)
        assert result.exit_code == 0, result.output
        got = pd.read_csv(out)
        ts = pd.to_datetime(got["ts"], utc=True)
        errors[name] = float(np.abs(got["yhat"].to_numpy() - actual.loc[ts].to_numpy()).mean())
        peak = got.assign(hour=ts.dt.hour).groupby("hour")["yhat"].mean().idxmax()
        if name == "local":
            assert peak == 19  # 20:00 in Berlin's winter
    assert errors["local"] < 0.6 * errors["utc"], errors


def test_naive_times_are_read_in_the_zone_and_a_skipped_one_is_refused(tmp_path):
    frame = evenings("2026-03-28", "2026-03-31")
    local = frame["ts"].dt.tz_convert(ZONE).dt.tz_localize(None)
    path = tmp_path / "naive.csv"
    when = local.dt.strftime("%Y-%m-%d %H:%M:%S")
    pd.DataFrame({"when": when, "players": frame["value"]}).to_csv(path, index=False)
    con = open_duckdb()
    try:
        read = read_series_csv(con, path, time_column="when", value_column="players", tz=ZONE)
        as_utc = read_series_csv(con, path, time_column="when", value_column="players")
    finally:
        con.close()
    # every naive time lands on its true instant: the whole series, not shifted by 1-2 hours
    assert read["ts"].tolist() == frame["ts"].tolist()
    assert np.allclose(read["value"], frame["value"])
    assert as_utc["ts"].iloc[0] == pd.Timestamp("2026-03-28T01:00Z")  # naive as UTC: shifted
    # 02:30 on 29 March does not exist in Berlin: refused by line, with the fix
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("2026-03-29 03:00"))
    lines.insert(at, "2026-03-29 02:30:00,5")
    path.write_text("\n".join(lines) + "\n")
    result = _forecast(path, tmp_path / "out.csv", "--tz", ZONE)
    assert result.exit_code == 2
    assert f"line {at + 1}, column 'when': time '2026-03-29 02:30:00' does not exist in " in (
        result.stderr
    )
    assert "(the clocks skip it). Fix: correct the time, or write it with its UTC offset" in (
        result.stderr
    )
    # the same file without --tz reads 02:30 as UTC (the contract's default)
    assert "does not exist" not in _forecast(path, tmp_path / "out.csv").stderr


def test_a_repeated_naive_hour_is_read_as_its_later_occurrence(tmp_path):
    path = tmp_path / "repeat.csv"
    rows = ["2026-10-25 01:00:00,10", "2026-10-25 02:00:00,20", "2026-10-25 02:00:00,40"]
    rows += ["2026-10-25 03:00:00,50"]
    path.write_text("when,players\n" + "\n".join(rows) + "\n")
    con = open_duckdb()
    try:
        read = read_series_csv(con, path, time_column="when", value_column="players", tz=ZONE)
    finally:
        con.close()
    got = dict(zip(read["ts"].dt.strftime("%H:%M"), read["value"], strict=True))
    # 01:00 CEST is 23:00 UTC; both 02:00 rows read as 02:00 CET (01:00 UTC), averaged
    assert list(got) == ["23:00", "00:00", "01:00", "02:00"]
    assert got["23:00"] == 10.0 and np.isnan(got["00:00"])  # 02:00 CEST: no row says so
    assert got["01:00"] == 30.0 and got["02:00"] == 50.0


def test_backtest_takes_tz_for_a_file_and_refuses_it_for_a_store_series(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            *("backtest", "--region", "eu-west", "--service", "game", "--tz", "UTC"),
            *("--out", str(tmp_path / "bt")),
        ],
    )
    assert result.exit_code == 2
    assert "--tz only applies to --input" in result.stderr
    assert "its time zone the fleet file's" in result.stderr and "Fix: leave it out" in (
        result.stderr
    )
    result = CliRunner().invoke(
        cli,
        [
            *("backtest", "--input", str(tmp_path / "none.csv"), "--time-column", "t"),
            *("--value-column", "v", "--tz", "Europe/Berln", "--out", str(tmp_path / "bt")),
        ],
    )
    assert result.exit_code == 2 and "did you mean 'Europe/Berlin'?" in result.stderr


def test_an_unknown_zone_is_refused_by_the_readers_as_the_tz_parameter(tmp_path):
    """Called from Python (not the CLI, which checks --tz first), an unknown zone had come out
    as "cannot be read as CSV: ... Unknown TimeZone", blaming the file, and a zone name with a
    space as a bare ValueError."""
    import pytest

    from capacity.errors import ParameterError
    from capacity.forecast_file import forecast_csv

    path = tmp_path / "in.csv"
    path.write_text("when,players\n2026-10-25 01:00:00,10\n")
    for tz in ("Mars/Olympus", "Europe Berlin"):
        con = open_duckdb()
        try:
            with pytest.raises(ParameterError) as caught:
                read_series_csv(con, path, time_column="when", value_column="players", tz=tz)
        finally:
            con.close()
        assert str(caught.value).startswith("The 'tz' parameter must be an IANA time zone")
        with pytest.raises(ParameterError, match="The 'tz' parameter"):
            forecast_csv(
                path,
                time_column="when",
                value_column="players",
                train_end=pd.Timestamp("2026-10-26", tz="UTC"),
                horizon="24h",
                quantiles=[("p50", 0.5)],
                tz=tz,
            )


def test_a_time_with_a_zone_name_stays_exact_under_tz(tmp_path):
    """BigQuery exports times as '2026-03-29 01:00:00 UTC': read exactly without --tz, they
    had been read as Berlin wall-clock times with it, an hour early, and 02:00 UTC refused as
    an hour Berlin's clocks skip."""
    path = tmp_path / "bq.csv"
    rows = ["2026-03-29 00:00:00 UTC,1", "2026-03-29 01:00:00 UTC,2", "2026-03-29 02:00:00 UTC,3"]
    path.write_text("when,players\n" + "\n".join(rows) + "\n")
    con = open_duckdb()
    try:
        plain = read_series_csv(con, path, time_column="when", value_column="players")
        local = read_series_csv(con, path, time_column="when", value_column="players", tz=ZONE)
    finally:
        con.close()
    assert local.equals(plain)
    assert local["ts"].dt.strftime("%H:%M").tolist() == ["00:00", "01:00", "02:00"]
    assert local["value"].tolist() == [1.0, 2.0, 3.0]
