"""A fleet far larger than the demo (millions of players, thousands of servers a
region/service) reads its counts and percentages thousands-separated, as the tables do."""

from __future__ import annotations

import pandas as pd

from capacity.report import plan_table
from capacity.servers_ran import count_note


def test_a_count_of_thousands_is_separated_beside_what_ran():
    """The note had read "huge/game 13000 (ran up to 13,620)"."""
    row = {"region": "huge", "service": "game", "current_servers": 13_000}
    (note,) = count_note([{**row, "servers_ran_last_week": 13_620.0}])
    assert "huge/game 13,000 (ran up to 13,620)" in note


def test_a_headroom_of_thousands_of_percent_is_separated():
    """One server where failover needs 6,106 is a headroom of -610,500 %: it had read
    "-610500 %" in a table whose every other figure is separated."""
    frame = pd.DataFrame(
        {"region": ["tiny"], "service": ["game"], "min_headroom": [-6105.0], "target": [6106]}
    )
    page = plan_table(frame).data
    assert "-610,500 %" in page
    assert "-610500" not in page
