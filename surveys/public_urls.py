"""Public answer pages (token URLs, no account): see surveys/public_views.py.

Each name here is listed in config.tenancy.PUBLIC_TOKEN_URLS and tested with forged tokens in
tests/config/test_tenancy.py.
"""

from django.urls import path, re_path

from surveys import public_views

app_name = "survey-public"

urlpatterns = [
    path("s/<str:token>/", public_views.answer, name="answer"),
    path("s/<str:token>/thanks/", public_views.thanks, name="thanks"),
    path("s/<str:token>/unsubscribe/", public_views.unsubscribe, name="unsubscribe"),
    # Last: any other path under a link is the buyer's 404, never the staff one.
    re_path(r"^s/(?P<token>[^/]+)/.", public_views.missing, name="missing"),
]
