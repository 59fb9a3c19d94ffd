from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from accounts import crypto


def test_encrypt_round_trip_never_stores_plain_text() -> None:
    secret = "smtp-pässword-ąčę"
    stored = crypto.encrypt(secret)
    assert secret not in stored
    assert crypto.decrypt(stored) == secret
    assert crypto.encrypt(secret) != stored  # a fresh IV every time


def test_rotation_keeps_old_values_readable(settings: Any) -> None:
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    stored = crypto.encrypt("webhook-secret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    assert crypto.decrypt(stored) == "webhook-secret"


def test_a_missing_key_is_a_clear_error(settings: Any) -> None:
    stored = crypto.encrypt("webhook-secret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEYS does not hold the key"):
        crypto.decrypt(stored)


def test_encrypted_field_writes_ciphertext_and_reads_plain_text() -> None:
    field = crypto.EncryptedTextField()
    stored = field.get_prep_value("smtp-password")
    assert stored != "smtp-password"
    assert field.from_db_value(stored, None, connection) == "smtp-password"
    assert field.get_prep_value("") == ""
    assert field.from_db_value(None, None, connection) is None
