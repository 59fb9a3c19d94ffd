from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from config.views import favicon
from core.javascript_catalogue import javascript_catalogue
from events import webhooks as event_webhooks

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    # The buyers' answer pages first: the busiest URLs resolve without trying the others.
    path("", include("surveys.public_urls")),
    # Shopify-compatible webhooks: public, signed by the sender (events/webhooks.py).
    path(
        "hooks/shopify/<str:webhook_id>/",
        event_webhooks.shopify_webhook,
        name="shopify-webhook",
    ),
    # gettext/ngettext/interpolate for static/js (the djangojs catalog of the active language).
    path("jsi18n/", javascript_catalogue, name="javascript-catalog"),
    path("", include("accounts.urls")),
    path("", include("journeys.urls")),
    path("", include("surveys.urls")),
    path("", include("events.urls")),
    path("", include("dashboards.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from ?script= instead of inline, so
    # the page works under the Content-Security-Policy (config/security_headers.py).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.ANYMAIL["WEBHOOK_SECRET"]:
    # The email provider's tracking webhooks (bounces, complaints: surveys/webhooks.py), e.g.
    # /anymail/postmark/tracking/, public but behind HTTP basic auth with this secret.
    # Without a secret they would be open to anyone, so they are not mounted.
    urlpatterns.append(path("anymail/", include("anymail.urls")))

handler400 = "config.views.bad_request"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
