"""The rows of the KPI table as JSON-safe objects (:func:`kpis_json`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from capacity.frames import require_columns
from capacity.resilience.columns import JSON_KEYS


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def kpis_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a :func:`kpis` frame as JSON-safe objects.

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame returned by :func:`kpis`.

    Returns
    -------
    list of dict
        One object per row with the keys :data:`JSON_KEYS`, in that order: the headline
        figures, the alert state (one of :data:`ALERT_STATES`) and the three burn rates it
        rests on, then what the figures rest on (the SLO target, the hours with and without
        data, open incidents, the median MTTR, incidents by severity): every column of the
        table. Numbers are Python ``int``/``float``; NaN (a figure that cannot be
        measured, such as a burn rate over a window without data) becomes None, so
        ``json.dumps`` writes ``null``.

    Raises
    ------
    ParameterError
        When ``frame`` lacks one of the keys.
    """
    require_columns(frame, JSON_KEYS, "frame")
    return [
        {key: _json_value(value) for key, value in zip(JSON_KEYS, row, strict=True)}
        for row in frame.loc[:, list(JSON_KEYS)].itertuples(index=False, name=None)
    ]
