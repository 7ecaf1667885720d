"""Risk trails and their four-eyes review, and the risk model (factors, level thresholds, review
policy) whose edits re-score every customer, with the on-demand recalculation."""

from __future__ import annotations

import inspect
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from compliance.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from compliance.audit import Actor
from compliance.errors import ApplicationError
from compliance.reference.models import ApprovalStatus, RiskType
from users import models as m
from users import tasks
from users.admin.shared import (
    APPROVE,
    RECALCULATE,
    BigTableAdmin,
    breakdown_rows,
    contaminator_rows,
    customer_link,
    enum_filter,
    level_badge,
    refusal_lines,
)
from users.models.customers import RiskLevel
from users.risk.factors import DEFAULTS, REGISTRY
from users.services.reviews import risk_trail_review

TrailLevelFilter = enum_filter("risk level", "level", "level", RiskLevel.choices)


# --- risk trails ---------------------------------------------------------------------------


class ReviewedFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "reviewed"

    def lookups(self, request, model_admin):
        return (("no", "Awaiting review"), ("yes", "Reviewed"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(reviewed=self.value() == "yes")
        return queryset


ApprovalFilter = enum_filter(
    "approval status",
    "approval",
    "approval_status_id",
    lambda: list(ApprovalStatus.objects.values_list("id", "name")),
)


class RiskTrailReviewForm(forms.Form):
    approval_status = forms.ModelChoiceField(ApprovalStatus.objects.filter(is_active=True), empty_label=None)
    risk_type = forms.ModelChoiceField(RiskType.objects.filter(is_active=True), empty_label=None)
    comments = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), required=False)


@admin.register(m.RiskTrail)
class RiskTrailAdmin(BigTableAdmin, ReadOnlyModelAdmin):
    list_display = (
        "id",
        "customer_column",
        "created_at",
        "created_by_label",
        "cause",
        "score",
        "effective_score",
        "level_column",
        "reviewed",
        "approval_status",
        "reviewer",
    )
    list_select_related = ("customer", "approval_status", "reviewer")
    list_filter = (ReviewedFilter, TrailLevelFilter, ApprovalFilter)
    search_fields = ("^customer__external_ref", "cause", "created_by_label")
    fieldsets = (
        (None, {"fields": ("customer_column", "created_at", "created_by_label", "cause")}),
        ("Risk", {"fields": ("risk_summary",)}),
        (
            "Review",
            {"fields": ("reviewed", "reviewed_date", "reviewer", "approval_status", "risk_type", "comments")},
        ),
    )
    readonly_fields = ("customer_column", "risk_summary")

    class Media:
        css = {"all": ("users/admin.css",)}

    def get_queryset(self, request):
        return super().get_queryset(request).defer("breakdown", "contaminators")

    @admin.display(description="customer", ordering="customer_id")
    def customer_column(self, obj):
        return customer_link(obj.customer)

    @admin.display(description="level", ordering="effective_score")
    def level_column(self, obj):
        return level_badge(obj.level)

    @admin.display(description="risk")
    def risk_summary(self, obj):
        return render_to_string(
            "admin/users/customer/_risk.html",
            {
                "score": obj.score,
                "effective_score": obj.effective_score,
                "level": level_badge(obj.level),
                "categories": breakdown_rows(obj.breakdown),
                "contaminators": contaminator_rows(obj.contaminators),
            },
        )

    def get_urls(self):
        view = self.admin_site.admin_view(self.review_view)
        return [path("<int:object_id>/review/", view, name="users_risktrail_review"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_review": request.user.has_perm(APPROVE), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def review_view(self, request, object_id):
        """Approve or reject one trail (four eyes): the service decides who may, and says why not."""
        if not request.user.has_perm(APPROVE):
            raise PermissionDenied
        trail = get_object_or_404(m.RiskTrail.objects.select_related("customer", "created_by"), pk=object_id)
        trail_url = reverse("admin:users_risktrail_change", args=[trail.pk])
        if request.method == "POST":
            form = RiskTrailReviewForm(request.POST)
            if form.is_valid():
                try:
                    reviews = risk_trail_review(
                        actor=Actor.from_request(request),
                        trail_id=trail.pk,
                        approval_status=form.cleaned_data["approval_status"],
                        risk_type=form.cleaned_data["risk_type"],
                        comments=form.cleaned_data["comments"] or None,
                    )
                except ApplicationError as exc:
                    self.message_user(request, " ".join(refusal_lines(exc)), messages.ERROR)
                    return redirect(trail_url)
                outcome = form.cleaned_data["approval_status"].name.lower()
                if reviews:
                    review = m.Review.objects.get(pk=reviews[0])
                    note = f" Next review of {trail.customer} scheduled for {review.scheduled_date:%Y-%m-%d}."
                else:
                    note = ""
                self.message_user(request, f"Risk trail {trail.pk} {outcome}.{note}", messages.SUCCESS)
                return redirect("admin:users_customer_change", trail.customer_id)
        else:
            threshold = m.RiskLevelThreshold.objects.filter(level=trail.level).first()
            form = RiskTrailReviewForm(initial={"risk_type": threshold.risk_type_id if threshold else None})
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review risk trail {trail.pk}",
            "opts": self.opts,
            "trail": trail,
            "trail_url": trail_url,
            "form": form,
            "level": level_badge(trail.level),
            "caused_by_you": trail.created_by_id == request.user.pk,
        }
        return TemplateResponse(request, "admin/users/risktrail/review.html", context)


# --- the risk model ---------------------------------------------------------------------


class RiskFactorForm(forms.ModelForm):
    """The factor's row; `RiskFactor.clean()` refuses codes and parameters its scoring
    function cannot read (they would silently score 0)."""

    class Meta:
        model = m.RiskFactor
        fields = (
            "code",
            "name",
            "category",
            "applies_to_person",
            "applies_to_organisation",
            "is_active",
            "sort_order",
            "parameters",
            "description",
        )


class RiskModelAdmin(AuditedModelAdmin):
    """Audited edits of the risk model; a change that can move scores re-scores every customer
    after commit (once per request, however many rows a changelist save touched)."""

    rescores = True

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if self.rescores:
            schedule_recalculation(request, f"risk model changed by {request.user.get_username()}")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        if self.rescores:
            schedule_recalculation(request, f"risk model changed by {request.user.get_username()}")


def schedule_recalculation(request, cause: str) -> None:
    if getattr(request, "_risk_recalculation_scheduled", False):
        return
    request._risk_recalculation_scheduled = True
    transaction.on_commit(lambda: tasks.recalculate_all_risks.delay(cause=cause))
    messages.info(request, "Every customer's risk will be recalculated in the background.")


@admin.register(m.RiskFactor)
class RiskFactorAdmin(RiskModelAdmin):
    form = RiskFactorForm
    list_display = (
        "name",
        "code",
        "category",
        "applies_to_person",
        "applies_to_organisation",
        "is_active",
        "sort_order",
    )
    list_editable = ("is_active", "sort_order")
    list_filter = ("category", "is_active")
    search_fields = ("name", "code")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "code",
                    "name",
                    "category",
                    "applies_to_person",
                    "applies_to_organisation",
                    "is_active",
                    "sort_order",
                )
            },
        ),
        ("Scoring", {"fields": ("how_it_scores", "parameters", "description")}),
    )
    readonly_fields = ("how_it_scores",)

    def get_readonly_fields(self, request, obj=None):
        # The code names the scoring function; changing it would score with another one.
        return (*self.readonly_fields, "code") if obj is not None else self.readonly_fields

    @admin.display(description="how it scores")
    def how_it_scores(self, obj):
        if obj is None or obj.code not in REGISTRY:
            return "-"
        return format_html(
            '<p class="cbo-factor-doc">{}</p><p>Defaults:</p><pre>{}</pre>',
            inspect.cleandoc(REGISTRY[obj.code].__doc__ or ""),
            json.dumps(DEFAULTS.get(obj.code, {}), indent=2),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and obj.code in REGISTRY and "parameters" in form.base_fields:
            form.base_fields["parameters"].help_text = inspect.cleandoc(REGISTRY[obj.code].__doc__ or "")
        return form

    def changelist_view(self, request, extra_context=None):
        extra = {"can_recalculate": request.user.has_perm(RECALCULATE), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def get_urls(self):
        view = self.admin_site.admin_view(self.recalculate_view)
        return [path("recalculate/", view, name="users_riskfactor_recalculate"), *super().get_urls()]

    def recalculate_view(self, request):
        """Re-score every customer on demand (e.g. after country risks changed)."""
        if not request.user.has_perm(RECALCULATE):
            raise PermissionDenied
        if request.method == "POST":
            schedule_recalculation(request, f"recalculation requested by {request.user.get_username()}")
            return redirect("admin:users_riskfactor_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Recalculate all customers",
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/users/riskfactor/recalculate.html", context)


@admin.register(m.RiskLevelThreshold)
class RiskLevelThresholdAdmin(RiskModelAdmin):
    list_display = ("level", "min_score", "risk_type")
    list_editable = ("min_score", "risk_type")
    list_display_links = ("level",)
    list_select_related = ("risk_type",)
    search_fields = ("level",)
    fieldsets = ((None, {"fields": ("level", "min_score", "risk_type")}),)

    def get_readonly_fields(self, request, obj=None):
        return ("level",) if obj is not None else ()


@admin.register(m.ReviewPolicy)
class ReviewPolicyAdmin(RiskModelAdmin):
    rescores = False  # review frequencies schedule reviews; they do not enter any score
    list_display = ("level", "review_months")
    list_editable = ("review_months",)
    list_display_links = ("level",)
    search_fields = ("level",)
    fieldsets = ((None, {"fields": ("level", "review_months")}),)

    def get_readonly_fields(self, request, obj=None):
        return ("level",) if obj is not None else ()
