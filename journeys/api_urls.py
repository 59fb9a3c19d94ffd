from core.routers import ApiRouter
from journeys import api

router = ApiRouter()
router.register("journeys", api.JourneyViewSet, basename="journey")
router.register("stages", api.StageViewSet, basename="stage")
router.register("touchpoints", api.TouchpointViewSet, basename="touchpoint")
router.register("personas", api.PersonaViewSet, basename="persona")
router.register("experiments", api.ExperimentViewSet, basename="experiment")

urlpatterns = router.urls
