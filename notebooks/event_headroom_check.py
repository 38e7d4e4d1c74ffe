# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown]
# # Event headroom check
#
# The event planner's question: "this event starts then, in these regions, with about this
# many more players than normal; do we have the servers?" A verdict per region and service,
# the servers to add and the date to act by. Set `event_id` to check an event of the stored
# calendar instead (the other event parameters are then ignored).

# %% tags=["parameters"]
name = "Winter Festival"
start = "2026-12-18T08:00:00Z"
end = "2027-01-04T08:00:00Z"
regions = ["eu-west", "na-east"]  # or one region as a string: "sa-east"
uplift = 1.6
event_id = ""
db = "../data/capacity.duckdb"  # run `make plan` once to build it
config = "../data/demo/fleet.yaml"
jobs = 2

# %%
import plotly.io as pio
from IPython.display import HTML, Markdown, display

from capacity import Store, charts, load_fleet, report, review
from capacity.event_check import PlannedEvent, check_event, report_frame, stored_event
from capacity.sizing import safe_loads

pio.renderers.default = "plotly_mimetype+notebook"
fleet = load_fleet(review.notebook_file(config, "config", holds="fleet"))
with Store(review.notebook_file(db, "db", holds="store", hint="make plan builds the demo store"), read_only=True) as store:
    if event_id:
        event = stored_event(store, event_id, options=False)
    else:
        event = PlannedEvent.from_text(name, start, end, regions, uplift, options=False)
    event = event.validated(fleet)
    safe = safe_loads(store, fleet, regions=list(event.regions))
    check = check_event(store, fleet, event, safe=safe, jobs=jobs)
display(HTML(review.event_summary(check)))
display(report.note_lines(check.notes()))

# %% [markdown]
# ## 1. Verdict per region and service
# *peak demand* is the highest hourly p95 demand during the event, *servers needed (N+k)* the
# servers that peak needs with N+k, *breach probability* the worst hour's probability that
# demand exceeds the safe capacity of the servers available (≤0.01 and ≥0.99: bounds the
# forecast's quantiles resolve).

# %%
display(report.plan_table(report_frame(check)))

# %% [markdown]
# ## 2. Demand with the event against safe capacity
# The 5–95 % band and median of the forecast with the event, hour by hour, and the safe
# capacity of the servers available now (dashed).

# %%
charts.event_check_figure(check).show()

# %% [markdown]
# ## 3. How the verdict is reached

# %%
display(Markdown(review.verdict_thresholds()))

# %% [markdown]
# ## 4. Safe load per server
# Learned from the region's telemetry against the latency SLO, or the server type's hint
# when the telemetry cannot support a learned value (the reason says why).

# %%
display(report.table(safe[["region", "service", "metric", "safe_load", "low", "high", "slo_ms", "source", "reason"]], headers=report.HEADERS))
