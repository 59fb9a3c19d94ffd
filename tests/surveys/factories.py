"""factory_boy factories for surveys and contacts. A survey belongs to its store's
organisation; `QuestionFactory(survey=s, type="nps")` adds a question in English."""

from __future__ import annotations

import factory

from surveys.models import Contact, Question, Survey
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
