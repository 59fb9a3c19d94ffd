from django.apps import AppConfig


class JourneysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "journeys"
    verbose_name = "Journeys"

    def ready(self) -> None:
        # Connects the receiver that keeps a deleted store's journeys (without the store).
        from journeys import receivers  # noqa: F401
