from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import ApiKeyFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_unauthenticated_request_gets_401_in_the_error_shape() -> None:
    response = APIClient().get("/api/v1/stores/")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "status": 401,
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "details": {},
        }
    }


def test_validation_errors_list_fields(api_as: Any) -> None:
    response = api_as(Role.ADMIN).post(
        "/api/v1/stores/",
        {"name": "", "domain": "https://nope", "currency": "euro", "time_zone": "Mars/Base"},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == "The request has invalid fields."
    assert set(error["details"]) == {"name", "domain", "currency", "time_zone"}


def test_service_validation_reaches_the_client(api_as: Any, organisation: Any) -> None:
    StoreFactory(organisation=organisation, name="Baltic Goods LT")
    response = api_as(Role.ADMIN).post(
        "/api/v1/stores/",
        {
            "name": "Baltic Goods LT",
            "domain": "lt.example.com",
            "currency": "eur",
            "time_zone": "Europe/Vilnius",
            "default_language": "lt",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "name": ["Another store in this organisation has this name."]
    }


def test_store_create_normalises_and_audits(api_as: Any) -> None:
    response = api_as(Role.ADMIN).post(
        "/api/v1/stores/",
        {
            "name": "Baltic Goods RO",
            "domain": "RO.Example.com",
            "currency": "RON",
            "time_zone": "Europe/Bucharest",
            "default_language": "ro",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["domain"] == "ro.example.com"
    assert body["time_zone"] == "Europe/Bucharest"


def test_unknown_api_url_is_a_json_404(client: Any) -> None:
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_lists_are_paginated(api_as: Any, organisation: Any) -> None:
    for n in range(3):
        StoreFactory(organisation=organisation, name=f"Store {n}")
    body = api_as(Role.VIEWER).get("/api/v1/stores/?page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"].endswith("/api/v1/stores/?page=2&page_size=2")


@pytest.mark.parametrize("stores", [1, 30])
def test_store_list_query_count_does_not_grow(
    api_as: Any, organisation: Any, django_assert_num_queries: Any, stores: int
) -> None:
    api = api_as(Role.VIEWER)
    for n in range(stores):
        StoreFactory(organisation=organisation, name=f"Store {n}")
    api.get("/api/v1/stores/")  # the first request stores the current organisation
    # session, user, membership, count, page (no per-request store lookup for the API)
    with django_assert_num_queries(5):
        assert api.get("/api/v1/stores/").status_code == 200


def test_openapi_schema_lists_the_api(client: Any) -> None:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/stores/",
        "/api/v1/stores/{id}/",
        "/api/v1/api-keys/",
        "/api/v1/members/{id}/",
        "/api/v1/invitations/",
        "/api/v1/audit-log/",
        "/api/v1/organisation/",
    ):
        assert path in schema["paths"], path
    assert all(path.endswith("/") for path in schema["paths"])


def test_swagger_ui_loads_nothing_from_another_host(client: Any) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    external = re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+""", html)
    assert external == []


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/journeys/import/", "application/json"),
        ("/api/v1/stores/", "application/json"),
        ("/api/v1/contacts/", "application/json"),
    ],
)
def test_a_body_over_the_limit_is_a_413_in_the_error_shape(
    api_as: Any, settings: Any, path: str, content_type: str
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"name": "' + "x" * 1000 + '"}'
    if content_type != "application/json":
        body = "name=" + "x" * 1000
    response = api_as(Role.ADMIN).post(path, body, content_type=content_type)
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "status": 413,
            "code": "request_too_large",
            "message": "The request body is larger than the server accepts.",
            "details": {"max_bytes": 1000},
        }
    }


def test_a_body_over_the_limit_with_a_secret_key_is_a_413(organisation: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    store = StoreFactory(organisation=organisation)
    ApiKeyFactory(store=store, raw_key="mm_sk_big00001_secret", prefix="mm_sk_big00001")
    response = APIClient().post(
        "/api/v1/surveys/triggers/",
        '{"event": "' + "x" * 1000 + '"}',
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer mm_sk_big00001_secret",
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_too_many_query_fields_is_a_400_in_the_error_shape(api_as: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"f{n}=x" for n in range(11))
    response = api_as(Role.ADMIN).get(f"/api/v1/contacts/?{query}")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "status": 400,
            "code": "bad_request",
            "message": "The request could not be read.",
            "details": {},
        }
    }


def test_a_form_body_is_a_415_the_api_reads_json_only(api_as: Any) -> None:
    response = api_as(Role.ADMIN).post(
        "/api/v1/contacts/", "email=a@example.com", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_pages_keep_djangos_answer_to_a_body_over_the_limit(client: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        "/accounts/login/", "email=" + "x" * 1000, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"<h1>Bad Request (400)</h1>" in response.content
