"""The buyer's answer and unsubscribe pages, through Django's test client."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from accounts.services import Actor
from surveys import buyer_texts, public_views, services, tokens
from surveys.models import Answer, Contact, Invitation, Question, Response, Survey

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
PAYLOAD = "<img src=x onerror=alert(1)>"


class _Form(HTMLParser):
    """The state of the page's form: checked inputs, textareas, and the html lang."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.checked: dict[str, list[str]] = {}
        self.textareas: dict[str, str] = {}
        self.lang = ""
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang") or ""
        if tag == "input" and "checked" in found:
            self.checked.setdefault(found["name"] or "", []).append(found["value"] or "")
        if tag == "textarea":
            self._textarea = found["name"]
            self.textareas[self._textarea or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.textareas[self._textarea] += data


def form_of(response: Any) -> _Form:
    return _Form(response.content.decode())


@pytest.fixture
def survey(organisation: Any, store: Any, actor: Actor) -> Survey:
    """Four questions, one of each kind; English and Lithuanian."""
    survey = services.survey_create(
        organisation=organisation,
        store=store,
        actor=actor,
        name="Secret Survey Name",
        kind="nps",
        moment="UMOT",
        trigger_event="delivered",
        languages=["en", "lt"],
        default_language="en",
        email_subject={"en": "Recommend {store}?", "lt": "Ar rekomenduotumėte {store}?"},
        email_intro={"en": "A few questions.", "lt": "Keli klausimai."},
        thank_you_text={"en": "Thanks from {store}!", "lt": "Ačiū nuo {store}!"},
    )
    create = services.question_create
    create(
        survey=survey,
        actor=actor,
        type="nps",
        required=True,
        text={"en": "Would you recommend {store}?", "lt": "Ar rekomenduotumėte {store}?"},
    )
    create(
        survey=survey,
        actor=actor,
        type="single_choice",
        required=True,
        text={"en": "How did you pay?", "lt": "Kaip mokėjote?"},
        choices={"en": ["Card", "Bank link", "Cash"], "lt": ["Kortele", "Bankas", "Grynais"]},
    )
    create(
        survey=survey,
        actor=actor,
        type="multiple_choice",
        required=False,
        text={"en": "What could be better?", "lt": "Ką pagerinti?"},
        choices={"en": ["Speed", "Packaging", "Price"], "lt": ["Greitį", "Pakuotę", "Kainą"]},
    )
    create(
        survey=survey,
        actor=actor,
        type="free_text",
        required=False,
        text={"en": "Anything else?", "lt": "Dar kas nors?"},
    )
    return services.survey_set_status(survey=survey, actor=actor, status="active")


def _questions(survey: Survey) -> list[Question]:
    return list(survey.questions.order_by("position"))


def _send(survey: Survey, store: Any, email: str, language: str = "en") -> tuple[Invitation, str]:
    services.contact_upsert(store=store, email=email, customer_key=email, language=language)
    [invitation] = services.invitations_trigger(
        store=store, event_name="delivered", occurred_at=WHEN, customer_key=email
    )
    assert services.invitation_send(invitation_id=invitation.pk).status == "sent"
    invitation.refresh_from_db()
    return invitation, tokens.token_for(invitation.nonce)


@pytest.fixture
def sent(survey: Survey, store: Any) -> tuple[Invitation, str]:
    return _send(survey, store, "ona@example.com")


def url(token: str, suffix: str = "") -> str:
    return f"/s/{token}/{suffix}"


def _answers(invitation: Invitation) -> dict[int, tuple[Any, list[int], str]]:
    return {
        a.question_id: (a.number, a.choices, a.text)
        for a in Answer.objects.filter(response__invitation=invitation)
    }


# --- Opening the page


def test_a_score_link_preselects_the_score_and_records_nothing(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    nps = _questions(survey)[0]

    page = client.get(url(token), {f"q{nps.pk}": "8"})

    assert page.status_code == 200
    assert form_of(page).checked == {f"q{nps.pk}": ["8"]}
    assert "Question 1 of 4" in page.content.decode()
    assert "Would you recommend Baltic Goods LT?" in page.content.decode()
    assert Response.objects.count() == 0
    assert Answer.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.status == "opened"
    assert invitation.opened_at is not None


def test_a_score_out_of_range_or_for_another_question_is_not_preselected(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    _invitation, token = sent
    nps, single, *_rest = _questions(survey)

    page = client.get(url(token), {f"q{nps.pk}": "11", f"q{single.pk}": "1"})

    assert page.status_code == 200
    assert form_of(page).checked == {}


def test_every_page_is_private_uncached_and_unindexed(
    client: Client, sent: tuple[Invitation, str]
) -> None:
    _invitation, token = sent
    pages = {
        url(token): "strict-origin",  # the answer form: see the next test
        url(token, "thanks/"): "no-referrer",
        url(token, "unsubscribe/"): "no-referrer",
        url("made-up-token"): "no-referrer",
    }
    for path, referrer_policy in pages.items():
        page = client.get(path)
        assert page["X-Robots-Tag"] == "noindex, nofollow", path
        assert page["Referrer-Policy"] == referrer_policy, path
        assert page["Cache-Control"] == "no-store", path
        assert page["X-Frame-Options"] == "DENY", path


def test_the_answer_form_posts_with_a_real_origin_not_null(
    sent: tuple[Invitation, str], survey: Survey
) -> None:
    """Under `Referrer-Policy: no-referrer` a browser posts the form with `Origin: null`, which
    Django's CSRF check refuses; the answer page's policy keeps the Origin and drops the path."""
    _invitation, token = sent
    nps = _questions(survey)[0]
    client = Client(enforce_csrf_checks=True)
    assert client.get(url(token))["Referrer-Policy"] == "strict-origin"
    data = {
        "step": "1",
        f"q{nps.pk}": "5",
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
    }

    refused = client.post(url(token), data, HTTP_ORIGIN="null")
    posted = client.post(url(token), data, HTTP_ORIGIN="http://testserver")

    assert (refused.status_code, posted.status_code) == (403, 303)


def test_a_head_request_does_not_mark_the_invitation_opened(
    client: Client, sent: tuple[Invitation, str]
) -> None:
    invitation, token = sent

    assert client.head(url(token)).status_code == 200

    invitation.refresh_from_db()
    assert invitation.status == "sent"


# --- Answering step by step


def test_each_step_saves_a_partial_response(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    nps, single, *_rest = _questions(survey)

    first = client.post(url(token), {"step": "1", f"q{nps.pk}": "8", "action": "next"})

    assert first.status_code == 303
    assert first["Location"] == f"/s/{token}/?step=2"
    response = Response.objects.get(invitation=invitation)
    assert response.submitted_at is None
    assert _answers(invitation) == {nps.pk: (8, [], "")}

    second = client.get(first["Location"])
    assert "Question 2 of 4" in second.content.decode()
    assert "Your answers are saved." in second.content.decode()

    back = client.post(url(token), {"step": "2", f"q{single.pk}": "2", "action": "back"})
    assert back["Location"] == f"/s/{token}/?step=1"
    assert _answers(invitation) == {nps.pk: (8, [], ""), single.pk: (2, [], "")}
    assert form_of(client.get(back["Location"])).checked == {f"q{nps.pk}": ["8"]}


def test_reopening_the_link_resumes_at_the_first_unanswered_question(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    _invitation, token = sent
    nps, _single, *_rest = _questions(survey)
    client.post(url(token), {"step": "1", f"q{nps.pk}": "3", "action": "next"})

    page = client.get(url(token))

    assert "Question 2 of 4" in page.content.decode()
    assert "How did you pay?" in page.content.decode()


def test_a_missing_required_answer_shows_the_error_and_keeps_the_other_answers(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    nps, single, *_rest = _questions(survey)
    client.post(url(token), {"step": "1", f"q{nps.pk}": "9", "action": "next"})

    page = client.post(url(token), {"step": "2", "action": "next"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Question 2 of 4" in html
    assert (
        f'<p class="error-message" id="q{single.pk}-error">Please answer this question.</p>' in html
    )
    assert f'<fieldset class="question has-error" aria-describedby="q{single.pk}-error">' in html
    assert _answers(invitation) == {nps.pk: (9, [], "")}


def test_an_invalid_answer_is_refused_in_the_page_language_and_the_others_stay(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    nps, single, _multiple, text = _questions(survey)
    client.post(url(token), {"step": "1", f"q{nps.pk}": "9", "action": "next"})

    # A tampered form: a choice that does not exist, posted along with a good text answer.
    page = client.post(
        url(token),
        {
            "step": "2",
            "lang": "lt",
            f"q{single.pk}": "7",
            f"q{text.pk}": "Greitai",
            "action": "next",
        },
    )

    html = page.content.decode()
    assert "Klausimas 2 iš 4" in html
    assert "Prašome pasirinkti vieną iš galimų atsakymų." in html
    assert _answers(invitation) == {nps.pk: (9, [], ""), text.pk: (None, [], "Greitai")}


def test_a_too_long_text_is_refused_and_shown_back_as_typed(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    nps, _single, _multiple, text = _questions(survey)
    client.post(url(token), {"step": "1", f"q{nps.pk}": "6", "action": "next"})
    long_text = PAYLOAD + "x" * services.MAX_TEXT_ANSWER

    page = client.post(url(token), {"step": "4", f"q{text.pk}": long_text, "action": "submit"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Please use at most 5000 characters." in html
    assert form_of(page).textareas == {f"q{text.pk}": long_text}
    assert PAYLOAD not in html  # shown as text, escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert Response.objects.get(invitation=invitation).submitted_at is None
    assert _answers(invitation) == {nps.pk: (6, [], "")}


def test_the_final_submit_records_exactly_the_answers_given(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    nps, single, multiple, text = _questions(survey)
    steps = [
        {"step": "1", f"q{nps.pk}": "8", "action": "next"},
        {"step": "2", f"q{single.pk}": "1", "action": "next"},
        {"step": "3", f"q{multiple.pk}": ["2", "0"], "action": "next"},
    ]
    for data in steps:
        assert client.post(url(token), data).status_code == 303

    done = client.post(
        url(token), {"step": "4", f"q{text.pk}": f"  {PAYLOAD}  ", "action": "submit"}
    )

    assert done.status_code == 303
    assert done["Location"] == f"/s/{token}/thanks/"
    assert _answers(invitation) == {
        nps.pk: (8, [], ""),
        single.pk: (1, [], ""),
        multiple.pk: (None, [0, 2], ""),
        text.pk: (None, [], PAYLOAD),
    }
    response = Response.objects.get()
    assert response.submitted_at is not None
    assert response.language == "en"
    invitation.refresh_from_db()
    assert invitation.status == "answered"

    thanks = client.get(done["Location"])
    assert thanks.status_code == 200
    assert "Thanks from Baltic Goods LT!" in thanks.content.decode()


def test_a_final_submit_missing_an_earlier_required_answer_goes_back_to_it(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    nps, single, _multiple, text = _questions(survey)
    client.post(url(token), {"step": "1", f"q{nps.pk}": "10", "action": "next"})

    page = client.post(url(token), {"step": "4", f"q{text.pk}": "Good", "action": "submit"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Question 2 of 4" in html
    assert f'id="q{single.pk}-error">Please answer this question.' in html
    assert Response.objects.get().submitted_at is None
    assert _answers(invitation) == {nps.pk: (10, [], ""), text.pk: (None, [], "Good")}


def test_a_second_submit_changes_nothing(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    nps, single, *_rest = _questions(survey)
    client.post(url(token), {f"q{nps.pk}": "8", f"q{single.pk}": "0", "step": "4"})
    first = Response.objects.get()
    assert first.submitted_at is not None

    again = client.post(url(token), {f"q{nps.pk}": "2", f"q{single.pk}": "2", "step": "4"})

    assert again.status_code == 200
    assert "You have already answered this survey. Thank you!" in again.content.decode()
    assert Response.objects.count() == 1
    assert Response.objects.get().submitted_at == first.submitted_at
    assert _answers(invitation) == {nps.pk: (8, [], ""), single.pk: (0, [], "")}
    page = client.get(url(token), {f"q{nps.pk}": "3"})
    assert "You have already answered this survey. Thank you!" in page.content.decode()
    assert _answers(invitation)[nps.pk] == (8, [], "")


def test_the_thank_you_page_before_submitting_goes_to_the_survey(
    client: Client, sent: tuple[Invitation, str]
) -> None:
    _invitation, token = sent

    page = client.get(url(token, "thanks/"))

    assert page.status_code == 302
    assert page["Location"] == f"/s/{token}/"


# --- Languages


def test_the_page_is_in_the_invitations_language(
    client: Client, survey: Survey, store: Any
) -> None:
    _invitation, token = _send(survey, store, "jonas@example.lt", language="lt")

    page = client.get(url(token))

    html = page.content.decode()
    assert form_of(page).lang == "lt"
    assert "Klausimas 1 iš 4" in html
    assert "Ar rekomenduotumėte Baltic Goods LT?" in html
    assert "Visiškai netikėtina" in html


def test_switching_language_keeps_the_score_and_is_remembered_for_the_response(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    nps, _single, *_rest = _questions(survey)

    english = client.get(url(token), {f"q{nps.pk}": "7"}).content.decode()
    # The switcher offers the survey's languages only, each keeping the preselected score.
    assert f'href="/s/{token}/?q{nps.pk}=7&amp;step=1&amp;lang=lt"' in english
    assert 'hreflang="lv"' not in english
    page = client.get(url(token), {f"q{nps.pk}": "7", "step": "1", "lang": "lt"})
    assert form_of(page).lang == "lt"
    assert form_of(page).checked == {f"q{nps.pk}": ["7"]}
    assert "Klausimas 1 iš 4" in page.content.decode()

    client.post(url(token), {"step": "1", "lang": "lt", f"q{nps.pk}": "7", "action": "next"})

    assert Response.objects.get(invitation=invitation).language == "lt"
    later = client.get(url(token))
    assert form_of(later).lang == "lt"
    assert "Kaip mokėjote?" in later.content.decode()
    assert "Kortele" in later.content.decode()


def test_a_language_outside_the_survey_is_ignored(
    client: Client, sent: tuple[Invitation, str]
) -> None:
    _invitation, token = sent

    page = client.get(url(token), {"lang": "lv"})

    assert form_of(page).lang == "en"
    assert "Question 1 of 4" in page.content.decode()


# --- Links that do not work


@pytest.mark.parametrize("kind", ["made-up", "one character off", "stored hash", "never sent"])
def test_an_unknown_token_is_a_404_that_names_nothing(
    client: Client, sent: tuple[Invitation, str], survey: Survey, store: Any, kind: str
) -> None:
    invitation, token = sent
    if kind == "never sent":  # queued: its link has not been emailed yet
        services.contact_upsert(store=store, email="late@example.com", customer_key="late")
        [queued] = services.invitations_trigger(
            store=store, event_name="delivered", occurred_at=WHEN, customer_key="late"
        )
        token = tokens.token_for(queued.nonce)
    forged = {
        "made-up": "made-up-token",
        "one character off": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "stored hash": invitation.token_hash,
        "never sent": token,
    }[kind]

    for suffix in ("", "thanks/", "unsubscribe/"):
        page = client.get(url(forged, suffix), HTTP_ACCEPT_LANGUAGE="lt")
        html = page.content.decode()
        assert page.status_code == 404, suffix
        assert "Ši apklausos nuoroda neveikia" in html
        assert "survey-header" not in html  # no store, no languages: no empty strip
        for secret in ("Baltic Goods", "Secret Survey Name", "ona@example.com", "recommend"):
            assert secret.lower() not in html.lower(), (suffix, secret)

    posted = client.post(url(forged, "unsubscribe/"), {"List-Unsubscribe": "One-Click"})
    assert posted.status_code == 404
    assert not Contact.objects.filter(unsubscribed_at__isnull=False).exists()


def test_a_closed_survey_says_so(
    client: Client, sent: tuple[Invitation, str], survey: Survey, actor: Actor
) -> None:
    _invitation, token = sent
    nps = _questions(survey)[0]
    services.survey_set_status(survey=survey, actor=actor, status="closed")

    page = client.get(url(token), {f"q{nps.pk}": "9"})
    posted = client.post(url(token), {"step": "1", f"q{nps.pk}": "9"})

    for answer in (page, posted):
        assert answer.status_code == 200
        assert "This survey is closed. Thank you for your time." in answer.content.decode()
    assert Response.objects.count() == 0


def test_store_names_and_survey_texts_are_inserted_literally_and_escaped(
    client: Client, sent: tuple[Invitation, str], store: Any, survey: Survey, actor: Actor
) -> None:
    _invitation, token = sent
    store.name = "<b>Ona</b> & {total}"
    store.save()

    html = client.get(url(token)).content.decode()

    assert "Would you recommend &lt;b&gt;Ona&lt;/b&gt; &amp; {total}?" in html
    assert "<b>Ona</b>" not in html


# --- CSRF


def test_the_answer_form_needs_its_csrf_token(sent: tuple[Invitation, str], survey: Survey) -> None:
    _invitation, token = sent
    nps = _questions(survey)[0]
    client = Client(enforce_csrf_checks=True)
    data = {"step": "1", f"q{nps.pk}": "5", "action": "next"}

    assert client.post(url(token), data).status_code == 403
    assert Response.objects.count() == 0

    client.get(url(token))
    data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    assert client.post(url(token), data).status_code == 303  # positive control
    assert Answer.objects.get().number == 5


# --- Unsubscribing


def test_unsubscribe_asks_first_then_unsubscribes(
    client: Client, sent: tuple[Invitation, str]
) -> None:
    _invitation, token = sent

    page = client.get(url(token, "unsubscribe/"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Stop receiving satisfaction surveys from Baltic Goods LT?" in html
    assert f'<form method="post" action="/s/{token}/unsubscribe/">' in html
    assert Contact.objects.get().unsubscribed_at is None

    done = client.post(url(token, "unsubscribe/"), {"lang": "lt"})

    assert done.status_code == 200
    assert (
        "Jūs atsisakėte apklausų. Parduotuvė Baltic Goods LT Jums jų nebesiųs."
        in done.content.decode()
    )
    assert Contact.objects.get().unsubscribed_at is not None
    again = client.get(url(token, "unsubscribe/"))
    assert (
        "You have unsubscribed. Baltic Goods LT will not send you surveys any more."
        in again.content.decode()
    )


def test_one_click_unsubscribe_works_without_a_csrf_token(
    sent: tuple[Invitation, str],
) -> None:
    _invitation, token = sent
    provider = Client(enforce_csrf_checks=True)

    done = provider.post(
        url(token, "unsubscribe/"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert done.status_code == 200
    assert Contact.objects.get().unsubscribed_at is not None


def test_unsubscribing_twice_keeps_the_first_time(
    client: Client, sent: tuple[Invitation, str]
) -> None:
    _invitation, token = sent
    client.post(url(token, "unsubscribe/"))
    first = Contact.objects.get().unsubscribed_at

    client.post(url(token, "unsubscribe/"))

    assert Contact.objects.get().unsubscribed_at == first


# --- Rate limits


def test_posts_per_token_are_limited_with_a_page_in_the_buyers_language(
    client: Client, survey: Survey, store: Any
) -> None:
    invitation, token = _send(survey, store, "jonas@example.lt", language="lt")
    nps = _questions(survey)[0]
    data = {"step": "1", f"q{nps.pk}": "4", "action": "next"}
    for _ in range(public_views.TOKEN_POST_LIMIT):
        assert client.post(url(token), data).status_code == 303

    limited = client.post(url(token), {**data, f"q{nps.pk}": "9"})

    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert limited["Cache-Control"] == "no-store"
    assert "Per daug bandymų" in limited.content.decode()
    assert _answers(invitation) == {nps.pk: (4, [], "")}
    # Reading is still allowed, and another buyer's link is not affected.
    assert client.get(url(token)).status_code == 200
    _other, other_token = _send(survey, store, "ona@example.com")
    assert client.post(url(other_token), data).status_code == 303


def test_requests_per_address_have_a_ceiling(
    client: Client, sent: tuple[Invitation, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _invitation, token = sent
    monkeypatch.setattr(public_views, "ADDRESS_LIMIT", 3)
    for path in (url(token), url("made-up-1"), url(token, "unsubscribe/")):
        assert client.get(path).status_code in (200, 404)

    limited = client.get(url("made-up-2"), HTTP_ACCEPT_LANGUAGE="cs")
    elsewhere = client.get(url(token), REMOTE_ADDR="10.0.0.9")

    assert limited.status_code == 429
    assert "Příliš mnoho pokusů" in limited.content.decode()
    assert elsewhere.status_code == 200


def test_rate_limits_fail_open_when_the_cache_is_down(
    client: Client,
    sent: tuple[Invitation, str],
    survey: Survey,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    _invitation, token = sent
    # Redis as production configures it, on a port where nothing listens.
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    monkeypatch.setattr(public_views, "ADDRESS_LIMIT", 1)

    assert [client.get(url(token)).status_code for _ in range(3)] == [200, 200, 200]
    nps = _questions(survey)[0]
    posted = client.post(url(token), {"step": "1", f"q{nps.pk}": "7", "action": "next"})
    assert posted.status_code == 303


def test_paused_surveys_can_still_be_answered(
    client: Client, sent: tuple[Invitation, str], survey: Survey, actor: Actor
) -> None:
    """Pausing stops sending; a buyer who already has the link may still answer."""
    _invitation, token = sent
    nps = _questions(survey)[0]
    services.survey_set_status(survey=survey, actor=actor, status="paused")

    posted = client.post(url(token), {"step": "1", f"q{nps.pk}": "5", "action": "next"})

    assert posted.status_code == 303
    assert Answer.objects.get().number == 5


def test_an_erased_contacts_link_stops_working(
    client: Client, sent: tuple[Invitation, str], actor: Actor
) -> None:
    invitation, token = sent
    services.contact_erase(contact=invitation.contact, actor=actor)

    assert client.get(url(token)).status_code == 404


def test_the_answer_page_needs_a_fixed_number_of_queries(
    client: Client,
    sent: tuple[Invitation, str],
    survey: Survey,
    django_assert_num_queries: Any,
) -> None:
    """Invitation with its survey, store, response and questions; the opened mark; the saved
    answers."""
    _invitation, token = sent
    nps, *_rest = _questions(survey)
    client.post(url(token), {"step": "1", f"q{nps.pk}": "8", "action": "next"})

    with django_assert_num_queries(3):
        page = client.get(url(token), {"step": "2"})

    assert page.status_code == 200
    with django_assert_num_queries(2):  # opened already: no UPDATE
        assert client.get(url(token), {"step": "2"}).status_code == 200


# Two and six questions: the same number of queries.
QUESTION_SETS = {
    2: ["rating", "free_text"],
    6: ["nps", "rating", "ces", "single_choice", "multiple_choice", "free_text"],
}


def _survey_of(types: list[str], organisation: Any, store: Any, actor: Actor) -> Survey:
    survey = services.survey_create(
        organisation=organisation,
        store=store,
        actor=actor,
        name=f"{len(types)} questions",
        kind="custom",
        moment="UMOT",
        trigger_event="delivered",
        languages=["en"],
        default_language="en",
        email_subject={"en": "How was it?"},
        email_intro={"en": "A few questions."},
        thank_you_text={"en": "Thanks!"},
    )
    for kind in types:
        services.question_create(
            survey=survey,
            actor=actor,
            type=kind,
            required=True,
            text={"en": f"A {kind} question?"},
            choices={"en": ["One", "Two", "Three"]} if kind.endswith("_choice") else {},
        )
    return services.survey_set_status(survey=survey, actor=actor, status="active")


def _every_answer(questions: list[Question]) -> dict[str, Any]:
    data: dict[str, Any] = {"step": str(len(questions)), "action": "submit"}
    for question in questions:
        if question.scale is not None:
            data[f"q{question.pk}"] = str(question.scale[1])
        elif question.type == "multiple_choice":
            data[f"q{question.pk}"] = ["0", "2"]
        elif question.type == "single_choice":
            data[f"q{question.pk}"] = "1"
        else:
            data[f"q{question.pk}"] = "Fine"
    return data


@pytest.mark.parametrize("count", sorted(QUESTION_SETS))
def test_the_page_and_the_final_submit_need_queries_independent_of_the_questions(
    client: Client,
    organisation: Any,
    store: Any,
    actor: Actor,
    django_assert_num_queries: Any,
    count: int,
) -> None:
    survey = _survey_of(QUESTION_SETS[count], organisation, store, actor)
    invitation, token = _send(survey, store, "ona@example.com")
    questions = _questions(survey)

    # The invitation with survey, store, response and questions; the opened mark.
    with django_assert_num_queries(2):
        page = client.get(url(token))
    assert page.status_code == 200

    # The same read, then the first save in one statement: the response (submitted), every
    # answer and the invitation answered.
    with django_assert_num_queries(2):
        done = client.post(url(token), _every_answer(questions))

    assert done.status_code == 303
    assert done["Location"] == f"/s/{token}/thanks/"
    assert Response.objects.get(invitation=invitation).submitted_at is not None
    assert len(_answers(invitation)) == count
    invitation.refresh_from_db()
    assert invitation.status == "answered"


def test_step_by_step_the_first_save_is_one_statement_and_later_ones_one_locked_transaction(
    client: Client,
    sent: tuple[Invitation, str],
    survey: Survey,
    django_assert_num_queries: Any,
) -> None:
    invitation, token = sent
    nps, single, _multiple, comment = _questions(survey)

    # One read (invitation with survey, store, response and questions), then the response
    # and its answer in one statement.
    with django_assert_num_queries(2):
        client.post(url(token), {"step": "1", f"q{nps.pk}": "8", "action": "next"})
    # The read, then SAVEPOINT (BEGIN in production), the invitation locked with its
    # survey's status, the response, its answers, the new answer; RELEASE.
    with django_assert_num_queries(7):
        client.post(url(token), {"step": "2", f"q{single.pk}": "1", "action": "next"})
    # The last step: the same, then the response submitted and the invitation answered.
    with django_assert_num_queries(9):
        done = client.post(url(token), {"step": "4", f"q{comment.pk}": "Gerai", "action": "submit"})

    assert done["Location"] == f"/s/{token}/thanks/"
    assert _answers(invitation) == {
        nps.pk: (8, [], ""),
        single.pk: (1, [], ""),
        comment.pk: (None, [], "Gerai"),
    }
    invitation.refresh_from_db()
    assert invitation.status == "answered"
    assert Response.objects.get(invitation=invitation).submitted_at is not None


def test_a_nul_character_in_a_text_answer_is_dropped_not_a_server_error(
    client: Client, sent: tuple[Invitation, str], survey: Survey
) -> None:
    invitation, token = sent
    questions = _questions(survey)
    comment = next(q for q in questions if q.type == "free_text")
    first = questions[0]

    # A first save (one statement) and a later one (the locked path) both take it.
    for text in ("Gerai\x00", "Labai\x00 gerai"):
        saved = client.post(
            url(token), {"step": "1", f"q{first.pk}": "9", f"q{comment.pk}": text, "action": "next"}
        )
        assert saved.status_code == 303
    assert _answers(invitation)[comment.pk] == (None, [], "Labai gerai")


# --- Error pages under /s/: the buyer's, in the survey's language, never the staff ones


class _Page(HTMLParser):
    """The html lang, every link's href and text, and the page's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang = ""
        self.links: list[tuple[str, str]] = []
        self.text = ""
        self._href: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang") or ""
        if tag == "a":
            self._href = found.get("href") or ""
            self.links.append((self._href, ""))

    def handle_endtag(self, tag: str) -> None:
        self._href = None

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._href is not None:
            href, text = self.links[-1]
            self.links[-1] = (href, text + data)


def _buyer_error_page(response: Any, *, language: str, status: int, title: str) -> _Page:
    """The response is a buyer page in `language`: its title, nothing of the staff pages."""
    assert response.status_code == status
    page = _Page(response.content.decode())
    assert page.lang == language
    assert buyer_texts.text(title, language) in page.text
    assert "Log in" not in page.text and "Sign up" not in page.text
    for href, _text in page.links:
        assert href.startswith(("#", "/s/")), href  # no overview, no log-in, no other page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    return page


def _back_link(page: _Page, token: str, language: str) -> None:
    assert (url(token), buyer_texts.text("back_to_survey", language)) in page.links


@pytest.mark.parametrize("language", ["lt", "en"])
def test_a_path_under_a_link_that_is_no_page_is_a_404_in_the_surveys_language(
    client: Client, survey: Survey, store: Any, language: str
) -> None:
    _invitation, token = _send(survey, store, "jonas@example.lt", language=language)

    for method in ("get", "post"):
        response = getattr(client, method)(url(token, "answers/old/"), HTTP_ACCEPT_LANGUAGE="cs")
        page = _buyer_error_page(
            response, language=language, status=404, title="page_not_found_title"
        )
        assert buyer_texts.text("page_not_found_text", language) in page.text
        assert store.name in page.text
        _back_link(page, token, language)
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_a_path_under_an_unknown_link_names_nothing_and_has_no_link(
    client: Client, sent: tuple[Invitation, str], store: Any
) -> None:
    _invitation, token = sent
    for path in (url("made-up-token", "answers/"), url(token[:-1] + "x", "x"), "/s/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="cs")
        page = _buyer_error_page(response, language="cs", status=404, title="not_found_title")
        assert page.text.count("Tento odkaz na dotazník nefunguje") == 2  # <title> and <h1>
        assert store.name not in page.text
        assert [href for href, _text in page.links] == ["#main"]
        assert "default-src 'none'" in response["Content-Security-Policy"]


def test_a_page_without_its_final_slash_is_redirected_not_refused(
    client: Client, sent: tuple[Invitation, str]
) -> None:
    _invitation, token = sent
    response = client.get(f"/s/{token}/unsubscribe?lang=lt")
    assert response.status_code == 302
    assert response["Location"] == f"/s/{token}/unsubscribe/?lang=lt"


def _broken(**kwargs: Any) -> None:
    raise RuntimeError("the database fell over")


@pytest.mark.parametrize(
    ("query", "accept", "language"),
    [("?lang=lt", "cs", "lt"), ("", "cs,en;q=0.5", "cs"), ("?lang=xx", "de", "en")],
)
def test_a_server_error_under_a_link_is_the_buyers_page_and_reads_no_database(
    client: Client,
    sent: tuple[Invitation, str],
    monkeypatch: pytest.MonkeyPatch,
    django_assert_num_queries: Any,
    query: str,
    accept: str,
    language: str,
) -> None:
    _invitation, token = sent
    monkeypatch.setattr(public_views.selectors, "answer_page_by_token", _broken)
    client.raise_request_exception = False

    with django_assert_num_queries(0):
        response = client.get(f"{url(token)}{query}", HTTP_ACCEPT_LANGUAGE=accept)

    page = _buyer_error_page(response, language=language, status=500, title="server_error_title")
    assert buyer_texts.text("server_error_text", language) in page.text
    _back_link(page, token, language)
    assert "RuntimeError" not in page.text


def test_a_staff_server_error_is_in_the_readers_language(
    client_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("journeys.views.selectors.journey_list", lambda **kwargs: 1 / 0)
    client = client_as("viewer")
    client.raise_request_exception = False

    response = client.get("/journeys/", HTTP_ACCEPT_LANGUAGE="lt")

    assert response.status_code == 500
    page = _Page(response.content.decode())
    assert page.lang == "lt"
    with translation.override("lt"):
        back = translation.gettext("Go to the overview")
    assert back != "Go to the overview"  # the catalogue translates it
    assert page.links == [("/", back)]


@pytest.mark.parametrize("language", ["lt", "en"])
def test_a_refused_form_under_a_link_says_so_in_the_surveys_language(
    survey: Survey, store: Any, language: str
) -> None:
    invitation, token = _send(survey, store, "jonas@example.lt", language=language)
    nps = _questions(survey)[0]
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        url(token), {"step": "1", f"q{nps.pk}": "5", "action": "next"}, HTTP_ACCEPT_LANGUAGE="cs"
    )

    page = _buyer_error_page(response, language=language, status=403, title="csrf_failure_title")
    assert buyer_texts.text("csrf_failure_text", language) in page.text
    _back_link(page, token, language)
    assert not Answer.objects.filter(response__invitation=invitation).exists()


def test_a_refused_form_follows_the_language_the_buyer_picked(
    sent: tuple[Invitation, str],
) -> None:
    _invitation, token = sent
    client = Client(enforce_csrf_checks=True)
    response = client.post(url(token), {"step": "1", "lang": "lt"})
    _buyer_error_page(response, language="lt", status=403, title="csrf_failure_title")


def test_a_refused_staff_form_is_the_staff_page_in_the_readers_language() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "x"}, HTTP_ACCEPT_LANGUAGE="lt")

    assert response.status_code == 403
    assert response.templates[0].name == "403_csrf.html"
    assert _Page(response.content.decode()).lang == "lt"


def test_too_many_requests_says_answers_are_saved_only_when_some_are(
    client: Client, survey: Survey, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _none, untouched = _send(survey, store, "jonas@example.lt", language="lt")
    invitation, answered = _send(survey, store, "ona@example.com", language="en")
    nps = _questions(survey)[0]
    services.response_save(invitation=invitation, answers={nps.pk: 8}, language="en", submit=False)
    monkeypatch.setattr(public_views, "ADDRESS_LIMIT", 0)

    for token, language, saved in ((untouched, "lt", False), (answered, "en", True)):
        response = client.get(url(token))
        page = _buyer_error_page(
            response, language=language, status=429, title="too_many_requests_title"
        )
        assert buyer_texts.text("too_many_requests_text", language) in page.text
        assert (buyer_texts.text("saved_so_far", language) in page.text) is saved
        _back_link(page, token, language)
