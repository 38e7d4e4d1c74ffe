"""Predictive scaling: schedules, exports, the replay simulator and honest floors.

Every figure here is computed by hand in the comments; forecasts are a seasonal naive or a
recording stub, so the file runs in seconds.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.baselines import SeasonalNaive
from capacity.config import parse_fleet
from capacity.errors import DataError, ParameterError
from capacity.headroom import hourly_need
from capacity.scaling import (
    AWS_MAX_SCHEDULED_ACTIONS,
    PredictivePolicy,
    ReactivePolicy,
    StaticPolicy,
    aws_groups_over_limit,
    boot_lead_hours,
    expected_load,
    floors_from_forecasts,
    predictive_floors,
    quantile_values,
    rolling_forecasts,
    schedule,
    simulate,
    to_aws_scheduled_actions,
    to_csv_text,
    to_keda_yaml,
)

T0 = pd.Timestamp("2026-11-23T00:00:00Z")


def make_fleet(game_boot_minutes: float = 90, chat_boot_minutes: float = 0, k=1, min_servers=3):
    return parse_fleet(
        {
            "regions": {
                "eu-west": {"timezone": "Europe/Berlin"},
                "na-east": {"timezone": "America/New_York"},
            },
            "services": {
                "game": {
                    "demand_metric": "ccu",
                    "server_type": "game-std",
                    "slo": {"latency_p99_ms": 100, "availability": 0.999},
                },
                "chat": {
                    "demand_metric": "rps",
                    "server_type": "chat-std",
                    "slo": {"latency_p99_ms": 50, "availability": 0.995},
                },
            },
            "server_types": {
                "game-std": {
                    "safe_load_hint": 100,
                    "cost_per_hour": 0.5,
                    "boot_lead_time_minutes": game_boot_minutes,
                },
                "chat-std": {
                    "safe_load_hint": 100,
                    "cost_per_hour": 0.1,
                    "boot_lead_time_minutes": chat_boot_minutes,
                },
            },
            "current_servers": {"eu-west": {"game": 10}, "na-east": {"game": 10}},
            "redundancy": {"k": k, "min_servers": min_servers},
            "failover": {"eu-west": {"na-east": 1.0}, "na-east": {"eu-west": 1.0}},
        }
    )


def need_frame(needed, *, region="eu-west", service="game", required=None, start=T0):
    """A frame shaped like hourly_need's output, from hand-picked ``needed`` counts."""
    needed = np.asarray(needed, dtype=int)
    k, minimum = 1, 3
    nk = np.maximum(needed + k, minimum)
    return pd.DataFrame(
        {
            "region": region,
            "service": service,
            "ts": pd.date_range(start, periods=len(needed), freq="h"),
            "demand": needed * 100.0,
            "safe_load": 100.0,
            "needed": needed,
            "needed_nk": nk,
            "required": nk if required is None else np.asarray(required),
        }
    )


# A step in demand at hour 4 that lasts 3 hours.
STEP_NEEDED = [2, 2, 2, 2, 10, 10, 10, 2, 2, 2]
# requirement = max(needed + 1, 3) = [3, 3, 3, 3, 11, 11, 11, 3, 3, 3]


# ----------------------------------------------------------------------------- schedule


def test_boot_lead_hours_rounds_up():
    assert [boot_lead_hours(m) for m in (0, 1, 6, 60, 61, 90, 120)] == [0, 1, 1, 1, 2, 2, 2]


def test_floor_rises_exactly_one_lead_time_ahead_of_a_step():
    fleet = make_fleet(game_boot_minutes=90)  # lead: 2 hours
    out = schedule(need_frame(STEP_NEEDED), fleet)
    # floor[t] = max(requirement[t..t+2]): up at hour 2 (the step is at 4), down at hour 7
    # (the step ends after hour 6, so nothing ahead needs 11 any more).
    assert out["min_servers"].tolist() == [3, 3, 11, 11, 11, 11, 11, 3, 3, 3]
    assert list(out.columns) == ["region", "service", "ts", "min_servers", "demand", "safe_load"]
    assert out["min_servers"].dtype.kind == "i"


def test_no_lead_time_follows_the_requirement():
    fleet = make_fleet(game_boot_minutes=0)
    out = schedule(need_frame(STEP_NEEDED), fleet)
    assert out["min_servers"].tolist() == [3, 3, 3, 3, 11, 11, 11, 3, 3, 3]


def test_a_six_minute_boot_rounds_up_to_one_hour():
    fleet = make_fleet(game_boot_minutes=6)
    out = schedule(need_frame(STEP_NEEDED), fleet)
    assert out["min_servers"].tolist() == [3, 3, 3, 11, 11, 11, 11, 3, 3, 3]


def test_required_adds_the_region_loss_need():
    fleet = make_fleet(game_boot_minutes=0)
    required = [3, 3, 20, 3, 11, 11, 11, 3, 3, 3]
    frame = need_frame(STEP_NEEDED, required=required)
    assert schedule(frame, fleet)["min_servers"].tolist()[2] == 3
    assert schedule(frame, fleet, use="required")["min_servers"].tolist() == required


def test_start_and_hours_cut_the_window_but_look_beyond_it():
    fleet = make_fleet(game_boot_minutes=90)
    out = schedule(need_frame(STEP_NEEDED), fleet, start=T0 + pd.Timedelta(hours=1), hours=2)
    assert out["ts"].tolist() == [T0 + pd.Timedelta(hours=1), T0 + pd.Timedelta(hours=2)]
    # Hour 2 looks ahead to the step at hour 4, outside the two hours kept.
    assert out["min_servers"].tolist() == [3, 11]


def test_each_service_uses_its_own_lead_time():
    fleet = make_fleet(game_boot_minutes=90, chat_boot_minutes=0)
    frame = pd.concat([need_frame(STEP_NEEDED), need_frame(STEP_NEEDED, service="chat")])
    out = schedule(frame, fleet)
    chat = out[out["service"] == "chat"]["min_servers"].tolist()
    game = out[out["service"] == "game"]["min_servers"].tolist()
    assert chat == [3, 3, 3, 3, 11, 11, 11, 3, 3, 3]
    assert game == [3, 3, 11, 11, 11, 11, 11, 3, 3, 3]


def test_schedule_from_hourly_need():
    fleet = make_fleet(game_boot_minutes=6, min_servers=2)
    ts = pd.date_range(T0, periods=4, freq="h")
    forecast = pd.DataFrame(
        {
            "region": ["eu-west"] * 4 + ["na-east"] * 4,
            "service": "game",
            "ts": list(ts) * 2,
            "q0.95": [250.0, 950.0, 120.0, 100.0, 100.0, 100.0, 100.0, 100.0],
        }
    )
    safe = pd.DataFrame({"region": ["eu-west", "na-east"], "service": "game", "safe_load": 100.0})
    need = hourly_need(forecast, safe, fleet)
    out = schedule(need, fleet)
    eu = out[out["region"] == "eu-west"]["min_servers"].tolist()
    # needed [3, 10, 2, 1] -> N+1 [4, 11, 3, 2] -> one hour ahead [11, 11, 3, 2]
    assert eu == [11, 11, 3, 2]
    na = out[out["region"] == "na-east"]["min_servers"].tolist()
    assert na == [2, 2, 2, 2]  # 100 players: 1 server, N+1 2
    with_loss = schedule(need, fleet, use="required")
    # Losing eu-west sends all its players to na-east: [350, 1050, 220, 200] needs
    # [4, 11, 3, 2], one hour ahead [11, 11, 3, 2].
    na_loss = with_loss[with_loss["region"] == "na-east"]["min_servers"].tolist()
    assert na_loss == [11, 11, 3, 2]


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30)), min_size=1, max_size=30),
    boot=st.sampled_from([0, 5, 60, 61, 150]),
    k=st.integers(0, 3),
    min_servers=st.integers(1, 8),
)
def test_more_demand_never_lowers_a_floor(data, boot, k, min_servers):
    fleet = make_fleet(game_boot_minutes=boot, k=k, min_servers=min_servers)
    base = np.array([n for n, _ in data])
    more = base + np.array([extra for _, extra in data])
    low = schedule(need_frame(base), fleet)["min_servers"].to_numpy()
    high = schedule(need_frame(more), fleet)["min_servers"].to_numpy()
    assert (high >= low).all()
    assert (low >= np.maximum(base + k, min_servers)).all()
    assert (high >= np.maximum(more + k, min_servers)).all()


# ----------------------------------------------------------------------------- exports


def two_groups():
    fleet = make_fleet(game_boot_minutes=90)
    frame = pd.concat([need_frame(STEP_NEEDED), need_frame([5, 5, 5, 5, 5, 5], region="na-east")])
    return schedule(frame, fleet)


def test_aws_actions_only_where_the_floor_changes():
    actions = to_aws_scheduled_actions(two_groups())
    # eu-west: 3 (hour 0), 11 (hour 2), 3 (hour 7); na-east: 6 once.
    assert [(a["AutoScalingGroupName"], a["StartTime"], a["MinSize"]) for a in actions] == [
        ("eu-west-game", "2026-11-23T00:00:00Z", 3),
        ("eu-west-game", "2026-11-23T02:00:00Z", 11),
        ("eu-west-game", "2026-11-23T07:00:00Z", 3),
        ("na-east-game", "2026-11-23T00:00:00Z", 6),
    ]
    assert actions[1]["ScheduledActionName"] == "capacity-floor-20261123T0200Z"
    for action in actions:
        assert set(action) == {
            "AutoScalingGroupName",
            "ScheduledActionName",
            "StartTime",
            "MinSize",
        }
        assert isinstance(action["MinSize"], int)


def test_aws_max_size_is_raised_never_lowered():
    actions = to_aws_scheduled_actions(
        two_groups(), group_name_template="lv-{service}-{region}", max_sizes={"lv-game-eu-west": 8}
    )
    eu = [a for a in actions if a["AutoScalingGroupName"] == "lv-game-eu-west"]
    assert [a.get("MaxSize") for a in eu] == [None, 11, None]


def test_aws_actions_leave_out_the_hours_before_now():
    # eu-west floors by hour: 3 3 11 11 11 11 11 3 3 3; na-east: 6 for hours 0-5. At 03:30
    # the hours from 04:00 are left: eu-west starts at 11 and drops to 3 at 07:00.
    expected = [
        ("eu-west-game", "2026-11-23T04:00:00Z", 11),
        ("eu-west-game", "2026-11-23T07:00:00Z", 3),
        ("na-east-game", "2026-11-23T04:00:00Z", 6),
    ]
    for now in (T0 + pd.Timedelta(hours=3, minutes=30), T0 + pd.Timedelta(hours=4)):
        actions = to_aws_scheduled_actions(two_groups(), now=now)
        assert [(a["AutoScalingGroupName"], a["StartTime"], a["MinSize"]) for a in actions] == (
            expected
        )
    assert to_aws_scheduled_actions(two_groups(), now="2026-11-23 03:30") == actions  # naive: UTC
    assert to_aws_scheduled_actions(two_groups(), now=T0 + pd.Timedelta(hours=10)) == []
    with pytest.raises(ParameterError, match="'now'"):
        to_aws_scheduled_actions(two_groups(), now="soon")


def test_aws_groups_over_the_limit_and_where_to_cut():
    # eu-west's floor alternates 3, 4, 3, ... for 130 hours: 130 actions, the 126th at hour 125.
    alternating = pd.DataFrame(
        {
            "region": "eu-west",
            "service": "game",
            "ts": pd.date_range(T0, periods=130, freq="h"),
            "min_servers": [3, 4] * 65,
        }
    )
    frame = pd.concat([alternating, two_groups()[lambda f: f["region"] == "na-east"]])
    actions = to_aws_scheduled_actions(frame, group_name_template="lv-{region}-{service}")
    assert AWS_MAX_SCHEDULED_ACTIONS == 125
    assert aws_groups_over_limit(actions) == {
        "lv-eu-west-game": (130, T0 + pd.Timedelta(hours=125))
    }
    cut = to_aws_scheduled_actions(frame[frame["ts"] < T0 + pd.Timedelta(hours=125)])
    assert aws_groups_over_limit(cut) == {}
    # two_groups: eu-west has 3 actions (00:00, 02:00, 07:00), na-east 1.
    assert aws_groups_over_limit(to_aws_scheduled_actions(two_groups()), limit=2) == {
        "eu-west-game": (3, T0 + pd.Timedelta(hours=7))
    }


def test_aws_group_names_must_differ():
    with pytest.raises(
        ParameterError, match="eu-west/game and na-east/game the same name 'lv-game'"
    ):
        to_aws_scheduled_actions(two_groups(), group_name_template="lv-{service}")
    with pytest.raises(ParameterError, match="'group_name_template' parameter must be a non-empty"):
        to_aws_scheduled_actions(two_groups(), group_name_template="")
    only_eu = two_groups()[lambda f: f["region"] == "eu-west"]
    names = {
        a["AutoScalingGroupName"]
        for a in to_aws_scheduled_actions(only_eu, group_name_template="lv-{service}")
    }
    assert names == {"lv-game"}


def test_keda_refuses_a_schedule_of_a_year_or_more():
    # Cron has no year: a year of hours would give 2026-11-23 and 2027-11-23 the same
    # expressions. 364 days and 23 hours still end on a date of their own.
    def constant(hours):
        return pd.DataFrame(
            {
                "region": "eu-west",
                "service": "game",
                "ts": pd.date_range(T0, periods=hours, freq="h"),
                "min_servers": 4,
            }
        )

    with pytest.raises(ParameterError, match=r"spans 365 days for eu-west/game.*fewer than 365"):
        to_keda_yaml(constant(365 * 24))
    doc = yaml.safe_load(to_keda_yaml(constant(365 * 24 - 1)))
    crons = [t["metadata"] for t in doc["spec"]["triggers"] if t["type"] == "cron"]
    assert [(c["start"], c["end"]) for c in crons] == [("0 0 23 11 *", "0 23 22 11 *")]


def test_keda_yaml_has_one_cron_trigger_per_run():
    # Two levels, crossing midnight: 3 servers 22:00-01:00, then 8 servers 01:00-04:00.
    start = pd.Timestamp("2026-11-23T22:00:00Z")
    frame = pd.DataFrame(
        {
            "region": "eu-west",
            "service": "game",
            "ts": pd.date_range(start, periods=6, freq="h"),
            "min_servers": [3, 3, 3, 8, 8, 8],
            "demand": 100.0,
            "safe_load": 400.0,
        }
    )
    docs = list(yaml.safe_load_all(to_keda_yaml(frame)))
    assert len(docs) == 1
    doc = docs[0]
    assert doc["apiVersion"] == "keda.sh/v1alpha1"
    assert doc["kind"] == "ScaledObject"
    assert doc["metadata"] == {
        "name": "game-eu-west",
        "namespace": "game",
        "labels": {
            "app.kubernetes.io/managed-by": "capacity",
            "capacity/region": "eu-west",
            "capacity/service": "game",
        },
    }
    spec = doc["spec"]
    assert spec["scaleTargetRef"]["name"] == "game-eu-west"
    assert spec["minReplicaCount"] == 3
    assert spec["maxReplicaCount"] == 16
    # never below the servers running now: a cap under them would remove servers at once
    running = {"eu-west": {"game": 40}}
    spec = yaml.safe_load(to_keda_yaml(frame, current_servers=running))["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (3, 40)
    fewer = {"eu-west": {"game": 12}, "na-east": {"game": 99}}
    assert (
        yaml.safe_load(to_keda_yaml(frame, current_servers=fewer))["spec"]["maxReplicaCount"] == 16
    )
    crons = [t["metadata"] for t in spec["triggers"] if t["type"] == "cron"]
    assert crons == [
        {"timezone": "UTC", "start": "0 22 23 11 *", "end": "0 1 24 11 *", "desiredReplicas": "3"},
        {"timezone": "UTC", "start": "0 1 24 11 *", "end": "0 4 24 11 *", "desiredReplicas": "8"},
    ]
    reactive = [t for t in spec["triggers"] if t["type"] != "cron"]
    assert reactive == [
        {
            "type": "cpu",
            "name": "reactive",
            "metricType": "Utilization",
            "metadata": {"value": "70"},
        }
    ]
    scale_down = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    assert scale_down["stabilizationWindowSeconds"] == 3600
    assert all(p["periodSeconds"] <= 1800 for p in scale_down["policies"])

    prom = yaml.safe_load(to_keda_yaml(frame, trigger="prometheus"))
    trigger = prom["spec"]["triggers"][-1]
    assert trigger["type"] == "prometheus"
    assert trigger["metadata"]["threshold"] == "280"  # 0.7 x 400 per replica
    assert 'region="eu-west"' in trigger["metadata"]["query"]


def test_keda_yaml_one_document_per_group():
    docs = list(yaml.safe_load_all(to_keda_yaml(two_groups(), namespace="lv")))
    assert [d["metadata"]["name"] for d in docs] == ["game-eu-west", "game-na-east"]
    assert {d["metadata"]["namespace"] for d in docs} == {"lv"}
    # eu-west collapses into three runs: 3, 11, 3.
    eu = [t for t in docs[0]["spec"]["triggers"] if t["type"] == "cron"]
    assert [t["metadata"]["desiredReplicas"] for t in eu] == ["3", "11", "3"]


def test_csv_text():
    text = to_csv_text(two_groups())
    lines = text.splitlines()
    assert lines[0] == "region,service,ts,min_servers,demand,safe_load"
    assert lines[1] == "eu-west,game,2026-11-23T00:00:00Z,3,200.0,100.0"
    assert len(lines) == 1 + 10 + 6
    assert text.endswith("\n")


# ----------------------------------------------------------------------------- simulator

HOURS6 = pd.date_range(T0, periods=6, freq="h")
DEMAND6 = pd.Series([100.0, 100.0, 300.0, 300.0, 100.0, 100.0], index=HOURS6)
# Target 1 (servers = load / safe load), 1 hour late, no cooldown, half the servers per hour.
QUICK = ReactivePolicy(
    target_utilisation=1.0, delay_hours=1, cooldown_hours=0, scale_in_step=0.5, min_servers=1
)


def test_static_policy_figures():
    result = simulate(DEMAND6, safe_load=100, policy=StaticPolicy(3))
    assert result.policy == "static"
    assert result.hours == 6
    assert result.server_hours == 18
    assert result.under_provisioned_hours == 0
    assert result.worst_shortfall == 0
    # utilisation 1/3, 1/3, 1, 1, 1/3, 1/3
    assert result.mean_utilisation == pytest.approx((4 / 3 + 2) / 6)
    assert result.hourly["servers"].tolist() == [3] * 6


def test_reactive_policy_figures():
    result = simulate(DEMAND6, safe_load=100, policy=QUICK)
    # Hour t sees demand[t - 1]: wants 1, 1, 1, 3, 3, 1. Hour 2 is short by 2 (300 on 1
    # server); hour 5 scales in by max(1, floor(0.5 x 3)) = 1, to 2.
    assert result.hourly["servers"].tolist() == [1, 1, 1, 3, 3, 2]
    assert result.server_hours == 11
    assert result.under_provisioned_hours == 1
    assert result.worst_shortfall == 2
    assert result.hourly["under_provisioned"].tolist() == [False, False, True] + [False] * 3
    assert result.mean_utilisation == pytest.approx((1 + 1 + 3 + 1 + 1 / 3 + 1 / 2) / 6)


def test_reactive_cooldown_and_scale_in_step():
    demand = pd.Series([300.0, 100, 100, 100, 100, 100], index=HOURS6)
    policy = ReactivePolicy(
        target_utilisation=1.0, delay_hours=0, cooldown_hours=2, scale_in_step=0.5, min_servers=1
    )
    # Scale out to 3 at hour 0; hours 1 and 2 are the cooldown; then one server per hour
    # (floor(0.5 x 3) = 1, floor(0.5 x 2) = 1) down to the 1 wanted.
    result = simulate(demand, safe_load=100, policy=policy)
    assert result.hourly["servers"].tolist() == [3, 3, 3, 2, 1, 1]


def test_reactive_target_leaves_headroom():
    # 0.5 target: ceil(100 / 50) = 2 servers for 100 of load.
    policy = ReactivePolicy(target_utilisation=0.5, delay_hours=0, min_servers=1)
    result = simulate(DEMAND6, safe_load=100, policy=policy)
    assert result.hourly["servers"].tolist()[:3] == [2, 2, 6]


def test_predictive_policy_figures():
    floors = pd.Series([1, 1, 3, 3, 1, 1], index=HOURS6)
    result = simulate(DEMAND6, safe_load=100, policy=PredictivePolicy(floors, QUICK))
    # The floor lifts hour 2 to 3; the reactive part holds 3 through hour 4 (it sees 300 at
    # hours 3 and 4) and scales in by one at hour 5.
    assert result.policy == "predictive"
    assert result.hourly["servers"].tolist() == [1, 1, 3, 3, 3, 2]
    assert result.server_hours == 13
    assert result.under_provisioned_hours == 0
    assert result.worst_shortfall == 0
    assert result.mean_utilisation == pytest.approx((1 + 1 + 1 + 1 + 1 / 3 + 1 / 2) / 6)


def test_predictive_policy_projects_what_it_saw_along_the_expected_load():
    floors = pd.Series([1] * 6, index=HOURS6)
    # The forecast has the right shape at half the level. Hour t sizes for
    # demand[t - 1] x expected[t] / expected[t - 1]: 100, 100, 300, 300, 100, 100, so the ramp
    # at hour 2 is met on time (plain reactive has 1 server there). Scale-in: 3 -> 2 -> 1.
    expected = pd.Series([50.0, 50, 150, 150, 50, 50], index=HOURS6)
    result = simulate(
        DEMAND6, safe_load=100, policy=PredictivePolicy(floors, QUICK, expected=expected)
    )
    assert result.hourly["servers"].tolist() == [1, 1, 3, 3, 2, 1]
    assert result.under_provisioned_hours == 0
    plain = simulate(DEMAND6, safe_load=100, policy=PredictivePolicy(floors, QUICK))
    assert plain.hourly["servers"].tolist() == [1, 1, 1, 3, 3, 2]
    assert plain.under_provisioned_hours == 1


def test_projection_keeps_the_observed_level():
    # Demand runs at twice the forecast: the projection scales what it saw, so it sizes for
    # the actual level, not the forecast's: 200, 200, 600, 600, 200, 200. Scale-in from 6 by
    # floor(0.5 x 6) = 3 to 3, then by 1 to the 2 wanted.
    expected = pd.Series([50.0, 50, 150, 150, 50, 50], index=HOURS6)
    demand = 2 * DEMAND6
    policy = PredictivePolicy(pd.Series([1] * 6, index=HOURS6), QUICK, expected=expected)
    result = simulate(demand, safe_load=100, policy=policy)
    assert result.hourly["servers"].tolist() == [2, 2, 6, 6, 3, 2]
    assert result.under_provisioned_hours == 0


def test_projection_falls_back_to_the_observed_load_where_expected_is_unusable():
    # Unknown at hour 0 and 0 at hour 1: hours 1 and 2 use the observed load as is.
    expected = pd.Series([np.nan, 0.0, 150, 150, 50, 50], index=HOURS6)
    policy = PredictivePolicy(pd.Series([1] * 6, index=HOURS6), QUICK, expected=expected)
    result = simulate(DEMAND6, safe_load=100, policy=policy)
    assert result.hourly["servers"].tolist() == [1, 1, 1, 3, 2, 1]
    # Expected hours outside the demand are ignored; a missing hour falls back too.
    partial = PredictivePolicy(
        pd.Series([1] * 6, index=HOURS6), QUICK, expected=pd.Series([150.0], index=HOURS6[2:3])
    )
    assert simulate(DEMAND6, safe_load=100, policy=partial).hourly["servers"].tolist() == [
        1,
        1,
        1,
        3,
        3,
        2,
    ]


def test_start_scores_only_later_hours_and_unknown_demand_is_not_short():
    demand = DEMAND6.copy()
    demand.iloc[4] = np.nan
    result = simulate(demand, safe_load=100, policy=QUICK, start=HOURS6[2])
    # Servers [1, 1, 3, 3, 3]: hour 5 sees NaN at hour 4 and holds 3.
    assert result.hours == 4
    assert result.hourly["servers"].tolist() == [1, 3, 3, 3]
    assert result.server_hours == 10
    assert result.under_provisioned_hours == 1
    assert result.hourly["shortfall"].tolist() == [2, 0, 0, 0]
    assert math.isnan(result.hourly["utilisation"].iloc[2])
    assert result.mean_utilisation == pytest.approx((3 + 1 + 1 / 3) / 3)
    assert set(result.summary()) == {
        "policy",
        "hours",
        "server_hours",
        "under_provisioned_hours",
        "worst_shortfall",
        "mean_utilisation",
    }


# ----------------------------------------------------------------------------- floors


HISTORY_START = pd.Timestamp("2026-11-01T00:00:00Z")


def periodic_history(days=10):
    ts = pd.date_range(HISTORY_START, periods=24 * days, freq="h")
    values = np.tile(np.r_[np.full(12, 100.0), np.full(12, 500.0)], days)
    return pd.DataFrame({"ts": ts, "value": values})


def test_floors_from_a_seasonal_naive_by_hand():
    history = periodic_history()
    start = pd.Timestamp("2026-11-08T00:00:00Z")
    floors = predictive_floors(
        history,
        start=start,
        days=2,
        safe_load=100,
        k=1,
        min_servers=2,
        boot_hours=1,
        forecaster_factory=lambda: SeasonalNaive(24),
    )
    # A perfectly periodic series: every quantile equals the last day. Need 1 server in the
    # first half of the day, 5 in the second; N+1 gives 2 and 6; one hour ahead, hour 11 rises.
    day = [2] * 11 + [6] * 13
    assert floors.tolist() == day * 2
    assert floors.index[0] == start
    assert len(floors) == 48
    assert floors.index.is_monotonic_increasing


class Recording:
    """A forecaster stub that records what it was fitted on and forecasts a constant."""

    calls: ClassVar[list[dict]] = []

    def __init__(self, level=250.0):
        self.level = level

    def fit(self, series, events=None, **kwargs):
        self.last_ = series["ts"].max()
        Recording.calls.append(
            {
                "last": self.last_,
                "rows": len(series),
                "max_value": series["value"].max(),
                "events": None if events is None else sorted(events["name"]),
                "kwargs": kwargs,
            }
        )
        return self

    def predict(self, horizon):
        ts = pd.date_range(self.last_ + pd.Timedelta(hours=1), periods=horizon, freq="h")
        return pd.DataFrame({"ts": ts, "yhat": self.level, "q0.95": self.level})


def test_floors_never_see_data_at_or_after_their_day():
    Recording.calls = []
    history = periodic_history(days=10)
    start = pd.Timestamp("2026-11-06T00:00:00Z")
    # Poison every value from the replay on: a fit that sees one of them records 1e9.
    poisoned = history.copy()
    poisoned.loc[poisoned["ts"] >= start, "value"] = 1e9
    events = pd.DataFrame(
        {
            "name": ["announced launch", "outage later", "outage before"],
            "kind": ["launch", "outage", "outage"],
            "start_ts": [
                start + pd.Timedelta(hours=30),
                start + pd.Timedelta(hours=30),
                start - pd.Timedelta(hours=5),
            ],
            "end_ts": [
                start + pd.Timedelta(hours=40),
                start + pd.Timedelta(hours=33),
                start - pd.Timedelta(hours=4),
            ],
        }
    )
    floors = predictive_floors(
        poisoned,
        start=start,
        days=3,
        safe_load=100,
        boot_hours=2,
        forecaster_factory=Recording,
        events=events,
        fit_kwargs={"timezone": "UTC"},
    )
    cutoffs = [start + pd.Timedelta(days=d) for d in range(3)]
    assert [c["last"] for c in Recording.calls] == [c - pd.Timedelta(hours=1) for c in cutoffs]
    first_day = Recording.calls[0]
    assert first_day["max_value"] == 500.0  # nothing from the poisoned future
    assert first_day["rows"] == 5 * 24
    # A planned event is visible once it starts within the horizon (24 + 2 h): the launch at
    # +30 h from day 1. An outage only once it has started: the later one from day 2.
    assert first_day["events"] == ["outage before"]
    assert Recording.calls[1]["events"] == ["announced launch", "outage before"]
    assert Recording.calls[2]["events"] == ["announced launch", "outage before", "outage later"]
    assert all(c["kwargs"] == {"timezone": "UTC"} for c in Recording.calls)
    # 250 of demand on 100 per server: 3, plus 1 spare.
    assert floors.tolist() == [4] * 72


class Bands:
    """A forecaster stub: median ``100 x (step + 1)``, q0.05 half of it and q0.9 twice it."""

    def fit(self, series, events=None, **kwargs):
        self.last_ = series["ts"].max()
        return self

    def predict(self, horizon):
        ts = pd.date_range(self.last_ + pd.Timedelta(hours=1), periods=horizon, freq="h")
        median = 100.0 * np.arange(1, horizon + 1)
        return pd.DataFrame(
            {"ts": ts, "q0.05": median / 2, "q0.5": median, "q0.9": 2 * median, "model": "stub"}
        )


def test_quantile_values_reads_or_interpolates_in_the_normal_score():
    forecast = pd.DataFrame(
        {"q0.05": [50.0, 100.0], "q0.5": [100.0, 200.0], "q0.9": [200.0, 400.0], "yhat": 0.0}
    )
    assert quantile_values(forecast, 0.5).tolist() == [100.0, 200.0]
    z = NormalDist().inv_cdf
    up = z(0.75) / z(0.9)  # 0.5263
    assert quantile_values(forecast, 0.75) == pytest.approx([100 + up * 100, 200 + up * 200])
    down = (z(0.25) - z(0.05)) / -z(0.05)  # 0.5899
    assert quantile_values(forecast, 0.25) == pytest.approx([50 + down * 50, 100 + down * 100])
    with pytest.raises(ParameterError, match=r"forecaster's quantiles \(q0\.05, q0\.5, q0\.9\)"):
        quantile_values(forecast, 0.95)
    with pytest.raises(ParameterError, match="'quantile'"):
        quantile_values(forecast, 1.0)


def test_rolling_forecasts_floors_and_expected_load():
    history = periodic_history(days=10)
    start = pd.Timestamp("2026-11-06T00:00:00Z")
    forecasts = rolling_forecasts(
        history, start=start, days=2, lead_hours=2, forecaster_factory=Bands
    )
    assert len(forecasts) == 2 * 26
    assert forecasts["cutoff"].drop_duplicates().tolist() == [start, start + pd.Timedelta(days=1)]
    assert list(forecasts.columns[:2]) == ["cutoff", "ts"]
    expected = expected_load(forecasts)
    assert len(expected) == 48
    assert expected.index[0] == start
    # The first 24 hours of each day: 100 ... 2400, twice.
    assert expected.tolist() == [100.0 * h for h in range(1, 25)] * 2
    # Floors at an interpolated q0.75 (not reported): 100 x (h + 1) x (1 + 0.5263) on 100 per
    # server, N+1, two hours ahead. Hour 0 looks at hours 0 to 2: ceil(3 x 1.5263) + 1 = 6.
    floors = floors_from_forecasts(forecasts, safe_load=100, boot_hours=2, quantile=0.75)
    assert len(floors) == 48
    assert floors.iloc[0] == 6
    same = predictive_floors(
        history,
        start=start,
        days=2,
        safe_load=100,
        boot_hours=2,
        quantile=0.75,
        forecaster_factory=Bands,
    )
    pd.testing.assert_series_equal(floors, same)


def test_max_history_hours_limits_the_fit():
    Recording.calls = []
    predictive_floors(
        periodic_history(days=10),
        start="2026-11-06",
        days=1,
        safe_load=100,
        forecaster_factory=Recording,
        max_history_hours=48,
    )
    assert Recording.calls[0]["rows"] == 48


def test_floors_fill_gaps_with_nan_on_the_grid():
    Recording.calls = []
    history = periodic_history(days=4).drop(index=[10, 11, 95])  # 95: the last hour
    predictive_floors(
        history, start="2026-11-05", days=1, safe_load=100, forecaster_factory=Recording
    )
    assert Recording.calls[0]["rows"] == 96
    assert Recording.calls[0]["last"] == pd.Timestamp("2026-11-04T23:00:00Z")


# ----------------------------------------------------------------------------- bad inputs


def test_policy_parameters_are_checked_in_one_voice():
    with pytest.raises(
        ParameterError, match=r"The 'target_utilisation' parameter must be in \(0, 1\]\. Got 1\.4\."
    ):
        ReactivePolicy(target_utilisation=1.4)
    with pytest.raises(ParameterError, match="'delay_hours'"):
        ReactivePolicy(delay_hours=-1)
    with pytest.raises(ParameterError, match="'scale_in_step'"):
        ReactivePolicy(scale_in_step=0)
    with pytest.raises(ParameterError, match="'min_servers'"):
        ReactivePolicy(min_servers=0)
    with pytest.raises(ParameterError, match="'servers'"):
        StaticPolicy(0)
    with pytest.raises(ParameterError, match="'servers'"):
        StaticPolicy(2.5)
    with pytest.raises(ParameterError, match="'floors'"):
        PredictivePolicy([1, 2, 3])
    with pytest.raises(ParameterError, match="tz-aware"):
        PredictivePolicy(pd.Series([1, 2], index=pd.date_range("2026-01-01", periods=2, freq="h")))
    with pytest.raises(ParameterError, match="'reactive'"):
        PredictivePolicy(pd.Series([1], index=HOURS6[:1]), reactive=StaticPolicy(3))
    with pytest.raises(ParameterError, match="'expected'"):
        PredictivePolicy(pd.Series([1], index=HOURS6[:1]), expected=[100.0])
    with pytest.raises(ParameterError, match="'expected' parameter must hold finite values"):
        PredictivePolicy(
            pd.Series([1], index=HOURS6[:1]), expected=pd.Series([-1.0], index=HOURS6[:1])
        )
    with pytest.raises(ParameterError, match="tz-aware"):
        PredictivePolicy(
            pd.Series([1], index=HOURS6[:1]),
            expected=pd.Series([1.0], index=HOURS6[:1].tz_localize(None)),
        )


def test_simulate_refuses_bad_input():
    with pytest.raises(ParameterError, match="'safe_load'"):
        simulate(DEMAND6, safe_load=0, policy=StaticPolicy(3))
    with pytest.raises(ParameterError, match="'policy'"):
        simulate(DEMAND6, safe_load=100, policy="reactive")
    with pytest.raises(ParameterError, match="tz-aware"):
        simulate(DEMAND6.tz_localize(None), safe_load=100, policy=StaticPolicy(3))
    with pytest.raises(ParameterError, match="'demand'"):
        simulate([1, 2, 3], safe_load=100, policy=StaticPolicy(3))
    with pytest.raises(ParameterError, match=">= 0"):
        simulate(DEMAND6 - 200, safe_load=100, policy=StaticPolicy(3))
    with pytest.raises(ParameterError, match="'start'"):
        simulate(DEMAND6, safe_load=100, policy=StaticPolicy(3), start="2027-01-01")
    with pytest.raises(DataError, match="hourly"):
        simulate(DEMAND6.iloc[[0, 2, 3]], safe_load=100, policy=StaticPolicy(3))
    short = PredictivePolicy(pd.Series([3, 3], index=HOURS6[:2]), QUICK)
    with pytest.raises(ParameterError, match="cover every scored hour"):
        simulate(DEMAND6, safe_load=100, policy=short)


def test_schedule_refuses_bad_input():
    fleet = make_fleet()
    frame = need_frame(STEP_NEEDED)
    with pytest.raises(ParameterError, match="'use'"):
        schedule(frame, fleet, use="needed")
    with pytest.raises(ParameterError, match="'hours'"):
        schedule(frame, fleet, hours=0)
    with pytest.raises(ParameterError, match="whole hour"):
        schedule(frame, fleet, start=T0 + pd.Timedelta(minutes=30))
    with pytest.raises(ParameterError, match="no hour"):
        schedule(frame, fleet, start=T0 + pd.Timedelta(days=2))
    with pytest.raises(ParameterError, match="Missing: needed"):
        schedule(frame.drop(columns="needed"), fleet)
    with pytest.raises(ParameterError, match="services the fleet does not have: web"):
        schedule(need_frame(STEP_NEEDED, service="web"), fleet)
    with pytest.raises(DataError, match="regular hourly grid"):
        schedule(frame.drop(index=3), fleet)
    with pytest.raises(ParameterError, match="'fleet'"):
        schedule(frame, {"k": 1})


def test_exports_refuse_bad_input():
    out = two_groups()
    with pytest.raises(ParameterError, match="'group_name_template'"):
        to_aws_scheduled_actions(out, group_name_template="{zone}")
    with pytest.raises(ParameterError, match="'trigger'"):
        to_keda_yaml(out, trigger="memory")
    with pytest.raises(ParameterError, match="'max_replicas_factor'"):
        to_keda_yaml(out, max_replicas_factor=0.5)
    with pytest.raises(ParameterError, match="'current_servers' parameter must give whole"):
        to_keda_yaml(out, current_servers={"eu-west": {"game": -1}})
    with pytest.raises(ParameterError, match="'current_servers' parameter must map each region"):
        to_keda_yaml(out, current_servers={"eu-west": 10})
    with pytest.raises(ParameterError, match="Missing: min_servers"):
        to_csv_text(out.drop(columns="min_servers"))
    with pytest.raises(ParameterError, match="'minutes'"):
        boot_lead_hours(-1)


def test_predictive_floors_refuse_bad_input():
    history = periodic_history(days=10)
    good = {"start": "2026-11-08", "days": 1, "safe_load": 100}
    naive = {"forecaster_factory": lambda: SeasonalNaive(24)}
    with pytest.raises(ParameterError, match="'days'"):
        predictive_floors(history, **{**good, "days": 0}, **naive)
    with pytest.raises(ParameterError, match="'quantile'"):
        predictive_floors(history, **good, quantile=1.5, **naive)
    with pytest.raises(ParameterError, match=r"forecaster's quantiles \(q0\.5\)"):
        predictive_floors(
            history, **good, forecaster_factory=lambda: SeasonalNaive(24, quantiles=(0.5,))
        )
    with pytest.raises(DataError, match="no row before start"):
        predictive_floors(history, **{**good, "start": "2026-10-01"}, **naive)
    half_hourly = history.assign(ts=history["ts"] + pd.Timedelta(minutes=30))
    with pytest.raises(DataError, match="whole hours"):
        predictive_floors(half_hourly, **good, **naive)
    with pytest.raises(ParameterError, match="Missing: value"):
        predictive_floors(history.drop(columns="value"), **good, **naive)
    with pytest.raises(ParameterError, match="'forecaster_factory'"):
        predictive_floors(history, **good, forecaster_factory=SeasonalNaive(24))
