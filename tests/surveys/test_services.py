from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditLogEntry
from accounts.services import Actor
from surveys import selectors, services, tokens
from surveys.models import (
    Answer,
    Contact,
    Invitation,
    Question,
    Response,
    StoreSurveySettings,
    Survey,
)

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def survey(organisation: Any, store: Any, actor: Actor) -> Survey:
    survey = services.survey_create(
        organisation=organisation,
        store=store,
        actor=actor,
        name="Delivery",
        kind="csat",
        moment="TMOT",
        trigger_event="delivered",
        delay=timedelta(hours=24),
        languages=["lt", "en"],
        default_language="lt",
        email_subject={"lt": "Kaip sekėsi?", "en": "How did it go?"},
        email_intro={"lt": "Atsakykite į kelis klausimus.", "en": "Answer a few questions."},
        thank_you_text={"lt": "Ačiū!", "en": "Thank you!"},
    )
    services.question_create(
        survey=survey,
        actor=actor,
        type="rating",
        required=True,
        text={"lt": "Kaip vertinate pristatymą?", "en": "How do you rate the delivery?"},
    )
    services.question_create(
        survey=survey,
        actor=actor,
        type="multiple_choice",
        required=False,
        text={"lt": "Ką pagerinti?", "en": "What to improve?"},
        choices={"lt": ["Greitį", "Pakuotę"], "en": ["Speed", "Packaging"]},
    )
    services.question_create(
        survey=survey,
        actor=actor,
        type="free_text",
        required=False,
        text={"lt": "Komentaras", "en": "Comment"},
    )
    return services.survey_set_status(survey=survey, actor=actor, status="active")


def test_choices_need_the_same_count_in_every_language(survey: Survey, actor: Actor) -> None:
    with pytest.raises(ValidationError, match="same number of choices"):
        services.question_create(
            survey=survey,
            actor=actor,
            type="single_choice",
            text={"lt": "Ar?", "en": "Did?"},
            choices={"lt": ["Taip", "Ne"], "en": ["Yes"]},
        )
    assert survey.questions.count() == 3


def test_activation_needs_questions_a_trigger_and_texts(
    organisation: Any, store: Any, actor: Actor
) -> None:
    survey = services.survey_create(
        organisation=organisation,
        store=store,
        actor=actor,
        name="Empty",
        kind="nps",
        languages=["en", "cs"],
        default_language="en",
    )
    with pytest.raises(ValidationError, match="Add at least one question"):
        services.survey_set_status(survey=survey, actor=actor, status="active")
    services.question_create(survey=survey, actor=actor, type="nps", text={"en": "Recommend?"})
    with pytest.raises(ValidationError, match="Set the event"):
        services.survey_set_status(survey=survey, actor=actor, status="active")
    services.survey_update(survey=survey, actor=actor, trigger_event="delivered")
    with pytest.raises(ValidationError) as refused:
        services.survey_set_status(survey=survey, actor=actor, status="active")
    assert refused.value.messages == [
        "Fill in every text in each of the survey's languages before activating it. Missing:",
        "English: email subject, email introduction, thank-you text.",
        "Czech: email subject, email introduction, thank-you text, question 1.",
    ]
    survey.refresh_from_db()
    assert survey.status == "draft"


def _half_filled(organisation: Any, store: Any, actor: Actor) -> Survey:
    """Lithuanian complete; Latvian with its question texts only (what used to pass)."""
    survey = services.survey_create(
        organisation=organisation,
        store=store,
        actor=actor,
        name="Delivery",
        kind="csat",
        trigger_event="delivered",
        languages=["lt", "lv"],
        default_language="lt",
        email_subject={"lt": "Kaip sekėsi?"},
        email_intro={"lt": "Atsakykite į kelis klausimus.", "lv": "  "},
        thank_you_text={"lt": "Ačiū!", "lv": "Paldies!"},
    )
    services.question_create(
        survey=survey,
        actor=actor,
        type="rating",
        text={"lt": "Kaip vertinate pristatymą?", "lv": "Kā vērtējat piegādi?"},
    )
    services.question_create(
        survey=survey,
        actor=actor,
        type="free_text",
        text={"lt": "Komentaras", "lv": "Komentārs"},
    )
    services.question_create(
        survey=survey,
        actor=actor,
        type="single_choice",
        text={"lt": "Kaip mokėjote?", "lv": "Kā maksājāt?"},
        choices={"lt": ["Kortele", "Grynais"]},
    )
    return survey


def test_activation_names_each_missing_text_of_each_language(
    organisation: Any, store: Any, actor: Actor
) -> None:
    survey = _half_filled(organisation, store, actor)

    with pytest.raises(ValidationError) as refused:
        services.survey_set_status(survey=survey, actor=actor, status="active")

    assert refused.value.messages == [
        "Fill in every text in each of the survey's languages before activating it. Missing:",
        "Latvian: email subject, email introduction, choice 1 of question 3, "
        "choice 2 of question 3.",
    ]
    choice = survey.questions.get(position=2)
    choice.choices = {"lt": ["Kortele", "Grynais"], "lv": ["Ar karti", "Skaidrā naudā"]}
    choice.save()
    services.survey_update(
        survey=survey,
        actor=actor,
        email_subject={"lt": "Kaip sekėsi?", "lv": "Kā veicās?"},
        email_intro={
            "lt": "Atsakykite į kelis klausimus.",
            "lv": "Atbildiet uz dažiem jautājumiem.",
        },
    )
    activated = services.survey_set_status(survey=survey, actor=actor, status="active")
    assert activated.status == "active"


def test_activation_counts_a_blank_choice_and_names_it_by_its_place(
    organisation: Any, store: Any, actor: Actor
) -> None:
    survey = _half_filled(organisation, store, actor)
    services.survey_update(
        survey=survey,
        actor=actor,
        email_subject={"lt": "Kaip sekėsi?", "lv": "Kā veicās?"},
        email_intro={"lt": "Atsakykite į kelis klausimus.", "lv": "Atbildiet uz jautājumiem."},
    )
    choice = survey.questions.get(position=2)
    choice.choices = {"lt": ["Kortele", "Grynais"], "lv": ["Ar karti", " "]}
    choice.save()

    with pytest.raises(ValidationError) as refused:
        services.survey_set_status(survey=survey, actor=actor, status="active")

    assert refused.value.messages[1:] == ["Latvian: choice 2 of question 3."]


def test_contact_upsert_normalises_and_merges(store: Any) -> None:
    first, created = services.contact_upsert(store=store, email=" Ona@Example.LT ", language="lt")
    again, created_again = services.contact_upsert(
        store=store, email="ona@example.lt", customer_key="C-17", name="Ona"
    )
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    contact = Contact.objects.get()
    assert (contact.email, contact.customer_key, contact.name, contact.language) == (
        "ona@example.lt",
        "C-17",
        "Ona",
        "lt",
    )
    with pytest.raises(ValidationError, match="is not a valid email address"):
        services.contact_upsert(store=store, email="not-an-email")
    with pytest.raises(ValidationError, match="Use one of"):
        services.contact_upsert(store=store, email="x@example.com", language="xx")


def test_trigger_queues_invitations_in_the_contacts_language(survey: Survey, store: Any) -> None:
    services.contact_upsert(
        store=store, email="jonas@example.lt", customer_key="C-1", language="en"
    )
    created = services.invitations_trigger(
        store=store, event_name="delivered", occurred_at=WHEN, customer_key="C-1"
    )
    assert [(i.survey_id, i.status, i.language, i.due_at) for i in created] == [
        (survey.pk, "queued", "en", WHEN + timedelta(hours=24))
    ]
    again = services.invitations_trigger(
        store=store, event_name="delivered", occurred_at=WHEN, customer_key="C-1"
    )
    assert again == []
    assert Invitation.objects.count() == 1


def test_trigger_by_email_creates_the_contact_and_falls_back_to_the_store_language(
    survey: Survey, store: Any
) -> None:
    created = services.invitations_trigger(
        store=store, event_name="delivered", occurred_at=WHEN, email="Rasa@Example.lt"
    )
    assert [(i.contact.email, i.language) for i in created] == [("rasa@example.lt", "lt")]


def test_trigger_without_a_known_contact_or_an_active_survey_does_nothing(
    survey: Survey, store: Any
) -> None:
    assert (
        services.invitations_trigger(
            store=store, event_name="delivered", occurred_at=WHEN, customer_key="unknown"
        )
        == []
    )
    assert (
        services.invitations_trigger(
            store=store, event_name="shipped", occurred_at=WHEN, email="a@example.com"
        )
        == []
    )
    assert Invitation.objects.count() == 0


def test_the_link_token_is_derived_and_never_stored(survey: Survey, store: Any) -> None:
    [invitation] = services.invitations_trigger(
        store=store, event_name="delivered", occurred_at=WHEN, email="a@example.com"
    )
    token = tokens.token_for(invitation.nonce)
    assert len(token) == 32  # 24 bytes = 192 bits, base64url
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert invitation.token_hash == tokens.token_hash(token)
    Invitation.objects.filter(pk=invitation.pk).update(status="sent")
    assert selectors.invitation_by_token(token=token).pk == invitation.pk
    assert selectors.invitation_by_token(token=token[:-1] + "A") is None


def _sent_invitation(survey: Survey, store: Any) -> Invitation:
    [invitation] = services.invitations_trigger(
        store=store, event_name="delivered", occurred_at=WHEN, email="a@example.com"
    )
    Invitation.objects.filter(pk=invitation.pk).update(status="sent", sent_at=WHEN)
    invitation.refresh_from_db()
    return invitation


@pytest.mark.parametrize("status", ["queued", "capped"])
def test_a_link_works_only_once_its_invitation_was_sent(
    survey: Survey, store: Any, status: str
) -> None:
    invitation = _sent_invitation(survey, store)
    Invitation.objects.filter(pk=invitation.pk).update(status=status)
    assert selectors.invitation_by_token(token=tokens.token_for(invitation.nonce)) is None


def test_the_token_lookup_brings_survey_store_and_response_in_one_query(
    survey: Survey, store: Any, django_assert_num_queries: Any
) -> None:
    invitation = _sent_invitation(survey, store)
    Survey.objects.filter(pk=survey.pk).update(thank_you_text={"lt": "Ačiū, {store}!"})
    token = tokens.token_for(invitation.nonce)

    with django_assert_num_queries(1):
        found = selectors.invitation_by_token(token=token)
        assert found is not None
        assert (found.pk, found.status, found.language) == (invitation.pk, "sent", "lt")
        assert found.survey.pk == survey.pk
        assert found.survey.status == "active"
        assert found.survey.languages == survey.languages
        assert found.survey.thank_you_text == {"lt": "Ačiū, {store}!"}  # JSON decoded
        assert (found.survey.store.pk, found.survey.store.name) == (store.pk, store.name)
        with pytest.raises(Response.DoesNotExist):
            found.response  # noqa: B018 (known to be missing: no query)

    rating = survey.questions.get(type="rating")
    services.response_save(invitation=found, answers={rating.pk: "4"}, language="lt", submit=True)
    with django_assert_num_queries(1):
        again = selectors.invitation_by_token(token=token)
        assert again is not None
        assert again.status == "answered"
        assert again.response.language == "lt"
        assert again.response.submitted_at is not None
        assert again.response.invitation is again
    assert again.contact.email == "a@example.com"  # deferred: read when asked for


def test_the_answer_page_reads_its_questions_in_order_with_the_invitation(
    survey: Survey, store: Any, django_assert_num_queries: Any
) -> None:
    invitation = _sent_invitation(survey, store)
    expected = list(survey.questions.order_by("position", "id"))
    first = expected[0]
    Question.objects.filter(pk=first.pk).update(position=100)  # now asked last
    expected = [*expected[1:], first]

    with django_assert_num_queries(1):
        found = selectors.answer_page_by_token(token=tokens.token_for(invitation.nonce))
        assert found is not None
        page_invitation, questions = found
        assert page_invitation.pk == invitation.pk
        assert [(q.pk, q.type, q.required, q.text, q.choices) for q in questions] == [
            (q.pk, q.type, q.required, q.text, q.choices) for q in expected
        ]
        assert all(q.survey is page_invitation.survey for q in questions)
        assert [q.scale for q in questions] == [q.scale for q in expected]

    Question.objects.filter(survey=survey).delete()
    found = selectors.answer_page_by_token(token=tokens.token_for(invitation.nonce))
    assert found is not None and found[1] == []


def test_partial_save_keeps_valid_answers_and_reports_invalid_ones(
    survey: Survey, store: Any
) -> None:
    invitation = _sent_invitation(survey, store)
    rating, improve, comment = survey.questions.order_by("position")
    response, errors = services.response_save(
        invitation=invitation,
        answers={rating.pk: "9", improve.pk: ["1", "0"], comment.pk: "  Greitai!  "},
        language="lt",
        submit=True,
    )
    assert errors == {rating.pk: "invalid"}
    assert response.submitted_at is None
    assert sorted(Answer.objects.values_list("question__type", "number", "choices", "text")) == [
        ("free_text", None, [], "Greitai!"),
        ("multiple_choice", None, [0, 1], ""),
    ]

    response, errors = services.response_save(
        invitation=invitation, answers={rating.pk: "4"}, language="lt", submit=True
    )
    assert errors == {}
    assert response.submitted_at is not None
    invitation.refresh_from_db()
    assert invitation.status == "answered"
    assert Answer.objects.get(question=rating).number == 4


def test_required_questions_block_the_final_submit(survey: Survey, store: Any) -> None:
    invitation = _sent_invitation(survey, store)
    comment = survey.questions.get(type="free_text")
    rating = survey.questions.get(type="rating")
    response, errors = services.response_save(
        invitation=invitation, answers={comment.pk: "Ok"}, language="en", submit=True
    )
    assert errors == {rating.pk: "required"}
    assert response.submitted_at is None
    assert response.language == "en"


def test_submitting_twice_keeps_one_response_and_the_first_answers(
    survey: Survey, store: Any
) -> None:
    invitation = _sent_invitation(survey, store)
    rating = survey.questions.get(type="rating")
    services.response_save(
        invitation=invitation, answers={rating.pk: 5}, language="lt", submit=True
    )
    services.response_save(
        invitation=invitation, answers={rating.pk: 1}, language="lt", submit=True
    )
    assert Response.objects.count() == 1
    assert Answer.objects.get().number == 5


def test_questions_from_the_caller_are_not_read_again_and_another_surveys_are_ignored(
    survey: Survey, store: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    invitation = _sent_invitation(survey, store)
    questions = list(survey.questions.order_by("position"))
    rating = questions[0]
    stranger = Question(pk=rating.pk + 1000, survey_id=survey.pk + 1000, type="free_text")

    with CaptureQueriesContext(connection) as queries:
        response, errors = services.response_save(
            invitation=invitation,
            answers={rating.pk: "4", stranger.pk: "Not this survey's"},
            language="lt",
            submit=True,
            questions=[*questions, stranger],
        )

    assert errors == {}
    assert response.submitted_at is not None
    assert list(Answer.objects.values_list("question_id", "number")) == [(rating.pk, 4)]
    assert not [q for q in queries.captured_queries if "surveys_question" in q["sql"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("started", [False, True], ids=["first save", "later save"])
def test_a_save_waiting_for_another_sees_the_response_it_submitted(
    survey: Survey, store: Any, started: bool
) -> None:
    """A double click. On a first save, the second one waits for the first one's INSERT of
    the response, then finds it and takes the locked path; on a later save it waits for the
    invitation's row lock. Either way it then reads the submitted response (after the wait,
    not in a snapshot from before it) and changes nothing."""
    import threading

    from django.db import connection, transaction

    from tests.locks import wait_for_a_lock_wait

    invitation = _sent_invitation(survey, store)
    rating = survey.questions.get(type="rating")
    comment = survey.questions.get(type="free_text")
    if started:
        services.response_save(
            invitation=invitation, answers={comment.pk: "Greitai"}, language="lt", submit=False
        )
    outcome: dict[str, Any] = {}

    def second_click() -> None:
        try:
            outcome["second"] = services.response_save(
                invitation=Invitation.objects.get(pk=invitation.pk),
                answers={rating.pk: "2"},
                language="lt",
                submit=True,
            )
        except Exception as exc:  # reported by the assertion below
            outcome["second"] = exc
        finally:
            connection.close()

    with transaction.atomic():
        services.response_save(
            invitation=invitation, answers={rating.pk: "5"}, language="lt", submit=True
        )
        thread = threading.Thread(target=second_click)
        thread.start()
        if not wait_for_a_lock_wait():
            pytest.fail("the second save never waited for the first")
    thread.join(10)

    response, errors = outcome["second"]
    assert errors == {}
    assert Response.objects.count() == 1
    assert response.pk == Response.objects.get().pk
    assert response.submitted_at is not None
    assert sorted(Answer.objects.values_list("text", "number")) == (
        [("", 5), ("Greitai", None)] if started else [("", 5)]
    )


@pytest.mark.parametrize("status", ["closed", "draft"])
def test_a_survey_that_is_not_open_takes_no_answer_whatever_the_callers_copy_says(
    survey: Survey, store: Any, actor: Actor, status: str
) -> None:
    invitation = _sent_invitation(survey, store)
    rating = survey.questions.get(type="rating")
    assert invitation.survey.status == "active"  # the caller's copy, read before
    Survey.objects.filter(pk=survey.pk).update(status=status)

    with pytest.raises(ValidationError, match=r"This survey is closed\."):
        services.response_save(
            invitation=invitation, answers={rating.pk: "5"}, language="lt", submit=True
        )

    assert (Response.objects.count(), Answer.objects.count()) == (0, 0)
    invitation.refresh_from_db()
    assert invitation.status == "sent"


def test_a_first_save_with_errors_keeps_the_valid_answers_and_does_not_submit(
    survey: Survey, store: Any
) -> None:
    invitation = _sent_invitation(survey, store)
    rating, improve, comment = survey.questions.order_by("position")
    invitation = selectors.invitation_by_token(token=tokens.token_for(invitation.nonce))
    assert invitation is not None

    response, errors = services.response_save(
        invitation=invitation,
        answers={rating.pk: "", improve.pk: ["7"], comment.pk: "x" * 5001},
        language="en",
        submit=True,
    )

    assert errors == {improve.pk: "invalid", comment.pk: "too_long"}
    assert response.submitted_at is None
    assert response.language == "en"
    stored = Response.objects.get()
    assert (stored.pk, stored.language, stored.submitted_at) == (response.pk, "en", None)
    assert Answer.objects.count() == 0
    assert Invitation.objects.get(pk=invitation.pk).status == "sent"


def test_export_and_erase_one_person(survey: Survey, store: Any, actor: Actor) -> None:
    invitation = _sent_invitation(survey, store)
    rating = survey.questions.get(type="rating")
    services.response_save(
        invitation=invitation, answers={rating.pk: 2}, language="lt", submit=True
    )
    contact = invitation.contact
    exported = selectors.contact_export(contact=contact)
    assert exported["contact"]["email"] == "a@example.com"
    assert exported["invitations"][0]["answers"][0]["number"] == 2
    assert exported["invitations"][0]["answers"][0]["question"] == "Kaip vertinate pristatymą?"

    services.contact_erase(contact=contact, actor=actor)
    assert (Contact.objects.count(), Invitation.objects.count(), Answer.objects.count()) == (
        0,
        0,
        0,
    )
    entry = AuditLogEntry.objects.get(action="contact.erased")
    assert "a@example.com" not in str(entry.details) + entry.object_repr


def test_send_to_contacts_skips_the_unsubscribed(survey: Survey, store: Any, actor: Actor) -> None:
    keep, _ = services.contact_upsert(store=store, email="keep@example.com")
    gone, _ = services.contact_upsert(store=store, email="gone@example.com")
    services.contact_unsubscribe(contact=gone)
    created = services.survey_send_to_contacts(
        survey=survey, actor=actor, contacts=[keep, gone], when=WHEN
    ).invitations
    assert [i.contact.email for i in created] == ["keep@example.com"]
    assert created[0].due_at == WHEN


@pytest.mark.parametrize("count", [1, 12])
def test_send_to_contacts_invites_each_once_in_a_fixed_number_of_queries(
    survey: Survey,
    store: Any,
    organisation: Any,
    actor: Actor,
    count: int,
    django_assert_num_queries: Any,
) -> None:
    from tests.factories import StoreFactory

    contacts = [
        services.contact_upsert(store=store, email=f"buyer{n}@example.com")[0] for n in range(count)
    ]
    elsewhere, _ = services.contact_upsert(
        store=StoreFactory(organisation=organisation), email="other@example.com"
    )

    # In one transaction (SAVEPOINT here): those invited already or over the fatigue cap, the
    # survey's store (its language is the fallback), the new invitations in one INSERT, the
    # audit line.
    with django_assert_num_queries(6):
        created = services.survey_send_to_contacts(
            survey=survey, actor=actor, contacts=[*contacts, elsewhere], when=WHEN
        ).invitations
    again = services.survey_send_to_contacts(
        survey=survey, actor=actor, contacts=contacts, when=WHEN
    ).invitations

    assert sorted(i.contact.email for i in created) == sorted(c.email for c in contacts)
    assert again == []
    assert Invitation.objects.filter(survey=survey).count() == count
    assert len({i.token_hash for i in created}) == count
    assert [e.details for e in AuditLogEntry.objects.filter(action="survey.sent_to_contacts")] == [
        {"invitations": 0},
        {"invitations": count},
    ]


def test_send_to_contacts_invites_nobody_twice_and_says_who_is_over_the_cap(
    survey: Survey, organisation: Any, store: Any, actor: Actor
) -> None:
    """Who has an invitation already, and who was emailed within the fatigue window, by the
    sending's own rules: an exact count of each, and only the others queued."""
    from tests.surveys.factories import SurveyFactory

    other = SurveyFactory(store=store, status=Survey.Status.ACTIVE)
    StoreSurveySettings.objects.create(store=store, fatigue_days=10)

    def contact_with(*invitations: tuple[Survey, str, int | None]) -> Contact:
        """A contact with invitations (survey, status, days before WHEN it was sent)."""
        contact = services.contact_upsert(store=store, email=f"c{Contact.objects.count()}@x.lt")[0]
        for n, (of, status, days_ago) in enumerate(invitations):
            Invitation.objects.create(
                survey=of,
                contact=contact,
                status=status,
                nonce=f"{contact.pk}-{n}",
                token_hash=f"{contact.pk}-{n}",
                language="lt",
                trigger_event="delivered",
                triggered_at=WHEN - timedelta(days=40 + n),
                due_at=WHEN - timedelta(days=40),
                sent_at=None if days_ago is None else WHEN - timedelta(days=days_ago),
            )
        return contact

    contacts = {
        "new": contact_with(),
        "sent, answered long ago": contact_with((survey, "answered", 60)),
        "triggered, due later": contact_with((survey, "queued", None)),
        "being emailed": contact_with((survey, "sending", None)),
        "bounced": contact_with((survey, "bounced", 40)),
        "capped before": contact_with((survey, "capped", None)),
        "failed before": contact_with((survey, "failed", None)),
        "other survey 9 days ago": contact_with((other, "sent", 9)),
        "other survey 11 days ago": contact_with((other, "opened", 11)),
        "other survey sending": contact_with((other, "sending", None)),
        "capped before, other survey 2 days ago": contact_with(
            (survey, "capped", None), (other, "answered", 2)
        ),
        "invited, and other survey 2 days ago": contact_with(
            (survey, "sent", 30), (other, "sent", 2)
        ),
    }

    summary = services.survey_send_to_contacts(
        survey=survey, actor=actor, contacts=contacts.values(), when=WHEN
    )

    status_of = {i.contact_id: i.status for i in summary.invitations}
    assert {name: status_of.get(c.pk, "not invited") for name, c in contacts.items()} == {
        "new": "queued",
        "sent, answered long ago": "not invited",
        "triggered, due later": "not invited",
        "being emailed": "not invited",
        "bounced": "not invited",
        "capped before": "queued",
        "failed before": "queued",
        "other survey 9 days ago": "capped",
        "other survey 11 days ago": "queued",
        "other survey sending": "capped",
        "capped before, other survey 2 days ago": "capped",
        "invited, and other survey 2 days ago": "not invited",
    }
    assert (summary.queued, summary.already_invited, summary.capped) == (4, 5, 3)
    stored = Invitation.objects.filter(survey=survey, trigger_event="manual")
    assert sorted(stored.values_list("status", flat=True)) == ["capped"] * 3 + ["queued"] * 4
    assert stored.filter(status="queued", due_at=WHEN).count() == 4

    again = services.survey_send_to_contacts(
        survey=survey, actor=actor, contacts=contacts.values(), when=WHEN + timedelta(hours=1)
    )
    assert (again.queued, again.already_invited) == (0, 9)
    assert again.capped == 3  # still over the cap: capped again, never emailed


def test_question_types_and_scales() -> None:
    assert Question(type="nps").scale == (0, 10)
    assert Question(type="rating").scale == (1, 5)
    assert Question(type="ces").scale == (1, 7)
    assert Question(type="free_text").scale is None


def test_default_language_falls_back_to_the_store_then_the_first_language(
    organisation: Any, store: Any, actor: Actor
) -> None:
    english = services.survey_create(
        organisation=organisation,
        store=store,
        actor=actor,
        name="EN",
        kind="nps",
        languages=["en", "cs"],
    )
    assert english.default_language == "en"
    lithuanian = services.survey_create(
        organisation=organisation,
        store=store,
        actor=actor,
        name="LT",
        kind="nps",
        languages=["en", "lt"],
    )
    assert lithuanian.default_language == "lt"
    with pytest.raises(ValidationError, match="default language must be one of"):
        services.survey_create(
            organisation=organisation,
            store=store,
            actor=actor,
            name="X",
            kind="nps",
            languages=["en"],
            default_language="ro",
        )
