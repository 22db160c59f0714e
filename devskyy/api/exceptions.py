"""One error format for the whole API.

Every error body has a machine ``code`` and a human ``detail``; validation errors add ``errors``,
keyed by field (or by item index for list bodies), each a list of ``{"message", "code"}``:

    {"code": "invalid", "detail": "Invalid input.",
     "errors": {"status": [{"message": "...", "code": "invalid_choice"}]}}

Agents branch on ``code``, never on prose.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from devskyy import middleware as outage
from devskyy.errors import DomainError, FieldError, InvalidInput

logger = logging.getLogger(__name__)


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used with a different request."


class IdempotencyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_in_progress"
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


def _full_details(detail: Any) -> Any:
    """DRF's ``get_full_details()``, with list bodies keyed by the index of each failing item."""
    if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        return {str(i): _full_details(d) for i, d in enumerate(detail) if d}
    if isinstance(detail, dict):
        return {str(key): _full_details(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_full_details(item) for item in detail]
    return {"message": str(detail), "code": getattr(detail, "code", "invalid")}


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        errors = _full_details(exc.detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors}
        return {"code": "invalid", "detail": "Invalid input.", "errors": errors}
    detail = exc.detail
    code = exc.get_codes()
    if isinstance(detail, list | dict):  # an APIException raised with structured detail
        return {
            "code": exc.default_code,
            "detail": str(exc.default_detail),
            "errors": _full_details(detail),
        }
    return {"code": code if isinstance(code, str) else exc.default_code, "detail": str(detail)}


class DomainAPIException(exceptions.APIException):
    """A service's ``DomainError`` as DRF sees it: its status, code, message and extra fields."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message, error.code)
        self.status_code = error.status
        self.default_code = error.code
        self.extra = error.extra()


def _error_tree(tree: Any) -> Any:
    """An ``InvalidInput`` error tree as DRF's detail: FieldErrors become ErrorDetails."""
    if isinstance(tree, FieldError):
        return exceptions.ErrorDetail(tree.message, code=tree.code)
    if isinstance(tree, dict):
        return {key: _error_tree(value) for key, value in tree.items()}
    return [_error_tree(item) for item in tree]


def _django_validation_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    """Django's ValidationError (models' full_clean, validators) with each message's code."""

    def details(errors: list[DjangoValidationError]) -> list[exceptions.ErrorDetail]:
        return [
            exceptions.ErrorDetail(message, code=error.code or "invalid")
            for error in errors
            for message in error.messages
        ]

    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {field: details(errors) for field, errors in exc.error_dict.items()}
        )
    return exceptions.ValidationError({"non_field_errors": details(exc.error_list)})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if (database_code := outage.database_error_code(exc)) is not None:
        # The database is down or timed out (also while authenticating): a 503 to retry after
        # Retry-After, logged once per interval without a traceback (see devskyy.middleware).
        from rest_framework.views import set_rollback

        set_rollback()
        outage.report(database_code, exc, context["request"])
        response = Response(
            {"code": database_code, "detail": outage.DETAILS[database_code]},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": outage.retry_after()},
        )
        outage.mark_logged(response)
        return response
    if isinstance(exc, InvalidInput):
        exc = exceptions.ValidationError(_error_tree(exc.errors))
    elif isinstance(exc, DomainError):
        exc = DomainAPIException(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        # A service's validation (models' full_clean and friends): field-keyed like DRF's.
        exc = _django_validation_error(exc)
    elif isinstance(exc, IntegrityError):
        # A service's friendly check lost a race to the database's constraint: the constraint
        # wins, the transaction is rolled back, and the caller hears a conflict, not a 500.
        logger.info("integrity error turned into 409: %s", exc)
        exc = DomainAPIException(DomainError("The request conflicts with existing data."))
    elif isinstance(exc, DataError):
        logger.info("data error turned into 400: %s", exc)
        exc = exceptions.ValidationError(
            {
                "non_field_errors": [
                    exceptions.ErrorDetail(
                        "A value is out of range for its column.", code="invalid"
                    )
                ]
            }
        )

    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's 500 handler and the logs take it

    headers: dict[str, str] = {}
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(wait))
    from rest_framework.views import set_rollback  # not at import: views imports our parser

    set_rollback()
    body = error_body(exc)
    body.update(getattr(exc, "extra", None) or {})
    return Response(body, status=exc.status_code, headers=headers)
