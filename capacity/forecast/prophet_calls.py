"""What surrounds each call into Prophet: its and cmdstanpy's loggers silenced while it runs,
and a machine's failure (an ``OSError`` cmdstanpy wraps) told apart from a failed optimisation."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from capacity.prophet_fit import quiet_import

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
