"""Seed 003 routes: `/api/customer...`. Fixed paths come before `{ref}` patterns."""

from django.urls import path

from users.api import views
from users.lists import KYC_LISTS

urlpatterns = [
    path("customer", views.CustomerCollectionView.as_view(), name="customer-list"),
    path(
        "customer/risk-trails/<str:trail_id>", views.RiskTrailReviewView.as_view(), name="risk-trail-review"
    ),
    path("customer/<str:ref>", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("customer/<str:ref>/risk", views.CustomerRiskView.as_view(), name="customer-risk"),
    path("customer/<str:ref>/reviews", views.CustomerReviewsView.as_view(), name="customer-reviews"),
    path(
        "customer/<str:ref>/risk-trails", views.CustomerRiskTrailsView.as_view(), name="customer-risk-trails"
    ),
    path(
        "customer/<str:ref>/checked-lists/<str:list_id>",
        views.CheckedListView.as_view(),
        name="customer-checked-list",
    ),
    path("customer/<str:ref>/stakes", views.StakesView.as_view(), name="customer-stakes"),
    path("customer/<str:ref>/stakes/<str:stake_id>", views.StakeView.as_view(), name="customer-stake"),
    path("customer/<str:ref>/roles", views.RolesView.as_view(), name="customer-roles"),
    path("customer/<str:ref>/roles/<str:association_id>", views.RoleView.as_view(), name="customer-role"),
]

for _kyc_list in KYC_LISTS:
    _list_view, _row_view = views.kyc_list_views(_kyc_list)
    urlpatterns += [
        path(f"customer/<str:ref>/{_kyc_list.path}", _list_view.as_view(), name=f"customer-{_kyc_list.path}"),
        path(
            f"customer/<str:ref>/{_kyc_list.path}/<str:row_id>",
            _row_view.as_view(),
            name=f"customer-{_kyc_list.path}-row",
        ),
    ]
