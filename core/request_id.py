"""One id per request, so that a user's error report leads to the server's log lines.

The id is a sane incoming `X-Request-ID` (a proxy's or load balancer's, so their logs and ours
agree) or a new random one. It is returned in the `X-Request-ID` response header of every
response, carried by every log record made while the request is handled (`RequestIdFilter`,
installed on the log handler in settings.LOGGING) and given in the body of the API's 500.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# What an incoming id may be: short, and nothing that could forge or break a log line.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
NO_REQUEST = "-"

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request (tasks, commands)."""
    return _current.get()


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that everything logged while handling the request has the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        setattr(request, "request_id", request_id)  # noqa: B010 (an attribute HttpRequest has not)
        # Kept until the response is closed (request_finished, below): Django logs a 4xx
        # ("Not Found: /x/") after the middleware has returned.
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _forget_request_id(**kwargs: object) -> None:
    _current.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="core.request_id")


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` attribute for the formatter ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or NO_REQUEST
        return True
