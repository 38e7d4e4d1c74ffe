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

This package's ``__init__`` holds the estimator; the steps' work is done by its modules, which
import one another one way and never the package's own names:

- ``validation``: the input checked (series, events, time zone, holidays country);
- ``masking``: gaps, outages and anomalies masked (step 1);
- ``transforms``: Guerrero's lambda, the daily trough, the seasonal period (steps 2 and 4);
- ``shapes`` and ``events``: event shapes, windows, uplift sizing and scenarios (step 3);
- ``core``: one Prophet fit and its forecast, split into parts (steps 2 to 4);
- ``ensemble``: the validation window, the candidates and the blend (step 5);
- ``intervals``: conformal quantiles, the widest band, growth with the lead (step 6);
- ``prophet_calls``: Prophet's loggers silenced, a machine's failure told from a failed fit;
- ``constants``: the day, the week and the event kinds the parts share.

Every name the single module ``capacity/forecast.py`` defined is still importable from here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from capacity.columns import (
    DEFAULT_QUANTILES,
    FALLBACK,
    MODEL,
    REGION,
    TS,
    YHAT,
    quantile_column,
)
from capacity.errors import NotFittedError, ParameterError
from capacity.forecast.constants import _DAY, _WEEK
from capacity.forecast.constants import _HOLIDAY as _HOLIDAY
from capacity.forecast.constants import _OUTAGE as _OUTAGE
from capacity.forecast.core import _AR_MAX_PHI as _AR_MAX_PHI
from capacity.forecast.core import _AR_MIN_PAIRS as _AR_MIN_PAIRS
from capacity.forecast.core import _AR_TAIL_DAYS as _AR_TAIL_DAYS
from capacity.forecast.core import _STAN_PARAMS as _STAN_PARAMS
from capacity.forecast.core import _WEEKLY_SPAN as _WEEKLY_SPAN
from capacity.forecast.core import _as_init as _as_init
from capacity.forecast.core import _Core
from capacity.forecast.ensemble import (
    _PROPHET_ONLY,
    _best_choice,
    _blend,
    _Choice,
    _Validation,
    _validation_steps,
)
from capacity.forecast.ensemble import _WEIGHTS as _WEIGHTS
from capacity.forecast.ensemble import _Parts as _Parts
from capacity.forecast.events import _SIZE_RANGE as _SIZE_RANGE
from capacity.forecast.events import _holiday_windows, _unsized
from capacity.forecast.events import _kind_counts as _kind_counts
from capacity.forecast.events import _kind_events as _kind_events
from capacity.forecast.events import _kind_weight as _kind_weight
from capacity.forecast.events import _kinds_in as _kinds_in
from capacity.forecast.events import _log_uplift as _log_uplift
from capacity.forecast.events import _observed_windows as _observed_windows
from capacity.forecast.events import _reaching as _reaching
from capacity.forecast.events import _reg as _reg
from capacity.forecast.events import _scenario as _scenario
from capacity.forecast.events import _uplift_refs as _uplift_refs
from capacity.forecast.events import _uplift_size as _uplift_size
from capacity.forecast.events import _windows as _windows
from capacity.forecast.intervals import _conformal as _conformal
from capacity.forecast.intervals import _lead_growth, _norm_ppf, _widest
from capacity.forecast.masking import _REASON as _REASON
from capacity.forecast.masking import _anomalies as _anomalies
from capacity.forecast.masking import _mask
from capacity.forecast.prophet_calls import _PROPHET_LOGGERS as _PROPHET_LOGGERS
from capacity.forecast.prophet_calls import _quiet as _quiet
from capacity.forecast.prophet_calls import _raise_os_error
from capacity.forecast.shapes import _FLAT as _FLAT
from capacity.forecast.shapes import EVENT_SHAPES, EventShape
from capacity.forecast.transforms import _LAMBDAS as _LAMBDAS
from capacity.forecast.transforms import _fill_back, _guerrero, _season_steps
from capacity.forecast.transforms import _trough as _trough
from capacity.forecast.validation import _MIN_DAYS as _MIN_DAYS
from capacity.forecast.validation import (
    _equal,
    _first_line,
    _horizon_message,
    _is_number,
    _scope_events,
    _validate_country,
    _validate_events,
    _validate_series,
    _validate_zone,
)
from capacity.quantile_levels import check_quantiles

__all__ = ["EVENT_SHAPES", "DemandForecaster", "EventShape", "NotFittedError"]

_MIN_PROPHET_DAYS = 3  # fewer observed days than this falls back to the seasonal naive
# Normal quantile of 0.95: a scenario's 5 % to 95 % band spans +-scenario_spread.
_Z95 = 1.6448536269514722
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


class DemandForecaster:
    """Forecast hourly (or any fixed-step) demand with events, holidays and honest quantiles.

    Parameters
    ----------
    quantiles : sequence of float
        Quantiles to report: distinct, in (0, 1) and increasing; one column each, in that
        order, named by :func:`capacity.columns.quantile_column`.
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
        in the history (clipped to 0.25..4, so an uplift of 1 or one pointing against the
        kind's history is 0.25; 1 for events without an uplift), so the learned
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
            ``expected_uplift`` for scenario planning. Not modified. Every event given is
            applied to the series: when ``series`` names its region (a ``region`` column, as
            :meth:`capacity.Store.series` returns), only the events whose ``regions`` touch it
            (or ``all``) are kept; without one, a calendar with a ``regions`` column that no
            region runs through (``store.events()`` of every region) is refused.
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
            When a constructor argument, ``holidays_country`` or ``timezone`` is invalid,
            ``series`` holds several series, or ``events`` holds several regions' calendars
            for a series that names none.
        """
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("_"):
                delattr(self, name)
        self._check_params()
        frame, freq = _validate_series(series)
        # the series' region, when its frame names one: the calendar keeps only its events
        self._scope = series.loc[:, [REGION]].drop_duplicates() if REGION in series else None
        ev = _validate_events(_scope_events(events, series, "events"), "events")
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
        check_quantiles(self.quantiles, allow_empty=False)
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
        future = self._future(horizon, "predict(horizon)")
        ev = self.events_ if events is None else self._events(events)
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

    def unsized_events(self, horizon: int, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """The calendar events of the next ``horizon`` steps that the forecast leaves out.

        An event of a kind the history holds fewer than ``min_event_occurrences`` times has no
        learned effect; the planner's ``expected_uplift`` stands in for one. An event with
        neither changes nothing, and a plan sized on the forecast would not know it: these are
        the events to give an uplift (or to check by hand). Outages are never listed, and a
        fallback's forecast, which leaves out every event, lists none (``model_`` says it fell
        back).

        Parameters
        ----------
        horizon : int
            Number of steps of ``freq_`` forecast, >= 1, as given to :meth:`predict`.
        events : pandas.DataFrame, optional
            The calendar of the future; default: the one given to :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            ``kind``, ``start_ts``, ``end_ts``, ``expected_uplift`` (and ``event_id`` and
            ``name`` when the calendar has them) of each such event whose effect, its ramp and
            tail included, reaches into the horizon.
        """
        future = self._future(horizon, "unsized_events(horizon)")
        ev = self.events_ if events is None else self._events(events)
        if self.core_ is None:
            return ev.iloc[0:0]
        return _unsized(future, ev, self.core_.learned, self).reset_index(drop=True)

    def _events(self, events: pd.DataFrame) -> pd.DataFrame:
        """A calendar given to predict or unsized_events, scoped as fit scoped its own."""
        scope = getattr(self, "_scope", None)
        return _validate_events(
            _scope_events(events, scope if scope is not None else pd.DataFrame(), "events"),
            "events",
        )

    def _future(self, horizon: int, call: str) -> pd.DatetimeIndex:
        """The ``horizon`` steps after the history, for ``call`` on a fitted forecaster."""
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"This DemandForecaster is not fitted yet. Call fit(series, events) before {call}."
            )
        if (
            isinstance(horizon, bool | np.timedelta64)  # numpy's timedelta is an np.integer
            or not isinstance(horizon, int | np.integer)
            or horizon < 1
        ):
            raise ParameterError(_horizon_message(horizon, self.freq_))
        return pd.DatetimeIndex(
            [self.last_ts_ + self.freq_ * k for k in range(1, int(horizon) + 1)]
        )

    def _fallback_point(self, future: pd.DatetimeIndex) -> np.ndarray:
        y, period = self._y, self.period_
        tail = _fill_back(y, period)[-period:]
        return tail[np.arange(len(future)) % period]
