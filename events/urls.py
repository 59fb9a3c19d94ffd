from django.urls import path

from events import import_views, views

app_name = "events"

urlpatterns = [
    path("events/", views.event_home, name="home"),
    path("stores/<int:pk>/events/", views.event_list, name="list"),
    path(
        "stores/<int:pk>/shopify-webhooks/",
        views.shopify_settings,
        name="shopify-settings",
    ),
    path("stores/<int:pk>/events/import/", import_views.event_import, name="import"),
    path("events/imports/<int:pk>/", import_views.event_import_detail, name="import-detail"),
]
