"""POST /api/v1/events/browser/: the snippet's events, with the store's publishable key in the
body, taken only from the store's own pages."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from events import browser
from events.models import Event, EventSource
from tests.conftest import NOW
from tests.events.conftest import item
from tests.factories import ApiKeyFactory

URL = "/api/v1/events/browser/"
ORIGIN = "https://shop.example.com"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
RAW_KEY = "mm_pk_browser1_" + "p" * 32
ANONYMOUS = "9b7e4c1e-59a4-4c3e-9f0e-3d1b2a6c7d80"
pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(store: Any) -> Any:
    store.domain = "shop.example.com"
    store.save(update_fields=["domain"])
    return store


@pytest.fixture
def publishable(shop: Any) -> Any:
    return ApiKeyFactory(store=shop, kind="publishable", prefix="mm_pk_browser1", raw_key=RAW_KEY)


def event(
    event_id: str, name: str = "page_view", at: str = "2026-03-15T11:59:30Z", **extra: Any
) -> dict[str, Any]:
    """An item as the snippet makes it: an anonymous visitor, the browser's clock."""
    extra.setdefault("anonymous_id", ANONYMOUS)
    return item(event_id, name, at=at, **extra)


def post(
    events: Any = None,
    *,
    key: str = RAW_KEY,
    origin: str | None = ORIGIN,
    user_agent: str = CHROME,
    content_type: str = "text/plain;charset=UTF-8",
    body: str | None = None,
    **headers: Any,
) -> Any:
    """A request as the snippet sends it: text/plain JSON, from a page of `origin`."""
    if body is None:
        body = json.dumps({"key": key, "events": events or [event("e-1")]})
    if origin is not None:
        headers["HTTP_ORIGIN"] = origin
    return Client().post(
        URL, body, content_type=content_type, HTTP_USER_AGENT=user_agent, **headers
    )


def error(response: Any) -> dict[str, Any]:
    return response.json()["error"]


def stored(store: Any) -> list[tuple[str, str]]:
    return [
        (e.client_id, e.event_name.name)
        for e in Event.objects.filter(store=store).order_by("occurred_at", "seq")
    ]


def test_events_from_the_stores_own_page_are_stored_for_an_anonymous_visitor(
    publishable: Any, shop: Any, now: datetime
) -> None:
    response = post(
        [
            event("e-1", session_id="s-1", properties={"path": "/", "title": "Home"}),
            event("e-2", "add_to_cart", session_id="s-1", properties={"sku": "A-1"}),
        ]
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": [], "errors": []}
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response["Vary"]
    events = list(Event.objects.filter(store=shop).order_by("client_id"))
    assert [(e.client_id, e.event_name.name) for e in events] == [
        ("browser:e-1", "page_view"),
        ("browser:e-2", "add_to_cart"),
    ]
    assert {e.source for e in events} == {EventSource.BROWSER}
    assert {e.session_id for e in events} == {"s-1"}
    assert {(e.customer.is_anonymous, e.customer.key) for e in events} == {(True, ANONYMOUS)}
    assert events[0].occurred_at == datetime(2026, 3, 15, 11, 59, 30, tzinfo=UTC)
    assert events[1].properties == {"sku": "A-1"}
    publishable.refresh_from_db()
    assert publishable.last_used_at is not None
    # The snippet's retry of the same events stores nothing new.
    assert post([event("e-1"), event("e-2", "add_to_cart")]).json() == {
        "accepted": 0,
        "duplicates": [0, 1],
        "errors": [],
    }


def test_a_page_cannot_claim_the_ids_the_stores_server_sends(
    publishable: Any, shop: Any, key_client: APIClient, now: datetime
) -> None:
    # A publishable key is public: its ids live apart, so the server's "order-7" still goes in.
    assert post([event("order-7", "purchase")]).json()["accepted"] == 1
    batch = key_client.post(
        "/api/v1/events/batch/", {"events": [item("order-7", "purchase")]}, format="json"
    )
    assert batch.json() == {"accepted": 1, "duplicates": [], "errors": []}
    assert sorted(stored(shop)) == [("browser:order-7", "purchase"), ("order-7", "purchase")]


@pytest.mark.parametrize(
    "origin",
    [
        "https://www.shop.example.com",
        "https://m.eu.shop.example.com:8443",
        "https://SHOP.example.com",
    ],
)
def test_a_subdomain_of_the_stores_domain_is_accepted(
    publishable: Any, shop: Any, now: datetime, origin: str
) -> None:
    response = post(origin=origin)
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == origin
    assert stored(shop) == [("browser:e-1", "page_view")]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evilshop.example.com",  # a look-alike, not a subdomain
        "https://shop.example.com.evil.com",
        "https://example.com",  # the parent domain is another site
        "http://shop.example.com",  # plain http
        "https://shop.example.com@evil.com",
        "null",  # a sandboxed frame or a file
        "not a url",
    ],
)
def test_a_page_of_another_site_is_refused(
    publishable: Any, shop: Any, now: datetime, origin: str
) -> None:
    response = post(origin=origin)
    assert response.status_code == 403
    assert error(response)["code"] == "origin_refused"
    assert "https://shop.example.com" in error(response)["message"]
    assert "Access-Control-Allow-Origin" not in response
    assert stored(shop) == []


def test_without_an_origin_the_referer_decides_and_without_either_it_is_refused(
    publishable: Any, shop: Any, now: datetime
) -> None:
    response = post(origin=None, HTTP_REFERER="https://shop.example.com/products/7?ref=mail")
    assert response.status_code == 200, response.content
    assert "Access-Control-Allow-Origin" not in response  # no Origin: not a CORS request
    refused = post([event("e-2")], origin=None, HTTP_REFERER="https://evilshop.example.com/")
    assert refused.status_code == 403
    nothing = post([event("e-3")], origin=None)
    assert nothing.status_code == 403
    assert "an unknown page" in error(nothing)["message"]
    assert stored(shop) == [("browser:e-1", "page_view")]


def test_plain_http_is_taken_only_from_a_localhost_domain_and_only_in_debug(
    publishable: Any, shop: Any, settings: Any, now: datetime
) -> None:
    shop.domain = "shop.localhost"
    shop.save(update_fields=["domain"])
    assert post(origin="http://shop.localhost:8000").status_code == 403
    settings.DEBUG = True
    assert post(origin="http://shop.localhost:8000").status_code == 200
    assert post([event("e-2")], origin="http://evil.localhost:8000").status_code == 403
    shop.domain = "shop.example.com"
    shop.save(update_fields=["domain"])
    assert post([event("e-3")], origin="http://shop.example.com").status_code == 403
    assert stored(shop) == [("browser:e-1", "page_view")]


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/126.0.0.0 Safari/537.36",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "",
    ],
)
def test_a_bots_request_is_answered_and_counted_but_not_stored(
    publishable: Any, shop: Any, now: datetime, user_agent: str
) -> None:
    first = post(user_agent=user_agent)
    second = post([event("e-2")], user_agent=user_agent)
    assert (first.status_code, second.status_code) == (204, 204)
    assert first["Access-Control-Allow-Origin"] == ORIGIN
    assert stored(shop) == []
    assert browser.bots_dropped(store_id=shop.pk)[NOW.date()] == 2


def test_browsers_and_a_cubot_phone_are_not_bots() -> None:
    assert not browser.is_bot(CHROME)
    assert not browser.is_bot(
        "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36"
    )
    assert not browser.is_bot(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )


def test_a_secret_key_is_refused_valid_or_not_and_a_valid_one_is_logged(
    shop: Any, now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    secret_raw = "mm_sk_leaked01_" + "s" * 32
    ApiKeyFactory(store=shop, kind="secret", prefix="mm_sk_leaked01", raw_key=secret_raw)
    with caplog.at_level(logging.WARNING, logger="events.browser"):
        valid = post(key=secret_raw)
    invalid = post(key="mm_sk_leaked01_" + "x" * 32)

    for response in (valid, invalid):
        assert response.status_code == 403
        assert error(response)["code"] == "secret_key_refused"
        assert "must never be in a web page" in error(response)["message"]
    assert error(valid) == error(invalid)  # the answer tells nothing about the key
    assert "Secret key mm_sk_leaked01" in caplog.text
    assert stored(shop) == []


@pytest.mark.parametrize(
    "key", ["mm_pk_unknown1_" + "p" * 32, RAW_KEY[:-1] + "q", "mm_pk\x00x", "x" * 300]
)
def test_an_unknown_publishable_key_is_401(publishable: Any, now: datetime, key: str) -> None:
    response = post(key=key)
    assert response.status_code == 401
    assert error(response)["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == 'PublishableKey realm="events"'
    assert "Access-Control-Allow-Origin" not in response


def test_a_revoked_publishable_key_is_401(publishable: Any, shop: Any, now: datetime) -> None:
    publishable.revoked_at = NOW
    publishable.save(update_fields=["revoked_at"])
    assert post().status_code == 401
    assert stored(shop) == []


def test_a_browser_sends_anonymous_visitors_only(
    publishable: Any, shop: Any, now: datetime
) -> None:
    answer = post(
        [
            event("e-1"),
            item("e-2", "purchase", at="2026-03-15T11:00:00Z", customer_key="17850"),
            {"id": "e-3", "name": "page_view", "occurred_at": "2026-03-15T11:00:00Z"},
            event("e-4", at="2026-03-16T12:00:01Z"),  # over a day ahead by the browser's clock
            event("x" * 57),  # with "browser:" over the 64 characters of an id
            event("e-6", customer_key="17850"),
        ]
    ).json()
    assert answer["accepted"] == 1
    messages = {e["index"]: e["message"] for e in answer["errors"]}
    assert sorted(messages) == [1, 2, 3, 4, 5]
    assert "customer_key is not taken from a browser" in messages[1]
    assert "anonymous_id is required" in messages[2]
    assert "more than a day in the future" in messages[3]
    assert "at most 56 characters" in messages[4]
    assert "customer_key is not taken from a browser" in messages[5]
    assert stored(shop) == [("browser:e-1", "page_view")]


def test_events_older_than_the_stores_retention_are_refused_per_item(
    publishable: Any, shop: Any, now: datetime
) -> None:
    answer = post([event("old", at="2023-12-31T23:59:59Z"), event("new")]).json()
    assert answer["accepted"] == 1
    assert [e["index"] for e in answer["errors"]] == [0]
    assert "retention" in answer["errors"][0]["message"]


def test_events_per_minute_are_limited_per_address_and_per_key(
    publishable: Any, shop: Any, settings: Any, now: datetime
) -> None:
    settings.EVENTS_PER_MINUTE_PER_IP = 3
    settings.EVENTS_PER_MINUTE_PER_KEY = 5
    here = {"REMOTE_ADDR": "198.51.100.7"}
    assert post([event("a1"), event("a2")], **here).status_code == 200
    over = post([event("a3"), event("a4")], **here)
    assert over.status_code == 429
    assert over["Retry-After"] == "60"
    assert error(over)["code"] == "throttled"
    assert over["Access-Control-Allow-Origin"] == ORIGIN  # the snippet may read it and retry
    # Another address has its own count, until the key's five events a minute are used up.
    there = {"REMOTE_ADDR": "203.0.113.9"}
    assert post([event("b1"), event("b2"), event("b3")], **there).status_code == 200
    assert post([event("b4")], **there).status_code == 429
    assert len(stored(shop)) == 5


@pytest.mark.parametrize("content_type", ["text/plain", "application/json; charset=utf-8"])
def test_text_plain_and_json_bodies_are_read(
    publishable: Any, shop: Any, now: datetime, content_type: str
) -> None:
    assert post(content_type=content_type).status_code == 200
    assert stored(shop) == [("browser:e-1", "page_view")]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        ("key=x", "application/x-www-form-urlencoded", 415, None),
        ("{not json", "text/plain", 400, None),
        ('["a"]', "text/plain", 400, "non_field_errors"),
        (json.dumps({"events": [event("e-1")]}), "text/plain", 400, "key"),
        (json.dumps({"key": RAW_KEY, "events": []}), "text/plain", 400, "events"),
        (json.dumps({"key": RAW_KEY, "events": [event("e")] * 101}), "text/plain", 400, "events"),
        (json.dumps({"key": RAW_KEY, "events": [event("e")], "x": 1}), "text/plain", 400, "x"),
        (
            json.dumps({"key": RAW_KEY, "events": [event("e", p="x" * 70_000)]}),
            "text/plain",
            413,
            None,
        ),
    ],
)
def test_a_malformed_request_is_refused_whole(
    publishable: Any,
    shop: Any,
    now: datetime,
    body: str,
    content_type: str,
    status: int,
    field: str | None,
) -> None:
    response = post(body=body, content_type=content_type)
    assert response.status_code == status, response.content
    if field is not None:
        assert field in error(response)["details"]
    assert stored(shop) == []


def test_a_preflight_is_answered_for_fetch_with_json(publishable: Any) -> None:
    response = Client().options(
        URL,
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Methods"] == "POST"
    assert response["Access-Control-Allow-Headers"] == "Content-Type"


def test_the_endpoint_needs_no_authorization_header_and_ignores_a_session(
    publishable: Any, shop: Any, api_as: Any, now: datetime
) -> None:
    # A signed-in MomentMap user's session is no credential here: the body's key is.
    api = api_as("owner")
    response = api.post(
        URL,
        json.dumps({"events": [event("e-1")]}),
        content_type="text/plain",
        HTTP_ORIGIN=ORIGIN,
        HTTP_USER_AGENT=CHROME,
    )
    assert response.status_code == 400
    assert "key" in error(response)["details"]
