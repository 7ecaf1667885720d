"""API routes of the transactions app, mounted under /api/ by compliance.urls."""

from django.conf import settings
from django.urls import path

from transactions.api import batch_views, views

urlpatterns = [
    path("transactions", views.TransactionCollectionView.as_view(), name="transactions"),
    path(
        "transactions/<str:transactionId>", views.TransactionDetailView.as_view(), name="transaction-detail"
    ),
    path("events/transaction", views.TransactionEventCollectionView.as_view(), name="transaction-events"),
    path(
        "events/transaction/<str:eventId>",
        views.TransactionEventDetailView.as_view(),
        name="transaction-event-detail",
    ),
    *batch_views.urlpatterns(),  # seed 002 batch ingestion
]

if settings.BENCH_ENDPOINTS:  # make bench-transactions' yardstick, never routed in production
    from transactions.bench import BenchPingView

    urlpatterns.append(path("bench/ping", BenchPingView.as_view(), name="bench-ping"))
