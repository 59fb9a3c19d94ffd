"""Writes for accounts: sign-up, organisations, members, stores, API keys, the audit log.

Each service is atomic; emails and background work are enqueued on commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import hash_token, new_token
from accounts.emails import email_enqueue, email_language
from accounts.models import (
    STORE_FIELDS,
    STORE_METRICS_FIELDS,
    ApiKey,
    AuditLogEntry,
    MemberInvitation,
    Membership,
    Organisation,
    Role,
    Store,
    User,
)
from accounts.signals import store_deletion_requested, store_metrics_settings_changed
from accounts.tasks import organisation_purge, store_purge
from core.languages import language_offered

EMAIL_VERIFICATION_SALT = "accounts.email-verification"


@dataclass(frozen=True)
class Actor:
    """Who performs a write: a signed-in user, or an API key acting for a store."""

    user: User | None = None
    api_key: ApiKey | None = None
    ip_address: str | None = None

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.email
        if self.api_key is not None:
            return f"API key {self.api_key.prefix}"
        return "system"


SYSTEM = Actor()


def audit_record(
    *,
    organisation: Organisation,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLogEntry:
    return AuditLogEntry.objects.create(
        organisation=organisation,
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        object_type=target._meta.label if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        details=details or {},
        ip_address=actor.ip_address,
    )


# --- Sign-up and email verification


@transaction.atomic
def user_sign_up(
    *, email: str, password: str, name: str, organisation_name: str, language: str
) -> User:
    """Create an unverified user and their organisation (they own it); email a link.
    `language` is the sign-up page's: the verification email's and the organisation's."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with this email already exists.")})
    user = User.objects.create_user(email=email, password=password, name=name.strip())
    organisation_create(user=user, name=organisation_name, language=language)
    verification_email_send(user=user, language=language)
    return user


def verification_token_make(*, user: User) -> str:
    return signing.dumps({"user": user.pk, "email": user.email}, salt=EMAIL_VERIFICATION_SALT)


def verification_email_send(*, user: User, language: str) -> None:
    """`language`: the page's where the person asked for it; their own setting wins."""
    token = verification_token_make(user=user)
    email_enqueue(
        language=email_language(user=user, fallback=language),
        to=user.email,
        template="accounts/email/verify",
        context={
            "user": user,
            "url": settings.SITE_URL + reverse("accounts:verify-email", args=[token]),
            "days": settings.EMAIL_VERIFICATION_MAX_AGE // 86400,
        },
    )


@transaction.atomic
def user_verify_email(*, token: str) -> User:
    """Mark the email verified; a stale, forged or reused-for-another-address link fails."""
    try:
        data = signing.loads(
            token, salt=EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
        )
    except signing.SignatureExpired as exc:
        raise ValidationError(_("This link has expired. Log in to get a new one.")) from exc
    except signing.BadSignature as exc:
        raise ValidationError(_("This link is not valid.")) from exc
    user = User.objects.select_for_update().filter(pk=data.get("user")).first()
    if user is None or user.email != data.get("email"):
        raise ValidationError(_("This link is not valid."))
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


# --- Organisations


@transaction.atomic
def organisation_create(*, user: User, name: str, language: str) -> Organisation:
    """`language` (the creator's) is the one its invitations go out in until an admin
    changes it."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the organisation a name.")})
    if not language_offered(language):
        language = settings.LANGUAGE_CODE
    organisation = Organisation.objects.create(name=name, created_by=user, language=language)
    Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
    audit_record(
        organisation=organisation,
        actor=Actor(user=user),
        action="organisation.created",
        target=organisation,
    )
    return organisation


@transaction.atomic
def organisation_delete_request(*, organisation: Organisation, actor: Actor) -> None:
    """Hide the organisation at once; a background task removes its data."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if organisation.deletion_requested_at is not None:
        return
    organisation.deletion_requested_at = timezone.now()
    organisation.save(update_fields=["deletion_requested_at"])
    audit_record(
        organisation=organisation,
        actor=actor,
        action="organisation.deletion_requested",
        target=organisation,
    )
    organisation_id = organisation.pk
    transaction.on_commit(lambda: organisation_purge.delay(organisation_id=organisation_id))


# --- Members


@transaction.atomic
def membership_leave(*, membership: Membership) -> None:
    _ensure_another_owner(
        membership=membership,
        message=_(
            "You are the only owner. Make another member an owner first, "
            "or delete the organisation."
        ),
    )
    audit_record(
        organisation=membership.organisation,
        actor=Actor(user=membership.user),
        action="member.left",
        target=membership.user,
    )
    membership.delete()


def _ensure_another_owner(*, membership: Membership, message: str) -> None:
    if membership.role != Role.OWNER:
        return
    owners = Membership.objects.select_for_update().filter(
        organisation_id=membership.organisation_id, role=Role.OWNER
    )
    if not owners.exclude(pk=membership.pk).exists():
        raise ValidationError(message)


def _ensure_may_grant(*, actor_role: str, role: str) -> None:
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise ValidationError({"role": _("Only an owner can make someone an owner.")})


@transaction.atomic
def member_role_change(
    *, membership: Membership, role: str, actor: Actor, actor_role: str
) -> Membership:
    role = Role(role)
    _ensure_may_grant(actor_role=actor_role, role=role)
    if membership.role == Role.OWNER and actor_role != Role.OWNER:
        raise ValidationError({"role": _("Only an owner can change an owner's role.")})
    if role != Role.OWNER:
        _ensure_another_owner(
            membership=membership,
            message=_(
                "An organisation needs at least one owner; make someone else an owner first."
            ),
        )
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        organisation=membership.organisation,
        actor=actor,
        action="member.role_changed",
        target=membership.user,
        details={"from": previous, "to": role},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor: Actor, actor_role: str) -> None:
    if membership.role == Role.OWNER and actor_role != Role.OWNER:
        raise ValidationError(_("Only an owner can remove an owner."))
    _ensure_another_owner(
        membership=membership,
        message=_("An organisation needs at least one owner; this member is the last one."),
    )
    audit_record(
        organisation=membership.organisation,
        actor=actor,
        action="member.removed",
        target=membership.user,
    )
    membership.delete()


@transaction.atomic
def member_invite(
    *, organisation: Organisation, email: str, role: str, actor: Actor, actor_role: str
) -> tuple[MemberInvitation, str]:
    """Create an invitation and email its link; returns it with the raw token (not stored)."""
    email = email.strip().lower()
    role = Role(role)
    _ensure_may_grant(actor_role=actor_role, role=role)
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    # A new invitation replaces a pending one for the same address.
    MemberInvitation.objects.filter(
        organisation=organisation, email__iexact=email, accepted_at__isnull=True
    ).delete()
    token = new_token()
    invitation = MemberInvitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=settings.MEMBER_INVITATION_DAYS),
    )
    # The invitee's language: their own if they have an account, else the organisation's;
    # never the inviter's. The role's label stays lazy so that it is translated in it too.
    invitee = User.objects.filter(email__iexact=email).first()
    email_enqueue(
        to=email,
        template="accounts/email/invitation",
        language=email_language(user=invitee, organisation=organisation),
        context={
            "organisation": organisation,
            "inviter": actor.label,
            "role": Role(role).label,
            "url": settings.SITE_URL + reverse("accounts:invitation-accept", args=[token]),
            "days": settings.MEMBER_INVITATION_DAYS,
        },
    )
    audit_record(
        organisation=organisation,
        actor=actor,
        action="member.invited",
        target=invitation,
        details={"email": email, "role": role},
    )
    return invitation, token


def user_language_set(*, user: User, language: str) -> None:
    """The person's language for pages and emails; blank follows the browser's."""
    if language and not language_offered(language):
        raise ValidationError({"language": _("Choose one of the languages listed.")})
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


@transaction.atomic
def organisation_language_set(*, organisation: Organisation, language: str, actor: Actor) -> None:
    """The language of invitations to addresses with no account yet (admins)."""
    if not language_offered(language):
        raise ValidationError({"language": _("Choose one of the languages listed.")})
    if organisation.language == language:
        return
    before = organisation.language
    Organisation.objects.filter(pk=organisation.pk).update(language=language)
    organisation.language = language
    audit_record(
        organisation=organisation,
        actor=actor,
        action="organisation.language_changed",
        target=organisation,
        details={"from": before, "to": language},
    )


@transaction.atomic
def member_invitation_revoke(*, invitation: MemberInvitation, actor: Actor) -> None:
    audit_record(
        organisation=invitation.organisation,
        actor=actor,
        action="member.invitation_revoked",
        target=invitation,
        details={"email": invitation.email},
    )
    invitation.delete()


@transaction.atomic
def member_invitation_accept(*, invitation: MemberInvitation, user: User) -> Membership:
    """Join the organisation. The invitation proves the address, so it also verifies it."""
    invitation = MemberInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(_("This invitation has expired or was already used."))
    if user.email.lower() != invitation.email.lower():
        raise ValidationError(
            _("This invitation is for %(email)s; log in with that address to accept it.")
            % {"email": invitation.email}
        )
    membership, created = Membership.objects.get_or_create(
        organisation=invitation.organisation, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    if created:
        audit_record(
            organisation=invitation.organisation,
            actor=Actor(user=user),
            action="member.joined",
            target=user,
            details={"role": invitation.role},
        )
    return membership


# --- Stores


def _store_validate(store: Store) -> None:
    store.full_clean(validate_unique=False, validate_constraints=False)
    duplicate = Store.objects.filter(
        organisation=store.organisation, name=store.name, deletion_requested_at__isnull=True
    ).exclude(pk=store.pk)
    if duplicate.exists():
        raise ValidationError({"name": _("Another store in this organisation has this name.")})


@transaction.atomic
def store_create(*, organisation: Organisation, actor: Actor, **fields: Any) -> Store:
    store = Store(organisation=organisation, **{k: fields[k] for k in STORE_FIELDS if k in fields})
    store.domain = store.domain.strip().lower()
    store.currency = store.currency.strip().upper()
    _store_validate(store)
    store.save()
    audit_record(organisation=organisation, actor=actor, action="store.created", target=store)
    return store


@transaction.atomic
def store_update(*, store: Store, actor: Actor, **fields: Any) -> Store:
    """Change the store's settings (STORE_FIELDS; which ones a caller may change is the
    view's check), audited; a change of its funnel window or retention days is announced to
    the metrics once the transaction commits (store_metrics_settings_changed)."""
    changes = {}
    for name in STORE_FIELDS:
        if name in fields and fields[name] != getattr(store, name):
            changes[name] = {"from": getattr(store, name), "to": fields[name]}
            setattr(store, name, fields[name])
    store.domain = store.domain.strip().lower()
    store.currency = store.currency.strip().upper()
    _store_validate(store)
    store.save()
    if changes:
        audit_record(
            organisation=store.organisation,
            actor=actor,
            action="store.updated",
            target=store,
            details=changes,
        )
    changed = [name for name in STORE_METRICS_FIELDS if name in changes]
    if changed:
        store_id = store.pk
        transaction.on_commit(
            lambda: store_metrics_settings_changed.send(
                sender=Store, store_id=store_id, changed=changed
            )
        )
    return store


@transaction.atomic
def store_delete_request(*, store: Store, actor: Actor) -> None:
    """Delete a store as its users see it, at once: hidden from every list and selector, its
    API keys revoked, and (store_deletion_requested) its journeys kept as maps without it, the
    active one archived, and its surveys closed. A background task then removes its rows."""
    # NO KEY UPDATE: waits for a journey being activated for the store or a contact import
    # (they lock the row too), without blocking the inserts that reference the store.
    store = Store.objects.select_for_update(no_key=True).get(pk=store.pk)
    if store.deletion_requested_at is not None:
        return
    store.deletion_requested_at = timezone.now()
    store.save(update_fields=["deletion_requested_at"])
    live_keys = ApiKey.objects.filter(store=store, revoked_at__isnull=True)
    revoked = sorted(live_keys.values_list("prefix", flat=True))
    live_keys.update(revoked_at=store.deletion_requested_at)
    store_deletion_requested.send(sender=Store, store=store, actor=actor)
    audit_record(
        organisation=store.organisation,
        actor=actor,
        action="store.deleted",
        target=store,
        details={"api_keys_revoked": revoked} if revoked else None,
    )
    store_id = store.pk
    transaction.on_commit(lambda: store_purge.delay(store_id=store_id))


# --- API keys

KEY_PREFIXES = {ApiKey.Kind.SECRET: "mm_sk", ApiKey.Kind.PUBLISHABLE: "mm_pk"}


@transaction.atomic
def api_key_create(*, store: Store, kind: str, name: str, actor: Actor) -> tuple[ApiKey, str]:
    """Create a key and return it with the full key, which is shown once and never stored."""
    kind = ApiKey.Kind(kind)
    name = name.strip() or _("Unnamed key")
    prefix = f"{KEY_PREFIXES[kind]}_{secrets.token_hex(4)}"
    raw_key = f"{prefix}_{new_token(32)}"
    api_key = ApiKey.objects.create(
        organisation=store.organisation,
        store=store,
        kind=kind,
        name=name,
        prefix=prefix,
        key_hash=hash_token(raw_key),
        created_by=actor.user,
    )
    audit_record(
        organisation=store.organisation,
        actor=actor,
        action="api_key.created",
        target=api_key,
        details={"store": store.name, "kind": kind},
    )
    return api_key, raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            organisation=api_key.organisation,
            actor=actor,
            action="api_key.revoked",
            target=api_key,
        )
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use, at most once a minute per key so that busy keys cost no write per call."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@transaction.atomic
def member_invitation_sign_up(*, invitation: MemberInvitation, password: str, name: str) -> User:
    """A new person accepts an invitation: their account and membership are made together,
    so a failed acceptance leaves no account without a membership behind."""
    user = User.objects.create_user(email=invitation.email, password=password, name=name)
    member_invitation_accept(invitation=invitation, user=user)
    return user
