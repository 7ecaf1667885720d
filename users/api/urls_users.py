"""Seed 004 user and user-event routes (`/api/individual/users`, `/api/events/entity/user`...)."""

from django.urls import path

from users.api import user_views as views

urlpatterns = [
    path("individual/users", views.IndividualUserCollectionView.as_view(), name="individual-user-list"),
    path(
        "individual/users/<str:userId>",
        views.IndividualUserDetailView.as_view(),
        name="individual-user-detail",
    ),
    path("entity/users", views.EntityUserCollectionView.as_view(), name="entity-user-list"),
    path("entity/users/<str:userId>", views.EntityUserDetailView.as_view(), name="entity-user-detail"),
    path(
        "events/individual/user",
        views.IndividualUserEventCollectionView.as_view(),
        name="individual-user-event-list",
    ),
    path(
        "events/individual/user/<str:eventId>",
        views.IndividualUserEventDetailView.as_view(),
        name="individual-user-event-detail",
    ),
    path("events/entity/user", views.EntityUserEventCollectionView.as_view(), name="entity-user-event-list"),
    path(
        "events/entity/user/<str:eventId>",
        views.EntityUserEventDetailView.as_view(),
        name="entity-user-event-detail",
    ),
]
