"""Survey pages for members: see surveys/views.py."""

from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("surveys/", views.survey_list, name="list"),
    path("surveys/new/", views.survey_create, name="create"),
    path("surveys/<int:pk>/", views.survey_detail, name="detail"),
    path("surveys/<int:pk>/settings/", views.survey_settings, name="settings"),
    path("surveys/<int:pk>/status/", views.survey_status, name="status"),
    path("surveys/<int:pk>/preview/", views.survey_preview, name="preview"),
    path("surveys/<int:pk>/questions/new/", views.question_add, name="question-add"),
    path(
        "surveys/<int:pk>/questions/<int:question_pk>/",
        views.question_edit,
        name="question-edit",
    ),
    path(
        "surveys/<int:pk>/questions/<int:question_pk>/move/",
        views.question_move,
        name="question-move",
    ),
    path(
        "surveys/<int:pk>/questions/<int:question_pk>/delete/",
        views.question_delete,
        name="question-delete",
    ),
    path("surveys/<int:pk>/results/", views.survey_results, name="results"),
    path("surveys/<int:pk>/responses.csv", views.survey_export_csv, name="export-csv"),
    path("surveys/<int:pk>/send/", views.survey_send, name="send"),
    path(
        "stores/<int:pk>/survey-settings/",
        views.store_survey_settings,
        name="sending-settings",
    ),
    path("contacts/", views.contact_list, name="contacts"),
    path("contacts/new/", views.contact_add, name="contact-add"),
    path("contacts/import/", views.contact_import, name="contact-import"),
    path("contacts/<int:pk>/export.json", views.contact_export, name="contact-export"),
    path("contacts/<int:pk>/erase/", views.contact_erase, name="contact-erase"),
]
