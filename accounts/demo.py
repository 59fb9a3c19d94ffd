"""The demo organisation for `make demo`. Idempotent: running it again gives the same data.

Later apps add their own loaders to settings.DEMO_LOADERS; each receives the organisation.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organisation, Role, Store, User

DEMO_PASSWORD = "demo-password"
DEMO_ORGANISATION = "Baltic Goods"
DEMO_USERS = [
    ("demo@example.com", "Daiva Demo", Role.OWNER),
    ("viewer@example.com", "Vilma Viewer", Role.VIEWER),
]
DEMO_STORES = [
    {
        "name": "Baltic Goods LT",
        "domain": "lt.balticgoods.example",
        "currency": "EUR",
        "time_zone": "Europe/Vilnius",
        "default_language": "lt",
    },
    {
        "name": "Baltic Goods RO",
        "domain": "ro.balticgoods.example",
        "currency": "RON",
        "time_zone": "Europe/Bucharest",
        "default_language": "ro",
    },
]


@transaction.atomic
def load() -> Organisation:
    users = {}
    for email, name, _role in DEMO_USERS:
        user, _created = User.objects.get_or_create(email=email, defaults={"name": name})
        user.name = name
        user.is_active = True
        user.email_verified_at = user.email_verified_at or timezone.now()
        user.set_password(DEMO_PASSWORD)
        user.save()
        users[email] = user
    owner = users[DEMO_USERS[0][0]]
    organisation = (
        Organisation.objects.filter(
            name=DEMO_ORGANISATION,
            memberships__user=owner,
            memberships__role=Role.OWNER,
            deletion_requested_at__isnull=True,
        )
        .order_by("id")
        .first()
    )
    if organisation is None:
        organisation = Organisation.objects.create(name=DEMO_ORGANISATION, created_by=owner)
    for email, _name, role in DEMO_USERS:
        Membership.objects.update_or_create(
            organisation=organisation, user=users[email], defaults={"role": role}
        )
    for fields in DEMO_STORES:
        Store.objects.update_or_create(
            organisation=organisation, name=fields["name"], defaults=fields
        )
    return organisation
