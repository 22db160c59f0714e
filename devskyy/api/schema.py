"""OpenAPI: every operation documents the error responses it can return, in the one error format,
and every POST documents the ``Idempotency-Key`` header."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter

from devskyy.api.serializers import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `errors` holds messages and codes per field.",
    "401": "Missing, invalid, revoked or expired credentials.",
    "403": "Your role may not do this.",
    "404": "No such record, or not one you may see.",
    "409": "Conflict: see `code` (`conflict`, `invalid_transition`, "
    "`idempotency_in_progress`, ...).",
    "412": "The record changed since you read it (`version_mismatch`).",
    "413": "The request body is too large (`request_too_large`).",
    "415": "Send `Content-Type: application/json`.",
    "422": "This Idempotency-Key was used with a different request (`idempotency_key_reused`).",
    "429": "Too many requests; retry after `Retry-After` seconds.",
}


class AutoSchema(SpectacularAutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        writes = self.method in ("POST", "PUT", "PATCH")
        if writes or self._is_list_view():
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        if writes:
            codes += ["413", "415"]
        if self.method == "POST":
            codes += ["409", "422"]
        codes += [
            str(c)
            for c in getattr(self.view, "extra_error_statuses", {}).get(
                getattr(self.view, "action", None), ()
            )
        ]
        return codes

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        if (
            getattr(self.view, "permission_classes", None)
            and self.view.get_permissions()
            and all(p.__class__.__name__ == "AllowAny" for p in self.view.get_permissions())
        ):
            return responses
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(
                OpenApiParameter(
                    name="Idempotency-Key",
                    location=OpenApiParameter.HEADER,
                    required=False,
                    type=str,
                    description="Makes the POST safe to retry: the same key and body replay the "
                    "first response for 24 hours; a different body is a 422.",
                )
            )
        return parameters
