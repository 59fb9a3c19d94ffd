"""API plumbing shared by every app: pagination, fail-open throttles, one error shape.

Every error response has the shape
    {"error": {"status": 400, "code": "invalid", "message": "...", "details": {...}}}
where `details` holds field errors for validation failures, the request id for a 500
(`{"request_id": "..."}`, as in the X-Request-ID header and the log) and is empty otherwise.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports these classes: no cycle at runtime
    from rest_framework.views import APIView

from config.cache import REDIS_DOWN
from config.request_id import current_request_id

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


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


class Conflict(exceptions.APIException):
    """409: the request clashes with the current state; `details` says with what."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, message: str, *, code: str, details: dict | None = None) -> None:
        super().__init__(message, code)
        self.details = details or {}


def error_body(*, status_code: int, code: str, message: str, details: Any = None) -> dict:
    return {
        "error": {
            "status": status_code,
            "code": code,
            "message": message,
            "details": details or {},
        }
    }


def exception_handler(exc: Exception, context: dict) -> Response | None:
    from rest_framework.views import exception_handler as drf_exception_handler

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
