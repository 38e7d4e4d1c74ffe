"""How unusual fleet shapes are worded: a loss judged without a region's telemetry, requests
rather than players, the min_servers floor, safe loads to a tenth, a one-region fleet, and the
hint note counting only the pairs sized."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from capacity.config import load_fleet
from capacity.decision import region_loss_frame
from capacity.headroom import hourly_need, recommend, region_loss_survival
from capacity.sizing import learn_safe_load
from capacity.texts import carried_text, load_text
from capacity.weekly import json_safe

T0 = pd.Timestamp("2026-12-01", tz="UTC")
HOURS = pd.date_range(T0, periods=3, freq="h")


def forecast(demand: dict[str, list[float]], service: str = "game") -> pd.DataFrame:
    """``q0.95`` per region over three hours."""
    return pd.DataFrame(
        [
            {"region": region, "service": service, "ts": ts, "q0.95": v}
            for region, values in demand.items()
            for ts, v in zip(HOURS, values, strict=True)
        ]
    )


def safe(regions: list[str], service: str = "game", load: float = 100.0) -> pd.DataFrame:
    return pd.DataFrame({"region": regions, "service": service, "safe_load": load})


@pytest.fixture
def fleet(fleet_file):
    return load_fleet(fleet_file)  # eu-west 10 and na-east 12 game servers, N+1, min 2


def with_ghost(fleet, to_ghost: bool = True):
    """The fleet with a third region, ghost, without telemetry; eu-west's players go to it."""
    regions = {**fleet.regions, "ghost": fleet.regions["eu-west"]}
    failover = {
        "eu-west": {"ghost": 1.0} if to_ghost else {"na-east": 1.0},
        "na-east": {"eu-west": 1.0},
        "ghost": {"na-east": 1.0},
    }
    servers = {**fleet.current_servers, "ghost": {"game": 4}}
    return fleet.model_copy(
        update={"regions": regions, "failover": failover, "current_servers": servers}
    )


# ------------------------------------------------------------------ a loss not checked


def test_a_loss_sent_to_a_region_without_telemetry_is_not_called_survived(fleet):
    ghostly = with_ghost(fleet)
    need = hourly_need(
        forecast({"eu-west": [100, 100, 100], "na-east": [100, 100, 100]}),
        safe(["eu-west", "na-east"]),
        ghostly,
    )
    losses = {loss.lost: loss for loss in region_loss_survival(need, ghostly)}
    eu = losses["eu-west"]
    assert (eu.survives, eu.status, eu.unchecked) == (None, "not checked", ("ghost",))
    assert eu.describe() == (
        "not checked: ghost, taking its players, has no demand telemetry in the history window, "
        "so whether ghost can carry them is unknown"
    )
    two = ghostly.model_copy(
        update={
            "regions": {**ghostly.regions, "void": ghostly.regions["eu-west"]},
            "failover": {**ghostly.failover, "eu-west": {"ghost": 0.5, "void": 0.5}, "void": {}},
            "current_servers": {**ghostly.current_servers, "void": {"game": 4}},
        }
    )
    both = {loss.lost: loss for loss in region_loss_survival(need, two)}["eu-west"]
    assert both.describe().startswith(
        "not checked: ghost, void, taking its players, have no demand telemetry"
    )
    ghost = losses["ghost"]
    assert (ghost.survives, ghost.status, ghost.unchecked) == (None, "not checked", ("ghost",))
    assert ghost.describe().startswith("not checked: it has no demand telemetry")
    assert (losses["na-east"].survives, losses["na-east"].status) == (True, "survives")
    # the plan's table and its JSON read the same status; survives is null, not true
    frame = region_loss_frame(need, recommend(need, ghostly, now=T0), ghostly).set_index("lost")
    assert frame.loc["eu-west", "now"] == "not checked"
    assert frame.loc["eu-west", "after_actions"] == "not checked"
    assert frame.loc["na-east", "now"] == "survives"
    entry = json.loads(json.dumps(json_safe(eu.record())))
    assert (entry["survives"], entry["status"], entry["unchecked"]) == (
        None,
        "not checked",
        ["ghost"],
    )


def test_a_shortfall_found_without_a_region_is_still_short_and_names_it(fleet):
    ghostly = with_ghost(fleet).model_copy(
        update={
            "failover": {
                "eu-west": {"ghost": 0.5, "na-east": 0.5},
                "na-east": {"eu-west": 1.0},
                "ghost": {"na-east": 1.0},
            }
        }
    )
    need = hourly_need(
        forecast({"eu-west": [3000, 3000, 3000], "na-east": [1000, 1000, 1000]}),
        safe(["eu-west", "na-east"]),
        ghostly,
    )
    eu = {loss.lost: loss for loss in region_loss_survival(need, ghostly)}["eu-west"]
    assert (eu.survives, eu.status, eu.unchecked) == (False, "short", ("ghost",))
    assert eu.describe().endswith("; ghost, taking its players, not checked (no demand telemetry)")


# ------------------------------------------------------------------ requests, not players


def test_an_rps_service_sends_its_requests_not_its_players(fleet):
    rps = fleet.model_copy(
        update={
            "services": {"game": fleet.services["game"].model_copy(update={"demand_metric": "rps"})}
        }
    )
    need = hourly_need(
        forecast({"eu-west": [500, 950, 300], "na-east": [800, 400, 1150]}),
        safe(["eu-west", "na-east"]),
        rps,
    )
    reasons = " ".join(recommend(need, rps, now=T0)["reason"])
    assert "losing na-east sends its requests here" in reasons
    assert "players" not in reasons
    assert carried_text(["rps"]) == "requests"
    assert carried_text(["ccu", "rps"]) == "players and requests"
    lonely = rps.model_copy(update={"failover": {"eu-west": {"na-east": 1.0}}})
    lost = {loss.lost: loss for loss in region_loss_survival(need, lonely)}["na-east"]
    assert lost.describe("requests") == (
        "no failover configured in the fleet file: its requests would not be served"
    )


# ------------------------------------------------------------------ the min_servers floor


def test_the_reason_says_when_min_servers_sets_the_n_plus_k_need(fleet):
    floored = fleet.model_copy(
        update={"redundancy": fleet.redundancy.model_copy(update={"min_servers": 4})}
    )
    need = hourly_need(
        forecast({"eu-west": [100, 100, 100], "na-east": [100, 100, 100]}),
        safe(["eu-west", "na-east"], load=1000.0),
        floored,
    )
    rows = recommend(need, floored, now=T0).set_index("region")
    # 1 for demand, N+1 2: the 4 is min_servers', not the N+1 rule's
    assert (
        "(1 for demand, N+1 2, raised to min_servers 4, region loss 1)"
        in (rows.loc["eu-west", "reason"])
    )
    assert "N+1 4" not in rows.loc["eu-west", "reason"]
    plain = hourly_need(
        forecast({"eu-west": [500, 500, 500], "na-east": [100, 100, 100]}),
        safe(["eu-west", "na-east"]),
        floored,
    )
    reason = recommend(plain, floored, now=T0).set_index("region").loc["eu-west", "reason"]
    assert "(5 for demand, N+1 6, region loss 6)" in reason


# ------------------------------------------------------------------ safe loads to a tenth


def test_sizing_reasons_write_loads_to_a_tenth_as_the_tables_do():
    assert load_text(3160.34) == "3,160.3" and load_text(900) == "900"
    assert load_text(12.96) == "13" and load_text(1234.56) == "1,234.6"
    # below 1, a hundredth: a tenth had written 0.04 requests a second per server as 0
    assert load_text(0.04) == "0.04" and load_text(0.5) == "0.5" and load_text(0.996) == "1"
    loads = pd.Series([float(v) for v in range(1000, 5000, 10)] * 3)
    frame = pd.DataFrame(
        {"load_per_server": loads, "latency_p99_ms": 20 + (loads / 3160.34) ** 4 * 80}
    )
    result = learn_safe_load(frame, slo_ms=100.0, n_boot=0)
    assert result.source == "learned"
    assert f"SLO at {load_text(result.safe_load)} per server" in result.reason
    assert "," in load_text(result.safe_load)
    few = learn_safe_load(frame.head(5), slo_ms=100.0, hint=3000.0, n_boot=0)
    assert few.reason.endswith("using the configured safe_load_hint 3,000")


# ------------------------------------------------------------------ one region


def test_the_only_region_says_no_other_region_can_take_its_players(fleet):
    alone = fleet.model_copy(
        update={
            "regions": {"eu-west": fleet.regions["eu-west"]},
            "failover": {},
            "current_servers": {"eu-west": fleet.current_servers["eu-west"]},
        }
    )
    need = hourly_need(forecast({"eu-west": [100, 100, 100]}), safe(["eu-west"]), alone)
    [loss] = region_loss_survival(need, alone)
    assert (loss.survives, loss.status, loss.only_region) == (False, "only region", True)
    assert loss.describe() == (
        "it is the fleet's only region: no other region can take its players, so they would "
        "not be served"
    )
    frame = region_loss_frame(need, recommend(need, alone, now=T0), alone)
    assert frame["now"].tolist() == ["only region"]
    # two regions without failover: that is the fleet file's choice, and said so
    two = fleet.model_copy(update={"failover": {}})
    need = hourly_need(
        forecast({"eu-west": [100] * 3, "na-east": [100] * 3}), safe(["eu-west", "na-east"]), two
    )
    assert {loss.status for loss in region_loss_survival(need, two)} == {"no failover"}


# ------------------------------------------------------------------ the hint note


def test_the_hint_note_counts_only_the_pairs_sized(capsys):
    from capacity.cli.common import _note_hints

    pairs = [(r, s) for r in ("eu", "na", "ghost") for s in ("api", "game", "chat")]
    hinted = pd.DataFrame(
        {
            "region": [r for r, _ in pairs],
            "service": [s for _, s in pairs],
            "safe_load": 3160.34,
            "source": "hint",
            "reason": "no latency_p99_ms telemetry",
        }
    )
    sized = hinted[hinted["region"] != "ghost"]  # ghost has no demand telemetry: no rows
    _note_hints(hinted, sized.loc[sized.index.repeat(3)])  # a row per hour
    [note] = capsys.readouterr().err.splitlines()
    assert note.startswith("note: 6 of 6 region/services are sized at the fleet file's ")
    assert "ghost" not in note
    _note_hints(hinted, sized.head(1))
    assert capsys.readouterr().err.splitlines() == [
        "note: eu/api is sized at the fleet file's safe_load_hint, 3,160.3 per server, not a "
        "learned value: no latency_p99_ms telemetry"
    ]
