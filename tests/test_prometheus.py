"""`capacity pull` against a real Prometheus server, started here on a backfilled TSDB.

The server is Debian's ``prometheus`` package (``.ci/run`` installs it). Three days of
five-minute samples are written as OpenMetrics text, turned into TSDB blocks by ``promtool``,
and served on a free loopback port; every test queries it over HTTP.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests
import yaml
from click.testing import CliRunner

from capacity.cli import cli
from capacity.config import PrometheusSource
from capacity.errors import ConfigError, DataError, ParameterError
from capacity.prometheus import first_pulls, pull, pull_window, query_range
from capacity.store import Store
from tests.conftest import FLEET_YAML
from tests.fake_servers import Answers as _Fake
from tests.fake_servers import api_server as _fake
from tests.prometheus_server import (
    backfill,
    binaries,
    free_port,
    running,
    self_signed,
    serve,
    serving_samples,
)

START = pd.Timestamp("2025-11-24T00:00Z")
STEPS = 3 * 24 * 12  # three days of five-minute samples
END = START + STEPS * pd.Timedelta("5min")
GOOD = "sum by (region, service) (lifeverse_players)"
#: Region, status code and requests a minute of the counter lifeverse_requests_total.
REQUESTS = (("eu-west", "200", 990), ("eu-west", "503", 10), ("na-east", "200", 3000))


def _players(region: str, instance: str, i: int) -> float:
    """The samples: eu-west's players are split over two instances, na-east's run on one."""
    wave = math.sin(2 * math.pi * i / 288)
    if region == "eu-west":
        return (600 + 300 * wave) if instance == "a" else (400 + 200 * wave)
    return 1200 + 500 * wave


def _expected_players(region: str, i: int) -> float:
    """What ``sum by (region, service)`` gives."""
    return (1000 if region == "eu-west" else 1200) + 500 * math.sin(2 * math.pi * i / 288)


def _openmetrics() -> str:
    lines = ["# TYPE lifeverse_players gauge"]
    for region, instance in (("eu-west", "a"), ("eu-west", "b"), ("na-east", "a")):
        for i in range(STEPS + 1):
            t = int(START.timestamp()) + 300 * i
            value = _players(region, instance, i)
            lines.append(
                f'lifeverse_players{{region="{region}",service="game",instance="{instance}"}} '
                f"{value:.6f} {t}"
            )
    lines.append("# TYPE lifeverse_errors_ratio gauge")
    for i in range(STEPS + 1):  # NaN every hour on the hour: no requests, no ratio
        t = int(START.timestamp()) + 300 * i
        value = "NaN" if i % 12 == 0 else "0.01"
        lines.append(f'lifeverse_errors_ratio{{region="eu-west",service="game"}} {value} {t}')
    lines.append("# TYPE lifeverse_mars_players gauge")
    lines.append("# TYPE lifeverse_drift gauge")
    for i in range(STEPS + 1):
        t = int(START.timestamp()) + 300 * i
        lines.append(f'lifeverse_mars_players{{region="mars",service="game"}} 5 {t}')
        lines.append(f'lifeverse_drift{{region="na-east",service="game"}} {100 - i} {t}')
    # Requests every minute for two hours: eu-west answers some with 503, na-east never fails.
    lines.append("# TYPE lifeverse_requests counter")
    for i in range(121):
        t = int(START.timestamp()) + 60 * i
        for region, code, per_minute in REQUESTS:
            lines.append(
                f'lifeverse_requests_total{{region="{region}",service="game",code="{code}"}} '
                f"{per_minute * i} {t}"
            )
    # An idle CPU's seconds, scraped every minute for two hours; every other reading was taken
    # 0.4 s after its scrape's timestamp, as happens, so rate() over it exceeds 1 at times.
    lines.append("# TYPE node_cpu_seconds counter")
    for i in range(121):
        t = int(START.timestamp()) + 60 * i
        for region in ("eu-west", "na-east"):
            lines.append(
                f'node_cpu_seconds_total{{region="{region}",service="game",cpu="0",mode="idle"}} '
                f"{60 * i + 0.4 * (i % 2):.1f} {t}"
            )
    # A gauge of requests a second for two hours, of game and of chat (planned on rps, no ccu).
    lines.append("# TYPE lifeverse_rps gauge")
    for i in range(25):
        t = int(START.timestamp()) + 300 * i
        for region in ("eu-west", "na-east"):
            for service in ("game", "chat"):
                lines.append(f'lifeverse_rps{{region="{region}",service="{service}"}} 50 {t}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real Prometheus serving the samples above."""
    with serving_samples(tmp_path_factory.mktemp("prometheus"), _openmetrics()) as url:
        yield url


def _fleet(
    tmp_path: Path,
    url: str,
    queries: dict[str, str],
    *,
    edit: Callable[[dict], None] | None = None,
    **extra: object,
) -> Path:
    data = yaml.safe_load(FLEET_YAML)
    if edit is not None:
        edit(data)
    data["prometheus"] = {"url": url, "queries": queries, **extra}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _pull(db: Path, config: Path, *args: str) -> object:
    return CliRunner().invoke(
        cli, ["pull", "--db", str(db), "--config", str(config), *args], catch_exceptions=False
    )


def _window() -> list[str]:
    return ["--since", START.isoformat(), "--until", END.isoformat()]


def _stored(db: Path) -> pd.DataFrame:
    with Store(db, read_only=True) as store:
        return store.con.execute(
            "SELECT ts, region, service, metric, value FROM telemetry ORDER BY ALL"
        ).df()


def test_a_pull_stores_the_sum_of_each_region_and_service(prometheus, tmp_path, db):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD})
    result = _pull(db, config, *_window())
    assert result.exit_code == 0, result.output
    # --until 00:00 is taken on to the last step of its hour: a load replaces whole hours
    assert "2025-11-24 00:00 to 2025-11-27 00:55 UTC every 5m (1 request)" in result.output
    everything = _stored(db)
    # past END, only what Prometheus's lookback repeats of the last sample (its version decides)
    after = everything[everything.ts > END]
    assert (after.ts <= END + pd.Timedelta("5min")).all()
    stored = everything[everything.ts <= END]
    assert len(stored) == 2 * (STEPS + 1)
    for region in ("eu-west", "na-east"):
        mine = stored[stored.region == region].reset_index(drop=True)
        expected = [_expected_players(region, i) for i in range(STEPS + 1)]
        assert mine.value.to_numpy() == pytest.approx(expected, abs=1e-5)
        assert mine.ts.iloc[0] == START and mine.ts.iloc[-1] == END
        repeated = after[after.region == region].value
        assert repeated.to_numpy() == pytest.approx([expected[-1]] * len(repeated), abs=1e-5)
    with Store(db, read_only=True) as store:
        hourly = store.series(region="eu-west", metric="ccu")
    first_hour = sum(_expected_players("eu-west", i) for i in range(12)) / 12
    assert hourly.value.iloc[0] == pytest.approx(first_hour, abs=1e-5)


def test_the_next_pull_starts_at_the_newest_stored_row(prometheus, tmp_path, db):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD})
    first = _pull(db, config, "--since", START.isoformat(), "--until", "2025-11-25T23:55Z")
    assert first.exit_code == 0, first.output
    second = _pull(db, config, "--until", "2025-11-26T23:55Z")
    assert second.exit_code == 0, second.output
    # the overlap is the newest stored hour, unchanged; a day of new samples is inserted
    assert "2025-11-25 23:00 to 2025-11-26 23:55 UTC" in second.output
    assert f"{2 * 300:,} rows read, {2 * 288:,} inserted, 0 updated, 24 unchanged" in second.output
    again = _pull(db, config, "--until", "2025-11-26T23:55Z")
    assert again.exit_code == 0, again.output
    assert "2025-11-26 23:00 to 2025-11-26 23:55 UTC" in again.output
    assert "24 rows read, 0 inserted, 0 updated, 24 unchanged" in again.output
    assert len(_stored(db)) == 2 * STEPS


def test_a_pull_until_midnight_keeps_the_stored_rest_of_that_hour(prometheus, tmp_path, db):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD})
    assert _pull(db, config, *_window()).exit_code == 0
    before = _stored(db)
    # pull one day again, --until at midnight: a load replaces the hours it holds whole, so
    # a pull that stopped at 00:00 would delete the hour's eleven later samples
    day = _pull(db, config, "--since", "2025-11-25T00:00Z", "--until", "2025-11-26T00:00Z")
    assert day.exit_code == 0, day.output
    assert "2025-11-25 00:00 to 2025-11-26 00:55 UTC" in day.output
    assert "0 inserted, 0 updated" in day.output and "replaced" not in day.output
    pd.testing.assert_frame_equal(_stored(db), before)


def test_an_until_inside_the_stored_telemetry_pulls_its_hour_whole(prometheus, tmp_path, db):
    """Without --since, a pull starts at the newest stored hour, or at the end when that is
    earlier: it had pulled the end's last step alone, and the load, which replaces the hours
    it holds whole, deleted that hour's eleven other stored samples."""
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD})
    assert _pull(db, config, *_window()).exit_code == 0
    before = _stored(db)
    again = _pull(db, config, "--until", "2025-11-25T10:30Z")
    assert again.exit_code == 0, again.output
    assert "2025-11-25 10:00 to 2025-11-25 10:55 UTC" in again.output
    assert "0 inserted, 0 updated, 24 unchanged" in again.output
    assert "replaced" not in again.output
    pd.testing.assert_frame_equal(_stored(db), before)


def test_a_metric_that_never_has_samples_does_not_take_the_others_back_112_days(
    prometheus, tmp_path, db
):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD})
    assert _pull(db, config, *_window()).exit_code == 0
    # rps's query never returns anything, so rps never has rows: ccu is pulled from its
    # newest stored hour all the same, and only rps goes back 112 days
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "rps": "sum by (region, service) (x)"})
    again = _pull(db, config, "--until", END.isoformat())
    assert again.exit_code == 0, again.output
    assert (
        "2025-11-27 00:00 to 2025-11-27 00:55 UTC every 5m (5 requests); rps, with nothing "
        "stored yet, from 2025-08-07 00:00"
    ) in again.output
    # the last stored hour of ccu, not three days of it, is read again
    assert "4 rows read, 0 inserted, 0 updated, 4 unchanged" in again.output  # END, +5 min


def test_long_ranges_are_split_into_requests_without_losing_or_repeating_a_point(prometheus):
    window = dict(start=START, end=END, step=pd.Timedelta("5min"))
    whole, one = query_range(prometheus, GOOD, **window)
    split, several = query_range(prometheus, GOOD, **window, max_points=96)
    assert (one, several) == (1, 10)  # 865 points in 96s: 9 full requests and one of 1
    key = lambda s: s["metric"]["region"]  # noqa: E731
    assert sorted(whole, key=key) == sorted(split, key=key)


def test_nan_samples_are_gaps_not_values(prometheus):
    source = PrometheusSource(
        url=prometheus,
        queries={"error_rate": "avg by (region, service) (lifeverse_errors_ratio)"},
    )
    got = pull(source, start=START, end=END, step=pd.Timedelta("5min"))
    assert len(got.rows) == STEPS + 1 - (STEPS // 12 + 1)
    assert not (got.rows.ts.dt.minute == 0).any()
    assert got.rows.value.eq(0.01).all()


def test_a_query_that_matches_nothing_is_noted_not_fatal(prometheus, tmp_path, db):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "rps": "sum by (region, service) (x)"})
    result = CliRunner().invoke(cli, ["pull", "--db", str(db), "--config", str(config), *_window()])
    assert result.exit_code == 0, result.output
    assert "note: no samples for rps in that range" in result.stderr


def test_a_pull_that_gets_no_sample_at_all_exits_2_and_loads_nothing(prometheus, tmp_path, db):
    # the wrong server or renamed metrics: with `pull && plan`, exit 0 let the plan go ahead
    nothing = {"ccu": "sum by (region, service) (x)", "rps": "sum by (region, service) (y)"}
    config = _fleet(tmp_path, prometheus, nothing)
    result = _pull(db, config, *_window())
    assert result.exit_code == 2, result.output
    assert (
        f"error: {config}: key 'prometheus.queries': no query returned a sample from "
        f"2025-11-24 00:00 to 2025-11-27 00:55 UTC at {prometheus} (ccu, rps); nothing was "
        "loaded. Fix: check that prometheus.url (or --url) is the server that holds the "
        "telemetry"
    ) in result.output
    assert not db.exists()
    # a store that has rows is left as it was
    assert _pull(db, _fleet(tmp_path, prometheus, {"ccu": GOOD}), *_window()).exit_code == 0
    before = _stored(db)
    with Store(db, read_only=True) as store:
        loads = store.con.execute("SELECT count(*) FROM loads").fetchall()
    assert _pull(db, _fleet(tmp_path, prometheus, nothing)).exit_code == 2
    pd.testing.assert_frame_equal(_stored(db), before)
    with Store(db, read_only=True) as store:
        assert store.con.execute("SELECT count(*) FROM loads").fetchall() == loads


@pytest.mark.parametrize(
    ("query", "named_by", "message"),
    [
        ("sum by (region (lifeverse_players)", "key", "Prometheus refused the query: 1:16: parse"),
        (
            "lifeverse_players",
            "key",
            "more than one series for region 'eu-west', service 'game' (they differ in instance)",
        ),
        ("sum(lifeverse_players)", "key", "has no 'region' or 'service' label"),
        (
            "sum by (region, service) (lifeverse_mars_players)",
            "key",
            "label 'region' has the value \"mars\", which the fleet file does not name as a region",
        ),
        (
            "sum by (region, service) (lifeverse_drift)",
            "sample",
            "ccu of na-east/game at 2025-11-24T08:25:00+00:00: value of metric 'ccu' is -1, "
            "but ccu is a count",
        ),
    ],
)
def test_a_bad_query_or_sample_is_refused_and_nothing_loads(
    prometheus, tmp_path, db, query, named_by, message
):
    config = _fleet(tmp_path, prometheus, {"rps": GOOD, "ccu": query})
    result = _pull(db, config, *_window())
    assert result.exit_code == 2
    # a query's fault names its key in the fleet file; a sample's, its series and time
    if named_by == "key":
        assert f"error: {config}: key 'prometheus.queries.ccu': " in result.output
    else:
        assert f"error: prometheus {prometheus}: {message}" in result.output
        assert "Fix: correct that metric's query under prometheus.queries" in result.output
    assert message in result.output
    assert not db.exists() or _stored(db).empty  # the good rps rows were not kept either


@pytest.fixture(scope="module")
def prometheus_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The https URL of a real Prometheus with a self-signed certificate, and the certificate."""
    found = binaries()
    if found is None:
        pytest.skip("prometheus and promtool are not installed (Debian: apt install prometheus)")
    folder = tmp_path_factory.mktemp("prometheus-tls")
    tls = self_signed(folder)
    if tls is None:
        pytest.skip("openssl is not installed")
    t = int(START.timestamp())
    samples = [
        f'lifeverse_players{{region="eu-west",service="game"}} 7 {t + 300 * i}' for i in range(13)
    ]
    text = "\n".join(["# TYPE lifeverse_players gauge", *samples, "# EOF"]) + "\n"
    (folder / "samples.om").write_text(text, encoding="utf-8")
    backfill(folder / "samples.om", folder / "tsdb", found[1])
    with serve(folder / "tsdb", found[0], tls=tls) as url:
        yield url, tls[0]


def test_an_https_server_with_an_untrusted_certificate_is_a_url_problem_not_an_outage(
    prometheus_tls, prometheus, tmp_path, db, monkeypatch
):
    url, cert = prometheus_tls
    hour = ["--since", START.isoformat(), "--until", START.isoformat()]
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    result = _pull(db, _fleet(tmp_path, url, {"ccu": GOOD}), *hour)
    assert result.exit_code == 2, result.output
    assert (
        f"key 'prometheus.url' (or --url): Prometheus at {url} has a TLS certificate that "
        "cannot be verified (certificate verify failed: self-signed certificate)"
    ) in result.output
    assert "set REQUESTS_CA_BUNDLE" in result.output
    # trusted as the message says, the same pull loads
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    trusted = _pull(db, _fleet(tmp_path, url, {"ccu": GOOD}), *hour)
    assert trusted.exit_code == 0, trusted.output
    assert "12 rows read, 12 inserted" in trusted.output
    # the scheme that the server does not speak, either way round: fix the URL, not "later"
    plain = prometheus.replace("http://", "https://")
    result = _pull(db, _fleet(tmp_path, plain, {"ccu": GOOD}), *hour)
    assert result.exit_code == 2, result.output
    assert f"{plain} does not answer TLS: the server speaks plain HTTP" in result.output
    assert "Fix: write the URL with http://" in result.output
    result = _pull(db, _fleet(tmp_path, url.replace("https://", "http://"), {"ccu": GOOD}), *hour)
    assert result.exit_code == 2, result.output
    assert "answered HTTP 400: the server speaks https. Fix: write the URL with https://" in (
        result.output
    )


def test_an_unreachable_server_exits_4_naming_the_url(tmp_path, db):
    url = f"http://127.0.0.1:{free_port()}"
    config = _fleet(tmp_path, url, {"ccu": GOOD})
    result = _pull(db, config, *_window())
    assert result.exit_code == 4
    assert f"cannot reach Prometheus at {url}: [Errno 111] Connection refused" in result.output


def test_a_server_that_goes_away_during_the_pull_is_a_lost_connection_not_a_bad_url(tmp_path, db):
    found = binaries()
    if found is None:
        pytest.skip("prometheus and promtool are not installed (Debian: apt install prometheus)")
    (tmp_path / "samples.om").write_text(_openmetrics(), encoding="utf-8")
    backfill(tmp_path / "samples.om", tmp_path / "tsdb", found[1])
    with running(tmp_path / "tsdb", found[0]) as (url, process):
        # a step of 1 s: 26 requests a query over the three days; the server is killed once
        # it has answered the first
        config = _fleet(tmp_path, url, {"ccu": GOOD, "rps": GOOD}, step="1s")
        answered = re.compile(
            r'prometheus_http_requests_total\{code="200",handler="/api/v1/query_range"\} [1-9]'
        )

        def kill_after_an_answer() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if answered.search(requests.get(f"{url}/metrics", timeout=5).text):
                    process.kill()
                    return
                time.sleep(0.005)

        killer = threading.Thread(target=kill_after_an_answer)
        killer.start()
        result = _pull(db, config, *_window())
        killer.join()
    assert result.exit_code == 4, result.output
    assert f"error: lost the connection to Prometheus at {url} during the pull, after it had " in (
        result.output
    )
    assert "nothing was stored. Try again later" in result.output
    assert "cannot reach" not in result.output and "check the URL" not in result.output
    assert not db.exists()


def _range_queries_answered(url: str) -> int:
    """How many query_range requests the server has answered, from its own /metrics."""
    found = re.search(
        r'prometheus_http_requests_total\{code="200",handler="/api/v1/query_range"\} (\d+)',
        requests.get(f"{url}/metrics", timeout=5).text,
    )
    return int(found.group(1)) if found else 0


def test_sigterm_during_a_pull_prints_capacity_line_alone_and_keeps_the_store(
    prometheus, tmp_path, db
):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD})
    assert (
        _pull(db, config, "--since", START.isoformat(), "--until", START.isoformat()).exit_code == 0
    )
    before = _stored(db)
    # a step of 1 s: 26 requests over the three days; SIGTERM once the first is answered
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "rps": GOOD}, step="1s")
    seen = _range_queries_answered(prometheus)
    command = [sys.executable, "-m", "capacity", "pull", "--db", str(db), "--config", str(config)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    run = subprocess.Popen(
        [*command, *_window()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while _range_queries_answered(prometheus) == seen and time.monotonic() < deadline:
            assert run.poll() is None, run.communicate()
            time.sleep(0.005)
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 143, err
    # only capacity's line: click's "Aborted!" (for Ctrl-C) said the opposite of "stopped"
    assert err.decode() == (
        "capacity: stopped by SIGTERM (exit 143); nothing unfinished was committed or published\n"
    )
    pd.testing.assert_frame_equal(_stored(db), before)


def test_a_url_that_is_not_a_prometheus_api_names_the_url_key(prometheus, tmp_path, db):
    config = _fleet(tmp_path, prometheus + "/api/v1", {"ccu": GOOD})
    result = _pull(db, config, *_window())
    assert result.exit_code == 2
    assert "key 'prometheus.url'" in result.output and "answered HTTP 404" in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("prometheus:9090", "The 'url' parameter must start with http:// or https://"),
        ("http://127.0.0.1:9?x=1", "The 'url' parameter must have no query string or fragment"),
        ("http://127.0.0.1:9/#a", "The 'url' parameter must have no query string or fragment"),
        ("http://127.0.0.1:abc", "The 'url' parameter must have a port from 1 to 65535"),
        ("http://127.0.0.1:99999", "The 'url' parameter must have a port from 1 to 65535"),
        ("http://", "The 'url' parameter must name the server's host"),
        (" http://127.0.0.1:9", "The 'url' parameter must start with http://"),
        ("http://127.0.0.1:9 ", "The 'url' parameter must have no spaces"),
        # urllib raised its own ValueError for these: a traceback, exit 1
        ("http://[::1", "The 'url' parameter must have a host name or address"),
        ("http://[prometheus]:9090", "an IPv6 address in brackets (http://[::1]:9090)"),
    ],
)
def test_a_malformed_url_is_bad_input_not_an_outage(tmp_path, db, url, message):
    config = _fleet(tmp_path, "http://127.0.0.1:9", {"ccu": GOOD})
    result = _pull(db, config, "--url", url, *_window())
    assert result.exit_code == 2
    assert message in result.output


def test_a_fleet_file_without_a_prometheus_section_is_refused(fleet_file, db):
    result = _pull(db, fleet_file)
    assert result.exit_code == 2
    assert "has no 'prometheus' section" in result.output


def test_the_window_follows_the_store_and_refuses_a_backwards_range():
    source = PrometheusSource(url="http://x", queries={"ccu": "a", "rps": "b"}, step="1h")
    now = pd.Timestamp("2026-11-27T07:40Z")
    # the metrics with rows set the start; one with none (rps) goes back on its own
    first = pull_window(source, newest={"ccu": now}, now=now)
    assert first[:2] == (pd.Timestamp("2026-11-27T07:00Z"), pd.Timestamp("2026-11-27T07:00Z"))
    assert first_pulls(source, newest={"ccu": now}, start=first[0], end=first[1]) == {
        "rps": pd.Timestamp("2026-08-07T07:00Z")
    }
    nothing = pull_window(source, newest={}, now=now)
    assert nothing[:2] == (pd.Timestamp("2026-08-07T07:00Z"), pd.Timestamp("2026-11-27T07:00Z"))
    assert first_pulls(source, newest={}, start=nothing[0], end=nothing[1]) == {}
    # a first pull starts on the hour whatever the step, as it replaces the hours it holds
    fine = source.model_copy(update={"step": "5m"})
    assert pull_window(fine, newest={}, now=now)[:2] == (
        pd.Timestamp("2026-08-07T07:00Z"),
        pd.Timestamp("2026-11-27T07:40Z"),
    )
    # a given end is taken on to the last step of its hour, or to now within the current one
    assert pull_window(fine, newest={}, end="2026-11-01T00:00Z", now=now)[1] == pd.Timestamp(
        "2026-11-01T00:55Z"
    )
    assert pull_window(fine, newest={}, end="2026-11-27T07:05Z", now=now)[1] == now
    # an end after now is now: Prometheus would repeat its newest samples past now
    assert pull_window(fine, newest={}, end="2026-12-01T10:20Z", now=now)[1] == now
    assert pull_window(fine, newest={}, start="2026-11-27", end="2027-01-01", now=now)[:2] == (
        pd.Timestamp("2026-11-27T00:00Z"),
        now,
    )
    with pytest.raises(ParameterError, match="'since' parameter must not be after now"):
        pull_window(fine, newest={}, start="2026-12-01", end="2026-12-02", now=now)
    # a typo or a placeholder: 0001-01-01 at 5m was 63,933 requests per query
    with pytest.raises(ParameterError, match="'since' parameter must be 2000-01-01 or later"):
        pull_window(fine, newest={}, start="0001-01-01", now=now)
    assert pull_window(fine, newest={}, start="2000-01-01", now=now)[0] == pd.Timestamp(
        "2000-01-01T00:00Z"
    )
    newest = {"ccu": pd.Timestamp("2026-11-20T10:30Z"), "rps": pd.Timestamp("2026-11-25T00:00Z")}
    # from the start of the oldest newest hour: it is pulled again whole, as a load replaces
    # the hours it holds
    assert pull_window(source, newest=newest, now=now)[0] == pd.Timestamp("2026-11-20T10:00Z")
    later = {"ccu": now, "rps": now}
    assert pull_window(source, newest=later, end="2026-11-01")[:2] == (
        pd.Timestamp("2026-11-01T00:00Z"),
        pd.Timestamp("2026-11-01T00:00Z"),
    )
    one = pull_window(source, newest={}, start="2026-11-01T00:30Z", end="2026-11-01T01:00Z")
    assert one[:2] == (pd.Timestamp("2026-11-01T00:00Z"), pd.Timestamp("2026-11-01T01:00Z"))
    with pytest.raises(ParameterError, match="'since' parameter must not be after 'until'"):
        pull_window(source, newest={}, start="2026-11-02", end="2026-11-01")


def test_a_window_that_would_start_after_now_names_the_future_rows():
    source = PrometheusSource(url="http://x", queries={"ccu": "a", "rps": "b"}, step="1h")
    now = pd.Timestamp("2026-11-27T07:40Z")
    future = {"ccu": pd.Timestamp("2027-01-05T10:00Z"), "rps": pd.Timestamp("2027-01-02T00:00Z")}
    with pytest.raises(DataError) as caught:
        pull_window(source, newest=future, now=now)
    message = str(caught.value)
    assert "dated after now (2026-11-27T07:40:00+00:00): rps at 2027-01-02T00:00:00+00:00, " in (
        message
    )
    assert "ccu at 2027-01-05T10:00:00+00:00" in message
    assert "pass --since and --until" in message and "DELETE FROM telemetry" in message
    # one metric up to date is enough to start the pull where it ends
    mixed = {**future, "rps": pd.Timestamp("2026-11-26T00:00Z")}
    assert pull_window(source, newest=mixed, now=now)[0] == pd.Timestamp("2026-11-26T00:00Z")
    # explicit bounds are taken as given
    assert pull_window(source, newest=future, start="2026-11-20", now=now)[:2] == (
        pd.Timestamp("2026-11-20T00:00Z"),
        pd.Timestamp("2026-11-27T07:00Z"),
    )


def test_a_pull_after_a_future_dated_row_is_refused_naming_it(prometheus, tmp_path, db):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD})
    assert _pull(db, config, *_window()).exit_code == 0
    stamp = pd.Timestamp.now("UTC").floor("h") + pd.Timedelta(days=400)
    # a load refuses such a row now; a store loaded before it did, or written to directly,
    # may still hold one
    with Store(db) as store:
        store.con.execute(
            "INSERT INTO telemetry VALUES (?, 'eu-west', 'game', 'ccu', 5.0, "
            "(SELECT max(load_id) FROM telemetry))",
            [stamp],
        )
    result = _pull(db, config)
    assert result.exit_code == 2
    assert "the newest stored row is dated after now (" in result.output
    assert f"ccu at {stamp.isoformat()}" in result.output
    # a range given explicitly still pulls
    assert _pull(db, config, *_window()).exit_code == 0


@pytest.mark.parametrize("password", ["s3/cret", "s3?cret", "s3#cret", "s3@/cret"])
def test_a_password_with_a_reserved_character_is_refused_and_never_shown(tmp_path, db, password):
    # each was shown in full ('Got http://admin:s3/cret@127.0.0.1:9'): the redaction stopped
    # at the '/', '?' or '#' that ends a URL's authority
    config = _fleet(tmp_path, "http://127.0.0.1:9", {"ccu": GOOD})
    result = _pull(db, config, "--url", f"http://admin:{password}@127.0.0.1:9", *_window())
    assert result.exit_code == 2
    assert "percent-encoded (%2F, %3F, %23)" in result.output
    assert "cret" not in result.output and "'http://***@127.0.0.1:9'" in result.output
    section = {"url": f"http://admin:{password}@127.0.0.1:9", "queries": {"ccu": GOOD}}
    data = {**yaml.safe_load(FLEET_YAML), "prometheus": section}
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    result = _pull(db, tmp_path / "fleet.yaml", *_window())
    assert result.exit_code == 2 and "key 'prometheus.url'" in result.output
    assert "cret" not in result.output


def test_a_since_before_2000_is_refused_before_any_request(tmp_path, db):
    config = _fleet(tmp_path, "http://127.0.0.1:9", {"ccu": GOOD})  # nothing listens there
    result = _pull(db, config, "--since", "0026-11-20")
    assert result.exit_code == 2
    assert "The 'since' parameter must be 2000-01-01 or later" in result.output
    assert "0026-11-20T00:00:00" in result.output and not db.exists()


def test_an_until_after_now_stores_nothing_dated_in_the_future(tmp_path, db):
    """Prometheus answers an instant after its newest sample with that sample for 5 minutes
    (its lookback delta): a pull to a later --until stored those repeats dated in the future,
    and the next hourly pull then refused to start from them (exit 2)."""
    now = pd.Timestamp.now("UTC").floor("s")
    first = (now - pd.Timedelta(hours=2)).floor("h")
    lines = ["# TYPE lifeverse_players gauge"]
    for t in range(int(first.timestamp()), int(now.timestamp()), 60):
        lines.append(f'lifeverse_players{{region="eu-west",service="game"}} 100 {t}')
    lines.append("# EOF")
    with serving_samples(tmp_path, "\n".join(lines) + "\n") as url:
        config = _fleet(tmp_path, url, {"ccu": GOOD}, step="1m")
        later = (now + pd.Timedelta(days=2)).isoformat()
        result = _pull(db, config, "--since", first.isoformat(), "--until", later)
        assert result.exit_code == 0, result.output
        assert _stored(db)["ts"].max() <= pd.Timestamp.now("UTC")
        assert _pull(db, config).exit_code == 0


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"queries": {"cpu_utl": "x"}}, "unknown metric 'cpu_utl'"),
        ({"queries": {}}, "name at least one metric's query"),
        ({"queries": {"ccu": "x"}, "step": "2h"}, "must be between 1s and 1h"),
        ({"queries": {"ccu": "x"}, "url": "prometheus:9090"}, "must start with http://"),
        (
            {"queries": {"ccu": "x"}, "url": "http://127.0.0.1:9090?x=1"},
            "must have no query string or fragment",
        ),
        ({"queries": {"ccu": "x"}, "url": "http://h:9090/#top"}, "no query string or fragment"),
        (
            {"queries": {"ccu": "x"}, "url": "admin:s3cret@h:9090"},
            "must start with http:// or https://; got '***@h:9090'",
        ),
        # each had loaded, and the pull then said only that it was no http(s) URL, without
        # the file, the key or what was wrong
        (
            {"queries": {"ccu": "x"}, "url": "http://127.0.0.1:99999"},
            "must have a port from 1 to 65535 after the host's ':', or no ':' at all; "
            "got 'http://127.0.0.1:99999'",
        ),
        ({"queries": {"ccu": "x"}, "url": "http://prometheus host:9090"}, "must have no spaces"),
        ({"queries": {"ccu": "x"}, "url": "http://u:s3cret@:9090"}, "must name the server's host"),
        (
            {"queries": {"ccu": "x"}, "url": "http://u:s3cret@[::1:9090"},
            "key 'prometheus.url': must have a host name or address, an IPv6 address in brackets",
        ),
        # each had loaded, and a pull then advised 'sum by (service, service)' or 'sum by (, ...)'
        (
            {"queries": {"ccu": "x"}, "region_label": "service"},
            "key 'prometheus.service_label': must differ from region_label (both are 'service')",
        ),
        (
            {"queries": {"ccu": "x"}, "region_label": "zone", "service_label": "zone"},
            "must differ from region_label (both are 'zone')",
        ),
        (
            {"queries": {"ccu": "x"}, "region_label": ""},
            "key 'prometheus.region_label': must be the name of a label, such as 'region'",
        ),
        ({"queries": {"ccu": "x"}, "service_label": " service"}, "must be the name of a label"),
        ({"queries": {"ccu": "x"}, "timeout_seconds": float("inf")}, "must be a finite number"),
        ({"queries": {"ccu": "x"}, "timeout_seconds": 1e12}, "less than or equal to 3600"),
        # the fix had been to quote it, '300', which was then refused as no duration
        (
            {"queries": {"ccu": "x"}, "step": 300},
            "key 'prometheus.step': must be text; got the number 300. Fix: write it with its "
            "unit: '300s' for seconds, or '5m'",
        ),
    ],
)
def test_a_malformed_prometheus_section_is_refused_on_load(tmp_path, section, message):
    from capacity.config import load_fleet

    data = yaml.safe_load(FLEET_YAML)
    data["prometheus"] = section
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="key 'prometheus") as caught:
        load_fleet(path)
    assert message in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_an_infinite_timeout_is_bad_input_naming_the_key(tmp_path, db):
    config = _fleet(tmp_path, "http://127.0.0.1:9", {"ccu": GOOD}, timeout_seconds=float("inf"))
    result = _pull(db, config, *_window())
    assert result.exit_code == 2
    assert "key 'prometheus.timeout_seconds': must be a finite number; got inf" in (result.output)


def test_the_readme_example_section_loads_and_prometheus_parses_every_query(prometheus, tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\nprometheus:\n", 1)[1].split("```", 1)[0]
    section = yaml.safe_load("prometheus:\n" + block)["prometheus"]
    source = PrometheusSource.model_validate({**section, "url": prometheus})
    assert set(source.queries) == {
        "ccu",
        "rps",
        "servers",
        "cpu_util",
        "latency_p99_ms",
        "error_rate",
    }
    window = dict(start=START, end=START + pd.Timedelta("1h"), step=pd.Timedelta("5min"))
    got = pull(source, **window)
    # parsed and evaluated; only the request and CPU counters are among the samples here
    assert got.empty == ("ccu", "servers", "latency_p99_ms")
    assert got.missing == ()
    # an idle CPU's rate exceeds 1 now and then (scrape jitter): the README's clamp keeps the
    # utilisation a fraction, where without it a load refuses the whole pull
    cpu = got.rows[got.rows.metric == "cpu_util"].value
    assert len(cpu) and cpu.between(0, 1).all()
    bare = source.queries["cpu_util"].removeprefix("clamp(").removesuffix(", 0, 1)")
    assert bare != source.queries["cpu_util"]
    unclamped = pull(source.model_copy(update={"queries": {"cpu_util": bare}}), **window)
    assert unclamped.rows.value.min() < 0
    with Store(tmp_path / "readme.duckdb") as store:
        assert store.ingest_frame(got.rows, source="readme").rows == len(got.rows)
        with pytest.raises(DataError, match="cpu_util is a non-negative measure"):
            store.ingest_frame(unclamped.rows, source="bare")
    rows = got.rows[got.rows.ts > START]  # a rate needs two samples
    ratio = rows[rows.metric == "error_rate"].groupby("region", observed=True).value
    # na-east never answered 5xx: its error rate is 0, not missing
    assert ratio.count().to_dict() == {"eu-west": 12, "na-east": 12}
    assert ratio.max().to_dict() == pytest.approx({"eu-west": 0.01, "na-east": 0.0})
    assert ratio.min().to_dict() == pytest.approx({"eu-west": 0.01, "na-east": 0.0})


def test_a_pulls_names_are_categories_sorted_and_load_as_strings_would(prometheus, tmp_path):
    # a first pull at a fine step holds millions of rows: three columns of strings held 24
    # bytes a row or more, categories hold 3
    errors = 'sum by (region, service) (rate(lifeverse_requests_total{code=~"5.."}[5m]))'
    total = "sum by (region, service) (rate(lifeverse_requests_total[5m]))"
    source = PrometheusSource.model_validate(
        {"url": prometheus, "queries": {"rps": total, "error_rate": f"{errors} / {total}"}}
    )
    got = pull(source, start=START, end=START + pd.Timedelta("1h"), step=pd.Timedelta("5min"))
    names = ["region", "service", "metric"]
    assert set(got.rows.metric) == {"rps", "error_rate"} and len(got.rows) == 36
    for column in names:
        dtype = got.rows[column].dtype
        assert isinstance(dtype, pd.CategoricalDtype), column
        assert list(dtype.categories) == sorted(dtype.categories), column
    plain = got.rows.astype({column: str for column in names})
    assert plain.equals(plain.sort_values(["ts", *names], ignore_index=True))
    stored = []
    for name, rows in (("categories", got.rows), ("strings", plain)):
        with Store(tmp_path / f"{name}.duckdb") as store:
            assert store.ingest_frame(rows, source=name).inserted == len(rows)
            stored.append(store.con.execute("SELECT * EXCLUDE (load_id) FROM telemetry").df())
    pd.testing.assert_frame_equal(stored[0], stored[1])


def test_a_region_service_one_query_lacks_is_noted_with_the_ratio_fill(prometheus, tmp_path, db):
    errors = 'sum by (region, service) (rate(lifeverse_requests_total{code=~"5.."}[5m]))'
    total = "sum by (region, service) (rate(lifeverse_requests_total[5m]))"
    config = _fleet(tmp_path, prometheus, {"rps": total, "error_rate": f"{errors} / {total}"})
    hour = ["--since", START.isoformat(), "--until", (START + pd.Timedelta("1h")).isoformat()]
    result = CliRunner().invoke(cli, ["pull", "--db", str(db), "--config", str(config), *hour])
    assert result.exit_code == 0, result.output
    assert (
        "note: no samples for error_rate of na-east/game in that range, though other metrics "
        "have them" in result.stderr
    )
    assert "(numerator or denominator * 0) / denominator" in result.stderr
    assert "rps of" not in result.stderr  # every pair error_rate has, rps has too


def _with_chat(data: dict) -> None:
    """Add a chat service, planned on rps, to a fleet file's data."""
    data["services"]["chat"] = {**data["services"]["game"], "demand_metric": "rps"}
    for region in data["current_servers"]:
        data["current_servers"][region]["chat"] = 4


RPS = "sum by (region, service) (lifeverse_rps)"


def test_no_ccu_is_expected_of_a_service_planned_on_rps(prometheus, tmp_path, db):
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "rps": RPS}, edit=_with_chat)
    hour = ["--since", START.isoformat(), "--until", (START + pd.Timedelta("1h")).isoformat()]
    result = CliRunner().invoke(cli, ["pull", "--db", str(db), "--config", str(config), *hour])
    assert result.exit_code == 0, result.output
    assert "144 rows read, 144 inserted" in result.output  # ccu of game, rps of both
    # chat's demand is rps: it has no players, and no ccu series is not a ratio's gap
    assert "ccu of" not in result.stderr and "ratio" not in result.stderr
    assert "rps of" not in result.stderr

    # the same pull, with chat planned on ccu: then its missing ccu is worth a word
    def chat_on_ccu(data: dict) -> None:
        _with_chat(data)
        data["services"]["chat"]["demand_metric"] = "ccu"

    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "rps": RPS}, edit=chat_on_ccu)
    result = CliRunner().invoke(
        cli, ["pull", "--db", str(tmp_path / "other.duckdb"), "--config", str(config), *hour]
    )
    assert result.exit_code == 0, result.output
    assert "no samples for ccu, the demand metric of eu-west/chat, na-east/chat," in result.stderr


def _with_sa_east(data: dict) -> None:
    """Add a region sa-east, of which Prometheus has no series, to a fleet file's data."""
    data["regions"]["sa-east"] = {"timezone": "America/Sao_Paulo", "holidays_country": "BR"}
    data["current_servers"]["sa-east"] = {"game": 5}
    data["failover"]["sa-east"] = {"eu-west": 1.0}


def test_a_fleet_region_without_demand_samples_is_a_warning_naming_the_labels(
    prometheus, tmp_path, db
):
    # plan refuses a fleet region/service with no demand telemetry at all (exit 2); the
    # cause (a query that filters it out, a label value such as sa-east-1) is in the pull
    game_rps = 'sum by (region, service) (lifeverse_rps{service="game"})'
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "rps": game_rps}, edit=_with_sa_east)
    result = CliRunner().invoke(cli, ["pull", "--db", str(db), "--config", str(config), *_window()])
    assert result.exit_code == 0, result.output  # the rest is loaded
    assert "inserted" in result.output
    assert (
        "warning: no samples for ccu, the demand metric of sa-east/game, in that range; the "
        "store has none for sa-east/game at all, so capacity plan refuses the fleet until it "
        'has; check that prometheus.queries.ccu returns a series labelled region="sa-east", '
        'service="game"' in result.stderr
    )
    assert "label_replace" in result.stderr
    # rps is no demand metric of this fleet: no warning that it lacks samples (its samples
    # stop two hours in, which is a warning of its own)
    assert "no samples for rps" not in result.stderr
    assert "rps, the demand metric" not in result.stderr
    assert "warning: rps stops before the end of the pull" in result.stderr
    # a demand query that returns nothing at all: the warning names every region/service
    config = _fleet(tmp_path, prometheus, {"ccu": "sum by (region, service) (x)", "rps": game_rps})
    result = CliRunner().invoke(cli, ["pull", "--db", str(db), "--config", str(config), *_window()])
    assert result.exit_code == 0, result.output
    # the store holds ccu of both from the first pull: this pull alone got none
    assert (
        "warning: no samples for ccu, the demand metric of eu-west/game, na-east/game, in that "
        'range; check that prometheus.queries.ccu returns a series labelled region="eu-west"'
    ) in result.stderr
    assert "note: no samples for ccu" not in result.stderr


def test_a_server_that_never_answers_times_out_with_exit_4(tmp_path, db):
    with socket.socket() as listener:  # the kernel completes the handshake; nobody replies
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        config = _fleet(tmp_path, url, {"ccu": GOOD}, timeout_seconds=0.5)
        result = _pull(db, config, *_window())
    assert result.exit_code == 4
    assert f"Prometheus at {url} did not answer within 0.5 s (query " in result.output


def test_a_server_that_answers_a_byte_at_a_time_is_held_to_the_timeout(tmp_path, db):
    """Each read waited less than timeout_seconds, so a server sending its answer a few
    bytes at a time held a pull with a timeout of 1 s for as long as it kept sending."""
    body = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}})
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"

    def dribble(connection: socket.socket) -> None:
        with contextlib.suppress(OSError), connection:
            connection.recv(65536)
            connection.sendall(f"{head}\r\n\r\n".encode())
            for byte in body.encode():
                connection.sendall(bytes([byte]))
                time.sleep(0.2)

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"

        def serve() -> None:
            with contextlib.suppress(OSError):
                while True:
                    connection, _ = listener.accept()
                    threading.Thread(target=dribble, args=(connection,), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        config = _fleet(tmp_path, url, {"ccu": GOOD}, timeout_seconds=1)
        started = time.monotonic()
        result = _pull(db, config, *_window())
        took = time.monotonic() - started
    assert result.exit_code == 4, result.output
    assert f"Prometheus at {url} did not answer within 1 s (query " in result.output
    assert took < 5  # the whole answer takes about 13 s
    assert not db.exists() or _stored(db).empty


@pytest.mark.parametrize("status", [503, 429])
def test_a_server_error_exits_4_with_prometheus_message(tmp_path, db, status):
    error = {"status": "error", "errorType": "unavailable", "error": "TSDB not ready"}
    with _fake(lambda query: (status, error)) as url:
        result = _pull(db, _fleet(tmp_path, url, {"ccu": GOOD}), *_window())
    assert result.exit_code == 4
    assert f"Prometheus at {url} failed with HTTP {status}: TSDB not ready" in result.output
    assert not db.exists()


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "answered HTTP 401: the server wants credentials"), (404, "answered HTTP 404")],
)
def test_an_address_that_is_not_an_open_prometheus_api_names_the_url(tmp_path, db, status, message):
    with _fake(lambda query: (status, {"message": "no"})) as url:
        result = _pull(db, _fleet(tmp_path, url, {"ccu": GOOD}), *_window())
    assert result.exit_code == 2
    assert message in result.output and "key 'prometheus.url' (or --url)" in result.output


def test_a_request_over_the_server_sample_limit_is_retried_for_fewer_steps():
    limit = 50  # points per request this server will evaluate

    def answer(query: dict[str, str]) -> tuple[int, dict]:
        start, end, step = (float(query[k]) for k in ("start", "end", "step"))
        points = round((end - start) / step) + 1
        if points > limit:
            error = "query processing would load too many samples into memory in query execution"
            return 422, {"status": "error", "errorType": "execution", "error": error}
        values = [[start + i * step, str(i)] for i in range(points)]
        labels = {"region": "eu-west", "service": "game"}
        result = [{"metric": labels, "values": values}]
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}

    with _fake(answer) as url:
        series, count = query_range(
            url, "q", start=START, end=START + pd.Timedelta("999min"), step=pd.Timedelta("1min")
        )
    times = [t for t, _ in series[0]["values"]]
    assert times == [START.timestamp() + 60 * i for i in range(1000)]
    assert count == 8 + 26  # refused at 10000 down to 78 steps a request; 39 steps served


def test_a_result_that_is_not_a_range_of_series_names_the_query(tmp_path, db):
    data = {"resultType": "vector", "result": []}
    with _fake(lambda query: (200, {"status": "success", "data": data})) as url:
        result = _pull(db, _fleet(tmp_path, url, {"ccu": GOOD}), *_window())
    assert result.exit_code == 2
    assert "key 'prometheus.queries.ccu': the query returned a 'vector'" in result.output


def _matrix(*series: dict) -> tuple[int, dict]:
    """A successful query_range reply holding ``series``."""
    return 200, {"status": "success", "data": {"resultType": "matrix", "result": list(series)}}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"histograms": [[START.timestamp(), {"count": "3", "sum": "1.5", "buckets": []}]]},
            'the series {region="eu-west", service="game"} holds native histograms, not '
            "float samples",
        ),
        (
            {"values": [[START.timestamp(), "12"], [START.timestamp() + 300, "lots"]]},
            'the series {region="eu-west", service="game"} has a sample that is not a '
            "number: 'lots' at 2025-11-24T00:05:00+00:00",
        ),
    ],
)
def test_samples_that_are_not_floats_are_refused_naming_the_query_and_series(
    tmp_path, db, item, message
):
    labels = {"region": "eu-west", "service": "game"}
    with _fake(lambda query: _matrix({"metric": labels, **item})) as url:
        result = _pull(db, _fleet(tmp_path, url, {"ccu": GOOD}), *_window())
    assert result.exit_code == 2
    assert f"key 'prometheus.queries.ccu': {message}" in result.output
    assert "the query must return plain float samples" in result.output
    assert not db.exists()


class _Guarded(_Fake):
    """Answers one sample for eu-west/game under /prometheus, to admin:s3cret only."""

    seen: list[tuple[str, str | None]]

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization")
        self.seen.append((urllib.parse.urlsplit(self.path).path, auth))
        good = "Basic " + base64.b64encode(b"admin:s3cret").decode()
        if auth != good:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not self.path.startswith("/prometheus/api/v1/query_range?"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


@contextlib.contextmanager
def _guarded() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    seen: list[tuple[str, str | None]] = []

    def answer(query: dict[str, str]) -> tuple[int, dict]:
        labels = {"region": "eu-west", "service": "game"}
        return _matrix({"metric": labels, "values": [[float(query["start"]), "7"]]})

    handler = type("Handler", (_Guarded,), {"answer": staticmethod(answer), "seen": seen})
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"127.0.0.1:{server.server_address[1]}", seen
        finally:
            server.shutdown()


def test_credentials_in_the_url_are_sent_but_never_shown_or_stored(tmp_path, db):
    with _guarded() as (host, seen):
        config = _fleet(tmp_path, f"http://admin:s3cret@{host}/prometheus", {"ccu": GOOD})
        result = _pull(db, config, *_window())
        assert result.exit_code == 0, result.output
        assert seen and all(path == "/prometheus/api/v1/query_range" for path, _ in seen)
        assert f"from http://***@{host}/prometheus: " in result.output
        wrong = _pull(db, config, "--url", f"http://admin:guess@{host}/prometheus", *_window())
    assert wrong.exit_code == 2
    assert (
        f"http://***@{host}/prometheus/api/v1/query_range answered HTTP 401: the server wants "
        "credentials, and refused the ones in the URL" in wrong.output
    )
    down = _pull(db, config, "--url", f"http://admin:s3cret@127.0.0.1:{free_port()}", *_window())
    assert down.exit_code == 4 and "cannot reach Prometheus at http://***@127.0.0.1:" in down.output
    with Store(db, read_only=True) as store:
        sources = [s for (s,) in store.con.execute("SELECT source FROM loads").fetchall()]
    assert sources == [f"prometheus http://***@{host}/prometheus"]
    for text in (result.output, wrong.output, down.output, *sources):
        assert "s3cret" not in text and "guess" not in text
