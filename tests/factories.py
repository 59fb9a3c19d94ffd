"""factory_boy factories for accounts; other apps add theirs beside their tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.crypto import hash_token, new_token
from accounts.models import Membership, Organisation, Role, Store, User

PASSWORD = "a-Long-test-passw0rd"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"User {n}")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    domain = factory.Sequence(lambda n: f"shop{n}.example.com")
    currency = "EUR"
    time_zone = "Europe/Vilnius"
    default_language = "lt"


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A store's key; pass `store` (the organisation follows it). `raw_key` is not stored:
    pass your own to know it, e.g. ApiKeyFactory(store=s, raw_key="mm_sk_ab12cd34_xyz")."""

    class Meta:
        model = "accounts.ApiKey"

    class Params:
        raw_key = factory.LazyAttribute(lambda o: f"{o.prefix}_{new_token(32)}")

    store = factory.SubFactory(StoreFactory)
    organisation = factory.LazyAttribute(lambda o: o.store.organisation)
    kind = "secret"
    name = factory.Sequence(lambda n: f"Key {n}")
    prefix = factory.Sequence(lambda n: f"mm_sk_t{n:07d}")
    key_hash = factory.LazyAttribute(lambda o: hash_token(o.raw_key))


class MemberInvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation; pass `token` to know the raw token (only its hash is stored)."""

    class Meta:
        model = "accounts.MemberInvitation"

    class Params:
        token = factory.LazyFunction(new_token)

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.VIEWER
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.token))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class AuditLogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.AuditLogEntry"

    organisation = factory.SubFactory(OrganisationFactory)
    actor_label = "system"
    action = "store.updated"
    object_type = "accounts.Store"
    object_id = "1"
    object_repr = "A store"
    details = factory.LazyFunction(dict)
