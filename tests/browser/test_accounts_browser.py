"""Accounts in a real browser: sign-up to log-in, switching organisations, roles, XSS, API keys."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect

from accounts import services
from accounts.models import ApiKey, Role
from tests.browser.layout import assert_no_horizontal_scroll
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    StoreFactory,
    UserFactory,
)

XSS = "<img src=x onerror=alert(1)>"


def _member(organisation: Any, role: str, **user_fields: Any) -> Any:
    user = UserFactory(**user_fields)
    MembershipFactory(organisation=organisation, user=user, role=role)
    return user


def test_sign_up_verify_log_out_and_log_in_again(page: Any, live_server: Any, mailoutbox: Any):
    page.goto("/accounts/signup/")
    expect(page.locator("h1")).to_have_text("Create your MomentMap account")
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Work email").fill("Ada@Example.com")
    page.get_by_label("Password:", exact=True).fill("an-Engine-of-2-analyses")
    page.get_by_label("Organisation:", exact=True).fill("Analytical Engines")
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/signup/done/")
    expect(page.locator("h1")).to_have_text("Check your email")
    expect(page.locator("main")).to_contain_text(
        "If ada@example.com needs confirming, a link is on its way to it."
    )

    # The live server is a thread of this process: the request's on-commit email, sent by the
    # eager Celery task through the locmem backend, lands in this test's outbox.
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ada@example.com"]
    links = re.findall(r"https?://\S+/accounts/verify/\S+/", message.body)
    assert len(links) == 1, message.body
    page.goto(urlsplit(links[0]).path)  # the link names SITE_URL; open it on the live server

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("Analytical Engines")
    expect(page.locator(".messages")).to_have_text(
        "Your email address is confirmed. Welcome to MomentMap."
    )
    expect(page.locator(".account .who")).to_have_text("Ada Lovelace · Owner")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    page.goto("/")  # signed out: the overview sends us back to the log-in page
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")

    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("an-Engine-of-2-analyses")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("Analytical Engines")
    assert len(mailoutbox) == 1  # logging in sends nothing more


def test_log_in_is_refused_until_the_email_is_confirmed(page: Any, live_server: Any):
    organisation = OrganisationFactory(name="Unconfirmed Ltd")
    _member(organisation, Role.OWNER, email="new@example.com", email_verified_at=None)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("new@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.locator(".errorlist.nonfield")).to_have_text(
        "Please confirm your email address first: we sent you a link. "
        "You can ask for a new one below."
    )
    expect(page.get_by_role("link", name="Resend the confirmation link")).to_have_attribute(
        "href", "/accounts/verify-resend/"
    )
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_owner_switches_organisation_with_the_keyboard(page: Any, live_server: Any, log_in_as):
    alpha = OrganisationFactory(name="Alpha Retail")
    beta = OrganisationFactory(name="Beta Wholesale")
    owner = _member(alpha, Role.OWNER)
    MembershipFactory(organisation=beta, user=owner, role=Role.OWNER)
    log_in_as(page.context, owner)

    page.goto("/")
    expect(page.locator("h1")).to_have_text("Alpha Retail")
    switcher = page.get_by_label("Organisation", exact=True)
    expect(switcher.locator("option")).to_have_text(["Alpha Retail", "Beta Wholesale"])

    switcher.focus()
    page.keyboard.press("ArrowDown")  # changing the select submits its form (app.js)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("Beta Wholesale")
    expect(page.locator(".messages")).to_have_text("Switched to Beta Wholesale.")
    expect(page.get_by_label("Organisation", exact=True)).to_have_value(str(beta.pk))


def test_organisation_switcher_works_without_javascript(
    new_context: Any, live_server: Any, log_in_as: Any
):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    alpha = OrganisationFactory(name="Alpha Retail")
    beta = OrganisationFactory(name="Beta Wholesale")
    owner = _member(alpha, Role.OWNER)
    MembershipFactory(organisation=beta, user=owner, role=Role.OWNER)
    log_in_as(context, owner)

    page.goto("/")
    expect(page.locator("h1")).to_have_text("Alpha Retail")
    page.get_by_label("Organisation", exact=True).focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("h1")).to_have_text("Alpha Retail")  # nothing submits by itself
    page.keyboard.press("Tab")
    expect(page.locator("form.switcher").first.get_by_role("button", name="Switch")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("Beta Wholesale")


def test_viewer_sees_no_admin_controls_and_is_refused_the_audit_log(
    page: Any, live_server: Any, log_in_as: Any
):
    organisation = OrganisationFactory(name="Baltic Goods")
    StoreFactory(organisation=organisation, name="Baltic Goods LT")
    viewer = _member(organisation, Role.VIEWER)
    log_in_as(page.context, viewer)

    page.goto("/stores/")
    expect(page.locator("h1")).to_have_text("Stores")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody td").first).to_have_text("Baltic Goods LT")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Stores")).to_be_visible()
    expect(nav.get_by_role("link", name="Members")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit log")).to_have_count(0)
    expect(page.get_by_text("Audit log")).to_have_count(0)
    expect(page.get_by_role("link", name="Add a store")).to_have_count(0)
    expect(page.get_by_role("link", name="API keys")).to_have_count(0)

    response = page.goto("/audit-log/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("You cannot do this")
    expect(page.locator("main")).to_contain_text("Role needed: Admin, or a role above it.")


def test_admin_sees_the_audit_log_and_add_a_store(page: Any, live_server: Any, log_in_as: Any):
    organisation = OrganisationFactory(name="Baltic Goods")
    StoreFactory(organisation=organisation, name="Baltic Goods LT")
    admin = _member(organisation, Role.ADMIN)
    log_in_as(page.context, admin)

    page.goto("/stores/")
    expect(page.get_by_role("link", name="Add a store")).to_have_attribute("href", "/stores/new/")
    audit = page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log")
    expect(audit).to_be_visible()
    audit.click()
    expect(page).to_have_url(f"{live_server.url}/audit-log/")
    expect(audit).to_have_attribute("aria-current", "page")


def test_names_with_markup_render_as_text(page: Any, live_server: Any, log_in_as: Any):
    owner = UserFactory()
    # Through the services, so that the audit log records the names too.
    organisation = services.organisation_create(user=owner, name=XSS, language="en")
    services.store_create(
        organisation=organisation,
        actor=services.Actor(user=owner),
        name=XSS,
        domain="xss.example.com",
        currency="EUR",
        time_zone="Europe/Vilnius",
        default_language="lt",
    )
    log_in_as(page.context, owner)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    page.goto("/")
    expect(page.locator("h1")).to_have_text(XSS)
    expect(page).to_have_title(f"{XSS} · MomentMap")
    expect(page.locator("#stores-heading + ul li").first).to_contain_text(XSS)
    expect(page.locator("#organisation-switch option")).to_have_text([XSS])
    expect(page.locator("#store-switch option")).to_have_text([XSS])
    page.goto("/stores/")
    expect(page.locator("tbody td").first).to_have_text(XSS)
    page.goto("/audit-log/")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody tr td:nth-child(4)")).to_have_text([XSS, XSS])

    for path in ["/", "/stores/", "/audit-log/"]:
        page.goto(path)
        page.wait_for_load_state("load")  # an injected image's error fires before load
        assert page.locator("img").count() == 0, path
    assert dialogs == []


def test_api_key_is_shown_once_then_only_its_prefix(page: Any, live_server: Any, log_in_as: Any):
    organisation = OrganisationFactory(name="Baltic Goods")
    store = StoreFactory(organisation=organisation, name="Baltic Goods LT")
    admin = _member(organisation, Role.ADMIN)
    log_in_as(page.context, admin)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    keys_url = f"/stores/{store.pk}/keys/"

    page.goto(keys_url)
    expect(page.locator("h1")).to_have_text("API keys of Baltic Goods LT")
    expect(page.get_by_text("This store has no API keys yet.")).to_be_visible()
    page.get_by_label("Name").fill("Shop backend")
    page.get_by_label("Kind").select_option(label="Secret (server-to-server)")
    page.get_by_role("button", name="Create key").click()

    expect(page.get_by_role("heading", name="Copy your new key now")).to_be_visible()
    secret = page.locator("#new-key").inner_text().strip()
    assert re.fullmatch(r"mm_sk_[0-9a-f]{8}_\S{20,}", secret), secret
    api_key = ApiKey.objects.get(store=store)
    assert api_key.name == "Shop backend"
    assert api_key.kind == ApiKey.Kind.SECRET
    assert secret.startswith(f"{api_key.prefix}_")
    assert secret not in api_key.key_hash
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("Shop backend")
    expect(row.locator("td").nth(2)).to_have_text(f"{api_key.prefix}_…")

    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_role("button", name="Copied", exact=True)).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    page.goto(keys_url)  # open the page again: the key is gone for good
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr td").nth(2)).to_have_text(f"{api_key.prefix}_…")
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.get_by_text("Copy your new key now")).to_have_count(0)
    assert secret not in page.content()
    assert ApiKey.objects.filter(store=store).count() == 1


def test_editor_sets_the_funnel_and_retention_with_the_keyboard_on_a_phone(
    phone_page: Any, live_server: Any, log_in_as: Any
):
    organisation = OrganisationFactory(name="Baltic Goods")
    store = StoreFactory(organisation=organisation, name="Baltic Goods LT")
    log_in_as(phone_page.context, _member(organisation, Role.EDITOR))
    page = phone_page

    page.goto("/stores/")
    page.get_by_role("link", name="Edit", exact=True).tap()
    expect(page.locator("h1")).to_have_text("Edit Baltic Goods LT")
    group = page.get_by_role("group", name="Funnel and retention")
    expect(group).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_count(0)  # the rest is admins'
    assert_no_horizontal_scroll(page)

    window = group.get_by_label("Conversion window (days)")
    expect(window).to_have_value("30")
    expect(window).to_have_accessible_description(
        "How long after entering the funnel a customer may take to reach the next stages."
    )
    window.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    page.keyboard.press("Tab")
    retention = group.get_by_label("Repeat-purchase window (days)")
    expect(retention).to_be_focused()
    expect(retention).to_have_accessible_description(
        "How many days after a first purchase a second one counts as a repeat purchase."
    )
    page.keyboard.press("ArrowUp")  # 90 → 91
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/stores/")
    expect(page.locator(".messages")).to_have_text("Store saved.")
    store.refresh_from_db()
    assert (store.funnel_window_days, store.retention_days) == (7, 91)
