"""An export of an empty schedule is refused, from Python and from the command line.

``capacity schedule --region R --region-loss`` forecasts every series (a region's loss moves
its players) and keeps R's floors; a region without telemetry then has none. The AWS export
crashed on it (a traceback, exit 1), the KEDA one printed nothing and the CSV a header, both
with exit 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.errors import ParameterError
from capacity.scaling import to_aws_scheduled_actions, to_csv_text, to_keda_yaml
from tests.conftest import FLEET_YAML


def empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": pd.Series([], dtype=str),
            "service": pd.Series([], dtype=str),
            "ts": pd.DatetimeIndex([], tz="UTC"),
            "min_servers": pd.Series([], dtype=np.int64),
        }
    )


@pytest.mark.parametrize("export", [to_csv_text, to_aws_scheduled_actions, to_keda_yaml])
def test_an_empty_schedule_is_refused(export):
    with pytest.raises(ParameterError, match="'schedule' parameter has no rows, so there is"):
        export(empty())


def eu_west_game_store(tmp_path: Path, hours_ago: int) -> list[str]:
    """Three weeks of eu-west/game players ending ``hours_ago`` hours before now, in a store
    of a fleet that also plans na-east; the --db and --config options that read them."""
    end = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=hours_ago)
    ts = pd.date_range(end - pd.Timedelta(hours=21 * 24 - 1), end, freq="h")
    pd.DataFrame(
        {
            "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "eu-west",
            "service": "game",
            "metric": "ccu",
            "value": (40_000 + 30_000 * np.sin(2 * np.pi * np.arange(len(ts)) / 24)).round(1),
        }
    ).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "fleet.yaml").write_text(FLEET_YAML)
    where = ["--db", str(tmp_path / "s.duckdb"), "--config", str(tmp_path / "fleet.yaml")]
    loaded = CliRunner().invoke(cli, ["ingest", str(tmp_path / "t.csv"), *where])
    assert loaded.exit_code == 0, loaded.output
    return where


def test_a_region_without_telemetry_exits_2_in_every_format(tmp_path: Path):
    where = eu_west_game_store(tmp_path, hours_ago=12)  # the fleet also has na-east
    for fmt in ("csv", "aws", "keda"):
        result = CliRunner().invoke(
            cli,
            ["schedule", *where, "--region", "na-east", "--region-loss", "--format", fmt],
        )
        assert result.exit_code == 2, (fmt, result.output)
        assert result.stdout == ""
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        # named by the option that asked for it, before any export is tried
        assert errors == [
            "error: --region 'na-east' has no demand telemetry in the store, so there is no "
            "floor to publish. Fix: load its telemetry (capacity status lists what the store "
            "holds), or leave out --region"
        ], fmt


def test_keda_options_name_the_namespace_and_deployments_and_are_checked_first(tmp_path: Path):
    """`schedule --format keda` always wrote namespace 'game' (the demo's) and deployments
    named '{service}-{region}', with no option to change either."""
    where = eu_west_game_store(tmp_path, hours_ago=2)
    asked = ["schedule", *where, "--region", "eu-west", "--service", "game", "--horizon", "1d"]
    result = CliRunner().invoke(
        cli,
        [
            *asked,
            "--format",
            "keda",
            "--namespace",
            "lv-prod",
            "--deployment-name",
            "{service}-{region}-srv",
            "--scale-up-tolerance",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "  name: game-eu-west-srv\n  namespace: lv-prod\n" in result.stdout
    assert "    name: game-eu-west-srv\n" in result.stdout  # the scale target
    assert "        scaleUp:\n          tolerance: '0'\n" in result.stdout
    assert "namespace 'game'" not in result.stderr
    default = CliRunner().invoke(cli, [*asked, "--format", "keda"])
    assert "  namespace: game\n" in default.stdout
    assert "note: the KEDA objects are in namespace 'game', the demo's" in default.stderr
    # refused by the option's name, before the forecast
    for options, message in (
        (["--namespace", "LV_prod"], "The '--namespace' parameter gives the objects the name"),
        (["--deployment-name", "{service}_{region}"], "'--deployment-name'"),
    ):
        bad = CliRunner().invoke(cli, [*asked, "--format", "keda", *options])
        assert bad.exit_code == 2 and message in bad.stderr, bad.output
        assert "warning: the newest" not in bad.stderr  # nothing was forecast
    wrong = CliRunner().invoke(cli, [*asked, "--namespace", "lv-prod"])
    assert wrong.exit_code == 2
    assert "so it needs --format keda. Got --format csv" in wrong.stderr
