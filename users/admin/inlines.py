"""The rows of a customer's file shown on its page: each KYC list, stakes and roles, each saved
through its service (`users.services.kyc`) rather than the stock inline's `save()`."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from compliance.audit import Actor
from compliance.errors import ApplicationError
from users import models as m
from users.admin import screening_risks
from users.admin.shared import offer_active_only, refusal_lines
from users.lists import KYC_LISTS
from users.models.customers import ORGANISATION, PERSON
from users.services import kyc as kyc_services


class ServiceInlineFormSet(BaseInlineFormSet):
    """Shows a service's refusal of this inline's rows above them (set on the second pass)."""

    refusal: ApplicationError | None = None

    def clean(self):
        super().clean()
        if self.refusal is not None:
            raise ValidationError(refusal_lines(self.refusal))


class CustomerInline(admin.TabularInline):
    """Rows belonging to a customer. Whoever may change the customer may change its rows:
    the roles grant customer permissions, and a KYC row is part of the customer's file."""

    extra = 0
    formset = ServiceInlineFormSet
    applies_to: tuple[int, ...] = (PERSON, ORGANISATION)
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}

    def applies(self, customer) -> bool:
        return customer.customer_type_id in self.applies_to

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("users.view_customer") or request.user.has_perm("users.change_customer")

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("users.change_customer")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("users.change_customer")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("users.change_customer")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        rows = self.model._default_manager.filter(**{formset.fk.name: obj}) if obj is not None else None
        offer_active_only(formset.form, lambda name: rows.values(name) if rows is not None else [])
        refusal = getattr(request, "_service_refusal", None)
        attrs = {"inline": self}
        if refusal is not None and getattr(refusal, "admin_formset", None) == formset.get_default_prefix():
            attrs["refusal"] = refusal
        return type(formset.__name__, (formset,), attrs)

    # What a save of the formset asks of the services.
    def save_rows(self, actor: Actor, customer, formset) -> None:
        ticked = list(formset.deleted_forms) if formset.can_delete else []
        gone = {id(form) for form in ticked}  # a new row ticked for deletion is simply not added
        deleted = [form for form in ticked if form.instance.pk is not None]
        changed = [f for f in formset.initial_forms if id(f) not in gone and f.has_changed()]
        new = [f for f in formset.extra_forms if id(f) not in gone and f.has_changed()]
        for form in deleted:
            self.remove(actor, customer, form.instance.pk)
        for form in changed:
            self.change(actor, customer, form)
        if new:
            self.add(actor, customer, new)
        # What the admin's history (LogEntry) records of this formset.
        formset.new_objects = [form.instance for form in new]
        formset.changed_objects = [(form.instance, form.changed_data) for form in changed]
        formset.deleted_objects = [form.instance for form in deleted]

    def values(self, form, only=None) -> dict:
        """The row's model field values from the form (not its id, not its customer)."""
        model_fields = {f.name for f in self.model._meta.concrete_fields if not f.primary_key}
        model_fields.discard(self.fk_name or "customer")
        return {
            name: form.cleaned_data[name]
            for name in (form.fields if only is None else only)
            if name in model_fields
        }

    def add(self, actor, customer, forms_):
        for form in forms_:
            self.add_one(actor, customer, form.cleaned_data)

    def change(self, actor, customer, form):
        # Associations have no update service: a changed row is removed and added again.
        self.remove(actor, customer, form.instance.pk)
        self.add_one(actor, customer, form.cleaned_data)


class KycInline(CustomerInline):
    kyc_list = None

    def add(self, actor, customer, forms_):
        rows = [self.values(form) for form in forms_]
        kyc_services.kyc_rows_add(actor=actor, customer=customer, kyc_list=self.kyc_list, rows=rows)

    def change(self, actor, customer, form):
        kyc_services.kyc_row_update(
            actor=actor,
            customer=customer,
            kyc_list=self.kyc_list,
            row_id=form.instance.pk,
            changes=self.values(form, only=form.changed_data),
        )

    def remove(self, actor, customer, pk):
        kyc_services.kyc_row_delete(actor=actor, customer=customer, kyc_list=self.kyc_list, row_id=pk)


class ScreeningRiskInline(KycInline):
    """The customer's screening hits: the matcher's explanation, the list entry, and a link
    to the hit's page where it is confirmed or dismissed."""

    readonly_fields = ("review_status", "match_explanation", "list_entry")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("watchlist_entry")

    @admin.display(description="status")
    def review_status(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html(
            '{} <a href="{}">review</a>',
            screening_risks.status_badge(obj),
            reverse("admin:users_screeningrisk_change", args=[obj.pk]),
        )

    @admin.display(description="explanation")
    def match_explanation(self, obj):
        return screening_risks.explanation(obj) if obj is not None and obj.pk else "—"

    @admin.display(description="list entry")
    def list_entry(self, obj):
        return screening_risks.entry_link(obj) if obj is not None and obj.pk else "—"


KYC_INLINE_FIELDS = {
    "id-card": (
        "id_card_type",
        "number",
        "issued_country",
        "issued_date",
        "expiration_date",
        "copy",
        "document_type_name",
        "filename",
    ),
    "addresses": (
        "street_name",
        "postcode",
        "city",
        "state",
        "country",
        "address_type",
        "verified",
        "filename",
    ),
    "communication-means": ("communication_means_type", "value"),
    "wealth": ("wealth_scale", "wealth_status", "source"),
    "annual-income": ("annual_income_scale", "annual_income_status", "source"),
    "counterparty": ("fund_type", "counterpart_name", "country", "comments"),
    "financial-statement": ("statement_type", "year", "income", "expenses", "copy"),
    "country-presence": ("country", "year"),
    "screening-risks": (
        "screening_risk_type",
        "full_name",
        "identifier",
        "type",
        "score",
        "inspected",
        "confirmed",
        "manual_addition",
        "review_status",
        "match_explanation",
        "list_entry",
    ),
    "documents": ("document_type", "description", "filename", "expiration_date"),
    "events": ("event_date", "description"),
}

KYC_INLINES = [
    type(
        f"{kyc_list.model.__name__}Inline",
        (ScreeningRiskInline if kyc_list.model is m.ScreeningRisk else KycInline,),
        {
            "model": kyc_list.model,
            "kyc_list": kyc_list,
            "applies_to": kyc_list.applies_to,
            "fields": KYC_INLINE_FIELDS[kyc_list.path],
            "autocomplete_fields": [f for f in KYC_INLINE_FIELDS[kyc_list.path] if f.endswith("country")],
        },
    )
    for kyc_list in KYC_LISTS
]


class StakeOutInline(CustomerInline):
    model = m.Stake
    fk_name = "holder"
    fields = ("entity", "percentage")
    autocomplete_fields = ("entity",)
    verbose_name, verbose_name_plural = "stake held", "stakes held (stakes out)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(entity__deleted_at__isnull=True).select_related("entity")

    def add_one(self, actor, customer, data):
        kyc_services.stake_add(
            actor=actor, holder=customer, entity=data["entity"], percentage=data["percentage"]
        )

    def remove(self, actor, customer, pk):
        kyc_services.stake_remove(actor=actor, holder=customer, stake_id=pk)


class StakeInInline(CustomerInline):
    model = m.Stake
    fk_name = "entity"
    fields = ("holder", "percentage")
    autocomplete_fields = ("holder",)
    applies_to = (ORGANISATION,)
    verbose_name, verbose_name_plural = "shareholder", "shareholders (stakes in)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(holder__deleted_at__isnull=True).select_related("holder")

    def add_one(self, actor, customer, data):
        kyc_services.stake_add(
            actor=actor, holder=data["holder"], entity=customer, percentage=data["percentage"]
        )

    def remove(self, actor, customer, pk):
        stake = m.Stake.objects.select_related("holder").get(pk=pk)
        kyc_services.stake_remove(actor=actor, holder=stake.holder, stake_id=pk)


class RoleOutInline(CustomerInline):
    model = m.CustomerAssociation
    fk_name = "associate"
    fields = ("customer", "role")
    autocomplete_fields = ("customer",)
    verbose_name, verbose_name_plural = "role played", "roles played for other customers (roles out)"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(customer__deleted_at__isnull=True).select_related("customer")
        )

    def add_one(self, actor, customer, data):
        kyc_services.association_add(
            actor=actor, associate=customer, customer=data["customer"], role=data["role"]
        )

    def remove(self, actor, customer, pk):
        kyc_services.association_remove(actor=actor, associate=customer, association_id=pk)


class RoleInInline(CustomerInline):
    model = m.CustomerAssociation
    fk_name = "customer"
    fields = ("associate", "role")
    autocomplete_fields = ("associate",)
    verbose_name, verbose_name_plural = "associated party", "associated parties (roles in)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(associate__deleted_at__isnull=True)
            .select_related("associate")
        )

    def add_one(self, actor, customer, data):
        kyc_services.association_add(
            actor=actor, associate=data["associate"], customer=customer, role=data["role"]
        )

    def remove(self, actor, customer, pk):
        association = m.CustomerAssociation.objects.select_related("associate").get(pk=pk)
        kyc_services.association_remove(actor=actor, associate=association.associate, association_id=pk)
