"""The survey builder, its preview and the results page in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import Actor
from surveys import services, tokens
from surveys.models import Invitation, Question, Survey
from tests.factories import MembershipFactory, StoreFactory, UserFactory

LT_NPS = "Kokia tikimybė, kad rekomenduotumėte parduotuvę Baltic Goods LT draugui ar kolegai?"
LT_REASON = "Kodėl taip įvertinote?"


@pytest.fixture
def editor(organisation: Any) -> Any:
    user = UserFactory(name="Edda Editor")
    MembershipFactory(organisation=organisation, user=user, role=Role.EDITOR)
    return user


def _questions(survey: Survey) -> list[Question]:
    return list(survey.questions.order_by("position", "id"))


def _answer(survey: Survey, email: str, answers: dict[int, Any]) -> None:
    contact, _created = services.contact_upsert(store=survey.store, email=email)
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
    services.response_save(invitation=invitation, answers=answers, language="lt", submit=True)


def _no_sideways_scroll(page: Any) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["inner"] == page.viewport_size["width"], widths
    assert widths["scroll"] <= widths["inner"], widths


def test_build_an_nps_survey_preview_it_in_lithuanian_and_activate_it(
    page: Any,
    live_server: Any,
    log_in_as: Any,
    organisation: Any,
    store: Any,
    editor: Any,
    artifacts: Any,
):
    log_in_as(page.context, editor)
    page.goto("/surveys/")
    form = page.locator("form.create-survey")
    form.get_by_label("Net Promoter Score (NPS)").check()
    form.get_by_role("combobox", name="Store").select_option(label="Baltic Goods LT")
    expect(form.get_by_role("checkbox")).to_have_count(6)
    # Ticked at first: the store's language and English; the others a click away.
    ticked = {"English": True, "Lithuanian": True, "Latvian": False, "Czech": False}
    for name, checked in ticked.items():
        expect(form.get_by_role("checkbox", name=name)).to_be_checked(checked=checked)
    form.get_by_role("checkbox", name="Latvian").check()
    form.get_by_role("button", name="Create survey").click()

    survey = Survey.objects.get(organisation=organisation)
    expect(page).to_have_url(f"{live_server.url}/surveys/{survey.pk}/")
    expect(page.locator("h1")).to_have_text("Rekomendavimo tikimybė (NPS)")
    assert survey.template_key == "nps"
    assert survey.languages == ["en", "lt", "lv"]

    # Show the Lithuanian texts only, then change the second question's.
    switch = page.get_by_label("Show texts in")
    expect(switch).to_have_value("lt")  # the survey's default language
    switch.select_option("lt")
    reason = _questions(survey)[1]
    card = page.locator(f"#question-{reason.pk}")
    expect(card.get_by_label("Question · English (en)")).to_be_hidden()
    field = card.get_by_label("Question · Lithuanian (lt)")
    expect(field).to_have_value("Kokia pagrindinė Jūsų įvertinimo priežastis?")
    field.fill(LT_REASON)
    card.get_by_role("button", name="Save question").click()
    expect(page.locator(".message.success")).to_have_text("Question saved.")
    reason.refresh_from_db()
    assert reason.text["lt"] == LT_REASON
    assert reason.text["en"] == "What is the main reason for your score?"
    page.screenshot(path=str(artifacts / "survey-builder-desktop.png"), full_page=True)

    # The preview in Lithuanian: the buyer's page, step by step, nothing saved.
    preview = page.locator("form.preview-form")
    preview.get_by_label("Language").select_option("lt")
    preview.get_by_role("button", name="Open preview").click()
    expect(page).to_have_url(re.compile(rf"/surveys/{survey.pk}/preview/\?language=lt$"))
    expect(page.locator("html")).to_have_attribute("lang", "lt")
    expect(page.locator(".question-title")).to_have_text(LT_NPS)
    scores = page.locator(".scale-option label")
    expect(scores).to_have_text([str(n) for n in range(11)])
    expect(page.locator(".scale-ends")).to_contain_text("0 = Visiškai netikėtina")
    expect(page.locator(".scale-ends")).to_contain_text("10 = Labai tikėtina")
    expect(page.locator(".progress-text")).to_have_text("Klausimas 1 iš 2")
    page.screenshot(path=str(artifacts / "survey-preview-desktop.png"), full_page=True)
    page.get_by_role("radio", name="9", exact=True).check()
    page.get_by_role("button", name="Toliau").click()
    expect(page.locator(".question-title")).to_have_text(LT_REASON)
    page.get_by_role("button", name="Siųsti").click()
    expect(page.locator(".message-panel h1")).to_have_text("Dėkojame!")
    assert Invitation.objects.count() == 0
    assert not survey.responses.exists()
    page.get_by_role("link", name="Back to the survey").click()

    # Activating needs a trigger event: without one, the service's message shows.
    settings = page.locator("form.settings-form")
    page.get_by_label("Show texts in").select_option("")
    settings.get_by_label("Trigger event").fill("")
    settings.get_by_role("button", name="Save settings").click()
    expect(page.locator(".message.success")).to_have_text("Settings saved.")
    page.get_by_role("button", name="Activate").click()
    expect(page.locator(".message.error")).to_have_text(
        "Set the event that triggers the survey before activating it."
    )
    survey.refresh_from_db()
    assert survey.status == "draft"
    page.locator("form.settings-form").get_by_label("Trigger event").fill("delivered")
    page.locator("form.settings-form").get_by_role("button", name="Save settings").click()
    page.get_by_role("button", name="Activate").click()
    expect(page.locator(".message.success")).to_have_text(
        "Status of “Rekomendavimo tikimybė (NPS)”: Active."
    )
    expect(page.locator(".badge.status-active")).to_have_text("Active")
    survey.refresh_from_db()
    assert (survey.status, survey.trigger_event) == ("active", "delivered")


@pytest.fixture
def answered_nps(organisation: Any, store: Any, editor: Any) -> Survey:
    actor = Actor(user=editor)
    survey = services.survey_create_from_template(
        organisation=organisation, store=store, actor=actor, template="nps"
    )
    services.survey_set_status(survey=survey, actor=actor, status="active")
    score, reason = _questions(survey)
    for n, value in enumerate([10, 9, 9, 8, 7, 6, 3, 10]):
        answers: dict[int, Any] = {score.pk: value}
        if n == 6:
            answers[reason.pk] = "Siuntinys vėlavo savaitę, o į laiškus niekas neatsakė."
        _answer(survey, f"buyer{n}@example.com", answers)
    return survey


def test_the_new_survey_form_ticks_the_chosen_stores_language(
    page: Any, log_in_as: Any, organisation: Any, store: Any, editor: Any
):
    StoreFactory(organisation=organisation, name="Baltic Goods RO", default_language="ro")
    log_in_as(page.context, editor)
    page.goto("/surveys/")
    form = page.locator("form.create-survey")
    stores = form.get_by_role("combobox", name="Store")
    boxes = form.get_by_role("checkbox")

    def ticked() -> list[str]:
        return [box.get_attribute("value") for box in boxes.all() if box.is_checked()]

    expect(stores).to_have_value(str(store.pk))
    assert ticked() == ["en", "lt"]
    stores.select_option(label="Baltic Goods RO")
    assert ticked() == ["en", "ro"]
    # A box the user ticks or unticks stays so when the store changes again.
    form.get_by_role("checkbox", name="Czech").check()
    form.get_by_role("checkbox", name="Romanian").uncheck()
    form.get_by_role("checkbox", name="Romanian").check()
    stores.select_option(label="Baltic Goods LT")
    assert ticked() == ["en", "lt", "cs", "ro"]
    form.get_by_role("button", name="Create survey").click()

    survey = Survey.objects.get(organisation=organisation)
    assert (survey.store, sorted(survey.languages)) == (store, ["cs", "en", "lt", "ro"])


def test_results_chart_renders_on_a_phone_without_sideways_scrolling(
    phone_page: Any,
    live_server: Any,
    log_in_as: Any,
    editor: Any,
    answered_nps: Survey,
    artifacts: Any,
):
    page = phone_page
    log_in_as(page.context, editor)
    page.goto(f"/surveys/{answered_nps.pk}/results/")
    chart = page.locator(".js-plotly-plot").first
    expect(chart).to_be_visible()
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator(".plot-container")).to_have_count(1)
    # Eleven bars, one per score of 0–10.
    expect(chart.locator(".bars .point")).to_have_count(11)
    # 4 promoters, 2 passives, 2 detractors of 8: +25.0.
    expect(page.locator(".metric-value").nth(2)).to_contain_text("+25.0")
    box = chart.bounding_box()
    assert box is not None and box["width"] <= 390
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / "survey-results-phone.png"), full_page=True)


def test_results_and_builder_on_desktop_and_phone(
    new_context: Any,
    live_server: Any,
    log_in_as: Any,
    editor: Any,
    answered_nps: Survey,
    artifacts: Any,
):
    desktop = new_context().new_page()
    log_in_as(desktop.context, editor)
    desktop.goto(f"/surveys/{answered_nps.pk}/results/")
    expect(desktop.locator(".js-plotly-plot svg.main-svg").first).to_be_visible()
    desktop.screenshot(path=str(artifacts / "survey-results-desktop.png"), full_page=True)

    phone = new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    ).new_page()
    log_in_as(phone.context, editor)
    for path, name in (
        (f"/surveys/{answered_nps.pk}/", "survey-builder-phone.png"),
        (f"/surveys/{answered_nps.pk}/preview/?language=lt", "survey-preview-phone.png"),
        ("/surveys/", "survey-list-phone.png"),
        ("/contacts/", "contacts-phone.png"),
    ):
        phone.goto(path)
        expect(phone.locator("h1").first).to_be_visible()
        _no_sideways_scroll(phone)
        phone.screenshot(path=str(artifacts / name), full_page=True)
