"""Experiments through the API: recorded on a touchpoint of a store's active journey, listed
in the journey's history without changing the map's version, audited, editors write and
viewers read. Their results are tested in tests/metrics/test_experiments.py."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import AuditLogEntry, Role
from accounts.services import Actor
from journeys import services
from journeys.models import Experiment, Journey, JourneyChange, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_journey(template_journey: Journey, actor: Actor) -> Journey:
    return services.journey_activate(
        journey=template_journey, actor=actor, version=template_journey.version
    )


@pytest.fixture
def cart(active_journey: Journey) -> Touchpoint:
    return Touchpoint.objects.get(stage__journey=active_journey, event_names=["add_to_cart"])


def _body(touchpoint: Touchpoint, **fields: Any) -> dict[str, Any]:
    return {
        "touchpoint": touchpoint.pk,
        "title": "Delivery date on the cart",
        "change": "The cart shows the delivery date before checkout.",
        "started_on": "2026-02-01",
        "metric": "conversion",
        **fields,
    }


def test_an_editor_records_an_experiment_on_the_active_journey(
    api_as: Any, store: Any, cart: Touchpoint, active_journey: Journey
) -> None:
    api = api_as(Role.EDITOR)
    version = Journey.objects.get(pk=active_journey.pk).version
    response = api.post("/api/v1/experiments/", _body(cart), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("store", "journey", "stage", "touchpoint", "window_days")} == {
        "store": store.pk,
        "journey": active_journey.pk,
        "stage": cart.stage_id,
        "touchpoint": cart.pk,
        "window_days": 28,
    }
    assert (body["stage_moment"], body["stage_name"], body["touchpoint_name"]) == (
        "SMOT",
        cart.stage.name,
        cart.name,
    )
    assert body["ended_on"] is None
    # Listed in the journey's history at the version the map is at, which stays.
    assert Journey.objects.get(pk=active_journey.pk).version == version
    change = JourneyChange.objects.filter(journey=active_journey).first()
    assert change is not None
    assert (change.action, change.version) == ("experiment.created", version)
    assert change.details["experiment"] == body["id"]
    entry = AuditLogEntry.objects.get(action="experiment.created")
    assert entry.object_id == str(body["id"])


def test_an_open_editors_next_save_is_no_conflict_after_an_experiment(
    api_as: Any, cart: Touchpoint, active_journey: Journey
) -> None:
    api = api_as(Role.EDITOR)
    loaded = Journey.objects.get(pk=active_journey.pk).version  # an editor opens the map
    assert api.post("/api/v1/experiments/", _body(cart), format="json").status_code == 201
    experiment = Experiment.objects.get()
    patch = api.patch(f"/api/v1/experiments/{experiment.pk}/", {"window_days": 14}, format="json")
    assert patch.status_code == 200, patch.content
    saved = api.patch(
        f"/api/v1/touchpoints/{cart.pk}/", {"name": "Basket", "version": loaded}, format="json"
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["journey_version"] == loaded + 1
    assert list(
        JourneyChange.objects.filter(journey=active_journey)
        .order_by("id")
        .values_list("action", "version")
    )[-3:] == [
        ("experiment.created", loaded),
        ("experiment.updated", loaded),
        ("touchpoint.updated", loaded + 1),
    ]


def test_the_experiment_outlives_its_touchpoint(
    api_as: Any, cart: Touchpoint, active_journey: Journey, actor: Actor
) -> None:
    api = api_as(Role.EDITOR)
    created = api.post("/api/v1/experiments/", _body(cart), format="json").json()
    version = Journey.objects.get(pk=active_journey.pk).version
    services.touchpoint_delete(touchpoint=cart, actor=actor, version=version)
    body = api.get(f"/api/v1/experiments/{created['id']}/").json()
    assert (body["touchpoint"], body["stage"], body["touchpoint_name"]) == (
        None,
        created["stage"],
        created["touchpoint_name"],
    )


def test_only_a_touchpoint_of_an_active_journey_takes_an_experiment(
    api_as: Any, template_journey: Journey
) -> None:
    draft_touchpoint = Touchpoint.objects.filter(stage__journey=template_journey).first()
    assert draft_touchpoint is not None
    response = api_as(Role.EDITOR).post(
        "/api/v1/experiments/", _body(draft_touchpoint), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "touchpoint": ["Choose a touchpoint of a store's active journey."]
    }


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"ended_on": "2026-01-31"},
            {"ended_on": ["An experiment cannot end before it went live."]},
        ),
        (
            {"window_days": 6},
            {"window_days": ["Ensure this value is greater than or equal to 7."]},
        ),
        ({"metric": "revenue"}, {"metric": ['"revenue" is not a valid choice.']}),
        ({"title": "  "}, {"title": ["This field may not be blank."]}),
    ],
)
def test_invalid_experiments_are_refused(
    api_as: Any, cart: Touchpoint, fields: dict[str, Any], errors: dict[str, Any]
) -> None:
    api = api_as(Role.EDITOR)
    response = api.post("/api/v1/experiments/", _body(cart, **fields), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == errors
    assert not Experiment.objects.exists()


def test_a_viewer_reads_but_cannot_write(api_as: Any, cart: Touchpoint) -> None:
    editor = api_as(Role.EDITOR)
    created = editor.post("/api/v1/experiments/", _body(cart), format="json").json()
    viewer = api_as(Role.VIEWER)
    assert viewer.get("/api/v1/experiments/").json()["count"] == 1
    assert viewer.get(f"/api/v1/experiments/{created['id']}/").status_code == 200
    assert viewer.post("/api/v1/experiments/", _body(cart), format="json").status_code == 403
    assert (
        viewer.patch(f"/api/v1/experiments/{created['id']}/", {"title": "X"}, format="json")
    ).status_code == 403
    assert viewer.delete(f"/api/v1/experiments/{created['id']}/").status_code == 403
    assert Experiment.objects.get().title == "Delivery date on the cart"


def test_the_list_filters_by_store_journey_and_stage(
    api_as: Any, cart: Touchpoint, active_journey: Journey
) -> None:
    api = api_as(Role.EDITOR)
    created = api.post("/api/v1/experiments/", _body(cart), format="json").json()
    other_stage = active_journey.stages.exclude(pk=cart.stage_id).first()
    assert other_stage is not None

    def ids(**query: Any) -> list[int]:
        return [e["id"] for e in api.get("/api/v1/experiments/", query).json()["results"]]

    assert ids(journey=active_journey.pk) == [created["id"]]
    assert ids(stage=cart.stage_id) == [created["id"]]
    assert ids(store=created["store"]) == [created["id"]]
    assert ids(stage=other_stage.pk) == []


def test_deleting_is_recorded_in_the_history_and_the_audit_log(
    api_as: Any, cart: Touchpoint, active_journey: Journey
) -> None:
    api = api_as(Role.EDITOR)
    created = api.post("/api/v1/experiments/", _body(cart), format="json").json()
    version = Journey.objects.get(pk=active_journey.pk).version
    assert api.delete(f"/api/v1/experiments/{created['id']}/").status_code == 204
    assert not Experiment.objects.exists()
    assert Journey.objects.get(pk=active_journey.pk).version == version
    assert JourneyChange.objects.filter(journey=active_journey).first().action == (  # type: ignore[union-attr]
        "experiment.deleted"
    )
    assert AuditLogEntry.objects.filter(action="experiment.deleted").count() == 1


def test_the_openapi_schema_describes_experiments(api_as: Any) -> None:
    schema = api_as(Role.VIEWER).get("/api/schema/", {"format": "json"}).json()
    assert set(schema["paths"]["/api/v1/experiments/"]) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/experiments/{id}/"]) == {"get", "put", "patch", "delete"}
    names = [p["name"] for p in schema["paths"]["/api/v1/experiments/"]["get"]["parameters"]]
    assert {"store", "journey", "stage"} <= set(names)
    assert "verdict_text" in schema["components"]["schemas"]["Experiment"]["properties"]
