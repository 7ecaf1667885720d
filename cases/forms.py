"""The forms of the analysts' case screens: they check the shape of what an analyst typed; the
workflow's rules (transitions, reasons, who may close as SAR, stale versions) are the services'.

Each form of the case page carries the `version` the analyst saw (a hidden field), passed to
the service as `expected_version`: a change submitted on a stale page is refused, never merged.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q

from cases.models import CaseStatus, StatusReason
from cases.services import allowed_targets
from compliance import roles
from compliance.models import StaffUser

# The seed's reasons read as they are spelled (the enum's generated labels would say "Sar", "Aml").
REASONS = [(value, value) for value in StatusReason.values]
REASON_CHOICES = [("", "—"), *REASONS]


def assignable_staff():
    """Who may be given a case: active members of the analyst and approver roles."""
    return (
        StaffUser.objects.filter(is_active=True)
        .filter(Q(groups__name__in=[roles.ANALYST, roles.APPROVER]) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class AssignForm(VersionedForm):
    assignee = StaffChoiceField(
        queryset=StaffUser.objects.none(), required=False, empty_label="— nobody (unassign) —"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_staff()


class StatusForm(VersionedForm):
    """A status change of a case or an alert: a reason is required when closing (the service says
    which), `other_reason` when the reason is Other; an optional file goes with it."""

    status = forms.ChoiceField(choices=CaseStatus.choices)
    reason = forms.ChoiceField(choices=REASON_CHOICES, required=False)
    other_reason = forms.CharField(max_length=500, required=False, label="Other reason")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    file = forms.FileField(required=False)

    def __init__(self, *args, current: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if current and not self.is_bound:
            # Offered: the statuses the workflow allows from here. A submitted one is checked by
            # the service (a 409 naming the transition), not refused as an unknown choice.
            allowed = set(allowed_targets(current))
            self.fields["status"].choices = [(v, label) for v, label in CaseStatus.choices if v in allowed]


class AlertStatusForm(StatusForm):
    alert = forms.IntegerField(widget=forms.HiddenInput)


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Comment")
    alert = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="About alert")
    file = forms.FileField(required=False)

    def __init__(self, *args, alerts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alert"].choices = [("", "the case"), *((a.pk, a.alert_id) for a in alerts)]

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("body") or "").strip() and not cleaned.get("file"):
            raise forms.ValidationError("Write a comment or choose a file.")
        return cleaned


class AttachForm(forms.Form):
    file = forms.FileField()
    description = forms.CharField(max_length=500, required=False)


class BulkAssignForm(forms.Form):
    assignee = StaffChoiceField(queryset=StaffUser.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_staff()


class BulkCloseForm(forms.Form):
    reason = forms.ChoiceField(choices=REASONS, initial=StatusReason.FALSE_POSITIVE)
    other_reason = forms.CharField(max_length=500, required=False, label="Other reason")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
