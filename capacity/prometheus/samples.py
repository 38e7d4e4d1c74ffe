"""A pull's series as compact arrays (:class:`_Samples`), converted request by request as
the answers arrive (:func:`_query_samples`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from capacity.prometheus.ranges import MAX_POINTS, _gather, _ranges


@dataclass
class _Samples:
    """One series of a query as compact arrays: its labels, the times (Unix seconds) and
    values of its samples that are numbers, the first sample that is not (text, time), and
    how many were NaN (gaps, as a ratio 0/0 gives: kept out of the arrays).

    A pull keeps these rather than Prometheus's ``[seconds, "text"]`` pairs, which held about
    400 bytes of memory a point (a first pull at a 1-minute step reads 161,280 points per
    series); the arrays hold 16."""

    labels: dict[str, str]
    seconds: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    not_a_number: tuple[str, float] | None = None
    nans: int = 0

    def add(self, pairs: list[list[Any]]) -> None:
        """Take one request's ``[seconds, "text"]`` pairs, keeping the numbers (NaN is a gap)."""
        if not pairs:
            return
        seconds = np.fromiter((pair[0] for pair in pairs), dtype="float64", count=len(pairs))
        written = pd.Series([pair[1] for pair in pairs], dtype="string")
        numbers = pd.to_numeric(written, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(numbers)
        if self.not_a_number is None:
            bad = missing & written.str.lower().ne("nan").fillna(True).to_numpy(dtype=bool)
            if bad.any():
                at = int(bad.argmax())
                self.not_a_number = (str(pairs[at][1]), float(seconds[at]))
        self.nans += int(missing.sum())
        self.seconds.append(seconds[~missing])
        self.values.append(numbers[~missing])


def _query_samples(url: str, query: str, **request: Any) -> tuple[list[_Samples], int]:
    """:func:`~capacity.prometheus.ranges.query_range` for a pull (``request``: its keyword
    arguments but ``max_points``): each series as :class:`_Samples`, converted request by
    request, so that a long range at a fine step never holds its points as Python objects."""
    answers = _ranges(url, query, max_points=MAX_POINTS, **request)
    return _gather(answers, _Samples, _Samples.add)
