"""Ongoing screening (issue 6 point 7): after a list import, the new and changed entries are
screened against all customers in a worker, with progress on the import run."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from compliance import events
from compliance.audit import Actor
from compliance.models import AuditTrail, OutboxEvent
from compliance.reference.models import Country
from tests.conftest import wait_for
from tests.users.conftest import create_customer
from tests.users.screening.lists import entity, load, source
from users.models import CustomerName, ImportRun, ScreeningRisk, WatchlistEntry
from users.models.screening import ScreeningStatus
from users.screening import index, ongoing
from users.screening.customers import customer_countries
from users.screening.matching import CandidateName
from users.screening.search import NAME_KIND, search
from users.screening.tasks import screen_import_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

SYSTEM = Actor.system_actor("tests")
GHALIBAF = entity(
    "NK-ghalibaf", "Mohammed Bagher Ghalibaf", birth_date="1961-08-23", nationality="ir", programme="IRAN"
)
PETROV = entity("NK-petrov", "Ivan Sergeyevich Petrov", aliases=("Ivan Petroff",), birth_date="1970")
SHIP = entity("NK-ship", "Ghalibaf Star", schema="Vessel")


@pytest.fixture
def customers(db):
    """Two customers who are on the lists under other spellings, one who is not; indexed."""
    iran = Country.objects.get(alpha2="IR")
    found = {
        "ghalibaf": create_customer(
            ref="MBG1",
            first_name="Mohammad Baqer",
            last_name="Qalibaf",
            date_birth="1961-08-23",
            country_nationality=iran,
        ),
        "petrov": create_customer(ref="IP1", first_name="Ivan", last_name="Petrov"),
        "doe": create_customer(ref="JD1", first_name="John", last_name="Doe"),
    }
    call_command("reindex_customers", "--missing", stdout=io.StringIO())
    return found


def import_and_screen(entities, capture, **kwargs) -> tuple[ImportRun, tuple]:
    """Import a list, dispatch its `screening.list_imported` event through the outbox (the real
    handler), then run what the handler enqueued after commit. Answers the run and its screening
    (status, total) as the handler left it."""
    with capture(execute=False):
        run = load(entities, **kwargs)
    event = OutboxEvent.objects.get(name="screening.list_imported", payload__importRunId=run.pk)
    with capture(execute=False) as scheduled:
        assert events.dispatch(event.pk) == {}
    run.refresh_from_db()
    pending = (run.screening_status, run.screening_total)
    for callback in scheduled:
        callback()
    run.refresh_from_db()
    return run, pending


def ongoing_hits(**filters):
    return ScreeningRisk.objects.filter(ongoing=True, **filters).order_by("customer_id", "identifier")


def hit_events(**payload):
    found = OutboxEvent.objects.filter(
        name="screening.hit_found", **{f"payload__{k}": v for k, v in payload.items()}
    )
    return list(found.order_by("created_at"))


def progress(run: ImportRun) -> tuple:
    run.refresh_from_db()
    return run.screening_status, run.screening_done, run.screening_total, run.screening_hits


def test_an_import_screens_the_customers_matching_its_new_entries(
    customers, django_capture_on_commit_callbacks
):
    run, pending = import_and_screen([GHALIBAF, PETROV, SHIP], django_capture_on_commit_callbacks)
    assert pending == (ScreeningStatus.PENDING, 3)
    assert progress(run) == (ScreeningStatus.DONE, 3, 3, 2)
    assert run.screening_finished_at is not None

    hits = ongoing_hits()
    assert [(h.customer.external_ref, h.identifier) for h in hits] == [
        ("MBG1", "NK-ghalibaf"),
        ("IP1", "NK-petrov"),
    ]  # the vessel named like a person matches nobody; John Doe is on no list
    ghalibaf = hits[0]
    assert (ghalibaf.full_name, ghalibaf.type, ghalibaf.watchlist_entry.external_id) == (
        "Mohammed Bagher Ghalibaf",
        "SDN-TEST",
        "NK-ghalibaf",
    )
    assert ghalibaf.match["searchedName"] == "Mohammad Baqer Qalibaf"
    payloads = {e.payload["externalId"]: e.payload for e in hit_events()}
    assert set(payloads) == {"NK-ghalibaf", "NK-petrov"}
    assert payloads["NK-ghalibaf"]["isOngoingScreeningHit"] is True
    assert payloads["NK-ghalibaf"]["importRunId"] == run.pk
    assert payloads["NK-ghalibaf"]["customerId"] == customers["ghalibaf"].pk
    actions = set(AuditTrail.objects.filter(object_id=str(run.pk)).values_list("action", flat=True))
    assert {
        "watchlist.screening_scheduled",
        "watchlist.screening_started",
        "watchlist.screening_finished",
    } <= (actions)


def test_scores_equal_what_customer_screening_gives(customers, django_capture_on_commit_callbacks):
    import_and_screen([GHALIBAF, PETROV], django_capture_on_commit_callbacks)
    for key in ("ghalibaf", "petrov"):
        customer = customers[key]
        row = ongoing_hits(customer=customer).get()
        found = search(
            customer.display_name,
            schema="Person",
            birth_date=customer.date_birth,
            countries=customer_countries(customer) or None,
        )
        assert [c.entry.pk for c in found] == [row.watchlist_entry_id]
        assert row.score == round(found[0].score)
        # The exact score too: the customer's name is the matcher's query, the entry's names the candidates.
        entry = row.watchlist_entry
        names = [CandidateName(index.load(n.name, n.prepared), NAME_KIND[n.kind]) for n in entry.names.all()]
        stored = [index.load(n.name, n.prepared) for n in CustomerName.objects.filter(customer=customer)]
        searched, result = ongoing.best_score(
            stored,
            names,
            entry=entry,
            birth_date=customer.date_birth,
            countries=customer_countries(customer) or None,
        )
        assert (searched, result.score) == (customer.display_name, found[0].score)
        assert row.match["adjustments"] == [list(a) for a in found[0].result.adjustments]


def test_unchanged_entries_screen_nothing_on_reimport(customers, django_capture_on_commit_callbacks):
    import_and_screen([GHALIBAF, PETROV], django_capture_on_commit_callbacks)
    before = (ScreeningRisk.objects.count(), len(hit_events()))

    run, pending = import_and_screen([GHALIBAF, PETROV], django_capture_on_commit_callbacks)
    assert (run.unchanged, run.changed, run.added) == (2, 0, 0)
    assert pending == (ScreeningStatus.DONE, 0)  # nothing to screen: no task was even sent
    assert progress(run) == (ScreeningStatus.DONE, 0, 0, 0)
    assert (ScreeningRisk.objects.count(), len(hit_events())) == before


def test_a_changed_entry_screens_again_without_duplicating_the_hit(
    customers, django_capture_on_commit_callbacks
):
    import_and_screen([GHALIBAF, PETROV], django_capture_on_commit_callbacks)
    row = ongoing_hits(identifier="NK-ghalibaf").get()
    row.inspected = True
    row.save(update_fields=["inspected"])
    changed = entity(
        "NK-ghalibaf",
        "Mohammed Bagher Ghalibaf",
        birth_date="1961-08-23",
        nationality="ir",
        programme="IRAN-EO13876",
    )

    run, pending = import_and_screen([changed, PETROV], django_capture_on_commit_callbacks)
    assert (run.changed, run.unchanged) == (1, 1)
    assert pending == (ScreeningStatus.PENDING, 1)
    assert progress(run) == (ScreeningStatus.DONE, 1, 1, 1)
    again = ongoing_hits(identifier="NK-ghalibaf").get()  # the same row, re-raised for review
    assert again.pk == row.pk
    assert again.inspected is False
    assert again.md5 == WatchlistEntry.objects.get(external_id="NK-ghalibaf").md5
    assert ScreeningRisk.objects.count() == 2
    [last] = [e.payload for e in hit_events(importRunId=run.pk)]
    assert (last["externalId"], last["isOngoingScreeningHit"], last["importRunId"]) == (
        "NK-ghalibaf",
        True,
        run.pk,
    )


def test_removed_entries_and_inactive_sources_are_not_screened(customers, django_capture_on_commit_callbacks):
    import_and_screen([PETROV], django_capture_on_commit_callbacks)
    ScreeningRisk.objects.all().delete()
    run, _ = import_and_screen([SHIP], django_capture_on_commit_callbacks)  # Petrov removed, a ship added
    assert (run.removed, run.added) == (1, 1)
    assert progress(run) == (ScreeningStatus.DONE, 1, 1, 0)

    from users.screening.services import watchlist_source_update

    watchlist_source_update(actor=SYSTEM, source=source(), fields={"active": False})
    run, pending = import_and_screen([SHIP, GHALIBAF], django_capture_on_commit_callbacks)
    assert pending == (ScreeningStatus.DONE, 0)
    assert not ScreeningRisk.objects.exists()


def test_a_rerun_of_the_task_is_idempotent(customers, django_capture_on_commit_callbacks):
    run, _ = import_and_screen([GHALIBAF, PETROV, SHIP], django_capture_on_commit_callbacks)
    first = progress(run)
    rows = list(ScreeningRisk.objects.order_by("pk").values_list("pk", "score", "md5"))
    published = len(hit_events())

    screen_import_run.apply(args=[run.pk])  # a redelivered (or re-sent) message
    assert progress(run) == first == (ScreeningStatus.DONE, 3, 3, 2)
    assert list(ScreeningRisk.objects.order_by("pk").values_list("pk", "score", "md5")) == rows
    assert len(hit_events()) == published


def test_progress_is_written_step_by_step_and_a_duplicate_step_changes_nothing(customers, monkeypatch):
    monkeypatch.setattr(ongoing, "STEP_SIZE", 1)
    with_events = load([GHALIBAF, PETROV, SHIP])
    step = ongoing.screening_start(import_run_id=with_events.pk, actor=SYSTEM)
    assert progress(with_events) == (ScreeningStatus.RUNNING, 0, 3, 0)
    # A second start while under way (before any step) starts over; after a step it is ignored.
    step = ongoing.screening_start(import_run_id=with_events.pk, actor=SYSTEM)
    first = ongoing.screening_step(step, actor=SYSTEM)
    assert progress(with_events) == (ScreeningStatus.RUNNING, 1, 3, 1)
    assert ongoing.screening_start(import_run_id=with_events.pk, actor=SYSTEM) is None

    assert ongoing.screening_step(step, actor=SYSTEM) is None  # the same step redelivered
    assert progress(with_events) == (ScreeningStatus.RUNNING, 1, 3, 1)
    second = ongoing.screening_step(first, actor=SYSTEM)
    third = ongoing.screening_step(second, actor=SYSTEM)
    assert progress(with_events) == (ScreeningStatus.RUNNING, 3, 3, 2)
    assert ongoing.screening_step(third, actor=SYSTEM) is None  # nothing left: finished
    assert progress(with_events) == (ScreeningStatus.DONE, 3, 3, 2)
    assert ongoing.screening_step(third, actor=SYSTEM) is None
    assert progress(with_events) == (ScreeningStatus.DONE, 3, 3, 2)
    assert ongoing_hits().count() == 2


def test_when_entries_outnumber_customers_every_customer_is_screened(
    customers, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(ongoing, "CUSTOMER_STRATEGY_RATIO", 0)  # as a 1M-entry first import would
    run, pending = import_and_screen([GHALIBAF, PETROV, SHIP], django_capture_on_commit_callbacks)
    assert pending == (ScreeningStatus.PENDING, 3)  # three customers
    assert progress(run) == (ScreeningStatus.DONE, 3, 3, 2)
    assert [(h.customer.external_ref, h.identifier) for h in ongoing_hits()] == [
        ("MBG1", "NK-ghalibaf"),
        ("IP1", "NK-petrov"),
    ]
    started = AuditTrail.objects.get(action="watchlist.screening_started", object_id=str(run.pk))
    assert started.after == {"strategy": "customers", "total": 3}
    rows = ScreeningRisk.objects.count()
    screen_import_run.apply(args=[run.pk])  # again: the same counts, nothing recorded twice
    assert progress(run) == (ScreeningStatus.DONE, 3, 3, 2)
    assert ScreeningRisk.objects.count() == rows


def test_a_task_that_fails_marks_the_screening_failed(
    customers, settings, django_capture_on_commit_callbacks
):
    settings.SCREENING_THRESHOLDS = {}  # no threshold for SANCTIONS: every entry fails to screen
    run, _ = import_and_screen([GHALIBAF], django_capture_on_commit_callbacks)
    assert run.screening_status == ScreeningStatus.FAILED
    assert run.screening_finished_at is not None
    failed = AuditTrail.objects.get(action="watchlist.screening_failed", object_id=str(run.pk))
    assert "no screening threshold" in failed.after["error"]


def test_customers_never_indexed_are_indexed_by_the_command(db):
    create_customer(ref="A1", first_name="Ivan", last_name="Petrov")
    create_customer(ref="A2", person=False, registered_name="Ghali Trading LLC", trade_name="Ghali")
    CustomerName.objects.all().delete()  # as customers created before screening existed
    out = io.StringIO()
    call_command("reindex_customers", "--missing", "--chunk", "1", stdout=out)
    assert "2 customers looked at, 2 (re)indexed" in out.getvalue()
    assert sorted(CustomerName.objects.values_list("name", flat=True)) == [
        "Ghali",
        "Ghali Trading LLC",
        "Ivan Petrov",
    ]
    out = io.StringIO()
    call_command("reindex_customers", stdout=out)
    assert "2 customers looked at, 0 (re)indexed" in out.getvalue()


def test_the_admin_shows_the_screening_progress(
    customers, client, compliance_admin, django_capture_on_commit_callbacks
):
    run, _ = import_and_screen([GHALIBAF, PETROV, SHIP], django_capture_on_commit_callbacks)
    compliance_admin.is_staff = True
    compliance_admin.save()
    client.force_login(compliance_admin)
    listing = client.get(reverse("admin:users_importrun_changelist"))
    assert listing.status_code == 200
    assert "Done 3/3, 2 hits" in listing.content.decode()
    page = client.get(reverse("admin:users_importrun_change", args=[run.pk]))
    assert "Done 3/3, 2 hits" in page.content.decode()
    sources = client.get(reverse("admin:users_watchlistsource_changelist"))
    assert "Done 3/3, 2 hits" in sources.content.decode()
    source_page = client.get(reverse("admin:users_watchlistsource_change", args=[run.source_id]))
    assert "Done 3/3, 2 hits" in source_page.content.decode()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_list_import_screens_customers_in_the_real_worker(celery_worker_process, monkeypatch):
    """On PostgreSQL + Redis: the customer is indexed by its own screening in the worker, the
    import's event is dispatched there, and the screening task runs there too."""
    from compliance.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", False)
    customer = create_customer(ref="IP1", first_name="Ivan", last_name="Petrov")
    assert wait_for(lambda: CustomerName.objects.filter(customer=customer).exists(), timeout=30)
    run = load([PETROV, SHIP])
    assert wait_for(lambda: progress(run)[0] == ScreeningStatus.DONE, timeout=30), progress(run)
    assert progress(run) == (ScreeningStatus.DONE, 2, 2, 1)
    assert ongoing_hits(customer=customer).get().identifier == "NK-petrov"
    # Let the worker finish with the hit's own event before the database is flushed.
    untried = OutboxEvent.objects.filter(dispatched_at__isnull=True, attempts=0)
    assert wait_for(lambda: not untried.exists(), timeout=30)


def test_the_admin_screens_a_run_again(
    customers, client, compliance_admin, analyst, django_capture_on_commit_callbacks
):
    run, _ = import_and_screen([GHALIBAF, PETROV, SHIP], django_capture_on_commit_callbacks)
    ImportRun.objects.filter(pk=run.pk).update(screening_status=ScreeningStatus.FAILED, screening_done=1)
    rows = ScreeningRisk.objects.count()
    for user in (analyst, compliance_admin):
        user.is_staff = True
        user.save()
    url = reverse("admin:users_importrun_changelist")
    action = {"action": "screen_again", "_selected_action": [run.pk]}

    client.force_login(analyst)  # analysts read runs; only those who import may screen again
    assert "screen_again" not in client.get(url).content.decode()
    client.post(url, action)
    assert progress(run)[0] == ScreeningStatus.FAILED

    client.force_login(compliance_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, action, follow=True)
    assert [str(m) for m in response.context["messages"]] == [f"import #{run.pk}: Pending 0/3, 0 hits"]
    assert progress(run) == (ScreeningStatus.DONE, 3, 3, 2)
    assert ScreeningRisk.objects.count() == rows


def test_an_entry_written_as_one_word_finds_the_customer_written_as_two(
    customers, django_capture_on_commit_callbacks
):
    create_customer(ref="AR1", first_name="Abdul", last_name="Rahman", date_birth="1970-03-02")
    call_command("reindex_customers", "--missing", stdout=io.StringIO())
    import_and_screen(
        [entity("NK-ar", "Abdulrahman", birth_date="1970-03-02")], django_capture_on_commit_callbacks
    )
    assert [h.customer.external_ref for h in ongoing_hits(watchlist_entry__external_id="NK-ar")] == ["AR1"]


def test_a_new_date_of_birth_rewrites_the_customers_indexed_names(customers):
    from users.models import CustomerNameKey
    from users.screening.customers import reindex_customers

    petrov = customers["petrov"]
    assert not CustomerNameKey.objects.filter(name__customer=petrov, key__startswith="y:").exists()
    petrov.date_birth = datetime.date(1970, 5, 1)
    petrov.save(update_fields=["date_birth"])
    assert reindex_customers([petrov]) == 1
    keys = set(CustomerNameKey.objects.filter(name__customer=petrov).values_list("key", flat=True))
    assert {"y:1970:ptrv", "y:1970:vn"} <= keys
    assert reindex_customers([petrov]) == 0  # nothing changed since
