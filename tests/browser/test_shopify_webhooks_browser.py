"""A store's Shopify webhook page on a phone, with the keyboard: the address is created, its
deliveries read as cards, and a new address is asked for before it replaces the old one."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.models import Role
from events import shopify
from events.models import ShopifyWebhook
from tests.browser.layout import assert_no_horizontal_scroll, table_as_cards
from tests.factories import MembershipFactory, OrganisationFactory, StoreFactory, UserFactory


@pytest.fixture
def admin() -> Any:
    organisation = OrganisationFactory(name="Baltic Goods")
    StoreFactory(organisation=organisation, name="Baltic Goods LT")
    user = UserFactory(name="Daiva Demo")
    MembershipFactory(organisation=organisation, user=user, role=Role.ADMIN)
    return user


def _signed_product_update(webhook: ShopifyWebhook) -> None:
    body = b'{"id": 7820011223344, "title": "Linen apron"}'
    shopify.shopify_delivery_receive(
        webhook=webhook,
        body=body,
        signature=base64.b64encode(
            hmac.new(webhook.secret.encode(), body, hashlib.sha256).digest()
        ).decode(),
        webhook_id="b54557e4-0001",
        topic="products/update",
    )


def test_shopify_webhooks_with_the_keyboard_on_a_phone(
    phone_page: Any, log_in_as: Any, admin: Any, artifacts: Path
) -> None:
    log_in_as(phone_page.context, admin)
    page = phone_page

    page.goto("/stores/")
    page.get_by_role("link", name="Shopify webhooks of Baltic Goods LT").tap()
    expect(page.locator("h1")).to_have_text("Shopify webhooks of Baltic Goods LT")
    expect(page.get_by_text("This store has no webhook address yet.")).to_be_visible()
    page.get_by_role("button", name="Create the webhook address").focus()
    page.keyboard.press("Enter")

    expect(page.locator(".message.success")).to_contain_text("Webhook address created.")
    webhook = ShopifyWebhook.objects.get()
    expect(page.locator("#webhook-url")).to_have_text(
        f"{settings.SITE_URL}/hooks/shopify/{webhook.webhook_id}/"
    )
    expect(page.locator("#webhook-secret")).to_have_text(webhook.secret)
    expect(page.get_by_text("No deliveries yet.")).to_be_visible()
    assert_no_horizontal_scroll(page)

    _signed_product_update(webhook)
    page.reload()
    deliveries = page.locator("table").last
    cards = table_as_cards(deliveries)
    assert [(c["Topic"], c["Result"], c["Detail"]) for c in cards] == [
        (
            "products/update",
            "Topic not mapped",
            "No event is made from products/update; acknowledged.",
        )
    ]
    table_as_cards(page.locator("table").first)  # the topics table, as cards too
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "phone-shopify-webhooks.png"), full_page=True)

    # A new address is asked for first: the old one stops answering at once.
    asked: list[str] = []

    def confirm(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    page.get_by_role("button", name="New address and secret").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".message.success")).to_contain_text("The old address no longer answers")
    rotated = ShopifyWebhook.objects.get()
    assert rotated.webhook_id != webhook.webhook_id
    expect(page.locator("#webhook-url")).to_contain_text(f"/hooks/shopify/{rotated.webhook_id}/")
    assert asked == [
        "Replace the address and the secret? Deliveries to the old address stop being accepted "
        "at once."
    ]
