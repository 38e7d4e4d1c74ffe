"""Counters a PromQL query reads as instant values rather than over a range, found in the
query's text without parsing PromQL (:func:`raw_counters`)."""

from __future__ import annotations

import re

#: PromQL's lists of label names: ``by (region, service)``, ``on (instance)``.
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
#: PromQL string literals: double- or single-quoted with backslash escapes, or backquoted.
_STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`")


def raw_counters(query: str) -> list[str]:
    """The counters a PromQL query reads as instant values rather than over a range.

    A counter (named ``..._total``, or a histogram's ``..._bucket``) read without a range
    selector is the running total since it last reset: ``sum by (region, service)
    (requests_total)`` in place of ``sum by (region, service) (rate(requests_total[5m]))``.
    Read from the text, without parsing PromQL: string literals, label matchers and lists of
    label names (``by (...)``) are set aside, then each counter name not followed by ``[``
    is one.

    Parameters
    ----------
    query : str
        PromQL.

    Returns
    -------
    list of str
        The counters' names, in order of first appearance, each once.
    """
    bare = _STRINGS.sub('""', query)
    bare = re.sub(r"\{[^{}]*\}", "", bare)  # label matchers: {code=~"5.."}
    bare = _LABEL_LISTS.sub("", bare)  # label names: by (region, service)
    found: list[str] = []
    for match in re.finditer(r"(?<![\w:])([A-Za-z_:][\w:]*(?:_total|_bucket))\b(?!\s*\()", bare):
        rest = bare[match.end() :].lstrip()
        if not rest.startswith("[") and match.group(1) not in found:
            found.append(match.group(1))
    return found
