"""The base of the errors a domain rule raises, so that the API maps them in one place
(core.api.exception_handler) and pages show their message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule refused the request. The API answers `status` with `code`, the message and
    `details`; a page shows the message."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}
