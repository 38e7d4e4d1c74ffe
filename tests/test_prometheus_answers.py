"""What a real Prometheus answers that a pull must not misread: series of nothing but NaN (a
ratio whose denominator is zero), the API's ``warnings`` (a remote storage that failed, so a
partial result); and what a pull refuses before asking: a label name Prometheus cannot have,
a window of more points per series than a pull takes.

The server is Debian's ``prometheus`` package on a backfilled TSDB, as in
``tests/test_prometheus.py``; one of them reads a remote storage that is down.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from capacity.cli import cli
from capacity.config import PrometheusSource, load_fleet
from capacity.errors import ConfigError
from capacity.prometheus import MAX_PULL_POINTS, check_pull_size, pull
from capacity.store import Store
from tests.conftest import FLEET_YAML
from tests.fake_servers import api_server
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


def test_a_query_of_only_nan_values_is_named_as_such_not_as_one_without_samples(
    prometheus, tmp_path, db
):
    config = _fleet(
        tmp_path, prometheus, {"ccu": GOOD, "cpu_util": "avg by (region, service) (broken_util)"}
    )
    result = _pull(db, config, *_window())
    assert result.exit_code == 0, result.output
    # it said "no samples for cpu_util in that range", which sent the reader to the query's
    # metric name, when Prometheus had returned a sample for every step
    assert "no samples for cpu_util" not in result.stderr
    assert (
        "note: prometheus.queries.cpu_util returned only NaN (not-a-number) values for "
        "eu-west/game, na-east/game in that range, so the store has no cpu_util there (NaN is "
        "a gap, never a zero); if the query is a ratio, its denominator is zero throughout"
    ) in result.stderr
    assert _stored(db, "cpu_util").empty  # gaps, not zeros
    assert len(_stored(db, "ccu")) == 2 * 6 * 12


def test_a_ratio_whose_denominator_is_zero_in_one_region_is_not_said_to_lack_a_numerator(
    prometheus, tmp_path, db
):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "error_rate": RATIO})
    result = _pull(db, config, *_window())
    assert result.exit_code == 0, result.output
    # the advice was to write (numerator or denominator * 0) / denominator, which gives NaN
    # again: the denominator is what is zero
    assert "its numerator has no series there" not in result.stderr
    assert (
        "note: prometheus.queries.error_rate returned only NaN (not-a-number) values for "
        "na-east/game in that range"
    ) in result.stderr
    rates = _stored(db, "error_rate")
    assert set(rates["region"]) == {"eu-west"} and (rates["value"] - 0.01).abs().max() < 1e-9


def test_a_pull_of_only_nan_values_exits_2_saying_so(prometheus, tmp_path, db):
    idle = RATIO.replace("[5m])", '{region="na-east"}[5m])')  # the region without requests
    result = _pull(db, _fleet(tmp_path, prometheus, {"error_rate": idle}), *_window())
    assert result.exit_code == 2, result.output
    # it said no query returned a sample and to check the server and the metrics' names
    assert "check that prometheus.url" not in result.output
    assert (
        "key 'prometheus.queries.error_rate': no query returned a sample that is a number from "
        "2025-11-24 00:00 to 2025-11-24 05:55 UTC at"
    ) in result.output
    assert (
        "prometheus.queries.error_rate returned only NaN (not-a-number) values for na-east/game "
        "in that range; nothing was loaded. Fix: if the query is a ratio, its denominator is zero"
    ) in result.output
    assert not db.exists()


def test_nan_samples_among_numbers_are_gaps_never_zeros(prometheus, tmp_path, db):
    source = PrometheusSource(queries={"cpu_util": "avg by (region, service) (flaky_util)"})
    got = pull(
        source,
        start=START,
        end=START + pd.Timedelta(hours=5),
        step=pd.Timedelta("5min"),
        url=prometheus,
    )
    assert got.only_nan == () and got.empty == ()
    assert got.rows["ts"].min() == START + pd.Timedelta(hours=2)
    assert len(got.rows) == 2 * 37 and set(got.rows["value"]) == {0.5}  # 02:00 to 05:00
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "cpu_util": source.queries["cpu_util"]})
    result = _pull(db, config, *_window())
    assert result.exit_code == 0, result.output
    stored = _stored(db, "cpu_util")
    assert len(stored) == 2 * 4 * 12 and (stored["value"] == 0.5).all()  # 02:00 to 05:55


def test_a_demand_metric_of_only_nan_values_is_a_warning_saying_so(prometheus, tmp_path, db):
    config = _fleet(
        tmp_path, prometheus, {"ccu": "sum by (region, service) (broken_util)", "servers": GOOD}
    )
    result = _pull(db, config, *_window())
    assert result.exit_code == 0, result.output
    assert (
        "warning: prometheus.queries.ccu returned only NaN (not-a-number) values for "
        "eu-west/game, na-east/game in that range, so the store has no ccu, the demand metric, "
        "there"
    ) in result.stderr
    assert "warning: no samples for ccu" not in result.stderr


def test_the_servers_warnings_are_shown_once_each(partial, tmp_path, db):
    # a 1-second step over three hours: two requests per query, four in all, each warned
    config = _fleet(tmp_path, partial, {"ccu": GOOD, "servers": GOOD}, step="1s")
    result = _pull(db, config, *_window(hours=2))
    assert result.exit_code == 0, result.output
    assert "(4 requests)" in result.output
    lines = [line for line in result.stderr.splitlines() if "Prometheus:" in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("warning: Prometheus: remote_read: error sending request: ")
    assert lines[0].endswith(
        "connection refused (prometheus.queries.ccu, servers); what it returned may be incomplete"
    )
    assert len(_stored(db, "ccu")) == 2 * 3 * 3600  # the local samples, loaded


def test_the_servers_warnings_come_before_the_error_of_a_pull_without_samples(
    partial, tmp_path, db
):
    config = _fleet(tmp_path, partial, {"ccu": "sum by (region, service) (no_such_metric)"})
    result = _pull(db, config, *_window())
    assert result.exit_code == 2
    assert result.stderr.index("warning: Prometheus: remote_read: ") < result.stderr.index(
        "error: "
    )
    assert not db.exists()


def test_infos_of_a_newer_server_are_notes(tmp_path, db):
    """Prometheus 2.50 and later add ``infos`` (PromQL hints) beside ``warnings``; the server
    installed here emits neither from PromQL, so a stand-in gives the answer."""
    info = 'PromQL info: metric might not be a counter, name does not end in _total: "players"'

    def answer(query: dict[str, str]) -> tuple[int, dict]:
        start = float(query["start"])
        result = [{"metric": {"region": "eu-west", "service": "game"}, "values": [[start, "5"]]}]
        data = {"resultType": "matrix", "result": result}
        return 200, {"status": "success", "data": data, "infos": [info], "warnings": []}

    with api_server(answer) as url:
        result = _pull(db, _fleet(tmp_path, url, {"ccu": GOOD, "rps": GOOD}), *_window())
    assert result.exit_code == 0, result.output
    assert f"note: Prometheus: {info} (prometheus.queries.ccu, rps)\n" in result.stderr
    assert "warning: Prometheus" not in result.stderr


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


def test_a_pull_of_more_points_than_a_pull_takes_is_refused_before_any_request(
    prometheus, tmp_path, db
):
    # a month at 1 s: 2.5 million points per series, 251 requests per query
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD}, step="1s")
    result = _pull(db, config, "--since", "2025-11-01T00:00Z", "--until", "2025-11-30T00:00Z")
    assert result.exit_code == 2
    assert (
        f"error: {config}: key 'prometheus.step': a pull from 2025-11-01 00:00 to 2025-11-30 "
        "00:59 UTC every 1s is 2,509,200 points per series (251 requests per query), more than "
        "the 1,000,000 a pull takes. Fix: set prometheus.step to 5s or coarser, or pull a "
        "shorter window with --since and --until"
    ) in result.output
    assert not db.exists()
    # before any request: at an address nothing answers, it is still bad input (2), not 4
    dead = _fleet(tmp_path, f"http://127.0.0.1:{free_port()}", {"ccu": GOOD}, step="1s")
    assert _pull(db, dead, "--since", "2025-11-01T00:00Z").exit_code == 2


def test_an_hourly_pull_at_a_fine_step_is_not_refused(prometheus, tmp_path, db):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD}, step="1s")
    first = _pull(db, config, *_window(hours=0))
    assert first.exit_code == 0, first.output
    later = _pull(db, config, "--until", (START + pd.Timedelta(hours=1)).isoformat())
    assert later.exit_code == 0, later.output
    assert "2025-11-24 00:00 to 2025-11-24 01:59 UTC every 1s" in later.output


def test_the_size_limit_is_points_per_series_inclusive():
    source = PrometheusSource(queries={"ccu": GOOD}, step="1s")
    step = pd.Timedelta("1s")
    last = START + (MAX_PULL_POINTS - 1) * step
    check_pull_size(source, start=START, end=last, step=step)
    with pytest.raises(ConfigError, match="is 1,000,001 points per series"):
        check_pull_size(source, start=START, end=last + step, step=step)
    # a year at 1 minute fits: 525,601 points
    year = PrometheusSource(queries={"ccu": GOOD}, step="1m")
    check_pull_size(
        year, start=START, end=START + pd.Timedelta(days=365), step=pd.Timedelta("1min")
    )
