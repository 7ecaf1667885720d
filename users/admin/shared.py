"""What every screen of the customers' back office shares: permissions, how a service's refusal
is shown, risk badges and links, the estimated-count paginator of big lists, list filters."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from compliance.errors import ApplicationError
from users import models as m
from users.models.customers import RiskLevel

APPROVE = "users.approve_risktrail"
RECALCULATE = "users.recalculate_risk"
# Service error keys that name a field by its API name rather than the model's.
FIELD_ALIASES = {"idInternalCustomer": "external_ref", "idCustomerType": "customer_type"}


def refusal_lines(exc: ApplicationError) -> list[str]:
    """A service refusal as sentences: its message, then each property's problems."""
    lines = [] if exc.errors and exc.message == ApplicationError.default_message else [exc.message]
    for key, problems in exc.errors.items():
        for problem in problems if isinstance(problems, list) else [problems]:
            lines.append(f"{key}: {problem}" if key and key != "__all__" else str(problem))
    return lines


def add_refusal(form: forms.BaseForm, exc: ApplicationError) -> None:
    """Put a refusal's errors on the form fields they name; the rest above the form."""
    for key, problems in exc.errors.items():
        name = FIELD_ALIASES.get(key.rsplit(".", 1)[-1], key.rsplit(".", 1)[-1])
        for problem in problems if isinstance(problems, list) else [problems]:
            if name in form.fields:
                form.add_error(name, str(problem))
            else:
                form.add_error(None, f"{key}: {problem}" if key and key != "__all__" else str(problem))
    if not exc.errors:
        form.add_error(None, exc.message)


def level_badge(level: str):
    if level not in RiskLevel.values:
        return "-"
    return format_html('<span class="cbo-level cbo-level-{}">{}</span>', level, RiskLevel(level).label)


def customer_link(customer):
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:users_customer_change", args=[customer.pk]), customer
    )


def breakdown_rows(breakdown: dict) -> list[dict]:
    """Seed 003 `totals` in the model's category order (jsonb does not keep key order)."""
    return [
        {
            "name": breakdown[key].get("name", label),
            "score": breakdown[key].get("score", 0),
            "factors": breakdown[key].get("contents", []),
        }
        for key, label in m.RiskCategory.choices
        if key in (breakdown or {})
    ]


def contaminator_rows(contaminators: list[dict]) -> list[dict]:
    found = m.Customer.all_objects.in_bulk([c["idCustomer"] for c in contaminators or []])
    return [
        {"customer": found.get(c["idCustomer"]), "id": c["idCustomer"], "score": c["newCalculatedRisk"]}
        for c in contaminators or []
    ]


def offer_active_only(form_class, used) -> None:
    """Inactive lookup rows (and staff) stay valid where a record uses them but are not offered
    for new values, as the API refuses them: each choice is active or among `used(field name)`."""
    for name, field in form_class.base_fields.items():
        queryset = getattr(field, "queryset", None)
        if queryset is not None and any(f.name == "is_active" for f in queryset.model._meta.concrete_fields):
            field.queryset = queryset.filter(Q(is_active=True) | Q(pk__in=used(name)))


class EstimatedCountPaginator(Paginator):
    """Counting millions of rows for an unfiltered list takes seconds on PostgreSQL; there the
    unfiltered count of a big table is the planner's estimate. Filtered lists count exactly."""

    exact_below = 100_000

    @cached_property
    def count(self):
        qs = self.object_list
        if self._unfiltered_on_postgresql(qs):
            with connections[qs.db].cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                    [qs.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] >= self.exact_below:
                return row[0]
        return super().count

    @staticmethod
    def _unfiltered_on_postgresql(qs) -> bool:
        return (
            isinstance(qs, QuerySet)
            and connections[qs.db].vendor == "postgresql"
            and qs.query.where == qs.model._default_manager.all().query.where
            and not qs.query.distinct
        )


class BigTableAdmin(admin.ModelAdmin):
    """Lists that grow without bound: no full count, no per-filter counts, an estimated total."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator


def enum_filter(title: str, parameter: str, lookup: str, choices):
    """A list filter over a choices field, named for the domain rather than the column."""

    class EnumFilter(admin.SimpleListFilter):
        def lookups(self, request, model_admin):
            return choices() if callable(choices) else choices

        def queryset(self, request, queryset):
            return queryset.filter(**{lookup: self.value()}) if self.value() else queryset

    EnumFilter.title, EnumFilter.parameter_name = title, parameter
    return EnumFilter


class DueFilter(admin.SimpleListFilter):
    """Overdue, due within 30 days, later, none: the questions a review sweep asks of a date."""

    title = "review due"
    parameter_name = "due"
    date_field = "next_review_date"
    none_label = "None scheduled"

    def lookups(self, request, model_admin):
        return (
            ("overdue", "Overdue"),
            ("30d", "Due within 30 days"),
            ("later", "Later"),
            ("none", self.none_label),
        )

    def base(self, queryset):
        return queryset

    def queryset(self, request, queryset):
        today, field = timezone.localdate(), self.date_field
        conditions = {
            "overdue": {f"{field}__lt": today},
            "30d": {f"{field}__gte": today, f"{field}__lte": today + timedelta(days=30)},
            "later": {f"{field}__gt": today + timedelta(days=30)},
        }
        if self.value() in conditions:
            return self.base(queryset).filter(**conditions[self.value()])
        if self.value() == "none":
            return self.none(queryset)
        return queryset

    def none(self, queryset):
        return queryset.filter(**{f"{self.date_field}__isnull": True})
