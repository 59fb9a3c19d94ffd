from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("dashboard/", views.dashboard_home, name="home"),
    path("dashboard/organisation/", views.organisation_dashboard, name="organisation"),
    path("stores/<int:pk>/dashboard/", views.store_dashboard, name="store"),
    path(
        "stores/<int:pk>/dashboard/stages/<int:stage_id>/",
        views.stage_detail,
        name="stage",
    ),
    path(
        "stores/<int:pk>/dashboard/stages/<int:stage_id>/ask/",
        views.stage_ask,
        name="stage-ask",
    ),
    path("stores/<int:pk>/dashboard/export.csv", views.dashboard_export, name="export"),
    path("stores/<int:pk>/dashboard/recompute/", views.store_recompute, name="recompute"),
    path("stores/<int:pk>/dashboard/digest/", views.digest_toggle, name="digest"),
    # The digest email's link: public, by a signed token (config.tenancy.PUBLIC_TOKEN_URLS).
    path(
        "digest/unsubscribe/<str:token>/",
        views.digest_unsubscribe,
        name="digest-unsubscribe",
    ),
]
