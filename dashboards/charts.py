"""The dashboard's Plotly figures, built on the server and drawn by static/js/dashboard.js
from JSON that the page embeds with json_script (no inline script: the Content-Security-Policy
forbids them). Stage names reach a chart only as data, which plotly.js sets as text."""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _

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
            marker={"color": BLUE},
            connector={"line": {"color": "#d0d7de"}},
            hovertemplate=_("%{y}: %{x} customers") + "<extra></extra>",
        )
    )
    figure.update_layout(
        template="none",
        height=max(220, 70 * len(tracked) + 40),
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        font=FONT,
        yaxis={"automargin": True, "fixedrange": True},
        xaxis={"fixedrange": True},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    figure_json: dict[str, Any] = json.loads(figure.to_json())
    return {
        **figure_json,
        "config": {
            "responsive": True,
            "displaylogo": False,
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoom2d", "pan2d", "autoScale2d"],
            "toImageButtonOptions": {"filename": "funnel"},
        },
    }
