"""``query_range`` over a long range: the requests of at most :data:`MAX_POINTS` steps,
one after the other, halved when the server's sample limit refuses one, and their series
joined by label set."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pandas as pd
import requests

from capacity.config import redact_url
from capacity.errors import ConfigError, ParameterError
from capacity.prometheus.labels import _show_labels
from capacity.prometheus.transport import (
    _check_url,
    _connection_error,
    _get,
    _NoConnection,
    _TooManySamples,
)

T = TypeVar("T")

#: Points per series in one request; Prometheus refuses more than 11,000.
MAX_POINTS = 10_000


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
    answers = _ranges(
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
    )
    return _gather(
        answers,
        lambda labels: {"metric": labels, "values": []},
        lambda found, values: found["values"].extend(values),
    )


def _gather(
    answers: Iterator[tuple[list[dict[str, Any]], int]],
    new: Callable[[dict[str, str]], T],
    add: Callable[[T, list[list[Any]]], None],
) -> tuple[list[T], int]:
    """The series of a query's requests (:func:`_ranges`), each joined across them by its
    labels: ``new(labels)`` starts a series, ``add(series, values)`` takes one request's
    ``[seconds, "text"]`` pairs; and the number of requests made."""
    series: dict[tuple, T] = {}
    count = 0
    for items, made in answers:
        count = made
        for item in items:
            labels = item.get("metric", {})
            key = tuple(sorted(labels.items()))
            if key not in series:
                series[key] = new(labels)
            add(series[key], item.get("values", []))
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
    heard: list[tuple[str, str]] | None = None,
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """The requests of :func:`query_range`, one after the other: per request answered, its
    series (Prometheus's ``result``) and the number of requests made so far; the server's
    warnings and infos appended to ``heard`` (:func:`~capacity.prometheus.transport._get`)."""
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
            data = _get(
                session,
                url,
                params,
                timeout=timeout,
                key=key,
                config_source=config_source,
                heard=heard,
            )
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
