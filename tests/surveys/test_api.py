"""The survey API: every endpoint, the roles, the machine trigger endpoint and the error shape.
Tenant isolation of every id-taking route is proven in tests/config/test_tenancy.py."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import ApiKey, AuditLogEntry, Organisation, Role, Store
from accounts.services import SYSTEM, Actor, api_key_create
from surveys import services
from surveys.models import Contact, Invitation, Question, StoreSurveySettings, Survey
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 5, 12, 9, 30, tzinfo=UTC)


def from_template(store: Store, template: str = "post-purchase-csat", **kwargs: Any) -> Survey:
    return services.survey_create_from_template(
        organisation=store.organisation, store=store, actor=SYSTEM, template=template, **kwargs
    )


def activated(survey: Survey) -> Survey:
    return services.survey_set_status(survey=survey, actor=SYSTEM, status="active")


def contact(store: Store, email: str, **fields: Any) -> Contact:
    return services.contact_upsert(store=store, email=email, **fields)[0]


def key_for(store: Store, kind: str = ApiKey.Kind.SECRET) -> APIClient:
    _key, raw = api_key_create(store=store, kind=kind, name="Shop backend", actor=Actor())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == response.status_code
    return body["error"]


@pytest.fixture
def survey(store: Store) -> Survey:
    return from_template(store, languages=["en", "lt"])


# --- Templates and surveys


def test_the_six_templates_are_listed_for_every_member(api_as: Any) -> None:
    response = api_as(Role.VIEWER).get("/api/v1/surveys/templates/")

    assert response.status_code == 200
    body = response.json()
    assert [t["key"] for t in body] == [
        "post-purchase-csat",
        "delivery-experience",
        "product-satisfaction",
        "nps",
        "checkout-ces",
        "review-request",
    ]
    assert body[3] == {
        "key": "nps",
        "label": "Net Promoter Score (NPS)",
        "description": body[3]["description"],
        "kind": "nps",
        "moment": "UMOT",
        "trigger_event": "delivered",
        "delay_hours": 720,
    }
    assert body[3]["description"]


def test_create_a_survey_from_a_template(api_as: Any, store: Store) -> None:
    response = api_as(Role.EDITOR).post(
        "/api/v1/surveys/",
        {"template": "nps", "store": store.pk, "languages": ["lt", "en"], "name": "Our NPS"},
    )

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("name", "kind", "status", "moment", "trigger_event")} == {
        "name": "Our NPS",
        "kind": "nps",
        "status": "draft",
        "moment": "UMOT",
        "trigger_event": "delivered",
    }
    assert (body["store"], body["store_name"], body["template_key"]) == (
        store.pk,
        "Baltic Goods LT",
        "nps",
    )
    assert (body["delay_hours"], body["reminder_after_days"]) == (720.0, 3)
    assert (body["languages"], body["default_language"]) == (["lt", "en"], "lt")
    assert [(q["position"], q["type"], sorted(q["text"])) for q in body["questions"]] == [
        (0, "nps", ["en", "lt"]),
        (1, "free_text", ["en", "lt"]),
    ]
    assert Survey.objects.get(pk=body["id"]).organisation == store.organisation


def test_create_a_survey_from_its_fields(api_as: Any, store: Store) -> None:
    response = api_as(Role.EDITOR).post(
        "/api/v1/surveys/",
        {
            "store": store.pk,
            "name": "Parcel check",
            "kind": "csat",
            "moment": "TMOT",
            "trigger_event": "delivered",
            "delay_hours": 2.5,
            "languages": ["en"],
            "default_language": "en",
            "email_subject": {"en": "How was the delivery?"},
        },
    )

    assert response.status_code == 201
    survey = Survey.objects.get(pk=response.json()["id"])
    assert (survey.name, survey.kind, survey.moment, survey.delay) == (
        "Parcel check",
        "csat",
        "TMOT",
        timedelta(hours=2, minutes=30),
    )
    assert survey.email_subject == {"en": "How was the delivery?"}
    assert response.json()["questions"] == []


def test_a_survey_needs_a_name_and_kind_or_a_template(api_as: Any, store: Store) -> None:
    response = api_as(Role.EDITOR).post("/api/v1/surveys/", {"store": store.pk})

    assert response.status_code == 400
    assert error(response) == {
        "status": 400,
        "code": "invalid",
        "message": "The request has invalid fields.",
        "details": {
            "name": ["Give the survey a name, or choose a template."],
            "kind": ["Choose the survey's kind, or a template."],
        },
    }


def test_service_validation_errors_keep_the_error_shape(api_as: Any, store: Store) -> None:
    response = api_as(Role.EDITOR).post(
        "/api/v1/surveys/",
        {
            "store": store.pk,
            "name": "X",
            "kind": "csat",
            "languages": ["en"],
            "default_language": "en",
            "moment": "TMOT",
            "custom_stage": "Unboxing",
        },
    )

    assert response.status_code == 400
    assert error(response)["details"] == {
        "custom_stage": ["Choose a moment code or a custom stage, not both."]
    }


def test_a_survey_cannot_be_made_in_another_organisations_store(
    api_as: Any, other_organisation: Organisation
) -> None:
    theirs = StoreFactory(organisation=other_organisation)

    response = api_as(Role.OWNER).post("/api/v1/surveys/", {"template": "nps", "store": theirs.pk})

    assert response.status_code == 400
    assert error(response)["details"] == {
        "store": [f'Invalid pk "{theirs.pk}" - object does not exist.']
    }
    assert not Survey.objects.exists()


def test_list_surveys_by_store_and_status(api_as: Any, store: Store) -> None:
    sister = StoreFactory(organisation=store.organisation)
    draft = from_template(store, name="Draft one")
    active = activated(from_template(store, name="Active one"))
    elsewhere = from_template(sister, name="Sister's")
    api = api_as(Role.VIEWER)

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/surveys/{query}")
        assert response.status_code == 200
        return [s["id"] for s in response.json()["results"]]

    assert ids("") == [elsewhere.pk, active.pk, draft.pk]
    assert ids(f"?store={store.pk}") == [active.pk, draft.pk]
    assert ids(f"?store={store.pk}&status=active") == [active.pk]
    assert ids("?status=closed") == []
    assert "questions" not in api.get("/api/v1/surveys/").json()["results"][0]


def test_survey_list_queries_do_not_grow_with_the_surveys(api_as: Any, store: Store) -> None:
    api = api_as(Role.VIEWER)
    from_template(store)
    api.get("/api/v1/surveys/")  # warm up the session

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/surveys/").status_code == 200
        return len(captured)

    few = queries()
    for template in ("nps", "checkout-ces", "review-request", "delivery-experience"):
        from_template(store, template=template)
    assert queries() == few


def test_update_a_survey(api_as: Any, survey: Survey) -> None:
    response = api_as(Role.EDITOR).patch(
        f"/api/v1/surveys/{survey.pk}/", {"name": "Renamed", "delay_hours": 48}
    )

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["delay_hours"]) == ("Renamed", 48.0)
    survey.refresh_from_db()
    assert (survey.name, survey.delay) == ("Renamed", timedelta(days=2))


def test_a_viewer_reads_surveys_but_cannot_change_them(api_as: Any, survey: Survey) -> None:
    api = api_as(Role.VIEWER)

    assert api.get(f"/api/v1/surveys/{survey.pk}/").status_code == 200
    response = api.patch(f"/api/v1/surveys/{survey.pk}/", {"name": "Mine now"})

    assert response.status_code == 403
    assert error(response) == {
        "status": 403,
        "code": "permission_denied",
        "message": "This needs the editor role or higher.",
        "details": {},
    }
    survey.refresh_from_db()
    assert survey.name != "Mine now"


def test_surveys_are_closed_not_deleted(api_as: Any, survey: Survey) -> None:
    assert api_as(Role.OWNER).delete(f"/api/v1/surveys/{survey.pk}/").status_code == 405
    assert Survey.objects.filter(pk=survey.pk).exists()


def test_set_a_surveys_status(api_as: Any, survey: Survey) -> None:
    api = api_as(Role.EDITOR)

    response = api.post(f"/api/v1/surveys/{survey.pk}/status/", {"status": "active"})
    assert response.status_code == 200
    assert response.json()["status"] == "active"

    response = api.post(f"/api/v1/surveys/{survey.pk}/status/", {"status": "gone"})
    assert response.status_code == 400
    assert error(response)["details"] == {"status": ['"gone" is not a valid choice.']}


def test_a_survey_without_questions_cannot_be_activated(api_as: Any, store: Store) -> None:
    empty = services.survey_create(
        organisation=store.organisation, store=store, actor=SYSTEM, name="Empty", kind="csat"
    )

    response = api_as(Role.EDITOR).post(f"/api/v1/surveys/{empty.pk}/status/", {"status": "active"})

    assert response.status_code == 400
    assert error(response)["details"] == {
        "non_field_errors": ["Add at least one question before activating the survey."]
    }


def test_a_survey_missing_a_text_in_one_of_its_languages_cannot_be_activated(
    api_as: Any, store: Store
) -> None:
    survey = services.survey_create_from_template(
        organisation=store.organisation,
        store=store,
        actor=SYSTEM,
        template="nps",
        languages=["en", "lv"],
    )
    survey.email_subject = {"en": survey.email_subject["en"]}
    survey.save()
    question = survey.questions.order_by("position").last()
    assert question is not None
    question.text = {"en": question.text["en"], "lv": ""}
    question.save()

    response = api_as(Role.EDITOR).post(
        f"/api/v1/surveys/{survey.pk}/status/", {"status": "active"}
    )

    assert response.status_code == 400
    assert error(response) == {
        "status": 400,
        "code": "invalid",
        "message": "The request has invalid fields.",
        "details": {
            "non_field_errors": [
                "Fill in every text in each of the survey's languages before activating it. "
                "Missing:",
                f"Latvian: email subject, question {survey.questions.count()}.",
            ]
        },
    }
    survey.refresh_from_db()
    assert survey.status == "draft"


# --- Questions


def test_add_change_reorder_and_delete_questions(api_as: Any, survey: Survey) -> None:
    api = api_as(Role.EDITOR)
    rating, multiple, text = survey.questions.order_by("position")

    created = api.post(
        "/api/v1/questions/",
        {
            "survey": survey.pk,
            "position": 1,
            "type": "single_choice",
            "required": False,
            "text": {"en": "Did it fit?", "lt": "Ar tiko?"},
            "choices": {"en": ["Yes", "No"], "lt": ["Taip", "Ne"]},
        },
    )
    assert created.status_code == 201
    new_id = created.json()["id"]
    assert created.json()["position"] == 1
    assert list(survey.questions.order_by("position").values_list("id", flat=True)) == [
        rating.pk,
        new_id,
        multiple.pk,
        text.pk,
    ]

    changed = api.patch(f"/api/v1/questions/{new_id}/", {"text": {"en": "Did it fit well?"}})
    assert changed.status_code == 200
    assert Question.objects.get(pk=new_id).text == {"en": "Did it fit well?"}

    order = [text.pk, new_id, rating.pk, multiple.pk]
    reordered = api.post(f"/api/v1/surveys/{survey.pk}/questions/reorder/", {"order": order})
    assert reordered.status_code == 200
    assert [q["id"] for q in reordered.json()["questions"]] == order

    assert api.delete(f"/api/v1/questions/{new_id}/").status_code == 204
    assert [q.pk for q in survey.questions.order_by("position")] == [
        text.pk,
        rating.pk,
        multiple.pk,
    ]


def test_question_errors_use_the_error_shape(api_as: Any, survey: Survey) -> None:
    api = api_as(Role.EDITOR)

    uneven = api.post(
        "/api/v1/questions/",
        {
            "survey": survey.pk,
            "type": "single_choice",
            "text": {"en": "Fit?"},
            "choices": {"en": ["Yes", "No"], "lt": ["Taip"]},
        },
    )
    incomplete = api.post(f"/api/v1/surveys/{survey.pk}/questions/reorder/", {"order": [1, 2]})

    assert error(uneven)["details"] == {
        "choices": ["Every language needs the same number of choices, in the same order."]
    }
    assert error(incomplete)["details"] == {"order": ["List every question exactly once."]}


def test_a_question_with_answers_cannot_be_deleted(api_as: Any, survey: Survey) -> None:
    survey = activated(survey)
    (invitation,) = services.invitations_trigger(
        store=survey.store, event_name="purchase", occurred_at=WHEN, email="a@example.com"
    )
    rating = survey.questions.get(position=0)
    services.response_save(
        invitation=invitation, answers={rating.pk: 4}, language="en", submit=True
    )

    response = api_as(Role.EDITOR).delete(f"/api/v1/questions/{rating.pk}/")

    assert response.status_code == 400
    assert error(response)["details"] == {
        "non_field_errors": [
            "This question has answers; close the survey and make a new one instead."
        ]
    }


def test_a_question_cannot_be_added_to_another_organisations_survey(
    api_as: Any, other_organisation: Organisation
) -> None:
    theirs = from_template(StoreFactory(organisation=other_organisation))

    response = api_as(Role.OWNER).post(
        "/api/v1/questions/", {"survey": theirs.pk, "type": "free_text", "text": {"en": "Hi"}}
    )

    assert response.status_code == 400
    assert error(response)["details"] == {
        "survey": [f'Invalid pk "{theirs.pk}" - object does not exist.']
    }
    assert theirs.questions.count() == 3


# --- Results


def _answer(survey: Survey, email: str, answers: dict[int, Any], at: datetime) -> None:
    (invitation,) = services.invitations_trigger(
        store=survey.store, event_name=survey.trigger_event, occurred_at=at, email=email
    )
    Invitation.objects.filter(pk=invitation.pk).update(status="sent", sent_at=at)
    with mock.patch("django.utils.timezone.now", return_value=at):
        _response, errors = services.response_save(
            invitation=invitation, answers=answers, language="en", submit=True
        )
    assert errors == {}


def test_results_for_a_period_of_days_in_the_stores_time_zone(api_as: Any, survey: Survey) -> None:
    survey = activated(survey)
    rating = survey.questions.get(position=0).pk
    # Vilnius is UTC+3 in summer: 1–31 May there is 30 April 21:00 to 31 May 21:00 UTC.
    _answer(survey, "early@example.com", {rating: 1}, datetime(2026, 4, 30, 20, 59, tzinfo=UTC))
    _answer(survey, "first@example.com", {rating: 5}, datetime(2026, 4, 30, 21, 0, tzinfo=UTC))
    _answer(survey, "last@example.com", {rating: 3}, datetime(2026, 5, 31, 20, 59, tzinfo=UTC))
    _answer(survey, "late@example.com", {rating: 1}, datetime(2026, 5, 31, 21, 0, tzinfo=UTC))

    response = api_as(Role.VIEWER).get(
        f"/api/v1/surveys/{survey.pk}/results/?start=2026-05-01&end=2026-05-31"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"]) == ("2026-04-30T21:00:00Z", "2026-05-31T21:00:00Z")
    assert (body["delivered"], body["responses"]) == (2, 2)
    assert body["response_rate"] == {
        "successes": 2,
        "total": 2,
        "value": 1.0,
        "low": 0.3424,
        "high": 1.0,
    }
    assert body["csat"] == {
        "share": {"successes": 1, "total": 2, "value": 0.5, "low": 0.0945, "high": 0.9055},
        "mean": 4.0,
        "sd": 1.4142,  # 5 and 3: √((1² + 1²) / 1)
        "count": 2,
    }
    assert (body["nps"], body["ces"]) == (None, None)
    assert [q["type"] for q in body["questions"]] == ["rating", "multiple_choice", "free_text"]
    assert body["questions"][1]["choices"][0] == {
        "index": 0,
        "label": "Tinkamos prekės paieška",  # the survey's default language: the store's
        "count": 0,
        "share": {"successes": 0, "total": 0, "value": None, "low": None, "high": None},
    }


def test_results_take_datetimes_too(api_as: Any, survey: Survey) -> None:
    response = api_as(Role.VIEWER).get(
        f"/api/v1/surveys/{survey.pk}/results/",
        {"start": "2026-05-01T00:00:00+02:00", "end": "2026-05-02T00:00:00Z"},
    )

    assert response.status_code == 200
    assert (response.json()["start"], response.json()["end"]) == (
        "2026-04-30T22:00:00Z",
        "2026-05-02T00:00:00Z",
    )


@pytest.mark.parametrize(
    ("query", "details"),
    [
        (
            "?start=yesterday",
            {"start": ["Use an ISO date (2025-05-31) or date and time (2025-05-31T12:00:00Z)."]},
        ),
        ("?start=2026-05-10&end=2026-05-01", {"end": ["The end must be after the start."]}),
        (
            "?end=2026-13-01",
            {"end": ["Use an ISO date (2025-05-31) or date and time (2025-05-31T12:00:00Z)."]},
        ),
    ],
)
def test_a_bad_period_is_a_400(
    api_as: Any, survey: Survey, query: str, details: dict[str, Any]
) -> None:
    response = api_as(Role.VIEWER).get(f"/api/v1/surveys/{survey.pk}/results/{query}")

    assert response.status_code == 400
    assert error(response)["details"] == details


def test_results_by_moment(api_as: Any, store: Store) -> None:
    smot = activated(from_template(store, languages=["en"]))
    umot = activated(from_template(store, template="nps", languages=["en"]))
    _answer(smot, "a@example.com", {smot.questions.get(position=0).pk: 4}, WHEN)
    _answer(umot, "b@example.com", {umot.questions.get(position=0).pk: 10}, WHEN)

    response = api_as(Role.VIEWER).get(f"/api/v1/results/moments/?store={store.pk}")

    assert response.status_code == 200
    body = response.json()
    assert [(m["moment"], m["label"], m["surveys"], m["responses"]) for m in body] == [
        ("SMOT", "Second moment", 1, 1),
        ("UMOT", "Ultimate moment", 1, 1),
    ]
    assert body[0]["csat"]["share"]["value"] == 1.0
    assert body[1]["nps"]["score"] == 100.0


def test_results_by_moment_need_a_store_of_the_organisation(
    api_as: Any, other_organisation: Organisation
) -> None:
    api = api_as(Role.VIEWER)
    theirs = StoreFactory(organisation=other_organisation)

    missing = api.get("/api/v1/results/moments/")
    foreign = api.get(f"/api/v1/results/moments/?store={theirs.pk}")

    assert error(missing)["details"] == {"store": ["Give the store's id."]}
    assert foreign.status_code == 404
    assert error(foreign)["code"] == "not_found"


# --- What a viewer reads: comments with their date, never who wrote them


def test_viewers_read_comments_with_their_date_but_never_who_wrote_them(
    api_as: Any, store: Store
) -> None:
    survey = activated(from_template(store, languages=["en"]))
    rating, _improve, comment = survey.questions.order_by("position")
    ona = contact(store, "ona.petraitiene@example.lt", name="Ona Petraitienė", customer_key="C-77")
    (invitation,) = services.invitations_trigger(
        store=store, event_name=survey.trigger_event, occurred_at=WHEN, customer_key="C-77"
    )
    Invitation.objects.filter(pk=invitation.pk).update(status="sent", sent_at=WHEN)
    with mock.patch("django.utils.timezone.now", return_value=WHEN):
        services.response_save(
            invitation=invitation,
            answers={rating.pk: 2, comment.pk: "The parcel came a week late."},
            language="en",
            submit=True,
        )
    viewer = api_as(Role.VIEWER)
    identity = ("ona.petraitiene", "Ona Petraitien", "C-77")

    results = viewer.get(f"/api/v1/surveys/{survey.pk}/results/")
    assert results.status_code == 200
    assert results.json()["questions"][2]["answers"] == [
        {
            "text": "The parcel came a week late.",
            "language": "en",
            "answered_at": "2026-05-12T09:30:00Z",
            "touchpoint": "",
        }
    ]
    for url in (
        f"/api/v1/surveys/{survey.pk}/results/",
        f"/api/v1/results/moments/?store={store.pk}",
        "/api/v1/surveys/",
        f"/api/v1/surveys/{survey.pk}/",
        f"/api/v1/questions/{comment.pk}/",
    ):
        response = viewer.get(url)
        assert response.status_code == 200, url
        assert [who for who in identity if who in response.content.decode()] == [], url
    # Whatever names a contact is for editors (addresses) and admins (exports) only.
    for url in (
        "/api/v1/contacts/",
        f"/api/v1/contacts/{ona.pk}/",
        f"/api/v1/contacts/{ona.pk}/export/",
        f"/api/v1/surveys/{survey.pk}/invitations/",
        f"/api/v1/survey-invitations/{invitation.pk}/",
        f"/api/v1/surveys/{survey.pk}/responses-export/",
    ):
        assert viewer.get(url).status_code == 403, url
    assert api_as(Role.EDITOR).get("/api/v1/contacts/").status_code == 200


# --- Individual responses: admins only


def test_an_admin_exports_responses_as_csv(
    api_as: Any, store: Store, organisation: Organisation
) -> None:
    survey = activated(from_template(store, languages=["en"]))
    rating, improve, comment = survey.questions.order_by("position")
    _answer(
        survey,
        "ana@example.com",
        {rating.pk: 5, improve.pk: [0, 2], comment.pk: '=HYPERLINK("http://evil.example")'},
        WHEN,
    )
    _answer(survey, "ben@example.com", {rating.pk: 2}, WHEN + timedelta(hours=1))
    (unfinished,) = services.invitations_trigger(
        store=store, event_name="purchase", occurred_at=WHEN, email="cit@example.com"
    )
    services.response_save(
        invitation=unfinished, answers={rating.pk: 1}, language="en", submit=False
    )

    response = api_as(Role.ADMIN).get(f"/api/v1/surveys/{survey.pk}/responses-export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="survey-{survey.pk}-responses.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    ana, ben = (
        survey.responses.get(invitation__contact__email=email).pk
        for email in ("ana@example.com", "ben@example.com")
    )
    assert rows == [
        [
            "response_id",
            "email",
            "language",
            "submitted_at",
            "Q1 How satisfied are you with your shopping experience at our store?",
            "Q2 What could we do better?",
            "Q3 Is there anything else you would like to tell us?",
        ],
        [
            str(ana),
            "ana@example.com",
            "en",
            "2026-05-12T09:30:00+00:00",
            "5",
            "Finding the right product; Prices",
            '\'=HYPERLINK("http://evil.example")',
        ],
        [str(ben), "ben@example.com", "en", "2026-05-12T10:30:00+00:00", "2", "", ""],
    ]
    entry = AuditLogEntry.objects.get(action="survey.responses_exported")
    assert (entry.organisation, entry.object_id) == (organisation, str(survey.pk))


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_only_admins_export_responses(api_as: Any, survey: Survey, role: str) -> None:
    response = api_as(role).get(f"/api/v1/surveys/{survey.pk}/responses-export/")

    assert response.status_code == 403
    assert error(response)["message"] == "This needs the admin role or higher."
    assert not AuditLogEntry.objects.filter(action="survey.responses_exported").exists()


# --- Sending and invitations


@pytest.fixture
def active(survey: Survey) -> Survey:
    return activated(survey)


def test_send_a_survey_to_chosen_contacts(api_as: Any, active: Survey, store: Store) -> None:
    rasa = contact(store, "rasa@example.lt", language="lt")
    contact(store, "jonas@example.lt")

    response = api_as(Role.EDITOR).post(
        f"/api/v1/surveys/{active.pk}/send/", {"contact_ids": [rasa.pk]}
    )

    assert response.status_code == 201
    assert response.json() == {
        "invitations_created": 1,
        "queued": 1,
        "capped": 0,
        "already_invited": 0,
    }
    invitation = Invitation.objects.get()
    assert (invitation.contact, invitation.language, invitation.status) == (rasa, "lt", "queued")


def test_send_a_survey_to_everyone_who_can_be_emailed(
    api_as: Any, active: Survey, store: Store
) -> None:
    contact(store, "a@example.com")
    contact(store, "b@example.com")
    services.contact_unsubscribe(contact=contact(store, "gone@example.com"))
    contact(StoreFactory(organisation=store.organisation), "sister@example.com")

    response = api_as(Role.EDITOR).post(f"/api/v1/surveys/{active.pk}/send/", {"all": True})

    assert response.json() == {
        "invitations_created": 2,
        "queued": 2,
        "capped": 0,
        "already_invited": 0,
    }
    assert sorted(Invitation.objects.values_list("contact__email", flat=True)) == [
        "a@example.com",
        "b@example.com",
    ]


def test_send_counts_the_invited_already_and_those_over_the_fatigue_cap(
    api_as: Any, active: Survey, store: Store
) -> None:
    invited = contact(store, "invited@example.com")
    surveyed = contact(store, "surveyed@example.com")
    contact(store, "new@example.com")
    services.survey_send_to_contacts(survey=active, actor=SYSTEM, contacts=[invited])
    # Emailed 29 days ago by another survey of the store: within the 30-day fatigue window.
    nps = activated(from_template(store, "nps"))
    services.survey_send_to_contacts(survey=nps, actor=SYSTEM, contacts=[surveyed])
    Invitation.objects.filter(survey=nps).update(
        status="sent", sent_at=datetime.now(UTC) - timedelta(days=29)
    )

    response = api_as(Role.EDITOR).post(f"/api/v1/surveys/{active.pk}/send/", {"all": True})

    assert response.status_code == 201
    assert response.json() == {
        "invitations_created": 2,
        "queued": 1,
        "capped": 1,
        "already_invited": 1,
    }
    invitations = Invitation.objects.filter(survey=active)
    assert sorted(invitations.values_list("contact__email", "status")) == [
        ("invited@example.com", "queued"),  # the first invitation: no second one
        ("new@example.com", "queued"),
        ("surveyed@example.com", "capped"),
    ]


def test_send_refuses_contacts_of_another_store(
    api_as: Any, active: Survey, store: Store, other_organisation: Organisation
) -> None:
    mine = contact(store, "mine@example.com")
    sister = contact(StoreFactory(organisation=store.organisation), "sister@example.com")
    theirs = contact(StoreFactory(organisation=other_organisation), "theirs@example.com")

    response = api_as(Role.EDITOR).post(
        f"/api/v1/surveys/{active.pk}/send/", {"contact_ids": [mine.pk, sister.pk, theirs.pk]}
    )

    assert response.status_code == 400
    assert error(response)["details"] == {
        "contact_ids": [f"These are not contacts of the survey's store: {sister.pk}, {theirs.pk}"]
    }
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("data", "details"),
    [
        ({}, {"contact_ids": ["Give contact_ids, or all: true, not both."]}),
        (
            {"contact_ids": [1], "all": True},
            {"contact_ids": ["Give contact_ids, or all: true, not both."]},
        ),
    ],
)
def test_send_needs_contacts_or_all(
    api_as: Any, active: Survey, data: dict[str, Any], details: dict[str, Any]
) -> None:
    response = api_as(Role.EDITOR).post(f"/api/v1/surveys/{active.pk}/send/", data)

    assert response.status_code == 400
    assert error(response)["details"] == details


def test_a_draft_survey_is_not_sent(api_as: Any, survey: Survey, store: Store) -> None:
    response = api_as(Role.EDITOR).post(f"/api/v1/surveys/{survey.pk}/send/", {"all": True})

    assert response.status_code == 400
    assert error(response)["details"] == {
        "non_field_errors": ["Activate the survey before sending it."]
    }


def test_a_viewer_cannot_send(api_as: Any, active: Survey) -> None:
    response = api_as(Role.VIEWER).post(f"/api/v1/surveys/{active.pk}/send/", {"all": True})
    assert response.status_code == 403


def _invitations(survey: Survey, statuses: list[str]) -> list[Invitation]:
    made = []
    for index, status in enumerate(statuses):
        (invitation,) = services.invitations_trigger(
            store=survey.store,
            event_name=survey.trigger_event,
            occurred_at=WHEN + timedelta(minutes=index),
            email=f"person{index}@example.com",
        )
        Invitation.objects.filter(pk=invitation.pk).update(status=status)
        made.append(invitation)
    return made


def test_list_a_surveys_invitations(api_as: Any, active: Survey) -> None:
    queued, sent, failed = _invitations(active, ["queued", "sent", "failed"])
    api = api_as(Role.EDITOR)

    everything = api.get(f"/api/v1/surveys/{active.pk}/invitations/")
    only_failed = api.get(f"/api/v1/surveys/{active.pk}/invitations/?status=failed")

    assert everything.status_code == 200
    assert everything.json()["count"] == 3
    assert [i["id"] for i in everything.json()["results"]] == [failed.pk, sent.pk, queued.pk]
    assert [i["id"] for i in only_failed.json()["results"]] == [failed.pk]
    first = only_failed.json()["results"][0]
    assert (first["contact_email"], first["status"], first["due_at"]) == (
        "person2@example.com",
        "failed",
        "2026-05-13T09:32:00Z",  # the trigger plus the template's 24 h
    )
    page = api.get(f"/api/v1/surveys/{active.pk}/invitations/?page_size=2&page=2").json()
    assert [i["id"] for i in page["results"]] == [queued.pk]


def test_a_viewer_sees_no_invitations(api_as: Any, active: Survey) -> None:
    _invitations(active, ["sent"])

    response = api_as(Role.VIEWER).get(f"/api/v1/surveys/{active.pk}/invitations/")

    assert response.status_code == 403
    assert b"person0@example.com" not in response.content


def test_an_admin_resends_a_failed_invitation(api_as: Any, active: Survey) -> None:
    failed, sent = _invitations(active, ["failed", "sent"])
    api = api_as(Role.ADMIN)

    response = api.post(f"/api/v1/survey-invitations/{failed.pk}/resend/")
    refused = api.post(f"/api/v1/survey-invitations/{sent.pk}/resend/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("queued", 0)
    assert error(refused)["details"] == {
        "non_field_errors": ["Only invitations in the unknown or failed state can be resent."]
    }
    assert AuditLogEntry.objects.filter(action="invitation.resent").count() == 1


def test_an_editor_reads_an_invitation_but_cannot_resend_it(api_as: Any, active: Survey) -> None:
    (failed,) = _invitations(active, ["failed"])
    api = api_as(Role.EDITOR)

    assert api.get(f"/api/v1/survey-invitations/{failed.pk}/").json()["status"] == "failed"
    response = api.post(f"/api/v1/survey-invitations/{failed.pk}/resend/")
    assert response.status_code == 403
    assert Invitation.objects.get(pk=failed.pk).status == "failed"


# --- Contacts


def test_editors_list_and_search_contacts(api_as: Any, store: Store) -> None:
    contact(store, "rasa@example.lt", name="Rasa Petraitė")
    contact(store, "jonas@example.lt", customer_key="C-77")
    contact(StoreFactory(organisation=store.organisation), "sister@example.com")
    api = api_as(Role.EDITOR)

    def emails(query: str) -> list[str]:
        return [c["email"] for c in api.get(f"/api/v1/contacts/{query}").json()["results"]]

    assert emails("") == ["jonas@example.lt", "rasa@example.lt", "sister@example.com"]
    assert emails(f"?store={store.pk}") == ["jonas@example.lt", "rasa@example.lt"]
    assert emails("?search=petrait") == ["rasa@example.lt"]
    assert emails("?search=C-77") == ["jonas@example.lt"]


def test_a_viewer_sees_no_contacts(api_as: Any, store: Store) -> None:
    rasa = contact(store, "rasa@example.lt")
    api = api_as(Role.VIEWER)

    for url in ("/api/v1/contacts/", f"/api/v1/contacts/{rasa.pk}/"):
        response = api.get(url)
        assert response.status_code == 403
        assert b"rasa@example.lt" not in response.content


def test_create_a_contact_and_upsert_by_address(api_as: Any, store: Store) -> None:
    api = api_as(Role.EDITOR)

    created = api.post(
        "/api/v1/contacts/",
        {"store": store.pk, "email": "Rasa@Example.LT", "name": "Rasa", "language": "lt"},
    )
    again = api.post(
        "/api/v1/contacts/", {"store": store.pk, "email": "rasa@example.lt", "customer_key": "C-1"}
    )

    assert created.status_code == 201
    assert again.status_code == 200
    assert created.json()["id"] == again.json()["id"]
    assert {k: again.json()[k] for k in ("email", "name", "language", "customer_key")} == {
        "email": "rasa@example.lt",
        "name": "Rasa",
        "language": "lt",
        "customer_key": "C-1",
    }
    assert Contact.objects.count() == 1


def test_update_a_contact(api_as: Any, store: Store) -> None:
    rasa = contact(store, "rasa@example.lt")

    response = api_as(Role.EDITOR).patch(
        f"/api/v1/contacts/{rasa.pk}/", {"name": "Rasa P.", "email": "other@example.com"}
    )

    assert response.status_code == 200
    rasa.refresh_from_db()
    assert (rasa.name, rasa.email) == ("Rasa P.", "rasa@example.lt")  # the address stays


def test_a_bad_contact_is_a_400(api_as: Any, store: Store) -> None:
    response = api_as(Role.EDITOR).post(
        "/api/v1/contacts/", {"store": store.pk, "email": "not-an-address", "language": "de"}
    )

    assert response.status_code == 400
    assert error(response)["details"] == {
        "email": ["Enter a valid email address."],
        "language": ['"de" is not a valid choice.'],
    }


def test_only_an_admin_erases_a_contact(api_as: Any, store: Store, active: Survey) -> None:
    rasa = contact(store, "rasa@example.lt")
    services.survey_send_to_contacts(survey=active, actor=SYSTEM, contacts=[rasa])

    refused = api_as(Role.EDITOR).delete(f"/api/v1/contacts/{rasa.pk}/")
    assert refused.status_code == 403
    assert error(refused)["message"] == "This needs the admin role or higher."
    assert Contact.objects.filter(pk=rasa.pk).exists()

    erased = api_as(Role.ADMIN).delete(f"/api/v1/contacts/{rasa.pk}/")
    assert erased.status_code == 204
    assert not Contact.objects.filter(pk=rasa.pk).exists()
    assert not Invitation.objects.exists()
    entry = AuditLogEntry.objects.get(action="contact.erased")
    assert "rasa@example.lt" not in str(entry.details)


def test_an_admin_exports_a_contacts_data(
    api_as: Any, store: Store, active: Survey, organisation: Organisation
) -> None:
    rasa = contact(store, "rasa@example.lt", name="Rasa")
    _answer(active, "rasa@example.lt", {active.questions.get(position=0).pk: 5}, WHEN)

    response = api_as(Role.ADMIN).get(f"/api/v1/contacts/{rasa.pk}/export/")

    assert response.status_code == 200
    body = response.json()
    assert (body["contact"]["email"], body["contact"]["name"]) == ("rasa@example.lt", "Rasa")
    assert [a["number"] for a in body["invitations"][0]["answers"]] == [5]
    entry = AuditLogEntry.objects.get(action="contact.exported")
    assert (entry.organisation, entry.object_id) == (organisation, str(rasa.pk))


def test_an_editor_cannot_export_a_contact(api_as: Any, store: Store) -> None:
    rasa = contact(store, "rasa@example.lt")

    response = api_as(Role.EDITOR).get(f"/api/v1/contacts/{rasa.pk}/export/")

    assert response.status_code == 403
    assert not AuditLogEntry.objects.filter(action="contact.exported").exists()


# --- A store's sending settings: editors read them, admins change them


def settings_url(store: Store) -> str:
    return f"/api/v1/stores/{store.pk}/survey-settings/"


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        (Role.VIEWER, 403, 403),
        (Role.EDITOR, 200, 403),
        (Role.ADMIN, 200, 200),
        (Role.OWNER, 200, 200),
    ],
)
def test_store_sending_settings_roles(
    api_as: Any, store: Store, role: str, read: int, write: int
) -> None:
    api = api_as(role)

    got = api.get(settings_url(store))
    changed = api.patch(settings_url(store), {"fatigue_days": 7}, format="json")

    assert (got.status_code, changed.status_code) == (read, write)
    if read == 200:
        assert got.json() == {
            "store": store.pk,
            "sender_name": "",
            "reply_to": "",
            "fatigue_days": 30,
            "send_rate_per_minute": 600,
        }
    if write == 403:
        assert error(changed)["message"] == "This needs the admin role or higher."
    assert list(StoreSurveySettings.objects.values_list("fatigue_days", flat=True)) == (
        [7] if write == 200 else []
    )


def test_store_sending_settings_are_changed_field_by_field(api_as: Any, store: Store) -> None:
    api = api_as(Role.ADMIN)

    first = api.patch(
        settings_url(store),
        {"sender_name": "Baltų Prekės", "reply_to": "pagalba@baltic.example"},
        format="json",
    )
    second = api.patch(settings_url(store), {"send_rate_per_minute": 10_000}, format="json")

    assert first.status_code == second.status_code == 200
    assert second.json() == {
        "store": store.pk,
        "sender_name": "Baltų Prekės",
        "reply_to": "pagalba@baltic.example",
        "fatigue_days": 30,
        "send_rate_per_minute": 10_000,
    }
    assert api.get(settings_url(store)).json() == second.json()
    assert [
        e.details
        for e in AuditLogEntry.objects.filter(action="survey_settings.updated").order_by("id")
    ] == [
        {"sender_name": "Baltų Prekės", "reply_to": "pagalba@baltic.example"},
        {"send_rate_per_minute": "10000"},
    ]


def test_store_sending_settings_out_of_range_are_a_400(api_as: Any, store: Store) -> None:
    api = api_as(Role.ADMIN)

    too_low = api.patch(
        settings_url(store), {"fatigue_days": 0, "send_rate_per_minute": 0}, format="json"
    )
    too_high = api.patch(
        settings_url(store), {"fatigue_days": 366, "send_rate_per_minute": 10_001}, format="json"
    )
    malformed = api.patch(
        settings_url(store),
        {"fatigue_days": "often", "reply_to": "not-an-address", "sender_name": "A\nB"},
        format="json",
    )
    multi_line = api.patch(settings_url(store), {"sender_name": "A\nB"}, format="json")

    range_errors = {
        "fatigue_days": ["Give a number of days from 1 to 365."],
        "send_rate_per_minute": ["Give a number of emails per minute from 1 to 10,000."],
    }
    assert (too_low.status_code, error(too_low)["details"]) == (400, range_errors)
    assert (too_high.status_code, error(too_high)["details"]) == (400, range_errors)
    assert (malformed.status_code, error(malformed)["details"]) == (
        400,
        {
            "fatigue_days": ["A valid integer is required."],
            "reply_to": ["Enter a valid email address."],
        },
    )
    assert (multi_line.status_code, error(multi_line)["details"]) == (
        400,
        {"sender_name": ["The sender name must be one line of text."]},
    )
    assert not StoreSurveySettings.objects.exists()
    assert not AuditLogEntry.objects.filter(action="survey_settings.updated").exists()


def test_store_sending_settings_through_a_secret_key(store: Store) -> None:
    sister = StoreFactory(organisation=store.organisation)
    api = key_for(store)

    own = api.get(settings_url(store))
    write = api.patch(settings_url(store), {"fatigue_days": 1}, format="json")

    assert own.status_code == 200
    assert own.json()["store"] == store.pk
    assert api.get(settings_url(sister)).status_code == 404
    assert write.status_code == 403
    assert not StoreSurveySettings.objects.exists()


def test_another_organisations_store_sending_settings_are_not_found(
    api_as: Any, other_organisation: Organisation
) -> None:
    theirs = StoreFactory(organisation=other_organisation)
    services.store_survey_settings_update(store=theirs, actor=SYSTEM, sender_name="Rival Sender")
    api = api_as(Role.OWNER)

    read = api.get(settings_url(theirs))
    write = api.patch(settings_url(theirs), {"sender_name": "Mine"}, format="json")

    assert (read.status_code, write.status_code) == (404, 404)
    assert b"Rival Sender" not in read.content
    assert StoreSurveySettings.objects.get(store=theirs).sender_name == "Rival Sender"


# --- The machine endpoint: a store's backend reports an event


@pytest.fixture
def triggered(store: Store) -> tuple[Survey, Survey]:
    """Two active surveys triggered by `purchase`: after 24 h and after 1 h."""
    csat = activated(from_template(store, languages=["en", "lt"]))
    ces = activated(from_template(store, template="checkout-ces", languages=["en", "lt"]))
    activated(from_template(store, template="nps", languages=["en"]))  # `delivered`
    return csat, ces


def test_a_secret_key_triggers_the_surveys_of_its_store(
    store: Store, triggered: tuple[Survey, Survey]
) -> None:
    csat, ces = triggered
    api = key_for(store)

    response = api.post(
        "/api/v1/surveys/triggers/",
        {
            "email": "Rasa@Example.LT",
            "customer_key": "C-42",
            "event": "purchase",
            "occurred_at": "2026-05-12T12:30:00+03:00",
            "language": "en",
            "name": "Rasa",
        },
    )

    assert response.status_code == 201
    invitations = sorted(response.json()["invitations"], key=lambda i: i["due_at"])
    assert [(i["survey"], i["due_at"], i["status"]) for i in invitations] == [
        (ces.pk, "2026-05-12T10:30:00Z", "queued"),  # 09:30 UTC + 1 h
        (csat.pk, "2026-05-13T09:30:00Z", "queued"),  # + 24 h
    ]
    assert sorted(i["id"] for i in invitations) == sorted(
        Invitation.objects.values_list("id", flat=True)
    )
    person = Contact.objects.get()
    assert (person.email, person.customer_key, person.name, person.language) == (
        "rasa@example.lt",
        "C-42",
        "Rasa",
        "en",
    )
    assert set(Invitation.objects.values_list("language", "trigger_event", "triggered_at")) == {
        ("en", "purchase", WHEN)
    }


def test_a_repeated_event_creates_nothing_new(
    store: Store, triggered: tuple[Survey, Survey]
) -> None:
    api = key_for(store)
    event = {
        "customer_key": "C-42",
        "email": "a@example.com",
        "event": "purchase",
        "occurred_at": "2026-05-12T09:30:00Z",
    }

    first = api.post("/api/v1/surveys/triggers/", event)
    again = api.post("/api/v1/surveys/triggers/", event)

    assert (first.status_code, len(first.json()["invitations"])) == (201, 2)
    assert (again.status_code, again.json()) == (200, {"invitations": []})
    assert Invitation.objects.count() == 2


def test_an_event_no_survey_listens_to_queues_nothing(
    store: Store, triggered: tuple[Survey, Survey]
) -> None:
    response = key_for(store).post(
        "/api/v1/surveys/triggers/", {"email": "a@example.com", "event": "page_view"}
    )

    assert (response.status_code, response.json()) == (200, {"invitations": []})
    assert not Invitation.objects.exists()


def test_the_event_time_defaults_to_now(store: Store, triggered: tuple[Survey, Survey]) -> None:
    with mock.patch("django.utils.timezone.now", return_value=WHEN):
        response = key_for(store).post(
            "/api/v1/surveys/triggers/",
            {"customer_key": "C-1", "email": "a@example.com", "event": "purchase"},
        )

    assert sorted(i["due_at"] for i in response.json()["invitations"]) == [
        "2026-05-12T10:30:00Z",
        "2026-05-13T09:30:00Z",
    ]


def test_a_known_customer_key_is_enough(store: Store, triggered: tuple[Survey, Survey]) -> None:
    known = contact(store, "known@example.com", customer_key="C-9")

    response = key_for(store).post(
        "/api/v1/surveys/triggers/", {"customer_key": "C-9", "event": "purchase"}
    )
    unknown = key_for(store).post(
        "/api/v1/surveys/triggers/", {"customer_key": "C-10", "event": "purchase"}
    )

    assert response.status_code == 201
    assert set(Invitation.objects.values_list("contact", flat=True)) == {known.pk}
    assert (unknown.status_code, unknown.json()) == (200, {"invitations": []})


@pytest.mark.parametrize(
    ("data", "details"),
    [
        (
            {"event": "purchase"},
            {"customer_key": ["Give the customer's key or email address (or both)."]},
        ),
        (
            {"email": "nope", "event": "purchase"},
            {"email": ["Enter a valid email address."]},
        ),
        ({"email": "a@example.com"}, {"event": ["This field is required."]}),
        (
            {"email": "a@example.com", "event": "purchase", "occurred_at": "soon"},
            {
                "occurred_at": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
    ],
)
def test_a_bad_trigger_is_a_400(
    store: Store, triggered: tuple[Survey, Survey], data: dict[str, Any], details: dict[str, Any]
) -> None:
    response = key_for(store).post("/api/v1/surveys/triggers/", data)

    assert response.status_code == 400
    assert error(response) == {
        "status": 400,
        "code": "invalid",
        "message": "The request has invalid fields.",
        "details": details,
    }
    assert not Contact.objects.exists()


def test_a_publishable_key_cannot_trigger_surveys(
    store: Store, triggered: tuple[Survey, Survey]
) -> None:
    response = key_for(store, ApiKey.Kind.PUBLISHABLE).post(
        "/api/v1/surveys/triggers/", {"email": "a@example.com", "event": "purchase"}
    )

    assert response.status_code == 403
    assert error(response)["message"] == "A publishable key can only send browser events."
    assert not Invitation.objects.exists()


def test_a_secret_key_triggers_only_its_own_store(
    store: Store, triggered: tuple[Survey, Survey]
) -> None:
    sister = StoreFactory(organisation=store.organisation)
    sister_survey = activated(from_template(sister))

    response = key_for(store).post(
        "/api/v1/surveys/triggers/",
        {"store": sister.pk, "email": "a@example.com", "event": "purchase"},
    )

    assert response.status_code == 400
    assert error(response)["details"] == {
        "store": [f'Invalid pk "{sister.pk}" - object does not exist.']
    }
    assert not sister_survey.invitations.exists()


def test_a_member_triggers_for_a_store_they_name(
    api_as: Any, store: Store, triggered: tuple[Survey, Survey]
) -> None:
    api = api_as(Role.EDITOR)

    without = api.post("/api/v1/surveys/triggers/", {"email": "a@example.com", "event": "purchase"})
    named = api.post(
        "/api/v1/surveys/triggers/",
        {"store": store.pk, "email": "a@example.com", "event": "purchase"},
    )

    assert error(without)["details"] == {"store": ["Give the store."]}
    assert named.status_code == 201
    assert len(named.json()["invitations"]) == 2
    assert (
        api_as(Role.VIEWER)
        .post(
            "/api/v1/surveys/triggers/",
            {"store": store.pk, "email": "b@example.com", "event": "purchase"},
        )
        .status_code
        == 403
    )


# --- Secret keys and other organisations


def test_a_secret_key_sees_its_own_stores_surveys_only(store: Store, survey: Survey) -> None:
    sister = from_template(StoreFactory(organisation=store.organisation))
    api = key_for(store)

    listing = api.get("/api/v1/surveys/")

    assert [s["id"] for s in listing.json()["results"]] == [survey.pk]
    assert api.get(f"/api/v1/surveys/{sister.pk}/").status_code == 404
    assert api.get(f"/api/v1/surveys/{sister.pk}/results/").status_code == 404


def test_another_organisations_survey_is_not_found(
    api_as: Any, other_organisation: Organisation
) -> None:
    theirs = from_template(StoreFactory(organisation=other_organisation), name="Secret survey")
    api = api_as(Role.OWNER)

    for url in (
        f"/api/v1/surveys/{theirs.pk}/",
        f"/api/v1/surveys/{theirs.pk}/results/",
        f"/api/v1/surveys/{theirs.pk}/invitations/",
        f"/api/v1/surveys/{theirs.pk}/responses-export/",
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        assert error(response) == {
            "status": 404,
            "code": "not_found",
            "message": "Not found.",
            "details": {},
        }
        assert b"Secret survey" not in response.content
    assert [s["id"] for s in api.get("/api/v1/surveys/").json()["results"]] == []
