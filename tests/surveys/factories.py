"""factory_boy factories for surveys and contacts. A survey belongs to its store's
organisation; `QuestionFactory(survey=s, type="nps")` adds a question in English."""

from __future__ import annotations

from datetime import UTC, datetime

import factory

from surveys import services, tokens
from surveys.models import Contact, Invitation, Question, Survey
from tests.factories import StoreFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    store = factory.SubFactory(StoreFactory)
    organisation = factory.LazyAttribute(lambda o: o.store.organisation)
    name = factory.Sequence(lambda n: f"Survey {n}")
    kind = Survey.Kind.CSAT
    languages = factory.LazyFunction(lambda: ["en"])
    default_language = "en"


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    type = Question.Type.RATING
    position = factory.Sequence(lambda n: n)
    text = factory.LazyAttribute(lambda o: {"en": f"Question of type {o.type}?"})


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    store = factory.SubFactory(StoreFactory)
    organisation = factory.LazyAttribute(lambda o: o.store.organisation)
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")


def survey_texts(languages: list[str]) -> dict[str, dict[str, str]]:
    """The email's subject and intro and the thank-you text in each language: activating a
    survey needs them (and every question and choice) in all of its languages."""
    return {
        field: {code: f"{field} ({code})" for code in languages}
        for field in ("email_subject", "email_intro", "thank_you_text")
    }


def sent_invitation(survey: Survey, email: str) -> tuple[Invitation, str]:
    """An invitation of `survey` to `email`, as sent, and its link token."""
    contact, _created = services.contact_upsert(store=survey.store, email=email)
    nonce = tokens.new_nonce()
    token = tokens.token_for(nonce)
    invitation = Invitation.objects.create(
        survey=survey,
        contact=contact,
        nonce=nonce,
        token_hash=tokens.token_hash(token),
        language="en",
        status=Invitation.Status.SENT,
        due_at=datetime.now(UTC),
        sent_at=datetime.now(UTC),
    )
    return invitation, token
