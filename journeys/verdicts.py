"""An experiment's stored result in plain words, and its figures as a reader sees them (shares
in %, NPS in points, CES as a mean). The result itself is computed by the metrics app."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import numbers
from journeys.models import Experiment

SHARES = {
    Experiment.Metric.CONVERSION,
    Experiment.Metric.CSAT,
    Experiment.Metric.BOUNCE_RATE,
    Experiment.Metric.RETENTION,
}


def _counted(counted: str, n: int) -> str:
    if counted == "answers":
        return ngettext("%(n)s more answer", "%(n)s more answers", n) % {"n": numbers.whole(n)}
    if counted == "sessions":
        return ngettext("%(n)s more session", "%(n)s more sessions", n) % {"n": numbers.whole(n)}
    if counted == "first_buyers":
        return ngettext("%(n)s more first-time buyer", "%(n)s more first-time buyers", n) % {
            "n": numbers.whole(n)
        }
    return ngettext("%(n)s more customer", "%(n)s more customers", n) % {"n": numbers.whole(n)}


def verdict_text(experiment: Experiment) -> str:
    result = experiment.result
    if not result:
        return _("Not computed yet: the result appears within a minute or two.")
    verdict = result.get("verdict")
    if verdict == "unmeasurable":
        if result.get("reason") == "stage_without_conversion":
            return _(
                "This stage has no conversion to measure: it is not tracked, or it is the "
                "first tracked stage of the journey."
            )
        return _("The store has no active journey to measure this with.")
    if verdict == "waiting":
        return _("Waiting for data: the after window starts the day after the go-live day.")
    if verdict == "no_data":
        return _("No data in one of the windows yet.")
    if verdict == "improved":
        text = _("Improved.")
    elif verdict == "worse":
        text = _("Worse.")
    else:
        more = result.get("more_per_window")
        if more is None:
            text = _("No detectable change: the two windows are alike.")
        elif more == 0:
            text = _(
                "No detectable change: the windows were large enough to see a change of "
                "this size, so the change is probably smaller."
            )
        elif result.get("complete"):
            text = _(
                "No detectable change — about %(more)s per window would have been needed to "
                "see a change of this size."
            ) % {"more": _counted(result.get("counted", "customers"), more)}
        else:
            text = _(
                "No detectable change yet — about %(more)s per window are needed to see a "
                "change of this size."
            ) % {"more": _counted(result.get("counted", "customers"), more)}
    if not result.get("complete"):
        text += " " + _("The after window is still running: this may change.")
    return text


def figure(metric: str, value: float | None, *, signed: bool = False) -> str:
    """A window's value or a difference, in the metric's unit."""
    if value is None:
        return "—"
    if metric in SHARES:
        if signed:
            return f"{numbers.signed(value * 100, 1, minus='-')} pp"
        return f"{numbers.fixed(value * 100, 1)} %"
    places = 1 if metric == Experiment.Metric.NPS else 2
    return numbers.signed(value, places, minus="-") if signed else numbers.fixed(value, places)


def p_text(p_value: float | None) -> str:
    """A p-value as read beside a difference: "p = 0.175"; one under 0.001 as "p < 0.001"
    (three decimals would print it as 0.000, which reads as no chance at all)."""
    if p_value is None:
        return "—"
    if p_value < 0.001:
        return f"p < {numbers.fixed(0.001, 3)}"
    return f"p = {numbers.fixed(p_value, 3)}"


def result_rows(experiment: Experiment) -> dict[str, Any] | None:
    """The result's figures formatted for the page: before, after, difference."""
    result = experiment.result
    if not result or "before" not in result:
        return None
    metric = experiment.metric

    def window(part: dict[str, Any] | None) -> dict[str, Any] | None:
        if part is None:
            return None
        return {
            **part,
            # The windows' days, stored as ISO text, as days for the page's date format.
            "start": date.fromisoformat(part["start"]) if part.get("start") else None,
            "end": date.fromisoformat(part["end"]) if part.get("end") else None,
            "n": numbers.whole(part["n"]) if part.get("n") is not None else None,
            "value_text": figure(metric, part.get("value")),
            "interval_text": (
                f"{figure(metric, part['low'])} – {figure(metric, part['high'])}"
                if part.get("low") is not None
                else "—"
            ),
        }

    difference = result.get("difference")
    return {
        "before": window(result["before"]),
        "after": window(result.get("after")),
        "difference": (
            {
                **difference,
                "value_text": figure(metric, difference.get("value"), signed=True),
                "interval_text": (
                    f"{figure(metric, difference['low'], signed=True)} – "
                    f"{figure(metric, difference['high'], signed=True)}"
                    if difference.get("low") is not None
                    else "—"
                ),
                "p_text": p_text(difference.get("p_value")),
            }
            if difference
            else None
        ),
    }
