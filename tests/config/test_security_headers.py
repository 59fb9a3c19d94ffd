"""Content-Security-Policy and Cache-Control: no-store (config/security_headers.py).

The main pages are rendered through the test client, for a signed-in owner and for anyone
with a link, and their HTML parsed: each page carries the policy of its class, and none runs
code that is not a file (an inline script, an on* handler, a javascript: URL) or has a style
its policy forbids. The browser tests check that the pages still work under the policy
(tests/browser/test_csp_browser.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, get_resolver
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import Actor
from config.security_headers import policy_header
from journeys import services as journey_services
from surveys import services
from surveys.models import Survey
from tests.factories import ApiKeyFactory
from tests.surveys.factories import sent_invitation

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# The policies as browsers read them: a change to one is a change to this test.
STAFF = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
RESULTS = STAFF.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
API_DOCS = RESULTS.replace("img-src 'self'", "img-src 'self' data:")
# The dashboards keep plotly's PNG download, drawn through data: and blob: images.
DASHBOARDS = RESULTS.replace("img-src 'self'", "img-src 'self' data: blob:")
PUBLIC = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class _InlineCode(HTMLParser):
    """What a page would run or style inline, which a Content-Security-Policy governs."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self.styles: list[str] = []
        self._script: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and "src" not in found and found.get("type") != "application/json":
            self._script = ""
        if tag == "style":
            self.styles.append("<style>")
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.handlers.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.styles.append(f"<{tag} style={value!r}>")

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append(self._script.strip()[:80])
            self._script = None


def assert_runs_no_inline_code(response: Any) -> None:
    page = _InlineCode(response.content.decode())
    assert (page.scripts, page.handlers) == ([], []), response.request["PATH_INFO"]
    if "'unsafe-inline'" not in response["Content-Security-Policy"]:
        assert page.styles == [], response.request["PATH_INFO"]


@pytest.fixture
def survey(organisation: Any, store: Any, actor: Actor) -> Survey:
    survey = services.survey_create_from_template(
        organisation=organisation, store=store, actor=actor, template="post-purchase-csat"
    )
    return services.survey_set_status(survey=survey, actor=actor, status="active")


@pytest.fixture
def journey(organisation: Any, store: Any, actor: Actor) -> Any:
    return journey_services.journey_create_from_template(
        organisation=organisation, actor=actor, template="ecommerce-delivery", store=store
    )


def test_the_policies_are_the_documented_ones() -> None:
    views = settings.CONTENT_SECURITY_POLICY_VIEWS
    assert policy_header(settings.CONTENT_SECURITY_POLICY) == STAFF
    assert policy_header(views["surveys:results"]) == RESULTS
    for view_name in ["dashboards:store", "dashboards:stage"]:
        assert policy_header(views[view_name]) == DASHBOARDS, view_name
    assert policy_header(views["api-docs"]) == API_DOCS
    public = [
        "survey-public:answer",
        "survey-public:thanks",
        "survey-public:unsubscribe",
        "survey-public:missing",
    ]
    for view_name in [*public, "surveys:preview", "journeys:shared"]:
        assert policy_header(views[view_name]) == PUBLIC, view_name
    # No policy lets a script in from anywhere but our own files.
    for policy in [settings.CONTENT_SECURITY_POLICY, *views.values()]:
        assert policy.get("script-src", policy["default-src"]) in (["'self'"], ["'none'"])


def test_every_public_answer_page_gets_the_public_policy() -> None:
    """A page added to surveys/public_urls.py must be named in CONTENT_SECURITY_POLICY_VIEWS."""
    [public] = [
        r for r in get_resolver().url_patterns if getattr(r, "namespace", None) == "survey-public"
    ]
    names = [f"survey-public:{p.name}" for p in public.url_patterns if isinstance(p, URLPattern)]
    assert len(names) == 4
    for name in names:
        assert policy_header(settings.CONTENT_SECURITY_POLICY_VIEWS[name]) == PUBLIC, name


def test_signed_in_pages_carry_their_policy_and_run_no_inline_code(
    client_as: Any, store: Any, survey: Survey, journey: Any
) -> None:
    invitation, _token = sent_invitation(survey, "ona@example.com")
    rating = survey.questions.order_by("position").first()
    assert rating is not None
    services.response_save(
        invitation=invitation, answers={rating.pk: 4}, language="en", submit=True
    )
    client = client_as(Role.OWNER)
    pages = {
        "/": STAFF,
        "/journeys/": STAFF,
        f"/journeys/{journey.pk}/": STAFF,  # the editor
        f"/journeys/{journey.pk}/history/": STAFF,
        "/journeys/import/": STAFF,
        "/journeys/personas/": STAFF,
        "/surveys/": STAFF,
        f"/surveys/{survey.pk}/": STAFF,  # the builder
        f"/surveys/{survey.pk}/send/": STAFF,
        f"/surveys/{survey.pk}/results/": RESULTS,
        f"/surveys/{survey.pk}/preview/": PUBLIC,  # the buyer's page, as the buyer sees it
        "/contacts/": STAFF,
        "/contacts/import/": STAFF,
        "/stores/": STAFF,
        f"/stores/{store.pk}/keys/": STAFF,
        f"/stores/{store.pk}/survey-settings/": STAFF,
        "/members/": STAFF,
        "/audit-log/": STAFF,
        "/organisations/new/": STAFF,
        "/api/docs/": API_DOCS,
        "/no-such-page/": STAFF,  # no URL matched: the 404 page
    }
    for path, policy in pages.items():
        response = client.get(path)
        assert response.status_code == (404 if path == "/no-such-page/" else 200), path
        assert response["Content-Security-Policy"] == policy, path
        assert_runs_no_inline_code(response)
    # The results page has its chart, and plotly.js is loaded from our host.
    results = client.get(f"/surveys/{survey.pk}/results/").content.decode()
    assert 'type="application/json"' in results
    assert '<script type="module" src="/static/js/charts.js"></script>' in results


def test_public_pages_get_the_strict_policy_and_run_nothing(
    survey: Survey, journey: Any, actor: Actor
) -> None:
    answered, answered_token = sent_invitation(survey, "jonas@example.com")
    rating = survey.questions.order_by("position").first()
    assert rating is not None
    services.response_save(invitation=answered, answers={rating.pk: 5}, language="en", submit=True)
    _row, token = sent_invitation(survey, "ona@example.com")
    share_token = journey_services.journey_share_link_create(journey=journey, actor=actor)
    client = Client()
    pages = {
        f"/s/{token}/": 200,
        f"/s/{token}/unsubscribe/": 200,
        f"/s/{answered_token}/thanks/": 200,
        "/s/made-up-token/": 404,
        f"/share/journeys/{share_token}/": 200,
    }
    for path, status in pages.items():
        response = client.get(path)
        assert response.status_code == status, path
        assert response["Content-Security-Policy"] == PUBLIC, path
        assert_runs_no_inline_code(response)
        assert "<script" not in response.content.decode(), path  # nothing to run at all
    # Anonymous account pages are staff pages: the default policy.
    for path in ["/accounts/login/", "/accounts/signup/", "/accounts/password-reset/"]:
        response = client.get(path)
        assert response["Content-Security-Policy"] == STAFF, path
        assert_runs_no_inline_code(response)


def test_the_swagger_ui_start_up_script_is_a_file(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()
    [script_url] = re.findall(r'<script src="(/api/docs/\?[^"]*)"', page)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(TEMPLATES.rglob("*.html")) if "email" not in p.parts],
    ids=lambda p: str(p.relative_to(TEMPLATES)),
)
def test_template_has_no_inline_script_handler_or_style(path: Path) -> None:
    """Emails are left out: a mail client applies no Content-Security-Policy of ours."""
    source = re.sub(r"{#.*?#}", "", path.read_text(), flags=re.S)
    page = _InlineCode(re.sub(r"{%.*?%}|{{.*?}}", "", source, flags=re.S))
    assert (page.scripts, page.handlers, page.styles) == ([], [], [])


def test_the_checker_finds_inline_code() -> None:
    page = _InlineCode(
        '<script>go()</script><script type="application/json">{}</script><script src="/a.js">'
        '</script><a href="javascript:go()" onclick="go()" style="color: red">x</a><style></style>'
    )
    assert page.scripts == ["go()"]
    assert page.handlers == ["<a href='javascript:go()'>", "<a onclick='go()'>"]
    assert page.styles == ["<a style='color: red'>", "<style>"]


# --- Cache-Control: no-store


def test_signed_in_pages_are_not_stored(client_as: Any, survey: Survey, journey: Any) -> None:
    client = client_as(Role.VIEWER)
    paths = [
        f"/stores/{survey.store_id}/dashboard/",
        "/journeys/",
        f"/journeys/{journey.pk}/",
        f"/surveys/{survey.pk}/results/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
    # A page anyone may see is not stored when a signed-in user asks for it; for others it
    # keeps what it had (here: nothing).
    assert "no-store" in client.get("/no-such-page/")["Cache-Control"]
    assert "Cache-Control" not in Client().get("/no-such-page/")


def test_every_api_response_is_not_stored(store: Any, api_as: Any) -> None:
    raw = "mm_sk_ab12cd34_" + "x" * 32
    ApiKeyFactory(store=store, raw_key=raw, prefix="mm_sk_ab12cd34")
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    anonymous = APIClient()
    responses = {
        "key: journeys": machine.get("/api/v1/journeys/"),
        "key: unknown id": machine.get("/api/v1/journeys/999999/"),
        "session: surveys": api_as(Role.VIEWER).get("/api/v1/surveys/"),
        "anonymous: refused": anonymous.get("/api/v1/journeys/"),
        "anonymous: no such URL": anonymous.get("/api/v1/no-such-thing/"),
        "anonymous: schema": anonymous.get("/api/schema/"),
        "anonymous: docs": anonymous.get("/api/docs/"),
    }
    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses == {
        "key: journeys": 200,
        "key: unknown id": 404,
        "session: surveys": 200,
        "anonymous: refused": 401,
        "anonymous: no such URL": 404,
        "anonymous: schema": 200,
        "anonymous: docs": 200,
    }
    for name, response in responses.items():
        assert "no-store" in response["Cache-Control"], name


def test_a_journey_share_page_is_not_stored(journey: Any, actor: Actor) -> None:
    """Anyone with the link sees it; no copy may outlive the link's revocation."""
    token = journey_services.journey_share_link_create(journey=journey, actor=actor)
    assert Client().get(f"/share/journeys/{token}/")["Cache-Control"] == "no-store"


def test_static_files_keep_their_caching_for_signed_in_users(client_as: Any, settings: Any) -> None:
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    # whitenoise answers before the session is read (and reads these settings at its start).
    response = client_as(Role.VIEWER).get("/static/css/app.css")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    assert "no-store" not in response["Cache-Control"]
