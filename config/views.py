"""Error pages and /favicon.ico.

Under /api/ errors are JSON in the API's error shape; under /s/ (a buyer's survey link) they
are the buyer's pages, in the survey's language and without a staff link
(surveys/public_views.py); elsewhere the staff pages, in the reader's language.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.http import require_safe

from core.api import api_bad_request, api_not_found, api_server_error, is_api
from surveys import public_views


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's own refusals (a body over the size limit, too many fields): pages keep
    Django's 400, the API answers in its error shape, with 413 for a body over the limit."""
    if is_api(request):
        return api_bad_request(request, exception)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_not_found(request, exception)
    if public_views.is_buyer_path(request):
        return public_views.page_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """No database here: the error may be the database. The staff page (500.html) is
    rendered without a request, in the language that was active (the reader's)."""
    if is_api(request):
        return api_server_error(request)
    if public_views.is_buyer_path(request):
        return public_views.server_error(request)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form refused for its CSRF token, in place of Django's page."""
    if public_views.is_buyer_path(request):
        return public_views.csrf_failure(request, reason)
    return render(request, "403_csrf.html", status=403)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page names no icon (the journey share pages, JSON,
    downloads): the static favicon, under its hashed name. Temporary (302), as that name
    changes with each deploy; the browser keeps it a day."""
    response = HttpResponseRedirect(static("favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
