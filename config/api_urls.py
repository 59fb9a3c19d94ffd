"""Every app's API routes, under /api/v1/ with the `api` namespace."""

from accounts.api_urls import urlpatterns as accounts_urls
from events.api_urls import urlpatterns as events_urls
from journeys.api_urls import urlpatterns as journeys_urls
from metrics.api_urls import urlpatterns as metrics_urls
from surveys.api_urls import urlpatterns as surveys_urls

app_name = "api"

urlpatterns = [*accounts_urls, *journeys_urls, *surveys_urls, *events_urls, *metrics_urls]
