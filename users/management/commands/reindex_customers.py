"""Index every customer's names for ongoing screening (issue 6).

    manage.py reindex_customers            # every live customer (names unchanged are skipped)
    manage.py reindex_customers --missing  # only customers with no indexed name yet

Ongoing screening finds the customers a new or changed list entry may be by their indexed
names (`CustomerName`). Customers are indexed when they are created or their names change;
those created before screening existed (or loaded around the services) need this once.
Works in chunks of `--chunk` customers, one transaction each; safe to run again.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from users.screening.ongoing import REINDEX_CHUNK, reindex_customers


class Command(BaseCommand):
    help = "Index customers' names for ongoing screening (after a bulk load, or once on upgrade)."

    def add_arguments(self, parser):
        parser.add_argument("--missing", action="store_true", help="Only customers with no indexed name.")
        parser.add_argument("--chunk", type=int, default=REINDEX_CHUNK, help="Customers per transaction.")

    def handle(self, *args, missing, chunk, **options):
        seen, rewritten = reindex_customers(missing_only=missing, chunk=max(chunk, 1))
        self.stdout.write(self.style.SUCCESS(f"{seen} customers looked at, {rewritten} (re)indexed."))
