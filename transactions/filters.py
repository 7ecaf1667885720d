"""Filters of `GET /api/transactions`: user, type, state, decision, rule hit, time and amount."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q

from compliance.api.filters import StrictFilterSet
from transactions.models import RuleAction, Transaction, TransactionRuleHit, TransactionState, TransactionType
from users.api.user_serializers.fields import EPOCH, MAX_MS, MIN_MS


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
        from datetime import timedelta

        return super().filter(qs, EPOCH + timedelta(milliseconds=value))


class TransactionFilter(StrictFilterSet):
    userId = django_filters.CharFilter(method="filter_user", help_text="Origin or destination user.")
    originUserId = django_filters.CharFilter(field_name="origin_user_ref")
    destinationUserId = django_filters.CharFilter(field_name="destination_user_ref")
    type = django_filters.MultipleChoiceFilter(field_name="type", choices=TransactionType.choices)
    transactionState = django_filters.MultipleChoiceFilter(
        field_name="transaction_state", choices=TransactionState.choices
    )
    status = django_filters.MultipleChoiceFilter(
        field_name="status", choices=RuleAction.choices, help_text="The decision."
    )
    ruleInstanceId = django_filters.CharFilter(
        method="filter_rule_instance", help_text="Hit (not in shadow) by this rule instance."
    )
    ruleId = django_filters.CharFilter(method="filter_rule", help_text="Hit by an instance of this template.")
    afterTimestamp = EpochMillisFilter(field_name="timestamp", lookup_expr="gte")
    beforeTimestamp = EpochMillisFilter(field_name="timestamp", lookup_expr="lt")
    currency = django_filters.CharFilter(field_name="origin_currency")
    minAmount = django_filters.NumberFilter(field_name="origin_amount", lookup_expr="gte", min_value=0)
    maxAmount = django_filters.NumberFilter(field_name="origin_amount", lookup_expr="lte", min_value=0)

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
