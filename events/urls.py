from django.urls import path

from events import views

app_name = "events"

urlpatterns = [
    path(
        "stores/<int:pk>/shopify-webhooks/",
        views.shopify_settings,
        name="shopify-settings",
    ),
]
