"""The API's router: kept apart from core.api, which DRF imports while loading its views."""

from __future__ import annotations

from typing import Any

from rest_framework.routers import SimpleRouter

from core.api import ID_PATTERN


class ApiRouter(SimpleRouter):
    """Object ids in API URLs are whole numbers: /journeys/abc/ is a 404 before any view."""

    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        kwarg = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
        value = getattr(viewset, "lookup_value_regex", ID_PATTERN)
        return f"(?P<{lookup_prefix}{kwarg}>{value})"
