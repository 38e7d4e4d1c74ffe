"""Prophet fits through ``capacity.prophet_fit``: the fit Prophet gives, and no CmdStan files left
behind, in this process or in pool workers."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from capacity.baselines import ProphetDefault
from capacity.columns import TS, VALUE
from capacity.forecast import DemandForecaster
from capacity.parallel import map_tasks
from capacity.prophet_fit import fit_prophet


def _series(seed: int) -> pd.DataFrame:
    ts = pd.date_range("2026-03-02", periods=24 * 21, freq="h", tz="UTC")
    rng = np.random.default_rng(seed)
    daily = 1 + 0.4 * np.sin(2 * np.pi * ts.hour.to_numpy() / 24)
    value = 1000 * daily + rng.normal(0, 20, len(ts))
    return pd.DataFrame({TS: ts, VALUE: value})


def fit_and_list_scratch(seed: int) -> tuple[str, list[str]]:
    """Fit both Prophet-based models; return cmdstanpy's folder for this process and its files."""
    import cmdstanpy

    series = _series(seed)
    DemandForecaster().fit(series).predict(24)
    ProphetDefault(uncertainty_samples=50).fit(series).predict(24)
    return cmdstanpy._TMPDIR, sorted(os.listdir(cmdstanpy._TMPDIR))


def test_fits_in_this_process_leave_no_files():
    folder, files = fit_and_list_scratch(0)
    assert files == [], f"CmdStan files left in {folder}: {files[:5]}"


def test_fits_in_pool_workers_leave_no_files():
    # Pool workers exit without running cmdstanpy's atexit clean-up, so anything a fit leaves in
    # its per-process folder stays in the system's temporary directory for good.
    results = map_tasks(fit_and_list_scratch, [1, 2, 3], jobs=2)
    for folder, files in results:
        assert files == [], f"CmdStan files left in {folder}: {files[:5]}"
        leftovers = os.listdir(folder) if os.path.isdir(folder) else []
        assert leftovers == [], f"CmdStan files left in {folder} after the pool: {leftovers[:5]}"


def _prophet_frame() -> pd.DataFrame:
    ts = pd.date_range("2026-03-02", periods=24 * 40, freq="h")
    rng = np.random.default_rng(7)
    steps = np.arange(len(ts))
    return pd.DataFrame(
        {
            "ds": ts,
            "y": 100 + 10 * np.sin(steps / 3.8) + rng.normal(0, 1, len(ts)),
            "launch": (steps % 170 < 6).astype(float),
        }
    )


def _prophet():
    from prophet import Prophet

    model = Prophet(uncertainty_samples=0, weekly_seasonality=False)
    model.add_seasonality(name="daily", period=1, fourier_order=6)
    model.add_regressor("launch", standardize=False)
    return model


@pytest.mark.parametrize("warm", [False, True])
def test_the_fit_is_the_one_prophet_gives(warm):
    frame = _prophet_frame()
    plain = _prophet().fit(frame)
    init = {k: v[0] if v.shape[1] > 1 else float(v[0, 0]) for k, v in plain.params.items()}
    init = {k: v for k, v in init.items() if k in ("k", "m", "delta", "beta", "sigma_obs")}
    kwargs = {"init": init} if warm else {}
    reference = _prophet().fit(frame, **kwargs) if warm else plain
    ours = fit_prophet(_prophet(), frame, **kwargs)
    assert set(ours.params) == set(reference.params)
    for name, value in reference.params.items():
        np.testing.assert_array_equal(ours.params[name], value, err_msg=name)


def test_a_start_whose_vectors_no_longer_fit_is_not_used_at_all():
    """One regressor more than the start knows: the fit is the cold one, not Prophet's mix of
    the old scalars and default vectors."""
    frame = _prophet_frame()
    plain = fit_prophet(_prophet(), frame)
    init = {k: v[0] if v.shape[1] > 1 else float(v[0, 0]) for k, v in plain.params.items()}
    init = {k: v for k, v in init.items() if k in ("k", "m", "delta", "beta", "sigma_obs")}
    assert not plain.warm_started
    assert fit_prophet(_prophet(), frame, init=init).warm_started

    def with_patch():
        model = _prophet()
        model.add_regressor("patch", standardize=False)
        return model

    bigger = frame.assign(patch=(np.arange(len(frame)) % 240 < 3).astype(float))
    cold = fit_prophet(with_patch(), bigger)
    warm = fit_prophet(with_patch(), bigger, init=init)
    assert not warm.warm_started
    for name, value in cold.params.items():
        np.testing.assert_array_equal(warm.params[name], value, err_msg=name)
