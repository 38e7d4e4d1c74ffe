"""`capacity forecast`: the single-series contract that automated checks call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli


def synthetic_csv(path, *, days=21, naive=True, spike_after=None):
    """Hourly demand with a daily cycle; optionally absurd values from ``spike_after`` on."""
    ts = pd.date_range("2026-03-02", periods=days * 24, freq="h", tz="UTC")
    rng = np.random.default_rng(3)
    hours = ts.hour.to_numpy()
    value = 1000 + 400 * np.sin(2 * np.pi * (hours - 14) / 24) + rng.normal(0, 20, len(ts))
    if spike_after is not None:
        value[ts >= pd.Timestamp(spike_after)] = 1e9
    text = ts.strftime("%Y-%m-%d %H:%M:%S") if naive else ts.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    pd.DataFrame({"when": text, "players": value.round(1)}).to_csv(path, index=False)
    return path


def forecast(*args):
    return CliRunner().invoke(cli, ["forecast", *args])


def base_args(path, out, **over):
    options = {
        "--input": str(path),
        "--time-column": "when",
        "--value-column": "players",
        "--train-end": "2026-03-20T00:00:00Z",
        "--horizon": "48h",
        "--quantiles": "0.05,0.50,0.95",
        "--output": str(out),
    }
    options.update(over)
    return [item for pair in options.items() for item in pair]


def test_contract_rows_columns_and_quantiles(tmp_path):
    out = tmp_path / "out.csv"
    result = forecast(*base_args(synthetic_csv(tmp_path / "in.csv"), out))
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["ts", "yhat", "q0.05", "q0.50", "q0.95"]
    assert len(frame) == 48
    # ISO 8601 in UTC with Z, as every CSV of capacity writes times
    assert frame["ts"].iloc[0] == "2026-03-20T00:00:00Z"
    assert frame["ts"].iloc[-1] == "2026-03-21T23:00:00Z"
    assert (frame["q0.05"] <= frame["q0.50"]).all() and (frame["q0.50"] <= frame["q0.95"]).all()
    assert (frame[["yhat", "q0.05"]] >= 0).all().all()
    # The daily cycle is learned: the evening peak (20:00) is well above the morning (08:00).
    hours = pd.to_datetime(frame["ts"]).dt.hour
    assert frame.loc[hours == 20, "yhat"].mean() > frame.loc[hours == 8, "yhat"].mean() + 500


def test_trains_only_before_train_end(tmp_path):
    clean, spiked = tmp_path / "clean.csv", tmp_path / "spiked.csv"
    synthetic_csv(clean)
    synthetic_csv(spiked, spike_after="2026-03-20T00:00:00Z")
    out_clean, out_spiked = tmp_path / "a.csv", tmp_path / "b.csv"
    assert forecast(*base_args(clean, out_clean)).exit_code == 0
    assert forecast(*base_args(spiked, out_spiked)).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(out_clean), pd.read_csv(out_spiked))


def test_offsets_and_naive_times_agree(tmp_path):
    naive, offset = tmp_path / "n.csv", tmp_path / "o.csv"
    synthetic_csv(naive, naive=True)
    synthetic_csv(offset, naive=False)
    assert forecast(*base_args(naive, tmp_path / "a.csv")).exit_code == 0
    assert forecast(*base_args(offset, tmp_path / "b.csv")).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"--time-column": "time"}, "column 'time' not found"),
        ({"--horizon": "a week"}, "'horizon' parameter (--horizon) must be a positive duration"),
        ({"--horizon": "90min"}, "whole number of 1h steps"),
        ({"--train-end": "2026-03-03T00:00:00Z"}, "too little usable history"),
        (
            {"--train-end": "2026-03-20T00:30:00Z"},
            "must lie on the 1h grid, whose steps count from Monday 2000-01-03 00:00 UTC (a "
            "whole hour for 1h, a Monday for 1w); the nearest are 2026-03-20T00:00:00+00:00 "
            "and 2026-03-20T01:00:00+00:00",
        ),
        (
            {"--train-end": "someday"},
            "The 'train_end' parameter (--train-end) must be an ISO 8601 time",
        ),
        ({"--quantiles": "0.5,95"}, "'quantiles' parameter must be numbers strictly between"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, over, message):
    out = tmp_path / "out.csv"
    result = forecast(*base_args(synthetic_csv(tmp_path / "in.csv"), out, **over))
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_train_end_far_past_the_data_exits_2_and_a_gap_is_noted(tmp_path):
    # The data end on 2026-03-22; the forecaster trains on the 112 days before --train-end.
    path = synthetic_csv(tmp_path / "in.csv")
    out = tmp_path / "out.csv"
    result = forecast(*base_args(path, out, **{"--train-end": "2026-08-01T00:00:00Z"}))
    assert result.exit_code == 2
    assert (
        "the newest value before --train-end 2026-08-01T00:00:00+00:00 is at "
        "2026-03-22T23:00:00+00:00, 131 days earlier" in result.stderr
    )
    assert "choose a --train-end closer to the data's end" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()
    # Within reach of the window the forecast is made, and the gap it bridges is said.
    result = forecast(*base_args(path, out, **{"--train-end": "2026-03-26T00:00:00Z"}))
    assert result.exit_code == 0, result.output
    assert (
        "the series ends at 2026-03-23T00:00:00+00:00 (its last 1h step starts at "
        "2026-03-22T23:00:00+00:00), 3.0 days before --train-end" in result.stderr
    )
    result = forecast(*base_args(path, out))
    assert result.exit_code == 0 and "note:" not in result.stderr


def test_unparseable_times_exit_2(tmp_path):
    path = synthetic_csv(tmp_path / "in.csv")
    text = path.read_text().splitlines()
    text[5] = "not a time,12"
    path.write_text("\n".join(text) + "\n")
    result = forecast(*base_args(path, tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "line 6, column 'when': time 'not a time' does not parse" in result.stderr


def test_backtest_command_scores_models_side_by_side(tmp_path):
    import json

    path = synthetic_csv(tmp_path / "in.csv", days=28)
    out = tmp_path / "bt"
    result = CliRunner().invoke(
        cli,
        [
            "backtest",
            "--input",
            str(path),
            "--time-column",
            "when",
            "--value-column",
            "players",
            "--horizon",
            "24h",
            "--windows",
            "2",
            "--step",
            "24h",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out / "metrics.csv")
    overall = scores[scores["cutoff"].isna()].set_index("model")
    assert set(overall.index) == {"capacity", "seasonal naive (weekly)", "seasonal naive (daily)"}
    assert (overall["n"] == 48).all()
    # A smooth daily cycle: the forecaster beats repeating yesterday.
    assert overall.loc["capacity", "mase"] < overall.loc["seasonal naive (daily)", "mase"]
    rows = json.loads((out / "metrics.json").read_text())
    assert len(rows) == len(scores)
    # times in ISO 8601 in UTC with Z, as the forecast CSVs write them, in both files: the
    # JSON had 2026-03-28T00:00:00.000Z and the CSV 2026-03-28T00:00:00+00:00
    assert set(scores["cutoff"].dropna()) == {"2026-03-28T00:00:00Z", "2026-03-29T00:00:00Z"}
    assert [row["cutoff"] for row in rows] == [None if pd.isna(c) else c for c in scores["cutoff"]]
    page = (out / "backtest.html").read_text()
    assert "Plotly.newPlot" in page and '<script src="http' not in page
    # the page says what was tested and how each model scored, not just a chart
    assert "<title>Backtest: in.csv</title>" in page
    assert "2 rolling origins from 2026-03-28 00:00 to 2026-03-29 00:00 UTC" in page
    mase = overall.loc["capacity", "mase"]
    assert f"<td>{mase:,.3f}</td>" in page
    assert '"title":{"text":"players"}' in page  # the y axis names the column, not "value"
    assert "capacity" in result.stdout
    # the page reads for an analyst: headers in words with units, every error in percent
    # (peak APE had shown 0.044 beside an sMAPE of 6.9), while the files keep their names
    # and fractions, a documented contract
    assert list(scores.columns[:6]) == ["cutoff", "model", "n", "scale", "mase", "smape"]
    assert {"coverage_90", "peak_ape"} <= set(scores.columns)
    assert "<th>daily-peak error (%)</th>" in page and "<th>peak_ape</th>" not in page
    assert "<th>symmetric error (sMAPE, %)</th>" in page and "<th>mase</th>" not in page
    for column in ("peak_ape", "coverage_90"):
        assert f"<td>{overall.loc['capacity', column] * 100:,.1f}</td>" in page
    assert f"<td>{overall.loc['capacity', 'smape']:,.1f}</td>" in page
    # the actuals stand out: a thicker line than any forecast's
    widths = {
        trace.get("name"): trace["line"]["width"]
        for trace in _plotly_traces(page)
        if trace.get("name") and "width" in trace.get("line", {})
    }
    assert widths["actual"] > max(w for name, w in widths.items() if name != "actual")


def _plotly_traces(page: str) -> list[dict]:
    """The traces of the one plotly figure embedded in a page."""
    import json

    start = page.index("Plotly.newPlot(")
    start = page.index("[", start)
    traces, _ = json.JSONDecoder().raw_decode(page[start:])
    return traces


def test_backtest_command_needs_a_series(tmp_path):
    result = CliRunner().invoke(cli, ["backtest", "--out", str(tmp_path / "bt")])
    assert result.exit_code == 2
    assert "Give --input FILE, or --region and --service" in result.stderr


def test_backtest_command_says_how_many_windows_fit_in_its_own_words(tmp_path):
    path = synthetic_csv(tmp_path / "in.csv", days=21)
    args = ["--input", str(path), "--time-column", "when", "--value-column", "players"]
    out = tmp_path / "bt"
    result = CliRunner().invoke(cli, ["backtest", *args, "--windows", "5", "--out", str(out)])
    assert result.exit_code == 2
    assert (
        "--windows 5 with --horizon 168h every --step 168h needs more history than the "
        "series' 504 rows (169 of them to train on before the first window, for the seasonal "
        "naive (weekly)); at most 1 window(s) fit." in result.stderr
    )
    assert "n_windows" not in result.stderr and not out.exists()
    # five weeks and the default four windows: once "SeasonalNaive(season_length=168) needs
    # at least 169 rows", naming an option the command does not have
    path = synthetic_csv(tmp_path / "in.csv", days=35)
    result = CliRunner().invoke(cli, ["backtest", *args, "--out", str(out)])
    assert result.exit_code == 2
    assert "at most 3 window(s) fit" in result.stderr
    assert "season_length" not in result.stderr
    result = CliRunner().invoke(cli, ["backtest", *args, "--windows", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output


def test_backtest_page_says_what_the_scale_spans_and_that_windows_overlap(tmp_path):
    """Two 48-hour windows a day apart score 96 points of 72 hours: the page says that an
    hour is scored once per window, and over which data MASE's scale is taken."""
    path = synthetic_csv(tmp_path / "in.csv", days=12)
    args = ["--input", str(path), "--time-column", "when", "--value-column", "players"]
    out = tmp_path / "bt"
    window = ["--horizon", "48h", "--step", "24h", "--windows", "2", "--out", str(out)]
    result = CliRunner().invoke(cli, ["backtest", *args, *window])
    assert result.exit_code == 0, result.output
    page = (out / "backtest.html").read_text()
    assert "in-sample error over all the data before the origin" in page
    assert "an hour forecast from several origins is scored once per origin" in page
    scores = pd.read_csv(out / "metrics.csv")
    assert scores.loc[scores["cutoff"].isna(), "n"].tolist() == [96, 96, 96]


def test_backtest_of_a_young_series_says_the_horizon_that_fits(tmp_path):
    # ten days (a region opened last week): no window of a week fits after the 169 hours the
    # weekly naive trains on, and fewer windows or a shorter step would not help either
    path = synthetic_csv(tmp_path / "in.csv", days=10)
    args = ["--input", str(path), "--time-column", "when", "--value-column", "players"]
    out = tmp_path / "bt"
    result = CliRunner().invoke(cli, ["backtest", *args, "--out", str(out)])
    assert result.exit_code == 2
    assert "no window fits. Fix: give --windows 1 and a --horizon of at most 71h" in (result.stderr)
    assert "lower --windows or --step" not in result.stderr
    result = CliRunner().invoke(cli, ["backtest", *args, "--windows", "1", "--out", str(out)])
    assert "Fix: give a --horizon of at most 71h (the rows after the 169" in result.stderr
    done = ["backtest", *args, "--windows", "1", "--horizon", "71h", "--out", str(out)]
    result = CliRunner().invoke(cli, done)
    assert result.exit_code == 0, result.output


def test_backtest_command_takes_a_file_or_a_store_series_not_both(tmp_path):
    path = synthetic_csv(tmp_path / "in.csv", days=21)
    args = ["--input", str(path), "--time-column", "when", "--value-column", "players"]
    result = CliRunner().invoke(
        cli, ["backtest", *args, "--service", "game", "--out", str(tmp_path / "bt")]
    )
    assert result.exit_code == 2
    assert "--input backtests a CSV file; --service, --metric and --db" in result.stderr
    # with --input, --region picks the calendar's events, as forecast's does
    result = CliRunner().invoke(
        cli, ["backtest", *args, "--region", "eu-west", "--out", str(tmp_path / "bt")]
    )
    assert result.exit_code == 2
    assert "--region picks events of a calendar: give --events too" in result.stderr


def test_backtest_leaves_out_a_last_bucket_the_file_covers_in_part(tmp_path):
    """Hourly rows to 22:00 summed into 2-hour buckets: the last bucket holds one hour, half
    a sum, and the last window scored the forecasts against it."""
    path = synthetic_csv(tmp_path / "in.csv", days=10)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # the file now ends at 22:00
    args = ["--input", str(path), "--time-column", "when", "--value-column", "players"]
    out = tmp_path / "bt"
    window = ["--freq", "2h", "--agg", "sum", "--horizon", "24h", "--windows", "1"]
    result = CliRunner().invoke(cli, ["backtest", *args, *window, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (
        "note: the file ends at 2026-03-11 23:00 UTC, inside the last 2h bucket "
        "(2026-03-11 22:00); that bucket is left out" in result.stderr
    )
    scores = pd.read_csv(out / "metrics.csv")
    assert set(scores["cutoff"].dropna()) == {"2026-03-10T22:00:00Z"}


def test_backtest_of_a_daily_grid_trains_on_what_the_command_checked(tmp_path):
    """On a daily grid the command checked 14 days before the first window (two weeks, the
    weekly naive's season), then the backtest asked for 48 (two seasons of 24 steps) and
    refused, naming its own parameters (n_windows, min_train)."""
    path = synthetic_csv(tmp_path / "in.csv", days=30)
    args = ["--input", str(path), "--time-column", "when", "--value-column", "players"]
    window = ["--freq", "1d", "--horizon", "7d", "--step", "7d", "--windows", "2"]
    result = CliRunner().invoke(cli, ["backtest", *args, *window, "--out", str(tmp_path / "bt")])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(tmp_path / "bt" / "metrics.csv")
    assert set(scores["cutoff"].dropna()) == {"2026-03-18T00:00:00Z", "2026-03-25T00:00:00Z"}


def test_backtest_command_refuses_a_metric_that_is_not_demand(tmp_path, fleet_file):
    """--metric servers (or latency_p99_ms) was backtested with the demand forecaster, its
    events' uplifts applied to a count of servers."""
    args = ["--region", "eu-west", "--service", "game", "--config", str(fleet_file)]
    for metric in ("servers", "latency_p99_ms"):
        result = CliRunner().invoke(
            cli, ["backtest", *args, "--metric", metric, "--out", str(tmp_path / "bt")]
        )
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1] == (
            "error: The 'metric' parameter (--metric) must be a demand metric, ccu or rps: the "
            "forecaster models demand, raised or lowered by the calendar's events. Got "
            f"{metric!r}. Fix: leave it out for game's ccu"
        )


def test_backtest_command_refuses_the_options_its_source_ignores(tmp_path):
    """A store series was backtested with the store's calendar and hourly grid while
    --events FILE and --freq were ignored; --input ignored --history and --config."""
    path = synthetic_csv(tmp_path / "in.csv", days=21)
    calendar = tmp_path / "cal.csv"
    calendar.write_text("name,kind,start,end,regions\nx,launch,2026-03-10,2026-03-11,all\n")
    store = ["--region", "eu-west", "--service", "game", "--events", str(calendar)]
    result = CliRunner().invoke(cli, ["backtest", *store, "--out", str(tmp_path / "bt")])
    assert result.exit_code == 2
    assert "--events only applies to --input" in result.stderr
    args = ["--input", str(path), "--time-column", "when", "--value-column", "players"]
    result = CliRunner().invoke(
        cli, ["backtest", *args, "--history", "28d", "--out", str(tmp_path / "bt")]
    )
    assert result.exit_code == 2
    assert "--history only applies to a series of the store" in result.stderr
    assert not (tmp_path / "bt" / "metrics.csv").exists()
    calendar = tmp_path / "calendar.csv"
    calendar.write_text(
        "event_id,name,kind,start,end,regions,expected_uplift\n"
        "A,Patch,patch,2026-03-10T00:00Z,2026-03-10T06:00Z,eu-west,1.2\n"
        "B,Finals,esports,2026-03-12T00:00Z,2026-03-12T06:00Z,na-east,1.5\n"
    )
    window = ["--horizon", "24h", "--windows", "1", "--step", "24h"]
    result = CliRunner().invoke(
        cli,
        [
            *("backtest", *args, *window, "--events", str(calendar)),
            *("--region", "eu-west", "--out", str(tmp_path / "bt")),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "every event of calendar.csv applies" not in result.stderr


def _edit_lines(path, edits, *, extend=0):
    """Rewrite ``path`` with lines replaced ({index: text}); ``extend`` repeats the last data
    line that many times first (to push an edit past what DuckDB's sniffer samples)."""
    lines = path.read_text().splitlines()
    if extend:
        last = pd.Timestamp(lines[-1].split(",")[0], tz="UTC")
        extra = pd.date_range(last + pd.Timedelta(hours=1), periods=extend, freq="h")
        lines += [f"{t:%Y-%m-%d %H:%M:%S},1000.0" for t in extra]
    for index, text in edits.items():
        lines[index] = text
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("edits", "extend", "message"),
    [
        # a row with a field too many past the sniffer's sample: once a traceback, exit 1
        ({30_000: "2029-01-01 00:00:00,5,7"}, 30_000, "line 30001: 3 fields where the header"),
        # the same near the top: once "column 'when' not found; columns are when,players"
        ({5: "2026-03-02 04:00:00,5,7"}, 0, "line 6: 3 fields where the header has 2"),
        ({5: ",12"}, 0, "line 6, column 'when': the time is empty"),
        # refused as written, on its line, not as the hourly mean it makes
        (
            {5: "2026-03-02 04:00:00,-5", 9: "2026-03-02 08:00:00,-1"},
            0,
            "line 6, column 'players': value '-5' is negative",
        ),
    ],
    ids=["late-extra-field", "early-extra-field", "empty-time", "negative"],
)
def test_malformed_rows_are_named_and_exit_2(tmp_path, edits, extend, message):
    path = _edit_lines(synthetic_csv(tmp_path / "in.csv"), edits, extend=extend)
    out = tmp_path / "out.csv"
    result = forecast(*base_args(path, out))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "too little usable history" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


def test_a_header_without_rows_is_said_so(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("when,players\n")
    result = forecast(*base_args(path, tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "in.csv: the file has a header but no rows" in result.stderr


def test_the_summary_counts_the_rows_the_model_was_trained_on(tmp_path):
    # 200 days of data; the forecaster fits the last 112 of them
    path = synthetic_csv(tmp_path / "in.csv", days=200)
    args = base_args(path, tmp_path / "out.csv", **{"--train-end": "2026-09-18T00:00:00Z"})
    result = forecast(*args)
    assert result.exit_code == 0, result.output
    assert f"trained on {112 * 24} rows" in result.stderr


def test_region_keeps_the_calendar_to_the_series_region(tmp_path):
    path = synthetic_csv(tmp_path / "in.csv")
    calendar = tmp_path / "calendar.csv"
    calendar.write_text(
        "event_id,name,kind,start,end,regions,expected_uplift\n"
        "E1,Push in na-east,marketing,2026-03-20T12:00:00Z,2026-03-21T00:00:00Z,na-east,2.0\n"
        "E2,Push in eu-west,marketing,2026-03-21T12:00:00Z,2026-03-22T00:00:00Z,eu-west,2.0\n"
    )
    outputs = {}
    for name, extra in {
        "none": [],
        "all": ["--events", str(calendar)],
        "eu": ["--events", str(calendar), "--region", "eu-west"],
    }.items():
        out = tmp_path / f"{name}.csv"
        result = forecast(*base_args(path, out), *extra)
        assert result.exit_code == 0, result.output
        outputs[name] = pd.read_csv(out).set_index("ts")["yhat"]
        if name == "all":  # a calendar of several regions, applied whole, is said to be
            assert "every event of calendar.csv applies, whatever its regions" in result.stderr
    frames = {k: v.set_axis(pd.to_datetime(v.index)) for k, v in outputs.items()}
    na_push = slice("2026-03-20T12:00Z", "2026-03-20T23:00Z")
    eu_push = slice("2026-03-21T12:00Z", "2026-03-21T23:00Z")

    def gain(name, hours):
        return frames[name][hours].max() / frames["none"][hours].max()

    # the na-east push raises the whole-calendar forecast, not eu-west's; eu-west's push does
    assert gain("all", na_push) > 1.5 and gain("all", eu_push) > 1.5
    assert gain("eu", na_push) == pytest.approx(1.0)
    assert gain("eu", eu_push) > 1.5
    bad = forecast(
        *base_args(path, tmp_path / "x.csv"), "--events", str(calendar), "--region", "mars"
    )
    assert bad.exit_code == 2
    assert "No event of calendar.csv names region 'mars'; its regions are eu-west, na-east" in (
        bad.stderr
    )


def test_a_bad_value_is_named_by_its_line_even_after_blank_lines(tmp_path):
    path = synthetic_csv(tmp_path / "in.csv")
    lines = path.read_text().splitlines()
    lines[10] = "2026-03-02 09:00:00,abc"  # file line 11, before the blank lines go in
    lines[3:3] = ["", ""]  # DuckDB skips blank lines; a person counts them
    path.write_text("\n".join(lines) + "\n")
    result = forecast(*base_args(path, tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "in.csv: line 13, column 'players': value 'abc' does not parse" in result.stderr


def test_an_output_that_cannot_be_written_is_refused_before_the_fit(tmp_path):
    path = synthetic_csv(tmp_path / "in.csv")
    result = forecast(*base_args(path, path / "out.csv"))  # a file where a folder should be
    assert result.exit_code == 2, result.output
    assert "'output' parameter" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert "rows from" not in result.stderr  # refused before any work


def test_an_output_that_is_an_input_is_refused_before_any_work(tmp_path, monkeypatch):
    path = synthetic_csv(tmp_path / "in.csv")
    before = path.read_bytes()
    (tmp_path / "link.csv").symlink_to(path)
    monkeypatch.chdir(tmp_path)
    for out in (path, "in.csv", "./in.csv", "link.csv"):
        result = forecast(*base_args(path, out))
        assert result.exit_code == 2, result.output
        assert (
            "The 'output' parameter (--output) names the same file as --input "
            f"({str(path)!r}): writing the forecast there would overwrite it. Fix: write the "
            "forecast to another file" in result.stderr
        )
        assert len(result.stderr.strip().splitlines()) == 1
        assert "rows from" not in result.stderr
    calendar = tmp_path / "calendar.csv"
    calendar.write_text("event_id,name,kind,start,end,regions,expected_uplift\n")
    result = forecast(*base_args(path, calendar), "--events", str(calendar))
    assert result.exit_code == 2, result.output
    assert "names the same file as --events" in result.stderr
    assert path.read_bytes() == before and calendar.read_text().count("\n") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"when,players\n2026-03-02T00:00:00+99:00,5\n2026-03-02T01:00:00Z,6\n",
            "in.csv: line 2, column 'when': time '2026-03-02T00:00:00+99:00' has a UTC offset "
            "no clock uses (no zone is more than 14:00 from UTC, and minutes stop at 59). Fix: "
            "correct the offset",
        ),
        (
            b"when,players,players\n2026-03-02T00:00:00Z,1,2\n",
            "in.csv: line 1: column 'players' (--value-column) appears twice in the header, as "
            "columns 2 ('players') and 3 ('players'), so which one to read is ambiguous. Fix: "
            "keep one of them",
        ),
        (
            b"When,players,when\n2026-03-02T00:00:00Z,1,2026-03-02T00:00:00Z\n",
            "column 'when' (--time-column) appears twice in the header, as columns 1 ('When') "
            "and 3 ('when')",
        ),
        (
            b"when,players\n2026-03-02T01:00:00Z,5\n2026-03-02T02:00:00Z,6\xe9\n",
            "in.csv: line 3: not UTF-8 text (byte 58). Fix: save the file as UTF-8",
        ),
    ],
    ids=["offset-beyond-14h", "value-column-twice", "time-column-twice", "latin-1"],
)
def test_a_file_that_cannot_be_read_as_meant_is_refused_by_line(tmp_path, content, message):
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    out = tmp_path / "out.csv"
    result = forecast(*base_args(path, out))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


def test_a_small_negative_row_is_refused_though_its_hour_is_positive(tmp_path):
    ts = pd.date_range("2026-03-02", periods=21 * 24 * 4, freq="15min", tz="UTC")
    value = np.full(len(ts), 50.0)
    value[100] = -1.0  # the hour's mean stays positive
    pd.DataFrame({"when": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "players": value}).to_csv(
        tmp_path / "in.csv", index=False
    )
    result = forecast(*base_args(tmp_path / "in.csv", tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "line 102, column 'players': value '-1.0' is negative" in result.stderr


def test_quantiles_beyond_the_calibration_are_said_to_be_tied(tmp_path):
    out = tmp_path / "out.csv"
    levels = {"--quantiles": "0.001,0.05,0.5,0.95,0.99,0.995,0.999"}
    result = forecast(*base_args(synthetic_csv(tmp_path / "in.csv"), out, **levels))
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert (frame["q0.999"] == frame["q0.99"]).all() and (frame["q0.995"] == frame["q0.99"]).all()
    assert (frame["q0.99"] > frame["q0.95"]).any()
    note = next(line for line in result.stderr.splitlines() if "equals" in line)
    assert "q0.995 equals q0.99, q0.999 equals q0.99 in every row" in note
    assert "the band is calibrated on 168 errors per window" in note
    # the default levels are all told apart: no note
    result = forecast(*base_args(synthetic_csv(tmp_path / "in.csv"), out))
    assert "equals" not in result.stderr


def test_a_weekly_grid_ends_its_last_step_a_week_after_it_starts(tmp_path):
    path = synthetic_csv(tmp_path / "in.csv", days=26 * 7)
    result = forecast(
        *base_args(
            path,
            tmp_path / "out.csv",
            **{"--freq": "1w", "--agg": "sum", "--train-end": "2026-08-31", "--horizon": "28d"},
        )
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "out.csv")) == 4
    assert "note:" not in result.stderr  # the last full week ends at --train-end: no gap


def test_backtest_baselines_and_mase_follow_the_grid(tmp_path):
    """On a half-hour grid last week is 336 steps back and MASE's lag is a day, 48 steps."""
    from capacity.comparison import default_models, mase_season, seasons

    half = pd.Timedelta(minutes=30)
    assert seasons(half) == {"daily": 48, "weekly": 336}
    assert mase_season(half) == ("daily", 48)
    assert mase_season(pd.Timedelta(days=1)) == ("weekly", 7)
    assert mase_season(pd.Timedelta(weeks=1)) == ("naive", 1)
    models = default_models(step=half)
    assert models["seasonal naive (weekly)"].season_length == 336
    assert models["seasonal naive (daily)"].season_length == 48
    assert list(default_models(step=pd.Timedelta(weeks=1)))[1:] == ["naive (last value)"]
    ts = pd.date_range("2026-03-02", periods=28 * 48, freq="30min", tz="UTC")
    hours = (ts.hour + ts.minute / 60).to_numpy()
    value = 1000 + 400 * np.sin(2 * np.pi * (hours - 14) / 24)
    value += np.random.default_rng(5).normal(0, 20, len(ts))
    path = tmp_path / "in.csv"
    pd.DataFrame({"when": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "players": value}).to_csv(
        path, index=False
    )
    out = tmp_path / "bt"
    args = ["--input", str(path), "--time-column", "when", "--value-column", "players"]
    result = CliRunner().invoke(
        cli,
        [
            *("backtest", *args, "--freq", "30min", "--horizon", "24h", "--windows", "1"),
            *("--step", "24h", "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out / "metrics.csv")
    weekly = scores[scores["cutoff"].isna()].set_index("model").loc["seasonal naive (weekly)"]
    # the synthetic series repeats its daily cycle: repeating the same half-hour of last week
    # scores like repeating yesterday, far below 1 on a day-lag scale
    assert weekly["mase"] < 1.5
    assert "a lag of 48 step(s) of 30min" in (out / "backtest.html").read_text()


def test_output_dash_writes_the_csv_to_standard_output(tmp_path, monkeypatch):
    """``--output -`` pipes the forecast (it had written a file named '-'); what the command
    says goes to stderr, so standard output is the CSV alone."""
    import io
    import subprocess
    import sys

    monkeypatch.chdir(tmp_path)
    args = base_args(synthetic_csv(tmp_path / "in.csv"), "-")
    done = subprocess.run(
        [sys.executable, "-m", "capacity", "forecast", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(io.StringIO(done.stdout))
    assert list(frame.columns) == ["ts", "yhat", "q0.05", "q0.50", "q0.95"] and len(frame) == 48
    assert "standard output: 48 rows from 2026-03-20T00:00:00Z" in done.stderr
    assert not (tmp_path / "-").exists()
