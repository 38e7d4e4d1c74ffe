"""The weekly report says plainly where its forecaster lost to the week-ago baseline in the
plan's backtest: real backtests (real Prophet fits) of the 30-day demo's last week."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from capacity import decision, report
from capacity.config import load_fleet
from capacity.demo import build_demo_store, generate_demo
from capacity.store import Store
from capacity.weekly import _backtest_task, sort_backtest

CUTOFF = pd.Timestamp("2026-11-23T00:00Z")  # the demo's telemetry ends 2026-11-22 23:00
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "weekly_capacity_plan.py"


@pytest.fixture(scope="module")
def backtest(tmp_path_factory) -> pd.DataFrame:
    """The plan's backtest rows (as ``capacity plan`` computes them, 21 days of history) of
    two series: ap-southeast/matchmaking, where the forecaster did far worse than repeating
    the week before, and eu-west/game, where it did far better."""
    folder = tmp_path_factory.mktemp("backtest-loss")
    generate_demo(folder / "fleet", days=30)
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    fleet = load_fleet(folder / "fleet" / "fleet.yaml")
    rows = []
    with Store(db, read_only=True) as store:
        for region, service, metric in [
            ("ap-southeast", "matchmaking", "rps"),
            ("eu-west", "game", "ccu"),
        ]:
            series = store.series(
                region=region,
                service=service,
                metric=metric,
                start=CUTOFF - pd.Timedelta(days=21),
                end=CUTOFF,
            ).loc[:, ["ts", "value"]]
            place = {
                "holidays_country": fleet.regions[region].holidays_country,
                "timezone": fleet.regions[region].timezone,
            }
            task = (region, service, metric, series, store.events(region=region), place)
            rows += _backtest_task(task)
    return sort_backtest(pd.DataFrame(rows))


def test_a_series_where_the_forecaster_lost_is_named_with_its_figures(backtest):
    scores = backtest.set_index(["region", "model"])["mase"]
    # the demo's last week, as the plan scores it
    assert (
        scores["ap-southeast", "capacity"] > 1.5 * scores["ap-southeast", "seasonal naive (weekly)"]
    )
    assert scores["eu-west", "capacity"] < scores["eu-west", "seasonal naive (weekly)"]
    losses = decision.backtest_losses(backtest)
    assert list(losses.columns) == list(decision.BACKTEST_LOSS_COLUMNS)
    assert losses[["region", "service", "metric", "baseline"]].values.tolist() == [
        ["ap-southeast", "matchmaking", "rps", "seasonal naive (weekly)"]
    ]
    lost = losses.iloc[0]
    own = scores["ap-southeast", "capacity"]
    naive = scores["ap-southeast", "seasonal naive (weekly)"]
    assert lost["mase"] == own and lost["baseline_mase"] == naive
    assert lost["worse_by"] == pytest.approx(own / naive - 1)
    peaks = backtest.set_index(["region", "model"])["peak_ape"]
    assert lost["peak_ape"] == peaks["ap-southeast", "capacity"]
    assert lost["baseline_peak_ape"] == peaks["ap-southeast", "seasonal naive (weekly)"]


def test_the_report_says_which_series_by_how_much_and_what_it_means(backtest):
    page = report.backtest_losses_line(backtest).data
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    own, naive = (
        backtest.set_index(["region", "model"]).loc[("ap-southeast", m)]
        for m in ("capacity", "seasonal naive (weekly)")
    )
    assert text.startswith(
        "Warning: the forecaster did worse than a baseline in last week's backtest on 1 of 2 "
        "series. This plan sizes that series on the same forecaster: its servers rest on a "
        "forecast that did worse than simply repeating the week before."
    )
    worse = (own["mase"] / naive["mase"] - 1) * 100
    assert (
        f"ap-southeast/matchmaking (rps): MASE {own['mase']:.3f} against {naive['mase']:.3f} "
        f"for seasonal naive (weekly), {worse:.1f} % worse; daily-peak error "
        f"{own['peak_ape'] * 100:.1f} % against {naive['peak_ape'] * 100:.1f} %."
    ) in text
    assert "eu-west/game" not in text  # where it won, nothing is said
    assert text.endswith(
        "Check its target against last week's peaks before acting on it; the backtest is in "
        "5. Forecast accuracy."
    )
    # the warning is highlighted as the plan's warnings are
    assert "background:#fff3cd" in page


def test_nothing_is_said_where_the_forecaster_won_or_nothing_was_backtested(backtest):
    won = backtest[backtest["region"] == "eu-west"]
    assert decision.backtest_losses(won).empty
    assert report.backtest_losses_line(won).data == ""
    assert report.backtest_losses_line(pd.DataFrame()).data == ""  # --no-backtest
    # a series too young to backtest has an error and no score: no loss
    young = pd.DataFrame(
        [{"region": "sa-east", "service": "chat", "metric": "rps", "model": "capacity",
          "error": "10.0 days of telemetry"}]
    )  # fmt: skip
    assert decision.backtest_losses(pd.concat([won, young])).empty


def test_a_loss_only_in_digits_the_table_does_not_show_is_no_loss():
    """The table shows MASE to three decimals: 0.90297 against 0.90279 reads 0.903 against
    0.903, and a warning naming it would contradict the table beside it."""
    rows = pd.DataFrame(
        {
            "region": ["sa-east", "sa-east", "na-east", "na-east"],
            "service": ["game", "game", "game", "game"],
            "metric": ["ccu"] * 4,
            "model": ["capacity", "seasonal naive (weekly)"] * 2,
            "mase": [0.90297, 0.90279, 0.7215, 0.7082],
            "peak_ape": [0.066, 0.059, 0.092, 0.087],
        }
    )
    losses = decision.backtest_losses(rows)
    assert losses["region"].tolist() == ["na-east"]
    assert losses["worse_by"].iloc[0] == pytest.approx(0.7215 / 0.7082 - 1)


def test_the_plan_notebook_shows_it_right_after_the_decision():
    source = NOTEBOOK.read_text()
    shown = source.index("display(report.backtest_losses_line(plan.backtest))")
    assert source.index("report.decision_line(") < shown < source.index("## 1. Verdict")


def test_the_manifest_and_stderr_get_one_line_and_the_report_shows_it_once(backtest):
    """A weekly job that reads only the manifest (or cron's mail of stderr) had not been told
    the forecaster lost to repeating last week."""
    line = decision.backtest_warning(backtest)
    own, naive = (
        backtest.set_index(["region", "model"]).loc[("ap-southeast", m), "mase"]
        for m in ("capacity", "seasonal naive (weekly)")
    )
    assert line == (
        "the forecaster did worse than a baseline in last week's backtest on 1 of 2 series: "
        f"ap-southeast/matchmaking (MASE {own:.3f} against {naive:.3f} for seasonal naive "
        "(weekly)); the plan sizes them on that forecaster all the same, so check their "
        "targets against last week's peaks"
    )
    assert decision.backtest_warning(backtest[backtest["region"] == "eu-west"]) is None
    assert decision.backtest_warning(pd.DataFrame()) is None
    # the report's list of warnings leaves it to the block under the decision
    shown = report.warning_lines([line, "the newest demand telemetry ends early"]).data
    assert "the newest demand telemetry ends early" in shown
    assert "did worse than a baseline" not in shown
