"""Shared fixtures: small files written in temporary folders, real DuckDB stores."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FLEET_YAML = """\
version: 1
regions:
  eu-west: {timezone: Europe/Berlin, holidays_country: DE}
  na-east: {timezone: America/New_York, holidays_country: US}
services:
  game:
    demand_metric: ccu
    server_type: game-std
    slo: {latency_p99_ms: 120, availability: 0.999}
server_types:
  game-std:
    safe_load_hint: 400
    cost_per_hour: 0.5
    boot_lead_time_minutes: 10
    procurement_lead_time_days: 7
current_servers:
  eu-west: {game: 10}
  na-east: {game: 12}
redundancy: {k: 1, min_servers: 2}
failover:
  eu-west: {na-east: 1.0}
  na-east: {eu-west: 1.0}
"""

HEADER = "ts,region,service,metric,value\n"


def pytest_configure(config: pytest.Config) -> None:
    """Turn the forecast cache off for the whole run, before any test module reads the
    environment: each test fits what it forecasts, and nothing is written to (or read from)
    the user's own cache. The cache's tests, and the plan tests' modules (whose plans share
    their fits), turn it on in a folder of their own."""
    os.environ["CAPACITY_CACHE_DIR"] = "off"


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` to a file called ``name`` in the test's folder and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Path of a store file that does not exist yet."""
    return tmp_path / "store" / "capacity.duckdb"


@pytest.fixture
def fleet_file(write: Callable[[str, str], Path]) -> Path:
    """A small valid fleet YAML with two regions and one service."""
    return write("fleet.yaml", FLEET_YAML)


@pytest.fixture(scope="module")
def shared_fits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One forecast cache for a whole test module (``pytest.mark.usefixtures("shared_fits")``):
    a plan of inputs an earlier test of the module already planned takes that test's fits
    instead of fitting them again. A test about cold fits turns the cache off for itself."""
    folder = tmp_path_factory.mktemp("fits")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CAPACITY_CACHE_DIR", str(folder))
        yield folder
