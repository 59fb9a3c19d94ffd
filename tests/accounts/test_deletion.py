"""Deleting an organisation: its rows removed in the background in batches, store by store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services, tasks
from accounts.models import ApiKey, AuditLogEntry, Organisation, Role, Store, User
from accounts.services import Actor
from journeys import services as journey_services
from journeys.models import Journey
from surveys import services as survey_services
from surveys.models import (
    Answer,
    Contact,
    Invitation,
    Question,
    Response,
    StoreSurveySettings,
    Survey,
)
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _fill(store: Store, *, customers: int = 3) -> tuple[Survey, str]:
    """An active survey of three questions, answered by `customers` buyers (three answers
    each), sending settings and a secret key; returns the survey and the raw key."""
    actor = Actor(user=None)
    survey = survey_services.survey_create(
        organisation=store.organisation,
        store=store,
        actor=actor,
        name="Delivery",
        kind="csat",
        moment="TMOT",
        trigger_event="delivered",
        languages=["en"],
        default_language="en",
        email_subject={"en": "How did it go?"},
    )
    for kind in ("rating", "ces", "free_text"):
        survey_services.question_create(
            survey=survey, actor=actor, type=kind, required=False, text={"en": f"{kind}?"}
        )
    survey_services.survey_set_status(survey=survey, actor=actor, status="active")
    questions = list(survey.questions.all())
    for n in range(customers):
        (invitation,) = survey_services.invitations_trigger(
            store=store, event_name="delivered", occurred_at=WHEN, email=f"buyer{n}@example.com"
        )
        survey_services.response_save(
            invitation=invitation,
            answers={questions[0].pk: 5, questions[1].pk: 2, questions[2].pk: "Fast"},
            language="en",
            submit=True,
        )
    StoreSurveySettings.objects.create(store=store)
    _key, raw_key = services.api_key_create(store=store, kind="secret", name="ERP", actor=actor)
    return survey, raw_key


def _rows(store_id: int) -> dict[str, int]:
    return {
        "store": Store.objects.filter(pk=store_id).count(),
        "api keys": ApiKey.objects.filter(store_id=store_id).count(),
        "sending settings": StoreSurveySettings.objects.filter(store_id=store_id).count(),
        "surveys": Survey.objects.filter(store_id=store_id).count(),
        "questions": Question.objects.filter(survey__store_id=store_id).count(),
        "contacts": Contact.objects.filter(store_id=store_id).count(),
        "invitations": Invitation.objects.filter(contact__store_id=store_id).count(),
        "responses": Response.objects.filter(store_id=store_id).count(),
        "answers": Answer.objects.filter(response__store_id=store_id).count(),
    }


FILLED = {
    "store": 1,
    "api keys": 1,
    "sending settings": 1,
    "surveys": 1,
    "questions": 3,
    "contacts": 3,
    "invitations": 3,
    "responses": 3,
    "answers": 9,
}
EMPTY = dict.fromkeys(FILLED, 0)


def _journeys(store: Store) -> tuple[Journey, Journey]:
    """The store's active journey and a draft that names the store too."""
    actor = Actor(user=None)
    active = journey_services.journey_create_from_template(
        organisation=store.organisation, actor=actor, template="five-moments", store=store
    )
    journey_services.journey_activate(journey=active, actor=actor, version=active.version)
    draft = journey_services.journey_create(
        organisation=store.organisation, actor=actor, name="Next season", store=store
    )
    return active, draft


def test_organisation_deletion_removes_each_store_in_batches_active_journeys_and_all(
    organisation: Organisation, store: Store, member_factory: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    other = StoreFactory(organisation=organisation, name="Baltic Goods RO")
    for each in (store, other):
        _fill(each)
    _journeys(store)
    services.organisation_delete_request(organisation=organisation, actor=Actor(user=owner))

    with CaptureQueriesContext(connection) as queries:
        services.organisation_purge(organisation_id=organisation.pk, batch_size=2)

    assert not Organisation.objects.filter(pk=organisation.pk).exists()
    assert _rows(store.pk) == _rows(other.pk) == EMPTY
    assert not Journey.objects.filter(organisation_id=organisation.pk).exists()
    assert not AuditLogEntry.objects.filter(organisation_id=organisation.pk).exists()
    assert User.objects.filter(pk=owner.pk).exists()
    assert any(
        q["sql"].startswith('DELETE FROM "surveys_answer"') and "LIMIT 2" in q["sql"]
        for q in queries.captured_queries
    )


def test_the_purge_task_is_time_limited_and_carries_on_after_its_limit() -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    task = tasks.organisation_purge
    assert (task.soft_time_limit, task.time_limit) == (30 * 60, 31 * 60)
    assert SoftTimeLimitExceeded in task.autoretry_for
    assert task.name not in (task.app.conf.task_routes or {})  # the default queue
