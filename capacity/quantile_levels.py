"""Quantile levels: the one check every forecaster and fleet run makes of its ``quantiles``."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from capacity.columns import quantile_column
from capacity.errors import ParameterError

__all__ = ["check_quantiles"]


def check_quantiles(
    quantiles: Any, *, allow_empty: bool = True, increasing: bool = True
) -> tuple[float, ...]:
    """Check a ``quantiles`` parameter and return its levels as floats, in the order given.

    Parameters
    ----------
    quantiles : sequence of float
        Distinct levels, each a number strictly between 0 and 1.
    allow_empty : bool
        Whether no level at all is accepted (a point forecast only).
    increasing : bool
        Whether the levels must come in increasing order (a forecaster's columns do); a fleet
        run keeps the order it is given.

    Returns
    -------
    tuple of float

    Raises
    ------
    ParameterError
        Naming the first problem: not a sequence, empty where a level is needed, a level that
        is not a number strictly between 0 and 1 (text and booleans included), one that
        repeats or has the column name of another (:func:`capacity.columns.quantile_column`
        keeps 6 significant digits), or one out of order.
    """
    problem = None
    values: list[float] = []
    if isinstance(quantiles, str | bytes) or not isinstance(quantiles, Sequence):
        problem = "not a sequence"
    elif not quantiles and not allow_empty:
        problem = "it is empty"
    for q in [] if problem else quantiles:
        number = isinstance(q, numbers.Real) and not isinstance(q, bool)
        value = float(q) if number else float("nan")
        if not 0 < value < 1:
            problem = f"{q!r} is not a number strictly between 0 and 1"
        elif value in values:
            problem = f"{q!r} repeats"
        elif (name := quantile_column(value)) in (named := [quantile_column(v) for v in values]):
            # distinct levels whose columns share a name (0.5 and 0.5000001 are both q0.5):
            # one would overwrite the other, or a stored run hold two columns of one name
            problem = f"{q!r} has the column name of {values[named.index(name)]!r} ({name})"
        elif increasing and values and value < values[-1]:
            problem = f"{q!r} comes after {values[-1]!r}"
        if problem:
            break
        values.append(value)
    if problem:
        what = "a sequence" if allow_empty else "a non-empty sequence"
        order = ", in increasing order" if increasing else ""
        raise ParameterError(
            f"The 'quantiles' parameter must be {what} of distinct numbers strictly between 0 "
            f"and 1{order}, such as (0.05, 0.5, 0.95). Got {quantiles!r} ({problem})."
        )
    return tuple(values)
