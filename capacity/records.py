"""Shared helpers for reading record files (CSV and YAML) and their values.

Used by :mod:`capacity.calendar` and :mod:`capacity.resilience`: reading a file as UTF-8 text,
CSV rows and YAML items with where they were read, header-name matching with suggestions, and
the timestamp rule (a UTC offset is exact, a naive time is refused unless a time zone is given,
in which case a time the clocks skip or repeat is refused). Every problem raises
:class:`~capacity.errors.DataError` (or :class:`~capacity.errors.ParameterError` for a time
zone); the caller supplies the wording that differs between file kinds.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from capacity.errors import DataError, InputError, ParameterError

__all__ = [
    "DATE_RE",
    "YAML_MAX_NODES",
    "Matcher",
    "check_known",
    "check_required",
    "check_unique",
    "check_yaml_size",
    "closest",
    "csv_rows",
    "duplicate_key",
    "expanded_size",
    "is_missing",
    "localise",
    "normalise_key",
    "not_a_file",
    "not_utf8",
    "offset_choice",
    "parse_iso",
    "read_bytes",
    "read_text",
    "show_ts",
    "shown",
    "suggest",
    "text",
    "to_aware",
    "utc_timestamp",
    "yaml_rows",
    "zone",
]

#: A date without a time: ``2026-12-18`` or ``20261218``.
DATE_RE = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")

#: Maps found names to field names: ``match(names, what, where)``, ``what`` being ``"column"``
#: or ``"key"`` and ``where`` the place for error messages.
Matcher = Callable[[list[str], str, str | None], list[str]]

#: The most values (scalars, lists and mappings) one YAML file may stand for once its aliases
#: are written out. Aliases of lists that alias lists ("billion laughs") make a few lines stand
#: for billions of values, which whatever reads them (text, validation) would build one by one.
YAML_MAX_NODES = 1_000_000


# --------------------------------------------------------------------------- files


def read_bytes(path: Path) -> bytes:
    """Read a file's bytes.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    bytes
        Its content.

    Raises
    ------
    DataError
        When the file does not exist or cannot be read.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", source=str(path), fix="check the path") from None
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror}", source=str(path)) from None


def not_a_file(path: Path) -> DataError:
    """The error for a path that names no regular file: missing, or a folder, a pipe or a
    device, which cannot be read as a whole file (nor as it was, a second time).

    Parameters
    ----------
    path : Path
        The path given.

    Returns
    -------
    DataError
    """
    if not path.exists():
        return DataError("file not found", source=str(path), fix="check the path")
    what = "a folder" if path.is_dir() else "not a regular file (a pipe, socket or device)"
    return DataError(
        f"is {what}", source=str(path), fix="give the path of a file (save piped data to one first)"
    )


def read_text(path: Path) -> str:
    """Read a file as UTF-8 text, dropping a byte-order mark.

    Raises :class:`~capacity.errors.DataError` as :func:`read_bytes` does, and when the
    content is not UTF-8.
    """
    try:
        return read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc.start) from None


def not_utf8(path: Path, byte: int, *, where: str | None = None) -> DataError:
    """The error for a file that is not UTF-8 text, its first bad byte at offset ``byte``
    (0-based) and, when known, on the line ``where``.

    Parameters
    ----------
    path : Path
        The file.
    byte : int
        The offset of the first byte that is not UTF-8, from the start of the file.
    where : str, optional
        Where that byte is (``line 3``).

    Returns
    -------
    DataError
    """
    return DataError(
        f"not UTF-8 text (byte {byte})", source=str(path), where=where, fix="save the file as UTF-8"
    )


def csv_rows(
    text: str, *, source: str, empty_fix: str, match: Matcher
) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a CSV text with their line numbers (the header is line 1).

    Parameters
    ----------
    text : str
        The CSV text.
    source : str
        The file, for error messages.
    empty_fix : str
        The fix shown when the text is empty.
    match : Matcher
        Maps the header names to field names (called with ``"column"`` and ``"line 1"``).

    Returns
    -------
    list of (int, dict)
        Per non-blank row: its line number and field -> cell.

    Raises
    ------
    DataError
        When the CSV is empty or malformed, or a row's field count differs from the header's.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError("the file is empty", source=source, fix=empty_fix) from None
    except csv.Error as exc:
        raise DataError(f"not valid CSV: {exc}", source=source, where="line 1") from None
    fields = match(header, "column", "line 1")
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(
                f"not valid CSV: {exc}",
                source=source,
                where=f"line {line}",
                fix="check the quoting",
            ) from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(fields):
            raise DataError(
                f"has {len(row)} fields but the header has {len(fields)}",
                source=source,
                where=f"line {line}",
                fix="quote values that contain commas, and give every row the header's columns",
            )
        rows.append((line, dict(zip(fields, row, strict=True))))
    return rows


def yaml_rows(
    text: str,
    *,
    source: str,
    key: str,
    noun: str,
    empty_fix: str,
    list_fix: str,
    where_of: Callable[[int, Any, int | None], str],
    match: Matcher,
    text_fields: Collection[str] = (),
    other_kinds: Mapping[str, tuple[str, str]] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """The items of a YAML list (or of a mapping whose only key is ``key``) with their places.

    Parameters
    ----------
    text : str
        The YAML text.
    source : str
        The file, for error messages.
    key : str
        The only top-level key allowed, e.g. ``"events"``.
    noun : str
        What one item is, e.g. ``"event"``.
    empty_fix, list_fix : str
        The fixes shown when the file is empty and when it holds no list.
    where_of : callable
        ``where_of(number, item, line)``: the place of an item (numbered from 1, starting on
        ``line``, None when unknown) in error messages.
    match : Matcher
        Maps an item's keys to field names (called with ``"key"`` and the item's place).
    text_fields : collection of str
        Fields kept as written when YAML would read them as something else: ``0012`` stays
        ``"0012"`` (YAML 1.1 reads an octal 10) and ``1.10`` stays ``"1.10"``.
    other_kinds : mapping of str to (str, str), optional
        The top-level keys of other kinds of file, each with the problem and the fix to
        report (``{"deploys": ("the top-level key 'deploys' is that of a deploy log, ...",
        "import it with ...")}``): a file of another kind is named for what it is, not told
        to move its items under ``key``.

    Returns
    -------
    list of (str, dict)
        Per item: its place and field -> value.

    Raises
    ------
    DataError
        When the YAML is malformed or empty, stands for more than :data:`YAML_MAX_NODES`
        values once its aliases are written out, has another top-level key, holds no list, or
        an item is not a mapping.
    """
    import yaml

    # One parse: the node tree gives each item's line, and the same tree builds the values.
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            check_yaml_size(root, source=source, error=DataError)
        # repeated keys are looked for as written, before a merge key (<<: *base) copies the
        # keys of another mapping in beside the ones that override them
        repeated = duplicate_key(root) if root is not None else None
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or "syntax error"
        raise DataError(
            f"not valid YAML: {problem}", source=source, where=where, fix="correct the YAML syntax"
        ) from None
    finally:
        loader.dispose()
    if data is None:
        raise DataError("the file is empty", source=source, fix=empty_fix)
    if repeated is not None:
        raise DataError(
            f"key {repeated[0]!r} appears twice in one mapping",
            source=source,
            where=f"line {repeated[1]}",
            fix="keep one of them",
        )
    items_node = root
    if isinstance(data, dict):
        keys = [str(k) for k in data]
        if keys != [key]:
            other = [k for k in keys if k != key]
            kind = (other_kinds or {}).get(other[0]) if other and key not in keys else None
            if kind is not None:
                raise DataError(kind[0], source=source, fix=kind[1])
            problem = (
                f"unknown top-level key {other[0]!r}"
                if other
                else f"the top-level key {key!r} is missing"
            )
            raise DataError(
                problem,
                source=source,
                fix=f"put the {key} in a list under the single key {key!r}",
            )
        items_node = root.value[0][1]
        data = data[key] if data[key] is not None else []
    if not isinstance(data, list):
        raise DataError(
            f"expected a list of {key}; got {type(data).__name__}", source=source, fix=list_fix
        )
    nodes = getattr(items_node, "value", None)
    rows = []
    for number, item in enumerate(data, start=1):
        line = None
        if isinstance(nodes, list) and number <= len(nodes):
            line = nodes[number - 1].start_mark.line + 1
        where = where_of(number, item, line)
        if not isinstance(item, dict):
            raise DataError(
                f"expected a mapping of fields; got {type(item).__name__} {item!r}",
                source=source,
                where=where,
                fix=f"write each {noun} as 'key: value' lines",
            )
        fields = match([str(k) for k in item], "key", where)
        values = dict(zip(fields, item.values(), strict=True))
        if text_fields and isinstance(nodes, list) and number <= len(nodes):
            written = _plain_scalars(nodes[number - 1])
            for key, field in zip(item, fields, strict=True):
                value = values[field]
                if field in text_fields and value is not None and not isinstance(value, str):
                    values[field] = written.get(str(key), value)
        rows.append((where, values))
    return rows


def _plain_scalars(node: Any) -> dict[str, str]:
    """A YAML mapping node's non-null scalar values as written, by key."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        str(key.value): value.value
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode)
        and isinstance(value, yaml.ScalarNode)
        and value.tag != "tag:yaml.org,2002:null"
    }


# --------------------------------------------------------------------------- names


def normalise_key(key: str) -> str:
    """A header name or key as a field name: lower case, trimmed, inner spaces as ``_``."""
    return re.sub(r"\s+", "_", key.strip().lower())


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice ``name`` most likely meant, or None when none is close.

    A choice that differs only in case or surrounding spaces (``'CCU'``, ``'EU-West '``) is
    taken first: an export's capitalisation is not a typo that similarity scores rank well.
    Then the one choice whose first part ``name`` is (``'cpu'`` for ``cpu_util``, ``'latency'``
    for ``latency_p99_ms``): similarity had offered ``ccu`` for ``'cpu'``.

    Parameters
    ----------
    name : str
        The name as written.
    choices : iterable of str
        The names known.

    Returns
    -------
    str or None
    """
    options = list(choices)
    folded = {choice.strip().casefold(): choice for choice in options}
    key = name.strip().casefold()
    if key in folded:
        return folded[key]
    parts = [choice for choice in folded if key and re.match(re.escape(key) + r"[_.-]", choice)]
    if len(parts) == 1:
        return folded[parts[0]]
    close = difflib.get_close_matches(key, list(folded), n=1)
    return folded[close[0]] if close else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the choice closest to ``name``, to follow the name in
    a message; empty when none is close."""
    close = closest(name, choices)
    return f" (did you mean {close!r}?)" if close is not None else ""


def suggest(name: str, choices: Sequence[str]) -> str:
    """``"did you mean 'x'? "`` for the choice closest to ``name``; empty when none is close."""
    close = closest(name, choices)
    return f"did you mean {close!r}? " if close is not None else ""


def _listing(found: Sequence[str]) -> str:
    return ", ".join(repr(f) for f in found) or "none"


def check_required(
    fields: Sequence[str],
    found: Sequence[str],
    *,
    required: Sequence[str],
    allowed: Sequence[str],
    what: str,
    source: str,
    where: str | None,
    needs: str = "",
) -> None:
    """Refuse the first required field missing from ``fields``.

    Parameters
    ----------
    fields, found : sequence of str
        The field names and, in the same order, the names as found in the file.
    required, allowed : sequence of str
        The required and the allowed field names.
    what : str
        ``"column"`` or ``"key"``.
    source, where : str
        The place, for error messages.
    needs : str
        Appended to the fix ``add the column 'x'`` when no found name is close to the missing one.

    Raises
    ------
    DataError
        Naming the missing field, and a found unknown name close to it when there is one.
    """
    for name in required:
        if name in fields:
            continue
        unknown = [f for f in fields if f not in allowed]
        close = difflib.get_close_matches(name, unknown, n=1, cutoff=0.6)
        _check_separator(found, what=what, source=source, where=where)
        if close:
            fix = f"rename {what} {found[list(fields).index(close[0])]!r} to {name!r}"
        else:
            fix = f"add the {what} {name!r}{needs}"
        raise DataError(
            f"required {what} {name!r} is missing; {what}s found: {_listing(found)}",
            source=source,
            where=where,
            fix=fix,
        )


def _check_separator(found: Sequence[str], *, what: str, source: str, where: str | None) -> None:
    """Refuse a header read as one field that holds another separator (``a;b;c``)."""
    separator = next((c for c in ";\t|" if len(found) == 1 and c in found[0]), None)
    if separator is not None:
        raise DataError(
            f"the header is one {what} holding {separator!r}: {found[0]!r}",
            source=source,
            where=where,
            fix=f"separate the {what}s with commas, not {separator!r}",
        )


def check_known(
    fields: Sequence[str],
    found: Sequence[str],
    *,
    allowed: Sequence[str],
    what: str,
    source: str,
    where: str | None,
    known: str,
) -> None:
    """Refuse the first field that is not allowed, suggesting a close allowed name.

    Parameters
    ----------
    fields, found : sequence of str
        As for :func:`check_required`.
    allowed : sequence of str
        The allowed field names.
    what, source, where
        As for :func:`check_required`.
    known : str
        The end of the fix, listing the allowed names.

    Raises
    ------
    DataError
        Naming the unknown (or empty) name.
    """
    for field, name in zip(fields, found, strict=True):
        if field not in allowed:
            _check_separator(found, what=what, source=source, where=where)
            raise DataError(
                f"unknown {what} {name!r}" if name.strip() else f"a {what} has an empty name",
                source=source,
                where=where,
                fix=f"{suggest(field, allowed)}{known}",
            )


def check_unique(
    fields: Sequence[str], found: Sequence[str], *, what: str, source: str, where: str | None
) -> None:
    """Refuse a field name that appears more than once (the first in sort order).

    Raises
    ------
    DataError
        Naming the repeated field.
    """
    repeated = sorted({f for f in fields if list(fields).count(f) > 1})
    if repeated:
        raise DataError(
            f"{what} {repeated[0]!r} appears more than once; {what}s found: {_listing(found)}",
            source=source,
            where=where,
            fix=f"keep one {repeated[0]!r} {what}",
        )


# --------------------------------------------------------------------------- values


def zone_meant(value: str) -> str | None:
    """The IANA zone a misspelt one most likely means: the same name in other case
    (``asia/tokyo``), or one a letter or two away (``Asia/HongKong``, ``Europe/Berin``)."""
    from zoneinfo import available_timezones

    zones = sorted(available_timezones())
    folded = {zone.casefold().replace("_", "").replace(" ", ""): zone for zone in zones}
    key = str(value).casefold().replace("_", "").replace(" ", "")
    if key in folded:
        return folded[key]
    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.85)
    return folded[close[0]] if close else None


def zone(
    tz: str | None, *, problem: str, fix: str | None = None, type_errors: bool = False
) -> ZoneInfo | None:
    """The time zone named ``tz``; None when ``tz`` is None.

    Parameters
    ----------
    tz : str or None
        An IANA time-zone name.
    problem, fix : str
        The error message and fix when ``tz`` is unknown.
    type_errors : bool
        Also refuse (rather than let escape) the TypeError of a ``tz`` that is not text.

    Raises
    ------
    ParameterError
        When ``tz`` is not a known time zone.
    """
    if tz is None:
        return None
    caught: tuple[type[Exception], ...] = (ZoneInfoNotFoundError, ValueError)
    if type_errors:
        caught = (*caught, TypeError)
    try:
        return ZoneInfo(tz)
    except caught:
        raise ParameterError(problem, fix=fix) from None


def is_missing(value: Any) -> bool:
    """Whether a value is missing: None, NaN/NaT/NA or blank text (a container never is)."""
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset | dict | np.ndarray):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def text(value: Any) -> str | None:
    """A value as trimmed text; None when missing."""
    if is_missing(value):
        return None
    return str(value).strip()


def shown(value: Any) -> str:
    """A value as shown in error messages: text trimmed, anything else as ``str``."""
    return value.strip() if isinstance(value, str) else str(value)


def show_ts(ts: pd.Timestamp) -> str:
    """A UTC timestamp as ``YYYY-MM-DD HH:MMZ``."""
    return f"{ts:%Y-%m-%d %H:%M}Z"


def parse_iso(value: str) -> dt.date | dt.datetime:
    """Parse ISO 8601 text: a date when it has no time, else a date-time (``z`` read as ``Z``).

    Raises
    ------
    ValueError
        When the text is neither.
    """
    value = value.strip()
    if DATE_RE.match(value):
        return dt.date.fromisoformat(value)
    return dt.datetime.fromisoformat(value.replace("z", "Z"))


def localise(
    naive: dt.datetime,
    zone: ZoneInfo,
    *,
    field: str,
    shown: str,
    source: str,
    where: str,
    fix: str | None = None,
) -> dt.datetime:
    """Read a naive date-time as wall-clock time in ``zone``.

    Raises
    ------
    DataError
        When the time does not exist there (clocks going forward) or occurs twice (clocks
        going back); ``fix`` is the fix shown, by default the time with each offset it could
        mean (:func:`offset_choice`).
    """
    early = naive.replace(tzinfo=zone, fold=0)
    late = naive.replace(tzinfo=zone, fold=1)
    if early.utcoffset() == late.utcoffset():
        return early
    back = early.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        problem = f"{field} {shown!r} does not exist in {zone.key} (the clocks skip it)"
    else:
        problem = f"{field} {shown!r} occurs twice in {zone.key} (the clocks go back)"
    if fix is None:
        fix = f"give the time with a UTC offset: {offset_choice(naive, zone)}"
    raise DataError(problem, source=source, where=where, fix=fix)


def offset_choice(naive: dt.datetime, zone: ZoneInfo) -> str:
    """``2026-10-25T02:30:00+01:00 or +02:00``: the moment with each offset its zone has
    around it (the clocks change within a couple of hours, so three hours either side)."""
    offsets: list[str] = []
    for hours in (-3, 3):
        offset = (naive + dt.timedelta(hours=hours)).replace(tzinfo=zone).utcoffset()
        text = naive.replace(tzinfo=dt.timezone(offset)).isoformat()[-6:]
        if text not in offsets:
            offsets.append(text)
    return f"{naive.isoformat()}{' or '.join(offsets)}"


def to_aware(
    parsed: dt.datetime,
    zone: ZoneInfo | None,
    *,
    field: str,
    shown: str,
    source: str,
    where: str,
    naive_fix: str,
    dst_fix: str | None = None,
) -> dt.datetime:
    """A date-time with a UTC offset: as given, or a naive one localised in ``zone``.

    Raises
    ------
    DataError
        When it is naive and ``zone`` is None (fix ``naive_fix``), or as :func:`localise`
        (fix ``dst_fix``, by default the time with each offset it could mean).
    """
    if parsed.tzinfo is not None and parsed.tzinfo.utcoffset(parsed) is not None:
        return parsed
    if zone is None:
        raise DataError(
            f"{field} {shown!r} has no time zone", source=source, where=where, fix=naive_fix
        )
    return localise(parsed, zone, field=field, shown=shown, source=source, where=where, fix=dst_fix)


#: The years a timestamp may fall in; anything else is a typo, and some would overflow.
_FIRST_YEAR, _LAST_YEAR = 1900, 2200


def utc_timestamp(
    aware: dt.datetime, *, field: str, shown: str, source: str, where: str, fix: str
) -> pd.Timestamp:
    """An aware date-time as a microsecond ``pandas.Timestamp`` in UTC.

    Raises
    ------
    DataError
        When it is outside the range pandas can hold.
    """
    try:
        stamp = pd.Timestamp(aware).tz_convert("UTC").as_unit("us")
    except (ValueError, OverflowError) as exc:
        raise DataError(
            f"{field} {shown!r} is out of range: {exc}", source=source, where=where, fix=fix
        ) from None
    if not _FIRST_YEAR <= stamp.year <= _LAST_YEAR:
        raise DataError(
            f"{field} {shown!r} is out of range: capacity plans years {_FIRST_YEAR} to "
            f"{_LAST_YEAR}",
            source=source,
            where=where,
            fix=fix,
        )
    return stamp


def duplicate_key(node: Any) -> tuple[str, int] | None:
    """The first key that a YAML mapping in ``node``'s tree repeats, and its line (1-based).

    YAML loaders keep the last of repeated keys without a word, so a region or an event field
    written twice would silently lose its first value. Only the keys written in a mapping
    count: a key that a merge key (``<<: *base``) brings in and the mapping then overrides is
    not a repeat. Give the tree as composed, before it is constructed, to have that exactly;
    in a constructed tree (where the merged keys have been copied into the mapping) a key is
    taken as written where the mapping's text holds it.
    """
    import yaml

    stack, visited = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in visited:  # an alias points back at a node already walked
            continue
        visited.add(id(current))
        if isinstance(current, yaml.MappingNode):
            seen: set[Any] = set()
            first, last = current.start_mark.index, current.end_mark.index
            for key, value in current.value:
                stack.append(value)
                if not first <= key.start_mark.index <= last:
                    continue  # merged in from a mapping elsewhere
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and name in seen:
                    return str(name), key.start_mark.line + 1
                seen.add(name)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None


def expanded_size(node: Any) -> int:
    """The number of values a composed YAML tree stands for with every alias written out.

    A scalar counts 1, a list or mapping 1 plus the sizes of its items (keys and values). Each
    node is sized once, by identity, so the count takes time in the size of the tree as
    written, not of what it stands for. An alias to a node that holds it counts 1: it is built
    as a reference back, not expanded.

    Parameters
    ----------
    node : yaml.Node
        The tree as composed (``yaml.SafeLoader.get_single_node``), before it is constructed.

    Returns
    -------
    int
    """
    import yaml

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # begun and not yet summed: the nodes above the one looked at
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if isinstance(current, yaml.MappingNode):
            children = [part for pair in current.value for part in pair]
        elif isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        else:
            sizes[key] = 1
            continue
        if children_done:
            sizes[key] = 1 + sum(sizes.get(id(child), 1) for child in children)
            open_nodes.discard(key)
        elif key not in sizes and key not in open_nodes:
            open_nodes.add(key)
            stack.append((current, True))
            stack.extend((child, False) for child in children)
    return sizes[id(node)]


def check_yaml_size(node: Any, *, source: str, error: type[InputError]) -> None:
    """Refuse a YAML file whose aliases stand for more than :data:`YAML_MAX_NODES` values.

    Parameters
    ----------
    node : yaml.Node
        The file's tree as composed, before it is constructed.
    source : str
        The file, for the message.
    error : type of InputError
        The error to raise: :class:`~capacity.errors.DataError` for a record file,
        :class:`~capacity.errors.ConfigError` for the fleet file.

    Raises
    ------
    InputError
        Of the type ``error``, when the written-out file would hold too many values.
    """
    size = expanded_size(node)
    if size <= YAML_MAX_NODES:
        return
    shown = f"{size:,}" if size < 10**15 else f"over 10^{len(str(size)) - 1}"
    raise error(
        f"its anchors and aliases stand for {shown} values once written out, more than the "
        f"{YAML_MAX_NODES:,} a YAML file may hold (aliases nested in aliases multiply)",
        source=source,
        fix="write the values out instead of nesting aliases",
    )
