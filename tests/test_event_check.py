"""The event planner's check: verdicts, probabilities, dates, and the CLI contract."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity.charts import event_check_figure
from capacity.config import load_fleet
from capacity.demo import build_demo_store, generate_demo
from capacity.errors import ParameterError
from capacity.event_check import (
    EventCheck,
    PlannedEvent,
    breach_probability,
    check_event,
    probability_bound,
    probability_text,
    render_report,
    stored_event,
)
from capacity.store import Store


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("event")
    generate_demo(folder / "fleet", days=35)
    db = build_demo_store(folder / "store.duckdb", folder / "fleet")
    return db, folder / "fleet" / "fleet.yaml"


def hints(fleet):
    return pd.DataFrame(
        [
            {"region": r, "service": s, "safe_load": fleet.server_type_of(s).safe_load_hint}
            for r in fleet.regions
            for s in fleet.services
        ]
    )


def event(uplift, **over):
    fields = {
        "name": "Launch night",
        "start": pd.Timestamp("2026-11-23T18:00Z"),
        "end": pd.Timestamp("2026-11-24T00:00Z"),
        "regions": ("eu-west",),
        "uplift": uplift,
    }
    fields.update(over)
    return PlannedEvent(**fields)


def test_breach_probability_reads_the_quantiles():
    levels = np.array([0.05, 0.5, 0.95])
    values = np.array([80.0, 100.0, 140.0])
    assert breach_probability(levels, values, 100.0) == pytest.approx(0.5)
    assert breach_probability(levels, values, 120.0) == pytest.approx(1 - 0.725)
    assert breach_probability(levels, values, 200.0) == pytest.approx(0.05)  # bound
    assert breach_probability(levels, values, 10.0) == pytest.approx(0.95)  # bound


def test_probability_text_marks_the_bounds_the_quantiles_resolve():
    assert probability_text(0.01) == "≤0.01"  # above the 99 % quantile: at most 1 %
    assert probability_text(0.99) == "≥0.99"
    assert probability_text(0.1196) == "0.12"
    assert probability_text(0.5) == "0.50"
    assert [probability_bound(p) for p in (0.01, 0.99, 0.1196, 0.5)] == ["<=", ">=", None, None]


def test_a_probability_is_never_rounded_up_to_a_verdicts_threshold():
    """0.0496 (GO) read 0.05 in the table, beside GO, where the legend says AT_RISK from
    0.05; and 0.49999 read 0.50 beside AT_RISK. Rounded down a third decimal instead."""
    from capacity.event_check import _rounded

    assert [probability_text(p) for p in (0.0496, 0.04999, 0.4951)] == ["0.049", "0.049", "0.495"]
    assert [probability_text(p) for p in (0.05, 0.0504, 0.5, 0.0415)] == [
        "0.05",
        "0.05",
        "0.50",
        "0.04",
    ]
    # the JSON's four decimals too
    assert [_rounded(p, 4) for p in (0.049996, 0.499996, 0.12345)] == [0.0499, 0.4999, 0.1235]


def test_small_event_is_go_and_huge_event_is_no_go(demo):
    db, config = demo
    fleet = load_fleet(config)
    with Store(db, read_only=True) as store:
        calm = check_event(store, fleet, event(1.0), safe=hints(fleet), now="2026-11-20").table
        # starting at half past, it is sized from 18:00: the servers must be there by then
        wild = check_event(
            store,
            fleet,
            event(6.0, start=pd.Timestamp("2026-11-23T18:30Z")),
            safe=hints(fleet),
            now="2026-11-20",
        )
    assert list(calm["service"]) == ["chat", "game", "matchmaking"]
    assert set(calm["verdict"]) == {"GO"}
    assert (calm["add_servers"] == 0).all() and calm["act_by"].isna().all()
    table = wild.table.set_index("service")
    assert set(table["verdict"]) == {"NO_GO"}
    assert (table["breach_probability"] >= 0.5).all()
    assert (table["peak_demand"] > 5 * calm.set_index("service")["peak_demand"]).all()
    game = table.loc["game"]
    assert game["add_servers"] == game["servers_needed"] - game["servers_available"] > 0
    lead = pd.Timedelta(
        days=fleet.server_type_of("game").procurement_lead_time_days
    ) + pd.Timedelta(minutes=fleet.server_type_of("game").boot_lead_time_minutes)
    assert game["act_by"] == pd.Timestamp("2026-11-23T18:00Z") - lead
    assert game["overdue"]  # 21 days of procurement cannot be had by launch night


def test_invalid_events(demo):
    db, config = demo
    fleet = load_fleet(config)
    with Store(db, read_only=True) as store:
        for bad, message in [
            (event(1.5, regions=("mars-1",)), "unknown region 'mars-1'"),
            (replace(event(1.5), name="  "), r"The 'name' parameter \(--name\) must name"),
            (event(1.5, end=pd.Timestamp("2026-11-23T17:00Z")), "must be after the event's start"),
            (event(0.0), r"'uplift' parameter \(--uplift\) must be a positive number"),
            (
                event(
                    1.5,
                    start=pd.Timestamp("2026-10-01T00:00Z"),
                    end=pd.Timestamp("2026-10-02T00:00Z"),
                ),
                r"The 'end' parameter \(--end\) gives an event that ends 2026-10-02 00:00 UTC, "
                "but the check forecasts from the end of the newest telemetry of eu-west, "
                "2026-11-23 00:00 UTC",
            ),
            (
                replace(
                    event(
                        1.5,
                        start=pd.Timestamp("2026-11-21T00:00Z"),
                        end=pd.Timestamp("2026-11-22T00:00Z"),
                    ),
                    stored=True,
                ),
                r"The 'event_id' parameter \(--event-id\) gives an event that ends",
            ),
        ]:
            with pytest.raises(ParameterError, match=message):
                check_event(store, fleet, bad, safe=hints(fleet))


def test_a_short_push_inside_a_stored_launch_is_checked_on_top_of_it(demo):
    # The demo's Winter Festival 2026 (EV-0047, a launch at x1.6 in eu-west and na-east) runs
    # 18 December to 4 January. A four-day push inside it is a scenario on top of the festival,
    # not the festival renamed: leaving the festival out would drop demand and flip the verdict.
    db, config = demo
    fleet = load_fleet(config)
    start, end = pd.Timestamp("2026-12-28T00:00Z"), pd.Timestamp("2027-01-01T00:00Z")
    with Store(db, read_only=True) as store:
        festival = check_event(store, fleet, stored_event(store, "EV-0047"), safe=hints(fleet))
        push = check_event(
            store,
            fleet,
            event(1.1, name="Extra push", start=start, end=end),
            safe=hints(fleet),
        )
    hours = festival.hourly[
        (festival.hourly["region"] == "eu-west")
        & (festival.hourly["ts"] >= start)
        & (festival.hourly["ts"] < end)
    ]
    without = hours.groupby("service")["q0.95"].max()
    peaks = push.table.set_index("service")["peak_demand"]
    assert (peaks >= without).all()
    assert peaks.to_numpy() == pytest.approx(1.1 * without.to_numpy(), rel=0.01)
    assert push.replaced == ()


def test_a_new_event_matching_a_stored_launch_replaces_it(demo):
    """Planned exactly as stored, an event gets the stored event's verdicts: it stands in for
    it with the shape learned for its kind, not as a flat multiple of a forecast without it."""
    db, config = demo
    fleet = load_fleet(config)
    with Store(db, read_only=True) as store:
        stored = stored_event(store, "EV-0047")
        as_stored = check_event(store, fleet, stored, safe=hints(fleet))
        planned = replace(stored, name="Winter Festival", stored=False)
        result = check_event(store, fleet, planned, safe=hints(fleet))
        bigger = check_event(store, fleet, replace(planned, uplift=2.0), safe=hints(fleet))
    assert result.replaced == ("Winter Festival 2026",)
    assert result.origin == "a new scenario in place of the stored Winter Festival 2026"
    assert as_stored.origin == "in the stored calendar"
    pd.testing.assert_frame_equal(result.table, as_stored.table)
    assert any(
        "moves it to this window and regions with the uplift x1.6" in n
        for n in (result.notes(now="2026-11-23"))
    )
    # the planner's uplift still sizes it
    assert (bigger.table["peak_demand"] > 1.1 * result.table["peak_demand"]).all()


def test_another_event_over_a_stored_launchs_window_is_checked_on_top_of_it(demo):
    """A sale planned over the festival's own dates is not the festival: leaving the festival
    out for it dropped its demand and turned NO_GO into GO. Only a name says an event is a
    stored one planned again; dates alone keep the stored event and add the new one on top."""
    db, config = demo
    fleet = load_fleet(config)
    with Store(db, read_only=True) as store:
        stored = stored_event(store, "EV-0047")
        festival = check_event(store, fleet, stored, safe=hints(fleet))
        sale = replace(stored, name="Holiday store sale", uplift=1.1, stored=False)
        on_top = check_event(store, fleet, sale, safe=hints(fleet))
        renamed = check_event(
            store, fleet, replace(sale, name="winter festival"), safe=hints(fleet)
        )
    assert on_top.replaced == ()
    assert on_top.beside == ("'Winter Festival 2026' (EV-0047)",)
    assert any("is checked on top of it" in n for n in on_top.notes(now="2026-11-23"))
    both = on_top.table.set_index(["region", "service"])
    alone = festival.table.set_index(["region", "service"]).loc[both.index]
    assert both["peak_demand"].to_numpy() == pytest.approx(
        1.1 * alone["peak_demand"].to_numpy(), rel=0.01
    )
    assert (both["servers_needed"] >= alone["servers_needed"]).all()
    # the festival's name, in any case and without its year, still plans the festival again
    assert renamed.replaced == ("Winter Festival 2026",) and renamed.beside == ()


def test_an_event_covers_every_hour_it_overlaps(demo):
    db, config = demo
    fleet = load_fleet(config)
    with Store(db, read_only=True) as store:
        short = check_event(
            store,
            fleet,
            event(
                1.2,
                start=pd.Timestamp("2026-11-24T08:10Z"),
                end=pd.Timestamp("2026-11-24T08:40Z"),
            ),
            safe=hints(fleet),
        )
        half = check_event(
            store,
            fleet,
            event(
                1.2,
                start=pd.Timestamp("2026-11-24T08:30Z"),
                end=pd.Timestamp("2026-11-24T10:00Z"),
            ),
            safe=hints(fleet),
        )
    assert list(short.table["service"]) == ["chat", "game", "matchmaking"]
    assert set(short.hourly["ts"]) == {pd.Timestamp("2026-11-24T08:00Z")}
    assert (short.table["peak_at"] == pd.Timestamp("2026-11-24T08:00Z")).all()
    assert set(half.hourly["ts"]) == {
        pd.Timestamp("2026-11-24T08:00Z"),
        pd.Timestamp("2026-11-24T09:00Z"),
    }
    assert len(half.hourly) == 3 * 2
    # each hour held over the hour: one hour is a flat line over it, not two points an hour
    # apart joined by a slope (which read as two hours checked)
    shown = event_check_figure(short).data
    assert {t.mode for t in shown} == {"lines"}
    assert {t.line.shape for t in shown} == {"hv"}
    # drawn to the end of the hours checked: one hour's single point had no 5-95 % band,
    # and plotly ticked its time axis from 07:59:59.999 to 08:00:00.001; two hours ended
    # at 09:00, an hour short of the window
    hour_ms = pd.Timestamp("2026-11-24T08:00Z").value // 1_000_000
    for check, points in ((short, 2), (half, 3)):
        for trace in event_check_figure(check).data:  # band edges, median, capacity
            assert trace.x0 == hour_ms and trace.dx == 3_600_000, trace
            assert len(trace.y) == points, trace
    medians = [t for t in event_check_figure(half).data if t.name == "demand, median"]
    assert {t.mode for t in medians} == {"lines"}


def test_the_safe_load_is_kept_as_given_so_every_table_rounds_it_alike(demo):
    """1222.51 was stored as 1222.5 and shown as 1,222 beside the safe-load table's 1,223;
    then the HTML report showed 1,223 where the terminal printed 1,222.5 (3,166 for 3,165.7
    in the demo's chat rows): every table now writes a safe load to a tenth."""
    from capacity.event_terminal import terminal_table
    from capacity.report import plan_table, table

    db, config = demo
    fleet = load_fleet(config)
    safe = hints(fleet)
    safe.loc[(safe["region"] == "eu-west") & (safe["service"] == "chat"), "safe_load"] = 1222.51
    with Store(db, read_only=True) as store:
        check = check_event(store, fleet, event(1.0), safe=safe, now="2026-11-20")
    row = check.table.set_index("service").loc["chat"]
    assert row["safe_load"] == 1222.51
    shown = plan_table(check.table[["service", "safe_load"]]).data
    assert "<td>1,222.5</td>" in shown
    assert "<td>1,222.5</td>" in table(safe[safe["safe_load"] == 1222.51]).data
    chat = next(line for line in terminal_table(check.table).splitlines() if " chat " in line)
    assert chat.split()[-1] == "1,222.5"
    page = render_report(check, now="2026-11-20")
    assert "<th>safe load per server</th>" in page and "<td>1,222.5</td>" in page
    # the peak demand to the unit in both
    peak = f"{check.table.set_index('service').loc['chat', 'peak_demand']:,.0f}"
    assert chat.split()[-2] == peak and f"<td>{peak}</td>" in page
    assert "<th>peak demand</th>" in page


def test_regions_are_deduplicated_and_all_means_every_region(demo):
    _, config = demo
    fleet = load_fleet(config)
    twice = event(1.2, regions=(" eu-west ", "eu-west", "na-east", "eu-west")).validated(fleet)
    assert twice.regions == ("eu-west", "na-east")
    every = event(1.2, regions=("ALL",)).validated(fleet)
    assert every.regions == tuple(fleet.regions)
    # 'all' beside a region is refused, as a calendar file's regions are (it meant every one)
    with pytest.raises(ParameterError, match="mixes 'all' with named regions"):
        event(1.2, regions=("all", "eu-west")).validated(fleet)


def test_a_stored_event_the_forecast_leaves_out_is_named_in_the_notes(demo, tmp_path):
    # a kind the history never held, stored with no uplift: the verdict is on normal demand
    # and the notes say why; another such event after this one is not this check's business
    db, config = demo
    copy = tmp_path / "store.duckdb"
    copy.write_bytes(db.read_bytes())
    calendar = tmp_path / "calendar.csv"
    calendar.write_text(
        "event_id,name,kind,start,end,regions\n"
        "CH-1,Charity stream,charity,2026-11-23T18:00Z,2026-11-23T22:00Z,eu-west\n"
        "CH-2,Charity finale,charity,2026-11-26T18:00Z,2026-11-26T22:00Z,eu-west\n"
    )
    fleet = load_fleet(config)
    with Store(copy) as store:
        store.import_events([calendar])
    with Store(copy, read_only=True) as store:
        check = check_event(
            store, fleet, stored_event(store, "CH-1"), safe=hints(fleet), now="2026-11-20"
        )
    assert check.unsized == (
        "note: the forecasts of eu-west/chat, eu-west/game, eu-west/matchmaking leave out "
        "'Charity stream' (charity, from 2026-11-23 18:00 UTC): their history holds too few "
        "charity events to learn the effect and the calendar gives it no expected_uplift; "
        "give it one (the multiple of normal demand it brings, 1.3 for 30 % more) and import "
        "the calendar again",
    )
    assert check.unsized[0] in check.notes(now="2026-11-20")
    # what recommend sizes and schedule raises floors for leaves it out too, and they say so
    for command in ("recommend", "schedule"):
        result = run_cli(
            command, "--db", str(copy), "--config", str(config), "--horizon", "2d", "--jobs", "2"
        )
        assert result.exit_code == 0, result.output
        assert check.unsized[0] in result.stderr.splitlines()


def _store_with_calendar(tmp_path: Path, name: str, text: str) -> Path:
    """``tmp_path/store.duckdb`` holding the calendar ``text``, written as ``name`` (imported
    without a fleet file, so its regions are not checked)."""
    calendar = tmp_path / name
    calendar.write_text(text)
    with Store(tmp_path / "store.duckdb") as store:
        store.import_events([calendar])
    return tmp_path / "store.duckdb"


def test_stored_event_ids_match_regardless_of_case_when_unambiguous(tmp_path):
    _store_with_calendar(
        tmp_path,
        "calendar.csv",
        "event_id,name,kind,start,end,regions\n"
        "EV-1,Winter Festival,launch,2026-12-18T08:00Z,2027-01-04T08:00Z,eu-west\n"
        "Cup-2,Cup final,esports,2026-12-19T17:00Z,2026-12-19T21:00Z,eu-west\n"
        "CUP-2,Cup replay,esports,2026-12-20T17:00Z,2026-12-20T21:00Z,eu-west\n",
    )
    with Store(tmp_path / "store.duckdb", read_only=True) as store:
        assert stored_event(store, "ev-1").name == "Winter Festival"
        assert stored_event(store, "CUP-2").name == "Cup replay"
        with pytest.raises(ParameterError, match="'CUP-2', 'Cup-2' when case is ignored"):
            stored_event(store, "cup-2")
        with pytest.raises(ParameterError, match="list event ids with capacity status"):
            stored_event(store, "EV-2")


def test_a_stored_event_in_a_region_the_fleet_lacks_is_refused_by_its_id(demo, tmp_path):
    """It blamed '--regions' ('Fix: name regions of the fleet file'), an option the planner
    had not given and cannot give with --event-id."""
    _, config = demo
    _store_with_calendar(
        tmp_path,
        "events.csv",
        "event_id,name,kind,start,end,regions\n"
        "EV-9,Central launch,launch,2026-12-12T10:00Z,2026-12-13T10:00Z,eu-west;eu-central\n",
    )  # no --config: its regions are not checked
    result = run_cli(
        "check-event", "--event-id", "EV-9", "--db", str(tmp_path / "store.duckdb"),
        "--config", str(config),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "error: The 'event_id' parameter (--event-id) names the stored event 'Central launch', "
        "whose regions include 'eu-central', a region the fleet file does not have"
    )
    assert "--regions" not in line and "Fix: give the fleet file that has it (--config)" in line


def test_a_stored_event_without_an_uplift_is_not_titled_x1(demo, tmp_path):
    """A maintenance window read 'uplift x1' (normal demand) where the calendar states no
    uplift and the forecast dips demand as learned for maintenance."""
    from capacity.event_terminal import terminal_title

    _, config = demo
    fleet = load_fleet(config)
    _store_with_calendar(
        tmp_path,
        "events.csv",
        "event_id,name,kind,start,end,regions,expected_uplift\n"
        "EV-1,Patch,maintenance,2026-12-01T05:00Z,2026-12-01T07:00Z,eu-west,\n"
        "EV-2,Festival,launch,2026-12-18T08:00Z,2027-01-04T08:00Z,eu-west,1.6\n",
    )
    with Store(tmp_path / "store.duckdb", read_only=True) as store:
        patch = stored_event(store, "EV-1").validated(fleet)
        festival = stored_event(store, "EV-2").validated(fleet)
    assert terminal_title(patch).endswith("eu-west, no uplift in the calendar")
    assert "x1" not in terminal_title(patch) and patch.uplift == 1.0
    assert terminal_title(festival).endswith("eu-west, uplift x1.6")


def test_the_uid_of_a_repeating_event_names_its_occurrence_ids(tmp_path):
    _store_with_calendar(
        tmp_path,
        "ops.ics",
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nBEGIN:VEVENT\n"
        "UID:ics-weekly-maint\nSUMMARY:Maintenance\nDTSTART:20361201T040000Z\n"
        "DTEND:20361201T060000Z\nRRULE:FREQ=WEEKLY;COUNT=5\nCATEGORIES:maintenance\n"
        "END:VEVENT\nEND:VCALENDAR\n",
    )
    with Store(tmp_path / "store.duckdb", read_only=True) as store:
        with pytest.raises(ParameterError) as info:
            stored_event(store, "ICS-weekly-maint")
        assert stored_event(store, "ics-weekly-maint@20361208T0400Z").name == "Maintenance"
    message = str(info.value)
    assert "'ICS-weekly-maint' is a repeating event: its 5 stored occurrences" in message
    assert "ics-weekly-maint@YYYYMMDDTHHMMZ (the occurrence's UTC start)" in message
    assert (
        "e.g. 'ics-weekly-maint@20361201T0400Z', 'ics-weekly-maint@20361208T0400Z', "
        "'ics-weekly-maint@20361215T0400Z'. Fix: give one occurrence's id" in message
    )


def test_report_carries_the_notes_the_forecast_start_and_the_bounds(demo):
    db, config = demo
    fleet = load_fleet(config)
    far = event(
        1.0,
        name="Summer finals",
        start=pd.Timestamp("2027-01-20T18:00Z"),
        end=pd.Timestamp("2027-01-21T00:00Z"),
        regions=("na-east",),
    )
    with Store(db, read_only=True) as store:
        result = check_event(store, fleet, far, safe=hints(fleet))
    assert (result.table["breach_probability"] <= 0.01).any(), result.table
    page = render_report(result, now="2026-11-30T00:00Z")
    assert "Forecast from 2026-11-23 00:00 UTC" in page
    assert "warning: the newest demand telemetry ends 2026-11-23 00:00 UTC, 7.0 days ago" in page
    assert "note: the event ends 59 days after the newest telemetry" in page
    assert "so this verdict is provisional" in page
    assert "<td>≤0.01</td>" in page and "0.0100" not in page
    assert "overflow-x:auto" in page  # a wide table scrolls in its box
    # numbers as the notebook shows them (a safe load of 3165.662908 once), no raw flags
    assert not re.search(r"<td>-?[\d,]+\.\d{4,}</td>", page)
    assert "<td>True</td>" not in page and "<td>False</td>" not in page
    assert "<th>act by (UTC)</th>" in page and "<th>peak at (UTC)</th>" in page
    # a quiet night ahead: the report says so before the details
    assert set(result.table["verdict"]) == {"GO"}, result.table
    assert "Verdict: <b>GO</b> (the worst of 3 region/services: 3 GO)." in page
    assert "No servers to add: the servers available cover the N+k need." in page
    fresh = render_report(result, now="2026-11-23T12:00Z")
    assert "warning: the newest" not in fresh and "provisional" in fresh


def test_report_escapes_names_and_embeds_plotly(demo):
    db, config = demo
    fleet = load_fleet(config)
    with Store(db, read_only=True) as store:
        result = check_event(
            store, fleet, event(1.2, name="<script>alert(1)</script>"), safe=hints(fleet)
        )
    page = render_report(result)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "plotly.js" in page.lower() or "Plotly.newPlot" in page
    # one figure (plotly 5's plotly.js names Plotly.newPlot in a message of its own too)
    assert page.count('class="plotly-graph-div"') == 1


def run_cli(*args):
    from click.testing import CliRunner

    from capacity.cli import cli

    return CliRunner().invoke(cli, list(args))


def test_cli_json_writes_times_in_utc_with_z_as_the_csvs_do(demo):
    """``act_by`` read ``2026-11-23T07:54:00+00:00`` here and ``...Z`` in recommend's CSV
    and the plan's CSVs; it is ISO 8601 in UTC with Z in every machine output now."""
    db, config = demo
    args = ["--start", "2026-11-23T18:00:00Z", "--end", "2026-11-24T00:00:00Z"]
    args += ["--regions", "eu-west", "--uplift", "6", "--format", "json", "--jobs", "1"]
    result = run_cli(
        "check-event", "--name", "Big night", *args, "--db", str(db), "--config", str(config)
    )
    assert result.exit_code == 0, result.output
    given = [r["act_by"] for r in json.loads(result.stdout) if r["act_by"] is not None]
    assert given and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z", t) for t in given)


def test_cli_json_contract(demo, tmp_path):
    db, config = demo
    report = tmp_path / "report.html"
    result = run_cli(
        "check-event",
        "--name",
        "Launch night",
        "--start",
        "2026-11-23T18:00:00Z",
        "--end",
        "2026-11-24T00:00:00Z",
        "--regions",
        "eu-west,na-east",
        "--uplift",
        "1.3",
        "--db",
        str(db),
        "--config",
        str(config),
        "--format",
        "json",
        "--output",
        str(report),
        "--jobs",
        "1",
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == 6
    # the demo's telemetry ends on 22 November 2026, days before any day this test runs
    assert "warning: the newest demand telemetry ends 2026-11-23 00:00 UTC" in result.stderr
    assert set(records[0]) == {
        "region",
        "service",
        "peak_demand",
        "servers_needed",
        "servers_available",
        "breach_probability",
        "verdict",
        "add_servers",
        "act_by",
        "breach_probability_bound",  # added to the contract's keys: "<=", ">=" or null
        "overdue",  # added: the table, the report and the README's contract text have it
    }
    assert {r["region"] for r in records} == {"eu-west", "na-east"}
    # the act-by dates are days before today: every one given is overdue, and only those
    assert all(r["overdue"] is (r["act_by"] is not None) for r in records), records
    assert all(r["verdict"] in {"GO", "AT_RISK", "NO_GO"} for r in records)
    assert all(0 <= r["breach_probability"] <= 1 for r in records)
    for r in records:
        p = r["breach_probability"]
        expected = "<=" if p <= 0.01 else ">=" if p >= 0.99 else None
        assert r["breach_probability_bound"] == expected, r
    assert any(r["breach_probability_bound"] == "<=" for r in records), records
    assert report.is_file() and "Plotly.newPlot" in report.read_text()
    assert "provisional" not in result.stderr  # a day ahead: well within what is measured


def test_cli_says_a_far_event_is_provisional(demo):
    db, config = demo
    args = ["--regions", "sa-east", "--uplift", "1.2", "--db", str(db), "--config", str(config)]
    result = run_cli(
        "check-event",
        "--name",
        "Summer finals",
        "--start",
        "2027-01-20T18:00:00Z",
        "--end",
        "2027-01-21T00:00:00Z",
        *args,
        "--format",
        "json",
        "--jobs",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3
    assert (
        "note: the event ends 59 days after the newest telemetry; forecast bands are measured "
        "up to 28 days ahead" in result.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--regions", "eu-west,atlantis"], "unknown region 'atlantis'"),
        (
            ["--regions", "eu-wst"],
            "unknown region 'eu-wst'; did you mean 'eu-west'? the fleet has ap-southeast, "
            "eu-west, na-east, sa-east. Fix: name regions of the fleet file, or 'all'",
        ),
        (  # a calendar file's separator: it suggested 'sa-east', another region
            ["--regions", "eu-west;na-east"],
            "unknown region 'eu-west;na-east'; did you mean 'eu-west,na-east' (regions are "
            "separated by commas)? the fleet has",
        ),
        (
            ["--regions", "eu-west na-east"],
            "did you mean 'eu-west,na-east' (regions are separated by commas)?",
        ),
        (["--end", "2026-11-23T12:00:00Z"], "The 'end' parameter (--end) must be after the"),
        (["--end", "2026-11-23T12:00:00Z"], "Fix: give an end later than the start"),
        (["--uplift", "-1"], "'uplift' parameter (--uplift) must be a positive number"),
        (["--uplift", "0"], "Got 0.0. Fix: give the expected demand as a multiple of normal"),
        (["--uplift", "abc"], "(--uplift) must be a positive number. Got 'abc'. Fix: give"),
        # float() reads a typo of 1.5 as 15: checked as x15, NO_GO everywhere, exit 0
        (["--uplift", "1_5"], "(--uplift) must be a positive number. Got '1_5'. Fix: give"),
        (["--uplift", "60"], "'uplift' parameter (--uplift) must be at most 20"),
        (["--uplift", "25"], "Got 25.0. Fix: write a multiple: for 25% more demand, 1.25"),
        (["--start", "next week"], "'start' parameter (--start) must be an ISO 8601 time"),
        (["--regions", ","], "(--regions) must name at least one region. Got ','. Fix: name"),
        (  # it checked every region: a calendar file refuses the same regions
            ["--regions", "eu-west,,all"],
            "(--regions) mixes 'all' with named regions. Got 'eu-west,,all'. Fix: give either",
        ),
        (
            ["--start", "2026-11-01T00:00Z", "--end", "2026-11-02T00:00Z"],
            "(--end) gives an event that ends 2026-11-02 00:00 UTC, but the check forecasts",
        ),
        (  # it named --horizon, an option check-event does not have
            ["--start", "2028-06-01T00:00Z", "--end", "2028-06-02T00:00Z"],
            "(--end) gives an event that ends 2028-06-02 00:00 UTC, more than 366 days after",
        ),
    ],
)
def test_cli_bad_input_exits_2(demo, args, message):
    db, config = demo
    base = {
        "--name": "X",
        "--start": "2026-11-23T18:00:00Z",
        "--end": "2026-11-24T00:00:00Z",
        "--regions": "eu-west",
        "--uplift": "1.5",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [item for pair in base.items() for item in pair]
    result = run_cli("check-event", *flat, "--db", str(db), "--config", str(config))
    assert result.exit_code == 2
    # one line, naming the option and the fix (the notes before it: services at their hint)
    [line] = [line for line in result.stderr.splitlines() if not line.startswith("note: ")]
    assert line.startswith("error: The '") and "Fix: " in line, line
    assert message in result.stderr


def test_cli_unknown_event_id_exits_2(demo):
    db, config = demo
    result = run_cli(
        "check-event", "--event-id", "EV-9999", "--db", str(db), "--config", str(config)
    )
    assert result.exit_code == 2
    assert "'event_id' parameter must name an event in the stored calendar" in result.stderr


def test_cli_event_id_refuses_the_flags_of_a_new_event(demo):
    db, config = demo
    result = run_cli(
        "check-event", "--event-id", "EV-0047", "--uplift", "2", "--regions", "eu-west",
        "--db", str(db), "--config", str(config),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert "cannot be combined with --regions, --uplift" in line
    assert "Fix: give either --event-id alone, or --name, --start, --end" in line


def test_cli_refuses_an_output_it_cannot_write_before_checking(demo, tmp_path):
    _, config = demo
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    # a store that does not exist: the output is refused first, before any store is opened
    result = run_cli(
        "check-event", "--name", "X", "--start", "2026-11-23T18:00:00Z",
        "--end", "2026-11-24T00:00:00Z", "--regions", "eu-west", "--uplift", "1.2",
        "--db", str(tmp_path / "missing.duckdb"), "--config", str(config),
        "--output", str(afile / "x.html"),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert f"The 'output' parameter cannot be written: '{afile}' is a file" in line
    assert "Fix: choose a path in a folder" in line
    assert result.stdout == ""


@pytest.mark.parametrize("option", ["--db", "--config"])
def test_cli_refuses_an_output_that_is_its_store_or_fleet_file(demo, tmp_path, option):
    """``--output data/capacity.duckdb`` replaced the store with the HTML report (exit 0),
    and ``--output fleet.yaml`` the fleet file: refused before any work, the file intact."""
    import shutil

    db, config = demo
    inputs = {"--db": tmp_path / "store.duckdb", "--config": tmp_path / "fleet.yaml"}
    shutil.copyfile(db, inputs["--db"])
    shutil.copyfile(config, inputs["--config"])
    before = inputs[option].read_bytes()
    result = run_cli(
        "check-event", "--name", "X", "--start", "2026-11-23T18:00:00Z",
        "--end", "2026-11-24T00:00:00Z", "--regions", "eu-west", "--uplift", "1.2",
        "--db", str(inputs["--db"]), "--config", str(inputs["--config"]),
        "--output", str(tmp_path / "." / inputs[option].name), "--jobs", "1",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert f"The 'output' parameter (--output) names the same file as {option}" in line
    assert "Fix: write the report to another file" in line
    assert result.stdout == ""
    assert inputs[option].read_bytes() == before


def test_cli_refuses_an_output_that_takes_no_file_for_root_too(demo, tmp_path):
    _, config = demo
    # /proc passes os.access for root but takes no new file: refused up front, not a traceback
    result = run_cli(
        "check-event", "--name", "X", "--start", "2026-11-23T18:00:00Z",
        "--end", "2026-11-24T00:00:00Z", "--regions", "eu-west", "--uplift", "1.2",
        "--db", str(tmp_path / "missing.duckdb"), "--config", str(config),
        "--output", "/proc/x.html",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert (
        "The 'output' parameter cannot be written: nothing can be created in the folder '/proc'"
        in line
    )
    assert result.stdout == ""


def test_recommend_cli_csv(demo):
    import io

    db, config = demo
    result = run_cli(
        "recommend",
        "--db",
        str(db),
        "--config",
        str(config),
        "--horizon",
        "2d",
        "--format",
        "csv",
        "--jobs",
        "2",
    )
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(io.StringIO(result.stdout))
    assert len(recs) == 12
    assert "the forecast behind these recommendations starts then" in result.stderr
    assert set(recs["action"]) <= {"scale_up", "scale_down", "hold"}
    assert (recs["target"] >= recs["needed_nk"]).all()
    assert (recs["target"] >= recs["needed_loss"]).all()
    up = recs[recs["action"] == "scale_up"]
    assert (up["change"] == up["target"] - up["servers_now"]).all()
    assert "cost_per_week_change" in recs.columns  # the key other tools read, without a unit
    bad = run_cli("recommend", "--db", str(db), "--config", str(config), "--quantile", "1.5")
    assert bad.exit_code == 2 and "'--quantile': 1.5 is not in the range 0<x<1" in bad.output


def test_recommend_table_fits_100_columns_with_every_figure_and_the_currency(demo, tmp_path):
    """Every region (ap-southeast/matchmaking the widest names): the table was 318 columns
    wide. Each row's figures on a line, its action and dates on the next, indented; the
    reasons below, wrapped. The fleet file's currency heads the cost (it had no unit)."""
    db, config = demo
    args = ("recommend", "--db", str(db), "--horizon", "1d", "--jobs", "1")
    table = run_cli(*args, "--config", str(config))  # the demo fleet: currency: USD
    assert table.exit_code == 0, table.output
    rows = json.loads(run_cli(*args, "--config", str(config), "--format", "json").stdout)
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    # overdue is measured from now, not from where the forecast starts: the heading says so
    assert lines[0] == "Forecast from 2026-11-23 00:00 UTC over 1d, sized at p95, N+1."
    assert re.fullmatch(
        r"Overdue: the time to act by is before now, \d{4}-\d\d-\d\d \d\d:\d\d UTC\.", lines[1]
    )
    assert lines[2].split()[-1] == "cost/week"
    assert lines[3].split() == [
        *("region", "service", "now", "demand", "N+1", "region", "loss", "target", "change"),
        "USD",
    ]
    body = lines[4 : 4 + 2 * len(rows)]
    assert len(rows) == 12
    for row, first, second in zip(rows, body[::2], body[1::2], strict=True):
        change = f"{row['change']:+,}" if row["change"] else "0"
        cost = row["cost_per_week_change"]
        assert first.split() == [
            row["region"],
            row["service"],
            *(f"{row[k]:,}" for k in ("servers_now", "needed", "needed_nk", "needed_loss")),
            f"{row['target']:,}",
            change,
            f"{cost:+,.2f}" if cost else "0.00",
        ]
        words = {"scale_up": "scale up", "scale_down": "scale down", "hold": "hold"}
        said = words[row["action"]] + (f" by {abs(row['change']):,}" if row["change"] else "")
        if row["act_by"] is not None:
            late = " (overdue)" if row["overdue"] else ""
            said += f"; act by {pd.Timestamp(row['act_by']):%Y-%m-%d %H:%M} UTC{late}"
        if row["first_shortfall"] is not None:
            said += f"; first hour short {pd.Timestamp(row['first_shortfall']):%Y-%m-%d %H:%M} UTC"
        else:
            said += "; no hour short"
        assert second == f"  {said}"
    reasons = "\n".join(lines[5 + 2 * len(rows) : lines.index("Loss of one region:") - 1])
    for row in rows:
        assert f"{row['region']}/{row['service']}: {row['reason']}" in (
            reasons.replace("\n  ", " ")
        )
    plain = tmp_path / "fleet.yaml"
    plain.write_text(
        "\n".join(x for x in config.read_text().splitlines() if not x.startswith("currency:"))
    )
    result = run_cli(*args, "--config", str(plain))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[3].endswith("  change  fleet cost units")


def test_schedule_cli_exports(demo, tmp_path):
    import yaml

    db, config = demo
    common = [
        "--db",
        str(db),
        "--config",
        str(config),
        "--region",
        "eu-west",
        "--horizon",
        "1d",
        "--jobs",
        "1",
    ]
    # the demo's telemetry ends on 22 November 2026: published from then (--now), every
    # action is kept; published today, none would be (AWS refuses actions in the past)
    since = ["--now", "2026-11-23T00:00Z"]
    aws = run_cli("schedule", *common, "--service", "game", "--format", "aws", *since)
    assert aws.exit_code == 0, aws.output
    actions = json.loads(aws.stdout)
    assert actions and {a["AutoScalingGroupName"] for a in actions} == {"eu-west-game"}
    assert min(a["StartTime"] for a in actions).startswith("2026-11-23T00:00")
    later = run_cli("schedule", *common, "--service", "game", "--format", "aws")
    assert later.exit_code == 2 and "leaves no hour after now" in later.stderr
    wrong = run_cli("schedule", *common, *since)
    assert wrong.exit_code == 2
    assert (
        "'now' parameter (--now) says from when AWS actions or KEDA windows are published, so "
        "it needs --format aws or --format keda. Got --format csv." in wrong.stderr
    )
    assert all(a["MinSize"] >= 2 for a in actions)
    assert len({a["StartTime"] for a in actions}) == len(actions)  # one action per change
    # published from the demo's end (--now), nothing is past: no warning (it had counted
    # from the clock whatever --now said)
    assert "warning" not in aws.stderr
    # today, every floor of the demo's schedule is past: no window is written (cron has no
    # year, so each would fire again on its day next year); it had exited 0 with all of them
    keda = run_cli("schedule", *common, "--service", "chat", "--format", "keda")
    assert keda.exit_code == 2 and keda.stdout == ""
    assert "warning: the newest demand telemetry ends 2026-11-23 00:00 UTC" in keda.stderr
    assert "(--horizon) leaves no hour from now (" in keda.stderr
    keda = run_cli("schedule", *common, "--service", "chat", "--format", "keda", *since)
    assert keda.exit_code == 0, keda.output
    assert "warning: left out" not in keda.stderr
    documents = [d for d in yaml.safe_load_all(keda.stdout) if d]
    assert documents[0]["kind"] == "ScaledObject"
    assert any(t["type"] == "cron" for t in documents[0]["spec"]["triggers"])
    # published 6 hours in, the first 6 hours' windows are left out, and said so
    later = ["--now", "2026-11-23T06:30Z"]
    part = run_cli("schedule", *common, "--service", "chat", "--format", "keda", *later)
    assert part.exit_code == 0, part.output
    assert (
        "warning: left out the 6 hours of floors before now (2026-11-23 06:30 UTC): a KEDA "
        "window already past would fire again a year later; the windows start at 2026-11-23 "
        "06:00 UTC"
    ) in part.stderr
    starts = [
        trigger["metadata"]["start"]
        for document in yaml.safe_load_all(part.stdout)
        if document
        for trigger in document["spec"]["triggers"]
        if trigger["type"] == "cron"
    ]
    assert starts and all(
        not start.endswith(" 23 11 *") or int(start.split()[1]) >= 6 for start in starts
    )
    out = tmp_path / "floors.csv"
    csv = run_cli("schedule", *common, "--output", str(out))
    assert csv.exit_code == 0
    floors = pd.read_csv(out)
    assert set(floors["service"]) == {"chat", "game", "matchmaking"}
    assert len(floors) == 3 * 24
    # one series asked for: only it is forecast and sized (all twelve were, with a note for
    # every series at its hint), and its floors are the same
    one = tmp_path / "game.csv"
    alone = run_cli("schedule", *common, "--service", "game", "--output", str(one))
    assert alone.exit_code == 0, alone.output
    assert "ap-southeast/" not in alone.stderr and "eu-west/chat" not in alone.stderr
    game = floors[floors["service"] == "game"].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_csv(one), game)
    bad = run_cli("schedule", *common, "--service", "voice")
    assert bad.exit_code == 2 and "'service' parameter (--service) must be one of" in bad.stderr
    typo = run_cli("schedule", *common[:4], "--region", "eu-wst", "--horizon", "1h")
    assert typo.exit_code == 2
    assert typo.stderr.strip() == (
        "error: The 'region' parameter (--region) must be one of ap-southeast, eu-west, "
        "na-east, sa-east. Got 'eu-wst' (did you mean 'eu-west'?). Fix: name a region of the "
        "fleet file, or leave out --region for every one"
    )


def test_cli_table_reads_plainly(demo):
    db, config = demo
    result = run_cli(
        "check-event", "--name", "Quiet evening", "--start", "2026-11-24T18:00:00Z",
        "--end", "2026-11-24T20:00:00Z", "--regions", " na-east , na-east,na-east ",
        "--uplift", "1.0", "--db", str(db), "--config", str(config), "--jobs", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Quiet evening: 2026-11-24 18:00 to 2026-11-24 20:00 UTC, na-east, uplift x1"
    # a service sized at its hint is noted for the region checked, not for all twelve
    assert "note: na-east/game is sized at the fleet file's safe_load_hint" in result.stderr
    assert "eu-west/" not in result.stderr and "sa-east/" not in result.stderr
    assert lines[1].split() == ["add", "servers", "servers", "breach", "peak", "safe", "load"]
    assert lines[2].split() == [
        *("region", "service", "verdict", "servers", "needed", "available", "prob."),
        *("demand", "per", "server"),
    ]
    assert all(len(line) <= 100 for line in lines)
    # each region/service on two lines: its figures, then (indented) when to act
    rows = [line.split() for line in lines[3::2]]
    assert len(rows) == 3 and all(row[0] == "na-east" for row in rows)
    assert all(line.startswith("  ") for line in lines[4::2])
    go = [(row, when) for row, when in zip(rows, lines[4::2], strict=True) if row[2] == "GO"]
    assert go, result.stdout  # a quiet evening needs nothing
    for row, when in go:
        # No servers to add, so no date to act by, said in words, not NaN; the probability
        # at the bound the quantiles resolve, not a spurious 0.0100.
        assert "NaN" not in row and row[3] == "0"
        assert when.startswith("  nothing to add; demand (")
        assert row[6] in {"≤0.01"} or float(row[6]) < 0.05


def test_the_terminal_table_fits_100_columns_and_keeps_every_figure(demo):
    """Every region (ap-southeast/matchmaking the widest names) and an event big enough to
    add servers, overdue for game: the table was 161 columns wide."""
    from capacity.event_terminal import terminal_table, terminal_title

    db, config = demo
    fleet = load_fleet(config)
    big = event(6.0, name="Season 14 launch", regions=("all",))
    with Store(db, read_only=True) as store:
        check = check_event(store, fleet, big, safe=hints(fleet), now="2026-11-05T12:00Z")
    table = check.table
    assert len(table) == 12 and table["overdue"].any() and (table["add_servers"] > 0).all()
    lines = [*terminal_title(check.event).splitlines(), *terminal_table(table).splitlines()]
    assert max(len(line) for line in lines) <= 100
    assert lines[0] == "Season 14 launch: 2026-11-23 18:00 to 2026-11-24 00:00 UTC,"
    assert lines[1] == "  ap-southeast, eu-west, na-east, sa-east, uplift x6"
    body = lines[4:]
    assert len(body) == 2 * len(table)
    for (_, row), first, second in zip(table.iterrows(), body[::2], body[1::2], strict=True):
        assert first.split() == [
            row["region"],
            row["service"],
            row["verdict"],
            f"{row['add_servers']:,}",
            f"{row['servers_needed']:,}",
            f"{row['servers_available']:,}",
            probability_text(row["breach_probability"]),
            f"{row['peak_demand']:,.0f}",
            f"{row['safe_load']:,.1f}",
        ]
        late = " (overdue)" if row["overdue"] else ""
        assert second == (
            f"  act by {row['act_by']:%Y-%m-%d %H:%M} UTC{late}; demand ({row['metric']}) "
            f"peaks {row['peak_at']:%Y-%m-%d %H:%M} UTC"
        )


def test_an_event_as_typed_reads_its_times_regions_and_uplift():
    event = PlannedEvent.from_text(
        "Finals", "2026-12-05T18:00:00Z", "2026-12-05T23:00:00+01:00", "eu-west, na-east", "1.6"
    )
    assert event.start == pd.Timestamp("2026-12-05T18:00:00Z")
    assert event.end == pd.Timestamp("2026-12-05T22:00:00Z")
    assert event.regions == ("eu-west", " na-east") and event.uplift == 1.6
    with pytest.raises(ParameterError, match=r"The 'uplift' parameter .* Got 'lots'"):
        PlannedEvent.from_text("Finals", "2026-12-05T18:00Z", "2026-12-06T00:00Z", "all", "lots")
    with pytest.raises(ParameterError, match="'end'"):
        PlannedEvent.from_text("Finals", "2026-12-05T18:00Z", "tomorrow", "all", 1.6)


def test_servers_needed_agree_with_recommend_for_an_event_days_away(demo):
    """An event within a week of the forecast's start was forecast over its own few hours,
    which chose the forecast's blend on fewer validation hours than recommend's 28 days: the
    two disagreed by about 1 % on the servers the same hours need."""
    from capacity.forecast_fleet import forecast_fleet
    from capacity.headroom import hourly_need

    db, config = demo
    fleet = load_fleet(config)
    safe = hints(fleet)
    tonight = event(1.0)  # as forecast: 2026-11-23 18:00 to 24:00, a day after the cutoff
    with Store(db, read_only=True) as store:
        check = check_event(store, fleet, tonight, safe=safe, now="2026-11-20", jobs=1)
        # recommend's path (cli.recommend): the default horizon, its quantiles, hourly_need
        eu = fleet.model_copy(update={"regions": {"eu-west": fleet.regions["eu-west"]}})
        run = forecast_fleet(
            store, eu, horizon="28d", quantiles=(0.05, 0.5, 0.95), jobs=1, save=False
        )
    need = hourly_need(run.frame, safe, fleet, quantile=0.95)
    hours = need[(need["ts"] >= tonight.start) & (need["ts"] < tonight.end)]
    assert len(hours) == 3 * 6
    peaks = hours.groupby("service").agg(demand=("demand", "max"), nk=("needed_nk", "max"))
    table = check.table.set_index("service")
    assert table["servers_needed"].to_dict() == peaks["nk"].to_dict()
    assert table["peak_demand"].to_dict() == peaks["demand"].round(1).to_dict()


def test_overdue_is_measured_from_the_check_and_said_in_words(demo):
    """``overdue`` is relative to when the check runs, not to the forecast's start: the
    terminal and the report say so, and the report leads with what to add by when."""
    db, config = demo
    fleet = load_fleet(config)
    when = "2026-11-05T12:00Z"  # game's 21-day procurement is past, the others' 14 days not
    with Store(db, read_only=True) as store:
        check = check_event(store, fleet, event(6.0), safe=hints(fleet), now=when, jobs=1)
    table = check.table.set_index("service")
    assert table["overdue"].to_dict() == {"chat": False, "game": True, "matchmaking": False}
    assert check.checked_at == pd.Timestamp(when)
    [line] = [line for line in check.notes(now=when) if "overdue" in line]
    assert line == (
        "warning: overdue, the date to act by is before this check (2026-11-05 12:00 UTC): "
        "eu-west/game by 2026-11-02 17:54 UTC. On the fleet file's boot and procurement lead "
        "times, the servers to add there cannot all be in place when the event starts"
    )
    page = render_report(check, now=when)
    assert "Verdict: <b>NO_GO</b> (the worst of 3 region/services: 3 NO_GO)." in page
    todo = page[page.index("What to do") : page.index("</ul>", page.index("What to do"))]
    assert "it was already past when the check ran, 2026-11-05 12:00 UTC" in todo
    game = table.loc["game"]
    assert (
        f"eu-west / game: add {game['add_servers']:,} servers ({game['servers_available']:,} to "
        f"{game['servers_needed']:,}) by 2026-11-02 17:54 UTC <b>(overdue: already past)</b>"
    ) in todo
    assert "by 2026-11-09 17:57 UTC</li>" in todo  # matchmaking: not overdue, no mark
    # earliest first
    assert todo.index("/ game") < todo.index("/ matchmaking") < todo.index("/ chat")
    # the table leads with the verdict and what to add by when
    assert page.index("<th>verdict</th>") < page.index("<th>act by (UTC)</th>")
    assert page.index("<th>act by (UTC)</th>") < page.index("<th>servers needed (N+k)</th>")
    # verdicts coloured as the plan's act/watch/OK (they were plain black), and headers may
    # wrap so that the table fits the page (its last columns were hidden in the scroll box)
    assert "<td><span class='cap-act'>NO_GO</span></td>" in page
    assert ".cap-table th{white-space:normal}" in page
    # every panel has its dates, not only the last
    figure = event_check_figure(check)
    axes = [figure.layout[name] for name in figure.layout if name.startswith("xaxis")]
    assert len(axes) == 3 and all(axis.showticklabels for axis in axes)
    assert not [line for line in check.notes(now=when) if "before the forecast's" in line]
    in_time = replace(check, table=check.table.assign(overdue=False))
    assert not [line for line in in_time.notes(now=when) if "overdue" in line]
    assert "(overdue" not in render_report(in_time, now=when)


def test_an_event_under_way_says_only_its_forecast_hours_are_checked(demo):
    db, config = demo
    fleet = load_fleet(config)
    under_way = event(1.0, start=pd.Timestamp("2026-11-22T12:00Z"))  # telemetry ends 23 Nov
    with Store(db, read_only=True) as store:
        check = check_event(store, fleet, under_way, safe=hints(fleet), now="2026-11-23T06:00Z")
    assert check.hourly["ts"].min() == pd.Timestamp("2026-11-23T00:00Z")
    assert (
        "note: the event started 2026-11-22 12:00 UTC, before the forecast's start; only its "
        "hours from 2026-11-23 00:00 UTC on are checked (the hours before are telemetry, not "
        "forecast)"
    ) in check.notes(now="2026-11-23T06:00Z")
    assert not [n for n in check.notes(now="2026-11-23T23:00Z") if "the event ended" in n]
    # checked after it is over (a date typed wrong, or telemetry days old): said, not a GO alone
    assert (
        "warning: the event ended 2026-11-24 00:00 UTC, before this check (2026-11-25 09:00 "
        "UTC): the verdict is what the forecast expected of hours now past, not what happened"
    ) in " ".join(check.notes(now="2026-11-25T09:00Z"))


def test_a_shorter_schedule_is_the_start_of_the_longer_one(demo):
    """Each schedule is forecast at least as far as the plan's 28 days: a 2-day horizon had
    forecast 2 days plus the boot lead, on which the forecaster tuned its blend, so its
    floors differed from the first 2 days of the week's (204 of 576 on the demo)."""
    db, config = demo
    common = ["--db", str(db), "--config", str(config), "--region", "eu-west", "--jobs", "1"]
    week = run_cli("schedule", *common)
    two = run_cli("schedule", *common, "--horizon", "2d")
    assert week.exit_code == 0 and two.exit_code == 0, week.output + two.output
    days = pd.read_csv(io.StringIO(two.stdout))
    start = pd.read_csv(io.StringIO(week.stdout)).groupby("service", sort=False).head(48)
    assert len(days) == 3 * 48
    pd.testing.assert_frame_equal(days, start.reset_index(drop=True))


def _late_check(late: list[tuple[str, str, str]]) -> EventCheck:
    """An event check whose rows are all overdue: (region, service, act_by)."""
    table = pd.DataFrame(
        [
            {"region": r, "service": s, "verdict": "AT_RISK", "overdue": True, "act_by": when}
            for r, s, when in late
        ]
    ).astype({"act_by": "datetime64[us, UTC]"})
    start = pd.Timestamp("2026-12-19T14:00Z")
    planned = PlannedEvent("Fest", start, start + pd.Timedelta(hours=4), ("all",), 1.5)
    return EventCheck(planned, table, pd.DataFrame(), checked_at=pd.Timestamp("2026-12-01T00:00Z"))


def test_overdue_warning_names_a_few_of_many_late_region_services():
    """A fleet-wide check on 40 region/services had 16 names in a row joined by 'and'."""
    regions = [f"r{i}" for i in range(1, 9)]
    late = [(r, s, "2026-11-28T13:54Z") for r in regions for s in ("game", "voice")]
    [line] = [n for n in _late_check(late).notes(now="2026-12-01") if "overdue" in n]
    assert "r1/game, r1/voice, r2/game, r2/voice, r3/game and 11 more by 2026-11-28 13:54" in line
    assert " and r" not in line
    few = _late_check(
        [
            ("r1", "game", "2026-11-28T13:54Z"),
            ("r2", "game", "2026-11-28T13:54Z"),
            ("r3", "chat", "2026-11-27T10:00Z"),
        ]
    )
    [line] = [n for n in few.notes(now="2026-12-01") if "overdue" in n]
    assert "r3/chat by 2026-11-27 10:00 UTC; r1/game and r2/game by 2026-11-28 13:54 UTC." in line
    dated = [(f"r{i}", "game", f"2026-11-{10 + i}T00:00Z") for i in range(1, 9)]
    [line] = [n for n in _late_check(dated).notes(now="2026-12-01") if "overdue" in n]
    assert "r5/game by 2026-11-15 00:00 UTC; and 3 more region/service(s) by later dates." in line


def test_the_terminal_title_wraps_the_regions_of_a_large_fleet_within_100_columns():
    """An event in every region of a ten-region fleet put its regions on one second line of
    118 columns."""
    from capacity.event_terminal import terminal_title

    regions = tuple(f"region-{i:02d}-x" for i in range(10))
    start = pd.Timestamp("2026-12-19T14:00Z")
    fleetwide = PlannedEvent("Finals", start, start + pd.Timedelta(hours=4), regions, 1.5)
    lines = terminal_title(fleetwide).splitlines()
    assert len(lines) == 3 and max(len(line) for line in lines) <= 100
    assert all(line.startswith("  ") for line in lines[1:])
    assert lines[-1].endswith("region-09-x, uplift x1.5")


def test_an_unreadable_start_is_answered_with_one_fix():
    """parse_timestamp's refusal gained a fix of its own; the event's start, which replaces
    it with the event's, must not show both."""
    with pytest.raises(ParameterError) as exc:
        PlannedEvent.from_text("Winter Festival", "next tuesday", "2026-12-20", "all", 1.5)
    message = str(exc.value)
    assert message.count("Fix:") == 1
    assert message.endswith("(a time without an offset, or a bare date, is UTC)")
