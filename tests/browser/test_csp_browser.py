"""The Content-Security-Policy in a real browser: the third-party code we serve still works.

plotly.js on the survey results and Swagger UI on /api/docs/ are the pages that need more than
'self' (config/settings.py says what and why); the public pages get the strict policy. Every
browser test fails when a page reports a violation (tests/browser/conftest.py); these tests
also check that the pages really were drawn, and that each page got its policy.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import Actor
from config.security_headers import policy_header
from journeys import services as journey_services
from surveys import services
from surveys.models import Survey
from tests.factories import MembershipFactory, UserFactory
from tests.surveys.factories import sent_invitation

# What a page runs that did not come from a file: an inline script or an on* attribute.
INLINE_CODE = """() => [
  ...[...document.querySelectorAll("script:not([src])")]
    .filter((s) => s.type !== "application/json")
    .map((s) => `script: ${s.textContent.slice(0, 60)}`),
  ...[...document.querySelectorAll("*")].flatMap((el) =>
    el.getAttributeNames().filter((a) => a.startsWith("on")).map((a) => `${el.tagName} ${a}`)),
]"""


# Whether an image loads on the current page, under its policy.
ICON_LOADS = """(src) => new Promise((resolve) => {
  const image = new Image();
  image.addEventListener("load", () => resolve(true));
  image.addEventListener("error", () => resolve(false));
  image.src = src;
})"""


def _policy(view_name: str) -> str:
    return policy_header(settings.CONTENT_SECURITY_POLICY_VIEWS[view_name])


@pytest.fixture
def editor(organisation: Any) -> Any:
    user = UserFactory(name="Edda Editor")
    MembershipFactory(organisation=organisation, user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def nps_survey(organisation: Any, store: Any, editor: Any) -> Survey:
    actor = Actor(user=editor)
    survey = services.survey_create_from_template(
        organisation=organisation, store=store, actor=actor, template="nps"
    )
    return services.survey_set_status(survey=survey, actor=actor, status="active")


def test_results_charts_are_drawn_by_our_module_without_violations(
    page: Any, log_in_as: Any, editor: Any, nps_survey: Survey, csp_violations: list[str]
) -> None:
    score = nps_survey.questions.order_by("position").first()
    assert score is not None
    for n, value in enumerate([10, 9, 7, 3]):
        invitation, _token = sent_invitation(nps_survey, f"buyer{n}@example.com")
        services.response_save(
            invitation=invitation, answers={score.pk: value}, language="en", submit=True
        )
    log_in_as(page.context, editor)

    response = page.goto(f"/surveys/{nps_survey.pk}/results/")

    assert response.headers["content-security-policy"] == _policy("surveys:results")
    chart = page.locator(".chart-plot").first
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator(".bars .point")).to_have_count(11)  # one bar per score of 0–10
    # plotly.js's own stylesheet (a <style> element it adds) was applied: its SVG layers are
    # stacked, so the chart keeps the height of its figure.
    assert chart.locator("svg.main-svg").first.evaluate(
        "(svg) => getComputedStyle(svg).position"
    ) == ("absolute")
    box = chart.bounding_box()
    assert box is not None and box["height"] == 260
    assert page.evaluate(INLINE_CODE) == []
    assert csp_violations == []


def test_favicon_ico_is_our_icon(page: Any) -> None:
    response = page.goto("/favicon.ico")

    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.request.redirected_from.url.endswith("/favicon.ico")


def test_swagger_ui_renders_under_the_policy(page: Any, csp_violations: list[str]) -> None:
    response = page.goto("/api/docs/")

    assert response.headers["content-security-policy"] == _policy("api-docs")
    # Swagger UI fetches /api/schema/, which builds the whole schema: seconds on a busy machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "MomentMap API", timeout=30_000
    )
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.locator(".swagger-ui .opblock-summary").first.click()  # an operation opens
    expect(page.locator(".swagger-ui .opblock-body").first).to_be_visible()
    assert page.evaluate(INLINE_CODE) == []
    assert csp_violations == []


def test_public_pages_work_under_the_strict_policy(
    page: Any,
    organisation: Any,
    store: Any,
    editor: Any,
    nps_survey: Survey,
    csp_violations: list[str],
) -> None:
    strict = _policy("survey-public:answer")
    assert strict == _policy("journeys:shared")
    _row, token = sent_invitation(nps_survey, "ona@example.com")
    journey = journey_services.journey_create_from_template(
        organisation=organisation, actor=Actor(user=editor), template="five-moments", store=store
    )
    share_token = journey_services.journey_share_link_create(
        journey=journey, actor=Actor(user=editor)
    )

    score = nps_survey.questions.order_by("position").first()
    assert score is not None

    answer = page.goto(f"/s/{token}/")
    assert answer.headers["content-security-policy"] == strict
    page.locator(f"#q{score.pk}-9").check()
    page.locator('button[value="next"]').click()  # the form posts under form-action 'self'
    expect(page.locator(".progress-text")).to_have_text("Question 2 of 2")
    assert page.evaluate(INLINE_CODE) == []

    shared = page.goto(f"/share/journeys/{share_token}/")
    assert shared.headers["content-security-policy"] == strict
    expect(page.locator("h1")).to_have_text(journey.name)
    # Our stylesheets load under the strict policy: the map is laid out, not unstyled.
    assert page.locator("main").evaluate("(main) => getComputedStyle(main).maxWidth") != "none"
    assert page.evaluate(INLINE_CODE) == []
    # The share page names no icon, so a browser asks for /favicon.ico: our icon, after a
    # redirect that the strict policy's img-src 'self' lets through.
    assert page.evaluate(ICON_LOADS, "/favicon.ico") is True
    assert csp_violations == []
