"""One error body for every status the API answers with.

    {
      "status": 400,
      "error": "Bad Request",
      "message": "Invalid request: details.dateBirth: Date has wrong format. ...",
      "errors": [{"property": "details.dateBirth", "issue": "Date has wrong format. ..."}],
      "requestId": "4f0c..."
    }

`errors` lists each invalid property (seed 003: "the invalid properties and their
issues"); it is empty for statuses other than 400. 429 answers carry `Retry-After`.
"""

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from compliance import context
from compliance.errors import ApplicationError, ConflictError

logger = logging.getLogger(__name__)


def flatten_errors(detail, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error detail into `[{"property": "a.b[0].c", "issue": "..."}]`."""
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                path = prefix
            elif isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out.extend({"property": prefix, "issue": str(item)} for item in detail)
        else:
            for index, item in enumerate(detail):
                if item in ({}, [], None):
                    continue  # DRF marks the valid items of a list with {}
                out.extend(flatten_errors(item, f"{prefix}[{index}]"))
    else:
        out.append({"property": prefix, "issue": str(detail)})
    return out


def error_body(status_code: int, message: str, errors: list[dict[str, str]] | None = None) -> dict:
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "Error"
    return {
        "status": status_code,
        "error": phrase,
        "message": message,
        "errors": errors or [],
        "requestId": context.get_request_id(),
    }


def _message_for(errors: list[dict[str, str]]) -> str:
    parts = [f"{e['property']}: {e['issue']}" if e["property"] else e["issue"] for e in errors[:10]]
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return "Invalid request: " + "; ".join(parts) + more


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this endpoint accepts."
    default_code = "too_large"


def _as_drf_exception(exc):
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE: the client's to fix
        return RequestTooLarge()
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "The entity does not exist.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, ProtectedError | RestrictedError):
        return ConflictError("The entity is still referenced and cannot be deleted.")
    return exc


def exception_handler(exc, ctx):
    exc = _as_drf_exception(exc)

    if isinstance(exc, ApplicationError):
        errors = flatten_errors(exc.errors) if exc.errors else []
        body = error_body(exc.status_code, exc.message, errors)
        return Response(body, status=exc.status_code)

    response = drf_exception_handler(exc, ctx)
    if response is None:
        logger.exception("Unhandled error in %s", ctx.get("view").__class__.__name__, exc_info=exc)
        return Response(
            error_body(500, "The server encountered an error."), status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )

    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        response.data = error_body(response.status_code, _message_for(errors), errors)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        message = str(detail) if not isinstance(detail, dict | list) else _message_for(flatten_errors(detail))
        response.data = error_body(response.status_code, message)
    return response


# Django-level handlers, for /api/ paths that no view answered (unknown path, crash
# outside DRF). Elsewhere (admin) Django's own pages are kept.
def _django_handler(status_code: int, message: str, default):
    def handler(request, *args, **kwargs):
        if request.path.startswith("/api/"):
            return JsonResponse(error_body(status_code, message), status=status_code)
        return default(request, *args, **kwargs)

    return handler


def api_aware_handlers():
    from django.views import defaults

    return {
        "handler400": _django_handler(400, "The request is malformed.", defaults.bad_request),
        "handler403": _django_handler(
            403, "You do not have permission to perform this action.", defaults.permission_denied
        ),
        "handler404": _django_handler(404, "No such endpoint.", defaults.page_not_found),
        "handler500": _django_handler(500, "The server encountered an error.", defaults.server_error),
    }
