import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from compliance import events, services
from compliance.audit import Actor, audit_log, snapshot
from compliance.models import (
    AccessToken,
    ApiKey,
    AuditTrail,
    OutboxEvent,
    StaffUser,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEventType,
    WebhookSubscription,
)
from compliance.webhooks import services as webhook_services


class AuditedModelAdmin(admin.ModelAdmin):
    """Records every add, change and delete made through the admin in the audit trail.

    For models whose writes have no domain service (reference data, settings rows). Models
    that do have services override save_model/delete_model to call them instead.
    """

    audit_exclude: tuple[str, ...] = ("password",)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = None
            if change and obj.pk is not None:
                previous = type(obj)._default_manager.filter(pk=obj.pk).first()
                before = snapshot(previous, exclude=self.audit_exclude) if previous else None
            super().save_model(request, obj, form, change)
            audit_log(
                actor=Actor.from_request(request),
                action=AuditTrail.Action.UPDATE if change else AuditTrail.Action.CREATE,
                instance=obj,
                before=before,
                after=snapshot(obj, exclude=self.audit_exclude),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            before = snapshot(obj, exclude=self.audit_exclude)
            pk, label, text = obj.pk, obj._meta.label_lower, str(obj)
            super().delete_model(request, obj)
            audit_log(
                actor=Actor.from_request(request),
                action=AuditTrail.Action.DELETE,
                object_type=label,
                object_id=pk,
                object_repr=text,
                before=before,
            )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_related(self, request, form, formsets, change):
        # Many-to-many and inline changes are recorded as one more audit row.
        super().save_related(request, form, formsets, change)
        if form.changed_data or any(f.has_changed() for f in formsets):
            m2m = {
                f.name: [o.pk for o in getattr(form.instance, f.name).all()]
                for f in form.instance._meta.many_to_many
                if f.name in form.changed_data
            }
            if m2m:
                audit_log(
                    actor=Actor.from_request(request),
                    action=AuditTrail.Action.UPDATE,
                    instance=form.instance,
                    after=m2m,
                )


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For records: visible to those allowed to view, changeable by nobody."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """Rows shown beside their parent (versions, hits, events): history, never edited here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StaffUser)
class StaffUserAdmin(AuditedModelAdmin, UserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "roles",
        "is_active",
        "is_staff",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("username", "email", "first_name", "last_name")

    @admin.display(description="roles")
    def roles(self, obj):
        return ", ".join(g.name for g in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Only a superuser may hand out superuser status or permissions outside the roles:
        # a compliance admin managing accounts must not be able to raise their own rights.
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        return readonly


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "user", "created_at", "expires_at", "last_used_at", "state")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "key_prefix", "user__username")
    list_select_related = ("user", "created_by")
    autocomplete_fields = ("user",)
    readonly_fields = ("key_prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    fields = ("name", "user", "expires_at", *readonly_fields)
    actions = ["revoke"]

    @admin.display(description="state")
    def state(self, obj):
        if obj.revoked_at:
            return format_html('<span style="color:#ba2121">revoked</span>')
        if obj.expires_at and obj.expires_at <= timezone.now():
            return "expired"
        return "active"

    def get_readonly_fields(self, request, obj=None):
        # A key's owner never changes: a new owner gets a new key.
        return (*self.readonly_fields, "user") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            services.api_key_update(key=obj, name=obj.name, expires_at=obj.expires_at, actor=actor)
            return
        key, raw = services.api_key_create(
            name=obj.name, user=obj.user, actor=actor, expires_at=obj.expires_at
        )
        for field in ApiKey._meta.concrete_fields:  # the admin goes on with the saved row
            setattr(obj, field.attname, getattr(key, field.attname))
        messages.warning(
            request,
            format_html(
                "The key is shown this once; copy it now: <code style='user-select:all'>{}</code>", raw
            ),
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: audit rows keep referring to the key

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        actor = Actor.from_request(request)
        count = sum(services.api_key_revoke(key=key, actor=actor) for key in queryset)
        self.message_user(request, f"Revoked {count} key(s).")


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "user", "created_at", "expires_at", "last_used_at", "revoked_at", "client_ip")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username",)
    list_select_related = ("user",)
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        actor = Actor.from_request(request)
        for token in queryset:
            services.access_token_revoke(token=token, actor=actor)
        self.message_user(request, "Revoked.")

    def has_revoke_permission(self, request):
        return request.user.has_perm("compliance.change_accesstoken")


@admin.register(AuditTrail)
class AuditTrailAdmin(ReadOnlyModelAdmin):
    list_display = (
        "id",
        "created_at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "request_id",
    )
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "object_repr", "actor_label", "request_id")
    date_hierarchy = "created_at"
    show_full_result_count = False  # the trail grows without bound; counting it is slow
    readonly_fields = [f.name for f in AuditTrail._meta.fields]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyModelAdmin):
    list_display = (
        "created_at",
        "name",
        "aggregate_type",
        "aggregate_id",
        "attempts",
        "state",
        "next_attempt_at",
    )
    list_filter = (
        "name",
        ("dispatched_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("aggregate_id", "request_id", "name")
    show_full_result_count = False
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ["redispatch"]

    @admin.display(description="state")
    def state(self, obj):
        if obj.dispatched_at:
            return "delivered"
        if obj.failed_at:
            return "failed"
        return "pending"

    @admin.action(description="Dispatch the selected events again", permissions=["redispatch"])
    def redispatch(self, request, queryset):
        count = events.retry_failed(
            event_ids=queryset.values_list("pk", flat=True), actor=Actor.from_request(request)
        )
        self.message_user(request, f"Queued {count} event(s) for dispatch.")

    def has_redispatch_permission(self, request):
        return request.user.has_perm("compliance.change_outboxevent")


# --- webhooks ---------------------------------------------------------------------------------


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="The event types sent to this URL.",
    )

    class Meta:
        model = WebhookSubscription
        fields = webhook_services.EDITABLE


def _show_secret_once(request, subscription, secret):
    messages.warning(
        request,
        format_html(
            "The signing secret of “{}” is shown this once; copy it now: "
            "<code style='user-select:all'>{}</code>",
            subscription.name,
            secret,
        ),
    )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = (
        "name",
        "url",
        "types",
        "active",
        "pending_count",
        "failed_count",
        "secret_rotated_at",
    )
    list_filter = ("active",)
    search_fields = ("name", "url")
    list_select_related = ("created_by",)
    readonly_fields = ("secret_rotated_at", "created_at", "created_by", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "url", "event_types", "active")}),
        (
            "Signing secret",
            {
                "fields": ("secret_rotated_at",),
                "description": "Shown once on creation and rotation; stored encrypted. "
                "Rotate it with the list's action.",
            },
        ),
        ("Record", {"fields": ("created_at", "created_by", "updated_at")}),
    )
    actions = ["rotate_secret"]

    def get_queryset(self, request):
        status = WebhookDelivery.Status
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending=Count("deliveries", filter=Q(deliveries__status=status.PENDING)),
                failed=Count("deliveries", filter=Q(deliveries__status=status.FAILED)),
            )
        )

    @admin.display(description="event types")
    def types(self, obj):
        return ", ".join(obj.event_types)

    @admin.display(description="pending", ordering="pending")
    def pending_count(self, obj):
        return obj.pending

    @admin.display(description="failed", ordering="failed")
    def failed_count(self, obj):
        if not obj.failed:
            return 0
        url = reverse("admin:compliance_webhookdelivery_changelist")
        return format_html(
            '<a href="{}?subscription__id__exact={}&status__exact=failed" style="color:#ba2121">{}</a>',
            url,
            obj.pk,
            obj.failed,
        )

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        values = {name: form.cleaned_data[name] for name in webhook_services.EDITABLE}
        # The form ran the model's validators already: the services accept what it accepted.
        if change:
            saved = webhook_services.webhook_subscription_update(actor=actor, subscription=obj, **values)
        else:
            saved, secret = webhook_services.webhook_subscription_create(actor=actor, **values)
            _show_secret_once(request, saved, secret)
        for field in WebhookSubscription._meta.concrete_fields:  # the admin goes on with the saved row
            setattr(obj, field.attname, getattr(saved, field.attname))

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the delivery log keeps referring to the subscription

    @admin.action(description="Rotate the signing secret (shown once)", permissions=["rotate"])
    def rotate_secret(self, request, queryset):
        actor = Actor.from_request(request)
        for subscription in queryset:
            secret = webhook_services.webhook_subscription_rotate_secret(
                actor=actor, subscription=subscription
            )
            _show_secret_once(request, subscription, secret)
        self.message_user(
            request,
            "The previous secrets keep signing beside the new ones for "
            f"{settings.WEBHOOK_SECRET_ROTATION_GRACE}.",
        )

    def has_rotate_permission(self, request):
        return request.user.has_perm("compliance.change_webhooksubscription")


class WebhookAttemptInline(ReadOnlyTabularInline):
    model = WebhookAttempt
    fields = ("number", "started_at", "url", "status_code", "latency_ms", "error", "response_excerpt")
    readonly_fields = fields
    ordering = ("-started_at", "-id")


class AttemptsFilter(admin.SimpleListFilter):
    title = "attempts"
    parameter_name = "attempts"

    def lookups(self, request, model_admin):
        return (("0", "none yet"), ("1", "one"), ("2-3", "2 to 3"), ("4+", "4 or more"))

    def queryset(self, request, queryset):
        ranges = {"0": (0, 0), "1": (1, 1), "2-3": (2, 3), "4+": (4, None)}
        if self.value() not in ranges:
            return queryset
        low, high = ranges[self.value()]
        queryset = queryset.filter(attempts__gte=low)
        return queryset if high is None else queryset.filter(attempts__lte=high)


class LatencyFilter(admin.SimpleListFilter):
    title = "last latency"
    parameter_name = "latency"

    def lookups(self, request, model_admin):
        return (("fast", "under 300 ms"), ("slow", "300 ms to 2 s"), ("very-slow", "2 s or more"))

    def queryset(self, request, queryset):
        value = self.value()
        if value == "fast":
            return queryset.filter(last_latency_ms__lt=300)
        if value == "slow":
            return queryset.filter(last_latency_ms__gte=300, last_latency_ms__lt=2000)
        if value == "very-slow":
            return queryset.filter(last_latency_ms__gte=2000)
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyModelAdmin):
    list_display = (
        "created_at",
        "event_type",
        "subscription",
        "state",
        "attempts",
        "last_status_code",
        "last_latency_ms",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type", "subscription", AttemptsFilter, LatencyFilter)
    search_fields = ("=id", "=event_id", "subscription__name")
    list_select_related = ("subscription",)
    date_hierarchy = "created_at"
    show_full_result_count = False  # the log grows without bound; counting it is slow
    inlines = [WebhookAttemptInline]
    fieldsets = (
        (None, {"fields": ("id", "subscription", "event_type", "event_name", "event_id", "pretty_envelope")}),
        (
            "State",
            {
                "fields": (
                    "status",
                    "attempts",
                    "next_attempt_at",
                    "last_status_code",
                    "last_latency_ms",
                    "last_error",
                    "created_at",
                    "delivered_at",
                )
            },
        ),
    )
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields] + ["pretty_envelope"]
    actions = ["redeliver"]

    @admin.display(description="status", ordering="status")
    def state(self, obj):
        colours = {"delivered": "#447e36", "failed": "#ba2121"}
        return format_html('<span style="color:{}">{}</span>', colours.get(obj.status, "inherit"), obj.status)

    @admin.display(description="envelope")
    def pretty_envelope(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.envelope, indent=2, ensure_ascii=False))

    @admin.action(description="Redeliver the selected deliveries", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        count = webhook_services.webhook_deliveries_redeliver(
            actor=Actor.from_request(request), delivery_ids=queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"Queued {count} deliveries to be sent again.")

    def has_redeliver_permission(self, request):
        return request.user.has_perm("compliance.change_webhookdelivery")
