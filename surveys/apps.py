from django.apps import AppConfig


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        # Connect the receivers of anymail's tracking signal (bounces and complaints) and of
        # a store's deletion (its surveys stop).
        from surveys import receivers, webhooks  # noqa: F401
