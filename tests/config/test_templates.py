"""Every UI string in the templates is marked for translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
# Not user-facing prose: the brand name, symbols, and p (a p-value, written so in every language).
ALLOWED = {"MomentMap", "p", "☰", "←", "→", "·", "—", "…", "_…"}
# Templates exempt from the check (none: the bare 500 page uses only the i18n tags).
SKIP: set[str] = set()


def _untranslated(source: str) -> list[str]:
    text = re.sub(r"{%\s*(blocktranslate|blocktrans)\b.*?{%\s*end\1\s*%}", " ", source, flags=re.S)
    text = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", " ", text, flags=re.S)
    text = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", text, flags=re.S)
    # What tooltips, screen readers and empty fields show is visible text too.
    shown = re.findall(r"""\b(?:title|alt|placeholder|aria-label)=["']([^"']*)["']""", text)
    text = re.sub(r"<[^>]+>", " ", text) + " " + " ".join(shown)
    text = re.sub(r"&[a-z#0-9]+;", " ", text)
    return [w for w in text.split() if w not in ALLOWED and re.search(r"\w", w)]


def _templates() -> list[Path]:
    return [
        p
        for p in sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.txt"))
        if p.name not in SKIP
    ]


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_unmarked_text(path: Path) -> None:
    assert _untranslated(path.read_text()) == []


def test_checker_catches_unmarked_text() -> None:
    assert _untranslated("<p>{% translate 'Fine' %} Oops</p>") == ["Oops"]
    assert _untranslated('<a title="Open it" href="/x">{% translate "Fine" %}</a>') == [
        "Open",
        "it",
    ]
    assert _untranslated('<input placeholder="{% translate \'Fine\' %}" aria-label="">') == []
