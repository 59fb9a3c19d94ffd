"""Layout and accessibility in a real browser: the phone menu, sideways scrolling, the keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.browser.layout import assert_no_horizontal_scroll
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
