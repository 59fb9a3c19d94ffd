"""The API keeps the promises of its OpenAPI schema: schemathesis generates requests for every
operation from /api/schema/ (valid and invalid ones) and checks that no answer is a server
error, that every status is documented, and that every body matches its documented schema.

Each operation runs twice, as a store's secret key and as an owner's browser session, against
fresh data made for the test (an organisation with two stores, a journey map, personas, a
survey with questions, contacts and invitations). The requests go to the WSGI application in
this process, inside the test's transaction: each request runs in a savepoint that is rolled
back after it, so every generated request sees the same data and the run is reproducible
(a fixed seed, derandomized generation, no example database).

Path ids are mostly those of the fresh objects (else nearly every request would be a 404), and
so are ids in request bodies (`store`, `journey`, `survey`, ...), the journey `version` of
map writes and `?page=` (else past the last page): one generated value in seven is kept as
generated, to reach the "not found" and "conflict" paths too.

The operations that take away what the run acts with (revoking an API key, deleting a store
and so its key, removing or demoting members) are left out here and checked by the plain
tests at the end of this file. There is no API to delete the organisation.

`pytest -m fuzz` runs this file alone; `-m "not fuzz"` everything else.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts import services as account_services
from accounts.middleware import SESSION_ORGANISATION
from accounts.models import ApiKey, AuditLogEntry, Membership, Role, Store, User
from accounts.services import Actor
from core import services as task_services
from journeys import services as journey_services
from journeys.models import Journey
from surveys import services as survey_services
from tests.factories import StoreFactory

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

# Generated requests per operation and way of calling; the whole file takes a few minutes.
MAX_EXAMPLES = 15
SEED = 20260517

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # Credentials are this file's (a real key or session), never generated ones.
            "with-security-parameters": False,
        },
        # Generated requests only: the schema has no examples to replay, and the coverage
        # phase (~70 deterministic cases per operation) would take the run past 10 minutes.
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
        },
    }
)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

APP = WSGIHandler()
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", APP, config=CONFIG)

# Take away what the run acts with: checked by the plain tests below instead.
DESTRUCTIVE = [
    ("DELETE", "/api/v1/api-keys/{id}/"),
    ("DELETE", "/api/v1/stores/{id}/"),
    ("DELETE", "/api/v1/members/{id}/"),
    ("PATCH", "/api/v1/members/{id}/"),
]
FUZZED = SCHEMA.exclude(
    func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in DESTRUCTIVE
)


@dataclass
class World:
    """The fresh data every generated request is made against."""

    owner: User
    editor_membership: Membership
    store: Store
    other_store: Store
    api_key: ApiKey
    raw_key: str
    journey: Journey
    ids: dict[str, int]

    def key_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw_key}"}


@pytest.fixture
def world(organisation: Any, member_factory: Any) -> World:
    owner = member_factory(organisation, Role.OWNER, email="owner@example.com")
    editor = member_factory(organisation, Role.EDITOR, email="editor@example.com")
    actor = Actor(user=owner)
    store = StoreFactory(organisation=organisation, name="Baltic Goods LT")
    other_store = StoreFactory(
        organisation=organisation,
        name="Baltic Goods RO",
        currency="RON",
        time_zone="Europe/Bucharest",
        default_language="ro",
    )
    api_key, raw_key = account_services.api_key_create(
        store=store, kind=ApiKey.Kind.SECRET, name="Shop backend", actor=actor
    )
    # Used just now: requests then skip the write that records use (at most once a minute),
    # which every request would repeat since each one's changes are rolled back.
    account_services.api_key_touch(api_key=api_key)
    invitation, _token = account_services.member_invite(
        organisation=organisation,
        email="new.member@example.com",
        role=Role.VIEWER,
        actor=actor,
        actor_role=Role.OWNER,
    )
    persona = journey_services.persona_create(
        organisation=organisation, actor=actor, name="First-time buyer"
    )
    journey = journey_services.journey_create_from_template(
        organisation=organisation, actor=actor, template="ecommerce-delivery", store=store
    )
    stage = journey.stages.order_by("position").first()
    assert stage is not None
    touchpoint = stage.touchpoints.order_by("position").first()
    assert touchpoint is not None
    survey = survey_services.survey_create_from_template(
        organisation=organisation,
        store=store,
        actor=actor,
        template="post-purchase-csat",
        languages=["en", "lt"],
    )
    survey = survey_services.survey_set_status(survey=survey, actor=actor, status="active")
    contacts = [
        survey_services.contact_upsert(store=store, email=f"buyer{n}@example.com", name="Buyer")[0]
        for n in range(2)
    ]
    [survey_invitation, *_] = survey_services.survey_send_to_contacts(
        survey=survey, actor=actor, contacts=contacts
    ).invitations
    question = survey.questions.order_by("position").first()
    assert question is not None
    audit_entry = AuditLogEntry.objects.filter(organisation=organisation).latest("pk")
    task = task_services.task_create(
        organisation_id=organisation.pk, store_id=store.pk, kind="events.csv_import"
    )
    ids = {
        # the first path segment after /api/v1/ -> the object its {id} names
        "api-keys": api_key.pk,
        "audit-log": audit_entry.pk,
        "contacts": contacts[0].pk,
        "invitations": invitation.pk,
        "journeys": journey.pk,
        "members": Membership.objects.get(user=editor).pk,
        "personas": persona.pk,
        "questions": question.pk,
        "stages": stage.pk,
        "stores": store.pk,
        "survey-invitations": survey_invitation.pk,
        "surveys": survey.pk,
        "tasks": task.pk,
        "touchpoints": touchpoint.pk,
        # body fields naming an object
        "store": store.pk,
        "journey": journey.pk,
        "stage": stage.pk,
        "touchpoint": touchpoint.pk,
        "survey": survey.pk,
        "owner": owner.pk,
        "persona_ids": persona.pk,
        "contact_ids": contacts[1].pk,
    }
    journey.refresh_from_db()
    return World(
        owner=owner,
        editor_membership=Membership.objects.get(user=editor),
        store=store,
        other_store=other_store,
        api_key=api_key,
        raw_key=raw_key,
        journey=journey,
        ids=ids,
    )


@pytest.fixture
def in_process() -> Iterator[None]:
    """Requests to the WSGI application keep the test's database connection and transaction
    (as Django's test client does): no closing of connections between requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def owner_session(client: Any, world: World) -> dict[str, Any]:
    """An owner's browser session, with the CSRF cookie and header that writes need."""
    client.force_login(world.owner)
    # The current organisation already chosen: requests then do not save the session again.
    session = client.session
    session[SESSION_ORGANISATION] = world.store.organisation_id
    session.save()
    csrf = secrets.token_hex(16)  # a 32-character secret, as Django's cookie holds
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        "headers": {"X-CSRFToken": csrf},
    }


# Writes to a journey map carry its version (else 409).
VERSIONED = ("/api/v1/journeys/{id}/", "/api/v1/stages/", "/api/v1/touchpoints/")


def _kept_as_generated(value: int) -> bool:
    # Not `% 5` or `% 10`: Hypothesis likes round numbers (100, 120, 86400).
    return value % 7 == 3


def aim_at_the_world(case: schemathesis.Case, world: World) -> None:
    """Point most generated ids (and the journey version) at the fresh objects."""
    journey = world.journey  # as made: what a request changes is rolled back after it
    if "id" in (case.path_parameters or {}):
        value = case.path_parameters["id"]
        segment = case.operation.path.split("/")[3]
        if isinstance(value, int) and not _kept_as_generated(value):
            case.path_parameters["id"] = world.ids[segment]
    page = (case.query or {}).get("page")
    if isinstance(page, int) and not _kept_as_generated(page):
        case.query["page"] = 1
    if (
        isinstance(case.body, dict)
        and "version" not in case.body
        and case.operation.path.startswith(VERSIONED)
        and case.method != "GET"
        and not _kept_as_generated(len(case.body))
    ):
        case.body["version"] = journey.version
    if isinstance(case.body, dict):
        for field, value in list(case.body.items()):
            if field == "version" and isinstance(value, int) and not _kept_as_generated(value):
                case.body[field] = journey.version
            elif field not in world.ids or isinstance(value, bool):
                continue
            elif isinstance(value, int) and not _kept_as_generated(value):
                case.body[field] = world.ids[field]
            elif (
                isinstance(value, list)
                and value
                and isinstance(value[0], int)
                and not isinstance(value[0], bool)
                and not _kept_as_generated(value[0])
            ):
                case.body[field] = [world.ids[field], *value[1:]]


def call_in_a_savepoint(case: schemathesis.Case, **auth: Any) -> None:
    """Each request sees the fresh data: what it changed is rolled back after the checks."""
    with transaction.atomic():
        try:
            case.call_and_validate(checks=CHECKS, **auth)
        finally:
            transaction.set_rollback(True)


@FUZZED.parametrize()
def test_api_as_a_stores_secret_key(
    case: schemathesis.Case, world: World, in_process: None
) -> None:
    aim_at_the_world(case, world)
    call_in_a_savepoint(case, headers=world.key_headers())


@FUZZED.parametrize()
def test_api_as_an_owners_session(
    case: schemathesis.Case, world: World, owner_session: dict[str, Any], in_process: None
) -> None:
    aim_at_the_world(case, world)
    call_in_a_savepoint(case, **owner_session)


# --- The operations left out above: what they answer is documented too.


def validated(
    method: str, path: str, *, path_parameters: dict[str, Any], **call: Any
) -> schemathesis.Response:
    case = SCHEMA[path][method].Case(path_parameters=path_parameters)
    return case.call_and_validate(checks=CHECKS, **call)


def test_a_secret_key_cannot_revoke_keys_or_delete_its_store(
    world: World, in_process: None
) -> None:
    for path, pk in (
        ("/api/v1/api-keys/{id}/", world.api_key.pk),
        ("/api/v1/stores/{id}/", world.store.pk),
    ):
        response = validated(
            "DELETE", path, path_parameters={"id": pk}, headers=world.key_headers()
        )
        assert response.status_code == 403
    world.api_key.refresh_from_db()
    assert world.api_key.revoked_at is None
    assert Store.objects.filter(pk=world.store.pk).exists()


def test_revoking_the_key_in_use_locks_it_out(
    world: World, owner_session: dict[str, Any], in_process: None
) -> None:
    response = validated(
        "DELETE",
        "/api/v1/api-keys/{id}/",
        path_parameters={"id": world.api_key.pk},
        **owner_session,
    )
    assert response.status_code == 204
    after = validated(
        "GET",
        "/api/v1/stores/{id}/",
        path_parameters={"id": world.store.pk},
        headers=world.key_headers(),
    )
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "authentication_failed"


def test_deleting_the_keys_store_locks_the_key_out(
    world: World, owner_session: dict[str, Any], in_process: None
) -> None:
    response = validated(
        "DELETE", "/api/v1/stores/{id}/", path_parameters={"id": world.store.pk}, **owner_session
    )
    assert response.status_code == 204
    after = validated(
        "GET", "/api/v1/organisation/", path_parameters={}, headers=world.key_headers()
    )
    assert after.status_code == 401


def test_the_last_owner_can_neither_leave_nor_step_down(
    world: World, owner_session: dict[str, Any], in_process: None
) -> None:
    own = Membership.objects.get(user=world.owner).pk
    removed = validated(
        "DELETE", "/api/v1/members/{id}/", path_parameters={"id": own}, **owner_session
    )
    assert removed.status_code == 400
    case = SCHEMA["/api/v1/members/{id}/"]["PATCH"].Case(
        path_parameters={"id": own}, body={"role": "viewer"}, media_type="application/json"
    )
    demoted = case.call_and_validate(checks=CHECKS, **owner_session)
    assert demoted.status_code == 400
    assert Membership.objects.get(pk=own).role == Role.OWNER


def test_an_owner_changes_and_removes_another_member(
    world: World, owner_session: dict[str, Any], in_process: None
) -> None:
    member = world.editor_membership.pk
    case = SCHEMA["/api/v1/members/{id}/"]["PATCH"].Case(
        path_parameters={"id": member}, body={"role": "admin"}, media_type="application/json"
    )
    changed = case.call_and_validate(checks=CHECKS, **owner_session)
    assert changed.status_code == 200
    assert changed.json()["role"] == "admin"
    removed = validated(
        "DELETE", "/api/v1/members/{id}/", path_parameters={"id": member}, **owner_session
    )
    assert removed.status_code == 204
    assert not Membership.objects.filter(pk=member).exists()


def test_a_secret_key_manages_no_members(world: World, in_process: None) -> None:
    member = world.editor_membership.pk
    for method in ("PATCH", "DELETE"):
        response = validated(
            method,
            "/api/v1/members/{id}/",
            path_parameters={"id": member},
            headers=world.key_headers(),
        )
        assert response.status_code == 403
    assert Membership.objects.filter(pk=member, role=Role.EDITOR).exists()


def _operations(schema: Any) -> set[tuple[str, str]]:
    return {
        (result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()
    }


def test_the_run_covers_every_operation_but_the_destructive_ones() -> None:
    every, fuzzed = _operations(SCHEMA), _operations(FUZZED)
    assert every - fuzzed == set(DESTRUCTIVE)
    assert len(fuzzed) >= 80


def test_the_fuzzing_is_reproducible() -> None:
    assert CONFIG.seed == SEED
    settings = CONFIG.projects.default.get_hypothesis_settings(phase="fuzzing")
    assert settings.derandomize is True
    assert settings.database is None
    assert settings.max_examples == MAX_EXAMPLES
    names = [check.__name__ for check in CHECKS]
    assert names == ["not_a_server_error", "status_code_conformance", "response_schema_conformance"]
