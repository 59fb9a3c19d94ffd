"""A buyer answers a survey in a real browser: phone-sized, keyboard only, two languages."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from accounts.services import Actor
from surveys import services, tokens
from surveys.models import Answer, Invitation, Question, Response, Survey
from tests.factories import MembershipFactory, OrganisationFactory, StoreFactory, UserFactory

XSS = "<img src=x onerror=alert(1)>"


def _survey(
    template: str, languages: tuple[str, ...] = ("en", "lt"), store_name: str = "Baltic Goods LT"
) -> Survey:
    organisation = OrganisationFactory(name="Baltic Goods")
    store = StoreFactory(organisation=organisation, name=store_name)
    user = UserFactory()
    MembershipFactory(organisation=organisation, user=user, role="editor")
    actor = Actor(user=user)
    survey = services.survey_create_from_template(
        organisation=organisation,
        store=store,
        actor=actor,
        template=template,
        languages=list(languages),
    )
    return services.survey_set_status(survey=survey, actor=actor, status="active")


def _sent_link(survey: Survey) -> tuple[Invitation, str]:
    """An invitation emailed to an English-speaking buyer (to the locmem outbox)."""
    services.contact_upsert(
        store=survey.store, email="ona@example.com", customer_key="C-1", language="en"
    )
    [invitation] = services.invitations_trigger(
        store=survey.store,
        event_name=survey.trigger_event,
        occurred_at=survey.created_at - survey.delay,
        customer_key="C-1",
    )
    assert services.invitation_send(invitation_id=invitation.pk).status == "sent"
    return invitation, tokens.token_for(invitation.nonce)


def _questions(survey: Survey) -> list[Question]:
    return list(survey.questions.order_by("position"))


def tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until the focused element matches the selector, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def assert_fits(page: Any) -> None:
    """No sideways scrolling, and no zooming out to fit something too wide."""
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["inner"] == page.viewport_size["width"], widths
    assert widths["scroll"] <= widths["inner"], widths


def focus_ring(page: Any) -> str:
    """The outline drawn for the focused control (a scale draws it on the radio's label)."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const hidden = getComputedStyle(el).opacity === '0';
          const shown = el.type === 'radio' && hidden && el.labels.length ? el.labels[0] : el;
          const style = getComputedStyle(shown);
          return `${style.outlineStyle} ${style.outlineWidth}`;
        }"""
    )


def test_a_buyer_answers_on_a_phone_with_the_keyboard_only(
    phone_page: Any, live_server: Any, artifacts: Any
) -> None:
    survey = _survey("post-purchase-csat")
    rating, improve, comment = _questions(survey)
    invitation, token = _sent_link(survey)
    dialogs: list[str] = []
    phone_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page = phone_page

    # The email's "4" link: the score is chosen, nothing is recorded yet.
    page.goto(f"/s/{token}/?q{rating.pk}=4")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".progress-text")).to_have_text("Question 1 of 3")
    expect(page.locator(f"#q{rating.pk}-4")).to_be_checked()
    assert_fits(page)
    page.screenshot(path=str(artifacts / "survey-answer-phone-en.png"), full_page=True)
    assert Response.objects.count() == 0

    # Switch to Lithuanian with the keyboard; the chosen score stays.
    tab_to(page, 'a[hreflang="lt"]')
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "lt")
    expect(page.locator(".progress-text")).to_have_text("Klausimas 1 iš 3")
    expect(page.locator("h1")).to_have_text("Kiek esate patenkinti apsipirkimu mūsų parduotuvėje?")
    expect(page.locator(f"#q{rating.pk}-4")).to_be_checked()
    assert_fits(page)

    # Tab enters the scale on the chosen score; an arrow key changes it; Enter goes on.
    tab_to(page, f'input[name="q{rating.pk}"]')
    assert page.evaluate("document.activeElement.value") == "4"
    assert focus_ring(page) == "solid 3px"
    page.keyboard.press("ArrowRight")
    expect(page.locator(f"#q{rating.pk}-5")).to_be_checked()
    page.keyboard.press("Enter")

    expect(page.locator(".progress-text")).to_have_text("Klausimas 2 iš 3")
    expect(page.locator("legend")).to_have_text("Ką galėtume daryti geriau?")
    assert_fits(page)
    tab_to(page, f"#q{improve.pk}-0")
    assert focus_ring(page) == "solid 3px"
    page.keyboard.press("Space")
    tab_to(page, f"#q{improve.pk}-2")
    page.keyboard.press("Space")
    expect(page.get_by_label("Kainos")).to_be_checked()
    page.screenshot(path=str(artifacts / "survey-answer-phone-lt-choices.png"), full_page=True)
    tab_to(page, 'button[value="next"]')
    page.keyboard.press("Enter")

    # The free text is saved with Back, and shown again as text, not as markup.
    expect(page.locator(".progress-text")).to_have_text("Klausimas 3 iš 3")
    tab_to(page, f"#q{comment.pk}")
    page.keyboard.type(XSS)
    tab_to(page, 'button[value="back"]')
    page.keyboard.press("Enter")
    expect(page.locator(".progress-text")).to_have_text("Klausimas 2 iš 3")
    expect(page.get_by_label("Kainos")).to_be_checked()
    tab_to(page, 'button[value="next"]')
    page.keyboard.press("Enter")
    expect(page.locator(f"#q{comment.pk}")).to_have_value(XSS)
    assert page.locator("img").count() == 0
    assert_fits(page)
    page.screenshot(path=str(artifacts / "survey-answer-phone-lt-text.png"), full_page=True)

    tab_to(page, 'button[value="submit"]')
    expect(page.locator('button[value="submit"]')).to_have_text("Siųsti")
    page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Dėkojame!")
    expect(page.locator("main")).to_contain_text("Dėkojame už atsakymus! Jie padės mums tobulėti.")
    assert_fits(page)
    page.screenshot(path=str(artifacts / "survey-answer-phone-thanks.png"), full_page=True)
    assert dialogs == []

    response = Response.objects.get(invitation=invitation)
    assert response.submitted_at is not None
    assert response.language == "lt"
    assert {
        a.question_id: (a.number, a.choices, a.text)
        for a in Answer.objects.filter(response=response)
    } == {
        rating.pk: (5, [], ""),
        improve.pk: (None, [0, 2], ""),
        comment.pk: (None, [], XSS),
    }


def test_a_missing_answer_is_announced_and_focused_on_a_desktop(
    page: Any, live_server: Any, artifacts: Any
) -> None:
    survey = _survey("nps")
    score, _reason = _questions(survey)
    _invitation, token = _sent_link(survey)

    page.goto(f"/s/{token}/")
    assert_fits(page)
    page.screenshot(path=str(artifacts / "survey-answer-desktop.png"), full_page=True)
    page.get_by_role("button", name="Next").click()

    error = page.locator(f"#q{score.pk}-error")
    expect(error).to_have_text("Please answer this question.")
    expect(page.locator("fieldset")).to_have_attribute(
        "aria-describedby", f"q{score.pk}-ends q{score.pk}-error"
    )
    assert page.evaluate("document.activeElement.id") == f"q{score.pk}-0"
    page.screenshot(path=str(artifacts / "survey-answer-desktop-error.png"), full_page=True)

    page.get_by_label("9", exact=True).click()
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".progress-text")).to_have_text("Question 2 of 2")
    assert Answer.objects.get().number == 9


def test_the_eleven_point_scale_and_six_languages_fit_a_phone(
    phone_page: Any, live_server: Any, artifacts: Any
) -> None:
    survey = _survey(
        "nps",
        languages=("en", "lt", "lv", "et", "cs", "ro"),
        store_name="Didžiausia Baltijos šalių internetinė parduotuvė",
    )
    _invitation, token = _sent_link(survey)

    phone_page.goto(f"/s/{token}/?lang=ro")

    expect(phone_page.locator(".languages a")).to_have_text(
        ["English", "Lietuvių", "Latviešu", "Eesti", "Čeština", "Română"]
    )
    expect(phone_page.locator('.languages a[aria-current="true"]')).to_have_text("Română")
    assert_fits(phone_page)
    boxes = [
        phone_page.locator(f".scale-option:nth-child({n}) label").bounding_box() for n in (1, 11)
    ]
    assert all(box is not None and box["width"] >= 44 and box["height"] >= 44 for box in boxes)
    phone_page.screenshot(path=str(artifacts / "survey-answer-phone-nps.png"), full_page=True)


def test_unsubscribing_from_the_emails_link_on_a_phone(
    phone_page: Any, live_server: Any, artifacts: Any
) -> None:
    survey = _survey("nps")
    invitation, token = _sent_link(survey)

    phone_page.goto(f"/s/{token}/unsubscribe/")
    expect(phone_page.locator("main")).to_contain_text(
        "Stop receiving satisfaction surveys from Baltic Goods LT?"
    )
    assert_fits(phone_page)
    phone_page.screenshot(path=str(artifacts / "survey-unsubscribe-phone.png"), full_page=True)
    phone_page.get_by_role("button", name="Unsubscribe").click()

    expect(phone_page.locator("main")).to_contain_text(
        "You have unsubscribed. Baltic Goods LT will not send you surveys any more."
    )
    invitation.contact.refresh_from_db()
    assert invitation.contact.unsubscribed_at is not None
