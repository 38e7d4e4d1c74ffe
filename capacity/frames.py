"""Checks on DataFrames given as parameters, in the package's one voice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from capacity.errors import ParameterError

__all__ = ["require_columns", "require_one_series"]


def require_columns(frame: Any, columns: Sequence[str], name: str) -> pd.DataFrame:
    """Return ``frame`` when it is a DataFrame holding ``columns``.

    Raises
    ------
    ParameterError
        Naming the parameter, the columns it must have, the ones missing and the ones found.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            f"The {name!r} parameter must be a pandas DataFrame. Got {type(frame).__name__}."
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "no columns"
        raise ParameterError(
            f"The {name!r} parameter must have the columns {', '.join(columns)}. "
            f"Missing: {', '.join(missing)}. Got {found}."
        )
    return frame


def require_one_series(frame: pd.DataFrame, name: str, takes: str) -> None:
    """Refuse a frame of several series (``store.series(metric="ccu")`` holds every region
    and service's), naming them and how to pick one, before its repeated timestamps are
    read as a broken grid.

    Parameters
    ----------
    frame : pandas.DataFrame
        A tidy frame; its ``region``, ``service`` and ``metric`` columns, those it has, name
        the series.
    name : str
        The parameter's name.
    takes : str
        What the caller does with one series, for the message (``"the chart draws one"``).

    Raises
    ------
    ParameterError
        Naming the parameter, how many series it holds, the first few and the fix.
    """
    keys = [c for c in ("region", "service", "metric") if c in frame.columns]
    if not keys:
        return
    names = frame[keys].drop_duplicates().astype(str).agg("/".join, axis=1)
    if len(names) > 1:
        shown = ", ".join(names.iloc[:4]) + (
            f" and {len(names) - 4} more" if len(names) > 4 else ""
        )
        raise ParameterError(
            f"The {name!r} parameter holds {len(names)} series ({shown}); {takes}.",
            fix=(
                "pick one, e.g. store.series(region=..., service=..., metric=...), or "
                f"filter the frame on {', '.join(keys)}"
            ),
        )
