from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.django_db
def test_healthz_reports_database_ok(client: Any, settings: Any) -> None:
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "not configured"}


@pytest.mark.django_db
def test_healthz_reports_redis_down_without_failing(client: Any, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["redis"] == "down"


@pytest.mark.django_db
def test_healthz_checks_a_real_redis_over_one_kept_connection(client: Any, settings: Any) -> None:
    from accounts.views import _redis_client
    from tests.config.test_celery import _require_redis

    settings.REDIS_URL = _require_redis()
    responses = [client.get("/healthz").json() for _ in range(3)]

    assert responses == [{"status": "ok", "database": "ok", "redis": "ok"}] * 3
    pool = _redis_client(settings.REDIS_URL).connection_pool
    assert len(pool._available_connections) + len(pool._in_use_connections) == 1
