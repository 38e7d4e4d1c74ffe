"""The AWS export against EC2 Auto Scaling's API, and the names AWS would refuse.

The API's rules below were read from botocore's service model for ``autoscaling`` (botocore
1.44): the input shapes of ``PutScheduledUpdateGroupAction`` and
``BatchPutScheduledUpdateGroupAction``, and the documentation of ``CreateAutoScalingGroup``
(a group's name is ASCII 33 to 126 without ':') and of the batch call (at most 50 actions).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from capacity.errors import ParameterError
from capacity.scaling import aws_groups_over_limit, to_aws_scheduled_actions

T0 = pd.Timestamp("2026-12-31T20:00:00Z")

# PutScheduledUpdateGroupActionType: its members, the two it requires, and their types.
PUT_MEMBERS = {
    "AutoScalingGroupName": str,
    "ScheduledActionName": str,
    "Time": str,
    "StartTime": str,
    "EndTime": str,
    "Recurrence": str,
    "MinSize": int,
    "MaxSize": int,
    "DesiredCapacity": int,
    "TimeZone": str,
}
PUT_REQUIRED = {"AutoScalingGroupName", "ScheduledActionName"}
# ScheduledUpdateGroupActionRequest: a batch entry has no group name of its own.
BATCH_ENTRY_MEMBERS = set(PUT_MEMBERS) - {"AutoScalingGroupName", "Time"}
BATCH_MAX = 50
NAME_MAX = 255
# StartTime: "in YYYY-MM-DDThh:mm:ssZ format in UTC/GMT only"
START_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def hourly(floors: list[int], *, region: str = "eu-west", service: str = "game") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": region,
            "service": service,
            "ts": pd.date_range(T0, periods=len(floors), freq="h"),
            "min_servers": floors,
        }
    )


def check_put_input(action: dict) -> None:
    assert PUT_REQUIRED <= set(action) <= set(PUT_MEMBERS)
    for key, value in action.items():
        assert type(value) is PUT_MEMBERS[key], key  # int, not numpy.int64 nor bool
    for key in ("AutoScalingGroupName", "ScheduledActionName"):
        assert 1 <= len(action[key]) <= NAME_MAX
    assert START_TIME.fullmatch(action["StartTime"])
    assert "DesiredCapacity" not in action  # the reactive policy keeps deciding above it


def test_every_action_is_a_valid_put_input_and_a_floor_per_hour_is_kept():
    # A floor that changes every hour across the year's end: one action per hour, each the
    # hour's floor, names distinct within the group, times in order and ISO UTC.
    floors = [3, 4, 5, 4, 3, 6, 7, 8, 3, 4]
    frame = pd.concat([hourly(floors), hourly([5] * 10, region="na-east")])
    actions = to_aws_scheduled_actions(
        frame, group_name_template="lv-{region}-{service}", max_sizes={"lv-eu-west-game": 6}
    )
    for action in actions:
        check_put_input(action)
    eu = [a for a in actions if a["AutoScalingGroupName"] == "lv-eu-west-game"]
    assert [a["MinSize"] for a in eu] == floors
    assert [a["StartTime"] for a in eu][3:5] == ["2026-12-31T23:00:00Z", "2027-01-01T00:00:00Z"]
    assert eu[4]["ScheduledActionName"] == "capacity-floor-20270101T0000Z"
    assert len({a["ScheduledActionName"] for a in eu}) == len(eu)
    # MaxSize rises with the floor past the group's 6 (7 at 01:00, 8 at 02:00), never falls
    assert [a.get("MaxSize") for a in eu] == [None] * 6 + [7, 8, None, None]


def test_batches_as_the_docs_build_them_are_valid_batch_inputs():
    # docs/scaling.md: group by AutoScalingGroupName, drop that key, at most 50 a call.
    frame = hourly([3, 4] * 60)  # 120 actions for one group
    actions = to_aws_scheduled_actions(frame)
    batches = []
    for group in sorted({a["AutoScalingGroupName"] for a in actions}):
        entries = [
            {k: v for k, v in a.items() if k != "AutoScalingGroupName"}
            for a in actions
            if a["AutoScalingGroupName"] == group
        ]
        batches += [
            {"AutoScalingGroupName": group, "ScheduledUpdateGroupActions": entries[i : i + 50]}
            for i in range(0, len(entries), BATCH_MAX)
        ]
    assert [len(b["ScheduledUpdateGroupActions"]) for b in batches] == [50, 50, 20]
    for batch in batches:
        for entry in batch["ScheduledUpdateGroupActions"]:
            assert "ScheduledActionName" in entry
            assert set(entry) <= BATCH_ENTRY_MEMBERS
    assert aws_groups_over_limit(actions) == {}


def test_a_group_name_aws_refuses_is_refused_before_any_action():
    frame = hourly([3, 4])
    for template, problem in (
        ("lv {region}-{service}", "the character ' '"),
        ("lv:{region}:{service}", "the character ':'"),
        ("lv-{region}-{service}-\u00e9t\u00e9", "the character"),
        ("{region}-{service}-" + "x" * 250, "263 characters, more than 255"),
    ):
        with pytest.raises(ParameterError, match="Auto Scaling group name") as caught:
            to_aws_scheduled_actions(frame, group_name_template=template)
        assert problem in str(caught.value)
        assert "eu-west/game" in str(caught.value)
    # the longest name AWS takes still goes through
    name = "{region}-{service}-" + "x" * (255 - len("eu-west-game-"))
    (action, _) = to_aws_scheduled_actions(frame, group_name_template=name)
    assert len(action["AutoScalingGroupName"]) == 255


def test_an_action_name_stays_within_255_characters():
    frame = hourly([3, 4])
    longest = to_aws_scheduled_actions(frame, action_prefix="p" * 240)
    assert {len(a["ScheduledActionName"]) for a in longest} == {255}
    with pytest.raises(ParameterError, match=r"'action_prefix' parameter must be .* at most 240"):
        to_aws_scheduled_actions(frame, action_prefix="p" * 241)


def test_max_sizes_must_be_whole_numbers():
    frame = hourly([3, 4])
    with pytest.raises(ParameterError, match="'max_sizes' parameter must give whole numbers"):
        to_aws_scheduled_actions(frame, max_sizes={"eu-west-game": "900"})
    with pytest.raises(ParameterError, match="'max_sizes' parameter must map"):
        to_aws_scheduled_actions(frame, max_sizes=[("eu-west-game", 900)])


def test_the_cli_refuses_a_group_name_aws_refuses_before_it_forecasts(tmp_path: Path):
    store = tmp_path / "never.duckdb"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "capacity", "schedule", "--db", str(store)),
            *("--config", "data/demo/fleet.yaml", "--format", "aws"),
            *("--group-name", "lv {region}-{service}"),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: The '--group-name' parameter gives ")
    assert "which AWS refuses: it has the character ' '" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not store.exists()


def test_max_actions_fits_a_group_by_raising_the_floors_that_change_least():
    # A week of a daily cycle with a one-server wobble: 168 actions, more than AWS's 125.
    # With max_actions=125 each group gets at most 125, and every hour keeps at least its floor.
    hour = pd.Series(range(168))
    floors = (10 + 8 * ((hour % 24) >= 12) + (hour % 2)).tolist()
    frame = pd.concat([hourly(floors), hourly([5] * 168, region="na-east")])
    plain = to_aws_scheduled_actions(frame)
    assert aws_groups_over_limit(plain) == {"eu-west-game": (168, T0 + pd.Timedelta(hours=125))}
    actions = to_aws_scheduled_actions(frame, max_actions=125)
    assert aws_groups_over_limit(actions) == {}
    eu = [a for a in actions if a["AutoScalingGroupName"] == "eu-west-game"]
    # each merge fills a 1-server dip of 1 hour, which joins the runs either side of it: 22
    # merges remove 44 actions for 22 server-hours
    assert len(eu) == 124
    applied = pd.Series(
        [a["MinSize"] for a in eu], index=pd.DatetimeIndex([a["StartTime"] for a in eu])
    ).reindex(pd.date_range(T0, periods=168, freq="h"), method="ffill")
    assert (applied.to_numpy() >= floors).all()
    assert int(applied.sum()) - sum(floors) == 22
    for action in actions:
        check_put_input(action)
    assert [a for a in actions if a["AutoScalingGroupName"] == "na-east-game"] == [
        a for a in plain if a["AutoScalingGroupName"] == "na-east-game"
    ]
    # room for other scheduled actions; a single action holds the peak throughout
    assert len(to_aws_scheduled_actions(frame, max_actions=100)) == 100 + 1
    [only] = to_aws_scheduled_actions(hourly(floors), max_actions=1)
    assert only["MinSize"] == max(floors)
    for bad in (0, 126, 2.5, True):
        with pytest.raises(ParameterError, match="'max_actions'"):
            to_aws_scheduled_actions(frame, max_actions=bad)


def test_fit_floors_merges_the_cheapest_neighbours_and_never_lowers():
    from capacity.scaling.aws import fit_floors

    # runs: 5 (2h), 4 (1h), 5 (1h), 9 (1h), 2 (3h): merging 4 into its 5s costs 1 server-hour
    assert fit_floors([5, 5, 4, 5, 9, 2, 2, 2], 3).tolist() == [5, 5, 5, 5, 9, 2, 2, 2]
    # 2 runs left: 5 -> 9 costs 16, 9 -> 2 costs 21
    assert fit_floors([5, 5, 4, 5, 9, 2, 2, 2], 2).tolist() == [9, 9, 9, 9, 9, 2, 2, 2]
    assert fit_floors([3, 4, 3], 5).tolist() == [3, 4, 3]
    assert fit_floors([3.0, 4.0], 1).tolist() == [4, 4]
    # 2.7 had been cut to 2, a floor lowered; NaN a bare ValueError
    for bad in ([2.7, 3], [1, float("nan")], [-1, 2], [[1, 2]]):
        with pytest.raises(ParameterError, match="'floors' parameter must be a sequence of whole"):
            fit_floors(bad, 2)


def test_a_template_may_only_use_the_plain_fields():
    # Python's format syntax wrote something other than the name: '{region[0]}' gave 'e', a
    # name AWS accepts but no operator meant, '{region!r}' quoted it.
    from capacity.scaling import to_keda_yaml

    frame = hourly([3, 4])
    for template in (
        "{region[0]}-{service}",
        "{region!r}-{service}",
        "{region:>12}-{service}",
        "{region.upper}-{service}",
        "{}-{service}",
        "{zone}-{service}",
    ):
        with pytest.raises(ParameterError, match="only use the fields") as caught:
            to_aws_scheduled_actions(frame, group_name_template=template)
        assert template.split("-")[0] in str(caught.value)
        with pytest.raises(ParameterError, match="only use the fields"):
            to_keda_yaml(frame, deployment_template=template.lower())
    [action] = to_aws_scheduled_actions(
        hourly([3]), group_name_template="lv{{x}}-{region}-{service}"
    )
    assert action["AutoScalingGroupName"] == "lv{x}-eu-west-game"
