"""OpenAPI additions shared by every endpoint: the error body and the statuses that use it."""

from drf_spectacular.plumbing import build_array_type, build_basic_type, build_object_type
from drf_spectacular.types import OpenApiTypes

ERROR_COMPONENT = "Error"

ERROR_SCHEMA = build_object_type(
    properties={
        "status": build_basic_type(OpenApiTypes.INT),
        "error": build_basic_type(OpenApiTypes.STR),
        "message": build_basic_type(OpenApiTypes.STR),
        "errors": build_array_type(
            build_object_type(
                properties={
                    "property": build_basic_type(OpenApiTypes.STR),
                    "issue": build_basic_type(OpenApiTypes.STR),
                },
                required=["property", "issue"],
            )
        ),
        "requestId": build_basic_type(OpenApiTypes.STR),
    },
    required=["status", "error", "message", "errors", "requestId"],
)

_DESCRIPTIONS = {
    "400": "The request is invalid; `errors` names each invalid property and its problem.",
    "401": "Missing, invalid or expired credentials.",
    "403": "Valid credentials without the permission for this action.",
    "404": "The entity does not exist.",
    "405": "Method not allowed.",
    "409": "Conflicts with the current state.",
    "415": "Unsupported media type.",
    "429": "Too many requests; retry after the `Retry-After` seconds.",
}


def add_error_responses(result, generator, request, public):
    """Every operation documents the error statuses it can answer, all with the Error body.

    Authenticated operations get 401/403/429; operations with a request body or path
    parameters get 400/404. This keeps schema-conformance checks (schemathesis) honest:
    an undocumented status is a failure.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_COMPONENT] = ERROR_SCHEMA
    ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = ["400", "405", "429"]
            if method in {"post", "put", "patch"}:
                codes.append("415")
            if method != "get":
                codes.append("409")
            security = operation.get("security")
            if security and {} not in security:  # needs credentials
                codes += ["401", "403"]
            if "{" in path:
                codes.append("404")
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": _DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
    return result
