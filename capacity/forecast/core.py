"""The Prophet core (:class:`_Core`): one fit of one stretch of history on the Box-Cox scale,
with seasonality in local time, events and holidays, the AR(1) residual correction, a warm start
from stored parameters, and its forecast split into the parts the ensemble mixes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from capacity.forecast.constants import _DAY, _OUTAGE
from capacity.forecast.ensemble import _Parts
from capacity.forecast.events import (
    _kind_counts,
    _kind_weight,
    _kinds_in,
    _reg,
    _scenario,
    _uplift_refs,
)
from capacity.forecast.prophet_calls import _quiet
from capacity.forecast.transforms import _season_steps, _trough
from capacity.prophet_fit import fit_prophet, quiet_import

if TYPE_CHECKING:
    from capacity.forecast import DemandForecaster


# History needed for weekly terms (and a weekend daily profile); with less, the trend would
# absorb the weekend and extrapolate it.
_WEEKLY_SPAN = pd.Timedelta(days=10)


# The AR(1) residual correction: days of recent residuals it is fitted on, the fewest pairs
# of consecutive residuals, and the largest persistence allowed.
_AR_TAIL_DAYS = 14
_AR_MIN_PAIRS = 48
_AR_MAX_PHI = 0.98


#: The Stan parameters a warm start hands Prophet (``layout`` only names the coefficients).
_STAN_PARAMS = ("k", "m", "sigma_obs", "delta", "beta")


def _as_init(value: Any) -> Any:
    """A stored Stan parameter in the form Prophet's ``init`` expects."""
    return np.asarray(value, dtype=float) if isinstance(value, list | tuple) else float(value)


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
