"""Entry point for Celery worker and beat processes: `celery -A config.worker worker`.

It starts (or joins) the embedded PostgreSQL first when DATABASE_URL is unset, so that a
worker shares the database of `make demo`.
"""

from config.embedded_db import ensure_database_url

ensure_database_url()

from config.celery import app  # noqa: E402

__all__ = ["app"]
