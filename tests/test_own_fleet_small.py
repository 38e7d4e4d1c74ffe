"""A fleet far smaller than the demo: one region, a handful of players on one or two servers
of a server type that costs nothing, so N+k and the minimum servers decide the sizing.

What it reads must be as true as the demo's: one server is "1 server" (the reasons, the
event check's report and the plan's decision had read "1 servers"), a scale-down of a free
server type costs 0.0, not -0.0 (the CSV had written ``-0.0``), and a quiet service's
fraction of a request a second is not written 0 beside the server it needs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli

pytestmark = pytest.mark.usefixtures("shared_fits")

SOLO_FLEET = """\
version: 1
currency: EUR
regions:
  solo: {timezone: Pacific/Auckland, holidays_country: NZ}
services:
  game: {demand_metric: ccu, server_type: free, slo: {latency_p99_ms: 100, availability: 0.99}}
server_types:
  free: {safe_load_hint: 50, cost_per_hour: 0, boot_lead_time_minutes: 0}
current_servers:
  solo: {game: SERVERS}
redundancy: {k: 0, min_servers: 1}
failover: {}
"""
HOURS = 24 * 14


@pytest.fixture(scope="module")
def solo(tmp_path_factory: pytest.TempPathFactory):
    """A store of two weeks of 2 to 8 players an hour in the one region."""
    folder = tmp_path_factory.mktemp("solo")
    ts = pd.date_range("2026-11-09T00:00Z", periods=HOURS, freq="1h")
    players = 5 + 3 * np.sin(np.arange(HOURS) / 24 * 2 * np.pi)
    telemetry = pd.DataFrame(
        {
            "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "solo",
            "service": "game",
            "metric": "ccu",
            "value": players.round(),
        }
    )
    path = folder / "telemetry.csv"
    telemetry.to_csv(path, index=False)
    db = folder / "solo.duckdb"

    def fleet(servers: int):
        fleet_file = folder / f"fleet-{servers}.yaml"
        fleet_file.write_text(SOLO_FLEET.replace("SERVERS", str(servers)), encoding="utf-8")
        return ["--db", str(db), "--config", str(fleet_file)]

    loaded = CliRunner().invoke(cli, ["ingest", str(path), *fleet(1)])
    assert loaded.exit_code == 0, loaded.output
    return fleet


def test_one_server_reads_singular_and_a_free_scale_down_costs_zero(solo):
    runner = CliRunner()
    table = runner.invoke(cli, ["recommend", *solo(3), "--horizon", "1d"])
    assert table.exit_code == 0, table.output
    # at most 8 players at 50 a server: one server, with k 0 no spare
    assert "peak need 1 server at " in table.stdout
    assert "1 servers" not in table.stdout
    # the only region: nowhere for its players to go, said as such rather than "survives",
    # and as the fleet's only region rather than as a failover map left empty
    said = " ".join(table.stdout.split("Loss of one region:")[1].split())
    assert said == (
        "- without solo: it is the fleet's only region: no other region can take its players, "
        "so they would not be served"
    )

    csv = runner.invoke(cli, ["recommend", *solo(3), "--horizon", "1d", "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    row = pd.read_csv(pd.io.common.StringIO(csv.stdout), dtype=str).iloc[0]
    assert (row["action"], row["target"], row["change"]) == ("scale_down", "1", "-2")
    assert row["cost_per_week_change"] == "0.0"


def test_an_event_needing_one_more_server_says_one_server(solo, tmp_path):
    report = tmp_path / "event.html"
    check = CliRunner().invoke(
        cli,
        [
            "check-event",
            *solo(1),
            "--name",
            "Launch party",
            "--start",
            "2026-11-23T00:00Z",
            "--end",
            "2026-11-24T00:00Z",
            "--regions",
            "solo",
            "--uplift",
            "7",
            "--output",
            str(report),
        ],
    )
    assert check.exit_code == 0, check.output
    text = report.read_text(encoding="utf-8")
    # seven times a p95 of about 10 players needs 2 servers at 50 a server: one more
    assert "add 1 server (1 to 2)" in text
    assert "1 servers" not in text


def test_a_quiet_service_of_a_fraction_of_a_request_a_second_reads_its_decimals(tmp_path):
    """0.1 to 0.4 requests a second need one server: the reason had read "p95 demand 0"."""
    ts = pd.date_range("2026-11-09T00:00Z", periods=HOURS, freq="1h")
    rps = (5 + 3 * np.sin(np.arange(HOURS) / 24 * 2 * np.pi)).round() / 20
    path = tmp_path / "rps.csv"
    pd.DataFrame(
        {"ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "solo", "service": "game"}
        | {"metric": "rps", "value": rps}
    ).to_csv(path, index=False)
    fleet_file = tmp_path / "fleet.yaml"
    fleet = SOLO_FLEET.replace("SERVERS", "1").replace("demand_metric: ccu", "demand_metric: rps")
    fleet_file.write_text(fleet, encoding="utf-8")
    common = ["--db", str(tmp_path / "rps.duckdb"), "--config", str(fleet_file)]
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(path), *common]).exit_code == 0
    table = runner.invoke(cli, ["recommend", *common, "--horizon", "1d"])
    assert table.exit_code == 0, table.output
    assert re.search(r"for p95 demand 0\.\d+ \(1 for demand, N\+0 1,", table.stdout), table.stdout
