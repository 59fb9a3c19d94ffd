from __future__ import annotations

import os
import time
from typing import Any

import pytest
from django.conf import settings

from accounts import services
from accounts.models import Organisation, Store
from config.celery import app
from tests.conftest import ON_CI


def test_celery_configuration() -> None:
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_soft_time_limit == 300
    assert conf.task_time_limit == 360
    assert [q.name for q in conf.task_queues] == ["default", "email", "metrics"]
    assert conf.task_default_queue == "default"
    assert conf.task_routes["accounts.tasks.send_email"] == {"queue": "email"}
    assert conf.beat_schedule["purge-expired-member-invitations"]["task"] == (
        "accounts.tasks.member_invitations_purge"
    )


def test_every_beat_task_is_registered() -> None:
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def _require_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        if ON_CI:
            pytest.fail("REDIS_URL must be set on CI: the integration tests need a real Redis")
        pytest.skip("REDIS_URL is not set: no real Redis for the Celery worker")
    return url


@pytest.fixture
def real_worker(settings: Any) -> Any:
    """A real Celery worker thread consuming from the real Redis broker."""
    from celery.contrib.testing.worker import start_worker

    url = _require_redis()
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with start_worker(
        app, perform_ping_check=False, queues=["default", "email", "metrics"], pool="solo"
    ) as worker:
        yield worker
    app.conf.task_always_eager = True


def _wait_for(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_organisation_deletion_runs_on_a_real_worker(real_worker: Any) -> None:
    organisation = Organisation.objects.create(name="To be deleted")
    services.organisation_delete_request(organisation=organisation, actor=services.SYSTEM)

    assert _wait_for(lambda: not Organisation.objects.filter(pk=organisation.pk).exists())


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_email_task_is_routed_to_the_email_queue_and_sent(real_worker: Any) -> None:
    from django.core import mail

    from accounts.tasks import send_email

    result = send_email.delay(to="a@example.com", subject="Hello", text="Hi", html="<p>Hi</p>")
    assert result.id
    assert _wait_for(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].subject == "Hello"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_store_deletion_runs_on_a_real_worker(real_worker: Any) -> None:
    organisation = Organisation.objects.create(name="Keeps its other stores")
    store = Store.objects.create(
        organisation=organisation,
        name="Closing down",
        domain="closing.example.com",
        currency="EUR",
        time_zone="Europe/Vilnius",
    )
    services.store_delete_request(store=store, actor=services.SYSTEM)

    assert _wait_for(lambda: not Store.objects.filter(pk=store.pk).exists())
    assert Organisation.objects.filter(pk=organisation.pk).exists()
