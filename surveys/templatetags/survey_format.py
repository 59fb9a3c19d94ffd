"""How survey numbers read on the pages: "72.0 % (58.1–83.0 %)", always with n beside a rate,
with the active language's separators ("72,0 % (58,1–83,0 %)" in Lithuanian, core.numbers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

from core import numbers

register = template.Library()

NONE = numbers.NONE


@register.filter
def percent(value: Any) -> str:
    """A share from 0 to 1 as a percentage with one decimal: 0.6 → "60.0 %" ("60,0 %")."""
    return numbers.percent(value)


@register.filter
def interval(proportion: dict[str, Any] | None) -> str:
    """The 95 % Wilson interval of a proportion dict: "(58.1–83.0 %)"."""
    if not proportion or proportion.get("low") is None:
        return ""
    low = numbers.fixed(proportion["low"] * 100, 1)
    high = numbers.fixed(proportion["high"] * 100, 1)
    return f"({low}–{high} %)"


@register.filter
def mean(value: Any) -> str:
    return NONE if value is None else numbers.fixed(float(value), 2)


@register.filter
def signed(value: Any) -> str:
    """An NPS from −100 to +100 with its sign and one decimal."""
    if value is None:
        return NONE
    return numbers.signed(float(value), 1)


@register.simple_tag
def rate(proportion: dict[str, Any] | None) -> SafeString:
    """A proportion with its interval and n: 72.0 % (58.1–83.0 %) n = 50."""
    if not proportion or not proportion.get("total"):
        return format_html(
            '<span class="rate"><span class="rate-value">{}</span> '
            '<span class="rate-n">n = 0</span></span>',
            NONE,
        )
    return format_html(
        '<span class="rate"><span class="rate-value">{}</span> '
        '<span class="rate-interval">{}</span> <span class="rate-n">n = {}</span></span>',
        percent(proportion["value"]),
        interval(proportion),
        numbers.whole(proportion["total"]),
    )


@register.simple_tag
def sample(count: int | None) -> SafeString:
    """The sample size beside a figure: n = 12."""
    return format_html('<span class="rate-n">n = {}</span>', numbers.whole(count or 0))


@register.simple_tag
def mean_of(value: Any, top: int) -> str:
    """A mean on its scale: 3.40 / 5."""
    return f"{mean(value)} / {top}"


@register.filter
def hours(value: timedelta | None) -> str:
    """A survey's delay in whole hours: "720 hours"."""
    if value is None:
        return NONE
    count = int(value.total_seconds() // 3600)
    return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}
