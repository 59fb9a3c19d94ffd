from __future__ import annotations

from typing import Any

import pytest
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts import services
from accounts.crypto import hash_token
from accounts.models import ApiKey, AuditLogEntry, Role, Store
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _key(store: Store, kind: str = ApiKey.Kind.SECRET) -> tuple[ApiKey, str]:
    return services.api_key_create(store=store, kind=kind, name="Backend", actor=services.SYSTEM)


def bearer(raw: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_key_is_stored_as_a_hash_with_a_visible_prefix(store: Store) -> None:
    api_key, raw = _key(store)

    assert raw.startswith(f"{api_key.prefix}_")
    assert api_key.prefix.startswith("mm_sk_")
    assert len(api_key.prefix) == len("mm_sk_") + 8
    assert api_key.key_hash == hash_token(raw)
    assert raw not in {api_key.key_hash, api_key.prefix, api_key.name}
    assert len(raw) > 50
    _publishable, raw_publishable = _key(store, ApiKey.Kind.PUBLISHABLE)
    assert raw_publishable.startswith("mm_pk_")


def test_secret_key_authenticates_and_records_use(store: Store) -> None:
    api_key, raw = _key(store)
    response = bearer(raw).get("/api/v1/stores/")

    assert response.status_code == 200
    assert [s["name"] for s in response.json()["results"]] == ["Baltic Goods LT"]
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_secret_key_sees_only_its_own_store(store: Store) -> None:
    StoreFactory(organisation=store.organisation, name="Baltic Goods RO")
    _api_key, raw = _key(store)
    response = bearer(raw).get("/api/v1/stores/")
    assert response.json()["count"] == 1


def test_revoked_or_wrong_key_gets_401_in_the_error_shape(store: Store) -> None:
    api_key, raw = _key(store)
    services.api_key_revoke(api_key=api_key, actor=services.SYSTEM)

    revoked = bearer(raw).get("/api/v1/stores/")
    forged = bearer(raw[:-4] + "AAAA").get("/api/v1/stores/")

    for response in (revoked, forged):
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "status": 401,
                "code": "authentication_failed",
                "message": "Unknown or revoked API key.",
                "details": {},
            }
        }


def test_publishable_key_cannot_read_the_api(store: Store) -> None:
    _api_key, raw = _key(store, ApiKey.Kind.PUBLISHABLE)
    response = bearer(raw).get("/api/v1/stores/")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "A publishable key can only send browser events."


def test_key_of_a_deleted_organisation_stops_working(store: Store) -> None:
    _api_key, raw = _key(store)
    services.organisation_delete_request(organisation=store.organisation, actor=services.SYSTEM)
    assert bearer(raw).get("/api/v1/stores/").status_code == 401


def test_admin_creates_a_key_over_the_api_and_sees_it_once(api_as: Any, store: Store) -> None:
    api = api_as(Role.ADMIN)
    created = api.post(
        "/api/v1/api-keys/", {"store": store.pk, "kind": "secret", "name": "ERP"}, format="json"
    )

    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(body["prefix"] + "_")
    listed = api.get("/api/v1/api-keys/").json()["results"]
    assert [k["name"] for k in listed] == ["ERP"]
    assert "key" not in listed[0]
    assert bearer(body["key"]).get("/api/v1/organisation/").json() == {
        "id": store.organisation.pk,
        "name": "Baltic Goods",
        "role": "editor",
    }

    revoked = api.delete(f"/api/v1/api-keys/{body['id']}/")
    assert revoked.status_code == 204
    assert api.get(f"/api/v1/api-keys/{body['id']}/").json()["revoked_at"] is not None
    assert bearer(body["key"]).get("/api/v1/organisation/").status_code == 401
    assert [e.action for e in AuditLogEntry.objects.order_by("id")] == [
        "api_key.created",
        "api_key.revoked",
    ]


def test_key_for_another_organisations_store_is_refused(
    api_as: Any, store: Store, other_organisation: Any
) -> None:
    foreign = StoreFactory(organisation=other_organisation)
    response = api_as(Role.ADMIN).post(
        "/api/v1/api-keys/", {"store": foreign.pk, "kind": "secret", "name": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["store"] == [
        f'Invalid pk "{foreign.pk}" - object does not exist.'
    ]
    assert not ApiKey.objects.exists()


def test_store_keys_page_shows_the_key_once(client_as: Any, store: Store) -> None:
    client = client_as(Role.ADMIN)
    created = client.post(
        f"/stores/{store.pk}/keys/", {"name": "Shop", "kind": "publishable"}, follow=True
    )
    assert created.redirect_chain == [(f"/stores/{store.pk}/keys/", 302)]
    raw = created.context["new_key"]
    assert raw.startswith("mm_pk_")
    assert raw in created.content.decode()
    again = client.get(f"/stores/{store.pk}/keys/")
    assert raw not in again.content.decode()
    assert ApiKey.objects.get().prefix in again.content.decode()


def test_a_new_publishable_key_comes_with_the_tag_to_paste_once(
    client_as: Any, store: Store
) -> None:
    client = client_as(Role.ADMIN)
    created = client.post(
        f"/stores/{store.pk}/keys/", {"name": "Storefront", "kind": "publishable"}, follow=True
    )
    raw = created.context["new_key"]
    tag = f'<script src="http://testserver/static/js/momentmap.js" data-key="{raw}" defer></script>'
    assert escape(tag) in created.content.decode()
    assert f"https://{store.domain}" in created.content.decode()
    again = client.get(f"/stores/{store.pk}/keys/").content.decode()
    assert "momentmap.js" not in again  # the key is a hash now: no tag can be made from it


def test_a_new_secret_key_comes_with_no_tag(client_as: Any, store: Store) -> None:
    created = client_as(Role.ADMIN).post(
        f"/stores/{store.pk}/keys/", {"name": "Backend", "kind": "secret"}, follow=True
    )
    assert created.context["new_key"].startswith("mm_sk_")
    assert "momentmap.js" not in created.content.decode()


def test_the_tag_names_the_endpoint_when_static_files_are_on_another_host(
    client_as: Any, store: Store, settings: Any
) -> None:
    settings.SITE_URL = "https://app.example.com"
    settings.STATIC_URL = "https://cdn.example.net/static/"
    created = client_as(Role.ADMIN).post(
        f"/stores/{store.pk}/keys/", {"name": "Storefront", "kind": "publishable"}, follow=True
    )
    raw = created.context["new_key"]
    tag = (
        '<script src="https://cdn.example.net/static/js/momentmap.js" '
        f'data-key="{raw}" data-endpoint="https://app.example.com" defer></script>'
    )
    assert escape(tag) in created.content.decode()
