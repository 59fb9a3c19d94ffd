"""Who may do what: one test per action, over the four roles, for pages and the API alike.

Each test names the exact status for each role and checks the side effect too (the store
exists or not, the role changed or not), so that a missing check fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.models import (
    STORE_FIELDS,
    ApiKey,
    AuditLogEntry,
    MemberInvitation,
    Membership,
    Organisation,
    Role,
    Store,
    User,
)
from accounts.services import Actor
from tests.factories import (
    ApiKeyFactory,
    AuditLogEntryFactory,
    MemberInvitationFactory,
    MembershipFactory,
)

pytestmark = pytest.mark.django_db

VIEWER, EDITOR, ADMIN, OWNER = Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.OWNER


def per_role(viewer: int, editor: int, admin: int, owner: int) -> Any:
    """Parametrize a test over the four roles with the exact status each must get."""
    return pytest.mark.parametrize(
        ("role", "expected"),
        [
            pytest.param(VIEWER, viewer, id="viewer"),
            pytest.param(EDITOR, editor, id="editor"),
            pytest.param(ADMIN, admin, id="admin"),
            pytest.param(OWNER, owner, id="owner"),
        ],
    )


ALL_ROLES = pytest.mark.parametrize("role", [VIEWER, EDITOR, ADMIN, OWNER])


def error(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "details": details or {}}}


def needs_admin() -> dict[str, Any]:
    return error(403, "permission_denied", "This needs the admin role or higher.")


STORE_DATA = {
    "name": "Riga Shop",
    "domain": "riga.example.com",
    "currency": "EUR",
    "time_zone": "Europe/Riga",
    "default_language": "lv",
    "funnel_window_days": 30,
    "retention_days": 90,
}


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _secret_key(store: Store, kind: str = ApiKey.Kind.SECRET) -> APIClient:
    _key, raw = services.api_key_create(store=store, kind=kind, name="Backend", actor=Actor())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


# --- Reading


@ALL_ROLES
@pytest.mark.parametrize("page", ["home", "accounts:store-list", "accounts:member-list"])
def test_every_role_reads_the_overview_stores_and_members(
    role: str, page: str, client_as: Any, store: Store
) -> None:
    client = client_as(role)
    me = User.objects.get(pk=client.session["_auth_user_id"])
    response = client.get(reverse(page))
    if page == "home" and role == Role.VIEWER:  # a viewer's home is the dashboard
        assert response.url == "/dashboard/"
        response = client.get(reverse("accounts:store-list"))
    assert response.status_code == 200
    expected = me.email if page == "accounts:member-list" else "Baltic Goods LT"
    assert expected.encode() in response.content


@ALL_ROLES
@pytest.mark.parametrize("endpoint", ["api:organisation", "api:store-list", "api:member-list"])
def test_every_role_reads_the_organisation_stores_and_members_via_api(
    role: str, endpoint: str, api_as: Any, store: Store
) -> None:
    response = api_as(role).get(reverse(endpoint))
    assert response.status_code == 200
    if endpoint == "api:organisation":
        assert response.json() == {
            "id": store.organisation_id,
            "name": "Baltic Goods",
            "role": role,
        }


# --- Stores


@per_role(viewer=403, editor=403, admin=302, owner=302)
def test_create_store_page(role: str, expected: int, client_as: Any, organisation: Any) -> None:
    response = client_as(role).post(reverse("accounts:store-create"), STORE_DATA)
    assert response.status_code == expected
    created = Store.objects.filter(organisation=organisation, name="Riga Shop").first()
    assert (created is not None) == (expected == 302)
    if created is not None:
        assert response.url == reverse("accounts:store-keys", kwargs={"pk": created.pk})


@per_role(viewer=403, editor=403, admin=201, owner=201)
def test_create_store_api(role: str, expected: int, api_as: Any, organisation: Any) -> None:
    response = api_as(role).post(reverse("api:store-list"), STORE_DATA)
    assert response.status_code == expected
    exists = Store.objects.filter(organisation=organisation, name="Riga Shop").exists()
    assert exists == (expected == 201)
    if expected == 403:
        assert response.json() == needs_admin()
    else:
        assert response.json()["domain"] == "riga.example.com"


@per_role(viewer=403, editor=200, admin=200, owner=200)
def test_edit_store_page_get(role: str, expected: int, client_as: Any, store: Store) -> None:
    response = client_as(role).get(reverse("accounts:store-edit", kwargs={"pk": store.pk}))
    assert response.status_code == expected
    if expected == 200:
        # An editor's form has the funnel and retention settings only.
        fields = list(response.context["form"].fields)
        metrics_fields = ["funnel_window_days", "retention_days"]
        assert fields == (metrics_fields if role == EDITOR else list(STORE_FIELDS))
        assert (b'name="name"' in response.content) == (role != EDITOR)
        assert (b"Admins change the store's other settings." in response.content) == (
            role == EDITOR
        )


@per_role(viewer=403, editor=302, admin=302, owner=302)
def test_edit_store_page(role: str, expected: int, client_as: Any, store: Store) -> None:
    """Admins change every setting; an editor the funnel and retention ones, and the rest of
    what they send is not saved."""
    url = reverse("accounts:store-edit", kwargs={"pk": store.pk})
    data = {**STORE_DATA, "funnel_window_days": 7, "retention_days": 60}
    response = client_as(role).post(url, data)
    assert response.status_code == expected
    store.refresh_from_db()
    assert store.name == ("Riga Shop" if role in (ADMIN, OWNER) else "Baltic Goods LT")
    assert (store.funnel_window_days, store.retention_days) == (
        (30, 90) if role == VIEWER else (7, 60)
    )


@per_role(viewer=403, editor=403, admin=200, owner=200)
def test_edit_store_api(role: str, expected: int, api_as: Any, store: Store) -> None:
    url = reverse("api:store-detail", kwargs={"pk": store.pk})
    response = api_as(role).patch(url, {"name": "Riga Shop"})
    assert response.status_code == expected
    store.refresh_from_db()
    assert store.name == ("Riga Shop" if expected == 200 else "Baltic Goods LT")


@per_role(viewer=403, editor=200, admin=200, owner=200)
def test_edit_store_metrics_settings_api(
    role: str, expected: int, api_as: Any, store: Store
) -> None:
    url = reverse("api:store-detail", kwargs={"pk": store.pk})
    data = {"funnel_window_days": 14, "retention_days": 120}
    response = api_as(role).patch(url, data, format="json")
    assert response.status_code == expected
    store.refresh_from_db()
    if expected == 403:
        assert response.json() == error(
            403, "permission_denied", "This needs the editor role or higher."
        )
        assert (store.funnel_window_days, store.retention_days) == (30, 90)
    else:
        assert {k: response.json()[k] for k in data} == data
        assert (store.funnel_window_days, store.retention_days) == (14, 120)


@pytest.mark.parametrize(
    "data",
    [
        {"funnel_window_days": 14, "name": "Riga Shop"},
        {"retention_days": 120, "event_retention_months": 13},
    ],
    ids=["with-name", "with-event-retention"],
)
def test_an_editors_patch_of_other_store_settings_needs_an_admin(
    data: dict[str, Any], api_as: Any, store: Store
) -> None:
    url = reverse("api:store-detail", kwargs={"pk": store.pk})
    response = api_as(EDITOR).patch(url, data, format="json")
    assert response.status_code == 403
    assert response.json() == needs_admin()
    store.refresh_from_db()
    assert (store.name, store.event_retention_months) == ("Baltic Goods LT", 25)
    assert (store.funnel_window_days, store.retention_days) == (30, 90)


def test_an_editor_cannot_replace_a_store_api(api_as: Any, store: Store) -> None:
    """PUT sets every field: an admin's, even with the metrics settings among them."""
    url = reverse("api:store-detail", kwargs={"pk": store.pk})
    response = api_as(EDITOR).put(url, {**STORE_DATA, "funnel_window_days": 7}, format="json")
    assert response.status_code == 403
    assert response.json() == needs_admin()
    store.refresh_from_db()
    assert (store.name, store.funnel_window_days) == ("Baltic Goods LT", 30)


@per_role(viewer=403, editor=403, admin=302, owner=302)
def test_delete_store_page(
    role: str, expected: int, client_as: Any, store: Store, on_commit: Any
) -> None:
    with on_commit(execute=True):
        response = client_as(role).post(reverse("accounts:store-delete", kwargs={"pk": store.pk}))
    assert response.status_code == expected
    assert Store.objects.filter(pk=store.pk).exists() == (expected == 403)


@per_role(viewer=403, editor=403, admin=204, owner=204)
def test_delete_store_api(
    role: str, expected: int, api_as: Any, store: Store, on_commit: Any
) -> None:
    with on_commit(execute=True):
        response = api_as(role).delete(reverse("api:store-detail", kwargs={"pk": store.pk}))
    assert response.status_code == expected
    assert Store.objects.filter(pk=store.pk).exists() == (expected == 403)


# --- API keys


@per_role(viewer=403, editor=403, admin=302, owner=302)
def test_create_api_key_page(role: str, expected: int, client_as: Any, store: Store) -> None:
    url = reverse("accounts:store-keys", kwargs={"pk": store.pk})
    client = client_as(role)
    response = client.post(url, {"name": "Shop backend", "kind": "secret"})
    assert response.status_code == expected
    keys = ApiKey.objects.filter(store=store, name="Shop backend")
    assert keys.count() == (1 if expected == 302 else 0)
    if expected == 302:
        assert response.url == url
        assert client.get(url).context["new_key"].startswith(keys.get().prefix + "_")


@per_role(viewer=403, editor=403, admin=201, owner=201)
def test_create_api_key_api(role: str, expected: int, api_as: Any, store: Store) -> None:
    data = {"store": store.pk, "kind": "publishable", "name": "Storefront"}
    response = api_as(role).post(reverse("api:api-key-list"), data)
    assert response.status_code == expected
    keys = ApiKey.objects.filter(store=store, name="Storefront", kind="publishable")
    assert keys.count() == (1 if expected == 201 else 0)
    if expected == 201:
        assert response.json()["key"].startswith("mm_pk_")
    else:
        assert response.json() == needs_admin()


@per_role(viewer=403, editor=403, admin=302, owner=302)
def test_revoke_api_key_page(role: str, expected: int, client_as: Any, store: Store) -> None:
    key = ApiKeyFactory(store=store)
    response = client_as(role).post(reverse("accounts:api-key-revoke", kwargs={"pk": key.pk}))
    assert response.status_code == expected
    key.refresh_from_db()
    assert (key.revoked_at is not None) == (expected == 302)


@per_role(viewer=403, editor=403, admin=204, owner=204)
def test_revoke_api_key_api(role: str, expected: int, api_as: Any, store: Store) -> None:
    key = ApiKeyFactory(store=store)
    response = api_as(role).delete(reverse("api:api-key-detail", kwargs={"pk": key.pk}))
    assert response.status_code == expected
    key.refresh_from_db()
    assert (key.revoked_at is not None) == (expected == 204)


@per_role(viewer=403, editor=403, admin=200, owner=200)
def test_list_api_keys_api(role: str, expected: int, api_as: Any, store: Store) -> None:
    key = ApiKeyFactory(store=store)
    response = api_as(role).get(reverse("api:api-key-list"))
    assert response.status_code == expected
    if expected == 200:
        assert [k["prefix"] for k in response.json()["results"]] == [key.prefix]
    else:
        assert response.json() == needs_admin()


@per_role(viewer=403, editor=403, admin=200, owner=200)
def test_store_keys_page(role: str, expected: int, client_as: Any, store: Store) -> None:
    key = ApiKeyFactory(store=store)
    response = client_as(role).get(reverse("accounts:store-keys", kwargs={"pk": store.pk}))
    assert response.status_code == expected
    assert (key.prefix.encode() in response.content) == (expected == 200)


# --- Members and invitations


@per_role(viewer=403, editor=403, admin=302, owner=302)
def test_invite_member_page(
    role: str,
    expected: int,
    client_as: Any,
    organisation: Organisation,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_as(role)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:member-invite"), {"email": "new@example.com", "role": "editor"}
        )
    assert response.status_code == expected
    invited = MemberInvitation.objects.filter(
        organisation=organisation, email="new@example.com", role="editor"
    )
    assert invited.count() == (1 if expected == 302 else 0)
    assert [m.to for m in mail.outbox] == ([["new@example.com"]] if expected == 302 else [])


@per_role(viewer=403, editor=403, admin=201, owner=201)
def test_invite_member_api(
    role: str, expected: int, api_as: Any, organisation: Organisation
) -> None:
    data = {"email": "new@example.com", "role": "viewer"}
    response = api_as(role).post(reverse("api:invitation-list"), data)
    assert response.status_code == expected
    invited = MemberInvitation.objects.filter(organisation=organisation, email="new@example.com")
    assert invited.count() == (1 if expected == 201 else 0)
    if expected == 403:
        assert response.json() == needs_admin()
    else:
        assert response.json()["role"] == "viewer"


@per_role(viewer=403, editor=403, admin=200, owner=200)
def test_list_invitations_api(
    role: str, expected: int, api_as: Any, organisation: Organisation
) -> None:
    MemberInvitationFactory(organisation=organisation, email="pending@example.com")
    response = api_as(role).get(reverse("api:invitation-list"))
    assert response.status_code == expected
    if expected == 200:
        assert [i["email"] for i in response.json()["results"]] == ["pending@example.com"]
    else:
        assert response.json() == needs_admin()


@per_role(viewer=403, editor=403, admin=302, owner=302)
def test_change_member_role_page(
    role: str, expected: int, client_as: Any, organisation: Organisation, member_factory: Any
) -> None:
    target = MembershipFactory(organisation=organisation, role=EDITOR)
    url = reverse("accounts:member-role", kwargs={"pk": target.pk})
    response = client_as(role).post(url, {"role": "admin"})
    assert response.status_code == expected
    target.refresh_from_db()
    assert target.role == (ADMIN if expected == 302 else EDITOR)


@per_role(viewer=403, editor=403, admin=200, owner=200)
def test_change_member_role_api(
    role: str, expected: int, api_as: Any, organisation: Organisation
) -> None:
    target = MembershipFactory(organisation=organisation, role=EDITOR)
    url = reverse("api:member-detail", kwargs={"pk": target.pk})
    response = api_as(role).patch(url, {"role": "viewer"})
    assert response.status_code == expected
    target.refresh_from_db()
    assert target.role == (VIEWER if expected == 200 else EDITOR)


@per_role(viewer=403, editor=403, admin=302, owner=302)
def test_remove_member_page(
    role: str, expected: int, client_as: Any, organisation: Organisation
) -> None:
    target = MembershipFactory(organisation=organisation, role=VIEWER)
    response = client_as(role).post(reverse("accounts:member-remove", kwargs={"pk": target.pk}))
    assert response.status_code == expected
    assert Membership.objects.filter(pk=target.pk).exists() == (expected == 403)


@per_role(viewer=403, editor=403, admin=204, owner=204)
def test_remove_member_api(
    role: str, expected: int, api_as: Any, organisation: Organisation
) -> None:
    target = MembershipFactory(organisation=organisation, role=VIEWER)
    response = api_as(role).delete(reverse("api:member-detail", kwargs={"pk": target.pk}))
    assert response.status_code == expected
    assert Membership.objects.filter(pk=target.pk).exists() == (expected == 403)


@per_role(viewer=403, editor=403, admin=302, owner=302)
def test_revoke_invitation_page(
    role: str, expected: int, client_as: Any, organisation: Organisation
) -> None:
    invitation, _token = services.member_invite(
        organisation=organisation,
        email="x@example.com",
        role=VIEWER,
        actor=Actor(),
        actor_role=OWNER,
    )
    url = reverse("accounts:invitation-revoke", kwargs={"pk": invitation.pk})
    response = client_as(role).post(url)
    assert response.status_code == expected
    assert MemberInvitation.objects.filter(pk=invitation.pk).exists() == (expected == 403)


# --- What an admin may not do to owners (the owner may)


@pytest.fixture
def admin_api(api_as: Any) -> APIClient:
    return api_as(ADMIN)


def test_admin_cannot_make_someone_owner_api(
    admin_api: APIClient, organisation: Organisation
) -> None:
    target = MembershipFactory(organisation=organisation, role=EDITOR)
    response = admin_api.patch(
        reverse("api:member-detail", kwargs={"pk": target.pk}), {"role": "owner"}
    )
    assert response.status_code == 400
    assert response.json() == error(
        400,
        "invalid",
        "The request has invalid fields.",
        {"role": ["Only an owner can make someone an owner."]},
    )
    target.refresh_from_db()
    assert target.role == EDITOR


def test_admin_cannot_change_an_owners_role_api(
    admin_api: APIClient, organisation: Organisation
) -> None:
    owner = MembershipFactory(organisation=organisation, role=OWNER)
    response = admin_api.patch(
        reverse("api:member-detail", kwargs={"pk": owner.pk}), {"role": "viewer"}
    )
    assert response.status_code == 400
    assert response.json() == error(
        400,
        "invalid",
        "The request has invalid fields.",
        {"role": ["Only an owner can change an owner's role."]},
    )
    owner.refresh_from_db()
    assert owner.role == OWNER


def test_admin_cannot_remove_an_owner_api(admin_api: APIClient, organisation: Organisation) -> None:
    owner = MembershipFactory(organisation=organisation, role=OWNER)
    MembershipFactory(organisation=organisation, role=OWNER)  # not the last owner either
    response = admin_api.delete(reverse("api:member-detail", kwargs={"pk": owner.pk}))
    assert response.status_code == 400
    assert response.json() == error(
        400,
        "invalid",
        "The request has invalid fields.",
        {"non_field_errors": ["Only an owner can remove an owner."]},
    )
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_admin_cannot_invite_an_owner_api(admin_api: APIClient, organisation: Organisation) -> None:
    response = admin_api.post(
        reverse("api:invitation-list"), {"email": "boss@example.com", "role": "owner"}
    )
    assert response.status_code == 400
    assert response.json() == error(
        400,
        "invalid",
        "The request has invalid fields.",
        {"role": ["Only an owner can make someone an owner."]},
    )
    assert not MemberInvitation.objects.filter(organisation=organisation).exists()


def test_admin_cannot_make_someone_owner_page(client_as: Any, organisation: Organisation) -> None:
    client = client_as(ADMIN)
    target = MembershipFactory(organisation=organisation, role=EDITOR)
    response = client.post(
        reverse("accounts:member-role", kwargs={"pk": target.pk}), {"role": "owner"}
    )
    assert response.status_code == 302
    assert _messages(response) == ["Only an owner can make someone an owner."]
    target.refresh_from_db()
    assert target.role == EDITOR


def test_admin_cannot_remove_an_owner_page(client_as: Any, organisation: Organisation) -> None:
    client = client_as(ADMIN)
    owner = MembershipFactory(organisation=organisation, role=OWNER)
    response = client.post(reverse("accounts:member-remove", kwargs={"pk": owner.pk}))
    assert response.status_code == 302
    assert _messages(response) == ["Only an owner can remove an owner."]
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_owner_can_make_someone_owner_and_change_an_owners_role(
    api_as: Any, organisation: Organisation
) -> None:
    api = api_as(OWNER)
    target = MembershipFactory(organisation=organisation, role=EDITOR)
    other_owner = MembershipFactory(organisation=organisation, role=OWNER)

    promoted = api.patch(reverse("api:member-detail", kwargs={"pk": target.pk}), {"role": "owner"})
    demoted = api.patch(
        reverse("api:member-detail", kwargs={"pk": other_owner.pk}), {"role": "admin"}
    )

    assert (promoted.status_code, demoted.status_code) == (200, 200)
    target.refresh_from_db()
    other_owner.refresh_from_db()
    assert (target.role, other_owner.role) == (OWNER, ADMIN)


def test_last_owner_cannot_step_down_api(api_as: Any, organisation: Organisation) -> None:
    api = api_as(OWNER)
    me = Membership.objects.get(organisation=organisation, role=OWNER)
    response = api.patch(reverse("api:member-detail", kwargs={"pk": me.pk}), {"role": "admin"})
    assert response.status_code == 400
    assert response.json() == error(
        400,
        "invalid",
        "The request has invalid fields.",
        {
            "non_field_errors": [
                "An organisation needs at least one owner; make someone else an owner first."
            ]
        },
    )
    me.refresh_from_db()
    assert me.role == OWNER


# --- Audit log


@per_role(viewer=403, editor=403, admin=200, owner=200)
def test_audit_log_page(role: str, expected: int, client_as: Any, organisation: Any) -> None:
    AuditLogEntryFactory(organisation=organisation, action="store.secret_action")
    response = client_as(role).get(reverse("accounts:audit-log"))
    assert response.status_code == expected
    assert (b"store.secret_action" in response.content) == (expected == 200)


@per_role(viewer=403, editor=403, admin=200, owner=200)
def test_audit_log_api(role: str, expected: int, api_as: Any, organisation: Any) -> None:
    entry = AuditLogEntryFactory(organisation=organisation, action="store.secret_action")
    response = api_as(role).get(reverse("api:audit-log-list"))
    assert response.status_code == expected
    if expected == 200:
        assert [e["id"] for e in response.json()["results"]] == [entry.pk]
    else:
        assert response.json() == needs_admin()
    detail = api_as(role).get(reverse("api:audit-log-detail", kwargs={"pk": entry.pk}))
    assert detail.status_code == expected


# --- Deleting and leaving the organisation


@per_role(viewer=403, editor=403, admin=403, owner=200)
def test_delete_organisation_page_get(
    role: str, expected: int, client_as: Any, organisation: Organisation
) -> None:
    response = client_as(role).get(reverse("accounts:organisation-delete"))
    assert response.status_code == expected


@per_role(viewer=403, editor=403, admin=403, owner=302)
def test_delete_organisation(
    role: str,
    expected: int,
    client_as: Any,
    organisation: Organisation,
    store: Store,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_as(role)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:organisation-delete"), {"confirm_name": "Baltic Goods"}
        )
    assert response.status_code == expected
    gone = expected == 302
    assert Organisation.objects.filter(pk=organisation.pk).exists() is not gone
    assert Store.objects.filter(pk=store.pk).exists() is not gone
    if gone:
        assert response.url == reverse("home")
        assert not Membership.objects.filter(organisation_id=organisation.pk).exists()
        assert not AuditLogEntry.objects.filter(organisation_id=organisation.pk).exists()
    else:
        organisation.refresh_from_db()
        assert organisation.deletion_requested_at is None


def test_delete_organisation_needs_its_exact_name(
    client_as: Any, organisation: Organisation, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_as(OWNER)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("accounts:organisation-delete"), {"confirm_name": "baltic goods"}
        )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "confirm_name": ["That is not the organisation's name."]
    }
    assert callbacks == []
    organisation.refresh_from_db()
    assert organisation.deletion_requested_at is None


@ALL_ROLES
def test_every_role_can_leave(role: str, client_as: Any, organisation: Organisation) -> None:
    MembershipFactory(organisation=organisation, role=OWNER)  # so an owner is not the last
    client = client_as(role)
    assert client.get(reverse("accounts:organisation-leave")).status_code == 200
    response = client.post(reverse("accounts:organisation-leave"))
    assert response.status_code == 302
    assert response.url == reverse("home")
    user = User.objects.get(pk=client.session["_auth_user_id"])
    assert not Membership.objects.filter(organisation=organisation, user=user).exists()
    assert _messages(response) == ["You left Baltic Goods."]


def test_last_owner_cannot_leave(client_as: Any, organisation: Organisation) -> None:
    MembershipFactory(organisation=organisation, role=ADMIN)  # other members don't count
    client = client_as(OWNER)
    response = client.post(reverse("accounts:organisation-leave"), follow=True)
    assert response.redirect_chain == [(reverse("accounts:organisation-leave"), 302)]
    assert response.status_code == 200
    assert (
        b"You are the only owner. Make another member an owner first, "
        b"or delete the organisation." in response.content
    )
    assert Membership.objects.filter(organisation=organisation, role=OWNER).count() == 1


# --- API authentication and API keys


def test_unauthenticated_api_request_is_401(store: Store) -> None:
    response = APIClient().get(reverse("api:store-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == error(
        401, "not_authenticated", "Authentication credentials were not provided."
    )


def test_unknown_api_key_is_401(store: Store) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer mm_sk_00000000_forged")
    response = api.get(reverse("api:store-list"))
    assert response.status_code == 401
    assert response.json() == error(401, "authentication_failed", "Unknown or revoked API key.")


def test_publishable_key_is_403_on_stores(store: Store) -> None:
    api = _secret_key(store, kind=ApiKey.Kind.PUBLISHABLE)
    response = api.get(reverse("api:store-list"))
    assert response.status_code == 403
    assert response.json() == error(
        403, "permission_denied", "A publishable key can only send browser events."
    )


def test_secret_key_reads_stores_but_manages_nothing(store: Store) -> None:
    api = _secret_key(store)

    listed = api.get(reverse("api:store-list"))
    assert listed.status_code == 200
    assert [s["name"] for s in listed.json()["results"]] == ["Baltic Goods LT"]

    created = api.post(reverse("api:store-list"), STORE_DATA)
    assert created.status_code == 403
    assert created.json() == needs_admin()
    assert not Store.objects.filter(name="Riga Shop").exists()

    # Not even the settings an editor may change: a key never changes its store.
    url = reverse("api:store-detail", kwargs={"pk": store.pk})
    window = api.patch(url, {"funnel_window_days": 7}, format="json")
    assert window.status_code == 403
    assert window.json() == needs_admin()
    store.refresh_from_db()
    assert store.funnel_window_days == 30

    keys = api.get(reverse("api:api-key-list"))
    assert keys.status_code == 403
    assert keys.json() == needs_admin()

    new_key = api.post(
        reverse("api:api-key-list"), {"store": store.pk, "kind": "secret", "name": "Mine"}
    )
    assert new_key.status_code == 403
    assert ApiKey.objects.filter(store=store).count() == 1


def test_revoked_secret_key_is_401(store: Store) -> None:
    api = _secret_key(store)
    ApiKey.objects.filter(store=store).update(revoked_at="2025-01-01T00:00:00Z")
    assert api.get(reverse("api:store-list")).status_code == 401


# --- Pages without log-in


@pytest.mark.parametrize(
    "page", ["home", "accounts:store-list", "accounts:member-list", "accounts:audit-log"]
)
def test_pages_send_anonymous_visitors_to_log_in(page: str, client: Client) -> None:
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={reverse(page)}"


def test_viewer_cannot_replace_a_store_api(api_as: Any, store: Store) -> None:
    """PUT is a write like PATCH: refused for a viewer, nothing saved."""
    url = reverse("api:store-detail", kwargs={"pk": store.pk})
    response = api_as(VIEWER).put(url, STORE_DATA)
    assert response.status_code == 403
    store.refresh_from_db()
    assert store.name == "Baltic Goods LT"


def test_store_created_via_api_lands_in_the_callers_organisation(
    api_as: Any, organisation: Organisation, other_organisation: Organisation
) -> None:
    """An admin's store always lands in their own organisation; the body cannot redirect it."""
    response = api_as(ADMIN).post(
        reverse("api:store-list"), {**STORE_DATA, "organisation": other_organisation.pk}
    )
    assert response.status_code == 201
    created = Store.objects.get(pk=response.json()["id"])
    assert created.organisation_id == organisation.pk
    assert not Store.objects.filter(organisation=other_organisation).exists()
