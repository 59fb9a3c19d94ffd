"""Tenant isolation, proven for every URL that takes an object id.

The walker below lists every URL pattern of the project. Each one with an id parameter (`pk`,
`id`, `*_id`, `*_pk`) must either be in REGISTRY, which says how to build the object it points
to inside a given organisation, or be a public token URL (config.tenancy.PUBLIC_TOKEN_URLS).
For every registered pattern an owner of organisation A asks for organisation B's object with
every method the route allows: each answer must be a 404 and B's data must stay as it was. The
same request for A's own object must work, so the 404 comes from scoping, not from a broken URL.

A new view with an id in its URL therefore fails this suite until it looks its object up
through a selector scoped to the caller's organisation and gets a REGISTRY entry here.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts import services
from accounts.models import (
    ApiKey,
    AuditLogEntry,
    MemberInvitation,
    Membership,
    Organisation,
    Role,
    Store,
    User,
)
from accounts.permissions import SECRET_KEY_ROLE
from accounts.services import SYSTEM, Actor
from config.tenancy import PUBLIC_TOKEN_URLS
from core import services as task_services
from core.models import Task
from events import imports as event_imports
from events.models import EventImport, EventName
from journeys import services as journey_services
from journeys import transfer as journey_transfer
from journeys.models import Experiment, Journey, Persona, Stage, Touchpoint
from surveys import services as survey_services
from surveys import tokens as survey_tokens
from surveys.models import Contact, Invitation, Question, StoreSurveySettings, Survey
from tests.factories import (
    ApiKeyFactory,
    AuditLogEntryFactory,
    MemberInvitationFactory,
    MembershipFactory,
    OrganisationFactory,
    StoreFactory,
    UserFactory,
)
from tests.journeys.factories import PersonaFactory
from tests.surveys.factories import ContactFactory

# --- The URL walker


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"; the route text for an unnamed pattern
    route: str
    params: tuple[str, ...]
    callback: Callable[..., Any]

    @property
    def is_api(self) -> bool:
        cls = getattr(self.callback, "cls", None)
        return isinstance(cls, type) and issubclass(cls, APIView)

    @property
    def id_params(self) -> tuple[str, ...]:
        return tuple(p for p in self.params if is_id_param(p))


def is_id_param(name: str) -> bool:
    return name in {"pk", "id"} or name.endswith(("_id", "_pk"))


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    outer = tuple(resolver.pattern.regex.groupindex) if prefix else ()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            # regex.groupindex names both path converters (<int:pk>) and regex groups (?P<pk>).
            params = (*outer, *entry.pattern.regex.groupindex)
            route = prefix + str(entry.pattern)
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                name = route
            yield Route(name=name, route=route, params=params, callback=entry.callback)


def all_routes() -> list[Route]:
    # DRF's format-suffix twins (`\.(?P<format>[a-z0-9]+)/?$`) reach the same views; skip them.
    return [r for r in _walk(get_resolver()) if "format" not in r.params]


def id_routes() -> dict[str, Route]:
    return {r.name: r for r in all_routes() if r.id_params}


PAGE_METHODS = ("GET", "POST")
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(route: Route, target: Target) -> tuple[str, ...]:
    """Pages: GET and POST unless the entry says otherwise; API: what the view serves."""
    if not route.is_api:
        return target.methods or PAGE_METHODS
    cls = route.callback.cls  # type: ignore[attr-defined]
    actions = getattr(route.callback, "actions", None) or {
        m: m for m in cls.http_method_names if hasattr(cls, m)
    }
    return tuple(
        m for m in API_METHODS if m.lower() in actions and m.lower() in cls.http_method_names
    )


# --- The registry: how to build, inside an organisation, the object a URL's id refers to


STORE_CHANGES = {
    "name": "Renamed by an intruder",
    "domain": "intruder.example.com",
    "currency": "USD",
    "time_zone": "UTC",
    "default_language": "en",
}


def _store(organisation: Organisation) -> Store:
    return StoreFactory(organisation=organisation)


def _store_with_active_journey(organisation: Organisation) -> Store:
    store = StoreFactory(organisation=organisation)
    journey = Journey.objects.create(
        organisation=organisation, store=store, name="Active", status=Journey.Status.ACTIVE
    )
    Stage.objects.create(journey=journey, name="First", moment="FMOT", position=0)
    return store


def _store_with_tracked_stage(organisation: Organisation) -> Store:
    """A store whose active journey's stage maps an event name the store has received."""
    store = _store_with_active_journey(organisation)
    stage = Stage.objects.get(journey__store=store)
    Touchpoint.objects.create(stage=stage, name="Buys", event_names=["purchase"], position=0)
    EventName.objects.create(store=store, name="purchase", first_seen_at=timezone.now())
    return store


def _tracked_stage_query(store: Model) -> dict[str, Any]:
    return {"stage": Stage.objects.get(journey__store=store).pk, "outcome": "converted"}


def _api_key(organisation: Organisation) -> ApiKey:
    return ApiKeyFactory(store=StoreFactory(organisation=organisation))


def _membership(organisation: Organisation) -> Membership:
    return MembershipFactory(organisation=organisation, role=Role.EDITOR)


def _invitation(organisation: Organisation) -> MemberInvitation:
    return MemberInvitationFactory(organisation=organisation, role=Role.EDITOR)


def _audit_entry(organisation: Organisation) -> AuditLogEntry:
    return AuditLogEntryFactory(organisation=organisation)


def _journey(organisation: Organisation) -> Journey:
    return journey_services.journey_create_from_template(
        organisation=organisation,
        actor=SYSTEM,
        template="ecommerce-delivery",
        store=StoreFactory(organisation=organisation),
    )


def _stage(organisation: Organisation) -> Stage:
    return _journey(organisation).stages.get(moment="FMOT")


def _touchpoint(organisation: Organisation) -> Touchpoint:
    return _stage(organisation).touchpoints.first()  # type: ignore[return-value]


def _experiment(organisation: Organisation) -> Experiment:
    journey = _journey(organisation)
    journey = journey_services.journey_activate(
        journey=journey, actor=SYSTEM, version=journey.version
    )
    return journey_services.experiment_create(
        touchpoint=Touchpoint.objects.filter(stage__journey=journey, stage__moment="FMOT").first(),  # type: ignore[arg-type]
        actor=SYSTEM,
        title="Intruder's target",
        change="A change.",
        started_on=timezone.now().date(),
        metric="conversion",
    )


def _persona(organisation: Organisation) -> Persona:
    return PersonaFactory(organisation=organisation, name="Intruder persona")


def _survey(organisation: Organisation) -> Survey:
    return survey_services.survey_create_from_template(
        organisation=organisation,
        store=StoreFactory(organisation=organisation),
        actor=SYSTEM,
        template="post-purchase-csat",
    )


def _active_survey(organisation: Organisation) -> Survey:
    survey = _survey(organisation)
    survey_services.contact_upsert(store=survey.store, email="buyer@example.com")
    return survey_services.survey_set_status(survey=survey, actor=SYSTEM, status="active")


def _question(organisation: Organisation) -> Question:
    return _survey(organisation).questions.get(position=0)


def _contact(organisation: Organisation) -> Contact:
    return ContactFactory(store=StoreFactory(organisation=organisation), email="person@example.com")


def _failed_invitation(organisation: Organisation) -> Invitation:
    """Resendable: an admin may resend a failed invitation."""
    from django.utils import timezone

    survey = _active_survey(organisation)
    (invitation,) = survey_services.invitations_trigger(
        store=survey.store,
        event_name="purchase",
        occurred_at=timezone.now(),
        email="buyer@example.com",
    )
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.FAILED)
    return invitation


def _task(organisation: Organisation) -> Task:
    return task_services.task_create(
        organisation_id=organisation.pk,
        store_id=StoreFactory(organisation=organisation).pk,
        kind="events.csv_import",
    )


EVENTS_CSV = b"event,customer,time\npurchase,C-1,2026-03-01 10:00\n"


def _event_import(organisation: Organisation) -> EventImport:
    """An uploaded file, not started yet: a POST of its page starts it."""
    return event_imports.event_import_upload(
        store=StoreFactory(organisation=organisation),
        actor=SYSTEM,
        file=io.BytesIO(EVENTS_CSV),
        file_name="events.csv",
        shape="events",
    )


IMPORT_START = {
    "column_0": "name",
    "column_1": "customer_key",
    "column_2": "occurred_at",
    "time_zone": "Europe/Vilnius",
    "date_order": "day_first",
}


def _store_survey_settings(organisation: Organisation) -> StoreSurveySettings:
    return survey_services.store_survey_settings(store=StoreFactory(organisation=organisation))


SENDING_CHANGES = {
    "sender_name": "Intruder",
    "reply_to": "intruder@example.com",
    "fatigue_days": "1",
    "send_rate_per_minute": "10000",
}


def _settings_store(obj: Model) -> dict[str, Any]:
    return {"pk": obj.store_id}  # type: ignore[attr-defined]


def _survey_question(obj: Model) -> dict[str, Any]:
    return {"pk": obj.survey_id, "question_pk": obj.pk}  # type: ignore[attr-defined]


def _journey_version(obj: Model) -> int:
    journey = (
        obj
        if isinstance(obj, Journey)
        else (
            obj.journey if isinstance(obj, Stage) else obj.stage.journey  # type: ignore[attr-defined]
        )
    )
    return Journey.objects.get(pk=journey.pk).version


def _renamed(obj: Model) -> dict[str, Any]:
    return {"name": "Renamed by an intruder", "version": _journey_version(obj)}


def _no_data(obj: Model) -> dict[str, Any]:
    return {}


def _pk(obj: Model) -> dict[str, Any]:
    return {"pk": obj.pk}


@dataclass(frozen=True)
class Target:
    build: Callable[[Organisation], Model]
    # The request body for writes: valid, and changing the object if the write went through.
    data: Callable[[Model], dict[str, Any]] = _no_data
    # Pages only (the API's come from the view): the methods the view serves.
    methods: tuple[str, ...] = ()
    kwargs: Callable[[Model], dict[str, Any]] = field(default=_pk)
    # A GET's query string, for reads that need one to answer 200.
    query: Callable[[Model], dict[str, Any]] = _no_data


REGISTRY: dict[str, Target] = {
    # Pages
    "accounts:store-edit": Target(_store, data=lambda obj: STORE_CHANGES),
    "accounts:store-delete": Target(_store, methods=("POST",)),
    "accounts:store-keys": Target(
        _store, data=lambda obj: {"name": "Intruder key", "kind": ApiKey.Kind.SECRET}
    ),
    "accounts:api-key-revoke": Target(_api_key, methods=("POST",)),
    "accounts:member-role": Target(
        _membership, data=lambda obj: {"role": Role.VIEWER}, methods=("POST",)
    ),
    "accounts:member-remove": Target(_membership, methods=("POST",)),
    "accounts:invitation-revoke": Target(_invitation, methods=("POST",)),
    "dashboards:store": Target(_store_with_active_journey, methods=("GET",)),
    "dashboards:recompute": Target(_store_with_active_journey, methods=("POST",)),
    "dashboards:stage-ask": Target(
        _store_with_active_journey,
        methods=("POST",),
        kwargs=lambda obj: {
            "pk": obj.pk,
            "stage_id": Stage.objects.get(journey__store_id=obj.pk).pk,
        },
    ),
    "dashboards:export": Target(_store_with_tracked_stage, methods=("GET",)),
    "dashboards:stage": Target(
        _store_with_active_journey,
        methods=("GET",),
        kwargs=lambda obj: {
            "pk": obj.pk,
            "stage_id": Stage.objects.get(journey__store_id=obj.pk).pk,
        },
    ),
    "dashboards:digest": Target(_store, data=lambda obj: {"subscribe": "on"}, methods=("POST",)),
    "journeys:detail": Target(_journey),
    "journeys:history": Target(_journey),
    "journeys:duplicate": Target(_journey, methods=("POST",)),
    "journeys:export-json": Target(_journey),
    "journeys:export-csv": Target(_journey),
    "journeys:export-svg": Target(_journey),
    "journeys:share": Target(_journey),
    "journeys:activate": Target(_journey),
    "journeys:status": Target(_journey, data=lambda obj: {"status": "archived"}, methods=("POST",)),
    "journeys:delete": Target(_journey, methods=("POST",)),
    "journeys:details": Target(
        _journey,
        data=lambda obj: {
            "name": "Renamed by an intruder",
            "store": obj.store_id,  # type: ignore[attr-defined]
            "version": _journey_version(obj),
        },
        methods=("POST",),
    ),
    "journeys:experiments": Target(
        _store_with_tracked_stage,
        data=lambda obj: {
            "touchpoint": Touchpoint.objects.get(stage__journey__store=obj).pk,
            "title": "Recorded by an intruder",
            "change": "x",
            "started_on": "2026-02-01",
            "metric": "conversion",
            "window_days": "28",
        },
    ),
    "journeys:experiment-delete": Target(_experiment, methods=("POST",)),
    "journeys:experiment-edit": Target(_experiment),
    "journeys:persona-edit": Target(_persona, data=lambda obj: {"name": "Renamed by an intruder"}),
    "journeys:persona-delete": Target(_persona, data=lambda obj: {"confirm": "1"}),
    "surveys:detail": Target(_survey, methods=("GET",)),
    "surveys:settings": Target(
        _survey,
        data=lambda obj: {
            "name": "Renamed by an intruder",
            "delay_hours": "0",
            "languages": ["en"],
            "default_language": "en",
        },
        methods=("POST",),
    ),
    "surveys:status": Target(_survey, data=lambda obj: {"status": "closed"}, methods=("POST",)),
    "surveys:preview": Target(_survey),
    "surveys:question-add": Target(
        _survey,
        data=lambda obj: {"new-type": "free_text", "new-text_en": "Added by an intruder"},
        methods=("POST",),
    ),
    "surveys:question-edit": Target(
        _question,
        data=lambda obj: {f"q{obj.pk}-text_en": "Changed by an intruder"},
        methods=("POST",),
        kwargs=_survey_question,
    ),
    "surveys:question-move": Target(
        _question,
        data=lambda obj: {"direction": "down"},
        methods=("POST",),
        kwargs=_survey_question,
    ),
    "surveys:question-delete": Target(_question, methods=("POST",), kwargs=_survey_question),
    "surveys:results": Target(_survey, methods=("GET",)),
    "surveys:export-csv": Target(_survey, methods=("GET",)),
    "surveys:send": Target(_active_survey, data=lambda obj: {"everyone": "1"}),
    "events:list": Target(_store, methods=("GET",)),
    "surveys:sending-settings": Target(
        _store_survey_settings, data=lambda obj: SENDING_CHANGES, kwargs=_settings_store
    ),
    "surveys:contact-export": Target(_contact, methods=("GET",)),
    "surveys:contact-erase": Target(_contact),
    "events:shopify-settings": Target(_store, data=lambda obj: {"action": "rotate"}),
    "events:import": Target(
        _store,
        data=lambda obj: {
            "shape": "events",
            "file": SimpleUploadedFile("events.csv", EVENTS_CSV, content_type="text/csv"),
        },
    ),
    "events:import-detail": Target(_event_import, data=lambda obj: IMPORT_START),
    # API
    "api:journey-detail": Target(_journey, data=_renamed),
    "api:journey-activate": Target(_journey, data=lambda obj: {"version": obj.version}),
    "api:journey-set-status": Target(
        _journey, data=lambda obj: {"status": "archived", "version": obj.version}
    ),
    "api:journey-duplicate": Target(_journey),
    "api:journey-reorder-stages": Target(
        _journey,
        data=lambda obj: {
            "order": list(obj.stages.values_list("id", flat=True)),
            "version": obj.version,
        },
    ),
    "api:journey-history": Target(_journey),
    "api:journey-export": Target(_journey),
    "api:journey-share-link": Target(_journey),
    "api:stage-detail": Target(_stage, data=_renamed),
    "api:touchpoint-detail": Target(_touchpoint, data=_renamed),
    "api:touchpoint-move": Target(
        _touchpoint,
        data=lambda obj: {
            "stage": obj.stage_id,
            "position": 1,
            "version": _journey_version(obj),
        },
    ),
    "api:experiment-detail": Target(
        _experiment,
        data=lambda obj: {
            "touchpoint": obj.touchpoint_id,  # type: ignore[attr-defined]
            "title": "Renamed by an intruder",
            "change": "x",
            "started_on": "2026-02-01",
            "metric": "conversion",
        },
    ),
    "api:persona-detail": Target(_persona, data=lambda obj: {"name": "Renamed by an intruder"}),
    "api:store-detail": Target(_store, data=lambda obj: STORE_CHANGES),
    "api:api-key-detail": Target(_api_key),
    "api:member-detail": Target(_membership, data=lambda obj: {"role": Role.VIEWER}),
    "api:invitation-detail": Target(_invitation),
    "api:audit-log-detail": Target(_audit_entry),
    "api:task-detail": Target(_task),
    "api:survey-detail": Target(_survey, data=lambda obj: {"name": "Renamed by an intruder"}),
    "api:survey-set-status": Target(_survey, data=lambda obj: {"status": "closed"}),
    "api:survey-reorder-questions": Target(
        _survey,
        data=lambda obj: {
            "order": list(obj.questions.order_by("-position").values_list("id", flat=True))
        },
    ),
    "api:survey-results": Target(_survey),
    "api:survey-send": Target(_active_survey, data=lambda obj: {"all": True}),
    "api:survey-invitations": Target(_survey),
    "api:survey-responses-export": Target(_survey),
    "api:question-detail": Target(
        _question, data=lambda obj: {"type": obj.type, "text": {"en": "Changed by an intruder"}}
    ),
    "api:survey-invitation-detail": Target(_failed_invitation),
    "api:survey-invitation-resend": Target(_failed_invitation),
    "api:contact-detail": Target(_contact, data=lambda obj: {"name": "Renamed by an intruder"}),
    "api:contact-export": Target(_contact),
    "api:store-survey-settings": Target(
        _store_survey_settings, data=lambda obj: SENDING_CHANGES, kwargs=_settings_store
    ),
    "api:store-funnel": Target(_store_with_active_journey, kwargs=lambda obj: {"store_id": obj.pk}),
    "api:store-metrics": Target(_store, kwargs=lambda obj: {"store_id": obj.pk}),
    "api:store-funnel-customers": Target(
        _store_with_tracked_stage,
        query=_tracked_stage_query,
        kwargs=lambda obj: {"store_id": obj.pk},
    ),
    "api:store-funnel-customers-export": Target(
        _store_with_tracked_stage,
        query=_tracked_stage_query,
        kwargs=lambda obj: {"store_id": obj.pk},
    ),
    "api:store-recompute": Target(
        _store_with_active_journey, kwargs=lambda obj: {"store_id": obj.pk}
    ),
    "api:store-comment-themes": Target(_store, kwargs=lambda obj: {"store_id": obj.pk}),
    "api:store-comment-themes-compute": Target(_store, kwargs=lambda obj: {"store_id": obj.pk}),
}

# The public token URLs this file tests, one by one, below.
TESTED_PUBLIC_TOKEN_URLS = {
    "accounts:verify-email",
    "accounts:invitation-accept",
    "accounts:password-reset-confirm",
    "journeys:shared",
    "survey-public:answer",
    "survey-public:thanks",
    "survey-public:unsubscribe",
    "survey-public:missing",
    "dashboards:digest-unsubscribe",
    "shopify-webhook",
}


def _route(name: str) -> Route:
    return id_routes()[name]


def _cases() -> list[Any]:
    routes = id_routes()
    cases = []
    for name, target in REGISTRY.items():
        route = routes.get(name)
        methods = allowed_methods(route, target) if route else ("GET",)
        cases += [pytest.param(name, m, id=f"{name}-{m}") for m in methods]
    return cases


CASES = _cases()


# --- Helpers


def _client(route: Route, user: User) -> Client | APIClient:
    client: Client | APIClient = APIClient() if route.is_api else Client()
    client.force_login(user)
    return client


def _request(
    client: Client | APIClient,
    method: str,
    url: str,
    data: dict[str, Any],
    query: dict[str, Any] | None = None,
) -> Any:
    if method == "GET":
        return client.get(url, query or {})
    return getattr(client, method.lower())(url, data)


def _snapshot(obj: Model) -> dict[str, Any] | None:
    row = type(obj)._base_manager.filter(pk=obj.pk).first()
    if row is None:
        return None
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


def _organisation_rows(organisation: Organisation) -> dict[str, Any]:
    """Everything that hangs off the organisation directly: counts per model, and its row."""
    counts: dict[str, Any] = {}
    for model in apps.get_models():
        fk = next(
            (
                f
                for f in model._meta.concrete_fields
                if f.name == "organisation" and f.related_model is Organisation
            ),
            None,
        )
        if fk is not None:
            counts[model._meta.label] = model._base_manager.filter(
                organisation=organisation
            ).count()
    counts["organisation"] = _snapshot(organisation)
    return counts


@pytest.fixture
def owner(organisation: Organisation, member_factory: Any) -> User:
    """An owner of organisation A: the highest role, so no role check hides a scoping bug."""
    return member_factory(organisation, Role.OWNER)


# --- Every id-taking URL is scoped or public


def test_every_url_with_an_object_id_is_scoped_or_public() -> None:
    unaccounted = sorted(
        f"{name}  ({route.route})"
        for name, route in id_routes().items()
        if name not in REGISTRY and name not in PUBLIC_TOKEN_URLS
    )
    assert not unaccounted, (
        "These URL patterns take an object id but are neither in REGISTRY in "
        "tests/config/test_tenancy.py nor in config.tenancy.PUBLIC_TOKEN_URLS:\n  "
        + "\n  ".join(unaccounted)
        + "\nLook the object up through a selector scoped to the caller's organisation "
        "(e.g. selectors.store_get(organisation=request.tenant.organisation, pk=pk), or a "
        "get_queryset() built on one), then add a REGISTRY entry that builds the object "
        "inside a given organisation, so that this file proves another organisation gets a 404."
    )


def test_registry_names_only_existing_id_routes() -> None:
    stale = sorted(set(REGISTRY) - set(id_routes()))
    assert not stale, f"REGISTRY entries without a matching URL pattern with an id: {stale}"


def test_public_token_urls_exist_and_each_has_its_own_test() -> None:
    names = {r.name for r in all_routes()}
    assert set(PUBLIC_TOKEN_URLS) <= names, set(PUBLIC_TOKEN_URLS) - names
    assert set(PUBLIC_TOKEN_URLS) == TESTED_PUBLIC_TOKEN_URLS, (
        "Each entry of config.tenancy.PUBLIC_TOKEN_URLS needs its own test in "
        "tests/config/test_tenancy.py (forged token: no access, nothing leaked)."
    )


def test_walker_sees_router_detail_routes_and_page_routes() -> None:
    """The walker itself: it must find both path converters and DRF's regex groups."""
    routes = id_routes()
    assert routes["api:store-detail"].params == ("pk",)
    assert routes["api:store-detail"].is_api
    assert routes["accounts:store-edit"].params == ("pk",)
    assert not routes["accounts:store-edit"].is_api
    assert "api:store-list" not in routes
    assert "accounts:password-reset-confirm" not in routes  # uidb64 and token are no ids
    assert allowed_methods(routes["api:member-detail"], REGISTRY["api:member-detail"]) == (
        "GET",
        "PATCH",
        "DELETE",
    )
    assert allowed_methods(routes["api:store-detail"], REGISTRY["api:store-detail"]) == (
        "GET",
        "PUT",
        "PATCH",
        "DELETE",
    )
    assert allowed_methods(routes["api:audit-log-detail"], REGISTRY["api:audit-log-detail"]) == (
        "GET",
    )


# --- Another organisation's object: 404, and nothing changes


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), CASES)
def test_other_organisations_object_is_not_found(
    name: str, method: str, owner: User, other_organisation: Organisation
) -> None:
    route, target = _route(name), REGISTRY[name]
    obj = target.build(other_organisation)
    before, rows_before = _snapshot(obj), _organisation_rows(other_organisation)
    url = reverse(name, kwargs=target.kwargs(obj))

    response = _request(_client(route, owner), method, url, target.data(obj), target.query(obj))

    hint = (
        "the view does not serve this method: list the ones it does in its REGISTRY entry "
        "(methods=...)"
        if response.status_code == 405
        else "scope the lookup to request.tenant.organisation"
    )
    assert response.status_code == 404, (
        f"{method} {url} for another organisation's {type(obj).__name__} answered "
        f"{response.status_code}, not 404: {hint}."
    )
    assert other_organisation.name.encode() not in response.content
    assert _snapshot(obj) == before
    assert _organisation_rows(other_organisation) == rows_before


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), CASES)
def test_own_organisations_object_is_found(
    name: str, method: str, owner: User, organisation: Organisation
) -> None:
    """The positive control: the same request works for the caller's own object."""
    route, target = _route(name), REGISTRY[name]
    obj = target.build(organisation)
    url = reverse(name, kwargs=target.kwargs(obj))

    response = _request(_client(route, owner), method, url, target.data(obj), target.query(obj))

    assert response.status_code != 404
    assert 200 <= response.status_code < 400, (method, url, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_methods_a_route_does_not_serve_are_refused(
    name: str, owner: User, organisation: Organisation
) -> None:
    """The methods tested above are all the route serves: the others answer 405."""
    route, target = _route(name), REGISTRY[name]
    universe = API_METHODS if route.is_api else PAGE_METHODS
    others = [m for m in universe if m not in allowed_methods(route, target)]
    obj = target.build(organisation)
    url = reverse(name, kwargs=target.kwargs(obj))
    client = _client(route, owner)
    assert {m: _request(client, m, url, {}).status_code for m in others} == dict.fromkeys(
        others, 405
    )


# --- API keys are scoped like members, and to their store


def _secret_key(store: Store) -> str:
    _key, raw = services.api_key_create(
        store=store, kind=ApiKey.Kind.SECRET, name="Backend", actor=Actor()
    )
    return raw


@pytest.mark.django_db
def test_secret_api_key_gets_404_for_other_organisations_store(
    store: Store, other_organisation: Organisation
) -> None:
    theirs = StoreFactory(organisation=other_organisation, name="Rival Store")
    StoreFactory(organisation=store.organisation, name="Sister Store")  # same org, other store
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_secret_key(store)}")

    response = api.get(reverse("api:store-detail", kwargs={"pk": theirs.pk}))
    assert response.status_code == 404
    assert response.json() == {
        "error": {"status": 404, "code": "not_found", "message": "Not found.", "details": {}}
    }

    listing = api.get(reverse("api:store-list"))
    assert listing.status_code == 200
    assert [s["id"] for s in listing.json()["results"]] == [store.pk]

    own = api.get(reverse("api:store-detail", kwargs={"pk": store.pk}))
    assert own.status_code == 200
    assert own.json()["name"] == "Baltic Goods LT"


API_CASES = [name for name in REGISTRY if name.startswith("api:")]


@pytest.mark.django_db
@pytest.mark.parametrize("name", API_CASES)
def test_secret_api_key_never_reads_another_organisations_object(
    name: str, store: Store, other_organisation: Organisation
) -> None:
    """404 where the key may use the endpoint, 403 (the same for any id) elsewhere."""
    route, target = _route(name), REGISTRY[name]
    obj = target.build(other_organisation)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_secret_key(store)}")
    method = allowed_methods(route, target)[0]  # GET where served, else the write it serves
    expected = 403 if _key_refusal(name, route, method) else 404
    response = _request(
        api, method, reverse(name, kwargs=target.kwargs(obj)), target.data(obj), target.query(obj)
    )

    assert response.status_code == expected
    assert response.json()["error"]["status"] == expected
    assert other_organisation.name.encode() not in response.content


# --- A secret key of one store never reaches another store of the same organisation

# Organisation-wide objects that every store's data refers to: a key may read them, not change
# them (README, "What a secret key can reach").
READABLE_BY_EVERY_STORE_KEY = {"api:persona-detail"}

SISTER_STORE_CASES = [
    pytest.param(name, method, id=f"{name}-{method}")
    for name in API_CASES
    for method in allowed_methods(_route(name), REGISTRY[name])
]


def _store_of(obj: Model) -> Store | None:
    """The store an object belongs to; None for organisation-wide objects."""
    for path in ("store", "journey.store", "stage.journey.store", "survey.store"):
        value: Any = obj
        for attr in path.split("."):
            value = getattr(value, attr, None)
        if isinstance(value, Store):
            return value
    return obj if isinstance(obj, Store) else None


# Roles a view sets for one method only, at request time.
METHOD_ROLES = {("api:contact-detail", "DELETE"): Role.ADMIN}  # erasing a person


def _key_refusal(name: str, route: Route, method: str) -> bool:
    """True where the key's role or its access to organisation-wide objects refuses (403)."""
    from accounts.permissions import KeyAccess

    cls = route.callback.cls  # type: ignore[attr-defined]
    access = getattr(cls, "secret_key_access", KeyAccess.WRITE)
    if access == KeyAccess.NONE or (access == KeyAccess.READ and method != "GET"):
        return True
    role = METHOD_ROLES.get((name, method)) or getattr(
        cls, "read_role" if method == "GET" else "write_role", None
    )
    role = role or (Role.VIEWER if method == "GET" else Role.EDITOR)
    return not Role.at_least(SECRET_KEY_ROLE, role)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), SISTER_STORE_CASES)
def test_secret_api_key_never_reaches_a_sister_stores_object(
    name: str, method: str, store: Store, organisation: Organisation
) -> None:
    """A key of store A, an object of store B of the same organisation: 404 (403 where the key
    may not use the endpoint at all), and nothing changes. Organisation-wide objects that every
    store's data refers to are readable, never writable."""
    route, target = _route(name), REGISTRY[name]
    obj = target.build(organisation)
    assert _store_of(obj) != store
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_secret_key(store)}")
    before, rows_before = _snapshot(obj), _organisation_rows(organisation)

    response = _request(
        api, method, reverse(name, kwargs=target.kwargs(obj)), target.data(obj), target.query(obj)
    )

    if _key_refusal(name, route, method):
        expected = 403
    elif name in READABLE_BY_EVERY_STORE_KEY:
        expected = 200
    else:
        expected = 404
    assert response.status_code == expected, (method, name, response.content[:300])
    if expected != 200:
        assert response.json()["error"]["status"] == expected
        assert _snapshot(obj) == before
        assert _organisation_rows(organisation) == rows_before


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), SISTER_STORE_CASES)
def test_secret_api_key_reaches_its_own_stores_object(
    name: str, method: str, organisation: Organisation
) -> None:
    """The positive control: the same request with the key of the object's own store works
    wherever the key may use the endpoint."""
    route, target = _route(name), REGISTRY[name]
    obj = target.build(organisation)
    own_store = _store_of(obj)
    if own_store is None or _key_refusal(name, route, method):
        pytest.skip("organisation-wide or refused for every key: covered above")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_secret_key(own_store)}")

    response = _request(
        api, method, reverse(name, kwargs=target.kwargs(obj)), target.data(obj), target.query(obj)
    )

    assert 200 <= response.status_code < 300, (method, name, response.content[:300])


@pytest.mark.django_db
def test_secret_api_key_lists_and_creates_journeys_in_its_own_store_only(
    store: Store, organisation: Organisation
) -> None:
    sister = StoreFactory(organisation=organisation, name="Sister Store")
    theirs = journey_services.journey_create(
        organisation=organisation, actor=SYSTEM, name="Sister's map", store=sister
    )
    journey_services.journey_create(organisation=organisation, actor=SYSTEM, name="No store")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_secret_key(store)}")

    created = api.post(reverse("api:journey-list"), {"name": "Key's map"}, format="json")
    into_sister = api.post(
        reverse("api:journey-list"), {"name": "Sneaky", "store": sister.pk}, format="json"
    )
    listing = api.get(reverse("api:journey-list"))
    emptied = api.patch(
        reverse("api:journey-detail", kwargs={"pk": created.json()["id"]}),
        {"store": None, "version": created.json()["version"]},
        format="json",
    )
    copied = api.post(reverse("api:journey-duplicate", kwargs={"pk": created.json()["id"]}))
    doc = journey_transfer.journey_export(journey=theirs)
    imported_sister = api.post(reverse("api:journey-import-"), doc, format="json")
    doc["journey"]["store"] = None
    imported = api.post(reverse("api:journey-import-"), doc, format="json")

    assert created.status_code == 201
    assert created.json()["store"] == store.pk
    assert into_sister.status_code == 400
    assert "store" in into_sister.json()["error"]["details"]
    assert [j["name"] for j in listing.json()["results"]] == ["Key's map"]
    assert emptied.status_code == 400
    assert emptied.json()["error"]["details"] == {
        "store": ["A store's key works on its own store's journeys: the store cannot be empty."]
    }
    assert copied.status_code == 201
    assert copied.json()["store"] == store.pk
    assert imported_sister.status_code == 400
    assert imported_sister.json()["error"]["details"] == {
        "non_field_errors": ["journey.store must be Baltic Goods LT (this key's store) or null."]
    }
    assert imported.status_code == 201
    assert imported.json()["store"] == store.pk
    assert Journey.objects.filter(store=sister).count() == 1


@pytest.mark.django_db
def test_secret_api_key_cannot_list_members_or_change_personas(store: Store) -> None:
    persona = Persona.objects.create(organisation=store.organisation, name="Shared persona")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_secret_key(store)}")

    members = api.get(reverse("api:member-list"))
    personas = api.get(reverse("api:persona-list"))
    created = api.post(reverse("api:persona-list"), {"name": "New"}, format="json")
    deleted = api.delete(reverse("api:persona-detail", kwargs={"pk": persona.pk}))

    assert members.status_code == 403
    assert members.json()["error"]["message"] == (
        "A store's secret key cannot reach this: it is shared by the whole organisation. "
        "Use a member's session."
    )
    assert personas.status_code == 200
    assert [p["name"] for p in personas.json()["results"]] == ["Shared persona"]
    assert (created.status_code, deleted.status_code) == (403, 403)
    assert Persona.objects.filter(organisation=store.organisation).count() == 1


# --- Public token URLs, each on its own


def _no_session_login(client: Client) -> bool:
    return "_auth_user_id" not in client.session


@pytest.fixture
def unverified_user(db: Any) -> User:
    user = UserFactory(email="new@example.com", email_verified_at=None)
    organisation = OrganisationFactory(name="Secret Verify Org")
    MembershipFactory(organisation=organisation, user=user, role=Role.OWNER)
    return user


def _verify_tokens(user: User) -> dict[str, str]:
    real = services.verification_token_make(user=user)
    payload = {"user": user.pk, "email": user.email}
    return {
        "garbage": "not-a-token",
        "other salt": signing.dumps(payload, salt="some.other.purpose"),
        "other key": signing.dumps(
            payload, salt=services.EMAIL_VERIFICATION_SALT, key="not-the-secret-key"
        ),
        "tampered signature": real[:-2] + ("AA" if not real.endswith("AA") else "BB"),
        "unsigned payload": signing.b64_encode(json.dumps(payload).encode()).decode(),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind",
    ["garbage", "other salt", "other key", "tampered signature", "unsigned payload"],
)
def test_verify_email_with_a_forged_token_is_not_valid(
    kind: str, client: Client, unverified_user: User
) -> None:
    token = _verify_tokens(unverified_user)[kind]

    response = client.get(reverse("accounts:verify-email", args=[token]))

    assert response.status_code == 400
    assert response.templates[0].name == "accounts/verify_failed.html"
    assert response.context["message"] == "This link is not valid."
    assert b"Secret Verify Org" not in response.content
    assert _no_session_login(client)
    unverified_user.refresh_from_db()
    assert unverified_user.email_verified_at is None


@pytest.mark.django_db
def test_verify_email_token_for_a_changed_address_is_not_valid(
    client: Client, unverified_user: User
) -> None:
    token = services.verification_token_make(user=unverified_user)
    User.objects.filter(pk=unverified_user.pk).update(email="changed@example.com")

    response = client.get(reverse("accounts:verify-email", args=[token]))

    assert response.status_code == 400
    assert response.context["message"] == "This link is not valid."
    assert _no_session_login(client)


@pytest.mark.django_db
def test_verify_email_with_an_expired_token_is_refused(
    client: Client, unverified_user: User, settings: Any
) -> None:
    token = services.verification_token_make(user=unverified_user)
    settings.EMAIL_VERIFICATION_MAX_AGE = -1

    response = client.get(reverse("accounts:verify-email", args=[token]))

    assert response.status_code == 400
    assert response.context["message"] == "This link has expired. Log in to get a new one."
    assert _no_session_login(client)


@pytest.mark.django_db
def test_verify_email_with_the_real_token_works(client: Client, unverified_user: User) -> None:
    """Positive control for the forged-token tests."""
    token = services.verification_token_make(user=unverified_user)

    response = client.get(reverse("accounts:verify-email", args=[token]))

    assert response.status_code == 302
    assert response.url == reverse("home")
    unverified_user.refresh_from_db()
    assert unverified_user.email_verified_at is not None
    assert client.session["_auth_user_id"] == str(unverified_user.pk)


REAL_INVITATION_TOKEN = "real-invitation-token-0123456789abcdefghijkl"


@pytest.fixture
def invitation(other_organisation: Organisation) -> MemberInvitation:
    return MemberInvitationFactory(
        organisation=other_organisation,
        email="invitee@example.com",
        role=Role.ADMIN,
        token=REAL_INVITATION_TOKEN,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        "made-up-token",
        REAL_INVITATION_TOKEN[:-1] + "X",  # one character off
        REAL_INVITATION_TOKEN.upper(),
        "",  # replaced below by the stored hash itself
    ],
    ids=["random", "one-char-off", "other-case", "stored-hash"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_invitation_with_a_forged_token_is_not_found(
    token: str,
    method: str,
    client: Client,
    invitation: MemberInvitation,
    organisation: Organisation,
    member_factory: Any,
) -> None:
    token = token or invitation.token_hash
    client.force_login(member_factory(organisation, Role.VIEWER, email="invitee@example.com"))
    memberships_before = Membership.objects.filter(organisation=invitation.organisation).count()

    response = _request(client, method, reverse("accounts:invitation-accept", args=[token]), {})

    assert response.status_code == 404
    assert response.templates[0].name == "accounts/invitation_invalid.html"
    assert b"Other Org" not in response.content
    assert Membership.objects.filter(organisation=invitation.organisation).count() == (
        memberships_before
    )
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


@pytest.mark.django_db
def test_invitation_with_a_forged_token_is_not_found_for_anonymous_visitors(
    client: Client, invitation: MemberInvitation
) -> None:
    response = client.get(reverse("accounts:invitation-accept", args=["made-up-token"]))

    assert response.status_code == 404
    assert b"Other Org" not in response.content
    assert b"invitee@example.com" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["accepted", "expired", "organisation being deleted"])
def test_invitation_token_that_no_longer_applies_is_not_found(
    state: str, client: Client, invitation: MemberInvitation
) -> None:
    from django.utils import timezone

    if state == "accepted":
        MemberInvitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    elif state == "expired":
        MemberInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    else:
        Organisation.objects.filter(pk=invitation.organisation_id).update(
            deletion_requested_at=timezone.now()
        )

    response = client.get(reverse("accounts:invitation-accept", args=[REAL_INVITATION_TOKEN]))

    assert response.status_code == 404
    assert b"Other Org" not in response.content


@pytest.mark.django_db
def test_invitation_with_the_real_token_shows_the_organisation(
    client: Client, invitation: MemberInvitation
) -> None:
    """Positive control: the real token shows what the forged ones must not."""
    response = client.get(reverse("accounts:invitation-accept", args=[REAL_INVITATION_TOKEN]))

    assert response.status_code == 200
    assert b"Other Org" in response.content


@pytest.fixture
def reset_user(db: Any) -> User:
    user = UserFactory(email="reset@example.com")
    MembershipFactory(
        organisation=OrganisationFactory(name="Secret Reset Org"), user=user, role=Role.OWNER
    )
    return user


def _reset_links(user: User) -> dict[str, tuple[str, str]]:
    other = UserFactory(email="someone-else@example.com")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return {
        "made-up uid and token": ("MTIzNDU2Nzg", "c0ffee-0123456789abcdef0123456789abcdef"),
        "real uid, made-up token": (uid, "c0ffee-0123456789abcdef0123456789abcdef"),
        "real uid, another user's token": (uid, default_token_generator.make_token(other)),
        "real uid, session marker": (uid, "set-password"),
        "garbage uid": ("!!!", "token"),
    }


INVALID_RESET_LINK = "This link is not valid"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind",
    [
        "made-up uid and token",
        "real uid, made-up token",
        "real uid, another user's token",
        "real uid, session marker",
        "garbage uid",
    ],
)
def test_password_reset_with_a_forged_link_is_not_valid(
    kind: str, client: Client, reset_user: User
) -> None:
    uidb64, token = _reset_links(reset_user)[kind]
    url = reverse("accounts:password-reset-confirm", args=[uidb64, token])

    response = client.get(url)
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert INVALID_RESET_LINK.encode() in response.content
    assert b"Secret Reset Org" not in response.content
    assert b"reset@example.com" not in response.content

    posted = client.post(url, {"new_password1": "Brand-new-pass-42", "new_password2": "x"})
    assert posted.status_code == 200
    assert INVALID_RESET_LINK.encode() in posted.content
    reset_user.refresh_from_db()
    assert not reset_user.check_password("Brand-new-pass-42")


@pytest.mark.django_db
def test_password_reset_with_the_real_link_offers_a_new_password(
    client: Client, reset_user: User
) -> None:
    """Positive control: Django swaps the token into the session and shows the form."""
    uidb64 = urlsafe_base64_encode(force_bytes(reset_user.pk))
    token = default_token_generator.make_token(reset_user)

    response = client.get(reverse("accounts:password-reset-confirm", args=[uidb64, token]))
    assert response.status_code == 302
    assert re.fullmatch(rf"/accounts/reset/{uidb64}/set-password/", response.url)

    form = client.get(response.url)
    assert form.status_code == 200
    assert form.context["validlink"] is True
    assert INVALID_RESET_LINK.encode() not in form.content


# --- Ids in request bodies are scoped too


@pytest.mark.django_db
def test_switching_to_another_organisation_is_not_found(
    owner: User, organisation: Organisation, other_organisation: Organisation
) -> None:
    client = Client()
    client.force_login(owner)

    response = client.post(
        reverse("accounts:organisation-switch"), {"organisation": other_organisation.pk}
    )

    assert response.status_code == 404
    assert b"Other Org" not in response.content
    assert client.session.get("organisation_id") == organisation.pk


@pytest.mark.django_db
def test_switching_to_another_organisations_store_is_not_found(
    owner: User, store: Store, other_organisation: Organisation
) -> None:
    theirs = StoreFactory(organisation=other_organisation, name="Rival Store")
    client = Client()
    client.force_login(owner)

    response = client.post(reverse("accounts:store-switch"), {"store": theirs.pk})
    own = client.post(reverse("accounts:store-switch"), {"store": store.pk})

    assert response.status_code == 404
    assert b"Rival Store" not in response.content
    assert own.status_code == 302  # positive control
    assert client.session["store_id"] == store.pk
    second = StoreFactory(organisation=store.organisation, name="Second Store")
    client.post(reverse("accounts:store-switch"), {"store": second.pk})
    page = client.get(reverse("home"))
    assert page.context["current_store"] == second  # the header marks the session's store
    assert f'value="{second.pk}" selected'.encode() in page.content
    # A store's own page marks that store, whatever the session's; another organisation's
    # store in the path marks nothing of theirs (the page itself is a 404).
    page = client.get(f"/stores/{store.pk}/edit/")
    assert page.status_code == 200
    assert page.context["current_store"] == store
    assert f'value="{store.pk}" selected'.encode() in page.content
    assert client.get(f"/stores/{theirs.pk}/edit/").status_code == 404
    page = client.get(reverse("home"))
    assert page.context["current_store"] == second


@pytest.mark.django_db
def test_api_key_for_another_organisations_store_is_refused(
    owner: User, store: Store, other_organisation: Organisation
) -> None:
    theirs = StoreFactory(organisation=other_organisation, name="Rival Store")
    api = APIClient()
    api.force_login(owner)

    response = api.post(
        reverse("api:api-key-list"), {"store": theirs.pk, "kind": "secret", "name": "Sneaky"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "store": [f'Invalid pk "{theirs.pk}" - object does not exist.']
    }
    assert not ApiKey.objects.filter(store=theirs).exists()
    own = api.post(
        reverse("api:api-key-list"), {"store": store.pk, "kind": "secret", "name": "Mine"}
    )
    assert own.status_code == 201  # positive control


# --- journeys:shared (read-only share link)


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["made-up", "", "x" * 32, "%00"])
def test_share_link_with_a_forged_token_is_not_found(
    client: Client, other_organisation: Organisation, token: str
) -> None:
    journey = _journey(other_organisation)
    real = journey_services.journey_share_link_create(journey=journey, actor=SYSTEM)
    for forged in (
        token,
        real.upper(),
        real[:-1],
        Journey.objects.get(pk=journey.pk).share_token_hash,
    ):
        if not forged:
            continue
        response = client.get(f"/share/journeys/{forged}/")
        assert response.status_code == 404
        assert journey.name.encode() not in response.content


@pytest.mark.django_db
def test_share_link_with_the_real_token_shows_the_map(
    client: Client, other_organisation: Organisation
) -> None:
    journey = _journey(other_organisation)
    token = journey_services.journey_share_link_create(journey=journey, actor=SYSTEM)
    response = client.get(f"/share/journeys/{token}/")
    assert response.status_code == 200
    assert journey.name.encode() in response.content
    journey_services.journey_share_link_revoke(journey=journey, actor=SYSTEM)
    assert client.get(f"/share/journeys/{token}/").status_code == 404


# --- survey-public:answer, :thanks and :unsubscribe (the survey email's link token)


def _sent_survey_invitation(organisation: Organisation) -> tuple[Invitation, str]:
    """A survey invitation of `organisation` that was emailed, and its link token."""
    store = StoreFactory(organisation=organisation, name="Secret Survey Store")
    survey = survey_services.survey_create_from_template(
        organisation=organisation,
        store=store,
        actor=SYSTEM,
        template="nps",
        languages=["en"],
        name="Secret Survey Name",
    )
    survey_services.survey_set_status(survey=survey, actor=SYSTEM, status="active")
    survey_services.contact_upsert(store=store, email="buyer@example.com", customer_key="B-1")
    [invitation] = survey_services.invitations_trigger(
        store=store,
        event_name="delivered",
        occurred_at=survey.created_at,
        customer_key="B-1",
    )
    assert survey_services.invitation_send(invitation_id=invitation.pk).status == "sent"
    invitation.refresh_from_db()
    return invitation, survey_tokens.token_for(invitation.nonce)


def _forged_survey_tokens(invitation: Invitation, token: str) -> dict[str, str]:
    """Near misses of the real token, and what a database dump would reveal."""
    return {
        "made-up": "made-up-token",
        "one character off": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "other case": token.swapcase(),
        "truncated": token[:16],
        "stored hash": invitation.token_hash,
        "stored nonce": invitation.nonce,
        "overlong": token * 4,
    }


SURVEY_SECRETS = (b"Secret Survey Store", b"Secret Survey Name", b"buyer@example.com", b"Other Org")


def _assert_survey_link_refused(response: Any) -> None:
    assert response.status_code == 404
    assert response.templates[0].name == "surveys/public/message.html"
    for secret in SURVEY_SECRETS:
        assert secret not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_survey_answer_page_with_a_forged_token_is_not_found(
    client: Client, other_organisation: Organisation, method: str
) -> None:
    from surveys.models import Response as SurveyResponse

    invitation, token = _sent_survey_invitation(other_organisation)
    score = invitation.survey.questions.order_by("position").first()
    assert score is not None
    for forged in _forged_survey_tokens(invitation, token).values():
        response = _request(client, method, f"/s/{forged}/", {"step": "1", f"q{score.pk}": "10"})
        _assert_survey_link_refused(response)
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.status == "sent"

    real = client.get(f"/s/{token}/")  # positive control
    assert real.status_code == 200
    assert b"Secret Survey Store" in real.content


@pytest.mark.django_db
def test_survey_thank_you_page_with_a_forged_token_is_not_found(
    client: Client, other_organisation: Organisation
) -> None:
    invitation, token = _sent_survey_invitation(other_organisation)
    score = invitation.survey.questions.order_by("position").first()
    assert score is not None
    survey_services.response_save(
        invitation=invitation, answers={score.pk: 9}, language="en", submit=True
    )
    for forged in _forged_survey_tokens(invitation, token).values():
        _assert_survey_link_refused(client.get(f"/s/{forged}/thanks/"))

    real = client.get(f"/s/{token}/thanks/")  # positive control
    assert real.status_code == 200
    assert b"Secret Survey Store" in real.content


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_survey_unsubscribe_with_a_forged_token_is_not_found(
    client: Client, other_organisation: Organisation, method: str
) -> None:
    invitation, token = _sent_survey_invitation(other_organisation)
    for forged in _forged_survey_tokens(invitation, token).values():
        response = _request(
            client, method, f"/s/{forged}/unsubscribe/", {"List-Unsubscribe": "One-Click"}
        )
        _assert_survey_link_refused(response)
    assert not Contact.objects.filter(unsubscribed_at__isnull=False).exists()

    real = client.post(f"/s/{token}/unsubscribe/")  # positive control
    assert real.status_code == 200
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_path_under_a_forged_survey_token_is_not_found_and_names_nothing(
    client: Client, other_organisation: Organisation, method: str
) -> None:
    invitation, token = _sent_survey_invitation(other_organisation)
    for forged in _forged_survey_tokens(invitation, token).values():
        _assert_survey_link_refused(_request(client, method, f"/s/{forged}/no-such-page/", {}))

    real = client.get(f"/s/{token}/no-such-page/")  # positive control: the survey's store
    assert real.status_code == 404
    assert b"Secret Survey Store" in real.content
    assert f'href="/s/{token}/"'.encode() in real.content


# --- dashboards:digest-unsubscribe (the weekly digest email's signed link)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_digest_unsubscribe_with_a_forged_token_is_not_found(
    client: Client, other_organisation: Organisation, method: str
) -> None:
    from dashboards import tokens as digest_tokens
    from dashboards.models import DigestSubscription

    store = StoreFactory(organisation=other_organisation, name="Secret Digest Store")
    membership = MembershipFactory(organisation=other_organisation, role=Role.VIEWER)
    subscription = DigestSubscription.objects.create(membership=membership, store=store)
    token = digest_tokens.token_for(subscription.pk)
    for forged in (
        "made-up-token",
        str(subscription.pk),  # the id alone
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token.swapcase(),
        f"{subscription.pk + 1}:{token.split(':', 1)[1]}",  # another id, this signature
        signing.Signer().sign(str(subscription.pk)),  # signed without the digest's salt
        signing.Signer(salt="accounts.verify-email").sign(str(subscription.pk)),
    ):
        response = _request(client, method, f"/digest/unsubscribe/{forged}/", {})
        assert response.status_code == 404
        assert b"Secret Digest Store" not in response.content
    assert DigestSubscription.objects.filter(pk=subscription.pk).exists()

    real = client.post(f"/digest/unsubscribe/{token}/")  # positive control
    assert real.status_code == 200
    assert b"Secret Digest Store" in real.content
    assert not DigestSubscription.objects.filter(pk=subscription.pk).exists()


# --- shopify-webhook (a store's webhook address; every delivery is signed besides)


@pytest.mark.django_db
def test_shopify_webhook_with_a_forged_id_is_not_found(other_organisation: Organisation) -> None:
    import base64
    import hashlib
    import hmac

    from events import shopify
    from events.models import Event, ShopifyWebhook, WebhookDelivery

    store = StoreFactory(organisation=other_organisation, name="Secret Shopify Store")
    real = shopify.shopify_webhook_rotate(store=store, actor=SYSTEM)
    body = json.dumps({"id": 1, "created_at": "2026-03-01T10:00:00Z", "email": "b@example.com"})
    signature = base64.b64encode(
        hmac.new(real.secret.encode(), body.encode(), hashlib.sha256).digest()
    ).decode()

    def post(webhook_id: str, delivery: str) -> Any:
        return Client().post(
            f"/hooks/shopify/{webhook_id}/",
            data=body,
            content_type="application/json",
            headers={
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Webhook-Id": delivery,
                "X-Shopify-Hmac-Sha256": signature,
            },
        )

    token = real.webhook_id
    for number, forged in enumerate(
        (
            "made-up-webhook-id",
            token[:-1] + ("A" if token[-1] != "A" else "B"),
            token.swapcase(),
            token[:16],
            token * 2,
            real.secret,  # what the page shows beside it
            str(real.pk),
            str(store.pk),
        )
    ):
        response = post(forged, f"forged-{number}")
        assert response.status_code == 404
        assert b"Secret Shopify Store" not in response.content
    assert not WebhookDelivery.objects.exists()
    assert not Event.objects.filter(store=store).exists()

    assert post(token, "real").status_code == 200  # positive control
    assert ShopifyWebhook.objects.get(pk=real.pk).webhook_id == token
