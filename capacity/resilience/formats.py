"""The logs' two formats, CSV and YAML: a file's records, each with the line it is on, its
header or keys matched to the fields of an incident or a deploy log, and a file of another kind
(a deploy log given as incidents, a live-ops calendar) refused by name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capacity import records as rec
from capacity.columns import REGION, SERVICE
from capacity.errors import DataError
from capacity.resilience.columns import (
    CAUSE,
    CHANGE,
    DEPLOY_COLUMNS,
    DEPLOY_ID,
    DEPLOYED_AT,
    DETECTED_AT,
    INCIDENT_COLUMNS,
    INCIDENT_ID,
    RESOLVED_AT,
    SEVERITY,
    STARTED_AT,
)

_EXTENSIONS = (".csv", ".yaml", ".yml")


@dataclass(frozen=True)
class Spec:
    """What one kind of log looks like."""

    noun: str  # "incident" or "deploy"
    yaml_key: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    texts: tuple[str, ...]  # YAML fields kept as written, never read as numbers


INCIDENTS = Spec(
    "incident",
    "incidents",
    INCIDENT_COLUMNS,
    (INCIDENT_ID, REGION, SERVICE, SEVERITY, STARTED_AT, DETECTED_AT, RESOLVED_AT),
    (INCIDENT_ID, CAUSE, DEPLOY_ID),
)
DEPLOYS = Spec(
    "deploy",
    "deploys",
    DEPLOY_COLUMNS,
    (DEPLOY_ID, REGION, SERVICE, DEPLOYED_AT),
    (DEPLOY_ID, CHANGE),
)


@dataclass(frozen=True)
class Raw:
    """One record of a log as read: where it is (its line) and its values by field."""

    where: str
    values: Mapping[str, Any]


def read_records(path: Path, spec: Spec) -> tuple[str, list[Raw]]:
    """The file's name and its records, the format picked by the extension."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in _EXTENSIONS:
        raise DataError(
            f"unsupported file type {suffix or '(none)'!r}",
            source=source,
            fix=f"give the {spec.noun} log as a .csv, .yaml or .yml file",
        )
    text = rec.read_text(path)
    if suffix == ".csv":
        return source, _csv_records(text, source=source, spec=spec)
    return source, _yaml_records(text, source=source, spec=spec)


def _match_fields(
    found: Sequence[str], *, source: str, where: str | None, spec: Spec, what: str
) -> list[str]:
    """Map found column (or key) names to field names; refuse missing, unknown and repeated."""
    fields = [rec.normalise_key(name) for name in found]
    place: dict[str, Any] = {"what": what, "source": source, "where": where}
    log = f"{'an' if spec.noun[0] in 'aeiou' else 'a'} {spec.noun} log"
    _check_kind(fields, spec=spec, log=log, what=what, source=source, where=where)
    known = f"the {what}s of {log} are {', '.join(spec.fields)}"
    rec.check_known(fields, found, allowed=spec.fields, known=known, **place)
    rec.check_unique(fields, found, **place)
    needs = f"; {log} needs {', '.join(spec.required)}"
    missing = next((name for name in spec.required if name not in fields), None)
    if missing == RESOLVED_AT:
        # an open incident has the field, empty: left out, a forgotten resolution would
        # read as an incident still open
        empty = f"with no value, '{RESOLVED_AT}:'," if what == "key" else "with the field empty"
        needs = f" ({empty} for an incident still open){needs}"
    rec.check_required(
        fields, found, required=spec.required, allowed=spec.fields, needs=needs, **place
    )
    return fields


#: Required fields that only one kind of file has, the command that imports it and the
#: function that reads it: a file of another kind given to a log's reader is named for what it
#: is (when it has all of that kind's fields and none of the log's own).
_KINDS = (
    ("an incident log", {INCIDENT_ID, STARTED_AT}, "incidents import", "read_incidents"),
    ("a deploy log", {DEPLOYED_AT}, "deploys import", "read_deploys"),
    (
        "a live-ops calendar",
        {"start", "end", "kind"},
        "events import",
        "capacity.calendar.read_calendar",
    ),
)


def _check_kind(
    fields: Sequence[str], *, spec: Spec, log: str, what: str, source: str, where: str | None
) -> None:
    """Refuse a file of another kind (a deploy log given as incidents, a calendar) by name."""
    found = set(fields)
    own = next(marks for name, marks, _, _ in _KINDS if name == log)
    if found & own:
        return
    for name, marks, command, reader in _KINDS:
        if name != log and marks <= found:
            raise DataError(
                f"the {what}s ({', '.join(sorted(marks))}) are those of {name}, not of {log}",
                source=source,
                where=where,
                fix=f"import it with 'capacity {command}' ({reader} in Python), or give "
                f"{log} with the {what}s {', '.join(spec.fields)}",
            )


def _match_for(source: str, spec: Spec) -> rec.Matcher:
    def match(found: list[str], what: str, where: str | None) -> list[str]:
        return _match_fields(found, source=source, where=where, spec=spec, what=what)

    return match


def _csv_records(text: str, *, source: str, spec: Spec) -> list[Raw]:
    rows = rec.csv_rows(
        text,
        source=source,
        empty_fix=f"start with the header line {','.join(spec.fields)}",
        match=_match_for(source, spec),
    )
    return [Raw(f"line {line}", values) for line, values in rows]


def _yaml_records(text: str, *, source: str, spec: Spec) -> list[Raw]:
    key = spec.yaml_key

    def where_of(number: int, item: Any, line: int | None) -> str:
        return f"line {line}" if line is not None else f"{spec.noun} {number}"

    rows = rec.yaml_rows(
        text,
        source=source,
        key=key,
        noun=spec.noun,
        empty_fix=f"write a list of {key}, or '{key}: []' for none",
        list_fix=f"write a list of {key}, or a mapping with the key {key!r}",
        where_of=where_of,
        match=_match_for(source, spec),
        text_fields=spec.texts,
        other_kinds=_other_kinds(spec),
    )
    return [Raw(where, values) for where, values in rows]


#: The top-level YAML key of each kind of file in :data:`_KINDS`.
_YAML_KEYS = {
    "an incident log": "incidents",
    "a deploy log": "deploys",
    "a live-ops calendar": "events",
}


def _other_kinds(spec: Spec) -> dict[str, tuple[str, str]]:
    """The top-level YAML keys of the other kinds of file, with the problem and fix to report:
    a deploy log given as incidents was told to put the incidents under 'incidents'."""
    log = f"{'an' if spec.noun[0] in 'aeiou' else 'a'} {spec.noun} log"
    return {
        _YAML_KEYS[name]: (
            f"the top-level key {_YAML_KEYS[name]!r} is that of {name}, not of {log}",
            f"import it with 'capacity {command}' ({reader} in Python), or give {log}: a list "
            f"under the key {spec.yaml_key!r}",
        )
        for name, _, command, reader in _KINDS
        if name != log
    }
