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
# # Forecast accuracy review
#
# How the forecasts of past plans compared with what happened, and a rolling backtest of the
# project's forecaster against two baselines it must beat on one series: weekly seasonal
# naive (last week repeated) and Prophet with its default settings.

# %% tags=["parameters"]
db = "../data/capacity.duckdb"  # run `make plan` once to build it
config = "../data/demo/fleet.yaml"
runs = 4
region = "eu-west"
service = "game"
metric = "ccu"
history = "56d"
horizon = 168
n_windows = 3

# %%
import plotly.io as pio
from IPython.display import Markdown, display

from capacity import Store, charts, explore_charts, load_fleet, report, review

pio.renderers.default = "plotly_mimetype+notebook"
fleet = load_fleet(review.notebook_file(config, "config", holds="fleet"))
with Store(review.notebook_file(db, "db", holds="store", hint="make plan builds the demo store"), read_only=True) as store:
    stored = review.recent_runs(store, runs)
    joined = review.run_actuals(store, runs)
    series = store.series(region=region, service=service, metric=metric, strict=False)
    status, _ = store.status()
    review.check_series(fleet, series, region=region, service=service, metric=metric, status=status)
    events = store.events(region=region)
series = review.backtest_history(series, history, horizon=horizon, n_windows=n_windows)
display(Markdown(review.review_summary(
    stored, joined, series, region=region, service=service, metric=metric, horizon=horizon, n_windows=n_windows
)))

# %% [markdown]
# ## 1. Stored forecast runs
# The newest runs in the store (`capacity plan` and `capacity forecast-fleet` store one each):
# when each was made, the first forecast hour (`cutoff`), how far it reached, and how many
# series fell back to a baseline. Times are UTC.

# %%
if stored.empty:
    display(Markdown("No forecast run is stored yet: `capacity plan` or `capacity forecast-fleet` stores one."))
else:
    display(report.table(stored))

# %% [markdown]
# ## 2. Past forecasts against what happened
# Per run, over every hour whose actual value has arrived: `mape`, the mean absolute error as a
# share of the actual value; `bias`, the mean signed error as a share (positive: the forecast
# was too high); `coverage_90`, the share of hours inside the 5–95 % band (90 % when the band
# is honest); `peak_ape`, the error of each day's peak as a share of it (days with all 24
# hours known).

# %%
if joined.empty:
    display(Markdown("No stored forecast overlaps the telemetry yet: nothing to compare."))
else:
    display(report.accuracy_table(review.accuracy(joined, by=("run_id", "cutoff"))))
    by_series = review.accuracy(joined)
    explore_charts.accuracy_over_time(by_series).show()
    display(report.accuracy_table(by_series, max_rows=48))

# %% [markdown]
# ## 3. Error by lead time
# The same error pooled over series, by day ahead of each run's cutoff: how quickly a plan's
# forecast goes stale.

# %%
if joined.empty:
    display(Markdown("No stored forecast overlaps the telemetry yet: no lead times to show."))
else:
    explore_charts.lead_time_chart(review.accuracy_by_lead(joined)).show()

# %% [markdown]
# ## 4. Rolling backtest against the baselines
# Each window fits every forecaster on the hours before its cutoff (with the calendar as it
# was known then) and forecasts the next `horizon` hours. `mase` divides the mean absolute
# error by the in-sample error of a one-day seasonal naive (below 1 beats it); `smape`, the
# symmetric error, is a percentage like the other errors; `pinball` is the mean quantile loss over the 5 %, 50 % and 95 % quantiles, in the
# series' units; `coverage_90` and `peak_ape` as above. Lower is better except coverage,
# which should be near 90 %. The chart shades the project forecaster's 5–95 % band.

# %%
comparison = review.compare_forecasters(
    series[["ts", "value"]],
    events=events,
    horizon=horizon,
    n_windows=n_windows,
    holidays_country=fleet.regions[region].holidays_country,
    timezone=fleet.regions[region].timezone,
)
display(Markdown("**All windows**"))
display(report.accuracy_table(comparison.overall))
display(Markdown("**Window by window**"))
display(report.accuracy_table(comparison.windows))
if not comparison.errors.empty:
    display(Markdown("**Forecasters that failed**"))
    display(report.table(comparison.errors))
if not comparison.results.empty:
    charts.backtest_figure(comparison.results, series, metric=metric).show()
