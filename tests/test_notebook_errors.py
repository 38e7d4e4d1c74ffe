"""What an analyst notebook shows when a parameter is wrong: the one line that names the
parameter and the fix, not a traceback through ``capacity``'s code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from capacity.errors import ConfigError, ParameterError
from tests.notebook_data import FLEET

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failed_run(name: str, parameters: dict, tmp_path: Path) -> tuple[object, list[str]]:
    """Run a notebook that must fail; return papermill's error and the failed cell's shown
    traceback, colour codes removed."""
    import papermill

    out = tmp_path / "out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(NOTEBOOKS / f"{name}.ipynb"),
            str(out),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(tmp_path),
        )
    errors = [
        output
        for cell in json.loads(out.read_text(encoding="utf-8"))["cells"]
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]
    assert len(errors) == 1
    return caught.value, [ANSI.sub("", line) for line in errors[0]["traceback"]]


def test_an_input_error_shows_in_ipython_as_its_one_line():
    error = ParameterError("The 'region' parameter must be one of a, b.", fix="set it")
    assert error._render_traceback_() == [
        "ParameterError: The 'region' parameter must be one of a, b. Fix: set it"
    ]
    assert ConfigError("bad", source="fleet.yaml")._render_traceback_() == [
        "ConfigError: fleet.yaml: bad"
    ]


def test_a_path_parameter_naming_no_file_stops_the_notebook_with_one_line(tmp_path):
    """The notebook showed a 30-line traceback through review/inputs.py, the parameter and
    the fix on its last line."""
    missing = tmp_path / "nowhere.duckdb"
    error, shown = failed_run(
        "explore_telemetry", {"db": str(missing), "config": str(FLEET)}, tmp_path
    )
    assert error.ename == "ParameterError"
    assert shown == [
        f"ParameterError: The 'db' parameter names '{missing}', which is not a file. Fix: give "
        "the path of an existing file: -p db /path/to/file; make plan builds the demo store"
    ]


def test_a_db_parameter_naming_a_file_that_is_no_store_stops_the_notebook_with_one_line(
    tmp_path,
):
    """A StoreError (a file that is no store, a store another process writes) showed the
    traceback through the store's opening code; then the one line told to "give --db the
    store's file", an option the notebook does not have."""
    error, shown = failed_run(
        "explore_telemetry", {"db": str(FLEET), "config": str(FLEET)}, tmp_path
    )
    assert error.ename == "ParameterError"
    assert shown == [
        f"ParameterError: The 'db' parameter names '{FLEET}', which is not a capacity store: "
        "it is not a DuckDB database file (a fleet YAML? that is the 'config' parameter). Fix: "
        "give the store's file as db (-p db /path/to/capacity.duckdb; make plan builds the "
        "demo store); to load a telemetry file into a store, use capacity ingest FILE --db "
        "STORE"
    ]


@pytest.mark.parametrize("name", ["forecast_accuracy_review", "event_headroom_check"])
def test_a_store_given_as_the_fleet_file_is_named_by_the_config_parameter(tmp_path, name):
    """The ConfigError said "a store is given as --db": the command line's option, where
    the notebook's parameters are db and config."""
    import duckdb

    store = tmp_path / "capacity.duckdb"
    duckdb.connect(str(store)).close()
    error, shown = failed_run(name, {"db": str(FLEET), "config": str(store)}, tmp_path)
    assert error.ename == "ParameterError"
    assert shown == [
        f"ParameterError: The 'config' parameter names '{store}', a DuckDB database (a "
        "capacity store?), not a fleet YAML. Fix: give the fleet YAML as config (-p config "
        "/path/to/fleet.yaml; ../data/demo/fleet.yaml is the demo's), and the store as db"
    ]
    assert "--db" not in shown[0] and "--config" not in shown[0]


# ------------------------------------------ a region or service the store holds nothing of


def one_region_store(db: Path) -> Path:
    """A store of the conftest fleet (eu-west, na-east; game) holding eu-west's ccu only."""
    import pandas as pd

    from capacity import Store

    ts = pd.date_range("2026-11-02", periods=72, freq="h", tz="UTC")
    rows = pd.DataFrame(
        {"ts": ts, "region": "eu-west", "service": "game", "metric": "ccu", "value": 100.0}
    )
    db.parent.mkdir(parents=True, exist_ok=True)
    with Store(db) as store:
        store.ingest_frame(rows, source="test")
    return db


def status_of(regions_services):
    import pandas as pd

    return pd.DataFrame([{"region": r, "service": s, "metric": "ccu"} for r, s in regions_services])


def test_check_series_says_the_store_holds_nothing_of_the_fleets_region_or_service():
    """A region the fleet file names but the store holds nothing of was answered 'no ccu
    from start to end (the start and end parameters). Fix: choose another metric or span'."""
    import pandas as pd

    from capacity import review
    from capacity.config import load_fleet

    fleet = load_fleet(FLEET)
    empty = pd.DataFrame({"ts": pd.DatetimeIndex([], tz="UTC"), "value": []})
    choice = {"service": "game", "metric": "ccu", "start": "2026-11-01", "end": "2026-11-08"}
    held = status_of([("eu-west", "game"), ("eu-west", "chat"), ("na-east", "chat")])
    with pytest.raises(ParameterError) as caught:
        review.check_series(fleet, empty, region="sa-east", status=held, **choice)
    assert str(caught.value) == (
        "The 'region' parameter names 'sa-east', which the fleet file has but the store holds "
        "no telemetry of; it holds eu-west, na-east. Fix: choose one of them in the parameters "
        "cell, or load sa-east's telemetry first (capacity ingest, capacity pull)"
    )
    # the fix kept apart, as every parameter error keeps it, for a caller to replace
    assert caught.value.fix.startswith("choose one of them in the parameters cell")
    assert "Fix:" not in caught.value.problem
    with pytest.raises(ParameterError) as caught:
        review.check_series(fleet, empty, region="na-east", status=held, **choice)
    assert caught.value.fix.startswith("choose one of them") and "Fix:" not in caught.value.problem
    assert str(caught.value).startswith(
        "The 'service' parameter names 'game', which the fleet file has but the store holds "
        "no telemetry of in na-east; it holds chat there."
    )
    with pytest.raises(ParameterError, match="The store holds no telemetry yet") as caught:
        review.check_series(fleet, empty, region="na-east", status=held.iloc[:0], **choice)
    assert caught.value.fix.startswith("load the fleet's telemetry first")
    # a pair the store holds: the span or the metric is what to change, as before
    with pytest.raises(ParameterError, match="The store holds no ccu for eu-west/game from"):
        review.check_series(fleet, empty, region="eu-west", status=held, **choice)


def test_forecast_accuracy_review_names_a_region_the_store_holds_nothing_of(
    tmp_path, db, fleet_file
):
    error, shown = failed_run(
        "forecast_accuracy_review",
        {"db": str(one_region_store(db)), "config": str(fleet_file), "region": "na-east"},
        tmp_path,
    )
    assert error.ename == "ParameterError"
    assert shown == [
        "ParameterError: The 'region' parameter names 'na-east', which the fleet file has but "
        "the store holds no telemetry of; it holds eu-west. Fix: choose one of them in the "
        "parameters cell, or load na-east's telemetry first (capacity ingest, capacity pull)"
    ]


def test_the_event_notebook_names_its_own_parameters_not_the_clis_options(tmp_path):
    """The event check named the command line's options ("The 'end' parameter (--end)"),
    where the notebook's parameters are end, name and config."""
    db = one_region_store(tmp_path / "capacity.duckdb")
    parameters = {
        "name": "Fest",
        "start": "2026-11-10T00:00Z",
        "end": "2026-11-09T00:00Z",
        "regions": ["eu-west"],
        "uplift": 1.5,
        "db": str(db),
        "config": str(FLEET),
    }
    error, shown = failed_run("event_headroom_check", parameters, tmp_path)
    assert error.ename == "ParameterError"
    assert shown == [
        "ParameterError: The 'end' parameter must be after the event's start. Got start "
        "2026-11-10T00:00:00+00:00 and end 2026-11-09T00:00:00+00:00. Fix: give an end later "
        "than the start (the end is excluded: a one-day event on 2026-12-18 ends 2026-12-19)"
    ]


def test_an_event_given_as_a_notebooks_parameters_is_named_by_them():
    """The same event from the CLI's options keeps naming the options."""
    from capacity.config import load_fleet
    from capacity.event_check import PlannedEvent

    fleet = load_fleet(FLEET)
    typed = ("", "2026-11-10", "2026-11-11", "eu-west", "1.5")
    with pytest.raises(ParameterError) as caught:
        PlannedEvent.from_text(*typed, options=False).validated(fleet)
    assert caught.value.problem == "The 'name' parameter must name the event. Got ''."
    assert caught.value.fix.endswith("e.g. name = 'Winter Festival' in the parameters cell")
    with pytest.raises(ParameterError) as caught:
        PlannedEvent.from_text(*typed).validated(fleet)
    assert caught.value.problem == "The 'name' parameter (--name) must name the event. Got ''."
    assert caught.value.fix.endswith("e.g. --name 'Winter Festival'")
    with pytest.raises(ParameterError, match=r"^The 'start' parameter (?!\(--start\))"):
        PlannedEvent.from_text("Fest", "soon", "2026-11-11", "eu-west", 1.5, options=False)
