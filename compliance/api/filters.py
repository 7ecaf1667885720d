"""The FilterSet every list endpoint builds on."""

import django_filters
from django import forms

from compliance.ids import MAX_ID as _MAX_ID


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


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (django-filter's NumberFilter takes decimals, which an integer column
    would silently truncate)."""

    field_class = forms.IntegerField


class _BoundedIdMixin:
    """Ids beyond any column's range are an invalid choice, not a database overflow (a 500)."""

    def _check(self, value):
        if value in self.empty_values:
            return
        text = str(value)
        if not text.isdigit() or int(text) > _MAX_ID:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")


class BoundedModelChoiceField(_BoundedIdMixin, forms.ModelChoiceField):
    def to_python(self, value):
        self._check(value)
        return super().to_python(value)


class BoundedModelMultipleChoiceField(_BoundedIdMixin, forms.ModelMultipleChoiceField):
    def clean(self, value):
        for item in value or []:
            if item in self.empty_values:
                continue
            text = str(item)
            if not text.isdigit() or int(text) > _MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": item}
                )
        return super().clean(value)


class LookupFilter(django_filters.ModelChoiceFilter):
    """An id of a reference table (or any integer-keyed model)."""

    field_class = BoundedModelChoiceField


class LookupMultipleFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = BoundedModelMultipleChoiceField
