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
    csat, nps, ces = stage.get("csat"), stage.get("nps"), stage.get("ces")
    before_csat, before_nps, before_ces = (
        previous.get("csat") or {},
        previous.get("nps") or {},
        previous.get("ces") or {},
    )
    change_csat, change_nps, change_ces = (
        changes.get("csat") or {},
        changes.get("nps") or {},
        changes.get("ces") or {},
    )
    if csat and csat.get("count"):
        rows.append(
            (
                "csat_share",
                _proportion(csat["share"]),
                (before_csat.get("share") or {}).get("value"),
                change_csat.get("share"),
            )
        )
        rows.append(
            (
                "csat_mean",
                [csat["mean"], None, csat["count"], None, None],
                before_csat.get("mean"),
                change_csat.get("mean"),
            )
        )
    if nps and nps.get("count"):
        rows.append(
            (
                "nps",
                [nps["score"], None, nps["count"], None, None],
                before_nps.get("score"),
                change_nps.get("score"),
            )
        )
    if ces and ces.get("count"):
        rows.append(
            (
                "ces_mean",
                [ces["mean"], None, ces["count"], None, None],
                before_ces.get("mean"),
                change_ces.get("mean"),
            )
        )
    return rows


def dashboard_csv(dashboard: Dashboard, trends: Trends) -> str:
    body = dashboard.body
    computed_at = body.get("computed_at", "")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)

    def write(values: list[Any]) -> None:
        writer.writerow([csv_cell(v) for v in values])

    for stage in dashboard.stages:
        common = [stage["id"], stage["moment"], stage["name"]]
        if not stage["tracked"]:
            write(["funnel", *common, "tracked", False, *[None] * 12])
            continue
        for figure, numbers, previous, change in _stage_rows(stage):
            change = change or {}
            write(
                [
                    "funnel",
                    *common,
                    figure,
                    *numbers,
                    previous,
                    change.get("change"),
                    change.get("p_value"),
                    change.get("significant"),
                    body["start"],
                    body["end"],
                    body["complete"],
                    computed_at,
                ]
            )
    for row in dashboard.designed_vs_measured():
        for figure, value in (
            ("designed_emotion", row.designed),
            ("measured_csat_mean_minus_3", row.measured),
        ):
            write(
                [
                    "designed_vs_measured",
                    row.stage_id,
                    None,
                    row.label,
                    figure,
                    value,
                    None,
                    row.answers if figure.startswith("measured") else None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    body["start"],
                    body["end"],
                    body["complete"],
                    computed_at,
                ]
            )
    labels = {s["id"]: s for s in trends.stages}
    for period in trends.periods:
        span = [period.start.isoformat(), period.end.isoformat()]
        for stage_id, proportion in period.conversion.items():
            stage = labels[stage_id]
            write(
                [
                    f"trend_{trends.grain}",
                    stage_id,
                    stage["moment"],
                    stage["name"],
                    "conversion",
                    *_proportion(proportion.as_dict() if proportion else None),
                    None,
                    None,
                    None,
                    None,
                    *span,
                    period.complete,
                    computed_at,
                ]
            )
        for stage_id, proportion in period.csat.items():
            if proportion is None:
                continue
            stage = labels[stage_id]
            write(
                [
                    f"trend_{trends.grain}",
                    stage_id,
                    stage["moment"],
                    stage["name"],
                    "csat_share",
                    *_proportion(proportion.as_dict()),
                    None,
                    None,
                    None,
                    None,
                    *span,
                    period.ended,
                    computed_at,
                ]
            )
        write(
            [
                f"trend_{trends.grain}",
                None,
                None,
                None,
                "bounce_rate",
                *_proportion(period.bounce.as_dict()),
                None,
                None,
                None,
                None,
                *span,
                period.ended,
                computed_at,
            ]
        )
        write(
            [
                f"trend_{trends.grain}",
                None,
                None,
                None,
                "retention",
                *_proportion(period.retention.as_dict()),
                None,
                None,
                None,
                None,
                *span,
                period.retention_complete,
                computed_at,
            ]
        )
    return buffer.getvalue()
