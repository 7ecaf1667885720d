"""Filters of `GET /api/management/rule-instances`."""

import django_filters

from compliance.api.filters import StrictFilterSet
from rules.models import RuleInstance


class RuleInstanceFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(field_name="status", choices=RuleInstance.Status.choices)
    ruleId = django_filters.CharFilter(
        field_name="rule_id", help_text="Instances of this template (`R-1`...)."
    )
    isShadow = django_filters.ChoiceFilter(
        choices=(("true", "true"), ("false", "false")),
        method="filter_shadow",
        help_text="`true`: the instances in shadow mode; `false`: the others.",
    )

    class Meta:
        model = RuleInstance
        fields = []

    def filter_shadow(self, queryset, name, value):
        return queryset.filter(is_shadow=value == "true")
