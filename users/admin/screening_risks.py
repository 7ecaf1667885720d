"""Screening hits for the analysts: every customer's screening risks, with the matcher's
explanation and the list entry, reviewed (confirm / dismiss / back to pending) through
`users.screening.hits.screening_risk_review` — from the list's actions or the hit's page."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from compliance.audit import Actor
from compliance.errors import ApplicationError
from users import models as m
from users.admin.shared import BigTableAdmin, customer_link, refusal_lines
from users.screening.hits import CONFIRMED, DISMISSED, PENDING, review_status, screening_risk_review

STATUS_LABELS = {CONFIRMED: "Confirmed", DISMISSED: "Dismissed (false positive)", PENDING: "Pending review"}
STATUS_COLOURS = {CONFIRMED: "#ba2121", DISMISSED: "#666", PENDING: "#c77c00"}


def status_badge(row: m.ScreeningRisk):
    status = review_status(row)
    return format_html('<strong style="color: {}">{}</strong>', STATUS_COLOURS[status], STATUS_LABELS[status])


def explanation(row: m.ScreeningRisk):
    """The matcher's explanation: searched and matched names, word pairs, adjustments."""
    match = row.match or {}
    if not match:
        return "—"
    tokens = format_html_join(
        ", ", "{}={} ({})", ((q, c, f"{s:.0%}") for q, c, s in match.get("matchedTokens", []))
    )
    adjustments = format_html_join(", ", "{} {}", ((r, f"{d:+g}") for r, d in match.get("adjustments", [])))
    review = match.get("review") or {}
    return format_html(
        "<div>Searched <b>{}</b>, matched {} <b>{}</b></div><div>{}</div><div>Words: {}</div>"
        "<div>Adjustments: {}</div>{}",
        match.get("searchedName", ""),
        match.get("kind", ""),
        match.get("matchedName", ""),
        match.get("explanation", ""),
        tokens or "—",
        adjustments or "—",
        format_html(
            "<div>Review: {} — {} ({})</div>", review["status"], review.get("comment") or "", review["by"]
        )
        if review
        else "",
    )


def entry_link(row: m.ScreeningRisk):
    if row.watchlist_entry_id is None:
        return "— (added by hand)"
    return format_html(
        '<a href="{}">{}</a>',
        reverse("admin:users_watchlistentry_change", args=[row.watchlist_entry_id]),
        row.watchlist_entry,
    )


@admin.register(m.ScreeningRisk)
class ScreeningRiskAdmin(BigTableAdmin):
    list_display = (
        "id",
        "customer_column",
        "full_name",
        "type",
        "score",
        "status_column",
        "ongoing",
        "created_at",
    )
    list_select_related = ("customer",)
    list_filter = ("inspected", "confirmed", "ongoing", "screening_risk_type", "manual_addition")
    search_fields = ("^customer__external_ref", "full_name", "=identifier")
    ordering = ("-id",)
    actions = ("confirm_hits", "dismiss_hits", "reset_hits")
    fieldsets = (
        (None, {"fields": ("customer_column", "status_column", "review_buttons")}),
        ("Match", {"fields": ("full_name", "score", "match_explanation", "entry_column", "ongoing")}),
        (
            "As recorded (seed 003)",
            {
                "fields": (
                    "screening_risk_type",
                    "identifier",
                    "type",
                    "md5",
                    "entry_json",
                    "inspected",
                    "confirmed",
                    "manual_addition",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    readonly_fields = (
        "customer_column",
        "status_column",
        "review_buttons",
        "full_name",
        "score",
        "match_explanation",
        "entry_column",
        "ongoing",
        "screening_risk_type",
        "identifier",
        "type",
        "md5",
        "entry_json",
        "inspected",
        "confirmed",
        "manual_addition",
        "created_at",
        "updated_at",
    )

    # Whoever may change customers reviews their hits; rows are added and removed on the customer.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("users.view_customer") or request.user.has_perm("users.change_customer")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("users.change_customer")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(customer__deleted_at__isnull=True)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Nothing to save on this page: the review buttons are its only writes.
        context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="customer", ordering="customer_id")
    def customer_column(self, obj):
        return customer_link(obj.customer)

    @admin.display(description="status")
    def status_column(self, obj):
        return status_badge(obj)

    @admin.display(description="explanation")
    def match_explanation(self, obj):
        return explanation(obj)

    @admin.display(description="list entry")
    def entry_column(self, obj):
        return entry_link(obj)

    @admin.display(description="entry as published")
    def entry_json(self, obj):
        if not obj.json:
            return "—"
        try:
            text = json.dumps(json.loads(obj.json), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.json
        return format_html("<pre style='max-height: 20em; overflow: auto'>{}</pre>", text)

    @admin.display(description="review")
    def review_buttons(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        buttons = format_html_join(
            " ",
            '<button type="submit" class="button" formaction="{}">{}</button>',
            (
                (reverse("admin:users_screeningrisk_review", args=[obj.pk, status]), label)
                for status, label in (
                    (CONFIRMED, "Confirm: it is the customer"),
                    (DISMISSED, "Dismiss: false positive"),
                    (PENDING, "Back to pending"),
                )
                if status != review_status(obj)
            ),
        )
        return format_html(
            '<input type="text" name="review_comment" placeholder="Comment" size="50"> {}', buttons
        )

    # --- writes ------------------------------------------------------------------------

    def get_urls(self):
        review = path(
            "<int:pk>/review/<str:status>/",
            self.admin_site.admin_view(self.review_view),
            name="users_screeningrisk_review",
        )
        return [review, *super().get_urls()]

    def review_view(self, request, pk, status):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        row = self.get_object(request, str(pk))
        if row is None or not self.has_change_permission(request, row):
            return redirect("admin:users_screeningrisk_changelist")
        self._review(request, [row], status, request.POST.get("review_comment", ""))
        return redirect("admin:users_screeningrisk_change", pk)

    def _review(self, request, rows, status, comment=""):
        done = 0
        for row in rows:
            try:
                screening_risk_review(
                    actor=Actor.from_request(request), screening_risk=row, status=status, comment=comment
                )
            except ApplicationError as exc:
                self.message_user(request, f"Hit {row.pk}: " + " ".join(refusal_lines(exc)), messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request, f"{done} hit(s) marked {STATUS_LABELS[status].lower()}.", messages.SUCCESS
            )

    @admin.action(description="Confirm the selected hits (they are the customer)", permissions=["change"])
    def confirm_hits(self, request, queryset):
        self._review(request, list(queryset), CONFIRMED)

    @admin.action(description="Dismiss the selected hits (false positives)", permissions=["change"])
    def dismiss_hits(self, request, queryset):
        self._review(request, list(queryset), DISMISSED)

    @admin.action(description="Put the selected hits back to pending review", permissions=["change"])
    def reset_hits(self, request, queryset):
        self._review(request, list(queryset), PENDING)
