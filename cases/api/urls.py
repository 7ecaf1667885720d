"""API routes of the cases app, mounted under /api/ by compliance.urls."""

from django.urls import path

from cases.api import views

urlpatterns = [
    path("management/cases", views.CaseCollectionView.as_view(), name="cases"),
    path("management/cases/<str:caseId>", views.CaseDetailView.as_view(), name="case-detail"),
    path("management/cases/<str:caseId>/statuses", views.CaseStatusView.as_view(), name="case-statuses"),
    path("management/alerts", views.AlertCollectionView.as_view(), name="alerts"),
    path("management/alerts/<str:alertId>", views.AlertDetailView.as_view(), name="alert-detail"),
    path("management/alerts/<str:alertId>/statuses", views.AlertStatusView.as_view(), name="alert-statuses"),
    path("management/files", views.FileUploadView.as_view(), name="case-files"),
]
