"""The ``capacity`` group: its commands in the order they were added, one line for a
mistyped command line, and :func:`main`, the console script, which turns SIGTERM and Ctrl-C
into an exit status of their own."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from capacity.cli import (
    backtesting,
    data,
    forecasting,
    planning,
    scheduling,
    summaries,
    weekly_plan,
)

#: The exit status of a run stopped by SIGTERM, as a shell reports a process it killed.
EXIT_TERMINATED = 128 + signal.SIGTERM
#: The exit status of a run stopped by Ctrl-C (SIGINT), as a shell reports it.
EXIT_INTERRUPTED = 128 + signal.SIGINT
#: The signals :func:`main` has turned into a KeyboardInterrupt (SIGTERM, SIGINT), in order.
_STOPPED_BY: list[int] = []


def _stopped_status() -> int:
    """The exit status of a run stopped by a signal: 128 plus the first signal's number."""
    return 128 + _STOPPED_BY[0]


@contextmanager
def _leaving_when_stopped() -> Iterator[None]:
    """Turn the KeyboardInterrupt that :func:`main`'s signal handler raised into SystemExit,
    once it has done its work (workers shut down, stores closed), before click's standalone
    mode takes it for a bare Ctrl-C and prints "Aborted!" and exits 1, which a wrapper could
    not tell from a failed run."""
    try:
        yield
    except KeyboardInterrupt:
        if _STOPPED_BY:
            raise SystemExit(_stopped_status()) from None
        raise


class _UsageError(click.UsageError):
    """A mistyped command line, said in one line as every other bad input is."""

    def __init__(self, message: str, ctx: click.Context | None = None, fix: str = "") -> None:
        super().__init__(message, ctx)
        self.fix = fix

    def show(self, file: Any = None) -> None:
        where = self.ctx.command_path if self.ctx is not None else "capacity"
        fix = self.fix or f"see '{where} --help'"
        click.echo(f"error: {self.format_message()} Fix: {fix}.", err=True)


def _command_option_fix(exc: click.UsageError) -> str:
    """For an option of the commands given before the command's name (``capacity --db X
    status``), the fix that moves it; empty for any other mistake."""
    ctx = exc.ctx
    if isinstance(exc, click.NoSuchOption) and ctx is not None and ctx.parent is not None:
        return _group_option_fix(exc, ctx)
    if not isinstance(exc, click.NoSuchOption) or ctx is None or ctx.parent is not None:
        return ""
    group = ctx.command
    if not isinstance(group, click.Group):
        return ""
    if not any(
        exc.option_name in p.opts for command in group.commands.values() for p in command.params
    ):
        return ""
    # the command typed after the option, for the example
    typed = next((arg for arg in sys.argv[1:] if arg in group.commands), "COMMAND")
    return (
        f"put {exc.option_name} after the command's name ('capacity {typed} "
        f"{exc.option_name} ...', not 'capacity {exc.option_name} ... {typed}'): the options "
        "of a command follow it"
    )


def _group_option_fix(exc: click.NoSuchOption, ctx: click.Context) -> str:
    """For an option of ``capacity`` itself given after the command's name (``capacity plan
    --verbose``, as a cron line is edited), the fix that moves it; empty for any other
    mistake. The command's help, the fix given before, does not list it."""
    root = ctx.find_root()
    if not any(exc.option_name in p.opts for p in root.command.params):
        return ""
    typed = " ".join(ctx.command_path.split()[1:]) or "COMMAND"  # `events import` too
    return (
        f"put {exc.option_name} before the command's name ('capacity {exc.option_name} {typed} "
        f"...', not 'capacity {typed} {exc.option_name} ...'): it is an option of capacity itself"
    )


@contextmanager
def _usage_in_one_line() -> Iterator[None]:
    """Click's usage errors (an unknown option, a value out of range) as one ``error:`` line,
    in place of click's usage, hint and message on three."""
    try:
        yield
    except (_UsageError, click.exceptions.NoArgsIsHelpError):  # bare `capacity`: its help
        raise
    except click.UsageError as exc:
        fix = _command_option_fix(exc)
        message = exc.format_message()
        if fix and isinstance(exc, click.NoSuchOption):
            # a command's option: click's guess among the group's own ('--version') misleads
            message = f"No such option '{exc.option_name}'."
        raise _UsageError(message, exc.ctx, fix) from None


class _Commands(click.Group):
    """The ``capacity`` group: a run stopped by a signal leaves without click's "Aborted!",
    and a mistyped command line gets one line, as other bad input does."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _leaving_when_stopped(), _usage_in_one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _leaving_when_stopped(), _usage_in_one_line():
            return super().invoke(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="capacity")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Capacity planning and predictive scaling for LifeVerse's online services."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


cli.add_command(data.demo)
cli.add_command(data.ingest)
cli.add_command(data.pull)
cli.add_command(data.events)
cli.add_command(data.incidents)
cli.add_command(data.deploys)
cli.add_command(summaries.kpis)
cli.add_command(summaries.status)
cli.add_command(forecasting.forecast)
cli.add_command(forecasting.forecast_fleet_command)
cli.add_command(planning.check_event_command)
cli.add_command(planning.recommend)
cli.add_command(scheduling.schedule)
cli.add_command(backtesting.backtest_command)
cli.add_command(weekly_plan.plan)


def main() -> None:
    """Entry point of the ``capacity`` console script.

    SIGTERM (``timeout``, systemd, a cancelled CI job) and Ctrl-C (SIGINT) stop a run the same
    way: worker processes are shut down and stores closed rather than left orphaned, and the
    run exits with 128 plus the signal's number (:data:`EXIT_TERMINATED`,
    :data:`EXIT_INTERRUPTED`) rather than a failure's 1, printing one line that says so (and
    not click's "Aborted!"). The same signal a second time ends the process at once. A SIGINT
    the process was started ignoring (``nohup``, a background job) stays ignored. The run
    has a temporary folder of its own, removed when it ends (:func:`capacity.scratch.own_tempdir`).
    """
    stopped = _STOPPED_BY

    def stop(signum: int, frame: Any) -> None:
        stopped.append(signum)
        signal.signal(signum, signal.SIG_DFL)  # the same signal again ends it at once
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, stop)
    from capacity.scratch import own_tempdir

    try:
        # what fits and worker processes leave in the temporary folder, even when stopped,
        # goes with the run (capacity.scratch)
        with own_tempdir():
            cli(prog_name="capacity")
    except SystemExit:
        if stopped:
            # say by what, and that nothing was left half-done
            status = _stopped_status()
            click.echo(
                f"capacity: stopped by {signal.Signals(stopped[0]).name} (exit {status}); "
                "nothing unfinished was committed or published",
                err=True,
            )
            raise SystemExit(status) from None
        raise
