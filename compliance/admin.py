from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html

from compliance import events, services
from compliance.audit import Actor, audit_log, snapshot
from compliance.models import AccessToken, ApiKey, AuditTrail, OutboxEvent, StaffUser


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
