"""`capacity pull` run unattended (hourly, from cron) against a real Prometheus server.

The server is Debian's ``prometheus`` package, started on a backfilled TSDB as in
``tests/test_prometheus.py``. What an SRE meets once the job runs on its own: a target that
stops being scraped, a query the server times out, label values that differ from the fleet
file's names, a counter loaded as if it were a gauge.
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
from capacity.prometheus import Pull, pull, pull_notes, raw_counters
from capacity.store import Store
from tests.conftest import FLEET_YAML
from tests.prometheus_server import backfill, binaries, serve, serving_samples

START = pd.Timestamp("2025-11-24T00:00Z")
#: Two days of five-minute samples.
STEPS = 2 * 24 * 12
#: Where the samples of ``halted_players`` stop: its exporter died six hours in.
HALTED = START + pd.Timedelta(hours=6)
GOOD = "sum by (region, service) (lifeverse_players)"


def _openmetrics() -> str:
    lines = ["# TYPE lifeverse_players gauge", "# TYPE halted_players gauge"]
    for i in range(STEPS + 1):
        t = START + i * pd.Timedelta("5min")
        for region, players in (("eu-west", 1000), ("na-east", 1200)):
            labels = f'region="{region}",service="game"'
            lines.append(f"lifeverse_players{{{labels}}} {players} {int(t.timestamp())}")
            if t < HALTED:
                lines.append(f"halted_players{{{labels}}} {players} {int(t.timestamp())}")
    # the same players as the cloud labels them, and a test region the fleet does not plan
    lines += ["# TYPE cloud_players gauge", "# TYPE staging_players gauge"]
    for i in range(13):
        t = int((START + i * pd.Timedelta("5min")).timestamp())
        for region, players in (("eu-west-1", 1000), ("na-east-1", 1200), ("mars", 5)):
            kind = "staging" if region == "mars" else "cloud"
            lines.append(f'{kind}_players{{region="{region}",service="game"}} {players} {t}')
        lines.append(f'staging_players{{region="eu-west",service="game"}} 7 {t}')
    # a gauge per instance: eu-west runs two
    lines.append("# TYPE per_instance gauge")
    for i in range(13):
        t = int((START + i * pd.Timedelta("5min")).timestamp())
        for instance, value in (("a", 0.25), ("b", 0.75)):
            labels = f'region="eu-west",service="game",instance="{instance}"'
            lines.append(f"per_instance{{{labels}}} {value} {t}")
    # a counter of requests, 600 a minute in each region
    lines.append("# TYPE lifeverse_requests counter")
    for i in range(13):
        t = int((START + i * pd.Timedelta("5min")).timestamp())
        for region in ("eu-west", "na-east"):
            labels = f'region="{region}",service="game"'
            lines.append(f"lifeverse_requests_total{{{labels}}} {3000 * i} {t}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real Prometheus serving the samples above."""
    with serving_samples(tmp_path_factory.mktemp("prometheus-unattended"), _openmetrics()) as url:
        yield url


def _fleet(
    tmp_path: Path, url: str, queries: dict[str, str], name: str = "fleet.yaml", **extra: object
) -> Path:
    data = yaml.safe_load(FLEET_YAML)
    data["prometheus"] = {"url": url, "queries": queries, **extra}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _pull(db: Path, config: Path, *args: str):
    return CliRunner().invoke(cli, ["pull", "--db", str(db), "--config", str(config), *args])


def _at(hours: float) -> str:
    return (START + pd.Timedelta(hours=hours)).isoformat()


def test_a_demand_series_that_stopped_is_a_warning_on_every_pull_until_it_returns(
    prometheus, tmp_path, db
):
    config = _fleet(tmp_path, prometheus, {"ccu": "sum by (region, service) (halted_players)"})
    first = _pull(db, config, "--since", _at(0), "--until", _at(3))
    assert first.exit_code == 0, first.output
    assert first.stderr == ""  # samples up to the end of the pull: nothing to say
    # the hourly job goes on after the exporter died: each pull starts at the newest stored
    # hour, re-reads it and adds nothing; it succeeds, and says why nothing new came
    for until, begin in ((12, "03:00"), (13, "06:00")):
        later = _pull(db, config, "--until", _at(until))
        assert later.exit_code == 0, later.output
        assert f"2025-11-24 {begin} to 2025-11-24 {until}:55 UTC" in later.output
        assert (
            f"warning: ccu, the demand metric, stops before the end of the pull (2025-11-24 "
            f"{until}:55 UTC) for eu-west/game at 2025-11-24 06:00 ({until - 6} h before), "
            f"na-east/game at 2025-11-24 06:00 ({until - 6} h before): Prometheus has no newer "
            "sample, so the store's telemetry ends there"
        ) in later.stderr
        assert "prometheus.queries.ccu are still scraped (up == 1)" in later.stderr
    with Store(db, read_only=True) as store:
        assert store.newest(["ccu"])["ccu"] == HALTED  # the lookback's repeat at 06:00
    # a series that runs to the end of the pull is not warned about, in days past two
    healthy = _fleet(tmp_path, prometheus, {"ccu": GOOD}, name="healthy.yaml")
    fine = _pull(tmp_path / "other.duckdb", healthy, "--since", _at(0), "--until", _at(48))
    assert fine.exit_code == 0, fine.output
    assert fine.stderr == ""
    late = _pull(tmp_path / "late.duckdb", config, "--since", _at(0), "--until", _at(72))
    assert "eu-west/game at 2025-11-24 06:00 (2 days before)" in late.stderr


def test_any_metric_that_stopped_is_a_warning_as_it_holds_every_pull_back(prometheus, tmp_path, db):
    """Servers telemetry that stopped while the demand went on: each pull restarted at its
    newest stored hour and re-read every query since, without a word."""
    halted = "sum by (region, service) (halted_players)"
    # rps is a demand metric, but not the game's (planned on ccu): it holds the start back too
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "servers": halted, "rps": halted})
    first = _pull(db, config, "--since", _at(0), "--until", _at(3))
    assert first.exit_code == 0 and first.stderr == "", first.output
    later = _pull(db, config, "--until", _at(20))
    assert later.exit_code == 0, later.output
    assert "2025-11-24 03:00 to 2025-11-24 20:55 UTC" in later.output
    again = _pull(db, config, "--until", _at(21))
    assert "2025-11-24 06:00 to 2025-11-24 21:55 UTC" in again.output  # held back at 06:00
    assert (
        "warning: servers stops before the end of the pull (2025-11-24 21:55 UTC) for "
        "eu-west/game at 2025-11-24 06:00 (15 h before), na-east/game at 2025-11-24 06:00 "
        "(15 h before): Prometheus has no newer sample, so the store's servers ends there, and "
        "once all its series have stopped each pull starts again from its newest stored hour"
    ) in again.stderr
    assert "prometheus.queries.servers are still scraped (up == 1)" in again.stderr
    assert "warning: rps stops before the end of the pull (2025-11-24 21:55 UTC)" in again.stderr
    assert "ccu" not in again.stderr  # the demand runs to the end


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus that gives every query one millisecond (``--query.timeout``)."""
    found = binaries()
    if found is None:
        pytest.skip("prometheus and promtool are not installed (Debian: apt install prometheus)")
    server, promtool = found
    folder = tmp_path_factory.mktemp("prometheus-impatient")
    (folder / "samples.om").write_text(_openmetrics(), encoding="utf-8")
    backfill(folder / "samples.om", folder / "tsdb", promtool)
    with serve(folder / "tsdb", server, flags=["--query.timeout=1ms"]) as url:
        yield url


def test_a_query_the_server_times_out_names_its_key_and_what_to_change(impatient, tmp_path, db):
    # a day of ten-second sub-steps behind each of the 577 points: more than a millisecond
    heavy = f"max_over_time(({GOOD})[1d:10s])"
    config = _fleet(tmp_path, impatient, {"ccu": heavy})
    result = _pull(db, config, "--since", _at(0), "--until", _at(48))
    assert result.exit_code == 4, result.output
    # which of the queries, and that retrying alone will not do when it is too heavy
    assert (
        f"error: Prometheus at {impatient} failed with HTTP 503: query timed out in expression "
        "evaluation (query 'prometheus.queries.ccu'); try again later; if it times out again, "
        "the query is too heavy for the server's --query.timeout"
    ) in result.output
    assert not db.exists()


def test_label_values_the_fleet_does_not_name_are_refused_with_the_label_replace_that_fits(
    prometheus, tmp_path
):
    window = dict(start=START, end=START + pd.Timedelta("1h"), step=pd.Timedelta("5min"))
    cloud = "sum by (region, service) (cloud_players)"
    fleet = load_fleet(_fleet(tmp_path, prometheus, {"ccu": cloud}))
    with pytest.raises(ConfigError) as caught:
        pull(fleet.prometheus, **window, fleet=fleet, config_source="fleet.yaml")
    assert str(caught.value) == (
        "fleet.yaml: key 'prometheus.queries.ccu': the query returns series whose label "
        '\'region\' has the values "eu-west-1", "na-east-1", which the fleet file does not '
        "name as a region (did you mean 'eu-west' for \"eu-west-1\"?); it names eu-west, "
        "na-east. Fix: rename them in the query by wrapping it in label_replace(..., "
        '"region", "eu-west", "region", "eu-west-1") (one per name, or one with a regular '
        'expression such as "(.+)-1" and "$1": see the README), or add region \'eu-west-1\' to '
        "the fleet file"
    )
    # the fix as written, in Prometheus: the renamed series load
    renamed = f'label_replace({cloud}, "region", "$1", "region", "(.+)-1")'
    fleet = load_fleet(_fleet(tmp_path, prometheus, {"ccu": renamed}))
    got = pull(fleet.prometheus, **window, fleet=fleet)
    assert got.rows.groupby("region", observed=True).value.agg(["count", "max"]).to_dict() == {
        "count": {"eu-west": 13, "na-east": 13},
        "max": {"eu-west": 1000.0, "na-east": 1200.0},
    }
    # a region the fleet does not plan at all: leave it out
    staging = "sum by (region, service) (staging_players)"
    fleet = load_fleet(_fleet(tmp_path, prometheus, {"ccu": staging}))
    with pytest.raises(ConfigError) as caught:
        pull(fleet.prometheus, **window, fleet=fleet)
    assert "label 'region' has the value \"mars\", which the fleet file does not name" in str(
        caught.value
    )
    assert 'leave that series out of the query (a matcher such as region!="mars"' in str(
        caught.value
    )
    left_out = 'sum by (region, service) (staging_players{region!="mars"})'
    fleet = load_fleet(_fleet(tmp_path, prometheus, {"ccu": left_out}))
    assert set(pull(fleet.prometheus, **window, fleet=fleet).rows.region) == {"eu-west"}


def test_a_counter_read_without_a_range_is_a_warning_naming_the_rate_to_write(
    prometheus, tmp_path, db
):
    hour = ["--since", _at(0), "--until", _at(1)]
    raw = "sum by (region, service) (lifeverse_requests_total)"
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "rps": raw})
    result = _pull(db, config, *hour)
    assert result.exit_code == 0, result.output  # loaded: it may be meant
    assert (
        "warning: prometheus.queries.rps reads the counter lifeverse_requests_total without a "
        "range, so what is stored is its running total since the counter last reset, not a "
        "rate; write rate(lifeverse_requests_total[5m])"
    ) in result.stderr
    with Store(db, read_only=True) as store:
        totals = store.series(region="eu-west", metric="rps", freq="5min")
    assert totals.value.max() == 36_000  # twelve intervals of 3,000: a total, not 10 a second
    # the rate, as the README writes it: 10 requests a second, and nothing to warn about
    rate = "sum by (region, service) (rate(lifeverse_requests_total[5m]))"
    config = _fleet(tmp_path, prometheus, {"ccu": GOOD, "rps": rate})
    result = _pull(tmp_path / "rate.duckdb", config, *hour)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    with Store(tmp_path / "rate.duckdb", read_only=True) as store:
        rates = store.series(region="eu-west", metric="rps", freq="5min").value.dropna()
    assert rates.to_numpy() == pytest.approx([10.0] * len(rates))


@pytest.mark.parametrize(
    ("query", "counters"),
    [
        ("sum by (region, service) (rate(x_total[5m]))", []),
        ('sum by (region, service) (rate(x_total{code=~"5.."} [5m:1m]))', []),
        ("histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[5m])))", []),
        ('count by (region, service) (up{job="y_total"} == 1)', []),
        ("sum by (shard_total, service) (players)", []),
        ("sum by (region, service) (x_total) / sum(x_total)", ["x_total"]),
        ("sum by (region, service) (x_seconds_bucket)", ["x_seconds_bucket"]),
        ("a_total - on (region) group_left (b_total) c_total offset 5m", ["a_total", "c_total"]),
    ],
)
def test_counters_read_without_a_range_are_found_in_the_query_text(query, counters):
    assert raw_counters(query) == counters


def test_the_readme_queries_read_no_counter_without_a_range():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\nprometheus:\n", 1)[1].split("```", 1)[0]
    queries = yaml.safe_load("prometheus:\n" + block)["prometheus"]["queries"]
    assert len(queries) == 6
    found = {metric: counters for metric in queries if (counters := raw_counters(queries[metric]))}
    assert found == {}


def test_an_until_after_now_does_not_make_a_current_series_look_stopped(tmp_path):
    fleet = load_fleet(_fleet(tmp_path, "http://prometheus:9090", {"ccu": GOOD}))
    now = pd.Timestamp.now("UTC").floor("5min")
    rows = pd.DataFrame(
        {
            "ts": [now - pd.Timedelta("10min"), now - pd.Timedelta("3h")],
            "region": ["eu-west", "na-east"],
            "service": "game",
            "metric": "ccu",
            "value": 100.0,
        }
    )
    step = pd.Timedelta("5min")
    later = now + pd.Timedelta(days=400)  # --until 2030-01-01, say
    got = Pull(rows, now - pd.Timedelta("4h"), later, step, (), 1, "http://x")
    (line,) = pull_notes(got, fleet)
    # measured from now, where the samples must end: only na-east has stopped
    assert line.startswith(
        f"warning: ccu, the demand metric, stops before the end of the pull "
        f"({now:%Y-%m-%d %H:%M} UTC) for na-east/game at "
    )
    assert "(3 h before)" in line and "eu-west" not in line


@pytest.mark.parametrize(
    ("metric", "how", "aggregated", "value"),
    [
        ("ccu", "adding them up: sum by (region, service) (...)", "sum", 1.0),
        ("cpu_util", "averaging them: avg by (region, service) (...)", "avg", 0.5),
        ("error_rate", "as a ratio of sums: sum by (region, service) (rate(<errors>[5m]))", "", 0),
        (
            "latency_p99_ms",
            "from the summed histogram buckets: histogram_quantile(0.99, sum by (region, "
            "service, le) (rate(<histogram>_bucket[5m]))) * 1000, not a sum or an average",
            "",
            0,
        ),
    ],
)
def test_series_per_instance_are_refused_with_the_aggregation_that_suits_the_metric(
    prometheus, tmp_path, db, metric, how, aggregated, value
):
    # a p99 or a ratio summed over instances would load without a word, and be wrong
    hour = ["--since", _at(0), "--until", _at(1)]
    result = _pull(db, _fleet(tmp_path, prometheus, {"ccu": GOOD, metric: "per_instance"}), *hour)
    assert result.exit_code == 2, result.output
    assert (
        f"key 'prometheus.queries.{metric}': the query returns more than one series for region "
        f"'eu-west', service 'game' (they differ in instance). Fix: aggregate them, {how}"
    ) in result.output
    if aggregated:  # the aggregation as suggested, in Prometheus
        query = f"{aggregated} by (region, service) (per_instance)"
        config = _fleet(tmp_path, prometheus, {"ccu": GOOD, metric: query})
        assert _pull(db, config, *hour).exit_code == 0
        with Store(db, read_only=True) as store:
            assert store.series(region="eu-west", metric=metric).value.tolist() == [value] * 2
