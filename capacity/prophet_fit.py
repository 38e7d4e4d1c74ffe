"""Run a Prophet fit quickly and without leaving CmdStan's files behind.

Two things about how Prophet hands a fit to CmdStan (through cmdstanpy) are changed here,
neither of which changes the fit:

* **Files.** cmdstanpy writes each fit's output (a CSV of the optimum and the console log,
  about 70 kB) to one temporary folder per process and deletes that folder only in an
  ``atexit`` hook. Pool workers (loky, ``multiprocessing``) leave with ``os._exit``, which
  skips the hook, so every worker of every fleet run used to leave its folder, and all its
  fits, in the system's temporary directory. Here each fit writes to its own temporary
  folder, removed as soon as the fit has read its result.
* **Input.** Prophet turns its arrays (the design matrix above all: one row per hour, one
  column per seasonal term and regressor) into nested Python lists, which cmdstanpy's JSON
  writer then walks element by element in Python: about a third of a fit's time. Turned back
  into numpy arrays, they take the writer's vectorised path and give byte-identical JSON.

Prophet and cmdstanpy are imported inside :func:`quiet_import`: both import ``tqdm.auto``,
which in a notebook kernel without ipywidgets (the weekly plan's) warns "IProgress not found"
on stderr, and the published report showed that warning under its title.
"""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["fit_prophet", "quiet_import"]


@contextlib.contextmanager
def quiet_import() -> Iterator[None]:
    """Import Prophet or cmdstanpy in this block without tqdm's ipywidgets warning.

    Their first import loads ``tqdm.auto``, which in a notebook kernel without ipywidgets
    warns ``TqdmWarning: IProgress not found``; only that warning is ignored, and only here.
    Import cmdstanpy here too, not just Prophet: Prophet loads it only when a model is made.

    Yields
    ------
    None
    """
    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found", category=TqdmWarning)
        yield


def fit_prophet(model: Any, frame: Any, **kwargs: Any) -> Any:
    """Fit a ``prophet.Prophet`` on ``frame``, its CmdStan output in a throwaway folder.

    Parameters
    ----------
    model : prophet.Prophet
        An unfitted model.
    frame : pandas.DataFrame
        Its training frame (``ds``, ``y`` and any regressors).
    **kwargs
        Passed to ``Prophet.fit`` (for example ``init``).

    Returns
    -------
    prophet.Prophet
        The fitted model: the same parameters as ``model.fit(frame, **kwargs)`` would give,
        except that a start (``init``) whose ``delta`` or ``beta`` no longer has the model's
        length is not used at all; its ``warm_started`` attribute says whether one was.
    """
    backend = getattr(model, "stan_backend", None)
    prepare = getattr(backend, "prepare_data", None)
    if callable(prepare):
        backend.prepare_data = _as_arrays(prepare)
    model.warm_started = False
    sanitize = getattr(backend, "sanitize_custom_inits", None)
    if kwargs.get("init") is not None and callable(sanitize):
        backend.sanitize_custom_inits = _whole_or_default(model, sanitize)
    with tempfile.TemporaryDirectory(prefix="capacity-cmdstan-") as scratch:
        return model.fit(frame, output_dir=scratch, **kwargs)


def _whole_or_default(
    model: Any, sanitize: Callable[[dict, dict], dict]
) -> Callable[[dict, dict], dict]:
    """Wrap a backend's check of a custom start so that it is used whole or not at all.

    Prophet keeps the scalars of a start (``k``, ``m``, ``sigma_obs``) and resets only a
    vector whose length no longer fits, such as ``beta`` after an event kind entered or left
    the history. The old noise scale with fresh coefficients is a start from which L-BFGS can
    fail, and Prophet's fallback to Newton then converged to a meaningless fit (a demand
    series' noise scale 500 times its cold fit's). Such a start is dropped: the fit is the
    cold one. ``model.warm_started`` says which was used.
    """

    def sanitize_custom_inits(default_inits: dict, custom_inits: dict) -> dict:
        fits = all(
            np.shape(custom_inits.get(name)) == np.shape(default_inits[name])
            for name in ("delta", "beta")
        )
        model.warm_started = fits
        return sanitize(default_inits, custom_inits) if fits else dict(default_inits)

    return sanitize_custom_inits


def _as_arrays(prepare: Callable[..., tuple[dict, dict]]) -> Callable[..., tuple[dict, dict]]:
    """Wrap a backend's ``prepare_data`` so that its numeric lists come back as arrays."""

    def prepare_data(init: dict[str, Any], data: dict[str, Any]) -> tuple[dict, dict]:
        inits, stan_data = prepare(init, data)
        return _arrays(inits), _arrays(stan_data)

    return prepare_data


def _arrays(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        if isinstance(value, list):
            array = np.asarray(value)
            value = array if array.dtype.kind in "iuf" else value
        out[key] = value
    return out
