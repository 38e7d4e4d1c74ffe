"""Wording shared by messages: a long list cut to its first few items and a count of the rest,
a count of servers, a safe load per server, what a demand metric counts and a duration in
seconds as a person reads them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

__all__ = [
    "carried_text",
    "demand_text",
    "first_few",
    "load_text",
    "seconds_text",
    "servers_text",
]

#: What each demand metric counts, as a reason names what a lost region sends elsewhere.
_CARRIED = {"ccu": "players", "rps": "requests"}


def first_few(items: Sequence[str], shown: int = 5) -> str:
    """The first ``shown`` items joined with commas, and how many more there are.

    Parameters
    ----------
    items
        The items as they should read (already quoted or formatted).
    shown
        How many to name before counting the rest.

    Returns
    -------
    str
        ``"a, b, c"``, or ``"a, b, c, d, e and 3 more"`` past ``shown`` items.
    """
    rest = len(items) - shown
    listed = ", ".join(items[:shown])
    return f"{listed} and {rest} more" if rest > 0 else listed


def demand_text(value: float) -> str:
    """Demand (players, requests a second) as the tables write it: to the unit from 10 up,
    with decimals below, where the unit would round a quiet service's 0.4 requests a second
    to 0 beside the server it needs.

    Parameters
    ----------
    value
        The demand, not negative.

    Returns
    -------
    str
        ``285,840``, ``12``, ``7.4`` or ``0.35``: the unit, a tenth below 10, a hundredth
        below 1 (trailing zeros dropped, so 3.0 reads ``3``).
    """
    if abs(value) >= 9.5:
        return f"{value:,.0f}"
    places = 1 if abs(value) >= 0.995 else 2
    return f"{value:.{places}f}".rstrip("0").rstrip(".")


def load_text(value: float) -> str:
    """A load per server (a safe load, a hint) in words: to a tenth, as the tables write it,
    thousands-separated, without a tenth of zero (a hint written ``900`` reads ``900``); below
    1 to a hundredth, where a tenth would write a quiet service's 0.04 as ``0``.

    Parameters
    ----------
    value
        The load per server, in the service's demand metric.

    Returns
    -------
    str
        ``3,160.3``, ``900``, ``0.4`` or ``0.04``.
    """
    if abs(value) < 0.995:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def carried_text(metrics: Collection[str]) -> str:
    """What a region's demand in ``metrics`` is, as a lost region's is sent elsewhere:
    ``players`` (ccu), ``requests`` (rps), ``players and requests`` for both.

    Parameters
    ----------
    metrics
        Demand metrics (``ccu``, ``rps``); another name reads as ``load``.

    Returns
    -------
    str
        A plural noun phrase, ``players`` when ``metrics`` is empty.
    """
    nouns = sorted({_CARRIED.get(metric, "load") for metric in metrics}) or ["players"]
    return " and ".join(nouns)


def servers_text(count: int) -> str:
    """A count of servers, thousands-separated, singular for one: ``1 server``, ``1,766 servers``.

    Parameters
    ----------
    count
        How many servers (a whole number; a fleet of 1-2 servers is a real fleet).

    Returns
    -------
    str
        The count and the noun that agrees with it.
    """
    return f"{count:,} server" + ("" if abs(count) == 1 else "s")


def seconds_text(seconds: float) -> str:
    """A duration as a person reads it: ``0.4 s``, ``24 s``, ``1 min 52 s``, ``2 h 5 min``.

    Parameters
    ----------
    seconds
        The duration in seconds, not negative.

    Returns
    -------
    str
        Tenths of a second under 10 s, whole seconds under a minute, then minutes and
        seconds, then hours and minutes.
    """
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
