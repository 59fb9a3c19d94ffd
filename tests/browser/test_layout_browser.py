"""Layout and accessibility in a real browser: the phone menu, sideways scrolling, the keyboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import Actor
from journeys import services as journey_services
from surveys import services as survey_services
from surveys import tokens
from surveys.models import Invitation, Survey
from tests.browser.layout import assert_no_horizontal_scroll, table_as_cards
from tests.factories import MembershipFactory, OrganisationFactory, StoreFactory, UserFactory

NAV_LINKS = ["Overview", "Stores", "Members", "Audit log", "API"]


@pytest.fixture
def owner() -> Any:
    """An owner of an organisation with two stores, one with long names."""
    organisation = OrganisationFactory(name="Baltic Goods")
    StoreFactory(organisation=organisation, name="Baltic Goods LT", domain="lt.balticgoods.example")
    StoreFactory(
        organisation=organisation,
        name="Baltic Goods Romania and Moldova Wholesale",
        domain="wholesale.romania-and-moldova.balticgoods.example",
        time_zone="Europe/Bucharest",
        currency="RON",
    )
    user = UserFactory(name="Daiva Demo")
    MembershipFactory(organisation=organisation, user=user, role=Role.OWNER)
    return user


def test_phone_menu_is_collapsed_and_opens(
    phone_page: Any, live_server: Any, log_in_as: Any, owner: Any, artifacts: Any
):
    log_in_as(phone_page.context, owner)
    page = phone_page

    page.goto("/")
    expect(page.locator("h1")).to_have_text("Baltic Goods")
    menu = page.locator("details#main-menu")
    summary = menu.locator("summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_text("☰ Menu")
    expect(menu).not_to_have_attribute("open", "")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    assert_no_horizontal_scroll(page)

    summary.tap()
    expect(menu).to_have_attribute("open", "")
    for name in NAV_LINKS:
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "phone-overview-menu-open.png"), full_page=True)

    nav.get_by_role("link", name="Stores", exact=True).tap()
    expect(page).to_have_url(f"{live_server.url}/stores/")
    expect(page.locator("h1")).to_have_text("Stores")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()  # collapsed again
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "phone-stores.png"), full_page=True)

    summary.tap()
    nav.get_by_role("link", name="Members", exact=True).tap()
    expect(page).to_have_url(f"{live_server.url}/members/")
    assert_no_horizontal_scroll(page)


def test_desktop_shows_the_menu_without_a_toggle(
    page: Any, live_server: Any, log_in_as: Any, owner: Any, artifacts: Any
):
    log_in_as(page.context, owner)

    page.goto("/")
    expect(page.locator("details#main-menu summary")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    for name in NAV_LINKS:
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_label("Organisation", exact=True)).to_be_visible()
    expect(page.get_by_label("Store", exact=True)).to_be_visible()
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    # The header stays a header: it does not push the page below the first screen.
    header_height = page.locator("header.topbar").bounding_box()["height"]
    assert header_height < 160, header_height
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "desktop-overview.png"), full_page=True)

    nav.get_by_role("link", name="Stores", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/stores/")
    assert_no_horizontal_scroll(page)


def test_phone_overview_screenshot(phone_page: Any, log_in_as: Any, owner: Any, artifacts: Any):
    log_in_as(phone_page.context, owner)
    phone_page.goto("/")
    expect(phone_page.locator("h1")).to_have_text("Baltic Goods")
    phone_page.screenshot(path=str(artifacts / "phone-overview.png"), full_page=True)
    assert_no_horizontal_scroll(phone_page)


def _outline(locator: Any) -> dict[str, str]:
    return locator.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return {style: s.outlineStyle, width: s.outlineWidth}; }"
    )


def test_tab_reaches_the_skip_link_first_and_focus_is_visible(
    page: Any, live_server: Any, log_in_as: Any, owner: Any
):
    log_in_as(page.context, owner)
    page.goto("/stores/")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to content")
    expect(skip).to_be_in_viewport()
    assert _outline(skip)["style"] != "none"
    assert _outline(skip)["width"] != "0px"

    page.keyboard.press("Tab")
    brand = page.get_by_role("link", name="MomentMap")
    expect(brand).to_be_focused()
    assert _outline(brand)["style"] != "none"
    expect(skip).not_to_be_in_viewport()  # it hides again once focus moves on

    # Skipping lands in the content: the next Tab reaches the page's own first control,
    # not the header's links.
    page.keyboard.press("Shift+Tab")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/stores/#main")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    add_store = page.get_by_role("link", name="Add a store")
    expect(add_store).to_be_focused()
    assert _outline(add_store)["style"] != "none"

    # Every control reached by the keyboard shows its focus.
    for _ in range(6):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        expect(focused).to_have_count(1)
        style = _outline(focused)
        assert style["style"] != "none", (focused.evaluate("el => el.outerHTML"), style)


def _answered(survey: Survey, scores: list[int]) -> None:
    """Each score the first question's answer of one invited, submitted response."""
    first = survey.questions.order_by("position").first()
    assert first is not None
    for n, score in enumerate(scores):
        contact, _created = survey_services.contact_upsert(
            store=survey.store, email=f"{survey.pk}-{n}@example.com"
        )
        nonce = tokens.new_nonce()
        invitation = Invitation.objects.create(
            survey=survey,
            contact=contact,
            nonce=nonce,
            token_hash=tokens.token_hash(tokens.token_for(nonce)),
            language="lt",
            status=Invitation.Status.SENT,
            due_at=datetime.now(UTC),
            sent_at=datetime.now(UTC),
        )
        survey_services.response_save(
            invitation=invitation, answers={first.pk: score}, language="lt", submit=True
        )


def test_lists_and_results_read_as_cards_on_a_phone(
    phone_page: Any, log_in_as: Any, owner: Any, artifacts: Any
):
    """Nothing hides to the right of a table that scrolls: the results link, the CSAT, NPS and
    CES columns, each cell after its column's name."""
    actor = Actor(user=owner)
    organisation = owner.memberships.get().organisation
    lt, wholesale = organisation.stores.order_by("name")
    surveys = {}
    for template, scores in (
        ("nps", [10, 9, 9, 8, 7, 6, 3, 10]),
        ("checkout-ces", [6, 7, 5]),
        ("post-purchase-csat", [5, 4, 2]),
    ):
        survey = survey_services.survey_create_from_template(
            organisation=organisation, store=lt, actor=actor, template=template
        )
        surveys[template] = survey_services.survey_set_status(
            survey=survey, actor=actor, status="active"
        )
        _answered(survey, scores)
    journey_services.journey_create_from_template(
        organisation=organisation, actor=actor, template="ecommerce-delivery", store=wholesale
    )
    log_in_as(phone_page.context, owner)
    page = phone_page

    page.goto("/surveys/")
    rows = table_as_cards(page.locator("table.survey-table"))
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "phone-survey-list.png"), full_page=True)
    nps = next(row for row in rows if row[""].startswith("Rekomendavimo tikimybė (NPS)"))
    assert nps == {
        "": "Rekomendavimo tikimybė (NPS) Net Promoter Score (NPS) · en, lt, lv, et, cs, ro"
        " | Results",
        "Store": "Baltic Goods LT",
        "Status": "Active",
        "Moment of truth": "UMOT",
        "Questions": "2",
        "Invitations": "8",
        "Responses": "8",
    }

    page.goto("/journeys/")
    [journey] = table_as_cards(page.locator("table"))
    assert journey["Store"] == "Baltic Goods Romania and Moldova Wholesale"
    assert (journey["Stages"], journey["Moments of truth"]) == ("5", "5")
    assert journey[""] == "E-commerce journey with delivery | Duplicate"
    # The time and its zone are one value, in the value's column (7rem right of the cell's
    # start, after the column's name), not a grid item of their own under the name.
    updated = page.locator("td[data-label='Updated']").first
    offset = updated.evaluate(
        """cell => cell.querySelector(".small-text").getBoundingClientRect().left
          - cell.getBoundingClientRect().left"""
    )
    assert offset >= 7 * 16, offset
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "phone-journey-list.png"), full_page=True)

    page.goto(f"/surveys/{surveys['nps'].pk}/results/")
    moments = table_as_cards(page.locator("table.moment-table"))
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "phone-results-moments.png"), full_page=True)
    by_moment = {row[""].split()[0]: row for row in moments}
    assert by_moment["UMOT"]["NPS"] == "+25.0 n = 8"
    assert by_moment["SMOT"]["CES"] == "6.00 / 7 n = 3"
    assert by_moment["SMOT"]["CSAT"].startswith("66.7 %")
    assert by_moment["UMOT"]["CSAT"] == by_moment["UMOT"]["CES"] == "—"
