"""What the schedule's exports share, and the CSV export.

:func:`check_schedule` (a schedule frame as the exports read it), :func:`from_template` and
:func:`group_names` (names from ``{region}`` and ``{service}``, checked by
:func:`check_group_name` against AWS's rule for a group's name) and :func:`to_csv_text`;
times are written by :func:`capacity.units.iso_utc`. The AWS and KEDA exports are ``aws.py``
and ``keda.py``.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from capacity.columns import REGION, SERVICE, TS
from capacity.errors import ParameterError
from capacity.frames import require_columns
from capacity.scaling.checks import utc_index
from capacity.scaling.floors import DEMAND, MIN_SERVERS, SAFE_LOAD, SCHEDULE_COLUMNS
from capacity.units import iso_utc

#: The fields a name or query template may use.
TEMPLATE_FIELDS = ("region", "service")


def check_schedule(frame: Any) -> pd.DataFrame:
    """A copy of a schedule frame with its times in UTC, after checking its floors.

    An empty frame is refused: an export of nothing (an empty YAML, a header alone, no AWS
    action) would look like success to whoever applies it.
    """
    require_columns(frame, (REGION, SERVICE, TS, MIN_SERVERS), "schedule")
    if len(frame) == 0:
        raise ParameterError(
            "The 'schedule' parameter has no rows, so there is nothing to export.",
            fix="check the region and service asked for, and that the store has their telemetry",
        )
    floors = frame[MIN_SERVERS]
    if floors.isna().any() or (floors < 0).any():
        raise ParameterError("The 'schedule' parameter must hold min_servers >= 0 in every row.")
    out = frame.copy()
    out[TS] = utc_index(out[TS], "schedule")
    return out


def from_template(template: str, region: str, service: str, name: str) -> str:
    """``template`` filled in with ``region`` and ``service``; ``name`` is the parameter.

    Only the plain fields ``{region}`` and ``{service}`` are filled in (``{{`` and ``}}``
    write a brace). Python's other format syntax, a conversion (``{region!r}``), a format
    spec (``{region:>20}``), an index or an attribute (``{region[0]}``, ``{region.upper}``),
    would write something other than the name, so it is refused.

    Parameters
    ----------
    template : str
        The template, such as ``{region}-{service}``.
    region, service : str
        The values of its fields.
    name : str
        The parameter that gave the template, named in the error.

    Returns
    -------
    str
        The name.

    Raises
    ------
    ParameterError
        When ``template`` is empty, not a string, malformed, or uses anything but the two
        plain fields.
    """
    if not isinstance(template, str) or not template:
        raise ParameterError(
            f"The {name!r} parameter must be a non-empty string with the fields {{region}} and "
            f"{{service}}. Got {template!r}."
        )
    try:
        fields = [
            (field, spec, conversion)
            for _, field, spec, conversion in string.Formatter().parse(template)
            if field is not None
        ]
    except ValueError as exc:
        raise ParameterError(
            f"The {name!r} parameter may only use the fields {{region}} and {{service}}. "
            f"Got {template!r} (ValueError: {exc})."
        ) from None
    for field, spec, conversion in fields:
        if field not in TEMPLATE_FIELDS or spec or conversion:
            written = "{" + field + (f"!{conversion}" if conversion else "")
            written += (f":{spec}" if spec else "") + "}"
            raise ParameterError(
                f"The {name!r} parameter may only use the fields {{region}} and {{service}}, "
                f"as they are. Got {template!r}, with {written}.",
                fix="write {region} and {service} without a conversion, format, index or "
                "attribute; '{{' and '}}' write a brace",
            )
    return template.format(region=region, service=service)


#: EC2 Auto Scaling's rule for a group's name (CreateAutoScalingGroup): 1 to 255 ASCII
#: characters from 33 to 126 (no space, no control character), and no colon.
ASG_NAME_MAX = 255


def check_group_name(group: str, pair: str, template: str, name: str) -> None:
    """Refuse an Auto Scaling group name that AWS would refuse.

    Parameters
    ----------
    group : str
        The name, filled in from ``template``.
    pair : str
        The region/service it names, for the message.
    template : str
        The template it came from, for the message.
    name : str
        The parameter (or CLI option) to name in an error.

    Raises
    ------
    ParameterError
        When ``group`` is longer than 255 characters, or holds a colon or a character
        outside ASCII 33 to 126 (a space, a tab, a letter with an accent).
    """
    bad = sorted({c for c in group if c == ":" or not 33 <= ord(c) <= 126})
    if len(group) > ASG_NAME_MAX or bad:
        problem = (
            f"{len(group)} characters, more than {ASG_NAME_MAX}"
            if len(group) > ASG_NAME_MAX
            else f"the character{'s' if len(bad) > 1 else ''} {', '.join(map(repr, bad))}"
        )
        raise ParameterError(
            f"The {name!r} parameter gives {pair} the Auto Scaling group name {group!r}, "
            f"which AWS refuses: it has {problem}. Got {template!r}.",
            fix="a group name is 1 to 255 printable ASCII characters without spaces or ':'; "
            "use only such characters around {region} and {service}",
        )


def group_names(
    template: str, pairs: Iterable[tuple[str, str]], name: str
) -> dict[tuple[str, str], str]:
    """Each region/service's name from ``template``, checked to be distinct.

    Parameters
    ----------
    template : str
        A name from the fields ``{region}`` and ``{service}`` (``lv-{region}-{service}``).
    pairs : iterable of (str, str)
        The region/services to name.
    name : str
        The parameter (or CLI option) to name in an error.

    Returns
    -------
    dict
        ``(region, service) -> name``.

    Raises
    ------
    ParameterError
        When ``template`` is empty, uses another field, gives a name AWS refuses for an Auto
        Scaling group (:func:`check_group_name`), or gives two region/services the same name
        (their floors would overwrite each other).
    """
    out: dict[tuple[str, str], str] = {}
    for region, service in pairs:
        group = from_template(template, region, service, name)
        check_group_name(group, f"{region}/{service}", template, name)
        out[(region, service)] = group
    seen: dict[str, tuple[str, str]] = {}
    for pair, group in out.items():
        if group in seen:
            first = "/".join(seen[group])
            raise ParameterError(
                f"The {name!r} parameter gives {first} and {'/'.join(pair)} the same name "
                f"{group!r}. Got {template!r}.",
                fix="use both {region} and {service}, e.g. '{region}-{service}' (with any "
                "prefix of yours)",
            )
        seen[group] = pair
    return out


def to_csv_text(schedule: pd.DataFrame) -> str:
    """The schedule as CSV text: a header, one row per region/service/hour, times ISO UTC (``Z``).

    Parameters
    ----------
    schedule : pandas.DataFrame
        From :func:`schedule`.

    Returns
    -------
    str
        ``region,service,ts,min_servers,demand,safe_load`` (the last two when present),
        ``\\n`` line endings; demand and safe load rounded to 3 decimals.

    Raises
    ------
    ParameterError
        When the schedule is empty, lacks a column or holds a floor below 0 or missing.
    """
    frame = check_schedule(schedule)
    columns = [c for c in SCHEDULE_COLUMNS if c in frame.columns]
    out = frame.loc[:, columns].copy()
    out[TS] = [iso_utc(t) for t in out[TS]]
    out[MIN_SERVERS] = out[MIN_SERVERS].astype(np.int64)
    for column in (DEMAND, SAFE_LOAD):
        if column in out:
            out[column] = out[column].astype(float).round(3)
    return out.to_csv(index=False, lineterminator="\n")
