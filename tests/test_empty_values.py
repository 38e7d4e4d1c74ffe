"""Empty values in telemetry files: in a wide file a metric not measured that hour (a gap),
in a long file a row with nothing to store (refused); as the README's load checks say."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from capacity.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_empty_values_are_gaps_in_a_wide_file_and_refused_in_a_long_one(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text(
        "ts,region,service,ccu,servers\n"
        "2026-11-01T00:00:00Z,north,game,,3\n"
        "2026-11-01T01:00:00Z,north,game,5,\n"
        "2026-11-01T02:00:00Z,north,game,,\n",
        encoding="utf-8",
    )
    done = _run("ingest", str(wide), "--db", str(tmp_path / "w.duckdb"))
    assert done.exit_code == 0, done.output
    assert "2 rows read, 2 inserted" in done.stdout  # one per filled cell
    long = tmp_path / "long.csv"
    long.write_text(
        "ts,region,service,metric,value\n2026-11-01T00:00:00Z,north,game,ccu,\n", encoding="utf-8"
    )
    refused = _run("ingest", str(long), "--db", str(tmp_path / "l.duckdb"))
    assert refused.exit_code == 2
    assert "line 2, column 'value': value of metric 'ccu' is empty" in refused.stderr
    # and the README says which is which
    readme = re.sub(r"\s+", " ", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert "a long file's empty `value` (drop the row" in readme
    assert "In a wide file an empty cell (or a Parquet null) is a metric not measured" in readme
    assert "values that are empty or not numbers" not in readme
