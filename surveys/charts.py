"""Plotly charts of survey results, built on the server and embedded as HTML fragments.

The page loads plotly.js itself, from the installed plotly package (config/static_finders.py),
so a fragment carries no script library and the page needs no third-party host. Only numbers
and score labels reach a chart; question texts stay in the page's HTML, where they are escaped.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

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


def distribution_chart(
    *, question_type: str, scale: tuple[int, int], distribution: dict[int, int], div_id: str
) -> SafeString:
    """A bar per score of the scale (empty scores included), as an embeddable <div>."""
    low, high = scale
    scores = list(range(low, high + 1))
    counts = [int(distribution.get(score, 0)) for score in scores]
    figure = go.Figure(
        go.Bar(
            x=[str(score) for score in scores],
            y=counts,
            marker_color=[_colour(question_type, score) for score in scores],
            text=[str(n) if n else "" for n in counts],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=_("Score %{x}: %{y}") + "<extra></extra>",
        )
    )
    figure.update_layout(
        template="none",
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
    # plotly escapes "<" and "/" in the JSON it embeds, so no value can end the script early.
    html = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        default_height="260px",
        config={"responsive": True, "displayModeBar": False},
    )
    return mark_safe(html)  # noqa: S308 - built here from numbers and translated labels
