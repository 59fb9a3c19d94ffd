"""What the dashboard tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from events import partitions


@pytest.fixture(autouse=True)
def _partitions_cache() -> Iterator[None]:
    # Each test's transaction is rolled back, the partitions it created with it: forget them.
    partitions.forget_known()
    yield
    partitions.forget_known()
