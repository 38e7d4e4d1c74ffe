"""The ``capacity`` command. The only place that configures logging.

Exit codes: 0 success; 1 an unexpected failure, a failed plan, or a fit its machine failed
(disk full: one line, nothing stored); 2 bad input (the message names the file,
row or key and the fix); 3 the store, or the plans folder, is locked by another process (try
again later); 4 a telemetry server (Prometheus) or the Dask scheduler (``--dask-scheduler``)
is unreachable, failing or (Dask) without workers (try again later);
5 ``capacity plan`` made no plan: the week already has one (add ``--force``); 130 stopped by
Ctrl-C (SIGINT) and 143 by SIGTERM (nothing unfinished kept, one line on stderr says so).

``capacity.cli`` holds the names other code imports (``cli``, ``main``, the defaults,
the helpers); its modules hold the commands, one module per user journey:

- ``app``: the group, its commands added in one place, usage errors in one line, and
  :func:`main` with its signal handling;
- ``common``: default paths, exit codes, errors to exit codes, shared options and helpers;
- ``data``: ``demo``, ``ingest``, ``pull`` and ``events``/``incidents``/``deploys import``;
- ``summaries``: ``status`` and ``kpis``;
- ``forecasting``: ``forecast`` and ``forecast-fleet``;
- ``backtesting``: ``backtest``;
- ``planning``: ``check-event`` and ``recommend``;
- ``scheduling``: ``schedule`` and its AWS and horizon checks;
- ``weekly_plan``: ``plan``.
"""

from __future__ import annotations

from capacity.cli.app import _STOPPED_BY as _STOPPED_BY
from capacity.cli.app import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from capacity.cli.app import EXIT_TERMINATED as EXIT_TERMINATED
from capacity.cli.app import _Commands as _Commands
from capacity.cli.app import _leaving_when_stopped as _leaving_when_stopped
from capacity.cli.app import _stopped_status as _stopped_status
from capacity.cli.app import _usage_in_one_line as _usage_in_one_line
from capacity.cli.app import _UsageError as _UsageError
from capacity.cli.app import cli as cli
from capacity.cli.app import main as main
from capacity.cli.backtesting import backtest_command as backtest_command
from capacity.cli.common import DEFAULT_CONFIG as DEFAULT_CONFIG
from capacity.cli.common import DEFAULT_DB as DEFAULT_DB
from capacity.cli.common import DEFAULT_DEMO as DEFAULT_DEMO
from capacity.cli.common import DEFAULT_NOTEBOOK as DEFAULT_NOTEBOOK
from capacity.cli.common import DEFAULT_OUT as DEFAULT_OUT
from capacity.cli.common import EXIT_FAILED as EXIT_FAILED
from capacity.cli.common import EXIT_INPUT as EXIT_INPUT
from capacity.cli.common import EXIT_LOCKED as EXIT_LOCKED
from capacity.cli.common import EXIT_PLANNED as EXIT_PLANNED
from capacity.cli.common import EXIT_UNAVAILABLE as EXIT_UNAVAILABLE
from capacity.cli.common import F as F
from capacity.cli.common import _check_jobs as _check_jobs
from capacity.cli.common import _check_tz as _check_tz
from capacity.cli.common import _config_option as _config_option
from capacity.cli.common import _db_option as _db_option
from capacity.cli.common import _default_store as _default_store
from capacity.cli.common import _fail as _fail
from capacity.cli.common import _file_events as _file_events
from capacity.cli.common import _json_default as _json_default
from capacity.cli.common import _load_config as _load_config
from capacity.cli.common import _reading_store as _reading_store
from capacity.cli.common import _reports_errors as _reports_errors
from capacity.cli.common import _safe_loads as _safe_loads
from capacity.cli.common import _table as _table
from capacity.cli.common import _warn_if_stale as _warn_if_stale
from capacity.cli.common import log as log
from capacity.cli.data import _file_import as _file_import
from capacity.cli.data import demo as demo
from capacity.cli.data import deploys as deploys
from capacity.cli.data import events as events
from capacity.cli.data import incidents as incidents
from capacity.cli.data import ingest as ingest
from capacity.cli.data import pull as pull
from capacity.cli.forecasting import forecast as forecast
from capacity.cli.forecasting import forecast_fleet_command as forecast_fleet_command
from capacity.cli.planning import check_event_command as check_event_command
from capacity.cli.planning import recommend as recommend
from capacity.cli.scheduling import _aws_actions as _aws_actions
from capacity.cli.scheduling import _schedule_hours as _schedule_hours
from capacity.cli.scheduling import schedule as schedule
from capacity.cli.summaries import kpis as kpis
from capacity.cli.summaries import status as status
from capacity.cli.weekly_plan import plan as plan

__all__ = ["main"]
