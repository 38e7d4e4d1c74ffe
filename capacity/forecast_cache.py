"""Series forecasts kept on disk, keyed by everything that makes them, so that a command
asked again about the same data (``recommend`` after the weekly plan, ``check-event`` for
another event, ``schedule`` for another format) reuses the fits instead of repeating them.
The weekly plan's one-week backtest of each series is kept the same way (:func:`cached_map`
is the loop both go through: look up, fan out what is missing, store it).

An entry's key is a hash of one series' forecast inputs: its history (times and values),
the events it is forecast with, its region's time zone and holidays, the horizon, the
forecaster's settings, the package's code and the versions of the libraries the fit runs
on. Anything else changed makes another key, so an entry is either exactly what a fit would
give now or never found. The one thing left out is the warm start (the stored parameters a
fit starts from): it changes how fast the optimiser gets to the optimum, not which one.

The folder is ``$CAPACITY_CACHE_DIR`` when set (``off`` turns the cache off), else
``capacity/forecasts`` under ``$XDG_CACHE_HOME`` (``~/.cache``). Entries not used for
:data:`KEEP_FOR` are removed when new ones are written. The cache is a convenience: a folder
that cannot be made or written, or an entry that cannot be read, is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

#: The environment variable naming the cache folder; ``off`` turns the cache off.
CACHE_ENV = "CAPACITY_CACHE_DIR"
#: Entries not read or written for this long are removed.
KEEP_FOR = pd.Timedelta(days=14)
#: Bumped when what an entry holds changes shape.
_FORMAT = 1
#: The libraries whose versions are part of every key.
_LIBRARIES = ("pandas", "numpy", "prophet", "cmdstanpy", "holidays", "scikit-learn")
_SUFFIX = ".joblib"
#: What reading a damaged, truncated or foreign entry raises: each is a miss.
_UNREADABLE = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    ImportError,
    KeyError,
    pickle.UnpicklingError,
)


def cache_dir() -> Path | None:
    """The cache folder from the environment, or None when it is turned off."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "capacity" / "forecasts"


@functools.cache
def _environment() -> tuple[str, ...]:
    """The package's code hash and the libraries' versions: the same for a whole process."""
    from capacity.fingerprints import code_sha256

    versions = []
    for name in _LIBRARIES:
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=none")
    return (f"format={_FORMAT}", code_sha256(), *versions)


def _canonical(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """``frame`` with a plain index and one block per dtype, so that equal frames hash alike."""
    return None if frame is None else frame.reset_index(drop=True).copy()


def series_key(
    series: pd.DataFrame,
    events: pd.DataFrame | None,
    *,
    timezone: str | None,
    holidays_country: str | None,
    horizon: int,
    params: dict[str, Any],
) -> str:
    """The cache key of one series' forecast.

    Parameters
    ----------
    series : pandas.DataFrame
        The history (``ts``, ``value``).
    events : pandas.DataFrame or None
        The events it is forecast with.
    timezone, holidays_country : str or None
        Its region's.
    horizon : int
        Hours ahead.
    params : dict
        The forecaster's settings.

    Returns
    -------
    str
        A hex digest.
    """
    import joblib

    settings = sorted((str(k), repr(v)) for k, v in params.items())
    return joblib.hash(
        (
            _environment(),
            _canonical(series),
            _canonical(events),
            timezone,
            holidays_country,
            int(horizon),
            settings,
        )
    )


class ForecastCache:
    """One folder of cached series forecasts.

    Parameters
    ----------
    folder : pathlib.Path
        Where the entries are; made on the first write.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def from_environment(cls) -> ForecastCache | None:
        """The cache :func:`cache_dir` names, or None when it is turned off."""
        folder = cache_dir()
        return None if folder is None else cls(folder)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{_SUFFIX}"

    def get(self, key: str) -> Any | None:
        """The entry stored under ``key``, or None (missing or unreadable)."""
        import joblib

        path = self._path(key)
        if not path.is_file():
            return None
        try:
            value = joblib.load(path)
        except _UNREADABLE as exc:
            log.debug("cache entry %s unreadable (%s); refitting", path, exc)
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: kept another KEEP_FOR
        return value

    def put(self, key: str, value: Any) -> bool:
        """Store ``value`` under ``key``, whole or not at all; False when it could not be."""
        import joblib

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=self.folder, prefix=".partial-")
            os.close(handle)
            try:
                joblib.dump(value, partial)
                os.replace(partial, self._path(key))
            finally:
                Path(partial).unlink(missing_ok=True)
        except OSError as exc:
            log.debug("could not write to the forecast cache %s (%s)", self.folder, exc)
            return False
        return True

    def prune(self, now: float | None = None) -> int:
        """Remove entries (and partial writes) not used for :data:`KEEP_FOR`; how many."""
        oldest = (time.time() if now is None else now) - KEEP_FOR.total_seconds()
        removed = 0
        try:
            paths = list(self.folder.iterdir())
        except OSError:
            return 0
        for path in paths:
            if not (path.name.endswith(_SUFFIX) or path.name.startswith(".partial-")):
                continue
            try:
                if path.stat().st_mtime < oldest:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed


def cached_map(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    keys: Sequence[str],
    cache: ForecastCache | None,
    *,
    jobs: int | None = None,
    scheduler: Any = None,
    progress: Callable[[int, int], None] | None = None,
    flags: dict[str, str] | None = None,
    imports: Sequence[str] = (),
    fingerprint: Callable[[], Any] | None = None,
) -> list[tuple[Any, bool]]:
    """:func:`capacity.parallel.map_tasks` with each task's result looked up in ``cache``
    under its key first; the others computed through the fan-out, then stored.

    Parameters
    ----------
    func : callable
        A module-level function of one task, as for ``map_tasks``; what it returns is stored.
    tasks : sequence
        The tasks.
    keys : sequence of str
        Each task's cache key, in the tasks' order (ignored without a cache).
    cache : ForecastCache or None
        Where to look and store; None computes every task.
    jobs, scheduler, progress, flags, imports, fingerprint
        As for ``map_tasks``; ``progress`` counts the reused tasks as done at once.

    Returns
    -------
    list of (result, bool)
        Each task's result, in the tasks' order, and whether it came from the cache.
    """
    from capacity.parallel import map_tasks

    results: list[Any] = [None] * len(tasks)
    if cache is not None:
        for i, key in enumerate(keys):
            found = cache.get(key)
            if found is not None:
                results[i] = (found, True)
    todo = [i for i, result in enumerate(results) if result is None]
    reused = len(tasks) - len(todo)
    if reused and cache is not None:
        log.info("%d of %d results reused from %s", reused, len(tasks), cache.folder)
        if progress is not None:
            progress(reused, len(tasks))
    counted = None
    if progress is not None:

        def counted(done: int, total: int) -> None:
            progress(reused + done, reused + total)

    computed = map_tasks(
        func,
        [tasks[i] for i in todo],
        jobs=jobs,
        scheduler=scheduler,
        progress=counted,
        flags=flags,
        imports=imports,
        fingerprint=fingerprint,
    )
    written = 0
    for i, result in zip(todo, computed, strict=True):
        results[i] = (result, False)
        if cache is not None:
            written += cache.put(keys[i], result)
    if written and cache is not None:
        cache.prune()
    return results
