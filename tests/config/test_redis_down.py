"""With Redis unreachable, caches miss, throttles let requests through, the site serves."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import PASSWORD, UserFactory

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def dead_redis_cache(settings: Any) -> Any:
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    # pytest-django's settings fixture sends setting_changed, which rebuilds the caches.
    yield caches["default"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_cache_degrades_to_misses(dead_redis_cache: Any, caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        dead_redis_cache.set("k", "v")
        assert dead_redis_cache.get("k", "default") == "default"
        assert dead_redis_cache.add("k", 1) is False
    assert "Redis unreachable" in caplog.text


@pytest.mark.django_db
def test_api_and_login_keep_working_with_throttles_failing_open(
    dead_redis_cache: Any, api_as: Any, client: Any, caplog: Any, settings: Any
) -> None:
    api = api_as(Role.VIEWER)
    with caplog.at_level(logging.WARNING):
        assert api.get("/api/v1/stores/").status_code == 200
        assert APIClient().get("/api/v1/stores/").status_code == 401
        login = client.post("/accounts/login/", {"username": "x@example.com", "password": "no"})
        user = UserFactory(email="y@example.com")
        success = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert login.status_code == 200
    assert success.status_code == 302  # giving the count back fails open too
    assert "Redis unreachable" in caplog.text
