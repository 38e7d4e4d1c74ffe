"""Demand to servers: the safe load per server, learned from telemetry against the latency SLO.

The *safe load* of a region/service is the load per server (the service's demand metric, ``ccu``
or ``rps``, divided by ``servers``) at which the median hourly p99 latency reaches the p99 SLO.
Headroom and scaling size the fleet with it: ``servers = ceil(demand / safe_load)``.

:func:`learn_safe_load` learns it for one series of hours; :func:`safe_loads` does so for every
region/service of a fleet, reading the store. The method (see ``docs/sizing.md``):

1. Keep the usable hours: finite load per server and p99 (hours with no servers, gaps and, in
   :func:`safe_loads`, maintenance and outage windows are left out).
2. Fit an increasing isotonic regression (scikit-learn) of ``log(p99)`` on load per server. With
   multiplicative noise the mean of ``log(p99)`` is the log of the median p99, so the fit tracks
   the median curve without assuming its shape.
3. The fit is a staircase of blocks; join the blocks' (weighted mean load, fitted p99) points
   and read off the load where the line reaches ``log(SLO)``.
4. Resample the hours with replacement, refit and read off again; the 5 % and 95 % points of
   these crossings are the interval.

When the data cannot support a learned value the server type's ``safe_load_hint`` is used and
the result says why (``source="hint"``): fewer than ``min_samples`` usable hours, a fitted curve
that never reaches the SLO within the observed loads (the crossing would be an extrapolation;
the queueing-form extrapolation is quoted in ``reason``), an SLO already exceeded at the lowest
observed load, or fewer than ``min_above`` hours observed at or above the crossing.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from sklearn.isotonic import isotonic_regression

from capacity.columns import LATENCY_P99_MS, METRIC, REGION, SERVERS, SERVICE, TS, VALUE
from capacity.config import FleetConfig
from capacity.demand_held import held_instead, other_metrics, stored_demand_metrics
from capacity.errors import DataError, ParameterError
from capacity.parallel import map_tasks
from capacity.store import Store
from capacity.texts import load_text

__all__ = ["LOAD_PER_SERVER", "SAFE_LOAD_COLUMNS", "SafeLoad", "learn_safe_load", "safe_loads"]

#: Column of :func:`learn_safe_load`'s input: the demand metric divided by ``servers``.
LOAD_PER_SERVER = "load_per_server"

#: ``source`` of a result learned from telemetry, and of one taken from the fleet config.
LEARNED = "learned"
HINT = "hint"
METHOD_LEARNED = "isotonic+bootstrap"
METHOD_HINT = "config hint"

#: Event kinds whose hours say nothing about latency under load (drained or absent servers).
DEFAULT_EXCLUDE_KINDS = ("maintenance", "outage")


@dataclass(frozen=True)
class SafeLoad:
    """The safe load per server of one region/service, learned or taken from the config.

    Attributes
    ----------
    region, service, metric : str
        The series; ``metric`` is the service's demand metric (``ccu`` or ``rps``).
    safe_load : float
        Load per server at which the median p99 latency equals the SLO: the value to size with.
    low, high : float
        Bootstrap interval of ``safe_load`` (5 % and 95 % by default); NaN for a hint, or when
        no bootstrap was asked for.
    slo_ms : float
        The p99 latency SLO the crossing is taken at.
    method : str
        ``"isotonic+bootstrap"`` or ``"config hint"``.
    source : str
        ``"learned"`` or ``"hint"``.
    reason : str
        A short description of the fit, or why the hint was used.
    samples : int
        Usable hours.
    """

    region: str
    service: str
    metric: str
    safe_load: float
    low: float
    high: float
    slo_ms: float
    method: str
    source: str
    reason: str
    samples: int


#: Columns of :func:`safe_loads`' frame, the fields of :class:`SafeLoad` in order.
SAFE_LOAD_COLUMNS = tuple(f.name for f in fields(SafeLoad))


# --------------------------------------------------------------------------------------------
# Parameter checks
# --------------------------------------------------------------------------------------------


def _positive_number(value: Any, name: str, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        kind = "a finite number > 0" + (" or None" if allow_none else "")
        raise ParameterError(f"The {name!r} parameter must be {kind}. Got {value!r}.")
    return float(value)


def _int_at_least(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ParameterError(
            f"The {name!r} parameter must be an integer >= {minimum}. Got {value!r}."
        )
    return int(value)


def _check_interval(interval: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(q) for q in interval)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not 0 < lo < hi < 1:
        raise ParameterError(
            f"The 'interval' parameter must be two quantiles 0 < low < high < 1. Got {interval!r}."
        )
    return lo, hi


def _usable_hours(frame: Any) -> tuple[np.ndarray, np.ndarray]:
    """Load per server and p99 of the hours with both values finite, as float arrays."""
    needed = (LOAD_PER_SERVER, LATENCY_P99_MS)
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            f"The 'frame' parameter must be a pandas DataFrame with columns "
            f"{', '.join(needed)}. Got {type(frame).__name__}."
        )
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"The 'frame' parameter must have columns {', '.join(needed)}; "
            f"{', '.join(missing)} missing. Got {', '.join(map(str, frame.columns)) or 'none'}.",
            fix=f"compute {LOAD_PER_SERVER} as the demand metric divided by servers",
        )
    arrays = []
    for column in needed:
        try:
            arrays.append(pd.to_numeric(frame[column], errors="raise").to_numpy("float64"))
        except (ValueError, TypeError):
            raise DataError(
                f"values must be numbers; got dtype {frame[column].dtype}",
                where=f"column '{column}'",
            ) from None
    x, y = arrays
    usable = np.isfinite(x) & np.isfinite(y)
    for values, column, bad in ((x, LOAD_PER_SERVER, x < 0), (y, LATENCY_P99_MS, y <= 0)):
        bad &= usable
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            limit = ">= 0" if column == LOAD_PER_SERVER else "> 0"
            raise DataError(
                f"{int(bad.sum())} value(s) not {limit}, the first {values[first]:g}",
                where=f"column '{column}', row {frame.index[first]!r}",
                fix="drop or correct those hours",
            )
    return x[usable], y[usable]


# --------------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Crossing:
    """Where a fitted curve reaches a level: a load, or the side on which it never does."""

    load: float  # -inf: above the level at the lowest load; +inf: below it at the highest
    top: float  # the highest fitted value (log ms)


def _cross(loads: np.ndarray, weights: np.ndarray, sums: np.ndarray, level: float) -> _Crossing:
    """Isotonic fit of the weighted means ``sums / weights`` at sorted unique ``loads``.

    Returns where the line through the blocks' (weighted mean load, fitted value) points first
    reaches ``level``.
    """
    keep = weights > 0
    loads, weights, sums = loads[keep], weights[keep], sums[keep]
    fitted = isotonic_regression(sums / weights, sample_weight=weights, increasing=True)
    starts = np.flatnonzero(np.r_[True, fitted[1:] != fitted[:-1]])
    block_weight = np.add.reduceat(weights, starts)
    centres = np.add.reduceat(weights * loads, starts) / block_weight
    values = fitted[starts]
    if level > values[-1]:
        return _Crossing(math.inf, float(values[-1]))
    if level < values[0]:
        return _Crossing(-math.inf, float(values[-1]))
    return _Crossing(float(np.interp(level, values, centres)), float(values[-1]))


def _queueing_extrapolation(x: np.ndarray, y: np.ndarray, slo_ms: float) -> float | None:
    """Crossing of ``p99 = a + b x / (c - x)`` fitted to the hours, or None when it fails.

    Only quoted in a hint's reason: beyond the observed loads nothing checks the form.
    """
    from scipy.optimize import least_squares

    top = float(x.max())
    if top <= 0:
        return None
    scale_x, scale_y = top, float(np.median(y))
    xs, ly = x / scale_x, np.log(y / scale_y)

    def residuals(p: np.ndarray) -> np.ndarray:
        a, b, c = p
        return np.log(a + b * xs / (c - xs)) - ly

    low_end = y[x <= np.quantile(x, 0.1)]
    a0 = max(float(np.median(low_end)) / scale_y * 0.9, 1e-3)
    try:
        fit = least_squares(
            residuals,
            x0=[a0, a0 / 2, 1.5],
            bounds=([1e-6, 1e-6, 1.0 + 1e-6], [np.inf, np.inf, np.inf]),
            loss="soft_l1",
            f_scale=0.1,
            max_nfev=200,
        )
    except (ValueError, FloatingPointError):
        return None
    a, b, c = fit.x
    ratio = (slo_ms / scale_y - a) / b
    if not fit.success or ratio <= 0 or not math.isfinite(ratio):
        return None
    return float(c * ratio / (1 + ratio) * scale_x)


def learn_safe_load(
    frame: pd.DataFrame,
    *,
    slo_ms: float,
    hint: float | None = None,
    min_samples: int = 200,
    min_above: int = 10,
    n_boot: int = 200,
    interval: Sequence[float] = (0.05, 0.95),
    random_state: int | None = 0,
    region: str = "",
    service: str = "",
    metric: str = "",
) -> SafeLoad:
    """Learn the load per server at which the median p99 latency reaches the SLO.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per hour with columns ``load_per_server`` and ``latency_p99_ms``; other
        columns are ignored and the frame is not modified. Rows where either is NaN or
        infinite (e.g. an hour with no servers) are left out.
    slo_ms : float
        The p99 latency SLO, in ms (> 0).
    hint : float, optional
        The load per server to fall back to (the server type's ``safe_load_hint``).
    min_samples : int
        Fewest usable hours to learn from.
    min_above : int
        Fewest hours that must lie at or above the crossing, so that it is observed rather than
        set by the last few hours.
    n_boot : int
        Bootstrap resamples for the interval; 0 gives no interval (``low`` and ``high`` NaN).
    interval : (float, float)
        Quantiles of the bootstrap crossings reported as ``low`` and ``high``.
    random_state : int, optional
        Seed of the bootstrap; the same seed gives the same interval.
    region, service, metric : str
        Labels copied into the result.

    Returns
    -------
    SafeLoad
        Learned (``source="learned"``), or the hint with the reason (``source="hint"``).

    Raises
    ------
    ParameterError
        When ``frame`` lacks a column or a parameter is out of range.
    DataError
        When a column is not numeric, a load is negative or a p99 is not positive; or when
        the safe load cannot be learned and no ``hint`` was given (the message says why).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(50, 460, 2000)
    >>> p99 = (40 + 20 * x / (500 - x)) * np.exp(rng.normal(0, 0.05, x.size))
    >>> frame = pd.DataFrame({"load_per_server": x, "latency_p99_ms": p99})
    >>> round(learn_safe_load(frame, slo_ms=120).safe_load, -1)  # analytic: 400
    400.0
    """
    slo = _positive_number(slo_ms, "slo_ms")
    hint = _positive_number(hint, "hint", allow_none=True)
    min_samples = _int_at_least(min_samples, "min_samples", 1)
    min_above = _int_at_least(min_above, "min_above", 1)
    n_boot = _int_at_least(n_boot, "n_boot", 0)
    q_low, q_high = _check_interval(interval)
    x, y = _usable_hours(frame)
    n = len(x)
    labels = {REGION: region, SERVICE: service, METRIC: metric}

    def fallback(why: str) -> SafeLoad:
        if hint is None:
            raise DataError(
                f"cannot learn the safe load: {why}",
                where=" ".join(p for p in (region, service) if p) or None,
                fix="pass hint= (the server type's safe_load_hint) or give more telemetry",
            )
        return SafeLoad(
            **labels,
            safe_load=hint,
            low=math.nan,
            high=math.nan,
            slo_ms=slo,
            method=METHOD_HINT,
            source=HINT,
            reason=f"{why}; using the configured safe_load_hint {load_text(hint)}",
            samples=n,
        )

    if n < min_samples:
        return fallback(f"only {n:,} usable hours (min_samples={min_samples:,})")
    loads, inverse = np.unique(x, return_inverse=True)
    logs = np.log(y)
    weights = np.bincount(inverse).astype("float64")
    level = math.log(slo)
    found = _cross(loads, weights, np.bincount(inverse, logs), level)
    peak_ms = math.exp(found.top)
    if found.load == math.inf:
        guess = _queueing_extrapolation(x, y, slo)
        extrapolated = (
            f": a queueing-curve fit puts it near {load_text(guess)}" if guess is not None else ""
        )
        return fallback(
            f"the fitted median p99 never reaches the {slo:g} ms SLO within the observed loads "
            f"(it peaks at {peak_ms:.4g} ms, {peak_ms / slo:.1%} of the SLO, by load per server "
            f"{load_text(loads[-1])}; the highest hour was {y.max():.4g} ms), so the crossing "
            f"would be an extrapolation{extrapolated}"
        )
    if found.load == -math.inf:
        return fallback(
            f"p99 is above the {slo:g} ms SLO already at the lowest observed load per server "
            f"({load_text(loads[0])})"
        )
    above = int(np.count_nonzero(x >= found.load))
    if above < min_above:
        return fallback(
            f"the fit reaches the {slo:g} ms SLO at {load_text(found.load)}, but only {above} "
            f"hour(s) lie at or above it (min_above={min_above})"
        )
    low = high = math.nan
    spread = ""
    if n_boot:
        rng = np.random.default_rng(random_state)
        crossings = np.empty(n_boot)
        for i in range(n_boot):
            counts = np.bincount(rng.integers(0, n, n), minlength=n).astype("float64")
            crossings[i] = _cross(
                loads,
                np.bincount(inverse, counts, minlength=len(loads)),
                np.bincount(inverse, counts * logs, minlength=len(loads)),
                level,
            ).load
        missed = int(np.count_nonzero(~np.isfinite(crossings)))
        crossings = np.clip(crossings, loads[0], loads[-1])
        low, high = (float(v) for v in np.quantile(crossings, [q_low, q_high]))
        spread = (
            f"; {q_low:.0%}-{q_high:.0%} bootstrap interval over {n_boot} resamples of hours"
            + (f" ({missed} without a crossing, clipped to the observed loads)" if missed else "")
        )
    return SafeLoad(
        **labels,
        safe_load=found.load,
        low=low,
        high=high,
        slo_ms=slo,
        method=METHOD_LEARNED,
        source=LEARNED,
        reason=(
            f"median p99 reaches the {slo:g} ms SLO at {load_text(found.load)} per server "
            f"(isotonic fit of log p99 on {n:,} hours, {above:,} at or above it){spread}"
        ),
        samples=n,
    )


# --------------------------------------------------------------------------------------------
# The fleet
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SizingTask:
    """Everything one worker needs to learn one series' safe load (it is pickled)."""

    region: str
    service: str
    metric: str
    frame: pd.DataFrame
    slo_ms: float
    hint: float
    note: str
    params: dict[str, Any] = field(default_factory=dict)
    #: Why the series cannot be learned at all (a metric with no telemetry), or empty.
    absent: str = ""


def _learn_one(task: _SizingTask) -> SafeLoad:
    """Learn one series; bad telemetry falls back to the hint rather than stopping the fleet."""
    if task.absent:
        return SafeLoad(
            task.region,
            task.service,
            task.metric,
            task.hint,
            math.nan,
            math.nan,
            task.slo_ms,
            METHOD_HINT,
            HINT,
            f"{task.absent}; using the configured safe_load_hint {load_text(task.hint)}",
            0,
        )
    try:
        result = learn_safe_load(
            task.frame,
            slo_ms=task.slo_ms,
            hint=task.hint,
            region=task.region,
            service=task.service,
            metric=task.metric,
            **task.params,
        )
    except DataError as exc:
        result = SafeLoad(
            task.region,
            task.service,
            task.metric,
            task.hint,
            math.nan,
            math.nan,
            task.slo_ms,
            METHOD_HINT,
            HINT,
            f"unusable telemetry ({exc}); using the configured safe_load_hint "
            f"{load_text(task.hint)}",
            0,
        )
    if task.note:
        result = SafeLoad(**{**asdict(result), "reason": f"{result.reason}; {task.note}"})
    return result


def _names(value: str | Collection[str] | None, known: Collection[str], name: str) -> list[str]:
    if value is None:
        return list(known)
    chosen = [value] if isinstance(value, str) else list(value)
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise ParameterError(
            f"The {name!r} parameter must name {name} of the fleet ({', '.join(known)}). "
            f"Got {', '.join(map(repr, unknown))}."
        )
    return chosen


def _excluded_hours(
    store: Store, kinds: Collection[str], start: Any, end: Any
) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Windows ``[start, end)`` of the excluded event kinds, per region (``"all"`` for all)."""
    if not kinds:
        return {}
    events = store.events(start=start, end=end, kinds=list(kinds), strict=False)
    windows: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    for row in events.itertuples(index=False):
        for region in row.regions:
            windows.setdefault(region, []).append((row.start_ts, row.end_ts))
    return windows


def _absent_metrics(
    part: pd.DataFrame, metric: str, *, start: Any, end: Any, instead: str = ""
) -> str:
    """Why a series' safe load cannot be learned at all: the metrics it needs of which the
    store holds no value for the series (in ``start``/``end``), or ``""`` when each has some.

    Without this, a service never exporting its latency was reported as having "only 0
    usable hours", as if a longer history would do. ``instead`` is what the store holds in
    place of ``metric``, and the fix (:func:`capacity.demand_held.held_instead`): a pair whose
    demand was loaded under the other metric is not asked to export what it exports."""
    absent = [m for m in (LATENCY_P99_MS, SERVERS, metric) if not part[m].notna().any()]
    if not absent:
        return ""
    window = " in the hours read" if start is not None or end is not None else ""
    how = (
        f"(the safe load is learned from load per server, {metric} divided by servers, "
        "against p99 latency)"
    )
    if instead and metric in absent:
        rest = [m for m in absent if m != metric]
        also = f"; and export {' and '.join(rest)}" if rest else ""
        return f"no {metric} telemetry for this region/service{window} {how}: {instead}{also}"
    if len(absent) == 3:
        return (
            f"no telemetry for this region/service{window} {how}: load its {metric}, servers "
            f"and {LATENCY_P99_MS} to learn it"
        )
    return (
        f"no {' or '.join(absent)} telemetry for this region/service{window} {how}: "
        f"export {' and '.join(absent)} to learn it"
    )


def safe_loads(
    store: Store,
    fleet: FleetConfig,
    *,
    start: Any = None,
    end: Any = None,
    regions: str | Collection[str] | None = None,
    services: str | Collection[str] | None = None,
    exclude_kinds: Collection[str] = DEFAULT_EXCLUDE_KINDS,
    min_samples: int = 200,
    min_above: int = 10,
    n_boot: int = 200,
    interval: Sequence[float] = (0.05, 0.95),
    random_state: int | None = 0,
    jobs: int | None = 1,
    scheduler: Any = None,
) -> pd.DataFrame:
    """Learn the safe load per server of every region/service of the fleet.

    Reads, per region and service, the service's demand metric, ``servers`` and
    ``latency_p99_ms`` hourly from the store, divides load by servers and calls
    :func:`learn_safe_load` with the service's p99 SLO and its server type's
    ``safe_load_hint``. Hours with no servers, with a gap in any of the three metrics, or
    inside an event of ``exclude_kinds`` for the region are left out. A series that cannot be
    learned, even one whose telemetry is invalid, gets the hint and the reason; it never stops
    the run.

    Parameters
    ----------
    store : Store
        The telemetry (and, for ``exclude_kinds``, the live-ops calendar).
    fleet : FleetConfig
        Regions, services (demand metric, SLO, server type) and server types (hints).
    start, end : timestamp-like, optional
        Use hours ``start <= ts < end``; default all.
    regions, services : str or collection of str, optional
        Restrict to these; default every region and service of the fleet.
    exclude_kinds : collection of str
        Calendar event kinds whose hours are left out; default maintenance and outages.
    min_samples, min_above, n_boot, interval, random_state
        As in :func:`learn_safe_load`.
    jobs, scheduler
        The fan-out (see :func:`capacity.parallel.map_tasks`); one series takes well under a
        second, so the default runs in this process.

    Returns
    -------
    pandas.DataFrame
        One row per region/service, columns :data:`SAFE_LOAD_COLUMNS`, sorted by region and
        service.

    Raises
    ------
    ParameterError
        When a region or service is not in the fleet, or a parameter is out of range.
    """
    chosen_regions = _names(regions, list(fleet.regions), "regions")
    chosen_services = _names(services, list(fleet.services), "services")
    params = {
        "min_samples": _int_at_least(min_samples, "min_samples", 1),
        "min_above": _int_at_least(min_above, "min_above", 1),
        "n_boot": _int_at_least(n_boot, "n_boot", 0),
        "interval": _check_interval(interval),
        "random_state": random_state,
    }
    demand = {s: fleet.services[s].demand_metric for s in chosen_services}
    metrics = sorted({*demand.values(), SERVERS, LATENCY_P99_MS})
    long = store.series(
        region=chosen_regions,
        service=chosen_services,
        metric=metrics,
        start=start,
        end=end,
        strict=False,
    )
    wide = long.set_index([REGION, SERVICE, TS, METRIC])[VALUE].unstack(METRIC)
    windows = _excluded_hours(store, exclude_kinds, start, end)
    # a pair whose demand was loaded under the other metric is told so, not to export it
    held = stored_demand_metrics(
        store.con, [(r, s) for r in chosen_regions for s in chosen_services]
    )
    tasks = []
    for region in sorted(chosen_regions):
        for service in sorted(chosen_services):
            metric = demand[service]
            try:
                part = wide.xs((region, service), level=(REGION, SERVICE))
            except KeyError:
                part = pd.DataFrame(columns=metrics, index=pd.DatetimeIndex([], tz="UTC"))
            part = part.reindex(columns=metrics)
            ts = part.index
            drop = np.zeros(len(part), dtype=bool)
            for lo, hi in windows.get(region, []) + windows.get("all", []):
                drop |= (ts >= lo) & (ts < hi)
            servers = part[SERVERS].to_numpy("float64")
            latency = part[LATENCY_P99_MS].to_numpy("float64")
            with np.errstate(divide="ignore", invalid="ignore"):
                per_server = np.where(
                    servers > 0, part[metric].to_numpy("float64") / servers, np.nan
                )
            drop &= np.isfinite(per_server) & np.isfinite(latency)
            per_server[drop] = np.nan
            frame = pd.DataFrame({LOAD_PER_SERVER: per_server, LATENCY_P99_MS: latency}, index=ts)
            note = (
                f"{int(drop.sum()):,} hours in {'/'.join(exclude_kinds)} windows left out"
                if drop.any()
                else ""
            )
            spec = fleet.services[service]
            others = other_metrics(held, region, service, metric)
            absent = _absent_metrics(
                part,
                metric,
                start=start,
                end=end,
                instead=held_instead(service, metric, others) if others else "",
            )
            tasks.append(
                _SizingTask(
                    region=region,
                    service=service,
                    metric=metric,
                    frame=frame,
                    slo_ms=spec.slo.latency_p99_ms,
                    hint=fleet.server_type_of(service).safe_load_hint,
                    note=note,
                    params=params,
                    absent=absent,
                )
            )
    results = map_tasks(_learn_one, tasks, jobs=jobs, scheduler=scheduler)
    return pd.DataFrame([asdict(r) for r in results], columns=list(SAFE_LOAD_COLUMNS))
