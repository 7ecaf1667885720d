"""`import_file`: the diff by external id + md5, the import run, its audit row and its event."""

import io
import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.audit import Actor
from compliance.models import AuditTrail, OutboxEvent
from tests.users.screening.test_importers import DATA, FILES
from users.models import ImportRun, ImportStatus, WatchlistEntry, WatchlistName, WatchlistSource
from users.screening import services
from users.screening.services import ImportFailedError, import_file, watchlist_source_create

pytestmark = pytest.mark.django_db
ACTOR = Actor.system_actor("tests")


def make_source(code="os-test", fmt="ftm_json", kind="SANCTIONS") -> WatchlistSource:
    return watchlist_source_create(
        actor=ACTOR, fields={"code": code, "name": code, "kind": kind, "format": fmt}
    )


def ftm(*people: tuple[str, str], extra: dict | None = None) -> io.BytesIO:
    """A FollowTheMoney JSON lines file of people (id, name)."""
    lines = [
        json.dumps(
            {
                "id": entity_id,
                "schema": "Person",
                "caption": name,
                "properties": {
                    "name": [name],
                    "alias": [f"{name} Jr"],
                    "birthDate": ["1970"],
                    **(extra or {}),
                },
            }
        )
        for entity_id, name in people
    ]
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def run_import(source, fileobj, fmt=None) -> ImportRun:
    return import_file(source=source, fileobj=fileobj, fmt=fmt, actor=ACTOR)


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_each_format_imports_then_reimports_with_no_change(fmt):
    source = make_source(code=fmt.replace("_", "-"), fmt=fmt)

    def files():
        return [(DATA / name).open("rb") for name in FILES[fmt]]

    first = run_import(source, files())
    assert first.status == ImportStatus.SUCCEEDED
    assert first.added == source.entries.count() >= 3
    assert (first.changed, first.unchanged, first.removed) == (0, 0, 0)
    assert first.sha256
    assert first.file_name.startswith(FILES[fmt][0])
    second = run_import(source, files())
    assert (second.added, second.changed, second.unchanged, second.removed) == (0, 0, first.added, 0)
    assert second.sha256 == first.sha256
    source.refresh_from_db()
    assert source.last_import == second


def test_changed_file_reports_added_changed_removed_and_keeps_removed_entries():
    source = make_source()
    run_import(source, ftm(("a", "Anna Alpha"), ("b", "Boris Beta"), ("c", "Carl Gamma")))
    b_entry = WatchlistEntry.objects.get(external_id="b")
    c_entry = WatchlistEntry.objects.get(external_id="c")

    run = run_import(source, ftm(("a", "Anna Alpha"), ("b", "Boris Betta"), ("d", "Dora Delta")))

    assert (run.added, run.changed, run.unchanged, run.removed) == (1, 1, 1, 1)
    b_entry.refresh_from_db()
    assert b_entry.name == "Boris Betta"
    assert b_entry.last_changed_import == run
    assert b_entry.first_seen_import != run
    c_entry.refresh_from_db()
    assert c_entry.removed_at is not None
    assert c_entry.last_changed_import == run
    assert WatchlistEntry.objects.get(external_id="d").first_seen_import == run
    # The names table follows: one row per name, the changed entry's old names gone.
    assert set(WatchlistName.objects.filter(entry=b_entry).values_list("name", "kind")) == {
        ("Boris Betta", "primary"),
        ("Boris Betta Jr", "strong-alias"),
    }
    assert WatchlistName.objects.filter(entry__source=source).count() == 2 * 4

    # A removed entry listed again comes back as a change.
    back = run_import(
        source, ftm(("a", "Anna Alpha"), ("b", "Boris Betta"), ("c", "Carl Gamma"), ("d", "Dora Delta"))
    )
    assert (back.added, back.changed, back.unchanged, back.removed) == (0, 1, 3, 0)
    c_entry.refresh_from_db()
    assert c_entry.removed_at is None


def test_weak_aliases_are_named_weak_in_the_names_table():
    source = make_source()
    run_import(source, ftm(("a", "Anna Alpha"), extra={"weakAlias": ["Annie"]}))
    assert set(WatchlistName.objects.values_list("name", "kind")) == {
        ("Anna Alpha", "primary"),
        ("Anna Alpha Jr", "strong-alias"),
        ("Annie", "weak-alias"),
    }


def test_an_import_is_audited_once_and_announced_in_its_transaction():
    source = make_source()
    audits_before = AuditTrail.objects.count()
    run = run_import(source, ftm(*((f"p{i}", f"Person Number{i}") for i in range(20))))
    audits = AuditTrail.objects.filter(action__startswith="watchlist.")
    assert [(a.action, a.object_id) for a in audits] == [("watchlist.imported", str(run.pk))]
    assert audits[0].after["added"] == 20
    assert AuditTrail.objects.count() == audits_before + 1
    event = OutboxEvent.objects.get(name="screening.list_imported")
    assert event.payload["sourceCode"] == source.code
    assert event.payload["importRunId"] == run.pk
    assert event.payload["changedEntryCount"] == 20
    assert sorted(event.payload["changedEntryIds"]) == sorted(source.entries.values_list("pk", flat=True))


def test_a_bad_file_leaves_a_failed_run_and_changes_nothing():
    source = make_source()
    run_import(source, ftm(("a", "Anna Alpha")))
    bad = io.BytesIO(b'{"id": "b", "schema": "Person", "properties": {"name": ["B"]}}\n{oops\n')
    bad.name = "broken.json"

    with pytest.raises(ImportFailedError) as caught:
        run_import(source, bad)

    run = caught.value.run
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert run.file_name == "broken.json"
    assert run.errors
    assert "line 2" in run.errors[0]["issue"]
    assert "Line 2 is not JSON" in caught.value.message
    assert list(source.entries.values_list("external_id", flat=True)) == [
        "a"
    ]  # the good first line rolled back
    assert AuditTrail.objects.filter(action="watchlist.import_failed", object_id=str(run.pk)).count() == 1
    assert not OutboxEvent.objects.filter(
        name="screening.list_imported", payload__importRunId=run.pk
    ).exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "no entries"),
        (b'{"id": "a", "schema": "Person", "properties": {"name": ["A"]}}\n' * 2, "appears twice"),
        (b'{"id": "a", "schema": "Person", "properties": {}}\n', "has no name"),
    ],
)
def test_files_that_would_corrupt_the_list_are_refused(content, problem):
    source = make_source()
    run_import(source, ftm(("x", "Xavier Ex")))
    with pytest.raises(ImportFailedError, match=problem):
        run_import(source, io.BytesIO(content))
    assert source.entries.filter(removed_at__isnull=True).count() == 1


def test_unknown_format_and_wrong_file_count_are_refused():
    source = make_source()
    with pytest.raises(services.ApplicationError, match="Unknown list format"):
        run_import(source, io.BytesIO(b""), fmt="pdf")
    with pytest.raises(services.ApplicationError, match="takes"):
        run_import(source, [io.BytesIO(b""), io.BytesIO(b"")], fmt="ftm_json")
    assert not ImportRun.objects.exists()


def test_query_count_does_not_grow_with_the_number_of_entries():
    def queries_to_import(count: int, code: str) -> int:
        source = make_source(code=code)
        with CaptureQueriesContext(connection) as first:
            run_import(source, ftm(*((f"p{i}", f"Person Number{i}") for i in range(count))))
        with CaptureQueriesContext(connection) as changed:
            run_import(source, ftm(*((f"p{i}", f"Person Changed{i}") for i in range(count))))
        return len(first), len(changed)

    # SQLite caps the parameters of one statement, so Django splits its bulk statements below
    # ~30 rows; PostgreSQL does not, and the whole chunk goes in one statement each.
    large = 600 if connection.vendor == "postgresql" else 25
    assert queries_to_import(5, "small") == queries_to_import(large, "large")


def test_chunks_cost_a_constant_number_of_queries(monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 10)  # under SQLite's statement size
    source = make_source()
    with CaptureQueriesContext(connection) as ten:
        run_import(source, ftm(*((f"p{i}", f"Person Number{i}") for i in range(10))))
    other = make_source(code="other")
    with CaptureQueriesContext(connection) as forty:
        run_import(other, ftm(*((f"p{i}", f"Person Number{i}") for i in range(40))))
    per_chunk = (len(forty) - len(ten)) / 3
    # select existing, insert entries, insert names, insert their keys (the key stats are
    # written once per import)
    assert per_chunk <= 4
    assert other.entries.count() == 40
    assert WatchlistName.objects.filter(entry__source=other).count() == 80


def test_source_create_refuses_bad_fields():
    with pytest.raises(services.ApplicationError) as caught:
        watchlist_source_create(actor=ACTOR, fields={"code": "x y", "name": "X", "kind": "NOPE"})
    assert set(caught.value.errors) == {"code", "kind"}


def test_data_dir_exists():
    assert Path(DATA).is_dir()
