"""A region or service named ``all`` is refused where the fleet file loads: calendars (in any
case) and ``--regions`` read ``all`` as every region, and kpis names its overall rows so."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.config import load_fleet
from capacity.errors import ConfigError

FLEET = """\
version: 1
regions:
  north: {timezone: UTC}
  south: {timezone: UTC}
services:
  game: {demand_metric: ccu, server_type: std, slo: {latency_p99_ms: 100, availability: 0.999}}
  voice: {demand_metric: ccu, server_type: std, slo: {latency_p99_ms: 60, availability: 0.999}}
server_types:
  std: {safe_load_hint: 200, cost_per_hour: 1, boot_lead_time_minutes: 5}
current_servers: {}
failover: {}
"""


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("  south: {timezone: UTC}", "  all: {timezone: UTC}", "regions.all"),
        ("  south: {timezone: UTC}", "  ALL: {timezone: UTC}", "regions.ALL"),
        ("  voice: {demand_metric", "  All: {demand_metric", "services.All"),
    ],
)
def test_a_region_or_service_named_all_is_refused_on_load(tmp_path, old, new, key):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_fleet(path)
    message = str(caught.value)
    what = key.split(".")[0][:-1]
    name = key.split(".")[1]
    assert message.startswith(f"{path}: key '{key}': {name!r} cannot name a {what}: ")
    assert f"Fix: rename that {what}" in message
    # and on the command line, before anything is read: exit 2
    done = _run("status", "--db", str(tmp_path / "s.duckdb"), "--config", str(path))
    assert done.exit_code == 2 and f"key '{key}'" in done.stderr
