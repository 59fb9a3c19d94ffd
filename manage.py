#!/usr/bin/env python
import os
import sys

# Commands that never touch the database nor queue a task: they must not start the embedded
# PostgreSQL or Redis.
NO_DATABASE_COMMANDS = {
    "check",
    "collectstatic",
    "compilemessages",
    "makemessages",
    "help",
    "version",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not set(sys.argv[1:2]) & NO_DATABASE_COMMANDS:
        from config.embedded_db import ensure_database_url
        from config.embedded_redis import ensure_redis_url

        ensure_database_url()
        ensure_redis_url()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
