"""What a pull refuses before asking a real Prometheus: a label name Prometheus cannot have.

The server is Debian's ``prometheus`` package on a backfilled TSDB, as in
``tests/test_prometheus.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from capacity.cli import cli
from capacity.config import load_fleet
from capacity.errors import ConfigError
from capacity.store import Store
from tests.conftest import FLEET_YAML
from tests.prometheus_server import free_port, serving_samples

START = pd.Timestamp("2025-11-24T00:00Z")
#: Six hours of five-minute samples.
STEPS = 6 * 12
GOOD = "sum by (region, service) (lifeverse_players)"
#: Errors over requests: eu-west serves requests, na-east none at all (0/0 is NaN there).
RATIO = (
    "sum by (region, service) (rate(lifeverse_errors_total[5m])) / "
    "sum by (region, service) (rate(lifeverse_requests_total[5m]))"
)


def _openmetrics() -> str:
    lines = [
        "# TYPE lifeverse_players gauge",
        "# TYPE lifeverse_requests counter",
        "# TYPE lifeverse_errors counter",
        "# TYPE broken_util gauge",
        "# TYPE flaky_util gauge",
    ]
    for i in range(STEPS + 1):
        t = int((START + i * pd.Timedelta("5min")).timestamp())
        for region, busy in (("eu-west", 1), ("na-east", 0)):
            labels = f'region="{region}",service="game"'
            lines.append(f"lifeverse_players{{{labels}}} 1000 {t}")
            lines.append(f"lifeverse_requests_total{{{labels}}} {busy * 3000 * i} {t}")
            lines.append(f"lifeverse_errors_total{{{labels}}} {busy * 30 * i} {t}")
            lines.append(f"broken_util{{{labels}}} NaN {t}")  # an exporter that reports NaN
            # NaN for the first two hours, then numbers
            lines.append(f"flaky_util{{{labels}}} {'NaN' if i < 24 else '0.5'} {t}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real Prometheus serving the samples above."""
    with serving_samples(tmp_path_factory.mktemp("prometheus-answers"), _openmetrics()) as url:
        yield url


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same samples from a server that also reads a remote storage which is down: every
    answer is a success, the local samples, with a warning."""
    remote = f"http://127.0.0.1:{free_port()}/api/v1/read"
    config = f"scrape_configs: []\nremote_read:\n  - url: {remote}\n    read_recent: true\n"
    folder = tmp_path_factory.mktemp("prometheus-partial")
    with serving_samples(folder, _openmetrics(), config=config) as url:
        yield url


def _fleet(tmp_path: Path, url: str, queries: dict[str, str], **extra: object) -> Path:
    data = yaml.safe_load(FLEET_YAML)
    data["prometheus"] = {"url": url, "queries": queries, **extra}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _pull(db: Path, config: Path, *args: str):
    return CliRunner().invoke(cli, ["pull", "--db", str(db), "--config", str(config), *args])


def _window(hours: int = 5) -> list[str]:
    return [
        "--since",
        START.isoformat(),
        "--until",
        (START + pd.Timedelta(hours=hours)).isoformat(),
    ]


def _stored(db: Path, metric: str) -> pd.DataFrame:
    with Store(db, read_only=True) as store:
        return store.con.execute(
            "SELECT ts, region, service, value FROM telemetry WHERE metric = ? ORDER BY ALL",
            [metric],
        ).df()


@pytest.mark.parametrize(
    ("key", "value", "why", "like"),
    [
        ("region_label", "region-name", "it has '-'", "region_name"),
        ("service_label", "service.name", "it has '.'", "service_name"),
        ("region_label", "1zone", "it starts with the digit '1'", "_1zone"),
        ("service_label", "sérvice", "it has 'é'", "s_rvice"),
    ],
)
def test_a_label_name_prometheus_cannot_have_is_refused_when_the_file_is_read(
    prometheus, tmp_path, db, key, value, why, like
):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD}, **{key: value})
    result = _pull(db, config, *_window())
    assert result.exit_code == 2
    # it had been read, and the pull advised 'sum by (region-name, service) (...)', which
    # Prometheus refuses
    assert "sum by" not in result.output
    assert (
        f"error: {config}: key 'prometheus.{key}': {value!r} is not a Prometheus label name: "
        f"{why}, where a label name is letters, digits and underscores"
    ) in result.output
    assert "Fix: write the label's name as the series carry it in Prometheus" in result.output
    assert f"e.g. {like} " in result.output
    assert not db.exists()
    with pytest.raises(ConfigError, match=f"key 'prometheus.{key}'"):
        load_fleet(config)
