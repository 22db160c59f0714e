from django.urls import path
from rest_framework.routers import SimpleRouter

from knowledge.api.search import KnowledgeSearchView
from knowledge.api.views import RAGDocumentViewSet

router = SimpleRouter()
router.register("documents", RAGDocumentViewSet, basename="document")

urlpatterns = [*router.urls, path("search/", KnowledgeSearchView.as_view(), name="search")]
