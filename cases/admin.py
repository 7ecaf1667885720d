"""The analysts' case screens: the case queue, the case page, the dashboard; the alert list.

The queue is the Case changelist: tabs (mine, unassigned, all), filters (status, defaulting to
open work; priority; source; age), priority then age (oldest first), alert counts annotated in
SQL so a page costs the same few queries whatever its size, and bulk actions (assign to me, to
someone, close with a reason) with intermediate forms. The case page replaces the change form
(`cases.admin_views`): every change there goes through `cases.services`, which the API calls
too, and a refusal is shown beside the form it came from. Nothing is added, edited or deleted
through the stock forms.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cases import services
from cases.forms import BulkAssignForm, BulkCloseForm
from cases.models import Alert, Case, CasePriority, CaseSource, CaseStatus
from compliance.admin import ReadOnlyModelAdmin
from compliance.audit import Actor
from compliance.errors import ApplicationError
from users.admin.shared import BigTableAdmin, enum_filter, refusal_lines

# The workflow's open statuses, as a stable list for SQL `IN` (the queue's index leads with status).
OPEN_STATUSES = tuple(value for value in CaseStatus.values if value in services.OPEN_STATUSES)
# (parameter value, label, at least this many days old, younger than this many days)
AGE_BUCKETS = (
    ("lt1d", "< 1 day", 0, 1),
    ("1-7d", "1-7 days", 1, 7),
    ("7-30d", "7-30 days", 7, 30),
    ("gt30d", "> 30 days", 30, None),
)
PRIORITY_COLOURS = {
    CasePriority.P1: ("#b71c1c", "#fff"),
    CasePriority.P2: ("#ef6c00", "#fff"),
    CasePriority.P3: ("#f9a825", "#222"),
    CasePriority.P4: ("#78909c", "#fff"),
}
STATUS_COLOURS = {
    CaseStatus.OPEN: ("#1565c0", "#fff"),
    CaseStatus.IN_PROGRESS: ("#6a1b9a", "#fff"),
    CaseStatus.ON_HOLD: ("#757575", "#fff"),
    CaseStatus.CLOSED: ("#2e7d32", "#fff"),
    CaseStatus.REOPENED: ("#c62828", "#fff"),
}
BADGE = '<span class="cbo-badge cbo-{}-{}" style="background:{};color:{}">{}</span>'
# What the queue reads of a case, its customer and its assignee (not the JSON documents).
QUEUE_COLUMNS = (
    "id",
    "case_id",
    "created_at",
    "priority",
    "source",
    "entity_type",
    "status",
    "version",
    "user_ref",
    "payment_method",
    "payment_identifier",
    "customer__id",
    "customer__external_ref",
    "customer__customer_type",
    "customer__first_name",
    "customer__middle_name",
    "customer__last_name",
    "customer__registered_name",
    "customer__trade_name",
    "assignee__id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)


def priority_badge(priority: str):
    background, colour = PRIORITY_COLOURS.get(priority, ("#999", "#fff"))
    return format_html(BADGE, "priority", priority, background, colour, priority or "-")


def status_badge(status: str):
    background, colour = STATUS_COLOURS.get(status, ("#999", "#fff"))
    label = CaseStatus(status).label if status in CaseStatus.values else status
    return format_html(BADGE, "status", status, background, colour, label.replace("_", " "))


def age_text(created_at, now=None) -> str:
    """How long ago, in the largest whole unit: 45 min, 5 h, 12 d."""
    seconds = max(((now or timezone.now()) - created_at).total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def entity_column(case: Case):
    """The customer (name and reference, linked to its file) or the payment instrument."""
    if case.customer_id is not None:
        customer = case.customer
        url = reverse("admin:users_customer_change", args=[customer.pk])
        name = customer.display_name
        if name:
            return format_html(
                '<a href="{}">{}</a> <span class="cbo-muted">{}</span>', url, name, customer.external_ref
            )
        return format_html('<a href="{}">{}</a>', url, customer.external_ref)
    if case.payment_identifier:
        return format_html('<span class="cbo-muted">payment</span> {}', case.payment_identifier)
    return case.user_ref or "-"


# --- the queue's filters ----------------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    """The tabs above the queue (not in the side bar): all, mine, unassigned."""

    title = "queue"
    parameter_name = "tab"

    def lookups(self, request, model_admin):
        return (("mine", "Mine"), ("unassigned", "Unassigned"))

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(assignee=request.user)
        if self.value() == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


class CaseStatusFilter(admin.SimpleListFilter):
    """Open work by default (every status but CLOSED); one status; or any."""

    title = "status"
    parameter_name = "status"
    default = "open"

    def lookups(self, request, model_admin):
        return (("open", "Open work (not closed)"), *CaseStatus.choices, ("any", "Any status"))

    def value(self):
        return super().value() or self.default

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if value in CaseStatus.values:
            return queryset.filter(status=value)
        return queryset  # "any", or a value we do not know: no filter rather than an error

    def choices(self, changelist):
        # No "All" entry: without the parameter the filter means open work.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [(key, label) for key, label, _, _ in AGE_BUCKETS]

    def queryset(self, request, queryset):
        for key, _, at_least, younger_than in AGE_BUCKETS:
            if self.value() == key:
                now = timezone.now()
                queryset = queryset.filter(created_at__lte=now - timedelta(days=at_least))
                if younger_than is not None:
                    queryset = queryset.filter(created_at__gt=now - timedelta(days=younger_than))
                return queryset
        return queryset


PriorityFilter = enum_filter("priority", "priority", "priority", CasePriority.choices)
SourceFilter = enum_filter("source", "source", "source", CaseSource.choices)


def alert_counts(queryset):
    """Open and total alerts of each case as correlated subqueries: computed for the page's rows
    only (after the LIMIT), each an index-only scan of (case, status)."""
    per_case = Alert.objects.filter(case=OuterRef("pk")).order_by().values("case")
    total = per_case.annotate(n=Count("pk")).values("n")
    still_open = (
        Alert.objects.filter(case=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        alerts_total=Coalesce(Subquery(total, output_field=IntegerField()), 0),
        alerts_open=Coalesce(Subquery(still_open, output_field=IntegerField()), 0),
    )


@admin.register(Case)
class CaseAdmin(BigTableAdmin):
    list_display = (
        "case_id",
        "priority_column",
        "entity",
        "source",
        "status_column",
        "alerts_column",
        "age",
        "assignee_column",
    )
    list_display_links = ("case_id",)
    list_filter = (QueueFilter, CaseStatusFilter, PriorityFilter, SourceFilter, AgeFilter)
    list_select_related = ("customer", "assignee")
    list_per_page = 50
    search_fields = ("=case_id", "=customer__external_ref", "=user_ref", "=payment_identifier")
    search_help_text = "A case id, a user id or a payment identifier (METHOD:value), exactly."
    ordering = ("priority", "created_at", "id")
    sortable_by = ("case_id", "priority_column", "age")
    actions = ("assign_to_me", "assign_to_someone", "close_cases")

    class Media:
        css = {"all": ("cases/cases.css",)}

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "cases_case_changelist":
            queryset = alert_counts(queryset.only(*QUEUE_COLUMNS))
        return queryset

    def has_add_permission(self, request):
        return False  # cases are opened by alerts (rules, screening) or through the API

    def has_delete_permission(self, request, obj=None):
        return False  # a case is closed, never deleted

    # -- the columns
    @admin.display(description="priority", ordering="priority")
    def priority_column(self, obj):
        return priority_badge(obj.priority)

    @admin.display(description="customer / entity")
    def entity(self, obj):
        return entity_column(obj)

    @admin.display(description="status")
    def status_column(self, obj):
        return status_badge(obj.status)

    @admin.display(description="alerts open / total")
    def alerts_column(self, obj):
        if hasattr(obj, "alerts_total"):
            return f"{obj.alerts_open} / {obj.alerts_total}"
        return "-"

    @admin.display(description="age", ordering="created_at")
    def age(self, obj):
        return format_html(
            '<span title="{}">{}</span>', f"{obj.created_at:%Y-%m-%d %H:%M}", age_text(obj.created_at)
        )

    @admin.display(description="assignee", ordering="assignee__username")
    def assignee_column(self, obj):
        return obj.assignee.username if obj.assignee_id else mark_safe('<span class="cbo-muted">—</span>')

    # -- the pages
    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path("dashboard/", wrap(self.dashboard_view), name="cases_case_dashboard"),
            path("<int:case_pk>/assign/", wrap(self.action_view("assign")), name="cases_case_assign"),
            path("<int:case_pk>/status/", wrap(self.action_view("status")), name="cases_case_status"),
            path("<int:case_pk>/comment/", wrap(self.action_view("comment")), name="cases_case_comment"),
            path("<int:case_pk>/attach/", wrap(self.action_view("attach")), name="cases_case_attach"),
            path(
                "<int:case_pk>/alert-status/",
                wrap(self.action_view("alert_status")),
                name="cases_case_alert_status",
            ),
            path(
                "<int:case_pk>/files/<int:file_pk>/",
                wrap(self.file_view),
                name="cases_case_file",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "title": "Case queue",
            "dashboard_url": reverse("admin:cases_case_dashboard"),
            **(extra_context or {}),
        }
        response = super().changelist_view(request, extra)
        cl = getattr(response, "context_data", {}).get("cl")
        if cl is not None:
            tabs = next(spec for spec in cl.filter_specs if isinstance(spec, QueueFilter))
            response.context_data["queue_tabs"] = list(tabs.choices(cl))
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The case page (the stock change form is never shown: changes go through the services)."""
        from cases import admin_views

        return admin_views.case_page(self, request, object_id)

    def action_view(self, name: str):
        def view(request, case_pk):
            from cases import admin_views

            return admin_views.case_action(self, request, case_pk, name)

        return view

    def file_view(self, request, case_pk, file_pk):
        from cases import admin_views

        return admin_views.file_download(self, request, case_pk, file_pk)

    def dashboard_view(self, request):
        from cases import dashboard

        return dashboard.dashboard(self, request)

    # -- bulk actions
    def _bulk(self, request, call, done: str) -> ApplicationError | None:
        """Run a bulk service; a success is a message, a refusal is a message and is answered."""
        try:
            count = call(Actor.from_request(request))
        except ApplicationError as exc:
            self.message_user(request, " ".join(refusal_lines(exc)), messages.ERROR)
            return exc
        self.message_user(request, done.format(count), messages.SUCCESS)
        return None

    @admin.action(description="Assign the selected cases to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        self._bulk(
            request,
            lambda actor: services.cases_assign_bulk(actor=actor, case_ids=ids, assignee=request.user),
            "{} case(s) assigned to you.",
        )

    @admin.action(description="Assign the selected cases to someone…", permissions=["change"])
    def assign_to_someone(self, request, queryset):
        form = BulkAssignForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            ids = list(queryset.values_list("pk", flat=True))
            assignee = form.cleaned_data["assignee"]
            self._bulk(
                request,
                lambda actor: services.cases_assign_bulk(actor=actor, case_ids=ids, assignee=assignee),
                f"{{}} case(s) assigned to {assignee.username}.",
            )
            return None
        return self._intermediate(request, queryset, form, "assign_to_someone", "Assign cases", "Assign")

    @admin.action(
        description="Close the selected cases (false positive or another reason)…", permissions=["change"]
    )
    def close_cases(self, request, queryset):
        form = BulkCloseForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            ids = list(queryset.values_list("pk", flat=True))
            data = form.cleaned_data
            refusal = self._bulk(
                request,
                lambda actor: services.cases_close_bulk(
                    actor=actor,
                    case_ids=ids,
                    reason=data["reason"],
                    other_reason=data["other_reason"],
                    comment=data["comment"],
                ),
                "{} case(s) closed.",
            )
            if refusal is None:
                return None
            from cases.admin_views import add_refusal  # (it imports this module)

            add_refusal(form, refusal)  # shown again with the refusal beside the field it names
            return self._intermediate(
                request, queryset, form, "close_cases", "Close cases", "Close", status=refusal.status_code
            )
        return self._intermediate(request, queryset, form, "close_cases", "Close cases", "Close")

    def _intermediate(self, request, queryset, form, action: str, title: str, button: str, status=None):
        cases = list(
            queryset.select_related(None)
            .only("id", "case_id", "priority", "status")
            .order_by("priority", "created_at")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "cases": cases,
            "action": action,
            "button": button,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        status = status or (400 if form.is_bound else 200)
        return TemplateResponse(request, "admin/cases/case/bulk_action.html", context, status=status)


@admin.register(Alert)
class AlertAdmin(BigTableAdmin, ReadOnlyModelAdmin):
    """Every alert, searchable; each links to its case, where it is worked."""

    list_display = ("alert_id", "case_link", "priority_column", "entity_type", "rule", "status_column", "age")
    list_select_related = ("case",)
    list_filter = (
        enum_filter("status", "status", "status", CaseStatus.choices),
        enum_filter("priority", "priority", "priority", CasePriority.choices),
        "entity_type",
    )
    search_fields = ("=alert_id", "=case__case_id", "=rule_instance_ref", "=rule_id")
    search_help_text = "An alert id, a case id, a rule instance id or a rule id (R-1...), exactly."
    ordering = ("-created_at", "-id")

    class Media:
        css = {"all": ("cases/cases.css",)}

    def get_queryset(self, request):
        return super().get_queryset(request).defer("screening_details", "creation_reason", "tags")

    @admin.display(description="case", ordering="case__case_id")
    def case_link(self, obj):
        url = reverse("admin:cases_case_change", args=[obj.case_id])
        return format_html('<a href="{}#alert-{}">{}</a>', url, obj.pk, obj.case.case_id)

    @admin.display(description="priority", ordering="priority")
    def priority_column(self, obj):
        return priority_badge(obj.priority)

    @admin.display(description="rule")
    def rule(self, obj):
        if not obj.rule_id:
            return "-"
        return f"{obj.rule_id} {obj.rule_name}".strip()

    @admin.display(description="status", ordering="status")
    def status_column(self, obj):
        return status_badge(obj.status)

    @admin.display(description="age", ordering="created_at")
    def age(self, obj):
        return age_text(obj.created_at)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """An alert is read and worked on its case's page."""
        from django.shortcuts import redirect

        alert = self.get_object(request, object_id)
        if alert is None or not self.has_view_permission(request, alert):
            return super().change_view(request, object_id, form_url, extra_context)
        return redirect(reverse("admin:cases_case_change", args=[alert.case_id]) + f"#alert-{alert.pk}")
