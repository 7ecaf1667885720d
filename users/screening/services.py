"""Watchlist imports: a parsed file diffed against the stored entries, in bulk, audited, announced."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compliance import events
from compliance.audit import Actor, audit_log, snapshot
from compliance.errors import ApplicationError
from users.models.screening import (
    ImportRun,
    ImportStatus,
    NameKind,
    WatchlistEntry,
    WatchlistName,
    WatchlistSource,
)
from users.screening import index
from users.screening.importers import FORMATS, ListFormatError
from users.screening.normalise import PreparedName, prepare
from users.screening.search import MATCHER_SCHEMA

CHUNK_SIZE = 1000
# Past this many, the event names the import run only; handlers read its entries by
# `last_changed_import` (a first import of a 1M-entry list must not put 1M ids in one event).
EVENT_MAX_IDS = 5000
ENTRY_FIELDS = (
    "schema",
    "name",
    "aliases",
    "birth_dates",
    "birth_places",
    "nationalities",
    "countries",
    "identifiers",
    "programmes",
    "listed_on",
    "raw",
    "md5",
)
UPDATE_FIELDS = (*ENTRY_FIELDS, "removed_at", "last_changed_import", "updated_at")
MAX_LENGTHS = {"external_id": 200, "name": 500}


class ImportFailedError(ApplicationError):
    """The file could not be imported; the failed `ImportRun` records why."""

    def __init__(self, message: str, *, errors=None, run: ImportRun | None = None):
        super().__init__(message, errors=errors)
        self.run = run


SOURCE_FIELDS = ("code", "name", "kind", "format", "publisher_url", "active")


def watchlist_source_create(*, actor: Actor, fields: dict) -> WatchlistSource:
    """Register a list to import into (`fields`: any of `SOURCE_FIELDS`)."""
    unknown = set(fields) - set(SOURCE_FIELDS)
    if unknown:
        raise ApplicationError(errors=dict.fromkeys(sorted(unknown), "is not a source field"))
    source = WatchlistSource(**fields)
    with transaction.atomic():
        _clean(source)
        source.save()
        audit_log(actor=actor, action="watchlist_source.created", instance=source, after=snapshot(source))
    return source


def watchlist_source_update(*, actor: Actor, source: WatchlistSource, fields: dict) -> WatchlistSource:
    """Change a source's settings (not its entries: those change by import only)."""
    unknown = set(fields) - set(SOURCE_FIELDS)
    if unknown:
        raise ApplicationError(errors=dict.fromkeys(sorted(unknown), "is not a source field"))
    with transaction.atomic():
        source = WatchlistSource.objects.select_for_update().get(pk=source.pk)
        before = snapshot(source)
        for name, value in fields.items():
            setattr(source, name, value)
        _clean(source)
        source.save()
        audit_log(
            actor=actor,
            action="watchlist_source.updated",
            instance=source,
            before=before,
            after=snapshot(source),
        )
    return source


def _clean(source: WatchlistSource) -> None:
    try:
        source.full_clean(exclude=["last_import"])
    except ValidationError as exc:
        raise ApplicationError(errors=exc.message_dict) from None


def record_md5(rec: dict) -> str:
    """The md5 of a record's canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.md5(canonical.encode(), usedforsecurity=False).hexdigest()


def import_file(*, source: WatchlistSource, fileobj, fmt: str | None = None, actor: Actor) -> ImportRun:
    """Import one list file (the OFAC CSV format: a sequence `[sdn, add, alt]`) into `source`.

    Entries are matched by `external_id`: new ones are added, those whose md5 differs are
    updated (their names rewritten), and active ones the file lacks are marked removed. Work
    is done in chunks of `CHUNK_SIZE` entries, a constant number of queries each.

    The `ImportRun` is written first, outside the import's savepoint, so a file that fails
    still leaves its run, FAILED with the errors; `ImportFailedError` is raised then.
    On success one audit row and one `screening.list_imported` event are written.
    """
    fmt = fmt or source.format
    if fmt not in FORMATS:
        raise ApplicationError(
            f"Unknown list format {fmt!r}.", errors={"format": f"must be one of {', '.join(FORMATS)}"}
        )
    spec = FORMATS[fmt]
    files = [f for f in fileobj if f is not None] if isinstance(fileobj, list | tuple) else [fileobj]
    if not spec.required_files <= len(files) <= len(spec.files):
        raise ApplicationError(
            f"The {fmt} format takes {' + '.join(spec.files)}; {len(files)} file(s) given.",
            errors={"files": f"expected {spec.required_files} to {len(spec.files)} files"},
        )
    file_name, sha256 = _fingerprint(files)
    user = actor.api_key.user if actor.api_key is not None else actor.user
    run = ImportRun.objects.create(
        source=source,
        format=fmt,
        file_name=file_name[:500],
        sha256=sha256,
        actor=user,
        actor_label=actor.label,
    )
    try:
        with transaction.atomic():
            WatchlistSource.objects.select_for_update().filter(pk=source.pk).first()
            changed_ids = _apply(run, spec.parse(*files))
            run.status = ImportStatus.SUCCEEDED
            run.finished_at = timezone.now()
            run.save()
            WatchlistSource.objects.filter(pk=source.pk).update(last_import=run, updated_at=run.finished_at)
            source.last_import = run
            audit_log(actor=actor, action="watchlist.imported", instance=run, after=_summary(run))
            events.publish(
                "screening.list_imported",
                {
                    "sourceCode": source.code,
                    "sourceKind": source.kind,
                    "importRunId": run.pk,
                    "added": run.added,
                    "changed": run.changed,
                    "removed": run.removed,
                    "unchanged": run.unchanged,
                    "changedEntryCount": len(changed_ids),
                    "changedEntryIds": changed_ids if len(changed_ids) <= EVENT_MAX_IDS else None,
                },
                aggregate=source,
            )
    except (ListFormatError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            exc = ListFormatError(
                f"The file is not valid text in its expected encoding: {exc.reason} at byte {exc.start}.",
                errors={"file": f"{exc.encoding} decoding failed at byte {exc.start}"},
            )
        with transaction.atomic():
            run.status = ImportStatus.FAILED
            run.finished_at = timezone.now()
            run.added = run.changed = run.unchanged = run.removed = 0
            run.errors = [{"property": key, "issue": str(issue)} for key, issue in exc.errors.items()] or [
                {"property": "file", "issue": exc.message}
            ]
            run.save()
            audit_log(actor=actor, action="watchlist.import_failed", instance=run, after=_summary(run))
        raise ImportFailedError(
            f"Import of {file_name} into {source.code} failed: {exc.message}", errors=exc.errors, run=run
        ) from None
    return run


def _summary(run: ImportRun) -> dict:
    return {
        "source": run.source.code,
        "format": run.format,
        "status": run.status,
        "fileName": run.file_name,
        "sha256": run.sha256,
        "added": run.added,
        "changed": run.changed,
        "unchanged": run.unchanged,
        "removed": run.removed,
        "errors": run.errors,
    }


def _fingerprint(files: list) -> tuple[str, str]:
    """The files' names and the sha256 of their bytes in order; each file is rewound after."""
    digest = hashlib.sha256()
    names = []
    for f in files:
        names.append(str(getattr(f, "name", "") or "upload").rsplit("/", 1)[-1])
        f.seek(0)
        while chunk := f.read(1 << 20):
            digest.update(chunk if isinstance(chunk, bytes) else chunk.encode())
        f.seek(0)
    return ", ".join(names), digest.hexdigest()


def _batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _check(rec: dict, seen: set[str]) -> None:
    ext = rec["external_id"]
    if not ext:
        raise ListFormatError(
            f"An entry has no id (name {rec['name'][:80]!r}).", errors={"file": "an entry has no id"}
        )
    if not rec["name"]:
        raise ListFormatError(f"Entry {ext} has no name.", errors={"file": f"entry {ext} has no name"})
    if ext in seen:
        raise ListFormatError(f"Entry id {ext} appears twice.", errors={"file": f"duplicate entry id {ext}"})
    for field, limit in MAX_LENGTHS.items():
        if len(rec[field]) > limit:
            raise ListFormatError(
                f"Entry {ext[:80]}: {field} is longer than {limit} characters.",
                errors={"file": f"entry {ext[:80]}: {field} too long"},
            )


def _apply(run: ImportRun, records: Iterable[dict]) -> list[int]:
    """Diff `records` against the source's entries; set the run's counts; answer the ids of
    the entries added or changed."""
    source_id = run.source_id
    now = timezone.now()
    seen: set[str] = set()
    touched: list[int] = []
    counts: dict[str, int] = {}
    for batch in _batched(records, CHUNK_SIZE):
        incoming: dict[str, dict] = {}
        for rec in batch:
            _check(rec, seen)
            seen.add(rec["external_id"])
            rec["md5"] = record_md5(rec)
            incoming[rec["external_id"]] = rec
        existing = {
            entry.external_id: entry
            for entry in WatchlistEntry.objects.filter(
                source_id=source_id, external_id__in=list(incoming)
            ).only("id", "external_id", "md5", "removed_at")
        }
        added, changed = [], []
        pks: dict[str, int] = {}
        for ext, rec in incoming.items():
            entry = existing.get(ext)
            if entry is None:
                entry = WatchlistEntry(
                    source_id=source_id, external_id=ext, first_seen_import=run, last_changed_import=run
                )
                _fill(entry, rec)
                added.append(entry)
            elif entry.md5 != rec["md5"] or entry.removed_at is not None:
                # A fresh instance, written by an upsert below (no pk: the conflict on the
                # source + external id must be the only one, which SQLite requires).
                stored_pk = entry.pk
                entry = WatchlistEntry(source_id=source_id, external_id=ext, last_changed_import=run)
                _fill(entry, rec)
                changed.append(entry)
                pks[ext] = stored_pk
            else:
                run.unchanged += 1
        WatchlistEntry.objects.bulk_create(added)
        if changed:
            # INSERT ... ON CONFLICT DO UPDATE: one statement, where bulk_update's CASE per
            # field and row is several times slower on PostgreSQL.
            WatchlistEntry.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=("source", "external_id"),
                update_fields=UPDATE_FIELDS,
            )
            for entry in changed:
                entry.pk = pks[entry.external_id]
            stale = WatchlistName.objects.filter(entry__in=[e.pk for e in changed])
            index.remove_names(index.WATCHLIST, stale, counts=counts)
            stale.delete()
        names, prepared, births = [], [], []
        for entry in added + changed:
            for name, prep in _names(entry):
                names.append(name)
                prepared.append(prep)
                births.append(entry.birth_dates)
        WatchlistName.objects.bulk_create(names)
        index.add_names(index.WATCHLIST, names, prepared, births, counts=counts)
        run.added += len(added)
        run.changed += len(changed)
        touched.extend(entry.pk for entry in added + changed)
    if not seen:
        raise ListFormatError(
            "The file holds no entries; a full import of it would remove the whole list.",
            errors={"file": "no entries found"},
        )
    active = WatchlistEntry.objects.filter(source_id=source_id, removed_at__isnull=True).values_list(
        "id", "external_id"
    )
    gone = [pk for pk, ext in active.iterator(chunk_size=10000) if ext not in seen]
    for batch in _batched(gone, CHUNK_SIZE):
        WatchlistEntry.objects.filter(pk__in=batch).update(
            removed_at=now, last_changed_import=run, updated_at=now
        )
        # A removed entry is no longer retrieved; its names stay for the hits that cite it.
        index.remove_names(index.WATCHLIST, WatchlistName.objects.filter(entry__in=batch), counts=counts)
    # The key stats once, in key order, for the whole import (see `index.apply_counts`).
    index.apply_counts(index.WATCHLIST, counts)
    run.removed = len(gone)
    return touched


def _fill(entry: WatchlistEntry, rec: dict) -> None:
    for field in ENTRY_FIELDS:
        setattr(entry, field, rec[field])


def _names(entry: WatchlistEntry) -> Iterator[tuple[WatchlistName, PreparedName]]:
    """The entry's name rows, each with its prepared form (stored with it, and indexed)."""
    schema = MATCHER_SCHEMA[entry.schema]
    kinds = [(entry.name, NameKind.PRIMARY)] + [
        (alias["name"][:500], NameKind.STRONG_ALIAS if alias["strength"] == "strong" else NameKind.WEAK_ALIAS)
        for alias in entry.aliases
    ]
    for text, kind in kinds:
        prepared = prepare(text, schema=schema)
        yield WatchlistName(entry=entry, name=text, kind=kind, prepared=index.dump(prepared)), prepared
