"""Everything under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("commerce.api.urls")),
    path("", include("agents_audit.api.urls")),
    path("", include("knowledge.api.urls")),
]
