from django.urls import path
from rest_framework.routers import Route, SimpleRouter

from knowledge.api.search import KnowledgeSearchView
from knowledge.api.views import RAGDocumentViewSet, SourceViewSet


class KnowledgeRouter(SimpleRouter):
    """SimpleRouter, with ``DELETE`` on a list route for viewsets that have ``destroy_by_path``
    (``DELETE /api/v1/sources/?source_path_prefix=...``)."""

    routes = [
        route._replace(mapping={**route.mapping, "delete": "destroy_by_path"})
        if isinstance(route, Route) and route.mapping.get("get") == "list"
        else route
        for route in SimpleRouter.routes
    ]


router = KnowledgeRouter()
router.register("documents", RAGDocumentViewSet, basename="document")
router.register("sources", SourceViewSet, basename="source")

urlpatterns = [*router.urls, path("search/", KnowledgeSearchView.as_view(), name="search")]
