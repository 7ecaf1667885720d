"""Filters of `GET /api/customer`: type, status, risk level, countries, review due, search."""

import django_filters
from django.db.models import Q

from compliance.api.filters import IntegerFilter, LookupFilter, LookupMultipleFilter, StrictFilterSet
from compliance.reference import models as ref
from users.models import Customer, RiskLevel


class CustomerFilter(StrictFilterSet):
    idCustomerType = LookupFilter(field_name="customer_type", queryset=ref.CustomerType.objects.all())
    idCustomerStatus = LookupMultipleFilter(field_name="status", queryset=ref.CustomerStatus.objects.all())
    riskLevel = django_filters.MultipleChoiceFilter(field_name="risk_level", choices=RiskLevel.choices)
    idCountryNationality = LookupFilter(field_name="country_nationality", queryset=ref.Country.objects.all())
    idCountryResidence = LookupFilter(field_name="country_residence", queryset=ref.Country.objects.all())
    idCountryIncorporation = LookupFilter(
        field_name="country_incorporation", queryset=ref.Country.objects.all()
    )
    reviewDueBefore = django_filters.DateFilter(
        field_name="next_review_date", lookup_expr="lte", help_text="Next review on or before this date."
    )
    reviewDueAfter = django_filters.DateFilter(
        field_name="next_review_date", lookup_expr="gte", help_text="Next review on or after this date."
    )
    minRiskScore = IntegerFilter(field_name="risk_effective_score", lookup_expr="gte")
    updatedAfter = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    search = django_filters.CharFilter(method="filter_search", help_text="Reference or name contains.")

    class Meta:
        model = Customer
        fields = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(external_ref__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(registered_name__icontains=value)
            | Q(trade_name__icontains=value)
        )
