from rest_framework.routers import SimpleRouter

from knowledge.api.views import RAGDocumentViewSet

router = SimpleRouter()
router.register("documents", RAGDocumentViewSet, basename="document")

urlpatterns = router.urls
