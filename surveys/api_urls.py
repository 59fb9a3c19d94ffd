"""Survey API routes: see surveys/api.py. The explicit paths come first: the router's
`surveys/<pk>/` would otherwise take `surveys/triggers/`."""

from django.urls import path

from core.routers import ApiRouter
from surveys import api

router = ApiRouter()
router.register("surveys", api.SurveyViewSet, basename="survey")
router.register("questions", api.QuestionViewSet, basename="question")
# Not `invitations/`: that prefix belongs to the organisation's member invitations.
router.register("survey-invitations", api.SurveyInvitationViewSet, basename="survey-invitation")
router.register("contacts", api.ContactViewSet, basename="contact")

urlpatterns = [
    path("surveys/triggers/", api.TriggerView.as_view(), name="survey-triggers"),
    path(
        "surveys/<int:pk>/invitations/",
        api.SurveyInvitationListView.as_view(),
        name="survey-invitations",
    ),
    path(
        "surveys/<int:pk>/responses-export/",
        api.SurveyResponsesExportView.as_view(),
        name="survey-responses-export",
    ),
    path("contacts/<int:pk>/export/", api.ContactExportView.as_view(), name="contact-export"),
    path("results/moments/", api.MomentResultsView.as_view(), name="results-moments"),
    path(
        "stores/<int:pk>/survey-settings/",
        api.StoreSurveySettingsView.as_view(),
        name="store-survey-settings",
    ),
    path(
        "stores/<int:store_id>/comment-themes/",
        api.CommentThemesView.as_view(),
        name="store-comment-themes",
    ),
    path(
        "stores/<int:store_id>/comment-themes/compute/",
        api.CommentThemesComputeView.as_view(),
        name="store-comment-themes-compute",
    ),
    *router.urls,
]
