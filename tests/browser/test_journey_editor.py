"""The journey-map editor in a real browser (static/js/journey-editor/, entry main.js).

Each test starts from the "E-commerce with delivery" template: ZMOT, FMOT, SMOT, TMOT and UMOT
with 17 touchpoints, five of them moments of truth.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import Actor
from journeys import services
from journeys.models import Journey, Persona, Stage, Touchpoint
from tests.factories import MembershipFactory, UserFactory

XSS = "<img src=x onerror=alert(1)>"
MOMENTS = ["ZMOT", "FMOT", "SMOT", "TMOT", "UMOT"]
STAGE_NAMES = ["Researches", "First impression", "Buys and uses", "Delivery", "Shares and returns"]
TEMPLATE = "E-commerce with delivery (ZMOT → UMOT with TMOT)"
TOUCHPOINT_COUNT = 17
MOMENTS_OF_TRUTH = 5


@pytest.fixture
def editor(organisation: Any) -> Any:
    user = UserFactory(name="Edda Editor")
    MembershipFactory(organisation=organisation, user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def journey(organisation: Any, store: Any, editor: Any) -> Journey:
    return services.journey_create_from_template(
        organisation=organisation,
        actor=Actor(user=editor),
        template="ecommerce-delivery",
        store=store,
    )


def _stage(journey: Journey, moment: str) -> Stage:
    return journey.stages.get(moment=moment)


def _open_editor(page: Any, journey: Journey) -> Any:
    page.goto(f"/journeys/{journey.pk}/")
    editor = page.locator("#journey-editor.is-live")
    expect(editor).to_be_visible()
    return editor


def _column(page: Any, stage: Stage) -> Any:
    return page.locator(f'#journey-editor .stage-column[data-id="{stage.pk}"]')


def _card(page: Any, name: str) -> Any:
    """The card of the touchpoint named exactly `name` (its label: name, place in the stage)."""
    return page.get_by_role(
        "article", name=re.compile(rf"^{re.escape(name)}(, moment of truth)? \(")
    )


def _names_in(page: Any, stage: Stage) -> list[str]:
    return (
        _column(page, stage)
        .locator(".tp-name-input")
        .evaluate_all("inputs => inputs.map(i => i.value)")
    )


def _expect_names_in(page: Any, stage: Stage, names: list[str]) -> None:
    expect(_column(page, stage).locator(".tp-name-input")).to_have_count(len(names))
    assert _names_in(page, stage) == names


def _expect_saved(page: Any) -> None:
    expect(page.locator(".save-status")).to_have_text("All changes saved")


def _db_names(stage: Stage) -> list[str]:
    return list(
        Touchpoint.objects.filter(stage=stage).order_by("position").values_list("name", flat=True)
    )


def test_create_a_journey_from_the_template_and_land_in_the_editor(
    page: Any,
    live_server: Any,
    log_in_as: Any,
    organisation: Any,
    store: Any,
    editor: Any,
    artifacts: Any,
):
    log_in_as(page.context, editor)
    page.goto("/journeys/")
    form = page.locator("form.create-journey")
    form.get_by_label("Starting point").select_option(label=TEMPLATE)
    form.get_by_label("Store").select_option(label="Baltic Goods LT")
    form.get_by_role("button", name="Create").click()

    journey = Journey.objects.get(organisation=organisation)
    expect(page).to_have_url(f"{live_server.url}/journeys/{journey.pk}/")
    assert journey.store == store
    editor_root = page.locator("#journey-editor.is-live")
    expect(editor_root).to_be_visible()
    expect(page.locator("h1")).to_have_text("E-commerce journey with delivery")
    expect(editor_root.locator(".stage-column[data-id] .moment-code")).to_have_text(MOMENTS)
    names = editor_root.locator(".stage-name-input").evaluate_all("els => els.map(e => e.value)")
    assert names == STAGE_NAMES
    expect(editor_root.locator(".tp-card")).to_have_count(TOUCHPOINT_COUNT)
    expect(editor_root.locator(".tp-card.is-mot .mot-badge")).to_have_count(MOMENTS_OF_TRUTH)
    expect(page.locator(".save-status")).to_have_text("Changes save automatically as you edit.")
    expect(page.locator(".save-status")).to_have_attribute("aria-live", "polite")
    # The persona switcher shows the template's persona.
    expect(page.get_by_role("combobox", name="Persona")).to_have_value(
        str(journey.personas.get().pk)
    )
    expect(page.locator(".persona-facts dd")).to_have_text(
        [
            "Buys for the household online, compares before buying, reads reviews.",
            "Find the right product at a fair price; know when it arrives.",
            "Slow pages, hidden delivery costs, no news about the parcel.",
        ]
    )
    points = editor_root.locator("svg.emotion-curve polyline").get_attribute("points")
    assert len(points.split()) == TOUCHPOINT_COUNT
    page.screenshot(path=str(artifacts / "journey-editor-desktop.png"), full_page=True)


def test_drag_and_keyboard_moves_are_saved(
    page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey
):
    zmot, fmot, smot = (_stage(journey, m) for m in ("ZMOT", "FMOT", "SMOT"))
    log_in_as(page.context, editor)
    _open_editor(page, journey)

    # Add a touchpoint to ZMOT.
    _column(page, zmot).get_by_label("New touchpoint in “Researches”").fill("Unboxing video")
    page.get_by_role("button", name="Add touchpoint to “Researches”").click()
    _expect_names_in(
        page,
        zmot,
        [
            "Search results",
            "Reviews on review sites",
            "Price and product comparison",
            "Unboxing video",
        ],
    )
    _expect_saved(page)

    # Drag it by its grip to the top of FMOT.
    card = _card(page, "Unboxing video")
    target = _card(page, "Landing page")
    grip = card.locator(".grip")
    # Both ends in view: a scroll between mouse-down and drag start would pick another card.
    page.set_viewport_size({"width": 1280, "height": 1400})
    grip.drag_to(target, target_position={"x": 40, "y": 4})
    _expect_names_in(page, fmot, ["Unboxing video", "Landing page", "First product-page visit"])
    expect(_card(page, "Unboxing video")).to_be_focused()
    _expect_saved(page)

    # Keyboard: Landing page goes to the next stage (same place), then up to the top.
    landing = _card(page, "Landing page")
    landing.focus()
    page.keyboard.press("Alt+ArrowRight")
    expect(_card(page, "Landing page")).to_be_focused()
    page.keyboard.press("Alt+ArrowUp")
    expect(_card(page, "Landing page")).to_be_focused()
    moved_smot = [
        "Landing page",
        "After adding to cart",
        "Checkout",
        "Order confirmation",
        "Using the product",
    ]
    _expect_names_in(page, smot, moved_smot)
    _expect_saved(page)

    assert _db_names(zmot) == [
        "Search results",
        "Reviews on review sites",
        "Price and product comparison",
    ]
    assert _db_names(fmot) == ["Unboxing video", "First product-page visit"]
    assert _db_names(smot) == moved_smot
    journey.refresh_from_db()
    assert journey.version == 5  # created at 1: add, drag, two keyboard moves

    page.reload()
    expect(page.locator("#journey-editor.is-live")).to_be_visible()
    _expect_names_in(page, fmot, ["Unboxing video", "First product-page visit"])
    _expect_names_in(page, smot, moved_smot)


def test_the_move_buttons_work_without_drag_or_shortcuts(
    page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey
):
    tmot, umot = _stage(journey, "TMOT"), _stage(journey, "UMOT")
    log_in_as(page.context, editor)
    _open_editor(page, journey)
    card = _card(page, "Support contact")
    card.get_by_role("button", name="Move Support contact").click()
    menu = page.get_by_role("group", name="Move “Support contact”")
    expect(menu.get_by_role("button", name="↑ Up")).to_be_focused()
    menu.get_by_role("button", name="Next stage →").click()
    # The menu stays open on the moved card, focus on the button used.
    expect(
        page.get_by_role("group", name="Move “Support contact”").get_by_role(
            "button", name="Next stage →"
        )
    ).to_be_disabled()
    expect(_card(page, "Support contact")).to_be_focused()
    _expect_saved(page)
    assert _db_names(umot)[3] == "Support contact"
    assert "Support contact" not in _db_names(tmot)
    page.keyboard.press("Escape")
    expect(page.get_by_role("group", name="Move “Support contact”")).to_be_hidden()

    # Deleting asks first; cancelling keeps the card, confirming deletes it and focus moves on.
    messages: list[str] = []

    def answer(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.dismiss() if len(messages) == 1 else dialog.accept()

    page.on("dialog", answer)
    delete = _card(page, "Referral").get_by_role("button", name="Delete Referral")
    delete.click()
    expect(_card(page, "Referral")).to_have_count(1)
    delete.click()
    expect(_card(page, "Referral")).to_have_count(0)
    assert messages == ["Delete the touchpoint “Referral”? This cannot be undone."] * 2
    expect(_card(page, "Support contact")).to_be_focused()
    _expect_saved(page)
    assert _db_names(umot) == [
        "Follow-up email asking for a review",
        "Review posted",
        "Support contact",
        "Loyalty offer and repeat purchase",
    ]


def test_marking_a_moment_of_truth_persists(
    page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey
):
    log_in_as(page.context, editor)
    _open_editor(page, journey)
    card = _card(page, "Checkout")
    toggle = card.get_by_role("button", name="Moment of truth")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(card.locator(".mot-badge")).to_have_count(0)

    toggle.click()
    card = _card(page, "Checkout")
    expect(card.get_by_role("button", name="Moment of truth")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(card.locator(".mot-badge")).to_have_text("★ Moment of truth")
    expect(card).to_have_class(re.compile(r"\bis-mot\b"))
    _expect_saved(page)
    assert Touchpoint.objects.get(stage__journey=journey, name="Checkout").is_moment_of_truth

    page.reload()
    card = _card(page, "Checkout")
    expect(card.locator(".mot-badge")).to_have_text("★ Moment of truth")
    expect(card.get_by_role("button", name="Moment of truth")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#journey-editor .tp-card.is-mot")).to_have_count(MOMENTS_OF_TRUTH + 1)
    # The curve marks it too: one star per moment of truth.
    expect(page.locator("svg.emotion-curve polygon.mot")).to_have_count(MOMENTS_OF_TRUTH + 1)


def test_details_are_edited_inline_and_validation_errors_shown(
    page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey, artifacts: Any
):
    log_in_as(page.context, editor)
    _open_editor(page, journey)
    card = _card(page, "Checkout")
    card.get_by_role("button", name="Edit details of Checkout").click()
    expect(card.get_by_label("Channel")).to_be_focused()
    card = _card(page, "Checkout")
    card.get_by_label("Designed emotion").select_option(label="−2 Very negative")
    _expect_saved(page)
    card.get_by_label("Pain points").fill("Forced account creation.")
    # An event name that already signals another stage (ZMOT's "search") is refused.
    events = card.get_by_label("Event names")
    events.fill("checkout_start, search")
    events.press("Enter")
    error = card.locator(".field-error")
    expect(error).to_have_text(
        re.compile(r"The event “search” already signals the stage “Researches”")
    )
    expect(events).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".save-status")).to_contain_text("Not saved:")
    card.screenshot(path=str(artifacts / "journey-editor-card-details.png"))
    events.fill("checkout_start checkout_payment")
    events.press("Enter")
    _expect_saved(page)
    expect(card.locator(".field-error")).to_have_count(0)

    checkout = Touchpoint.objects.get(stage__journey=journey, name="Checkout")
    assert checkout.emotion == -2
    assert checkout.pain_points == "Forced account creation."
    assert checkout.event_names == ["checkout_start", "checkout_payment"]
    # The curve follows: Checkout's point is at the bottom line now.
    title = page.locator("svg.emotion-curve .dot title", has_text="Checkout (Buys and uses)")
    expect(title).to_have_text("Checkout (Buys and uses): emotion −2")


def test_journey_details_form_saves_after_map_edits_and_the_editor_keeps_working(
    page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey, organisation: Any
):
    Persona.objects.create(organisation=organisation, name="Loyal regular")
    log_in_as(page.context, editor)
    _open_editor(page, journey)
    # A map edit moves the version on; the details form follows it (no conflict with oneself).
    _card(page, "Checkout").get_by_role("button", name="Moment of truth").click()
    _expect_saved(page)
    expect(page.locator("#journey-details-version")).to_have_value("2")

    page.locator("#journey-details > summary").press("Enter")  # by keyboard
    details = page.locator("#journey-details")
    details.get_by_label("Name").fill("Delivery journey 2025")
    details.get_by_label("Online shopper").uncheck()
    details.get_by_label("Loyal regular").check()
    details.get_by_role("button", name="Save details").click()

    expect(page.locator(".message.success")).to_have_text("Journey details saved.")
    expect(page.locator("h1")).to_have_text("Delivery journey 2025")
    journey.refresh_from_db()
    assert journey.name == "Delivery journey 2025"
    assert [p.name for p in journey.personas.all()] == ["Loyal regular"]
    assert journey.version == 3
    # The reloaded page's editor works from the new version: the next map edit saves.
    expect(page.locator("#journey-editor.is-live")).to_be_visible()
    _card(page, "Checkout").get_by_role("button", name="Moment of truth").click()
    _expect_saved(page)
    assert not Touchpoint.objects.get(stage__journey=journey, name="Checkout").is_moment_of_truth
    assert Journey.objects.get(pk=journey.pk).version == 4
    expect(page.locator("#journey-details-version")).to_have_value("4")


def test_conflicting_edit_is_refused_and_reload_shows_the_other_change(
    page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey, artifacts: Any
):
    zmot = _stage(journey, "ZMOT")
    log_in_as(page.context, editor)
    _open_editor(page, journey)

    # Someone else renames a stage while this page is open.
    colleague = UserFactory(name="Other Person")
    services.stage_update(
        stage=zmot,
        actor=Actor(user=colleague),
        version=journey.version,
        name="Research and compare",
    )

    name = _card(page, "Search results").locator(".tp-name-input")
    name.fill("Search engine results")
    name.press("Tab")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Someone else changed this journey while you were editing.")
    expect(alert).to_contain_text("Your change was not saved.")
    expect(alert.locator("li")).to_have_text(
        ["Rename the touchpoint “Search results” to “Search engine results”"]
    )
    expect(page.locator(".save-status")).to_have_text(
        "Not saved: someone else changed this journey."
    )
    # A move made meanwhile is refused too, and put back; the message lists both.
    _card(page, "Price and product comparison").focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(alert.locator("li")).to_have_text(
        [
            "Rename the touchpoint “Search results” to “Search engine results”",
            "Move “Price and product comparison” to “Researches”, position 2 of 3",
        ]
    )
    expect(_card(page, "Price and product comparison")).to_be_focused()
    _expect_names_in(
        page,
        zmot,
        ["Search engine results", "Reviews on review sites", "Price and product comparison"],
    )
    page.screenshot(path=str(artifacts / "journey-editor-conflict.png"))
    journey.refresh_from_db()
    assert journey.version == 2
    assert Stage.objects.get(pk=zmot.pk).name == "Research and compare"
    assert Touchpoint.objects.filter(name="Search results", stage=zmot).exists()
    assert not Touchpoint.objects.filter(name="Search engine results").exists()

    alert.get_by_role("button", name="Reload").click()
    expect(page.locator(".conflict-box")).to_be_empty()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(_column(page, zmot).locator(".stage-name-input")).to_have_value("Research and compare")
    expect(_card(page, "Search results")).to_have_count(1)
    expect(page.locator(".save-status")).to_have_text("Reloaded: you see the latest version (2).")

    # Now based on the new version, the same edit goes through.
    name = _card(page, "Search results").locator(".tp-name-input")
    name.fill("Search engine results")
    name.press("Enter")
    _expect_saved(page)
    assert Touchpoint.objects.filter(name="Search engine results", stage=zmot).exists()


def test_markup_in_names_renders_as_text(
    page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey
):
    services.touchpoint_create(
        stage=_stage(journey, "FMOT"),
        actor=Actor(user=editor),
        version=journey.version,
        name=XSS,
        pain_points=XSS,
    )
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    log_in_as(page.context, editor)
    _open_editor(page, journey)
    page.wait_for_load_state("load")

    card = page.locator("#journey-editor .tp-card").nth(5)
    expect(card.locator(".tp-name-input")).to_have_value(XSS)
    expect(card.locator(".tp-pain")).to_have_text(f"Pain points: {XSS}")
    expect(page.locator("svg.emotion-curve .dot title", has_text=XSS)).to_have_text(
        f"{XSS} (First impression): emotion 0"
    )
    assert page.locator("#journey-editor img").count() == 0
    assert page.locator("img").count() == 0
    assert dialogs == []


def test_viewer_sees_the_map_and_curve_without_edit_controls(
    page: Any,
    live_server: Any,
    log_in_as: Any,
    organisation: Any,
    journey: Journey,
    artifacts: Any,
):
    viewer = UserFactory(name="Vilma Viewer")
    MembershipFactory(organisation=organisation, user=viewer, role=Role.VIEWER)
    log_in_as(page.context, viewer)
    page.goto(f"/journeys/{journey.pk}/")
    editor = page.locator("#journey-editor.is-live.is-readonly")
    expect(editor).to_be_visible()

    expect(editor.locator(".stage-column .moment-code")).to_have_text(MOMENTS)
    expect(editor.locator(".stage-name")).to_have_text(STAGE_NAMES)
    expect(editor.locator(".tp-card")).to_have_count(TOUCHPOINT_COUNT)
    expect(editor.locator(".tp-card.is-mot .mot-badge")).to_have_count(MOMENTS_OF_TRUTH)
    expect(editor.locator(".tp-name").first).to_have_text("Search results")

    curve = editor.locator("svg.emotion-curve")
    expect(curve).to_be_visible()
    expect(curve.locator("title").first).to_have_text("Emotion curve")
    expect(curve).to_have_attribute("role", "img")
    points = curve.locator("polyline").get_attribute("points")
    assert len(points.split()) == TOUCHPOINT_COUNT
    # Parcel arrival (+2) is the highest point, Support contact (-1) the lowest.
    ys = [float(p.split(",")[1]) for p in points.split()]
    assert ys.index(min(ys)) == 11
    assert ys.index(max(ys)) == 12

    # Nothing to edit: no fields, no buttons, nothing draggable; only the persona switcher.
    assert editor.locator("input, textarea, button, form").count() == 0
    expect(editor.locator("select")).to_have_count(1)
    expect(editor.locator("select")).to_have_id("persona-select")
    assert editor.locator("[draggable='true'], [tabindex='0'].tp-card").count() == 0
    expect(editor.locator(".save-status")).to_have_count(0)
    expect(page.get_by_text("Add a stage")).to_have_count(0)
    expect(page.get_by_text("You can view this map. Editors can change it.")).to_be_visible()
    page.screenshot(path=str(artifacts / "journey-editor-viewer.png"))


def test_phone_page_does_not_overflow_and_the_map_scrolls(
    phone_page: Any,
    live_server: Any,
    log_in_as: Any,
    editor: Any,
    journey: Journey,
    artifacts: Any,
):
    page = phone_page
    log_in_as(page.context, editor)
    _open_editor(page, journey)
    expect(page.locator("svg.emotion-curve")).to_be_visible()
    sizes = page.evaluate(
        """() => {
        const map = document.querySelector('.map-scroll');
        return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                mapScroll: map.scrollWidth, mapClient: map.clientWidth,
                overflow: getComputedStyle(map).overflowX};
    }"""
    )
    assert sizes["inner"] == 390, sizes
    assert sizes["scroll"] <= sizes["inner"], sizes
    assert sizes["mapScroll"] > sizes["mapClient"] * 4, sizes
    assert sizes["overflow"] == "auto", sizes
    page.screenshot(path=str(artifacts / "journey-editor-phone.png"), full_page=True)

    # The columns scroll inside their container, and the page stays put.
    page.locator(".map-scroll").evaluate("el => { el.scrollLeft = 600; }")
    assert page.locator(".map-scroll").evaluate("el => el.scrollLeft") > 400  # snaps to a column
    assert page.evaluate("window.scrollX") == 0
    page.locator(".stage-row").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "journey-editor-phone-map.png"))
    # Touch targets: every button in the editor is at least 40px high.
    heights = page.locator("#journey-editor button:visible").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 40, min(heights)


def test_empty_journey_explains_what_to_do_and_stages_can_be_added_and_deleted(
    page: Any, live_server: Any, log_in_as: Any, organisation: Any, editor: Any
):
    journey = services.journey_create(
        organisation=organisation, actor=Actor(user=editor), name="Blank map"
    )
    log_in_as(page.context, editor)
    _open_editor(page, journey)
    expect(page.locator(".map-empty")).to_contain_text("This journey has no stages yet.")
    expect(page.locator(".map-empty")).to_contain_text("Add a stage")
    expect(page.locator(".lane-empty")).to_have_text(
        "The emotion curve appears once the map has touchpoints."
    )

    page.locator("#new-stage-name").fill("Delivery")
    page.locator("#new-stage-moment").select_option("TMOT")
    page.get_by_role("button", name="Add stage").click()
    expect(page.locator(".stage-column[data-id] .moment-code")).to_have_text(["TMOT"])
    page.locator("#new-stage-name").fill("Realises a need")
    page.locator("#new-stage-moment").select_option("LZMOT")
    page.get_by_role("button", name="Add stage").click()
    # LZMOT goes before TMOT, where its code belongs.
    expect(page.locator(".stage-column[data-id] .moment-code")).to_have_text(["LZMOT", "TMOT"])
    expect(page.locator(".map-empty")).to_have_count(0)
    _expect_saved(page)
    assert list(journey.stages.values_list("moment", flat=True)) == ["LZMOT", "TMOT"]

    # A custom stage (no code) goes last; dragged by its header, it moves to the front.
    page.locator("#new-stage-name").fill("Onboarding")
    page.get_by_role("button", name="Add stage").click()
    codes = page.locator(".stage-column[data-id] .moment-code")
    expect(codes).to_have_text(["LZMOT", "TMOT", "Custom"])
    custom = page.locator(".stage-column[data-id]").nth(2)
    first = page.locator(".stage-column[data-id]").nth(0)
    custom.locator(".stage-top .grip").drag_to(first, target_position={"x": 10, "y": 10})
    expect(codes).to_have_text(["Custom", "LZMOT", "TMOT"])
    _expect_saved(page)
    assert list(journey.stages.values_list("name", flat=True)) == [
        "Onboarding",
        "Realises a need",
        "Delivery",
    ]
    # Moment codes keep their order: LZMOT cannot go after TMOT, and nothing is sent.
    page.get_by_role("button", name="Move stage “Realises a need” right").click()
    expect(page.locator(".save-status")).to_have_text(
        "Not moved: Moments of truth follow their order along the journey "
        "(LZMOT, ZMOT, FMOT, SMOT, TMOT, UMOT): LZMOT must stay before TMOT. "
        "Only custom stages move freely."
    )
    expect(codes).to_have_text(["Custom", "LZMOT", "TMOT"])
    # The keyboard moves a stage too: Alt+ArrowRight on its Move buttons.
    page.get_by_role("button", name="Move stage “Onboarding” right").focus()
    page.keyboard.press("Alt+ArrowRight")
    expect(codes).to_have_text(["LZMOT", "Custom", "TMOT"])
    expect(page.get_by_role("button", name="Move stage “Onboarding” right")).to_be_focused()
    _expect_saved(page)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete stage “Delivery”").click()
    expect(codes).to_have_text(["LZMOT", "Custom"])
    _expect_saved(page)
    assert list(journey.stages.values_list("name", flat=True)) == [
        "Realises a need",
        "Onboarding",
    ]


def test_a_new_share_link_is_confirmed_first_with_the_keyboard(
    page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey
):
    old = services.journey_share_link_create(journey=journey, actor=Actor(user=editor))
    log_in_as(page.context, editor)
    _open_editor(page, journey)

    new_link = page.get_by_role("link", name="New share link…")
    new_link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/journeys/{journey.pk}/share/")
    expect(page.locator("main")).to_contain_text(
        "The current link stops working at once: anyone who opens it gets “Page not found”."
    )
    # Cancel keeps the link; the question comes back, and Enter on its button replaces it.
    page.get_by_role("link", name="Cancel").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/journeys/{journey.pk}/")
    assert page.request.get(f"/share/journeys/{old}/").status == 200
    page.get_by_role("link", name="New share link…").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Replace the link").focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/journeys/{journey.pk}/")
    new = page.locator("#share-url").inner_text()
    assert new.startswith(f"{live_server.url}/share/journeys/") and old not in new
    assert page.request.get(f"/share/journeys/{old}/").status == 404
    assert page.request.get(new).status == 200


# Each visible button of the map, scrolled to an edge of the window (the bottom right, then the
# top left): what is drawn at its centre, when that centre is in view, if not the button.
COVERED_BUTTONS = """([block, inline]) => {
  const covered = [];
  let checked = 0;
  for (const button of document.querySelectorAll("#journey-editor .map-scroll button")) {
    if (!button.checkVisibility()) continue;
    button.scrollIntoView({block, inline});
    const box = button.getBoundingClientRect();
    const [x, y] = [box.left + box.width / 2, box.top + box.height / 2];
    const clip = button.closest(".map-scroll").getBoundingClientRect();
    if (x < clip.left || x > clip.right || y < clip.top || y > clip.bottom) continue;
    if (y < 0 || y > window.innerHeight) continue;
    checked += 1;
    const top = document.elementFromPoint(x, y);
    if (!button.contains(top)) {
      const name = button.getAttribute("aria-label") || button.textContent.trim();
      covered.push(`${name} under ${top ? top.className || top.tagName : "nothing"}`);
    }
  }
  return {checked, covered};
}"""


def test_the_save_status_covers_no_button_on_a_phone(
    phone_page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey, artifacts: Any
):
    page = phone_page
    log_in_as(page.context, editor)
    _open_editor(page, journey)
    name = page.locator(".tp-name-input").first
    name.fill("Search results page")
    name.press("Enter")
    _expect_saved(page)
    expect(page.locator(".save-status")).to_be_visible()
    page.screenshot(path=str(artifacts / "journey-editor-phone-saved.png"))

    for edges in (["end", "end"], ["start", "start"]):
        found = page.evaluate(COVERED_BUTTONS, edges)
        assert found["checked"] > 30, found
        assert found["covered"] == [], (edges, found["covered"])


def test_a_stages_experiments_are_listed_on_the_active_map_as_text(
    page: Any, live_server: Any, log_in_as: Any, editor: Any, journey: Journey
) -> None:
    from datetime import date

    actor = Actor(user=editor)
    journey = services.journey_activate(journey=journey, actor=actor, version=journey.version)
    cart = Touchpoint.objects.get(stage__journey=journey, event_names=["add_to_cart"])
    experiment = services.experiment_create(
        touchpoint=cart,
        actor=actor,
        title=XSS,
        change="Delivery date shown on the cart.",
        started_on=date(2026, 2, 1),
        metric="conversion",
    )
    log_in_as(page.context, editor)
    _open_editor(page, journey)
    smot = _column(page, _stage(journey, "SMOT"))
    listed = smot.locator(".stage-experiments")
    expect(listed.locator("summary")).to_have_text("Experiments (1)")
    listed.locator("summary").click()
    link = listed.locator("a")
    expect(link).to_have_text(XSS)
    assert link.get_attribute("href") == (
        f"/stores/{journey.store_id}/experiments/#experiment-{experiment.pk}"
    )
    assert _column(page, _stage(journey, "FMOT")).locator(".stage-experiments").count() == 0
    assert page.locator("#journey-editor img").count() == 0
