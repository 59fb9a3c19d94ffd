"""Settings for the test suite: the production settings with test-only secrets and plain HTTP.

Tests run with DEBUG off, as production does; what differs is only what a test server needs.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# A fixed Fernet key for tests only.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "x2QeJrFq9Z0m8bRjv9VJvD4sbC7aO0WJq0iP9m3c1sE=")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SITE_URL", "http://testserver")

from config.settings import *  # noqa: F403

# Tasks run in-process, unless a test starts a real worker (tests marked integration).
CELERY_TASK_ALWAYS_EAGER = True

SESSION_COOKIE_SECURE = False  # the live server for browser tests speaks plain HTTP
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A twentieth of the demo's events: the tests that load the demo stay quick.
DEMO_EVENTS_SCALE = 0.05
# Hashing speed only; production's argon2 is checked by tests/config/test_production.py.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
