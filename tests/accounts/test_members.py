from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts import purges, selectors, services
from accounts.crypto import hash_token
from accounts.models import AuditLogEntry, MemberInvitation, Membership, Organisation, Role, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _invite(organisation: Organisation, owner: User, email: str, role: str = Role.EDITOR) -> str:
    _invitation, token = services.member_invite(
        organisation=organisation,
        email=email,
        role=role,
        actor=services.Actor(user=owner),
        actor_role=Role.OWNER,
    )
    return token


def test_invitation_email_stores_only_a_hash_of_its_token(
    organisation: Organisation, member_factory: Any, on_commit: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    with on_commit(execute=True):
        token = _invite(organisation, owner, "Lina@Example.com")

    invitation = MemberInvitation.objects.get()
    assert invitation.email == "lina@example.com"
    assert invitation.role == Role.EDITOR
    assert invitation.token_hash == hash_token(token)
    assert token not in invitation.token_hash
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "You are invited to Baltic Goods on MomentMap"
    assert f"/join/{token}/" in mail.outbox[0].body


def test_new_person_accepts_by_creating_an_account(
    client: Any, organisation: Organisation, member_factory: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    token = _invite(organisation, owner, "lina@example.com", Role.VIEWER)

    page = client.get(f"/join/{token}/")
    assert page.status_code == 200
    assert "Join Baltic Goods" in page.content.decode()
    response = client.post(
        f"/join/{token}/",
        {"name": "Lina", "email": "lina@example.com", "password": "saskarsmes-punkts-99"},
    )

    assert response.status_code == 302
    user = User.objects.get(email="lina@example.com")
    assert user.email_verified_at is not None
    assert Membership.objects.get(user=user).role == Role.VIEWER
    assert MemberInvitation.objects.get().accepted_at is not None
    assert client.get(f"/join/{token}/").status_code == 404


def test_existing_user_logs_in_then_accepts(
    client: Any, organisation: Organisation, member_factory: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    existing = UserFactory(email="marta@example.com")
    token = _invite(organisation, owner, "marta@example.com", Role.ADMIN)

    redirect = client.get(f"/join/{token}/")
    assert redirect.status_code == 302
    assert redirect.url == f"/accounts/login/?next=/join/{token}/"
    client.post("/accounts/login/", {"username": existing.email, "password": PASSWORD})
    accepted = client.post(f"/join/{token}/")

    assert accepted.status_code == 302
    assert Membership.objects.get(user=existing, organisation=organisation).role == Role.ADMIN
    assert client.session["organisation_id"] == organisation.pk


def test_invitation_for_another_address_is_refused(
    organisation: Organisation, member_factory: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    _invite(organisation, owner, "marta@example.com")
    intruder = UserFactory(email="intruder@example.com")
    invitation = MemberInvitation.objects.get()
    with pytest.raises(ValidationError, match=r"marta@example\.com"):
        services.member_invitation_accept(invitation=invitation, user=intruder)
    assert not Membership.objects.filter(user=intruder).exists()


def test_last_owner_cannot_leave_or_be_demoted(
    organisation: Organisation, member_factory: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    membership = Membership.objects.get(user=owner)
    with pytest.raises(ValidationError, match="only owner"):
        services.membership_leave(membership=membership)
    with pytest.raises(ValidationError, match="at least one owner"):
        services.member_role_change(
            membership=membership,
            role=Role.ADMIN,
            actor=services.Actor(user=owner),
            actor_role=Role.OWNER,
        )
    assert Membership.objects.get(user=owner).role == Role.OWNER


def test_member_leaves_and_loses_access(
    client: Any, organisation: Organisation, member_factory: Any
) -> None:
    member_factory(organisation, Role.OWNER)
    editor = member_factory(organisation, Role.EDITOR)
    client.force_login(editor)

    response = client.post("/organisations/leave/")

    assert response.status_code == 302
    assert not Membership.objects.filter(user=editor).exists()
    assert client.get("/stores/").url == "/organisations/new/"
    entry = AuditLogEntry.objects.get(action="member.left")
    assert entry.actor_label == editor.email


def test_switching_organisation_changes_the_current_one(
    client: Any, organisation: Organisation, other_organisation: Organisation, member_factory: Any
) -> None:
    user = member_factory(organisation, Role.VIEWER)
    Membership.objects.create(organisation=other_organisation, user=user, role=Role.EDITOR)
    client.force_login(user)

    switched = client.post("/organisations/switch/", {"organisation": other_organisation.pk})
    assert switched.status_code == 302
    page = client.get("/")
    assert page.context["current_organisation"] == other_organisation
    assert page.context["current_membership"].role == Role.EDITOR


def test_switching_to_an_organisation_one_is_not_in_is_a_404(
    client: Any, organisation: Organisation, other_organisation: Organisation, member_factory: Any
) -> None:
    client.force_login(member_factory(organisation, Role.OWNER))
    response = client.post("/organisations/switch/", {"organisation": other_organisation.pk})
    assert response.status_code == 404
    assert client.get("/").context["current_organisation"] == organisation


def test_new_organisation_makes_its_creator_owner(client: Any, member_factory: Any) -> None:
    user = UserFactory()
    client.force_login(user)
    assert client.get("/").url == "/organisations/new/"

    response = client.post("/organisations/new/", {"name": "Eesti Kaubad"})

    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Eesti Kaubad")
    assert Membership.objects.get(user=user, organisation=organisation).role == Role.OWNER


def test_owner_deletes_the_organisation_in_the_background(
    client: Any, organisation: Organisation, member_factory: Any, store: Any, on_commit: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    client.force_login(owner)

    wrong = client.post("/organisations/delete/", {"confirm_name": "baltic goods"})
    assert wrong.status_code == 200
    assert "That is not the organisation&#x27;s name." in wrong.content.decode()
    with on_commit(execute=True) as callbacks:
        response = client.post("/organisations/delete/", {"confirm_name": "Baltic Goods"})

    assert response.status_code == 302
    assert len(callbacks) == 1
    assert not Organisation.objects.filter(pk=organisation.pk).exists()
    assert not type(store).objects.filter(pk=store.pk).exists()
    assert User.objects.filter(pk=owner.pk).exists()


def test_deletion_request_hides_the_organisation_before_the_task_runs(
    organisation: Organisation, member_factory: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    services.organisation_delete_request(
        organisation=organisation, actor=services.Actor(user=owner)
    )  # on_commit never fires inside the test transaction: the task has not run
    assert Organisation.objects.filter(pk=organisation.pk).exists()
    assert list(selectors.organisation_list_for_user(user=owner)) == []
    assert selectors.membership_for_user(user=owner, organisation_id=organisation.pk) is None
    purges.organisation_purge(organisation_id=organisation.pk)
    purges.organisation_purge(organisation_id=organisation.pk)  # idempotent
    assert not Organisation.objects.filter(pk=organisation.pk).exists()


def test_purge_ignores_an_organisation_not_marked_for_deletion(organisation: Organisation) -> None:
    purges.organisation_purge(organisation_id=organisation.pk)
    assert Organisation.objects.filter(pk=organisation.pk).exists()


def test_invite_page_flow_and_audit(
    client: Any, organisation: Organisation, member_factory: Any, on_commit: Any
) -> None:
    admin = member_factory(organisation, Role.ADMIN)
    client.force_login(admin)
    with on_commit(execute=True):
        response = client.post("/members/invite/", {"email": "new@example.com", "role": "editor"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    entry = AuditLogEntry.objects.get(action="member.invited")
    assert entry.actor == admin
    assert entry.details == {"email": "new@example.com", "role": "editor"}

    refused = client.post("/members/invite/", {"email": "x@example.com", "role": "owner"})
    assert refused.status_code == 400
    assert not MemberInvitation.objects.filter(email="x@example.com").exists()
    assert "Only an owner can make someone an owner." in refused.content.decode()
    assert 'value="x@example.com"' in refused.content.decode()  # kept as typed

    typo = client.post("/members/invite/", {"email": "ona@example", "role": "editor"})
    assert typo.status_code == 400
    assert typo.context["invite_form"].errors["email"] == ["Enter a valid email address."]
    assert 'value="ona@example"' in typo.content.decode()
    assert MemberInvitation.objects.count() == 1


def test_a_failed_acceptance_leaves_no_account_behind(
    organisation: Organisation, member_factory: Any, monkeypatch: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    _invite(organisation, owner, "lina@example.com")
    invitation = MemberInvitation.objects.get()

    def refuse(**kwargs: Any) -> None:
        raise ValidationError("expired")

    monkeypatch.setattr(services, "member_invitation_accept", refuse)
    with pytest.raises(ValidationError):
        services.member_invitation_sign_up(
            invitation=invitation, password="saskarsmes-punkts-99", name="Lina"
        )
    assert not User.objects.filter(email="lina@example.com").exists()
