"""The survey pages for members: list, builder, preview, results, sending and contacts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from accounts.models import AuditLogEntry, Role
from accounts.services import Actor
from journeys import services as journey_services
from surveys import services, tokens
from surveys.models import Answer, Contact, Invitation, Question, Response, Survey
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

XSS = "<img src=x onerror=alert(1)>"
LT_NPS = "Kokia tikimybė, kad rekomenduotumėte parduotuvę Baltic Goods LT draugui ar kolegai?"


@pytest.fixture
def nps_survey(organisation: Any, store: Any, actor: Actor) -> Survey:
    return services.survey_create_from_template(
        organisation=organisation, store=store, actor=actor, template="nps"
    )


@pytest.fixture
def csat_survey(organisation: Any, store: Any, actor: Actor) -> Survey:
    return services.survey_create_from_template(
        organisation=organisation,
        store=store,
        actor=actor,
        template="post-purchase-csat",
        languages=["en", "lt"],
    )


def _client(client_as: Any, role: str) -> Client:
    return client_as(role)


def _answer(survey: Survey, email: str, answers: dict[int, Any], *, language: str = "en") -> None:
    """A contact invited, the email delivered, and the response submitted with `answers`."""
    contact, _created = services.contact_upsert(store=survey.store, email=email)
    nonce = tokens.new_nonce()
    now = datetime.now(UTC)
    invitation = Invitation.objects.create(
        survey=survey,
        contact=contact,
        nonce=nonce,
        token_hash=tokens.token_hash(tokens.token_for(nonce)),
        language=language,
        status=Invitation.Status.SENT,
        due_at=now,
        sent_at=now,
    )
    _response, errors = services.response_save(
        invitation=invitation, answers=answers, language=language, submit=True
    )
    assert errors == {}


def _delivered_unanswered(survey: Survey, email: str) -> None:
    contact, _created = services.contact_upsert(store=survey.store, email=email)
    nonce = tokens.new_nonce()
    Invitation.objects.create(
        survey=survey,
        contact=contact,
        nonce=nonce,
        token_hash=tokens.token_hash(tokens.token_for(nonce)),
        language="en",
        status=Invitation.Status.SENT,
        due_at=datetime.now(UTC),
        sent_at=datetime.now(UTC),
    )


def _questions(survey: Survey) -> list[Question]:
    return list(survey.questions.order_by("position", "id"))


def _text(response: Any) -> str:
    """The page's text without tags and with whitespace collapsed."""
    html = re.sub(r"<script\b.*?</script>", " ", response.content.decode(), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- The list


def test_list_filters_by_store_and_status_and_counts(
    client_as: Any, organisation: Any, nps_survey: Survey, csat_survey: Survey, actor: Actor
) -> None:
    other_store = StoreFactory(organisation=organisation, name="Baltic Goods LV")
    services.survey_create_from_template(
        organisation=organisation, store=other_store, actor=actor, template="checkout-ces"
    )
    services.survey_set_status(survey=nps_survey, actor=actor, status="active")
    first = _questions(nps_survey)[0]
    _answer(nps_survey, "a@example.com", {first.pk: 10})
    _delivered_unanswered(nps_survey, "b@example.com")
    client = client_as(Role.VIEWER)

    everything = client.get("/surveys/")
    assert [s.name for s in everything.context["surveys"]] == [
        "Užsakymo pateikimo paprastumas",
        "Pasitenkinimas apsipirkimu",
        "Rekomendavimo tikimybė (NPS)",
    ]
    counts = {
        s.name: (s.question_count, s.invitation_count, s.response_count)
        for s in everything.context["surveys"]
    }
    assert counts["Rekomendavimo tikimybė (NPS)"] == (len(_questions(nps_survey)), 2, 1)
    assert counts["Pasitenkinimas apsipirkimu"] == (len(_questions(csat_survey)), 0, 0)
    assert counts["Užsakymo pateikimo paprastumas"][1:] == (0, 0)

    by_store = client.get(f"/surveys/?store={other_store.pk}")
    assert [s.name for s in by_store.context["surveys"]] == ["Užsakymo pateikimo paprastumas"]
    active = client.get("/surveys/?status=active")
    assert [s.name for s in active.context["surveys"]] == ["Rekomendavimo tikimybė (NPS)"]
    nothing = client.get("/surveys/?status=closed")
    assert "No survey matches these filters." in nothing.content.decode()


def test_empty_list_says_what_to_do(client_as: Any, store: Any) -> None:
    page = client_as(Role.EDITOR).get("/surveys/").content.decode()
    assert "No surveys yet. Start from a template" in page
    assert 'action="/surveys/new/"' in page


@pytest.mark.parametrize(
    ("url", "where", "form"),
    [
        ("/surveys/new/", "/surveys/?new#new-survey", "new-survey"),
        ("/contacts/new/", "/contacts/?new#add-contact", "add-contact"),
    ],
)
def test_opening_a_create_url_shows_its_form(
    client_as: Any, nps_survey: Survey, store: Any, url: str, where: str, form: str
) -> None:
    services.contact_upsert(store=store, email="ona@example.com")  # the lists are not empty
    client = client_as(Role.EDITOR)
    closed = client.get(where.split("?")[0]).content.decode()
    assert re.search(rf'<details class="card" id="{form}"\s*>', closed)

    response = client.get(url, follow=True)

    assert response.redirect_chain == [(where, 302)]
    assert re.search(rf'<details class="card" id="{form}"\s*open>', response.content.decode())
    assert client.head(url).status_code == 302
    assert client_as(Role.VIEWER).get(url).status_code == 403


def test_list_query_count_does_not_grow_with_surveys(
    client_as: Any, organisation: Any, store: Any, actor: Actor, django_assert_max_num_queries: Any
) -> None:
    for template in ("nps", "checkout-ces", "post-purchase-csat", "review-request"):
        services.survey_create_from_template(
            organisation=organisation, store=store, actor=actor, template=template
        )
    client = client_as(Role.EDITOR)
    client.get("/surveys/")  # warm the session and the organisation lookups
    with django_assert_max_num_queries(14):
        response = client.get("/surveys/")
    assert len(response.context["surveys"]) == 4


@pytest.mark.parametrize(
    ("other_name", "selected", "ticked"),
    [
        ("Baltic Goods RO", "Baltic Goods LT", ["en", "lt"]),  # store (lt) comes first
        ("Amber Goods RO", "Amber Goods RO", ["en", "ro"]),
    ],
)
def test_the_new_survey_form_ticks_the_chosen_stores_language_and_english(
    client_as: Any,
    organisation: Any,
    store: Any,
    other_name: str,
    selected: str,
    ticked: list[str],
) -> None:
    other = StoreFactory(organisation=organisation, name=other_name, default_language="ro")
    page = client_as(Role.EDITOR).get("/surveys/")
    html = page.content.decode()
    form = page.context["create_form"]
    assert form["languages"].initial == ticked  # not the other store's language
    checked = re.findall(r'name="languages" value="(\w+)"[^>]*checked', html)
    assert checked == ticked
    create_store = re.search(
        r'<select name="store" id="new-survey-store">(.*?)</select>', html, re.S
    )
    assert create_store is not None
    assert re.findall(r"<option [^>]*selected>([^<]*)</option>", create_store[1]) == [selected]
    assert html.count('id="new-survey-store"') == html.count('for="new-survey-store"') == 1
    # For static/js/survey-create.js, which ticks another store's language when it is chosen.
    languages = re.search(
        r'<script id="store-languages" type="application/json">(.*?)</script>', html
    )
    assert languages is not None
    assert json.loads(languages[1]) == {str(store.pk): "lt", str(other.pk): "ro"}


def test_create_from_template_in_the_chosen_languages(client_as: Any, store: Any) -> None:
    client = client_as(Role.EDITOR)
    response = client.post(
        "/surveys/new/",
        {"store": store.pk, "template": "nps", "languages": ["lt", "en", "cs"], "name": ""},
    )
    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response.url == f"/surveys/{survey.pk}/"
    assert survey.name == "Rekomendavimo tikimybė (NPS)"  # the store's language, Lithuanian
    assert survey.languages == ["lt", "en", "cs"]
    assert survey.trigger_event == "delivered"
    questions = _questions(survey)
    assert [q.type for q in questions] == ["nps", "free_text"]
    assert all(sorted(q.text) == ["cs", "en", "lt"] for q in questions)
    assert questions[1].text["cs"] == "Jaký je hlavní důvod vašeho hodnocení?"


def test_create_needs_a_language_and_saves_nothing_without(client_as: Any, store: Any) -> None:
    client = client_as(Role.EDITOR)
    response = client.post("/surveys/new/", {"store": store.pk, "template": "nps"}, follow=True)
    assert "Choose at least one language." in response.content.decode()
    assert Survey.objects.count() == 0


def test_cannot_create_in_another_organisations_store(
    client_as: Any, other_organisation: Any
) -> None:
    theirs = StoreFactory(organisation=other_organisation)
    client = client_as(Role.EDITOR)
    client.post("/surveys/new/", {"store": theirs.pk, "template": "nps", "languages": ["en"]})
    assert Survey.objects.count() == 0


# --- The builder


def _question_post(survey: Survey, question: Question, **changes: Any) -> dict[str, Any]:
    """The question form as the page sends it, with `changes` (field name: value)."""
    data: dict[str, Any] = {}
    prefix = f"q{question.pk}"
    for code in survey.languages:
        data[f"{prefix}-text_{code}"] = question.text.get(code, "")
        if question.type in ("single_choice", "multiple_choice"):
            data[f"{prefix}-choices_{code}"] = "\n".join(question.choices.get(code, []))
    if question.required:
        data[f"{prefix}-required"] = "on"
    data.update({f"{prefix}-{k}": v for k, v in changes.items()})
    return data


def test_edit_a_questions_lithuanian_text(
    client_as: Any, nps_survey: Survey, organisation: Any
) -> None:
    question = _questions(nps_survey)[1]
    client = client_as(Role.EDITOR)
    response = client.post(
        f"/surveys/{nps_survey.pk}/questions/{question.pk}/",
        _question_post(nps_survey, question, text_lt="Kodėl taip įvertinote?"),
    )
    assert response.status_code == 302
    assert response.url == f"/surveys/{nps_survey.pk}/#question-{question.pk}"
    question.refresh_from_db()
    assert question.text["lt"] == "Kodėl taip įvertinote?"
    assert question.text["en"] == "What is the main reason for your score?"
    page = client.get(f"/surveys/{nps_survey.pk}/").content.decode()
    assert ">\nKodėl taip įvertinote?</textarea>" in page


def test_choice_count_mismatch_shows_the_message_and_saves_nothing(
    client_as: Any, csat_survey: Survey
) -> None:
    question = _questions(csat_survey)[1]
    before = dict(question.choices)
    client = client_as(Role.EDITOR)
    response = client.post(
        f"/surveys/{csat_survey.pk}/questions/{question.pk}/",
        _question_post(csat_survey, question, choices_lt="Greitis\nKaina"),
    )
    assert response.status_code == 400
    assert "Every language needs the same number of choices, in the same order." in (
        response.content.decode()
    )
    # What was typed stays in the form, to be fixed.
    assert "Greitis\nKaina</textarea>" in response.content.decode()
    question.refresh_from_db()
    assert question.choices == before
    assert len(question.choices["lt"]) == 6


def test_add_reorder_and_delete_questions(client_as: Any, nps_survey: Survey) -> None:
    client = client_as(Role.EDITOR)
    response = client.post(
        f"/surveys/{nps_survey.pk}/questions/new/",
        {
            "new-type": "single_choice",
            "new-required": "on",
            **{f"new-text_{code}": f"Q {code}?" for code in nps_survey.languages},
            **{f"new-choices_{code}": f"A {code}\nB {code}" for code in nps_survey.languages},
        },
    )
    added = _questions(nps_survey)[2]
    assert response.status_code == 302
    assert (added.type, added.choices["lv"], added.text["et"]) == (
        "single_choice",
        ["A lv", "B lv"],
        "Q et?",
    )
    first, second, third = _questions(nps_survey)
    client.post(f"/surveys/{nps_survey.pk}/questions/{third.pk}/move/", {"direction": "up"})
    assert [q.pk for q in _questions(nps_survey)] == [first.pk, third.pk, second.pk]
    client.post(f"/surveys/{nps_survey.pk}/questions/{first.pk}/move/", {"direction": "up"})
    assert [q.pk for q in _questions(nps_survey)] == [first.pk, third.pk, second.pk]
    client.post(f"/surveys/{nps_survey.pk}/questions/{third.pk}/delete/")
    assert [q.pk for q in _questions(nps_survey)] == [first.pk, second.pk]
    assert [q.position for q in _questions(nps_survey)] == [0, 1]


def test_settings_save_and_activate_without_a_trigger_shows_the_error(
    client_as: Any, nps_survey: Survey, organisation: Any, store: Any, actor: Actor
) -> None:
    journey = journey_services.journey_create_from_template(
        organisation=organisation, actor=actor, template="ecommerce-delivery", store=store
    )
    touchpoint = journey.stages.get(moment="UMOT").touchpoints.first()
    client = client_as(Role.EDITOR)
    data = {
        "name": "NPS after delivery",
        "moment": "UMOT",
        "custom_stage": "",
        "touchpoint": touchpoint.pk,
        "trigger_event": "",
        "delay_hours": "48",
        "reminder_after_days": "",
        "languages": nps_survey.languages,
        "default_language": "lt",
        **{
            f"{field}_{code}": nps_survey.text(field, code)
            for field in ("email_subject", "email_intro", "thank_you_text")
            for code in nps_survey.languages
        },
        "email_subject_lt": "Ar rekomenduotumėte mus?",
    }
    saved = client.post(f"/surveys/{nps_survey.pk}/settings/", data)
    assert saved.status_code == 302
    nps_survey.refresh_from_db()
    assert (nps_survey.name, nps_survey.trigger_event, nps_survey.delay) == (
        "NPS after delivery",
        "",
        timedelta(hours=48),
    )
    assert nps_survey.touchpoint == touchpoint
    assert nps_survey.reminder_after_days is None
    assert nps_survey.email_subject["lt"] == "Ar rekomenduotumėte mus?"

    response = client.post(f"/surveys/{nps_survey.pk}/status/", {"status": "active"}, follow=True)
    assert "Set the event that triggers the survey before activating it." in (
        response.content.decode()
    )
    nps_survey.refresh_from_db()
    assert nps_survey.status == "draft"

    client.post(f"/surveys/{nps_survey.pk}/settings/", {**data, "trigger_event": "delivered"})
    client.post(f"/surveys/{nps_survey.pk}/status/", {"status": "active"})
    nps_survey.refresh_from_db()
    assert nps_survey.status == "active"


def test_settings_with_a_default_language_not_chosen_save_nothing(
    client_as: Any, nps_survey: Survey
) -> None:
    client = client_as(Role.EDITOR)
    response = client.post(
        f"/surveys/{nps_survey.pk}/settings/",
        {"name": "X", "delay_hours": "0", "languages": ["en"], "default_language": "lt"},
    )
    assert response.status_code == 400
    assert "The default language must be one of the survey" in response.content.decode()
    nps_survey.refresh_from_db()
    assert nps_survey.name == "Rekomendavimo tikimybė (NPS)"


def test_viewer_sees_a_read_only_summary_and_cannot_write(
    client_as: Any, nps_survey: Survey, csat_survey: Survey
) -> None:
    question = _questions(nps_survey)[1]
    client = client_as(Role.VIEWER)
    page = client.get(f"/surveys/{nps_survey.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "You can view this survey. Editors can change it." in html
    assert "Kokia pagrindinė Jūsų įvertinimo priežastis?" in html
    assert "<dt>Delay after the event</dt><dd>720 hours</dd>" in html
    assert re.findall(r'<form method="post" action="(/surveys/[^"]*)"', html) == []
    writes = [
        ("/surveys/new/", {"store": nps_survey.store_id, "template": "nps", "languages": ["en"]}),
        (f"/surveys/{nps_survey.pk}/settings/", {"name": "Hacked", "delay_hours": "0"}),
        (f"/surveys/{nps_survey.pk}/status/", {"status": "closed"}),
        (f"/surveys/{nps_survey.pk}/questions/new/", {"new-type": "free_text"}),
        (
            f"/surveys/{nps_survey.pk}/questions/{question.pk}/",
            _question_post(nps_survey, question, text_lt="Hacked"),
        ),
        (f"/surveys/{nps_survey.pk}/questions/{question.pk}/move/", {"direction": "up"}),
        (f"/surveys/{nps_survey.pk}/questions/{question.pk}/delete/", {}),
        (f"/surveys/{nps_survey.pk}/send/", {"everyone": "1"}),
        ("/contacts/new/", {"store": nps_survey.store_id, "email": "x@example.com"}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    nps_survey.refresh_from_db()
    question.refresh_from_db()
    assert (nps_survey.name, nps_survey.status) == ("Rekomendavimo tikimybė (NPS)", "draft")
    assert question.text["lt"] == "Kokia pagrindinė Jūsų įvertinimo priežastis?"
    assert Survey.objects.count() == 2
    assert Question.objects.filter(survey=nps_survey).count() == 2
    assert Contact.objects.count() == 0
    assert client.get("/contacts/").status_code == 403
    assert client.get(f"/surveys/{nps_survey.pk}/send/").status_code == 403


# --- The preview


def test_preview_in_lithuanian_shows_the_nps_scale_and_saves_nothing(
    client_as: Any, nps_survey: Survey
) -> None:
    counts = (Survey.objects.count(), Invitation.objects.count(), Response.objects.count())
    client = client_as(Role.EDITOR)
    response = client.get(f"/surveys/{nps_survey.pk}/preview/?language=lt")
    assert response.status_code == 200
    assert response.templates[0].name == "surveys/survey_preview.html"
    html = response.content.decode()
    text = _text(response)
    assert '<html lang="lt">' in html
    assert LT_NPS in text
    scores = re.findall(r'<input type="radio" id="q\d+-(\d+)" name="q\d+" value="\d+"', html)
    assert scores == [str(n) for n in range(11)]
    assert "0 = Visiškai netikėtina" in text
    assert "10 = Labai tikėtina" in text
    assert "Klausimas 1 iš 2" in text
    assert "Nothing is sent or saved" in text
    assert "/s/" not in html  # no token link anywhere

    # Next moves on without saving: the answer is not stored, no response exists.
    question = _questions(nps_survey)[0]
    moved = client.post(
        f"/surveys/{nps_survey.pk}/preview/",
        {"lang": "lt", "step": "1", "action": "next", f"q{question.pk}": "9"},
    )
    assert "Kokia pagrindinė Jūsų įvertinimo priežastis?" in _text(moved)
    assert "Klausimas 2 iš 2" in _text(moved)
    required = client.post(
        f"/surveys/{nps_survey.pk}/preview/", {"lang": "lt", "step": "1", "action": "next"}
    )
    assert "Prašome atsakyti į šį klausimą." in _text(required)
    done = client.post(
        f"/surveys/{nps_survey.pk}/preview/", {"lang": "lt", "step": "2", "action": "submit"}
    )
    assert "Dėkojame už skirtą laiką ir atvirą atsakymą!" in _text(done)
    assert (Survey.objects.count(), Invitation.objects.count(), Response.objects.count()) == counts
    assert Answer.objects.count() == 0


def test_preview_of_a_language_the_survey_lacks_uses_its_default(
    client_as: Any, csat_survey: Survey
) -> None:
    response = client_as(Role.VIEWER).get(f"/surveys/{csat_survey.pk}/preview/?language=ro")
    assert '<html lang="lt">' in response.content.decode()


# --- Results


@pytest.fixture
def answered_csat(csat_survey: Survey, actor: Actor) -> Survey:
    """Ratings [5, 4, 4, 3, 1], one free-text answer with markup, one invitation unanswered."""
    rating, improve, comment = _questions(csat_survey)
    services.survey_set_status(survey=csat_survey, actor=actor, status="active")
    for n, score in enumerate([5, 4, 4, 3, 1]):
        answers: dict[int, Any] = {rating.pk: score}
        if n == 0:
            answers[comment.pk] = XSS
        if n < 2:
            answers[improve.pk] = [0, 2]
        _answer(csat_survey, f"buyer{n}@example.com", answers)
    _delivered_unanswered(csat_survey, "silent@example.com")
    return csat_survey


def test_results_show_exact_csat_numbers(client_as: Any, answered_csat: Survey) -> None:
    response = client_as(Role.VIEWER).get(f"/surveys/{answered_csat.pk}/results/")
    text = _text(response)
    assert response.status_code == 200
    # 5 of 6 delivered invitations answered; 3 of 5 ratings are 4 or 5; mean 17 / 5.
    assert "Response rate 83.3 % (43.6–97.0 %) n = 6" in text
    assert "CSAT 60.0 % (23.1–88.2 %) n = 5 Mean 3.40 / 5" in text
    assert "Satisfied (4–5) 60.0 % (23.1–88.2 %) n = 5 · Mean 3.40 / 5" in text
    # Choices: 2 of 2 answers picked the first choice.
    rows = response.context["results"]["questions"][1]["choices"]
    assert [(c["count"], c["share"]["total"]) for c in rows[:3]] == [(2, 2), (0, 2), (2, 2)]
    assert f"{rows[0]['label']} 2 100.0 % (34.2–100.0 %) n = 2" in text
    # The distribution behind the chart, per score.
    assert response.context["results"]["questions"][0]["distribution"] == {
        1: 1,
        2: 0,
        3: 1,
        4: 2,
        5: 1,
    }
    # The chart's figure comes as JSON (json_script) for static/js/charts.js, not as a script.
    score = response.context["results"]["questions"][0]["id"]
    html = response.content.decode()
    assert f'<div class="chart-plot" data-figure="chart-q{score}"></div>' in html
    figure_json = re.search(
        rf'<script id="chart-q{score}" type="application/json">(.*?)</script>', html
    )
    assert figure_json is not None
    figure = json.loads(figure_json.group(1))
    assert figure["data"][0]["x"] == ["1", "2", "3", "4", "5"]
    assert figure["data"][0]["y"] == [1, 0, 1, 2, 1]
    assert figure["config"] == {"responsive": True, "displayModeBar": False, "locale": "en"}
    assert figure["layout"]["separators"] == ".,"
    assert "Plotly.newPlot" not in html


def test_results_show_exact_nps_numbers(client_as: Any, nps_survey: Survey, actor: Actor) -> None:
    services.survey_set_status(survey=nps_survey, actor=actor, status="active")
    score = _questions(nps_survey)[0]
    for n, value in enumerate([10, 9, 8, 6, 3, 10, 7]):
        _answer(nps_survey, f"p{n}@example.com", {score.pk: value}, language="lt")
    text = _text(client_as(Role.VIEWER).get(f"/surveys/{nps_survey.pk}/results/"))
    # 3 promoters, 2 passives, 2 detractors of 7: (3 − 2) / 7 = +14.3.
    assert "NPS +14.3 n = 7" in text
    assert "Promoters 42.9 % (15.8–75.0 %) n = 7" in text
    assert "Detractors 28.6 % (8.2–64.1 %) n = 7" in text
    assert "Passives 28.6 % (8.2–64.1 %) n = 7" in text


def test_results_period_filter(client_as: Any, answered_csat: Survey) -> None:
    Answer.objects.update(answered_at=datetime(2026, 1, 15, 12, tzinfo=UTC))
    Response.objects.update(submitted_at=datetime(2026, 1, 15, 12, tzinfo=UTC))
    client = client_as(Role.VIEWER)
    inside = client.get(f"/surveys/{answered_csat.pk}/results/?start=2026-01-15&end=2026-01-15")
    assert inside.context["results"]["responses"] == 5
    assert inside.context["results"]["csat"]["count"] == 5
    after = client.get(f"/surveys/{answered_csat.pk}/results/?start=2026-01-16")
    assert after.context["results"]["responses"] == 0
    assert "No responses in this period. Try a longer period." in after.content.decode()
    backwards = client.get(f"/surveys/{answered_csat.pk}/results/?start=2026-02-01&end=2026-01-01")
    assert "The end date is before the start date." in backwards.content.decode()


def test_free_text_answers_are_escaped_and_show_their_touchpoint(
    client_as: Any, answered_csat: Survey, organisation: Any, store: Any, actor: Actor
) -> None:
    journey = journey_services.journey_create_from_template(
        organisation=organisation, actor=actor, template="ecommerce-delivery", store=store
    )
    touchpoint = journey.stages.get(moment="SMOT").touchpoints.first()
    services.survey_update(survey=answered_csat, actor=actor, touchpoint=touchpoint)
    html = client_as(Role.VIEWER).get(f"/surveys/{answered_csat.pk}/results/").content.decode()
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert f"Touchpoint: {touchpoint.name}" in html


def test_results_by_moment_of_truth(
    client_as: Any, answered_csat: Survey, nps_survey: Survey
) -> None:
    response = client_as(Role.VIEWER).get(f"/surveys/{answered_csat.pk}/results/")
    rows = [(r["moment"], r["surveys"], r["responses"]) for r in response.context["moments"]]
    assert rows == [("SMOT", 1, 5), ("UMOT", 1, 0)]
    assert "SMOT" in _text(response)


def test_viewer_sees_no_export_and_no_addresses(client_as: Any, answered_csat: Survey) -> None:
    client = client_as(Role.VIEWER)
    html = client.get(f"/surveys/{answered_csat.pk}/results/").content.decode()
    assert "Export responses (CSV)" not in html
    assert "@example.com" not in html.replace("editor@example.com", "")
    assert client.get(f"/surveys/{answered_csat.pk}/responses.csv").status_code == 403
    editor_html = client_as(Role.EDITOR).get(f"/surveys/{answered_csat.pk}/results/")
    assert "Export responses (CSV)" not in editor_html.content.decode()


def test_viewers_read_comments_with_their_date_but_never_who_wrote_them(
    client_as: Any, csat_survey: Survey, store: Any, actor: Actor
) -> None:
    survey = services.survey_set_status(survey=csat_survey, actor=actor, status="active")
    rating, _improve, comment = _questions(survey)
    ona, _ = services.contact_upsert(
        store=store, email="ona.petraitiene@example.lt", name="Ona Petraitienė", customer_key="C-77"
    )
    _answer(survey, ona.email, {rating.pk: 2, comment.pk: "The parcel came a week late."})
    answered_at = Answer.objects.get(question=comment).answered_at
    viewer = client_as(Role.VIEWER)
    identity = ("ona.petraitiene", "Ona Petraitien", "C-77")

    page = viewer.get(f"/surveys/{survey.pk}/results/")
    assert "The parcel came a week late." in _text(page)
    # In the store's time zone, as the page says, not in UTC.
    local = answered_at.astimezone(ZoneInfo(store.time_zone))
    assert f"{local:%Y-%m-%d %H:%M} · en" in _text(page)
    for url in ("/", "/surveys/", f"/surveys/{survey.pk}/", f"/surveys/{survey.pk}/results/"):
        html = viewer.get(url).content.decode()
        assert [who for who in identity if who in html] == [], url
    # Whatever names a contact is for editors (addresses) and admins (exports) only.
    for url in (
        "/contacts/",
        f"/contacts/{ona.pk}/export.json",
        f"/contacts/{ona.pk}/erase/",
        f"/surveys/{survey.pk}/send/",
        f"/surveys/{survey.pk}/responses.csv",
    ):
        assert viewer.get(url).status_code == 403, url


def test_admin_exports_the_responses(client_as: Any, answered_csat: Survey) -> None:
    client = client_as(Role.ADMIN)
    html = client.get(f"/surveys/{answered_csat.pk}/results/").content.decode()
    assert f'href="/surveys/{answered_csat.pk}/responses.csv"' in html
    assert "Export responses (CSV)" in html
    export = client.get(f"/surveys/{answered_csat.pk}/responses.csv")
    assert export.status_code == 200
    assert export["Content-Disposition"] == (
        'attachment; filename="pasitenkinimas-apsipirkimu-responses.csv"'
    )
    lines = export.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 5
    assert "buyer0@example.com" in export.content.decode()
    assert AuditLogEntry.objects.filter(action="survey.responses_exported").count() == 1


def test_plotly_is_served_locally_and_no_external_host_is_referenced(
    client_as: Any, answered_csat: Survey, settings: Any
) -> None:
    html = client_as(Role.VIEWER).get(f"/surveys/{answered_csat.pk}/results/").content.decode()
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert "/static/vendor/plotly.min.js" in scripts
    hosts = re.findall(r'(?:src|href)="(?:https?:)?//([^/"]+)', html)
    assert hosts == []
    assert "cdn.plot.ly" not in html

    # collectstatic and the test server find it in the installed plotly package.
    assert finders.find("vendor/plotly.min.js").endswith("plotly/package_data/plotly.min.js")
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    served = Client().get("/static/vendor/plotly.min.js")
    assert served.status_code == 200
    assert served["Content-Type"].startswith("text/javascript")
    body = b"".join(served.streaming_content)
    assert len(body) > 1_000_000
    assert b"plotly.js v" in body[:200]


def test_results_with_no_responses_say_what_to_do(client_as: Any, nps_survey: Survey) -> None:
    html = client_as(Role.EDITOR).get(f"/surveys/{nps_survey.pk}/results/").content.decode()
    assert "No responses yet. Activate the survey" in html
    assert "n = 0" in html
    assert "plotly.min.js" in html  # the scale question still gets its (empty) chart


# --- Sending


def test_send_to_selected_and_to_everyone(
    client_as: Any, nps_survey: Survey, store: Any, actor: Actor
) -> None:
    services.survey_set_status(survey=nps_survey, actor=actor, status="active")
    a, _ = services.contact_upsert(store=store, email="a@example.com")
    services.contact_upsert(store=store, email="b@example.com")
    gone, _ = services.contact_upsert(store=store, email="gone@example.com")
    services.contact_unsubscribe(contact=gone)
    theirs, _ = services.contact_upsert(store=StoreFactory(), email="theirs@example.com")
    client = client_as(Role.EDITOR)

    page = client.get(f"/surveys/{nps_survey.pk}/send/").content.decode()
    assert "a@example.com" in page and "gone@example.com" not in page
    response = client.post(
        f"/surveys/{nps_survey.pk}/send/", {"contacts": [a.pk, theirs.pk]}, follow=True
    )
    assert "1 invitation queued." in response.content.decode()
    assert list(Invitation.objects.values_list("contact__email", flat=True)) == ["a@example.com"]

    everyone = client.post(f"/surveys/{nps_survey.pk}/send/", {"everyone": "1"}, follow=True)
    assert "1 invitation queued, 1 contact already invited." in everyone.content.decode()
    assert sorted(Invitation.objects.values_list("contact__email", flat=True)) == [
        "a@example.com",
        "b@example.com",
    ]


def test_sending_says_before_and_after_who_is_invited_already_or_over_the_cap(
    client_as: Any, nps_survey: Survey, csat_survey: Survey, store: Any, actor: Actor
) -> None:
    nps_survey = services.survey_set_status(survey=nps_survey, actor=actor, status="active")
    csat_survey = services.survey_set_status(survey=csat_survey, actor=actor, status="active")
    new = [services.contact_upsert(store=store, email=f"new{n}@example.com")[0] for n in (1, 2)]
    invited, _ = services.contact_upsert(store=store, email="invited@example.com")
    surveyed, _ = services.contact_upsert(store=store, email="surveyed@example.com")
    services.survey_send_to_contacts(survey=nps_survey, actor=actor, contacts=[invited])
    # Emailed a week ago by another survey of the store: within the 30-day fatigue window.
    services.survey_send_to_contacts(survey=csat_survey, actor=actor, contacts=[surveyed])
    Invitation.objects.filter(contact=surveyed).update(
        status="sent", sent_at=datetime.now(UTC) - timedelta(days=7)
    )
    client = client_as(Role.EDITOR)

    page = client.get(f"/surveys/{nps_survey.pk}/send/").content.decode()
    assert "4 contacts can be emailed." in page
    assert "1 of them already has an invitation for this survey: not invited again." in page
    assert "1 of them is over the fatigue cap: not emailed now." in page
    assert "Send to the 3 contacts not invited yet" in page
    assert re.findall(
        r"(\S+@example.com)(?: <span class=\"muted\">[^<]*</span>)? <span class=\"badge\">([^<]*)",
        page,
    ) == [
        ("invited@example.com", "already invited: not invited again"),
        ("surveyed@example.com", "over the fatigue cap: not emailed now"),
    ]

    sent = client.post(f"/surveys/{nps_survey.pk}/send/", {"everyone": "1"}, follow=True)

    assert (
        "2 invitations queued, 1 contact already invited, 1 contact over the fatigue cap. Each "
        "queued invitation is sent within a minute. Contacts who already have an invitation "
        "for this survey are not invited again. Those over the cap had a survey less than 30 "
        "days ago: they are not emailed now."
    ) in sent.content.decode()
    statuses = Invitation.objects.filter(survey=nps_survey).values_list("contact", "status")
    assert sorted(statuses) == sorted(
        [
            (new[0].pk, "queued"),
            (new[1].pk, "queued"),
            (invited.pk, "queued"),
            (surveyed.pk, "capped"),
        ]
    )
    again = client.get(f"/surveys/{nps_survey.pk}/send/").content.decode()
    assert "3 of them already have an invitation for this survey: not invited again." in again
    assert "Send to the 1 contact not invited yet" in again  # capped: never emailed


def test_sending_a_draft_shows_the_services_message(
    client_as: Any, nps_survey: Survey, store: Any
) -> None:
    contact, _ = services.contact_upsert(store=store, email="a@example.com")
    response = client_as(Role.EDITOR).post(
        f"/surveys/{nps_survey.pk}/send/", {"contacts": [contact.pk]}, follow=True
    )
    assert "Activate the survey before sending it." in response.content.decode()
    assert Invitation.objects.count() == 0


# --- Contacts


def test_contacts_add_search_and_validate(client_as: Any, store: Any) -> None:
    client = client_as(Role.EDITOR)
    added = client.post(
        "/contacts/new/",
        {"store": store.pk, "email": " Ona@Example.com ", "name": "Ona", "language": "lt"},
    )
    assert added.status_code == 302
    contact = Contact.objects.get()
    assert (contact.email, contact.name, contact.language) == ("ona@example.com", "Ona", "lt")
    client.post("/contacts/new/", {"store": store.pk, "email": "petras@example.com"})
    found = client.get("/contacts/?q=ona")
    assert [c.email for c in found.context["contacts"]] == ["ona@example.com"]
    bad = client.post("/contacts/new/", {"store": store.pk, "email": "not-an-address"})
    assert bad.status_code == 400
    assert "“not-an-address” is not a valid email address." in bad.content.decode()
    assert Contact.objects.count() == 2


def test_contacts_page_empty_state_and_no_admin_actions_for_editors(
    client_as: Any, store: Any
) -> None:
    client = client_as(Role.EDITOR)
    assert "No contacts yet." in client.get("/contacts/").content.decode()
    services.contact_upsert(store=store, email="ona@example.com")
    html = client.get("/contacts/").content.decode()
    assert "ona@example.com" in html
    assert "Export data" not in html and "Erase" not in html


def test_admin_exports_and_erases_a_contact(
    client_as: Any, answered_csat: Survey, store: Any
) -> None:
    contact = Contact.objects.get(email="buyer0@example.com")
    client = client_as(Role.ADMIN)
    html = client.get("/contacts/").content.decode()
    assert f'href="/contacts/{contact.pk}/export.json"' in html
    exported = client.get(f"/contacts/{contact.pk}/export.json")
    data = json.loads(exported.content)
    assert exported["Content-Disposition"] == f'attachment; filename="contact-{contact.pk}.json"'
    assert data["contact"]["email"] == "buyer0@example.com"
    assert data["invitations"][0]["answers"][0]["number"] == 5
    entry = AuditLogEntry.objects.get(action="contact.exported")
    assert entry.object_id == str(contact.pk)

    confirm = client.get(f"/contacts/{contact.pk}/erase/")
    assert "Erase buyer0@example.com?" in confirm.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()
    done = client.post(f"/contacts/{contact.pk}/erase/", follow=True)
    assert "Erased buyer0@example.com" in done.content.decode()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert Response.objects.filter(survey=answered_csat).count() == 4


def test_editor_cannot_export_or_erase_contacts(client_as: Any, store: Any) -> None:
    contact, _ = services.contact_upsert(store=store, email="ona@example.com")
    client = client_as(Role.EDITOR)
    assert client.get(f"/contacts/{contact.pk}/export.json").status_code == 403
    assert client.post(f"/contacts/{contact.pk}/erase/").status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_nav_links_to_surveys(client_as: Any) -> None:
    html = client_as(Role.VIEWER).get("/journeys/").content.decode()
    assert '<a href="/surveys/" >Surveys</a>' in html


# --- Importing contacts from a CSV file: the file, then its columns

LT_HEADER = "El. paštas;Vardas;Kalba;Kliento ID"
LT_CONTACTS = (
    f"{LT_HEADER}\r\n"
    "ona@example.lt;Ona Žemaitė;lietuvių;K-1\r\n"
    "jonas@example.lt;Jonas Šimkus;en;K-2\r\n"
    "not-an-address;Rūta;lt;K-3\r\n"
).encode("cp1257")


def _upload(client: Client, store: Any, content: bytes, name: str = "pirkejai.csv") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name, content, "text/csv")
    return client.post("/contacts/import/", {"store": store.pk, "kind": "contacts", "file": upload})


def _columns(step: Any) -> dict[str, str]:
    """The column form as the page sends it: the carried file and each select's choice."""
    form = step.context["mapping_form"]
    return {
        "upload": form.initial["upload"],
        **{bound.name: bound.value() for bound, _samples in form.columns},
    }


def test_contacts_import_shows_the_detected_columns_and_imports_nothing_yet(
    client_as: Any, store: Any
) -> None:
    client = client_as(Role.EDITOR)
    assert 'href="/contacts/import/"' in client.get("/contacts/").content.decode()

    step = _upload(client, store, LT_CONTACTS)

    assert step.status_code == 200
    assert "no-store" in step["Cache-Control"]
    form = step.context["mapping_form"]
    assert form.header == ["El. paštas", "Vardas", "Kalba", "Kliento ID"]
    assert [(b.label, b.value(), samples) for b, samples in form.columns] == [
        ("El. paštas", "email", ["ona@example.lt", "jonas@example.lt", "not-an-address"]),
        ("Vardas", "name", ["Ona Žemaitė", "Jonas Šimkus", "Rūta"]),
        ("Kalba", "language", ["lietuvių", "en", "lt"]),
        ("Kliento ID", "customer_key", ["K-1", "K-2", "K-3"]),
    ]
    text = _text(step)
    assert "Step 2 of 2: what each column holds" in text
    assert "Into Baltic Goods LT. Nothing is imported until you press Import." in text
    assert "Read as cp1257. Column separator: semicolon." in text
    assert "For example: Ona Žemaitė · Jonas Šimkus · Rūta" in text
    html = step.content.decode()
    assert '<select name="column_1" aria-describedby="id_column_1-samples"' in html
    assert '<option value="name" selected>Name</option>' in html
    assert 'id="id_column_1-samples"' in html
    assert "No column was recognised as the email address." not in text
    assert Contact.objects.count() == 0


def test_contacts_import_with_the_detected_columns_reports_what_it_did(
    client_as: Any, store: Any
) -> None:
    client = client_as(Role.EDITOR)
    step = _upload(client, store, LT_CONTACTS)

    response = client.post("/contacts/import/", _columns(step))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    report = response.context["report"]
    assert (report.rows, report.created, report.updated, report.merged, report.skipped) == (
        3,
        2,
        0,
        0,
        1,
    )
    assert sorted(Contact.objects.values_list("email", "name", "language", "customer_key")) == [
        ("jonas@example.lt", "Jonas Šimkus", "en", "K-2"),
        ("ona@example.lt", "Ona Žemaitė", "lt", "K-1"),
    ]
    text = _text(response)
    assert "Imported Rows read 3 New contacts 2 Updated 0 Unchanged 0" in text
    assert "Repeated addresses merged 0 Rows skipped 1" in text
    assert "1 problem Row Column Value Problem 4 El. paštas not-an-address" in text
    assert "“not-an-address” is not a valid email address." in text
    assert response.context["mapping_form"] is None  # the file is not on the page any more
    assert 'name="upload"' not in response.content.decode()
    entry = AuditLogEntry.objects.get(action="contacts.imported")
    assert entry.details["columns"] == ["customer_key", "email", "language", "name"]


def test_contacts_import_with_the_name_column_ignored_imports_no_names(
    client_as: Any, store: Any
) -> None:
    services.contact_upsert(store=store, email="ona@example.lt", name="Ona (before)")
    client = client_as(Role.EDITOR)
    step = _upload(client, store, LT_CONTACTS)

    response = client.post("/contacts/import/", {**_columns(step), "column_1": "ignore"})

    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.updated, report.unchanged, report.skipped) == (1, 1, 0, 1)
    assert report.columns == {
        "El. paštas": "email",
        "Kalba": "language",
        "Kliento ID": "customer_key",
    }
    # A blank cell keeps what is stored, so an ignored column changes no name either.
    assert sorted(Contact.objects.values_list("email", "name", "language", "customer_key")) == [
        ("jonas@example.lt", "", "en", "K-2"),
        ("ona@example.lt", "Ona (before)", "lt", "K-1"),
    ]


def test_contacts_import_of_a_file_without_an_email_column_imports_nothing(
    client_as: Any, store: Any
) -> None:
    client = client_as(Role.EDITOR)
    content = "Vardas;Miestas\r\nOna;Vilnius\r\nJonas;Kaunas\r\n".encode("cp1257")
    step = _upload(client, store, content)
    assert step.status_code == 200
    assert [b.value() for b, _samples in step.context["mapping_form"].columns] == [
        "name",
        "ignore",
    ]
    assert (
        "No column was recognised as the email address. Choose it below: a contact needs one."
        in (_text(step))
    )

    response = client.post("/contacts/import/", _columns(step))

    assert response.status_code == 400
    report = response.context["report"]
    assert report.fatal == (
        "No email column was found. Name it “Email” (or “E-mail”, “el. paštas”, “e-pasts”, "
        "“e-post”…) or choose it in the column mapping."
    )
    assert (report.rows, report.created, report.updated) == (0, 0, 0)
    text = _text(response)
    assert f"Nothing was imported {report.fatal}" in text
    assert Contact.objects.count() == 0
    assert not AuditLogEntry.objects.filter(action="contacts.imported").exists()
    # The columns can be chosen again without uploading the file again.
    assert response.context["mapping_form"] is not None
    assert 'name="upload"' in response.content.decode()


def test_contacts_import_column_choices_are_checked(client_as: Any, store: Any) -> None:
    client = client_as(Role.EDITOR)
    step = _upload(client, store, LT_CONTACTS)

    response = client.post(
        "/contacts/import/", {**_columns(step), "column_3": "email", "column_2": "nonsense"}
    )

    assert response.status_code == 400
    form = response.context["mapping_form"]
    assert form.errors == {
        "column_2": ["Select a valid choice. nonsense is not one of the available choices."],
        "__all__": ["Only one column can be imported as “Email address”."],
    }
    assert "Only one column can be imported as “Email address”." in _text(response)
    assert Contact.objects.count() == 0


def test_contacts_import_of_a_file_without_a_header_row(client_as: Any, store: Any) -> None:
    client = client_as(Role.EDITOR)
    step = _upload(client, store, b"ona@example.lt\npetras@example.lt\n")
    form = step.context["mapping_form"]
    assert (form.headerless, form.columns) == (True, [])
    assert "The file has no header row" in _text(step)

    response = client.post("/contacts/import/", {"upload": form.initial["upload"]})

    assert response.status_code == 200
    assert response.context["report"].created == 2
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "ona@example.lt",
        "petras@example.lt",
    ]


def test_contacts_import_refuses_a_changed_expired_or_borrowed_upload(
    client_as: Any, store: Any, organisation: Any, member_factory: Any
) -> None:
    import time
    from unittest import mock

    from django.core import signing

    client = client_as(Role.EDITOR)
    data = _columns(_upload(client, store, LT_CONTACTS))

    tampered = client.post("/contacts/import/", {**data, "upload": data["upload"] + "x"})
    assert tampered.status_code == 400
    assert tampered.context["problem"] == "The upload could not be read. Upload the file again."
    assert "The upload could not be read. Upload the file again." in _text(tampered)

    other = Client()  # another editor of the same organisation
    other.force_login(member_factory(organisation, Role.EDITOR))
    borrowed = other.post("/contacts/import/", data)
    assert borrowed.status_code == 400
    assert "The upload could not be read. Upload the file again." in _text(borrowed)

    half_an_hour_ago = signing.b62_encode(int(time.time()) - 30 * 60 - 1)
    with mock.patch.object(signing.TimestampSigner, "timestamp", return_value=half_an_hour_ago):
        old = _columns(_upload(client, store, LT_CONTACTS))
    expired = client.post("/contacts/import/", old)
    assert expired.status_code == 400
    assert "An upload is valid for 30 minutes. Upload the file again." in _text(expired)
    assert Contact.objects.count() == 0

    assert client.post("/contacts/import/", data).status_code == 200  # the fresh one works
    assert Contact.objects.count() == 2


def test_contacts_import_of_a_file_too_large_to_carry_asks_for_it_again(
    client_as: Any, store: Any, settings: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    # Room for 1,000 bytes of signed file in the column form: this one compresses to more.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 + 1000
    rows = "".join(
        f"buyer{n}@example.lt;{n * 7919 % 100003:05d}-{n**3 % 9973}\r\n" for n in range(300)
    )
    content = f"Email;Customer ID\r\n{rows}".encode()
    client = client_as(Role.EDITOR)
    step = _upload(client, store, content)
    form = step.context["mapping_form"]
    assert form.needs_file
    assert len(form.initial["upload"]) < 200  # only the file's SHA-256, signed
    assert "The file is too large to keep between the two steps: choose it again." in _text(step)
    data = _columns(step)

    other = SimpleUploadedFile("other.csv", content + b"extra@example.lt;1\r\n", "text/csv")
    refused = client.post("/contacts/import/", {**data, "file": other})
    assert refused.status_code == 400
    assert "Choose the same file again, or upload the new one from the start." in _text(refused)
    assert Contact.objects.count() == 0

    same = SimpleUploadedFile("pirkejai.csv", content, "text/csv")
    response = client.post("/contacts/import/", {**data, "file": same})
    assert response.status_code == 200
    assert response.context["report"].created == 300
    assert Contact.objects.count() == 300


def test_contacts_import_of_an_unreadable_file_says_so_at_once(client_as: Any, store: Any) -> None:
    response = _upload(client_as(Role.EDITOR), store, b"PK\x03\x04 a workbook")

    assert response.status_code == 400
    assert response.context["mapping_form"] is None
    assert (
        "Nothing was imported This is a spreadsheet workbook, not a CSV file: save it as CSV "
        "and upload again." in _text(response)
    )


def test_bounce_list_is_imported_at_once(client_as: Any, store: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.contact_upsert(store=store, email="ona@example.lt")
    upload = SimpleUploadedFile("bounces.csv", b"email,reason\nona@example.lt,hard\n", "text/csv")
    response = client_as(Role.EDITOR).post(
        "/contacts/import/", {"store": store.pk, "kind": "bounces", "file": upload}
    )

    assert response.status_code == 200
    assert response.context["mapping_form"] is None
    assert (response.context["report"].suppressed, response.context["report"].not_found) == (1, 0)
    assert "Newly suppressed 1" in _text(response)
    assert Contact.objects.get().suppressed_at is not None


def test_contacts_import_is_for_editors(client_as: Any, store: Any) -> None:
    viewer = client_as(Role.VIEWER)
    assert viewer.get("/contacts/import/").status_code == 403
    assert _upload(viewer, store, LT_CONTACTS).status_code == 403
    assert client_as(Role.EDITOR).get("/contacts/import/").status_code == 200


def test_contacts_import_without_a_store_says_what_to_do(client_as: Any) -> None:
    page = client_as(Role.EDITOR).get("/contacts/import/")

    assert "Add a store first: contacts belong to a store. Go to stores" in _text(page)


# --- A store's sending settings


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.VIEWER, 403), (Role.EDITOR, 403), (Role.ADMIN, 200), (Role.OWNER, 200)],
)
def test_store_sending_settings_page_is_for_admins(
    client_as: Any, store: Any, role: str, expected: int
) -> None:
    from surveys.models import StoreSurveySettings

    client = client_as(role)
    data = {"sender_name": "X", "fatigue_days": "7", "send_rate_per_minute": "60"}

    assert client.get(f"/stores/{store.pk}/survey-settings/").status_code == expected
    saved = client.post(f"/stores/{store.pk}/survey-settings/", data)

    assert saved.status_code == (302 if expected == 200 else 403)
    rows = StoreSurveySettings.objects.filter(store=store).values_list(
        "sender_name", "fatigue_days", "send_rate_per_minute"
    )
    assert list(rows) == ([("X", 7, 60)] if expected == 200 else [])
    stores = client.get("/stores/").content.decode()
    link = f'href="/stores/{store.pk}/survey-settings/"'
    assert (link in stores) is (expected == 200)


def test_store_sending_settings_page_shows_the_defaults_and_saves(
    client_as: Any, store: Any
) -> None:
    from surveys.models import StoreSurveySettings

    client = client_as(Role.ADMIN)
    page = client.get(f"/stores/{store.pk}/survey-settings/")

    assert page.status_code == 200
    assert not StoreSurveySettings.objects.exists()  # reading writes nothing
    assert page.context["form"].initial == {
        "sender_name": "",
        "reply_to": "",
        "fatigue_days": 30,
        "send_rate_per_minute": 600,
    }
    html = page.content.decode()
    assert 'placeholder="Baltic Goods LT"' in html
    assert 'type="number" name="fatigue_days" value="30" min="1" max="365"' in html
    assert 'type="number" name="send_rate_per_minute" value="600" min="1" max="10000"' in html
    text = _text(page)
    assert "Shown as the From name of the survey emails. Empty: the store's name." in text
    assert "The emails are sent from no-reply@momentmap.local." in text

    saved = client.post(
        f"/stores/{store.pk}/survey-settings/",
        {
            "sender_name": " Baltų Prekės ",
            "reply_to": "pagalba@baltic.example",
            "fatigue_days": "14",
            "send_rate_per_minute": "10000",
        },
        follow=True,
    )

    assert saved.redirect_chain == [(f"/stores/{store.pk}/survey-settings/", 302)]
    assert "Sending settings of Baltic Goods LT saved." in _text(saved)
    row = StoreSurveySettings.objects.get(store=store)
    assert (row.sender_name, row.reply_to, row.fatigue_days, row.send_rate_per_minute) == (
        "Baltų Prekės",
        "pagalba@baltic.example",
        14,
        10000,
    )
    entry = AuditLogEntry.objects.get(action="survey_settings.updated")
    assert (entry.object_id, entry.details) == (
        str(store.pk),
        {
            "sender_name": "Baltų Prekės",
            "reply_to": "pagalba@baltic.example",
            "fatigue_days": "14",
            "send_rate_per_minute": "10000",
        },
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fatigue_days", "0", "Give a number of days from 1 to 365."),
        ("fatigue_days", "366", "Give a number of days from 1 to 365."),
        ("fatigue_days", "", "This field is required."),
        ("send_rate_per_minute", "0", "Give a number of emails per minute from 1 to 10,000."),
        ("send_rate_per_minute", "10001", "Give a number of emails per minute from 1 to 10,000."),
        ("send_rate_per_minute", "fast", "Enter a whole number."),
        ("reply_to", "not-an-address", "Enter a valid email address."),
        ("sender_name", "Baltic\nGoods", "The sender name must be one line of text."),
        ("sender_name", "x" * 121, "Ensure this value has at most 120 characters (it has 121)."),
    ],
)
def test_store_sending_settings_out_of_range_save_nothing(
    client_as: Any, store: Any, field: str, value: str, message: str
) -> None:
    services.store_survey_settings_update(store=store, actor=Actor(), sender_name="Before")
    data = {"sender_name": "", "reply_to": "", "fatigue_days": "30", "send_rate_per_minute": "600"}

    response = client_as(Role.ADMIN).post(
        f"/stores/{store.pk}/survey-settings/", {**data, field: value}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    assert f"Not saved: {message}" in _text(response)
    row = store.survey_settings
    row.refresh_from_db()
    assert (row.sender_name, row.fatigue_days, row.send_rate_per_minute) == ("Before", 30, 600)


def test_store_sending_settings_reach_the_invitation_email(
    client_as: Any, store: Any, nps_survey: Survey
) -> None:
    from email.header import decode_header, make_header
    from email.utils import parseaddr

    from surveys.emails import invitation_message

    contact, _created = services.contact_upsert(store=store, email="ona@example.lt")
    nonce = tokens.new_nonce()
    invitation = Invitation.objects.create(
        survey=nps_survey,
        contact=contact,
        nonce=nonce,
        token_hash=tokens.token_hash(tokens.token_for(nonce)),
        language="lt",
        due_at=datetime.now(UTC),
    )
    default = invitation_message(invitation, reminder=False)
    assert (default.from_email, default.reply_to) == (
        "Baltic Goods LT <no-reply@momentmap.local>",
        [],
    )

    client_as(Role.ADMIN).post(
        f"/stores/{store.pk}/survey-settings/",
        {
            "sender_name": "Baltų Prekės",
            "reply_to": "pagalba@baltic.example",
            "fatigue_days": "30",
            "send_rate_per_minute": "600",
        },
    )
    message = invitation_message(invitation, reminder=False)

    assert message.reply_to == ["pagalba@baltic.example"]
    built = message.message()
    assert built["Reply-To"] == "pagalba@baltic.example"
    assert parseaddr(str(make_header(decode_header(built["From"])))) == (
        "Baltų Prekės",
        "no-reply@momentmap.local",
    )


def test_survey_builder_links_admins_to_the_store_sending_settings(
    client_as: Any, nps_survey: Survey, store: Any
) -> None:
    link = f'<a href="/stores/{store.pk}/survey-settings/">Survey sending of Baltic Goods LT</a>'
    assert link in client_as(Role.ADMIN).get(f"/surveys/{nps_survey.pk}/").content.decode()
    editor = client_as(Role.EDITOR).get(f"/surveys/{nps_survey.pk}/")
    assert link not in editor.content.decode()
    assert "Admins can change them on the Stores page." in _text(editor)


def test_results_in_lithuanian_use_its_separators_and_the_stores_clock(
    client_as: Any, answered_csat: Survey
) -> None:
    # The store is in Europe/Vilnius: UTC+2 in winter, UTC+3 in summer (from 29 March 2026).
    comment = Answer.objects.get(question__survey=answered_csat, question__type="free_text")
    comment.answered_at = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # 00:30 on the 29th, EET
    comment.save()
    client = client_as(Role.VIEWER)
    text = _text(client.get(f"/surveys/{answered_csat.pk}/results/", HTTP_ACCEPT_LANGUAGE="lt"))
    assert "83,3 % (43,6–97,0 %) n = 6" in text
    assert "60,0 % (23,1–88,2 %) n = 5" in text
    assert "3,40 / 5" in text
    assert "83.3 %" not in text
    assert "2026-03-29 00:30 · en" in text  # Lithuanian short dates are ISO (Y-m-d)
    comment.answered_at = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # 01:30 on the 30th, EEST
    comment.save()
    czech = _text(client.get(f"/surveys/{answered_csat.pk}/results/", HTTP_ACCEPT_LANGUAGE="cs"))
    assert "30.03.2026 1:30 · en" in czech
    assert "60,0 % (23,1–88,2 %) n = 5" in czech
    english = _text(client.get(f"/surveys/{answered_csat.pk}/results/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "2026-03-30 01:30 · en" in english
    assert "60.0 % (23.1–88.2 %) n = 5" in english
