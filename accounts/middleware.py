"""Sets the signed-in user's current organisation and role (membership) on every request.

The current store (session SESSION_STORE) is only needed by the page header: the context
processor picks it from the store switcher's list, lazily, with no query of its own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from rest_framework.request import Request

from accounts import selectors
from accounts.models import Membership

SESSION_ORGANISATION = "organisation_id"
SESSION_STORE = "store_id"


def membership_note(request: HttpRequest, membership: Membership | None) -> None:
    """Note the signed-in person's membership of their current organisation on the request."""
    setattr(request, "membership", membership)  # noqa: B010 (an attribute HttpRequest has not)


def membership_of(request: HttpRequest | Request) -> Membership | None:
    """The membership TenancyMiddleware noted: None when signed out or in no organisation."""
    membership = getattr(request, "membership", None)
    return membership if isinstance(membership, Membership) else None


class TenancyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership_note(request, None)
        user = request.user
        if user.is_authenticated:
            membership = selectors.membership_for_user(
                user=user,
                organisation_id=request.session.get(SESSION_ORGANISATION),
            )
            if membership is not None:
                membership_note(request, membership)
                if request.session.get(SESSION_ORGANISATION) != membership.organisation_id:
                    request.session[SESSION_ORGANISATION] = membership.organisation_id
        return self.get_response(request)


class UserLanguageMiddleware:
    """The signed-in person's own language (their setting) over the browser's, which
    LocaleMiddleware chose before authentication was known. A blank setting keeps the
    browser's (or the language cookie's). URLs stay the same in every language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        language = getattr(user, "language", "") if user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
