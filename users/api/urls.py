"""API routes of the users app, mounted under /api/ by compliance.urls.

Seed 003 (`/customer...`) routes are in `urls_customers`, seed 004 user and user-event
routes in `urls_users`, screening (issue 6) in `urls_screening`.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("users.api.urls_customers")),
    path("", include("users.api.urls_users")),
    path("", include("users.api.urls_screening")),
]
