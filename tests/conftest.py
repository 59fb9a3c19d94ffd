"""Test set-up: the database, eager Celery, per-role clients.

pytest-django configures Django before this file is imported. Without DATABASE_URL the
settings name the embedded server's socket; here, the one explicit place for tests, the
embedded PostgreSQL is started and the settings pointed at its real address.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import environ
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from config.embedded_db import ensure_database_url

_url = ensure_database_url()
settings.DATABASES["default"].update(
    {
        k: v
        for k, v in environ.Env.db_url_config(_url).items()
        if k in {"NAME", "USER", "PASSWORD", "HOST", "PORT"}
    }
)
connections.__dict__.pop("settings", None)

ON_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def _isolation(settings: Any) -> Iterator[None]:
    """Every test: tasks run eagerly, email goes to the outbox, caches and throttles start empty."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_eager(settings: Any) -> Iterator[None]:
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = previous


# --- Organisations and members


@pytest.fixture
def organisation(db: Any) -> Any:
    from tests.factories import OrganisationFactory

    return OrganisationFactory(name="Baltic Goods")


@pytest.fixture
def other_organisation(db: Any) -> Any:
    from tests.factories import OrganisationFactory

    return OrganisationFactory(name="Other Org")


@pytest.fixture
def store(organisation: Any) -> Any:
    from tests.factories import StoreFactory

    return StoreFactory(organisation=organisation, name="Baltic Goods LT")


@pytest.fixture
def member_factory(db: Any) -> Any:
    """member_factory(organisation, role) -> a verified user with that role."""
    from tests.factories import MembershipFactory

    def make(organisation: Any, role: str, **user_fields: Any) -> Any:
        from tests.factories import UserFactory

        user = UserFactory(**user_fields)
        MembershipFactory(organisation=organisation, user=user, role=role)
        return user

    return make


@pytest.fixture
def editor(organisation: Any, member_factory: Any) -> Any:
    """An editor of the organisation: the role most writes need."""
    return member_factory(organisation, "editor", email="editor@example.com", name="Edda Editor")


@pytest.fixture
def actor(editor: Any) -> Any:
    """The editor, as services take who acts."""
    from accounts.services import Actor

    return Actor(user=editor)


@pytest.fixture
def client_as(client: Any, member_factory: Any, organisation: Any) -> Any:
    """client_as(role) -> the Django test client logged in as a member with that role."""

    def login(role: str, org: Any = None) -> Any:
        user = member_factory(org or organisation, role)
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_as(member_factory: Any, organisation: Any) -> Any:
    """api_as(role) -> a DRF APIClient logged in (session) as a member with that role."""
    from rest_framework.test import APIClient

    def login(role: str, org: Any = None) -> Any:
        api = APIClient()
        api.force_login(member_factory(org or organisation, role))
        return api

    return login


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """`with on_commit(execute=True):` runs what the code defers to transaction.on_commit."""
    return django_capture_on_commit_callbacks


# --- The clock (core/clock.py)

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch: Any) -> datetime:
    """The clock of the time rules (core.clock.now), frozen at NOW: 2026-03-15 12:00 UTC."""
    from core import clock

    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW


@pytest.fixture(autouse=True)
def _unmanaged_event_tables_emptied(request: Any, django_db_blocker: Any) -> Iterator[None]:
    """Tests that commit (transactional ones, live-server browser tests) are cleaned by
    Django's flush, which empties only managed tables: the partitioned events table and the
    compact form are unmanaged (SQL migrations), so they are emptied here too."""
    yield
    marker = request.node.get_closest_marker("django_db")
    commits = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if commits:
        from django.db import connection

        with django_db_blocker.unblock(), connection.cursor() as cursor:
            # A migration test may have taken the events app's tables back: then none to empty.
            cursor.execute("SELECT to_regclass('events_event') IS NOT NULL")
            if cursor.fetchone()[0]:
                cursor.execute("TRUNCATE events_event, events_eventblock")
