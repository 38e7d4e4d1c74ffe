"""The fleet configuration: regions, services, server types, SLOs, redundancy and failover.

Loaded from YAML by :func:`load_fleet` and validated once, on load: unknown keys, wrong types,
unknown names and failover shares that do not sum to one are refused with a
:class:`~capacity.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import difflib
import math
import re
import urllib.parse
from pathlib import Path
from typing import Any, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from capacity.columns import ALL_REGIONS, DEMAND_METRICS, METRICS
from capacity.errors import ConfigError, ParameterError
from capacity.records import check_yaml_size, duplicate_key
from capacity.units import parse_duration

__all__ = [
    "FleetConfig",
    "PrometheusSource",
    "Redundancy",
    "Region",
    "ServerType",
    "Service",
    "Slo",
    "load_fleet",
    "parse_fleet",
    "redact_url",
    "url_problem",
]

_SHARE_TOLERANCE = 1e-6
#: The longest a request to Prometheus may be allowed to take: an hour.
MAX_TIMEOUT_SECONDS = 3600
#: The user (and password) part of a URL's authority, ``scheme://userinfo@``, taken up to
#: the URL's last '@': a password with an unencoded '/', '?' or '#' ends the authority early,
#: and stopping there would show the rest of it.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?.*@")
#: A Prometheus label name, as its data model defines one.
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
#: The fleet file's schema version this release reads.
SUPPORTED_VERSION = 1
#: The fix named for a key whose own check failed (a ``value_error``), where one helps.
_VALUE_FIXES = {
    "version": f"write version: {SUPPORTED_VERSION} for a fleet file in this release's format "
    "(README, Configuration), or upgrade capacity to read the newer one",
}
#: What to do about an empty or malformed fleet file: the demo's file is only where the
#: repository is checked out, while ``capacity demo`` writes a commented one anywhere.
_START_FIX = (
    "start from the commented example that 'capacity demo --out DIR' writes to DIR/fleet.yaml, "
    "or from the README's Configuration section"
)
#: Pydantic's range checks: the bound's name in the error's context, and how it reads.
_BOUNDS = {
    "greater_than_equal": ("ge", "must be {} or more", "write {} or more"),
    "greater_than": ("gt", "must be more than {}", "write a number above {}"),
    "less_than": ("lt", "must be less than {}", "write a number below {}"),
}
#: The longest lead times a server type may have: a year to procure, a day to boot.
MAX_PROCUREMENT_DAYS = 365
MAX_BOOT_MINUTES = 1440
#: The highest cost per server-hour read, in the fleet's currency: higher is a typo.
MAX_COST_PER_HOUR = 1e6
#: The longest name of the fleet's currency (``USD``, ``EUR``, ``credits``).
MAX_CURRENCY_CHARS = 12


class _Strict(BaseModel):
    # allow_inf_nan=False: YAML's .inf and .nan are refused on load, naming the key
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Region(_Strict):
    """A region of the fleet.

    ``timezone`` is the IANA zone its players live in; ``holidays_country`` the ISO country
    code whose public holidays shape its demand.
    """

    timezone: str
    holidays_country: str | None = None

    @field_validator("holidays_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import holidays

        if str(value).upper() not in holidays.list_supported_countries():
            raise ValueError(
                f"unknown holidays country {value!r}; use an ISO 3166-1 alpha-2 code the "
                "holidays package knows, such as 'DE' or 'US'"
            )
        return str(value).upper()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            from capacity.records import zone_meant

            meant = zone_meant(value)
            raise ValueError(
                f"unknown time zone {value!r}"
                + (f" (did you mean {meant!r}?)" if meant else "")
                + "; use an IANA name such as 'Europe/Berlin'"
            ) from exc
        return value


class Slo(_Strict):
    """Service level objectives of a service."""

    latency_p99_ms: float = Field(gt=0)
    availability: float = Field(gt=0, lt=1)


class ServerType(_Strict):
    """A kind of server: what it safely holds, what it costs and how long it takes to add.

    Every number is finite; the boot lead is at most a day (:data:`MAX_BOOT_MINUTES`), the
    procurement lead at most a year (:data:`MAX_PROCUREMENT_DAYS`) and the cost at most
    :data:`MAX_COST_PER_HOUR`.
    """

    safe_load_hint: float = Field(gt=0)
    cost_per_hour: float = Field(ge=0, le=MAX_COST_PER_HOUR)
    boot_lead_time_minutes: float = Field(ge=0, le=MAX_BOOT_MINUTES)
    procurement_lead_time_days: float = Field(default=0, ge=0, le=MAX_PROCUREMENT_DAYS)


class Service(_Strict):
    """A service: the metric that measures its demand, its server type and its SLO."""

    demand_metric: str
    server_type: str
    slo: Slo

    @field_validator("demand_metric")
    @classmethod
    def _demand_metric(cls, value: str) -> str:
        if value not in DEMAND_METRICS:
            raise ValueError(f"must be one of {', '.join(DEMAND_METRICS)}; got {value!r}")
        return value


class Redundancy(_Strict):
    """The N+k rule: ``k`` spare servers per region/service, never fewer than ``min_servers``."""

    k: int = Field(default=1, ge=0)
    min_servers: int = Field(default=2, ge=1)


class PrometheusSource(_Strict):
    """Where ``capacity pull`` reads telemetry: a Prometheus server and one query per metric.

    Each query must return one series per region and service, labelled with them (by default
    the labels ``region`` and ``service``), e.g. ``sum by (region, service) (players_online)``.
    ``url`` is the server's base URL, optionally with a path (``http://host/prometheus``) and
    a user and password for HTTP basic auth, which are never shown or stored (see
    :func:`redact_url`); it takes no query string or fragment. ``step`` is the resolution the
    queries are evaluated at (at most an hour: the store rolls values up to hours),
    ``timeout_seconds`` how long one request may take (at most an hour).
    """

    url: str | None = None
    queries: dict[str, str]
    step: str = "5m"
    region_label: str = "region"
    # checked when left out too: it must differ from a region_label given as 'service'
    service_label: str = Field(default="service", validate_default=True)
    timeout_seconds: float = Field(default=60, gt=0, le=MAX_TIMEOUT_SECONDS)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None:
            problem = url_problem(value)
            if problem is not None:
                raise ValueError(f"{problem}; got {redact_url(value)!r}")
        return value

    @field_validator("queries")
    @classmethod
    def _known_metrics(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError(f"name at least one metric's query ({', '.join(METRICS)})")
        for metric, query in value.items():
            if metric not in METRICS:
                raise ValueError(f"unknown metric {metric!r}; capacity reads {', '.join(METRICS)}")
            if not str(query).strip():
                raise ValueError(f"the query for {metric!r} is empty")
        return value

    @field_validator("region_label", "service_label")
    @classmethod
    def _label(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip() or value != value.strip():
            raise ValueError(
                f"must be the name of a label, such as {info.field_name.split('_')[0]!r}; "
                f"got {value!r}"
            )
        if not _LABEL_NAME.fullmatch(value):
            bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c == "_"))})
            why = (
                f"has {', '.join(repr(c) for c in bad)}"
                if bad
                else f"starts with the digit {value[0]!r}"
            )
            raise ValueError(
                f"{value!r} is not a Prometheus label name: it {why}, where a label name is "
                "letters, digits and underscores ([a-zA-Z_][a-zA-Z0-9_]*), not starting with a "
                "digit"
            )
        if info.field_name == "service_label" and value == info.data.get("region_label"):
            raise ValueError(
                f"must differ from region_label (both are {value!r}): a series' region and "
                "service would be one label's value; set each to the label that names it"
            )
        return value

    @field_validator("step")
    @classmethod
    def _step(cls, value: str) -> str:
        try:
            step = parse_duration(value, "step")
        except ParameterError:
            raise ValueError(f"must be a duration such as '5m' or '1h'; got {value!r}") from None
        if step < pd.Timedelta(seconds=1) or step > pd.Timedelta(hours=1):
            raise ValueError(f"must be between 1s and 1h; got {value!r}")
        return value


class FleetConfig(_Strict):
    """The whole fleet configuration. Build it with :func:`load_fleet` or :func:`parse_fleet`.

    ``currency`` (optional) names the unit every ``cost_per_hour`` is in, for the reports'
    cost columns; without it they say the costs are in the fleet file's cost units, as
    nothing else tells which currency the numbers are in.
    """

    version: int = SUPPORTED_VERSION
    currency: str | None = None
    regions: dict[str, Region]
    services: dict[str, Service]
    server_types: dict[str, ServerType]
    current_servers: dict[str, dict[str, int]]
    redundancy: Redundancy = Redundancy()
    failover: dict[str, dict[str, float]]
    prometheus: PrometheusSource | None = None
    #: Where the configuration was read from (the fleet file), for errors found after loading.
    _source: str = PrivateAttr(default="<fleet config>")

    @field_validator("version")
    @classmethod
    def _supported(cls, value: int) -> int:
        if value != SUPPORTED_VERSION:
            raise ValueError(
                f"unsupported version {value}; this release of capacity reads version "
                f"{SUPPORTED_VERSION}"
            )
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if not text or len(text) > MAX_CURRENCY_CHARS or not text.isprintable():
            raise ValueError(
                f"must be a short name of the unit cost_per_hour is in, such as 'USD' or "
                f"'EUR' (1 to {MAX_CURRENCY_CHARS} characters); got {value!r}"
            )
        return text

    @model_validator(mode="after")
    def _consistent(self) -> FleetConfig:
        if not self.regions:
            raise ValueError("regions: at least one region is required")
        if not self.services:
            raise ValueError("services: at least one service is required")
        # 'all' is every region to calendars (in any case) and --regions, and the overall
        # row of kpis: a region or service of that name could not be told apart from them
        readers = {
            "regions": "calendars, --regions and the kpis' overall rows read 'all' (in any "
            "case) as every region",
            "services": "the kpis' overall rows name every service 'all'",
        }
        for section, names in (("regions", self.regions), ("services", self.services)):
            for name in names:
                if name.strip().lower() == ALL_REGIONS:
                    raise ValueError(
                        f"{section}.{name}: {name!r} cannot name a {section[:-1]}: "
                        f"{readers[section]}"
                    )
        for name, service in self.services.items():
            if service.server_type not in self.server_types:
                raise ValueError(
                    f"services.{name}.server_type: unknown server type {service.server_type!r}; "
                    f"known: {', '.join(sorted(self.server_types))}"
                )
        for region, per_service in self.current_servers.items():
            _known("current_servers", region, self.regions, "region")
            for service, count in per_service.items():
                _known(f"current_servers.{region}", service, self.services, "service")
                if count < 0:
                    raise ValueError(
                        f"current_servers.{region}.{service}: must be >= 0; got {count}"
                    )
        for region, shares in self.failover.items():
            _known("failover", region, self.regions, "region")
            for target, share in shares.items():
                _known(f"failover.{region}", target, self.regions, "region")
                if target == region:
                    raise ValueError(f"failover.{region}: a region cannot fail over to itself")
                if not 0 <= share <= 1:
                    raise ValueError(
                        f"failover.{region}.{target}: share must be in [0, 1]; got {share}"
                    )
            total = math.fsum(shares.values())
            if abs(total - 1) > _SHARE_TOLERANCE:
                raise ValueError(f"failover.{region}: shares must sum to 1; they sum to {total:g}")
        # A partial map is most likely a region forgotten: its loss would go unplanned.
        # An empty one (no failover planned at all) is allowed and reported as such.
        missing = [region for region in self.regions if region not in self.failover]
        if self.failover and missing:
            raise ValueError(
                f"failover: no entry for {', '.join(missing)}; once failover is given, every "
                "region needs one (shares summing to 1), so that its loss is planned for. "
                "Add it, or leave failover empty ({}) to plan no failover at all"
            )
        return self

    @property
    def source(self) -> str:
        """The fleet file this configuration was loaded from (``parse_fleet``'s ``source``)."""
        return self._source

    def servers_now(self, region: str, service: str) -> int:
        """Servers currently running for ``region``/``service``.

        Raises
        ------
        ConfigError
            When ``current_servers`` has no count for the pair: read as 0, it would ask for
            a whole fleet of servers to be bought. Like the errors found on load, it names
            the fleet file and the key.
        """
        count = self.current_servers.get(region, {}).get(service)
        if count is None:
            raise ConfigError(
                f"no count of the servers running for {region}/{service}",
                source=self._source,
                where=f"key 'current_servers.{region}.{service}'",
                fix=(
                    "add it (0 where the service does not run there yet: every service is "
                    "planned in every region, docs/own-fleet.md)"
                ),
            )
        return count

    def server_type_of(self, service: str) -> ServerType:
        """The server type that ``service`` runs on."""
        return self.server_types[self.services[service].server_type]

    def demand_series(self) -> list[tuple[str, str, str]]:
        """Every ``(region, service, demand metric)`` the fleet plans, regions first."""
        return [
            (region, name, service.demand_metric)
            for region in self.regions
            for name, service in self.services.items()
        ]


def url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a Prometheus base URL, or None when nothing is.

    Parameters
    ----------
    url : str
        The URL as given, e.g. ``http://prometheus:9090`` or ``https://host/prometheus``.

    Returns
    -------
    str or None
        What the URL must be, for a message that goes on to show it (with
        :func:`redact_url`): a scheme other than http(s) is refused, and so is a query string
        or fragment, which would end up in the middle of the address once the API path is
        appended, a '/', '?' or '#' left unencoded in a user or password (it would end the
        host early), a space, no host or a malformed one (an unclosed ``[``), and a port that
        is not a number from 1 to 65535.
    """
    if not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    rest = url.split("://", 1)[1]
    if rest.rfind("@") >= len(re.split(r"[/?#]", rest, maxsplit=1)[0]):
        # http://admin:s3/cret@host: the host would be 'admin', the rest a path
        return (
            "must have any '/', '?' or '#' in its user or password percent-encoded (%2F, %3F, "
            "%23), and no '@' after the host"
        )
    if "?" in url or "#" in url:
        return (
            "must have no query string or fragment ('?...' or '#...'), as the API path "
            "(/api/v1/query_range) is appended to it"
        )
    if any(character.isspace() for character in url):
        return "must have no spaces, tabs or line breaks (percent-encode one in a path: %20)"
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # an unclosed '[', or brackets around what is no IPv6 address
        return (
            "must have a host name or address, an IPv6 address in brackets "
            "(http://[::1]:9090), with nothing else in brackets"
        )
    if not parts.hostname:
        return "must name the server's host after the scheme, as in http://prometheus:9090"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return "must have a port from 1 to 65535 after the host's ':', or no ':' at all"
    return None


def redact_url(url: str) -> str:
    """``url`` with any user and password replaced by ``***``, for messages and records.

    Parameters
    ----------
    url : str
        A URL, e.g. ``http://admin:s3cret@prometheus:9090``.

    Returns
    -------
    str
        The same URL without its credentials, e.g. ``http://***@prometheus:9090``.
    """
    return _USERINFO.sub(r"\1***@", url)


def _known(key: str, name: str, known: dict[str, Any], what: str) -> None:
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.88)
        meant = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"{key}: unknown {what} {name!r}{meant}; known: {', '.join(sorted(known))}"
        )


def parse_fleet(data: Any, *, source: str = "<fleet config>") -> FleetConfig:
    """Validate an already-parsed fleet mapping.

    Parameters
    ----------
    data : Any
        The mapping read from YAML.
    source : str
        Where it came from, for error messages.

    Returns
    -------
    FleetConfig
        The validated configuration.

    Raises
    ------
    ConfigError
        When a key is unknown or missing, a value has the wrong type or range, or names are
        inconsistent (unknown regions, services or server types, shares not summing to one).
    """
    if data is None:
        raise ConfigError("the file is empty", source=source, fix=_START_FIX)
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of keys; got {type(data).__name__}",
            source=source,
            fix=_START_FIX,
        )
    try:
        config = FleetConfig.model_validate(data)
        config._source = str(source)
        return config
    except ValidationError as exc:
        errors = exc.errors()
        err = errors[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            problem, fix = "unknown key", "remove it or check its spelling"
            name = str(err["loc"][-1]) if err["loc"] else ""
            close = difflib.get_close_matches(name, _keys_beside(err["loc"]), n=1, cutoff=0.75)
            if close:
                problem = f"unknown key (did you mean {close[0]!r}?)"
                fix = f"spell it {close[0]!r}"
        elif kind == "missing":
            problem, fix = "required key is missing", "add it"
            if tuple(err["loc"]) == ("failover",):
                # a fleet of one region has nowhere to send its players, but still says so
                fix = (
                    "add it: per region, the shares of its players each other region takes "
                    "when it is lost (failover: {} plans no failover, as for a single region)"
                )
            # a misspelt key is both missing and unknown: name the spelling that was used
            name = str(err["loc"][-1]) if err["loc"] else ""
            for other in errors[1:]:
                found = str(other["loc"][-1]) if other["loc"] else ""
                if (
                    other["type"] == "extra_forbidden"
                    and other["loc"][:-1] == err["loc"][:-1]
                    and difflib.get_close_matches(found, [name], n=1, cutoff=0.75)
                ):
                    problem = f"required key is missing; {found!r} is there instead"
                    fix = f"spell it {name!r}"
                    break
        elif kind == "string_type" and isinstance(err.get("input"), bool):
            problem = f"{err['msg']}; got {err.get('input')!r}"
            fix = "quote it ('NO', 'yes', 'on' and 'off' unquoted are true or false in YAML)"
        elif kind == "string_type" and isinstance(err.get("input"), int | float):
            problem = f"must be text; got the number {err.get('input')!r}"
            fix = f"write the name meant (quoted, '{err.get('input')}', if it is that number)"
            if key == "prometheus.step":  # Prometheus's own API takes seconds as a number
                fix = f"write it with its unit: '{err.get('input')}s' for seconds, or '5m'"
        elif kind in ("int_type", "float_type") and isinstance(err.get("input"), str):
            problem = f"{err['msg']}; got the text {err.get('input')!r}"
            fix = (
                "write the number without quotes"
                if _is_number(err["input"])
                else "write a number (e.g. 1200, or 0.5)"
            )
        elif kind in ("int_type", "float_type") and isinstance(err.get("input"), bool):
            problem = f"{err['msg']}; got {err.get('input')!r}"
            fix = "write a number ('true', 'yes' and 'on' unquoted are booleans in YAML)"
        elif kind == "finite_number":
            problem = f"must be a finite number; got {err.get('input')!r}"
            fix = "write a number (.inf and .nan in YAML are infinity and not-a-number)"
        elif kind == "less_than_equal":
            problem = f"{err['msg']}; got {err.get('input')!r}"
            bound = err.get("ctx", {}).get("le")
            whole = isinstance(bound, int | float) and float(bound).is_integer()
            shown = int(bound) if whole else bound  # 365, not 365.0, for whole days
            fix = f"write at most {shown} (see the README's configuration section)"
        elif kind in _BOUNDS:
            name, must, write = _BOUNDS[kind]
            bound = err.get("ctx", {}).get(name)
            shown = int(bound) if float(bound).is_integer() else bound
            problem = f"{must.format(shown)}; got {err.get('input')!r}"
            fix = write.format(shown)
            if key == "redundancy.k":
                fix += " (k is how many spare servers each region and service keeps)"
            elif key.endswith(".slo.availability"):
                fix += " (a fraction such as 0.999; 1 would leave no error budget)"
        elif kind == "int_type" and isinstance(err.get("input"), float):
            problem = f"{err['msg']}; got {err.get('input')!r}"
            fix = "write a whole number without a decimal point"
        elif kind == "value_error":
            message = str(err.get("ctx", {}).get("error", err["msg"]))
            if ": " in message and key == "(top level)":
                key, message = message.split(": ", 1)
            problem, fix = message, _VALUE_FIXES.get(key) or _value_fix(key, message)
        elif isinstance(err.get("input"), list | dict):
            what = "a list" if isinstance(err["input"], list) else "a mapping"
            problem = f"{err['msg']}; got {what}, {err['input']!r}"
            fix = "write one value there (see the README's configuration section)"
        else:
            problem = f"{err['msg']}; got {err.get('input')!r}"
            fix = "see the README's configuration section for what the key takes"
        raise ConfigError(problem, source=source, where=f"key '{key}'", fix=fix) from None


def _is_number(text: str) -> bool:
    """Whether ``text`` reads as a number (``'1'`` quoted in the YAML), not a word."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _value_fix(key: str, message: str) -> str | None:
    """The fix for a cross-key check that failed (``failover``, ``current_servers``)."""
    if key.startswith("failover.") and "must sum to 1" in message:
        fix = (
            f"change the shares under {key} so they add up to 1 (each is the fraction of "
            f"{key.split('.', 1)[1]}'s players that region takes over)"
        )
        total = float(message.rsplit(" ", 1)[-1])
        if abs(total - 1) < 0.01:
            # thirds or sevenths rounded to a few places never sum to 1 exactly
            fix += "; for rounded shares, write the last one as 1 minus the others"
        return fix
    if key.startswith("failover.") and "cannot fail over to itself" in message:
        lost = key.split(".", 1)[1]
        return (
            f"under {key}, name the other regions that take {lost}'s players when it is lost; "
            "a fleet of one region has no other: write failover: {}"
        )
    if key.startswith("failover.") and "must be in [0, 1]" in message:
        return "write each share as a fraction: 0.6 for 60% of the region's players"
    if key.startswith("current_servers.") and "must be >= 0" in message:
        return "write the servers running there now: 0 or more"
    if key in ("prometheus.region_label", "prometheus.service_label"):
        named = re.match(r"'(.*)' is not a Prometheus label name", message)
        if named:
            like = re.sub(r"[^a-zA-Z0-9_]", "_", named.group(1))
            like = like if _LABEL_NAME.fullmatch(like) else f"_{like}"
            return (
                "write the label's name as the series carry it in Prometheus and the queries' "
                f"by (...) lists name it, e.g. {like} (an OpenTelemetry attribute such as "
                "service.name is stored as service_name)"
            )
        return None
    if key.endswith(".demand_metric"):
        return (
            "write ccu where the service's servers hold players (concurrent users) or rps where "
            "they serve requests per second, and export that metric under the same name"
        )
    if "cannot name a" in message and "'all'" in message:
        if key.startswith("regions."):
            return (
                "rename that region, under regions, current_servers and failover alike, and "
                "load its telemetry under the new name"
            )
        return (
            "rename that service, under services and current_servers alike, and load its "
            "telemetry under the new name"
        )
    for what, section in (("region", "regions"), ("service", "services")):
        if message.startswith(f"unknown {what} "):
            return f"spell it as under {section}, or add it there"
    if key.endswith(".server_type") and "unknown server type" in message:
        return "name one of those, or describe the new type under server_types"
    return None


def _submodel(annotation: Any) -> tuple[type[BaseModel], int] | None:
    """The model a field's type holds, and how many mapping keys (``dict[str, Model]``) lie
    between the field and that model; None for a field of plain values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, 0
    for arg in get_args(annotation):
        found = _submodel(arg)
        if found is not None:
            return found[0], found[1] + (get_origin(annotation) is dict)
    return None


def _keys_beside(loc: tuple[Any, ...]) -> list[str]:
    """The keys the fleet file allows where the key at ``loc`` was found (for a
    did-you-mean); empty where the keys are names (regions, services) or unknown."""
    model: type[BaseModel] = FleetConfig
    parts = list(loc[:-1])
    while parts:
        field = model.model_fields.get(str(parts.pop(0)))
        found = _submodel(field.annotation) if field is not None else None
        if found is None or len(parts) < found[1]:
            return []
        model, depth = found
        del parts[:depth]
    return list(model.model_fields)


def _not_text(path: Path, exc: UnicodeDecodeError) -> ConfigError:
    """The error for a fleet file that is not UTF-8: a store or another binary file given
    in its place is named as such, not told to be saved as UTF-8."""
    head = exc.object[:4096] if isinstance(exc.object, bytes) else b""
    if head[8:12] == b"DUCK":  # a DuckDB database's header
        return ConfigError(
            "a DuckDB database (a capacity store?), not a fleet YAML",
            source=str(path),
            fix="give the fleet YAML here; a store is given as --db (Store(...) in Python)",
        )
    if b"\0" in head:
        return ConfigError(
            "a binary file, not a fleet YAML",
            source=str(path),
            fix="give the fleet YAML here (data/demo/fleet.yaml is an example)",
        )
    return ConfigError(
        f"not UTF-8 text (byte {exc.start}): {exc.reason}",
        source=str(path),
        fix="save the fleet YAML as UTF-8",
    )


def load_fleet(path: str | Path) -> FleetConfig:
    """Read and validate a fleet configuration YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file (``~`` is the home folder, as in a shell).

    Returns
    -------
    FleetConfig
        The validated configuration.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid YAML, stands for more than
        :data:`~capacity.records.YAML_MAX_NODES` values once its aliases are written out, or
        fails validation.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "file not found",
            source=str(path),
            fix="give the path of an existing fleet YAML",
        ) from None
    except UnicodeDecodeError as exc:
        raise _not_text(path, exc) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot be read: {exc.strerror or exc}",
            source=str(path),
            fix="check the path and its permissions",
        ) from None
    # One parse: the node tree finds repeated keys, and the same tree builds the values.
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            check_yaml_size(root, source=str(path), error=ConfigError)
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(
            f"not valid YAML: {problem}",
            source=str(path),
            where=where,
            fix="correct the YAML syntax",
        ) from None
    finally:
        loader.dispose()
    repeated = duplicate_key(root) if root is not None else None
    if repeated is not None:
        raise ConfigError(
            f"key {repeated[0]!r} appears twice in one mapping",
            source=str(path),
            where=f"line {repeated[1]}",
            fix="keep one of them (YAML would silently use the last)",
        )
    return parse_fleet(data, source=str(path))
