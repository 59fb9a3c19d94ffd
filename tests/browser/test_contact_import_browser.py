"""The contacts import's column step and a store's sending settings, on a phone and with the
keyboard only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from surveys.models import Contact, StoreSurveySettings
from tests.browser.layout import assert_no_horizontal_scroll
from tests.factories import MembershipFactory, OrganisationFactory, StoreFactory, UserFactory

CONTACTS = (
    "El. paštas;Vardas;Kalba;Kliento ID\r\n"
    "ona.zemaite.su.labai.ilgu.adresu@parduotuve-example.lt;Ona Žemaitė;lietuvių;K-1\r\n"
    "jonas@example.lt;Jonas Šimkus;en;K-2\r\n"
).encode("cp1257")


@pytest.fixture
def admin() -> Any:
    organisation = OrganisationFactory(name="Baltic Goods")
    StoreFactory(organisation=organisation, name="Baltic Goods LT")
    user = UserFactory(name="Daiva Demo")
    MembershipFactory(organisation=organisation, user=user, role=Role.ADMIN)
    return user


def test_contacts_import_columns_with_the_keyboard_on_a_phone(
    phone_page: Any, log_in_as: Any, admin: Any, tmp_path: Path, artifacts: Path
) -> None:
    log_in_as(phone_page.context, admin)
    page = phone_page
    csv_file = tmp_path / "pirkejai.csv"
    csv_file.write_bytes(CONTACTS)

    page.goto("/contacts/import/")
    assert_no_horizontal_scroll(page)
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Step 2 of 2: what each column holds")).to_be_visible()
    name_column = page.get_by_role("combobox", name="Vardas")
    expect(name_column).to_have_value("name")
    expect(page.get_by_role("combobox", name="El. paštas")).to_have_value("email")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "phone-contact-import-columns.png"), full_page=True)

    name_column.focus()
    page.keyboard.press("End")  # the last choice: Ignore this column
    expect(name_column).to_have_value("ignore")
    # The keyboard reaches the next column and then the Import button.
    page.keyboard.press("Tab")
    expect(page.get_by_role("combobox", name="Kalba")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Import")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    assert_no_horizontal_scroll(page)
    assert sorted(Contact.objects.values_list("name", "language")) == [("", "en"), ("", "lt")]


def test_store_sending_settings_with_the_keyboard_on_a_phone(
    phone_page: Any, log_in_as: Any, admin: Any, artifacts: Path
) -> None:
    log_in_as(phone_page.context, admin)
    page = phone_page

    page.goto("/stores/")
    page.get_by_role("link", name="Survey sending of Baltic Goods LT").tap()
    expect(page.locator("h1")).to_have_text("Survey sending of Baltic Goods LT")
    assert_no_horizontal_scroll(page)

    page.get_by_label("Sender name").focus()
    page.keyboard.type("Baltų Prekės")
    page.keyboard.press("Tab")
    page.keyboard.type("pagalba@baltic.example")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("400")
    page.keyboard.press("Enter")

    expect(page.locator(".form-errors, .message.error").first).to_contain_text(
        "Give a number of days from 1 to 365."
    )
    days = page.get_by_label("Fatigue cap: days before a customer can get another survey")
    expect(days).to_have_attribute("aria-invalid", "true")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "phone-store-sending-settings-error.png"), full_page=True)
    assert not StoreSurveySettings.objects.exists()

    days.fill("14")
    days.press("Enter")
    expect(page.locator(".message.success")).to_have_text(
        "Sending settings of Baltic Goods LT saved."
    )
    row = StoreSurveySettings.objects.get()
    assert (row.sender_name, row.reply_to, row.fatigue_days) == (
        "Baltų Prekės",
        "pagalba@baltic.example",
        14,
    )
