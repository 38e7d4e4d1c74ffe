"""Telemetry from a Prometheus server's HTTP API.

The fleet file's ``prometheus`` section (:class:`~capacity.config.PrometheusSource`) names one
PromQL query per capacity metric. :func:`pull` evaluates each over a time range with
``/api/v1/query_range`` at a fixed step, in requests small enough for Prometheus's limit of
11,000 points per series, and returns long telemetry rows for
:meth:`capacity.store.Store.ingest_frame`, which checks and loads them in one transaction.

Every query must return at most one series per region and service, labelled with both (by
default the labels ``region`` and ``service``): aggregate with ``sum by (region, service)``
or ``avg by (region, service)``. Samples that are NaN (no data behind a ratio, say) are gaps,
not values (never zeros), and a series of nothing but NaN is named as such
(:attr:`Pull.only_nan`). The server's ``warnings`` and ``infos`` (a remote storage that
failed, so a partial result) are kept in :attr:`Pull.warnings` and :attr:`Pull.infos`. A
query Prometheus refuses is a :class:`~capacity.errors.ConfigError` naming its key, and so is
one that returns anything but float samples (native histograms, say), or that would read more
than :data:`MAX_PULL_POINTS` points per series; a server that cannot be reached, fails, or
drops the connection part-way is a :class:`~capacity.errors.SourceUnavailableError`, but an
https certificate that cannot be verified (trusted with ``REQUESTS_CA_BUNDLE``) is a
``ConfigError`` naming the URL.
A user and password in the server's URL are sent as HTTP basic auth and shown, in messages
and in :attr:`Pull.url`, as ``***``.

Callers import from ``capacity.prometheus``; the work is done by one module per concern, and
the imports run one way (none uses this package's own names):

- ``window``: the range and step of a pull (:func:`pull_window`, :func:`first_pulls`), and
  its size (:func:`check_pull_size`, at most :data:`MAX_PULL_POINTS` points per series);
- ``transport``: one GET of the API, and each way it fails as the package's error;
- ``labels``: a series' labels shown, checked against the fleet, and the aggregation a
  metric needs;
- ``ranges``: ``query_range`` as requests of at most :data:`MAX_POINTS` steps
  (:func:`query_range`);
- ``samples``: each series of a pull as compact arrays, converted as the answers arrive;
- ``rows``: :class:`Pull`, and a query's series as long telemetry rows;
- ``queries``: :func:`pull`, every configured query in one session;
- ``counters``: counters a query reads without a range (:func:`raw_counters`);
- ``notes``: what a person should know about a pull (:func:`pull_notes`), and the server's
  own warnings (:func:`server_lines`).
"""

from __future__ import annotations

from capacity.prometheus.counters import _LABEL_LISTS as _LABEL_LISTS
from capacity.prometheus.counters import _STRINGS as _STRINGS
from capacity.prometheus.counters import raw_counters
from capacity.prometheus.labels import _aggregation as _aggregation
from capacity.prometheus.labels import _check_names as _check_names
from capacity.prometheus.labels import _show_labels as _show_labels
from capacity.prometheus.notes import NAN_CAUSE, STOPPED_AFTER, nan_text, pull_notes, server_lines
from capacity.prometheus.notes import _ago as _ago
from capacity.prometheus.notes import _pairs_text as _pairs_text
from capacity.prometheus.notes import _planned_on_other as _planned_on_other
from capacity.prometheus.notes import _stopped as _stopped
from capacity.prometheus.queries import pull
from capacity.prometheus.ranges import MAX_POINTS, query_range
from capacity.prometheus.ranges import _ranges as _ranges
from capacity.prometheus.rows import Pull
from capacity.prometheus.rows import _long_rows as _long_rows
from capacity.prometheus.rows import _missing_pairs as _missing_pairs
from capacity.prometheus.rows import _nan_pairs as _nan_pairs
from capacity.prometheus.rows import _no_rows as _no_rows
from capacity.prometheus.samples import _query_samples as _query_samples
from capacity.prometheus.samples import _Samples as _Samples
from capacity.prometheus.transport import _API as _API
from capacity.prometheus.transport import _check_url as _check_url
from capacity.prometheus.transport import _connection_error as _connection_error
from capacity.prometheus.transport import _connection_reason as _connection_reason
from capacity.prometheus.transport import _get as _get
from capacity.prometheus.transport import _NoConnection as _NoConnection
from capacity.prometheus.transport import _notices as _notices
from capacity.prometheus.transport import _tls_error as _tls_error
from capacity.prometheus.transport import _TooManySamples as _TooManySamples
from capacity.prometheus.window import _STEPS as _STEPS
from capacity.prometheus.window import FIRST_PULL as FIRST_PULL
from capacity.prometheus.window import MAX_PULL_POINTS, check_pull_size, first_pulls, pull_window
from capacity.prometheus.window import _future_rows as _future_rows

__all__ = [
    "MAX_POINTS",
    "MAX_PULL_POINTS",
    "NAN_CAUSE",
    "STOPPED_AFTER",
    "Pull",
    "check_pull_size",
    "first_pulls",
    "nan_text",
    "pull",
    "pull_notes",
    "pull_window",
    "query_range",
    "raw_counters",
    "server_lines",
]
