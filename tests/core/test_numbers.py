"""Figures as each language writes them: the template filters of the survey and dashboard pages,
and the locale that plotly.js gets, through Django's formats with config/formats' overrides."""

from __future__ import annotations

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import translation

from core import numbers
from dashboards.templatetags import dashboard_format
from journeys.verdicts import figure
from surveys.templatetags import survey_format

NBSP = "\xa0"
PROPORTION = {"value": 0.72, "low": 0.581, "high": 0.83, "total": 5000}

# language: percent, interval, mean, NPS, a count, the rate's HTML text
EXPECTED = {
    "en": ("72.0 %", "(58.1–83.0 %)", "3.40 / 5", "−3.5", "5,000", "1,234.50"),
    "lt": ("72,0 %", "(58,1–83,0 %)", "3,40 / 5", "−3,5", f"5{NBSP}000", f"1{NBSP}234,50"),
    "lv": ("72,0 %", "(58,1–83,0 %)", "3,40 / 5", "−3,5", f"5{NBSP}000", f"1{NBSP}234,50"),
    "et": ("72,0 %", "(58,1–83,0 %)", "3,40 / 5", "−3,5", f"5{NBSP}000", f"1{NBSP}234,50"),
    "cs": ("72,0 %", "(58,1–83,0 %)", "3,40 / 5", "−3,5", f"5{NBSP}000", f"1{NBSP}234,50"),
    "ro": ("72,0 %", "(58,1–83,0 %)", "3,40 / 5", "−3,5", "5.000", "1.234,50"),
}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_survey_figures_in_each_language(language: str) -> None:
    percent, interval, mean, nps, count, fixed = EXPECTED[language]
    with translation.override(language):
        assert survey_format.percent(0.72) == percent
        assert survey_format.interval(PROPORTION) == interval
        assert survey_format.mean_of(3.4, 5) == mean
        assert survey_format.signed(-3.5) == nps
        assert numbers.whole(5000) == count
        assert intcomma(5000) == count  # django.contrib.humanize follows the language too
        assert numbers.fixed(1234.5, 2) == fixed
        assert survey_format.rate(PROPORTION) == (
            f'<span class="rate"><span class="rate-value">{percent}</span> '
            f'<span class="rate-interval">{interval}</span> '
            f'<span class="rate-n">n = {count}</span></span>'
        )


def test_rounding_is_python_formats_not_a_cut() -> None:
    # number_format cuts a float's digits; the figures round as f"{x:.1f}" did.
    with translation.override("lt"):
        assert survey_format.percent(0.72499) == "72,5 %"
        assert survey_format.percent(0.0) == "0,0 %"
        assert survey_format.signed(0.04) == "0,0"
        assert survey_format.signed(12.46) == "+12,5"
        assert survey_format.percent(None) == "—"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["+6", "-16.67", "+0.5", "+0", "-57.1 pp", "57.1 %", "(2.70–5.30)"]),
        ("lt", ["+6", "-16,67", "+0,5", "+0", "-57,1 pp", "57,1 %", "(2,70–5,30)"]),
        ("cs", ["+6", "-16,67", "+0,5", "+0", "-57,1 pp", "57,1 %", "(2,70–5,30)"]),
        ("ro", ["+6", "-16,67", "+0,5", "+0", "-57,1 pp", "57,1 %", "(2,70–5,30)"]),
        ("et", ["+6", "-16,67", "+0,5", "+0", "-57,1 pp", "57,1 %", "(2,70–5,30)"]),
    ],
)
def test_dashboard_figures_in_each_language(language: str, expected: list[str]) -> None:
    from surveys.stats import ces

    with translation.override(language):
        assert [
            dashboard_format.signed(6),
            dashboard_format.signed(-16.6666667),
            dashboard_format.signed(0.5),
            dashboard_format.signed(0),
            dashboard_format.points(-0.5714),
            dashboard_format.dropoff(0.4286),
            dashboard_format.interval_of(ces([3, 4, 5, 4]), "ces"),
        ] == expected


def test_experiment_figures_in_lithuanian() -> None:
    with translation.override("lt"):
        assert figure("conversion", 0.4286) == "42,9 %"
        assert figure("conversion", -0.0512, signed=True) == "-5,1 pp"
        assert figure("nps", 14.2857, signed=True) == "+14,3"
        assert figure("ces", 5.5) == "5,50"


def test_plotly_locale_in_lithuanian_and_english() -> None:
    with translation.override("lt"):
        locale = numbers.plotly_locale()
    assert locale["name"] == "lt"
    assert locale["separators"] == f",{NBSP}"
    assert locale["format"]["months"][:3] == ["sausis", "vasaris", "kovas"]
    assert locale["format"]["shortMonths"][:3] == ["sau", "vas", "kov"]
    # plotly.js (d3) counts days from Sunday.
    assert locale["format"]["days"][:2] == ["Sekmadienis", "Pirmadienis"]
    assert (locale["format"]["decimal"], locale["format"]["thousands"]) == (",", NBSP)
    # plotly.js takes the format whole: every key its d3 locale reads is there.
    assert locale["format"]["periods"] == ["AM", "PM"]
    assert locale["format"]["date"] == "%Y-%m-%d"
    with translation.override("cs"):
        assert numbers.plotly_locale()["format"]["date"] == "%d.%m.%Y"
    with translation.override("en"):
        english = numbers.plotly_locale()
    assert english["separators"] == ".,"
    assert english["format"]["shortMonths"][:3] == ["Jan", "Feb", "Mar"]
    assert english["format"]["shortDays"][:2] == ["Sun", "Mon"]
