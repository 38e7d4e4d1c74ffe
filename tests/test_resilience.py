"""Tests of capacity.resilience: incident and deploy logs, availability, burn, MTTR, MTBF, CFR.

Every figure is checked against a small example computed by hand; the numbers are beside the
data that produce them.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from capacity.config import load_fleet, parse_fleet
from capacity.errors import DataError, ParameterError
from capacity.resilience import (
    ALERT_STATES,
    DEPLOY_COLUMNS,
    INCIDENT_COLUMNS,
    JSON_KEYS,
    KPI_COLUMNS,
    SEVERITIES,
    TREND_COLUMNS,
    alert_state,
    kpis,
    kpis_json,
    read_deploys,
    read_incidents,
    trend,
)

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"

# Two regions, two services: game at 99.9 % (budget 0.001), chat at 99 % (budget 0.01).
FLEET = parse_fleet(
    {
        "regions": {
            "eu-west": {"timezone": "Europe/Berlin"},
            "na-east": {"timezone": "America/New_York"},
        },
        "services": {
            "game": {
                "demand_metric": "ccu",
                "server_type": "std",
                "slo": {"latency_p99_ms": 100, "availability": 0.999},
            },
            "chat": {
                "demand_metric": "rps",
                "server_type": "std",
                "slo": {"latency_p99_ms": 50, "availability": 0.99},
            },
        },
        "server_types": {
            "std": {"safe_load_hint": 100, "cost_per_hour": 1, "boot_lead_time_minutes": 5}
        },
        "current_servers": {},
        "failover": {"eu-west": {"na-east": 1.0}, "na-east": {"eu-west": 1.0}},
    }
)
REGIONS, SERVICES = set(FLEET.regions), set(FLEET.services)

INC_HEADER = (
    "incident_id,region,service,severity,started_at,detected_at,resolved_at,cause,deploy_id"
)
DEP_HEADER = "deploy_id,region,service,deployed_at,change"
T0 = pd.Timestamp("2026-01-05T00:00Z")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def at(hours: float) -> str:
    """ISO text of T0 + hours."""
    return (T0 + pd.Timedelta(hours=hours)).isoformat()


def incident_row(
    iid: str,
    *,
    start_h: float,
    repair_min: float | None,
    detect_min: float = 5,
    region: str = "eu-west",
    service: str = "game",
    severity: str = "sev2",
    deploy: str = "",
) -> str:
    start = T0 + pd.Timedelta(hours=start_h)
    detected = (start + pd.Timedelta(minutes=detect_min)).isoformat()
    resolved = "" if repair_min is None else (start + pd.Timedelta(minutes=repair_min)).isoformat()
    return (
        f"{iid},{region},{service},{severity},{start.isoformat()},{detected},{resolved},"
        f"cause,{deploy}"
    )


def incidents_of(tmp_path: Path, *rows: str, **kwargs) -> pd.DataFrame:
    path = tmp_path / "incidents.csv"
    path.write_text("\n".join((INC_HEADER, *rows)) + "\n", encoding="utf-8")
    return read_incidents(path, regions=REGIONS, services=SERVICES, **kwargs)


def deploys_of(tmp_path: Path, *rows: str) -> pd.DataFrame:
    path = tmp_path / "deploys.csv"
    path.write_text("\n".join((DEP_HEADER, *rows)) + "\n", encoding="utf-8")
    return read_deploys(path, regions=REGIONS, services=SERVICES)


def rates(region: str, service: str, start_h: int, values: list[float | None]) -> pd.DataFrame:
    """Hourly error rates from T0 + start_h; None leaves the hour out (no row at all)."""
    rows = [
        (T0 + pd.Timedelta(hours=start_h + i), region, service, "error_rate", v)
        for i, v in enumerate(values)
        if v is not None
    ]
    return pd.DataFrame(rows, columns=["ts", "region", "service", "metric", "value"])


def no_rates() -> pd.DataFrame:
    return rates("eu-west", "game", 0, [])


def row(frame: pd.DataFrame, region: str, service: str) -> pd.Series:
    match = frame[(frame["region"] == region) & (frame["service"] == service)]
    assert len(match) == 1, frame[["region", "service"]]
    return match.iloc[0]


def error_of(call, *parts: str) -> str:
    with pytest.raises(DataError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    return message


# --------------------------------------------------------------------------- reading: good


def test_incident_csv_is_typed_sorted_and_complete(tmp_path):
    path = write(
        tmp_path,
        "inc.csv",
        f"""
        {INC_HEADER}
        I-2,na-east,chat,SEV3,2026-01-05T12:00:00+01:00,2026-01-05T12:05+01:00,,,D-1
        I-1,eu-west,game,sev1,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,"db, down",
        """,
    )
    frame = read_incidents(path, regions=REGIONS, services=SERVICES, deploy_ids={"D-1"})
    assert tuple(frame.columns) == INCIDENT_COLUMNS
    assert list(frame["incident_id"]) == ["I-1", "I-2"]  # sorted by start: 09:00Z, 11:00Z
    first, second = frame.iloc[0], frame.iloc[1]
    assert str(frame["started_at"].dtype) == "datetime64[us, UTC]"
    assert second["started_at"] == pd.Timestamp("2026-01-05T11:00Z")  # offset applied exactly
    assert second["severity"] == "sev3"  # case folded
    assert pd.isna(second["resolved_at"])  # an open incident
    assert first["cause"] == "db, down" and second["cause"] is None
    assert first["deploy_id"] is None and second["deploy_id"] == "D-1"


def test_optional_columns_may_be_left_out(tmp_path):
    path = write(
        tmp_path,
        "inc.csv",
        """
        incident_id,region,service,severity,started_at,detected_at,resolved_at
        I-1,eu-west,game,sev4,2026-01-05T09:00Z,2026-01-05T09:00Z,2026-01-05T09:00Z
        """,
    )
    frame = read_incidents(path)
    assert frame["cause"].tolist() == [None] and frame["deploy_id"].tolist() == [None]
    deploys = write(
        tmp_path, "dep.csv", "deploy_id,region,service,deployed_at\nD-1,x,y,2026-01-05T09:00Z\n"
    )
    frame = read_deploys(deploys)
    assert tuple(frame.columns) == DEPLOY_COLUMNS
    assert frame["change"].tolist() == [None]


def test_yaml_logs_read_like_csv(tmp_path):
    csv_path = write(
        tmp_path,
        "inc.csv",
        f"""
        {INC_HEADER}
        I-1,eu-west,game,sev1,2026-01-05T09:00:00+00:00,2026-01-05T09:10+00:00,2026-01-05T10:00Z,x,D-1
        """,
    )
    yaml_path = write(
        tmp_path,
        "inc.yaml",
        """
        incidents:
          - incident_id: I-1
            region: eu-west
            service: game
            severity: sev1
            started_at: 2026-01-05T09:00:00+00:00
            detected_at: 2026-01-05T09:10+00:00
            resolved_at: "2026-01-05T10:00Z"
            cause: x
            deploy_id: D-1
        """,
    )
    from_csv = read_incidents(csv_path, deploy_ids=["D-1"])
    from_yaml = read_incidents(yaml_path, deploy_ids=["D-1"])
    pd.testing.assert_frame_equal(from_csv, from_yaml)

    deploys = write(
        tmp_path,
        "dep.yml",
        """
        - deploy_id: D-1
          region: eu-west
          service: game
          deployed_at: 2026-01-05T08:00:00Z
        """,
    )
    frame = read_deploys(deploys, regions=REGIONS, services=SERVICES)
    assert frame["deployed_at"].tolist() == [pd.Timestamp("2026-01-05T08:00Z")]


def test_identical_duplicates_collapse(tmp_path):
    line = incident_row("I-1", start_h=0, repair_min=30)
    frame = incidents_of(tmp_path, line, line)
    assert len(frame) == 1
    dep = "D-1,eu-west,game,2026-01-05T08:00Z,patch"
    assert len(deploys_of(tmp_path, dep, dep)) == 1


def test_naive_times_are_read_in_tz(tmp_path):
    path = write(
        tmp_path,
        "dep.csv",
        f"""
        {DEP_HEADER}
        D-1,eu-west,game,2026-01-05 09:00,
        D-2,eu-west,game,2026-07-05T09:00:00,
        """,
    )
    frame = read_deploys(path, tz="Europe/Berlin")
    # Berlin is UTC+1 in January and UTC+2 in July.
    assert frame["deployed_at"].tolist() == [
        pd.Timestamp("2026-01-05T08:00Z"),
        pd.Timestamp("2026-07-05T07:00Z"),
    ]


def test_empty_logs_give_empty_typed_frames(tmp_path):
    frame = read_incidents(write(tmp_path, "inc.csv", INC_HEADER + "\n"))
    assert frame.empty and tuple(frame.columns) == INCIDENT_COLUMNS
    frame = read_deploys(write(tmp_path, "dep.yaml", "deploys: []\n"))
    assert frame.empty and str(frame["deployed_at"].dtype) == "datetime64[us, UTC]"


# --------------------------------------------------------------------------- reading: bad

GOOD = "I-1,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,"


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        (
            "I-1,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T08:00Z,,",
            ["resolved_at 2026-01-05 08:00Z is before started_at 2026-01-05 09:00Z", "Fix:"],
        ),
        (
            "I-1,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T08:59Z,2026-01-05T10:00Z,,",
            ["detected_at 2026-01-05 08:59Z is before started_at", "Fix:"],
        ),
        (
            "I-1,eu-wst,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,",
            ["unknown region 'eu-wst'", "did you mean 'eu-west'?"],
        ),
        (
            "I-1,eu-west,gmae,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,",
            ["unknown service 'gmae'", "did you mean 'game'?"],
        ),
        (
            "I-1,eu-west,game,P1,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,",
            ["severity 'P1' is not one of sev1, sev2, sev3, sev4"],
        ),
        (
            "I-1,eu-west,game,sev5,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,",
            ["severity 'sev5'"],
        ),
        (
            "I-1,eu-west,game,sev2,2026-01-05 09:00,2026-01-05T09:10Z,2026-01-05T10:00Z,,",
            ["started_at '2026-01-05 09:00' has no time zone", "tz="],
        ),
        (
            "I-1,eu-west,game,sev2,2026-01-05T09:00Z,yesterday,2026-01-05T10:00Z,,",
            ["detected_at 'yesterday' is not an ISO 8601 date-time"],
        ),
        (
            "I-1,eu-west,game,sev2,2026-01-05,2026-01-05T09:10Z,2026-01-05T10:00Z,,",
            ["started_at '2026-01-05' is a date without a time"],
        ),
        (
            "I-1,eu-west,game,sev2,,2026-01-05T09:10Z,2026-01-05T10:00Z,,",
            ["started_at is empty"],
        ),
        (
            "I-1,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,D-9",
            ["deploy_id 'D-9' names no known deploy", "did you mean 'D-1'?", "import"],
        ),
        (
            ",eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,",
            ["incident_id is empty"],
        ),
        (
            "I-1,eu-west,game,sev2,2096-01-05T09:00Z,2096-01-05T09:10Z,2096-01-05T10:00Z,,",
            ["started_at 2096-01-05 09:00Z is in the future", "check the year"],
        ),
        ("I-1,eu-west,game", ["has 3 fields but the header has 9"]),
    ],
)
def test_bad_incident_rows_name_file_line_and_problem(tmp_path, line, parts):
    path = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{GOOD.replace('I-1', 'I-0')}\n{line}\n")
    message = error_of(
        lambda: read_incidents(path, regions=REGIONS, services=SERVICES, deploy_ids=["D-1"]),
        "incidents.csv: line 3:",
        *parts,
    )
    assert "Fix:" in message


def test_conflicting_duplicate_names_both_lines(tmp_path):
    other = GOOD.replace("sev2", "sev3")
    path = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{GOOD}\n{GOOD}\n{other}\n")
    error_of(
        lambda: read_incidents(path),
        "incidents.csv: line 4:",
        "incident_id 'I-1' is also used on line 2 with a different severity ('sev2' vs 'sev3')",
    )
    dep = write(
        tmp_path,
        "deploys.csv",
        f"{DEP_HEADER}\nD-1,eu-west,game,2026-01-05T08:00Z,a\nD-1,eu-west,game,2026-01-05T09:00Z,a\n",
    )
    error_of(
        lambda: read_deploys(dep),
        "deploys.csv: line 3:",
        "deploy_id 'D-1' is also used on line 2 with a different deployed_at",
        "2026-01-05 08:00Z",
    )


def test_missing_and_unknown_columns(tmp_path):
    header = INC_HEADER.replace("detected_at,", "")
    path = write(tmp_path, "incidents.csv", header + "\n")
    error_of(
        lambda: read_incidents(path),
        "incidents.csv: line 1:",
        "required column 'detected_at' is missing",
        "Fix: add the column 'detected_at'; an incident log needs incident_id, region,",
    )
    path = write(tmp_path, "incidents.csv", INC_HEADER.replace("cause", "causes") + "\n")
    error_of(
        lambda: read_incidents(path),
        "line 1",
        "unknown column 'causes'",
        "'cause'? the columns of an incident log are",
    )
    path = write(tmp_path, "deploys.csv", "deploy_id,region,service,change\n")
    error_of(lambda: read_deploys(path), "deploys.csv: line 1:", "'deployed_at' is missing")
    path = write(tmp_path, "deploys.csv", "deploy_id,region,service,deployed_at,region\n")
    error_of(lambda: read_deploys(path), "column 'region' appears more than once")
    # a log separated by semicolons is told so (it was called one unknown column)
    path = write(tmp_path, "deploys.csv", "deploy_id;region;service;deployed_at\n")
    error_of(
        lambda: read_deploys(path),
        "deploys.csv: line 1:",
        "the header is one column holding ';'",
        "Fix: separate the columns with commas, not ';'",
    )
    path = write(tmp_path, "incidents.csv", INC_HEADER.replace(",", "\t") + "\n")
    error_of(lambda: read_incidents(path), "Fix: separate the columns with commas, not '\\t'")


def test_bad_deploy_rows(tmp_path):
    cases = [
        ("D-1,mars,game,2026-01-05T08:00Z,", "unknown region 'mars'"),
        ("D-1,eu-west,game,2026-01-05T08:00,", "deployed_at '2026-01-05T08:00' has no time zone"),
        ("D-1,eu-west,game,soon,", "deployed_at 'soon' is not an ISO 8601 date-time"),
        ("D-1,eu-west,web,2026-01-05T08:00Z,", "unknown service 'web'"),
        ("D-1,eu-west,game,2106-01-05T08:00Z,", "deployed_at 2106-01-05 08:00Z is in the future"),
    ]
    for line, part in cases:
        path = write(tmp_path, "deploys.csv", f"{DEP_HEADER}\n{line}\n")
        error_of(
            lambda p=path: read_deploys(p, regions=REGIONS, services=SERVICES),
            "deploys.csv: line 2:",
            part,
            "Fix:",
        )


def test_yaml_errors_name_the_line_of_the_item(tmp_path):
    path = write(
        tmp_path,
        "incidents.yaml",
        """
        incidents:
          - incident_id: I-1
            region: eu-west
            service: game
            severity: sev2
            started_at: 2026-01-05T09:00:00Z
            detected_at: 2026-01-05T09:10:00Z
            resolved_at: 2026-01-05T10:00:00Z
          - incident_id: I-2
            region: eu-west
            service: game
            severity: sev2
            started_at: 2026-01-05T09:00:00Z
            detected_at: 2026-01-05T09:10:00Z
            resolved_at: 2026-01-05T08:00:00Z
        """,
    )
    error_of(lambda: read_incidents(path), "incidents.yaml: line 9:", "resolved_at", "before")
    path = write(tmp_path, "deploys.yaml", "deployments:\n  - deploy_id: D-1\n")
    error_of(lambda: read_deploys(path), "deploys.yaml", "unknown top-level key 'deployments'")
    path = write(tmp_path, "deploys.yaml", "- deploy_id: D-1\n  region: eu-west\n  service: game\n")
    error_of(lambda: read_deploys(path), "deploys.yaml: line 1:", "'deployed_at' is missing")
    path = write(tmp_path, "deploys.yaml", "- [1, 2]\n")
    error_of(lambda: read_deploys(path), "deploys.yaml: line 1:", "expected a mapping")
    path = write(tmp_path, "deploys.yaml", "- deploy_id: [D\n")
    error_of(lambda: read_deploys(path), "deploys.yaml", "not valid YAML")


def test_file_level_problems(tmp_path):
    error_of(lambda: read_incidents(tmp_path / "nope.csv"), "nope.csv: file not found")
    path = write(tmp_path, "incidents.txt", INC_HEADER + "\n")
    error_of(lambda: read_incidents(path), "unsupported file type '.txt'", ".csv, .yaml or .yml")
    path = write(tmp_path, "incidents.csv", "")
    error_of(lambda: read_incidents(path), "the file is empty", "incident_id,region")
    path = write(tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-1,eu-west,game,2026-03-29T02:30,\n")
    error_of(lambda: read_deploys(path, tz="Europe/Berlin"), "line 2", "does not exist")
    with pytest.raises(ParameterError, match="The 'tz' parameter must be an IANA time zone"):
        read_deploys(path, tz="Mars/Olympus")


# --------------------------------------------------------------------------- incident figures


def test_mttr_mttd_mtbf_and_severity_counts(tmp_path):
    incidents = incidents_of(
        tmp_path,
        # eu-west/game: repairs 30, 60, 90 min -> MTTR 60, median 60; detections 5, 10, 15 min ->
        # MTTD 10; starts at 0 h, 10 h, 20 h -> MTBF 10 h; sev1 once, sev2 twice.
        incident_row("A", start_h=0, repair_min=30, detect_min=5, severity="sev1"),
        incident_row("B", start_h=10, repair_min=60, detect_min=10),
        incident_row("C", start_h=20, repair_min=90, detect_min=15),
        # na-east/chat: repairs 10, 20, 90 -> MTTR 40, median 20; starts 1 h and 7 h and 4 h
        # (unsorted on purpose) -> MTBF (7 - 1) / 2 = 3 h.
        incident_row("D", start_h=1, repair_min=10, region="na-east", service="chat"),
        incident_row("E", start_h=7, repair_min=20, region="na-east", service="chat"),
        incident_row("F", start_h=4, repair_min=90, region="na-east", service="chat"),
        # eu-west/chat: one incident, still open -> counted, no MTTR, no MTBF.
        incident_row(
            "G", start_h=3, repair_min=None, detect_min=6, service="chat", severity="sev4"
        ),
        # Outside the window [T0, T0 + 24 h): not counted.
        incident_row("H", start_h=24, repair_min=600),
        incident_row("I", start_h=-1, repair_min=600),
    )
    frame = kpis(incidents, None, no_rates(), FLEET, since=T0, until=T0 + pd.Timedelta(hours=24))
    game = row(frame, "eu-west", "game")
    assert game["mttr_minutes"] == pytest.approx(60)
    assert game["mttr_median_minutes"] == pytest.approx(60)
    assert game["mttd_minutes"] == pytest.approx(10)
    assert game["mtbf_hours"] == pytest.approx(10)
    assert game["incidents"] == 3
    assert (game["incidents_sev1"], game["incidents_sev2"], game["incidents_sev3"]) == (1, 2, 0)

    chat = row(frame, "na-east", "chat")
    assert chat["mttr_minutes"] == pytest.approx(40)
    assert chat["mttr_median_minutes"] == pytest.approx(20)
    assert chat["mtbf_hours"] == pytest.approx(3)

    open_one = row(frame, "eu-west", "chat")
    assert open_one["incidents"] == 1 and open_one["incidents_sev4"] == 1
    assert open_one["mttd_minutes"] == pytest.approx(6)
    assert math.isnan(open_one["mttr_minutes"]) and math.isnan(open_one["mtbf_hours"])

    # Overall: 7 incidents; repairs 30, 60, 90, 10, 20, 90 -> mean 50, median 45; starts
    # 0, 1, 3, 4, 7, 10, 20 h, but G, open from 3 h, lasts until the window's end (24 h): the
    # incidents at 4, 7, 10 and 20 h start while it is open, so 3 failures, at 0, 1 and 3 h
    # -> MTBF 3 / 2 h.
    overall = row(frame, "all", "all")
    assert overall["incidents"] == 7
    assert overall["mttr_minutes"] == pytest.approx(50)
    assert overall["mttr_median_minutes"] == pytest.approx(45)
    assert (overall["failures"], overall["mtbf_hours"]) == (3, pytest.approx(1.5))
    assert sum(overall[f"incidents_{s}"] for s in SEVERITIES) == 7


def test_overlapping_incidents_are_one_failure_of_the_group_that_holds_them(tmp_path):
    """An outage opening an incident in each of a region's services had counted as several
    failures minutes apart: the region's and the fleet's MTBF read 0.1 h in a quiet month."""
    incidents = incidents_of(
        tmp_path,
        # one outage of eu-west: game 2:00-3:00, chat 2:05-2:30, chat again 2:50-4:00 (it
        # starts before game's ends, so the failure runs on to 4:00)
        incident_row("A", start_h=2, repair_min=60),
        incident_row("B", start_h=2 + 5 / 60, repair_min=25, service="chat"),
        incident_row("C", start_h=2 + 50 / 60, repair_min=70, service="chat"),
        # chat again at 4:00, as the outage ends: the same failure (it starts as it ends)
        incident_row("D", start_h=4, repair_min=30, service="chat"),
        # a failure of its own at 14:00, and one at 20:00 in na-east
        incident_row("E", start_h=14, repair_min=30),
        incident_row("F", start_h=20, repair_min=30, region="na-east"),
        # an incident still open at the window's end (24:00) lasts until then: the one that
        # starts at 23:00, while it is open, is part of its failure
        incident_row("G", start_h=22, repair_min=None, region="na-east"),
        incident_row("H", start_h=23, repair_min=10, region="na-east"),
    )
    day = {"since": T0, "until": T0 + pd.Timedelta(hours=24)}
    by_region = kpis(incidents, None, no_rates(), FLEET, by="region", **day)
    eu = row(by_region, "eu-west", "all")
    assert (eu["incidents"], eu["failures"]) == (5, 2)
    assert eu["mtbf_hours"] == pytest.approx(14 - 2)  # failures start at 2:00 and 14:00
    na = row(by_region, "na-east", "all")
    assert (na["incidents"], na["incidents_open"], na["failures"]) == (3, 1, 2)
    assert na["mtbf_hours"] == pytest.approx(22 - 20)
    fleet = row(by_region, "all", "all")
    assert (fleet["incidents"], fleet["failures"]) == (8, 4)
    assert fleet["mtbf_hours"] == pytest.approx((22 - 2) / 3)  # 2, 14, 20, 22
    # per series, the same rule: eu-west/chat's 2:50 and 4:00 incidents touch, 2:05 is apart
    series = kpis(incidents, None, no_rates(), FLEET, **day)
    chat = row(series, "eu-west", "chat")
    assert (chat["incidents"], chat["failures"]) == (3, 2)
    assert chat["mtbf_hours"] == pytest.approx(45 / 60)
    game = row(series, "eu-west", "game")
    assert (game["failures"], game["mtbf_hours"]) == (2, pytest.approx(12))
    as_json = {(o["region"], o["service"]): o for o in kpis_json(by_region)}
    assert as_json[("all", "all")]["failures"] == 4


def _plan_resilience(tmp_path: Path, log: Path, cutoff: pd.Timestamp) -> dict:
    """The weekly plan's resilience section at ``cutoff``, from a store of two days of
    eu-west/game error rates and the incident ``log``."""
    from capacity.store import Store
    from capacity.weekly import _resilience

    with Store(tmp_path / "store.duckdb") as store:
        store.ingest_frame(rates("eu-west", "game", 0, [0.0002] * 48), source="t", fleet=FLEET)
        store.import_incidents([log], fleet=FLEET)
        return _resilience(store, FLEET, cutoff)


def test_an_outage_still_open_at_the_plans_cutoff_is_one_failure(tmp_path):
    """An outage of eu-west still going on at the plan's cutoff (T0 + 2 days = 48 h): its
    game, chat and chat-again incidents opened at 47:00, 47:10 and 47:20 and were resolved
    at 49:00, after the cutoff, so the plan sees all three open. Counted as lasting no time,
    they were three failures 10 minutes apart (MTBF 10/60 h); open until the cutoff, they
    overlap: one failure, MTBF null. With an earlier resolved failure of eu-west/game at
    10:00-10:30, eu-west has 2 failures, at 10:00 and 47:00: MTBF 37 h (it was
    (47.333 - 10) / 3 = 12.44 h). The fleet row (na-east quiet) reads the same."""

    cutoff = T0 + pd.Timedelta(days=2)
    log = write(
        tmp_path,
        "incidents.csv",
        f"""\
        {INC_HEADER}
        A,eu-west,game,sev2,{at(10)},{at(10.1)},{at(10.5)},,
        B,eu-west,game,sev1,{at(47)},{at(47.05)},{at(49)},,
        C,eu-west,chat,sev1,{at(47 + 10 / 60)},{at(47.2)},{at(49)},,
        D,eu-west,chat,sev2,{at(47 + 20 / 60)},{at(47.4)},{at(49)},,
        """,
    )
    section = _plan_resilience(tmp_path, log, cutoff)
    figures = section["resilience"]
    games = row(figures, "eu-west", "game")
    assert (games["incidents"], games["incidents_open"], games["failures"]) == (2, 1, 2)
    assert games["mtbf_hours"] == pytest.approx(37)
    whole = kpis(
        _as_seen(tmp_path, cutoff), None, no_rates(), FLEET, by="region",
        since=cutoff - pd.Timedelta(weeks=4), until=cutoff,
    )  # fmt: skip
    for region, service in (("eu-west", "all"), ("all", "all")):
        group = row(whole, region, service)
        assert (group["incidents"], group["incidents_open"], group["failures"]) == (4, 3, 2)
        assert group["mtbf_hours"] == pytest.approx(37)


def test_kpis_says_an_incident_without_resolved_at_is_counted_open_until_until(tmp_path):
    import yaml
    from click.testing import CliRunner

    from capacity.cli import cli
    from capacity.store import Store

    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump(FLEET.model_dump(mode="json")), encoding="utf-8")
    log = write(
        tmp_path,
        "incidents.csv",
        f"""\
        {INC_HEADER}
        A,eu-west,game,sev2,{at(10)},{at(10.1)},{at(10.5)},,
        B,eu-west,game,sev1,{at(47)},{at(47.05)},,,
        """,
    )
    db = tmp_path / "store.duckdb"
    with Store(db) as store:
        store.ingest_frame(rates("eu-west", "game", 0, [0.0002] * 48), source="t", fleet=FLEET)
        store.import_incidents([log], fleet=FLEET)
    window = ("--since", at(0), "--until", at(48), "--db", str(db), "--config", str(fleet))
    done = CliRunner().invoke(cli, ["kpis", *window, "--format", "json"])
    assert done.exit_code == 0, done.output
    assert (
        "note: 1 incident(s) of the window have no resolved_at: each is counted as open until "
        "2026-01-07 00:00 UTC (--until), so incidents that start while it is open are part of "
        "its failure (failures, mtbf_hours), and it has no repair time (mttr_minutes). If one "
        "is over, give its resolved_at and import the log again"
    ) in done.stderr.splitlines()
    before = CliRunner().invoke(cli, ["kpis", *window[:2], "--until", at(20), *window[4:]])
    assert before.exit_code == 0 and "resolved_at" not in before.stderr
    # without --until, the window ends after the newest error_rate: not an --until given
    default = CliRunner().invoke(cli, ["kpis", *window[:2], *window[4:]])
    assert default.exit_code == 0, default.output
    assert (
        "each is counted as open until 2026-01-07 00:00 UTC (the window's end, no --until "
        "given), so incidents"
    ) in default.stderr


def _as_seen(tmp_path: Path, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The log above as the plan reads it at ``cutoff``."""
    from capacity.weekly import _as_of

    return _as_of(
        read_incidents(tmp_path / "incidents.csv", regions=REGIONS, services=SERVICES), cutoff
    )


def test_groups_without_incidents_are_null_not_zero(tmp_path):
    incidents = incidents_of(tmp_path, incident_row("A", start_h=1, repair_min=30))
    frame = kpis(incidents, None, no_rates(), FLEET, since=T0, until=T0 + pd.Timedelta(days=1))
    quiet = row(frame, "na-east", "game")
    assert quiet["incidents"] == 0
    for column in ("mttr_minutes", "mttr_median_minutes", "mttd_minutes", "mtbf_hours"):
        assert math.isnan(quiet[column]), column
    assert math.isnan(quiet["change_failure_rate"])  # no deploys: no rate, not 0
    as_json = {(o["region"], o["service"]): o for o in kpis_json(frame)}
    quiet_json = as_json[("na-east", "game")]
    assert quiet_json["mttr_minutes"] is None
    assert quiet_json["mttd_minutes"] is None
    assert quiet_json["mtbf_hours"] is None
    assert quiet_json["change_failure_rate"] is None
    assert quiet_json["incidents"] == 0 and isinstance(quiet_json["incidents"], int)
    # One incident: MTTR known, MTBF still null (needs two starts).
    assert as_json[("eu-west", "game")]["mttr_minutes"] == 30
    assert as_json[("eu-west", "game")]["mtbf_hours"] is None


# --------------------------------------------------------------------------- change failure rate


def test_change_failure_rate(tmp_path):
    deploys = deploys_of(
        tmp_path,
        # eu-west/game: 4 deploys in the window, D-1 and D-3 caused incidents -> CFR 2/4 = 0.5.
        "D-1,eu-west,game,2026-01-05T01:00Z,a",
        "D-2,eu-west,game,2026-01-05T02:00Z,b",
        "D-3,eu-west,game,2026-01-05T03:00Z,c",
        "D-4,eu-west,game,2026-01-05T04:00Z,d",
        # Before the window: linked, but not one of the window's deploys.
        "D-0,eu-west,game,2026-01-04T23:00Z,z",
        # na-east/chat: 1 deploy, whose incident starts after `until`: still failed -> CFR 1.
        "D-5,na-east,chat,2026-01-05T05:00Z,e",
        # na-east/game: 1 deploy, no incident -> CFR 0 (deploys happened: zero, not null).
        "D-6,na-east,game,2026-01-05T06:00Z,f",
    )
    incidents = incidents_of(
        tmp_path,
        incident_row("A", start_h=1.5, repair_min=30, deploy="D-1"),
        incident_row("B", start_h=3.5, repair_min=30, deploy="D-3"),
        incident_row("C", start_h=4.5, repair_min=30, deploy="D-3"),  # twice: counts once
        incident_row("Z", start_h=-0.5, repair_min=30, deploy="D-0"),
        incident_row(
            "Y", start_h=30, repair_min=30, region="na-east", service="chat", deploy="D-5"
        ),
        deploy_ids=["D-0", "D-1", "D-2", "D-3", "D-4", "D-5"],
    )
    frame = kpis(incidents, deploys, no_rates(), FLEET, since=T0, until=T0 + pd.Timedelta(days=1))
    game = row(frame, "eu-west", "game")
    assert game["deploys"] == 4
    assert game["change_failure_rate"] == pytest.approx(0.5)
    chat = row(frame, "na-east", "chat")
    assert chat["deploys"] == 1 and chat["change_failure_rate"] == 1
    quiet = row(frame, "na-east", "game")
    assert quiet["deploys"] == 1 and quiet["change_failure_rate"] == 0
    assert math.isnan(row(frame, "eu-west", "chat")["change_failure_rate"])  # no deploys
    # Overall: 6 deploys in the window, 3 failed (D-1, D-3, D-5).
    overall = row(frame, "all", "all")
    assert overall["deploys"] == 6
    assert overall["change_failure_rate"] == pytest.approx(3 / 6)


# --------------------------------------------------------------------------- availability, burn


def test_availability_and_budget_with_a_gap(tmp_path):
    error_rate = pd.concat(
        [
            # eu-west/game, target 0.999 (budget 0.001), hours 0-3: 0.0002, 0.0004, no row,
            # 0.0003 -> known 3, unknown 1, mean 0.0003 -> availability 0.9997, budget
            # remaining 1 - 0.0003 / 0.001 = 0.7. Counting the gap as up would give 0.999775.
            rates("eu-west", "game", 0, [0.0002, 0.0004, None, 0.0003]),
            # eu-west/chat, target 0.99 (budget 0.01): 0.03 every hour -> availability 0.97,
            # budget remaining 1 - 0.03 / 0.01 = -2 (overspent).
            rates("eu-west", "chat", 0, [0.03, 0.03, 0.03, 0.03]),
            # na-east/game: a NaN row is no data, like a missing row.
            rates("na-east", "game", 0, [float("nan"), 0.001, 0.001, 0.001]),
            # Outside the window: ignored.
            rates("eu-west", "game", 4, [0.5]),
        ]
    )
    until = T0 + pd.Timedelta(hours=4)
    frame = kpis(None, None, error_rate, FLEET, since=T0, until=until)
    game = row(frame, "eu-west", "game")
    assert game["availability"] == pytest.approx(0.9997)
    assert game["slo_target"] == pytest.approx(0.999)
    assert game["error_budget_remaining"] == pytest.approx(0.7)
    assert (game["known_hours"], game["unknown_hours"]) == (3, 1)

    chat = row(frame, "eu-west", "chat")
    assert chat["availability"] == pytest.approx(0.97)
    assert chat["error_budget_remaining"] == pytest.approx(-2)

    assert row(frame, "na-east", "game")["unknown_hours"] == 1
    assert row(frame, "na-east", "game")["error_budget_remaining"] == pytest.approx(0)

    # na-east/chat has no data at all: every hour unknown, nothing measured.
    silent = row(frame, "na-east", "chat")
    assert (silent["known_hours"], silent["unknown_hours"]) == (0, 4)
    assert math.isnan(silent["availability"]) and math.isnan(silent["error_budget_remaining"])
    assert silent["slo_target"] == pytest.approx(0.99)
    assert silent["alert"] == "unknown"

    # Overall: 3 + 4 + 3 known series-hours; errors 0.0009 + 0.12 + 0.003 = 0.1239 over 10
    # -> availability 0.98761; allowed 6 * 0.001 + 4 * 0.01 = 0.046 -> slo_target
    # 1 - 0.0046 = 0.9954; budget remaining 1 - 0.1239 / 0.046.
    overall = row(frame, "all", "all")
    assert (overall["known_hours"], overall["unknown_hours"]) == (10, 6)
    assert overall["availability"] == pytest.approx(1 - 0.01239)
    assert overall["slo_target"] == pytest.approx(0.9954)
    assert overall["error_budget_remaining"] == pytest.approx(1 - 0.1239 / 0.046)


def test_groups_by_region_pool_the_budget():
    error_rate = pd.concat(
        [
            # eu-west: game 0.0005 (target 0.999), chat 0.005 (target 0.99), 2 hours each ->
            # availability 1 - 0.00275 = 0.99725, slo_target (0.999 + 0.99) / 2 = 0.9945,
            # budget remaining 1 - 0.00275 / 0.0055 = 0.5.
            rates("eu-west", "game", 0, [0.0005, 0.0005]),
            rates("eu-west", "chat", 0, [0.005, 0.005]),
        ]
    )
    frame = kpis(
        None, None, error_rate, FLEET, since=T0, until=T0 + pd.Timedelta(hours=2), by="region"
    )
    assert list(zip(frame["region"], frame["service"], strict=True)) == [
        ("eu-west", "all"),
        ("na-east", "all"),
        ("all", "all"),
    ]
    eu = row(frame, "eu-west", "all")
    assert eu["availability"] == pytest.approx(0.99725)
    assert eu["slo_target"] == pytest.approx(0.9945)
    assert eu["error_budget_remaining"] == pytest.approx(0.5)
    assert row(frame, "na-east", "all")["unknown_hours"] == 4
    only = kpis(None, None, error_rate, FLEET, since=T0, until=T0 + pd.Timedelta(hours=2), by=())
    assert len(only) == 1 and only.iloc[0]["availability"] == pytest.approx(0.99725)
    by_service = kpis(
        None, None, error_rate, FLEET, since=T0, until=T0 + pd.Timedelta(hours=2), by=["service"]
    )
    assert row(by_service, "all", "game")["availability"] == pytest.approx(0.9995)


def test_the_weekly_daily_burn_pools_a_region_as_kpis_does(tmp_path):
    """The plan's daily burn chart once averaged each series' burn rate, so a region's line
    disagreed with its kpis: eu-west with game at 0.002 (target 0.999, burn 2) and chat at
    0.001 (target 0.99, burn 0.1) for a day showed 1.05, where the pooled budget gives
    (0.002 + 0.001) / (0.001 + 0.01) = 0.2727."""
    from capacity.store import Store
    from capacity.weekly import _resilience

    error_rate = pd.concat(
        [rates("eu-west", "game", 0, [0.002] * 24), rates("eu-west", "chat", 0, [0.001] * 24)]
    )
    cutoff = T0 + pd.Timedelta(days=1)
    with Store(tmp_path / "store.duckdb") as store:
        store.ingest_frame(error_rate, source="test", fleet=FLEET)
        burn = _resilience(store, FLEET, cutoff)["burn"]
    day = burn[burn["day"] == T0].set_index("region")["burn"]
    assert day["eu-west"] == pytest.approx(0.003 / 0.011)
    pooled = kpis(None, None, error_rate, FLEET, since=T0, until=cutoff, by="region")
    eu = row(pooled, "eu-west", "all")
    assert day["eu-west"] == pytest.approx((1 - eu["availability"]) / (1 - eu["slo_target"]))


def test_a_past_weeks_plan_sees_its_incidents_as_they_stood_at_its_cutoff(tmp_path):
    """The plan kept the incidents that started before its cutoff with their later detection
    and resolution: replanning a past week reported MTTR from repairs made after it, and an
    incident open at the cutoff as resolved. eu-west/game, cutoff T0 + 2 days:
      A: 0 h, detected +10 min, resolved +60 min (before the cutoff);
      B: 46 h, detected +20 min, resolved at 50 h (after the cutoff: open then);
      C: 47.9 h, detected at 48.1 h (after the cutoff: not yet detected), resolved at 49 h;
      D: 49 h, after the cutoff: not in the plan at all.
    As of the cutoff: 3 incidents, MTTR 60 (A alone), MTTD (10 + 20) / 2 = 15."""

    cutoff = T0 + pd.Timedelta(days=2)
    log = write(
        tmp_path,
        "incidents.csv",
        f"""\
        {INC_HEADER}
        A,eu-west,game,sev2,{at(0)},{at(10 / 60)},{at(1)},,
        B,eu-west,game,sev2,{at(46)},{at(46 + 20 / 60)},{at(50)},,
        C,eu-west,game,sev3,{at(47.9)},{at(48.1)},{at(49)},,
        D,eu-west,game,sev3,{at(49)},{at(49.1)},{at(49.5)},,
        """,
    )
    section = _plan_resilience(tmp_path, log, cutoff)
    game = row(section["resilience"], "eu-west", "game")
    assert game["incidents"] == 3
    assert game["mttr_minutes"] == pytest.approx(60)
    assert game["mttd_minutes"] == pytest.approx(15)
    week = section["incidents_week"].set_index("incident_id")
    assert list(week.index) == ["A", "B", "C"]
    assert pd.isna(week.loc["B", "resolved_at"]) and pd.isna(week.loc["C", "resolved_at"])
    assert pd.isna(week.loc["C", "detected_at"])
    assert week.loc["B", "detected_at"] == T0 + pd.Timedelta(hours=46, minutes=20)


def test_a_past_weeks_fingerprints_ignore_what_came_after_its_cutoff(tmp_path):
    """The plan's input fingerprints hashed the whole incident and deploy logs, so a --force
    rerun of a past week after any later incident or deploy counted as changed inputs (and
    filed the old plan under history/) though the plan could not see them. Now they hash what
    the plan reads: an incident resolved after the cutoff, a later incident or deploy leave
    them as they were; an incident before the cutoff edited changes them."""
    from capacity.store import Store
    from capacity.weekly import _fingerprints

    cutoff = T0 + pd.Timedelta(days=2)
    config = write(tmp_path, "fleet.yaml", "any: file\n")
    deploys = write(tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-1,eu-west,game,{at(1)},a\n")
    before = f"A,eu-west,game,sev2,{at(2)},{at(2.1)},{at(3)},,D-1"
    open_then = f"B,eu-west,chat,sev3,{at(40)},{at(40.1)},"
    incidents = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{before}\n{open_then},,\n")
    db = tmp_path / "store.duckdb"

    def prints(store):
        found = _fingerprints(store, db, config, cutoff)
        return {k: v for k, v in found.items() if k.startswith(("incidents", "deploys"))}

    with Store(db) as store:
        store.ingest_frame(rates("eu-west", "game", 0, [0.0002] * 48), source="t", fleet=FLEET)
        store.import_deploys([deploys], fleet=FLEET)
        store.import_incidents([incidents], fleet=FLEET)
        first = prints(store)
        assert (first["incidents"], first["deploys"]) == (2, 1)
        # later: B resolved after the cutoff, a new deploy and an incident it caused
        write(
            tmp_path,
            "deploys.csv",
            f"{DEP_HEADER}\nD-1,eu-west,game,{at(1)},a\nD-2,eu-west,game,{at(50)},b\n",
        )
        store.import_deploys([deploys], fleet=FLEET)
        write(
            tmp_path,
            "incidents.csv",
            f"{INC_HEADER}\n{before}\n{open_then}{at(52)},,\n"
            f"C,eu-west,game,sev1,{at(51)},{at(51.1)},{at(53)},,D-2\n",
        )
        store.import_incidents([incidents], fleet=FLEET)
        assert len(store.incidents()) == 3 and len(store.deploys()) == 2
        assert prints(store) == first
        # an incident the plan sees, changed: the inputs changed
        write(
            tmp_path,
            "incidents.csv",
            f"{INC_HEADER}\n{before.replace('sev2', 'sev1')}\n{open_then}{at(52)},,\n",
        )
        store.import_incidents([incidents], fleet=FLEET)
        changed = prints(store)
        assert (
            changed["incidents"] == 2 and changed["deploys_checksum"] == first["deploys_checksum"]
        )
        assert changed["incidents_checksum"] != first["incidents_checksum"]
        # and so is one resolved before the cutoff
        write(
            tmp_path,
            "incidents.csv",
            f"{INC_HEADER}\n{before}\n{open_then}{at(47)},,\n",
        )
        store.import_incidents([incidents], fleet=FLEET)
        assert prints(store)["incidents_checksum"] != first["incidents_checksum"]


def test_burn_rates_and_page():
    # eu-west/chat, target 0.99 (budget 0.01). The 72 hours before `until`: 0.005 for 66 hours,
    # then 0.02 for 5 hours, then 0.2 in the last hour.
    #   burn_1h = 0.2 / 0.01 = 20                       (> 14.4: page)
    #   burn_6h = (5 * 0.02 + 0.2) / 6 / 0.01 = 5
    #   burn_3d = (66 * 0.005 + 0.3) / 72 / 0.01 = 0.875
    values = [0.005] * 66 + [0.02] * 5 + [0.2]
    error_rate = rates("eu-west", "chat", 0, values)
    until = T0 + pd.Timedelta(hours=72)
    # The window is the last day only; the 3-day burn still looks back 72 hours.
    frame = kpis(None, None, error_rate, FLEET, since=until - pd.Timedelta(days=1), until=until)
    chat = row(frame, "eu-west", "chat")
    assert chat["burn_1h"] == pytest.approx(20)
    assert chat["burn_6h"] == pytest.approx(5)
    assert chat["burn_3d"] == pytest.approx(0.875)
    assert chat["alert"] == "page"
    # Availability over the last 24 h: (18 * 0.005 + 0.3) / 24 = 0.01625.
    assert chat["availability"] == pytest.approx(1 - 0.01625)
    assert chat["known_hours"] == 24


def test_burn_ticket_and_ok():
    until = T0 + pd.Timedelta(hours=72)
    # game, target 0.999: 0.0015 every hour -> every burn 1.5 -> ticket (3d > 1 and 6h > 1).
    # chat, target 0.99: 0.005 every hour -> every burn 0.5 -> ok.
    error_rate = pd.concat(
        [rates("eu-west", "game", 0, [0.0015] * 72), rates("eu-west", "chat", 0, [0.005] * 72)]
    )
    frame = kpis(None, None, error_rate, FLEET, since=T0, until=until)
    game = row(frame, "eu-west", "game")
    assert game[["burn_1h", "burn_6h", "burn_3d"]].tolist() == pytest.approx([1.5, 1.5, 1.5])
    assert game["alert"] == "ticket"
    assert row(frame, "eu-west", "chat")["alert"] == "ok"


@pytest.mark.parametrize(
    ("b1", "b6", "b3", "state"),
    [
        (14.5, 0.0, 0.0, "page"),  # fast burn: 1 h window alone (its 5 min partner < 1 h)
        (14.4, 0.0, 0.0, "ok"),  # strictly above the threshold
        (7.0, 6.5, 0.5, "page"),  # 6 h pair with its short window rounded up to 1 h
        (5.0, 6.5, 2.0, "ticket"),  # 6 h high but the last hour recovered: no page
        (0.5, 1.2, 1.1, "ticket"),  # 3 d pair with 6 h short window
        (0.5, 0.9, 1.1, "ok"),  # slow burn that stopped 6 h ago
        (math.nan, math.nan, math.nan, "unknown"),
        (math.nan, 7.0, 7.0, "ticket"),  # the last hour without data never pages
        # a rule that cannot be evaluated was not checked: not "ok" (it once was)
        (math.nan, math.nan, 0.5, "unknown"),  # only the 3-day window has data
        (math.nan, 0.5, 0.5, "unknown"),  # both page pairs need the last hour
        (0.5, math.nan, math.nan, "unknown"),
    ],
)
def test_alert_rule(b1, b6, b3, state):
    assert alert_state(b1, b6, b3) == state
    assert state in ALERT_STATES


def stored_rates(tmp_path: Path, error_rate: pd.DataFrame, start, end) -> pd.DataFrame:
    """``error_rate`` ingested into a real store and read back as kpis is given it."""
    from capacity.store import Store

    with Store(tmp_path / "rates.duckdb") as store:
        store.ingest_frame(error_rate, source="test", fleet=FLEET)
        return store.series(
            metric="error_rate",
            region=sorted(REGIONS),
            service=sorted(SERVICES),
            start=start,
            end=end,
        )


def test_a_groups_alert_is_its_most_urgent_series(tmp_path):
    """A group's alert was that of its pooled burn rates, so the region and overall rows read
    "ok" while one series paged. The 72 hours before `until`:
      eu-west/game (budget 0.001): 0.0002, then 0.02 in the last hour -> burn_1h 20: page;
      eu-west/chat (budget 0.01): 0.001 throughout -> burn 0.1: ok;
      na-east/game: 0.0015 throughout -> burn 1.5: ticket; na-east/chat: no data: unknown.
    Pooled, eu-west burns (0.02 + 0.001) / 0.011 = 1.91 in the last hour, under 14.4."""
    until = T0 + pd.Timedelta(hours=72)
    error_rate = stored_rates(
        tmp_path,
        pd.concat(
            [
                rates("eu-west", "game", 0, [0.0002] * 71 + [0.02]),
                rates("eu-west", "chat", 0, [0.001] * 72),
                rates("na-east", "game", 0, [0.0015] * 72),
            ]
        ),
        T0,
        until,
    )
    since = until - pd.Timedelta(days=1)
    series = kpis(None, None, error_rate, FLEET, since=since, until=until)
    alerts = {(r, s): a for r, s, a in series[["region", "service", "alert"]].itertuples(False)}
    assert alerts == {
        ("eu-west", "chat"): "ok",
        ("eu-west", "game"): "page",
        ("na-east", "chat"): "unknown",
        ("na-east", "game"): "ticket",
        ("all", "all"): "page",
    }
    regions = kpis(None, None, error_rate, FLEET, since=since, until=until, by="region")
    eu = row(regions, "eu-west", "all")
    assert eu["burn_1h"] == pytest.approx(0.021 / 0.011)  # the burn rates stay pooled
    assert eu["alert"] == "page"
    assert row(regions, "na-east", "all")["alert"] == "ticket"  # ticket outranks unknown
    assert row(regions, "all", "all")["alert"] == "page"
    services = kpis(None, None, error_rate, FLEET, since=since, until=until, by="service")
    assert row(services, "all", "game")["alert"] == "page"
    # a series not checked outranks one checked and quiet: chat reads ok only if all are
    assert row(services, "all", "chat")["alert"] == "unknown"
    only = kpis(None, None, error_rate, FLEET, since=since, until=until, by=())
    assert only.iloc[0]["burn_1h"] < 14.4 and only.iloc[0]["alert"] == "page"
    # a group is unknown only when each of its series is
    quiet = kpis(None, None, error_rate.iloc[0:0], FLEET, since=since, until=until, by="region")
    assert set(quiet["alert"]) == {"unknown"}


def test_alert_is_unknown_when_the_page_windows_have_no_data(tmp_path):
    """The alert read "ok" when the 1 h and 6 h windows had no data and only the 3-day one
    had: nothing could have fired. eu-west/game's data stops 7 hours before `until` (only
    the 3-day window has data), eu-west/chat's 3 hours before (the 6 h window has data, the
    1 h window, which both page pairs need, none), na-east/game's runs to `until`."""
    until = T0 + pd.Timedelta(hours=72)
    error_rate = stored_rates(
        tmp_path,
        pd.concat(
            [
                rates("eu-west", "game", 0, [0.0002] * 65),
                rates("eu-west", "chat", 0, [0.001] * 69),
                rates("na-east", "game", 0, [0.0002] * 72),
            ]
        ),
        T0,
        until,
    )
    frame = kpis(None, None, error_rate, FLEET, since=T0, until=until)
    game = row(frame, "eu-west", "game")
    assert math.isnan(game["burn_1h"]) and math.isnan(game["burn_6h"])
    assert game["burn_3d"] == pytest.approx(0.2)
    assert game["alert"] == "unknown"
    chat = row(frame, "eu-west", "chat")
    assert math.isnan(chat["burn_1h"]) and chat["burn_6h"] == pytest.approx(0.1)
    assert chat["alert"] == "unknown"
    assert row(frame, "na-east", "game")["alert"] == "ok"
    # two of its three series went unchecked: the fleet is not known to be ok
    assert row(frame, "all", "all")["alert"] == "unknown"
    # the JSON (what `capacity kpis --format json` prints) carries the alert and its burn
    # rates, null for a window without data (it had neither, so a scheduled check could not
    # act on the alert the table showed)
    as_json = {(o["region"], o["service"]): o for o in kpis_json(frame)}
    game_json = as_json[("eu-west", "game")]
    assert (game_json["alert"], game_json["burn_1h"], game_json["burn_6h"]) == (
        "unknown",
        None,
        None,
    )
    assert game_json["burn_3d"] == pytest.approx(0.2)
    assert as_json[("eu-west", "chat")]["burn_6h"] == pytest.approx(0.1)
    assert as_json[("na-east", "game")]["alert"] == "ok"
    assert json.dumps(list(as_json.values()), allow_nan=False)


# --------------------------------------------------------------------------- frames and params


def test_kpi_frame_shape_and_json(tmp_path):
    frame = kpis(None, None, no_rates(), FLEET, since=T0, until=T0 + pd.Timedelta(hours=1))
    assert tuple(frame.columns) == KPI_COLUMNS
    assert list(zip(frame["region"], frame["service"], strict=True)) == [
        ("eu-west", "chat"),
        ("eu-west", "game"),
        ("na-east", "chat"),
        ("na-east", "game"),
        ("all", "all"),
    ]
    assert str(frame["incidents"].dtype) == "int64"
    objects = kpis_json(frame)
    assert [tuple(o) for o in objects] == [JSON_KEYS] * 5
    json.dumps(objects, allow_nan=False)  # NaN would raise here


def test_parameter_errors():
    args = (None, None, no_rates(), FLEET)
    with pytest.raises(ParameterError, match="The 'until' parameter must be after 'since'"):
        kpis(*args, since=T0, until=T0)
    with pytest.raises(ParameterError, match="The 'since' parameter must be an ISO 8601 time"):
        kpis(*args, since="soon", until=T0)
    for by in (("zone",), "region,region"):
        with pytest.raises(ParameterError, match=r"The 'by' parameter must name region, service"):
            kpis(*args, since=T0 - pd.Timedelta(hours=1), until=T0, by=by)
    with pytest.raises(ParameterError, match="The 'error_rate' parameter must have the columns"):
        kpis(None, None, pd.DataFrame({"ts": []}), FLEET, since="2026-01-01", until=T0)
    with pytest.raises(ParameterError, match="The 'weeks' parameter must be a positive integer"):
        trend(*args, until=T0, weeks=0)
    with pytest.raises(ParameterError, match="The 'frame' parameter must have the columns"):
        kpis_json(pd.DataFrame({"region": ["x"]}))


def test_frames_outside_the_fleet_or_range_are_refused(tmp_path):
    path = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{GOOD.replace('eu-west', 'mars')}\n")
    incidents = read_incidents(path)  # no fleet given: any name reads
    error_of(
        lambda: kpis(incidents, None, no_rates(), FLEET, since=T0, until=T0 + pd.Timedelta("1h")),
        "incidents: region 'mars' is not in the fleet config",
    )
    bad = rates("eu-west", "game", 0, [1.5])
    error_of(
        lambda: kpis(None, None, bad, FLEET, since=T0, until=T0 + pd.Timedelta("1h")),
        "error rate 1.5 of eu-west/game",
        "outside [0, 1]",
    )


# --------------------------------------------------------------------------- trend


def test_trend_compares_two_periods(tmp_path):
    until = T0 + pd.Timedelta(weeks=2)
    incidents = incidents_of(
        tmp_path,
        # previous week: 2 incidents of 60 and 120 min; current week: 1 of 30 min.
        incident_row("A", start_h=1, repair_min=60),
        incident_row("B", start_h=50, repair_min=120),
        incident_row("C", start_h=24 * 7 + 5, repair_min=30),
    )
    # eu-west/game error rate 0.0002 in the previous week, 0.0004 in the current one.
    error_rate = pd.concat(
        [
            rates("eu-west", "game", 0, [0.0002] * 168),
            rates("eu-west", "game", 168, [0.0004] * 168),
        ]
    )
    frame = trend(incidents, None, error_rate, FLEET, until=until, weeks=1)
    assert tuple(frame.columns) == TREND_COLUMNS
    game = frame[(frame["region"] == "eu-west") & (frame["service"] == "game")].set_index("figure")
    assert game.loc["incidents", ["previous", "current", "change"]].tolist() == [2, 1, -1]
    assert game.loc["incidents", "direction"] == "better"
    assert game.loc["mttr_minutes", ["previous", "current"]].tolist() == [90, 30]
    assert game.loc["mttr_minutes", "direction"] == "better"
    assert game.loc["availability", "previous"] == pytest.approx(0.9998)
    assert game.loc["availability", "current"] == pytest.approx(0.9996)
    assert game.loc["availability", "direction"] == "worse"
    assert game.loc["mtbf_hours", "previous"] == pytest.approx(49)
    assert math.isnan(game.loc["mtbf_hours", "current"])
    assert game.loc["mtbf_hours", "direction"] is None
    assert game.loc["deploys", "direction"] is None
    assert frame.iloc[-1]["region"] == "all"


# --------------------------------------------------------------------------- the demo fleet


@pytest.fixture(scope="module")
def demo():
    fleet = load_fleet(DEMO / "fleet.yaml")
    deploys = read_deploys(DEMO / "deploys.csv", regions=fleet.regions, services=fleet.services)
    incidents = read_incidents(
        DEMO / "incidents.csv",
        regions=fleet.regions,
        services=fleet.services,
        deploy_ids=deploys["deploy_id"],
    )
    error_rate = pd.read_parquet(
        DEMO / "telemetry.parquet", filters=[("metric", "==", "error_rate")]
    )
    return fleet, incidents, deploys, error_rate


def test_demo_logs_load_cleanly_with_plausible_figures(demo):
    fleet, incidents, deploys, error_rate = demo
    assert len(incidents) == 77 and len(deploys) == 756
    assert incidents["deploy_id"].notna().sum() >= 1
    since, until = error_rate["ts"].min(), error_rate["ts"].max() + pd.Timedelta(hours=1)
    frame = kpis(incidents, deploys, error_rate, fleet, since=since, until=until)
    assert len(frame) == len(fleet.regions) * len(fleet.services) + 1
    assert frame["availability"].between(0.95, 1).all()
    assert frame["change_failure_rate"].between(0, 1).all()
    assert (frame["error_budget_remaining"] <= 1).all()
    assert set(frame["alert"]) <= set(ALERT_STATES)
    overall = frame.iloc[-1]
    assert overall["incidents"] == len(incidents)
    assert overall["deploys"] == len(deploys)
    assert 0 < overall["change_failure_rate"] < 0.05
    # The sa-east outage: one sev1 per service, and 6 hours without telemetry, not up.
    sa = frame[frame["region"] == "sa-east"]
    assert sa["incidents_sev1"].tolist() == [1, 1, 1]
    assert (sa["unknown_hours"] >= 6).all()
    assert (frame["mttr_minutes"].dropna() > 0).all()
    assert json.dumps(kpis_json(frame), allow_nan=False)


def test_demo_last_four_weeks_and_trend(demo):
    fleet, incidents, deploys, error_rate = demo
    until = pd.Timestamp("2026-11-23T00:00Z")
    frame = kpis(
        incidents, deploys, error_rate, fleet, since=until - pd.Timedelta(weeks=4), until=until
    )
    assert frame["availability"].between(0.95, 1).all()
    assert frame["change_failure_rate"].between(0, 1).all()
    assert frame["known_hours"].iloc[-1] > 0
    changes = trend(incidents, deploys, error_rate, fleet, until=until, weeks=4, by="region")
    assert len(changes) == (len(fleet.regions) + 1) * 8


def test_an_incident_blamed_on_a_later_deploy_is_refused(tmp_path):
    line = "I-1,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,D-1"
    path = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{line}\n")
    deploys = {"D-1": pd.Timestamp("2026-01-09T12:00Z")}  # four days after it began
    error_of(
        lambda: read_incidents(path, deploy_ids=deploys),
        "incidents.csv: line 2:",
        "deploy 'D-1' was made at 2026-01-09 12:00Z, after the incident started at "
        "2026-01-05 09:00Z",
        "leave deploy_id empty",
    )
    # a deploy at or before the start may have caused it; ids alone are not checked for time
    assert len(read_incidents(path, deploy_ids={"D-1": pd.Timestamp("2026-01-05T09:00Z")})) == 1
    assert len(read_incidents(path, deploy_ids=["D-1"])) == 1


def test_the_store_refuses_an_incident_blamed_on_a_later_stored_deploy(tmp_path):
    from capacity.errors import DataError
    from capacity.store import Store

    deploys = write(
        tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-1,eu-west,game,2026-01-09T12:00Z,a\n"
    )
    line = "I-1,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,D-1"
    incidents = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{line}\n")
    with Store(tmp_path / "s.duckdb") as store:
        store.import_deploys([deploys])
        with pytest.raises(DataError, match="after the incident started"):
            store.import_incidents([incidents])
        assert store.incidents().empty


def test_a_deploy_moved_after_an_incident_it_caused_is_refused(tmp_path):
    """Re-importing the deploy log with a deploy's time moved past the start of a stored
    incident that names it had been accepted, undoing the check on the incident import."""
    from capacity.errors import DataError
    from capacity.store import Store

    deploys = write(
        tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-1,eu-west,game,2026-01-05T08:00Z,a\n"
    )
    line = "I-1,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,D-1"
    incidents = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{line}\n")
    with Store(tmp_path / "s.duckdb") as store:
        store.import_deploys([deploys])
        store.import_incidents([incidents])
        write(tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-1,eu-west,game,2026-01-05T09:30Z,a\n")
        with pytest.raises(DataError) as error:
            store.import_deploys([deploys])
        assert str(error.value) == (
            f"{deploys}: deploy 'D-1' is made at 2026-01-05 09:30Z, after the stored incident "
            "'I-1' it caused started at 2026-01-05 09:00Z. Fix: check the deploy's time and "
            "offset, or import the incident log with that incident's deploy_id corrected first"
        )
        assert store.deploys()["deployed_at"].tolist() == [pd.Timestamp("2026-01-05T08:00Z")]
        # a move that keeps it before the incident is taken
        write(tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-1,eu-west,game,2026-01-05T08:45Z,a\n")
        store.import_deploys([deploys])
        assert store.deploys()["deployed_at"].tolist() == [pd.Timestamp("2026-01-05T08:45Z")]


def test_a_log_file_is_the_whole_of_its_source(tmp_path):
    """A mis-keyed incident fixed in its file had stayed stored for good beside the fixed one;
    a deploy that a stored incident names is kept until that incident lets go of it."""
    from capacity.errors import DataError
    from capacity.store import Store

    row = "eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z"
    incidents = write(tmp_path, "incidents.csv", f"{INC_HEADER}\nINC-01,{row},,\n")
    deploys = write(
        tmp_path,
        "deploys.csv",
        f"{DEP_HEADER}\nD-1,eu-west,game,2026-01-05T08:00Z,a\nD-2,eu-west,game,2026-01-04T08:00Z,b\n",
    )
    with Store(tmp_path / "s.duckdb") as store:
        store.import_deploys([deploys])
        store.import_incidents([incidents])
        write(tmp_path, "incidents.csv", f"{INC_HEADER}\nINC-0001,{row},,D-1\n")
        report = store.import_incidents([incidents])
        assert (report.inserted, report.removed) == (1, 1)
        assert "1 removed (no longer in their source)" in report.describe()
        assert store.incidents()["incident_id"].tolist() == ["INC-0001"]
        # D-2 leaves the deploy log freely; D-1 is named by INC-0001
        write(tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-1,eu-west,game,2026-01-05T08:00Z,a\n")
        assert store.import_deploys([deploys]).removed == 1
        write(tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-9,eu-west,game,2026-01-05T08:00Z,a\n")
        with pytest.raises(DataError, match="deploy 'D-1' is no longer in the file, but the"):
            store.import_deploys([deploys])
        assert store.deploys()["deploy_id"].tolist() == ["D-1"]  # nothing half-done
        # another file's records are not touched by this one
        other = write(tmp_path, "more.csv", f"{INC_HEADER}\nINC-7,{row},,\n")
        store.import_incidents([other])
        assert sorted(store.incidents()["incident_id"]) == ["INC-0001", "INC-7"]


def test_renaming_a_deploy_an_incident_names_follows_the_fix(tmp_path):
    """The refusal to drop a named deploy once said to import the incident log with the new
    id first, which the incident import refuses (the new id names no stored deploy): each
    error sent the user to the other. Its fix now gives the order that works."""
    from capacity.store import Store

    line = "I-1,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,"
    old, new = "D-1,eu-west,game,2026-01-05T08:00Z,a", "D-01,eu-west,game,2026-01-05T08:00Z,a"
    deploys = write(tmp_path, "deploys.csv", f"{DEP_HEADER}\n{old}\n")
    incidents = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{line}D-1\n")
    with Store(tmp_path / "s.duckdb") as store:
        store.import_deploys([deploys])
        store.import_incidents([incidents])
        write(tmp_path, "deploys.csv", f"{DEP_HEADER}\n{new}\n")
        message = error_of(lambda: store.import_deploys([deploys]), "'D-1' is no longer")
        assert message.endswith(
            "Fix: keep 'D-1' in the file until no stored incident names it: to rename it, "
            "import this log with both ids, then the incident log naming the new one, then "
            "this log without 'D-1'"
        )
        write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{line}D-01\n")
        error_of(lambda: store.import_incidents([incidents]), "'D-01' names no known deploy")
        # the order the fix gives
        write(tmp_path, "deploys.csv", f"{DEP_HEADER}\n{old}\n{new}\n")
        store.import_deploys([deploys])
        store.import_incidents([incidents])
        write(tmp_path, "deploys.csv", f"{DEP_HEADER}\n{new}\n")
        assert store.import_deploys([deploys]).removed == 1
        assert store.incidents()["deploy_id"].tolist() == ["D-01"]
        assert store.deploys()["deploy_id"].tolist() == ["D-01"]


def test_a_log_left_without_records_removes_them_every_time(tmp_path):
    """The checksum rule skipped a header-only log once its earlier empty load counted as
    "in force": an incident deleted again after being restored stayed stored."""
    from capacity.store import Store

    row = "INC-1,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,"
    live, empty = f"{INC_HEADER}\n{row}\n", f"{INC_HEADER}\n"
    with Store(tmp_path / "s.duckdb") as store:
        removed = []
        for text in (live, empty, live, empty):
            path = write(tmp_path, "incidents.csv", text)
            report = store.import_incidents([path], allow_empty=True)
            assert not report.skipped
            removed.append(report.removed)
        assert removed == [0, 1, 0, 1]
        assert store.incidents().empty
        # and an empty log over an empty source changes nothing
        assert store.import_incidents([tmp_path / "incidents.csv"]).skipped
        dep = f"{DEP_HEADER}\nD-1,eu-west,game,2026-01-05T08:00Z,a\n"
        for text in (dep, f"{DEP_HEADER}\n", dep, f"{DEP_HEADER}\n"):
            store.import_deploys([write(tmp_path, "deploys.csv", text)], allow_empty=True)
        assert store.deploys().empty


def test_a_log_emptied_to_its_header_is_refused_unless_allowed(tmp_path):
    """A header-only export (a query that came back empty) removed every record its file had
    stored, with exit 0: 756 deploys and 77 incidents of the demo gone."""
    from click.testing import CliRunner

    from capacity.cli import cli
    from capacity.store import Store

    db = tmp_path / "s.duckdb"
    dep = write(tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-1,eu-west,game,2026-01-05T08:00Z,a\n")
    with Store(db) as store:
        store.import_deploys([dep])
    write(tmp_path, "deploys.csv", f"{DEP_HEADER}\n")
    result = CliRunner().invoke(cli, ["deploys", "import", str(dep), "--db", str(db)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {dep}: holds no deploys, and importing it would remove the 1 deploy an "
        "earlier import of it stored. Fix: check the export that wrote it; if it really is "
        "empty now, import it again with --allow-empty\n"
    )
    with Store(db, read_only=True) as store:
        assert store.deploys()["deploy_id"].tolist() == ["D-1"]
    allowed = ["deploys", "import", str(dep), "--db", str(db), "--allow-empty"]
    result = CliRunner().invoke(cli, allowed)
    assert result.exit_code == 0, result.output
    assert "1 removed" in result.stdout
    with Store(db, read_only=True) as store:
        assert store.deploys().empty


def test_a_log_of_one_name_from_another_folder_replaces_it_and_says_so(tmp_path):
    """a/deploys.csv and b/deploys.csv are one source (this week's export replacing last
    week's): importing b replaced a's deploys, reported only as no longer in their file."""
    from capacity.errors import DataError
    from capacity.store import Store

    def version(folder: str, *ids: str) -> Path:
        (tmp_path / folder).mkdir(exist_ok=True)
        rows = "".join(f"{i},eu-west,game,2026-01-05T08:00Z,a\n" for i in ids)
        return write(tmp_path / folder, "deploys.csv", f"{DEP_HEADER}\n{rows}")

    a, b = version("a", "D-1", "D-2"), version("b", "D-9")
    with Store(tmp_path / "s.duckdb") as store:

        def ids() -> list[str]:
            return sorted(store.deploys()["deploy_id"])

        store.import_deploys([a])
        with pytest.raises(DataError, match=r"a/deploys\.csv has the same name"):
            store.import_deploys([a, b])  # one command: neither can replace the other
        assert ids() == ["D-1", "D-2"]

        report = store.import_deploys([b])
        assert (report.inserted, report.removed) == (1, 2)
        assert report.notes == (
            f"note: {b} replaces {a.resolve()} (2 deploys stored from it): files of one name "
            "are one source. If both are in use, rename one of them and import both",
        )
        assert ids() == ["D-9"]
        assert store.import_deploys([b]).skipped == (str(b),)
        b.unlink()  # a file moved to another folder says nothing more
        assert store.import_deploys([version("c", "D-9")]).notes == ()


def test_an_incident_in_two_logs_stays_while_either_holds_it(tmp_path):
    """X in a.csv and b.csv: importing b.csv said "already loaded" (X was stored, under
    a.csv), and when a.csv dropped X it was removed though b.csv still held it."""
    from capacity.store import Store

    x = incident_row("X", start_h=0, repair_min=60)
    a1 = incident_row("A-1", start_h=24, repair_min=60)
    a = write(tmp_path, "a.csv", f"{INC_HEADER}\n{x}\n{a1}\n")
    b = write(tmp_path, "b.csv", f"{INC_HEADER}\n{x}\n")
    with Store(tmp_path / "s.duckdb") as store:

        def ids() -> list[str]:
            return sorted(store.incidents()["incident_id"])

        store.import_incidents([a])
        report = store.import_incidents([b])  # not "already loaded": b.csv held nothing yet
        assert not report.skipped and (report.inserted, report.unchanged) == (0, 1)
        assert store.import_incidents([b]).skipped == (str(b),)
        write(tmp_path, "a.csv", f"{INC_HEADER}\n{a1}\n")
        report = store.import_incidents([a])
        assert (report.removed, report.kept) == (0, 1)
        assert report.describe() == (
            f"{a}: 1 incident read, 0 inserted, 0 updated, 1 unchanged, "
            "1 no longer in their source but kept (another source holds them)"
        )
        assert ids() == ["A-1", "X"]
        assert store.con.sql("SELECT source FROM incidents WHERE incident_id = 'X'").fetchall() == [
            ("b.csv",)
        ]
        write(tmp_path, "b.csv", f"{INC_HEADER}\n")
        assert store.import_incidents([b], allow_empty=True).removed == 1  # no file holds X now
        assert ids() == ["A-1"]


def test_a_store_from_before_holdings_knows_who_holds_its_records(tmp_path):
    """Schema 5 records which files hold each record; a schema 4 store's records are held by
    their source, and its loads' paths, recorded as given, are not told apart."""
    import duckdb

    from capacity.store import MIGRATIONS, Store

    x = incident_row("X", start_h=0, repair_min=60)
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMPTZ)")
    for version in range(1, 5):
        for statement in MIGRATIONS[version - 1]:
            con.execute(statement)
        con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
    con.execute(
        "INSERT INTO loads VALUES (1, 'incidents', 'old/a.csv', '', 0, '', 1, 1, 0, 0, now())"
    )
    fields = x.split(",")
    con.execute(
        "INSERT INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 'a.csv', 1)", fields[:8]
    )
    con.close()
    a = write(tmp_path, "a.csv", f"{INC_HEADER}\n")
    b = write(tmp_path, "b.csv", f"{INC_HEADER}\n{x}\n")
    with Store(tmp_path / "s.duckdb") as store:
        assert store.import_incidents([b]).unchanged == 1
        assert (store.import_incidents([a]).kept, store.incidents()["incident_id"].tolist()) == (
            1,
            ["X"],
        )


def test_an_id_two_logs_give_different_content_is_refused_across_imports(tmp_path):
    """A-1 in a.csv and other.csv with different severities flipped silently between the two
    with each import; in one command the conflict was refused."""
    from capacity.errors import DataError
    from capacity.store import Store

    def log(severity: str) -> str:
        return f"{INC_HEADER}\n{incident_row('A-1', start_h=0, repair_min=60, severity=severity)}\n"

    a, other = write(tmp_path, "a.csv", log("sev2")), write(tmp_path, "other.csv", log("sev1"))
    with Store(tmp_path / "s.duckdb") as store:
        store.import_incidents([a])
        with pytest.raises(DataError) as info:
            store.import_incidents([other])
        assert str(info.value) == (
            f"{other}: incident_id 'A-1' is also in {a.resolve()} (stored) with different "
            "content. Fix: give each record its own incident_id; or, to change it, change it "
            "in both files and import them in one command"
        )
        assert store.incidents()["severity"].tolist() == ["sev2"]
        # one file alone changes a record only it holds; both files together change a shared one
        write(tmp_path, "a.csv", log("sev1"))
        store.import_incidents([a, other])
        write(tmp_path, "a.csv", log("sev3"))
        with pytest.raises(DataError, match=r"'A-1' is also in .*other\.csv"):
            store.import_incidents([a])
        write(tmp_path, "other.csv", f"{INC_HEADER}\n")
        assert store.import_incidents([other, a]).updated == 1
        assert store.incidents()["severity"].tolist() == ["sev3"]


def test_a_log_imported_before_is_checked_against_the_fleet(tmp_path):
    from capacity.store import Store

    row = "INC-1,eu-wst,game,sev2,2026-01-05T09:00Z,2026-01-05T09:10Z,2026-01-05T10:00Z,,"
    path = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{row}\n")
    with Store(tmp_path / "s.duckdb") as store:
        store.import_incidents([path])
        with pytest.raises(DataError) as info:
            store.import_incidents([path], fleet=FLEET)
    message = str(info.value)
    assert "incidents.csv: line 2" in message and "unknown region 'eu-wst'" in message


def test_yaml_log_ids_and_texts_are_kept_as_written(tmp_path):
    """YAML 1.1 read an unquoted 0012 as the octal 10 and 1.10 as the float 1.1."""
    deploys = write(
        tmp_path,
        "deploys.yaml",
        """
        - {deploy_id: 1.10, region: eu-west, service: game, deployed_at: 2026-01-05T08:00Z,
           change: 2.50}
        - {deploy_id: 0012, region: eu-west, service: game, deployed_at: 2026-01-05T08:30Z}
        """,
    )
    frame = read_deploys(deploys)
    assert frame["deploy_id"].tolist() == ["1.10", "0012"]
    assert frame["change"].tolist() == ["2.50", None]
    incidents = write(
        tmp_path,
        "incidents.yaml",
        """
        - {incident_id: 0012, region: eu-west, service: game, severity: sev2,
           started_at: 2026-01-05T09:00Z, detected_at: 2026-01-05T09:10Z,
           resolved_at: 2026-01-05T10:00Z, cause: yes, deploy_id: 1.10}
        """,
    )
    frame = read_incidents(incidents, deploy_ids=["1.10", "0012"])
    assert frame[["incident_id", "cause", "deploy_id"]].values.tolist() == [["0012", "yes", "1.10"]]


def test_import_reports_say_one_record_in_the_singular(tmp_path):
    """They said "1 incidents read" and "the 1 incidents it holds are stored as they are"."""
    from capacity.store import Store

    deploys = write(tmp_path, "deploys.csv", f"{DEP_HEADER}\nD-1,eu-west,game,{at(1)},a\n")
    incidents = write(tmp_path, "incidents.csv", f"{INC_HEADER}\n{GOOD}\n")
    calendar = write(
        tmp_path, "calendar.csv", "name,kind,start,end\nFinals,tournament,2026-01-05,2026-01-06\n"
    )
    others = (GOOD.replace("I-1", "I-2"), GOOD.replace("I-1", "I-3"))
    two = write(tmp_path, "two.csv", "\n".join((INC_HEADER, *others)) + "\n")
    with Store(tmp_path / "s.duckdb") as store:
        first = store.import_deploys([deploys]).describe()
        assert first == f"{deploys}: 1 deploy read, 1 inserted, 0 updated, 0 unchanged"
        first = store.import_incidents([incidents]).describe()
        assert first == f"{incidents}: 1 incident read, 1 inserted, 0 updated, 0 unchanged"
        assert store.import_events([calendar]).describe().startswith(f"{calendar}: 1 event read")
        assert store.import_incidents([incidents]).describe() == (
            f"{incidents}: already loaded (same content, read and checked; the 1 incident it "
            "holds is stored as it is)"
        )
        assert store.import_incidents([two]).describe().startswith(f"{two}: 2 incidents read, ")
        assert store.import_incidents([incidents, two]).describe() == (
            f"{incidents}, {two}: already loaded (same content, read and checked; the 3 "
            "incidents they hold are stored as they are)"
        )


def test_an_empty_id_is_asked_for_with_its_article(tmp_path):
    # "Fix: give every row a incident_id"
    path = write(
        tmp_path,
        "incidents.csv",
        f"{INC_HEADER}\n,eu-west,game,sev2,2026-01-05T09:00Z,2026-01-05T09:05Z,,,\n",
    )
    with pytest.raises(DataError, match=r"incident_id is empty\. Fix: give every row an incid"):
        read_incidents(path)
