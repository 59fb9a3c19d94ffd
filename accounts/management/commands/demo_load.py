from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from accounts import demo


class Command(BaseCommand):
    help = "Load (or refresh) the demo organisation Baltic Goods. Refused unless DEBUG is on."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_ALLOWED:
            raise CommandError(
                "Demo data is only loaded with DEBUG=true: demo users must never exist in "
                "production."
            )
        organisation = demo.load()
        for path in settings.DEMO_LOADERS:
            import_string(path)(organisation=organisation)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organisation '{organisation.name}' ready. Log in as "
                + ", ".join(f"{email} ({role})" for email, _n, role in demo.DEMO_USERS)
                + f" with password '{demo.DEMO_PASSWORD}'."
            )
        )
