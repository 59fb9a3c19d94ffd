from django.urls import path

from metrics import api

urlpatterns = [
    path("stores/<int:store_id>/funnel/", api.FunnelView.as_view(), name="store-funnel"),
    path(
        "stores/<int:store_id>/funnel/customers/",
        api.FunnelCustomersView.as_view(),
        name="store-funnel-customers",
    ),
    path(
        "stores/<int:store_id>/funnel/customers/export/",
        api.FunnelCustomersExportView.as_view(),
        name="store-funnel-customers-export",
    ),
    path("stores/<int:store_id>/metrics/", api.StoreMetricsView.as_view(), name="store-metrics"),
    path("stores/<int:store_id>/recompute/", api.RecomputeView.as_view(), name="store-recompute"),
]
