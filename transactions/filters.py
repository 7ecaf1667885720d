"""Filters of `GET /api/transactions`: user, type, state, decision, rule hit, time and amount.

Every filter present must have a value (StrictFilterSet): `?userId=` is a client's bug, not
"every user". Ids are matched exactly; currencies are ISO 4217 codes (an unknown code is a
400, not an empty list); amounts are those of the origin side, in its own currency.
"""

from datetime import timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.utils import extend_schema_field

from compliance.api.filters import StrictFilterSet
from transactions.currencies import CURRENCIES
from transactions.models import RuleAction, Transaction, TransactionRuleHit, TransactionState, TransactionType
from users.api.user_serializers.fields import EPOCH, MAX_MS, MIN_MS

MAX_AMOUNT = Decimal("999999999999999999.999999")  # what the amount columns hold


@extend_schema_field({"type": "integer", "format": "int64", "minimum": MIN_MS, "maximum": MAX_MS})
class EpochMillisFilter(django_filters.Filter):
    """A time as epoch milliseconds (the API's convention)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", MIN_MS)
        kwargs.setdefault("max_value", MAX_MS)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        return super().filter(qs, EPOCH + timedelta(milliseconds=value))


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 200})
class IdentifierFilter(django_filters.Filter):
    """An id matched exactly. Not a CharFilter: StrictFilterSet lets empty text searches
    through, and an empty id is a mistake."""

    field_class = forms.CharField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)


class CurrencyField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value).strip().upper()
        if value and value not in CURRENCIES:
            raise forms.ValidationError(f"Unknown currency '{value[:10]}'; expected an ISO 4217 code.")
        return value


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z]{3}$", "example": "EUR"})
class CurrencyFilter(django_filters.Filter):
    field_class = CurrencyField


class AmountFilter(django_filters.NumberFilter):
    """A non-negative amount with at most 6 decimals, within what the columns hold."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        kwargs.setdefault("decimal_places", 6)
        super().__init__(*args, **kwargs)


class TransactionFilter(StrictFilterSet):
    userId = IdentifierFilter(method="filter_user", help_text="Origin or destination user.")
    originUserId = IdentifierFilter(field_name="origin_user_ref")
    destinationUserId = IdentifierFilter(field_name="destination_user_ref")
    type = django_filters.MultipleChoiceFilter(field_name="type", choices=TransactionType.choices)
    transactionState = django_filters.MultipleChoiceFilter(
        field_name="transaction_state", choices=TransactionState.choices
    )
    status = django_filters.MultipleChoiceFilter(
        field_name="status", choices=RuleAction.choices, help_text="The decision."
    )
    ruleInstanceId = IdentifierFilter(
        method="filter_rule_instance", help_text="Hit (not in shadow) by this rule instance."
    )
    ruleId = IdentifierFilter(
        method="filter_rule", help_text="Hit (not in shadow) by an instance of this template."
    )
    afterTimestamp = EpochMillisFilter(
        field_name="timestamp", lookup_expr="gte", help_text="Transactions at or after this time (ms)."
    )
    beforeTimestamp = EpochMillisFilter(
        field_name="timestamp", lookup_expr="lt", help_text="Transactions before this time (ms)."
    )
    currency = CurrencyFilter(field_name="origin_currency", help_text="Origin currency (ISO 4217).")
    minAmount = AmountFilter(
        field_name="origin_amount", lookup_expr="gte", help_text="Origin amount at least, in its currency."
    )
    maxAmount = AmountFilter(
        field_name="origin_amount", lookup_expr="lte", help_text="Origin amount at most, in its currency."
    )

    class Meta:
        model = Transaction
        fields = []

    def filter_user(self, queryset, name, value):
        return queryset.filter(Q(origin_user_ref=value) | Q(destination_user_ref=value))

    def _hit(self, queryset, **lookup):
        hits = TransactionRuleHit.objects.filter(transaction=OuterRef("pk"), is_shadow=False, **lookup)
        return queryset.filter(Exists(hits))

    def filter_rule_instance(self, queryset, name, value):
        return self._hit(queryset, rule_instance_id=value)

    def filter_rule(self, queryset, name, value):
        return self._hit(queryset, rule_id=value)
