"""Every staff page of the demo, in each language, shows no English text of the catalogues.

Logged in as the demo's owner (who sees every page), the browser follows every link of the
staff UI from the overview, one page per URL pattern, and reads what a person sees: the text
of the page (menus, hidden panels and table cells included) and the titles, labels and
placeholders that screen readers and tooltips show. A text that equals an English msgid of a
catalogue entry whose translation differs is English left on a page in that language. Data
(store, journey and survey names, customers' answers) is not in the catalogues and so never
counts; nor does a text that the language writes like English ("CSAT", "API").

The demo is loaded as the dashboard's browser test loads it (a tenth of its traffic).
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from django.apps import apps
from django.db.models import CharField, TextField
from django.urls import Resolver404, resolve

from accounts.models import User
from core.catalogues import LOCALE_DIR
from events import demo as events_demo
from metrics import demo as metrics_demo
from tests.events.test_demo import demo_organisation  # noqa: F401 - a fixture

LANGUAGES = ["lt", "lv", "et", "cs", "ro"]
# Not pages of the staff UI: the API and its third-party documentation, the buyers' pages
# (in the survey's language, tested with the surveys), downloads, static files.
SKIP_PREFIXES = ("/api/", "/s/", "/static/", "/jsi18n/", "/admin/", "/anymail/", "/healthz")
SKIP_NAMES = re.compile(r"export|download|csv|png|unsubscribe|logout|verify|join")
# A placeholder (%(name)s, %s, {name}) stands for data: any text.
# Raw events and their keys: large, and no text of them is shown as it is.
RAW_TABLES = {"events_event", "events_eventkey", "events_eventblock", "events_recomputemark"}
PLACEHOLDER = re.compile(r"%\([^)]+\)[sd]|%[sd]|\{[A-Za-z_]*\}")

VISIBLE_TEXTS = """
() => {
  const texts = [];
  // Text marked as another language (each language named in itself in the switchers) is
  // meant to be in that language.
  const page = document.documentElement.lang;
  const foreign = (element) => {
    const marked = element.closest("[lang]");
    return marked && marked.lang !== page;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("script, style, template, noscript, code, pre")) continue;
    if (foreign(parent)) continue;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text) texts.push(text);
  }
  for (const element of document.querySelectorAll("[title], [aria-label], [placeholder], [alt]")) {
    if (foreign(element)) continue;
    for (const name of ["title", "aria-label", "placeholder", "alt"]) {
      const value = (element.getAttribute(name) || "").replace(/\\s+/g, " ").trim();
      if (value) texts.push(value);
    }
  }
  texts.push(document.title.replace(/\\s+/g, " ").trim());
  return texts;
}
"""


def _english(language: str) -> list[re.Pattern[str]]:
    """The catalogue's English texts that the language translates differently, as patterns
    of a whole visible text (HTML in a msgid makes it several texts on the page: skipped)."""
    patterns = []
    for domain in ("django", "djangojs"):
        with (LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
            catalogue = read_po(handle, locale=language)
        for message in catalogue:
            ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
            strings = message.string
            if not isinstance(strings, tuple | list):
                strings = [strings]
            for msgid in ids:
                text = " ".join(msgid.split())
                words = PLACEHOLDER.sub("", text)
                if "<" in text or not re.search(r"[A-Za-z]{3}", words):
                    continue  # markup, or no English word of its own ("%(when)s · %(who)s")
                if text in (" ".join((s or "").split()) for s in strings):
                    continue  # written the same in this language
                parts = PLACEHOLDER.split(text)
                pattern = ".+?".join(re.escape(part) for part in parts)
                patterns.append(re.compile(pattern))
    return patterns


def _data_texts() -> set[str]:
    """What the demo's people wrote (names of stores, journeys, stages, touchpoints, surveys,
    questions, events): data, not interface, even where it is English."""
    texts: set[str] = set()
    for app in ("accounts", "journeys", "surveys", "events"):
        for model in apps.get_app_config(app).get_models():
            fields = [
                field.name
                for field in model._meta.concrete_fields
                if isinstance(field, CharField | TextField) and not field.choices
            ]
            if not fields or model._meta.db_table in RAW_TABLES:
                continue
            for row in model.objects.values_list(*fields)[:20_000]:
                texts.update(" ".join(str(value).split()) for value in row if value)
    return texts


def _route(path: str) -> str | None:
    """The URL pattern a path belongs to, or None for what the crawl leaves out."""
    if path.startswith(SKIP_PREFIXES):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if SKIP_NAMES.search(match.url_name or "") or SKIP_NAMES.search(path):
        return None
    return match.route


def _crawl(page: Any, start: str = "/") -> dict[str, list[str]]:
    """Each staff page's visible texts, one page per URL pattern, following links."""
    queue = deque([start])
    seen_routes: set[str] = set()
    texts: dict[str, list[str]] = {}
    while queue:
        path = queue.popleft()
        route = _route(urlsplit(path).path)
        if route is None or route in seen_routes:
            continue
        seen_routes.add(route)
        response = page.goto(path)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        assert response.status < 500, f"{path}: {response.status}"
        texts[path] = page.evaluate(VISIBLE_TEXTS)
        links = page.eval_on_selector_all(
            "a[href]", "links => links.map(a => a.getAttribute('href'))"
        )
        for href in links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return texts


@pytest.fixture
def demo(transactional_db: Any, demo_organisation: Any) -> Any:  # noqa: F811
    events_demo.load(organisation=demo_organisation)
    metrics_demo.load(organisation=demo_organisation)
    return demo_organisation


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_staff_page_of_the_demo_shows_english(
    new_context: Any, log_in_as: Any, demo: Any, language: str
) -> None:
    owner = User.objects.get(email="demo@example.com")
    owner.language = language
    owner.save(update_fields=["language"])
    context = new_context()
    log_in_as(context, owner)
    page = context.new_page()

    pages = _crawl(page)
    assert len(pages) >= 30, sorted(pages)  # the crawl reached the whole staff UI
    english = _english(language)
    data = _data_texts()
    found = sorted(
        {
            f"{path}: {text!r}"
            for path, texts in pages.items()
            for text in texts
            if text not in data and any(pattern.fullmatch(text) for pattern in english)
        }
    )
    assert found == [], "\n".join(found)
