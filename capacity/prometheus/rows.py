"""What a pull returns: :class:`Pull`, a query's series as long telemetry rows (NaN samples
dropped as gaps, never zeros; a series without the region or service label, a second series
for one region and service, or a sample that is not a number refused), the region/service
pairs one metric lacks that others have, and those whose samples were all NaN."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from capacity.columns import METRIC, REGION, SERVICE, TS, VALUE
from capacity.config import PrometheusSource
from capacity.errors import ConfigError
from capacity.prometheus.labels import _aggregation, _show_labels
from capacity.prometheus.samples import _Samples


@dataclass(frozen=True)
class Pull:
    """What :func:`pull` read.

    Attributes
    ----------
    rows : pandas.DataFrame
        Long telemetry: ``ts, region, service, metric, value``, sorted by time, region,
        service and metric; the three names are categorical columns (a few bytes a row).
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
    only_nan : tuple of (str, tuple of (str, str))
        Per metric, the region/service pairs whose series held only NaN (not-a-number)
        samples in the range, such as a ratio whose denominator was zero throughout: gaps, so
        they have no rows (and count as missing, or the metric as empty, above).
    warnings, infos : tuple of str
        The server's ``warnings`` and ``infos`` about the queries' results (a remote storage
        that failed, so a partial result; a PromQL hint), each distinct text once, as
        ``text (prometheus.queries.ccu, ...)``.
    """

    rows: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    step: pd.Timedelta
    empty: tuple[str, ...]
    requests: int
    url: str
    missing: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    only_nan: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    warnings: tuple[str, ...] = ()
    infos: tuple[str, ...] = ()


def _long_rows(
    series: list[_Samples],
    metric: str,
    source: PrometheusSource,
    *,
    key: str,
    config_source: str,
) -> pd.DataFrame:
    """One query's series as long rows, ``region``, ``service`` and ``metric`` as categorical
    columns with sorted categories; NaN samples dropped as gaps."""
    labels_of: dict[tuple[str, str], dict[str, str]] = {}
    parts: list[tuple[str, str, np.ndarray, np.ndarray]] = []
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
        parts.append((region, service, seconds, np.concatenate(item.values)))
    if not parts:
        return _no_rows()
    # one frame for the query, its labels as categories: a point holds 8 bytes of time, 8 of
    # value and 3 of labels, where three columns of strings held 24 or more (each series' own
    # frame, joined, had held every point twice)
    seconds = np.concatenate([part[2] for part in parts])
    times = pd.to_datetime(pd.Series(seconds, dtype="float64"), unit="s", utc=True)
    del seconds
    counts = [len(part[2]) for part in parts]
    frame = pd.DataFrame({TS: times.dt.round("ms")})
    del times
    for column, at in ((REGION, 0), (SERVICE, 1)):
        names = sorted({part[at] for part in parts})
        codes = [names.index(part[at]) for part in parts]
        frame[column] = pd.Categorical.from_codes(np.repeat(codes, counts), categories=names)
    frame[METRIC] = pd.Categorical.from_codes(np.zeros(len(frame), dtype="int8"), [metric])
    frame[VALUE] = np.concatenate([part[3] for part in parts])
    return frame


def _nan_pairs(series: list[_Samples], source: PrometheusSource) -> tuple[tuple[str, str], ...]:
    """The region/service pairs of a query's series (checked by :func:`_long_rows`) that held
    samples, every one of them NaN, sorted."""
    return tuple(
        sorted(
            (item.labels[source.region_label], item.labels[source.service_label])
            for item in series
            if item.nans and not any(len(part) for part in item.seconds)
        )
    )


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The queries' rows as one frame sorted by time, region, service and metric, the label
    columns' categories united (joining categories that differ would turn them into strings)."""
    if not frames:
        return _no_rows()
    if len(frames) == 1:
        rows = frames[0]
    else:
        rows = pd.DataFrame({TS: pd.concat([f[TS] for f in frames], ignore_index=True)})
        for column in (REGION, SERVICE, METRIC):
            rows[column] = union_categoricals(
                [f[column].array for f in frames], sort_categories=True
            )
        rows[VALUE] = np.concatenate([f[VALUE].to_numpy() for f in frames])
    # categories in sorted order, so their codes sort as the names do
    order = np.lexsort(
        (
            rows[METRIC].cat.codes.to_numpy(),
            rows[SERVICE].cat.codes.to_numpy(),
            rows[REGION].cat.codes.to_numpy(),
            rows[TS].dt.tz_localize(None).to_numpy(),  # numbers, not Timestamp objects
        )
    )
    return rows.take(order).reset_index(drop=True)


def _missing_pairs(rows: pd.DataFrame) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Per metric with rows, the region/service pairs other metrics have rows for and it lacks."""
    names = rows[[METRIC, REGION, SERVICE]].drop_duplicates()  # not a tuple per row
    have = {
        metric: set(zip(group[REGION], group[SERVICE], strict=True))
        for metric, group in names.groupby(METRIC, sort=True, observed=True)
    }
    every = set().union(*have.values()) if have else set()
    return tuple(
        (metric, tuple(sorted(every - pairs))) for metric, pairs in have.items() if every - pairs
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
