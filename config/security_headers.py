"""Security headers that Django 5.2 has no setting for.

- Content-Security-Policy on every response: the policy CONTENT_SECURITY_POLICY_VIEWS names
  for the view that answered (by URL name: the public pages' stricter one, the results page's
  and the API docs' for the third-party code they run), else CONTENT_SECURITY_POLICY. The
  policies, and why each source is allowed, are in the settings.
- Cache-Control: no-store on every API response and on every response to a signed-in user, so
  that neither a proxy nor the browser's cache keeps a copy of private data (the back button on
  a shared computer after logging out shows nothing).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from core.api import is_api


def policy_header(policy: dict[str, list[str]]) -> str:
    """{"img-src": ["'self'", "data:"], ...} -> "img-src 'self' data:; ..."."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = policy_header(settings.CONTENT_SECURITY_POLICY)
        self.view_policies = {
            view_name: policy_header(policy)
            for view_name, policy in settings.CONTENT_SECURITY_POLICY_VIEWS.items()
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match  # None when no URL matched (a 404)
        view_name = match.view_name if match else ""
        if not view_name and request.path_info.startswith("/s/"):
            view_name = "survey-public:missing"  # a buyer's 404 or 500 before any view ran
        response["Content-Security-Policy"] = self.view_policies.get(view_name, self.policy)
        return response


class NoStoreMiddleware:
    """Cache-Control: no-store under /api/ and for signed-in users (needs request.user)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "public" in response.get("Cache-Control", ""):
            return response  # the same for everyone, on a versioned URL (the JS catalogue)
        if is_api(request) or request.user.is_authenticated:
            patch_cache_control(response, no_store=True)
        return response
