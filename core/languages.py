"""The languages the product speaks, each named in itself, so that a reader finds theirs
whatever language the page is in (the staff header's switcher, the buyer's pages)."""

from django.conf import settings

LANGUAGE_NAMES = {
    "en": "English",
    "lt": "Lietuvių",
    "lv": "Latviešu",
    "et": "Eesti",
    "cs": "Čeština",
    "ro": "Română",
}


def language_offered(code: str) -> bool:
    """Whether `code` is one of the languages the product speaks (settings.LANGUAGES)."""
    return code in {language for language, _name in settings.LANGUAGES}
