"""The rules back office: rule instances (the editor, their versions, backtests), backtest runs,
blocked values and IP country ranges.

Rule instances are written through `rules.services` only: the form validates the whole
instance with `validate_document` (the template's parameter schema, the filters schema, the
risk-level sets) and shows each refusal beside the field it names, and saving calls
`rule_instance_create` / `rule_instance_update` / `rule_instance_delete`, so an instance made
here is versioned, audited and announced to the engine exactly as one made through the API.
Compliance admins edit and backtest; analysts read (see rules.apps for the grants).
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from compliance.admin import AuditedModelAdmin, ReadOnlyModelAdmin, ReadOnlyTabularInline
from compliance.audit import Actor
from compliance.errors import ApplicationError
from rules import backtest, services
from rules.blocked import normalise
from rules.documents import instance_document
from rules.engine.filters import FILTERS_SCHEMA
from rules.iplookup import address_key
from rules.library import REGISTRY
from rules.models import (
    RISK_LEVELS,
    BacktestRun,
    BlockedValue,
    IpCountryRange,
    RuleInstance,
    RuleInstanceVersion,
)
from users.admin.shared import BigTableAdmin, refusal_lines

BACKTEST = "rules.add_backtestrun"
# An id as typed in a URL or a search box (ASCII digits: `str.isdigit` also takes "¹").
ID = re.compile(r"[0-9]{1,9}")
# The instance document's properties, by model field (rules.services.FIELDS the other way round).
PROPERTIES = {field: key for key, field in services.FIELDS.items()}
JSON_FIELDS = tuple(
    field.name for field in RuleInstance._meta.concrete_fields if isinstance(field, models.JSONField)
)


def template_order(rule_id: str) -> tuple[int, str]:
    number = rule_id.rpartition("-")[2]
    return (int(number) if number.isdigit() else 1 << 30, rule_id)


def template_choices() -> list[tuple[str, str]]:
    return [(key, f"{key} — {REGISTRY[key].name}") for key in sorted(REGISTRY, key=template_order)]


PRE_STYLE = mark_safe('style="max-height: 24em; overflow: auto; white-space: pre-wrap; margin: 0"')


def pretty(value) -> str:
    return json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False, default=str)


def pretty_block(value, summary: str = ""):
    """JSON, indented, in a <pre> (collapsed under `summary` when given)."""
    if summary:
        return format_html(
            "<details><summary>{}</summary><pre {}>{}</pre></details>", summary, PRE_STYLE, pretty(value)
        )
    return format_html("<pre {}>{}</pre>", PRE_STYLE, pretty(value))


def instance_link(instance_id):
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:rules_ruleinstance_change", args=[instance_id]), instance_id
    )


# --- the rule instance editor --------------------------------------------------------------


class PrettyJSONField(forms.JSONField):
    """A JSON box showing its value indented, so a parameter set reads as it is edited."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class RuleInstanceForm(forms.ModelForm):
    """The instance's fields; `clean` validates them as one document through the service's
    `validate_document` and puts every refusal on the field it names."""

    rule_id = forms.ChoiceField(label="Rule template", choices=template_choices)

    class Meta:
        model = RuleInstance
        fields = tuple(services.FIELDS.values())
        field_classes = dict.fromkeys(JSON_FIELDS, PrettyJSONField)
        widgets = {
            name: forms.Textarea(attrs={"rows": 6, "cols": 80, "class": "cbo-json", "spellcheck": "false"})
            for name in JSON_FIELDS
        }

    document: dict | None = None

    def clean(self):
        cleaned = super().clean()
        for name in JSON_FIELDS:
            # An emptied box means "none", not NULL (the columns are NOT NULL).
            if name in cleaned and cleaned[name] is None:
                cleaned[name] = RuleInstance._meta.get_field(name).get_default()
        if self.errors:
            return cleaned  # a field is unreadable: the document cannot be judged yet
        document = {PROPERTIES[name]: cleaned[name] for name in services.FIELDS.values() if name in cleaned}
        if self.instance.pk is not None:
            current = instance_document(self.instance)
            document = {**{key: current[key] for key in services.FIELDS}, **document}
        try:
            services.validate_document(document)
        except ApplicationError as exc:
            self.add_refusal(exc)
        else:
            self.document = document
        return cleaned

    def add_refusal(self, exc: ApplicationError) -> None:
        """`parameters.transactionsLimit: ...` goes under `parameters` as `transactionsLimit: ...`."""
        for key, problems in exc.errors.items():
            prop, _, rest = key.partition(".")
            field = services.FIELDS.get(prop)
            for problem in problems if isinstance(problems, list) else [problems]:
                text = f"{rest}: {problem}" if rest else str(problem)
                if field in self.fields:
                    self.add_error(field, text)
                else:
                    self.add_error(None, f"{key}: {problem}")
        if not exc.errors:
            self.add_error(None, exc.message)


class VersionInline(ReadOnlyTabularInline):
    """Every version, newest first: what ran under each `versionId` (read only)."""

    model = RuleInstanceVersion
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("version", "version_label", "created_by", "created_at", "configuration")
    readonly_fields = fields
    verbose_name_plural = "versions"

    @admin.display(description="version id")
    def version_label(self, obj):
        return obj.version_id

    @admin.display(description="configuration")
    def configuration(self, obj):
        return pretty_block(obj.config, "Show the configuration")


class BacktestInline(ReadOnlyTabularInline):
    """The instance's backtests, newest first (read only; run them with the Backtest button)."""

    model = BacktestRun
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("run", "status", "period", "transactions_scanned", "hits", "rate", "requested_by", "created_at")
    readonly_fields = fields
    verbose_name_plural = "backtests"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("config", "sample_hits").order_by("-created_at", "-id")

    @admin.display(description="run")
    def run(self, obj):
        return format_html(
            '<a href="{}">Backtest {}</a>', reverse("admin:rules_backtestrun_change", args=[obj.pk]), obj.pk
        )

    @admin.display(description="period")
    def period(self, obj):
        return period_text(obj)

    @admin.display(description="hit rate")
    def rate(self, obj):
        return hit_rate_text(obj)


class TemplateFilter(admin.SimpleListFilter):
    title = "rule template"
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return template_choices()

    def queryset(self, request, queryset):
        return queryset.filter(rule_id=self.value()) if self.value() else queryset


class LifecycleFilter(admin.SimpleListFilter):
    title = "lifecycle"
    parameter_name = "lifecycle"

    def lookups(self, request, model_admin):
        return (("live", "Live"), ("retired", "Retired (deleted)"))

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "retired":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(RuleInstance)
class RuleInstanceAdmin(admin.ModelAdmin):
    form = RuleInstanceForm
    list_display = (
        "id",
        "rule",
        "rule_name_alias",
        "status_column",
        "action",
        "is_shadow",
        "version",
        "updated_at",
    )
    list_display_links = ("id", "rule")
    list_filter = (
        LifecycleFilter,
        "status",
        "action",
        "is_shadow",
        TemplateFilter,
        "nature",
        "case_priority",
    )
    search_fields = ("=id", "rule_id", "rule_name_alias", "description")
    ordering = ("id",)
    readonly_fields = ("template", "record")
    inlines = (VersionInline, BacktestInline)
    actions = ("backtest_last_30_days", "backtest_chosen_period")
    change_form_template = "admin/rules/ruleinstance/change_form.html"

    # -- the list
    @admin.display(description="rule", ordering="rule_id")
    def rule(self, obj):
        template = REGISTRY.get(obj.rule_id)
        return f"{obj.rule_id} — {template.name}" if template else obj.rule_id

    @admin.display(description="status", ordering="status")
    def status_column(self, obj):
        if obj.deleted_at is not None:
            return format_html('<span style="color: #ba2121; font-weight: 600">{}</span>', "RETIRED")
        return obj.status

    # -- the form
    def get_fieldsets(self, request, obj=None):
        sets = [
            (None, {"fields": ("rule_id", "rule_name_alias", "description", "status", "is_shadow")}),
        ]
        if obj is not None:
            sets.append(("Template", {"fields": ("template",), "classes": ("collapse",)}))
        sets += [
            ("Parameters", {"fields": ("parameters", "risk_level_parameters")}),
            (
                "Outcome",
                {
                    "fields": (
                        "action",
                        "risk_level_actions",
                        "case_priority",
                        "nature",
                        "labels",
                        "triggers_on_hit",
                        "risk_level_triggers_on_hit",
                    )
                },
            ),
            ("Scope", {"fields": ("filters", "run_on_transaction_events")}),
        ]
        if obj is not None:
            sets.append(("Record", {"fields": ("record",), "classes": ("collapse",)}))
        return sets

    @staticmethod
    def chosen_template(request, obj=None):
        """The template the form is about: the instance's, else the one chosen (?rule_id=R-2, or posted)."""
        rule_id = request.POST.get("rule_id") or request.GET.get("rule_id") or (obj.rule_id if obj else None)
        return REGISTRY.get(rule_id)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        fields = form.base_fields
        if "parameters" not in fields:  # read only (an analyst's view, a retired instance)
            return form
        if obj is not None and obj.rule_id not in REGISTRY:
            fields["rule_id"].choices = [(obj.rule_id, f"{obj.rule_id} (no longer in the library)")]
        template = self.chosen_template(request, obj)
        if template is None:
            fields["rule_id"].help_text = format_html(
                "Pick a template to see its parameters: {}",
                format_html_join(
                    ", ",
                    '<a href="?rule_id={}">{}</a>',
                    ((key, key) for key in sorted(REGISTRY, key=template_order)),
                ),
            )
            fields["parameters"].help_text = "Valid against the chosen template's parameter schema."
        else:
            fields["rule_id"].help_text = template.description
            fields["parameters"].help_text = format_html(
                "Used when the user's risk level has no set of its own. Empty: the template's defaults. {}{}",
                pretty_block(template.parameters_schema, f"Parameter schema of {template.id}"),
                pretty_block(template.default_parameters, "Default parameters"),
            )
        fields["risk_level_parameters"].help_text = format_html(
            "Either empty, or one parameter set for each of {} (each valid against the same schema); "
            "the user's ongoing risk level picks the set.",
            ", ".join(RISK_LEVELS),
        )
        fields["risk_level_actions"].help_text = mark_safe(
            'Either empty, or one action for each level, e.g. <code>{"VERY_HIGH": "BLOCK", '
            '"HIGH": "SUSPEND", "MEDIUM": "FLAG", "LOW": "FLAG", "VERY_LOW": "ALLOW"}</code>.'
        )
        fields["filters"].help_text = format_html(
            "Which transactions the instance looks at; empty: all. {}",
            pretty_block(FILTERS_SCHEMA, "Filters schema"),
        )
        fields["triggers_on_hit"].help_text = format_html(
            'What a hit changes on the users, e.g. <code>{{"usersToCheck": "ORIGIN", '
            '"userStateDetails": {{"state": "SUSPENDED", "reason": "..."}}}}</code>. {}',
            pretty_block(services.TRIGGERS_SCHEMA, "Triggers schema"),
        )
        fields["risk_level_triggers_on_hit"].help_text = "Triggers per risk level (any of the five levels)."
        fields["labels"].help_text = mark_safe('A list of texts, e.g. <code>["UNEXPECTED_BEHAVIOR"]</code>.')
        return form

    def get_changeform_initial_data(self, request):
        """`?rule_id=R-2` starts the instance from the template's defaults."""
        initial = super().get_changeform_initial_data(request)
        template = REGISTRY.get(initial.get("rule_id") or "")
        if template is not None:
            initial.setdefault("parameters", template.default_parameters)
            initial.setdefault("nature", template.nature)
            initial.setdefault("labels", list(template.labels))
            initial.setdefault("run_on_transaction_events", template.run_on_transaction_events)
        return initial

    @admin.display(description="template")
    def template(self, obj):
        template = REGISTRY.get(obj.rule_id) if obj else None
        if template is None:
            return "-"
        return format_html(
            "<p><strong>{} — {}</strong></p><p>{}</p><p>Parameter schema:</p>{}<p>Defaults:</p>{}",
            template.id,
            template.name,
            template.description,
            pretty_block(template.parameters_schema),
            pretty_block(template.default_parameters),
        )

    @admin.display(description="record")
    def record(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        retired = f", retired {obj.deleted_at:%Y-%m-%d %H:%M} UTC" if obj.deleted_at else ""
        return format_html(
            "Version {} (<code>{}</code>), created {} UTC by {}, last changed {} UTC{}.",
            obj.version,
            obj.version_id,
            f"{obj.created_at:%Y-%m-%d %H:%M}",
            obj.created_by or "-",
            f"{obj.updated_at:%Y-%m-%d %H:%M}",
            retired,
        )

    def get_inline_instances(self, request, obj=None):
        # Versions and backtests exist once the instance does.
        if obj is None or obj.pk is None:
            return []
        return super().get_inline_instances(request, obj)

    # -- permissions: a retired instance is history, read only
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.deleted_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.deleted_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def has_backtest_permission(self, request):
        return request.user.has_perm(BACKTEST)

    # -- saving through the services
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {"can_backtest": self.has_backtest_permission(request), **(extra_context or {})}
        try:
            return super().changeform_view(request, object_id, form_url, extra)
        except ApplicationError as exc:
            # The form validated the document; what is left is a race (retired meanwhile).
            self.message_user(request, " ".join(refusal_lines(exc)), messages.ERROR)
            return redirect("admin:rules_ruleinstance_changelist")

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            saved = services.rule_instance_update(actor=actor, instance_id=obj.pk, document=form.document)
        else:
            saved = services.rule_instance_create(actor=actor, document=form.document)
        for field in RuleInstance._meta.concrete_fields:  # the admin goes on with the saved row
            setattr(obj, field.attname, getattr(saved, field.attname))

    def delete_model(self, request, obj):
        services.rule_instance_delete(actor=Actor.from_request(request), instance_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for instance in queryset.filter(deleted_at__isnull=True):
            self.delete_model(request, instance)

    def get_deleted_objects(self, objs, request):
        # Deleting retires the instance and keeps its versions and backtests: nothing cascades.
        objs = [obj for obj in objs if obj.deleted_at is None]
        return [str(obj) for obj in objs], {RuleInstance._meta.verbose_name_plural: len(objs)}, set(), []

    # -- backtests
    @admin.action(description="Backtest over the last 30 days", permissions=["backtest"])
    def backtest_last_30_days(self, request, queryset):
        end = timezone.now()
        self.request_backtests(request, queryset, end - backtest.DEFAULT_PERIOD, end)

    @admin.action(description="Backtest over a chosen period…", permissions=["backtest"])
    def backtest_chosen_period(self, request, queryset):
        ids = ",".join(
            str(pk) for pk in queryset.filter(deleted_at__isnull=True).values_list("pk", flat=True)
        )
        return redirect(f"{reverse('admin:rules_ruleinstance_backtest')}?ids={ids}")

    def request_backtests(self, request, instances, start, end, config=None) -> list[BacktestRun]:
        actor, runs = Actor.from_request(request), []
        for instance in instances:
            if instance.deleted_at is not None:
                self.message_user(
                    request, f"Rule instance {instance.pk} is retired: not backtested.", messages.WARNING
                )
                continue
            try:
                runs.append(
                    services.backtest_request(
                        actor=actor,
                        instance_id=instance.pk,
                        period_start=start,
                        period_end=end,
                        config=config,
                    )
                )
            except ApplicationError as exc:
                self.message_user(
                    request, f"Rule instance {instance.pk}: {' '.join(refusal_lines(exc))}", messages.ERROR
                )
        if runs:
            self.message_user(
                request,
                format_html(
                    "Backtest{} queued over {}: {}. Each shows its results when done.",
                    "s" if len(runs) > 1 else "",
                    f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC",
                    format_html_join(
                        ", ",
                        '<a href="{}">backtest {} of rule instance {}</a>',
                        (
                            (
                                reverse("admin:rules_backtestrun_change", args=[run.pk]),
                                run.pk,
                                run.rule_instance_id,
                            )
                            for run in runs
                        ),
                    ),
                ),
                messages.SUCCESS,
            )
        return runs

    def get_urls(self):
        view = self.admin_site.admin_view(self.backtest_view)
        return [path("backtest/", view, name="rules_ruleinstance_backtest"), *super().get_urls()]

    def backtest_view(self, request):
        """Backtest the instances `?ids=1,2` over a chosen period (and, for one instance, a draft)."""
        if not self.has_backtest_permission(request):
            raise PermissionDenied
        ids = [
            int(part) for part in request.GET.get("ids", "").split(",") if part.isdigit() and len(part) < 10
        ]
        instances = list(RuleInstance.objects.filter(pk__in=ids).order_by("id"))
        changelist = reverse("admin:rules_ruleinstance_changelist")
        if not instances:
            self.message_user(request, "Choose live rule instances to backtest.", messages.WARNING)
            return redirect(changelist)
        form = BacktestPeriodForm(request.POST or None, single=len(instances) == 1)
        if request.method == "POST" and form.is_valid():
            start, end = form.period()
            runs = self.request_backtests(
                request, instances, start, end, form.cleaned_data.get("draft") or None
            )
            if len(runs) == 1:
                return redirect("admin:rules_backtestrun_change", runs[0].pk)
            return redirect(reverse("admin:rules_backtestrun_changelist") if runs else changelist)
        context = {
            **self.admin_site.each_context(request),
            "title": "Backtest rule instances",
            "opts": self.opts,
            "instances": instances,
            "form": form,
            "changelist_url": changelist,
            "max_days": backtest.MAX_PERIOD.days,
        }
        return TemplateResponse(request, "admin/rules/ruleinstance/backtest.html", context)


class BacktestPeriodForm(forms.Form):
    """A period in whole UTC days (both included), and for one instance, draft changes to test."""

    start = forms.DateField(label="From (UTC day)", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (UTC day, included)", widget=forms.DateInput(attrs={"type": "date"}))
    draft = PrettyJSONField(
        required=False,
        label="Draft changes",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "class": "cbo-json"}),
        help_text=mark_safe(
            "Optional: properties of the instance document to test instead of the stored ones, "
            'e.g. <code>{"parameters": {"transactionAmountThreshold": {"EUR": 5000}}}</code>. '
            "Nothing is saved; the run records what it tested."
        ),
    )

    def __init__(self, *args, single: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.now().date()
        self.fields["start"].initial = today - backtest.DEFAULT_PERIOD
        self.fields["end"].initial = today
        if not single:
            del self.fields["draft"]

    def clean_draft(self):
        draft = self.cleaned_data.get("draft")
        if draft in (None, "", {}):
            return None
        if not isinstance(draft, dict):
            raise forms.ValidationError("Expected a JSON object of instance properties.")
        return draft

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            self.add_error("end", "The period must end on or after its first day.")
        return cleaned

    def period(self) -> tuple[datetime, datetime]:
        start = datetime.combine(self.cleaned_data["start"], time.min, tzinfo=UTC)
        end = datetime.combine(self.cleaned_data["end"], time.min, tzinfo=UTC) + timedelta(days=1)
        return start, end


# --- backtest runs ---------------------------------------------------------------------------


RUN_COLOURS = {
    BacktestRun.Status.QUEUED: "#666",
    BacktestRun.Status.RUNNING: "#2b5278",
    BacktestRun.Status.DONE: "#2e7d32",
    BacktestRun.Status.FAILED: "#ba2121",
}


def period_text(run: BacktestRun) -> str:
    return f"{run.period_start:%Y-%m-%d %H:%M} to {run.period_end:%Y-%m-%d %H:%M} UTC"


def hit_rate_text(run: BacktestRun) -> str:
    return "-" if run.hit_rate is None else f"{run.hit_rate:.2f} %"


def transaction_url(transaction_id: str) -> str | None:
    try:
        return f"{reverse('admin:transactions_transaction_changelist')}?q={transaction_id}"
    except NoReverseMatch:  # the transactions screens are not registered
        return None


@admin.register(BacktestRun)
class BacktestRunAdmin(ReadOnlyModelAdmin):
    """Runs are asked for from the rule instances (actions, the Backtest button) or the API; read here."""

    list_display = (
        "id",
        "instance",
        "status_badge",
        "period",
        "transactions_scanned",
        "hits",
        "rate",
        "took",
        "requested_by",
        "created_at",
    )
    list_select_related = ("rule_instance",)
    list_filter = ("status",)
    search_fields = ("=rule_instance__id", "requested_by")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("instance", "version", "status_badge", "requested_by", "created_at")}),
        ("Period", {"fields": ("period", "started_at", "finished_at", "took")}),
        ("Results", {"fields": ("transactions_scanned", "hits", "rate", "error", "samples")}),
        ("Configuration tested", {"fields": ("configuration",), "classes": ("collapse",)}),
    )
    readonly_fields = (
        "instance",
        "version",
        "status_badge",
        "period",
        "took",
        "rate",
        "samples",
        "configuration",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("sample_hits")

    @admin.display(description="rule instance", ordering="rule_instance_id")
    def instance(self, obj):
        return format_html("{} {}", instance_link(obj.rule_instance_id), obj.rule_instance.rule_name_alias)

    @admin.display(description="version tested")
    def version(self, obj):
        return obj.config.get("versionId") or "-"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span style="color: {}; font-weight: 600">{}</span>', RUN_COLOURS[obj.status], obj.status
        )

    @admin.display(description="period", ordering="period_start")
    def period(self, obj):
        return period_text(obj)

    @admin.display(description="duration")
    def took(self, obj):
        elapsed = backtest.duration(obj)
        return "-" if elapsed is None else f"{elapsed.total_seconds():.1f} s"

    @admin.display(description="hit rate")
    def rate(self, obj):
        return hit_rate_text(obj)

    @admin.display(description="sample hits")
    def samples(self, obj):
        rows = [
            {
                **sample,
                "when": datetime.fromtimestamp(sample["timestamp"] / 1000, tz=UTC)
                if sample.get("timestamp")
                else None,
                "url": transaction_url(sample.get("transactionId", "")),
                "data_json": pretty(sample.get("data") or {}),
            }
            for sample in obj.sample_hits or []
        ]
        return render_to_string("admin/rules/backtestrun/_sample_hits.html", {"rows": rows, "run": obj})

    @admin.display(description="configuration")
    def configuration(self, obj):
        return pretty_block(obj.config)


# --- versions (looked up by versionId from an executed rule) -----------------------------------


@admin.register(RuleInstanceVersion)
class RuleInstanceVersionAdmin(ReadOnlyModelAdmin):
    list_display = ("version_label", "instance", "version", "created_by", "created_at")
    list_select_related = ("rule_instance",)
    search_fields = ("=rule_instance__id", "created_by")
    fields = ("instance", "version", "created_by", "created_at", "configuration")
    readonly_fields = ("instance", "configuration")

    @admin.display(description="version id", ordering="rule_instance_id")
    def version_label(self, obj):
        return obj.version_id

    @admin.display(description="rule instance")
    def instance(self, obj):
        return instance_link(obj.rule_instance_id)

    @admin.display(description="configuration")
    def configuration(self, obj):
        return pretty_block(obj.config)

    def get_search_results(self, request, queryset, search_term):
        # A versionId as an executed rule shows it (`12.3`) finds that version.
        instance_id, dot, version = search_term.strip().partition(".")
        if dot and ID.fullmatch(instance_id) and ID.fullmatch(version):
            return queryset.filter(rule_instance_id=int(instance_id), version=int(version)), False
        return super().get_search_results(request, queryset, search_term)


# --- blocked values and IP ranges ------------------------------------------------------------


class BlockedValueForm(forms.ModelForm):
    """Stores the value as the blocked-list rule looks it up (rules.blocked.normalise)."""

    class Meta:
        model = BlockedValue
        fields = ("kind", "value", "reason")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") and cleaned.get("value"):
            value = normalise(cleaned["kind"], cleaned["value"])
            if not value:
                self.add_error("value", "Nothing is left of this value once normalised.")
            cleaned["value"] = value
        return cleaned


@admin.register(BlockedValue)
class BlockedValueAdmin(AuditedModelAdmin):
    form = BlockedValueForm
    list_display = ("value", "kind", "reason", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("value", "reason")
    readonly_fields = ("created_by", "created_at")
    fields = ("kind", "value", "reason", "created_by", "created_at")

    def get_readonly_fields(self, request, obj=None):
        # Another value is another entry: a stored one is kept as blocked, or deleted.
        return (*self.readonly_fields, "kind", "value") if obj is not None else self.readonly_fields

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            # A value as a transaction carries it finds its stored (normalised) spelling.
            spellings = {normalise(kind, term) for kind in BlockedValue.Kind.values} - {""}
            queryset |= self.model.objects.filter(value__in=spellings)
        return queryset, distinct

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = Actor.from_request(request).label[:200]
        super().save_model(request, obj, form, change)


def address_text(key: str) -> str:
    """A stored 32-hex-digit key as the address it is (IPv4-mapped keys as IPv4)."""
    try:
        number = int(key, 16)
    except ValueError:
        return key
    if number >> 32 == 0xFFFF:
        return str(ipaddress.IPv4Address(number & 0xFFFFFFFF))
    return str(ipaddress.IPv6Address(number))


@admin.register(IpCountryRange)
class IpCountryRangeAdmin(BigTableAdmin, ReadOnlyModelAdmin):
    """Loaded by `manage.py load_ip_countries`; read here. Search an address or a country code."""

    list_display = ("first_address", "last_address", "country")
    list_filter = ()
    search_fields = ("country",)
    fields = ("first_address", "last_address", "country", "start", "end")
    readonly_fields = ("first_address", "last_address")

    @admin.display(description="first address", ordering="start")
    def first_address(self, obj):
        return address_text(obj.start)

    @admin.display(description="last address", ordering="end")
    def last_address(self, obj):
        return address_text(obj.end)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        try:
            key = address_key(term)
        except ValueError:
            return queryset.filter(country=term.upper()) if term else queryset, False
        return queryset.filter(start__lte=key, end__gte=key), False
