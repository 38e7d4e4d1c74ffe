"""The steps and event kinds every part of the forecaster counts in."""

from __future__ import annotations

import pandas as pd

_DAY = pd.Timedelta(days=1)
_WEEK = pd.Timedelta(days=7)
_OUTAGE = "outage"
_HOLIDAY = "holiday"
