"""The fleet configuration: valid files load, malformed ones are refused with the key named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from capacity.config import load_fleet
from capacity.errors import ConfigError
from tests.conftest import FLEET_YAML


def test_valid_fleet_loads(fleet_file):
    fleet = load_fleet(fleet_file)
    assert list(fleet.regions) == ["eu-west", "na-east"]
    assert fleet.servers_now("na-east", "game") == 12
    # a pair with no count is refused, not read as 0 servers (which asks for a whole fleet)
    # named like the errors found on load: the fleet file, then the key
    with pytest.raises(ConfigError) as error:
        fleet.servers_now("na-east", "chat")
    assert str(error.value).startswith(
        f"{fleet_file}: key 'current_servers.na-east.chat': no count of the servers running"
    )
    assert fleet.source == str(fleet_file)
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
    "no failover": (
        FLEET_YAML.split("failover:")[0],
        r"key 'failover': required key is missing\. Fix: add it: per region, the shares .* "
        r"\(failover: \{\} plans no failover, as for a single region\)",
    ),
    "bad time zone": (
        FLEET_YAML.replace("Europe/Berlin", "Europe/Atlantis"),
        r"key 'regions\.eu-west\.timezone':.*unknown time zone 'Europe/Atlantis'",
    ),
    "a misspelt time zone": (
        FLEET_YAML.replace("Europe/Berlin", "America/Los Angeles"),
        r"key 'regions\.eu-west\.timezone': unknown time zone 'America/Los Angeles' \(did you "
        r"mean 'America/Los_Angeles'\?\)",
    ),
    "a time zone in lower case": (
        FLEET_YAML.replace("Europe/Berlin", "asia/hongkong"),
        r"unknown time zone 'asia/hongkong' \(did you mean 'Asia/Hong_Kong'\?\)",
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
        r"key 'version': unsupported version 2; this release of capacity reads version 1\. "
        r"Fix: write version: 1 ",
    ),
    "a misspelt optional key": (
        FLEET_YAML + "currncy: USD\n",
        r"key 'currncy': unknown key \(did you mean 'currency'\?\)\. Fix: spell it 'currency'",
    ),
    "a misspelt key of a region": (
        FLEET_YAML.replace("holidays_country: DE", "holiday_country: DE"),
        r"key 'regions\.eu-west\.holiday_country': unknown key \(did you mean "
        r"'holidays_country'\?\)",
    ),
    "a currency that is a number": (
        FLEET_YAML + "currency: 5\n",
        r"key 'currency': must be text; got the number 5\. Fix: write the name meant \(quoted, "
        r"'5', if it is that number\)$",
    ),
    "a currency that is a list": (  # it had no Fix
        FLEET_YAML + "currency: [1, 2]\n",
        r"key 'currency': Input should be a valid string; got a list, \[1, 2\]\. Fix: write "
        r"one value there",
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


def test_a_store_or_binary_file_given_as_the_config_is_named_so(tmp_path):
    """A DuckDB store given as the fleet file (--config and --db swapped) had been told to
    'save the fleet YAML as UTF-8'."""
    import duckdb

    store = tmp_path / "capacity.duckdb"
    duckdb.connect(str(store)).close()
    with pytest.raises(ConfigError, match=r"capacity\.duckdb: a DuckDB database .* --db"):
        load_fleet(store)
    binary = tmp_path / "image.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ConfigError, match=r"image\.yaml: a binary file, not a fleet YAML"):
        load_fleet(binary)


def test_a_config_that_is_not_utf8_or_aliases_itself_is_refused_in_one_line(tmp_path):
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe regions: {}\n")
    with pytest.raises(ConfigError, match=r"binary\.yaml: not UTF-8 text \(byte 0\)"):
        load_fleet(binary)
    looped = tmp_path / "looped.yaml"
    looped.write_text("a: &a [*a]\n")  # once walked for repeated keys forever
    with pytest.raises(ConfigError, match=r"looped\.yaml"):
        load_fleet(looped)


def test_a_misspelt_key_and_an_unquoted_country_code_are_explained(tmp_path):
    text = FLEET_YAML.replace("safe_load_hint", "safe_load_hnt", 1)
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text(text)
    with pytest.raises(ConfigError, match=r"'safe_load_hnt' is there instead\. Fix: spell it"):
        load_fleet(misspelt)
    norway = tmp_path / "norway.yaml"
    norway.write_text(re.sub(r"holidays_country: \w+", "holidays_country: NO", FLEET_YAML, count=1))
    with pytest.raises(ConfigError, match=r"got False\. Fix: quote it"):
        load_fleet(norway)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # each was converted silently (true to 1 spare, text to a number, 120.0 to 120)
        (
            "redundancy: {k: 1",
            "redundancy: {k: true",
            r"'redundancy\.k'.*got True\. Fix: write a number",
        ),
        (
            "redundancy: {k: 1",
            "redundancy: {k: '1'",
            r"got the text '1'\. Fix: write the number without quotes",
        ),
        ("cost_per_hour: 0.5", "cost_per_hour: '0.5'", r"cost_per_hour'.*got the text '0\.5'"),
        # a word is not a number in quotes: "without quotes" did not fix it
        (
            "redundancy: {k: 1",
            "redundancy: {k: lots",
            r"got the text 'lots'\. Fix: write a number \(e\.g\. 1200, or 0\.5\)",
        ),
        ("redundancy: {k: 1", "redundancy: {k: 1.0", r"got 1\.0\. Fix: write a whole number"),
    ],
)
def test_numbers_must_be_written_as_numbers(tmp_path, old, new, expected):
    assert old in FLEET_YAML
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML.replace(old, new, 1))
    with pytest.raises(ConfigError, match=expected):
        load_fleet(path)


def test_a_whole_number_where_a_fraction_may_be_is_fine(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML.replace("cost_per_hour: 0.5", "cost_per_hour: 1", 1))
    assert load_fleet(path).server_types["game-std"].cost_per_hour == 1.0


def test_the_readme_fleet_example_loads(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\nversion: 1\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "fleet.yaml"
    path.write_text("version: 1\n" + block, encoding="utf-8")
    fleet = load_fleet(path)  # the example once named a failover region it did not define
    assert list(fleet.regions) == ["eu-west", "na-east"]
    assert fleet.servers_now("na-east", "game") == 150


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        # each loaded, then failed late: a traceback, JSON that cannot be written, or a
        # message naming an internal parameter ('minutes', 'hint', 'slo_ms')
        ("procurement_lead_time_days: 7", "procurement_lead_time_days: .inf", "procurement"),
        ("cost_per_hour: 0.5", "cost_per_hour: .inf", "cost_per_hour"),
        ("boot_lead_time_minutes: 10", "boot_lead_time_minutes: .inf", "boot_lead"),
        ("safe_load_hint: 400", "safe_load_hint: .nan", "safe_load_hint"),
        ("latency_p99_ms: 120", "latency_p99_ms: .inf", r"slo\.latency_p99_ms"),
    ],
)
def test_infinite_numbers_are_refused_naming_the_key(tmp_path, old, new, key):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML.replace(old, new, 1))
    with pytest.raises(ConfigError, match=rf"fleet\.yaml: key '[\w.-]*{key}[\w_]*': must be a fin"):
        load_fleet(path)


@pytest.mark.parametrize(
    ("old", "new", "bound"),
    [
        # 10 million days ahead once gave an act-by date in 1970
        ("procurement_lead_time_days: 7", "procurement_lead_time_days: 10000000", "365"),
        ("boot_lead_time_minutes: 10", "boot_lead_time_minutes: 1441", "1440"),
        ("cost_per_hour: 0.5", "cost_per_hour: 1.0e+300", "1000000"),
    ],
)
def test_lead_times_and_costs_have_an_upper_bound(tmp_path, old, new, bound):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML.replace(old, new, 1))
    with pytest.raises(
        ConfigError, match=rf"less than or equal to {bound}.*Fix: write at most {bound} "
    ):
        load_fleet(path)
    at = FLEET_YAML.replace(old, new.split(": ")[0] + f": {bound}", 1)
    path.write_text(at)
    load_fleet(path)  # the bound itself is allowed


def test_a_region_left_out_of_failover_is_refused(tmp_path):
    path = tmp_path / "fleet.yaml"
    # its loss would go unplanned without a word: the schedule and recommendations hold
    # nothing for its players
    path.write_text(FLEET_YAML.replace("  na-east: {eu-west: 1.0}\n", "", 1))
    with pytest.raises(ConfigError, match=r"key 'failover': no entry for na-east; once failover"):
        load_fleet(path)
    # no failover at all is a plan (each loss is reported as not survived), and so is one region
    path.write_text(FLEET_YAML.split("failover:")[0] + "failover: {}\n")
    assert load_fleet(path).failover == {}


def test_the_currency_is_optional_and_names_the_cost_unit(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML)
    assert load_fleet(path).currency is None  # unknown: the report says "fleet cost units"
    path.write_text(FLEET_YAML.replace("version: 1", "version: 1\ncurrency: EUR", 1))
    assert load_fleet(path).currency == "EUR"
    path.write_text(FLEET_YAML.replace("version: 1", "version: 1\ncurrency: ''", 1))
    with pytest.raises(ConfigError, match=r"key 'currency': must be a short name"):
        load_fleet(path)


def test_the_demo_fleet_names_its_currency():
    demo = Path(__file__).resolve().parents[1] / "data" / "demo" / "fleet.yaml"
    assert load_fleet(demo).currency == "USD"
