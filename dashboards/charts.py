"""The dashboard's Plotly figures, built on the server and drawn by static/js/dashboard.js
from JSON that the page embeds with json_script (no inline script: the Content-Security-Policy
forbids them). Stage names reach a chart only as data, which plotly.js sets as text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core import numbers
from core.stats import Proportion
from dashboards.drilldown import Bin
from dashboards.labels import stage_label
from dashboards.selectors import DesignedRow
from dashboards.templatetags.dashboard_format import duration
from dashboards.trends import TrendMarker, Trends

# Blue and orange tell apart for every common colour-vision deficiency (Okabe–Ito).
BLUE = "#0072b2"
ORANGE = "#e69f00"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13}
# Above the plot: below it, a legend lands on the x axis' labels once they are rotated (long
# stage names, a year of weeks), which is every chart on a phone.
LEGEND_ABOVE = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}


def _bar_text(stage: dict[str, Any], *, first: bool) -> str:
    conversion = stage.get("conversion")
    share = 1.0 if first else (conversion or {}).get("value")
    return f"{numbers.whole(stage['funnel'])}<br>{numbers.percent(share, 0)}"


def funnel_figure(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """One bar per tracked stage, in journey order: customers, and the share of the previous
    stage that each bar's customers are."""
    tracked = [s for s in stages if s["tracked"]]
    labels = [stage_label(s["moment"], s["name"]) for s in tracked]
    figure = go.Figure(
        go.Funnel(
            y=labels,
            x=[s["funnel"] for s in tracked],
            # The customers and the share of the bar before, written as the page writes them
            # ("1 987", "87 %" in Lithuanian): plotly's own percent has no space before "%".
            text=[_bar_text(stage, first=i == 0) for i, stage in enumerate(tracked)],
            texttemplate="%{text}",
            customdata=[s["id"] for s in tracked],  # the page opens the stage on a click
            marker={"color": BLUE},
            connector={"line": {"color": "#d0d7de"}},
            hovertemplate=_("%{y}: %{x} customers").replace("%{x}", "%{x:,}") + "<extra></extra>",
        )
    )
    _layout(
        figure,
        height=max(220, 70 * len(tracked) + 40),
        yaxis={"automargin": True, "fixedrange": True},
        xaxis={"fixedrange": True},
    )
    return _for_page(figure, "funnel")


def _layout(figure: go.Figure, **layout: Any) -> None:
    figure.update_layout(
        template="none",
        # The page language's decimal point and thousands separator, in ticks and hovers.
        separators=numbers.plotly_locale()["separators"],
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        font=FONT,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        **layout,
    )


def _for_page(figure: go.Figure, filename: str) -> dict[str, Any]:
    """The figure as the page's module draws it, with one button of plotly's mode bar: the
    PNG download, named after the chart (the pages' Content-Security-Policy allows the data:
    images it draws through). Not its "Share chart" button, which would offer to upload a
    store's figures to Plotly's cloud. The numbers are in the table under each chart."""
    figure_json: dict[str, Any] = json.loads(figure.to_json())
    locale = numbers.plotly_locale()
    config = {
        "locale": locale["name"],
        "responsive": True,
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {"filename": filename, "scale": 2},
    }
    # dashboard.js registers the locale (month and day names for date axes) before drawing.
    return {**figure_json, "config": config, "locale": locale}


def bin_label(low: int, high: int) -> str:
    """A histogram bin in human units: "1 min – 5 min"."""
    return f"{duration(low)} – {duration(high)}"


def histogram_figure(bins: list[Bin]) -> dict[str, Any]:
    """Customers by time to convert from the stage before, in bins from a minute to the
    window."""
    figure = go.Figure(
        go.Bar(
            x=[bin_label(b.low, b.high) for b in bins],
            y=[b.count for b in bins],
            marker={"color": BLUE},
            hovertemplate=_("%{x}: %{y} customers").replace("%{y}", "%{y:,}") + "<extra></extra>",
        )
    )
    _layout(
        figure,
        height=280,
        # plotly turns the labels as far as they need (0, 30 or 90 degrees): a fixed angle
        # lets fifteen bins' labels run into each other on a phone.
        xaxis={"automargin": True, "fixedrange": True},
        yaxis={"automargin": True, "fixedrange": True, "rangemode": "tozero"},
    )
    return _for_page(figure, "time-to-convert")


def designed_figure(rows: list[DesignedRow]) -> dict[str, Any]:
    """The map's designed emotion per stage beside the customers' measured satisfaction
    (CSAT mean − 3), on one −2..+2 axis."""
    labels = [r.label for r in rows]
    figure = go.Figure(
        [
            go.Bar(
                name=_("Designed emotion"),
                x=labels,
                y=[r.designed for r in rows],
                marker={"color": ORANGE, "pattern": {"shape": "/"}},
                hovertemplate="%{x}: %{y:+.2f}<extra>" + _("designed") + "</extra>",
            ),
            go.Bar(
                name=_("Measured (CSAT mean − 3)"),
                x=labels,
                y=[r.measured for r in rows],
                marker={"color": BLUE},
                hovertemplate="%{x}: %{y:+.2f}<extra>" + _("measured") + "</extra>",
            ),
        ]
    )
    _layout(
        figure,
        height=320,
        barmode="group",
        legend=LEGEND_ABOVE,
        xaxis={"automargin": True, "fixedrange": True},
        yaxis={
            "automargin": True,
            "range": [-2.2, 2.2],
            "fixedrange": True,
            "zeroline": True,
            "dtick": 1,
        },
    )
    return _for_page(figure, "designed-vs-measured")


# --- Trends

# Okabe–Ito, in an order where neighbours stay apart for every common colour-vision deficiency.
SERIES_COLOURS = (BLUE, ORANGE, "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")


@dataclass
class TrendChart:
    """A chart over the periods, and its table: a row per period, a column per series."""

    key: str
    title: str
    figure: dict[str, Any]
    columns: list[str]
    rows: list[list[str]]


def _share(value: float | None) -> str:
    return numbers.percent(value)


def _experiment_markers(figure: go.Figure, markers: list[TrendMarker], labels: list[str]) -> None:
    """A dotted vertical line at the period of each experiment's go-live day, labelled with
    its title (plotly.js sets it as text); the hover gives the day and the stage. A label
    runs towards the middle of the chart (rightwards in its left half, leftwards in its right
    half), so that it stays over the periods on a phone's narrow chart."""
    for i, marker in enumerate(markers):
        position = labels.index(marker.label) if marker.label in labels else 0
        figure.add_shape(
            type="line",
            xref="x",
            yref="paper",
            x0=marker.label,
            x1=marker.label,
            y0=0,
            y1=1,
            line={"color": "#555555", "width": 1, "dash": "dot"},
        )
        figure.add_annotation(
            x=marker.label,
            xref="x",
            yref="paper",
            y=1 - 0.08 * (i % 3),  # neighbours stagger instead of overlapping
            text=marker.title[:40],
            hovertext=(
                f"{date_format(marker.day, 'SHORT_DATE_FORMAT')} · {marker.stage} · {marker.title}"
            ),
            showarrow=False,
            xanchor="left" if position < len(labels) / 2 else "right",
            font={"size": 11, "color": "#555555"},
        )


# Steps between the share axis' ticks, the first that gives at most six of them.
SHARE_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25)


def _share_ticks(values: list[float]) -> dict[str, Any]:
    """A share axis' ticks from 0 past the largest value, labelled as the page writes shares
    ("40 %" in every language; plotly.js would write "40%")."""
    top = max([*values, 0.01])
    step = next((s for s in SHARE_STEPS if top / s <= 5), 0.25)
    count = int(top / step + 0.999999) + 1
    ticks = [round(step * i, 4) for i in range(count)]
    return {"tickvals": ticks, "ticktext": [numbers.percent(t, 0) for t in ticks]}


def _trend_chart(
    key: str,
    title: str,
    labels: list[str],
    series: list[tuple[str, list[float | None], list[bool]]],
    markers: Sequence[TrendMarker] = (),
    *,
    monthly: bool = False,
) -> TrendChart:
    """Lines of shares over the periods; an open marker where the period is still open; a
    dotted line where an experiment went live. Months ("2026-01") are a date axis, so that
    plotly.js names them in the page's language (the locale _for_page carries); ISO weeks
    ("2026-W01") stay categories."""
    traces = [
        go.Scatter(
            name=name,
            x=labels,
            y=values,
            mode="lines+markers",
            connectgaps=False,
            cliponaxis=False,  # the first and last periods' markers whole at the axis' ends
            line={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)], "dash": DASHES[i % 4]},
            marker={
                "symbol": ["circle" if done else "circle-open" for done in complete],
                "size": 8,
            },
            # The share as the page writes it ("43,5 %"): plotly.js's own percent is "43.5%".
            customdata=[numbers.percent(value) for value in values],
            hovertemplate=("%{x|%B %Y}" if monthly else "%{x}")
            + ": %{customdata}<extra>%{fullData.name}</extra>",
        )
        for i, (name, values, complete) in enumerate(series)
    ]
    figure = go.Figure(traces)
    # The periods and nothing else: plotly.js widens an axis it ranges itself to fit the
    # annotations' text, which took a third of a phone's chart for a marker's label.
    xaxis: dict[str, Any] = {
        "automargin": True,
        "fixedrange": True,
        "type": "category",
        "range": [-0.5, len(labels) - 0.5],
    }
    if monthly and labels:
        first = date.fromisoformat(f"{labels[0]}-01") - timedelta(days=15)
        last = date.fromisoformat(f"{labels[-1]}-01") + timedelta(days=15)
        xaxis.update(
            type="date",
            tickformat="%b %Y",
            dtick="M1",
            range=[first.isoformat(), last.isoformat()],
        )
    _layout(
        figure,
        height=320,
        legend=LEGEND_ABOVE,
        xaxis=xaxis,
        yaxis={
            "automargin": True,
            "rangemode": "tozero",
            "fixedrange": True,
            **_share_ticks([v for _, values, _ in series for v in values if v is not None]),
        },
    )
    _experiment_markers(figure, list(markers), labels)
    rows = []
    for p, label in enumerate(labels):
        open_marks = [not complete[p] for _name, _values, complete in series]
        row = [label + (" *" if any(open_marks) else "")]
        row += [_share(values[p]) for _name, values, _complete in series]
        rows.append(row)
    return TrendChart(
        key=key,
        title=title,
        figure=_for_page(figure, key),
        columns=[name for name, _values, _complete in series],
        rows=rows,
    )


DASHES = ("solid", "dash", "dot", "dashdot")


def trend_charts(trends: Trends) -> list[TrendChart]:
    """Conversion per stage, CSAT per stage, and the bounce rate with repeat-purchase
    retention, over the stored weeks or months."""
    periods = trends.periods
    if not periods:
        return []
    labels = [p.label for p in periods]
    monthly = trends.grain == "month"
    complete = [p.complete for p in periods]
    converting = [s for s in trends.stages if s["tracked"] and not s["first"]]
    charts = [
        _trend_chart(
            "trend-conversion",
            _("Conversion from the stage before"),
            labels,
            [
                (s["label"], [_value(p.conversion.get(s["id"])) for p in periods], complete)
                for s in converting
            ],
            trends.markers,
            monthly=monthly,
        )
    ]
    answered = [s for s in trends.stages if any(p.csat.get(s["id"]) for p in periods)]
    if answered:
        charts.append(
            _trend_chart(
                "trend-csat",
                _("CSAT (share of 4 and 5)"),
                labels,
                [
                    (s["label"], [_value(p.csat.get(s["id"])) for p in periods], complete)
                    for s in answered
                ],
                trends.markers,
                monthly=monthly,
            )
        )
    charts.append(
        _trend_chart(
            "trend-store",
            _("Bounce rate and repeat-purchase retention"),
            labels,
            [
                (_("Bounce rate"), [p.bounce.value for p in periods], [p.ended for p in periods]),
                (
                    _("Retention"),
                    [p.retention.value for p in periods],
                    [p.retention_complete for p in periods],
                ),
            ],
            trends.markers,
            monthly=monthly,
        )
    )
    return charts


def _value(proportion: Proportion | None) -> float | None:
    return proportion.value if proportion is not None else None
