"""A team's own fleet file, written from the README: it loads, and each mistake made while
writing one is refused with a fix that works outside the repository (no demo paths)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from capacity.config import load_fleet
from capacity.errors import ConfigError

DOC = Path(__file__).resolve().parents[1] / "docs" / "own-fleet.md"


def _doc_fleet() -> str:
    """The fleet file docs/own-fleet.md walks through (its first YAML block)."""
    text = DOC.read_text(encoding="utf-8")
    return re.search(r"```yaml\n(version: 1\n.*?)```", text, re.S).group(1)


@pytest.fixture
def own(tmp_path: Path):
    def _load(text: str):
        path = tmp_path / "fleet.yaml"
        path.write_text(text, encoding="utf-8")
        return load_fleet(path)

    return _load


def test_the_walkthrough_fleet_loads_with_its_own_names(own):
    fleet = own(_doc_fleet())
    assert list(fleet.regions) == ["us-west", "eu-central", "ap-northeast", "me-south"]
    assert {(s, m) for _, s, m in fleet.demand_series()} == {
        ("lobby", "rps"),
        ("world", "ccu"),
        ("voice", "ccu"),
    }
    assert len(fleet.demand_series()) == 12
    assert fleet.redundancy.k == 2
    assert fleet.servers_now("me-south", "voice") == 10
    assert fleet.failover["eu-central"] == {"us-west": 0.5, "me-south": 0.3, "ap-northeast": 0.2}


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a list\n"])
def test_an_empty_file_points_at_an_example_that_exists_anywhere(own, text):
    # data/demo/fleet.yaml exists only in a checkout of the repository
    with pytest.raises(ConfigError) as caught:
        own(text)
    message = str(caught.value)
    assert "capacity demo --out DIR" in message
    assert "data/demo" not in message


@pytest.mark.parametrize("metric", ["players", "cpu_util", "CCU"])
def test_a_demand_metric_capacity_does_not_plan_on_says_what_to_write(own, metric):
    text = _doc_fleet().replace("demand_metric: rps", f"demand_metric: {metric}", 1)
    with pytest.raises(ConfigError) as caught:
        own(text)
    assert str(caught.value).endswith(
        f"key 'services.lobby.demand_metric': must be one of ccu, rps; got {metric!r}. Fix: "
        "write ccu where the service's servers hold players (concurrent users) or rps where "
        "they serve requests per second, and export that metric under the same name"
    )


def test_an_unknown_server_type_says_how_to_fix_it(own):
    text = _doc_fleet().replace("server_type: voice-c5,", "server_type: voice-c6,")
    with pytest.raises(ConfigError) as caught:
        own(text)
    assert str(caught.value).endswith(
        "key 'services.voice.server_type': unknown server type 'voice-c6'; known: lobby-m5, "
        "voice-c5, world-c5-4x. Fix: name one of those, or describe the new type under "
        "server_types"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  me-south: {lobby: 4",
            "  me-sout: {lobby: 4",
            "key 'current_servers': unknown region 'me-sout' (did you mean 'me-south'?); known: "
            "ap-northeast, eu-central, me-south, us-west. Fix: spell it as under regions, or "
            "add it there",
        ),
        (
            # a demo name copied from the README: no guess between eu-west and us-west
            "me-south: {eu-central: 1.0}",
            "me-south: {eu-west: 1.0}",
            "key 'failover.me-south': unknown region 'eu-west'; known: ap-northeast, "
            "eu-central, me-south, us-west. Fix: spell it as under regions, or add it there",
        ),
        (
            "us-west: {lobby: 14,",
            "us-west: {loby: 14,",
            "key 'current_servers.us-west': unknown service 'loby' (did you mean 'lobby'?); "
            "known: lobby, voice, world. Fix: spell it as under services, or add it there",
        ),
    ],
)
def test_an_unknown_name_gets_the_likely_spelling_and_a_fix(own, old, new, expected):
    text = _doc_fleet()
    assert old in text
    with pytest.raises(ConfigError) as caught:
        own(text.replace(old, new, 1))
    assert str(caught.value).endswith(expected)


def test_failover_thirds_rounded_get_told_how_to_write_them(own):
    text = _doc_fleet().replace(
        "us-west: {eu-central: 0.7, ap-northeast: 0.3}",
        "us-west: {eu-central: 0.3333, ap-northeast: 0.3333, me-south: 0.3333}",
    )
    with pytest.raises(ConfigError) as caught:
        own(text)
    assert str(caught.value).endswith(
        "they sum to 0.9999. Fix: change the shares under failover.us-west so they add up to 1 "
        "(each is the fraction of us-west's players that region takes over); for rounded "
        "shares, write the last one as 1 minus the others"
    )
    # a share that is simply wrong is not told about rounding
    with pytest.raises(ConfigError) as caught:
        own(text.replace("me-south: 0.3333}", "me-south: 0.2}"))
    assert "for rounded shares" not in str(caught.value)
    assert "they sum to 0.8666" in str(caught.value)


def test_a_region_failing_over_to_itself_is_told_what_to_write(own):
    """A fleet of one region, its players sent to itself, had been refused with no fix."""
    text = _doc_fleet().replace("me-south: {eu-central: 1.0}", "me-south: {me-south: 1.0}")
    with pytest.raises(ConfigError) as caught:
        own(text)
    message = str(caught.value)
    assert "key 'failover.me-south': a region cannot fail over to itself. Fix: " in message
    assert "name the other regions that take me-south's players" in message
    assert "write failover: {}" in message


def test_optional_keys_take_the_defaults_the_docs_give(own):
    text = _doc_fleet()
    for line in ("version: 1\n", "currency: EUR\n", "redundancy: {k: 2, min_servers: 3}\n"):
        assert line in text
        text = text.replace(line, "")
    text = text.replace(", holidays_country: AE", "").replace(
        ", procurement_lead_time_days: 7}", "}"
    )
    fleet = own(text)
    assert (fleet.version, fleet.currency) == (1, None)
    assert (fleet.redundancy.k, fleet.redundancy.min_servers) == (1, 2)
    assert fleet.regions["me-south"].holidays_country is None
    assert fleet.server_types["lobby-m5"].procurement_lead_time_days == 0


def test_a_missing_count_points_at_the_every_region_rule(own):
    fleet = own(_doc_fleet().replace("me-south: {lobby: 4, world: 45, voice: 10}", "me-south: {}"))
    with pytest.raises(ConfigError) as caught:
        fleet.servers_now("me-south", "voice")
    assert "every service is planned in every region, docs/own-fleet.md" in str(caught.value)
