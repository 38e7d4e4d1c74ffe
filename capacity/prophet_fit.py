"""Run a Prophet fit without leaving CmdStan's files behind.

Prophet's MAP fit goes through cmdstanpy, which writes each fit's output (a CSV of the
optimum and the console log, about 70 kB) to one temporary folder per process and deletes
that folder only in an ``atexit`` hook. Pool workers (loky, ``multiprocessing``) leave with
``os._exit``, which skips the hook, so every worker of every fleet run used to leave its
folder, and all its fits, in the system's temporary directory. Here each fit writes to its
own temporary folder, removed as soon as the fit has read its result.
"""

from __future__ import annotations

import tempfile
from typing import Any

__all__ = ["fit_prophet"]


def fit_prophet(model: Any, frame: Any, **kwargs: Any) -> Any:
    """Fit a ``prophet.Prophet`` on ``frame`` with CmdStan's output in a throwaway folder.

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
        The fitted model.
    """
    with tempfile.TemporaryDirectory(prefix="capacity-cmdstan-") as scratch:
        return model.fit(frame, output_dir=scratch, **kwargs)
