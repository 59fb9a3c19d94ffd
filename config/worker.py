"""Entry point for Celery worker and beat processes: `celery -A config.worker worker`.

It starts (or joins) the embedded PostgreSQL and Redis first when DATABASE_URL and REDIS_URL
are unset, so that a worker started by hand shares the database and the broker of the web
server (`make demo` starts them once and passes both URLs to its worker and beat).
"""

from config.embedded_db import ensure_database_url
from config.embedded_redis import ensure_redis_url

ensure_database_url()
ensure_redis_url()

from config.celery import app  # noqa: E402

__all__ = ["app"]
