from rest_framework.routers import SimpleRouter

from journeys import api

router = SimpleRouter()
router.register("journeys", api.JourneyViewSet, basename="journey")
router.register("stages", api.StageViewSet, basename="stage")
router.register("touchpoints", api.TouchpointViewSet, basename="touchpoint")
router.register("personas", api.PersonaViewSet, basename="persona")

urlpatterns = router.urls
