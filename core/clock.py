"""The one "now" of the time rules that tests must pin (an event's horizons: retention, "more
than a day in the future", a survey trigger's recency; partitions ahead of time). Tests
freeze it with `monkeypatch.setattr(clock, "now", ...)`, so callers use `clock.now()`, never
`from core.clock import now`."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
