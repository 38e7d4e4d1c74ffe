"""Fleet files whose numbers are out of range, or whose failover shares do not add up: each
is refused in one line naming the file and key, with the fix."""

from __future__ import annotations

import pytest

from capacity import ConfigError
from capacity.config import load_fleet
from tests.conftest import FLEET_YAML


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "redundancy: {k: 1",
            "redundancy: {k: -1",
            "key 'redundancy.k': must be 0 or more; got -1. Fix: write 0 or more (k is how many",
        ),
        (
            "min_servers: 2}",
            "min_servers: 0}",
            "key 'redundancy.min_servers': must be 1 or more; got 0. Fix: write 1 or more",
        ),
        (
            "eu-west: {na-east: 1.0}",
            "eu-west: {na-east: 1.3}",
            "key 'failover.eu-west.na-east': share must be in [0, 1]; got 1.3. Fix: write each",
        ),
        (
            "failover:\n  eu-west: {na-east: 1.0}\n  na-east: {eu-west: 1.0}",
            "failover:\n  eu-west: {na-east: 1.0}\n  na-east: {eu-west: 0.7, ap: 0.6}",
            "key 'failover.na-east': unknown region 'ap'",
        ),
        (
            "eu-west: {game: 10}",
            "eu-west: {game: -10}",
            "key 'current_servers.eu-west.game': must be >= 0; got -10. Fix: write the servers",
        ),
        (
            "availability: 0.999",
            "availability: 1.0",
            "must be less than 1; got 1.0. Fix: write a number below 1 (a fraction such as 0.999",
        ),
        (
            "safe_load_hint: 400",
            "safe_load_hint: 0",
            "key 'server_types.game-std.safe_load_hint': must be more than 0; got 0. Fix: write a "
            "number above 0",
        ),
    ],
)
def test_numbers_out_of_range_in_the_fleet_file_say_the_fix(tmp_path, old, new, expected):
    assert old in FLEET_YAML
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML.replace(old, new))
    with pytest.raises(ConfigError) as caught:
        load_fleet(path)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_failover_shares_that_do_not_sum_to_one_say_the_fix(tmp_path):
    path = tmp_path / "fleet.yaml"
    three = "na-east: {eu-west: 0.7, ap-south: 0.6}"
    text = FLEET_YAML.replace("na-east: {eu-west: 1.0}", three)
    text = (
        text.replace(
            "  na-east: {timezone: America/New_York, holidays_country: US}\n",
            "  na-east: {timezone: America/New_York, holidays_country: US}\n"
            "  ap-south: {timezone: Asia/Kolkata, holidays_country: IN}\n",
        )
        + "  ap-south: {eu-west: 1.0}\n"
    )
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_fleet(path)
    assert str(caught.value) == (
        f"{path}: key 'failover.na-east': shares must sum to 1; they sum to 1.3. Fix: change the "
        "shares under failover.na-east so they add up to 1 (each is the fraction of na-east's "
        "players that region takes over)"
    )


def test_an_empty_fleet_file_says_it_is_empty(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text("")
    with pytest.raises(ConfigError, match=r"fleet\.yaml: the file is empty\. Fix: start from"):
        load_fleet(path)
