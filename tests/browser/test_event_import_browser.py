"""The CSV import pages in a browser: upload, columns and start on a phone by keyboard, and the
progress bar that follows a running import and shows its report when it ends."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import SYSTEM
from core import services as task_services
from events import import_run, imports
from events.models import Event, EventImport
from tests.browser.layout import assert_no_horizontal_scroll
from tests.factories import MembershipFactory, OrganisationFactory, StoreFactory, UserFactory

ORDERS = (
    "Užsakymo nr;Kliento ID;Prekė;Užsakymo data;Pristatymo data\r\n"
    "A-1;17850.0;Šaukštas;01.03.2026 14:05;03.03.2026 09:00\r\n"
    "A-1;17850.0;Peilis;01.03.2026 14:04;\r\n"
    "A-2;;Lempa;02.03.2026 08:00;\r\n"
).encode("cp1257")


@pytest.fixture
def editor() -> Any:
    organisation = OrganisationFactory(name="Baltic Goods")
    user = UserFactory(name="Edda Editor")
    MembershipFactory(organisation=organisation, user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def store(editor: Any) -> Any:
    store = StoreFactory(organisation=editor.memberships.get().organisation, name="Baltic LT")
    store.event_retention_months = None
    store.save()
    return store


def test_an_orders_file_imported_on_a_phone_with_the_keyboard(
    phone_page: Any, log_in_as: Any, editor: Any, store: Any, tmp_path: Path, artifacts: Path
) -> None:
    log_in_as(phone_page.context, editor)
    page = phone_page
    csv_file = tmp_path / "uzsakymai.csv"
    csv_file.write_bytes(ORDERS)

    page.goto(f"/stores/{store.pk}/events/import/")
    expect(page.get_by_text("No imports into this store yet")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.get_by_label("Orders: dates of an order's steps in columns").check()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Step 2 of 2: what each column holds")).to_be_visible()
    expect(page.get_by_role("combobox", name="Užsakymo nr")).to_have_value("order_id")
    expect(page.get_by_role("combobox", name="Kliento ID")).to_have_value("customer_key")
    expect(page.get_by_role("combobox", name="Užsakymo data")).to_have_value("purchase")
    expect(page.get_by_role("combobox", name="Pristatymo data")).to_have_value("delivered")
    expect(page.get_by_role("combobox", name="Time zone of times without an offset")).to_have_value(
        "Europe/Vilnius"
    )
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "phone-event-import-columns.png"), full_page=True)
    page.get_by_role("button", name="Start the import").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    assert_no_horizontal_scroll(page)
    expect(page.get_by_text("No customer: the row is not imported")).to_be_visible()
    assert sorted(Event.objects.values_list("event_name__name", "customer__key")) == [
        ("delivered", "17850"),
        ("purchase", "17850"),
    ]


def test_the_progress_bar_follows_a_running_import_then_shows_the_report(
    page: Any, log_in_as: Any, editor: Any, store: Any
) -> None:
    log_in_as(page.context, editor)
    event_import = imports.event_import_upload(
        store=store,
        actor=SYSTEM,
        file=io.BytesIO(b"event,customer,time\npurchase,C-1,2026-03-01 10:00\n"),
        file_name="events.csv",
        shape="events",
    )
    task = task_services.task_create(
        organisation_id=store.organisation_id, store_id=store.pk, kind=import_run.TASK_KIND
    )
    EventImport.objects.filter(pk=event_import.pk).update(task=task)
    task_services.task_progress(task=task, done=10, total=100, phase="Reading the file")

    page.goto(f"/events/imports/{event_import.pk}/")
    bar = page.locator("#import-progress")
    expect(bar).to_have_attribute("value", "10")

    task_services.task_progress(task=task, done=60, total=100, phase="Storing events")
    expect(bar).to_have_js_property("value", 60)
    expect(page.get_by_role("status")).to_contain_text("Storing events 60 %")

    report = import_run.ImportReport(shape="events", rows=1, events_found=1, events_stored=1)
    task_services.task_done(task=task, result=report.as_dict())
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    expect(page.locator("dl.summary")).to_contain_text("Events stored")
