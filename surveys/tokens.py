"""Answer-link tokens: HMAC(server key, per-invitation nonce).

The database keeps the nonce and a SHA-256 of the token, never the token: a database dump
alone gives no working link, while a reminder can rebuild the same link from the nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

TOKEN_BYTES = 24  # 192 bits, above the 128 required


def new_nonce() -> str:
    return secrets.token_hex(16)


def _key() -> bytes:
    return settings.SURVEY_LINK_KEY.encode()


def token_for(nonce: str) -> str:
    digest = hmac.new(_key(), nonce.encode(), hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
