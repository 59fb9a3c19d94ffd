"""A request id on every response, in every log line of the request, and in the API's 500."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from accounts.models import Role
from core.request_id import RequestIdFilter

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the log handler configured in settings.LOGGING writes, formatted as in production."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler)
        and any(isinstance(f, RequestIdFilter) for f in handler.filters)
    ]
    assert len(handlers) == 1, "settings.LOGGING installs RequestIdFilter on the console handler"
    stream = io.StringIO()
    previous = handlers[0].setStream(stream)
    yield stream
    handlers[0].setStream(previous)


def test_every_response_has_a_generated_request_id(client: Any) -> None:
    first = client.get("/healthz")
    second = client.get("/api/v1/no-such-thing/")
    assert GENERATED.fullmatch(first["X-Request-ID"])
    assert GENERATED.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_sane_incoming_request_id_is_kept(client: Any) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.91:2")
    assert response["X-Request-ID"] == "lb-7f3a.91:2"


@pytest.mark.parametrize(
    "incoming",
    ["", "has space", "line\nbreak", "x" * 101, "-starts-with-a-dash", "quote\"'", "é"],
)
def test_an_odd_incoming_request_id_is_replaced(client: Any, incoming: str) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_an_unhandled_api_error_is_a_json_500_whose_request_id_is_in_the_log(
    api_as: Any, monkeypatch: Any, console: io.StringIO
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr("accounts.api.selectors.store_list", broken)
    api = api_as(Role.VIEWER)
    api.raise_request_exception = False

    response = api.get("/api/v1/stores/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    request_id = response["X-Request-ID"]
    assert response.json() == {
        "error": {
            "status": 500,
            "code": "server_error",
            "message": "Something went wrong on our side; it has been logged.",
            "details": {"request_id": request_id},
        }
    }
    logged = console.getvalue()
    error_line = next(line for line in logged.splitlines() if " ERROR django.request " in line)
    assert f"[{request_id}] Internal Server Error: /api/v1/stores/" in error_line
    assert "RuntimeError: the database fell over" in logged


def test_the_request_id_given_by_the_caller_is_the_one_in_the_500(
    api_as: Any, monkeypatch: Any, console: io.StringIO
) -> None:
    monkeypatch.setattr("accounts.api.selectors.store_list", lambda **kwargs: 1 / 0)
    api = api_as(Role.VIEWER)
    api.raise_request_exception = False

    response = api.get("/api/v1/stores/", HTTP_X_REQUEST_ID="support-ticket-42")

    assert response.json()["error"]["details"] == {"request_id": "support-ticket-42"}
    assert "[support-ticket-42] Internal Server Error" in console.getvalue()


def test_a_4xx_logged_after_the_middleware_has_the_request_id(
    client: Any, console: io.StringIO
) -> None:
    response = client.get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID="r-404")
    assert response.status_code == 404
    assert " WARNING django.request [r-404] Not Found: /api/v1/no-such-thing/" in (
        console.getvalue()
    )


def test_log_lines_after_a_request_and_outside_any_say_so(
    client: Any, console: io.StringIO
) -> None:
    client.get("/healthz", HTTP_X_REQUEST_ID="done-before")
    logging.getLogger("surveys.tasks").warning("queued 3 invitations")
    assert " WARNING surveys.tasks [-] queued 3 invitations" in console.getvalue()


def test_an_unhandled_page_error_keeps_the_html_page_and_the_header(
    client_as: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("journeys.views.selectors.journey_list", lambda **kwargs: 1 / 0)
    client = client_as(Role.VIEWER)
    client.raise_request_exception = False

    response = client.get("/journeys/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert GENERATED.fullmatch(response["X-Request-ID"])
