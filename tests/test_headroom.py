"""Headroom arithmetic: hand-computed examples and properties."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.config import load_fleet
from capacity.errors import ParameterError
from capacity.headroom import hourly_need, recommend, region_loss_survival
from capacity.texts import load_text

T0 = pd.Timestamp("2026-12-01", tz="UTC")
HOURS = pd.date_range(T0, periods=3, freq="h")
SAFE = pd.DataFrame({"region": ["eu-west", "na-east"], "service": "game", "safe_load": 100.0})


def forecast(eu, na, spread=0.1):
    rows = []
    for region, values in (("eu-west", eu), ("na-east", na)):
        for ts, v in zip(HOURS, values, strict=True):
            rows.append(
                {
                    "region": region,
                    "service": "game",
                    "ts": ts,
                    "q0.5": v * (1 - spread),
                    "q0.95": v,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def fleet(fleet_file):
    return load_fleet(fleet_file)  # eu-west 10 and na-east 12 game servers, N+1, min 2


def test_hand_computed_need_with_region_loss(fleet):
    need = hourly_need(forecast([500, 950, 300], [800, 400, 1150]), SAFE, fleet)
    eu = need[need["region"] == "eu-west"]
    na = need[need["region"] == "na-east"]
    assert eu["needed"].tolist() == [5, 10, 3]
    assert eu["needed_nk"].tolist() == [6, 11, 4]
    assert eu["needed_loss"].tolist() == [13, 14, 15]  # all of na-east's players arrive
    assert eu["loss_driver"].tolist() == ["na-east"] * 3
    assert eu["required"].tolist() == [13, 14, 15]
    assert eu["headroom"].round(3).tolist() == [-0.3, -0.4, -0.5]
    assert na["needed_nk"].tolist() == [9, 5, 13]
    assert na["required"].tolist() == [13, 14, 15]


def test_the_reason_separates_thousands_as_the_report_and_the_tables_do(fleet):
    """The reason had read "peak need 1450 servers" beside tables showing 1,450."""
    need = hourly_need(forecast([50_000, 95_000, 30_000], [80_000, 40_000, 115_000]), SAFE, fleet)
    eu = recommend(need, fleet, now=T0 - pd.Timedelta(days=30)).set_index("region").loc["eu-west"]
    assert eu["reason"].startswith(
        "peak need 1,450 servers at 2026-12-01 02:00 UTC for p95 demand 30,000 (300 for "
        "demand, N+1 301, region loss 1,450)"
    )
    assert eu["reason"].endswith("peaks at 2026-12-01 01:00 UTC: 95,000, 950 for demand, N+1 951")


def test_a_whole_number_of_safe_loads_needs_that_many_servers(fleet):
    """(0.1 + 0.2) x 1000 is 300.00000000000006: it had been rounded up to a fourth server,
    here, in region loss and in the event check, while the schedule ignored the noise."""
    from capacity.headroom import servers_for

    assert servers_for(700 * 1.1, 77) == 10  # 770.0000000000001 / 77
    assert servers_for([(0.1 + 0.2) * 1000, 300.5, -5], 100).tolist() == [3, 4, 0]
    noisy = (0.1 + 0.2) * 1000
    need = hourly_need(forecast([noisy, 950, 300], [noisy, 400, 1150]), SAFE, fleet)
    eu = need[need["region"] == "eu-west"]
    assert eu["needed"].tolist()[0] == 3 and eu["needed_loss"].tolist()[0] == 6


def test_recommendations_dates_and_cost(fleet):
    need = hourly_need(forecast([500, 950, 300], [800, 400, 1150]), SAFE, fleet)
    events = pd.DataFrame(
        {
            "name": ["Winter Festival"],
            "regions": [["eu-west"]],
            "start_ts": [T0],
            "end_ts": [T0 + pd.Timedelta(days=2)],
        }
    )
    recs = recommend(need, fleet, now=T0 - pd.Timedelta(days=30), events=events).set_index("region")
    eu = recs.loc["eu-west"]
    assert (eu["action"], eu["target"], eu["change"]) == ("scale_up", 15, 5)
    assert eu["first_shortfall"] == T0
    assert eu["act_by"] == T0 - pd.Timedelta(days=7, minutes=10)  # procurement + boot
    assert not eu["overdue"]
    assert eu["cost_per_week_change"] == 5 * 0.5 * 168
    assert "losing na-east" in eu["reason"] and "'Winter Festival'" in eu["reason"]
    assert "p95 demand 300" in eu["reason"]
    # the needed columns are maxima over the horizon; the reason says which hour gives each,
    # and does not call the demand of the peak need's hour (300) the peak demand (950)
    assert (eu["needed"], eu["needed_nk"], eu["needed_loss"]) == (10, 11, 15)
    assert eu["reason"].startswith(
        "peak need 15 servers at 2026-12-01 02:00 UTC for p95 demand 300 (3 for demand, N+1 4, "
        "region loss 15)"
    )
    assert eu["reason"].endswith(
        "; its own p95 demand peaks at 2026-12-01 01:00 UTC: 950, 10 for demand, N+1 11"
    )
    late = recommend(need, fleet, now=T0).set_index("region")
    assert late.loc["eu-west", "overdue"]
    # a quantile is named as given (0.975 had read "p98")
    sharp = forecast([500, 950, 300], [800, 400, 1150]).rename(columns={"q0.95": "q0.975"})
    need = hourly_need(sharp, SAFE, fleet, quantile=0.975)
    reasons = recommend(need, fleet, now=T0, quantile=0.975)["reason"]
    assert reasons.str.contains(" for p97.5 demand ").all()


def test_scale_down_only_to_the_peak_requirement(fleet):
    big = fleet.model_copy(
        update={"current_servers": {"eu-west": {"game": 40}, "na-east": {"game": 40}}}
    )
    need = hourly_need(forecast([500, 950, 300], [800, 400, 1150]), SAFE, big)
    recs = recommend(need, big, now=T0).set_index("region")
    assert recs.loc["eu-west", "action"] == "scale_down"
    assert recs.loc["eu-west", "target"] == 15
    assert recs.loc["eu-west", "cost_per_week_change"] == -25 * 0.5 * 168
    assert pd.isna(recs.loc["eu-west", "act_by"])


def test_region_loss_survival(fleet):
    need = hourly_need(forecast([500, 950, 300], [800, 400, 1150]), SAFE, fleet)
    result = {r.lost: r for r in region_loss_survival(need, fleet)}
    assert not result["na-east"].survives and result["na-east"].shortfall == 5
    assert result["na-east"].where.startswith("eu-west/game at 2026-12-01 02:00")
    assert not result["eu-west"].survives and result["eu-west"].shortfall == 3
    small = forecast([100, 100, 100], [100, 100, 100])
    assert all(r.survives for r in region_loss_survival(hourly_need(small, SAFE, fleet), fleet))


def test_bad_parameters(fleet):
    with pytest.raises(ParameterError, match="'quantile' parameter must be one of"):
        hourly_need(forecast([1, 1, 1], [1, 1, 1]), SAFE, fleet, quantile=0.99)
    with pytest.raises(ParameterError, match="no safe load for na-east/game"):
        hourly_need(forecast([1, 1, 1], [1, 1, 1]), SAFE.iloc[:1], fleet)


demand = st.lists(st.floats(min_value=0, max_value=5000), min_size=3, max_size=3)


@settings(max_examples=40, deadline=None)
@given(demand, demand, st.floats(min_value=0, max_value=3000), st.integers(0, 4))
def test_more_demand_or_redundancy_never_means_fewer_servers(eu, na, extra, k):
    import yaml

    from capacity.config import parse_fleet
    from tests.conftest import FLEET_YAML

    fleet = parse_fleet(yaml.safe_load(FLEET_YAML))
    base = hourly_need(forecast(eu, na), SAFE, fleet)
    more = hourly_need(forecast([v + extra for v in eu], na), SAFE, fleet)
    assert (more["required"].to_numpy() >= base["required"].to_numpy()).all()
    redundant = fleet.model_copy(
        update={"redundancy": fleet.redundancy.model_copy(update={"k": k + 1})}
    )
    assert (
        hourly_need(forecast(eu, na), SAFE, redundant)["required"].to_numpy()
        >= base["required"].to_numpy()
    ).all()
    # A higher quantile (q0.95 >= q0.5 here) never needs fewer servers.
    median = hourly_need(forecast(eu, na), SAFE, fleet, quantile=0.5)
    assert (base["required"].to_numpy() >= median["required"].to_numpy()).all()
    # The region-loss need and N+k are floors: never below them, and scale-down respects them.
    assert (base["required"] >= base["needed_nk"]).all()
    assert (base["required"] >= base["needed_loss"]).all()
    recs = recommend(base, fleet, now=T0)
    peak_nk = base.groupby("region")["needed_nk"].max()
    assert (recs.set_index("region")["target"] >= peak_nk).all()


def test_recommend_json_writes_null_for_dates_a_hold_does_not_have(tmp_path):
    """A region/service with servers to spare has no shortfall and nothing to act by: JSON
    says null (it once said the string "NaT")."""
    import json

    import yaml
    from click.testing import CliRunner

    from capacity.cli import cli
    from capacity.demo import build_demo_store, generate_demo

    generate_demo(tmp_path / "fleet", days=35)
    db = build_demo_store(tmp_path / "store.duckdb", tmp_path / "fleet")
    config = tmp_path / "fleet" / "fleet.yaml"
    data = yaml.safe_load(config.read_text())
    data["current_servers"]["sa-east"]["chat"] = 10_000
    config.write_text(yaml.safe_dump(data))
    args = ["recommend", "--db", str(db), "--config", str(config), "--horizon", "2d"]
    result = CliRunner().invoke(cli, [*args, "--format", "json", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    rows = {(r["region"], r["service"]): r for r in json.loads(result.stdout)}
    spare = rows[("sa-east", "chat")]
    assert spare["action"] == "scale_down"
    assert spare["first_shortfall"] is None and spare["act_by"] is None
    assert "NaT" not in result.stdout and "NaN" not in result.stdout


@pytest.fixture(scope="module")
def no_latency(tmp_path_factory):
    """A small demo store without eu-west/game's latency, and its fleet file."""
    from capacity.demo import build_demo_store, generate_demo
    from capacity.store import Store

    folder = tmp_path_factory.mktemp("no-latency")
    generate_demo(folder / "fleet", days=35)
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    with Store(db) as store:
        store.con.execute(
            "DELETE FROM telemetry WHERE metric = 'latency_p99_ms' AND region = 'eu-west' "
            "AND service = 'game'"
        )
    return db, folder / "fleet" / "fleet.yaml"


def test_commands_say_when_a_service_is_sized_at_the_hint(no_latency):
    """Without latency telemetry the safe load cannot be learned; the servers asked for then
    rest on the fleet file's hint, which the command now says (it once said nothing)."""
    from click.testing import CliRunner

    from capacity.cli import cli
    from capacity.store import Store

    db, config = no_latency
    args = ["schedule", "--db", str(db), "--config", str(config), "--horizon", "2h"]
    result = CliRunner().invoke(cli, [*args, "--region", "eu-west", "--service", "game"])
    assert result.exit_code == 0, result.output
    hint = load_fleet(config).server_type_of("game").safe_load_hint
    assert (
        f"note: eu-west/game is sized at the fleet file's safe_load_hint, {load_text(hint)} per "
        in (result.stderr)
    )
    from capacity.sizing import safe_loads

    with Store(db, read_only=True) as store:
        safe = safe_loads(store, load_fleet(config))
    for row in safe.itertuples():  # the hint of the series scheduled is said, and only it
        said = f"note: {row.region}/{row.service} is sized at the fleet file's" in result.stderr
        asked = (row.region, row.service) == ("eu-west", "game")
        assert said == (asked and row.source != "learned")


def test_many_services_at_the_hint_get_one_note_and_their_reasons_at_info(
    no_latency, tmp_path, capsys, caplog
):
    """Past five region/services at the hint, one note names them (a fleet of 60 had printed
    34 lines); each one's reason is still logged, for ``capacity -v``."""
    import logging
    import shutil

    from capacity.cli.common import HINT_NOTES_EACH, _note_hints, _safe_loads
    from capacity.store import Store

    db, config = no_latency
    copy = tmp_path / "store.duckdb"
    shutil.copy(db, copy)
    with Store(copy) as store:
        store.con.execute(
            "DELETE FROM telemetry WHERE metric = 'latency_p99_ms' "
            "AND region IN ('eu-west', 'na-east')"
        )
        with caplog.at_level(logging.INFO, logger="capacity"):
            safe = _safe_loads(store, load_fleet(config))
            _note_hints(safe, safe)  # every pair sized
    hinted = safe[safe["source"] != "learned"]
    assert len(hinted) >= 6 > HINT_NOTES_EACH
    notes = capsys.readouterr().err.splitlines()
    assert len(notes) == 1, notes
    assert notes[0].startswith(
        f"note: {len(hinted)} of {len(safe)} region/services are sized at the fleet file's "
        "safe_load_hint, not a learned safe load: "
    )
    assert notes[0].endswith(
        f"and {len(hinted) - 4} more; run with -v (capacity -v ...) for each one's reason"
    )
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    for row in hinted.itertuples():
        assert (
            f"{row.region}/{row.service} is sized at the fleet file's safe_load_hint, "
            f"{load_text(row.safe_load)} per server, not a learned value: {row.reason}"
        ) in logged


def test_a_region_without_failover_is_said_not_to_survive_its_loss(fleet):
    alone = fleet.model_copy(update={"failover": {"eu-west": {"na-east": 1.0}}})
    need = hourly_need(forecast([500, 950, 300], [800, 400, 1150]), SAFE, alone)
    result = {r.lost: r for r in region_loss_survival(need, alone)}
    assert list(result) == ["eu-west", "na-east"]  # every region, not only those mapped
    lost = result["na-east"]
    assert (lost.survives, lost.failover) == (False, False)
    assert lost.describe() == (
        "no failover configured in the fleet file: its players would not be served"
    )
    short = result["eu-west"]
    assert short.describe() == (
        f"short by {short.shortfall:,} servers in {short.region}/{short.service} at "
        f"{short.ts:%Y-%m-%d %H:%M} UTC (the most one surviving region/service lacks)"
    )


def test_recommend_csv_and_json_say_what_each_row_is_sized_at(no_latency):
    """Each row carries its safe load and whether it was learned or is the fleet file's hint
    (a row sized at the hint was once told apart only by a note on stderr)."""
    import csv
    import io
    import json

    from click.testing import CliRunner

    from capacity.cli import cli
    from capacity.sizing import safe_loads
    from capacity.store import Store

    db, config = no_latency
    with Store(db, read_only=True) as store:
        safe = safe_loads(store, load_fleet(config)).set_index(["region", "service"])
    assert safe.loc[("eu-west", "game"), "source"] == "hint"
    args = ["recommend", "--db", str(db), "--config", str(config), "--horizon", "2d"]
    as_csv = CliRunner().invoke(cli, [*args, "--format", "csv", "--jobs", "2"])
    as_json = CliRunner().invoke(cli, [*args, "--format", "json", "--jobs", "2"])
    assert as_csv.exit_code == 0 and as_json.exit_code == 0, as_csv.output + as_json.output
    table = pd.read_csv(io.StringIO(as_csv.stdout))
    rows = json.loads(as_json.stdout)
    # one spelling of each time in both (ISO 8601 in UTC with Z): the JSON had +00:00
    texts = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    for row, text in zip(rows, texts, strict=True):
        for key in ("first_shortfall", "act_by"):
            assert row[key] == (text[key] or None), key
    assert any(row["act_by"] for row in rows)
    # the new keys come last; the old ones keep their places
    assert list(table.columns[-3:]) == ["reason", "safe_load", "safe_load_source"]
    # the JSON adds what the servers telemetry ran last, after them
    assert list(rows[0])[-3:] == ["safe_load", "safe_load_source", "servers_ran_last_week"]
    by_pair = table.set_index(["region", "service"])
    for row in rows:
        known = safe.loc[(row["region"], row["service"])]
        # to 3 decimals in both, as scaling_schedule.csv writes it
        assert row["safe_load"] == round(known["safe_load"], 3)
        assert by_pair.loc[(row["region"], row["service"]), "safe_load"] == row["safe_load"]
        assert row["safe_load_source"] == known["source"]
    assert by_pair.loc[("eu-west", "game"), "safe_load_source"] == "hint"
    hint = load_fleet(config).server_type_of("game").safe_load_hint
    assert by_pair.loc[("eu-west", "game"), "safe_load"] == pytest.approx(hint)


def test_a_fallback_forecast_is_held_not_scaled_down(fleet):
    big = fleet.model_copy(
        update={"current_servers": {"eu-west": {"game": 40}, "na-east": {"game": 40}}}
    )
    need = hourly_need(forecast([500, 950, 300], [800, 400, 1150]), SAFE, big)
    recs = recommend(need, big, now=T0, fallback={("eu-west", "game")}).set_index("region")
    held = recs.loc["eu-west"]
    assert (held["action"], held["change"], held["cost_per_week_change"]) == ("hold", 0, 0)
    # the target is what to run: the servers now, not the 15 the hold keeps it from
    assert (held["servers_now"], held["target"]) == (40, 40) and pd.isna(held["act_by"])
    assert "held rather than scaled down by 25: the forecast fell back" in held["reason"]
    assert "peak need 15 servers" in held["reason"]
    assert recs.loc["na-east", "action"] == "scale_down"  # its own forecast is trusted
    assert (recs["change"] == recs["target"] - recs["servers_now"]).all()
    # a fallback forecast still asks for servers: adding them errs on the safe side
    short = hourly_need(forecast([5000, 950, 300], [800, 400, 1150]), SAFE, big)
    up = recommend(short, big, now=T0, fallback={("eu-west", "game")}).set_index("region")
    assert up.loc["eu-west", "action"] == "scale_up"


def test_a_scale_down_is_never_to_watch_and_a_fallback_is_held_and_watched(fleet):
    from types import SimpleNamespace

    from capacity.weekly import status_table

    # eu-west needs at most 15 of its 16 servers: 6 % headroom, a surplus every hour
    tight = fleet.model_copy(
        update={"current_servers": {"eu-west": {"game": 16}, "na-east": {"game": 40}}}
    )
    need = hourly_need(forecast([500, 950, 300], [800, 400, 1150]), SAFE, tight)
    summary = pd.DataFrame(
        {"region": ["eu-west", "na-east"], "service": "game", "fallback": [False, True]}
    )
    plan = SimpleNamespace(
        need=need,
        forecast_summary=summary,
        recommendations=recommend(need, tight, now=T0, fallback={("na-east", "game")}),
    )
    status = status_table(plan).set_index("region")
    assert status.loc["eu-west", "action"] == "scale_down"
    assert status.loc["eu-west", "min_headroom"] < 0.10
    assert status.loc["eu-west", "status"] == "OK"  # was "watch" beside "scale_down"
    assert (status.loc["na-east", "action"], status.loc["na-east", "status"]) == ("hold", "watch")


def test_the_reason_names_the_hour_demand_peaks_not_the_first_needing_as_many(fleet):
    """Two hours needing the same servers: the reason named the first (950 at 01:00) as where
    demand peaks, while it peaks an hour later (990), the hour check-event names."""
    need = hourly_need(forecast([300, 950, 990], [1200, 50, 50]), SAFE, fleet)
    eu = recommend(need, fleet, now=T0).set_index("region").loc["eu-west"]
    assert eu["reason"].startswith("peak need 15 servers at 2026-12-01 00:00 UTC")
    assert eu["reason"].endswith(
        "; its own p95 demand peaks at 2026-12-01 02:00 UTC: 990, 10 for demand, N+1 11"
    )
