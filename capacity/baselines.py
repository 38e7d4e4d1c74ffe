"""Reference forecasters that any better model must beat, honouring the forecaster contract.

The contract (see :mod:`capacity.backtest`): ``fit(series, events=None)`` returns the
forecaster, ``predict(horizon, events=None)`` returns ``ts``, ``yhat`` and one column per
quantile in ``quantiles``; after ``fit`` the forecaster has ``freq_``. Each class here is
estimator-like: ``__init__`` only stores its arguments, ``fit`` validates them and the series,
learns attributes whose names end in ``_`` and starts over when called again, and
``get_params`` returns the constructor's arguments so a backtest can build fresh copies.

* :class:`SeasonalNaive` repeats the last season, with quantiles from its own in-sample errors.
* :class:`ProphetDefault` is Prophet with its default settings, quantiles from its predictive
  samples, no events.
* :class:`Naive2` is the M4 competition's reference, the naive forecast of the seasonally
  adjusted series; OWA is measured against it.

None of them uses the live-ops calendar; they accept ``events`` to honour the contract and
ignore it.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Self

import numpy as np
import pandas as pd

from capacity.backtest import validate_series
from capacity.columns import DEFAULT_QUANTILES, TS, VALUE, YHAT, quantile_column
from capacity.errors import DataError, InputError, ParameterError
from capacity.prophet_fit import fit_prophet, quiet_import
from capacity.quantile_levels import check_quantiles

__all__ = ["Naive2", "ProphetDefault", "SeasonalNaive", "seasonality_test"]

_DAY = pd.Timedelta(days=1)
#: Two-sided 90% critical value of the M4 seasonality test.
_M4_TCRIT = 1.645


class _Params:
    """``get_params``/``set_params``/``repr`` from the constructor's arguments."""

    _param_names: tuple[str, ...] = ()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments, by name (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params: Any) -> Self:
        """Set constructor arguments; the forecaster must be fitted again to use them."""
        for name, value in params.items():
            if name not in self._param_names:
                raise ParameterError(
                    f"{type(self).__name__} has no parameter {name!r}. Valid parameters: "
                    f"{', '.join(self._param_names)}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise InputError(
                f"This {type(self).__name__} instance is not fitted yet.",
                fix="call fit(series) before predict",
            )

    def _forget(self) -> None:
        """Drop every learned attribute, so a refit starts from nothing."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)


def _check_int(value: Any, name: str, minimum: int = 1) -> int:
    if (
        isinstance(value, bool | np.timedelta64)  # numpy's timedelta is an integer to numpy
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ParameterError(f"The {name!r} parameter must be {kind}. Got {value!r}.")
    return int(value)


@contextmanager
def _quiet_prophet() -> Iterator[None]:
    """Hide the pandas deprecation warnings Prophet's own code raises under pandas 3."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The inplace keyword", module="prophet")
        yield


def _horizon_ts(last: pd.Timestamp, freq: pd.Timedelta, horizon: int) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([last + k * freq for k in range(1, horizon + 1)])


# ------------------------------------------------------------------------------ SeasonalNaive


class SeasonalNaive(_Params):
    """Repeat the last season; quantiles from the in-sample seasonal-naive errors.

    The point forecast for step ``h`` is the value one, two, ... seasons earlier that lies in
    the last season of the training data. A gap (NaN) in the last season is filled from the
    season before (and further back when that is a gap too).

    The quantiles add to the point forecast the empirical quantiles of the in-sample errors
    ``y[t] - y[t - season_length]`` (every pair where both are known), widened by
    ``sqrt(k)`` for a step ``k`` seasons ahead, as for a random walk over seasons. The point
    forecast and every quantile are clipped at 0 (demand is never negative).

    Parameters
    ----------
    season_length : int
        The seasonal period in steps: 168 (a week of hours) or 24 (a day).
    quantiles : sequence of float
        Quantiles to report, in (0, 1), increasing; may be empty.

    Attributes
    ----------
    freq_ : pandas.Timedelta
        The training series' step.
    last_ts_ : pandas.Timestamp
        The last training timestamp.
    season_ : numpy.ndarray
        The last season, gaps filled; ``season_[i]`` is the value at
        ``last_ts_ - (season_length - 1 - i) * freq_``.
    error_quantiles_ : numpy.ndarray
        One in-sample error quantile per entry of ``quantiles``.
    n_errors_ : int
        The number of in-sample errors they come from.
    """

    _param_names = ("season_length", "quantiles")

    def __init__(
        self, season_length: int = 168, quantiles: Sequence[float] = DEFAULT_QUANTILES
    ) -> None:
        self.season_length = season_length
        self.quantiles = quantiles

    def fit(self, series: pd.DataFrame, events: pd.DataFrame | None = None) -> Self:
        """Learn the last season and the error distribution from ``series``.

        Parameters
        ----------
        series : pandas.DataFrame
            Columns ``ts`` (tz-aware, regular grid) and ``value``; NaN marks a gap.
        events : pandas.DataFrame, optional
            Ignored.

        Returns
        -------
        SeasonalNaive
            The fitted forecaster.

        Raises
        ------
        ParameterError
            When a parameter or the series is malformed, or the series is shorter than one
            season (one season and one step when quantiles are asked for).
        DataError
            When a position of the season has no value in the whole series, or no
            in-sample error can be computed.
        """
        self._forget()
        m = _check_int(self.season_length, "season_length")
        quantiles = check_quantiles(self.quantiles)
        frame, freq = validate_series(series)
        y = frame[VALUE].to_numpy()
        needed = m + 1 if quantiles else m
        if len(y) < needed:
            raise ParameterError(
                f"SeasonalNaive(season_length={m}) needs at least {needed} rows of history. "
                f"Got {len(y)}.",
                fix="pass a longer series or a shorter season_length",
            )
        pad = (-len(y)) % m
        seasons = np.concatenate([np.full(pad, np.nan), y]).reshape(-1, m)
        season = seasons[-1].copy()
        for earlier in seasons[-2::-1]:
            gaps = np.isnan(season)
            if not gaps.any():
                break
            season[gaps] = earlier[gaps]
        if np.isnan(season).any():
            first = int(np.flatnonzero(np.isnan(season))[0])
            raise DataError(
                f"no value at position {first} of the {m}-step season anywhere in the series",
                source="series",
                fix="pass a series with at least one value at every position of the season",
            )
        errors = y[m:] - y[:-m]
        errors = errors[~np.isnan(errors)]
        if quantiles and len(errors) == 0:
            raise DataError(
                f"no pair of values {m} steps apart, so the forecast error cannot be estimated",
                source="series",
                fix="pass a series with fewer gaps or more history",
            )
        self.freq_ = freq
        self.last_ts_ = frame[TS].iloc[-1]
        self.season_ = season
        self.error_quantiles_ = (
            np.quantile(errors, quantiles) if quantiles else np.empty(0, dtype=float)
        )
        self.n_errors_ = len(errors)
        return self

    def predict(self, horizon: int, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the training data.

        Parameters
        ----------
        horizon : int
            Number of steps.
        events : pandas.DataFrame, optional
            Ignored.

        Returns
        -------
        pandas.DataFrame
            ``ts``, ``yhat`` and one column per quantile.
        """
        self._check_fitted("season_")
        horizon = _check_int(horizon, "horizon")
        m = len(self.season_)
        h = np.arange(1, horizon + 1)
        yhat = self.season_[(h - 1) % m]
        widen = np.sqrt((h - 1) // m + 1)
        out = pd.DataFrame({TS: _horizon_ts(self.last_ts_, self.freq_, horizon)})
        out[YHAT] = np.clip(yhat, 0, None)
        for q, error in zip(check_quantiles(self.quantiles), self.error_quantiles_, strict=True):
            out[quantile_column(q)] = np.clip(yhat + error * widen, 0, None)
        return out


# ------------------------------------------------------------------------------ ProphetDefault


class ProphetDefault(_Params):
    """Prophet with its default settings: the baseline the project's forecaster must beat.

    Daily seasonality is switched on when the series' step is shorter than a day (Prophet's
    ``"auto"`` would do the same given two days of data); weekly and yearly stay ``"auto"``. No
    events, no holidays. Quantiles come from Prophet's posterior predictive samples over the
    forecast horizon only; the point forecast is Prophet's ``yhat``. Both are clipped at 0.

    Parameters
    ----------
    quantiles : sequence of float
        Quantiles to report, in (0, 1), increasing.
    uncertainty_samples : int
        Predictive samples drawn per forecast (Prophet's default, 1000).
    random_state : int or None
        Seed of the sampling, for repeatable quantiles; None draws from numpy's global state.
        The global state is restored after sampling either way.

    Attributes
    ----------
    freq_ : pandas.Timedelta
        The training series' step.
    last_ts_ : pandas.Timestamp
        The last training timestamp.
    prophet_ : prophet.Prophet
        The fitted model.
    """

    _param_names = ("quantiles", "uncertainty_samples", "random_state")

    def __init__(
        self,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        uncertainty_samples: int = 1000,
        random_state: int | None = 0,
    ) -> None:
        self.quantiles = quantiles
        self.uncertainty_samples = uncertainty_samples
        self.random_state = random_state

    def fit(self, series: pd.DataFrame, events: pd.DataFrame | None = None) -> Self:
        """Fit Prophet to ``series`` (gaps are left out of the fit).

        Raises
        ------
        ParameterError
            When a parameter or the series is malformed.
        DataError
            When the series has fewer than two known values.
        """
        with quiet_import():
            import cmdstanpy
            from prophet import Prophet

        self._forget()
        check_quantiles(self.quantiles)
        _check_int(self.uncertainty_samples, "uncertainty_samples")
        if self.random_state is not None:
            _check_int(self.random_state, "random_state", minimum=0)
        frame, freq = validate_series(series)
        known = frame[frame[VALUE].notna()]
        if len(known) < 2:
            raise DataError(
                f"Prophet needs at least 2 known values; the series has {len(known)}",
                source="series",
            )
        cmdstanpy.disable_logging()
        model = Prophet(
            daily_seasonality=True if freq < _DAY else "auto",
            uncertainty_samples=int(self.uncertainty_samples),
        )
        with _quiet_prophet():
            fit_prophet(
                model, pd.DataFrame({"ds": known[TS].dt.tz_convert(None), "y": known[VALUE]})
            )
        self.freq_ = freq
        self.last_ts_ = frame[TS].iloc[-1]
        self.prophet_ = model
        return self

    def predict(self, horizon: int, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the training data (``events`` is ignored)."""
        self._check_fitted("prophet_")
        horizon = _check_int(horizon, "horizon")
        quantiles = check_quantiles(self.quantiles)
        model = self.prophet_
        ts = _horizon_ts(self.last_ts_, self.freq_, horizon)
        future = pd.DataFrame({"ds": ts.tz_convert(None)})
        # The point forecast as Prophet.predict computes it, without drawing samples twice.
        state = np.random.get_state()
        try:
            with _quiet_prophet():
                frame = model.setup_dataframe(future.copy())
                trend = model.predict_trend(frame)
                parts = model.predict_seasonal_components(frame)
                yhat = trend * (1 + parts["multiplicative_terms"]) + parts["additive_terms"]
                if self.random_state is not None:
                    np.random.seed(self.random_state)
                samples = model.predictive_samples(future)["yhat"]
        finally:
            np.random.set_state(state)
        out = pd.DataFrame({TS: ts, YHAT: np.clip(np.asarray(yhat, dtype=float), 0, None)})
        if quantiles:
            values = np.quantile(samples, quantiles, axis=1)
            for q, row in zip(quantiles, values, strict=True):
                out[quantile_column(q)] = np.clip(row, 0, None)
        return out


# ------------------------------------------------------------------------------ Naive2


def seasonality_test(values: Sequence[float] | np.ndarray, season_length: int) -> bool:
    """The M4 competition's seasonality test: is the autocorrelation at the seasonal lag large?

    True when ``|r_m| > 1.645 * sqrt((1 + 2 * sum(r_k**2, k=1..m-1)) / n)``, with ``r_k`` the
    sample autocorrelation at lag ``k`` and ``m = season_length`` (a 90% test, as in the M4
    benchmarks' R code). Series shorter than three seasons are not seasonal.

    Parameters
    ----------
    values : sequence of float
        The series, without gaps.
    season_length : int
        The seasonal period ``m``.

    Returns
    -------
    bool
    """
    m = _check_int(season_length, "season_length")
    y = np.asarray(values, dtype=float)
    n = len(y)
    if m == 1 or n < 3 * m:
        return False
    centred = y - y.mean()
    denominator = float(centred @ centred)
    if denominator == 0:
        return False
    acf = np.array([centred[k:] @ centred[:-k] for k in range(1, m + 1)]) / denominator
    limit = _M4_TCRIT * math.sqrt((1 + 2 * float(np.sum(acf[:-1] ** 2))) / n)
    return bool(abs(acf[-1]) > limit)


def _seasonal_indices(y: np.ndarray, m: int) -> np.ndarray:
    """Classical multiplicative decomposition's seasonal figure (R's ``decompose``).

    Position ``p`` of the series (0-based) has index ``figure[p % m]``; the figure averages 1.
    """
    # R's default filter: a 2 x m moving average for even m, an m moving average for odd m.
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = len(weights) // 2
    trend = np.full(len(y), np.nan)
    trend[half : len(y) - half] = np.convolve(y, weights, mode="valid")
    ratio = y / trend
    figure = np.array([np.nanmean(ratio[i::m]) for i in range(m)])
    return figure / figure.mean()


class Naive2(_Params):
    """The M4 competition's Naive2: the naive forecast of the seasonally adjusted series.

    When :func:`seasonality_test` finds the training series seasonal at ``season_length``, the
    series is divided by the seasonal indices of a classical multiplicative decomposition
    (centred moving average of order ``season_length``, as R's ``decompose``), its last value
    is carried forward and multiplied back by the indices of the forecast positions. Otherwise
    the forecast is the last value. Gaps are filled by linear interpolation first; a series
    with a value <= 0 is treated as not seasonal (the decomposition is multiplicative).

    A point forecast only: ``quantiles`` is empty.

    Parameters
    ----------
    season_length : int
        The seasonal period (24 for M4 Hourly).

    Attributes
    ----------
    freq_ : pandas.Timedelta
    last_ts_ : pandas.Timestamp
    seasonal_ : bool
        Whether the seasonality test passed.
    level_ : float
        The last seasonally adjusted value.
    indices_ : numpy.ndarray
        The seasonal index of the next ``season_length`` positions after the training data
        (all 1 when not seasonal).
    """

    _param_names = ("season_length",)
    quantiles: tuple[float, ...] = ()

    def __init__(self, season_length: int = 24) -> None:
        self.season_length = season_length

    def fit(self, series: pd.DataFrame, events: pd.DataFrame | None = None) -> Self:
        """Test for seasonality and learn the adjusted last value (``events`` is ignored)."""
        self._forget()
        m = _check_int(self.season_length, "season_length")
        frame, freq = validate_series(series)
        y = frame[VALUE].interpolate(limit_direction="both").to_numpy()
        if np.isnan(y).all():
            raise DataError("the series has no values", source="series")
        n = len(y)
        seasonal = bool((y > 0).all()) and seasonality_test(y, m)
        if seasonal:
            figure = _seasonal_indices(y, m)
            level = y[-1] / figure[(n - 1) % m]
            indices = figure[(n + np.arange(m)) % m]
        else:
            level = y[-1]
            indices = np.ones(m)
        self.freq_ = freq
        self.last_ts_ = frame[TS].iloc[-1]
        self.seasonal_ = seasonal
        self.level_ = float(level)
        self.indices_ = indices
        return self

    def predict(self, horizon: int, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the training data (``events`` is ignored)."""
        self._check_fitted("indices_")
        horizon = _check_int(horizon, "horizon")
        h = np.arange(horizon)
        yhat = self.level_ * self.indices_[h % len(self.indices_)]
        return pd.DataFrame(
            {TS: _horizon_ts(self.last_ts_, self.freq_, horizon), YHAT: np.clip(yhat, 0, None)}
        )
