"""config/views.py: /favicon.ico (the error pages are tested with the API and the CSP)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_the_static_favicon(client: Any) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == static("favicon.svg")
    assert response["Cache-Control"] == "public, max-age=86400"
    assert finders.find("favicon.svg")
    assert client.head("/favicon.ico").status_code == 302
    assert client.post("/favicon.ico").status_code == 405
