"""The events page and "map to a touchpoint" in a real browser."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import Actor
from events.ingest import EventIn
from events.models import EventSource
from events.services import events_ingest
from journeys import services as journey_services
from journeys.models import Touchpoint
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def editor(organisation: Any) -> Any:
    user = UserFactory(name="Edda Editor")
    MembershipFactory(organisation=organisation, user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def active_journey(organisation: Any, store: Any, editor: Any) -> Any:
    actor = Actor(user=editor)
    journey = journey_services.journey_create_from_template(
        organisation=organisation, actor=actor, template="ecommerce-delivery", store=store
    )
    return journey_services.journey_activate(journey=journey, actor=actor, version=journey.version)


def _ingest(store: Any, names: list[str]) -> None:
    now = timezone.now()
    events_ingest(
        store=store,
        items=[
            EventIn(i, f"b-{name}-{i}", name, f"c{i}", False, now - timedelta(minutes=i), "s1")
            for i, name in enumerate(names)
        ],
        source=EventSource.API,
    )


def test_an_unmapped_event_is_mapped_to_a_new_touchpoint_in_its_stage(
    page: Any, log_in_as: Any, store: Any, editor: Any, active_journey: Any, artifacts: Any
) -> None:
    _ingest(store, ["product_view", "wishlist_add", "return_label_printed"])
    log_in_as(page.context, editor)
    page.goto(f"/stores/{store.pk}/events/")
    expect(page.locator(".event-table tbody tr")).to_have_count(3)
    unmapped = page.locator(".unmapped-list li")
    expect(unmapped).to_have_count(2)
    page.screenshot(path=str(artifacts / "events-page.png"), full_page=True)
    unmapped.filter(has_text="wishlist_add").get_by_role("link").click()

    editor_root = page.locator("#journey-editor.is-live")
    expect(editor_root).to_be_visible()
    expect(page.locator(".map-event-note")).to_contain_text("Mapping the event wishlist_add.")
    focused = page.locator(":focus")
    expect(focused).to_have_value("Wishlist add")
    first_stage = active_journey.stages.order_by("position").first()
    expect(focused).to_have_attribute("data-focus", f"stage:{first_stage.pk}:new")
    focused.fill("Adds to wishlist")
    focused.press("Enter")
    expect(page.locator(".map-event-note")).to_contain_text(
        "The event wishlist_add is now mapped to “Adds to wishlist”"
    )
    touchpoint = Touchpoint.objects.get(name="Adds to wishlist")
    assert touchpoint.event_names == ["wishlist_add"]
    assert touchpoint.stage_id == first_stage.pk


def test_the_events_page_on_a_phone_and_a_test_event_arriving(
    phone_page: Any, log_in_as: Any, store: Any, editor: Any, artifacts: Any
) -> None:
    _ingest(store, ["page_view"])
    log_in_as(phone_page.context, editor)
    phone_page.goto(f"/stores/{store.pk}/events/")
    rows = phone_page.locator(".event-table tbody tr")
    expect(rows).to_have_count(1)
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= phone_page.viewport_size["width"]
    _ingest(store, ["purchase"])  # sent while the page is open: it shows up by itself
    expect(rows).to_have_count(2, timeout=15_000)
    expect(rows.first).to_contain_text("purchase")
    phone_page.screenshot(path=str(artifacts / "events-page-phone.png"), full_page=True)
