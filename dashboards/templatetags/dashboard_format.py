"""How the dashboard writes its figures, with the active language's separators (core.numbers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _

from core import numbers

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
    return numbers.percent(value)


@register.filter
def points(value: float | None) -> str:
    """A change in percentage points, signed."""
    if value is None or value == "":
        return "—"
    return f"{numbers.signed(float(value) * 100, 1, minus='-')} pp"


@register.filter
def signed(value: Any) -> str:
    """A signed number: whole as whole (+6), else to two decimals (−16.67, +0.5)."""
    if value is None or value == "":
        return "—"
    number = round(float(value), 2)
    if number == int(number):
        return numbers.signed(number, 0, minus="-") if number else "+0"
    exponent = Decimal(str(number)).normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return numbers.signed(number, places, minus="-")


@register.filter
def dropoff(value: float | None) -> str:
    return "—" if value is None or value == "" else numbers.percent(1 - float(value))


@register.filter
def interval_of(result: Any, kind: str) -> str:
    """A stage's NPS or CES interval as "(low–high)", "" when there is none."""
    from surveys.stats import survey_interval

    bounds = survey_interval(kind=kind, result=result) if isinstance(result, dict) else None
    if bounds is None:
        return ""
    low, high = bounds
    digits = 1 if kind == "nps" else 2
    return f"({numbers.fixed(low, digits)}–{numbers.fixed(high, digits)})"
