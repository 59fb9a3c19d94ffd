from django.apps import AppConfig


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        # Connects the receiver of anymail's tracking signal (bounces and complaints).
        from surveys import webhooks  # noqa: F401
