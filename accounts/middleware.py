"""Sets the signed-in user's current organisation and role (membership) on every request.

The current store (session SESSION_STORE) is only needed by the page header: the context
processor picks it from the store switcher's list, lazily, with no query of its own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounts import selectors

SESSION_ORGANISATION = "organisation_id"
SESSION_STORE = "store_id"


class TenancyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organisation = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated:
            membership = selectors.membership_for_user(
                user=user,
                organisation_id=request.session.get(SESSION_ORGANISATION),
            )
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                request.organisation = membership.organisation  # type: ignore[attr-defined]
                if request.session.get(SESSION_ORGANISATION) != membership.organisation_id:
                    request.session[SESSION_ORGANISATION] = membership.organisation_id
        return self.get_response(request)
