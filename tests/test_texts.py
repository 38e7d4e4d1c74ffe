"""Long lists in messages: the first few items and a count of the rest."""

from capacity.texts import demand_text, first_few, seconds_text


def test_a_short_list_is_given_whole_and_a_long_one_counts_the_rest():
    assert first_few([]) == ""
    assert first_few(["a"]) == "a"
    assert first_few(list("abcde")) == "a, b, c, d, e"
    assert first_few(list("abcdefgh")) == "a, b, c, d, e and 3 more"
    assert first_few(list("abcdefgh"), 6) == "a, b, c, d, e, f and 2 more"
    assert first_few(list("abcde"), 4) == "a, b, c, d and 1 more"


def test_demand_reads_to_the_unit_and_keeps_decimals_a_quiet_service_needs():
    """A service at 0.3 requests a second needs a server: its demand had read "0"."""
    assert demand_text(285_840.4) == "285,840"
    assert demand_text(12.4) == "12"
    assert demand_text(9.5) == "10"
    assert demand_text(9.44) == "9.4"
    assert demand_text(3.0) == "3"
    assert demand_text(0.999) == "1"
    assert demand_text(0.347) == "0.35"
    assert demand_text(0.3) == "0.3"
    assert demand_text(0) == "0"


def test_a_duration_reads_in_the_unit_a_person_would_use():
    assert seconds_text(0) == "0.0 s"
    assert seconds_text(0.44) == "0.4 s"
    assert seconds_text(9.94) == "9.9 s"
    assert seconds_text(9.96) == "10 s"
    assert seconds_text(59.4) == "59 s"
    assert seconds_text(59.6) == "1 min"
    assert seconds_text(112) == "1 min 52 s"
    assert seconds_text(3599.4) == "59 min 59 s"
    assert seconds_text(3600) == "1 h"
    assert seconds_text(7500) == "2 h 5 min"


def test_a_plans_timing_summary_names_its_slowest_stages():
    from pathlib import Path

    from capacity.plan import PlanResult

    timings = {
        "history": 0.169,
        "forecast": 71.3,
        "sizing": 1.46,
        "headroom": 0.246,
        "backtest": 5.486,
        "notebook": 83.5,
        "html": 0.86,
    }
    plan = PlanResult("2026-W48", Path("f"), "published", "r", timings=timings)
    assert plan.timing_summary() == (
        "notebook 1 min 24 s (forecast 1 min 11 s, backtest 5.5 s, sizing 1.5 s), HTML 0.9 s"
    )
    assert plan.timing_summary(stages=1) == "notebook 1 min 24 s (forecast 1 min 11 s), HTML 0.9 s"
    assert PlanResult("2026-W48", Path("f"), "identical", "r").timing_summary() == ""
