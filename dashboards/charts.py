"""The dashboard's Plotly figures, built on the server and drawn by static/js/dashboard.js
from JSON that the page embeds with json_script (no inline script: the Content-Security-Policy
forbids them). Stage names reach a chart only as data, which plotly.js sets as text."""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from dashboards.drilldown import Bin
from dashboards.selectors import DesignedRow
from dashboards.templatetags.dashboard_format import duration

# Blue and orange tell apart for every common colour-vision deficiency (Okabe–Ito).
BLUE = "#0072b2"
ORANGE = "#e69f00"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13}


def funnel_figure(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """One bar per tracked stage, in journey order: customers, and the share of the previous
    stage that each bar's customers are."""
    tracked = [s for s in stages if s["tracked"]]
    labels = [f"{s['moment']} · {s['name']}" if s["moment"] else s["name"] for s in tracked]
    figure = go.Figure(
        go.Funnel(
            y=labels,
            x=[s["funnel"] for s in tracked],
            textinfo="value+percent previous",
            customdata=[s["id"] for s in tracked],  # the page opens the stage on a click
            marker={"color": BLUE},
            connector={"line": {"color": "#d0d7de"}},
            hovertemplate=_("%{y}: %{x} customers") + "<extra></extra>",
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
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        font=FONT,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        **layout,
    )


def _for_page(figure: go.Figure, filename: str) -> dict[str, Any]:
    """The figure as the page's module draws it, with the PNG button named after it."""
    figure_json: dict[str, Any] = json.loads(figure.to_json())
    return {
        **figure_json,
        "config": {
            "responsive": True,
            "displaylogo": False,
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoom2d", "pan2d", "autoScale2d"],
            "toImageButtonOptions": {"filename": filename},
        },
    }


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
            hovertemplate=_("%{x}: %{y} customers") + "<extra></extra>",
        )
    )
    _layout(
        figure,
        height=280,
        xaxis={"automargin": True, "fixedrange": True, "tickangle": -35},
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
        legend={"orientation": "h", "y": -0.25},
        xaxis={"automargin": True, "fixedrange": True},
        yaxis={"range": [-2.2, 2.2], "fixedrange": True, "zeroline": True, "dtick": 1},
    )
    return _for_page(figure, "designed-vs-measured")
