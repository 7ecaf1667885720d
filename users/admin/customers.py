"""The customer list and file: filters, the add-person / add-organisation form, the soft delete;
every save goes through `users.services.customers` and `users.services.kyc`."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.shortcuts import redirect
from django.template.loader import render_to_string

from compliance.audit import Actor
from compliance.errors import ApplicationError
from compliance.reference.models import CustomerStatus, CustomerType
from users import models as m
from users.admin.inlines import KYC_INLINES, RoleInInline, RoleOutInline, StakeInInline, StakeOutInline
from users.admin.shared import (
    APPROVE,
    RECALCULATE,
    BigTableAdmin,
    DueFilter,
    add_refusal,
    breakdown_rows,
    contaminator_rows,
    enum_filter,
    level_badge,
    offer_active_only,
    refusal_lines,
)
from users.lists import CHECKED_LISTS
from users.models.customers import ORGANISATION, PERSON, RiskLevel
from users.services import customers as customer_services
from users.services import kyc as kyc_services

CHECKED_FIELDS = tuple(checked.field for checked in CHECKED_LISTS)

RiskLevelFilter = enum_filter("risk level", "level", "risk_level", RiskLevel.choices)
CustomerTypeFilter = enum_filter(
    "type", "kind", "customer_type_id", ((PERSON, "Person"), (ORGANISATION, "Organisation"))
)
StatusFilter = enum_filter(
    "status", "status", "status_id", lambda: list(CustomerStatus.objects.values_list("id", "name"))
)


class CustomerForm(forms.ModelForm):
    """Carries a service refusal from the first pass of a save onto the redisplayed form."""

    refusal: ApplicationError | None = None

    def clean(self):
        cleaned = super().clean()
        for field in self._meta.model._meta.concrete_fields:
            # An emptied JSON box means "none", not NULL (the columns are NOT NULL).
            if isinstance(field, models.JSONField) and field.name in cleaned and cleaned[field.name] is None:
                cleaned[field.name] = field.get_default()
        if self.refusal is not None:
            add_refusal(self, self.refusal)
        return cleaned


MAIN_FIELDS = (
    "external_ref",
    "customer_type",
    "status",
    "responsible_officer",
    "relationship_start_date",
    "relationship_end_date",
    "referral_agent",
    "other_info",
)
# The details of each type, in the model's order; which is which is the service's to say.
PERSON_FIELDS = tuple(f.name for f in m.Customer._meta.fields if f.name in customer_services.PERSON_FIELDS)
ORGANISATION_FIELDS = tuple(
    f.name for f in m.Customer._meta.fields if f.name in customer_services.ORGANISATION_FIELDS
)
SEED_004_FIELDS = (
    "user_state",
    "user_state_reason",
    "kyc_status",
    "kyc_status_reason",
    "reason_for_account_opening",
    "source_of_funds",
    "tags",
    "pep_status",
    "registered_at",
)
RECORD_FIELDS = ("created_at", "created_by", "updated_at", "last_modified_by")


@admin.register(m.Customer)
class CustomerAdmin(BigTableAdmin):
    form = CustomerForm
    list_display = (
        "reference",
        "name",
        "kind",
        "status",
        "risk_level_badge",
        "effective_score",
        "next_review_date",
        "updated_at",
    )
    list_select_related = ("customer_type", "status")
    list_filter = (CustomerTypeFilter, RiskLevelFilter, StatusFilter, DueFilter)
    search_fields = (
        "^external_ref",
        "first_name",
        "last_name",
        "registered_name",
        "trade_name",
        "^registration_no",
    )
    ordering = ("-id",)
    autocomplete_fields = (
        "country_nationality",
        "country_birth",
        "country_residence",
        "country_incorporation",
        "country_domiciliary",
        "country_activity",
    )
    readonly_fields = ("risk_summary", "registered_at", *RECORD_FIELDS)
    inlines = (*KYC_INLINES, StakeOutInline, StakeInInline, RoleOutInline, RoleInInline)

    class Media:
        css = {"all": ("users/admin.css",)}

    # -- the list
    @admin.display(description="reference", ordering="external_ref")
    def reference(self, obj):
        return obj.external_ref

    @admin.display(description="name")
    def name(self, obj):
        return obj.display_name

    @admin.display(description="type", ordering="customer_type")
    def kind(self, obj):
        return obj.customer_type

    @admin.display(description="effective score", ordering="risk_effective_score")
    def effective_score(self, obj):
        return obj.risk_effective_score

    @admin.display(description="risk level", ordering="risk_effective_score")
    def risk_level_badge(self, obj):
        return level_badge(obj.risk_level)

    def changelist_view(self, request, extra_context=None):
        extra = {
            "can_recalculate": request.user.has_perm(RECALCULATE),
            "person_type": PERSON,
            "organisation_type": ORGANISATION,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        # Stakes are held in organisations: the autocomplete offers nothing else there.
        if request.GET.get("model_name") == "stake" and request.GET.get("field_name") == "entity":
            queryset = queryset.filter(customer_type_id=ORGANISATION)
        return queryset, distinct

    # -- the form
    @staticmethod
    def requested_kind(request) -> int | None:
        """The type an add page was opened for (?customer_type=1|2); None offers both sets."""
        raw = request.GET.get("customer_type")
        return int(raw) if raw in (str(PERSON), str(ORGANISATION)) else None

    def get_fieldsets(self, request, obj=None):
        kind = obj.customer_type_id if obj is not None else self.requested_kind(request)
        both = "Fill in the details of the customer's type only." if kind is None else ""
        sets = [(None, {"fields": MAIN_FIELDS})]
        if obj is not None:
            sets.append(("Risk", {"fields": ("risk_summary",)}))
        if kind in (None, PERSON):
            sets.append(("Person", {"fields": PERSON_FIELDS, "description": both}))
        if kind in (None, ORGANISATION):
            sets.append(("Organisation", {"fields": ORGANISATION_FIELDS, "description": both}))
        sets.append(("Checked lists", {"fields": CHECKED_FIELDS}))
        sets.append(("Seed 004 user fields", {"fields": SEED_004_FIELDS, "classes": ("collapse",)}))
        if obj is not None:
            sets.append(("Record", {"fields": RECORD_FIELDS, "classes": ("collapse",)}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        # The type of an existing customer never changes (the service refuses it).
        return (*self.readonly_fields, "customer_type") if obj is not None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer_type" and self.requested_kind(request):
            kwargs["queryset"] = CustomerType.objects.filter(pk=self.requested_kind(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in CHECKED_FIELDS:
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        offer_active_only(form, lambda name: self.used_values(obj, name))
        refusal = getattr(request, "_service_refusal", None)
        if refusal is not None and getattr(refusal, "admin_formset", None) is None:
            form = type(form.__name__, (form,), {"refusal": refusal})
        return form

    @staticmethod
    def used_values(obj, name):
        if obj is None:
            return []
        field = m.Customer._meta.get_field(name)
        return getattr(obj, name).values("pk") if field.many_to_many else [getattr(obj, field.attname)]

    def get_inline_instances(self, request, obj=None):
        # KYC rows are added once the customer exists and its type is known.
        if obj is None or obj.pk is None:
            return []
        return [inline for inline in super().get_inline_instances(request, obj) if inline.applies(obj)]

    @admin.display(description="risk")
    def risk_summary(self, obj):
        return render_to_string(
            "admin/users/customer/_risk.html",
            {
                "score": obj.risk_score,
                "effective_score": obj.risk_effective_score,
                "level": level_badge(obj.risk_level),
                "calculated_at": obj.risk_calculated_at,
                "onboarding_score": obj.onboarding_risk_score,
                "onboarding_level": level_badge(obj.onboarding_risk_level),
                "next_review_date": obj.next_review_date,
                "categories": breakdown_rows(obj.risk_breakdown),
                "contaminators": contaminator_rows(obj.risk_contaminators),
            },
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        try:
            pk = int(object_id)
        except ValueError:
            pk = None
        if pk is not None:
            extra["risk_trails"] = (
                m.RiskTrail.objects.filter(customer_id=pk)
                .select_related("reviewer", "approval_status", "risk_type")
                .defer("breakdown", "contaminators")[:10]
            )
            extra["reviews"] = m.Review.objects.filter(customer_id=pk).select_related(
                "reviewer", "scheduler"
            )[:10]
            extra["can_review"] = request.user.has_perm(APPROVE)
        return super().change_view(request, object_id, form_url, extra)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            # The transaction of the first pass is rolled back; run the view again with the
            # refusal attached so the form is redisplayed with the analyst's input and the error.
            if request.method != "POST" or getattr(request, "_service_refusal", None) is not None:
                raise
            request._service_refusal = exc
            self.message_user(request, " ".join(refusal_lines(exc)), messages.ERROR)
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except ApplicationError:  # the refusal found no form to sit on: keep the message only
                return redirect(request.get_full_path())

    # -- saving through the services
    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        names = [f.name for f in m.Customer._meta.concrete_fields if f.name in form.fields]
        if change:
            fields = {name: form.cleaned_data[name] for name in names if name in form.changed_data}
            if not fields:
                return
            result = customer_services.customer_update(actor=actor, customer=obj, fields=fields)
        else:
            fields = {name: form.cleaned_data[name] for name in names}
            result = customer_services.customer_create(actor=actor, fields=fields)
        for field in m.Customer._meta.concrete_fields:  # the admin goes on with the saved row
            setattr(obj, field.attname, getattr(result.customer, field.attname))

    def save_related(self, request, form, formsets, change):
        actor = Actor.from_request(request)
        for checked in CHECKED_LISTS:
            if checked.field in form.changed_data:
                kyc_services.checked_list_change(
                    actor=actor,
                    customer=form.instance,
                    checked=checked,
                    contents=list(form.cleaned_data[checked.field]),
                )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        try:
            formset.inline.save_rows(Actor.from_request(request), form.instance, formset)
        except ApplicationError as exc:
            exc.admin_formset = formset.get_default_prefix()
            raise

    def delete_model(self, request, obj):
        customer_services.customer_delete(actor=Actor.from_request(request), customer=obj)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            self.delete_model(request, customer)

    def get_deleted_objects(self, objs, request):
        # A deletion marks the customer deleted and keeps every row it has: nothing cascades,
        # so neither the confirmation nor the permission check lists the KYC rows.
        objs = list(objs)
        return [str(obj) for obj in objs], {m.Customer._meta.verbose_name_plural: len(objs)}, set(), []
