from django.urls import path

from events import api

urlpatterns = [
    path("events/batch/", api.BatchView.as_view(), name="event-batch"),
    path("events/identify/", api.IdentifyView.as_view(), name="event-identify"),
    path("events/browser/", api.BrowserEventsView.as_view(), name="event-browser"),
    path("events/imports/", api.ImportView.as_view(), name="event-import"),
]
