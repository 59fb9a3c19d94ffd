from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Role
from journeys import transfer
from journeys.models import Journey, Stage, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_as: Any) -> Any:
    return api_as(Role.EDITOR)


def test_create_from_template_over_the_api(api: Any, store: Any) -> None:
    response = api.post(
        "/api/v1/journeys/",
        {"template": "five-moments", "store": store.pk, "name": "Our journey"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Our journey"
    assert body["store"] == store.pk
    assert body["version"] == 1
    assert [s["moment"] for s in body["stages"]] == ["LZMOT", "ZMOT", "FMOT", "SMOT", "UMOT"]
    assert body["stages"][2]["touchpoints"][1] == {
        "id": body["stages"][2]["touchpoints"][1]["id"],
        "stage": body["stages"][2]["id"],
        "position": 1,
        "name": "First product-page visit",
        "channel": "web",
        "is_moment_of_truth": True,
        "emotion": 1,
        "pain_points": "Missing sizes, prices or delivery times.",
        "opportunities": "Clear photos, price with delivery, stock and delivery date.",
        "owner": None,
        "owner_email": None,
        "event_names": ["product_view"],
    }


def test_templates_are_listed(api: Any) -> None:
    body = api.get("/api/v1/journeys/templates/").json()
    assert [t["key"] for t in body] == ["five-moments", "ecommerce-delivery"]


def test_stale_version_is_a_409_with_both_versions(api: Any, template_journey: Journey) -> None:
    stage = template_journey.stages.get(moment="FMOT")
    first = api.patch(f"/api/v1/stages/{stage.pk}/", {"name": "Look", "version": 1}, format="json")
    assert first.status_code == 200
    assert first.json()["journey_version"] == 2
    stale = api.patch(f"/api/v1/stages/{stage.pk}/", {"name": "Peek", "version": 1}, format="json")
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "version_conflict"
    assert error["details"] == {"current_version": 2, "your_version": 1}
    assert "Your change was not saved" in error["message"]
    assert Stage.objects.get(pk=stage.pk).name == "Look"


def test_if_match_header_carries_the_version(api: Any, template_journey: Journey) -> None:
    touchpoint = Touchpoint.objects.filter(stage__journey=template_journey).first()
    missing = api.delete(f"/api/v1/touchpoints/{touchpoint.pk}/")
    assert missing.status_code == 409
    deleted = api.delete(f"/api/v1/touchpoints/{touchpoint.pk}/", HTTP_IF_MATCH='"1"')
    assert deleted.status_code == 200
    assert deleted.json() == {"journey_version": 2}
    assert not Touchpoint.objects.filter(pk=touchpoint.pk).exists()


def test_touchpoint_create_move_and_reorder(api: Any, template_journey: Journey) -> None:
    fmot = template_journey.stages.get(moment="FMOT")
    smot = template_journey.stages.get(moment="SMOT")
    created = api.post(
        "/api/v1/touchpoints/",
        {
            "stage": fmot.pk,
            "name": "Size guide",
            "channel": "web",
            "emotion": -1,
            "event_names": ["size_guide_view"],
            "version": 1,
            "position": 0,
        },
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["position"], body["journey_version"]) == (0, 2)
    moved = api.post(
        f"/api/v1/touchpoints/{body['id']}/move/",
        {"stage": smot.pk, "position": 1, "version": 2},
        format="json",
    )
    assert moved.status_code == 200
    assert (moved.json()["stage"], moved.json()["position"]) == (smot.pk, 1)
    ids = list(template_journey.stages.values_list("id", flat=True))
    reordered = api.post(
        f"/api/v1/journeys/{template_journey.pk}/stages/reorder/",
        {"order": ids[::-1], "version": 3},
        format="json",
    )
    assert reordered.status_code == 400
    assert "must follow their order" in reordered.json()["error"]["details"]["moment"][0]


def test_event_name_clash_is_a_400_naming_the_stage(api: Any, template_journey: Journey) -> None:
    smot = template_journey.stages.get(moment="SMOT")
    response = api.post(
        "/api/v1/touchpoints/",
        {
            "stage": smot.pk,
            "name": "Quick view",
            "channel": "web",
            "event_names": ["product_view"],
            "version": 1,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["event_names"] == [
        "The event “product_view” already signals the stage “First impression” (touchpoint "
        "“First product-page visit”). An event name can signal only one stage of a journey."
    ]


def test_activation_asks_before_replacing_the_active_journey(
    api: Any, template_journey: Journey, organisation: Any, store: Any
) -> None:
    api.post(f"/api/v1/journeys/{template_journey.pk}/activate/", {"version": 1}, format="json")
    second = api.post(
        "/api/v1/journeys/", {"template": "five-moments", "store": store.pk}, format="json"
    ).json()
    refused = api.post(f"/api/v1/journeys/{second['id']}/activate/", {"version": 1}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "active_journey_exists"
    assert refused.json()["error"]["details"] == {
        "active_journey": {"id": template_journey.pk, "name": "E-commerce journey with delivery"}
    }
    replaced = api.post(
        f"/api/v1/journeys/{second['id']}/activate/",
        {"version": 1, "replace_active": "archived"},
        format="json",
    )
    assert replaced.json()["status"] == "active"
    assert Journey.objects.get(pk=template_journey.pk).status == "archived"


def test_viewer_reads_but_cannot_write(api_as: Any, template_journey: Journey) -> None:
    viewer = api_as(Role.VIEWER)
    assert viewer.get(f"/api/v1/journeys/{template_journey.pk}/").status_code == 200
    stage = template_journey.stages.first()
    for response in (
        viewer.patch(f"/api/v1/stages/{stage.pk}/", {"name": "x", "version": 1}, format="json"),
        viewer.post("/api/v1/journeys/", {"name": "x"}, format="json"),
        viewer.delete(f"/api/v1/journeys/{template_journey.pk}/", HTTP_IF_MATCH="1"),
    ):
        assert response.status_code == 403
    assert Stage.objects.get(pk=stage.pk).name == stage.name


@pytest.mark.parametrize("copies", [1, 4])
def test_map_read_costs_the_same_queries_whatever_its_size(
    api: Any,
    organisation: Any,
    template_journey: Journey,
    copies: int,
    django_assert_num_queries: Any,
) -> None:
    from accounts.services import SYSTEM

    journey = template_journey
    for _ in range(copies - 1):  # a bigger map: the stages of several templates in one journey
        data = transfer.journey_export(journey=journey)
        data["journey"]["stages"] += [
            {**s, "moment": "", "touchpoints": [{**t, "event_names": []} for t in s["touchpoints"]]}
            for s in transfer.journey_export(journey=template_journey)["journey"]["stages"]
        ]
        journey = transfer.journey_import(organisation=organisation, actor=SYSTEM, data=data)
    api.get(f"/api/v1/journeys/{journey.pk}/")
    # session, user, membership; journey, stages, touchpoints, personas
    with django_assert_num_queries(7):
        response = api.get(f"/api/v1/journeys/{journey.pk}/")
    assert len(response.json()["stages"]) == 5 * copies


def test_journey_list_filters_and_counts(api: Any, template_journey: Journey, store: Any) -> None:
    api.post("/api/v1/journeys/", {"name": "Empty draft"}, format="json")
    body = api.get(f"/api/v1/journeys/?store={store.pk}&search=commerce").json()
    assert [
        (j["name"], j["stage_count"], j["touchpoint_count"], j["moment_of_truth_count"])
        for j in body["results"]
    ] == [("E-commerce journey with delivery", 5, 17, 5)]
    assert api.get("/api/v1/journeys/?status=active").json()["count"] == 0


def test_export_and_import_round_trip_over_the_api(api: Any, template_journey: Journey) -> None:
    exported = api.get(f"/api/v1/journeys/{template_journey.pk}/export/").json()
    imported = api.post("/api/v1/journeys/import/", exported, format="json")
    assert imported.status_code == 201
    again = api.get(f"/api/v1/journeys/{imported.json()['id']}/export/").json()
    assert again == exported
    bad = api.post("/api/v1/journeys/import/", {"format": "nope"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["non_field_errors"] == [
        "This is not a MomentMap journey export (format “momentmap.journey” expected)."
    ]


def test_history_lists_changes_newest_first(api: Any, template_journey: Journey) -> None:
    stage = template_journey.stages.get(moment="TMOT")
    api.patch(
        f"/api/v1/stages/{stage.pk}/",
        {"customer_goal": "Parcel on time", "version": 1},
        format="json",
    )
    history = api.get(f"/api/v1/journeys/{template_journey.pk}/history/").json()["results"]
    assert [(h["version"], h["summary"]) for h in history] == [
        (2, "Changed the stage “Delivery”: customer goal"),
        (
            1,
            "Created from the template “E-commerce with delivery (ZMOT → UMOT with TMOT)” "
            "with 5 stages and 17 touchpoints",
        ),
    ]
