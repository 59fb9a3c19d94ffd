"""factory_boy factories for journey maps. A journey is a draft of its store's organisation
(or of `organisation`, without a store); stages and touchpoints follow their parents."""

from __future__ import annotations

import factory

from journeys.models import Journey, Persona, Stage, Touchpoint
from tests.factories import OrganisationFactory, StoreFactory


class PersonaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Persona

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Persona {n}")


class JourneyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Journey

    store = factory.SubFactory(StoreFactory)
    organisation = factory.LazyAttribute(lambda o: o.store.organisation)
    name = factory.Sequence(lambda n: f"Journey {n}")
    status = Journey.Status.DRAFT


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    journey = factory.SubFactory(JourneyFactory)
    name = factory.Sequence(lambda n: f"Stage {n}")
    position = factory.Sequence(lambda n: n)


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    stage = factory.SubFactory(StageFactory)
    name = factory.Sequence(lambda n: f"Touchpoint {n}")
    channel = "web"
    position = factory.Sequence(lambda n: n)
