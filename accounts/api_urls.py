from django.urls import path

from accounts import api
from core.routers import ApiRouter

router = ApiRouter()
router.register("stores", api.StoreViewSet, basename="store")
router.register("api-keys", api.ApiKeyViewSet, basename="api-key")
router.register("members", api.MemberViewSet, basename="member")
router.register("invitations", api.InvitationViewSet, basename="invitation")
router.register("audit-log", api.AuditLogViewSet, basename="audit-log")
router.register("tasks", api.TaskViewSet, basename="task")

urlpatterns = [
    path("organisation/", api.OrganisationView.as_view(), name="organisation"),
    *router.urls,
]
