"""The range and step of a pull: given bounds taken out to whole hours, or from the store's
newest rows; a metric with no rows yet started on its own (:func:`first_pulls`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from capacity.config import PrometheusSource
from capacity.errors import ConfigError, DataError, ParameterError
from capacity.sources import EARLIEST_TELEMETRY
from capacity.units import parse_duration, parse_timestamp

#: How far back a first pull reaches: the forecaster's training window.
FIRST_PULL = pd.Timedelta(days=112)
#: The most points per series one pull may ask for: 100 requests of 10,000 steps per query.
#: A year at 1m (525,600) and a first pull (112 days) at 10s (967,680) fit; a month at 1s
#: (2,592,000) does not.
MAX_PULL_POINTS = 1_000_000
#: Steps offered, finest first, when a pull is too large for its step.
_STEPS = ("1s", "5s", "10s", "15s", "30s", "1m", "2m", "5m", "10m", "15m", "30m", "1h")


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
        which the load counts as unchanged), or of the end's hour when the end is earlier,
        counting only the metrics that have rows, or the
        start of the hour :data:`FIRST_PULL` before ``end`` when none has. A metric with no
        rows while others have them starts on its own (:func:`first_pulls`), so that a query
        that never returns anything does not take every metric 112 days back on every pull.
        A load replaces the hours it holds whole,
        so a pull covers whole hours: a given ``start`` is moved back to the start of its
        hour, and a given ``end`` on to the last step of its hour (or to now, if that is
        earlier), so that the rest of the hour is pulled again rather than deleted. An ``end``
        after now is now: Prometheus would repeat its newest samples past it for 5 minutes
        (the lookback delta), rows dated in the future.
    now : timestamp-like, optional
        The current time, by default the machine's clock.

    Returns
    -------
    tuple of (Timestamp, Timestamp, Timedelta)
        Start (on the hour) and end (on the step's grid), in UTC, and the step.

    Raises
    ------
    ParameterError
        A bound that does not parse, or a ``start`` given that is before 2000 (which no load
        takes), after now or after the end.
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
        # step, or to now within the current hour; never past now: Prometheus answers a time
        # after its newest sample with that sample for 5 minutes (its lookback delta), rows
        # that would be stored dated in the future, where the next pull refuses to start
        given = parse_timestamp(end, "until")
        last = (given.floor("h") + pd.Timedelta(hours=1) - pd.Timedelta(1, "ns")).floor(step)
        stop = min(last, clock.floor(step))
    # a load replaces the hours it holds whole (see Store.ingest): pulls start on the hour
    if start is not None:
        begin = parse_timestamp(start, "since").floor("h")
        if begin < pd.Timestamp(EARLIEST_TELEMETRY):
            # a typo (0026 for 2026) or a placeholder: tens of thousands of requests for years
            # that could hold nothing a load takes
            raise ParameterError(
                f"The 'since' parameter must be {EARLIEST_TELEMETRY[:10]} or later: the store "
                "takes no telemetry from before then, and a pull would ask Prometheus for every "
                f"step since (thousands of requests for empty years). Got {begin.isoformat()}."
            )
        if begin > clock:
            raise ParameterError(
                f"The 'since' parameter must not be after now: Prometheus holds nothing later. "
                f"Got {begin.isoformat()} (now {clock.floor('s').isoformat()})."
            )
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
        # already: that hour's points, which the load counts as unchanged); from the start of
        # the end's hour when the end is earlier (an --until inside the stored telemetry): a
        # pull of its last step alone would delete the rest of that stored hour
        begin = min(stop, oldest).floor("h")
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


def check_pull_size(
    source: PrometheusSource,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    step: pd.Timedelta,
    config_source: str = "<fleet config>",
) -> None:
    """Refuse a pull of more than :data:`MAX_PULL_POINTS` points per series, before any request.

    Parameters
    ----------
    source : PrometheusSource
        The section whose ``step`` the pull uses.
    start, end : Timestamp
        The earliest start of any query (:func:`first_pulls` included) and the end.
    step : Timedelta
        The resolution.
    config_source : str
        The fleet file, for the message.

    Raises
    ------
    ConfigError
        More points per series than :data:`MAX_PULL_POINTS`, naming the number, the requests
        it takes, a step that fits and the window.
    """
    points = int((end - start) // step) + 1
    if points <= MAX_PULL_POINTS:
        return
    span = end - start
    fits = next(
        (s for s in _STEPS if int(span // parse_duration(s, "step")) + 1 <= MAX_PULL_POINTS), None
    )
    requests = -(-points // 10_000)  # ranges.MAX_POINTS steps a request
    raise ConfigError(
        f"a pull from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC every {source.step} "
        f"is {points:,} points per series ({requests:,} requests per query), more than the "
        f"{MAX_PULL_POINTS:,} a pull takes",
        source=config_source,
        where="key 'prometheus.step'",
        fix=(f"set prometheus.step to {fits} or coarser, or " if fits else "")
        + "pull a shorter window with --since and --until (a few pulls one after the other, "
        "each starting where the last ended); the store reads each hour as the mean of its "
        "values, so a step finer than the scrape interval adds points, not detail",
    )
