"""Load per server against p99 latency, for the ``explore_telemetry`` notebook.

:func:`load_latency_frame` turns tidy telemetry of one region/service into hours of load
per server and p99 latency, flagging the hours sizing leaves out (maintenance, outages);
:func:`load_latency` reads them from the store; :func:`latency_by_load` is the median
curve the hours scatter around.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from capacity.columns import END_TS, LATENCY_P99_MS, METRIC, SERVERS, START_TS, TS, VALUE
from capacity.errors import ParameterError
from capacity.review.constants import EXCLUDED, LOAD_PER_SERVER
from capacity.review.inputs import positive_int

if TYPE_CHECKING:
    from capacity.config import FleetConfig
    from capacity.store import Store

#: Demand/latency metrics per hour that :func:`load_latency` reads besides the demand metric.
_LATENCY_METRICS = (SERVERS, LATENCY_P99_MS)


def load_latency_frame(
    telemetry: pd.DataFrame,
    *,
    demand_metric: str,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Hourly load per server and p99 latency of one region/service, from tidy telemetry.

    Parameters
    ----------
    telemetry : pandas.DataFrame
        Long rows ``ts, metric, value`` (other columns ignored) holding ``demand_metric``,
        ``servers`` and ``latency_p99_ms`` of one region/service on one grid.
    demand_metric : str
        The service's demand metric (``ccu`` or ``rps``).
    events : pandas.DataFrame, optional
        Calendar windows (``start_ts``, ``end_ts``) whose hours sizing leaves out; their
        hours are kept but flagged ``excluded``.

    Returns
    -------
    pandas.DataFrame
        ``ts, load_per_server, latency_p99_ms, excluded`` for the hours where both values are
        finite (hours with no servers have no load per server), sorted by ``ts``.
    """
    wanted = [demand_metric, *_LATENCY_METRICS]
    wide = (
        telemetry[telemetry[METRIC].isin(wanted)]
        .pivot_table(index=TS, columns=METRIC, values=VALUE, aggfunc="mean", dropna=False)
        .reindex(columns=wanted)
        .sort_index()
    )
    servers = wide[SERVERS].to_numpy("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_server = np.where(
            servers > 0, wide[demand_metric].to_numpy("float64") / servers, np.nan
        )
    ts = pd.DatetimeIndex(wide.index)
    excluded = np.zeros(len(ts), dtype=bool)
    if events is not None:
        for start, end in zip(events[START_TS], events[END_TS], strict=True):
            excluded |= np.asarray((ts >= start) & (ts < end))
    frame = pd.DataFrame(
        {
            TS: ts,
            LOAD_PER_SERVER: per_server,
            LATENCY_P99_MS: wide[LATENCY_P99_MS].to_numpy("float64"),
            EXCLUDED: excluded,
        }
    )
    usable = np.isfinite(frame[LOAD_PER_SERVER]) & np.isfinite(frame[LATENCY_P99_MS])
    return frame[usable.to_numpy()].reset_index(drop=True)


def load_latency(
    store: Store,
    fleet: FleetConfig,
    region: str,
    service: str,
    *,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """:func:`load_latency_frame` read from the store, flagging maintenance and outage hours.

    Parameters
    ----------
    store : Store
        Telemetry and calendar.
    fleet : FleetConfig
        Gives the service's demand metric.
    region, service : str
        The series; both must be in the fleet.
    start, end : timestamp-like, optional
        Hours ``start <= ts < end``; default all.

    Returns
    -------
    pandas.DataFrame
        As :func:`load_latency_frame`.

    Raises
    ------
    ParameterError
        When the region or service is not in the fleet.
    """
    from capacity.sizing import DEFAULT_EXCLUDE_KINDS

    for name, value, known in (
        ("region", region, fleet.regions),
        ("service", service, fleet.services),
    ):
        if value not in known:
            raise ParameterError(
                f"The {name!r} parameter must name a {name} of the fleet ({', '.join(known)}). "
                f"Got {value!r}."
            )
    metric = fleet.services[service].demand_metric
    telemetry = store.series(
        region=region,
        service=service,
        metric=[metric, *_LATENCY_METRICS],
        start=start,
        end=end,
        strict=False,
    )
    events = store.events(
        start=start, end=end, region=region, kinds=list(DEFAULT_EXCLUDE_KINDS), strict=False
    )
    return load_latency_frame(telemetry, demand_metric=metric, events=events)


def latency_by_load(frame: pd.DataFrame, *, bins: int = 20) -> pd.DataFrame:
    """The median p99 latency per bin of load per server: the curve the hours scatter around.

    Hours flagged ``excluded`` are left out. Bins hold equal numbers of hours (quantile
    bins); each row is a bin's median load and median p99.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`load_latency_frame`.
    bins : int
        Number of bins (fewer when there are fewer distinct loads).

    Returns
    -------
    pandas.DataFrame
        ``load_per_server, latency_p99_ms, hours``, by increasing load.
    """
    bins = positive_int(bins, "bins", cell=False)
    used = frame[~frame[EXCLUDED]] if EXCLUDED in frame else frame
    if used.empty:
        return pd.DataFrame({LOAD_PER_SERVER: [], LATENCY_P99_MS: [], "hours": []})
    ranks = used[LOAD_PER_SERVER].rank(method="first").to_numpy()
    which = np.minimum(((ranks - 1) * bins // len(used)).astype(int), bins - 1)
    grouped = used.groupby(which)
    return pd.DataFrame(
        {
            LOAD_PER_SERVER: grouped[LOAD_PER_SERVER].median().to_numpy(),
            LATENCY_P99_MS: grouped[LATENCY_P99_MS].median().to_numpy(),
            "hours": grouped.size().to_numpy(),
        }
    )
