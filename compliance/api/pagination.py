"""Paging in each style the source documents use, all refusing unordered querysets.

- PagePagination: `page`, `pageSize` (1-100) -> {<key>: [...], "totalCount": N} (seed 002)
- StartPagination: `start`, `pageSize` -> {"total": N, "data": [...]} (seed 004)
- CurrentPagePagination: `currentPage`, `limit` -> [...] with X-Total-Count (seed 000)
- MetaPagination: `page`, `limit` -> {"meta": {page, total, limit, count}, <key>: [...]} (seed 001)
- IdCursorPagination: `cursor`, `pageSize` -> {"next", "previous", "results"} (large tables)

A view picks the list's key with `pagination_results_key`. Out-of-range values are 400
naming the parameter, never silently clamped: an integrator asking for page 0 or a page
size of 500 has a bug worth telling them about.
"""

import abc

from django.core.exceptions import ImproperlyConfigured
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response


def require_ordered(queryset):
    """Paging an unordered queryset gives rows twice or never; refuse it loudly."""
    if hasattr(queryset, "ordered") and not queryset.ordered:
        raise ImproperlyConfigured(
            f"Refusing to paginate an unordered queryset of {queryset.model.__name__}; add order_by()."
        )


# Offsets beyond this are refused (400) rather than sent to the database, which cannot take
# them (a 64-bit overflow is a 500); no list here is paged that deep.
MAX_OFFSET = 10_000_000


def int_param(request, name: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # Present but empty is a client's mistake (as StrictFilterSet reads filters), not "the default".
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValidationError({name: [f"Must be an integer {bound}."]})
    return value


def _int_schema(name, description, minimum, maximum=None, default=None):
    schema = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    if default is not None:
        schema["default"] = default
    return {"name": name, "required": False, "in": "query", "description": description, "schema": schema}


class _OffsetPagination(pagination.BasePagination, metaclass=abc.ABCMeta):
    """Shared mechanics: an offset and a size from the query, a count, one slice."""

    size_param = "pageSize"
    default_size = 20
    max_size = 100
    results_key = "items"

    @classmethod
    def keyed(cls, key: str):
        """This style with the list under `key`, in answers and in the schema alike
        (the schema generator never sees the view's `pagination_results_key`)."""
        return type(f"{cls.__name__}_{key}", (cls,), {"results_key": key})

    def paginate_queryset(self, queryset, request, view=None):
        require_ordered(queryset)
        self.request = request
        self.results_key = getattr(view, "pagination_results_key", self.results_key)
        self.size = int_param(
            request, self.size_param, default=self.default_size, minimum=1, maximum=self.max_size
        )
        self.offset = self.get_offset(request)
        self.count = queryset.count()
        return list(queryset[self.offset : self.offset + self.size])

    @abc.abstractmethod
    def get_offset(self, request) -> int:
        """Each style says how its parameters give an offset (and records its page)."""

    def size_parameter_schema(self):
        return _int_schema(self.size_param, "Items per page.", 1, self.max_size, self.default_size)


class PagePagination(_OffsetPagination):
    page_param = "page"

    def get_offset(self, request):
        self.page = int_param(request, self.page_param, default=1, minimum=1, maximum=MAX_OFFSET)
        return (self.page - 1) * self.size

    def get_paginated_response(self, data):
        return Response({self.results_key: data, "totalCount": self.count})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": [self.results_key, "totalCount"],
            "properties": {self.results_key: schema, "totalCount": {"type": "integer"}},
        }

    def get_schema_operation_parameters(self, view):
        return [
            _int_schema(self.page_param, "Page number, from 1.", 1, MAX_OFFSET, default=1),
            self.size_parameter_schema(),
        ]


class StartPagination(_OffsetPagination):
    results_key = "data"

    def get_offset(self, request):
        return int_param(request, "start", default=0, minimum=0, maximum=MAX_OFFSET)

    def get_paginated_response(self, data):
        return Response({"total": self.count, self.results_key: data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["total", self.results_key],
            "properties": {"total": {"type": "integer"}, self.results_key: schema},
        }

    def get_schema_operation_parameters(self, view):
        return [
            _int_schema("start", "Offset of the first item.", 0, MAX_OFFSET, default=0),
            self.size_parameter_schema(),
        ]


class CurrentPagePagination(_OffsetPagination):
    """Seed 000 answers a bare array; the total travels in headers."""

    size_param = "limit"
    default_size = 10

    def get_offset(self, request):
        self.page = int_param(request, "currentPage", default=1, minimum=1, maximum=MAX_OFFSET)
        return (self.page - 1) * self.size

    def get_paginated_response(self, data):
        return Response(
            data,
            headers={
                "X-Total-Count": str(self.count),
                "X-Page": str(self.page),
                "X-Page-Size": str(self.size),
            },
        )

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            _int_schema("currentPage", "Page number, from 1.", 1, MAX_OFFSET, default=1),
            self.size_parameter_schema(),
        ]


class MetaPagination(_OffsetPagination):
    """Seed 001: a `meta` block; the view may add to it through `get_pagination_meta()`."""

    size_param = "limit"

    def paginate_queryset(self, queryset, request, view=None):
        self.view = view
        return super().paginate_queryset(queryset, request, view)

    def get_offset(self, request):
        self.page = int_param(request, "page", default=1, minimum=1, maximum=MAX_OFFSET)
        return (self.page - 1) * self.size

    def get_paginated_response(self, data):
        meta = {"page": self.page, "total": self.count, "limit": self.size, "count": len(data)}
        if hasattr(self.view, "get_pagination_meta"):
            meta.update(self.view.get_pagination_meta(self.request))
        return Response({"meta": meta, self.results_key: data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["meta", self.results_key],
            "properties": {
                "meta": {
                    "type": "object",
                    "required": ["page", "total", "limit", "count"],
                    "properties": {
                        "page": {"type": "integer"},
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "count": {"type": "integer"},
                        "sort": {"type": "string"},
                        "sortFields": {"type": "array", "items": {"type": "string"}},
                    },
                },
                self.results_key: schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            _int_schema("page", "Page number, from 1.", 1, MAX_OFFSET, default=1),
            self.size_parameter_schema(),
        ]


class IdCursorPagination(pagination.CursorPagination):
    """For tables too large to count: stable cursor paging on the primary key, newest first."""

    ordering = "-id"
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100

    _MAX_POSITION = 2**63 - 1

    def decode_cursor(self, request):
        """A cursor that is not one of ours is a 400 naming `cursor`: DRF answers a malformed one
        with a 404 the schema does not document, and a well-formed one with a forged position
        (`p=abc`) would reach the database (a 500)."""
        invalid = ValidationError(
            {self.cursor_query_param: ["Invalid cursor: use a page's `next` or `previous`."]}
        )
        if request.query_params.get(self.cursor_query_param) == "":
            raise invalid
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid from None
        position = cursor.position if cursor is not None else None
        if position is not None and not (
            position.isascii() and position.isdigit() and int(position) <= self._MAX_POSITION
        ):
            raise invalid  # the position is an id: digits within a bigint
        return cursor

    def get_page_size(self, request):
        # Strict like the offset styles: `pageSize=0`, `=abc` or `=1000` is a 400, not the default.
        return int_param(
            request, self.page_size_query_param, default=self.page_size, minimum=1, maximum=self.max_page_size
        )

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The `next` or `previous` link's cursor.",
                "schema": {"type": "string"},
            },
            _int_schema(self.page_size_query_param, "Items per page.", 1, self.max_page_size, self.page_size),
        ]
