from django.urls import path

from events import import_views

app_name = "events"

urlpatterns = [
    path("stores/<int:pk>/events/import/", import_views.event_import, name="import"),
    path("events/imports/<int:pk>/", import_views.event_import_detail, name="import-detail"),
]
