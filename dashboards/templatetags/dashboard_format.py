"""How the dashboard writes its figures."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """Whole units a reader takes in at once: "2 d 4 h", "3 h 20 min", "12 min", "40 s"."""
    if seconds is None or seconds == "":
        return "—"
    total = round(float(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        if not hours:
            return _("%(d)s d") % {"d": days}
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        if not minutes:
            return _("%(h)s h") % {"h": hours}
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)s min") % {"m": minutes}
    return _("%(s)s s") % {"s": secs}


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None or value == "" else f"{float(value) * 100:.1f} %"


@register.filter
def points(value: float | None) -> str:
    """A change in percentage points, signed."""
    return "—" if value is None or value == "" else f"{float(value) * 100:+.1f} pp"


@register.filter
def signed(value: Any) -> str:
    """A signed number: whole as whole (+6), else to two decimals (−16.67, +0.5)."""
    if value is None or value == "":
        return "—"
    number = round(float(value), 2)
    return f"{number:+.0f}" if number == int(number) else f"{number:+g}"


@register.filter
def dropoff(value: float | None) -> str:
    return "—" if value is None or value == "" else f"{(1 - float(value)) * 100:.1f} %"


@register.filter
def interval_of(result: Any, kind: str) -> str:
    """A stage's NPS or CES interval as "(low–high)", "" when there is none."""
    from surveys.stats import survey_interval

    bounds = survey_interval(kind=kind, result=result) if isinstance(result, dict) else None
    if bounds is None:
        return ""
    low, high = bounds
    digits = 1 if kind == "nps" else 2
    return f"({low:.{digits}f}–{high:.{digits}f})"
