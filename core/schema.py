"""The OpenAPI schema documents the errors each operation answers with, in the API's error shape
(core/api.py), by rule rather than on each of the views:

- 401 and 403 where a caller must be authenticated and have a role (every API view but the
  browser events endpoint, which is public: its key is in the body, and it documents its own
  401 and 403);
- 404 where the path names an object, or a page of a list is asked for;
- 400 where there are query parameters or the method writes; 413 where the method writes
  (a body over DATA_UPLOAD_MAX_MEMORY_SIZE); 415 where there is a request body (a content
  type that none of the parsers reads);
- 409 for the view actions listed in the view's `conflict_actions` (journey versions);
- 429 where the view is throttled.

A view documents any other error itself, e.g. `extend_schema(responses={404: ERROR_RESPONSE})`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, again.")
    code = serializers.CharField(help_text="Stable and machine-readable, e.g. `version_conflict`.")
    message = serializers.CharField(help_text="For people; may change.")
    details = serializers.DictField(
        help_text="Field errors for `invalid` (field name: list of messages), what a conflict "
        "is with for 409, `request_id` for 500; else empty."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "Invalid input (`invalid`: `details` has the messages per field), or a request the "
    "server could not read.",
    401: "No credentials, or an unknown or revoked key (`not_authenticated`, "
    "`authentication_failed`).",
    403: "The caller's role or key does not allow this (`permission_denied`).",
    404: "No such object in the caller's organisation, or no such page (`not_found`).",
    409: "The request clashes with the current state (`version_conflict`: `details` has "
    "`current_version`; `active_journey_exists`). Nothing was saved.",
    413: "The request body is over the size limit (`request_too_large`).",
    415: "The request body's content type is not one of those documented "
    "(`unsupported_media_type`).",
    429: "Too many requests (`throttled`): retry after the Retry-After header's seconds.",
}


def error_response(status_code: int) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status_code])


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status_code in self.error_statuses(operation):
            if str(status_code) not in responses:
                responses[str(status_code)] = self._get_response_for_code(
                    error_response(status_code), str(status_code)
                )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> set[int]:
        view, method = self.view, self.method
        parameters = operation.get("parameters", [])
        statuses: set[int] = set()
        if any(
            not issubclass(permission, permissions.AllowAny)
            for permission in getattr(view, "permission_classes", [])
        ):
            statuses |= {401, 403}
        if any(p["in"] == "path" for p in parameters) or any(
            p["in"] == "query" and p["name"] == "page" for p in parameters
        ):
            statuses.add(404)
        if method in UNSAFE_METHODS:
            statuses |= {400, 413}
        if "requestBody" in operation:
            statuses.add(415)
        elif any(p["in"] == "query" for p in parameters):
            statuses.add(400)
        if getattr(view, "action", None) in getattr(view, "conflict_actions", ()):
            statuses.add(409)
        if getattr(view, "throttle_classes", None):
            statuses.add(429)
        return statuses
