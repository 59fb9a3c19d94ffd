"""The OpenAPI schema says what the API answers: nullable fields, lists, and the error responses
(core/schema.py) in the error shape."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Role
from accounts.services import SYSTEM
from journeys import services

pytestmark = pytest.mark.django_db

ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def error_schema(operation: dict[str, Any], status: int) -> Any:
    response = operation["responses"].get(str(status))
    return response and response["content"]["application/json"]["schema"]


def test_the_error_shape_is_a_component(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["error"]
    detail = components["ErrorDetail"]
    assert set(detail["required"]) == {"status", "code", "message", "details"}
    assert detail["properties"]["details"]["type"] == "object"


# Outside /api/: signed by the sender, so no role to refuse and no content type to refuse (a
# body that is not JSON is a 400).
WEBHOOK = "/hooks/shopify/{webhook_id}/"


def test_every_operation_documents_auth_role_and_throttle_errors(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        for status in (401, 403, 429):
            if path == WEBHOOK and status == 403:
                continue
            assert error_schema(operation, status) == ERROR, (method, path, status)


def test_the_shopify_webhook_is_documented_with_its_signature_headers(
    schema: dict[str, Any],
) -> None:
    webhook = schema["paths"][WEBHOOK]["post"]
    assert webhook["security"] == []
    headers = {p["name"] for p in webhook["parameters"] if p["in"] == "header"}
    assert headers == {"X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Webhook-Id"}
    assert set(webhook["responses"]) == {"200", "400", "401", "404", "413", "429"}


def test_only_the_browser_events_endpoint_and_the_webhook_are_public(
    schema: dict[str, Any],
) -> None:
    public = {
        f"{method} {path}"
        for method, path, operation in operations(schema)
        if not operation.get("security")
    }
    assert public == {"POST /api/v1/events/browser/", f"POST {WEBHOOK}"}
    browser = schema["paths"]["/api/v1/events/browser/"]["post"]
    # Its 401 and 403 are its own, not the rule's "not_authenticated" and role refusals.
    assert "publishable key" in browser["responses"]["401"]["description"]
    assert "origin_refused" in browser["responses"]["403"]["description"]
    assert "secret_key_refused" in browser["responses"]["403"]["description"]
    assert "204" in browser["responses"]  # a bot's request, dropped
    assert set(browser["requestBody"]["content"]) == {"text/plain", "application/json"}
    item = schema["components"]["schemas"]["BrowserItemRequest"]
    assert "customer_key" not in item["properties"]
    assert "anonymous_id" in item["required"]


def test_operations_that_name_an_object_or_a_page_document_404(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        queries = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if "{" in path or "page" in queries:
            assert error_schema(operation, 404) == ERROR, (method, path)
    assert "404" not in schema["paths"]["/api/v1/organisation/"]["get"]["responses"]
    assert "404" not in schema["paths"]["/api/v1/journeys/templates/"]["get"]["responses"]
    moments = schema["paths"]["/api/v1/results/moments/"]["get"]
    assert error_schema(moments, 404) == ERROR  # an unknown ?store=


def test_writes_document_400_and_413_and_reads_400_only_with_query_parameters(
    schema: dict[str, Any],
) -> None:
    for method, path, operation in operations(schema):
        queries = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        if method == "GET":
            assert ("400" in operation["responses"]) == bool(queries), (method, path)
            assert "413" not in operation["responses"], (method, path)
        else:
            assert error_schema(operation, 400) == ERROR, (method, path)
            assert error_schema(operation, 413) == ERROR, (method, path)


def test_only_versioned_journey_writes_and_identify_document_409(schema: dict[str, Any]) -> None:
    with_409 = {
        f"{method} {path}"
        for method, path, operation in operations(schema)
        if "409" in operation["responses"]
    }
    assert with_409 == {
        "PUT /api/v1/journeys/{id}/",
        "PATCH /api/v1/journeys/{id}/",
        "DELETE /api/v1/journeys/{id}/",
        "POST /api/v1/journeys/{id}/activate/",
        "POST /api/v1/journeys/{id}/status/",
        "POST /api/v1/journeys/{id}/stages/reorder/",
        "POST /api/v1/stages/",
        "PUT /api/v1/stages/{id}/",
        "PATCH /api/v1/stages/{id}/",
        "DELETE /api/v1/stages/{id}/",
        "POST /api/v1/touchpoints/",
        "PUT /api/v1/touchpoints/{id}/",
        "PATCH /api/v1/touchpoints/{id}/",
        "DELETE /api/v1/touchpoints/{id}/",
        "POST /api/v1/touchpoints/{id}/move/",
        "POST /api/v1/events/identify/",  # identify_conflict
        "GET /api/v1/stores/{store_id}/funnel/",  # no_active_journey
        "GET /api/v1/stores/{store_id}/funnel/customers/",  # no_active_journey
    }


def test_journey_filters_are_parameters_of_the_list_only(schema: dict[str, Any]) -> None:
    def queries(path: str, method: str) -> set[str]:
        parameters = schema["paths"][path][method].get("parameters", [])
        return {p["name"] for p in parameters if p["in"] == "query"}

    assert {"store", "status", "search"} <= queries("/api/v1/journeys/", "get")
    assert queries("/api/v1/journeys/{id}/", "get") == set()
    assert queries("/api/v1/journeys/{id}/export/", "get") == set()
    assert queries("/api/v1/journeys/templates/", "get") == set()


def test_share_link_documents_201_for_post_and_204_for_delete(schema: dict[str, Any]) -> None:
    share_link = schema["paths"]["/api/v1/journeys/{id}/share-link/"]
    assert "201" in share_link["post"]["responses"]
    assert "204" not in share_link["post"]["responses"]
    assert "204" in share_link["delete"]["responses"]
    assert "201" not in share_link["delete"]["responses"]


def test_journey_templates_are_documented_and_answered_as_a_plain_list(
    schema: dict[str, Any], api_as: Any
) -> None:
    documented = schema["paths"]["/api/v1/journeys/templates/"]["get"]["responses"]["200"]
    assert documented["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Template"},
    }
    body = api_as(Role.VIEWER).get("/api/v1/journeys/templates/").json()
    assert isinstance(body, list)
    assert {t["key"] for t in body} == {"five-moments", "ecommerce-delivery"}


def test_a_journey_without_a_store_lists_a_null_store_name_as_documented(
    schema: dict[str, Any], api_as: Any, organisation: Any
) -> None:
    store_name = schema["components"]["schemas"]["JourneyList"]["properties"]["store_name"]
    assert store_name["nullable"] is True
    services.journey_create(organisation=organisation, actor=SYSTEM, name="No store yet")
    body = api_as(Role.VIEWER).get("/api/v1/journeys/").json()
    assert [j["store_name"] for j in body["results"]] == [None]


def test_a_touchpoint_without_an_owner_has_a_null_owner_email_as_documented(
    schema: dict[str, Any], api_as: Any, organisation: Any
) -> None:
    owner_email = schema["components"]["schemas"]["Touchpoint"]["properties"]["owner_email"]
    assert owner_email["nullable"] is True
    journey = services.journey_create(organisation=organisation, actor=SYSTEM, name="Map")
    stage = services.stage_create(journey=journey, actor=SYSTEM, version=1, name="Delivery")
    touchpoint = services.touchpoint_create(
        stage=stage, actor=SYSTEM, version=2, name="Courier call", owner=None
    )
    body = api_as(Role.VIEWER).get(f"/api/v1/touchpoints/{touchpoint.pk}/").json()
    assert body["owner_email"] is None


def test_operations_with_a_request_body_document_415(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        if path == WEBHOOK:
            continue
        if "requestBody" in operation:
            assert error_schema(operation, 415) == ERROR, (method, path)
        else:
            assert "415" not in operation["responses"], (method, path)


def test_a_body_in_an_undocumented_content_type_is_a_415_in_the_error_shape(
    api_as: Any, schema: dict[str, Any]
) -> None:
    documented = schema["paths"]["/api/v1/personas/"]["post"]["requestBody"]["content"]
    assert "text/plain" not in documented
    response = api_as(Role.EDITOR).post("/api/v1/personas/", "Anna", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
