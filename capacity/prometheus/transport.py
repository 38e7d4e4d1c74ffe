"""One GET of Prometheus's ``query_range`` API, and what its failures mean.

:func:`_get` asks the server once and returns the reply's ``data``; every way a request can
fail becomes the package's error for it: a query Prometheus refuses or a URL that is not its
API is a :class:`~capacity.errors.ConfigError`, a server that times out (the whole answer,
not each read of it, within the timeout) or fails a
:class:`~capacity.errors.SourceUnavailableError`, an https certificate that cannot be
verified the URL's fault (:func:`_tls_error`). Two answers the request loop handles itself
are raised as private exceptions: too many samples for one request (:class:`_TooManySamples`,
retried for fewer steps) and no answer at all (:class:`_NoConnection`, worded by
:func:`_connection_error` once the loop knows how many requests were answered before).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import requests
import urllib3

from capacity.config import redact_url, url_problem
from capacity.errors import ConfigError, ParameterError, SourceUnavailableError

_API = "/api/v1/query_range"


class _TooManySamples(Exception):
    """Prometheus would load more samples than its ``--query.max-samples`` for one request."""


class _NoConnection(Exception):
    """The request got no answer: no connection, or one that broke (the reason is the text)."""


def _check_url(url: str) -> None:
    """Refuse a URL that is not an http(s) base URL, showing it without credentials."""
    problem = url_problem(url)
    if problem is not None:
        raise ParameterError(f"The 'url' parameter {problem}. Got {redact_url(url)!r}.")


def _get(
    http: requests.Session,
    url: str,
    params: dict[str, str],
    *,
    timeout: float,
    key: str,
    config_source: str,
    heard: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """One GET of ``query_range``: the reply's ``data``; the server's ``warnings`` and
    ``infos`` about it (a remote storage that failed: a partial result) appended to ``heard``
    as ``("warnings", text)`` and ``("infos", text)``."""
    address = url.rstrip("/") + _API
    shown = redact_url(url)
    late = SourceUnavailableError(
        f"Prometheus at {shown} did not answer within {timeout:g} s (query {key!r}); "
        "try again later, or raise prometheus.timeout_seconds in the fleet file"
    )
    deadline = time.monotonic() + timeout
    try:
        # streamed, so that the whole answer is held to the timeout, not each read of it
        reply = http.get(address, params=params, timeout=timeout, stream=True)
    except requests.Timeout:
        raise late from None
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
    content = _read_within(reply, deadline)
    if content is None:
        raise late
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("status") == "success":
        if heard is not None:
            heard.extend(_notices(body))
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
    if b"HTTP request to an HTTPS server" in content:  # Go's answer to plain HTTP
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


def _notices(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``warnings`` and ``infos`` (Prometheus 2.50 on) of an API reply, as (field, text)
    pairs; a field that is not a list of texts is read as far as it is one."""
    found = []
    for field in ("warnings", "infos"):
        texts = body.get(field)
        if isinstance(texts, list):
            found.extend((field, str(text).strip()) for text in texts if str(text).strip())
    return found


def _read_within(reply: requests.Response, deadline: float) -> bytes | None:
    """The body of a streamed reply, or None once reading it goes on past ``deadline`` (a
    ``time.monotonic()``): a server that sends its answer a few bytes at a time never lets
    one read wait out the timeout, and would hold the pull for as long as it keeps sending.

    Raises
    ------
    _NoConnection
        When the connection breaks before the body is complete.
    """
    parts = []
    try:
        while True:
            if time.monotonic() > deadline:
                reply.close()
                return None
            # read1: whatever has arrived (one read of the socket), not a chunk's full size
            part = reply.raw.read1(1 << 20, decode_content=True)
            if not part:
                break
            parts.append(part)
    except urllib3.exceptions.TimeoutError:
        reply.close()
        return None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        reply.close()
        raise _NoConnection(_connection_reason(exc)) from None
    reply.raw.release_conn()
    return b"".join(parts)


def _connection_reason(exc: Exception) -> str:
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
