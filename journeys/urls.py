from django.urls import path

from journeys import views

app_name = "journeys"

urlpatterns = [
    path("journeys/", views.journey_list, name="list"),
    path("journeys/new/", views.journey_create, name="create"),
    path("journeys/import/", views.journey_import, name="import"),
    path("journeys/personas/", views.persona_list, name="personas"),
    path("journeys/personas/new/", views.persona_create, name="persona-create"),
    path("journeys/personas/<int:pk>/edit/", views.persona_edit, name="persona-edit"),
    path("journeys/personas/<int:pk>/delete/", views.persona_delete, name="persona-delete"),
    path("journeys/<int:pk>/", views.journey_detail, name="detail"),
    path("journeys/<int:pk>/details/", views.journey_details, name="details"),
    path("journeys/<int:pk>/history/", views.journey_history, name="history"),
    path("journeys/<int:pk>/duplicate/", views.journey_duplicate, name="duplicate"),
    path("journeys/<int:pk>/export.json", views.journey_export_json, name="export-json"),
    path("journeys/<int:pk>/export.csv", views.journey_export_csv, name="export-csv"),
    path("journeys/<int:pk>/export.svg", views.journey_export_svg, name="export-svg"),
    path("journeys/<int:pk>/share/", views.journey_share, name="share"),
    path("journeys/<int:pk>/activate/", views.journey_activate, name="activate"),
    path("journeys/<int:pk>/status/", views.journey_status, name="status"),
    path("journeys/<int:pk>/delete/", views.journey_delete, name="delete"),
    path("stores/<int:pk>/experiments/", views.experiment_list, name="experiments"),
    path("experiments/<int:pk>/edit/", views.experiment_edit, name="experiment-edit"),
    path("experiments/<int:pk>/delete/", views.experiment_delete, name="experiment-delete"),
    path("share/journeys/<str:token>/", views.journey_shared, name="shared"),
]
