"""Burn-rate alerts: the three burn windows, the SRE workbook's thresholds and
:func:`alert_state`, the state three burn rates put a series in."""

from __future__ import annotations

import math

#: The burn-rate windows: column name and hours before ``until``.
BURN_WINDOWS = (("burn_1h", 1), ("burn_6h", 6), ("burn_3d", 72))
#: SRE workbook thresholds (for a 30-day SLO period): 2 % of the budget in 1 h, 5 % in 6 h,
#: 10 % in 3 days.
PAGE_FAST_BURN = 14.4
PAGE_SLOW_BURN = 6.0
TICKET_BURN = 1.0


def alert_state(burn_1h: float, burn_6h: float, burn_3d: float) -> str:
    """The alert state for three burn rates: ``page``, ``ticket``, ``ok`` or ``unknown``.

    The SRE workbook's multiwindow, multi-burn-rate alerts, with every short window rounded up
    to the one hour that hourly data resolves:

    * ``page`` when ``burn_1h > 14.4`` (the 1 h / 5 min pair: 2 % of a 30-day budget in an
      hour), or when ``burn_6h > 6`` and ``burn_1h > 6`` (the 6 h / 30 min pair: 5 % in 6 h);
    * else ``ticket`` when ``burn_3d > 1`` and ``burn_6h > 1`` (the 3 d / 6 h pair: 10 % in
      3 days);
    * else ``ok`` when all three windows have data; else ``unknown``: a rule whose window has
      no data cannot fire, and ``ok`` would claim it was checked. Both page pairs need
      ``burn_1h``, so the last hour without data is ``unknown`` (or ``ticket``), never ``ok``.

    Parameters
    ----------
    burn_1h, burn_6h, burn_3d : float
        Burn rates over the last 1, 6 and 72 hours (NaN when unknown).

    Returns
    -------
    str
        One of :data:`ALERT_STATES`.
    """
    b1, b6, b3 = (float(b) if b is not None else math.nan for b in (burn_1h, burn_6h, burn_3d))
    # a comparison with NaN is False: a window without data never fires
    if b1 > PAGE_FAST_BURN or (b6 > PAGE_SLOW_BURN and b1 > PAGE_SLOW_BURN):
        return "page"
    if b3 > TICKET_BURN and b6 > TICKET_BURN:
        return "ticket"
    if any(math.isnan(b) for b in (b1, b6, b3)):
        return "unknown"
    return "ok"
