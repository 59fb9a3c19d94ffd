"""Every figure the store dashboard shows, as one CSV table: a row per figure, with the period,
the period compared and when the figures were computed, so that a file read later still says
what it is."""

from __future__ import annotations

import csv
import io
from typing import Any

from core.csv_safety import csv_cell
from dashboards.selectors import Dashboard
from dashboards.trends import Trends

HEADER = [
    "section",
    "stage_id",
    "moment",
    "stage",
    "figure",
    "value",
    "successes",
    "total",
    "low",
    "high",
    "previous_value",
    "change",
    "p_value",
    "significant",
    "period_start",
    "period_end",
    "complete",
    "computed_at",
]


def _proportion(value: Any) -> list[Any]:
    if not value:
        return [None, None, None, None, None]
    return [value["value"], value["successes"], value["total"], value["low"], value["high"]]


def _stage_rows(stage: dict[str, Any]) -> list[tuple[str, list[Any], Any, Any]]:
    """(figure, [value, successes, total, low, high], previous value, change) per figure."""
    previous = stage.get("previous") or {}
    changes = stage.get("changes") or {}
    rows: list[tuple[str, list[Any], Any, Any]] = []
    for name in ("reached", "funnel", "median_seconds_to_convert", "p90_seconds_to_convert"):
        rows.append(
            (name, [stage[name], None, None, None, None], previous.get(name), changes.get(name))
        )
    conversion = stage.get("conversion")
    rows.append(
        (
            "conversion",
            _proportion(conversion),
            (previous.get("conversion") or {}).get("value"),
            changes.get("conversion"),
        )
    )
    # (figure, the survey metric, its headline field, the value's key)
    surveys = (
        ("csat_share", "csat", "share", None),
        ("csat_mean", "csat", "mean", "mean"),
        ("nps", "nps", "score", "score"),
        ("ces_mean", "ces", "mean", "mean"),
    )
    for figure, metric, field, key in surveys:
        sample = stage.get(metric)
        if not sample or not sample.get("count"):
            continue
        before = (previous.get(metric) or {}).get(field)
        numbers = (
            _proportion(sample[field])
            if key is None
            else [sample[key], None, sample["count"], None, None]
        )
        rows.append(
            (
                figure,
                numbers,
                (before or {}).get("value") if key is None else before,
                (changes.get(metric) or {}).get(field),
            )
        )
    return rows


def dashboard_csv(dashboard: Dashboard, trends: Trends) -> str:
    body = dashboard.body
    computed_at = body.get("computed_at", "")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)

    def write(
        section: str,
        stage: tuple[Any, Any, Any],  # id, moment, name
        figure: str,
        numbers: list[Any],  # value, successes, total, low, high
        span: tuple[Any, Any, Any],  # start, end, complete
        previous: Any = None,
        change: dict[str, Any] | None = None,
    ) -> None:
        change = change or {}
        tested = [change.get("change"), change.get("p_value"), change.get("significant")]
        values = [section, *stage, figure, *numbers, previous, *tested, *span, computed_at]
        writer.writerow([csv_cell(v) for v in values])

    period = (body["start"], body["end"], body["complete"])
    for stage in dashboard.stages:
        names = (stage["id"], stage["moment"], stage["name"])
        if not stage["tracked"]:
            write("funnel", names, "tracked", [False, None, None, None, None], period)
            continue
        for figure, numbers, previous, change in _stage_rows(stage):
            write("funnel", names, figure, numbers, period, previous, change)
    for row in dashboard.designed_vs_measured():
        names = (row.stage_id, None, row.label)
        write(
            "designed_vs_measured", names, "designed_emotion", [row.designed, *[None] * 4], period
        )
        measured = [row.measured, None, row.answers, None, None]
        write("designed_vs_measured", names, "measured_csat_mean_minus_3", measured, period)
    section = f"trend_{trends.grain}"
    stages = {s["id"]: (s["id"], s["moment"], s["name"]) for s in trends.stages}
    for p in trends.periods:
        start, end = p.start.isoformat(), p.end.isoformat()
        for stage_id, proportion in p.conversion.items():
            numbers = _proportion(proportion.as_dict() if proportion else None)
            write(section, stages[stage_id], "conversion", numbers, (start, end, p.complete))
        for stage_id, proportion in p.csat.items():
            if proportion is not None:
                numbers = _proportion(proportion.as_dict())
                write(section, stages[stage_id], "csat_share", numbers, (start, end, p.ended))
        store = (None, None, None)
        bounce, retention = p.bounce.as_dict(), p.retention.as_dict()
        write(section, store, "bounce_rate", _proportion(bounce), (start, end, p.ended))
        span = (start, end, p.retention_complete)
        write(section, store, "retention", _proportion(retention), span)
    return buffer.getvalue()
