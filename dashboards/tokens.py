"""The weekly digest's unsubscribe link: the subscription's id, signed with SECRET_KEY (Django's
signing; a salt of its own, so no other signed value of the app works here). It needs no log-in,
and it only ever stops the one subscription it names; a new subscription gets a new id, so an
old email's link never stops it."""

from __future__ import annotations

from django.core import signing

SALT = "dashboards.digest.unsubscribe"


def _signer() -> signing.Signer:
    # Built per call: the key (and its fallbacks, for a rotation) are read from the settings.
    return signing.Signer(salt=SALT)


def token_for(subscription_id: int) -> str:
    return _signer().sign(str(subscription_id))


def subscription_id_for(token: str) -> int | None:
    """The id the token signs, or None for a forged or altered one."""
    try:
        value = _signer().unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None
