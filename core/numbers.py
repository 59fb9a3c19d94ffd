"""Figures as the active language writes them: "72,0 %" and "5 000" in Lithuanian, "72.0 %"
and "5,000" in English, "5.000" in Romanian.

Everything goes through Django's number_format, so the separators come from the language's
formats (Django's, with this product's overrides in config/formats). Grouping is forced here
rather than by USE_THOUSAND_SEPARATOR, which would also group every id and count a template
prints into an attribute or a URL. For pages and emails only: CSV and the API keep bare
numbers with a dot.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import formats, translation
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS, WEEKDAYS_ABBR

NONE = "—"
MINUS = "−"  # U+2212, the typographic minus


def fixed(value: float | Decimal, places: int) -> str:
    """`value` rounded to `places` decimals (as Python's format would round it), written with
    the language's decimal and thousands separators: 1234.5, 1 → "1 234,5" in Lithuanian."""
    # number_format cuts a float's digits instead of rounding them: round here, as text.
    return formats.number_format(
        Decimal(f"{float(value):.{places}f}"), decimal_pos=places, force_grouping=True
    )


def whole(value: int) -> str:
    """A count with the language's thousands separator: 5000 → "5 000", "5.000", "5,000"."""
    return formats.number_format(int(value), force_grouping=True)


def percent(share: Any, places: int = 1) -> str:
    """A share from 0 to 1 as a percentage: 0.72 → "72,0 %" ("72.0 %" in English)."""
    if share is None or share == "":
        return NONE
    return f"{fixed(float(share) * 100, places)} %"


def signed(value: float, places: int, *, minus: str = MINUS) -> str:
    """A signed figure: "+6,5", "−16,7", and "0,0" without a sign."""
    rounded = Decimal(f"{float(value):.{places}f}")
    if rounded == 0:
        return fixed(0, places)
    return ("+" if rounded > 0 else minus) + fixed(abs(rounded), places)


def plotly_locale() -> dict[str, Any]:
    """The active language for plotly.js: the layout's `separators` (decimal point, then the
    thousands separator) and a locale for Plotly.register, with Django's translated month and
    day names, so that date axes and hover labels read in the page's language. plotly.js ships
    no locale data in the Python package, and the page's language is Django's anyway."""
    decimal = str(formats.get_format("DECIMAL_SEPARATOR"))
    thousands = str(formats.get_format("THOUSAND_SEPARATOR"))
    if not formats.get_format("NUMBER_GROUPING"):
        thousands = ""
    months = [str(MONTHS[i]) for i in range(1, 13)]
    # Django's three-letter names are lowercase; a language that capitalises its month names
    # (English, Romanian) capitalises them too.
    short_months = [
        str(MONTHS_3[i]).capitalize() if months[i - 1][:1].isupper() else str(MONTHS_3[i])
        for i in range(1, 13)
    ]
    # Django counts days from Monday, plotly.js (d3) from Sunday.
    sunday_first = [6, 0, 1, 2, 3, 4, 5]
    english = (translation.get_language() or "en").startswith("en")
    return {
        "name": translation.get_language() or "en",
        "separators": decimal + thousands,
        "format": {
            "days": [str(WEEKDAYS[i]) for i in sunday_first],
            "shortDays": [str(WEEKDAYS_ABBR[i]) for i in sunday_first],
            "months": months,
            "shortMonths": short_months,
            "decimal": decimal,
            "thousands": thousands,
            "grouping": [3],
            # plotly.js takes a registered format whole (a missing key breaks its d3 locale),
            # so the rest is given too; the charts show no currency and no 12-hour clock.
            "currency": ["", ""],
            "periods": ["AM", "PM"],
            "date": _strftime(str(formats.get_format("SHORT_DATE_FORMAT"))),
            "time": "%H:%M:%S",
            "dateTime": _strftime(str(formats.get_format("SHORT_DATE_FORMAT"))) + " %H:%M:%S",
            "year": "%Y",
            "month": "%b %Y",
            "dayMonth": "%b %-d" if english else "%-d %b",
            "dayMonthYear": "%b %-d, %Y" if english else "%-d %b %Y",
        },
    }


# Django's date format characters that the short date formats use, as d3's (plotly.js').
_D3 = {"Y": "%Y", "y": "%y", "m": "%m", "n": "%-m", "d": "%d", "j": "%-d"}


def _strftime(django_format: str) -> str:
    """A Django short date format ("d.m.Y") as d3's ("%d.%m.%Y")."""
    return "".join(_D3.get(char, char) for char in django_format)
