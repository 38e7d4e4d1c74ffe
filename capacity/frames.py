"""Checks on DataFrames given as parameters, in the package's one voice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from capacity.errors import ParameterError

__all__ = ["require_columns"]


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
