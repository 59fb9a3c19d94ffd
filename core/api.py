"""API plumbing shared by every app: pagination, fail-open throttles, one error shape.

Every error response has the shape
    {"error": {"status": 400, "code": "invalid", "message": "...", "details": {...}}}
where `details` holds field errors for validation failures, the request id for a 500
(`{"request_id": "..."}`, as in the X-Request-ID header and the log) and is empty otherwise.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, parsers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports these classes: no cycle at runtime
    from rest_framework.views import APIView

from core.cache import REDIS_DOWN
from core.errors import DomainError
from core.request_id import current_request_id

logger = logging.getLogger(__name__)


# --- Input limits, checked once for every API view before a serializer or the database sees
# the input. PostgreSQL refuses NUL in text, and a Python walk of deep JSON runs out of stack.

MAX_JSON_DEPTH = 32  # a journey export, the deepest document we take, is 7 levels deep
MAX_LIST_ITEMS = 10_000  # per JSON list: e.g. contact ids to send a survey to
MAX_QUERY_TEXT = 200  # characters of a text filter such as ?search=
ID_PATTERN = r"[0-9]{1,18}"  # a bigint, without signs, spaces or other digits
_ID = re.compile(ID_PATTERN)


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def json_problem(data: Any) -> str | None:
    """Why a parsed JSON document is refused, or None: too deep, a list too long, or a NUL
    character in a key or a text. Iterative, so that checking never recurses itself."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
            return f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep (at {path})."
        if isinstance(value, str) and "\x00" in value:
            return f"{path or 'The body'} contains a NUL character (\\u0000), which text may not."
        if isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                return (
                    f"{path or 'The body'} has {len(value):,} items; at most "
                    f"{MAX_LIST_ITEMS:,} are taken in one request."
                )
            stack.extend((item, _path(path, i), depth + 1) for i, item in enumerate(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return f"A key in {path or 'the body'} contains a NUL character (\\u0000)."
                stack.append((item, _path(path, key), depth + 1))
    return None


class JSONParser(parsers.JSONParser):
    """The API's only parser: JSON, refused with a 400 that says why when it breaks the limits
    above (json_problem) or nests so deep that Python's parser gives up."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep."
            ) from None
        problem = json_problem(data)
        if problem:
            raise exceptions.ParseError(problem)
        return data


def query_text(request: Request, name: str) -> str:
    """A text filter from the query string, stripped; a NUL or an overlong value is a 400."""
    value = request.query_params.get(name, "")
    if "\x00" in value:
        raise exceptions.ValidationError({name: ["Must not contain a NUL character."]})
    if len(value) > MAX_QUERY_TEXT:
        raise exceptions.ValidationError({name: [f"Must be at most {MAX_QUERY_TEXT} characters."]})
    return value.strip()


def query_id(request: Request, name: str) -> int | None:
    """An id filter from the query string (absent or empty: None); anything else is a 400."""
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if not _ID.fullmatch(value):
        raise exceptions.ValidationError({name: ["Must be an id (a whole number)."]})
    return int(value)


def query_choice(request: Request, name: str, choices: Iterable[str]) -> str:
    """One of `choices` from the query string ('' when absent); anything else is a 400."""
    value = query_text(request, name)
    allowed = list(choices)
    if value and value not in allowed:
        raise exceptions.ValidationError({name: [f"Must be one of: {', '.join(allowed)}."]})
    return value


class Pagination(PageNumberPagination):
    """?page_size= from 1 to 200 (default 50); anything else is a 400, not silently ignored."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            value = raw.strip()
            if not _ID.fullmatch(value) or not 1 <= int(value) <= self.max_page_size:
                raise exceptions.ValidationError(
                    {
                        self.page_size_query_param: [
                            f"Must be a whole number from 1 to {self.max_page_size}."
                        ]
                    }
                )
        return super().get_page_size(request)


class FailOpenMixin:
    """Throttles protect us, but must not take the site down with Redis: allow and log."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except REDIS_DOWN:
            logger.warning("Throttle store unreachable; request allowed (fail open)")
            return True


class FailOpenUserRateThrottle(FailOpenMixin, UserRateThrottle):
    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        api_key = getattr(request, "auth", None)
        if api_key is not None and hasattr(api_key, "prefix"):
            return self.cache_format % {"scope": self.scope, "ident": f"key-{api_key.prefix}"}
        return super().get_cache_key(request, view)


class FailOpenAnonRateThrottle(FailOpenMixin, AnonRateThrottle):
    pass


def is_api(request: Any) -> bool:
    """The request is for the API, whose answers are JSON in the error shape."""
    return str(request.path).startswith("/api/")


def error_body(*, status_code: int, code: str, message: str, details: Any = None) -> dict:
    return {
        "error": {
            "status": status_code,
            "code": code,
            "message": message,
            "details": details or {},
        }
    }


def as_drf_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError as DRF's: field messages by field, the rest under
    non_field_errors."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


class DomainRefusal(exceptions.APIException):
    """A DomainError (core.errors) in the API: its status, code, message and details."""

    def __init__(self, error: DomainError) -> None:
        self.status_code = error.status
        super().__init__(str(error), error.code)
        self.details = error.details


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error the API answers, in the one error shape. Services raise Django's
    ValidationError (400, field messages in details) and DomainError subclasses (their status
    and code); views let both through."""
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = as_drf_error(exc)
    elif isinstance(exc, DomainError):
        exc = DomainRefusal(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code, message, details = "invalid", "The request has invalid fields.", response.data
        if isinstance(details, list):
            details = {"non_field_errors": details}
    elif isinstance(exc, exceptions.APIException):
        code = exc.default_code if isinstance(exc.default_code, str) else "error"
        codes = exc.get_codes()
        if isinstance(codes, str):
            code = codes
        message = str(exc.detail) if not isinstance(exc.detail, dict | list) else str(exc)
        details = getattr(exc, "details", None)
    elif isinstance(exc, Http404):
        code, message, details = "not_found", "Not found.", None
    else:  # PermissionDenied from Django
        code, message, details = "permission_denied", str(exc) or "Permission denied.", None
    response.data = error_body(
        status_code=response.status_code, code=code, message=message, details=details
    )
    return response


def json_error(
    request: Any, *, status_code: int, code: str, message: str, details: Any = None
) -> JsonResponse:
    return JsonResponse(
        error_body(status_code=status_code, code=code, message=message, details=details),
        status=status_code,
    )


def api_not_found(request: Any, exception: Exception | None = None) -> JsonResponse:
    return json_error(
        request, status_code=status.HTTP_404_NOT_FOUND, code="not_found", message="Not found."
    )


def api_bad_request(request: Any, exception: Exception | None = None) -> JsonResponse:
    """What Django itself refuses before a view answers: a body over DATA_UPLOAD_MAX_MEMORY_SIZE
    (413), too many form fields or files, a malformed upload (400)."""
    if isinstance(exception, RequestDataTooBig):
        return json_error(
            request,
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            code="request_too_large",
            message="The request body is larger than the server accepts.",
            details={"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
        )
    return json_error(
        request,
        status_code=status.HTTP_400_BAD_REQUEST,
        code="bad_request",
        message="The request could not be read.",
    )


def api_server_error(request: Any) -> JsonResponse:
    """The body names the request id that the error's log record carries (config/request_id)."""
    request_id = getattr(request, "request_id", None) or current_request_id()
    return json_error(
        request,
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        code="server_error",
        message="Something went wrong on our side; it has been logged.",
        details={"request_id": request_id},
    )
