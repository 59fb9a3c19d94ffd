"""Encryption at rest for secrets that must be read back later (webhook signing secrets,
SMTP passwords). Secrets that only need checking (passwords, API keys, tokens) are hashed
instead and never come here.

Keys come from FIELD_ENCRYPTION_KEYS (Fernet keys, newest first): rotating means putting a
new key in front; values written with older keys still decrypt.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "Cannot decrypt a stored secret: FIELD_ENCRYPTION_KEYS does not hold the key it "
            "was written with."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column whose value is stored encrypted and read back in plain text."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)


def hash_token(raw: str) -> str:
    """SHA-256 of a high-entropy random token (API keys, invitation tokens)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
