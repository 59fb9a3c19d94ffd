"""The organisation view on a phone: the table scrolls sideways in its box with the store
column kept in view, the page itself does not, and the sort links work from the keyboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.browser.layout import assert_no_horizontal_scroll
from tests.dashboards.test_organisation_view import alpha, bravo, charlie
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory


@pytest.fixture
def viewer(now: datetime) -> Any:
    organisation = OrganisationFactory(name="Baltic Goods")
    alpha(organisation)
    bravo(organisation)
    charlie(organisation)
    user = UserFactory(name="Vida Viewer")
    MembershipFactory(organisation=organisation, user=user, role=Role.VIEWER)
    return user


def test_the_organisation_table_scrolls_in_its_box_with_the_store_column_kept(
    phone_page: Any, log_in_as: Any, viewer: Any, artifacts: Any
) -> None:
    log_in_as(phone_page.context, viewer)
    page = phone_page
    page.goto("/dashboard/organisation/?period=month:2026-01")
    expect(page.locator("h1")).to_have_text("All stores of Baltic Goods")
    assert_no_horizontal_scroll(page)
    box = page.locator(".org-wrap")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth"), "the table scrolls in its box"
    page.screenshot(path=str(artifacts / "phone-organisation.png"), full_page=True)
    store_cell = page.get_by_role("rowheader", name="Bravo")
    before = store_cell.bounding_box()
    box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    after = store_cell.bounding_box()
    assert before and after and abs(after["x"] - before["x"]) < 1, "the store column stays"
    # The last column has come into view beside it.
    last = page.locator("#organisation-table tfoot td").last
    assert (last.bounding_box() or {"x": 1e9})["x"] < page.viewport_size["width"]
    page.screenshot(path=str(artifacts / "phone-organisation-scrolled.png"), full_page=True)

    # Keyboard: a sort link is reached and followed like any link.
    link = page.get_by_role("link", name="FMOT Conversion")
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(
        "/dashboard/organisation/?period=month%3A2026-01&sort=FMOT-conversion&dir=asc"
    )
    names = page.locator("#organisation-table tbody th[scope=row] a")
    expect(names).to_have_text(["Alpha", "Charlie", "Bravo"])
    header = page.locator("th[aria-sort]")
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(header).to_contain_text("FMOT Conversion")


@pytest.mark.parametrize("language", ["lt", "ro", "cs"])
def test_the_median_row_keeps_its_translated_words_whole(
    phone_page: Any, log_in_as: Any, viewer: Any, language: str
) -> None:
    """The sticky first column may break a long store name anywhere, but the median row's
    label is a phrase of the catalogue: "Parduotuvių mediana", never "Parduotuvi" + "ų"."""
    viewer.language = language
    viewer.save(update_fields=["language"])
    log_in_as(phone_page.context, viewer)
    page = phone_page
    page.goto("/dashboard/organisation/?period=month:2026-01")
    label = page.locator("#organisation-table tfoot th[scope=row]")
    split = label.evaluate(
        """th => {
          const text = th.firstChild;
          const broken = [];
          for (const match of text.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(text, match.index);
            range.setEnd(text, match.index + match[0].length);
            if (range.getClientRects().length > 1) broken.push(match[0]);
          }
          return broken;
        }"""
    )
    assert split == [], f"words broken across lines: {split}"
    assert_no_horizontal_scroll(page)
