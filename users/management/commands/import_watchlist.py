"""Import a watchlist file into a source (issue 6).

    manage.py import_watchlist --source ofac-sdn --format ofac_xml sdn.xml
    manage.py import_watchlist --source ofac-sdn --format ofac_csv sdn.csv add.csv alt.csv
    manage.py import_watchlist --source un-sc --format un_xml --create-source --kind SANCTIONS \\
        --name "UN Security Council consolidated list" consolidated.xml

Prints the counts of entries added, changed, unchanged and removed. A file that cannot be read
leaves a FAILED import run and exits with an error naming the problem.
"""

from __future__ import annotations

from contextlib import ExitStack

from django.core.management.base import BaseCommand, CommandError

from compliance.audit import Actor
from compliance.errors import ApplicationError
from users.models.screening import ListFormat, SourceKind, WatchlistSource
from users.screening.importers import FORMATS
from users.screening.services import ImportFailedError, import_file, watchlist_source_create


class Command(BaseCommand):
    help = "Import a sanctions / PEP / watchlist file into a watchlist source."

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help="ofac_csv takes sdn.csv [add.csv [alt.csv]]"
        )
        parser.add_argument("--source", required=True, help="The source's code.")
        parser.add_argument(
            "--format", dest="fmt", choices=ListFormat.values, help="Default: the source's format."
        )
        parser.add_argument(
            "--create-source", action="store_true", help="Create the source if it does not exist."
        )
        parser.add_argument("--kind", choices=SourceKind.values, default=SourceKind.SANCTIONS)
        parser.add_argument("--name", help="The new source's name (default: its code).")
        parser.add_argument("--publisher-url", default="")

    def handle(self, *args, files, source, fmt, create_source, kind, name, publisher_url, **options):
        actor = Actor.system_actor("manage.py import_watchlist")
        watchlist = WatchlistSource.objects.filter(code=source).first()
        if watchlist is None and not create_source:
            raise CommandError(
                f"No watchlist source {source!r}; pass --create-source --kind ... --name ... to add it."
            )
        fmt = fmt or (watchlist.format if watchlist else "")
        if fmt not in FORMATS:
            raise CommandError(f"Say which format with --format ({', '.join(FORMATS)}).")
        if len(files) > len(FORMATS[fmt].files):
            raise CommandError(
                f"The {fmt} format takes {' + '.join(FORMATS[fmt].files)}; {len(files)} files given."
            )
        with ExitStack() as stack:
            try:
                handles = [stack.enter_context(open(path, "rb")) for path in files]
            except OSError as exc:
                raise CommandError(f"Cannot read {exc.filename}: {exc.strerror}.") from None
            try:
                if watchlist is None:
                    watchlist = watchlist_source_create(
                        actor=actor,
                        fields={
                            "code": source,
                            "name": name or source,
                            "kind": kind,
                            "format": fmt,
                            "publisher_url": publisher_url,
                        },
                    )
                    self.stdout.write(f"Created source {watchlist}.")
                run = import_file(source=watchlist, fileobj=handles, fmt=fmt, actor=actor)
            except ImportFailedError as exc:
                raise CommandError(f"{exc.message} (import run {exc.run.pk if exc.run else '-'})") from None
            except ApplicationError as exc:
                details = "; ".join(f"{key}: {value}" for key, value in exc.errors.items())
                raise CommandError(f"{exc.message} {details}".strip()) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {run.file_name} into {watchlist.code} (run {run.pk}): "
                f"{run.added} added, {run.changed} changed, {run.unchanged} unchanged, {run.removed} removed."
            )
        )
