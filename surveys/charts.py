"""Plotly charts of survey results, built on the server and drawn in the browser.

A chart leaves here as a figure (plotly's JSON: data, layout and config); the page embeds it
with json_script, a block of type application/json that the browser never executes, and
static/js/charts.js draws it with plotly.js. So the page needs no inline script, and the
Content-Security-Policy forbids them. plotly.js comes from the installed plotly package
(config/static_finders.py), so the page needs no third-party host. Only numbers and score
labels reach a chart; question texts stay in the page's HTML, where they are escaped.
"""

from __future__ import annotations

import json
import math
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from core import numbers
from surveys.models import Question

BRAND = "#0b5cad"
GOOD = "#1a7f37"
NEUTRAL = "#8c959f"
BAD = "#b42318"


def _colour(question_type: str, score: int) -> str:
    """NPS: detractors, passives, promoters; CSAT: 4–5 counts as satisfied; CES: one colour."""
    if question_type == Question.Type.NPS:
        return BAD if score <= 6 else NEUTRAL if score <= 8 else GOOD
    if question_type == Question.Type.RATING:
        return GOOD if score >= 4 else BAD if score <= 2 else NEUTRAL
    return BRAND


def distribution_figure(
    *, question_type: str, scale: tuple[int, int], distribution: dict[int, int]
) -> dict[str, Any]:
    """A bar per score of the scale (empty scores included), as a figure for charts.js."""
    low, high = scale
    scores = list(range(low, high + 1))
    counts = [int(distribution.get(score, 0)) for score in scores]
    figure = go.Figure(
        go.Bar(
            x=[str(score) for score in scores],
            y=counts,
            marker_color=[_colour(question_type, score) for score in scores],
            text=[numbers.whole(n) if n else "" for n in counts],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=_("Score %{x}: %{y}") + "<extra></extra>",
        )
    )
    locale = numbers.plotly_locale()
    figure.update_layout(
        template="none",
        # The page language's decimal point and thousands separator, in ticks and hovers.
        separators=locale["separators"],
        height=260,
        margin={"l": 36, "r": 8, "t": 16, "b": 40},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
        xaxis={"title": {"text": _("Score")}, "type": "category", "fixedrange": True},
        yaxis={
            "title": {"text": _("Answers")},
            "rangemode": "tozero",
            "fixedrange": True,
            # Whole answers only: at most about five gridlines, never a fractional tick.
            "tick0": 0,
            "dtick": max(1, math.ceil(max(counts, default=0) / 5)),
            "gridcolor": "#d0d7de",
        },
        bargap=0.25,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    # to_json, not to_dict: plotly's encoder turns whatever its validators made of the values
    # into plain JSON types. json_script escapes "<", ">" and "&" when the page embeds it.
    figure_json: dict[str, Any] = json.loads(figure.to_json())
    # charts.js registers the locale (plotly.js' month and day names) before drawing.
    config = {"responsive": True, "displayModeBar": False, "locale": locale["name"]}
    return {**figure_json, "config": config, "locale": locale}
