"""The JavaScript message catalogue (`/jsi18n/`) for the scripts under static/js, cacheable.

Its URL names the language and a version of the compiled catalogues
(`/jsi18n/?language=lt&v=…`), so a browser keeps it for a year and fetches another one only
when the person switches language or a deploy changes the translations. Without those
parameters the view answers in the request's language, uncached, as Django's does.
"""

from __future__ import annotations

import hashlib
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.views.i18n import JavaScriptCatalog

from core.languages import language_offered

YEAR = 365 * 24 * 3600
_catalogue_view = JavaScriptCatalog.as_view()


@cache
def catalogue_version() -> str:
    """A digest of every compiled JavaScript catalogue: a new one with each translation."""
    digest = hashlib.sha256()
    for base in settings.LOCALE_PATHS:
        for path in sorted(base.glob("*/LC_MESSAGES/djangojs.mo")):
            digest.update(path.parent.parent.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def javascript_catalogue(request: HttpRequest) -> HttpResponseBase:
    language = request.GET.get("language", "")
    if not language_offered(language):
        return _catalogue_view(request)
    with translation.override(language):
        response = _catalogue_view(request)
    if request.GET.get("v") == catalogue_version():
        patch_cache_control(response, public=True, max_age=YEAR, immutable=True)
    return response
