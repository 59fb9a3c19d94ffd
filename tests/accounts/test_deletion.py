"""Deleting a store: gone at once for its users, its journeys kept without it, its rows
removed in the background in batches; and an organisation's deletion, store by store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import purges, services, tasks
from accounts.models import ApiKey, AuditLogEntry, Organisation, Role, Store, User
from accounts.services import SYSTEM, Actor
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
        email_intro={"en": "A few questions."},
        thank_you_text={"en": "Thank you!"},
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


@pytest.mark.parametrize(("how", "expected"), [("page", 302), ("api", 204)], ids=["page", "api"])
def test_deleting_a_store_with_an_active_journey_keeps_the_journeys_without_it(
    how: str,
    expected: int,
    client_as: Any,
    api_as: Any,
    organisation: Organisation,
    store: Store,
    on_commit: Any,
) -> None:
    active, draft = _journeys(store)
    active_version = Journey.objects.get(pk=active.pk).version
    _survey, raw_key = _fill(store)
    with on_commit(execute=True):  # the purge task runs (eagerly) once the request commits
        if how == "page":
            response = client_as(Role.ADMIN).post(
                reverse("accounts:store-delete", kwargs={"pk": store.pk})
            )
        else:
            response = api_as(Role.ADMIN).delete(
                reverse("api:store-detail", kwargs={"pk": store.pk})
            )

    assert response.status_code == expected
    assert _rows(store.pk) == EMPTY
    active.refresh_from_db()
    draft.refresh_from_db()
    assert (active.status, active.store_id, active.version) == (
        "archived",
        None,
        active_version + 1,
    )
    assert (draft.status, draft.store_id) == ("draft", None)
    change = active.changes.order_by("-version").first()
    assert change is not None
    assert change.summary == "Archived and kept without a store: Baltic Goods LT was deleted"
    assert change.details == {
        "store": {"from": "Baltic Goods LT", "to": None},
        "status": {"from": "active", "to": "archived"},
    }
    entry = AuditLogEntry.objects.get(action="store.deleted")
    assert (entry.object_id, entry.object_repr) == (str(store.pk), "Baltic Goods LT")
    assert entry.details == {"api_keys_revoked": ["_".join(raw_key.split("_")[:3])]}


def test_the_page_says_what_deleting_did(
    client_as: Any, organisation: Organisation, store: Store
) -> None:
    _journeys(store)
    response = client_as(Role.ADMIN).post(
        reverse("accounts:store-delete", kwargs={"pk": store.pk}), follow=True
    )

    assert response.status_code == 200
    assert (
        "Store Baltic Goods LT deleted. Its journeys are kept without a store (an active one "
        "is archived); its surveys, contacts and responses are being removed."
    ) in response.content.decode()
    assert list(response.context["stores"]) == []  # not listed any more
    assert list(response.context["switchable_stores"]) == []


def test_a_deleted_store_is_gone_at_once_while_its_rows_wait_for_the_task(
    api_as: Any, organisation: Organisation, store: Store, on_commit: Any
) -> None:
    StoreFactory(organisation=organisation, name="Baltic Goods RO")
    survey, raw_key = _fill(store)
    api = api_as(Role.ADMIN)

    with on_commit() as callbacks:  # captured, not run: the task has not started
        deleted = api.delete(reverse("api:store-detail", kwargs={"pk": store.pk}))

    assert deleted.status_code == 204
    assert len(callbacks) == 1
    assert _rows(store.pk) == FILLED
    stores = api.get("/api/v1/stores/").json()["results"]
    assert [s["name"] for s in stores] == ["Baltic Goods RO"]
    assert api.get(reverse("api:store-detail", kwargs={"pk": store.pk})).status_code == 404
    assert api.get("/api/v1/surveys/").json()["count"] == 0
    assert api.get("/api/v1/contacts/").json()["count"] == 0
    survey.refresh_from_db()
    assert survey.status == "closed"  # nothing more is sent, reminded or answered
    key_client = APIClient()
    key_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert key_client.get("/api/v1/stores/").status_code == 401
    assert not ApiKey.objects.filter(store=store, revoked_at__isnull=True).exists()
    # Its name is free for a new store at once.
    again = api.post(
        "/api/v1/stores/",
        {
            "name": "Baltic Goods LT",
            "domain": "baltic.example.com",
            "currency": "EUR",
            "time_zone": "Europe/Vilnius",
            "default_language": "lt",
        },
        format="json",
    )
    assert again.status_code == 201
    # A second request for the deleted store finds nothing: no second entry, no second task.
    assert api.delete(reverse("api:store-detail", kwargs={"pk": store.pk})).status_code == 404
    assert AuditLogEntry.objects.filter(action="store.deleted").count() == 1


def test_the_purge_removes_the_rows_in_batches_and_only_the_stores(
    organisation: Organisation, store: Store
) -> None:
    other = StoreFactory(organisation=organisation, name="Baltic Goods RO")
    _fill(store)
    _fill(other)
    services.store_delete_request(store=store, actor=SYSTEM)

    with CaptureQueriesContext(connection) as queries:
        purges.store_purge(store_id=store.pk, batch_size=2)

    assert _rows(store.pk) == EMPTY
    assert _rows(other.pk) == FILLED
    answer_batches = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('DELETE FROM "surveys_answer"') and "LIMIT 2" in q["sql"]
    ]
    assert len(answer_batches) >= 5  # nine answers, at most two a statement


def test_the_purge_finishes_after_a_worker_died_halfway_and_may_run_again(
    organisation: Organisation, store: Store, monkeypatch: Any
) -> None:
    other = StoreFactory(organisation=organisation, name="Baltic Goods RO")
    _fill(store)
    _fill(other)
    services.store_delete_request(store=store, actor=SYSTEM)
    real_rows_delete = purges._rows_delete
    calls = []

    def dies_on_the_fourth_table(*args: Any, **kwargs: Any) -> None:
        calls.append(args[0])
        if len(calls) == 4:
            raise RuntimeError("worker lost")
        real_rows_delete(*args, **kwargs)

    monkeypatch.setattr(purges, "_rows_delete", dies_on_the_fourth_table)
    with pytest.raises(RuntimeError):
        purges.store_purge(store_id=store.pk, batch_size=2)
    monkeypatch.undo()
    partly = _rows(store.pk)
    assert partly["store"] == 1
    assert EMPTY != partly != FILLED

    purges.store_purge(store_id=store.pk, batch_size=2)
    purges.store_purge(store_id=store.pk, batch_size=2)

    assert _rows(store.pk) == EMPTY
    assert _rows(other.pk) == FILLED


def test_the_purge_leaves_a_store_not_marked_for_deletion(store: Store) -> None:
    _fill(store)
    purges.store_purge(store_id=store.pk, batch_size=2)
    assert _rows(store.pk) == FILLED


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
        purges.organisation_purge(organisation_id=organisation.pk, batch_size=2)

    assert not Organisation.objects.filter(pk=organisation.pk).exists()
    assert _rows(store.pk) == _rows(other.pk) == EMPTY
    assert not Journey.objects.filter(organisation_id=organisation.pk).exists()
    assert not AuditLogEntry.objects.filter(organisation_id=organisation.pk).exists()
    assert User.objects.filter(pk=owner.pk).exists()
    assert any(
        q["sql"].startswith('DELETE FROM "surveys_answer"') and "LIMIT 2" in q["sql"]
        for q in queries.captured_queries
    )


@pytest.mark.parametrize(
    "task", [tasks.store_purge, tasks.organisation_purge], ids=["store", "organisation"]
)
def test_the_purge_tasks_are_time_limited_and_carry_on_after_their_limit(task: Any) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    assert (task.soft_time_limit, task.time_limit) == (30 * 60, 31 * 60)
    assert SoftTimeLimitExceeded in task.autoretry_for
    assert task.name not in (task.app.conf.task_routes or {})  # the default queue


def test_a_journey_that_named_the_store_before_its_deletion_cannot_be_activated_for_it(
    organisation: Organisation, store: Store
) -> None:
    """A draft given the store by a form loaded before the deletion: activating it would
    leave an active journey that the store's removal could not detach."""
    actor = Actor(user=None)
    services.store_delete_request(store=store, actor=SYSTEM)
    late = journey_services.journey_create(
        organisation=organisation, actor=actor, name="Late", store=store
    )

    with pytest.raises(ValidationError) as raised:
        journey_services.journey_activate(journey=late, actor=actor, version=late.version)

    assert raised.value.message_dict == {
        "store": ["This store is being deleted. Choose another store."]
    }
    purges.store_purge(store_id=store.pk)
    late.refresh_from_db()
    assert (late.status, late.store_id) == ("draft", None)


def test_a_lost_purge_is_queued_again_after_an_hour(
    organisation: Organisation, store: Store, on_commit: Any
) -> None:
    """A purge lost by the broker leaves a store hidden but never removed: the hourly sweep
    queues it again, and only for requests older than an hour (a fresh one may be running)."""
    from datetime import timedelta

    from django.utils import timezone

    fresh = StoreFactory(organisation=organisation, name="Fresh")
    gone_org = Organisation.objects.create(name="Gone Org")
    with on_commit():  # the first tasks are lost: captured, never run
        services.store_delete_request(store=store, actor=SYSTEM)
        services.store_delete_request(store=fresh, actor=SYSTEM)
        services.organisation_delete_request(organisation=gone_org, actor=SYSTEM)
    hour_ago = timezone.now() - timedelta(hours=1, seconds=1)
    Store.objects.filter(pk=store.pk).update(deletion_requested_at=hour_ago)
    Organisation.objects.filter(pk=gone_org.pk).update(deletion_requested_at=hour_ago)

    assert tasks.deletions_resume() == ([store.pk], [gone_org.pk])  # run eagerly

    assert not Store.objects.filter(pk=store.pk).exists()
    assert not Organisation.objects.filter(pk=gone_org.pk).exists()
    assert Store.objects.filter(pk=fresh.pk).exists()  # asked a moment ago: left alone
    assert tasks.deletions_resume() == ([], [])


def test_the_sweep_for_lost_purges_runs_every_hour() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["resume-lost-deletions"]
    assert (entry["task"], entry["schedule"]) == ("accounts.tasks.deletions_resume", 3600)
