from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from compliance.api.errors import api_aware_handlers

admin.site.site_header = "Compliance back-office"
admin.site.site_title = "Compliance back-office"
admin.site.index_title = "Customers, screening, monitoring, cases"

api_patterns = [
    path("", include("compliance.api.urls")),
    path("", include("compliance.reference.api.urls")),
    path("", include("users.api.urls")),
    path("", include("transactions.api.urls")),
    path("", include("rules.api.urls")),
    path("", include("cases.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
]

_handlers = api_aware_handlers()
handler400 = _handlers["handler400"]
handler403 = _handlers["handler403"]
handler404 = _handlers["handler404"]
handler500 = _handlers["handler500"]
