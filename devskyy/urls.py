import sys

from django.contrib import admin
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from devskyy import middleware as outage
from devskyy.api.views import healthz

admin.site.site_header = "devskyy operations"
admin.site.site_title = "devskyy"
admin.site.index_title = "System of record"
admin.site.index_template = "admin/devskyy/index.html"  # the dashboard (devskyy/dashboard.py)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("devskyy.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
]


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django refuses before any view (a missing or disallowed ``Host`` header, a
    suspicious operation): JSON for API paths, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        detail = "Invalid Host header." if isinstance(exception, DisallowedHost) else "Bad request."
        return JsonResponse({"code": "bad_request", "detail": detail}, status=400)
    return defaults.bad_request(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON for API paths (the one error format), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    # A database outage raised in a middleware (a session saved on the way out) arrives here;
    # views' outages are answered earlier by DatabaseUnavailableMiddleware and the API's handler.
    exc = sys.exc_info()[1]
    if exc is not None and (code := outage.database_error_code(exc)) is not None:
        return outage.database_unavailable_response(request, code, exc)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "server_error", "detail": "Internal server error."}, status=500
        )
    return defaults.server_error(request)
