from __future__ import annotations

from typing import Any

import pytest

from accounts import services
from accounts.models import AuditLogEntry, Role

pytestmark = pytest.mark.django_db


def test_store_changes_are_recorded_with_actor_and_changes(client_as: Any, store: Any) -> None:
    client = client_as(Role.ADMIN)
    client.post(
        f"/stores/{store.pk}/edit/",
        {
            "name": "Baltic Goods LT",
            "domain": "shop.balticgoods.lt",
            "currency": "EUR",
            "time_zone": "Europe/Vilnius",
            "default_language": "lt",
            "event_retention_months": "25",
            "funnel_window_days": "30",
            "retention_days": "90",
        },
        REMOTE_ADDR="203.0.113.9",
    )
    entry = AuditLogEntry.objects.get(action="store.updated")
    assert entry.object_type == "accounts.Store"
    assert entry.object_id == str(store.pk)
    assert entry.object_repr == "Baltic Goods LT"
    assert entry.details == {"domain": {"from": store.domain, "to": "shop.balticgoods.lt"}}
    assert entry.ip_address == "203.0.113.9"
    assert entry.actor_label.endswith("@example.com")


def test_admin_sees_the_audit_log_filtered_by_action(
    client_as: Any, organisation: Any, store: Any
) -> None:
    before = store.domain
    services.store_update(store=store, actor=services.SYSTEM, domain="a.example.com")
    services.api_key_create(store=store, kind="secret", name="Key", actor=services.SYSTEM)
    client = client_as(Role.ADMIN)

    page = client.get("/audit-log/?action=store.updated")

    assert page.status_code == 200
    assert [e.action for e in page.context["page"].object_list] == ["store.updated"]
    assert "api_key.created" in page.context["actions"]
    assert f"<dt><code>domain</code></dt><dd><code>{before} → a.example.com</code></dd>" in (
        page.content.decode()
    )


@pytest.mark.parametrize(
    ("details", "shown"),
    [
        ({"domain": {"from": "", "to": "a.lt"}}, [("domain", "— → a.lt")]),
        (
            {"languages": ["lt", "en"], "invitations": 12},
            [("invitations", "12"), ("languages", "lt, en")],
        ),
        ({"to": "editor", "from": "viewer"}, [("change", "viewer → editor")]),
        ({"new_role": "<b>admin</b>"}, [("new role", "<b>admin</b>")]),
        ({}, []),
    ],
)
def test_audit_details_read_as_names_and_texts(
    details: dict[str, Any], shown: list[tuple[str, str]]
) -> None:
    assert AuditLogEntry(details=details).details_display() == shown


def test_audit_log_api_lists_newest_first(api_as: Any, store: Any) -> None:
    services.store_update(store=store, actor=services.SYSTEM, domain="a.example.com")
    services.store_update(store=store, actor=services.SYSTEM, domain="b.example.com")
    body = api_as(Role.ADMIN).get("/api/v1/audit-log/").json()
    assert [e["details"]["domain"]["to"] for e in body["results"]] == [
        "b.example.com",
        "a.example.com",
    ]
    assert body["results"][0]["actor_label"] == "system"
