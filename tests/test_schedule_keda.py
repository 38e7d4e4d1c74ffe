"""The KEDA export as KEDA runs it: every hour's replicas are the schedule's floor.

KEDA's cron scaler (``pkg/scalers/cron_scaler.go``) asks its cron library for the next time
after now that ``start`` fires and the next time ``end`` fires; the trigger is active when
the end comes first, and then reports ``desiredReplicas``, otherwise 1. KEDA hands every
trigger to one HPA, which runs the largest count any trigger asks for, never below
``minReplicaCount``. ``keda_replicas`` below does the same with a small reader of the one
cron form the export writes (``minute hour day month *``); the tests check it against the
floor at the start, the middle and the last second of every hour. (The HPA's 10 % tolerance
is left out here: docs/scaling.md says what it does to a floor.)
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml

from capacity.errors import ParameterError
from capacity.scaling import to_keda_yaml

CRON = re.compile(r"(\d{1,2}) (\d{1,2}) (\d{1,2}) (\d{1,2}) \*")


def next_fire(expression: str, after: datetime, zone: str = "UTC") -> datetime:
    """The first time strictly after ``after`` that ``minute hour day month *`` fires on the
    clock of ``zone``."""
    clock = ZoneInfo(zone)
    match = CRON.fullmatch(expression)
    assert match, f"not a dated five-field cron expression: {expression!r}"
    minute, hour, day, month = map(int, match.groups())
    assert 0 <= minute < 60 and 0 <= hour < 24 and 1 <= day <= 31 and 1 <= month <= 12
    for year in range(after.year, after.year + 9):  # 29 February comes within 8 years
        try:
            fire = datetime(year, month, day, hour, minute, tzinfo=clock)
        except ValueError:  # a date this year does not have
            continue
        if fire > after:
            return fire
    raise AssertionError(f"{expression!r} never fires after {after}")


def keda_replicas(document: dict, at: datetime) -> int:
    """The replicas KEDA's HPA asks for at ``at`` from the cron triggers and the minimum."""
    spec = document["spec"]
    asked = [spec["minReplicaCount"]]
    for trigger in spec["triggers"]:
        if trigger["type"] != "cron":
            continue
        meta = trigger["metadata"]
        zone = meta["timezone"]
        active = next_fire(meta["end"], at, zone) < next_fire(meta["start"], at, zone)
        asked.append(int(meta["desiredReplicas"]) if active else 1)
    return max(asked)


def frame(start: str, floors: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": "eu-west",
            "service": "game",
            "ts": pd.date_range(pd.Timestamp(start), periods=len(floors), freq="h"),
            "min_servers": floors,
        }
    )


def check_every_hour(plan: pd.DataFrame, *, step: int = 1) -> dict:
    (document,) = yaml.safe_load_all(to_keda_yaml(plan))
    for trigger in document["spec"]["triggers"]:
        if trigger["type"] == "cron":
            meta = trigger["metadata"]
            assert meta["timezone"] in ("UTC", "Etc/GMT+12")
            assert all(isinstance(value, str) for value in meta.values())
    names = [t["name"] for t in document["spec"]["triggers"]]
    assert len(set(names)) == len(names)
    for ts, floor in list(zip(plan["ts"], plan["min_servers"], strict=True))[::step]:
        hour = ts.to_pydatetime()
        for at in (hour, hour + timedelta(minutes=30), hour + timedelta(minutes=59, seconds=59)):
            assert keda_replicas(document, at) == floor, at
    return document


def test_a_floor_that_changes_every_hour_across_the_year_end():
    floors = [4, 7, 5, 9, 3, 8, 6, 10, 4, 12, 5, 3] * 4  # 48 hours from 31 December 00:00
    document = check_every_hour(frame("2026-12-31T00:00:00Z", floors))
    crons = [t for t in document["spec"]["triggers"] if t["type"] == "cron"]
    assert len(crons) == 48
    assert document["spec"]["minReplicaCount"] == 3
    # after the last window the lowest floor holds, until the dates come round a year later
    end = datetime(2027, 1, 2, tzinfo=UTC)
    assert keda_replicas(document, end + timedelta(minutes=1)) == 3
    assert keda_replicas(document, end.replace(year=2027, month=12, day=31, hour=1)) == 7


def test_windows_that_start_on_a_leap_day_end_when_they_should():
    # 29 February comes round only in 2032: a window from 29 February to 1 March written in
    # UTC would stay active after its end. 28 February 12:00 to 3 March 00:00, 2028.
    floors = [5] * 20 + [9] * 10 + [6] * 30 + [3] * 24
    document = check_every_hour(frame("2028-02-28T12:00:00Z", floors))
    crons = [t["metadata"] for t in document["spec"]["triggers"] if t["type"] == "cron"]
    assert [(c["timezone"], c["start"], c["end"], c["desiredReplicas"]) for c in crons] == [
        ("UTC", "0 12 28 2 *", "0 8 29 2 *", "5"),
        ("UTC", "0 8 29 2 *", "0 18 29 2 *", "9"),
        # 18:00 to midnight UTC is 06:00 to 12:00 on 29 February on a UTC-12 clock
        ("Etc/GMT+12", "0 6 29 2 *", "0 12 29 2 *", "6"),
        ("UTC", "0 0 1 3 *", "0 0 2 3 *", "6"),
        ("UTC", "0 0 2 3 *", "0 0 3 3 *", "3"),
    ]
    # a whole leap day at one floor: 28 February 12:00 to 29 February 12:00 at UTC-12
    document = check_every_hour(frame("2028-02-29T00:00:00Z", [4] * 48))
    crons = [t["metadata"] for t in document["spec"]["triggers"] if t["type"] == "cron"]
    assert [(c["timezone"], c["start"], c["end"]) for c in crons] == [
        ("Etc/GMT+12", "0 12 28 2 *", "0 12 29 2 *"),
        ("UTC", "0 0 1 3 *", "0 0 2 3 *"),
    ]


def test_the_longest_schedule_keda_takes_holds_its_floor_every_hour():
    # 364 days and 23 hours from 23 November 2027, over 29 February 2028, the floor changing
    # every 12 hours: no window's dates come round again before the schedule ends.
    hours = 365 * 24 - 1
    floors = [3 + (i // 12) % 7 for i in range(hours)]
    check_every_hour(frame("2027-11-23T00:00:00Z", floors), step=11)


def two_regions() -> pd.DataFrame:
    return pd.concat(
        [frame("2026-11-23T00:00:00Z", [3, 4]), frame("2026-11-23T00:00:00Z", [5, 6])]
    ).assign(region=["eu-west"] * 2 + ["na-east"] * 2)


def test_names_kubernetes_refuses_are_refused():
    plan = two_regions()
    with pytest.raises(ParameterError, match="gives eu-west/game and na-east/game the same name"):
        to_keda_yaml(plan, deployment_template="{service}")
    for template, problem in (
        ("{service}_{region}", "a character other than a-z, 0-9 and '-'"),
        ("Game-{region}", "a character other than"),
        ("{service}-{region}-", "'-' at an end"),
        ("{service}-{region}-" + "x" * 60, "73 characters, more than 63"),
    ):
        with pytest.raises(ParameterError, match="which Kubernetes refuses") as caught:
            to_keda_yaml(plan, deployment_template=template)
        assert problem in str(caught.value)
    with pytest.raises(ParameterError, match="'namespace' parameter gives the objects the name"):
        to_keda_yaml(plan, namespace="Game")
    upper = plan.assign(region="EU West")
    with pytest.raises(ParameterError, match="region 'EU West', which cannot be the value"):
        to_keda_yaml(upper, deployment_template="game-{service}")
    # a valid name of 63 characters goes through
    name = "{service}-{region}-" + "x" * (63 - len("game-na-east-"))
    docs = list(yaml.safe_load_all(to_keda_yaml(plan, deployment_template=name)))
    assert [len(d["metadata"]["name"]) for d in docs] == [63, 63]


def hpa_proposal(running: int, floor: int, tolerance: float) -> int:
    """The HPA's count for one cron metric (an external metric, target average value 1):
    the floor, unless it asks for no more than ``tolerance`` away from what runs."""
    ratio = floor / running
    return running if abs(1 - ratio) <= tolerance else math.ceil(floor)


def test_the_hpa_tolerance_and_scale_up_tolerance():
    # By default (tolerance 0.1) a floor of 742 moves 674 replicas but not 675: the floor
    # holds within 10 %. With scale_up_tolerance=0 the HPA goes to the floor from any count.
    assert hpa_proposal(674, 742, 0.1) == 742
    assert hpa_proposal(675, 742, 0.1) == 675
    assert hpa_proposal(741, 742, 0.0) == 742
    plan = frame("2026-11-23T00:00:00Z", [742, 742, 800])
    behavior = yaml.safe_load(to_keda_yaml(plan))["spec"]["advanced"][
        "horizontalPodAutoscalerConfig"
    ]["behavior"]
    assert set(behavior) == {"scaleDown"}
    exact = yaml.safe_load(to_keda_yaml(plan, scale_up_tolerance=0))["spec"]["advanced"]
    behavior = exact["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleUp"] == {"tolerance": "0"}  # a quantity as a string, not a float
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 3600
    loose = yaml.safe_load(to_keda_yaml(plan, scale_up_tolerance=0.02))["spec"]["advanced"]
    assert loose["horizontalPodAutoscalerConfig"]["behavior"]["scaleUp"] == {"tolerance": "0.02"}
    for bad in (-0.1, float("nan"), float("inf"), True, "0"):
        with pytest.raises(ParameterError, match="'scale_up_tolerance' parameter must be"):
            to_keda_yaml(plan, scale_up_tolerance=bad)


def test_objects_plain_kubectl_apply_refuses_are_named():
    # Plain kubectl apply keeps each object as JSON in an annotation of at most 256 KiB: a
    # floor that changes every hour for 80 days (1,920 cron triggers) is larger and was
    # written without a word; a week is far below it.
    from capacity.scaling.keda import (
        KUBECTL_APPLY_MAX_BYTES,
        keda_objects_too_large,
        kubectl_apply_warning,
    )

    assert KUBECTL_APPLY_MAX_BYTES == 262144
    week = to_keda_yaml(frame("2026-11-23T00:00Z", [3, 4] * 84))
    assert keda_objects_too_large(week) == {}
    long = to_keda_yaml(frame("2026-11-23T00:00Z", [3, 4] * 960))
    [(name, size)] = keda_objects_too_large(long).items()
    assert name == "game-eu-west" and size > KUBECTL_APPLY_MAX_BYTES
    [document] = yaml.safe_load_all(long)
    assert len(document["spec"]["triggers"]) == 1920 + 1
    assert kubectl_apply_warning(week) is None
    warning = kubectl_apply_warning(long)
    assert warning is not None
    assert warning.startswith("1 ScaledObject is larger than the 256 KiB")
    assert f"game-eu-west ({math.ceil(size / 1024):,} KiB)" in warning
    # just over the limit reads as over it, not as the 256 KiB it exceeds
    just_over = {"metadata": {"name": "edge"}, "spec": "x" * (KUBECTL_APPLY_MAX_BYTES - 20)}
    edge = kubectl_apply_warning(yaml.safe_dump(just_over))
    assert edge is not None and "edge (257 KiB)" in edge
    assert "kubectl apply --server-side" in warning
