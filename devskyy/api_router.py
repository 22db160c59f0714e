"""Everything under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    # First: the checkpoint calls of every LangGraph step, resolved without trying the rest.
    path("", include("agents_audit.api.hot_urls")),
    path("", include("commerce.api.urls")),
    path("", include("agents_audit.api.urls")),
    path("", include("knowledge.api.urls")),
]
