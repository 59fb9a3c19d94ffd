"""`{% javascript_catalogue_url %}`: the cacheable URL of the JavaScript message catalogue in
the page's language (core/javascript_catalogue.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import translation

from core.javascript_catalogue import catalogue_version

register = template.Library()


@register.simple_tag
def javascript_catalogue_url() -> str:
    query = {"language": translation.get_language() or "en", "v": catalogue_version()}
    return f"{reverse('javascript-catalog')}?{urlencode(query)}"
