"""Loads of files an operator's exports get wrong: placeholder dates, impossible offsets, names
in the wrong case, the wrong --format, pipes and folders, damaged gzip and Parquet files. Each
is refused in one line that names the file, the row and the fix, and leaves the store as it
was."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacity import DataError, Store
from capacity.cli import cli
from capacity.config import load_fleet
from tests.conftest import HEADER
from tests.test_store import snapshot

GOOD = HEADER + (
    "2026-01-01T00:00:00Z,eu-west,game,ccu,100\n"
    "2026-01-01T01:00:00Z,eu-west,game,ccu,110\n"
    "2026-01-01T02:00:00Z,eu-west,game,ccu,120\n"
)


@pytest.fixture
def seeded(db: Path, write) -> Path:
    """A store holding GOOD."""
    with Store(db) as store:
        store.ingest([write("good.csv", GOOD)])
    return db


def refused(db: Path, paths: list[Path], match: str, **options: object) -> str:
    """Load ``paths``, expect a DataError matching ``match``; the store must not change."""
    before = snapshot(db)
    with Store(db) as store, pytest.raises(DataError, match=match) as caught:
        store.ingest(paths, **options)
    assert snapshot(db) == before
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00"])
def test_a_placeholder_time_long_before_any_telemetry_is_refused(seeded, write, when):
    text = GOOD + f"{when},eu-west,game,ccu,5\n"
    message = refused(
        seeded,
        [write("zero.csv", text)],
        rf"zero\.csv: line 5, column 'ts': time '{re.escape(when)}' is before 2000-01-01"
        r".*placeholder",
    )
    assert message.endswith("Fix: drop the row, or export it again with its real time")


def test_a_placeholder_time_in_memory_is_refused_by_its_key(seeded):
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-01-01T03:00Z", "1970-01-01T00:00Z"], utc=True),
            "region": "eu-west",
            "service": "game",
            "metric": "ccu",
            "value": [1.0, 2.0],
        }
    )
    before = snapshot(seeded)
    with Store(seeded) as store, pytest.raises(DataError, match="is before 2000-01-01") as caught:
        store.ingest_frame(frame, source="pulled")
    assert str(caught.value).startswith("pulled: ccu of eu-west/game at 1970-01-01T00:00:00+00:00")
    assert snapshot(seeded) == before


def test_categorical_names_load_as_their_text(db):
    """A pull's names are categories; categories that are one name as text (1 and "1") load
    as that name, as strings would, not as a pandas error."""
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-01-01T03:00Z", "2026-01-01T04:00Z"], utc=True),
            "region": pd.Categorical(["eu-west", "eu-west"]),
            "service": pd.Categorical([1, "1"]),
            "metric": pd.Categorical(["ccu", "ccu"]),
            "value": [1.0, 2.0],
        }
    )
    with Store(db) as store:
        store.ingest_frame(frame, source="pulled")
        rows = store.con.execute("SELECT service, value FROM telemetry ORDER BY ts").fetchall()
    assert rows == [("1", 1.0), ("1", 2.0)]


@pytest.mark.parametrize(
    "stamp",
    ["2026-01-01T04:00:00+25:00", "2026-01-01T04:00:00+14:01", "2026-01-01T04:00:00.5+05:60"],
)
def test_an_offset_no_clock_uses_is_refused_not_read_as_days(seeded, write, stamp):
    # DuckDB itself reads '+25:00' as 25 hours: the row would move a day without a word
    text = GOOD + f"{stamp},eu-west,game,ccu,5\n"
    for tz in (None, "UTC"):
        refused(
            seeded,
            [write("offset.csv", text)],
            rf"offset\.csv: line 5, column 'ts': timestamp '{re.escape(stamp)}' has a UTC "
            r"offset no clock uses.*Fix: correct the offset",
            tz=tz,
        )


def test_the_widest_offsets_in_use_still_load(db, write):
    text = HEADER + (
        "2026-01-01T14:00:00+14:00,eu-west,game,ccu,1\n"
        "2026-01-01T06:45:00+05:45,eu-west,game,ccu,2\n"
        "2026-01-01T01:30:00+0530,eu-west,game,ccu,3\n"
    )
    with Store(db) as store:
        store.ingest([write("wide-offsets.csv", text)])
        rows = store.con.execute(
            "SELECT strftime(ts AT TIME ZONE 'UTC', '%H:%M'), value FROM telemetry ORDER BY value"
        ).fetchall()
    assert rows == [("00:00", 1.0), ("01:00", 2.0), ("20:00", 3.0)]


def test_names_in_another_case_or_with_spaces_get_a_suggestion(seeded, write, fleet_file):
    fleet = load_fleet(fleet_file)
    upper = GOOD.replace(",ccu,", ",CCU,")
    refused(seeded, [write("m.csv", upper)], r"unknown metric 'CCU' \(did you mean 'ccu'\?\)")
    region = GOOD.replace("eu-west", "EU-West ")
    refused(
        seeded,
        [write("r.csv", region)],
        r"line 2, column 'region': unknown region 'EU-West ' \(did you mean 'eu-west'\?\)",
        fleet=fleet,
    )
    typo = GOOD.replace("eu-west", "eu-wset")
    refused(seeded, [write("t.csv", typo)], r"unknown region 'eu-wset' \(did you mean", fleet=fleet)
    refused(
        seeded, [write("s.csv", GOOD.replace("game", "Game"))], "did you mean 'game'", fleet=fleet
    )
    # the first part of a metric's name: similarity alone had offered 'ccu' for 'cpu'
    short = GOOD.replace(",ccu,", ",cpu,")
    refused(seeded, [write("c.csv", short)], r"unknown metric 'cpu' \(did you mean 'cpu_util'\?\)")


def test_a_calendar_region_in_another_case_gets_a_suggestion(db, write, fleet_file):
    text = "name,kind,start,end,regions\nWinter,season,2026-12-18,2026-12-20,EU-West\n"
    with Store(db) as store, pytest.raises(DataError, match="did you mean 'eu-west'"):
        store.import_events([write("cal.csv", text)], fleet=load_fleet(fleet_file))


def test_the_wrong_format_says_which_one_the_file_is(seeded, write):
    wide = write("wide.csv", "ts,region,service,ccu,rps\n2026-01-01T00:00:00Z,eu-west,game,1,2\n")
    message = refused(
        seeded, [wide], r"wide\.csv: header: read as long \(--format long\), but", layout="long"
    )
    assert "one column per metric (ccu, rps)" in message
    assert message.endswith(
        "Fix: give --format wide, or leave --format out to read the layout from the header"
    )
    long = write("long.csv", GOOD)
    message = refused(
        seeded,
        [long],
        r"long\.csv: header: read as wide \(--format wide\), but the file is long",
        layout="wide",
    )
    assert "Fix: give --format long" in message


def test_a_pipe_or_a_folder_is_named_as_such_not_as_missing(seeded, tmp_path):
    pipe = tmp_path / "export.csv"
    os.mkfifo(pipe)  # never opened: a reader would wait for a writer
    refused(seeded, [pipe], r"export\.csv: is not a regular file \(a pipe, socket or device\)")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    refused(seeded, [folder], r"folder\.csv: is a folder\. Fix: give the path of a file")
    refused(seeded, [tmp_path / "gone.csv"], r"gone\.csv: file not found\. Fix: check the path")
    with Store(seeded) as store, pytest.raises(DataError, match="is not a regular file"):
        store.import_events([pipe])


def _gzip_rows(rows: int) -> bytes:
    lines = [HEADER] + [
        f"{pd.Timestamp('2026-01-01T00:00Z') + pd.Timedelta(hours=h):%Y-%m-%dT%H:%M:%SZ},"
        f"eu-west,game,ccu,{h % 997}\n"
        for h in range(rows)
    ]
    return gzip.compress("".join(lines).encode(), mtime=0)


@pytest.mark.parametrize("cut", ["end", "middle"])
def test_a_damaged_gzip_file_is_named_as_damaged(seeded, tmp_path, cut):
    data = _gzip_rows(5000)
    if cut == "end":
        data = data[: len(data) * 9 // 10]
    else:  # a block overwritten: DuckDB would read garbage text and blame a column or a line
        middle = len(data) // 2
        data = data[:middle] + bytes(range(256)) * 2 + data[middle + 512 :]
    path = tmp_path / "export.csv.gz"
    path.write_bytes(data)
    message = refused(seeded, [path], r"export\.csv\.gz: the gzip file is cut short or corrupt")
    assert message.endswith("Fix: copy or export it again (gzip -t tests it)")


def test_a_cut_short_parquet_file_is_named_as_damaged(seeded, tmp_path):
    frame = pd.DataFrame(
        {
            "ts": pd.date_range("2026-01-01", periods=500, freq="h", tz="UTC"),
            "region": "eu-west",
            "service": "game",
            "metric": "ccu",
            "value": 1.0,
        }
    )
    whole = tmp_path / "whole.parquet"
    frame.to_parquet(whole)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    message = refused(seeded, [cut], r"cut\.parquet: cannot be read as PARQUET")
    assert message.endswith(
        "Fix: the Parquet file is cut short or corrupt: copy or export it again"
    )


def test_the_cli_prints_one_line_and_exits_2_leaving_the_store_as_it_was(seeded, write):
    before = snapshot(seeded)
    bad = write("zero.csv", GOOD + "0001-01-01T00:00:00Z,eu-west,game,ccu,5\n")
    result = CliRunner().invoke(cli, ["ingest", str(bad), "--db", str(seeded)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "zero.csv: line 5, column 'ts': time '0001-01-01T00:00:00Z' is before" in result.output
    assert snapshot(seeded) == before


@pytest.mark.parametrize(
    ("last", "fields"),
    [
        ("2026-01-01T03:00:00Z,eu-west,game\n", 3),
        ("2026-01-01T03:00:00Z,eu-west,game,ccu,1,7\n", 6),
    ],
)
@pytest.mark.parametrize("compressed", [False, True])
def test_a_line_short_or_long_is_named_not_blamed_on_the_header(
    seeded, tmp_path, last, fields, compressed
):
    # DuckDB's sniffer then finds no header and reads the file as one column, or takes the
    # odd line for the header: the load said 'ts' was missing
    text = (GOOD + last).encode()
    path = tmp_path / ("cut.csv.gz" if compressed else "cut.csv")
    path.write_bytes(gzip.compress(text) if compressed else text)
    message = refused(seeded, [path], rf"cut\.csv(\.gz)?: line 5: {fields} fields where the header")
    assert message.endswith(
        "Fix: give every line 5 fields separated by ',', or quote values that contain it"
    )


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        ("ts,region,service,ccu,ccu", "ccu"),
        ("ts,region,service,ccu,CCU ", "CCU"),
        ("ts,region,service,metric,value,value", "value"),
    ],
)
def test_a_column_named_twice_is_refused_naming_it(seeded, write, header, shown):
    # DuckDB renames the second to 'ccu_1': an unknown metric; a second 'value' went unread
    width = header.count(",") + 1
    row = "2026-01-01T03:00:00Z,eu-west,game" + ",ccu" * (width == 6) + ",1,2\n"
    message = refused(
        seeded,
        [write("twice.csv", f"{header}\n{row}")],
        rf"twice\.csv: line 1: column '{shown}' appears twice in the header",
    )
    assert message.endswith("Fix: keep one of them, or rename the other")


def test_a_long_files_extra_columns_are_named_as_not_read(db, write):
    """A long file's ``host`` column was dropped without a word; and when it was what told
    two rows apart (one row per host), the duplicate-key error did not say so."""
    text = "ts,region,service,metric,value,host\n2026-01-01T00:00:00Z,eu-west,game,ccu,100,a\n"
    with Store(db) as store:
        (report,) = store.ingest([write("hosts.csv", text)])
    assert report.unread_columns == ("host",)
    assert report.describe().endswith(
        "1 row read, 1 inserted, 0 updated, 0 unchanged; column 'host' not read (a long file "
        "keeps ts, region, service, metric and value)"
    )
    twice = text + "2026-01-01T00:00:00Z,eu-west,game,ccu,110,b\n"
    message = refused(db, [write("per-host.csv", twice)], r"per-host\.csv: line 2 and line 3")
    assert "the file's column 'host', which the store does not keep, may be what tells" in message
    assert message.endswith("before loading, or keep one row per key")
    # a file of exactly the five columns says nothing of the kind
    with Store(db) as store:
        (plain,) = store.ingest([write("plain.csv", GOOD)])
    assert plain.unread_columns == () and "not read" not in plain.describe()


@pytest.mark.parametrize("name", ["telemetry.csv", "telemetry.parquet", "notes.txt"])
def test_a_file_that_is_not_a_store_is_refused_as_the_store(tmp_path, write, name):
    """DuckDB opened a path ending .csv (or .parquet) as an in-memory database over it: a load
    into it said "3 inserted" and kept nothing, and a read failed with a traceback."""
    store = tmp_path / name
    store.write_bytes(GOOD.encode() if name.endswith(".csv") else b"PAR1 not a database" * 8)
    before = store.read_bytes()
    source = write("good.csv", GOOD)
    for args in (["ingest", str(source), "--db", str(store)], ["status", "--db", str(store)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert result.stderr == (
            f"error: {store} is not a capacity store: it is not a DuckDB database file. Fix: "
            "give --db the store's file (data/capacity.duckdb for the demo); to load a "
            "telemetry file into a store, use capacity ingest FILE --db STORE\n"
        )
    assert store.read_bytes() == before


def test_an_empty_timestamp_is_called_empty(seeded, write):
    """It read "timestamp None does not parse"."""
    path = write("blank.csv", HEADER + ",eu-west,game,ccu,5\n")
    refused(seeded, [path], r"blank\.csv: line 2, column 'ts': timestamp is empty\. Fix: use ISO")


@pytest.mark.parametrize("name", ["latin1.csv", "latin1.csv.gz"])
def test_a_file_that_is_not_utf8_is_named_by_its_line(seeded, tmp_path, name):
    """DuckDB's words were "cannot be read as CSV: Invalid Input Error: CSV Error on Line: 2.
    Fix: check that it is a CSV file"."""
    text = GOOD.encode() + "2026-01-01T03:00:00Z,eu-wést,game,ccu,130\n".encode("latin-1")
    path = tmp_path / name
    path.write_bytes(gzip.compress(text, mtime=0) if name.endswith(".gz") else text)
    byte = text.index(b"\xe9")
    message = refused(seeded, [path], rf"{re.escape(name)}: line 5: not UTF-8 text")
    assert message.endswith(f"not UTF-8 text (byte {byte}). Fix: save the file as UTF-8")


def test_a_time_with_a_zone_name_is_exact_with_or_without_tz(db, write):
    """BigQuery writes '2026-01-10 01:00:00 UTC'. With --tz the name was dropped and the time
    read as that zone's wall clock (stored an hour early for Berlin, without a word); without
    --tz it was refused as having no offset."""
    text = HEADER + "2026-01-10 01:00:00 UTC,eu-west,game,ccu,100\n"
    text += "2026-01-10 03:00:00 Europe/Berlin,eu-west,game,ccu,110\n"
    for tz in ("Europe/Berlin", None):
        with Store(db) as store:
            store.ingest([write("bq.csv", text)], tz=tz)
            rows = store.con.execute(
                "SELECT strftime(ts AT TIME ZONE 'UTC', '%H:%M'), value FROM telemetry ORDER BY ts"
            ).fetchall()
        assert rows == [("01:00", 100.0), ("02:00", 110.0)], tz
    # a word that is no zone (a 12-hour clock's pm) is refused, not dropped
    message = refused(
        db,
        [write("pm.csv", HEADER + "2026-01-10 01:00:00 pm,eu-west,game,ccu,100\n")],
        r"pm\.csv: line 2, column 'ts': timestamp '2026-01-10 01:00:00 pm' ends in 'pm', "
        "which is not a time zone",
        tz="Europe/Berlin",
    )
    assert "a 12-hour time with am or pm as 24-hour time" in message
