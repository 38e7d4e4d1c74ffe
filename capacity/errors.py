"""The exceptions raised by :mod:`capacity`.

Every error the package raises on purpose derives from :class:`CapacityError`, so a caller
can catch them all in one place. The tree::

    CapacityError
    ├── InputError             bad input from a user: a file, a config, a parameter
    │   ├── DataError          a telemetry, calendar or log file whose content is wrong
    │   ├── ConfigError        a malformed fleet configuration
    │   └── ParameterError     an argument out of range or of the wrong form
    ├── StoreError             the DuckDB store cannot do what was asked
    │   ├── StoreLockedError   another process holds the store's write lock
    │   └── SchemaError        the store was written by a newer version of capacity
    ├── SourceUnavailableError a telemetry server (Prometheus) or the Dask scheduler could not
    │                          be reached, failed, or (Dask) had no workers
    ├── ResourceError          the machine running a fit could not write its files (disk full)
    ├── NotFittedError         a model asked to predict before it was fitted
    ├── PlanFailedError        a cell of the weekly plan failed
    ├── PlanLockedError        another weekly run is working in the plans folder
    └── PlanExistsError        the week already has a published plan (and no --force)

Input errors carry the place (file, row or key), what was wrong and how to fix it, and render
as one line, so the CLI can print them as they are and exit with status 2 (and a notebook cell
shows that line alone, without a traceback, as it does a store's error: a file that is no
store, a store another process is writing). The others are not
bad input and have their own status, so an unattended run can act on it without reading the
message: 1 for a failed plan or a machine that failed the work (:class:`PlanFailedError`,
:class:`ResourceError`), 3 for a lock another process holds (:class:`StoreLockedError`,
:class:`PlanLockedError`: try again later), 4 for a source that is down
(:class:`SourceUnavailableError`: retry), 5 for a week already planned
(:class:`PlanExistsError`: nothing to do, unless the plan is to be made again).
"""

from __future__ import annotations

__all__ = [
    "CapacityError",
    "ConfigError",
    "DataError",
    "InputError",
    "NotFittedError",
    "ParameterError",
    "PlanExistsError",
    "PlanFailedError",
    "PlanLockedError",
    "ResourceError",
    "SchemaError",
    "SourceUnavailableError",
    "StoreError",
    "StoreLockedError",
    "the_parameter",
]


def the_parameter(name: str) -> str:
    """``The 'name' parameter``, as an error message opens; given a command-line option
    (``"--wait"``), ``The 'wait' parameter (--wait)``, the way the CLI names an option.

    Parameters
    ----------
    name : str
        A parameter's name, or an option as typed on the command line.

    Returns
    -------
    str
    """
    if name.startswith("--"):
        return f"The '{name[2:].replace('-', '_')}' parameter ({name})"
    return f"The {name!r} parameter"


class CapacityError(Exception):
    """Base class of every error raised on purpose by :mod:`capacity`."""


def _one_line(self: CapacityError) -> list[str]:
    """What IPython shows for an error a notebook's reader is to act on: its one line, named
    by its class, without the stack of ``capacity`` code that raised it (the message says what
    to do; a traceback would bury that line under the package's source). IPython calls an
    exception's ``_render_traceback_`` in place of its own traceback.

    Returns
    -------
    list of str
        One line, ``ParameterError: The 'region' parameter ...``.
    """
    return [f"{type(self).__name__}: {self}"]


class InputError(CapacityError):
    """Input that cannot be used as given.

    Parameters
    ----------
    problem : str
        What was wrong, with the value received where it helps.
    source : str, optional
        The file (or other origin) the input came from.
    where : str, optional
        The row, line, column or key inside ``source``.
    fix : str, optional
        How to put it right.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        where: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.where = where
        self.fix = fix
        super().__init__(self._render())

    _render_traceback_ = _one_line

    def _render(self) -> str:
        place = ": ".join(str(p) for p in (self.source, self.where) if p)
        text = f"{place}: {self.problem}" if place else self.problem
        if self.fix:
            text = f"{text.rstrip('.')}. Fix: {self.fix}"
        return " ".join(text.split())


class DataError(InputError):
    """A data file (telemetry, calendar, incident or deploy log) with wrong content."""


class ConfigError(InputError):
    """A fleet configuration that is malformed or inconsistent."""


class ParameterError(InputError):
    """A parameter out of range or of the wrong form."""


class SourceUnavailableError(CapacityError):
    """A server the command depends on could not be used now.

    A telemetry server (Prometheus) that could not be reached, timed out or answered with a
    server error; a Dask scheduler that could not be reached, never completed the handshake,
    had no workers (at the start, or for five minutes after losing every one during the run) or
    was lost during the run. Nothing was loaded or stored; the same command
    can be run again once the server is back.
    """


class ResourceError(CapacityError):
    """The machine running the work could not do it: an ``OSError`` such as a full disk
    (ENOSPC), a file-size limit (EFBIG) or a read-only temporary folder, a task whose Dask
    workers each died running it (outgrowing a worker's memory, say), or Dask workers that
    cannot import capacity.

    Not bad input and not a problem of one series, so it is never turned into a per-series
    fallback (that would publish a plan of naive forecasts); nothing is stored. The same
    command can be run again once the machine (this one, or a Dask worker) is put right.
    """


class NotFittedError(CapacityError):
    """A model was asked to predict before it was fitted."""


class StoreError(CapacityError):
    """The store cannot do what was asked."""

    _render_traceback_ = _one_line


class StoreLockedError(StoreError):
    """Another process holds the store's write lock."""


class SchemaError(StoreError):
    """The store's schema is newer than this version of capacity understands."""


class PlanFailedError(CapacityError):
    """A cell of the plan notebook failed; nothing was published."""


class PlanLockedError(CapacityError):
    """Another weekly run is working in the same plans folder."""


class PlanExistsError(CapacityError):
    """The week already has a published plan, and the run was not asked to replace it.

    Not bad input: the week, the store and the fleet file are fine, and the plan the run was
    to make is there. Nothing was done; the published plan is as it was. Running again with
    ``force`` makes the plan anew (and keeps the earlier one in its history).

    Attributes
    ----------
    report : str or None
        The published plan's report (an absolute path), when the folder holds one: a wrapper
        that counts this as done still gets the report to mail.
    """

    def __init__(self, message: str, *, report: str | None = None) -> None:
        super().__init__(message)
        self.report = report
