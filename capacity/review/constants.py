"""The names the analyst notebooks, their computations and their figures share, and the
spans the computations count in.

The column names and labels are exported by :mod:`capacity.review`, where
:mod:`capacity.explore_charts` and the notebooks read them; the spans are the package's own.
"""

from __future__ import annotations

import pandas as pd

#: Column of a stored forecast run's id.
RUN_ID = "run_id"
#: Load per server: the service's demand metric divided by ``servers``.
LOAD_PER_SERVER = "load_per_server"
#: Whether an hour lies in a window that sizing leaves out (maintenance, outage).
EXCLUDED = "excluded"
#: Weekday labels, Monday first (pandas' ``day_of_week`` 0 to 6).
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Quantiles of the forecasters compared by :func:`capacity.review.compare_forecasters`.
COMPARE_QUANTILES = (0.05, 0.5, 0.95)

#: An hour, a day and a week.
HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
WEEK = pd.Timedelta(weeks=1)
#: Hours in a week: the weekly seasonal naive's season. With quantiles it needs one hour more
#: than a season before a window (its spread is read from the differences a week apart).
WEEK_HOURS = 168
