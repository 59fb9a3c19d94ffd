"""Bad input is a 400 (or 404) in the API's error shape, never a server error: the limits in
core.api (JSON depth, list length, NUL characters, ids and filters in the query string,
page sizes), date ranges and text lengths. Each case here was a 500 or was silently ignored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role, Store
from accounts.services import SYSTEM
from core.api import MAX_JSON_DEPTH, MAX_LIST_ITEMS, json_problem
from journeys import services as journey_services
from journeys import transfer as journey_transfer
from journeys.models import Journey, Persona
from surveys import services as survey_services

pytestmark = pytest.mark.django_db


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["status"] == status
    return body


@pytest.fixture
def editor_api(api_as: Any) -> APIClient:
    return api_as(Role.EDITOR)


@pytest.fixture
def journey(store: Store) -> Journey:
    return journey_services.journey_create_from_template(
        organisation=store.organisation, actor=SYSTEM, template="five-moments", store=store
    )


# --- Ids in the URL


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/journeys/abc/export/",
        "/api/v1/journeys/abc/history/",
        "/api/v1/journeys/abc/",
        "/api/v1/journeys/-1/",
        "/api/v1/journeys/1.5/",
        "/api/v1/journeys/１/",  # a full-width digit
        "/api/v1/stages/abc/",
        "/api/v1/surveys/abc/results/",
        "/api/v1/contacts/abc/",
    ],
)
def test_an_id_that_is_no_whole_number_is_not_found(editor_api: APIClient, path: str) -> None:
    assert _error(editor_api.get(path), 404) == {
        "status": 404,
        "code": "not_found",
        "message": "Not found.",
        "details": {},
    }


def test_an_id_beyond_bigint_is_not_found(editor_api: APIClient, journey: Journey) -> None:
    _error(editor_api.get(f"/api/v1/journeys/{'9' * 18}/export/"), 404)
    _error(editor_api.get(f"/api/v1/journeys/{'9' * 30}/export/"), 404)
    assert editor_api.get(f"/api/v1/journeys/{journey.pk}/export/").status_code == 200


# --- The query string


@pytest.mark.parametrize("path", ["/api/v1/journeys/", "/api/v1/contacts/"])
def test_a_nul_character_in_search_is_a_400(editor_api: APIClient, path: str) -> None:
    body = _error(editor_api.get(path, {"search": "a\x00b"}), 400)
    assert body["details"] == {"search": ["Must not contain a NUL character."]}
    assert editor_api.get(path, {"search": "ab"}).status_code == 200


def test_an_overlong_search_is_a_400(editor_api: APIClient) -> None:
    body = _error(editor_api.get("/api/v1/journeys/", {"search": "x" * 201}), 400)
    assert body["details"] == {"search": ["Must be at most 200 characters."]}


@pytest.mark.parametrize(
    ("path", "params", "details"),
    [
        ("/api/v1/journeys/", {"store": "abc"}, {"store": ["Must be an id (a whole number)."]}),
        ("/api/v1/surveys/", {"store": "-3"}, {"store": ["Must be an id (a whole number)."]}),
        ("/api/v1/contacts/", {"store": "1e3"}, {"store": ["Must be an id (a whole number)."]}),
        (
            "/api/v1/journeys/",
            {"status": "deleted"},
            {"status": ["Must be one of: draft, active, archived."]},
        ),
        (
            "/api/v1/surveys/",
            {"status": "x"},
            {"status": ["Must be one of: draft, active, paused, closed."]},
        ),
        (
            "/api/v1/results/moments/",
            {"store": "abc"},
            {"store": ["Must be an id (a whole number)."]},
        ),
    ],
)
def test_a_filter_that_means_nothing_is_a_400(
    editor_api: APIClient, path: str, params: dict[str, str], details: dict[str, Any]
) -> None:
    assert _error(editor_api.get(path, params), 400)["details"] == details


def test_filters_that_mean_something_still_filter(
    editor_api: APIClient, store: Store, journey: Journey
) -> None:
    listing = editor_api.get("/api/v1/journeys/", {"store": str(store.pk), "status": "draft"})
    assert [j["id"] for j in listing.json()["results"]] == [journey.pk]
    empty = editor_api.get("/api/v1/journeys/", {"store": str(store.pk + 1000)})
    assert empty.json()["results"] == []


@pytest.mark.parametrize("size", ["-1", "0", "abc", "201", "1.5", " "])
def test_an_invalid_page_size_is_a_400(editor_api: APIClient, size: str) -> None:
    body = _error(editor_api.get("/api/v1/journeys/", {"page_size": size}), 400)
    assert body["details"] == {"page_size": ["Must be a whole number from 1 to 200."]}


def test_a_valid_page_size_pages(editor_api: APIClient, organisation: Any) -> None:
    for i in range(3):
        journey_services.journey_create(organisation=organisation, actor=SYSTEM, name=f"J{i}")
    page = editor_api.get("/api/v1/journeys/", {"page_size": "2"}).json()
    assert (page["count"], len(page["results"])) == (3, 2)
    assert editor_api.get("/api/v1/journeys/", {"page_size": "200"}).status_code == 200


# --- Periods


@pytest.fixture
def survey(store: Store) -> Any:
    return survey_services.survey_create_from_template(
        organisation=store.organisation, store=store, actor=SYSTEM, template="nps"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "0001-01-01", "end": "9999-12-31"}, "start"),
        ({"end": "9999-12-31"}, "end"),
        ({"start": "0001-01-01T00:00:00-05:00"}, "start"),
        ({"end": "9999-12-31T23:59:59+00:00"}, "end"),
    ],
)
def test_a_period_beyond_the_calendar_is_a_400(
    editor_api: APIClient, survey: Any, params: dict[str, str], field: str
) -> None:
    body = _error(editor_api.get(f"/api/v1/surveys/{survey.pk}/results/", params), 400)
    assert body["details"][field] == ["Choose a day from 1970-01-01 to 2999-12-31."]
    ok = editor_api.get(f"/api/v1/surveys/{survey.pk}/results/", {"end": "2999-12-31"})
    assert ok.status_code == 200


def test_the_results_page_says_the_period_is_out_of_range(client_as: Any, survey: Any) -> None:
    client: Client = client_as(Role.VIEWER)
    page = client.get(
        f"/surveys/{survey.pk}/results/", {"start": "0001-01-01", "end": "9999-12-31"}
    )
    assert page.status_code == 200
    assert "Choose a day from 1970-01-01 to 2999-12-31." in page.content.decode()


# --- JSON bodies


def test_deeply_nested_json_is_a_400(editor_api: APIClient) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = editor_api.post("/api/v1/journeys/import/", deep, content_type="application/json")
    body = _error(response, 400)
    assert body["code"] == "parse_error"
    assert body["message"] == f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep."


def test_json_one_level_too_deep_is_a_400_that_says_where(editor_api: APIClient) -> None:
    doc: Any = "leaf"
    for _ in range(MAX_JSON_DEPTH + 1):
        doc = {"a": doc}
    response = editor_api.post("/api/v1/journeys/import/", doc, format="json")
    assert _error(response, 400)["message"] == (
        f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep (at {'.'.join(['a'] * 32)})."
    )
    assert json_problem(doc["a"]) is None  # one level less is taken


def test_a_nul_character_in_a_json_key_is_a_400(editor_api: APIClient, survey: Any) -> None:
    response = editor_api.patch(
        f"/api/v1/surveys/{survey.pk}/", {"email_intro": {"e\x00n": "x"}}, format="json"
    )
    body = _error(response, 400)
    assert body["message"] == "A key in email_intro contains a NUL character (\\u0000)."
    survey.refresh_from_db()
    assert "e\x00n" not in survey.email_intro


def test_a_nul_character_in_json_text_is_a_400(editor_api: APIClient, survey: Any) -> None:
    response = editor_api.patch(
        f"/api/v1/surveys/{survey.pk}/", {"email_intro": {"en": "x\x00y"}}, format="json"
    )
    assert _error(response, 400)["message"] == (
        "email_intro.en contains a NUL character (\\u0000), which text may not."
    )


def test_a_list_longer_than_the_limit_is_a_400(editor_api: APIClient, survey: Any) -> None:
    survey_services.survey_set_status(survey=survey, actor=SYSTEM, status="active")
    ids = list(range(1, 200_001))
    response = editor_api.post(
        f"/api/v1/surveys/{survey.pk}/send/", {"contact_ids": ids}, format="json"
    )
    assert _error(response, 400)["message"] == (
        f"contact_ids has 200,000 items; at most {MAX_LIST_ITEMS:,} are taken in one request."
    )
    at_limit = editor_api.post(
        f"/api/v1/surveys/{survey.pk}/send/",
        {"contact_ids": list(range(1, MAX_LIST_ITEMS + 1))},
        format="json",
    )
    # The list is taken: what is refused now is that these contacts do not exist.
    assert _error(at_limit, 400)["message"] == "The request has invalid fields."


def test_a_contact_id_beyond_bigint_is_a_400(editor_api: APIClient, survey: Any) -> None:
    survey_services.survey_set_status(survey=survey, actor=SYSTEM, status="active")
    response = editor_api.post(
        f"/api/v1/surveys/{survey.pk}/send/", {"contact_ids": [10**30]}, format="json"
    )
    assert set(_error(response, 400)["details"]) == {"contact_ids"}


def test_the_api_takes_json_only(editor_api: APIClient) -> None:
    response = editor_api.post(
        "/api/v1/personas/", "name=Form", content_type="application/x-www-form-urlencoded"
    )
    assert _error(response, 415)["code"] == "unsupported_media_type"


# --- Text lengths


def test_text_longer_than_its_limit_is_a_400(editor_api: APIClient, organisation: Any) -> None:
    response = editor_api.post(
        "/api/v1/personas/", {"name": "Big", "description": "x" * 2_000_000}, format="json"
    )
    assert _error(response, 400)["details"] == {
        "description": ["Ensure this field has no more than 5000 characters."]
    }
    assert not Persona.objects.filter(organisation=organisation).exists()
    at_limit = editor_api.post(
        "/api/v1/personas/", {"name": "Big", "description": "x" * 5000}, format="json"
    )
    assert at_limit.status_code == 201


def test_import_refuses_text_longer_than_its_limit(editor_api: APIClient, journey: Journey) -> None:
    doc = journey_transfer.journey_export(journey=journey)
    doc["journey"]["stages"][0]["description"] = "x" * 5001
    response = editor_api.post("/api/v1/journeys/import/", doc, format="json")
    assert _error(response, 400)["details"] == {
        "non_field_errors": ["journey.stages[0].description is longer than 5000 characters."]
    }


def test_text_limits_are_in_the_schema(editor_api: APIClient) -> None:
    schema = editor_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    components = json.loads(schema.content)["components"]["schemas"]
    assert components["PersonaRequest"]["properties"]["description"]["maxLength"] == 5000
    assert components["SendRequest"]["properties"]["contact_ids"]["maxItems"] == MAX_LIST_ITEMS
