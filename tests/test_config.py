"""The fleet configuration: valid files load, malformed ones are refused with the key named."""

from __future__ import annotations

import pytest

from capacity.config import load_fleet
from capacity.errors import ConfigError
from tests.conftest import FLEET_YAML


def test_valid_fleet_loads(fleet_file):
    fleet = load_fleet(fleet_file)
    assert list(fleet.regions) == ["eu-west", "na-east"]
    assert fleet.servers_now("na-east", "game") == 12
    assert fleet.servers_now("na-east", "chat") == 0
    assert fleet.server_type_of("game").safe_load_hint == 400
    assert fleet.redundancy.k == 1
    assert fleet.failover["eu-west"] == {"na-east": 1.0}


BAD = {
    "unknown key": (
        FLEET_YAML.replace("redundancy: {k: 1", "redundancy: {spares: 1"),
        r"fleet\.yaml: key 'redundancy\.spares': unknown key\. Fix: remove it",
    ),
    "wrong type": (
        FLEET_YAML.replace("cost_per_hour: 0.5", "cost_per_hour: cheap"),
        r"key 'server_types\.game-std\.cost_per_hour':.*'cheap'",
    ),
    "shares do not sum to 1": (
        FLEET_YAML.replace("eu-west: {na-east: 1.0}", "eu-west: {na-east: 0.7}"),
        r"key 'failover\.eu-west': shares must sum to 1; they sum to 0\.7",
    ),
    "unknown failover region": (
        FLEET_YAML.replace("eu-west: {na-east: 1.0}", "eu-west: {ap-south: 1.0}"),
        r"key 'failover\.eu-west': unknown region 'ap-south'",
    ),
    "unknown server type": (
        FLEET_YAML.replace("server_type: game-std", "server_type: game-big"),
        r"key 'services\.game\.server_type': unknown server type 'game-big'",
    ),
    "missing key": (
        FLEET_YAML.replace("    boot_lead_time_minutes: 10\n", ""),
        r"key 'server_types\.game-std\.boot_lead_time_minutes': required key is missing",
    ),
    "bad time zone": (
        FLEET_YAML.replace("Europe/Berlin", "Europe/Atlantis"),
        r"key 'regions\.eu-west\.timezone':.*unknown time zone 'Europe/Atlantis'",
    ),
    "availability out of range": (
        FLEET_YAML.replace("availability: 0.999", "availability: 99.9"),
        r"key 'services\.game\.slo\.availability'",
    ),
    "unknown holidays country": (
        FLEET_YAML.replace("holidays_country: DE", "holidays_country: XX"),
        r"key 'regions\.eu-west\.holidays_country': unknown holidays country 'XX'",
    ),
    "newer version": (
        FLEET_YAML.replace("version: 1", "version: 2"),
        r"key 'version': unsupported version 2; this release of capacity reads version 1",
    ),
    "a key written twice": (
        FLEET_YAML.replace(
            "  na-east: {game: 12}\n", "  na-east: {game: 12}\n  eu-west: {game: 3}\n"
        ),
        r"fleet\.yaml: line 19: key 'eu-west' appears twice in one mapping",
    ),
    "not yaml": ("regions: [eu-west\n", r"fleet\.yaml: line \d+: not valid YAML"),
    "not a mapping": ("- a\n- b\n", r"top level must be a mapping"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_malformed_fleet_is_refused(case, write):
    text, message = BAD[case]
    with pytest.raises(ConfigError, match=message):
        load_fleet(write("fleet.yaml", text))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_fleet(tmp_path / "none.yaml")
