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
# # Explore telemetry
#
# The analyst's starting point for one region, service and metric: what the store holds, the
# series with its live-ops events, its daily and weekly shape, and how latency responds to
# load per server. Change the parameters below and run all cells; an empty `start` or `end`
# means the whole span.

# %% tags=["parameters"]
db = "../data/capacity.duckdb"  # run `make plan` once to build it
config = "../data/demo/fleet.yaml"
region = "eu-west"
service = "game"
metric = "ccu"
start = "2026-09-28T00:00:00Z"
end = "2026-11-23T00:00:00Z"

# %%
import plotly.io as pio
from IPython.display import Markdown, display

from capacity import Store, explore_charts, load_fleet, report, review
from capacity.sizing import safe_loads

pio.renderers.default = "plotly_mimetype+notebook"
fleet = load_fleet(review.notebook_file(config, "config", holds="fleet"))
with Store(review.notebook_file(db, "db", holds="store", hint="make plan builds the demo store"), read_only=True) as store:
    status, ahead = store.status(now=end or None, ahead="28d")
    series = store.series(
        region=region, service=service, metric=metric, start=start or None, end=end or None, strict=False
    )
    review.check_series(
        fleet, series, region=region, service=service, metric=metric, start=start, end=end, status=status
    )
    events = store.events(region=region, start=series["ts"].min(), end=series["ts"].max())
    hours = review.load_latency(store, fleet, region, service, start=start or None, end=end or None)
    safe = safe_loads(store, fleet, regions=[region], services=[service], start=start or None, end=end or None)
zone = fleet.regions[region].timezone
slo_ms = fleet.services[service].slo.latency_p99_ms
display(Markdown(review.series_summary(series, region=region, service=service, metric=metric, timezone=zone)))

# %% [markdown]
# ## 1. What the store holds
# Every series of the region: its span, rows, missing hours and the runs of them (gaps), and
# the load that last wrote it. Then the live-ops events of every region in the 28 days after
# `end` (after now when `end` is empty). Times are UTC.

# %%
display(Markdown(review.status_summary(status)))
display(report.table(review.region_status(status, region), headers=report.HEADERS))
display(report.table(ahead[["event_id", "name", "kind", "start_ts", "end_ts", "regions", "expected_uplift"]], max_rows=20, headers=report.HEADERS))

# %% [markdown]
# ## 2. The series and its events
# Events touching the region are shaded by kind; weekly maintenance windows are shaded but
# not named.

# %%
explore_charts.series_with_events(
    series, events, title=f"{region} / {service}: {metric}, hourly mean", name=metric
).show()

# %% [markdown]
# ## 3. Daily and weekly shape
# The mean by local weekday and hour, then an additive split: a one-week moving-average
# trend, a daily and a weekly profile (means of the detrended hours by local hour and
# weekday), and the residual, which holds events, the weekday/weekend difference in the daily
# shape, and noise. The split needs two weeks of hours with a known trend (about three weeks
# of data with few gaps); a shorter or gappier span gets the heatmap only, and a note.

# %%
explore_charts.weekday_hour_heatmap(
    review.weekday_hour_profile(series, timezone=zone),
    title=f"{region} / {service}: mean {metric} by weekday and hour",
    timezone=zone,
    metric=metric,
).show()
decomposition, shape = review.decompose_or_note(series, timezone=zone)
display(Markdown(shape))
if decomposition is not None:
    explore_charts.decomposition_chart(
        decomposition, title=f"{region} / {service}: {metric} decomposed", metric=metric
    ).show()

# %% [markdown]
# ## 4. Load per server against p99 latency
# Each dot is an hour: the service's demand metric divided by its servers, against that
# hour's p99 latency. Sizing learns the *safe load*, the load at which the median p99 reaches
# the SLO (an isotonic fit, with a bootstrap interval shaded), and falls back to the server
# type's hint when the data do not reach the SLO. Maintenance and outage hours are left out.
# Only the hours from `start` to `end` are used, so the safe load here can differ from the one
# the weekly plan and the event check learn from all the stored hours.

# %%
row = safe.iloc[0]
explore_charts.latency_curve(
    hours,
    safe_load=row["safe_load"],
    slo_ms=slo_ms,
    low=row["low"],
    high=row["high"],
    binned=review.latency_by_load(hours),
    source=row["source"],
    title=f"{region} / {service}: load per server against p99 latency",
    metric=row["metric"],
).show()
display(report.table(safe[["region", "service", "metric", "safe_load", "low", "high", "slo_ms", "source", "samples", "reason"]], headers=report.HEADERS))
