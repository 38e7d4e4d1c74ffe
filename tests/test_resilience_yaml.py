"""YAML logs and fleet files that share fields through merge keys (``<<: *base``).

YAML copies the merged keys into the mapping beside the ones written there, which override
them; a repeated-key check that looked at the built tree took an override for a key written
twice and refused a valid file.
"""

from __future__ import annotations

import textwrap
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
