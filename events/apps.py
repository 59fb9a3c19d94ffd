from django.apps import AppConfig


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        # A store's or organisation's purge removes its events first (accounts sends the signal).
        from events import receivers  # noqa: F401
