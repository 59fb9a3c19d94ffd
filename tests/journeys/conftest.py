from __future__ import annotations

from typing import Any

import pytest

from accounts.services import Actor
from journeys import services


@pytest.fixture
def template_journey(organisation: Any, store: Any, actor: Actor) -> Any:
    return services.journey_create_from_template(
        organisation=organisation, actor=actor, template="ecommerce-delivery", store=store
    )
