from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from devskyy import middleware as outage


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 when it does not. No authentication, no details."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        # Probed every few seconds during an outage: one warning per interval, not an error each.
        outage.report(outage.database_error_code(exc) or outage.UNAVAILABLE, exc, request)
        response = JsonResponse(
            {"status": "unavailable", "database": "unreachable"},
            status=503,
            headers={"Retry-After": outage.retry_after()},
        )
        return outage.mark_logged(response)
    return JsonResponse({"status": "ok", "database": "ok"})
