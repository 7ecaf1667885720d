"""Seed 004 "Management/Rule": the rule library, the filters schema, rule instances with their
versions, and backtests.

Thin views: the serializer checks JSON types, a `rules.services` function validates the
document (parameters, filters, risk-level sets) and writes it, versioned and audited, and the
answer is the stored instance (`rules.documents.instance_document`).
"""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.api import pagination
from compliance.audit import Actor
from compliance.errors import NotFoundError
from compliance.ids import parse_id
from rules import services
from rules.api import serializers as s
from rules.api.filters import RuleInstanceFilter
from rules.backtest import backtest_document
from rules.documents import instance_document
from rules.engine.filters import FILTERS_SCHEMA
from rules.library import REGISTRY
from rules.models import BacktestRun, RuleInstance, RuleInstanceVersion
from users.api.user_serializers.fields import millis

TAGS = ["rules (seed 004)"]
VIEW = ["rules.view_ruleinstance"]

RULE_ID = OpenApiParameter("ruleId", OpenApiTypes.STR, OpenApiParameter.PATH, description="`R-1`...")
INSTANCE_ID = OpenApiParameter(
    "ruleInstanceId", OpenApiTypes.STR, OpenApiParameter.PATH, description="The instance's id."
)
BACKTEST_ID = OpenApiParameter("backtestId", OpenApiTypes.STR, OpenApiParameter.PATH)


def _not_found(rule_instance_id: str):
    return NotFoundError(f"There is no rule instance {rule_instance_id}.")


def instance_pk(rule_instance_id: str) -> int:
    """The path's id, checked before it reaches a service."""
    pk = parse_id(rule_instance_id)
    if pk is None:
        raise _not_found(rule_instance_id)
    return pk


def live_instance(rule_instance_id: str) -> RuleInstance:
    instance = RuleInstance.objects.filter(pk=instance_pk(rule_instance_id)).first()
    if instance is None:
        raise _not_found(rule_instance_id)
    return instance


def _template_order(rule_id: str) -> tuple[int, str]:
    number = rule_id.rpartition("-")[2]
    return (int(number) if number.isdigit() else 1 << 30, rule_id)


# --- the library -------------------------------------------------------------------------------


class RuleLibraryView(APIView):
    required_permissions = {"GET": VIEW}

    @extend_schema(
        operation_id="rules_list",
        tags=TAGS,
        summary="List the rule templates",
        description="Every template an instance can use, with the JSON Schema of its parameters "
        "and its defaults, by id (`R-1`, `R-2`...).",
        responses={200: s.RuleTemplateSerializer(many=True)},
    )
    def get(self, request):
        return Response([REGISTRY[key].document() for key in sorted(REGISTRY, key=_template_order)])


class RuleTemplateView(APIView):
    required_permissions = {"GET": VIEW}

    @extend_schema(
        operation_id="rule_retrieve",
        tags=TAGS,
        summary="Retrieve a rule template",
        parameters=[RULE_ID],
        responses={200: s.RuleTemplateSerializer},
    )
    def get(self, request, ruleId):
        template = REGISTRY.get(ruleId)
        if template is None:
            raise NotFoundError(f"There is no rule {ruleId}.")
        return Response(template.document())


class RuleFiltersSchemaView(APIView):
    required_permissions = {"GET": VIEW}

    @extend_schema(
        operation_id="rule_filters_schema",
        tags=TAGS,
        summary="The JSON Schema of rule filters",
        description="What an instance's `filters` may hold; a transaction is evaluated by the "
        "instance only when it matches every filter given.",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="A JSON Schema (draft 2020-12).")},
    )
    def get(self, request):
        return Response(FILTERS_SCHEMA)


# --- rule instances ----------------------------------------------------------------------------


class RuleInstanceCollectionView(ListAPIView):
    """`GET` the live instances (paginated, filtered), `POST` a new one."""

    required_permissions = {"GET": VIEW, "POST": ["rules.add_ruleinstance"]}
    filterset_class = RuleInstanceFilter
    # Filters only: the list is by id (an `ordering` parameter would order by API names the
    # model does not have).
    filter_backends = [DjangoFilterBackend]
    pagination_class = pagination.StartPagination
    serializer_class = s.RuleInstanceSerializer

    def get_queryset(self):
        return RuleInstance.objects.order_by("id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([instance_document(instance) for instance in page])

    @extend_schema(
        operation_id="rule_instances_list",
        tags=TAGS,
        summary="List rule instances",
        description="The live instances (retired ones are not listed), by id.",
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        operation_id="rule_instance_create",
        tags=TAGS,
        summary="Create a rule instance",
        description="Validates the parameters against the template's schema (per risk level when "
        "`riskLevelParameters` is given: all five levels), the filters against the filters schema, "
        "and the triggers; a 400 names each bad property (e.g. `parameters.transactionsLimit`). "
        "The instance runs on the next transaction when ACTIVE.",
        request=s.RuleInstanceWriteSerializer,
        responses={201: s.RuleInstanceSerializer},
    )
    def post(self, request):
        serializer = s.RuleInstanceWriteSerializer(data=request.data, context={"create": True})
        serializer.is_valid(raise_exception=True)
        instance = services.rule_instance_create(
            actor=Actor.from_request(request), document=dict(serializer.validated_data)
        )
        return Response(instance_document(instance), status=status.HTTP_201_CREATED)


class RuleInstanceDetailView(APIView):
    required_permissions = {
        "GET": VIEW,
        "PUT": ["rules.change_ruleinstance"],
        "DELETE": ["rules.delete_ruleinstance"],
    }

    @extend_schema(
        operation_id="rule_instance_retrieve",
        tags=TAGS,
        summary="Retrieve a rule instance",
        parameters=[INSTANCE_ID],
        responses={200: s.RuleInstanceSerializer},
    )
    def get(self, request, ruleInstanceId):
        return Response(instance_document(live_instance(ruleInstanceId)))

    @extend_schema(
        operation_id="rule_instance_update",
        tags=TAGS,
        summary="Update a rule instance",
        description="The properties sent replace the stored ones, the others stay; the merged "
        "instance is validated as a new one is. A change makes a new version (`version` + 1, "
        "`versionId` recorded by every rule executed from then on); sending what is stored "
        "changes nothing.",
        parameters=[INSTANCE_ID],
        request=s.RuleInstanceWriteSerializer,
        responses={200: s.RuleInstanceSerializer},
    )
    def put(self, request, ruleInstanceId):
        live_instance(ruleInstanceId)  # an unknown instance is a 404 whatever the body says
        serializer = s.RuleInstanceWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = services.rule_instance_update(
            actor=Actor.from_request(request),
            instance_id=instance_pk(ruleInstanceId),
            document=dict(serializer.validated_data),
        )
        return Response(instance_document(instance))

    @extend_schema(
        operation_id="rule_instance_delete",
        tags=TAGS,
        summary="Delete (retire) a rule instance",
        description="The instance stops running and leaves every read; it is kept, with its "
        "versions, for the executed rules and hits that refer to it.",
        parameters=[INSTANCE_ID],
        responses={204: None},
    )
    def delete(self, request, ruleInstanceId):
        services.rule_instance_delete(
            actor=Actor.from_request(request), instance_id=instance_pk(ruleInstanceId)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def version_document(version: RuleInstanceVersion) -> dict:
    return {
        "version": version.version,
        "versionId": version.version_id,
        "createdBy": version.created_by,
        "createdAt": millis(version.created_at),
        "config": version.config,
    }


class RuleInstanceVersionsView(APIView):
    required_permissions = {"GET": VIEW}

    @extend_schema(
        operation_id="rule_instance_versions",
        tags=TAGS,
        summary="Every version of a rule instance",
        description="Each version's configuration, newest first: what ran under a `versionId`. "
        "A retired instance's versions stay readable here.",
        parameters=[INSTANCE_ID],
        responses={200: s.RuleInstanceVersionSerializer(many=True)},
    )
    def get(self, request, ruleInstanceId):
        pk = instance_pk(ruleInstanceId)
        if not RuleInstance.all_objects.filter(pk=pk).exists():
            raise _not_found(ruleInstanceId)
        versions = RuleInstanceVersion.objects.filter(rule_instance_id=pk).order_by("-version")
        return Response([version_document(version) for version in versions])


# --- backtests ---------------------------------------------------------------------------------


class BacktestCollectionView(ListAPIView):
    """`POST` a backtest of the instance, `GET` its backtests (newest first)."""

    required_permissions = {"GET": ["rules.view_backtestrun"], "POST": ["rules.add_backtestrun"]}
    pagination_class = pagination.StartPagination
    serializer_class = s.BacktestRunSerializer
    filter_backends = []

    def get_queryset(self):
        instance = live_instance(self.kwargs["ruleInstanceId"])
        return BacktestRun.objects.filter(rule_instance=instance).order_by("-created_at", "-id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([backtest_document(run) for run in page])

    @extend_schema(
        operation_id="rule_instance_backtests_list",
        tags=TAGS,
        summary="List the backtests of a rule instance",
        parameters=[INSTANCE_ID],
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        operation_id="rule_instance_backtest_create",
        tags=TAGS,
        summary="Backtest a rule instance over a period",
        description="Runs the instance's current configuration over the stored transactions of "
        "[fromTimestamp, toTimestamp) (at most 366 days), in the background: answers 202 with the "
        "run, to be read again until its `status` is DONE or FAILED. Counts the transactions "
        "scanned and those the rule would have hit, with up to 20 examples and the rule's "
        "evidence. Changes nothing: no hit is recorded, no transaction or user is touched.",
        parameters=[INSTANCE_ID],
        request=s.BacktestRequestSerializer,
        responses={202: s.BacktestRunSerializer},
    )
    def post(self, request, ruleInstanceId):
        serializer = s.BacktestRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.backtest_request(
            actor=Actor.from_request(request),
            instance_id=instance_pk(ruleInstanceId),
            period_start=serializer.validated_data["fromTimestamp"],
            period_end=serializer.validated_data["toTimestamp"],
        )
        run.refresh_from_db()  # where the eager default has run it already
        return Response(backtest_document(run), status=status.HTTP_202_ACCEPTED)


class BacktestDetailView(APIView):
    required_permissions = {"GET": ["rules.view_backtestrun"]}

    @extend_schema(
        operation_id="rule_instance_backtest_retrieve",
        tags=TAGS,
        summary="Retrieve a backtest",
        parameters=[INSTANCE_ID, BACKTEST_ID],
        responses={200: s.BacktestRunSerializer},
    )
    def get(self, request, ruleInstanceId, backtestId):
        run = BacktestRun.objects.filter(
            pk=parse_id(backtestId),
            rule_instance_id=parse_id(ruleInstanceId),
            rule_instance__deleted_at__isnull=True,
        ).first()
        if run is None:
            raise NotFoundError(f"There is no backtest {backtestId} of rule instance {ruleInstanceId}.")
        return Response(backtest_document(run))
