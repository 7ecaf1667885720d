from django.urls import path

from compliance.api import views

urlpatterns = [
    path("login", views.LoginView.as_view(), name="login"),
    path("health", views.HealthView.as_view(), name="health"),
]
