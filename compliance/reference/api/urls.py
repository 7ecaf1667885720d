from django.urls import path

from compliance.reference.api.views import LookupDetailView, LookupIndexView

urlpatterns = [
    path("lookups", LookupIndexView.as_view(), name="lookup-tables"),
    path("lookups/<str:name>", LookupDetailView.as_view(), name="lookup-rows"),
]
