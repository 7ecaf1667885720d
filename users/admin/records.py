"""Read-only records of what happened to customers: scheduled reviews, received user events."""

from __future__ import annotations

from django.contrib import admin

from compliance.admin import ReadOnlyModelAdmin
from users import models as m
from users.admin.shared import BigTableAdmin, DueFilter, customer_link


class ReviewDueFilter(DueFilter):
    date_field = "scheduled_date"
    none_label = "Reviewed"

    def base(self, queryset):
        return queryset.filter(reviewed=False)

    def none(self, queryset):
        return queryset.filter(reviewed=True)


@admin.register(m.Review)
class ReviewAdmin(BigTableAdmin, ReadOnlyModelAdmin):
    list_display = (
        "id",
        "customer_column",
        "scheduled_date",
        "reviewed",
        "reviewed_date",
        "reviewer",
        "scheduler",
        "risk_trail_id",
    )
    list_select_related = ("customer", "reviewer", "scheduler")
    list_filter = (ReviewDueFilter,)
    search_fields = ("^customer__external_ref", "customer__last_name", "customer__registered_name")
    fieldsets = (
        (None, {"fields": ("customer_column", "scheduled_date", "created_date", "scheduler", "risk_trail")}),
        ("Review", {"fields": ("reviewed", "reviewed_date", "reviewer", "comments")}),
    )
    readonly_fields = ("customer_column",)

    @admin.display(description="customer", ordering="customer_id")
    def customer_column(self, obj):
        return customer_link(obj.customer)


@admin.register(m.UserEvent)
class UserEventAdmin(BigTableAdmin, ReadOnlyModelAdmin):
    list_display = ("event_id", "customer", "kind", "timestamp", "reason")
    list_select_related = ("customer",)
    list_filter = ("kind",)
    search_fields = ("=event_id", "^customer__external_ref")
    fieldsets = (
        (None, {"fields": ("event_id", "customer", "kind", "timestamp", "created_at", "risk_trail")}),
        ("As received", {"fields": ("reason", "event_description", "updated_attributes", "payload_digest")}),
    )
