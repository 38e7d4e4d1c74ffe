"""Series resampled to a regular grid in SQL, an empty bucket NULL and never zero
(:func:`grid_query`), and the ways values within a bucket combine (:data:`AGGREGATES`)."""

from __future__ import annotations

from capacity.errors import ParameterError
from capacity.units import parse_duration

#: How values within a time bucket combine, by the name users give.
AGGREGATES = {
    "mean": "avg(value)",
    "max": "max(value)",
    "min": "min(value)",
    "sum": "sum(value)",
    "median": "median(value)",
    "first": "arg_min(value, ts)",
    "last": "arg_max(value, ts)",
}


def grid_query(
    relation: str,
    params: list[object],
    *,
    freq: str,
    agg: str,
    start: object = None,
    end: object = None,
) -> tuple[str, list[object]]:
    """SQL resampling series to a regular grid where empty buckets are NULL, never zero.

    Parameters
    ----------
    relation : str
        A parenthesised query with columns ``region, service, metric, ts, value``.
    params : list
        Its parameters.
    freq : str
        Bucket width, e.g. ``"1h"``.
    agg : str
        A key of :data:`AGGREGATES`.
    start, end : timestamp, optional
        The grid covers the buckets from ``start`` to before ``end``; by default each
        series' first to last bucket.

    Returns
    -------
    tuple of (str, list)
        The query (columns ``ts, region, service, metric, value``, sorted by series and
        time) and its parameters.
    """
    width = parse_duration(freq, "freq")
    if agg not in AGGREGATES:
        raise ParameterError(
            f"The 'agg' parameter must be one of {', '.join(AGGREGATES)}. Got {agg!r}."
        )
    interval = f"{int(width.total_seconds() * 1_000_000)} microseconds"
    query = f"""
        WITH buckets AS (
            SELECT region, service, metric, time_bucket(CAST(? AS INTERVAL), ts) AS ts,
                   {AGGREGATES[agg]} AS value
            FROM {relation} AS selected
            GROUP BY ALL
        ), spans AS (
            SELECT region, service, metric,
                   coalesce(time_bucket(CAST(? AS INTERVAL), CAST(? AS TIMESTAMPTZ)),
                            min(ts)) AS lo,
                   coalesce(time_bucket(CAST(? AS INTERVAL),
                                        CAST(? AS TIMESTAMPTZ) - INTERVAL 1 MICROSECOND),
                            max(ts)) AS hi
            FROM buckets GROUP BY ALL
        ), grid AS (
            SELECT region, service, metric,
                   unnest(generate_series(lo, hi, CAST(? AS INTERVAL))) AS ts
            FROM spans
        )
        SELECT g.ts, g.region, g.service, g.metric, b.value
        FROM grid g LEFT JOIN buckets b USING (region, service, metric, ts)
        ORDER BY g.region, g.service, g.metric, g.ts
    """
    return query, [interval, *params, interval, start, interval, end, interval]
