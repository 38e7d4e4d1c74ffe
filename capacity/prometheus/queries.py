"""A pull: every query of the fleet file's ``prometheus`` section evaluated over the window in
one HTTP session, each checked (labels, and the fleet's names when given) and turned into long
rows, all of them in one :class:`~capacity.prometheus.rows.Pull`."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import requests

from capacity.config import FleetConfig, PrometheusSource, redact_url
from capacity.errors import ConfigError
from capacity.prometheus.labels import _check_names
from capacity.prometheus.rows import Pull, _joined, _long_rows, _missing_pairs, _nan_pairs
from capacity.prometheus.samples import _query_samples
from capacity.prometheus.transport import _check_url
from capacity.prometheus.window import check_pull_size


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
        The rows, the range, which metrics had no samples or only NaN ones, and what the
        server warned of.

    Raises
    ------
    ConfigError
        No URL, more points per series than
        :data:`~capacity.prometheus.window.MAX_PULL_POINTS` (before any request), a query
        Prometheus refuses, or one whose series lack the region or service label, repeat a
        region and service, hold anything but float samples, or (with ``fleet``) name a
        region or service the fleet does not.
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
    first = min([start, *(starts or {}).values()])
    check_pull_size(source, start=first, end=end, step=step, config_source=config_source)
    frames, empty, count = [], [], 0
    only_nan: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    heard: dict[tuple[str, str], list[str]] = {}  # (field, text): the queries' keys
    with requests.Session() as http:
        for metric, query in source.queries.items():
            key = f"prometheus.queries.{metric}"
            said: list[tuple[str, str]] = []
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
                heard=said,
            )
            count += made
            for notice in dict.fromkeys(said):
                heard.setdefault(notice, []).append(metric)
            frame = _long_rows(found, metric, source, key=key, config_source=config_source)
            nan_pairs = _nan_pairs(found, source)
            if nan_pairs:
                only_nan.append((metric, nan_pairs))
            if fleet is not None:
                _check_names(frame, fleet, source, key=key, config_source=config_source)
            if frame.empty:
                empty.append(metric)
            else:
                frames.append(frame)
    rows = _joined(frames)
    del frames
    shown = {
        field: tuple(
            f"{text} (prometheus.queries.{', '.join(metrics)})"
            for (kind, text), metrics in heard.items()
            if kind == field
        )
        for field in ("warnings", "infos")
    }
    return Pull(
        rows,
        start,
        end,
        step,
        tuple(empty),
        count,
        redact_url(address),
        _missing_pairs(rows),
        tuple(only_nan),
        shown["warnings"],
        shown["infos"],
    )
