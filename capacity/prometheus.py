"""Telemetry from a Prometheus server's HTTP API.

The fleet file's ``prometheus`` section (:class:`~capacity.config.PrometheusSource`) names one
PromQL query per capacity metric. :func:`pull` evaluates each over a time range with
``/api/v1/query_range`` at a fixed step, in requests small enough for Prometheus's limit of
11,000 points per series, and returns long telemetry rows for
:meth:`capacity.store.Store.ingest_frame`, which checks and loads them in one transaction.

Every query must return at most one series per region and service, labelled with both (by
default the labels ``region`` and ``service``): aggregate with ``sum by (region, service)``
or ``avg by (region, service)``. Samples that are NaN (no data behind a ratio, say) are gaps,
not values. A query Prometheus refuses is a :class:`~capacity.errors.ConfigError` naming its
key, and so is one that returns anything but float samples (native histograms, say); a
server that cannot be reached, fails, or drops the connection part-way is a
:class:`~capacity.errors.SourceUnavailableError`,
but an https certificate that cannot be verified (trusted with ``REQUESTS_CA_BUNDLE``) is a
``ConfigError`` naming the URL.
A user and password in the server's URL are sent as HTTP basic auth and shown, in messages
and in :attr:`Pull.url`, as ``***``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import requests

from capacity.columns import (
    COUNT_METRICS,
    CPU_UTIL,
    DEMAND_METRICS,
    ERROR_RATE,
    METRIC,
    REGION,
    SERVICE,
    TS,
    VALUE,
)
from capacity.config import FleetConfig, PrometheusSource, redact_url, url_problem
from capacity.errors import ConfigError, DataError, ParameterError, SourceUnavailableError
from capacity.records import closest
from capacity.texts import first_few
from capacity.units import parse_duration, parse_timestamp

__all__ = [
    "MAX_POINTS",
    "STOPPED_AFTER",
    "Pull",
    "first_pulls",
    "pull",
    "pull_notes",
    "pull_window",
    "query_range",
    "raw_counters",
]

#: Points per series in one request; Prometheus refuses more than 11,000.
MAX_POINTS = 10_000
#: How far back a first pull reaches: the forecaster's training window.
FIRST_PULL = pd.Timedelta(days=112)
#: A demand series whose newest sample is older than this before the pull's end has stopped.
STOPPED_AFTER = pd.Timedelta(hours=1)
_API = "/api/v1/query_range"
#: PromQL's lists of label names: ``by (region, service)``, ``on (instance)``.
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
#: PromQL string literals: double- or single-quoted with backslash escapes, or backquoted.
_STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`")


class _TooManySamples(Exception):
    """Prometheus would load more samples than its ``--query.max-samples`` for one request."""


class _NoConnection(Exception):
    """The request got no answer: no connection, or one that broke (the reason is the text)."""


@dataclass(frozen=True)
class Pull:
    """What :func:`pull` read.

    Attributes
    ----------
    rows : pandas.DataFrame
        Long telemetry: ``ts, region, service, metric, value``.
    start, end : pandas.Timestamp
        The first and last evaluation time (UTC).
    step : pandas.Timedelta
        The resolution.
    empty : tuple of str
        Metrics whose query returned no sample in the range.
    requests : int
        HTTP requests made.
    url : str
        The server asked, without the user and password its URL may carry.
    missing : tuple of (str, tuple of (str, str))
        Per metric that returned samples, the region/service pairs that other metrics of the
        pull returned samples for and it did not (a ratio query whose numerator has no
        series for them, say), sorted; metrics missing none are left out.
    """

    rows: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    step: pd.Timedelta
    empty: tuple[str, ...]
    requests: int
    url: str
    missing: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


def pull_window(
    source: PrometheusSource,
    *,
    newest: Mapping[str, pd.Timestamp],
    start: Any = None,
    end: Any = None,
    now: Any = None,
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timedelta]:
    """The range and step to pull: explicit bounds, else from the store's newest rows.

    Parameters
    ----------
    source : PrometheusSource
        The queries and their step.
    newest : mapping of str to Timestamp
        The store's newest time per metric (:meth:`capacity.store.Store.newest`).
    start, end : timestamp-like, optional
        The range. ``end`` defaults to ``now``; ``start`` to the start of the hour of the
        oldest of the queried metrics' newest stored times (the pull overlaps what is stored,
        which the load counts as unchanged), counting only the metrics that have rows, or the
        start of the hour :data:`FIRST_PULL` before ``end`` when none has. A metric with no
        rows while others have them starts on its own (:func:`first_pulls`), so that a query
        that never returns anything does not take every metric 112 days back on every pull.
        A load replaces the hours it holds whole,
        so a pull covers whole hours: a given ``start`` is moved back to the start of its
        hour, and a given ``end`` on to the last step of its hour (or to now, if that is
        earlier), so that the rest of the hour is pulled again rather than deleted.
    now : timestamp-like, optional
        The current time, by default the machine's clock.

    Returns
    -------
    tuple of (Timestamp, Timestamp, Timedelta)
        Start (on the hour) and end (on the step's grid), in UTC, and the step.

    Raises
    ------
    ParameterError
        A bound that does not parse, or a ``start`` given that is after the end.
    DataError
        Neither bound given, and the newest stored time of every queried metric that has rows
        is after ``now``: a pull from there would read nothing of them until the clock caught
        up with the bad rows.
    """
    step = parse_duration(source.step, "step")
    clock = parse_timestamp(now or pd.Timestamp.now("UTC"), "now")
    if end is None:
        stop = clock.floor(step)
    else:
        # a load replaces the hours it holds whole (see Store.ingest): a pull that stopped
        # inside an hour would delete the stored rest of it, so it runs to the hour's last
        # step, or to now within the current hour
        given = parse_timestamp(end, "until")
        last = (given.floor("h") + pd.Timedelta(hours=1) - pd.Timedelta(1, "ns")).floor(step)
        stop = min(last, max(given, clock).floor(step))
    # a load replaces the hours it holds whole (see Store.ingest): pulls start on the hour
    if start is not None:
        begin = parse_timestamp(start, "since").floor("h")
        if begin > stop:
            raise ParameterError(
                f"The 'since' parameter must not be after 'until' (the start taken back to "
                f"its hour, the end on to its hour's last {source.step} step). Got "
                f"{begin.isoformat()} to {stop.isoformat()}."
            )
    elif any(metric in newest for metric in source.queries):
        oldest = min(newest[metric] for metric in source.queries if metric in newest)
        if end is None and oldest > clock:
            _future_rows(newest, source, clock)
        # From the start of the newest stored hour, which is pulled again whole (up to date
        # already: that hour's points, which the load counts as unchanged).
        begin = min(stop, oldest.floor("h"))
    else:
        begin = (stop - FIRST_PULL).floor("h")
    return begin, stop, step


def first_pulls(
    source: PrometheusSource,
    *,
    newest: Mapping[str, pd.Timestamp],
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> dict[str, pd.Timestamp]:
    """Where the queried metrics with no stored rows start, when others have rows.

    :func:`pull_window`'s default start follows the metrics that have rows; one with none
    (a query just added, or one that never returns anything) is pulled from the start of the
    hour :data:`FIRST_PULL` before ``end`` instead, or from ``start`` if that is earlier.

    Parameters
    ----------
    source : PrometheusSource
        The queries.
    newest : mapping of str to Timestamp
        The store's newest time per metric, as given to :func:`pull_window`.
    start, end : Timestamp
        The window :func:`pull_window` returned (for a default start only: a given
        ``--since`` applies to every metric).

    Returns
    -------
    dict of str to Timestamp
        Per metric without rows, its start; empty when every metric, or none, has rows.
    """
    fresh = [metric for metric in source.queries if metric not in newest]
    if len(fresh) == len(source.queries):
        return {}
    first = min(start, (end - FIRST_PULL).floor("h"))
    return dict.fromkeys(fresh, first)


def _future_rows(
    newest: Mapping[str, pd.Timestamp], source: PrometheusSource, clock: pd.Timestamp
) -> None:
    """Refuse a window that would start after now because of rows stored in the future."""
    ahead = sorted((stamp, metric) for metric, stamp in newest.items() if metric in source.queries)
    listed = ", ".join(f"{metric} at {stamp.isoformat()}" for stamp, metric in ahead)
    first = ahead[0][1]
    plural = "s are" if len(ahead) > 1 else " is"
    raise DataError(
        f"the newest stored row{plural} dated after now ({clock.floor('s').isoformat()}): "
        f"{listed}; a pull would start from there and read nothing new",
        source="the store",
        where="table 'telemetry'",
        fix="delete the rows dated in the future (they came from a file with a wrong date, "
        f"e.g. DELETE FROM telemetry WHERE metric = '{first}' AND ts > now() in DuckDB), or "
        "pass --since and --until (start and end) to pull a range of your choosing",
    )


def query_range(
    url: str,
    query: str,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    step: pd.Timedelta,
    timeout: float = 60,
    key: str = "query",
    config_source: str = "<fleet config>",
    session: requests.Session | None = None,
    max_points: int = MAX_POINTS,
    answered: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Evaluate ``query`` from ``start`` to ``end`` (inclusive) every ``step``.

    Long ranges are split into requests of at most ``max_points`` steps; the series of all
    requests are joined by their labels. When the server refuses a request for loading too
    many samples (its ``--query.max-samples``), the request is retried for half the steps.

    Parameters
    ----------
    url : str
        The server's base URL, e.g. ``http://prometheus:9090``.
    query : str
        PromQL.
    start, end : Timestamp
        UTC times.
    step : Timedelta
        The resolution.
    timeout : float
        Seconds one request may take.
    key, config_source : str
        The query's key and the file it is in, for error messages.
    session : requests.Session, optional
        Reused across calls.
    max_points : int
        Steps per request, at most Prometheus's 11,000.
    answered : int
        Requests of the same pull the server has already answered (:func:`pull` passes
        them): when the connection then fails, the message says it was lost during the pull
        rather than that the server cannot be reached.

    Returns
    -------
    tuple of (list of dict, int)
        Per series ``{"metric": labels, "values": [[seconds, "text"], ...]}``, and the
        number of requests made.

    Raises
    ------
    ConfigError
        Prometheus refused the query, the URL is not a Prometheus API, a series holds
        native histograms rather than float samples, or an https server's certificate cannot
        be verified.
    SourceUnavailableError
        The server could not be reached, timed out or failed.
    ParameterError
        ``max_points`` out of range, or a URL that is not valid.
    """
    _check_url(url)
    if not 1 <= max_points <= 11_000:
        raise ParameterError(
            f"The 'max_points' parameter must be between 1 and 11000. Got {max_points!r}."
        )
    if session is None:
        with requests.Session() as own:
            return query_range(
                url,
                query,
                start=start,
                end=end,
                step=step,
                timeout=timeout,
                key=key,
                config_source=config_source,
                session=own,
                max_points=max_points,
                answered=answered,
            )
    series: dict[tuple, dict[str, Any]] = {}
    count = 0
    for items, made in _ranges(
        url,
        query,
        start=start,
        end=end,
        step=step,
        timeout=timeout,
        key=key,
        config_source=config_source,
        session=session,
        max_points=max_points,
        answered=answered,
    ):
        count = made
        for item in items:
            labels = item.get("metric", {})
            found = series.setdefault(
                tuple(sorted(labels.items())), {"metric": labels, "values": []}
            )
            found["values"].extend(item.get("values", []))
    return list(series.values()), count


def _ranges(
    url: str,
    query: str,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    step: pd.Timedelta,
    timeout: float,
    key: str,
    config_source: str,
    session: requests.Session,
    max_points: int,
    answered: int,
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """The requests of :func:`query_range`, one after the other: per request answered, its
    series (Prometheus's ``result``) and the number of requests made so far."""
    seconds = step.total_seconds()
    count = 0
    chunk_start = start
    points = max_points
    while chunk_start <= end:
        chunk_end = min(end, chunk_start + (points - 1) * step)
        params = {
            "query": query,
            "start": f"{chunk_start.timestamp():.3f}",
            "end": f"{chunk_end.timestamp():.3f}",
            "step": f"{seconds:g}",
        }
        try:
            data = _get(session, url, params, timeout=timeout, key=key, config_source=config_source)
        except _NoConnection as exc:
            raise _connection_error(str(exc), redact_url(url), answered + count, key) from None
        except _TooManySamples as exc:
            count += 1
            if points == 1:
                raise ConfigError(
                    f"Prometheus refused the query even for one step: {exc}",
                    source=config_source,
                    where=f"key {key!r}",
                    fix="aggregate earlier in the query, or raise the server's --query.max-samples",
                ) from None
            points = max(1, points // 2)  # the server's sample limit: ask for less at once
            continue
        count += 1
        if data.get("resultType") != "matrix":
            raise ConfigError(
                f"the query returned a {data.get('resultType')!r}, not a range of series",
                source=config_source,
                where=f"key {key!r}",
                fix="write a query that returns series (an instant vector expression)",
            )
        items = data.get("result", [])
        for item in items:
            if "histograms" in item:
                raise ConfigError(
                    f"the series {_show_labels(item.get('metric', {}))} holds native "
                    "histograms, not float samples",
                    source=config_source,
                    where=f"key {key!r}",
                    fix="the query must return plain float samples: reduce the histograms, "
                    "e.g. histogram_quantile(0.99, sum by (region, service) (rate(...[5m]))) "
                    "for a quantile, or histogram_count(rate(...[5m])) for a rate",
                )
        yield items, count
        chunk_start = chunk_end + step


@dataclass
class _Samples:
    """One series of a query as compact arrays: its labels, the times (Unix seconds) and
    values of its samples that are numbers, and the first sample that is not (text, time).

    A pull keeps these rather than Prometheus's ``[seconds, "text"]`` pairs, which held about
    400 bytes of memory a point (a first pull at a 1-minute step reads 161,280 points per
    series); the arrays hold 16."""

    labels: dict[str, str]
    seconds: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    not_a_number: tuple[str, float] | None = None

    def add(self, pairs: list[list[Any]]) -> None:
        """Take one request's ``[seconds, "text"]`` pairs, keeping the numbers (NaN is a gap)."""
        if not pairs:
            return
        seconds = np.fromiter((pair[0] for pair in pairs), dtype="float64", count=len(pairs))
        written = pd.Series([pair[1] for pair in pairs], dtype="string")
        numbers = pd.to_numeric(written, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(numbers)
        if self.not_a_number is None:
            bad = missing & written.str.lower().ne("nan").fillna(True).to_numpy(dtype=bool)
            if bad.any():
                at = int(bad.argmax())
                self.not_a_number = (str(pairs[at][1]), float(seconds[at]))
        self.seconds.append(seconds[~missing])
        self.values.append(numbers[~missing])


def _query_samples(
    url: str,
    query: str,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    step: pd.Timedelta,
    timeout: float,
    key: str,
    config_source: str,
    session: requests.Session,
    answered: int,
) -> tuple[list[_Samples], int]:
    """:func:`query_range` for a pull: each series as :class:`_Samples`, converted request by
    request, so that a long range at a fine step never holds its points as Python objects."""
    series: dict[tuple, _Samples] = {}
    count = 0
    for items, made in _ranges(
        url,
        query,
        start=start,
        end=end,
        step=step,
        timeout=timeout,
        key=key,
        config_source=config_source,
        session=session,
        max_points=MAX_POINTS,
        answered=answered,
    ):
        count = made
        for item in items:
            labels = item.get("metric", {})
            found = series.setdefault(tuple(sorted(labels.items())), _Samples(labels))
            found.add(item.get("values", []))
    return list(series.values()), count


def _check_url(url: str) -> None:
    """Refuse a URL that is not an http(s) base URL, showing it without credentials."""
    problem = url_problem(url)
    if problem is not None:
        raise ParameterError(f"The 'url' parameter {problem}. Got {redact_url(url)!r}.")


def _show_labels(labels: Mapping[str, str]) -> str:
    """A series' labels as PromQL writes them: ``{region="eu-west", service="game"}``."""
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _get(
    http: requests.Session,
    url: str,
    params: dict[str, str],
    *,
    timeout: float,
    key: str,
    config_source: str,
) -> dict[str, Any]:
    address = url.rstrip("/") + _API
    shown = redact_url(url)
    try:
        reply = http.get(address, params=params, timeout=timeout)
    except requests.Timeout:
        raise SourceUnavailableError(
            f"Prometheus at {shown} did not answer within {timeout:g} s (query {key!r}); "
            "try again later, or raise prometheus.timeout_seconds in the fleet file"
        ) from None
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
    ):
        raise ParameterError(
            f"The Prometheus URL must be an http(s) URL such as http://prometheus:9090. "
            f"Got {shown!r}."
        ) from None
    except requests.exceptions.SSLError as exc:
        raise _tls_error(str(exc), shown, config_source) from None
    except requests.RequestException as exc:
        raise _NoConnection(_connection_reason(exc)) from None
    try:
        body = reply.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("status") == "success":
        return body.get("data") or {}
    message = body.get("error") if isinstance(body, dict) else None
    if reply.status_code == 422 and message and "too many samples" in message:
        raise _TooManySamples(message)
    if reply.status_code in (400, 422) and message:
        raise ConfigError(
            f"Prometheus refused the query: {message}",
            source=config_source,
            where=f"key {key!r}",
            fix="correct the PromQL (try it in Prometheus's expression browser)",
        )
    if reply.status_code >= 500 or reply.status_code == 429:
        # the server's own --query.timeout: a query too heavy for it fails at every retry
        heavy = isinstance(body, dict) and (
            body.get("errorType") == "timeout" or "timed out" in str(message)
        )
        raise SourceUnavailableError(
            f"Prometheus at {shown} failed with HTTP {reply.status_code}"
            + (f": {message}" if message else "")
            + f" (query {key!r}); try again later"
            + (
                "; if it times out again, the query is too heavy for the server's "
                "--query.timeout: lighten it (aggregate earlier, or read a recording rule's "
                "series), or raise that flag"
                if heavy
                else ""
            )
        )
    if reply.status_code in (401, 403):
        raise ConfigError(
            f"{redact_url(address)} answered HTTP {reply.status_code}: the server wants "
            "credentials" + (", and refused the ones in the URL" if shown != url else ""),
            source=config_source,
            where="key 'prometheus.url' (or --url)",
            fix="give a URL that capacity can read without logging in, e.g. the server's "
            "address inside the cluster rather than through an authenticating proxy, or one "
            "with a user and password for HTTP basic auth (http://user:password@host:9090)",
        )
    if "HTTP request to an HTTPS server" in reply.text:  # Go's answer to plain HTTP
        raise ConfigError(
            f"{redact_url(address)} answered HTTP {reply.status_code}: the server speaks https",
            source=config_source,
            where="key 'prometheus.url' (or --url)",
            fix="write the URL with https://",
        )
    raise ConfigError(
        f"{redact_url(address)} answered HTTP {reply.status_code} without a Prometheus API reply",
        source=config_source,
        where="key 'prometheus.url' (or --url)",
        fix="give the server's base URL, e.g. http://prometheus:9090 (without /api/v1)",
    )


def _connection_reason(exc: requests.RequestException) -> str:
    """Why a request got no answer, in a few words: the system's ``[Errno ...]`` message, or
    what became of a connection that broke, or the exception's type."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if found:
        return found.group(0).strip()
    for needle, said in (
        ("RemoteDisconnected", "the server closed the connection without answering"),
        ("IncompleteRead", "the answer was cut off"),
        ("Connection broken", "the answer was cut off"),
        ("Connection aborted", "the connection was aborted"),
    ):
        if needle in text:
            return said
    return type(exc).__name__


def _connection_error(reason: str, shown: str, answered: int, key: str) -> SourceUnavailableError:
    """A request without an answer: the server cannot be reached, or, when it had answered
    earlier requests of the pull, the connection was lost during it."""
    if not answered:
        return SourceUnavailableError(
            f"cannot reach Prometheus at {shown}: {reason}; check the URL (prometheus.url in the "
            "fleet file, or --url) and that the server is up"
        )
    plural = "" if answered == 1 else "s"
    return SourceUnavailableError(
        f"lost the connection to Prometheus at {shown} during the pull, after it had answered "
        f"{answered} request{plural} (query {key!r}): {reason}; nothing was stored. Try again "
        "later: the next pull starts again from the newest stored sample"
    )


def _tls_error(text: str, shown: str, config_source: str) -> ConfigError | SourceUnavailableError:
    """What a failed TLS handshake means: an untrusted certificate or a server that speaks
    plain HTTP is the URL's fault (exit 2, not "try again later"); anything else, the network's.
    """
    verify = re.search(r"certificate verify failed: [^'\"(]*", text)
    if verify is not None:
        return ConfigError(
            f"Prometheus at {shown} has a TLS certificate that cannot be verified "
            f"({verify.group(0).strip()})",
            source=config_source,
            where="key 'prometheus.url' (or --url)",
            fix="trust the authority that signed it: set REQUESTS_CA_BUNDLE to its certificate "
            "file (PEM) in the job's environment, e.g. REQUESTS_CA_BUNDLE=/etc/ssl/certs/"
            "ca-certificates.crt when it is installed system-wide",
        )
    if "WRONG_VERSION_NUMBER" in text:
        return ConfigError(
            f"{shown} does not answer TLS: the server speaks plain HTTP",
            source=config_source,
            where="key 'prometheus.url' (or --url)",
            fix="write the URL with http://",
        )
    found = re.search(r"\[SSL[^\]]*\][^'\"(]*", text)
    reason = found.group(0).strip() if found else "the TLS handshake failed"
    return SourceUnavailableError(
        f"cannot reach Prometheus at {shown}: {reason}; try again later, and check that the "
        "server is up"
    )


def pull(
    source: PrometheusSource,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    step: pd.Timedelta,
    url: str | None = None,
    config_source: str = "<fleet config>",
    starts: Mapping[str, pd.Timestamp] | None = None,
    fleet: FleetConfig | None = None,
) -> Pull:
    """Evaluate every configured query over the range and return long telemetry rows.

    Parameters
    ----------
    source : PrometheusSource
        The queries, labels and timeout.
    start, end, step
        From :func:`pull_window`.
    url : str, optional
        The server, instead of ``source.url``.
    config_source : str
        The fleet file, for error messages.
    starts : mapping of str to Timestamp, optional
        Per metric, a start other than ``start`` (:func:`first_pulls`).
    fleet : FleetConfig, optional
        The fleet the rows are for: a query returning a region or service label value the
        fleet does not name is refused naming the query's key, the label and every such value,
        with the ``label_replace`` that renames it (a load would refuse the value too, but
        only by its first sample, without the query or the label).

    Returns
    -------
    Pull
        The rows, the range and which metrics had no samples.

    Raises
    ------
    ConfigError
        No URL, a query Prometheus refuses, or one whose series lack the region or service
        label, repeat a region and service, hold anything but float samples, or (with
        ``fleet``) name a region or service the fleet does not.
    ParameterError
        A ``url`` that is not an http(s) base URL (a query string or fragment is refused).
    SourceUnavailableError
        The server could not be reached or failed.
    """
    if url is not None:
        _check_url(url)
    address = url or source.url
    if not address:
        raise ConfigError(
            "no Prometheus URL",
            source=config_source,
            where="key 'prometheus.url'",
            fix="set prometheus.url in the fleet file, or pass --url",
        )
    frames, empty, count = [], [], 0
    with requests.Session() as http:
        for metric, query in source.queries.items():
            key = f"prometheus.queries.{metric}"
            found, made = _query_samples(
                address,
                query,
                start=(starts or {}).get(metric, start),
                end=end,
                step=step,
                timeout=source.timeout_seconds,
                key=key,
                config_source=config_source,
                session=http,
                answered=count,
            )
            count += made
            frame = _long_rows(found, metric, source, key=key, config_source=config_source)
            if fleet is not None:
                _check_names(frame, fleet, source, key=key, config_source=config_source)
            if frame.empty:
                empty.append(metric)
            else:
                frames.append(frame)
    rows = pd.concat(frames, ignore_index=True) if frames else _no_rows()
    if frames:
        rows = rows.sort_values([TS, REGION, SERVICE, METRIC], ignore_index=True)
    return Pull(
        rows, start, end, step, tuple(empty), count, redact_url(address), _missing_pairs(rows)
    )


def pull_notes(
    got: Pull, fleet: FleetConfig, *, stored: Collection[tuple[str, str, str]] = ()
) -> list[str]:
    """What a person should know about a pull's gaps, one line each (``note:``/``warning:``).

    A metric with no samples at all; a metric that some region/services lack while other
    metrics have them (a ratio whose numerator has no series there, most often), except a
    demand metric their service is not planned on (no ccu of a chat service planned on rps);
    a region/service of the fleet without samples of its own demand metric, which
    ``capacity plan`` refuses when the store has none at all for it; and one whose demand
    samples stop more than :data:`STOPPED_AFTER` before the pull's end (a target no longer
    scraped: each pull then starts from its newest stored hour, re-reads it and adds nothing,
    so without the warning an unattended pull would go on succeeding on old telemetry).

    Parameters
    ----------
    got : Pull
        The pull.
    fleet : FleetConfig
        The fleet, with the ``prometheus`` section the pull used.
    stored : collection of (region, service, metric)
        The series the store holds after the pull (:meth:`capacity.store.Store.stored_series`).

    Returns
    -------
    list of str
    """
    source = fleet.prometheus
    if source is None:
        return []
    pulled = set(zip(got.rows[REGION], got.rows[SERVICE], got.rows[METRIC], strict=True))
    no_demand: dict[str, list[tuple[str, str]]] = {}
    for region, service, metric in fleet.demand_series():
        if metric in source.queries and (region, service, metric) not in pulled:
            no_demand.setdefault(metric, []).append((region, service))
    lines = [
        f"note: no samples for {metric} in that range; check prometheus.queries.{metric}"
        for metric in got.empty
        if metric not in no_demand  # the warning below names its region/services
    ]
    for metric, pairs in got.missing:
        pairs = tuple(
            (region, service)
            for region, service in pairs
            if (region, service) not in no_demand.get(metric, ())
            and not _planned_on_other(fleet, service, metric)
        )
        if pairs:
            lines.append(
                f"note: no samples for {metric} of {_pairs_text(pairs)} in that range, though "
                f"other metrics have them; if prometheus.queries.{metric} is a ratio, its "
                "numerator has no series there (no errors at all, say): write it as (numerator "
                "or denominator * 0) / denominator, as the README's error_rate does"
            )
    lines.extend(_stopped(got, fleet))
    for metric, query in source.queries.items():
        for counter in raw_counters(query):
            lines.append(
                f"warning: prometheus.queries.{metric} reads the counter {counter} without a "
                "range, so what is stored is its running total since the counter last reset, "
                f"not a rate; write rate({counter}[5m]) (inside the sum by), or ignore this if "
                "the query takes a difference itself"
            )
    for metric, pairs in no_demand.items():
        bare = [(r, s) for r, s in pairs if (r, s, metric) not in stored]
        region, service = pairs[0]
        lines.append(
            f"warning: no samples for {metric}, the demand metric of {_pairs_text(pairs)}, in "
            "that range"
            + (
                f"; the store has none for {_pairs_text(bare)} at all, so capacity plan "
                "refuses the fleet until it has"
                if bare
                else ""
            )
            + f"; check that prometheus.queries.{metric} returns a series labelled "
            f'{source.region_label}="{region}", {source.service_label}="{service}" (label '
            "values that differ from the fleet file's names, such as "
            f'"{region}-1", need label_replace: see the README)'
        )
    return lines


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


def _stopped(got: Pull, fleet: FleetConfig) -> list[str]:
    """A warning per demand metric whose samples of some fleet region/services stop more than
    :data:`STOPPED_AFTER` before the end of the pull (Prometheus has nothing newer)."""
    if got.rows.empty:
        return []
    planned = set(fleet.demand_series())
    # a --until after now: nothing can be newer than now
    end = min(got.end, pd.Timestamp.now("UTC").floor(got.step))
    newest = got.rows.groupby([METRIC, REGION, SERVICE], sort=True)[TS].max()
    stopped: dict[str, list[tuple[str, str, pd.Timestamp]]] = {}
    for (metric, region, service), stamp in newest.items():
        if (region, service, metric) in planned and stamp < end - STOPPED_AFTER:
            stopped.setdefault(metric, []).append((region, service, stamp))
    lines = []
    for metric, pairs in stopped.items():
        shown = first_few(
            [
                f"{region}/{service} at {stamp:%Y-%m-%d %H:%M} ({_ago(end - stamp)} before)"
                for region, service, stamp in pairs
            ]
        )
        lines.append(
            f"warning: {metric}, the demand metric, stops before the end of the pull "
            f"({end:%Y-%m-%d %H:%M} UTC) for {shown}: Prometheus has no newer sample, so "
            "the store's telemetry ends there and a plan would rest on it; check that the "
            f"targets behind prometheus.queries.{metric} are still scraped (up == 1), or that "
            "the query's metric was not renamed"
        )
    return lines


def _ago(span: pd.Timedelta) -> str:
    """A time span in whole hours, or days past two days: ``6 h``, ``3 days``."""
    hours = int(span / pd.Timedelta(hours=1))
    return f"{hours // 24} days" if hours >= 48 else f"{hours} h"


def _planned_on_other(fleet: FleetConfig, service: str, metric: str) -> bool:
    """Whether ``metric`` is a demand metric that ``service`` is not planned on: a chat
    service planned on rps has no players to count, so no ccu is expected of it."""
    return (
        metric in DEMAND_METRICS
        and service in fleet.services
        and fleet.services[service].demand_metric != metric
    )


def _pairs_text(pairs: Sequence[tuple[str, str]]) -> str:
    """Region/service pairs as ``eu-west/game, na-east/game``, the first five of them."""
    return first_few([f"{region}/{service}" for region, service in pairs])


def _missing_pairs(rows: pd.DataFrame) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Per metric with rows, the region/service pairs other metrics have rows for and it lacks."""
    have = {
        metric: set(zip(group[REGION], group[SERVICE], strict=True))
        for metric, group in rows.groupby(METRIC, sort=True)
    }
    every = set().union(*have.values()) if have else set()
    return tuple(
        (metric, tuple(sorted(every - pairs))) for metric, pairs in have.items() if every - pairs
    )


def _long_rows(
    series: list[_Samples],
    metric: str,
    source: PrometheusSource,
    *,
    key: str,
    config_source: str,
) -> pd.DataFrame:
    """One query's series as long rows; NaN samples dropped as gaps."""
    labels_of: dict[tuple[str, str], dict[str, str]] = {}
    parts = []
    for item in series:
        labels = item.labels
        missing = [n for n in (source.region_label, source.service_label) if n not in labels]
        if missing:
            raise ConfigError(
                f"a series of the query has no {' or '.join(repr(m) for m in missing)} label "
                f"(its labels: {_show_labels(labels)})",
                source=config_source,
                where=f"key {key!r}",
                fix=f"aggregate by them, {_aggregation(metric, source)}, or set "
                "prometheus.region_label and prometheus.service_label to the labels your "
                "metrics use",
            )
        region, service = labels[source.region_label], labels[source.service_label]
        other = labels_of.setdefault((region, service), labels)
        if other is not labels:
            differ = sorted(n for n in set(labels) | set(other) if labels.get(n) != other.get(n))
            raise ConfigError(
                f"the query returns more than one series for region {region!r}, service "
                f"{service!r} (they differ in {', '.join(differ)})",
                source=config_source,
                where=f"key {key!r}",
                fix=f"aggregate them, {_aggregation(metric, source)}",
            )
        if item.not_a_number is not None:
            text, at = item.not_a_number
            raise ConfigError(
                f"the series {_show_labels(labels)} has a sample that is not a number: "
                f"{text!r} at {pd.Timestamp(at, unit='s', tz='UTC').isoformat()}",
                source=config_source,
                where=f"key {key!r}",
                fix="the query must return plain float samples, e.g. a gauge, a counter's "
                "rate, or histogram_quantile over a histogram's buckets",
            )
        if not item.seconds:
            continue
        seconds = np.concatenate(item.seconds)
        if not len(seconds):
            continue
        times = pd.to_datetime(pd.Series(seconds, dtype="float64"), unit="s", utc=True)
        parts.append(
            pd.DataFrame(
                {
                    TS: times.dt.round("ms"),
                    REGION: region,
                    SERVICE: service,
                    METRIC: metric,
                    VALUE: np.concatenate(item.values),
                }
            )
        )
    if not parts:
        return _no_rows()
    return pd.concat(parts, ignore_index=True)


def _check_names(
    frame: pd.DataFrame,
    fleet: FleetConfig,
    source: PrometheusSource,
    *,
    key: str,
    config_source: str,
) -> None:
    """Refuse a query's rows that name a region or service the fleet does not, naming the
    label and every such value, with the ``label_replace`` that renames the first."""
    for column, label, known in (
        (REGION, source.region_label, fleet.regions),
        (SERVICE, source.service_label, fleet.services),
    ):
        unknown = sorted(set(frame[column]) - set(known))
        if not unknown:
            continue
        first = unknown[0]
        close = closest(first, known)
        listed = first_few([f'"{name}"' for name in unknown])
        plural = "s" if len(unknown) > 1 else ""
        which = f' for "{first}"' if plural else ""
        hint = f" (did you mean {close!r}{which}?)" if close is not None else ""
        them = "them" if plural else "it"
        if close is not None:
            fix = (
                f"rename {them} in the query by wrapping it in label_replace(..., "
                f'"{label}", "{close}", "{label}", "{first}") (one per name, or one with a '
                f'regular expression such as "(.+)-1" and "$1": see the README), or add '
                f"{column} {first!r} to the fleet file"
            )
        else:
            fix = (
                f"leave {'those series' if plural else 'that series'} out of the query (a "
                f'matcher such as {label}!="{first}" on its metric), or add {column} '
                f"{first!r} to the fleet file"
            )
        raise ConfigError(
            f"the query returns series whose label {label!r} has the value{plural} {listed}, "
            f"which the fleet file does not name as a {column}{hint}; it names "
            f"{', '.join(sorted(known))}",
            source=config_source,
            where=f"key {key!r}",
            fix=fix,
        )


def _aggregation(metric: str, source: PrometheusSource) -> str:
    """How to aggregate a metric's series to one per region and service: counts add up, a
    utilisation is averaged, a ratio is a ratio of sums, a p99 comes from the summed buckets
    (summing or averaging instances' p99s gives a figure that is no quantile of anything)."""
    by = f"{source.region_label}, {source.service_label}"
    if metric in COUNT_METRICS:
        return f"adding them up: sum by ({by}) (...)"
    if metric == CPU_UTIL:
        return f"averaging them: avg by ({by}) (...)"
    if metric == ERROR_RATE:
        return (
            f"as a ratio of sums: sum by ({by}) (rate(<errors>[5m])) / sum by ({by}) "
            "(rate(<requests>[5m])), not an average of the instances' ratios"
        )
    return (
        f"from the summed histogram buckets: histogram_quantile(0.99, sum by ({by}, le) "
        "(rate(<histogram>_bucket[5m]))) * 1000, not a sum or an average of the instances' "
        "p99s"
    )


def _no_rows() -> pd.DataFrame:
    """Long telemetry with no rows, typed as a pull's rows are."""
    return pd.DataFrame(
        {
            TS: pd.Series(dtype="datetime64[ns, UTC]"),
            REGION: pd.Series(dtype="object"),
            SERVICE: pd.Series(dtype="object"),
            METRIC: pd.Series(dtype="object"),
            VALUE: pd.Series(dtype="float64"),
        }
    )
