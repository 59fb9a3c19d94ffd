"""Sets the signed-in user's current organisation, role and store on every request."""

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
        request.store = None  # type: ignore[attr-defined]
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
                store_id = request.session.get(SESSION_STORE)
                stores = selectors.store_list(organisation=membership.organisation)
                store = stores.filter(pk=store_id).first() if store_id else None
                request.store = store or stores.first()  # type: ignore[attr-defined]
        return self.get_response(request)
