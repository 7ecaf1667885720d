"""The analysts' transaction screens, and the exchange rates a compliance admin keeps.

Transactions come from the API only (`POST /api/transactions`, then its events): here they
are read, never added, changed or deleted. The transaction page is the evidence an analyst
or an examiner needs to explain a decision: the transaction as stored, its state history
(events), and every executed rule with what it compared (`detail.data`). The exchange rates
are the one thing edited here; a saved rate is used by every later conversion (stored base
amounts are not recalculated).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from compliance.admin import AuditedModelAdmin, ReadOnlyModelAdmin, ReadOnlyTabularInline
from transactions import money
from transactions.currencies import CURRENCIES
from transactions.models import (
    Batch,
    BatchItem,
    ExchangeRate,
    PaymentMethod,
    RuleAction,
    Transaction,
    TransactionEvent,
    TransactionRuleHit,
    TransactionState,
    TransactionType,
)
from users.admin.shared import BigTableAdmin, enum_filter

DecisionFilter = enum_filter("decision", "decision", "status", RuleAction.choices)
TypeFilter = enum_filter("type", "type", "type", TransactionType.choices)
StateFilter = enum_filter("state", "state", "transaction_state", TransactionState.choices)

# The decision's colours, weakest to strongest (inline: the stock admin sheet has no badges).
DECISION_COLOURS = {
    RuleAction.ALLOW: ("#2e7d32", "#fff"),
    RuleAction.FLAG: ("#f9a825", "#222"),
    RuleAction.SUSPEND: ("#ef6c00", "#fff"),
    RuleAction.BLOCK: ("#b71c1c", "#fff"),
}
BADGE = (
    '<span class="cbo-decision cbo-decision-{}" style="display:inline-block;padding:1px 6px;'
    'border-radius:3px;font-weight:600;font-size:0.85em;background:{};color:{}">{}</span>'
)


def decision_badge(status: str):
    if status not in DECISION_COLOURS:
        return "-"
    background, colour = DECISION_COLOURS[status]
    return format_html(BADGE, status, background, colour, status)


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _pre(value):
    if value in (None, {}, []):
        return "-"
    return format_html('<pre class="cbo-json">{}</pre>', pretty_json(value))


class PaymentMethodFilter(admin.SimpleListFilter):
    """The payment method on either side."""

    title = "payment method"
    parameter_name = "method"

    def lookups(self, request, model_admin):
        return PaymentMethod.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                Q(origin_payment_method=self.value()) | Q(destination_payment_method=self.value())
            )
        return queryset


def _customer_columns(side: str) -> tuple[str, ...]:
    return tuple(
        f"{side}__{name}"
        for name in (
            "id",
            "external_ref",
            "customer_type",
            "first_name",
            "middle_name",
            "last_name",
            "registered_name",
            "trade_name",
        )
    )


# What the list shows: the evidence and the nested documents stay in the database.
LIST_COLUMNS = (
    "id",
    "transaction_id",
    "timestamp",
    "type",
    "transaction_state",
    "origin_user",
    "destination_user",
    "origin_user_ref",
    "destination_user_ref",
    "origin_amount",
    "origin_currency",
    "status",
    *_customer_columns("origin_user"),
    *_customer_columns("destination_user"),
)


class TransactionEventInline(ReadOnlyTabularInline):
    """The state history, oldest first: who moved the transaction where, and the verdict after."""

    model = TransactionEvent
    verbose_name = "event"
    verbose_name_plural = "events (state history)"
    fields = (
        "timestamp",
        "event_id",
        "previous_state",
        "transaction_state",
        "status_badge",
        "reason",
        "event_description",
        "changed_attributes",
    )
    readonly_fields = fields
    ordering = ("timestamp", "id")
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).defer("executed_rules", "hit_rules", "risk_score_details")

    @admin.display(description="decision after")
    def status_badge(self, obj):
        return decision_badge(obj.status)

    @admin.display(description="updated attributes")
    def changed_attributes(self, obj):
        names = sorted(set(obj.updated_transaction_attributes) - {"transactionState"})
        return ", ".join(names) or "-"


class TransactionRuleHitInline(ReadOnlyTabularInline):
    model = TransactionRuleHit
    verbose_name = "rule hit"
    verbose_name_plural = "rule hits"
    fields = ("rule_instance_id", "rule_id", "version_id", "action_badge", "is_shadow", "hit_directions")
    readonly_fields = fields
    ordering = ("id",)
    extra = 0

    @admin.display(description="action")
    def action_badge(self, obj):
        return decision_badge(obj.action)


@admin.register(Transaction)
class TransactionAdmin(BigTableAdmin, ReadOnlyModelAdmin):
    list_display = (
        "transaction_id",
        "timestamp",
        "type",
        "transaction_state",
        "origin_column",
        "destination_column",
        "amount_column",
        "decision",
        "hit_count",
    )
    list_display_links = ("transaction_id",)
    list_select_related = ("origin_user", "destination_user")
    list_filter = (DecisionFilter, TypeFilter, StateFilter, PaymentMethodFilter)
    date_hierarchy = "timestamp"
    search_fields = ("=transaction_id", "=origin_user_ref", "=destination_user_ref")
    search_help_text = "A transaction id, or a user id (origin or destination), exactly."
    ordering = ("-timestamp", "-id")
    inlines = (TransactionEventInline, TransactionRuleHitInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "transaction_id",
                    "type",
                    "timestamp",
                    "transaction_state",
                    "decision",
                    "is_first_transaction",
                )
            },
        ),
        (
            "Origin",
            {
                "fields": (
                    "origin_user_link",
                    "origin_amount_text",
                    "origin_country",
                    "origin_payment_method",
                    "origin_payment_identifier",
                    "origin_payment_details_json",
                    "origin_device_data_json",
                )
            },
        ),
        (
            "Destination",
            {
                "fields": (
                    "destination_user_link",
                    "destination_amount_text",
                    "destination_country",
                    "destination_payment_method",
                    "destination_payment_identifier",
                    "destination_payment_details_json",
                    "destination_device_data_json",
                )
            },
        ),
        (
            "Details",
            {
                "fields": (
                    "product_type",
                    "reference",
                    "promotion_code_used",
                    "related_transaction_ids",
                    "tags",
                )
            },
        ),
        (
            "Evidence",
            {
                "fields": ("risk_score_details_json", "rule_errors_json", "executed_rules_evidence"),
                "description": "Every rule instance that ran, the version that ran and what it compared.",
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at", "payload_digest"), "classes": ("collapse",)}),
    )
    readonly_fields = (
        "decision",
        "origin_user_link",
        "destination_user_link",
        "origin_amount_text",
        "destination_amount_text",
        "origin_payment_details_json",
        "destination_payment_details_json",
        "origin_device_data_json",
        "destination_device_data_json",
        "risk_score_details_json",
        "rule_errors_json",
        "executed_rules_evidence",
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "transactions_transaction_changelist":
            acting_hits = (
                TransactionRuleHit.objects.filter(transaction=OuterRef("pk"), is_shadow=False)
                .order_by()
                .values("transaction")
                .annotate(count=Count("id"))
                .values("count")
            )
            queryset = queryset.only(*LIST_COLUMNS).annotate(
                acting_hits=Coalesce(Subquery(acting_hits, output_field=IntegerField()), 0)
            )
        return queryset

    # -- the list
    @staticmethod
    def _party(customer, ref: str):
        if customer is None:
            return ref or "-"
        url = reverse("admin:users_customer_change", args=[customer.pk])
        name = customer.display_name
        if name:
            return format_html('<a href="{}">{}</a> <span class="cbo-muted">{}</span>', url, ref, name)
        return format_html('<a href="{}">{}</a>', url, ref)

    @admin.display(description="origin user", ordering="origin_user_ref")
    def origin_column(self, obj):
        return self._party(obj.origin_user, obj.origin_user_ref)

    @admin.display(description="destination user", ordering="destination_user_ref")
    def destination_column(self, obj):
        return self._party(obj.destination_user, obj.destination_user_ref)

    @admin.display(description="origin amount", ordering="origin_amount")
    def amount_column(self, obj):
        return self._amount(obj.origin_amount, obj.origin_currency)

    @admin.display(description="decision", ordering="status")
    def decision(self, obj):
        return decision_badge(obj.status)

    @admin.display(description="hits")
    def hit_count(self, obj):
        """Rule instances that hit and acted (shadow hits decide nothing)."""
        if hasattr(obj, "acting_hits"):
            return obj.acting_hits
        return len(obj.hit_rules)

    # -- the page
    @staticmethod
    def _amount(amount, currency):
        if amount is None:
            return "-"
        return f"{amount.normalize():,f} {currency}".strip()

    @admin.display(description="user")
    def origin_user_link(self, obj):
        return self._party(obj.origin_user, obj.origin_user_ref)

    @admin.display(description="user")
    def destination_user_link(self, obj):
        return self._party(obj.destination_user, obj.destination_user_ref)

    def _amount_with_base(self, amount, currency, base):
        text = self._amount(amount, currency)
        if amount is None or currency == settings.BASE_CURRENCY:
            return text
        if base is None:
            return format_html(
                '{} <span class="cbo-muted">(no rate to {})</span>', text, settings.BASE_CURRENCY
            )
        return format_html(
            '{} <span class="cbo-muted">= {}</span>', text, self._amount(base, settings.BASE_CURRENCY)
        )

    @admin.display(description="amount")
    def origin_amount_text(self, obj):
        return self._amount_with_base(obj.origin_amount, obj.origin_currency, obj.origin_amount_base)

    @admin.display(description="amount")
    def destination_amount_text(self, obj):
        return self._amount_with_base(
            obj.destination_amount, obj.destination_currency, obj.destination_amount_base
        )

    @admin.display(description="payment details")
    def origin_payment_details_json(self, obj):
        return _pre(obj.origin_payment_details)

    @admin.display(description="payment details")
    def destination_payment_details_json(self, obj):
        return _pre(obj.destination_payment_details)

    @admin.display(description="device data")
    def origin_device_data_json(self, obj):
        return _pre(obj.origin_device_data)

    @admin.display(description="device data")
    def destination_device_data_json(self, obj):
        return _pre(obj.destination_device_data)

    @admin.display(description="risk score details")
    def risk_score_details_json(self, obj):
        return _pre(obj.risk_score_details)

    @admin.display(description="rule errors")
    def rule_errors_json(self, obj):
        if not obj.rule_errors:
            return "none"
        return format_html_join(
            "",
            '<p class="errornote">{} ({}): {}</p>',
            ((e.get("ruleInstanceId"), e.get("ruleId"), e.get("error")) for e in obj.rule_errors),
        )

    @admin.display(description="executed rules")
    def executed_rules_evidence(self, obj):
        return render_to_string(
            "admin/transactions/transaction/_executed_rules.html",
            {"rules": [evidence_row(item) for item in obj.executed_rules or []]},
        )


def _from_millis(value):
    if not isinstance(value, int):
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def evidence_row(item: dict) -> dict:
    """One executed rule as the evidence table shows it."""
    levels = item.get("executedRules") or [{}]
    level = levels[0] if levels else {}
    detail = level.get("detail") or {}
    return {
        "instance_id": item.get("ruleInstanceId", ""),
        "alias": item.get("ruleNameAlias") or item.get("ruleName", ""),
        "template": item.get("ruleId", ""),
        "template_name": item.get("ruleName", ""),
        "action": decision_badge(item.get("ruleAction") or item.get("action", "")),
        "hit": bool(item.get("ruleHit")),
        "shadow": bool(item.get("isShadow")),
        "version_id": item.get("versionId", ""),
        "risk_level": level.get("riskLevel") or "-",
        "user_levels": detail.get("riskLevel") or {},
        "case_priority": item.get("casePriority", ""),
        "hit_directions": (item.get("ruleHitMeta") or {}).get("hitDirections", []),
        "executed_at": _from_millis(item.get("executedAt")),
        "data": pretty_json(detail.get("data", {})),
    }


@admin.register(TransactionEvent)
class TransactionEventAdmin(BigTableAdmin, ReadOnlyModelAdmin):
    list_display = ("event_id", "transaction", "timestamp", "previous_state", "transaction_state", "decision")
    list_select_related = ("transaction",)
    list_filter = (StateFilter, DecisionFilter)
    search_fields = ("=event_id", "=transaction__transaction_id")
    search_help_text = "An event id or a transaction id, exactly."
    date_hierarchy = "timestamp"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "event_id",
                    "transaction_link",
                    "timestamp",
                    "previous_state",
                    "transaction_state",
                    "reason",
                    "event_description",
                )
            },
        ),
        ("As received", {"fields": ("attributes_json", "meta_data_json", "payload_digest", "created_at")}),
        ("Verdict after the event", {"fields": ("decision", "executed_rules_evidence")}),
    )
    readonly_fields = (
        "transaction_link",
        "attributes_json",
        "meta_data_json",
        "decision",
        "executed_rules_evidence",
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "transactions_transactionevent_changelist":
            queryset = queryset.defer(
                "executed_rules", "hit_rules", "risk_score_details", "updated_transaction_attributes"
            )
        return queryset

    @admin.display(description="decision after", ordering="status")
    def decision(self, obj):
        return decision_badge(obj.status)

    @admin.display(description="transaction")
    def transaction_link(self, obj):
        url = reverse("admin:transactions_transaction_change", args=[obj.transaction_id])
        return format_html('<a href="{}">{}</a>', url, obj.transaction)

    @admin.display(description="updated transaction attributes")
    def attributes_json(self, obj):
        return _pre(obj.updated_transaction_attributes)

    @admin.display(description="meta data")
    def meta_data_json(self, obj):
        return _pre(obj.meta_data)

    @admin.display(description="executed rules")
    def executed_rules_evidence(self, obj):
        return render_to_string(
            "admin/transactions/transaction/_executed_rules.html",
            {"rules": [evidence_row(item) for item in obj.executed_rules or []]},
        )


# --- exchange rates ----------------------------------------------------------------------------


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ("currency", "rate_to_base")

    def clean_currency(self):
        code = (self.cleaned_data.get("currency") or "").strip().upper()
        if code not in CURRENCIES:
            raise forms.ValidationError(f"Unknown currency '{code}'; expected an ISO 4217 code.")
        if code == settings.BASE_CURRENCY:
            raise forms.ValidationError(f"{code} is the base currency: its rate is always 1.")
        return code


@admin.register(ExchangeRate)
class ExchangeRateAdmin(AuditedModelAdmin):
    """Rates to the base currency. Saving one makes this process convert with it at once; other
    processes reload theirs within a minute (transactions.money)."""

    form = ExchangeRateForm
    list_display = ("currency", "rate_to_base", "base_per_unit", "updated_at")
    search_fields = ("^currency",)
    ordering = ("currency",)
    readonly_fields = ("updated_at",)

    def get_fields(self, request, obj=None):
        return ("currency", "rate_to_base", "updated_at")

    @admin.display(description="meaning")
    def base_per_unit(self, obj):
        return f"1 {obj.currency} = {obj.rate_to_base.normalize():f} {settings.BASE_CURRENCY}"

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
        money.forget_rates()
        transaction.on_commit(money.forget_rates)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        money.forget_rates()
        transaction.on_commit(money.forget_rates)


# --- batches (seed 002) ---------------------------------------------------------------------------

BATCH_ERRORS_SHOWN = 50


@admin.register(Batch)
class BatchAdmin(ReadOnlyModelAdmin):
    """Posted batches: their progress, who posted them, and their refused items' errors."""

    list_display = (
        "batch_id",
        "kind",
        "status",
        "total",
        "succeeded",
        "failed",
        "duration_shown",
        "created_by",
        "created_at",
    )
    list_filter = ("kind", "status", "created_at")
    search_fields = ("=batch_id",)
    search_help_text = "A batch id, exactly."
    date_hierarchy = "created_at"
    ordering = ("-id",)
    fields = (
        "batch_id",
        "kind",
        "status",
        "total",
        "succeeded",
        "failed",
        "items_link",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "duration_shown",
        "items_digest",
        "failed_items",
    )
    readonly_fields = ("items_link", "duration_shown", "failed_items")

    @admin.display(description="duration")
    def duration_shown(self, obj):
        duration = obj.duration
        return "-" if duration is None else f"{duration.total_seconds():.1f} s"

    @admin.display(description="items")
    def items_link(self, obj):
        url = reverse("admin:transactions_batchitem_changelist") + f"?batch__id__exact={obj.pk}"
        return format_html('<a href="{}">{} items</a>', url, obj.total)

    @admin.display(description="refused items")
    def failed_items(self, obj):
        failed = list(
            obj.items.filter(status=BatchItem.Status.ERROR)
            .order_by("position")
            .values_list("position", "errors")[:BATCH_ERRORS_SHOWN]
        )
        if not failed:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td></tr>",
            (
                (
                    position,
                    "; ".join(f"{e.get('property') or '(item)'}: {e.get('issue')}" for e in errors or []),
                )
                for position, errors in failed
            ),
        )
        more = obj.failed - len(failed)
        tail = format_html("<p>and {} more</p>", more) if more > 0 else ""
        return format_html("<table><tr><th>position</th><th>errors</th></tr>{}</table>{}", rows, tail)


@admin.register(BatchItem)
class BatchItemAdmin(ReadOnlyModelAdmin):
    """A batch's items as posted, with what applying each gave (read-only)."""

    list_display = ("position", "batch", "status", "result_ref", "errors_shown", "processed_at")
    list_select_related = ("batch",)
    list_filter = ("status", "batch__kind")
    search_fields = ("=batch__batch_id", "=result_ref")
    search_help_text = "A batch id or the stored object's id, exactly."
    ordering = ("batch", "position")
    fields = ("batch", "position", "status", "result_ref", "processed_at", "errors_shown", "payload_json")
    readonly_fields = ("errors_shown", "payload_json")

    @admin.display(description="errors")
    def errors_shown(self, obj):
        return (
            "; ".join(f"{e.get('property') or '(item)'}: {e.get('issue')}" for e in obj.errors or []) or "-"
        )

    @admin.display(description="payload")
    def payload_json(self, obj):
        return _pre(obj.payload)
