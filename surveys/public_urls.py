"""Public answer pages (token URLs, no account): see surveys/public_views.py."""

app_name = "survey-public"

urlpatterns: list = []
