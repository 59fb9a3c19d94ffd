from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts import selectors
from accounts.middleware import SESSION_STORE, membership_of
from accounts.models import Role, Store
from core.languages import LANGUAGE_NAMES

# A store's own pages: the header's store switcher shows the store they are about.
STORE_PATH = re.compile(r"^/stores/(\d+)/")


def tenancy(request: HttpRequest) -> dict[str, Any]:
    """The organisation and store switchers' choices, and role flags for templates.

    The flags only hide controls; every view checks the role again on the server.
    """
    membership = membership_of(request)
    if membership is None:
        return {}
    role = membership.role
    stores = selectors.store_list(organisation=membership.organisation)

    def current_store() -> Store | None:
        # The store of the page (/stores/<id>/…), else the session's, else the first: read from
        # `stores`' result cache, which the switcher fills, so no query of its own (and none at
        # all for pages without a header).
        on_page = STORE_PATH.match(request.path_info)
        store_id = int(on_page.group(1)) if on_page else request.session.get(SESSION_STORE)
        return next((s for s in stores if s.pk == store_id), None) or next(iter(stores), None)

    return {
        "current_organisation": membership.organisation,
        "current_membership": membership,
        "current_store": SimpleLazyObject(current_store),
        "switchable_organisations": selectors.organisation_list_for_user(user=membership.user),
        "switchable_stores": stores,
        "can_edit": Role.at_least(role, Role.EDITOR),
        "can_admin": Role.at_least(role, Role.ADMIN),
        "is_owner": role == Role.OWNER,
    }


def languages(request: HttpRequest) -> dict[str, Any]:
    """The header's language switcher: every language named in itself, and the person's own
    setting ("" follows the browser)."""
    user = getattr(request, "user", None)
    return {
        "language_choices": list(LANGUAGE_NAMES.items()),
        "language_setting": getattr(user, "language", "") if user is not None else "",
    }
