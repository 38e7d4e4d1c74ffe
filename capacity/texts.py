"""Wording shared by messages: a long list cut to its first few items and a count of the rest."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["first_few"]


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
