"""Quantile levels: the one check every forecaster runs on its ``quantiles`` parameter."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

from capacity.errors import ParameterError

__all__ = ["check_quantiles"]


def check_quantiles(quantiles: Any, *, allow_empty: bool = True) -> tuple[float, ...]:
    """Check a forecaster's ``quantiles`` parameter and return it as floats.

    Parameters
    ----------
    quantiles : sequence of float
        Distinct levels in (0, 1), in increasing order: the order of the forecast's columns.
    allow_empty : bool
        Whether no level at all is accepted (a point forecast only).

    Returns
    -------
    tuple of float

    Raises
    ------
    ParameterError
        When ``quantiles`` is not a sequence of numbers, a level is outside (0, 1), a level
        repeats, the levels are not increasing, or none is given where one is needed.
    """
    what = "a sequence" if allow_empty else "a non-empty sequence"
    problem = (
        f"The 'quantiles' parameter must be {what} of distinct numbers in (0, 1), in "
        f"increasing order. Got {quantiles!r}."
    )
    if isinstance(quantiles, str | bytes) or not isinstance(quantiles, Sequence):
        raise ParameterError(problem)
    if not all(isinstance(q, numbers.Real) and not isinstance(q, bool) for q in quantiles):
        raise ParameterError(problem)
    values = tuple(float(q) for q in quantiles)
    in_range = all(0 < q < 1 for q in values)
    increasing = all(a < b for a, b in itertools.pairwise(values))
    if not (in_range and increasing and (values or allow_empty)):
        raise ParameterError(problem)
    return values
