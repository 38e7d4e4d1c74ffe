"""Plotly figures. Every function returns a ``go.Figure``; none shows or writes one."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from capacity.columns import (
    CPU_UTIL,
    ERROR_RATE,
    LATENCY_P99_MS,
    METRIC,
    REGION,
    SERVERS,
    SERVICE,
    TS,
    metric_label,
    model_order,
    quantile_column,
)

if TYPE_CHECKING:
    from capacity.event_check import EventCheck

__all__ = [
    "FAN_CHARTS",
    "accuracy_chart",
    "backtest_figure",
    "burn_chart",
    "event_check_figure",
    "fan_chart",
    "fan_chart_menu",
    "fan_charts",
    "headroom_heatmap",
    "metric_title",
    "schedule_chart",
    "series_styles",
]

_BAND = "rgba(31, 119, 180, 0.18)"
_LINE = "rgb(31, 119, 180)"
_CAPACITY = "rgb(214, 39, 40)"
_PALETTE = (
    "rgb(31, 119, 180)",
    "rgb(255, 127, 14)",
    "rgb(44, 160, 44)",
    "rgb(148, 103, 189)",
    "rgb(140, 86, 75)",
)
#: One colour per region (plotly's D3 palette, red last: red is the capacity line's colour).
_REGION_COLOURS = (
    "rgb(31, 119, 180)",
    "rgb(255, 127, 14)",
    "rgb(44, 160, 44)",
    "rgb(148, 103, 189)",
    "rgb(140, 86, 75)",
    "rgb(227, 119, 194)",
    "rgb(127, 127, 127)",
    "rgb(188, 189, 34)",
    "rgb(23, 190, 207)",
    "rgb(214, 39, 40)",
)
#: One line dash and marker symbol per service.
_SERVICE_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
_SERVICE_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")


def series_styles(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    """A line style per (region, service): the colour names the region, the dash the service.

    Twelve series of four regions and three services get twelve different looks where a
    ten-colour palette would repeat two; the legend still reads ``region / service``.

    Returns
    -------
    dict
        ``(region, service)`` to ``{"color", "dash", "symbol"}``.
    """
    pairs = sorted(set(pairs))
    regions = list(dict.fromkeys(r for r, _ in pairs))
    services = sorted({s for _, s in pairs})
    return {
        (region, service): {
            "color": _REGION_COLOURS[regions.index(region) % len(_REGION_COLOURS)],
            "dash": _SERVICE_DASHES[services.index(service) % len(_SERVICE_DASHES)],
            "symbol": _SERVICE_SYMBOLS[services.index(service) % len(_SERVICE_SYMBOLS)],
        }
        for region, service in pairs
    }


#: The title of a time axis. Plotly drops a timestamp's zone and draws its wall clock, so
#: every figure here converts times to UTC first (:func:`_utc_times`) and says so.
_UTC_AXIS = "time (UTC)"
#: The title of an axis of whole days (UTC days: a day starts at 00:00 UTC).
_UTC_DAY_AXIS = "day (UTC)"


def _utc_times(ts: pd.Series) -> pd.Series:
    """``ts`` in UTC (naive times are taken to be UTC already)."""
    times = pd.to_datetime(ts)
    return times if times.dt.tz is None else times.dt.tz_convert("UTC")


def _time_x(ts: pd.Series) -> dict[str, Any]:
    """A trace's x for times, compact: on an even grid its first time and step (``x0``,
    ``dx``, in milliseconds since the epoch), else the times as milliseconds since the epoch,
    which plotly writes as a binary array. Each hour had been 30 characters of ISO text, most
    of a fan chart's bytes. The time axis must be a date axis (:func:`_time_axis` sets it)."""
    times = _utc_times(ts) if len(ts) else pd.Series([], dtype="datetime64[ms, UTC]")
    if times.dt.tz is None:
        times = times.dt.tz_localize("UTC")
    ms = ((times - _EPOCH) // pd.Timedelta(milliseconds=1)).to_numpy(dtype="float64")
    if len(ms) > 1:
        steps = np.diff(ms)
        if steps[0] > 0 and (steps == steps[0]).all():
            return {"x0": float(ms[0]), "dx": float(steps[0])}
    return {"x": ms}


_EPOCH = pd.Timestamp(0, tz="UTC")


def _utc_moment(moment: object) -> pd.Timestamp:
    """One time in UTC, for a shape or a line (naive: UTC already)."""
    stamp = pd.Timestamp(moment)
    return stamp if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _time_axis(figure: go.Figure, *, title: bool = True, **where: int) -> None:
    """Hover a time axis's times to the minute in UTC and, with ``title``, title it
    ``time (UTC)``; ``where`` picks the subplot (``row=4, col=1``)."""
    update = {"hoverformat": "%Y-%m-%d %H:%M UTC", "type": "date"}
    if title:
        update["title_text"] = _UTC_AXIS
    figure.update_xaxes(**update, **where)


def _log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 tick values covering ``[low, high]`` on a log axis."""
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        return []
    ticks = []
    for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        ticks += [m * 10.0**power for m in (1, 2, 5) if low <= m * 10.0**power <= high]
    return ticks


def _band(
    x: pd.Series,
    upper: pd.Series,
    lower: pd.Series,
    *,
    colour: str = _BAND,
    name: str | None = None,
    showlegend: bool = True,
    shape: str = "linear",
) -> tuple[go.Scatter, go.Scatter]:
    """Two traces that shade the area between ``lower`` and ``upper`` (joined as ``shape``,
    plotly's line shape: ``"hv"`` holds each value to the next point)."""
    where = _time_x(x)
    line = {"width": 0, "shape": shape}
    edge = go.Scatter(**where, y=upper, mode="lines", line=line, showlegend=False, hoverinfo="skip")
    fill = go.Scatter(
        **where,
        y=lower,
        mode="lines",
        fill="tonexty",
        fillcolor=colour,
        line=line,
        name=name,
        showlegend=showlegend and name is not None,
        hoverinfo="skip" if name is None else None,
    )
    return edge, fill


#: Pixels of one event panel's plot, of the gap between panels, and of the margins.
_PANEL_PX, _GAP_PX, _TOP_PX, _BOTTOM_PX = 200, 80, 90, 110


def event_check_figure(check: EventCheck, *, low: float = 0.05, high: float = 0.95) -> go.Figure:
    """Demand with the event against safe capacity, one panel per region/service.

    Parameters
    ----------
    check : EventCheck
        From :func:`capacity.event_check.check_event`.
    low, high : float
        The quantiles bounding the shaded band.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per region/service, each with a fixed height and its demand metric as the
        y axis title (``players online (ccu)``); times in UTC, as the bottom axis says.
    """
    groups = list(check.hourly.groupby([REGION, SERVICE], sort=True))
    verdicts = check.table.set_index([REGION, SERVICE])["verdict"]
    titles = [
        f"{region} / {service}: {verdicts.loc[(region, service)]}"
        for (region, service), _ in groups
    ]
    panels = max(len(groups), 1)
    # Fixed pixels per panel and per gap (room for the next panel's title), so twelve panels
    # are as readable as two: plotly's spacing is a share of the plotting height.
    plot_height = _PANEL_PX * panels + _GAP_PX * (panels - 1)
    figure = make_subplots(
        rows=panels,
        cols=1,
        shared_xaxes=True,
        subplot_titles=titles,
        vertical_spacing=_GAP_PX / plot_height if panels > 1 else 0.1,
    )
    for row, ((_, _), part) in enumerate(groups, start=1):
        shown = row == 1
        metric = str(part["metric"].iloc[0]) if "metric" in part and len(part) else "demand"
        figure.update_yaxes(title_text=html.escape(metric_label(metric)), row=row, col=1)
        part = part.assign(**{TS: _utc_times(part[TS])})
        # Each hour's value held over the hour (steps, "hv") and the last one to its end, so
        # the chart spans the hours checked, 17:00 to 21:00 for an event from 17:00 to 21:00,
        # not to 20:00, and an event of one hour is a flat line over it. One hour's single
        # point had had no band, and a time axis plotly spread over a millisecond, ticked
        # 07:59:59.999 to 08:00:00.001; joined by slopes, the added end read as another hour.
        end = part.tail(1).assign(**{TS: part[TS].iloc[-1] + pd.Timedelta(hours=1)})
        part = pd.concat([part, end], ignore_index=True)
        for trace in _band(
            part[TS],
            part[quantile_column(high)],
            part[quantile_column(low)],
            name=f"demand {low:.0%}–{high:.0%}",
            showlegend=shown,
            shape="hv",
        ):
            figure.add_trace(trace, row=row, col=1)
        figure.add_trace(
            go.Scatter(
                mode="lines",
                **_time_x(part[TS]),
                y=part[quantile_column(0.5)],
                line={"color": _LINE, "shape": "hv"},
                name="demand, median",
                showlegend=shown,
            ),
            row=row,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                mode="lines",
                **_time_x(part[TS]),
                y=part["safe_capacity"],
                line={"color": _CAPACITY, "dash": "dash", "shape": "hv"},
                name="safe capacity now",
                showlegend=shown,
            ),
            row=row,
            col=1,
        )
    # from zero, so the gap between demand and capacity reads as the share it is: a 4-hour
    # event's axis had started at 15k, under a capacity line at 72k and demand at 25k
    figure.update_yaxes(rangemode="tozero")
    figure.update_layout(
        title=f"{html.escape(check.event.name)}: demand with the event against safe capacity",
        height=plot_height + _TOP_PX + _BOTTOM_PX,
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "top", "y": -60 / plot_height},
        margin={"t": _TOP_PX, "b": _BOTTOM_PX},
    )
    # dates under every panel, not only the last: a planner reads a panel without scrolling
    # to the bottom of twelve (the axes still zoom together)
    _time_axis(figure, title=False)
    figure.update_xaxes(showticklabels=True)
    _time_axis(figure, row=panels, col=1)
    return figure


def fan_chart(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    need: pd.DataFrame,
    events: pd.DataFrame,
    region: str,
    service: str,
    *,
    history_days: int = 14,
    metric: str | None = None,
) -> go.Figure:
    """Demand history and forecast bands for one region/service, with capacity lines.

    Parameters
    ----------
    history : pandas.DataFrame
        ``region, service, ts, value``: what happened.
    forecast : pandas.DataFrame
        ``region, service, ts`` and quantile columns ``q0.05 … q0.99``.
    need : pandas.DataFrame
        From :func:`capacity.headroom.hourly_need`: capacity lines, drawn in load units
        (servers times the safe load) and hovered as servers.
    events : pandas.DataFrame
        The calendar; events touching the region are shaded.
    region, service : str
        Which series.
    history_days : int
        Days of history to show before the forecast.
    metric : str, optional
        What the series measures (``ccu``, ``rps``); default the forecast's ``metric``
        column. The y axis is titled with its meaning (:func:`capacity.columns.metric_label`):
        the demand and the capacity lines are both in its units.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    past = history[(history[REGION] == region) & (history[SERVICE] == service)]
    past = past[past[TS] >= past[TS].max() - pd.Timedelta(days=history_days)]
    ahead = forecast[(forecast[REGION] == region) & (forecast[SERVICE] == service)]
    lines = need[(need[REGION] == region) & (need[SERVICE] == service)]
    figure = go.Figure()
    for low, high, alpha in ((0.05, 0.95, 0.15), (0.1, 0.9, 0.25)):
        lo, hi = quantile_column(low), quantile_column(high)
        if lo in ahead and hi in ahead:
            figure.add_traces(
                _band(
                    ahead[TS],
                    ahead[hi],
                    ahead[lo],
                    colour=f"rgba(31, 119, 180, {alpha})",
                    name=f"forecast {low:.0%}–{high:.0%}",
                )
            )
    figure.add_trace(
        go.Scatter(
            **_time_x(ahead[TS]),
            y=ahead[quantile_column(0.5)],
            name="forecast median",
            line={"color": _LINE},
        )
    )
    figure.add_trace(
        go.Scatter(
            **_time_x(past[TS]),
            y=past["value"],
            name="actual",
            line={"color": "rgb(40, 40, 40)", "width": 1},
        )
    )
    safe = lines["safe_load"]
    for column, label, style in (
        ("servers_now", "capacity now", {"color": _CAPACITY, "dash": "dash"}),
        ("needed_nk", "needed with N+k", {"color": "rgb(44, 160, 44)", "dash": "dot"}),
        ("required", "needed with region loss", {"color": "rgb(148, 103, 189)", "dash": "dot"}),
    ):
        # Drawn in demand units so they meet the forecast; hovered as the servers they are.
        figure.add_trace(
            go.Scatter(
                **_time_x(lines[TS]),
                y=lines[column] * safe,
                customdata=lines[column],
                name=label,
                line=style,
                hovertemplate=(
                    f"{label}: %{{customdata:,}} servers<br>hold %{{y:,.0f}}<extra></extra>"
                ),
            )
        )
    if events is not None and not events.empty:
        touching = events["regions"].map(lambda rs: region in rs or "all" in rs)
        big = events[touching & ~events["kind"].isin(["maintenance", "holiday"])]
        start = past[TS].min() if len(past) else ahead[TS].min()
        end = ahead[TS].max() if len(ahead) else start
        shown = big[(big["end_ts"] >= start) & (big["start_ts"] <= end)]
        middle = start + (end - start) / 2
        for i, row in enumerate(shown.itertuples(index=False)):
            x0, x1 = max(row.start_ts, start), min(row.end_ts, end)
            # a name in the chart's right half ends at its span's end, reading leftwards: one
            # reading rightwards from there had stretched the time axis past the forecast by
            # its length, days of empty chart after the horizon
            side = "left" if x0 < middle else "right"
            figure.add_vrect(
                x0=x0,
                x1=x1,
                fillcolor="rgba(255, 165, 0, 0.12)",
                line_width=0,
                annotation_text=html.escape(str(row.name)),
                annotation_position=f"{'top' if i % 2 == 0 else 'bottom'} {side}",
                annotation_font_size=10,
            )
    if metric is None and METRIC in ahead and len(ahead):
        metric = str(ahead[METRIC].iloc[0])
    figure.update_layout(
        title=f"{region} / {service}: demand and capacity",
        template="plotly_white",
        height=440,
        margin={"t": 60, "b": 110},
        # the legend below the axis title: -60 px from the plot's bottom edge (270 px tall);
        # in the order drawn (plotly reverses a legend of filled areas): bands, median,
        # actual, then the capacity lines
        legend={"orientation": "h", "yanchor": "top", "y": -60 / 270, "traceorder": "normal"},
        yaxis_title=html.escape(metric_label(metric)) if metric else "demand",
        # from zero, as the event check's: demand and capacity read as the shares they are
        yaxis_rangemode="tozero",
    )
    _time_axis(figure)
    return figure


#: Region/services the weekly report draws a demand chart each for; past this many, the most
#: urgent are drawn so and one chart with a menu holds the others (a 60-pair plan had drawn
#: 60 charts, some fifty screens).
FAN_CHARTS = 12


def fan_charts(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    need: pd.DataFrame,
    events: pd.DataFrame,
    urgent: list[tuple[str, str]],
    *,
    limit: int = FAN_CHARTS,
) -> list[go.Figure]:
    """The weekly report's demand charts (:func:`fan_chart`) for every region/service.

    Parameters
    ----------
    history, forecast, need, events : pandas.DataFrame
        As for :func:`fan_chart`.
    urgent : list of (str, str)
        Every region/service, most urgent first (:func:`capacity.decision.urgency_order`).
    limit : int
        The most region/services drawn one chart each.

    Returns
    -------
    list of plotly.graph_objects.Figure
        Up to ``limit`` region/services: a chart each, by region and service. More: the
        ``limit`` most urgent, in that order, then one chart whose menu picks among the
        others (:func:`fan_chart_menu`).
    """
    if len(urgent) <= limit:
        return [fan_chart(history, forecast, need, events, r, s) for r, s in sorted(urgent)]
    drawn = [fan_chart(history, forecast, need, events, r, s) for r, s in urgent[:limit]]
    return [*drawn, fan_chart_menu(history, forecast, need, events, sorted(urgent[limit:]))]


def fan_chart_menu(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    need: pd.DataFrame,
    events: pd.DataFrame,
    pairs: list[tuple[str, str]],
) -> go.Figure:
    """One :func:`fan_chart` per region/service in a single figure, a menu picking which shows.

    Returns
    -------
    plotly.graph_objects.Figure
        Every pair's traces, the first pair's visible; the menu (top right, one entry per
        pair, ``region / service``) shows a pair's traces and swaps in its title, its y axis
        title and its shaded events.
    """
    figures = [fan_chart(history, forecast, need, events, r, s) for r, s in pairs]
    counts = [len(figure.data) for figure in figures]
    menu = go.Figure(layout=figures[0].layout)
    buttons = []
    start = 0
    for index, (figure, (region, service)) in enumerate(zip(figures, pairs, strict=True)):
        for trace in figure.data:
            trace.visible = index == 0
            menu.add_trace(trace)
        visible = [False] * sum(counts)
        visible[start : start + counts[index]] = [True] * counts[index]
        start += counts[index]
        layout = figure.layout
        buttons.append(
            {
                "label": html.escape(f"{region} / {service}"),
                "method": "update",
                "args": [
                    {"visible": visible},
                    {
                        "title.text": layout.title.text,
                        "yaxis.title.text": layout.yaxis.title.text,
                        "shapes": [shape.to_plotly_json() for shape in layout.shapes],
                        "annotations": [note.to_plotly_json() for note in layout.annotations],
                    },
                ],
            }
        )
    menu.update_layout(updatemenus=[_menu(buttons)])
    return menu


def _menu(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """A drop-down menu of ``buttons`` at the top right, below plotly's toolbar."""
    return {
        "buttons": buttons,
        "direction": "down",
        "showactive": True,
        "x": 1.0,
        "xanchor": "right",
        "y": 1.1,
        "yanchor": "top",
    }


def _headroom_text(headroom: float) -> str:
    """A headroom as the verdict table shows it: ``-146 %``, ``+12 %``, ``no servers``."""
    if pd.isna(headroom):
        return ""
    if math.isinf(headroom):
        return "no servers"
    return f"{headroom * 100:+.0f} %"


#: The headroom the heatmap's colours span, in percent: a shortfall beyond the low end takes
#: its colour, and the colour bar's end says so (``≤ −100 %``).
_HEADROOM_SPAN = (-100, 100)


def headroom_heatmap(need: pd.DataFrame) -> go.Figure:
    """Daily worst headroom (servers now vs needed with N+k and region loss), per series.

    The colours span −100 % to +100 %: a worse day (short by more than the servers now, or
    no servers at all) is coloured as −100 %, and the colour bar's end reads ``≤ −100 %``, so
    it never seems to disagree with the verdict table's −146 %. Hovering shows the true value.
    """
    daily = (
        need.assign(day=need[TS].dt.floor("D"), series=need[REGION] + " / " + need[SERVICE])
        .groupby(["series", "day"], as_index=False)["headroom"]
        .min()
    )
    grid = daily.pivot(index="series", columns="day", values="headroom").sort_index(ascending=False)
    low, high = _HEADROOM_SPAN
    ticks = [low, low // 2, 0, high // 2, high]
    labels = [f"≤ −{-low} %", f"−{-low // 2} %", "0 %", f"+{high // 2} %", f"+{high} %"]
    figure = go.Figure(
        go.Heatmap(
            z=(grid.clip(lower=low / 100, upper=high / 100) * 100).round(0).to_numpy(),
            text=grid.map(_headroom_text).to_numpy(),
            x=list(grid.columns),
            y=list(grid.index),
            colorscale="RdYlGn",
            zmid=0,
            zmin=low,
            zmax=high,
            colorbar={"title": "headroom", "tickvals": ticks, "ticktext": labels},
            hovertemplate="%{y}<br>%{x|%Y-%m-%d}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Headroom by day (worst hour; below 0 means short of servers)",
        template="plotly_white",
        height=150 + 28 * len(grid),
        margin={"l": 180},
        xaxis_title=_UTC_DAY_AXIS,
    )
    figure.update_xaxes(hoverformat="%Y-%m-%d")
    return figure


def schedule_chart(schedule: pd.DataFrame, *, days: int = 7) -> go.Figure:
    """The predictive-scaling floors for the first ``days`` days, one line per series.

    The colour names the region and the dash the service (:func:`series_styles`); the y axis
    is logarithmic with plain 1-2-5 tick labels (no minor labels). Past :data:`FAN_CHARTS`
    series in more than one region, a menu (top right) shows one region's lines at a time,
    the first region's to begin with, and the colour names the service as well as the dash:
    one region's five services in the region's one colour were told apart by dashes only.
    """
    first = schedule[TS].min()
    part = schedule[schedule[TS] < first + pd.Timedelta(days=days)]
    styles = series_styles(zip(part[REGION], part[SERVICE], strict=True))
    figure = go.Figure()
    drawn, serviced = [], []  # the region and the service of each trace
    for (region, service), series in part.groupby([REGION, SERVICE], sort=True):
        style = styles[(region, service)]
        drawn.append(region)
        serviced.append(service)
        figure.add_trace(
            go.Scatter(
                **_time_x(series[TS]),
                y=series["min_servers"],
                name=html.escape(f"{region} / {service}"),
                line={"shape": "hv", "color": style["color"], "dash": style["dash"]},
            )
        )
    positive = part.loc[part["min_servers"] > 0, "min_servers"]
    ticks = _log_ticks(float(positive.min()), float(positive.max())) if len(positive) else []
    if len(ticks) < 3 and len(positive):  # a narrow range: widen to the decades around it
        ticks = _log_ticks(
            10.0 ** math.floor(math.log10(positive.min())),
            10.0 ** math.ceil(math.log10(positive.max())),
        )
    regions = sorted({region for region, _ in styles})
    if len(styles) > FAN_CHARTS and len(regions) > 1:
        # dozens of lines in one plot read as none: a menu shows one region's at a time
        services = sorted({service for _, service in styles})
        for trace, region, service in zip(figure.data, drawn, serviced, strict=True):
            trace.visible = region == regions[0]
            trace.line.color = _REGION_COLOURS[services.index(service) % len(_REGION_COLOURS)]
        buttons = [
            {
                "label": html.escape(region),
                "method": "update",
                "args": [{"visible": [other == region for other in drawn]}],
            }
            for region in regions
        ]
        figure.update_layout(updatemenus=[_menu(buttons)])
    figure.update_layout(
        title=f"Predictive scaling floors, next {days} days (minimum servers)",
        template="plotly_white",
        height=420,
        yaxis={
            "type": "log",
            "title": "minimum servers (log scale)",
            "tickvals": ticks,
            "ticktext": [f"{t:,.0f}" for t in ticks],
        },
    )
    _time_axis(figure)
    return figure


#: The backtest chart's plot height, title room, and room for its upright series names:
#: a margin and pixels per character at plotly's 12 px font.
_ACCURACY_PLOT_PX, _ACCURACY_TOP_PX, _ACCURACY_LABEL_PAD_PX, _ACCURACY_CHAR_PX = 260, 80, 30, 7


def accuracy_chart(backtest: pd.DataFrame) -> go.Figure:
    """MASE per series of the project's forecaster against weekly seasonal naive.

    The project's forecaster is the first bar of every group and the first legend entry,
    the baselines after it by name; the series are sorted along the axis, their names
    upright beneath it in a margin as tall as the longest needs, so the bars keep the same
    height for 4 series or 40.
    """
    figure = go.Figure()
    scored = backtest.dropna(subset=["mase"]) if "mase" in backtest else backtest
    scored = scored.sort_values([REGION, SERVICE], kind="stable")
    order = sorted({str(m) for m in scored["model"]}, key=model_order) if len(scored) else []
    series = list(dict.fromkeys(scored[REGION] + " / " + scored[SERVICE]))
    for model in order:
        part = scored[scored["model"] == model]
        figure.add_trace(
            go.Bar(
                x=part[REGION] + " / " + part[SERVICE],
                y=part["mase"],
                name=html.escape(model),
            )
        )
    # The series' names stand upright under the bars, below a plot of fixed height: in a
    # figure of fixed height, 40 names as long as "ap-northeast / matchmaking" took all but
    # 90 px of it, and the bars were slivers.
    longest = max((len(name) for name in series), default=0)
    bottom = _ACCURACY_LABEL_PAD_PX + _ACCURACY_CHAR_PX * longest
    figure.update_xaxes(categoryorder="array", categoryarray=series, tickangle=-90)
    figure.update_layout(
        title="Last week's backtest: MASE (lower is better; 1 = a one-day naive forecast)",
        template="plotly_white",
        barmode="group",
        height=_ACCURACY_TOP_PX + _ACCURACY_PLOT_PX + bottom,
        margin={"t": _ACCURACY_TOP_PX, "b": bottom},
        yaxis_title="MASE",
    )
    return figure


#: What the metrics besides demand (``capacity.columns.METRIC_MEANINGS``) measure.
_MEANINGS = {
    SERVERS: "servers running",
    CPU_UTIL: "CPU utilisation",
    LATENCY_P99_MS: "p99 latency, ms",
    ERROR_RATE: "share of requests failing",
}


def metric_title(metric: str) -> str:
    """An axis title saying what ``metric`` measures and in which unit, with its name:
    ``players online (ccu)``, ``p99 latency, ms (latency_p99_ms)``; an unknown name as is.

    Parameters
    ----------
    metric : str
        A metric's name, stored or not.

    Returns
    -------
    str
    """
    if metric in _MEANINGS:
        return f"{_MEANINGS[metric]} ({metric})"
    return metric_label(metric)


#: The backtest chart's actuals line width, over the forecasts' 1.5.
_ACTUAL_WIDTH = 2.5


def backtest_figure(
    results: pd.DataFrame,
    series: pd.DataFrame,
    *,
    band_model: str = "capacity",
    metric: str = "value",
) -> go.Figure:
    """Backtest windows: actuals, each model's median, and one model's 5–95 % band.

    Parameters
    ----------
    results : pandas.DataFrame
        Backtest rows of one or more models (``ts, yhat, q…, model, cutoff``).
    series : pandas.DataFrame
        ``ts, value``: the actuals, shown from a week before the first cutoff.
    band_model : str
        The model whose band is drawn.
    metric : str
        What the series measures (``ccu``, ``latency_p99_ms``): the y axis title, with its
        meaning and unit (:func:`metric_title`: ``players online (ccu)``).

    Returns
    -------
    plotly.graph_objects.Figure
        Times in UTC, as the time axis says.
    """
    results = results.assign(**{TS: _utc_times(results[TS])})
    series = series.assign(**{TS: _utc_times(series[TS])})
    start = _utc_moment(results["cutoff"].min()) - pd.Timedelta(days=7)
    actual = series[(series[TS] >= start) & (series[TS] <= results[TS].max())]
    figure = go.Figure()
    band = results[results["model"] == band_model]
    low, high = quantile_column(0.05), quantile_column(0.95)
    for i, (_, window) in enumerate(band.groupby("cutoff")):
        if low in window and high in window:
            name = f"{band_model} 5–95 %"
            figure.add_traces(
                _band(window[TS], window[high], window[low], name=name, showlegend=i == 0)
            )
    for index, (name, part) in enumerate(results.groupby("model", sort=True)):
        colour = _PALETTE[index % len(_PALETTE)]
        for i, (_, window) in enumerate(part.groupby("cutoff")):
            figure.add_trace(
                go.Scatter(
                    **_time_x(window[TS]),
                    y=window["yhat"],
                    name=html.escape(str(name)),
                    legendgroup=str(name),
                    showlegend=i == 0,
                    mode="lines",
                    line={"width": 1.5, "color": colour},
                )
            )
    # the truth stands out: thicker than the forecasts, drawn over them, first in the legend
    figure.add_trace(
        go.Scatter(
            **_time_x(actual[TS]),
            y=actual["value"],
            name="actual",
            mode="lines",
            legendrank=1,
            line={"color": "rgb(20, 20, 20)", "width": _ACTUAL_WIDTH},
        )
    )
    for cutoff in results["cutoff"].unique():
        figure.add_vline(x=_utc_moment(cutoff), line={"color": "rgba(0,0,0,0.3)", "dash": "dot"})
    figure.update_layout(
        title="Backtest windows: forecasts made at each cutoff (dotted line) against actuals",
        template="plotly_white",
        height=460,
        yaxis_title=html.escape(metric_title(metric)),
        legend={"orientation": "h", "y": -0.22},
    )
    _time_axis(figure)
    return figure


def burn_chart(burn: pd.DataFrame) -> go.Figure:
    """Daily error-budget burn rate per region, its services pooled as
    :func:`capacity.resilience.kpis` pools a group (1 = spending the budget exactly on time).

    Each region has its colour of the other charts (red, the budget line's, only for a tenth):
    plotly's own colours had drawn the second region in the red of the line at 1.
    """
    figure = go.Figure()
    for index, (region, part) in enumerate(burn.groupby(REGION, sort=True)):
        colour = _REGION_COLOURS[index % len(_REGION_COLOURS)]
        figure.add_trace(
            go.Scatter(
                x=part["day"],
                y=part["burn"],
                name=html.escape(str(region)),
                mode="lines+markers",
                line={"color": colour},
                marker={"color": colour},
            )
        )
    figure.add_hline(
        y=1, line={"color": _CAPACITY, "dash": "dash"}, annotation_text="budget spent on schedule"
    )
    figure.update_layout(
        title="Error-budget burn rate by day, last 4 weeks",
        template="plotly_white",
        height=380,
        yaxis_title="burn rate",
        xaxis_title=_UTC_DAY_AXIS,
    )
    return figure
