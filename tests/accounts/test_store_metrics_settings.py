"""A store's funnel window and retention days: set on its settings page and API (editors and
above), validated, audited, and announced to the metrics once the change commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services
from accounts.models import AuditLogEntry, Role, Store
from accounts.signals import store_metrics_settings_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent() -> Iterator[list[dict[str, Any]]]:
    """What store_metrics_settings_changed was sent with, in order."""
    calls: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append({"sender": sender, **kwargs})

    store_metrics_settings_changed.connect(receiver, weak=False)
    yield calls
    store_metrics_settings_changed.disconnect(receiver)


def test_a_new_store_has_a_30_day_window_and_90_retention_days(store: Store) -> None:
    assert (store.funnel_window_days, store.retention_days) == (30, 90)


def test_a_change_is_audited_and_announced_once_after_the_commit(
    store: Store, sent: list[dict[str, Any]], on_commit: Any
) -> None:
    with on_commit(execute=True) as callbacks:
        services.store_update(store=store, actor=services.SYSTEM, funnel_window_days=7)
        assert sent == []  # not before the commit
    assert len(callbacks) == 1
    assert sent == [
        {
            "sender": Store,
            "signal": store_metrics_settings_changed,
            "store_id": store.pk,
            "changed": ["funnel_window_days"],
        }
    ]
    entry = AuditLogEntry.objects.get(action="store.updated")
    assert entry.details == {"funnel_window_days": {"from": 30, "to": 7}}
    store.refresh_from_db()
    assert store.funnel_window_days == 7


def test_both_settings_changed_are_named_in_one_signal(
    store: Store, sent: list[dict[str, Any]], on_commit: Any
) -> None:
    with on_commit(execute=True):
        services.store_update(
            store=store,
            actor=services.SYSTEM,
            name="Renamed",
            retention_days=45,
            funnel_window_days=14,
        )
    assert [(s["store_id"], s["changed"]) for s in sent] == [
        (store.pk, ["funnel_window_days", "retention_days"])
    ]
    assert AuditLogEntry.objects.get(action="store.updated").details == {
        "name": {"from": "Baltic Goods LT", "to": "Renamed"},
        "funnel_window_days": {"from": 30, "to": 14},
        "retention_days": {"from": 90, "to": 45},
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"funnel_window_days": 30, "retention_days": 90},  # the values it has
        {"name": "Renamed", "event_retention_months": 13},  # other settings only
        {},
    ],
    ids=["same-values", "other-settings", "nothing"],
)
def test_no_signal_without_a_change_of_either_setting(
    fields: dict[str, Any], store: Store, sent: list[dict[str, Any]], on_commit: Any
) -> None:
    with on_commit(execute=True) as callbacks:
        services.store_update(store=store, actor=services.SYSTEM, **fields)
    assert callbacks == []
    assert sent == []


def test_no_signal_when_the_transaction_rolls_back(
    store: Store, sent: list[dict[str, Any]], on_commit: Any
) -> None:
    with (
        on_commit(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.store_update(store=store, actor=services.SYSTEM, retention_days=30)
        raise RuntimeError("the caller's transaction fails after the update")
    assert callbacks == []
    assert sent == []
    store.refresh_from_db()
    assert store.retention_days == 90
    assert not AuditLogEntry.objects.filter(action="store.updated").exists()


def test_no_signal_when_the_update_is_refused(
    store: Store, sent: list[dict[str, Any]], on_commit: Any
) -> None:
    """An invalid setting beside a valid one: nothing is saved, nothing announced."""
    with on_commit(execute=True) as callbacks, pytest.raises(ValidationError) as refused:
        services.store_update(
            store=store, actor=services.SYSTEM, funnel_window_days=7, retention_days=731
        )
    assert refused.value.message_dict == {
        "retention_days": ["Ensure this value is less than or equal to 730."]
    }
    assert callbacks == []
    assert sent == []
    store.refresh_from_db()
    assert (store.funnel_window_days, store.retention_days) == (30, 90)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("funnel_window_days", 0, "Ensure this value is greater than or equal to 1."),
        ("funnel_window_days", 366, "Ensure this value is less than or equal to 365."),
        ("retention_days", 0, "Ensure this value is greater than or equal to 1."),
        ("retention_days", 731, "Ensure this value is less than or equal to 730."),
        ("funnel_window_days", None, "This field may not be null."),
        ("retention_days", "a week", "A valid integer is required."),
    ],
    ids=["window-0", "window-366", "retention-0", "retention-731", "window-null", "text"],
)
def test_the_api_refuses_settings_out_of_range_with_a_400(
    field: str, value: Any, message: str, api_as: Any, store: Store
) -> None:
    response = api_as(Role.EDITOR).patch(
        f"/api/v1/stores/{store.pk}/", {field: value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {field: [message]}
    store.refresh_from_db()
    assert (store.funnel_window_days, store.retention_days) == (30, 90)


def test_the_api_shows_and_sets_the_settings_through_the_service(
    api_as: Any, store: Store, sent: list[dict[str, Any]], on_commit: Any
) -> None:
    api = api_as(Role.EDITOR)
    shown = api.get(f"/api/v1/stores/{store.pk}/").json()
    assert (shown["funnel_window_days"], shown["retention_days"]) == (30, 90)
    with on_commit(execute=True):
        answer = api.patch(f"/api/v1/stores/{store.pk}/", {"retention_days": 60}, format="json")
    assert answer.status_code == 200
    assert answer.json()["retention_days"] == 60
    assert [(s["store_id"], s["changed"]) for s in sent] == [(store.pk, ["retention_days"])]
    entry = AuditLogEntry.objects.get(action="store.updated")
    assert entry.details == {"retention_days": {"from": 90, "to": 60}}
    assert entry.actor_label.endswith("@example.com")


def test_a_new_store_takes_its_settings_from_the_api(api_as: Any, organisation: Any) -> None:
    body = {
        "name": "Riga Shop",
        "domain": "riga.example.com",
        "currency": "EUR",
        "time_zone": "Europe/Riga",
        "default_language": "lv",
    }
    default = api_as(Role.ADMIN).post("/api/v1/stores/", body, format="json").json()
    assert (default["funnel_window_days"], default["retention_days"]) == (30, 90)
    chosen = api_as(Role.ADMIN).post(
        "/api/v1/stores/",
        {**body, "name": "Tallinn Shop", "funnel_window_days": 10, "retention_days": 180},
        format="json",
    )
    assert chosen.status_code == 201
    created = Store.objects.get(pk=chosen.json()["id"])
    assert (created.funnel_window_days, created.retention_days) == (10, 180)


# --- The settings page


def test_the_page_groups_them_under_funnel_and_retention_with_labels_and_help(
    client_as: Any, store: Store
) -> None:
    page = client_as(Role.EDITOR).get(f"/stores/{store.pk}/edit/").content.decode()
    assert "<legend>Funnel and retention</legend>" in page
    assert "Changing one of these computes the store&#x27;s figures again." in page
    for name, label, value, top, help_text in [
        (
            "funnel_window_days",
            "Conversion window (days):",
            30,
            365,
            "How long after entering the funnel a customer may take to reach the next stages.",
        ),
        (
            "retention_days",
            "Repeat-purchase window (days):",
            90,
            730,
            "How many days after a first purchase a second one counts as a repeat purchase.",
        ),
    ]:
        assert f'<label for="id_{name}">{label}</label>' in page
        assert (
            f'<input type="number" name="{name}" value="{value}" min="1" max="{top}" required '
            f'aria-describedby="id_{name}_helptext" id="id_{name}">'
        ) in page
        assert f'<div class="helptext" id="id_{name}_helptext">{help_text}</div>' in page


def test_an_admin_sees_both_fieldsets_in_order(client_as: Any, store: Store) -> None:
    page = client_as(Role.ADMIN).get(f"/stores/{store.pk}/edit/").content.decode()
    order = [
        page.index(text)
        for text in (
            "<legend>Store</legend>",
            'name="event_retention_months"',
            "<legend>Funnel and retention</legend>",
            'name="funnel_window_days"',
            'name="retention_days"',
        )
    ]
    assert order == sorted(order)


def test_the_page_saves_them_and_shows_errors_beside_the_field(
    client_as: Any, store: Store, sent: list[dict[str, Any]], on_commit: Any
) -> None:
    client = client_as(Role.EDITOR)
    url = f"/stores/{store.pk}/edit/"
    refused = client.post(url, {"funnel_window_days": "400", "retention_days": "90"})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "funnel_window_days": ["Ensure this value is less than or equal to 365."]
    }
    with on_commit(execute=True):
        saved = client.post(url, {"funnel_window_days": "7", "retention_days": "120"})
    assert saved.status_code == 302
    assert saved.url == "/stores/"
    store.refresh_from_db()
    assert (store.funnel_window_days, store.retention_days) == (7, 120)
    assert [(s["store_id"], s["changed"]) for s in sent] == [
        (store.pk, ["funnel_window_days", "retention_days"])
    ]
    assert AuditLogEntry.objects.get(action="store.updated").details == {
        "funnel_window_days": {"from": 30, "to": 7},
        "retention_days": {"from": 90, "to": 120},
    }


def test_a_viewer_gets_no_form(client_as: Any, store: Store) -> None:
    client = client_as(Role.VIEWER)
    url = f"/stores/{store.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 403
    assert b'name="funnel_window_days"' not in page.content
    refused = client.post(url, {"funnel_window_days": "7", "retention_days": "120"})
    assert refused.status_code == 403
    store.refresh_from_db()
    assert (store.funnel_window_days, store.retention_days) == (30, 90)
    listing = client.get("/stores/").content.decode()
    assert f"/stores/{store.pk}/edit/" not in listing


def test_an_editor_finds_the_page_from_the_stores_list(client_as: Any, store: Store) -> None:
    listing = client_as(Role.EDITOR).get("/stores/").content.decode()
    assert f'<a href="/stores/{store.pk}/edit/">Edit</a>' in listing
    assert f"/stores/{store.pk}/keys/" not in listing
