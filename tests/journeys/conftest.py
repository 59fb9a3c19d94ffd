from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Role
from accounts.services import Actor
from journeys import services


@pytest.fixture
def editor(organisation: Any, member_factory: Any) -> Any:
    return member_factory(organisation, Role.EDITOR, email="editor@example.com")


@pytest.fixture
def actor(editor: Any) -> Actor:
    return Actor(user=editor)


@pytest.fixture
def template_journey(organisation: Any, store: Any, actor: Actor) -> Any:
    return services.journey_create_from_template(
        organisation=organisation, actor=actor, template="ecommerce-delivery", store=store
    )
