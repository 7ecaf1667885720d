"""API routes of the rules app, mounted under /api/ by compliance.urls."""

from django.urls import path

from rules.api import views

urlpatterns = [
    path("management/rules", views.RuleLibraryView.as_view(), name="rules"),
    path("management/rules/<str:ruleId>", views.RuleTemplateView.as_view(), name="rule-detail"),
    path("management/rule-filters-schema", views.RuleFiltersSchemaView.as_view(), name="rule-filters-schema"),
    path("management/rule-instances", views.RuleInstanceCollectionView.as_view(), name="rule-instances"),
    path(
        "management/rule-instances/<str:ruleInstanceId>",
        views.RuleInstanceDetailView.as_view(),
        name="rule-instance-detail",
    ),
    path(
        "management/rule-instances/<str:ruleInstanceId>/versions",
        views.RuleInstanceVersionsView.as_view(),
        name="rule-instance-versions",
    ),
    path(
        "management/rule-instances/<str:ruleInstanceId>/backtests",
        views.BacktestCollectionView.as_view(),
        name="rule-instance-backtests",
    ),
    path(
        "management/rule-instances/<str:ruleInstanceId>/backtests/<str:backtestId>",
        views.BacktestDetailView.as_view(),
        name="rule-instance-backtest-detail",
    ),
]
