# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: language_info
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown]
# # Weekly capacity plan
#
# Demand forecasts per region and service, the servers they need (with N+k redundancy and the
# loss of a whole region), the actions to take and by when, and the predictive-scaling
# schedule. Produced by `capacity plan`; every table is also in the plan's folder.

# %% tags=["parameters"]
week = "2026-W48"
db = "../data/capacity.duckdb"  # run `make plan` once to build it
config = "../data/demo/fleet.yaml"
out_dir = "../forecasts/lab"  # a scratch folder; `capacity plan` publishes
run_id = ""  # empty: a new id for every run
horizon = "28d"
history = "112d"
quantile = 0.95
jobs = 2
backtest = True

# %%
from pathlib import Path

import plotly.io as pio
from IPython.display import Markdown, display

from capacity import charts, decision, report, weekly

pio.renderers.default = "plotly_mimetype+notebook"
plan = weekly.build_plan(
    week=week, db=db, config=config, run_id=run_id, horizon=horizon, history=history,
    quantile=quantile, jobs=jobs, backtest=backtest, plans_dir=Path(out_dir).resolve().parent,
)
before = plan.previous.recommendations if plan.previous else None
new_overdue = decision.overdue_first_seen(plan.recommendations, before)
moved_earlier = decision.overdue_moved_earlier(plan.recommendations, before, plan.overdue_from)
outputs = weekly.write_outputs(plan, out_dir)
status = weekly.status_table(plan)
display(Markdown(
    f"**Week {plan.week}**: planned from {plan.cutoff:%Y-%m-%d %H:%M} UTC over {plan.horizon}, "
    f"sized for the p{plan.quantile * 100:g} demand with N+{plan.fleet.redundancy.k}. "
    + report.verdict_counts(status)
))
display(report.warning_lines(plan.warnings))
display(Markdown(report.decision_line(
    plan.recommendations, cutoff=plan.overdue_from, currency=plan.fleet.currency,
    new_overdue=new_overdue, moved_earlier=moved_earlier,
)))
display(report.backtest_losses_line(plan.backtest))
orders = decision.order_frame(plan.recommendations, plan.fleet)
if len(orders):
    display(Markdown(
        "Per server type, what to order or release: the earliest date to act by of its "
        "additions (the first shortfall less the boot and procurement lead times)."
    ))
    display(report.plan_table(orders, currency=plan.fleet.currency))

# %% [markdown]
# ## 1. Verdict
# `act`: servers must be added (see the date to act by); `watch`: held with less than 10 %
# headroom at some hour, or on a forecast that fell back to a baseline (never scaled down on
# one); `OK`: enough servers all horizon (a scale-down removes only a surplus of every hour).
# *(overdue)*: the date to act by was already before the week's start (Monday 00:00 UTC, or
# now for a week still ahead); a later date may have passed since. *(overdue, new this week)*: overdue, and
# the plan published for the week before did not ask for it: the first notice came late.
# *(overdue; last week's plan said by ...)*: that plan asked for it by a date this plan starts
# before: the forecast moved the date earlier, no one left it undone.

# %%
display(report.plan_table(
    status, currency=plan.fleet.currency, new_overdue=new_overdue, moved_earlier=moved_earlier
))

# %% [markdown]
# ### Actions and why
# Servers are sized at each region/service's safe load per server: learned from its telemetry
# where it can be, else the fleet file's `safe_load_hint` (`safe_load_source` in
# `recommendations.csv` says which).

# %%
display(Markdown(report.hint_line(plan.safe)))
display(report.plan_table(
    plan.recommendations[["region", "service", "action", "change", "act_by", "overdue", "reason"]],
    new_overdue=new_overdue, moved_earlier=moved_earlier,
))

# %% [markdown]
# ### Losing a whole region
# Each region's players move to the others by the failover shares; every surviving region must
# carry its own demand and its share at the same time, with the servers it has now and with the
# targets above. A shortfall is the most servers one surviving region/service lacks, at the hour
# named.

# %%
display(report.region_loss_table(plan))

# %% [markdown]
# ### What changed since last week
# Actions, targets and dates to act by against the plan published for the week before in the
# same plans folder; a region/service in one plan only is listed too. A date to act by overdue
# in both plans (short from the first hour, it comes a week later in each) is no change itself.

# %%
display(report.changes_since_previous(plan.previous, plan.week, plan.recommendations))

# %% [markdown]
# ## 2. Demand and capacity per region and service
# Forecast bands (5–95 % and 10–90 %), the median, the last two weeks of actuals, live-ops
# events shaded, and capacity lines: servers now, needed with N+k, needed if a region is lost.
# Times are UTC. A fleet of more than 12 region/services gets a chart each for the 12 most
# urgent (act before watch before OK, the earliest date to act by first), then one chart
# whose menu, top right, picks among the others.

# %%
urgent = decision.urgency_order(status)
for figure in charts.fan_charts(plan.history, plan.forecast, plan.need, plan.events, urgent):
    figure.show()

# %% [markdown]
# ## 3. Headroom over the horizon

# %%
charts.headroom_heatmap(plan.need).show()

# %% [markdown]
# ## 4. Predictive-scaling schedule (preview)
# Minimum servers per hour, raised ahead of demand by each server type's boot time and never
# below N+k. The full schedule is `scaling_schedule.csv`.

# %%
charts.schedule_chart(plan.schedule).show()

# %% [markdown]
# ## 5. Forecast accuracy
# The forecasts of the last four earlier cutoffs (the newest run of each) against what happened,
# then last week's backtest of this forecaster against weekly seasonal naive (unless the run
# skipped it). Errors and the share of hours inside the 90 % band are percentages. MASE is the
# mean absolute error divided by that of repeating the day before over the history fitted: the
# same scale for both models, so the lower wins. A series on which the forecaster's MASE is above
# the baseline's is named in a warning at the top of the report.

# %%
if plan.accuracy.empty:
    display(Markdown("No earlier plan's forecast overlaps the data yet."))
else:
    display(report.accuracy_table(plan.accuracy))
if plan.backtest.empty:
    display(Markdown(report.backtest_note(backtest)))
else:
    charts.accuracy_chart(plan.backtest).show()
    display(report.accuracy_table(plan.backtest))

# %% [markdown]
# ## 6. Data quality
# Missing hours in the history, hours masked (outages, gaps), and series whose forecast fell
# back to a baseline.

# %%
display(report.quality_table(plan.quality))

# %% [markdown]
# ## 7. Resilience
# The last four weeks per region and service (availability against the SLO, error budget left,
# burn alerts, MTTR, MTBF, change failure rate), what changed against the four weeks before
# (changes too small to matter, such as under 1 pp of error budget, are counted, not listed),
# the daily budget burn, and last week's incidents beside the live-ops events that preceded them.

# %%
display(report.kpi_table(plan.resilience))
display(Markdown("**Changes against the four weeks before**"))
display(report.trend_table(plan.resilience_trend, changed_only=True))
charts.burn_chart(plan.burn).show()
if plan.incidents_week.empty:
    display(Markdown("No incidents last week."))
else:
    display(report.incidents_table(plan.incidents_week))

# %%
display(report.timings_line(plan.timings))
