"""Waiting, in a test, until another connection waits on a row lock."""

from __future__ import annotations

import time

from django.db import connection


def wait_for_a_lock_wait(*, seconds: float = 10) -> bool:
    """True once some connection to the test database waits on a lock; False after `seconds`."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # one snapshot per transaction else
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False
