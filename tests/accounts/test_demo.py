from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, Organisation, Role, Store, User
from journeys.models import Journey, Touchpoint

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[Any, ...]:
    return (
        list(Organisation.objects.values_list("name", flat=True)),
        sorted(Membership.objects.values_list("user__email", "role")),
        sorted(
            Store.objects.values_list(
                "name", "currency", "time_zone", "default_language", "organisation__name"
            )
        ),
    )


def test_demo_loader_is_idempotent_and_complete(settings: Any) -> None:
    settings.DEMO_ALLOWED = True
    call_command("demo_load")
    first = _snapshot()
    call_command("demo_load")

    assert _snapshot() == first
    assert first == (
        ["Baltic Goods"],
        [("demo@example.com", Role.OWNER), ("viewer@example.com", Role.VIEWER)],
        [
            ("Baltic Goods LT", "EUR", "Europe/Vilnius", "lt", "Baltic Goods"),
            ("Baltic Goods RO", "RON", "Europe/Bucharest", "ro", "Baltic Goods"),
        ],
    )
    assert sorted(Journey.objects.values_list("store__name", "name", "status", "version")) == [
        ("Baltic Goods LT", "Baltic Goods LT: order to review", "active", 2),
        ("Baltic Goods RO", "Baltic Goods RO: five moments", "active", 2),
    ]
    assert (
        Touchpoint.objects.filter(is_moment_of_truth=True, owner__email="demo@example.com").count()
        == 9  # 5 in the delivery journey, 4 in the five-moments one
    )
    demo = User.objects.get(email="demo@example.com")
    assert demo.check_password("demo-password")
    assert demo.is_verified


def test_demo_users_can_log_in(settings: Any, client: Any) -> None:
    settings.DEMO_ALLOWED = True
    call_command("demo_load")
    response = client.post(
        "/accounts/login/", {"username": "viewer@example.com", "password": "demo-password"}
    )
    assert response.status_code == 302
    # A viewer's home is the dashboard of the store they look at.
    home = client.get("/", follow=True)
    assert home.redirect_chain[0] == ("/dashboard/", 302)
    assert home.context["current_membership"].role == Role.VIEWER


def test_demo_loader_refuses_without_debug(settings: Any) -> None:
    settings.DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="only loaded with DEBUG=true"):
        call_command("demo_load")
    assert not User.objects.filter(email="demo@example.com").exists()
