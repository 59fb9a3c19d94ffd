"""The languages the product speaks, each named in itself, so that a reader finds theirs
whatever language the page is in (the staff header's switcher, the buyer's pages)."""

LANGUAGE_NAMES = {
    "en": "English",
    "lt": "Lietuvių",
    "lv": "Latviešu",
    "et": "Eesti",
    "cs": "Čeština",
    "ro": "Română",
}
