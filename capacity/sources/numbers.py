"""Numbers written with a comma (thousands separators, a decimal comma), named as such.

A spreadsheet export writes ``1,200`` or ``0,75``; read as text they are just "not a
number", which does not say what to change. :func:`comma_problem` says which it looks like.
"""

from __future__ import annotations

import re

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def comma_problem(raw: str, gap: str) -> tuple[str, str] | None:
    """The problem and fix for a value written with a comma, or None for any other value.

    Parameters
    ----------
    raw : str
        The value as written.
    gap : str
        How the file marks a gap instead, for the fix (``"leave it empty for a gap"``).

    Returns
    -------
    tuple of (str, str) or None
        The problem and its fix, when the value has thousands separators or a decimal comma.
    """
    text = str(raw).strip()
    thousands, decimal = _THOUSANDS.match(text), _DECIMAL_COMMA.match(text)
    if thousands and decimal:  # 1,002: a thousand and two, or one and two thousandths
        return (
            f"value {raw!r} has a comma, a thousands separator or a decimal comma",
            f"write plain numbers with a decimal point ({text.replace(',', '')} or "
            f"{text.replace(',', '.')}), or {gap}",
        )
    if thousands:
        return (
            f"value {raw!r} has thousands separators",
            f"write plain numbers ({text.replace(',', '')}), or {gap}",
        )
    if decimal:
        return (
            f"value {raw!r} has a decimal comma",
            f"write a decimal point ({text.replace(',', '.')}), or {gap}",
        )
    return None
