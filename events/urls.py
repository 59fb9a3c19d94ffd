from django.urls import path

from events import views

app_name = "events"

urlpatterns = [
    path("events/", views.event_home, name="home"),
    path("stores/<int:pk>/events/", views.event_list, name="list"),
    path(
        "stores/<int:pk>/shopify-webhooks/",
        views.shopify_settings,
        name="shopify-settings",
    ),
]
