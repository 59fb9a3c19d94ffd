"""How survey numbers read on the pages: "72.0 % (58.1–83.0 %)", always with n beside a rate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

register = template.Library()

NONE = "—"


@register.filter
def percent(value: Any) -> str:
    """A share from 0 to 1 as a percentage with one decimal: 0.6 → "60.0 %"."""
    if value is None or value == "":
        return NONE
    return f"{float(value) * 100:.1f} %"


@register.filter
def interval(proportion: dict[str, Any] | None) -> str:
    """The 95 % Wilson interval of a proportion dict: "(58.1–83.0 %)"."""
    if not proportion or proportion.get("low") is None:
        return ""
    return f"({proportion['low'] * 100:.1f}–{proportion['high'] * 100:.1f} %)"


@register.filter
def mean(value: Any) -> str:
    return NONE if value is None else f"{float(value):.2f}"


@register.filter
def signed(value: Any) -> str:
    """An NPS from −100 to +100 with its sign and one decimal."""
    if value is None:
        return NONE
    number = float(value)
    if number > 0:
        return f"+{number:.1f}"
    if number < 0:
        return f"−{abs(number):.1f}"
    return "0.0"


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
        proportion["total"],
    )


@register.simple_tag
def sample(count: int | None) -> SafeString:
    """The sample size beside a figure: n = 12."""
    return format_html('<span class="rate-n">n = {}</span>', count or 0)


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
