"""YAML logs and fleet files that share fields through merge keys (``<<: *base``).

YAML copies the merged keys into the mapping beside the ones written there, which override
them; a repeated-key check that looked at the built tree took an override for a key written
twice and refused a valid file. Aliases nested in aliases ("billion laughs") are refused
before they are built.
"""

from __future__ import annotations

import itertools
import re
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from capacity.config import load_fleet
from capacity.errors import ConfigError, DataError
from capacity.resilience import read_deploys

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_a_yaml_log_may_override_the_keys_a_merge_key_brings_in(tmp_path):
    # A deploy log that writes the shared fields once: D-2 takes them from D-1 and overrides
    # the id and time. It was refused: "line 8: key 'deploy_id' appears twice", a key written
    # once.
    path = write(
        tmp_path,
        "deploys.yaml",
        """
        deploys:
          - &base
            deploy_id: D-1
            region: eu-west
            service: game
            deployed_at: 2026-01-05T08:00:00Z
          - <<: *base
            deploy_id: D-2
            deployed_at: 2026-01-06T08:00:00+01:00
        """,
    )
    deploys = read_deploys(path)
    assert deploys["deploy_id"].tolist() == ["D-1", "D-2"]
    assert deploys["region"].tolist() == ["eu-west", "eu-west"]
    assert deploys["deployed_at"].iloc[1] == pd.Timestamp("2026-01-06T07:00Z")
    # a key written twice in one item is still refused, on the line of the second
    path = write(
        tmp_path,
        "twice.yaml",
        """
        deploys:
          - &base
            deploy_id: D-1
            region: eu-west
            service: game
            deployed_at: 2026-01-05T08:00:00Z
          - <<: *base
            deploy_id: D-2
            deploy_id: D-3
        """,
    )
    with pytest.raises(DataError, match=r"twice\.yaml: line 9: key 'deploy_id' appears twice"):
        read_deploys(path)


def test_a_fleet_file_may_override_the_keys_a_merge_key_brings_in(tmp_path):
    # the fleet loader looks for repeated keys in the tree it has built, where the merged keys
    # sit beside the ones that override them
    text = (DEMO / "fleet.yaml").read_text(encoding="utf-8")
    text = text.replace("  game:\n    demand_metric: ccu", "  game: &game\n    demand_metric: ccu")
    matchmaking = text[text.index("  matchmaking:\n") : text.index("\nserver_types:")]
    text = text.replace(
        matchmaking,
        "  matchmaking:\n    <<: *game\n    demand_metric: rps\n    server_type: mm-c6i-xlarge\n",
    )
    path = write(tmp_path, "fleet.yaml", text)
    service = load_fleet(path).services["matchmaking"]
    assert (service.demand_metric, service.server_type) == ("rps", "mm-c6i-xlarge")
    assert service.slo.availability == 0.999  # from game
    # a key written twice in one mapping is still refused
    repeated = text.replace("<<: *game\n", "<<: *game\n    server_type: x\n")
    twice = write(tmp_path, "twice.yaml", repeated)
    with pytest.raises(ConfigError, match="key 'server_type' appears twice"):
        load_fleet(twice)


def test_a_yaml_calendar_may_override_the_keys_a_merge_key_brings_in(tmp_path):
    from capacity.calendar import read_calendar

    path = write(
        tmp_path,
        "calendar.yaml",
        """
        events:
          - &base
            event_id: E-1
            name: Season launch
            kind: season_start
            start: 2026-12-01T00:00:00Z
            end: 2026-12-02T00:00:00Z
          - <<: *base
            event_id: E-2
            start: 2026-12-08T00:00:00Z
            end: 2026-12-09T00:00:00Z
        """,
    )
    events = read_calendar(path)
    assert events["event_id"].tolist() == ["E-1", "E-2"]
    assert events["kind"].tolist() == ["season_start", "season_start"]
    assert events["start_ts"].iloc[1] == pd.Timestamp("2026-12-08T00:00Z")


def nested_aliases(levels: int = 9) -> str:
    """A flow list of ``levels`` lists, each of nine aliases of the one before: under 300
    bytes that stand for over 400 million values (9 levels)."""
    names = "abcdefghijklmnopqrstuvwxyz"[:levels]
    items = ["&a [" + ", ".join(["x"] * 9) + "]"]
    for before, name in itertools.pairwise(names):
        items.append(f"&{name} [" + ", ".join([f"*{before}"] * 9) + "]")
    return "[" + ", ".join(items) + "]"


BOMB = (
    r"its anchors and aliases stand for [\d,]+ values once written out, more than the "
    r"1,000,000 a YAML file may hold \(aliases nested in aliases multiply\)\. "
    r"Fix: write the values out instead of nesting aliases$"
)


@pytest.mark.timeout(60)
def test_aliases_nested_in_aliases_are_refused_before_they_are_built(tmp_path):
    # as an event's notes, as a deploy's change, and as the fleet file's currency: each took
    # gigabytes and minutes to read
    from capacity.calendar import read_calendar

    calendar = write(
        tmp_path,
        "calendar.yaml",
        f"""
        events:
          - name: Launch
            kind: launch
            start: 2026-12-01T00:00:00Z
            end: 2026-12-02T00:00:00Z
            notes: {nested_aliases()}
        """,
    )
    deploys = write(
        tmp_path,
        "deploys.yaml",
        f"""
        - deploy_id: D-1
          region: eu-west
          service: game
          deployed_at: 2026-01-05T08:00:00Z
          change: {nested_aliases()}
        """,
    )
    fleet = (DEMO / "fleet.yaml").read_text(encoding="utf-8")
    assert "currency: USD\n" in fleet
    fleet_path = tmp_path / "fleet.yaml"
    fleet_path.write_text(fleet.replace("currency: USD", f"currency: {nested_aliases()}"))
    for read, path, error in (
        (read_calendar, calendar, DataError),
        (read_deploys, deploys, DataError),
        (load_fleet, fleet_path, ConfigError),
    ):
        started = time.perf_counter()
        with pytest.raises(error, match=f"^{re.escape(str(path))}: {BOMB}"):
            read(path)
        assert time.perf_counter() - started < 0.5, path.name


def test_a_file_of_shared_values_is_sized_as_written_out(tmp_path):
    import yaml

    from capacity.records import YAML_MAX_NODES, expanded_size

    def size(text: str) -> int:
        return expanded_size(yaml.compose(textwrap.dedent(text), Loader=yaml.SafeLoader))

    # a shared mapping of two keys (5 values) written out three times, in a list of four
    assert size("[&s {a: 1, b: 2}, *s, *s]") == 1 + 3 * 5
    # a mapping, its key, and a list that holds itself: one reference back, not expanded
    assert size("a: &a [*a]\n") == 1 + 1 + (1 + 1)
    # the mapping, its key, the outer list, and level k of the lists: 1 + 9 x level k - 1
    assert size(f"n: {nested_aliases(6)}\n") == 3 + sum((9**k - 1) // 8 for k in range(2, 8))
    assert size(f"n: {nested_aliases(6)}\n") < YAML_MAX_NODES < size(f"n: {nested_aliases(7)}\n")
    # the demo's files, and one whose events share fields through aliases, still load
    load_fleet(DEMO / "fleet.yaml")
    from capacity.calendar import read_calendar

    first = (
        "  - &e {name: Match 0, kind: esports, start: 2026-12-01T18:00:00Z, "
        "end: 2026-12-01T22:00:00Z}\n"
    )
    text = "events:\n" + first + "".join(f"  - {{<<: *e, name: Match {n}}}\n" for n in range(1, 50))
    events = read_calendar(write(tmp_path, "shared.yaml", text))
    assert len(events) == 50 and set(events["kind"]) == {"esports"}


def test_an_open_incident_left_without_resolved_at_is_told_to_write_it_empty(tmp_path):
    # An SRE writing a still-open incident in YAML leaves resolved_at out; the key is required
    # (a forgotten resolution must not read as open), and the fix said only "add the key
    # 'resolved_at'", not how an open incident writes it.
    from capacity.resilience import read_incidents

    path = write(
        tmp_path,
        "incidents.yaml",
        """
        - incident_id: I-1
          region: eu-west
          service: game
          severity: sev2
          started_at: 2026-01-05T09:00:00Z
          detected_at: 2026-01-05T09:05:00Z
        """,
    )
    with pytest.raises(DataError, match=r"line 1: required key 'resolved_at' is missing") as err:
        read_incidents(path)
    assert "add the key 'resolved_at' (with no value, 'resolved_at:', for an incident" in str(
        err.value
    )
    path.write_text(path.read_text(encoding="utf-8") + "  resolved_at:\n", encoding="utf-8")
    incidents = read_incidents(path)
    assert incidents["resolved_at"].isna().tolist() == [True]


def test_a_yaml_log_of_another_kind_is_named_for_what_it_is(tmp_path):
    # A YAML deploy log given as incidents was told "unknown top-level key 'deploys'. Fix: put
    # the incidents in a list under the single key 'incidents'", as a CSV one is not: renaming
    # the key only led to the next error. The top-level key says what the file is.
    from capacity.calendar import read_calendar
    from capacity.resilience import read_incidents

    path = write(
        tmp_path,
        "deploys.yaml",
        """
        deploys:
          - deploy_id: D-1
            region: eu-west
            service: game
            deployed_at: 2026-01-05T08:00:00Z
        """,
    )
    with pytest.raises(DataError) as err:
        read_incidents(path)
    assert str(err.value) == (
        f"{path}: the top-level key 'deploys' is that of a deploy log, not of an incident log. "
        "Fix: import it with 'capacity deploys import' (read_deploys in Python), or give an "
        "incident log: a list under the key 'incidents'"
    )
    events = write(tmp_path, "calendar.yaml", "events: []\n")
    with pytest.raises(DataError, match=r"'events' is that of a live-ops calendar, not of a dep"):
        read_deploys(events)
    with pytest.raises(DataError, match=r"'deploys' is that of a deploy log, not of a live-ops"):
        read_calendar(path)
    # a key of no known kind is still named as unknown
    other = write(tmp_path, "other.yaml", "foo: []\n")
    with pytest.raises(DataError, match=r"unknown top-level key 'foo'\. Fix: put the deploys"):
        read_deploys(other)
