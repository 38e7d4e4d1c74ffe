"""The weekly run: execute the plan notebook with papermill, export HTML, publish atomically.

``run_plan`` builds everything in a temporary folder beside the target
(``OUT/.<week>.<run id>.building``) and renames it into place, so ``OUT/<week>/`` is either
the previous plan or the new one, never half of one. A week that already has a plan is only
run again with ``force``; the earlier plan then moves to ``OUT/<week>/history/<run id>/``
unless the new one is identical, and nothing published is ever deleted. A failing cell
publishes nothing: the executed notebook, with the error in it, is kept in
``OUT/<week>.failed-<run id>/`` for debugging.

One run works in ``OUT`` at a time: a run holds an advisory lock on the folder (``flock``, so
the lock dies with its process) and a second run meanwhile stops at once with
:class:`PlanLockedError`. Holding the lock, a run first tidies what killed runs left, for any
week (no other run is working there): their ``.building`` folders are removed, with the
forecast run each had stored (its id is in the folder's name; no plan refers to it), and a
publication cut short between its two renames is completed (or the earlier plan put back).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from capacity.config import load_fleet
from capacity.decision import stale_comparison_note
from capacity.errors import (
    ParameterError,
    PlanExistsError,
    PlanFailedError,
    PlanLockedError,
    StoreError,
    StoreLockedError,
)
from capacity.files import check_writable
from capacity.fingerprints import package_sha256
from capacity.forecast_fleet import horizon_hours
from capacity.parallel import check_jobs
from capacity.store import Store
from capacity.texts import seconds_text
from capacity.units import parse_duration
from capacity.weekly import check_plannable, json_safe, parse_week, week_of

#: Where progress lines go (``say`` below): the CLI echoes them to stderr.
_Say = Callable[[str], object]

__all__ = [
    "PLAN_FILES",
    "PlanExistsError",
    "PlanFailedError",
    "PlanLockedError",
    "PlanResult",
    "export_html",
    "run_plan",
    "slim_notebook",
]

#: The files every published plan holds.
PLAN_FILES = (
    "capacity_plan.ipynb",
    "capacity_plan.html",
    "forecast.parquet",
    "recommendations.csv",
    "scaling_schedule.csv",
    "manifest.json",
)
#: Outputs whose content decides whether a rerun changed the plan.
_COMPARED = ("forecast.parquet", "recommendations.csv", "scaling_schedule.csv")
_PACKAGES = (
    "capacity",
    "pandas",
    "numpy",
    "prophet",
    "duckdb",
    "scikit-learn",
    "plotly",
    "papermill",
    "nbconvert",
)


@dataclass(frozen=True)
class PlanResult:
    """What a weekly run did.

    Attributes
    ----------
    week : str
        The ISO week.
    folder : Path
        The published plan's folder, ``OUT/<week>``.
    status : str
        ``published`` (a new plan), ``republished`` (the earlier one moved to history) or
        ``identical`` (the rerun matched the published plan, which was kept).
    run_id : str
        This run's id.
    previous : Path or None
        Where the earlier plan went, when it moved to history.
    warnings : tuple of str
        What the plan warns of (telemetry ending days before the week, say).
    notes : tuple of str
        What else the reader should know: the plan of the week after, published before this
        one, compared itself with another plan of this week or with none
        (:func:`capacity.decision.stale_comparison_note`).
    timings : dict of str to float
        Seconds spent: ``notebook`` and ``html`` (its export), and each stage of the
        notebook (``forecast``, ``backtest``, ...), as in the manifest.
    """

    week: str
    folder: Path
    status: str
    run_id: str
    previous: Path | None = None
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def timing_summary(self, stages: int = 3) -> str:
        """Where the run's time went, in a line: the notebook, its ``stages`` slowest
        stages, and the HTML export (``notebook 24 s (forecast 7.1 s, ...), HTML 0.9 s``).

        Parameters
        ----------
        stages : int
            How many of the notebook's stages to name, the slowest first.

        Returns
        -------
        str
            The line; empty when nothing was timed.
        """
        times = dict(self.timings)
        notebook, html = times.pop("notebook", None), times.pop("html", None)
        slowest = sorted(times.items(), key=lambda item: -item[1])[:stages]
        named = ", ".join(f"{stage} {seconds_text(seconds)}" for stage, seconds in slowest)
        parts = []
        if notebook is not None:
            parts.append(f"notebook {seconds_text(notebook)}" + (f" ({named})" if named else ""))
        if html is not None:
            parts.append(f"HTML {seconds_text(html)}")
        return ", ".join(parts)

    @property
    def report(self) -> Path:
        """The HTML report."""
        return self.folder / "capacity_plan.html"


@functools.cache
def _kernel_manager_class() -> type:
    """Jupyter's asynchronous kernel manager; on POSIX one whose kernels listen on Unix
    sockets.

    Over loopback TCP (Jupyter's default) nothing is encrypted and ipykernel warns about it
    on every run; Unix sockets are private to the user and keep the weekly run's log quiet.

    Asynchronous, as nbclient's own default is: given the blocking ``KernelManager``, its
    client waits for the kernel's output in a call that holds the event loop, so the check
    that the kernel is alive never ran, and a kernel killed outright (the out-of-memory
    killer, a ``kill -9``) left the run waiting for good, holding the plans folder's lock:
    every later run exited 3. Now the dead kernel fails the run (exit 1) within seconds.
    """
    from jupyter_client.manager import AsyncKernelManager

    if os.name != "posix":
        return AsyncKernelManager

    class UnixSocketKernelManager(AsyncKernelManager):
        """A kernel manager whose kernels listen on Unix sockets (``transport="ipc"``)."""

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)

        async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
            """End the kernel's process group at once rather than ask it to shut down.

            nbclient asks on SIGINT and SIGTERM too, while a cell runs; the kernel then
            closed its sockets under the running request and printed a traceback under the
            run's last line. Once the last cell has answered there is nothing left to ask.
            """
            await super().shutdown_kernel(now=True, restart=restart)

    return UnixSocketKernelManager


#: The settings and cache folders of IPython and matplotlib, by default under HOME, which the
#: notebook's kernel (and its worker processes, which import Prophet and so matplotlib) use.
_KERNEL_DIRS = {"IPYTHONDIR": "ipython", "MPLCONFIGDIR": "matplotlib"}
#: The kernel's temporary folder, always one of the run's own (inside the user's own choice
#: of temporary folder, where the run's folder is made).
_KERNEL_TMP = "tmp"


@contextlib.contextmanager
def _kernel_dirs() -> Iterator[None]:
    """Give the notebook's kernel, which inherits this process's environment, IPython and
    matplotlib folders and a temporary folder of this run's own, removed when the block
    ends; an IPython or matplotlib folder the user has set is left as it is.

    Under a read-only HOME (a cron user's) both had warned on every run, into the published
    report too, and each left a ``tmp*`` or ``matplotlib-*`` folder in the temporary folder
    for good; and a user's IPython startup scripts had run inside the plan's kernel. The
    temporary folder catches what the kernel's worker processes leave when they end without
    tidying up: each makes a ``tmp*`` folder when it imports cmdstanpy and removes it only
    when its interpreter exits normally, and one stopped otherwise (killed, or ended with
    its kernel) had left it in the temporary folder, as a full run now and then did.
    """
    names = [*_KERNEL_DIRS, "TMPDIR"]
    saved = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="capacity-plan-", ignore_cleanup_errors=True) as folder:
        try:
            for name, sub in _KERNEL_DIRS.items():
                if not saved[name]:
                    (Path(folder) / sub).mkdir()
                    os.environ[name] = str(Path(folder) / sub)
            (Path(folder) / _KERNEL_TMP).mkdir()
            os.environ["TMPDIR"] = str(Path(folder) / _KERNEL_TMP)
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _code_sha256(package: Path | None = None) -> str:
    """A SHA-256 over the package's Python sources (``capacity`` by default; see
    :func:`capacity.fingerprints.package_sha256`): the code that made a plan, so that a rerun
    after an upgrade that changes the report is a new plan."""
    root = Path(__file__).resolve().parent if package is None else Path(package)
    return package_sha256(root)


def _check_plan_notebook(notebook: Path) -> None:
    """Refuse, before any work, a file that is not a notebook papermill can parameterise.

    An empty file or a CSV had failed only once executed: exit 1, a message pointing at an
    executed notebook that did not exist, and an empty ``.failed-`` folder left per attempt.
    A notebook without a cell tagged ``parameters`` would run on its own literals:
    papermill puts the run's parameters first, and the notebook's assignments then replace
    them.
    """
    import nbformat
    from nbformat import ValidationError

    fix = "pass --notebook with the path of notebooks/weekly_capacity_plan.ipynb"
    try:
        node = nbformat.read(notebook, as_version=4)
    # not JSON (NotJSONError, a ValueError), JSON of another shape (jsonschema's
    # ValidationError, or the AttributeError/KeyError/TypeError of reading it as a notebook)
    except (OSError, ValueError, AttributeError, KeyError, TypeError, ValidationError) as exc:
        raise ParameterError(
            f"The plan notebook {notebook} is not a Jupyter notebook ({type(exc).__name__}).",
            fix=fix,
        ) from None
    tagged = [c for c in node.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise ParameterError(
            f"The plan notebook {notebook} has no cell tagged 'parameters', so the run's "
            "week, store and fleet would be overridden by the notebook's own.",
            fix="tag the cell of its parameters 'parameters' (Jupyter: View > Cell toolbar > "
            f"Tags), or {fix}",
        )


def _run_inputs(notebook: Path) -> dict[str, str]:
    """The inputs of a run beyond its data: the notebook's and the package code's SHA-256."""
    return {
        "notebook_sha256": hashlib.sha256(notebook.read_bytes()).hexdigest(),
        "code_sha256": _code_sha256(),
    }


def _digest(folder: Path) -> str:
    """What decides whether a rerun changed the plan: its tables and the fingerprints of
    every input (telemetry, calendar, logs, config, the plan published the week before that
    the report compares with, the notebook and the package's code), since the report shows
    more than the tables (a new incident changes only its resilience section). A folder that
    is not a whole plan (made by hand, half copied) matches no plan."""
    digest = hashlib.sha256()
    for name in _COMPARED:
        digest.update(name.encode())
        path = folder / name
        digest.update(path.read_bytes() if path.is_file() else b"\0missing")
    recorded = _manifest_of(folder)
    if recorded is not None:
        # the settings that shape the report (a --no-backtest plan lacks a section), not the
        # run id, where the store and fleet file lie (in the settings and the inputs both:
        # their contents are inputs) or how many worker processes made it
        settings = {
            k: v
            for k, v in recorded.get("parameters", {}).items()
            if k not in ("run_id", "db", "config", "jobs")
        }
        inputs = {
            k: v for k, v in recorded.get("inputs", {}).items() if k not in ("store", "config")
        }
        for part in (inputs, settings):
            digest.update(json.dumps(part, sort_keys=True).encode())
    return digest.hexdigest()


def export_html(notebook_path: Path, html_path: Path, title: str | None = None) -> None:
    """Export an executed notebook to HTML without code cells or the parameter cells.

    The page needs nothing from the network: plotly.js is embedded by the notebook's
    renderer, and the scripts nbconvert's template and plotly's notebook output would fetch
    from a CDN (require.js, MathJax) are left out; the reports use neither.

    Parameters
    ----------
    notebook_path, html_path : Path
        The executed notebook and the page to write.
    title : str, optional
        The page's title; default the notebook's file name.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    settings = Config()
    settings.TagRemovePreprocessor.enabled = True
    settings.TagRemovePreprocessor.remove_cell_tags = ("parameters", "injected-parameters")
    settings.HTMLExporter.exclude_input = True
    settings.HTMLExporter.exclude_input_prompt = True
    settings.HTMLExporter.exclude_output_prompt = True
    exporter = HTMLExporter(config=settings)
    exporter.register_preprocessor("nbconvert.preprocessors.TagRemovePreprocessor", enabled=True)
    resources = {"metadata": {"name": title or notebook_path.stem}}
    body, _ = exporter.from_notebook_node(
        nbformat.read(notebook_path, as_version=4), resources=resources
    )
    html_path.write_text(_REMOTE_SCRIPT.sub("", body), encoding="utf-8")


#: A plotly figure's own output type, which JupyterLab, Notebook 7 and VS Code draw without
#: trusting the notebook; the figure's ``text/html`` twin holds it again as a script.
_PLOTLY_MIME = "application/vnd.plotly.v1+json"


def _plotly_loader(output: Any) -> bool:
    """Whether a notebook output is plotly.js itself, as its notebook renderer embeds it once
    before the first figure."""
    data = output.get("data", {})
    if set(data) != {"text/html"}:
        return False
    head = "".join(data["text/html"])[:1000]
    return "window.PlotlyConfig" in head and "plotly.js v" in head


def slim_notebook(path: Path) -> int:
    """Keep each plotly figure once in an executed notebook: drop its ``text/html`` copy.

    The plan's renderer writes every figure twice, as plotly's JSON and as HTML with a
    script, and embeds plotly.js (4 MB) before the first, so that nbconvert can export them.
    Once the report is exported the HTML copies are dead weight: on a fleet of 60
    region/services they were 21 of the audit notebook's 41 MB. The JSON stays, with a line
    of text naming the figure for a reader without plotly's Jupyter extension (JupyterLab,
    Notebook 7 and VS Code draw it without trusting the notebook); every other output is kept.

    Parameters
    ----------
    path : Path
        The executed notebook, rewritten in place.

    Returns
    -------
    int
        The bytes saved.
    """
    import nbformat

    before = path.stat().st_size
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if "outputs" not in cell:
            continue
        cell.outputs = [o for o in cell.outputs if not _plotly_loader(o)]
        for output in cell.outputs:
            data = output.get("data", {})
            if _PLOTLY_MIME not in data or "text/html" not in data:
                continue
            del data["text/html"]
            title = data[_PLOTLY_MIME].get("layout", {}).get("title")
            title = title.get("text") if isinstance(title, dict) else title
            data.setdefault(
                "text/plain",
                f"Plotly figure{f': {title}' if title else ''} (drawn in capacity_plan.html, "
                "or here by plotly's Jupyter extension)",
            )
    nbformat.write(notebook, path)
    return before - path.stat().st_size


#: A script loaded from the network (nbconvert's require.js and MathJax, plotly's MathJax).
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _failed_cell(exc: Exception) -> str:
    died = "killed outright: out of memory, or a kill -9"
    if type(exc).__name__ == "DeadKernelError":  # no cell failed: its process was ended
        return f"a cell whose kernel died ({died})"
    if "Kernel died before replying" in str(exc):  # nbclient's RuntimeError, at its start
        return f"its start: the kernel died before it answered ({died})"
    cell = getattr(exc, "exec_count", None)
    name = getattr(exc, "ename", type(exc).__name__)
    value = getattr(exc, "evalue", str(exc))
    return f"cell {cell}: {name}: {value}" if cell is not None else f"{name}: {value}"


def run_plan(
    *,
    db: str | Path,
    config: str | Path,
    out: str | Path,
    notebook: str | Path,
    week: str | None = None,
    force: bool = False,
    horizon: str = "28d",
    history: str = "112d",
    quantile: float = 0.95,
    jobs: int | None = None,
    backtest: bool = True,
    wait: str | pd.Timedelta | None = None,
    say: Callable[[str], object] | None = None,
) -> PlanResult:
    """Run the weekly plan and publish it under ``out/<week>/``.

    Parameters
    ----------
    db, config : str or Path
        The store and the fleet YAML; both must exist.
    out : str or Path
        The folder plans are published in (``forecasts``).
    notebook : str or Path
        The plan notebook (``notebooks/weekly_capacity_plan.ipynb``).
    week : str, optional
        ISO week such as ``2026-W48``; default: the current week.
    force : bool
        Run again when the week already has a plan (the earlier one is kept in history).
    horizon, history, quantile, jobs, backtest
        Passed to the notebook (see :func:`capacity.weekly.build_plan`).
    wait : str or Timedelta, optional
        How long to wait, before any work, for a store another process holds or a plans
        folder another run works in (``15m``); by default, or given zero (``0``), not at
        all. Once the run has begun, a store taken meanwhile still stops it.
    say : callable, optional
        Called with a line of progress.

    Returns
    -------
    PlanResult

    Raises
    ------
    ParameterError
        On a malformed week, a missing store or notebook, or ``jobs`` that is not a positive
        integer or above :func:`capacity.parallel.max_jobs`.
    PlanExistsError
        When the week already has a plan and ``force`` is not given; nothing is done.
        (A week folder that holds no plan's manifest, or a file in its place, is a
        ``ParameterError`` instead: the week is not planned.)
    ConfigError
        On a missing or malformed fleet configuration.
    PlanFailedError
        When a cell fails; the executed notebook is kept for debugging.
    PlanLockedError
        When another run is working in ``out`` (after ``wait``).
    StoreLockedError
        When another process holds the store (after ``wait``).
    """
    say = say or (lambda line: None)
    patience = pd.Timedelta(0) if wait is None else parse_duration(wait, "wait", allow_zero=True)
    label, _ = parse_week(week) if week is not None else (week_of(pd.Timestamp.now(tz="UTC")), None)
    # "~" is the home folder, as Store and load_fleet read it: the notebook gets the
    # resolved paths, and resolve() alone would keep a literal "~"
    out, db, config, notebook = (Path(p).expanduser() for p in (out, db, config, notebook))
    if not db.is_file():
        raise StoreError(f"store not found: {db}. Fix: pass --db with an existing store")
    if not notebook.is_file():
        raise ParameterError(
            f"The plan notebook {notebook} does not exist.",
            fix="pass --notebook with the path of notebooks/weekly_capacity_plan.ipynb in the "
            "capacity repository",
        )
    _check_plan_notebook(notebook)
    fleet = load_fleet(config)  # fail on a malformed config before any work
    # ... and on malformed parameters, before the notebook would find them at its third cell
    reach = pd.Timedelta(hours=horizon_hours(horizon))
    parse_duration(history, "history")
    if isinstance(quantile, bool) or not isinstance(quantile, int | float) or not 0 < quantile < 1:
        raise ParameterError(f"The 'quantile' parameter must be in (0, 1). Got {quantile!r}.")
    if jobs is not None:
        check_jobs(jobs)
    target = out / label
    if target.resolve().parent != out.resolve():
        raise ParameterError(f"The plan folder {target} must lie inside {out}.")
    # the store must be free (the plan stores its forecast run) and hold the week
    patient = _Patience(time.monotonic() + patience.total_seconds(), str(wait), say)
    while True:
        try:
            with Store(db) as store:
                check_plannable(store, fleet, parse_week(label)[1], reach)
            break
        except StoreLockedError:
            if not patient.waits(f"the store {db} is held by another process"):
                raise
    check_writable(out / ".probe", "out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(
            f"The plans folder {out} cannot be created: {exc.strerror or exc}.",
            fix="pass --out with a folder you can write",
        ) from None
    with _exclusive(out, patient):
        _tidy(out, say, db)
        if target.exists() and not force and _manifest_of(target) is None:
            # not a plan (made by hand, half copied, a file): exit 5 would tell a wrapper
            # that counts it as done that the week is planned, run after run
            what = "a folder" if target.is_dir() else "a file"
            raise ParameterError(
                f"{target} is {what} that holds no published plan (no readable "
                f"manifest.json), so {label} cannot be published there; nothing was done.",
                fix="move it away and run again, or rerun with --force, which keeps it under "
                f"{label}/history/unrecorded-<run id>/",
            )
        if target.exists() and not force:
            report = target / "capacity_plan.html"
            raise PlanExistsError(
                f"A plan for {label} is already published at {target}; nothing was done. "
                "To plan the week again (after new telemetry, a changed fleet file), rerun "
                "with --force: the earlier plan is kept under history/",
                report=str(report.resolve()) if report.is_file() else None,
            )
        return _run_and_publish(
            out=out,
            label=label,
            db=db,
            config=config,
            notebook=notebook,
            run_inputs=_run_inputs(notebook),
            notebook_parameters={
                "horizon": horizon,
                "history": history,
                "quantile": quantile,
                "jobs": jobs or 2,
                "backtest": backtest,
            },
            say=say,
        )


def _run_and_publish(
    *,
    out: Path,
    label: str,
    db: Path,
    config: Path,
    notebook: Path,
    run_inputs: dict[str, str],
    notebook_parameters: dict[str, Any],
    say: _Say,
) -> PlanResult:
    import papermill

    from capacity.forecast_fleet import new_run_id

    run_id = new_run_id()
    building = out / f".{label}.{run_id}{_BUILDING}"
    try:
        building.mkdir()
    except OSError as exc:
        raise ParameterError(
            f"The plans folder {out} cannot be written: {exc.strerror or exc}.",
            fix="pass --out with a folder you can write",
        ) from None
    parameters = {
        "week": label,
        "db": str(db.resolve()),
        "config": str(config.resolve()),
        "out_dir": str(building.resolve()),
        "run_id": run_id,
        **notebook_parameters,
    }
    timings: dict[str, float] = {}
    executed = building / "capacity_plan.ipynb"
    say(f"running the plan for {label} (run {run_id}) ...")
    started = time.perf_counter()
    earlier = _processes_below()  # the caller's own (a notebook's Dask workers): not the plan's
    try:
        with _kernel_dirs():
            papermill.execute_notebook(
                str(notebook),
                str(executed),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=sys.stderr.isatty(),  # cell by cell, when someone is watching
                cwd=str(building),
                kernel_manager_class=_kernel_manager_class(),
            )
    except KeyboardInterrupt:  # SIGTERM or Ctrl-C: papermill asked the kernel to shut down
        _end_kernel_processes(earlier)
        # the run first, then its folder, as below: a store that cannot be written keeps
        # the folder, which names the run for the next plan to remove (see _tidy)
        if _forget_run(db, run_id, say):
            shutil.rmtree(building, ignore_errors=True)
        raise
    except Exception as exc:  # papermill raises several types; all mean "nothing published"
        if getattr(exc, "ename", None) == "StoreLockedError":  # another writer got there first
            shutil.rmtree(building, ignore_errors=True)
            raise StoreLockedError(
                f"the store {db} was locked by another process during the plan; nothing was "
                "published. Try again when it finishes"
            ) from None
        _forget_run(db, run_id, say)  # the notebook may have stored it before it failed
        if isinstance(exc, OSError):  # the notebook could not be written, no cell failed
            raise _unwritten(exc, building) from None
        failed = out / f"{label}.failed-{run_id}"
        building.rename(failed)
        raise PlanFailedError(
            f"the plan notebook failed at {_failed_cell(exc)}. Nothing was published; the "
            f"executed notebook is in {failed}/capacity_plan.ipynb"
        ) from None
    timings["notebook"] = round(time.perf_counter() - started, 3)
    try:
        result = _export_and_publish(
            building, out, label, run_id, parameters, run_inputs, timings, say
        )
    except (OSError, KeyboardInterrupt) as exc:
        # not put in place: no plan refers to the run
        if (
            building.exists()
            and _forget_run(db, run_id, say)
            and isinstance(exc, KeyboardInterrupt)
        ):
            shutil.rmtree(building, ignore_errors=True)
        if isinstance(exc, KeyboardInterrupt):
            raise
        # a full disk, a folder removed under us: nothing half-published
        raise _unwritten(exc, building) from None
    # the run first, then its folder: killed in between, the next run finds the folder and
    # removes the run with it (see _tidy)
    if result.status == "identical" and _forget_run(db, run_id, say):
        shutil.rmtree(building)
    return result


#: Seconds the kernel's processes are given to end on SIGTERM before they are killed.
KERNEL_STOP_SECONDS = 5.0


def _children() -> list[Any]:
    """Every process below this one (``psutil.Process``), or none when they cannot be read."""
    import psutil

    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def _processes_below() -> set[int]:
    """The ids of every process below this one."""
    return {process.pid for process in _children()}


def _end_kernel_processes(earlier: set[int]) -> None:
    """End the processes the plan started below this one (the notebook's kernel and its
    worker processes), not those in ``earlier``, and wait for them, on a stop. Interrupted,
    papermill's kernel shutdown does not always finish: the kernel had outlived the run by
    a moment, writing "Parent appears to have exited" under the run's last line."""
    import psutil

    below = [process for process in _children() if process.pid not in earlier]
    for process in below:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(below, timeout=KERNEL_STOP_SECONDS)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=KERNEL_STOP_SECONDS)


def _forget_run(db: Path, run_id: str, say: _Say) -> bool:
    """Remove the forecast run of a run that published nothing, or of a rerun that matched
    the published plan: no plan refers to it. Left in the store, it would be read as that
    cutoff's newest forecast by the accuracy section of later plans, a weekly job rerunning
    an unchanged week would store one a time, and the next ``forecast-fleet`` would start
    its fits from the parameters it stored. Return whether the store could be written."""
    try:
        with Store(db) as store:
            store.delete_forecast_run(run_id)
    except StoreError as exc:  # only the store keeps a spare run
        say(f"note: this run's forecast run {run_id} stays in the store ({exc})")
        return False
    return True


def _unwritten(exc: OSError, building: Path) -> PlanFailedError:
    """Remove what a plan that could not be written left, and say why."""
    shutil.rmtree(building, ignore_errors=True)
    return PlanFailedError(
        f"the plan could not be written: {exc.strerror or exc}"
        f"{f' ({exc.filename})' if exc.filename else ''}. Nothing was published; free the "
        "space or fix the folder, then run it again"
    )


def _export_and_publish(
    building: Path,
    out: Path,
    label: str,
    run_id: str,
    parameters: dict[str, Any],
    run_inputs: dict[str, str],
    timings: dict[str, float],
    say: _Say,
) -> PlanResult:
    """Export the executed notebook, write the manifest and publish the folder."""
    executed = building / "capacity_plan.ipynb"
    say("exporting the HTML report ...")
    started = time.perf_counter()
    export_html(executed, building / "capacity_plan.html", title=f"Capacity plan {label}")
    slim_notebook(executed)  # after the export, which draws the figures from their HTML
    timings["html"] = round(time.perf_counter() - started, 3)
    summary = json.loads((building / "plan.json").read_text(encoding="utf-8"))
    (building / "plan.json").unlink()
    manifest = {
        "week": label,
        "run_id": run_id,
        "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "status": "published",
        "parameters": {k: v for k, v in parameters.items() if k != "out_dir"},
        "cutoff": summary["cutoff"],
        "inputs": {**summary["inputs"], **run_inputs},
        "verdicts": summary["status"],
        "region_loss": summary["region_loss"],
        "timings": {**summary["timings"], **timings},
        "warnings": summary.get("warnings", []),
        "versions": _versions(),
        "files": list(PLAN_FILES),
    }
    (building / "manifest.json").write_text(
        json.dumps(json_safe(manifest), indent=2, default=str, allow_nan=False), encoding="utf-8"
    )
    result = _publish(building, out / label, label, run_id, say)
    stale = None if result.status == "identical" else stale_comparison_note(out, label)
    return replace(
        result,
        warnings=tuple(manifest["warnings"]),
        timings=manifest["timings"],
        notes=(stale,) if stale else (),
    )


def _publish(building: Path, target: Path, label: str, run_id: str, say: _Say) -> PlanResult:
    if not target.exists():
        building.rename(target)
        return PlanResult(label, target, "published", run_id)
    if _digest(building) == _digest(target):  # the caller removes the building folder
        say("the rerun matches the published plan; it is kept as it was")
        return PlanResult(label, target, "identical", run_id)
    # a folder without a plan's manifest (made by hand, half copied) is kept all the same
    old_id = _run_id_of(target) or f"unrecorded-{run_id}"
    manifest = building / "manifest.json"  # it replaces a plan: say so, and which
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    recorded.update(status="republished", replaces=old_id)
    manifest.write_text(json.dumps(recorded, indent=2), encoding="utf-8")
    aside = target.with_name(f".{label}.{old_id}{_ASIDE}")
    target.rename(aside)  # from here on, both plans exist under a name at every moment
    building.rename(target)
    previous = _file_aside(aside, target)
    return PlanResult(label, target, "republished", run_id, previous=previous)


_BUILDING = ".building"
_ASIDE = ".previous"
#: What a run leaves in the plans folder while it works: ``.<week>.<run id>.building`` and
#: ``.<week>.<run id>.previous``.
_LEFT = re.compile(r"^\.(\d{4}-W\d{2})\.(.+)(\.building|\.previous)$")


def _manifest_of(plan: Path) -> dict[str, Any] | None:
    """A plan folder's manifest; None when it has none that can be read."""
    try:
        recorded = json.loads((plan / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return recorded if isinstance(recorded, dict) else None


def _run_id_of(plan: Path) -> str | None:
    """The run id a plan folder's manifest records; None without one."""
    recorded = _manifest_of(plan)
    run_id = None if recorded is None else recorded.get("run_id")
    return str(run_id) if run_id else None


def _file_aside(aside: Path, target: Path) -> Path:
    """Move the plan set aside during a republication into ``target/history/<its run id>``
    (the id its name ``.<week>.<run id>.previous`` carries), with the history it had; return
    where it went."""
    found = _LEFT.match(aside.name)
    old_id = found.group(2) if found else _run_id_of(aside) or aside.name
    history = target / "history"
    history.mkdir(exist_ok=True)
    older = aside / "history"
    if older.is_dir():
        for entry in sorted(older.iterdir()):
            entry.rename(history / entry.name)
        older.rmdir()
    aside.rename(history / old_id)
    return history / old_id


@dataclass
class _Patience:
    """How long a run may still wait for a lock another process holds (``--wait``)."""

    deadline: float
    wait: str
    say: _Say
    told: bool = False

    def waits(self, held: str) -> bool:
        """Sleep a little and return True while the deadline is ahead, saying once why."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return False
        if not self.told:
            self.say(f"{held}; waiting up to {self.wait} for it")
            self.told = True
        time.sleep(min(_RETRY_SECONDS, left))
        return True


#: Seconds between two tries of a lock while waiting for it.
_RETRY_SECONDS = 2.0


@contextlib.contextmanager
def _exclusive(out: Path, patient: _Patience | None = None) -> Iterator[None]:
    """Hold an advisory lock on the plans folder for the block; another holder means another
    run is working there (waited for while ``patient`` allows). The lock is the kernel's
    (``flock``): it goes with its process, however that ends. Without ``fcntl`` (Windows)
    runs are not serialised."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX systems have it
        yield
        return
    fd = os.open(out, os.O_RDONLY)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if patient is None or not patient.waits(f"another weekly run works in {out}"):
                    raise PlanLockedError(
                        f"another weekly run is working in {out}. Fix: let it finish (a plan "
                        "takes a few minutes) and run again, or give --wait"
                    ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _tidy(out: Path, say: _Say, db: Path) -> None:
    """Clear what killed runs left in ``out``, for any week: call holding the lock, so no
    other run is working there (a run killed while planning a week that is not planned
    again would otherwise leave its folder for good).

    A ``.building`` folder is a run that published nothing: the forecast run it stored in
    ``db`` (the run id its name carries) goes with it, as it would have gone had the run
    stopped on its own. Only such runs are removed: one made with ``forecast-fleet``, or by
    a plan that was published, has no ``.building`` folder. When the store cannot be written
    now, the folder stays too, for the next run to try again.
    """
    left: list[tuple[Path, str, str, str]] = []  # (folder, week, run id, kind)
    for entry in sorted(out.iterdir()):
        found = _LEFT.match(entry.name)
        if found is not None and entry.is_dir():
            left.append((entry, found.group(1), found.group(2), found.group(3)))
    for building, _, run_id, kind in left:
        if kind != _BUILDING:
            continue
        try:
            with Store(db) as store:
                stored = store.delete_forecast_run(run_id)
        except StoreError as exc:
            say(
                f"note: {building.name}, left by an interrupted run, stays until a run can "
                f"remove its forecast run from the store ({exc})"
            )
            continue
        shutil.rmtree(building)
        also = f" and its forecast run {run_id} from the store" if stored else ""
        say(f"removed {building.name}{also}, left by an interrupted run")
    for aside, label, _, kind in left:
        if kind != _ASIDE:
            continue
        target = out / label
        if target.exists():  # the new plan was in place: finish filing the old one
            _file_aside(aside, target)
            say(f"moved {aside.name} into {label}/history/, left by an interrupted run")
        else:  # the run died between its two renames: the old plan goes back
            aside.rename(target)
            say(f"restored {label} from {aside.name}, left by an interrupted run")
