from django.urls import path

from metrics import api

urlpatterns = [
    path("stores/<int:store_id>/funnel/", api.FunnelView.as_view(), name="store-funnel"),
    path("stores/<int:store_id>/metrics/", api.StoreMetricsView.as_view(), name="store-metrics"),
]
