"""Reference data in the admin: compliance admins rename, reorder, deactivate and re-score.

Rows are never deleted here: customers, transactions and integrators refer to them by id.
Every change goes through `AuditedModelAdmin`, so it lands in the audit trail, including
edits made from the change list (`list_editable` saves through `save_model`).
"""

from django.contrib import admin

from compliance.admin import AuditedModelAdmin
from compliance.reference import models as ref
from compliance.reference.models import HIGH_RISK_SCORE


class ReferenceAdmin(AuditedModelAdmin):
    """Shared rules: no deletion (deactivate instead), and an id is fixed once the row exists."""

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        # Editing the primary key in a form would save a second row under the new id.
        return (*readonly, "id") if obj is not None else readonly


class LookupAdmin(ReferenceAdmin):
    list_display = ("id", "name", "is_active", "sort_order")
    list_display_links = ("id", "name")
    list_editable = ("is_active", "sort_order")
    list_filter = ("is_active",)
    search_fields = ("name",)
    fields = ("id", "name", "is_active", "sort_order")


for model in (
    ref.CustomerStatus,
    ref.CustomerType,
    ref.Gender,
    ref.MaritalStatus,
    ref.AssociationRole,
    ref.IncorporationType,
    ref.IdCardType,
    ref.CommunicationMeansType,
    ref.WealthScale,
    ref.WealthStatus,
    ref.AnnualIncomeScale,
    ref.AnnualIncomeStatus,
    ref.FundType,
    ref.StatementType,
    ref.ScreeningRiskType,
    ref.ActivityRisk,
    ref.BehaviorRisk,
    ref.EnhancedCheck,
    ref.ApprovalStatus,
    ref.RiskType,
):
    admin.site.register(model, LookupAdmin)


@admin.register(ref.DocumentType)
class DocumentTypeAdmin(LookupAdmin):
    list_editable = ("required_for_person", "required_for_organisation", "is_active", "sort_order")
    list_display = ("id", "name", *list_editable)
    list_filter = ("is_active", "required_for_person", "required_for_organisation")
    fields = ("id", "name", *list_editable)


class CountryRiskFilter(admin.SimpleListFilter):
    """Countries by the points they add to the Countries risk factor."""

    title = "risk"
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return (
            ("zero", "Zero (0)"),
            ("elevated", f"Elevated (1-{HIGH_RISK_SCORE - 1})"),
            ("high", f"High ({HIGH_RISK_SCORE}+)"),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value == "zero":
            return queryset.filter(risk_score=0)
        if value == "elevated":
            return queryset.filter(risk_score__gte=1, risk_score__lt=HIGH_RISK_SCORE)
        if value == "high":
            return queryset.filter(risk_score__gte=HIGH_RISK_SCORE)
        return queryset


@admin.register(ref.Country)
class CountryAdmin(ReferenceAdmin):
    list_display = ("name", "alpha2", "alpha3", "numeric", "risk_score", "is_active")
    list_editable = ("risk_score",)
    list_filter = ("is_active", CountryRiskFilter)
    search_fields = ("name", "=alpha2", "=alpha3")
    ordering = ("name",)
    fieldsets = (
        (None, {"fields": ("id", "name", "is_active")}),
        ("ISO 3166-1 codes", {"fields": ("alpha2", "alpha3", "numeric")}),
        ("Risk", {"fields": ("risk_score",)}),
    )
