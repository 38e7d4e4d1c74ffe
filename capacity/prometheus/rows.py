"""What a pull returns: :class:`Pull`, a query's series as long telemetry rows (NaN samples
dropped as gaps, a series without the region or service label, a second series for one
region and service, or a sample that is not a number refused), and the region/service pairs
one metric lacks that others have."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
