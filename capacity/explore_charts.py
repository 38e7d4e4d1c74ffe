"""Plotly figures for the analyst's notebooks. Every function returns a ``go.Figure``.

None shows or writes a figure. Names that come from data (event names, regions, services)
are HTML-escaped before they reach a title, a legend or an annotation.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from capacity.charts import (
    _log_ticks,
    _time_axis,
    _utc_moment,
    _utc_times,
    metric_title,
    series_styles,
)
from capacity.columns import (
    CUTOFF,
    END_TS,
    FRACTION_METRICS,
    KIND,
    LATENCY_P99_MS,
    NAME,
    REGION,
    SERVICE,
    START_TS,
    TS,
    VALUE,
)
from capacity.errors import ParameterError
from capacity.frames import require_one_series
from capacity.review import EXCLUDED, LOAD_PER_SERVER, RUN_ID, WEEKDAYS, Decomposition

__all__ = [
    "EVENT_COLOURS",
    "accuracy_over_time",
    "decomposition_chart",
    "latency_curve",
    "lead_time_chart",
    "metric_title",
    "series_with_events",
    "weekday_hour_heatmap",
]

#: Shading per event kind; other kinds are grey.
EVENT_COLOURS = {
    "season": "rgba(44, 160, 44, 0.16)",
    "launch": "rgba(44, 160, 44, 0.16)",
    "patch": "rgba(23, 190, 207, 0.16)",
    "marketing": "rgba(188, 189, 34, 0.18)",
    "esports": "rgba(148, 103, 189, 0.18)",
    "holiday": "rgba(255, 165, 0, 0.18)",
    "maintenance": "rgba(127, 127, 127, 0.22)",
    "outage": "rgba(214, 39, 40, 0.22)",
}
_OTHER = "rgba(140, 86, 75, 0.16)"
#: Kinds too frequent to label one by one (they are shaded and in the legend).
_UNLABELLED = ("maintenance",)
_LINE = "rgb(31, 119, 180)"
_DARK = "rgb(40, 40, 40)"
_RED = "rgb(214, 39, 40)"
#: The note of an accuracy chart with nothing to compare.
_NO_ACCURACY = (
    "No stored forecast hour has a known actual value yet: nothing to compare "
    "(capacity plan or forecast-fleet stores a run; its hours are compared once they pass)"
)


def _esc(text: object) -> str:
    return html.escape(str(text))


def _percent_format(values: object, *, extra: int = 0) -> str:
    """A d3 percent format with the decimals ``values`` need: two significant digits of the
    largest (``60%``, ``4.2%``, ``0.042%``) and of their spread (ticks over 4.0–4.2 % read
    4.05 %, not 4.1 % twice), plus ``extra`` (a hover's). An error rate of 0.0004 on ``.0%``
    ticks had read ``0%`` on every tick."""
    finite = np.asarray(values, dtype="float64").ravel()
    finite = finite[np.isfinite(finite)]
    decimals = 0
    for size in (np.abs(finite).max(initial=0.0), np.ptp(finite) if finite.size else 0.0):
        if size > 0:
            decimals = max(decimals, 1 - math.floor(math.log10(size * 100)))
    return f".{min(decimals, 6) + extra}~%"


def _tick_format(metric: str, values: object) -> str | None:
    """The axis tick format for ``metric``: a fraction in percent with the decimals its
    values need, anything else plotly's own."""
    return _percent_format(values) if metric in FRACTION_METRICS else None


def _value_format(metric: str, values: object) -> str:
    """A d3 number format for ``metric``'s values: percent for a fraction (one decimal more
    than its axis), whole numbers from 100 up, else three significant digits (a CPU share is
    not ``0``)."""
    if metric in FRACTION_METRICS:
        return _percent_format(values, extra=1)
    finite = np.asarray(values, dtype="float64")
    finite = finite[np.isfinite(finite)]
    return ",.0f" if finite.size == 0 or np.abs(finite).max() >= 100 else ".3g"


def series_with_events(
    series: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    title: str = "",
    name: str = "value",
) -> go.Figure:
    """A series as a line, with live-ops events shaded over their windows.

    Parameters
    ----------
    series : pandas.DataFrame
        ``ts, value`` (other columns ignored).
    events : pandas.DataFrame, optional
        Calendar rows (``name, kind, start_ts, end_ts``); each is shaded where it overlaps
        the series, coloured by kind (:data:`EVENT_COLOURS`), and named unless it is routine
        maintenance. One legend entry per kind shown.
    title : str
        The figure's title (escaped).
    name : str
        The metric: the line's legend name, and the y axis title with its meaning and unit
        (:func:`metric_title`; escaped). A fraction (``cpu_util``) reads in percent.

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace, then one legend-only marker trace per event kind shown. Times are
        drawn in UTC, and the time axis says so. Without a value to draw, a note says so.

    Raises
    ------
    ParameterError
        When ``series`` holds more than one series (rows of several regions, services or
        metrics, or two rows at one time), which one line would zigzag between.
    """
    _check_one_series(series)
    times = _utc_times(series[TS])
    number = _value_format(name, series[VALUE])
    figure = go.Figure(
        go.Scatter(
            x=times,
            y=series[VALUE],
            name=_esc(name),
            line={"color": _LINE, "width": 1.2},
            hovertemplate=f"%{{y:{number}}}",
        )
    )
    if events is not None and len(events) and len(series):
        first, last = times.min(), times.max()
        middle = first + (last - first) / 2
        shown = events[(events[END_TS] > first) & (events[START_TS] <= last)]
        labels = []  # (anchor time, side, name) of each event named
        for row in shown.itertuples(index=False):
            kind = str(getattr(row, KIND))
            x0 = max(_utc_moment(getattr(row, START_TS)), first)
            x1 = min(_utc_moment(getattr(row, END_TS)), last)
            if kind not in _UNLABELLED:
                # a name in the chart's right half ends at its span's end, reading leftwards:
                # one reading rightwards from there made plotly widen the time axis to hold
                # it, days of empty chart after the series' end (as in charts.fan_chart)
                side = "left" if x0 < middle else "right"
                labels.append((x0 if side == "left" else x1, side, str(getattr(row, NAME))))
            figure.add_vrect(
                x0=x0,
                x1=x1,
                fillcolor=EVENT_COLOURS.get(kind, _OTHER),
                line_width=0,
                layer="below",
            )
        lanes = _label_lanes([(x, side, len(text)) for x, side, text in labels], span=(first, last))
        for (x, side, text), lane in zip(labels, lanes, strict=True):
            level, bottom = divmod(lane, 2)
            figure.add_annotation(
                text=_esc(text),
                x=x,
                xanchor=side,
                xref="x",
                yref="paper",
                y=_LANE_STEP * level if bottom else 1 - _LANE_STEP * level,
                yanchor="bottom" if bottom else "top",
                showarrow=False,
                font={"size": 10},
            )
        for kind in sorted(shown[KIND].astype(str).unique()):
            figure.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    marker={
                        "symbol": "square",
                        "size": 12,
                        "color": EVENT_COLOURS.get(kind, _OTHER),
                    },
                    name=_esc(kind),
                )
            )
    if not series[VALUE].notna().any():
        figure.add_annotation(
            text="No value to draw: the series is empty or every hour of it is missing",
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
        )
    figure.update_layout(
        title=_esc(title),
        template="plotly_white",
        height=420,
        margin={"t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        hovermode="x",
        yaxis={
            "title": _upright_title(metric_title(name)),
            "automargin": True,
            "tickformat": _tick_format(name, series[VALUE]),
        },
    )
    _time_axis(figure)
    return figure


#: The plot width, in pixels, event names are laid out for (a notebook's is wider), the width
#: of a character of their 10 px font, and the height of a lane as a share of the plot's.
_LABEL_PLOT_PX = 800
_LABEL_CHAR_PX = 6
_LANE_STEP = 0.06


def _label_lanes(
    labels: list[tuple[pd.Timestamp, str, int]], *, span: tuple[pd.Timestamp, pd.Timestamp]
) -> list[int]:
    """The lane of each event name on a time chart, so that no two names overlap: lane 0 is
    the top of the plot, 1 its bottom, 2 a line below the top, 3 a line above the bottom, and
    so on; each name takes the first lane where it overlaps no name already placed.

    Parameters
    ----------
    labels : list of (Timestamp, str, int)
        Each name's anchor time, the side it reads from there (``"left"``: it starts at the
        time and reads rightwards; ``"right"``: it ends there) and its length in characters.
    span : (Timestamp, Timestamp)
        The first and last time of the chart's axis, which sets a character's width in time.

    Returns
    -------
    list of int
        One lane per label, in order.
    """
    seconds = max((span[1] - span[0]).total_seconds(), 1.0)
    per_char = seconds * _LABEL_CHAR_PX / _LABEL_PLOT_PX
    taken: list[list[tuple[float, float]]] = []
    lanes = []
    for at, side, length in labels:
        x = (at - span[0]).total_seconds()
        width = (length + 2) * per_char
        low, high = (x, x + width) if side == "left" else (x - width, x)
        for lane, placed in enumerate(taken):
            if all(high <= a or low >= b for a, b in placed):
                placed.append((low, high))
                lanes.append(lane)
                break
        else:
            taken.append([(low, high)])
            lanes.append(len(taken) - 1)
    return lanes


def _check_one_series(series: pd.DataFrame) -> None:
    """Refuse a frame of several series (``store.series(metric="ccu")`` holds every region
    and service's), naming them and how to pick one."""
    require_one_series(series, "series", "the chart draws one")
    if series[TS].duplicated().any():
        twice = pd.Timestamp(series[TS][series[TS].duplicated()].iloc[0])
        raise ParameterError(
            f"The 'series' parameter holds two rows at {twice.tz_convert('UTC'):%Y-%m-%d %H:%M} "
            "UTC; the chart draws one value per time.",
            fix="pass one series on a regular grid, as Store.series returns",
        )


def weekday_hour_heatmap(
    profile: pd.DataFrame, *, title: str = "", timezone: str = "UTC", metric: str = "value"
) -> go.Figure:
    """The mean value per local weekday (rows, Monday on top) and hour (columns).

    Parameters
    ----------
    profile : pandas.DataFrame
        From :func:`capacity.review.weekday_hour_profile` (index 0 to 6, columns 0 to 23).
    title : str
        The figure's title (escaped).
    timezone : str
        The zone of the clock, for the axis title.
    metric : str
        What the values measure: the colour bar's title (``mean ccu``), and the hover's number
        format (percent for a fraction, whole numbers from 100 up).

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace.
    """
    number = _value_format(metric, profile.to_numpy())
    figure = go.Figure(
        go.Heatmap(
            z=profile.to_numpy(),
            x=[f"{h:02d}" for h in profile.columns],
            y=[WEEKDAYS[int(d)] for d in profile.index],
            colorscale="Viridis",
            colorbar={
                "title": f"mean {_esc(metric)}",
                "tickformat": _tick_format(metric, profile.to_numpy()),
            },
            hovertemplate=f"%{{y}} %{{x}}:00<br>mean %{{z:{number}}}<extra></extra>",
        )
    )
    figure.update_layout(
        title=_esc(title),
        template="plotly_white",
        height=330,
        xaxis_title=f"hour of day (local time, {_esc(timezone)})",
        yaxis={"autorange": "reversed"},
    )
    return figure


def decomposition_chart(
    decomposition: Decomposition, *, title: str = "", metric: str = "value"
) -> go.Figure:
    """Observed and trend; the daily and weekly profiles; the residual.

    Parameters
    ----------
    decomposition : Decomposition
        From :func:`capacity.review.decompose`.
    title : str
        The figure's title (escaped).
    metric : str
        What the series measures (``ccu``, ``rps``), for the y axis titles (escaped): the
        observed panel in its units, the profiles and residual as differences in them.

    Returns
    -------
    plotly.graph_objects.Figure
        Four panels and five traces: ``observed``, ``trend`` (panel 1), ``daily profile``
        (panel 2, by local hour), ``weekly profile`` (panel 3, by local weekday) and
        ``residual`` (panel 4).
    """
    frame, zone = decomposition.frame, _esc(decomposition.timezone)
    times = _utc_times(frame[TS])
    figure = make_subplots(
        rows=4,
        cols=1,
        subplot_titles=(
            "Observed and one-week trend",
            f"Daily profile (hour of day, {zone})",
            f"Weekly profile (day of week, {zone})",
            "Residual: what the trend and profiles leave",
        ),
        vertical_spacing=0.08,
        row_heights=[0.34, 0.22, 0.22, 0.22],
    )
    figure.add_trace(
        go.Scatter(
            x=times,
            y=frame[VALUE],
            name="observed",
            line={"color": "rgb(170, 170, 170)", "width": 1},
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(x=times, y=frame["trend"], name="trend", line={"color": _LINE, "width": 2}),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=[f"{h:02d}" for h in decomposition.daily.index],
            y=decomposition.daily.to_numpy(),
            name="daily profile",
            mode="lines+markers",
            line={"color": "rgb(255, 127, 14)"},
        ),
        row=2,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=[WEEKDAYS[int(d)] for d in decomposition.weekly.index],
            y=decomposition.weekly.to_numpy(),
            name="weekly profile",
            marker={"color": "rgb(44, 160, 44)"},
        ),
        row=3,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=times, y=frame["residual"], name="residual", line={"color": _DARK, "width": 1}
        ),
        row=4,
        col=1,
    )
    unit = _esc(metric)
    # each panel's ticks as its own values need: the profiles and residual are far smaller
    # than the level
    panels = (
        (_upright_title(metric_title(metric)), frame[[VALUE, "trend"]]),
        (f"{unit} vs trend", decomposition.daily),
        (f"{unit} vs trend", decomposition.weekly),
        (f"{unit} left", frame["residual"]),
    )
    for row, (axis, values) in enumerate(panels, start=1):
        figure.update_yaxes(
            title_text=axis,
            tickformat=_tick_format(metric, values),
            automargin=True,
            row=row,
            col=1,
        )
    _time_axis(figure, title=False, row=1, col=1)
    _time_axis(figure, row=4, col=1)
    figure.update_layout(
        title=_esc(title),
        template="plotly_white",
        height=900,
        showlegend=False,
        margin={"t": 80},
    )
    return figure


#: The longest upright axis title kept on one line: longer ones (``share of requests failing
#: (error_rate)``) outgrew the height of a decomposition panel and were cut at both ends.
_UPRIGHT_CHARS = 26


def _upright_title(text: str) -> str:
    """``text`` escaped, as a y axis title: past :data:`_UPRIGHT_CHARS`, the metric's name in
    brackets on a line of its own (``share of requests failing`` / ``(error_rate)``)."""
    head, bracket, name = text.rpartition(" (")
    if len(text) <= _UPRIGHT_CHARS or not bracket or not head:
        return _esc(text)
    return f"{_esc(head)}<br>({_esc(name)}"


def latency_curve(
    frame: pd.DataFrame,
    *,
    safe_load: float,
    slo_ms: float,
    low: float = math.nan,
    high: float = math.nan,
    binned: pd.DataFrame | None = None,
    source: str = "learned",
    title: str = "",
    metric: str = "demand",
) -> go.Figure:
    """Load per server against p99 latency, with the safe load and the SLO.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`capacity.review.load_latency`: ``load_per_server, latency_p99_ms`` and
        ``excluded``.
    safe_load : float
        The safe load per server (a vertical line).
    slo_ms : float
        The p99 latency SLO (a horizontal line).
    low, high : float
        The safe load's interval, shaded when both are finite.
    binned : pandas.DataFrame, optional
        From :func:`capacity.review.latency_by_load`: drawn as the median curve.
    source : str
        ``learned`` or ``hint``, named in the safe load's legend entry.
    title : str
        The figure's title (escaped).
    metric : str
        The service's demand metric, whose load per server the x axis shows
        (``players online (ccu) per server``).

    Returns
    -------
    plotly.graph_objects.Figure
        Traces, in order: ``hours`` (used by sizing), ``maintenance/outage hours`` (only when
        some are flagged), ``median p99`` (only with ``binned``), ``p99 SLO`` and
        ``safe load``. The y axis is logarithmic. Without an hour to draw, a note in the
        middle says so.
    """
    left_out = frame[EXCLUDED].to_numpy(bool) if EXCLUDED in frame else np.zeros(len(frame), bool)
    used, dropped = frame[~left_out], frame[left_out]
    figure = go.Figure(
        go.Scattergl(
            x=used[LOAD_PER_SERVER],
            y=used[LATENCY_P99_MS],
            mode="markers",
            name="hours",
            marker={"size": 4, "color": _LINE, "opacity": 0.45},
        )
    )
    if len(dropped):
        figure.add_trace(
            go.Scattergl(
                x=dropped[LOAD_PER_SERVER],
                y=dropped[LATENCY_P99_MS],
                mode="markers",
                name="maintenance/outage hours (left out)",
                marker={"size": 5, "color": "rgb(160, 160, 160)", "symbol": "x"},
            )
        )
    if binned is not None and len(binned):
        figure.add_trace(
            go.Scatter(
                x=binned[LOAD_PER_SERVER],
                y=binned[LATENCY_P99_MS],
                mode="lines+markers",
                name="median p99",
                line={"color": _DARK, "width": 2},
            )
        )
    loads = frame[LOAD_PER_SERVER].to_numpy("float64")
    latencies = frame[LATENCY_P99_MS].to_numpy("float64")
    x_top = float(np.nanmax([*loads, safe_load, high if math.isfinite(high) else 0.0]))
    y_low = float(np.nanmin([*latencies, slo_ms])) * 0.9
    y_top = float(np.nanmax([*latencies, slo_ms])) * 1.1
    figure.add_trace(
        go.Scatter(
            x=[0, x_top * 1.02],
            y=[slo_ms, slo_ms],
            mode="lines",
            name=f"p99 SLO {slo_ms:g} ms",
            line={"color": _RED, "dash": "dash"},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[safe_load, safe_load],
            y=[y_low, y_top],
            mode="lines",
            name=f"safe load {safe_load:,.0f} ({_esc(source)})",
            line={"color": "rgb(44, 160, 44)", "width": 2},
        )
    )
    if math.isfinite(low) and math.isfinite(high):
        figure.add_vrect(
            x0=low, x1=high, fillcolor="rgba(44, 160, 44, 0.15)", line_width=0, layer="below"
        )
    if not np.isfinite(loads * latencies).any():  # else only the two lines, and no reason
        figure.add_annotation(
            text=(
                "No hour to draw: none has both a load per server (demand and servers "
                "telemetry) and a p99 latency (latency_p99_ms)"
            ),
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
        )
    figure.update_layout(
        title=_esc(title),
        template="plotly_white",
        height=460,
        # the SLO line starts at 0, which brings plotly's zero line in: a faint vertical line
        # at the left edge that reads as one more marker
        xaxis={"title": f"{_esc(metric_title(metric))} per server", "zeroline": False},
        yaxis={
            "title": "p99 latency (ms)",
            "type": "log",
            "tickvals": _log_ticks(y_low, y_top),
            "automargin": True,
        },
        legend={"orientation": "h", "y": -0.18},
    )
    return figure


def accuracy_over_time(table: pd.DataFrame, *, coverage: str = "coverage_90") -> go.Figure:
    """MAPE (top) and interval coverage (bottom) of stored runs, by run cutoff, per series.

    With one run cutoff there is no time to plot against: each series is a bar, and the title
    names the cutoff. With several, each series is a line over the cutoffs, one tick per
    cutoff. Either way the colour names the region and the dash (or bar pattern) the service
    (:func:`capacity.charts.series_styles`), so a dozen series look different.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`capacity.review.accuracy` by run and series (``cutoff, region, service, mape``
        and ``coverage``).
    coverage : str
        The coverage column; its nominal level (e.g. 90 %) is a dashed line.

    Returns
    -------
    plotly.graph_objects.Figure
        Two traces per series (``region / service``), sharing a legend entry: bars for one
        cutoff, lines with markers for several. An empty table gets a note saying there is
        nothing to compare.
    """
    level = coverage.rsplit("_", 1)[-1]
    cutoffs = sorted(pd.Series(table[CUTOFF]).dropna().unique())
    single = len(cutoffs) <= 1
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        subplot_titles=("MAPE (lower is better)", f"Share of hours inside the {level} % interval"),
        vertical_spacing=0.12,
    )
    ordered = table.sort_values(CUTOFF)
    styles = series_styles(zip(ordered[REGION], ordered[SERVICE], strict=True))
    patterns = {"solid": "", "dash": "/", "dot": ".", "dashdot": "x", "longdash": "-"}
    for (region, service), part in ordered.groupby([REGION, SERVICE], sort=True):
        label = f"{_esc(region)} / {_esc(service)}"
        style = styles[(region, service)]
        for row, column in ((1, "mape"), (2, coverage)):
            common = {"name": label, "legendgroup": label, "showlegend": row == 1}
            if single:
                trace = go.Bar(
                    x=[label] * len(part),
                    y=part[column],
                    marker={
                        "color": style["color"],
                        "pattern": {"shape": patterns.get(style["dash"], "+")},
                    },
                    **common,
                )
            else:
                trace = go.Scatter(
                    x=part[CUTOFF],
                    y=part[column],
                    mode="lines+markers",
                    line={"color": style["color"], "dash": style["dash"]},
                    marker={"symbol": style["symbol"], "size": 8},
                    **common,
                )
            figure.add_trace(trace, row=row, col=1)
    if level.isdigit():
        figure.add_hline(
            y=int(level) / 100, line={"color": _RED, "dash": "dash", "width": 1}, row=2, col=1
        )
    figure.update_yaxes(tickformat=".0%")
    if single:
        when = f" of {pd.Timestamp(cutoffs[0]):%Y-%m-%d %H:%M} UTC" if cutoffs else ""
        title = f"The stored run{when} against what happened, per series"
        figure.update_xaxes(tickangle=-45)
    else:
        title = "Stored runs against what happened, by run cutoff"
        if len(cutoffs) <= 12:  # a tick per run, labelled to the minute
            stamps = [pd.Timestamp(c) for c in cutoffs]
            figure.update_xaxes(tickvals=stamps, ticktext=[f"{c:%Y-%m-%d %H:%M}" for c in stamps])
        figure.update_xaxes(title_text="run cutoff (UTC)", row=2, col=1)
    if table.empty:
        title = "Stored runs against what happened"
        figure.add_annotation(
            text=_NO_ACCURACY, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False
        )
    figure.update_layout(title=title, template="plotly_white", height=560 + 60 * single)
    return figure


def lead_time_chart(by_lead: pd.DataFrame) -> go.Figure:
    """MAPE by days ahead, one line per stored run.

    Parameters
    ----------
    by_lead : pandas.DataFrame
        From :func:`capacity.review.accuracy_by_lead`.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per run, named by its cutoff and id; with none, a note saying there is
        nothing to compare.
    """
    figure = go.Figure()
    for run_id, part in by_lead.sort_values([CUTOFF, "lead_day"]).groupby(RUN_ID, sort=False):
        cutoff = part[CUTOFF].iloc[0]
        when = f"{cutoff:%Y-%m-%d}" if not pd.isna(cutoff) else "?"
        figure.add_trace(
            go.Scatter(
                x=part["lead_day"],
                y=part["mape"],
                mode="lines+markers",
                name=f"{when} ({_esc(run_id)})",
            )
        )
    if by_lead.empty:
        figure.add_annotation(
            text=_NO_ACCURACY, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False
        )
    figure.update_layout(
        title="MAPE by day ahead of each run's cutoff",
        template="plotly_white",
        height=380,
        xaxis_title="day ahead (1 = the first 24 hours after the cutoff)",
        yaxis={"title": "MAPE", "tickformat": ".0%"},
    )
    return figure
