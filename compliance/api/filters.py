"""The FilterSet every list endpoint builds on."""

import django_filters
from django import forms


class StrictFilterSet(django_filters.FilterSet):
    """A present but empty value is a mistake, not "no filter" (as django-filter reads it).

    `?updatedAfter=` or `?riskLevel=` most likely comes from a client that failed to fill
    the value in; answering the unfiltered list would hide its bug. Text searches may be
    empty.
    """

    def is_valid(self):
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if isinstance(filter_, django_filters.CharFilter) and not isinstance(
                filter_, django_filters.ChoiceFilter
            ):
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data.get(name)]
            if name in self.data and any(value in ("", None) for value in values):
                self.form.add_error(name, forms.ValidationError("Must not be empty."))
                valid = False
        return valid
