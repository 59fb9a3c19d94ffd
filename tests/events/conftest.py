from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from events import partitions


@pytest.fixture(autouse=True)
def _partitions_cache() -> Any:
    # Each test's transaction is rolled back, partitions with it: forget what was seen.
    partitions.forget_known()
    yield
    partitions.forget_known()


@pytest.fixture
def secret_key(store: Any) -> tuple[Any, str]:
    from tests.factories import ApiKeyFactory

    raw = "mm_sk_events01_" + "a" * 32
    return ApiKeyFactory(store=store, prefix="mm_sk_events01", raw_key=raw), raw


@pytest.fixture
def key_client(secret_key: tuple[Any, str]) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret_key[1]}")
    return client


def item(
    event_id: str, name: str = "page_view", at: str = "2026-03-15T10:00:00+02:00", **extra: Any
) -> dict[str, Any]:
    if "customer_key" not in extra and "anonymous_id" not in extra:
        extra["customer_key"] = "c1"
    return {"id": event_id, "name": name, "occurred_at": at, **extra}
