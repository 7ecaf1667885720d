"""The analysts' "Screening search" page: one name against the watchlists, as `POST /api/screening/search`.

A view of the watchlist entry admin (`admin/users/watchlistentry/search/`), open to whoever
may read entries. It calls the same service as the API (`users.screening.adhoc`), so every
search from the back office is audited too.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse

from compliance.audit import Actor
from compliance.errors import ApplicationError
from compliance.reference.models import Country
from users.admin.shared import add_refusal
from users.models.screening import SourceKind
from users.screening import adhoc

SEARCH = "users.view_watchlistentry"
# The service names the API's properties; the form's fields are named after the model's words.
FORM_FIELDS = {
    "name": "name",
    "birthDate": "birth_date",
    "countries": "countries",
    "entityType": "entity_type",
    "sourceKinds": "source_kinds",
    "minScore": "min_score",
    "limit": "limit",
}


class ScreeningSearchForm(forms.Form):
    name = forms.CharField(max_length=adhoc.MAX_NAME_LENGTH)
    birth_date = forms.CharField(
        required=False, max_length=10, label="Date of birth", help_text="YYYY, YYYY-MM or YYYY-MM-DD."
    )
    countries = forms.CharField(
        required=False, max_length=200, help_text="ISO alpha-2 codes, separated by commas (DE, RU)."
    )
    entity_type = forms.ChoiceField(
        required=False,
        label="Entity type",
        choices=[("", "Any")] + [(value, value.capitalize()) for value in adhoc.ENTITY_TYPES],
    )
    source_kinds = forms.MultipleChoiceField(
        required=False,
        label="Lists",
        choices=SourceKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every kind when none is ticked.",
    )
    min_score = forms.FloatField(
        required=False,
        min_value=0,
        max_value=100,
        label="Minimum score",
        help_text="Empty: hits only, each against its list's threshold. 0: the whole ranking.",
    )
    limit = forms.IntegerField(min_value=1, max_value=adhoc.MAX_LIMIT, initial=adhoc.DEFAULT_LIMIT)

    def clean_countries(self):
        codes = sorted({code.strip().upper() for code in self.cleaned_data["countries"].split(",")} - {""})
        known = set(Country.objects.filter(alpha2__in=codes, is_active=True).values_list("alpha2", flat=True))
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise forms.ValidationError(f"Unknown country code: {', '.join(unknown)}.")
        return codes


class ScreeningSearchMixin:
    """Adds the search page to a ModelAdmin (the watchlist entry admin)."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.screening_search_view)
        return [
            path("search/", view, name="users_watchlistentry_search"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "screening_search_url": reverse("admin:users_watchlistentry_search"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def screening_search_view(self, request):
        if not request.user.has_perm(SEARCH):
            raise PermissionDenied
        outcome = None
        form = ScreeningSearchForm(request.GET or None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                outcome = adhoc.screening_search(
                    actor=Actor.from_request(request),
                    name=data["name"],
                    entity_type=data["entity_type"] or None,
                    birth_date=data["birth_date"] or None,
                    countries=data["countries"],
                    source_kinds=data["source_kinds"] or None,
                    min_score=data["min_score"],
                    limit=data["limit"],
                )
            except ApplicationError as exc:
                add_refusal(form, _renamed(exc))
        rows = [
            {
                "candidate": candidate,
                "entry_url": reverse("admin:users_watchlistentry_change", args=[candidate.entry.pk]),
            }
            for candidate in (outcome.candidates if outcome else [])
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Screening search",
            "opts": self.opts,
            "form": form,
            "outcome": outcome,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/users/screening_search.html", context)


def _renamed(exc: ApplicationError) -> ApplicationError:
    """The service's refusal with the form's field names, so each problem shows beside its field."""
    return ApplicationError(
        exc.message, errors={FORM_FIELDS.get(key, key): problem for key, problem in exc.errors.items()}
    )
