"""Public answer pages (token URLs, no account): see surveys/public_views.py.

Each name here is listed in config.tenancy.PUBLIC_TOKEN_URLS and tested with forged tokens in
tests/config/test_tenancy.py.
"""

from django.urls import path

from surveys import public_views

app_name = "survey-public"

urlpatterns = [
    path("s/<str:token>/", public_views.answer, name="answer"),
    path("s/<str:token>/thanks/", public_views.thanks, name="thanks"),
    path("s/<str:token>/unsubscribe/", public_views.unsubscribe, name="unsubscribe"),
]
