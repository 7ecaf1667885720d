"""Seed 004 "Management/Case" and "Management/Alerts", plus the file upload their status changes
refer to by `s3Key`.

Thin views: the serializer validates, a `cases.services` function writes (locked, versioned,
audited, events published), the answer is the stored document (`cases.documents`).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import documents, selectors, services
from cases.api import serializers as s
from cases.models import Case, CasePriority, CaseSource, CaseStatus
from compliance.api import pagination
from compliance.audit import Actor
from compliance.errors import ApplicationError, NotFoundError
from users.api.user_serializers.fields import EPOCH, MAX_MS, MIN_MS

TAGS = ["cases (seed 004)"]
ALERT_TAGS = ["alerts (seed 004)"]

CASE_ID = OpenApiParameter("caseId", OpenApiTypes.STR, OpenApiParameter.PATH)
ALERT_ID = OpenApiParameter("alertId", OpenApiTypes.STR, OpenApiParameter.PATH)
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _case(case_id: str):
    case = selectors.case_by_ref(case_id)
    if case is None:
        raise NotFoundError(f"There is no case {case_id}.")
    return case


def _alert(alert_id: str):
    alert = selectors.alert_by_ref(alert_id)
    if alert is None:
        raise NotFoundError(f"There is no alert {alert_id}.")
    return alert


# --- the list's query parameters ------------------------------------------------------------
#
# The seed's own request sends every parameter without a value (`?start&pageSize&sortBy...`),
# so a parameter present but empty means "not given" here (unlike the other lists, where it is
# a 400). A value that is given and wrong is a 400 naming the parameter.

SORT_ORDERS = {"asc": False, "ascend": False, "desc": True, "descend": True}
# The seed's status list also names IN_REVIEW and ESCALATED, which this workflow does not have:
# accepted, they match no case.
SEED_ONLY_STATUSES = ("IN_REVIEW", "ESCALATED")
# The seed's sources (MANUAL, SYSTEM, EXTERNAL) beside ours: SYSTEM is every source a system
# opened (rule hits, screening, reviews); EXTERNAL matches no case (nothing here is opened by
# an outside system other than through the API, which is MANUAL).
SOURCE_ALIASES = {
    "SYSTEM": (CaseSource.RULE, CaseSource.SCREENING, CaseSource.REVIEW),
    "EXTERNAL": (),
}


def _param(request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value.strip() if value and value.strip() else None


def _choices(request, name: str, allowed: list[str]) -> list[str] | None:
    """The comma-separated values of a parameter; None when it is not given."""
    raw = _param(request, name)
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ValidationError(
            {name: [f"Unknown value(s) {', '.join(unknown)}; one or more of {', '.join(allowed)}."]}
        )
    return values


def _millis(request, name: str):
    raw = _param(request, name)
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not MIN_MS <= value <= MAX_MS:
        raise ValidationError({name: ["Expected epoch milliseconds."]})
    return EPOCH + timedelta(milliseconds=int(value))


def case_list_query(request) -> selectors.CaseListQuery:
    statuses = _choices(request, "filterCaseStatus", [*CaseStatus.values, *SEED_ONLY_STATUSES])
    sources = _choices(request, "filterCaseSource", [*CaseSource.values, *SOURCE_ALIASES])
    if sources is not None:
        sources = [source for value in sources for source in SOURCE_ALIASES.get(value, (value,))]
    sort_by = _param(request, "sortBy") or "createdTimestamp"
    if sort_by not in selectors.SORT_FIELDS:
        raise ValidationError({"sortBy": [f"One of {', '.join(selectors.SORT_FIELDS)}."]})
    order = _param(request, "sortOrder") or "desc"
    if order not in SORT_ORDERS:
        raise ValidationError({"sortOrder": ["One of asc, desc (or ascend, descend)."]})
    query = selectors.CaseListQuery(
        statuses=None
        if statuses is None
        else [value for value in statuses if value not in SEED_ONLY_STATUSES],
        priorities=_choices(request, "filterPriority", CasePriority.values),
        sources=sources,
        created_after=_millis(request, "filterAfterCreatedTimestamp"),
        created_before=_millis(request, "filterBeforeCreatedTimestamp"),
        sort_by=sort_by,
        descending=SORT_ORDERS[order],
    )
    return query


class SeedStartPagination(pagination.StartPagination):
    """`start` and `pageSize` as the seed sends them: empty means the default."""

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = _or_empty(parameter["schema"])
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        pagination.require_ordered(queryset)
        self.request = request
        size = _param(request, "pageSize")
        start = _param(request, "start")
        self.size = self.default_size if size is None else self._int("pageSize", size, 1, self.max_size)
        self.offset = 0 if start is None else self._int("start", start, 0, pagination.MAX_OFFSET)
        self.count = queryset.count()
        return list(queryset[self.offset : self.offset + self.size])

    @staticmethod
    def _int(name, raw, minimum, maximum) -> int:
        try:
            value = int(Decimal(raw)) if Decimal(raw) == int(Decimal(raw)) else None
        except (InvalidOperation, ValueError, OverflowError):
            value = None
        if value is None or not minimum <= value <= maximum:
            raise ValidationError({name: [f"Must be an integer between {minimum} and {maximum}."]})
        return value


def _choice_param(name, values, description):
    return OpenApiParameter(
        name,
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=False,
        description=f"{description} One value or a comma-separated list of: {', '.join(values)}.",
    )


def _or_empty(schema: dict) -> dict:
    """The seed sends every list parameter, empty when unused (`?start&pageSize&...`): the schema
    says so, an empty value meaning "not given"."""
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


def _param_schema(name, schema, description):
    return OpenApiParameter(
        name, _or_empty(schema), OpenApiParameter.QUERY, required=False, description=description
    )


def _choice_param(name, values, description):
    return OpenApiParameter(
        name,
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=False,
        description=f"{description} One value or a comma-separated list of: {', '.join(values)}.",
    )


LIST_PARAMETERS = [
    _param_schema(
        "sortBy",
        {"type": "string", "enum": list(selectors.SORT_FIELDS)},
        "Default createdTimestamp; ties are ordered by creation.",
    ),
    _param_schema(
        "sortOrder",
        {"type": "string", "enum": list(SORT_ORDERS)},
        "Default desc. Priority ascending puts P1 first.",
    ),
    _choice_param(
        "filterCaseStatus",
        [*CaseStatus.values, *SEED_ONLY_STATUSES],
        "Statuses (IN_REVIEW and ESCALATED match none).",
    ),
    _choice_param("filterPriority", CasePriority.values, "Priorities."),
    _choice_param(
        "filterCaseSource",
        [*CaseSource.values, *SOURCE_ALIASES],
        "Sources; SYSTEM = RULE, SCREENING and REVIEW; EXTERNAL matches none.",
    ),
    _param_schema("filterAfterCreatedTimestamp", {"type": "number"}, "Created at or after (epoch ms)."),
    _param_schema("filterBeforeCreatedTimestamp", {"type": "number"}, "Created before (epoch ms)."),
]


# --- cases ----------------------------------------------------------------------------------


class CaseCollectionView(ListAPIView):
    """`GET` the cases (filtered, sorted, paged from `start`), `POST` a new one."""

    required_permissions = {"GET": ["cases.view_case"], "POST": ["cases.add_case"]}
    pagination_class = SeedStartPagination
    serializer_class = s.CaseListItemSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.case_list(case_list_query(self.request))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([documents.case_list_document(case) for case in page])

    @extend_schema(
        operation_id="cases_list",
        tags=TAGS,
        summary="List cases",
        description="Cases, filtered and sorted as asked, paged from `start` (an offset) by `pageSize` "
        "(1-100, default 20): `{total, data}`. A parameter sent without a value (as the seed's request "
        "does) is not applied; a wrong value is a 400 naming it.",
        parameters=LIST_PARAMETERS,
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        operation_id="case_create",
        tags=TAGS,
        summary="Create a case",
        description="Opens a case (source MANUAL) for a user (`entityDetails.userId`, an existing user) or a "
        "payment instrument (`entityDetails.paymentDetails` with its `method`). `tags`, `creationReason`, "
        "`relatedCases` and `assignments` may be given at the top level or inside `entityDetails` (as the "
        "seed does); `assignments[].assigneeEmail` must name a staff user. A used `caseId` is a 409; so is a "
        "second open case of the same user or instrument (the message names the open one).",
        request=s.CaseCreateSerializer,
        responses={201: s.CaseAnswerSerializer},
    )
    def post(self, request):
        serializer = s.CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.to_fields()
        fields["source"] = CaseSource.MANUAL
        case = services.case_create(actor=Actor.from_request(request), fields=fields)
        return Response(documents.case_document(_case(case.case_id)), status=status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    required_permissions = {"GET": ["cases.view_case"]}

    @extend_schema(
        operation_id="case_retrieve",
        tags=TAGS,
        summary="Retrieve a case",
        description="The case with its alerts (summaries), status history, assignments, comments and files.",
        parameters=[CASE_ID],
        responses={200: s.CaseAnswerSerializer},
    )
    def get(self, request, caseId):
        return Response(documents.case_document(_case(caseId)))


STATUS_DESCRIPTION = (
    "Moves {what} along the workflow: OPEN -> IN_PROGRESS/ON_HOLD/CLOSED, IN_PROGRESS -> ON_HOLD/CLOSED, "
    "ON_HOLD -> IN_PROGRESS/CLOSED, CLOSED -> REOPENED, REOPENED -> IN_PROGRESS/ON_HOLD/CLOSED; any other "
    "move is a 409 naming `status`. Closing needs a `reason` (and `otherReason` when it is Other). `files` "
    "name files uploaded through `POST /api/management/files` (by `s3Key`), not attached yet. With "
    "`version`, a 409 when the {what} changed since that version was read. {extra}"
)


class CaseStatusView(APIView):
    required_permissions = {"PUT": ["cases.change_case"]}

    @extend_schema(
        operation_id="case_status_update",
        tags=TAGS,
        summary="Change a case's status",
        description=STATUS_DESCRIPTION.format(
            what="the case",
            extra="Closing a case closes its open alerts with the same reason; closing with `Suspicious "
            "activity reported (SAR)` needs the approver role (403). Reopening does not reopen alerts.",
        ),
        parameters=[CASE_ID],
        request=s.StatusChangeSerializer,
        responses={200: s.CaseAnswerSerializer},
    )
    def put(self, request, caseId):
        case = _case(caseId)
        serializer = s.StatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.case_status_change(actor=Actor.from_request(request), case=case, **serializer.to_kwargs())
        return Response(documents.case_document(_case(caseId)))


# --- alerts ---------------------------------------------------------------------------------


class AlertCollectionView(APIView):
    required_permissions = {"POST": ["cases.add_alert"]}

    @extend_schema(
        operation_id="alert_create",
        tags=ALERT_TAGS,
        summary="Create an alert",
        description="Adds an alert to an open case (`caseId`: an existing case, 400 otherwise; a closed one "
        "is a 409). A TRANSACTION alert names existing `transactionIds` (400 naming the missing ones). "
        "`ruleDetails.instanceId` is linked to the rule instance when one has this id; a case holds one "
        "open alert per rule instance (409). The case's priority becomes the highest of its open alerts.",
        request=s.AlertCreateSerializer,
        responses={201: s.AlertAnswerSerializer},
    )
    def post(self, request):
        serializer = s.AlertCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.to_fields()
        case_id = serializer.validated_data["caseId"]
        case = Case.objects.filter(case_id=case_id).first()
        if case is None:
            raise ApplicationError(errors={"caseId": [f"There is no case {case_id}."]})
        alert = services.alert_create(actor=Actor.from_request(request), fields={**fields, "case": case})
        return Response(documents.alert_document(_alert(alert.alert_id)), status=status.HTTP_201_CREATED)


class AlertDetailView(APIView):
    required_permissions = {"GET": ["cases.view_alert"], "PUT": ["cases.change_alert"]}

    @extend_schema(
        operation_id="alert_retrieve",
        tags=ALERT_TAGS,
        summary="Retrieve an alert",
        parameters=[ALERT_ID],
        responses={200: s.AlertAnswerSerializer},
    )
    def get(self, request, alertId):
        return Response(documents.alert_document(_alert(alertId)))

    @extend_schema(
        operation_id="alert_update",
        tags=ALERT_TAGS,
        summary="Update an alert",
        description="The properties sent replace the stored ones, the others stay. `assignments` are added "
        "to the alert's history and the last becomes its assignee. The case's priority follows. With "
        "`version`, a 409 when the alert changed since that version was read.",
        parameters=[ALERT_ID],
        request=s.AlertUpdateSerializer,
        responses={200: s.AlertAnswerSerializer},
    )
    def put(self, request, alertId):
        alert = _alert(alertId)
        serializer = s.AlertUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.alert_update(
            actor=Actor.from_request(request),
            alert=alert,
            fields=serializer.to_fields(),
            expected_version=serializer.validated_data.get("version"),
        )
        return Response(documents.alert_document(_alert(alertId)))


class AlertStatusView(APIView):
    required_permissions = {"PUT": ["cases.change_alert"]}

    @extend_schema(
        operation_id="alert_status_update",
        tags=ALERT_TAGS,
        summary="Change an alert's status",
        description=STATUS_DESCRIPTION.format(
            what="the alert",
            extra="Closing the last open alert does not close the case. An alert of a closed case cannot "
            "be reopened (409): reopen the case first.",
        ),
        parameters=[ALERT_ID],
        request=s.StatusChangeSerializer,
        responses={200: s.AlertAnswerSerializer},
    )
    def put(self, request, alertId):
        alert = _alert(alertId)
        serializer = s.StatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.alert_status_change(actor=Actor.from_request(request), alert=alert, **serializer.to_kwargs())
        return Response(documents.alert_document(_alert(alertId)))


# --- files ----------------------------------------------------------------------------------


class FileUploadView(APIView):
    required_permissions = {"POST": ["cases.add_file"]}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="file_upload",
        tags=TAGS,
        summary="Upload a file",
        description="Stores the file (multipart field `file`) in the configured storage and answers its "
        "`s3Key`, to be sent in the `files` of a status change. At most `CASE_FILE_MAX_BYTES` (default "
        "20 MB): larger is a 413.",
        request={"multipart/form-data": s.FileUploadSerializer},
        responses={
            201: s.FileAnswerSerializer,
            413: OpenApiResponse(response=ERROR_REF, description="The file is larger than the limit."),
        },
    )
    def post(self, request):
        serializer = s.FileUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = services.file_upload(
            actor=Actor.from_request(request), uploaded=serializer.validated_data["file"]
        )
        return Response(documents.file_document(record), status=status.HTTP_201_CREATED)
