"""Tests of the LifeVerse demo fleet generator, :mod:`capacity.demo`."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from capacity import columns as C
from capacity import demo
from capacity.config import load_fleet
from capacity.demo import TRUTH, generate_demo
from capacity.errors import ParameterError

END = pd.Timestamp("2026-11-23T00:00:00Z")
FILES = {
    "telemetry": "telemetry.parquet",
    "calendar": "calendar.csv",
    "fleet": "fleet.yaml",
    "incidents": "incidents.csv",
    "deploys": "deploys.csv",
}
COMMITTED = Path(__file__).resolve().parents[1] / "data" / "demo"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_demo(tmp_path_factory.mktemp("small"), days=30)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    started = time.perf_counter()
    paths = generate_demo(tmp_path_factory.mktemp("full"), seed=7, days=420)
    elapsed = time.perf_counter() - started
    assert elapsed < 20, f"the default demo took {elapsed:.1f} s"
    return paths


def _wide(path: Path) -> pd.DataFrame:
    long = pd.read_parquet(path)
    return long.pivot_table(
        index=[C.REGION, C.SERVICE, C.TS], columns=C.METRIC, values=C.VALUE
    ).reset_index()


def _load_ratio(wide: pd.DataFrame, service: str) -> tuple[pd.Series, pd.Series]:
    """Load per server over the true safe load, and p99 latency, of one service."""
    rows = wide[wide[C.SERVICE] == service].dropna()
    truth = TRUTH.services[service]
    ratio = rows[truth.demand_metric] / rows[C.SERVERS] / truth.safe_load
    return ratio, rows[C.LATENCY_P99_MS]


# ---------------------------------------------------------------------------------- determinism


def test_writes_exactly_the_five_files(small: dict[str, Path]) -> None:
    assert {k: p.name for k, p in small.items()} == FILES
    folder = small["telemetry"].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES.values())


def test_same_seed_gives_byte_identical_files(small: dict[str, Path], tmp_path: Path) -> None:
    again = generate_demo(tmp_path / "again", seed=7, days=30)
    for name, path in small.items():
        assert path.read_bytes() == again[name].read_bytes(), name


def test_different_seed_changes_telemetry_not_the_plan(
    small: dict[str, Path], tmp_path: Path
) -> None:
    other = generate_demo(tmp_path / "other", seed=8, days=30)
    assert other["telemetry"].read_bytes() != small["telemetry"].read_bytes()
    a = pd.read_parquet(small["telemetry"])
    b = pd.read_parquet(other["telemetry"])
    keys = [C.TS, C.REGION, C.SERVICE, C.METRIC]
    both = a.merge(b, on=keys, suffixes=("_a", "_b"))
    ccu = both[both[C.METRIC] == C.CCU]
    assert len(ccu) > 0.99 * (a[C.METRIC] == C.CCU).sum()
    assert (ccu["value_a"] != ccu["value_b"]).mean() > 0.9
    # The live-ops calendar is the plan, not noise: it does not depend on the seed.
    assert other["calendar"].read_bytes() == small["calendar"].read_bytes()


# ------------------------------------------------------------------------------------ telemetry


def test_telemetry_schema_and_order(small: dict[str, Path]) -> None:
    meta = pq.ParquetFile(small["telemetry"])
    schema = meta.schema_arrow
    assert tuple(schema.names) == C.TELEMETRY_COLUMNS
    assert schema.field(C.TS).type == pa.timestamp("us", tz="UTC")
    for name in (C.REGION, C.SERVICE, C.METRIC):
        assert schema.field(name).type == pa.string()
    assert schema.field(C.VALUE).type == pa.float64()
    assert b"pandas" not in (schema.metadata or {})
    assert meta.metadata.row_group(0).column(0).compression == "ZSTD"

    t = pd.read_parquet(small["telemetry"])
    assert str(t[C.TS].dt.tz) == "UTC"
    order = t.sort_values([C.REGION, C.SERVICE, C.METRIC, C.TS], kind="stable")
    assert order.index.equals(t.index)
    assert t[C.TS].min() == END - pd.Timedelta(days=30)
    assert t[C.TS].max() == END - pd.Timedelta(hours=1)


def test_four_regions_three_services_six_metrics(small: dict[str, Path]) -> None:
    t = pd.read_parquet(small["telemetry"])
    series = t.groupby([C.REGION, C.SERVICE, C.METRIC]).size()
    assert len(series) == 4 * 3 * 6
    assert set(t[C.REGION]) == {"eu-west", "na-east", "ap-southeast", "sa-east"}
    assert set(t[C.SERVICE]) == {"game", "matchmaking", "chat"}
    assert set(t[C.METRIC]) == set(C.METRICS)
    assert series.min() >= 30 * 24 - 6 - 9


def test_hourly_with_outage_rows_absent(small: dict[str, Path]) -> None:
    t = pd.read_parquet(small["telemetry"])
    cal = pd.read_csv(small["calendar"])
    assert not t[C.VALUE].isna().any()
    hours = pd.date_range(END - pd.Timedelta(days=30), END, freq="h", inclusive="left")
    outage = cal[cal["kind"] == "outage"].iloc[0]
    start, stop = pd.Timestamp(outage["start"]), pd.Timestamp(outage["end"])
    assert stop - start == pd.Timedelta(hours=TRUTH.outage_hours)
    missing_total = 0
    for (region, _service, _metric), rows in t.groupby([C.REGION, C.SERVICE, C.METRIC]):
        stamps = pd.DatetimeIndex(rows[C.TS])
        assert stamps.is_unique and stamps.is_monotonic_increasing
        assert ((stamps - stamps[0]) % pd.Timedelta(hours=1) == pd.Timedelta(0)).all()
        absent = hours.difference(stamps)
        missing_total += len(absent)
        in_outage = (hours >= start) & (hours < stop)
        if region == outage["regions"]:
            assert hours[in_outage].isin(absent).all()
            assert start - pd.Timedelta(hours=1) in stamps and stop in stamps
        else:
            assert not hours[in_outage].isin(absent).any()
    outage_rows = 3 * 6 * TRUTH.outage_hours
    # A handful of single-series gaps beyond the outage.
    assert 4 <= missing_total - outage_rows <= 30


def test_values_in_range(small: dict[str, Path]) -> None:
    t = pd.read_parquet(small["telemetry"])
    by = {m: rows[C.VALUE].to_numpy() for m, rows in t.groupby(C.METRIC)}
    for metric in C.COUNT_METRICS:
        assert (by[metric] >= 0).all(), metric
    assert (by[C.SERVERS] >= 3).all()
    for metric in (C.CCU, C.SERVERS):
        assert np.array_equal(by[metric], np.round(by[metric])), metric
    assert np.allclose(by[C.RPS], np.round(by[C.RPS], 1))
    for metric in C.FRACTION_METRICS:
        assert ((by[metric] >= 0) & (by[metric] <= 1)).all(), metric
    assert (by[C.LATENCY_P99_MS] > 0).all()
    assert 0.0003 < np.median(by[C.ERROR_RATE]) < 0.001


def test_services_follow_player_shares(small: dict[str, Path]) -> None:
    wide = _wide(small["telemetry"])
    for service, truth in TRUTH.services.items():
        rows = wide[wide[C.SERVICE] == service].dropna()
        per_player = (rows[C.RPS] / rows[C.CCU]).median()
        assert per_player == pytest.approx(truth.requests_per_player, rel=0.02), service
    game = wide[wide[C.SERVICE] == "game"].set_index([C.REGION, C.TS])[C.CCU]
    chat = wide[wide[C.SERVICE] == "chat"].set_index([C.REGION, C.TS])[C.CCU]
    share = (chat / game).median()
    expected = TRUTH.services["chat"].player_share / TRUTH.services["game"].player_share
    assert share == pytest.approx(expected, rel=0.02)


def test_daily_cycle_peaks_in_the_local_evening(small: dict[str, Path]) -> None:
    wide = _wide(small["telemetry"])
    game = wide[wide[C.SERVICE] == "game"]
    for region, truth in TRUTH.regions.items():
        rows = game[game[C.REGION] == region]
        local_hour = rows[C.TS].dt.tz_convert(truth.timezone).dt.hour
        profile = rows.groupby(local_hour.to_numpy())[C.CCU].mean()
        assert profile.idxmax() in (19, 20, 21, 22), region
        assert profile.idxmin() in (3, 4, 5, 6, 7), region
        assert profile.max() / profile.min() > 2.5, region


def test_maintenance_windows_dip_demand(small: dict[str, Path]) -> None:
    wide = _wide(small["telemetry"])
    cal = pd.read_csv(small["calendar"])
    windows = cal[(cal["kind"] == "maintenance") & (pd.to_datetime(cal["start"]) < END)]
    assert len(windows) >= 16
    game = wide[wide[C.SERVICE] == "game"].set_index([C.REGION, C.TS])[C.CCU]
    for _, event in windows.iterrows():
        start = pd.Timestamp(event["start"])
        if start - pd.Timedelta(days=1) < END - pd.Timedelta(days=30):
            continue
        during = game.loc[(event["regions"], start)]
        day_before = game.loc[(event["regions"], start - pd.Timedelta(days=1))]
        assert during < 0.3 * day_before, event["event_id"]


# ------------------------------------------------------------------------------- fleet and logs


def test_fleet_yaml_loads_and_matches_the_telemetry(small: dict[str, Path]) -> None:
    fleet = load_fleet(small["fleet"])
    assert set(fleet.regions) == set(TRUTH.regions)
    for region, truth in TRUTH.regions.items():
        assert fleet.regions[region].timezone == truth.timezone
        assert fleet.regions[region].holidays_country == truth.country
        assert sum(fleet.failover[region].values()) == pytest.approx(1.0, abs=1e-9)
    for service, truth in TRUTH.services.items():
        assert fleet.services[service].demand_metric == truth.demand_metric
        assert fleet.services[service].slo.latency_p99_ms == truth.slo_latency_p99_ms
        hint = fleet.server_type_of(service).safe_load_hint
        assert 0.75 * truth.safe_load < hint < 0.95 * truth.safe_load, service
    t = pd.read_parquet(small["telemetry"])
    servers = t[(t[C.METRIC] == C.SERVERS) & (t[C.TS] > t[C.TS].max() - pd.Timedelta(days=7))]
    provisioned = servers.groupby([C.REGION, C.SERVICE])[C.VALUE].max()
    assert len(provisioned) == 12
    for (region, service), most in provisioned.items():
        # current_servers is the fleet as provisioned: the most servers run in the last week
        assert fleet.servers_now(region, service) == int(most)
    assert "# failover" in small["fleet"].read_text(encoding="utf-8")


def test_calendar_content(small: dict[str, Path]) -> None:
    cal = pd.read_csv(small["calendar"], keep_default_na=False)
    assert list(cal.columns) == [
        "event_id",
        "name",
        "kind",
        "start",
        "end",
        "regions",
        "expected_uplift",
        "notes",
    ]
    assert cal["event_id"].is_unique
    assert set(cal["kind"]) == set(C.EVENT_KINDS)
    start = pd.to_datetime(cal["start"], format="ISO8601")
    stop = pd.to_datetime(cal["end"], format="ISO8601")
    assert str(start.dt.tz) == "UTC" and (stop > start).all()
    assert cal["start"].str.endswith("+00:00").all()
    horizon = END + pd.Timedelta(weeks=8)
    assert start.max() < horizon and start.max() > END + pd.Timedelta(weeks=7)
    for value in cal["regions"]:
        assert value == "all" or set(value.split(";")) <= set(TRUTH.regions)
    uplift = pd.to_numeric(cal["expected_uplift"].replace("", np.nan))
    assert ((uplift > 1) | uplift.isna()).all()

    festival = cal[cal["name"] == "Winter Festival 2026"].iloc[0]
    assert festival["kind"] == "launch"
    assert festival["start"] == "2026-12-18T08:00:00+00:00"
    assert festival["end"].startswith("2027-01-04")
    assert festival["regions"] == "eu-west;na-east"
    assert float(festival["expected_uplift"]) == 1.6
    future = cal[start >= END]
    assert {"season", "maintenance", "launch", "holiday"} <= set(future["kind"])
    outage = cal[cal["kind"] == "outage"]
    assert len(outage) == 1 and (start[outage.index] < END).all()
    assert outage["regions"].iloc[0] == TRUTH.outage_region


def test_every_calendar_event_in_the_span_shapes_demand() -> None:
    first = END - pd.Timedelta(days=420)
    horizon = END + pd.Timedelta(weeks=8)
    ts = pd.date_range(first, END, freq="h", inclusive="left")
    events = [
        e for e in demo._calendar(first, END, horizon) if e.start < END and e.kind != "outage"
    ]
    assert len(events) > 300
    for event in events:
        effect = demo._event_multiplier(ts, [event])
        assert np.abs(effect - 1).max() > 0.05, event.name


def test_incident_and_deploy_logs(full: dict[str, Path]) -> None:
    inc = pd.read_csv(full["incidents"], keep_default_na=False)
    dep = pd.read_csv(full["deploys"], keep_default_na=False)
    assert list(inc.columns) == [
        "incident_id",
        "region",
        "service",
        "severity",
        "started_at",
        "detected_at",
        "resolved_at",
        "cause",
        "deploy_id",
    ]
    assert list(dep.columns) == ["deploy_id", "region", "service", "deployed_at", "change"]
    assert inc["incident_id"].is_unique and dep["deploy_id"].is_unique
    times = {
        c: pd.to_datetime(inc[c], format="ISO8601")
        for c in ("started_at", "detected_at", "resolved_at")
    }
    assert (times["detected_at"] >= times["started_at"]).all()
    assert (times["resolved_at"] >= times["detected_at"]).all()
    assert (times["resolved_at"] < END).all()
    assert set(inc["severity"]) <= {"sev1", "sev2", "sev3", "sev4"}

    deployed = pd.to_datetime(dep["deployed_at"], format="ISO8601")
    assert (deployed < END).all()
    weekly = dep["change"].str.startswith("weekly patch")
    assert weekly.sum() >= 60 * 12 - 12 and (~weekly).sum() >= 20
    caused = inc[inc["deploy_id"] != ""]
    assert len(caused) >= 3
    by_id = dep.set_index("deploy_id")
    for _, row in caused.iterrows():
        source = by_id.loc[row["deploy_id"]]
        assert (source["region"], source["service"]) == (row["region"], row["service"])
        assert pd.Timestamp(source["deployed_at"]) < pd.Timestamp(row["started_at"])

    cal = pd.read_csv(full["calendar"])
    outage = cal[cal["kind"] == "outage"].iloc[0]
    sev1 = inc[inc["severity"] == "sev1"]
    assert set(sev1["region"]) == {outage["regions"]} and len(sev1) == 3
    assert (times["started_at"][sev1.index] == pd.Timestamp(outage["start"])).all()
    launches = inc["cause"].str.contains("Season|Champions Finals|Winter Festival")
    assert launches.sum() >= 10


def test_bad_deploys_raise_the_error_rate(full: dict[str, Path]) -> None:
    inc = pd.read_csv(full["incidents"], keep_default_na=False)
    t = pd.read_parquet(full["telemetry"])
    errors = t[t[C.METRIC] == C.ERROR_RATE].set_index([C.REGION, C.SERVICE, C.TS])[C.VALUE]
    blamed = inc[inc["deploy_id"] != ""]
    assert len(blamed) >= 3  # the loop below must check something
    for _, row in blamed.iterrows():
        hour = pd.Timestamp(row["started_at"]).floor("h")
        assert errors.loc[(row["region"], row["service"], hour)] > 0.005, row["incident_id"]


def test_latency_breaches_match_incidents(full: dict[str, Path]) -> None:
    wide = _wide(full["telemetry"])
    inc = pd.read_csv(full["incidents"], keep_default_na=False)
    latency = inc[inc["cause"].str.startswith("p99 latency")]
    assert len(latency) >= 20
    for _, row in latency.iterrows():
        hour = pd.Timestamp(row["started_at"]).floor("h")
        match = wide[
            (wide[C.REGION] == row["region"])
            & (wide[C.SERVICE] == row["service"])
            & (wide[C.TS] == hour)
        ]
        slo = TRUTH.services[row["service"]].slo_latency_p99_ms
        assert match[C.LATENCY_P99_MS].iloc[0] > slo, row["incident_id"]


# ------------------------------------------------------------------------------------- physics


def test_truth_safe_load_solves_the_latency_curve() -> None:
    for service, truth in TRUTH.services.items():
        u = truth.safe_utilisation
        p99 = truth.latency_base_ms + truth.latency_scale_ms * u / (1 - u)
        assert p99 == pytest.approx(truth.slo_latency_p99_ms, rel=1e-12), service
        assert 0.75 < u < 0.85, service
        assert TRUTH.safe_load(service) == pytest.approx(truth.saturation_load * u)
    assert TRUTH.safe_load("game") == pytest.approx(397.4359, rel=1e-6)
    assert TRUTH.safe_load("matchmaking") == pytest.approx(1216.2162, rel=1e-6)
    assert TRUTH.safe_load("chat") == pytest.approx(3154.9296, rel=1e-6)


def test_latency_slo_breached_in_some_but_few_hours(full: dict[str, Path]) -> None:
    wide = _wide(full["telemetry"])
    for service, truth in TRUTH.services.items():
        rows = wide[wide[C.SERVICE] == service].dropna()
        breached = (rows[C.LATENCY_P99_MS] > truth.slo_latency_p99_ms).mean()
        assert 0.001 < breached < 0.05, (service, breached)


def test_load_per_server_spans_the_latency_curve(full: dict[str, Path]) -> None:
    wide = _wide(full["telemetry"])
    for service in TRUTH.services:
        ratio, _ = _load_ratio(wide, service)
        assert ratio.quantile(0.10) < 0.4, service
        assert ratio.quantile(0.99) > 0.9, service
        assert (ratio > 1.0).sum() >= 50, service


def test_median_latency_at_the_safe_load_is_the_slo(full: dict[str, Path]) -> None:
    wide = _wide(full["telemetry"])
    for service, truth in TRUTH.services.items():
        ratio, latency = _load_ratio(wide, service)
        near = ratio.between(0.97, 1.03)
        assert near.sum() >= 100, service
        median = latency[near].median()
        assert median == pytest.approx(truth.slo_latency_p99_ms, rel=0.10), service


def test_season_launch_lifts_demand(full: dict[str, Path]) -> None:
    t = pd.read_parquet(full["telemetry"])
    cal = pd.read_csv(full["calendar"])
    game = t[(t[C.SERVICE] == "game") & (t[C.METRIC] == C.CCU)]
    first, last = game[C.TS].min(), game[C.TS].max()
    checked = 0
    for _, season in cal[cal["kind"] == "season"].iterrows():
        launch = pd.Timestamp(season["start"])
        if launch - pd.Timedelta(days=14) < first or launch + pd.Timedelta(days=3) > last:
            continue
        for region, rows in game.groupby(C.REGION):
            series = rows.set_index(C.TS)[C.VALUE]
            after = series[launch : launch + pd.Timedelta(hours=71)].mean()
            earlier = launch - pd.Timedelta(days=14)
            before = series[earlier : earlier + pd.Timedelta(hours=71)].mean()
            assert after > 1.2 * before, (season["name"], region)
            checked += 1
    assert checked >= 5 * 4


def test_committed_copy_matches_a_fresh_generation(full: dict[str, Path]) -> None:
    # Parquet files name the writer's pyarrow version, so the telemetry is compared by
    # content (values, types and order); the text files byte for byte.
    regenerate = (
        "is stale; regenerate with "
        "python -c \"from capacity.demo import generate_demo; generate_demo('data/demo')\""
    )
    for path in full.values():
        committed = COMMITTED / path.name
        assert committed.is_file(), f"{committed} missing"
        if path.suffix == ".parquet":
            assert pq.read_table(committed).equals(pq.read_table(path)), f"{committed} {regenerate}"
        else:
            assert committed.read_bytes() == path.read_bytes(), f"{committed} {regenerate}"
    size = sum(p.stat().st_size for p in COMMITTED.iterdir() if p.is_file())
    assert size < 10 * 1024 * 1024


# ---------------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days"),
        ({"days": 2.5}, "days"),
        ({"end": "2026-11-23T00:30:00Z"}, "whole hour"),
        ({"end": "not a date"}, "ISO 8601"),
        # 100,000 days failed in pandas on an hour time zones did not have yet
        ({"days": 100_000}, "days must be a whole number from 1 to 3650"),
    ],
)
def test_bad_parameters_are_refused(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        generate_demo(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


def test_an_unwritable_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    """It ended `capacity demo --out /proc/demo` in a traceback, after the whole demo."""
    from click.testing import CliRunner

    from capacity.cli import cli

    blocked = tmp_path / "file"
    blocked.write_text("")
    result = CliRunner().invoke(cli, ["demo", "--out", str(blocked / "demo")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot create the demo folder {blocked / 'demo'}: ")
    assert "Fix: give --out a folder you may write" in result.stderr


def test_make_plan_plans_the_week_after_the_bundled_demo_telemetry():
    """`make plan` names its week: a later one cannot be planned from the bundled demo, and
    the current week's default stopped working once the demo was a month old."""
    import inspect
    import re

    from capacity.weekly import week_of

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    week = re.search(r"^DEMO_WEEK := (\S+)$", makefile, re.M).group(1)
    assert "capacity plan --force --week $(DEMO_WEEK)" in makefile
    end = inspect.signature(demo.generate_demo).parameters["end"].default
    assert week == week_of(pd.Timestamp(end)) == "2026-W48"
