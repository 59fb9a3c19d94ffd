"""Exports of a journey map: CSV of touchpoints and an SVG picture of the map."""

from __future__ import annotations

import csv
import io

from django.template.loader import render_to_string

from core.csv_safety import csv_cell
from journeys.models import Journey

CSV_COLUMNS = [
    "stage_position",
    "stage",
    "moment",
    "touchpoint_position",
    "touchpoint",
    "channel",
    "is_moment_of_truth",
    "emotion",
    "pain_points",
    "opportunities",
    "owner",
    "event_names",
]


def journey_touchpoints_csv(*, journey: Journey) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for s_index, stage in enumerate(journey.stages.all(), start=1):
        for t_index, tp in enumerate(stage.touchpoints.all(), start=1):
            writer.writerow(
                [
                    csv_cell(v)
                    for v in (
                        s_index,
                        stage.name,
                        stage.moment,
                        t_index,
                        tp.name,
                        tp.channel,
                        "yes" if tp.is_moment_of_truth else "no",
                        tp.emotion,
                        tp.pain_points,
                        tp.opportunities,
                        tp.owner.email if tp.owner else "",
                        " ".join(tp.event_names),
                    )
                ]
            )
    return out.getvalue()


# Layout of the SVG picture, in px.
COLUMN_WIDTH = 220
COLUMN_GAP = 16
CARD_HEIGHT = 64
CARD_GAP = 10
HEADER_HEIGHT = 70
CURVE_HEIGHT = 120
MARGIN = 20


def journey_map_svg(*, journey: Journey) -> str:
    """A standalone SVG of the map: stage columns, touchpoint cards with moment-of-truth
    markers, and the designed-emotion curve across the touchpoints."""
    stages = list(journey.stages.all())
    columns = []
    points = []
    tallest = 0
    for index, stage in enumerate(stages):
        x = MARGIN + index * (COLUMN_WIDTH + COLUMN_GAP)
        cards = []
        touchpoints = list(stage.touchpoints.all())
        for t_index, tp in enumerate(touchpoints):
            y = MARGIN + HEADER_HEIGHT + t_index * (CARD_HEIGHT + CARD_GAP)
            cards.append({"touchpoint": tp, "x": x + 8, "y": y, "width": COLUMN_WIDTH - 16})
        tallest = max(tallest, len(touchpoints))
        columns.append({"stage": stage, "x": x, "cards": cards})
        slots = max(len(touchpoints), 1)
        for t_index, tp in enumerate(touchpoints):
            points.append((x + (t_index + 0.5) * COLUMN_WIDTH / slots, tp.emotion))
    cards_bottom = MARGIN + HEADER_HEIGHT + tallest * (CARD_HEIGHT + CARD_GAP)
    curve_top = cards_bottom + 30
    curve_middle = curve_top + CURVE_HEIGHT / 2
    scale = CURVE_HEIGHT / 4  # emotion -2..+2 spans the curve's height
    curve = [(round(px, 1), round(curve_middle - e * scale, 1)) for px, e in points]
    width = MARGIN * 2 + max(len(stages), 1) * (COLUMN_WIDTH + COLUMN_GAP)
    height = curve_top + CURVE_HEIGHT + MARGIN + 20
    for column in columns:
        column["height"] = cards_bottom - MARGIN
    return render_to_string(
        "journeys/map.svg",
        {
            "journey": journey,
            "columns": columns,
            "width": width,
            "height": height,
            "column_width": COLUMN_WIDTH,
            "card_height": CARD_HEIGHT,
            "curve_points": " ".join(f"{x},{y}" for x, y in curve),
            "curve_dots": curve,
            "curve_top": curve_top,
            "curve_middle": curve_middle,
            "curve_bottom": curve_top + CURVE_HEIGHT,
            "curve_label_y": curve_top - 8,
            "margin": MARGIN,
        },
    )
