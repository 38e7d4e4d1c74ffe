"""How each kind of live-ops event moves demand over time: :class:`EventShape`, and the default
shape of each kind, :data:`EVENT_SHAPES`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capacity.forecast.constants import _HOLIDAY


@dataclass(frozen=True)
class EventShape:
    """How one kind of live-ops event moves demand over time, as a weight in [0, 1].

    The weight rises linearly from 0 to ``pre_level`` over the ``pre_hours`` before the start,
    from ``pre_level`` to 1 over the ``rise_hours`` after it, then decays exponentially with an
    e-folding time of ``decay_hours`` (never, when None) towards ``floor``, and finally fades
    linearly to 0 over the ``tail_hours`` after the end.

    The weight multiplies the learned log-effect of a kind seen often enough, or the planner's
    uplift of a kind that was not: demand is ``normal x (1 + (uplift - 1) x weight)``.
    """

    pre_hours: float = 0.0
    pre_level: float = 0.0
    rise_hours: float = 0.0
    decay_hours: float | None = None
    floor: float = 0.0
    tail_hours: float = 0.0

    def weight(self, ts: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        """The event's weight at each ``ts`` (0 outside its reach)."""
        hours = np.asarray((ts - start) / pd.Timedelta(hours=1), dtype=float)
        length = (end - start) / pd.Timedelta(hours=1)
        w = np.zeros(len(ts))
        if self.pre_hours > 0 and self.pre_level > 0:
            pre = (hours >= -self.pre_hours) & (hours < 0)
            w[pre] = self.pre_level * (1 + hours[pre] / self.pre_hours)
        inside = (hours >= 0) & (hours < length)
        h = hours[inside]
        if self.rise_hours > 0:
            rising = np.clip(h / self.rise_hours, 0.0, 1.0)
            level = self.pre_level + (1 - self.pre_level) * rising
        else:
            level = np.ones_like(h)
        if self.decay_hours:
            after = np.clip(h - self.rise_hours, 0.0, None)
            decay = self.floor + (1 - self.floor) * np.exp(-after / self.decay_hours)
            level = level * decay
        w[inside] = level
        if self.tail_hours > 0:
            tail = (hours >= length) & (hours < length + self.tail_hours)
            last = w[inside][-1] if inside.any() else 1.0
            w[tail] = last * (1 - (hours[tail] - length) / self.tail_hours)
        return w


#: Default shape of each event kind; other kinds are flat over their window.
EVENT_SHAPES: Mapping[str, EventShape] = {
    # A new season: pre-load before launch, peak within hours, decays over days.
    "season": EventShape(pre_hours=24, pre_level=0.15, rise_hours=4, decay_hours=72),
    # A launch (expansion, festival): ramps up over half a day, holds players longer.
    "launch": EventShape(pre_hours=24, pre_level=0.15, rise_hours=12, decay_hours=168, floor=0.5),
    # Patch: an uplift that fades over its window.
    "patch": EventShape(decay_hours=24),
    # Marketing: a campaign ramping in over half a day.
    "marketing": EventShape(rise_hours=12),
    # Esports: jumps at the start, fades over two hours after the end.
    "esports": EventShape(tail_hours=2),
    "maintenance": EventShape(),
    _HOLIDAY: EventShape(),
}
_FLAT = EventShape()
