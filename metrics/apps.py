from django.apps import AppConfig


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        # New events, a journey's mapping and the store's settings queue recomputes.
        from metrics import receivers  # noqa: F401
