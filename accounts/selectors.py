"""Reads. Every object that belongs to an organisation is reached through these, scoped to
that organisation, so another organisation's object is simply not found (a 404)."""

from __future__ import annotations

import hmac

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.crypto import hash_token
from accounts.models import (
    ApiKey,
    AuditLogEntry,
    MemberInvitation,
    Membership,
    Organisation,
    Store,
    User,
)


def organisation_list_for_user(*, user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        memberships__user=user, deletion_requested_at__isnull=True
    ).order_by("name", "id")


def membership_for_user(*, user: User, organisation_id: int | None) -> Membership | None:
    """The user's membership in that organisation, or their first one when it is not theirs."""
    memberships = Membership.objects.select_related("organisation", "user").filter(
        user=user, organisation__deletion_requested_at__isnull=True
    )
    if organisation_id is not None:
        membership = memberships.filter(organisation_id=organisation_id).first()
        if membership is not None:
            return membership
    return memberships.order_by("organisation__name", "organisation_id").first()


def store_list(*, organisation: Organisation, only_store: Store | None = None) -> QuerySet[Store]:
    """The organisation's stores; one being deleted is gone from here at once. With
    `only_store` (a store's API key), that store alone."""
    stores = Store.objects.filter(organisation=organisation, deletion_requested_at__isnull=True)
    return stores if only_store is None else stores.filter(pk=only_store.pk)


def store_get(*, organisation: Organisation, pk: int) -> Store:
    return get_object_or_404(store_list(organisation=organisation), pk=pk)


def member_list(*, organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__email")
    )


def member_get(*, organisation: Organisation, pk: int) -> Membership:
    return get_object_or_404(member_list(organisation=organisation), pk=pk)


def invitation_list(*, organisation: Organisation) -> QuerySet[MemberInvitation]:
    return MemberInvitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def invitation_get(*, organisation: Organisation, pk: int) -> MemberInvitation:
    return get_object_or_404(invitation_list(organisation=organisation), pk=pk)


def invitation_get_by_token(*, token: str) -> MemberInvitation | None:
    """A pending invitation for this raw token (public URL), or None."""
    return (
        MemberInvitation.objects.select_related("organisation")
        .filter(
            token_hash=hash_token(token),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
            organisation__deletion_requested_at__isnull=True,
        )
        .first()
    )


def api_key_list(*, organisation: Organisation, store: Store | None = None) -> QuerySet[ApiKey]:
    keys = ApiKey.objects.filter(organisation=organisation).select_related("store", "created_by")
    if store is not None:
        keys = keys.filter(store=store)
    return keys


def api_key_get(*, organisation: Organisation, pk: int) -> ApiKey:
    return get_object_or_404(api_key_list(organisation=organisation), pk=pk)


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key`, found by its visible prefix, compared in constant time."""
    # mm_sk_<8 hex>_<secret>: the secret itself may contain underscores.
    parts = raw_key.split("_", 3)
    if len(parts) != 4 or not parts[3]:
        return None
    prefix = "_".join(parts[:3])
    key = (
        ApiKey.objects.select_related("store", "organisation")
        .filter(
            prefix=prefix,
            revoked_at__isnull=True,
            organisation__deletion_requested_at__isnull=True,
            store__deletion_requested_at__isnull=True,
        )
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, hash_token(raw_key)):
        return None
    return key


def audit_log_list(*, organisation: Organisation, action: str = "") -> QuerySet[AuditLogEntry]:
    entries = AuditLogEntry.objects.filter(organisation=organisation).select_related("actor")
    if action:
        entries = entries.filter(action=action)
    return entries
