"""Screening routes (issue 6): `/api/screening/...`."""

from django.urls import path

from users.api import screening

urlpatterns = [
    path("screening/search", screening.ScreeningSearchView.as_view(), name="screening-search"),
]
