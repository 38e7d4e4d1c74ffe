"""A fleet file without server counts is refused naming every missing pair, not one a run;
pairs without telemetry are counted past the six named.

On a fleet of 60 region/services, a fleet file lacking a service's counts in several regions
was refused one pair at a time, each run of ``capacity recommend`` after a full forecast."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.config import load_fleet
from capacity.demo import build_demo_store, generate_demo
from capacity.errors import ConfigError, ParameterError
from capacity.headroom import check_server_counts, hourly_need
from capacity.store import Store
from capacity.weekly import check_plannable
from tests.conftest import FLEET_YAML

#: The conftest fleet with a second service, chat, that has no server count anywhere.
WITH_CHAT = FLEET_YAML.replace(
    "server_types:",
    "  chat:\n    demand_metric: rps\n    server_type: game-std\n"
    "    slo: {latency_p99_ms: 50, availability: 0.995}\nserver_types:",
)
HOURS = pd.date_range("2026-12-01", periods=2, freq="h", tz="UTC")
DAYS_28 = pd.Timedelta(days=28)


def _forecast(pairs):
    return pd.DataFrame(
        [{"region": r, "service": s, "ts": ts, "q0.95": 150.0} for r, s in pairs for ts in HOURS]
    )


def _safe(pairs):
    return pd.DataFrame([{"region": r, "service": s, "safe_load": 100.0} for r, s in pairs])


def test_every_missing_count_is_named_at_once(write):
    path = write("fleet.yaml", WITH_CHAT)
    fleet = load_fleet(path)
    pairs = [(r, s) for r in ("eu-west", "na-east") for s in ("chat", "game")]
    with pytest.raises(ConfigError) as refused:
        hourly_need(_forecast(pairs), _safe(pairs), fleet)
    assert str(refused.value) == (
        f"{path}: key 'current_servers': no count of the servers running for 2 "
        "region/services: eu-west/chat, na-east/chat. Fix: add a count under "
        "current_servers.<region>.<service> for each (0 where the service does not run there "
        "yet: every service is planned in every region, docs/own-fleet.md)"
    )


def test_one_missing_count_keeps_the_message_that_names_its_key(write):
    path = write(
        "fleet.yaml", WITH_CHAT.replace("eu-west: {game: 10}", "eu-west: {game: 10, chat: 3}")
    )
    with pytest.raises(ConfigError) as refused:
        check_server_counts(load_fleet(path))
    assert str(refused.value).startswith(
        f"{path}: key 'current_servers.na-east.chat': no count of the servers running for "
        "na-east/chat. Fix: add it"
    )


def test_only_the_forecast_pairs_need_a_count(write):
    # `capacity schedule --region eu-west --service game` forecasts that pair alone
    fleet = load_fleet(write("fleet.yaml", WITH_CHAT))
    need = hourly_need(_forecast([("eu-west", "game")]), _safe([("eu-west", "game")]), fleet)
    assert need["servers_now"].tolist() == [10, 10]
    assert need["needed_nk"].tolist() == [3, 3]  # ceil(150 / 100) + 1


def test_a_long_list_names_eight_and_counts_the_rest(write):
    regions = "".join(f"  r{i}: {{timezone: UTC}}\n" for i in range(5))
    text = (
        FLEET_YAML.split("regions:")[0]
        + "regions:\n"
        + regions
        + "services:"
        + FLEET_YAML.split("services:")[1].split("current_servers:")[0]
        + "current_servers: {}\nfailover: {}\n"
    )
    fleet = load_fleet(write("fleet.yaml", text))
    with pytest.raises(ConfigError) as refused:
        check_server_counts(fleet)
    message = str(refused.value)
    assert "no count of the servers running for 5 region/services: r0/game, r1/game" in message
    assert "r3/game, r4/game. Fix:" in message  # five: every one named
    wide = text
    for extra in ("chat", "voice"):
        wide = wide.replace(
            "server_types:",
            f"  {extra}:\n    demand_metric: ccu\n    server_type: game-std\n"
            "    slo: {latency_p99_ms: 50, availability: 0.999}\nserver_types:",
        )
    with pytest.raises(ConfigError) as refused:
        check_server_counts(load_fleet(write("wide.yaml", wide)))
    message = str(refused.value)
    assert "for 15 region/services: r0/game, r0/chat, r0/voice, r1/game," in message
    assert "r2/chat and 7 more. Fix:" in message


def test_the_plan_refuses_every_missing_count_before_any_work(write, tmp_path):
    path = write("fleet.yaml", WITH_CHAT)
    db = tmp_path / "store.duckdb"
    fleet, monday = load_fleet(path), pd.Timestamp("2026-11-23", tz="UTC")
    refused = pytest.raises(ConfigError, match="for 2 region/services: eu-west/chat, na-east/chat")
    with Store(db) as store, refused:  # empty: the counts are checked before the telemetry
        check_plannable(store, fleet, monday, pd.Timedelta(days=28))
    done = CliRunner().invoke(
        cli,
        [
            "plan",
            "--db",
            str(db),
            "--config",
            str(path),
            "--week",
            "2026-W48",
            "--out",
            str(tmp_path / "plans"),
        ],
    )
    assert done.exit_code == 2, done.output
    assert (
        "no count of the servers running for 2 region/services: eu-west/chat, na-east/chat"
        in done.output
    )
    assert not (tmp_path / "plans").exists()


def test_pairs_without_telemetry_beyond_six_are_counted(tmp_path):
    # the same refusal for telemetry: at 60 pairs "and more" left the reader to count
    generate_demo(tmp_path / "fleet", days=10)
    db = build_demo_store(tmp_path / "store.duckdb", tmp_path / "fleet")
    fleet = load_fleet(tmp_path / "fleet" / "fleet.yaml")
    with Store(db) as store:
        # 2 services x 4, with the demo's ccu of those services (held instead, it is named)
        store.con.execute(
            "DELETE FROM telemetry WHERE metric = 'rps' OR (metric = 'ccu' AND service <> 'game')"
        )
        with pytest.raises(ParameterError) as refused:
            check_plannable(store, fleet, pd.Timestamp("2026-11-23", tz="UTC"), DAYS_28)
    message = str(refused.value)
    assert "plans 8 region/service(s) with no demand telemetry" in message
    assert "ap-southeast/chat (rps), ap-southeast/matchmaking (rps)," in message
    assert message.count(" (rps)") == 6
    assert " and 2 more. Fix: load that telemetry" in message


@pytest.mark.parametrize("command", [["recommend"], ["schedule", "--service", "chat"]])
def test_recommend_and_schedule_refuse_every_missing_count_before_any_fit(write, tmp_path, command):
    """Each had forecast the whole fleet (a minute at 60 pairs) before refusing one pair."""
    path = write("fleet.yaml", WITH_CHAT)
    db = tmp_path / "store.duckdb"
    Store(db).close()  # empty: a fit would fail for want of telemetry, the count check first
    done = CliRunner().invoke(cli, [*command, "--db", str(db), "--config", str(path)])
    assert done.exit_code == 2, done.output
    assert (
        "no count of the servers running for 2 region/services: eu-west/chat, na-east/chat"
        in done.output
    )


def test_a_schedule_of_one_pair_needs_only_that_pairs_count(write, tmp_path):
    path = write("fleet.yaml", WITH_CHAT)
    db = tmp_path / "store.duckdb"
    Store(db).close()
    done = CliRunner().invoke(
        cli, ["schedule", "--service", "game", "--db", str(db), "--config", str(path)]
    )
    assert "no count of the servers running" not in done.output  # it fails later, on the data
