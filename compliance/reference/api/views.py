"""`GET /api/lookups` and `GET /api/lookups/{name}`: the reference tables integrators resolve ids against."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.reference.api.serializers import (
    AnyLookupRowSerializer,
    CountrySerializer,
    DocumentTypeRowSerializer,
    LookupQuerySerializer,
    LookupRowSerializer,
    LookupTableSerializer,
)
from compliance.reference.models import Country, DocumentType
from compliance.reference.registry import lookup_model, lookup_names, registry

# Reading the index only needs some reference read permission; every role that reads
# lookups can read countries.
INDEX_PERMISSIONS = ["reference.view_country"]


class LookupIndexView(APIView):
    """Every registered reference table, the seed field that carries its ids, and its size."""

    required_permissions = {"GET": INDEX_PERMISSIONS}

    @extend_schema(
        operation_id="lookup_tables_list",
        summary="List the reference tables",
        responses=LookupTableSerializer(many=True),
    )
    def get(self, request):
        base = request.path.rstrip("/")
        # One COUNT per table (21 tiny tables); not worth a UNION that differs per backend.
        tables = [
            {
                "name": spec.name,
                "field": spec.field,
                "count": spec.model._default_manager.count(),
                "url": f"{base}/{spec.name}",
            }
            for spec in registry.specs()
        ]
        return Response(LookupTableSerializer(tables, many=True).data)


class LookupDetailView(GenericAPIView):
    """The rows of one reference table, ordered as the table orders them (countries by name)."""

    serializer_class = LookupRowSerializer
    # Small, fixed tables: the whole table in one answer, no paging, filtering only by `active`.
    pagination_class = None
    filter_backends = []

    def get_required_permissions(self, request) -> list[str]:
        model = lookup_model(self.kwargs.get("name", ""))
        if model is None:
            # Unknown table: check what the index needs, so 401/403 still come before the 404.
            return list(INDEX_PERMISSIONS)
        return [f"{model._meta.app_label}.view_{model._meta.model_name}"]

    def get_lookup_model(self):
        name = self.kwargs["name"]
        model = lookup_model(name)
        if model is None:
            raise NotFound(f"Unknown lookup table '{name}'. Valid names: {', '.join(lookup_names())}.")
        return model

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no `name`
            return Country.objects.none()
        return self.get_lookup_model()._default_manager.all()

    def get_serializer_class(self):
        model = self.get_lookup_model()
        if model is Country:
            return CountrySerializer
        if model is DocumentType:
            return DocumentTypeRowSerializer
        return LookupRowSerializer

    @extend_schema(
        operation_id="lookup_rows_list",
        summary="List the rows of one reference table",
        parameters=[
            OpenApiParameter(
                "name",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=lookup_names(),
                description="API name of the table, as listed by `GET /api/lookups`.",
            ),
            LookupQuerySerializer,
        ],
        responses=AnyLookupRowSerializer(many=True),
    )
    def get(self, request, name: str):
        queryset = self.get_queryset()  # an unknown table is 404 before any 400 about the query
        # A plain dict: for QueryDict input DRF reads a missing boolean as False.
        query = LookupQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        active = query.validated_data.get("active")
        if active is not None:
            queryset = queryset.filter(is_active=active)
        return Response(self.get_serializer(queryset, many=True).data)
