"""Error pages (JSON in the API's error shape under /api/, HTML elsewhere) and /favicon.ico."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.http import require_safe

from core.api import api_bad_request, api_not_found, api_server_error, is_api


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's own refusals (a body over the size limit, too many fields): pages keep
    Django's 400, the API answers in its error shape, with 413 for a body over the limit."""
    if is_api(request):
        return api_bad_request(request, exception)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return api_server_error(request)
    return defaults.server_error(request)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page names no icon (the journey share pages, JSON,
    downloads): the static favicon, under its hashed name. Temporary (302), as that name
    changes with each deploy; the browser keeps it a day."""
    response = HttpResponseRedirect(static("favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
