"""Demand forecasting: Prophet at the core, a seasonal-naive partner, calibrated quantiles.

:class:`DemandForecaster` follows scikit-learn's estimator conventions: ``__init__`` only stores
its keyword arguments, :meth:`~DemandForecaster.fit` validates its input, learns attributes whose
names end in ``_`` and returns ``self``, and fitting again starts over.

The method, in the order :meth:`~DemandForecaster.fit` applies it (``docs/forecasting.md`` gives
the evidence for each choice):

1. **Hygiene.** Missing values are gaps, never zeros; the window of every ``outage`` event in the
   history is masked; optionally, spikes whose robust z-score against a seasonal baseline exceeds
   ``anomaly_z`` are masked too. :attr:`masked_` lists every masked timestamp and why.
2. **Transform.** Prophet models a Box-Cox transform of ``value + offset`` whose lambda is
   picked per series (Guerrero's method): the log for demand whose daily swing grows with its
   level, so seasonality and event effects are multiplicative, and milder powers where the
   swing does not grow. Forecasts are back-transformed and never negative.
3. **Events.** Each live-ops kind becomes an hour-resolved Prophet regressor whose shape fits how
   games behave (:data:`EVENT_SHAPES`): a season or launch ramps up before its start and decays
   afterwards, maintenance dips for its window, an esports final spikes for its hours and fades.
   Public holidays of ``holidays_country`` (taken in ``timezone``) and calendar events of kind
   ``holiday`` share one regressor. With ``uplift_scaling``, each event of a learned kind is
   sized by its planned ``expected_uplift`` relative to the kind's past events, so a big launch
   is not forecast like the average one. A kind seen fewer than ``min_event_occurrences``
   times in the history cannot be learned: in the future its event applies the planner's
   ``expected_uplift`` as a multiplicative scenario (in the same shape), with quantiles widened
   by ``scenario_spread``.
4. **Seasonality.** Daily and weekly Fourier terms in the series' local time (``timezone``), the
   daily profile split into weekday and weekend profiles, a day running from one daily trough
   to the next.
5. **Ensemble.** An inner validation window (the last ``validation_days`` of the history) is
   forecast by a Prophet fit on the data before it and by the event-adjusted weekly and daily
   seasonal naives; :meth:`~DemandForecaster.predict` blends Prophet with the naive and the
   weight that had the least absolute error over the first ``horizon`` steps of that window.
   A young series (under 14 days) gets a shorter window, the days after its first week.
6. **Calibration.** Quantiles are split-conformal: empirical quantiles of the blend's
   residuals, measured in the Box-Cox space of step 2 (``interval_space``), over the
   validation window, and over ``calibration_windows - 1`` windows before it
   (each forecast by a Prophet fit on the data before that window); each quantile is the most
   extreme of the windows' (the lowest below the median, the highest above it), its distance
   from the median stretched by ``interval_scale`` (1.5 times more with a single window).
   With ``interval_growth`` set, the distances grow with the lead past the calibrated span
   (a week), by ``sqrt(1 + interval_growth x weeks beyond it)``; off by default.
7. **Fallback.** When Prophet cannot be used (too little data, a constant series, a numerical
   failure) the forecast is the seasonal naive with empirical quantiles, ``fallback`` is True and
   ``model`` names the reason. Invalid input still raises.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from capacity.columns import (
    DEFAULT_QUANTILES,
    END_TS,
    EXPECTED_UPLIFT,
    FALLBACK,
    KIND,
    MODEL,
    START_TS,
    TS,
    VALUE,
    YHAT,
    quantile_column,
)
from capacity.errors import DataError, NotFittedError, ParameterError
from capacity.prophet_fit import fit_prophet, quiet_import

__all__ = ["EVENT_SHAPES", "DemandForecaster", "EventShape", "NotFittedError"]

_DAY = pd.Timedelta(days=1)
_WEEK = pd.Timedelta(days=7)
_REASON = "reason"
_OUTAGE = "outage"
_HOLIDAY = "holiday"
_MIN_DAYS = 2  # fewer days of data than this is invalid input
_MIN_PROPHET_DAYS = 3  # fewer observed days than this falls back to the seasonal naive
# History needed for weekly terms (and a weekend daily profile); with less, the trend would
# absorb the weekend and extrapolate it.
_WEEKLY_SPAN = pd.Timedelta(days=10)
# Normal quantile of 0.95: a scenario's 5 % to 95 % band spans +-scenario_spread.
_Z95 = 1.6448536269514722
# The AR(1) residual correction: days of recent residuals it is fitted on, the fewest pairs
# of consecutive residuals, and the largest persistence allowed.
_AR_TAIL_DAYS = 14
_AR_MIN_PAIRS = 48
_AR_MAX_PHI = 0.98
# Fewest observed validation steps that calibrate quantiles.
_MIN_RESIDUALS = 10
# In-sample residuals understate forecast errors; used only without a validation window.
_IN_SAMPLE_WIDENING = 1.5
# An earlier calibration window needs two weeks of data before it: a fit on less misses the
# weekly cycle and would widen every band with errors the final fit does not make.
_MIN_EARLIER_SPAN = pd.Timedelta(days=14)
# With a single window of residuals (too little history for a second, a baseline fallback, or
# calibration_windows=1) its band is stretched this much more: one window understates the
# next one's errors, and a band too narrow under-provisions.
_ONE_WINDOW_STRETCH = 1.5


@dataclass(frozen=True)
class EventShape:
    """How one kind of live-ops event moves demand over time, as a weight in [0, 1].

    The weight rises linearly from 0 to ``pre_level`` over the ``pre_hours`` before the start,
    from ``pre_level`` to 1 over the ``rise_hours`` after it, then decays exponentially with an
    e-folding time of ``decay_hours`` (never, when None) towards ``floor``, and finally fades
    linearly to 0 over the ``tail_hours`` after the end.

    The weight multiplies the learned log-effect of a kind seen often enough, or the planner's
    uplift of a kind that was not: demand is ``normal x (1 + (uplift - 1) x weight)``.
    """

    pre_hours: float = 0.0
    pre_level: float = 0.0
    rise_hours: float = 0.0
    decay_hours: float | None = None
    floor: float = 0.0
    tail_hours: float = 0.0

    def weight(self, ts: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        """The event's weight at each ``ts`` (0 outside its reach)."""
        hours = np.asarray((ts - start) / pd.Timedelta(hours=1), dtype=float)
        length = (end - start) / pd.Timedelta(hours=1)
        w = np.zeros(len(ts))
        if self.pre_hours > 0 and self.pre_level > 0:
            pre = (hours >= -self.pre_hours) & (hours < 0)
            w[pre] = self.pre_level * (1 + hours[pre] / self.pre_hours)
        inside = (hours >= 0) & (hours < length)
        h = hours[inside]
        if self.rise_hours > 0:
            rising = np.clip(h / self.rise_hours, 0.0, 1.0)
            level = self.pre_level + (1 - self.pre_level) * rising
        else:
            level = np.ones_like(h)
        if self.decay_hours:
            after = np.clip(h - self.rise_hours, 0.0, None)
            decay = self.floor + (1 - self.floor) * np.exp(-after / self.decay_hours)
            level = level * decay
        w[inside] = level
        if self.tail_hours > 0:
            tail = (hours >= length) & (hours < length + self.tail_hours)
            last = w[inside][-1] if inside.any() else 1.0
            w[tail] = last * (1 - (hours[tail] - length) / self.tail_hours)
        return w


#: Default shape of each event kind; other kinds are flat over their window.
EVENT_SHAPES: Mapping[str, EventShape] = {
    # A new season: pre-load before launch, peak within hours, decays over days.
    "season": EventShape(pre_hours=24, pre_level=0.15, rise_hours=4, decay_hours=72),
    # A launch (expansion, festival): ramps up over half a day, holds players longer.
    "launch": EventShape(pre_hours=24, pre_level=0.15, rise_hours=12, decay_hours=168, floor=0.5),
    # Patch: an uplift that fades over its window.
    "patch": EventShape(decay_hours=24),
    # Marketing: a campaign ramping in over half a day.
    "marketing": EventShape(rise_hours=12),
    # Esports: jumps at the start, fades over two hours after the end.
    "esports": EventShape(tail_hours=2),
    "maintenance": EventShape(),
    _HOLIDAY: EventShape(),
}
_FLAT = EventShape()


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------


class DemandForecaster:
    """Forecast hourly (or any fixed-step) demand with events, holidays and honest quantiles.

    Parameters
    ----------
    quantiles : sequence of float
        Quantiles to report, each in (0, 1); one column each, named by
        :func:`capacity.columns.quantile_column`.
    training_days : float or None
        Length of history Prophet is fitted on, counted back from the last timestamp; None for
        all of it. Default 112 (16 weeks).
    validation_days : float
        Length of the inner validation window (default 7): Prophet is fitted once more on the
        history before it, and its forecasts there pick the ensemble weight (on the first
        ``horizon`` steps, at predict time) and calibrate the quantiles. For horizons shorter
        than a week, set it to the horizon: the inner fit then sees more recent data (on M4
        Hourly, horizon 48 h, 2 days beat 7 on both accuracy and pinball loss). A history
        too short to leave a week before the window (but longer than 8 days) gets a window
        of the days after its first week instead.
    daily_order, weekly_order : int
        Fourier orders of the daily and weekly seasonalities.
    weekend_daily : bool
        Fit separate daily profiles for weekdays and weekends (needs 10 days of history).
    changepoint_prior_scale : float
        Prophet's trend flexibility, on the centred transformed scale. Default 0.005.
    event_prior_scale : float
        Prior scale of event and holiday effects (on the transformed scale).
    log_offset : float
        The transform is applied to ``value + log_offset x median``; the offset keeps zeros
        finite.
    transform : "auto" or float
        Box-Cox lambda (0 is the log); ``"auto"`` picks one of 0, 0.25, 0.5, 0.75, 1 per series
        by Guerrero's method.
    interval_scale : float
        Stretch of the conformal quantiles' distances from the median (default 1); with a
        single calibration window it is stretched 1.5 times more.
    interval_space : "auto", "model" or "log"
        Where the conformal residuals are measured: ``"log"``, as log ratios of
        ``value + offset``; ``"model"``, in the Box-Cox space the model is fitted in (the log
        for most demand, plain differences for a series whose spread does not grow with its
        level); ``"auto"`` (default), the model's space for a series that reaches zero (a value
        at or below the offset, where a log ratio measures the offset more than the error),
        else the log. :attr:`interval_space_` says which was used.
    interval_growth : float
        How the band widens with the lead beyond the span its residuals were measured on (the
        validation window; a week for a fallback): each quantile's distance from the median is
        stretched by ``sqrt(1 + interval_growth x weeks beyond that span)``, as if the level's
        error wandered like a random walk (0.15: x1.07 at 14 days ahead, x1.20 at 28). Default
        0, the same band over the whole horizon: measured 28 days ahead
        (``benchmarks/fleet_horizon.py``), a growth chosen on early windows traded as much
        under-coverage for over-coverage as it removed and scored worse on pinball loss.
    calibration_windows : int
        Validation windows whose conformal quantiles calibrate the intervals (default 2):
        the last ``validation_days`` and the windows before it, each forecast by its own
        Prophet fit (one more fit per window). Each quantile is the most extreme of the
        windows' (lowest below the median, highest above), so a quiet last week does not make
        the next week's band too narrow. The blend is still chosen on the last window only.
        An earlier window needs two weeks of data before it; without one, the last window's
        band is stretched 1.5 times.
    ar_correction : bool
        Offer the ensemble a Prophet forecast that carries its last residual forward, decaying
        as an AR(1) fitted to the last two weeks of residuals (demand running above the model
        now keeps doing so for a while); the validation window decides whether it is used.
    ensemble : bool
        Blend Prophet with the event-adjusted seasonal naive (weekly or daily), weighted on the
        validation window.
    min_event_occurrences : int
        A kind needs this many events in the history for its effect to be learned; rarer kinds
        use the planner's ``expected_uplift``.
    uplift_scaling : bool
        Size each event of a learned kind by its planner's ``expected_uplift``: its regressor
        is the shape times ``log(uplift)`` over the mean ``log(uplift)`` of the kind's events
        in the history (clipped to 0.25..4; 1 for events without an uplift), so the learned
        effect is that of a typical event of the kind and a launch planned at 1.75 is expected
        to move demand more than past ones planned at 1.5. Default True.
    scenario_spread : float
        Relative uncertainty of a planner's uplift: the 5 % and 95 % quantiles of the
        scenario's extra demand are ``(uplift - 1) x (1 -+ scenario_spread)``.
    anomaly_z : float or None
        Mask observations whose robust z-score against the seasonal baseline exceeds this;
        None (the default) masks no anomalies.
    event_shapes : mapping of str to EventShape, optional
        Shapes by kind, overriding :data:`EVENT_SHAPES`.

    Attributes
    ----------
    freq_ : pandas.Timedelta
        The step of the series' grid.
    masked_ : pandas.DataFrame
        ``ts`` and ``reason`` (``gap``, ``outage`` or ``anomaly``) of every masked step.
    model_ : str
        The model for a horizon as long as the validation window, e.g.
        ``"prophet+snaive (weekly, w=0.75)"`` or ``"snaive (fallback: constant series ...)"``.
    fallback_ : bool
        True when Prophet could not be used.
    lambda_ : float
        The Box-Cox lambda used (Prophet fits only).
    weight_, partner_period_ : float, int
        Prophet's weight in the blend and the seasonal naive's period in steps (for a horizon
        as long as the validation window).
    stan_params_ : dict or None
        The fitted Prophet parameters (``lambda``, and the ``inner`` and ``core`` fits'
        ``k``, ``m``, ``sigma_obs``, ``delta``, ``beta``) as JSON-serialisable values: a later
        fit's ``warm_start``. None after a fallback.
    warm_started_ : bool
        True when ``warm_start`` was used for the final fit: it was given, its lambda matched,
        and its vectors fit the model (an event kind that entered or left the history changes
        their length, and the fit then starts cold).
    """

    def __init__(
        self,
        *,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        training_days: float | None = 112.0,
        validation_days: float = 7.0,
        daily_order: int = 6,
        weekly_order: int = 6,
        weekend_daily: bool = True,
        changepoint_prior_scale: float = 0.005,
        event_prior_scale: float = 10.0,
        log_offset: float = 0.01,
        transform: str | float = "auto",
        interval_scale: float = 1.0,
        interval_space: str = "auto",
        interval_growth: float = 0.0,
        calibration_windows: int = 2,
        ar_correction: bool = False,
        ensemble: bool = True,
        min_event_occurrences: int = 2,
        uplift_scaling: bool = True,
        scenario_spread: float = 0.3,
        anomaly_z: float | None = None,
        event_shapes: Mapping[str, EventShape] | None = None,
    ) -> None:
        self.quantiles = quantiles
        self.training_days = training_days
        self.validation_days = validation_days
        self.daily_order = daily_order
        self.weekly_order = weekly_order
        self.weekend_daily = weekend_daily
        self.changepoint_prior_scale = changepoint_prior_scale
        self.event_prior_scale = event_prior_scale
        self.log_offset = log_offset
        self.transform = transform
        self.interval_scale = interval_scale
        self.interval_space = interval_space
        self.interval_growth = interval_growth
        self.calibration_windows = calibration_windows
        self.ar_correction = ar_correction
        self.ensemble = ensemble
        self.min_event_occurrences = min_event_occurrences
        self.uplift_scaling = uplift_scaling
        self.scenario_spread = scenario_spread
        self.anomaly_z = anomaly_z
        self.event_shapes = event_shapes

    # ----------------------------------------------------------------- estimator conventions

    _PARAM_NAMES = (
        "quantiles",
        "training_days",
        "validation_days",
        "daily_order",
        "weekly_order",
        "weekend_daily",
        "changepoint_prior_scale",
        "event_prior_scale",
        "log_offset",
        "transform",
        "interval_scale",
        "interval_space",
        "interval_growth",
        "calibration_windows",
        "ar_correction",
        "ensemble",
        "min_event_occurrences",
        "uplift_scaling",
        "scenario_spread",
        "anomaly_z",
        "event_shapes",
    )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's keyword arguments, as given."""
        return {name: getattr(self, name) for name in self._PARAM_NAMES}

    def set_params(self, **params: Any) -> DemandForecaster:
        """Set constructor arguments; unknown names raise :class:`ParameterError`."""
        for name, value in params.items():
            if name not in self._PARAM_NAMES:
                raise ParameterError(
                    f"DemandForecaster has no parameter {name!r}",
                    fix=f"use one of {', '.join(self._PARAM_NAMES)}",
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = DemandForecaster().get_params()
        changed = {k: v for k, v in self.get_params().items() if not _equal(v, defaults[k])}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"DemandForecaster({args})"

    # ------------------------------------------------------------------------------- fit

    def fit(
        self,
        series: pd.DataFrame,
        events: pd.DataFrame | None = None,
        *,
        holidays_country: str | None = None,
        timezone: str | None = None,
        warm_start: Mapping[str, Any] | None = None,
    ) -> DemandForecaster:
        """Learn the demand of one series.

        Parameters
        ----------
        series : pandas.DataFrame
            Columns ``ts`` (tz-aware UTC, a regular grid; sorted or not) and ``value`` (float
            >= 0; NaN marks a gap). Not modified.
        events : pandas.DataFrame, optional
            The live-ops calendar scoped to this series' region, as known at fit time (it may
            hold future events): at least ``kind``, ``start_ts``, ``end_ts`` (tz-aware), and
            ``expected_uplift`` for scenario planning. Not modified.
        holidays_country : str, optional
            ISO country code whose public holidays shape demand.
        timezone : str, optional
            IANA zone the players live in; seasonality and holidays follow its clock.
        warm_start : mapping, optional
            The ``stan_params_`` of an earlier fit of the same series (a previous run): its
            Prophet parameters start the optimiser. Used only when the Box-Cox lambda is
            unchanged, and for each fit only when its vectors still fit the model: an event
            kind that entered or left the history changes their length, and that fit starts
            cold. The optimum found is the same up to the optimiser's tolerance.

        Returns
        -------
        DemandForecaster
            ``self``, with ``freq_``, ``masked_``, ``model_``, ``fallback_`` and the fitted state.

        Raises
        ------
        DataError
            When ``series`` or ``events`` is malformed (missing columns, naive or non-UTC
            timestamps, an irregular grid, negative values, fewer than 2 days).
        ParameterError
            When a constructor argument, ``holidays_country`` or ``timezone`` is invalid.
        """
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("_"):
                delattr(self, name)
        self._check_params()
        frame, freq = _validate_series(series)
        ev = _validate_events(events, "events")
        zone = _validate_zone(timezone)
        country = _validate_country(holidays_country)
        holiday_windows = _holiday_windows(
            country, zone, frame[TS].iloc[0], frame[TS].iloc[-1] + 400 * _DAY
        )

        self.freq_ = freq
        self.timezone_ = timezone
        self.holidays_country_ = holidays_country
        self.events_ = ev
        self.holiday_windows_ = holiday_windows
        self.last_ts_ = frame[TS].iloc[-1]
        shapes = dict(EVENT_SHAPES)
        shapes.update(self.event_shapes or {})
        self._shapes = shapes

        y, masked = _mask(frame, ev, self.anomaly_z, freq, shapes)
        self.masked_ = masked
        self.n_observed_ = int(np.isfinite(y).sum())
        self._ts = pd.DatetimeIndex(frame[TS])
        self._y = y
        self._warm = warm_start if isinstance(warm_start, Mapping) else None

        reason = self._prophet_unusable(y, freq)
        if reason is None:
            try:
                self._fit_prophet(freq)
            except (RuntimeError, ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
                # Prophet and cmdstanpy signal a failed optimisation with these; the series
                # then falls back to the seasonal naive instead of sinking a fleet run. Not
                # when the machine failed the fit (cmdstanpy wraps an OSError in RuntimeError)
                _raise_os_error(exc)
                reason = f"Prophet failed: {type(exc).__name__}: {_first_line(exc)}"
        if reason is not None:
            self._fit_fallback(reason)
        return self

    def _check_params(self) -> None:
        qs = self.quantiles
        if (
            isinstance(qs, str | bytes)
            or not isinstance(qs, Sequence)
            or not qs
            or not all(isinstance(q, float | int) and 0 < q < 1 for q in qs)
        ):
            raise ParameterError(
                f"The 'quantiles' parameter must be a non-empty sequence of numbers in (0, 1). "
                f"Got {qs!r}."
            )
        if self.training_days is not None and not (
            _is_number(self.training_days) and self.training_days >= _MIN_PROPHET_DAYS
        ):
            raise ParameterError(
                f"The 'training_days' parameter must be None or a number >= {_MIN_PROPHET_DAYS}. "
                f"Got {self.training_days!r}."
            )
        for name in ("weekend_daily", "ensemble", "ar_correction", "uplift_scaling"):
            value = getattr(self, name)
            if not isinstance(value, bool | np.bool_):
                raise ParameterError(
                    f"The '{name}' parameter must be True or False. Got {value!r}."
                )
        if self.interval_space not in ("auto", "model", "log"):
            raise ParameterError(
                f"The 'interval_space' parameter must be 'auto', 'model' or 'log'. "
                f"Got {self.interval_space!r}."
            )
        transform = self.transform
        if not (transform == "auto" or (_is_number(transform) and 0 <= transform <= 1)):
            raise ParameterError(
                f"The 'transform' parameter must be 'auto' or a Box-Cox lambda in [0, 1]. "
                f"Got {transform!r}."
            )
        for name, low in (
            ("interval_scale", 0.0),
            ("validation_days", 0.0),
            ("changepoint_prior_scale", 0.0),
            ("event_prior_scale", 0.0),
            ("log_offset", 0.0),
        ):
            value = getattr(self, name)
            if not (_is_number(value) and value > low):
                raise ParameterError(
                    f"The '{name}' parameter must be a number > {low:g}. Got {value!r}."
                )
        for name in ("daily_order", "weekly_order"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                raise ParameterError(
                    f"The '{name}' parameter must be an integer >= 0. Got {value!r}."
                )
        windows = self.calibration_windows
        if not (isinstance(windows, int) and not isinstance(windows, bool) and windows >= 1):
            raise ParameterError(
                f"The 'calibration_windows' parameter must be an integer >= 1. Got {windows!r}."
            )
        if not (isinstance(self.min_event_occurrences, int) and self.min_event_occurrences >= 1):
            raise ParameterError(
                "The 'min_event_occurrences' parameter must be an integer >= 1. "
                f"Got {self.min_event_occurrences!r}."
            )
        if not (_is_number(self.interval_growth) and self.interval_growth >= 0):
            raise ParameterError(
                f"The 'interval_growth' parameter must be a number >= 0. Got "
                f"{self.interval_growth!r}."
            )
        if not (_is_number(self.scenario_spread) and 0 <= self.scenario_spread < 1):
            raise ParameterError(
                f"The 'scenario_spread' parameter must be in [0, 1). Got {self.scenario_spread!r}."
            )
        if self.anomaly_z is not None and not (_is_number(self.anomaly_z) and self.anomaly_z > 0):
            raise ParameterError(
                f"The 'anomaly_z' parameter must be None or a number > 0. Got {self.anomaly_z!r}."
            )
        for kind, shape in (self.event_shapes or {}).items():
            if not isinstance(shape, EventShape):
                raise ParameterError(
                    f"The 'event_shapes' parameter must map kinds to EventShape. Got "
                    f"{type(shape).__name__} for {kind!r}."
                )

    def _training_rows(self) -> np.ndarray:
        """Which rows Prophet is fitted on: the last ``training_days``, or all of them."""
        if self.training_days is None:
            return np.ones(len(self._ts), dtype=bool)
        return np.asarray(self._ts > self._ts[-1] - pd.Timedelta(days=self.training_days))

    def _prophet_unusable(self, y: np.ndarray, freq: pd.Timedelta) -> str | None:
        within = ""
        keep = self._training_rows()
        if not keep.all():  # count what Prophet would see
            y, within = y[keep], f" in the last {self.training_days:g} days"
        observed = y[np.isfinite(y)]
        days = len(observed) * freq / _DAY
        if days < _MIN_PROPHET_DAYS:
            return (
                f"too little data for Prophet: {days:.1f} observed days{within}, "
                f"needs {_MIN_PROPHET_DAYS}"
            )
        if np.ptp(observed) == 0:
            return f"constant series (every value is {observed[0]:g})"
        return None

    def _fit_prophet(self, freq: pd.Timedelta) -> None:
        keep = self._training_rows()
        ts, y = self._ts[keep], self._y[keep]
        offset = self.log_offset * float(np.nanmedian(y)) if np.nanmedian(y) > 0 else 1.0
        offset = offset if offset > 0 else 1.0
        val_steps, shortened = _validation_steps(len(y), freq, self.validation_days)
        lam = _guerrero(y, offset, freq) if self.transform == "auto" else float(self.transform)
        space = self.interval_space
        if space == "auto":
            space = "model" if np.nanmin(y) <= offset else "log"
        self.interval_space_ = space
        core_kwargs = {"offset": offset, "freq": freq, "lam": lam}
        warm = self._warm if self._warm and self._warm.get("lambda") == lam else {}
        self.stan_params_: dict[str, Any] = {"lambda": lam}
        span_obs = np.isfinite(y[:-val_steps]).sum() * freq if len(y) > val_steps else 0 * freq
        self.validation_ = None
        self.earlier_validation_: list[_Validation] = []
        if span_obs >= max(7 * _DAY, _MIN_PROPHET_DAYS * _DAY):
            last = self._fit_window(1, ts, y, val_steps, core_kwargs, warm)
            if np.isfinite(last.actual).sum() >= _MIN_RESIDUALS:
                self.validation_ = last
                self.earlier_validation_ = self._earlier_windows(
                    ts, y, val_steps, core_kwargs, warm
                )
        core = _Core(self, **core_kwargs).fit(ts, y, init=warm.get("core"))
        self.warm_started_ = core.warm_started
        self.stan_params_["core"] = core.stan_params()
        self.core_ = core
        self.lambda_ = lam
        self.fallback_ = False
        self.fallback_reason_ = None
        if self.validation_ is None:
            # No out-of-sample residuals: in-sample ones, widened (they are too optimistic).
            fitted = core.in_sample()
            ok = np.isfinite(y)
            self.residuals_ = [_IN_SAMPLE_WIDENING * core.residuals(y[ok], fitted[ok])]
            self.choice_ = _PROPHET_ONLY
            self.model_ = "prophet (no validation window)"
        else:
            self.choice_, self.residuals_ = self._choose(len(self.validation_.actual))
            self.model_ = self.choice_.name(freq)
        # A young series' validation window is shorter than asked for (a few days, not a week):
        # the final fit's in-sample residuals join its band, as a floor for how wide it is.
        self.young_residuals_ = None
        if self.validation_ is not None and shortened:
            fitted = core.in_sample()
            ok = np.isfinite(y)
            self.young_residuals_ = core.residuals(y[ok], fitted[ok])
        self.weight_, self.partner_period_ = self.choice_.weight, self.choice_.period

    def _fit_window(
        self,
        k: int,
        ts: pd.DatetimeIndex,
        y: np.ndarray,
        val_steps: int,
        core_kwargs: dict[str, Any],
        warm: Mapping[str, Any],
    ) -> _Validation:
        """Validation window ``k`` (1 is the last ``val_steps``, 2 the span before it, ...)
        forecast by a Prophet fit on the data before it, whose parameters are kept in
        ``stan_params_`` (``inner``, ``inner2``, ...) for a later warm start."""
        end = len(y) - (k - 1) * val_steps
        start = end - val_steps
        key = "inner" if k == 1 else f"inner{k}"
        fit = _Core(self, **core_kwargs).fit(ts[:start], y[:start], init=warm.get(key))
        parts = fit.forecast(ts[start:end], self.events_)
        self.stan_params_[key] = fit.stan_params()
        return _Validation(parts, y[start:end])

    def _earlier_windows(
        self,
        ts: pd.DatetimeIndex,
        y: np.ndarray,
        val_steps: int,
        core_kwargs: dict[str, Any],
        warm: Mapping[str, Any],
    ) -> list[_Validation]:
        """The validation windows before the last one, newest first, each forecast by a
        Prophet fit on the data before it; stops where too little data is left before a window,
        a window has too few observations, or a fit fails."""
        windows: list[_Validation] = []
        for k in range(2, self.calibration_windows + 1):
            end = len(y) - (k - 1) * val_steps
            start = end - val_steps
            if start <= 0:
                break
            before = np.isfinite(y[:start]).sum() * self.freq_
            if before < _MIN_EARLIER_SPAN or np.isfinite(y[start:end]).sum() < _MIN_RESIDUALS:
                break
            try:
                windows.append(self._fit_window(k, ts, y, val_steps, core_kwargs, warm))
            except (RuntimeError, ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
                _raise_os_error(exc)
                break  # calibration then uses the windows it has
        return windows

    def _choose(self, horizon: int) -> tuple[_Choice, list[np.ndarray]]:
        """Blend weight and naive period for forecasts ``horizon`` steps ahead, chosen on the
        first ``horizon`` steps of the validation window (at least a day of them), and the
        blend's residuals over the whole of each calibration window, newest first (more
        of them calibrate the tails better; for a short horizon they err on the wide side)."""
        val = self.validation_
        day = max(round(_DAY / self.freq_), 1)
        n = min(len(val.actual), max(horizon, day))
        parts, actual = val.parts.head(n), val.actual[:n]
        if np.isfinite(actual).sum() < _MIN_RESIDUALS:
            parts, actual = val.parts, val.actual
        choice = _best_choice(parts, actual) if self.ensemble else _PROPHET_ONLY
        residuals = []
        for window in (val, *self.earlier_validation_):
            point = _blend(window.parts, choice)
            ok = np.isfinite(window.actual)
            residuals.append(self.core_.residuals(window.actual[ok], point[ok]))
        return choice, residuals

    def _fit_fallback(self, reason: str) -> None:
        self.core_ = None
        self.young_residuals_ = None
        self.stan_params_ = None
        self.warm_started_ = False
        self.weight_ = 0.0
        self.fallback_ = True
        self.fallback_reason_ = reason
        self.interval_space_ = "log"
        self.model_ = f"snaive (fallback: {reason})"
        period = _season_steps(self._y, self.freq_)
        y = self._y
        ratios = []
        for k in range(period, len(y)):
            a, b = y[k], y[k - period]
            if np.isfinite(a) and np.isfinite(b):
                ratios.append(math.log((a + 1e-9) / (b + 1e-9)) if a > 0 and b > 0 else 0.0)
        self.residuals_ = [np.asarray(ratios, dtype=float)]
        self.period_ = period

    # --------------------------------------------------------------------------- predict

    def predict(self, horizon: int, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the last fitted timestamp.

        Parameters
        ----------
        horizon : int
            Number of steps of ``freq_`` to forecast, >= 1.
        events : pandas.DataFrame, optional
            The calendar to use for the future; default: the one given to :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            ``ts``, ``yhat``, one column per quantile (monotone, never negative), ``model`` and
            ``fallback``.
        """
        if not hasattr(self, "model_"):
            raise NotFittedError(
                "This DemandForecaster is not fitted yet. Call fit(series, events) before "
                "predict(horizon)."
            )
        if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
            raise ParameterError(
                f"The 'horizon' parameter must be an integer >= 1. Got {horizon!r}."
            )
        ev = self.events_ if events is None else _validate_events(events, "events")
        future = pd.DatetimeIndex(
            [self.last_ts_ + self.freq_ * k for k in range(1, int(horizon) + 1)]
        )
        qs = [float(q) for q in self.quantiles]
        model, residuals, scen = self.model_, self.residuals_, None
        # The span the residuals were measured over: leads beyond it get a wider band.
        calibrated = round(_WEEK / self.freq_)
        if self.core_ is None:
            point = self._fallback_point(future)
        else:
            choice = self.choice_
            if self.validation_ is not None:
                choice, residuals = self._choose(len(future))
                model = choice.name(self.freq_)
                calibrated = len(self.validation_.actual)
            parts = self.core_.forecast(future, ev)
            point = _blend(parts, choice)
            scen = parts.scenario
        scale = self.interval_scale
        young = self.young_residuals_
        if len(residuals) < 2 or young is not None:
            scale *= _ONE_WINDOW_STRETCH  # one window understates the next one's errors
        if young is not None:
            residuals = [*residuals, young]
        stretch = scale * _lead_growth(len(future), calibrated, self.freq_, self.interval_growth)
        table = _widest(residuals, qs, len(future), stretch)
        out = {TS: future, YHAT: np.clip(point, 0, None)}
        qvals = np.empty((len(future), len(qs)))
        for j in range(len(qs)):
            if self.core_ is None:
                qvals[:, j] = point * np.exp(table[:, j])
            else:
                qvals[:, j] = self.core_.shifted(point, table[:, j])
        if scen is not None:
            # Widen by the scenario's own uncertainty, comonotone with the base quantile.
            extra = scen - 1.0
            for j, q in enumerate(qs):
                z = _norm_ppf(q) / _Z95
                factor = (1 + extra * (1 + self.scenario_spread * z)) / np.where(
                    scen > 0, scen, 1.0
                )
                qvals[:, j] *= np.where(extra != 0, factor, 1.0)
        order = np.argsort(qs)
        sorted_q = np.maximum.accumulate(np.clip(qvals[:, order], 0, None), axis=1)
        qvals[:, order] = sorted_q
        for j, q in enumerate(qs):
            out[quantile_column(q)] = qvals[:, j]
        frame = pd.DataFrame(out)
        frame[MODEL] = model
        frame[FALLBACK] = bool(self.fallback_)
        return frame

    def _fallback_point(self, future: pd.DatetimeIndex) -> np.ndarray:
        y, period = self._y, self.period_
        tail = _fill_back(y, period)[-period:]
        return tail[np.arange(len(future)) % period]


# --------------------------------------------------------------------------------------------
# The Prophet core: one fit on one stretch of history
# --------------------------------------------------------------------------------------------


@dataclass
class _Parts:
    """A forecast split into what the ensemble mixes."""

    prophet: np.ndarray
    snaive: dict[int, np.ndarray]  # seasonal naive by period (in steps)
    scenario: np.ndarray  # multiplier for events of kinds too rare to learn (1 elsewhere)
    prophet_ar: np.ndarray | None = None  # Prophet with the AR(1) residual correction

    def head(self, n: int) -> _Parts:
        return _Parts(
            self.prophet[:n],
            {k: v[:n] for k, v in self.snaive.items()},
            self.scenario[:n],
            None if self.prophet_ar is None else self.prophet_ar[:n],
        )


@dataclass
class _Validation:
    """The inner validation window: what each model forecast for it, and what happened."""

    parts: _Parts
    actual: np.ndarray


class _Core:
    """Prophet on ``log(value + offset)`` with seasonality, events and holidays."""

    def __init__(
        self, owner: DemandForecaster, *, offset: float, freq: pd.Timedelta, lam: float
    ) -> None:
        self.owner = owner
        self.offset = offset
        self.freq = freq
        self.lam = lam

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Box-Cox of ``y + offset`` with the chosen lambda (log when it is 0)."""
        if self.lam == 0:
            return np.log(y + self.offset)
        return ((y + self.offset) ** self.lam - 1) / self.lam

    def inverse(self, z: np.ndarray) -> np.ndarray:
        if self.lam == 0:
            return np.exp(z) - self.offset
        return np.clip(self.lam * z + 1, 0, None) ** (1 / self.lam) - self.offset

    def _space(self) -> float:
        """The Box-Cox lambda the interval residuals are measured with."""
        return self.lam if self.owner.interval_space_ == "model" else 0.0

    def residuals(self, actual: np.ndarray, point: np.ndarray) -> np.ndarray:
        """Calibration residuals of ``point`` against ``actual`` in the interval space."""
        lam, base = self._space(), point + self.offset  # > 0: a point is above -offset
        if lam == 0:
            return np.log((actual + self.offset) / base)
        return ((actual + self.offset) ** lam - base**lam) / lam

    def shifted(self, point: np.ndarray, residual: np.ndarray) -> np.ndarray:
        """``point`` moved by ``residual`` in the interval space, back on the value scale."""
        lam, base = self._space(), point + self.offset  # > 0: a point is above -offset
        if lam == 0:
            return base * np.exp(residual) - self.offset
        return np.clip(base**lam + lam * residual, 0, None) ** (1 / lam) - self.offset

    def _ds(self, ts: pd.DatetimeIndex) -> pd.DatetimeIndex:
        zone = self.owner.timezone_
        if zone:
            return ts.tz_convert(zone).tz_localize(None)
        return ts.tz_convert("UTC").tz_localize(None)

    def _frame(self, ts: pd.DatetimeIndex, events: pd.DataFrame) -> pd.DataFrame:
        ds = self._ds(ts)
        frame = pd.DataFrame({"ds": ds})
        # A "day" runs from one daily trough to the next, so Saturday night's play stays in
        # Saturday wherever midnight falls (UTC midnight is mid-evening in the Americas).
        weekend = np.asarray((ds - self.day_start).day_of_week >= 5)
        frame["is_weekend"] = weekend
        frame["is_weekday"] = ~weekend
        for kind in self.kinds:
            frame[_reg(kind)] = _kind_weight(
                ts, events, kind, self.owner, self.uplift_refs.get(kind)
            )
        return frame

    def fit(
        self, ts: pd.DatetimeIndex, y: np.ndarray, init: Mapping[str, Any] | None = None
    ) -> _Core:
        with quiet_import():  # cmdstanpy too: Prophet loads it only when a model is made
            import cmdstanpy  # noqa: F401
            from prophet import Prophet

        owner = self.owner
        observed = np.isfinite(y)
        span = (ts[observed][-1] - ts[observed][0]) if observed.any() else pd.Timedelta(0)
        self.last_ts = ts[-1]
        # Kinds present in the history get a regressor; those seen often enough are learned.
        events = owner.events_
        counts = _kind_counts(ts[observed], events, owner)
        self.kinds = sorted(k for k, n in counts.items() if n >= 1)
        self.day_start = _trough(self._ds(ts), y)
        self.learned = {k for k, n in counts.items() if n >= owner.min_event_occurrences}
        self.uplift_refs = (
            _uplift_refs(ts[observed], events, self.learned, owner) if owner.uplift_scaling else {}
        )
        frame = self._frame(ts, events)
        z = self.transform(y)
        # Centre the transformed values: Prophet scales y by its largest absolute value, and an
        # uncentred series would make every prior (the trend's above all) look loose.
        self.center = float(np.nanmedian(z))
        frame["y"] = z - self.center
        steps_per_day = _DAY / self.freq
        model = Prophet(
            growth="linear",
            changepoint_prior_scale=owner.changepoint_prior_scale,
            changepoint_range=0.9,
            yearly_seasonality=False,
            weekly_seasonality=False,
            daily_seasonality=False,
            uncertainty_samples=0,
        )
        if steps_per_day > 1 and owner.daily_order > 0:
            if owner.weekend_daily and span >= _WEEKLY_SPAN:
                for cond in ("is_weekday", "is_weekend"):
                    model.add_seasonality(
                        name=f"daily_{cond[3:]}",
                        period=1,
                        fourier_order=owner.daily_order,
                        condition_name=cond,
                    )
            else:
                model.add_seasonality(name="daily", period=1, fourier_order=owner.daily_order)
        if span >= _WEEKLY_SPAN and owner.weekly_order > 0:
            model.add_seasonality(name="weekly", period=7, fourier_order=owner.weekly_order)
        for kind in self.kinds:
            model.add_regressor(_reg(kind), prior_scale=owner.event_prior_scale, standardize=False)
        # What each coefficient means: a start learned for another layout (an event kind
        # swapped for another, the weekday/weekend split switched) is no start for this one.
        self.layout = [f"{n}:{s['fourier_order']}" for n, s in model.seasonalities.items()]
        self.layout += [_reg(kind) for kind in self.kinds]
        if init and init.get("layout", self.layout) != self.layout:
            init = None
        with _quiet():
            if init:
                # A start whose vectors no longer fit (an event kind entered or left the
                # history) is dropped whole: see prophet_fit.
                start = {k: _as_init(v) for k, v in init.items() if k in _STAN_PARAMS}
                fit_prophet(model, frame, init=start)
            else:
                fit_prophet(model, frame)
        self.model = model
        self.warm_started = bool(getattr(model, "warm_started", False))
        self.history_ts = ts
        self.history_y = y
        self.phi, self.last_residual, self.residual_age = 0.0, 0.0, 0
        if owner.ar_correction:
            self._fit_ar(ts, y)
        return self

    def _fit_ar(self, ts: pd.DatetimeIndex, y: np.ndarray) -> None:
        """AR(1) of the recent in-sample residuals (transformed scale)."""
        tail = min(len(ts), _AR_TAIL_DAYS * round(_DAY / self.freq))
        z_fit, _ = self._predict(ts[-tail:], self.owner.events_)
        resid = self.transform(y[-tail:]) - z_fit
        ok = np.isfinite(resid)
        pairs = ok[1:] & ok[:-1]
        if pairs.sum() < _AR_MIN_PAIRS or not ok.any():
            return
        prev, cur = resid[:-1][pairs], resid[1:][pairs]
        denom = float(np.dot(prev, prev))
        phi = float(np.dot(prev, cur)) / denom if denom > 0 else 0.0
        last = int(np.flatnonzero(ok)[-1])
        self.phi = min(max(phi, 0.0), _AR_MAX_PHI)
        self.last_residual = float(resid[last])
        self.residual_age = tail - 1 - last

    def stan_params(self) -> dict[str, Any]:
        """The fitted Stan parameters as plain floats and lists (JSON-serialisable)."""
        params = self.model.params
        out: dict[str, Any] = {}
        for name in ("k", "m", "sigma_obs"):
            out[name] = float(np.asarray(params[name]).ravel()[0])
        for name in ("delta", "beta"):
            out[name] = [float(v) for v in np.asarray(params[name])[0]]
        out["layout"] = list(self.layout)
        return out

    def _ar_drift(self, ts: pd.DatetimeIndex) -> np.ndarray:
        """The last residual carried forward to ``ts``, decaying by ``phi`` a step."""
        drift = np.zeros(len(ts))
        if self.phi > 0:
            ahead = np.asarray((ts - self.last_ts) / self.freq, dtype=float)
            future = ahead > 0
            drift[future] = self.last_residual * self.phi ** (ahead[future] + self.residual_age)
        return drift

    def _predict(
        self, ts: pd.DatetimeIndex, events: pd.DataFrame, *, ar: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Prophet's log-scale forecast and the learned event log-effect at ``ts``."""
        frame = self._frame(ts, events)
        for kind in self.kinds:
            if kind not in self.learned:
                frame[_reg(kind)] = 0.0
        with _quiet():
            out = self.model.predict(frame)
        effect = np.zeros(len(ts))
        for kind in self.kinds:
            if kind in self.learned:
                effect += out[_reg(kind)].to_numpy()
        z_hat = out["yhat"].to_numpy() + self.center
        if ar:
            z_hat += self._ar_drift(ts)
        return z_hat, effect

    def in_sample(self) -> np.ndarray:
        z_hat, _ = self._predict(self.history_ts, self.owner.events_)
        # never below zero, as forecasts are: a fit under -offset is no demand, and its
        # residual against the offset would be infinite
        return np.clip(self.inverse(z_hat), 0, None)

    def _event_ratio(self, z_hat: np.ndarray, effect: np.ndarray) -> np.ndarray:
        """Demand with the learned event effects over demand without them; 1 where either is
        at the transform's floor (no ratio to read, and 0 there once divided a naive value by
        zero: a forecast of NaN)."""
        with_events = self.inverse(z_hat) + self.offset
        base = self.inverse(z_hat - effect) + self.offset
        ok = (base > 0) & (with_events > 0)
        return np.where(ok, with_events / np.where(ok, base, 1.0), 1.0)

    def forecast(self, future: pd.DatetimeIndex, events: pd.DataFrame) -> _Parts:
        # Seasonal naive over the last week (and the last day), cleaned of that stretch's event
        # effects and given the future's; masked steps take Prophet's fitted value. One Prophet
        # call serves both stretches (the history's own calendar for the past week).
        week = _season_steps(self.history_y, self.freq)
        src_ts = self.history_ts[-week:]
        both = src_ts.append(future)
        past = self.owner.events_
        z_all, effect_all = self._predict(both, events, ar=False)
        if events is not past:
            z_all[:week], effect_all[:week] = self._predict(src_ts, past, ar=False)
        z_hat, effect = z_all[week:], effect_all[week:]
        src_z, src_effect = z_all[:week], effect_all[:week]
        prophet = np.clip(self.inverse(z_hat), 0, None)
        drift = self._ar_drift(future)
        prophet_ar = np.clip(self.inverse(z_hat + drift), 0, None) if drift.any() else None
        src = self.history_y[-week:].copy()
        gap = ~np.isfinite(src)
        src[gap] = self.inverse(src_z[gap])
        src_ratio = self._event_ratio(src_z, src_effect)
        ratio = self._event_ratio(z_hat, effect)
        snaive = {}
        for period in {week, min(week, max(round(_DAY / self.freq), 1))}:
            idx = week - period + np.arange(len(future)) % period
            value = (src[idx] + self.offset) * ratio / src_ratio[idx] - self.offset
            snaive[period] = np.clip(value, 0, None)
        scenario = np.ones(len(future))
        for kind in _kinds_in(events):
            if kind == _OUTAGE or kind in self.learned:
                continue
            scenario *= _scenario(future, events, kind, self.owner)
        return _Parts(
            prophet * scenario,
            {k: v * scenario for k, v in snaive.items()},
            scenario,
            None if prophet_ar is None else prophet_ar * scenario,
        )


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    """One candidate of the ensemble: Prophet's weight, the naive's period, the AR flag."""

    weight: float
    period: int
    ar: bool = False

    def name(self, freq: pd.Timedelta) -> str:
        """``prophet``, ``snaive`` or ``prophet+snaive``, with the weight and the season."""
        prophet = "prophet+ar" if self.ar else "prophet"
        if self.weight >= 1:
            return prophet
        season = "weekly" if self.period * freq >= _WEEK else "daily"
        if self.weight <= 0:
            return f"snaive ({season})"
        return f"{prophet}+snaive ({season}, w={self.weight:.2f})"


_PROPHET_ONLY = _Choice(1.0, 0)


def _blend(parts: _Parts, choice: _Choice) -> np.ndarray:
    prophet = parts.prophet_ar if choice.ar and parts.prophet_ar is not None else parts.prophet
    if choice.weight >= 1:
        return prophet
    partner = parts.snaive.get(choice.period, parts.snaive[max(parts.snaive)])
    return choice.weight * prophet + (1 - choice.weight) * partner


_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _best_choice(parts: _Parts, actual: np.ndarray) -> _Choice:
    """The candidate with the least absolute error on ``actual`` (ties: the simpler one)."""
    ok = np.isfinite(actual)
    if ok.sum() == 0:
        return _PROPHET_ONLY
    ars = (False, True) if parts.prophet_ar is not None else (False,)
    best, best_err = _PROPHET_ONLY, np.inf
    for ar in ars:
        for period in sorted(parts.snaive, reverse=True):
            for w in _WEIGHTS:
                if w <= 0 and ar:
                    continue
                choice = _Choice(w, period, ar)
                err = float(np.mean(np.abs(_blend(parts, choice)[ok] - actual[ok])))
                if err < best_err - 1e-12:
                    best, best_err = choice, err
    return best


_LAMBDAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _guerrero(y: np.ndarray, offset: float, freq: pd.Timedelta) -> float:
    """Box-Cox lambda by Guerrero's method: the one making spread / level^(1 - lambda) most
    constant across days (0: spread grows with level, log; 1: it does not, no transform)."""
    day = max(round(_DAY / freq), 2)
    n = len(y) // day
    if n < 4:
        return 0.0
    blocks = (y[len(y) - n * day :] + offset).reshape(n, day)
    full = np.isfinite(blocks).mean(axis=1) >= 0.75
    if full.sum() < 4:
        return 0.0
    mean = np.nanmean(blocks[full], axis=1)
    std = np.nanstd(blocks[full], axis=1, ddof=1)
    ok = (mean > 0) & (std > 0)
    if ok.sum() < 4:
        return 0.0
    mean, std = mean[ok], std[ok]
    scores = []
    for lam in _LAMBDAS:
        ratio = std / mean ** (1 - lam)
        scores.append(np.std(ratio, ddof=1) / np.mean(ratio))
    return float(_LAMBDAS[int(np.argmin(scores))])


def _validation_steps(n: int, freq: pd.Timedelta, validation_days: float) -> tuple[int, bool]:
    """Steps in the inner validation window, and whether they were shortened: the window is
    ``validation_days``, or, when a history of ``n`` steps is too short to leave a week before
    it (but holds at least a week and a day), the steps after its first week, so that a young
    series is still blended with the seasonal naive rather than left to Prophet alone."""
    steps = round(pd.Timedelta(days=validation_days) / freq)
    week, day = round(7 * _DAY / freq), max(round(_DAY / freq), 1)
    if n - steps < week and n - week >= day:
        return n - week, True
    return steps, False


def _lead_growth(horizon: int, calibrated: int, freq: pd.Timedelta, growth: float) -> np.ndarray:
    """Stretch of the band at each of ``horizon`` steps: 1 over the ``calibrated`` steps whose
    residuals set it, then ``sqrt(1 + growth x weeks beyond them)``."""
    beyond = np.maximum(np.arange(1, horizon + 1) - calibrated, 0) * (freq / _WEEK)
    return np.sqrt(1 + growth * beyond)


def _conformal(
    res: np.ndarray, qs: list[float], horizon: int, scale: float | np.ndarray
) -> np.ndarray:
    """Split-conformal quantiles of the residuals (in the interval space) for each future step.

    The quantile at level q is the k-th smallest of the n residuals, with k = ceil((n + 1) q)
    above the median and floor((n + 1) q) below it (clipped to 1..n), so that a few residuals
    err on the wide side; then its distance from the median is stretched by ``scale`` (one
    value, or one per step).
    """
    table = np.empty((horizon, len(qs)))
    if len(res) == 0:
        table[:] = 0.0
        return table
    ordered = np.sort(res)
    n = len(ordered)
    mid = float(np.median(ordered))
    for j, q in enumerate(qs):
        k = math.ceil((n + 1) * q) if q >= 0.5 else math.floor((n + 1) * q)
        value = float(ordered[min(max(k, 1), n) - 1])
        table[:, j] = mid + scale * (value - mid)
    return table


#: The Stan parameters a warm start hands Prophet (``layout`` only names the coefficients).
_STAN_PARAMS = ("k", "m", "sigma_obs", "delta", "beta")


def _as_init(value: Any) -> Any:
    """A stored Stan parameter in the form Prophet's ``init`` expects."""
    return np.asarray(value, dtype=float) if isinstance(value, list | tuple) else float(value)


def _widest(
    windows: Sequence[np.ndarray], qs: list[float], horizon: int, scale: float | np.ndarray
) -> np.ndarray:
    """The conformal quantiles of each window of residuals (see :func:`_conformal`), combined
    into the widest band: below the median the lowest, above it the highest; the median is the
    first (newest) window's."""
    tables = [_conformal(res, qs, horizon, scale) for res in windows if len(res)]
    if not tables:
        return _conformal(np.empty(0), qs, horizon, scale)
    table = tables[0].copy()
    for j, q in enumerate(qs):
        if q < 0.5:
            table[:, j] = np.min([t[:, j] for t in tables], axis=0)
        elif q > 0.5:
            table[:, j] = np.max([t[:, j] for t in tables], axis=0)
    return table


def _norm_ppf(q: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(q)


def _trough(ds: pd.DatetimeIndex, y: np.ndarray) -> pd.Timedelta:
    """Where a day starts: the hour of the lowest median demand (steps finer than an hour are
    binned), as an offset from midnight between -11 h and +12 h.

    A day is named after the date that holds most of its hours: a trough at 04:00 starts
    Saturday at 04:00 on Saturday (+4 h), a trough at 20:00 starts it at 20:00 on Friday
    (-4 h). Subtracting the offset from a time gives the date of the day it belongs to.
    """
    ok = np.isfinite(y)
    if ok.sum() < 24:
        return pd.Timedelta(0)
    hours = pd.Series(y[ok]).groupby(np.asarray(ds.hour)[ok]).median()
    if len(hours) != 24:
        return pd.Timedelta(0)
    start = int(hours.idxmin())
    return pd.Timedelta(hours=start if start <= 12 else start - 24)


def _season_steps(y: np.ndarray, freq: pd.Timedelta) -> int:
    """The seasonal-naive period: a week when there is one, else a day, else one step."""
    week = round(_WEEK / freq)
    day = round(_DAY / freq)
    if len(y) >= week:
        return week
    if len(y) >= 2 * day and day >= 1:
        return day
    return 1


def _fill_back(y: np.ndarray, period: int) -> np.ndarray:
    """``y`` with each gap filled from one period earlier (or later), else the median."""
    out = y.copy()
    for k in range(len(out)):
        if not np.isfinite(out[k]) and k >= period and np.isfinite(out[k - period]):
            out[k] = out[k - period]
    for k in range(len(out) - 1, -1, -1):
        if not np.isfinite(out[k]) and k + period < len(out) and np.isfinite(out[k + period]):
            out[k] = out[k + period]
    out[~np.isfinite(out)] = np.nanmedian(y) if np.isfinite(y).any() else 0.0
    return out


def _reg(kind: str) -> str:
    return f"event_{kind}"


def _kinds_in(events: pd.DataFrame) -> list[str]:
    return sorted(set(events[KIND])) if len(events) else []


def _kind_events(events: pd.DataFrame, kind: str) -> pd.DataFrame:
    return events[events[KIND] == kind]


def _windows(events: pd.DataFrame, kind: str, owner: DemandForecaster) -> list[tuple[Any, ...]]:
    """(start, end, uplift) of every window of ``kind``; holidays include public holidays."""
    rows = _kind_events(events, kind)
    uplift = rows[EXPECTED_UPLIFT] if EXPECTED_UPLIFT in rows else pd.Series(np.nan, rows.index)
    out = list(zip(rows[START_TS], rows[END_TS], uplift, strict=True))
    if kind == _HOLIDAY:
        seen = {(s, e) for s, e, _ in out}
        out += [(s, e, np.nan) for s, e in owner.holiday_windows_ if (s, e) not in seen]
    return out


def _reaching(
    windows: list[tuple[Any, ...]], ts: pd.DatetimeIndex, shape: EventShape
) -> list[tuple[Any, ...]]:
    """The windows whose effect (with its ramp and tail) reaches into ``ts``."""
    if len(ts) == 0:
        return []
    lo = ts[0] - pd.Timedelta(hours=shape.tail_hours)
    hi = ts[-1] + pd.Timedelta(hours=shape.pre_hours)
    return [w for w in windows if w[0] <= hi and w[1] > lo]


def _kind_weight(
    ts: pd.DatetimeIndex,
    events: pd.DataFrame,
    kind: str,
    owner: DemandForecaster,
    uplift_ref: float | None = None,
) -> np.ndarray:
    """The regressor of one kind: each event's shape, sized by :func:`_uplift_size` when the
    kind has a reference log-uplift; the largest where events overlap."""
    shape = owner._shapes.get(kind, _FLAT)
    w = np.zeros(len(ts))
    for start, end, uplift in _reaching(_windows(events, kind, owner), ts, shape):
        w = np.maximum(w, shape.weight(ts, start, end) * _uplift_size(uplift, uplift_ref))
    return w


#: Bounds of an event's size relative to its kind's typical event.
_SIZE_RANGE = (0.25, 4.0)


def _log_uplift(uplift: Any) -> float | None:
    """``log(uplift)`` of a usable planner's uplift (finite, > 0, not 1), else None."""
    if not _is_number(uplift):
        return None
    value = float(uplift)
    if not math.isfinite(value) or value <= 0 or value == 1:
        return None
    return math.log(value)


def _uplift_size(uplift: Any, ref: float | None) -> float:
    """An event's size relative to its kind's reference log-uplift (1 without either)."""
    log_u = _log_uplift(uplift)
    if ref is None or log_u is None or log_u * ref <= 0:
        return 1.0
    return float(np.clip(log_u / ref, *_SIZE_RANGE))


def _uplift_refs(
    observed_ts: pd.DatetimeIndex,
    events: pd.DataFrame,
    kinds: set[str],
    owner: DemandForecaster,
) -> dict[str, float]:
    """For each learned kind, the mean log-uplift of its observed events that state one, when
    they all point the same way (up or down)."""
    refs: dict[str, float] = {}
    for kind in kinds:
        logs = [
            log_u
            for _, _, uplift in _observed_windows(observed_ts, events, kind, owner)
            if (log_u := _log_uplift(uplift)) is not None
        ]
        if logs and (all(v > 0 for v in logs) or all(v < 0 for v in logs)):
            refs[kind] = float(np.mean(logs))
    return refs


def _observed_windows(
    observed_ts: pd.DatetimeIndex, events: pd.DataFrame, kind: str, owner: DemandForecaster
) -> list[tuple[Any, ...]]:
    """The windows of one kind holding at least one observed timestamp."""
    if len(observed_ts) == 0:
        return []
    lo, hi = observed_ts[0], observed_ts[-1]
    return [
        w
        for w in _windows(events, kind, owner)
        if w[0] <= hi and w[1] > lo and bool(((observed_ts >= w[0]) & (observed_ts < w[1])).any())
    ]


def _kind_counts(
    observed_ts: pd.DatetimeIndex, events: pd.DataFrame, owner: DemandForecaster
) -> dict[str, int]:
    """Events of each kind (not outages) holding an observed timestamp."""
    if len(observed_ts) == 0:
        return {}
    kinds = set(_kinds_in(events))
    if owner.holiday_windows_:
        kinds.add(_HOLIDAY)
    return {
        kind: len(_observed_windows(observed_ts, events, kind, owner)) for kind in kinds - {_OUTAGE}
    }


def _scenario(
    ts: pd.DatetimeIndex, events: pd.DataFrame, kind: str, owner: DemandForecaster
) -> np.ndarray:
    """Multiplier of demand from the planner's uplifts of one unlearned kind."""
    shape = owner._shapes.get(kind, _FLAT)
    mult = np.ones(len(ts))
    for start, end, uplift in _reaching(_windows(events, kind, owner), ts, shape):
        if not (isinstance(uplift, float | int) and math.isfinite(uplift)):
            continue
        w = shape.weight(ts, start, end)
        mult = (
            np.maximum(mult, 1 + (uplift - 1) * w)
            if uplift >= 1
            else np.minimum(mult, 1 + (uplift - 1) * w)
        )
    return mult


def _mask(
    frame: pd.DataFrame,
    events: pd.DataFrame,
    anomaly_z: float | None,
    freq: pd.Timedelta,
    shapes: Mapping[str, EventShape],
) -> tuple[np.ndarray, pd.DataFrame]:
    """The values with gaps, outages and (optionally) anomalies set to NaN, and the report."""
    ts = pd.DatetimeIndex(frame[TS])
    y = frame[VALUE].to_numpy(dtype=float, copy=True)
    reason = np.array([""] * len(y), dtype=object)
    reason[~np.isfinite(y)] = "gap"
    for start, end in zip(
        _kind_events(events, _OUTAGE)[START_TS], _kind_events(events, _OUTAGE)[END_TS], strict=True
    ):
        inside = (ts >= start) & (ts < end) & (reason == "")
        reason[inside] = _OUTAGE
    y[reason != ""] = np.nan
    if anomaly_z is not None:
        flagged = _anomalies(ts, y, events, freq, anomaly_z)
        reason[flagged & (reason == "")] = "anomaly"
        y[reason != ""] = np.nan
    keep = reason != ""
    masked = pd.DataFrame({TS: ts[keep], _REASON: reason[keep].astype(str)})
    return y, masked


def _anomalies(
    ts: pd.DatetimeIndex, y: np.ndarray, events: pd.DataFrame, freq: pd.Timedelta, z: float
) -> np.ndarray:
    """Robust z-score of log residuals from a median seasonal profile, outside known events."""
    day = round(_DAY / freq)
    period = 7 * day
    if day < 2 or len(y) < 2 * period:
        return np.zeros(len(y), dtype=bool)
    logy = np.log(y + max(float(np.nanmedian(y)) * 0.01, 1e-9))
    # A two-way median profile (step of the day + day of the week) stays robust with a few
    # weeks, where a median per step of the week would be spoilt by two spikes in one cell.
    step = np.arange(len(y))
    by_hour = pd.Series(logy).groupby(step % day).transform("median").to_numpy()
    rest = logy - by_hour
    by_day = pd.Series(rest).groupby((step // day) % 7).transform("median").to_numpy()
    resid = rest - by_day
    # Remove the slow level with a centred rolling median over one period.
    level = pd.Series(resid).rolling(period, center=True, min_periods=period // 2).median()
    resid = resid - level.to_numpy()
    ok = np.isfinite(resid)
    if ok.sum() < period:
        return np.zeros(len(y), dtype=bool)
    center = np.median(resid[ok])
    mad = np.median(np.abs(resid[ok] - center)) * 1.4826
    if mad <= 0:
        return np.zeros(len(y), dtype=bool)
    score = np.abs(resid - center) / mad
    flagged = np.nan_to_num(score, nan=0.0) > z
    for start, end in zip(events[START_TS], events[END_TS], strict=True):
        flagged &= ~((ts >= start - _DAY) & (ts < end + _DAY))
    return flagged


def _validate_series(series: Any) -> tuple[pd.DataFrame, pd.Timedelta]:
    where = "series"
    if not isinstance(series, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame; got {type(series).__name__}",
            source=where,
            fix="pass a frame with columns 'ts' and 'value'",
        )
    missing = [c for c in (TS, VALUE) if c not in series.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; got "
            f"{', '.join(repr(str(c)) for c in series.columns) or 'no columns'}",
            source=where,
            fix="name the timestamp column 'ts' and the demand column 'value'",
        )
    ts = series[TS]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise DataError(
            f"column 'ts' must hold tz-aware UTC timestamps; got dtype {ts.dtype}",
            source=where,
            fix="convert with pd.to_datetime(ts, utc=True), or tz_localize('UTC') naive UTC times",
        )
    if str(ts.dt.tz) != "UTC":
        raise DataError(
            f"column 'ts' must be in UTC; got time zone {ts.dt.tz}",
            source=where,
            fix="convert with series['ts'].dt.tz_convert('UTC')",
        )
    try:
        values = pd.to_numeric(series[VALUE], errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"column 'value' must be numeric: {_first_line(exc)}",
            source=where,
            fix="convert the demand values to floats; use NaN for missing hours",
        ) from None
    frame = pd.DataFrame({TS: ts.to_numpy(), VALUE: values.to_numpy()})
    frame[TS] = frame[TS].dt.tz_localize("UTC") if frame[TS].dt.tz is None else frame[TS]
    if frame[TS].isna().any():
        row = int(np.flatnonzero(frame[TS].isna().to_numpy())[0])
        raise DataError("missing timestamp", source=where, where=f"row {row}", fix="drop the row")
    frame = frame.sort_values(TS, kind="stable").reset_index(drop=True)
    if len(frame) < 2:
        raise DataError(
            f"needs at least {_MIN_DAYS} days of data; got {len(frame)} row(s)",
            source=where,
            fix="pass a longer history",
        )
    diffs = frame[TS].diff().iloc[1:]
    if (diffs == pd.Timedelta(0)).any():
        dup = frame[TS].iloc[1:][(diffs == pd.Timedelta(0)).to_numpy()].iloc[0]
        raise DataError(
            f"duplicate timestamp {dup:%Y-%m-%d %H:%M}Z",
            source=where,
            fix="aggregate to one row per timestamp",
        )
    freq = diffs.min()
    irregular = diffs[diffs % freq != pd.Timedelta(0)]
    if len(irregular):
        at = frame[TS].iloc[1:][(diffs % freq != pd.Timedelta(0)).to_numpy()].iloc[0]
        raise DataError(
            f"irregular grid: steps of {freq} and {irregular.iloc[0]} (at {at:%Y-%m-%d %H:%M}Z)",
            source=where,
            fix="resample to a fixed frequency, with NaN for missing steps",
        )
    if (diffs != freq).any():
        # Missing rows on an otherwise regular grid: reindex them as gaps.
        full = pd.date_range(frame[TS].iloc[0], frame[TS].iloc[-1], freq=freq)
        frame = frame.set_index(TS).reindex(full).rename_axis(TS).reset_index()
    vals = frame[VALUE].to_numpy()
    if np.isinf(vals).any():
        row = int(np.flatnonzero(np.isinf(vals))[0])
        raise DataError(
            f"infinite value at {frame[TS].iloc[row]:%Y-%m-%d %H:%M}Z",
            source=where,
            fix="replace it with NaN to mark a gap",
        )
    negative = np.flatnonzero(np.nan_to_num(vals, nan=0.0) < 0)
    if len(negative):
        row = int(negative[0])
        raise DataError(
            f"negative value {vals[row]:g} at {frame[TS].iloc[row]:%Y-%m-%d %H:%M}Z "
            f"({len(negative)} negative in all)",
            source=where,
            fix="demand is never negative: replace bad values with NaN to mark them as gaps",
        )
    observed = np.flatnonzero(np.isfinite(vals))
    if not len(observed):
        raise DataError(
            "every value is missing",
            source=where,
            fix="pass a series with demand values (NaN marks only the missing steps)",
        )
    # A series starts at its first observation: the empty rows a store's window puts before
    # it are no history (counted as such they set a weekly season of mostly gaps)
    frame = frame.iloc[observed[0] :].reset_index(drop=True)
    span = frame[TS].iloc[-1] - frame[TS].iloc[0] + freq
    if span < _MIN_DAYS * _DAY:
        raise DataError(
            f"needs at least {_MIN_DAYS} days of data; got {span / _DAY:.1f} days",
            source=where,
            fix="pass a longer history",
        )
    return frame, freq


def _validate_events(events: Any, where: str) -> pd.DataFrame:
    empty = pd.DataFrame(
        {
            KIND: pd.Series([], dtype=str),
            START_TS: pd.Series([], dtype="datetime64[us, UTC]"),
            END_TS: pd.Series([], dtype="datetime64[us, UTC]"),
            EXPECTED_UPLIFT: pd.Series([], dtype=float),
        }
    )
    if events is None:
        return empty
    if not isinstance(events, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame of events; got {type(events).__name__}",
            source=where,
            fix="pass the frame returned by capacity.calendar.read_calendar",
        )
    missing = [c for c in (KIND, START_TS, END_TS) if c not in events.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}",
            source=where,
            fix="pass the frame returned by capacity.calendar.read_calendar",
        )
    out = pd.DataFrame({KIND: events[KIND].astype(str).str.lower().reset_index(drop=True)})
    for col in (START_TS, END_TS):
        if not isinstance(events[col].dtype, pd.DatetimeTZDtype):
            raise DataError(
                f"column {col!r} must hold tz-aware timestamps; got dtype {events[col].dtype}",
                source=where,
                fix="read the calendar with capacity.calendar.read_calendar",
            )
        out[col] = events[col].dt.tz_convert("UTC").reset_index(drop=True)
    if EXPECTED_UPLIFT in events.columns:
        out[EXPECTED_UPLIFT] = pd.to_numeric(events[EXPECTED_UPLIFT], errors="coerce").to_numpy(
            dtype=float
        )
    else:
        out[EXPECTED_UPLIFT] = np.nan
    bad = out[END_TS] <= out[START_TS]
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"event ends ({out[END_TS].iloc[row]}) before it starts ({out[START_TS].iloc[row]})",
            source=where,
            where=f"row {row}",
            fix="make end_ts later than start_ts",
        )
    return out


def _validate_zone(timezone: str | None) -> ZoneInfo | None:
    if timezone is None:
        return None
    try:
        return ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ParameterError(
            f"The 'timezone' parameter must be an IANA time zone. Got {timezone!r}.",
            fix="use a name such as 'Europe/Berlin'",
        ) from None


def _validate_country(country: str | None) -> str | None:
    if country is None:
        return None
    import holidays

    if str(country).upper() not in holidays.list_supported_countries():
        raise ParameterError(
            f"The 'holidays_country' parameter must be a country the holidays package knows. "
            f"Got {country!r}.",
            fix="use an ISO 3166-1 alpha-2 code such as 'DE' or 'US'",
        )
    return str(country).upper()


def _holiday_windows(
    country: str | None, zone: ZoneInfo | None, first: pd.Timestamp, last: pd.Timestamp
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Public holidays as [local midnight, next local midnight) windows in UTC."""
    if country is None:
        return []
    import holidays

    tz = zone.key if zone is not None else "UTC"
    years = range(first.year - 1, last.year + 2)
    days = sorted(holidays.country_holidays(country, years=years))
    out = []
    for day in days:
        start = pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")
        end = (pd.Timestamp(day) + _DAY).tz_localize(tz).tz_convert("UTC")
        out.append((start, end))
    return out


# "disabled" is not inherited: a child logger must be silenced by name.
_PROPHET_LOGGERS = ("prophet", "prophet.models", "prophet.forecaster")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence cmdstanpy and prophet while fitting, and restore them afterwards."""
    with quiet_import():
        import cmdstanpy

    loggers = [logging.getLogger(name) for name in _PROPHET_LOGGERS]
    before = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        with cmdstanpy.disable_logging():
            yield
    finally:
        for logger, state in zip(loggers, before, strict=True):
            logger.disabled = state


def _raise_os_error(exc: BaseException) -> None:
    """Raise the ``OSError`` behind ``exc``, if any: cmdstanpy reports one it met (a full disk,
    a folder it cannot write) as a ``RuntimeError`` raised from it, which must not pass for a
    failed optimisation and turn every series of the fleet into a fallback."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, OSError):
            raise link
        seen.add(id(link))
        link = link.__cause__ or link.__context__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b
