from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts import selectors
from accounts.models import Role


def tenancy(request: HttpRequest) -> dict[str, Any]:
    """The organisation and store switchers' choices, and role flags for templates.

    The flags only hide controls; every view checks the role again on the server.
    """
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    role = membership.role
    return {
        "current_organisation": membership.organisation,
        "current_membership": membership,
        "current_store": getattr(request, "store", None),
        "switchable_organisations": selectors.organisation_list_for_user(user=membership.user),
        "switchable_stores": selectors.store_list(organisation=membership.organisation),
        "can_edit": Role.at_least(role, Role.EDITOR),
        "can_admin": Role.at_least(role, Role.ADMIN),
        "is_owner": role == Role.OWNER,
    }
