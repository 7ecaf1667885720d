"""Watchlists in the back office: sources (with the upload of a list file), entries and import runs.

Compliance admins manage sources and import files; analysts look entries up and screen names
(the entry list's "Screening search", `users.admin.screening_search`). Entries and
import runs are read only: they change by import alone, through `users.screening.services`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from compliance.audit import Actor
from compliance.errors import ApplicationError
from users.admin.screening_search import ScreeningSearchMixin
from users.admin.shared import BigTableAdmin, add_refusal, refusal_lines
from users.models.screening import ImportRun, ListFormat, ScreeningStatus, WatchlistEntry, WatchlistSource
from users.screening.importers import FORMATS
from users.screening.ongoing import screening_schedule
from users.screening.services import (
    ImportFailedError,
    import_file,
    watchlist_source_create,
    watchlist_source_update,
)

IMPORT = "users.import_watchlist"


class ImportForm(forms.Form):
    format = forms.ChoiceField(choices=ListFormat.choices)
    file = forms.FileField(help_text="The list file (for OFAC CSV: sdn.csv).")
    add_file = forms.FileField(required=False, label="add.csv", help_text="OFAC CSV only: addresses.")
    alt_file = forms.FileField(required=False, label="alt.csv", help_text="OFAC CSV only: aliases.")

    def clean(self):
        data = super().clean()
        extra = [name for name in ("add_file", "alt_file") if data.get(name)]
        if extra and data.get("format") != ListFormat.OFAC_CSV:
            raise forms.ValidationError("Only the OFAC CSV format takes add.csv and alt.csv.")
        return data

    def files_in_order(self) -> list:
        data = self.cleaned_data
        return [data["file"], data.get("add_file"), data.get("alt_file")]


def screening_progress(run: ImportRun | None) -> str:
    """An import run's ongoing screening as one line: status, done/total, hits."""
    if run is None or not run.screening_status:
        return "-"
    line = f"{run.get_screening_status_display()} {run.screening_done}/{run.screening_total}"
    if run.screening_total and run.screening_status in (ScreeningStatus.RUNNING, ScreeningStatus.FAILED):
        line += f" ({run.screening_done * 100 // run.screening_total}%)"
    hits = f"{run.screening_hits} hit{'' if run.screening_hits == 1 else 's'}"
    return f"{line}, {hits}"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WatchlistSource)
class WatchlistSourceAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "format",
        "active",
        "entry_count",
        "last_import_link",
        "last_screening",
    )
    list_filter = ("kind", "format", "active")
    search_fields = ("code", "name")
    list_select_related = ("last_import",)
    readonly_fields = ("last_import", "last_screening", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "format", "publisher_url", "active")}),
        ("Imports", {"fields": ("last_import", "last_screening", "created_at", "updated_at")}),
    )
    change_form_template = "admin/users/watchlistsource/change_form.html"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "publisher_url":
            kwargs["assume_scheme"] = "https"  # publishers serve their lists over https
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # entries and past hits point at the source: deactivate it instead

    @admin.display(description="entries (active)")
    def entry_count(self, obj):
        return obj.entries.filter(removed_at__isnull=True).count()

    @admin.display(description="last import")
    def last_import_link(self, obj):
        run = obj.last_import
        if run is None:
            return "-"
        url = reverse("admin:users_importrun_change", args=[run.pk])
        # format_html escapes its arguments into strings first: the date is formatted here.
        started = f"{run.started_at:%Y-%m-%d %H:%M}"
        return format_html('<a href="{}">{} ({})</a>', url, started, run.status)

    @admin.display(description="ongoing screening")
    def last_screening(self, obj):
        """The last import's screening of customers: status, done/total, hits."""
        return screening_progress(obj.last_import)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        actor = Actor.from_request(request)
        if change:
            saved = watchlist_source_update(actor=actor, source=obj, fields=fields)
        else:
            saved = watchlist_source_create(actor=actor, fields=dict(form.cleaned_data))
        obj.pk = saved.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:  # a refusal of the service (save_model): say why
            self.message_user(request, " ".join(refusal_lines(exc)), messages.ERROR)
            return redirect(request.get_full_path())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_import": request.user.has_perm(IMPORT), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [
            path("<int:object_id>/import/", view, name="users_watchlistsource_import"),
            *super().get_urls(),
        ]

    def import_view(self, request, object_id):
        """Upload a list file into this source: the same service as `manage.py import_watchlist`."""
        if not request.user.has_perm(IMPORT):
            raise PermissionDenied
        source = get_object_or_404(WatchlistSource, pk=object_id)
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    run = import_file(
                        source=source,
                        fileobj=form.files_in_order(),
                        fmt=form.cleaned_data["format"],
                        actor=Actor.from_request(request),
                    )
                except ImportFailedError as exc:
                    self.message_user(request, " ".join(refusal_lines(exc)), messages.ERROR)
                    if exc.run is not None:
                        return redirect("admin:users_importrun_change", exc.run.pk)
                except ApplicationError as exc:
                    add_refusal(form, exc)
                else:
                    self.message_user(
                        request,
                        f"Imported {run.file_name}: {run.added} added, {run.changed} changed, "
                        f"{run.unchanged} unchanged, {run.removed} removed.",
                        messages.SUCCESS,
                    )
                    return redirect("admin:users_importrun_change", run.pk)
        else:
            form = ImportForm(initial={"format": source.format or None})
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import a file into {source.name}",
            "opts": self.opts,
            "source": source,
            "form": form,
            "formats": [(code, ListFormat(code).label, " + ".join(f.files)) for code, f in FORMATS.items()],
        }
        return TemplateResponse(request, "admin/users/watchlistsource/import.html", context)


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(ScreeningSearchMixin, ReadOnlyAdmin, BigTableAdmin):
    list_display = ("name", "schema", "source", "external_id", "listed_on", "removed_at", "updated_at")
    list_filter = ("source", "schema", ("removed_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "names__name", "=external_id")  # names: aliases too
    list_select_related = ("source",)
    ordering = ("name",)
    fieldsets = (
        (None, {"fields": ("source", "external_id", "schema", "name", "aliases", "listed_on", "removed_at")}),
        (
            "Identity",
            {
                "fields": (
                    "birth_dates",
                    "birth_places",
                    "nationalities",
                    "countries",
                    "identifiers",
                    "programmes",
                )
            },
        ),
        (
            "Record",
            {
                "fields": (
                    "raw",
                    "md5",
                    "first_seen_import",
                    "last_changed_import",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin, BigTableAdmin):
    list_display = (
        "pk",
        "source",
        "format",
        "status",
        "started_at",
        "file_name",
        "added",
        "changed",
        "unchanged",
        "removed",
        "screening",
        "actor_label",
    )
    list_filter = ("status", "screening_status", "source", "format")
    search_fields = ("file_name", "=sha256")
    list_select_related = ("source",)
    fieldsets = (
        (None, {"fields": ("source", "format", "status", "started_at", "finished_at", "actor_label")}),
        ("File", {"fields": ("file_name", "sha256")}),
        ("Outcome", {"fields": ("added", "changed", "unchanged", "removed", "errors")}),
        (
            "Ongoing screening",
            {
                "description": "The new and changed entries screened against all customers, in a worker.",
                "fields": (
                    "screening",
                    "screening_status",
                    "screening_total",
                    "screening_done",
                    "screening_hits",
                    "screening_finished_at",
                ),
            },
        ),
    )
    readonly_fields = ("screening",)
    actions = ("screen_again",)

    @admin.display(description="ongoing screening")
    def screening(self, obj):
        return screening_progress(obj)

    def has_screen_again_permission(self, request):
        return request.user.has_perm(IMPORT)

    @admin.action(
        description="Screen customers again against the selected imports' entries",
        permissions=["screen_again"],
    )
    def screen_again(self, request, queryset):
        """Start the selected runs' ongoing screening over (after a failure, or a lost worker)."""
        actor = Actor.from_request(request)
        runs = [screening_schedule(import_run_id=run.pk, actor=actor) for run in queryset.order_by("pk")]
        self.message_user(
            request,
            "; ".join(f"import #{run.pk}: {screening_progress(run)}" for run in runs if run is not None),
            messages.SUCCESS,
        )
