"""A series' labels: as PromQL writes them, checked against the fleet, and the aggregation
that gives one series per region and service for each metric."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from capacity.columns import COUNT_METRICS, CPU_UTIL, ERROR_RATE, REGION, SERVICE
from capacity.config import FleetConfig, PrometheusSource
from capacity.errors import ConfigError
from capacity.records import closest
from capacity.texts import first_few


def _show_labels(labels: Mapping[str, str]) -> str:
    """A series' labels as PromQL writes them: ``{region="eu-west", service="game"}``."""
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


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
        unknown = sorted(set(frame[column].unique()) - set(known))
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
