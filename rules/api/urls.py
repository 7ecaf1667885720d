"""API routes of the rules app, mounted under /api/ by compliance.urls."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter(trailing_slash=False)

urlpatterns = [*router.urls]
