"""`manage.py import_watchlist` and the admin upload: the same import service, for each persona."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from compliance.models import AuditTrail
from tests.users.screening.test_importers import DATA
from users.models import ImportRun, ImportStatus, WatchlistEntry, WatchlistSource

pytestmark = pytest.mark.django_db


def command(*args) -> str:
    out = io.StringIO()
    call_command("import_watchlist", *args, stdout=out)
    return out.getvalue()


def test_command_creates_the_source_and_prints_the_counts():
    out = command(
        "--source", "un-sc", "--format", "un_xml", "--create-source", "--kind", "SANCTIONS",
        "--name", "UN Security Council", str(DATA / "un_consolidated.xml"),
    )  # fmt: skip
    assert "3 added, 0 changed, 0 unchanged, 0 removed" in out
    source = WatchlistSource.objects.get(code="un-sc")
    assert (source.name, source.kind, source.format) == ("UN Security Council", "SANCTIONS", "un_xml")
    # The source remembers its format: the next import needs none.
    assert "0 added, 0 changed, 3 unchanged, 0 removed" in command(
        "--source", "un-sc", str(DATA / "un_consolidated.xml")
    )
    assert AuditTrail.objects.filter(action="watchlist_source.created").count() == 1


def test_command_takes_the_ofac_csv_trio():
    out = command(
        "--source", "ofac", "--format", "ofac_csv", "--create-source",
        *(str(DATA / name) for name in ("sdn.csv", "add.csv", "alt.csv")),
    )  # fmt: skip
    assert "3 added" in out
    assert ImportRun.objects.get().file_name == "sdn.csv, add.csv, alt.csv"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "nope", "--format", "un_xml", "x.xml"], "No watchlist source 'nope'"),
        (["--source", "new", "--create-source", "x.xml"], "Say which format"),
        (["--source", "new", "--format", "un_xml", "--create-source", "/no/such/file.xml"], "Cannot read"),
        (
            ["--source", "new", "--format", "un_xml", "--create-source", "a.xml", "b.xml"],
            "takes consolidated XML",
        ),
    ],
)
def test_command_refusals_are_clear(args, message):
    with pytest.raises(CommandError, match=message):
        command(*args)
    assert not WatchlistSource.objects.exists()


def test_command_reports_a_bad_file_and_records_the_failed_run():
    with pytest.raises(CommandError, match=r"root element is <CONSOLIDATED_LIST>.*import run \d+"):
        command("--source", "eu", "--format", "un_xml", "--create-source", str(DATA / "eu_fsf.xml"))
    assert ImportRun.objects.get().status == ImportStatus.FAILED


# --- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def login(client):
    def _login(user):
        user.is_staff = True
        user.save()
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def source(db):
    return WatchlistSource.objects.create(code="eu-fsf", name="EU FSF", kind="SANCTIONS", format="eu_xml")


def upload(client, source, name="eu_fsf.xml", fmt="eu_xml", **extra):
    data = {"format": fmt, "file": SimpleUploadedFile(name, (DATA / name).read_bytes()), **extra}
    return client.post(reverse("admin:users_watchlistsource_import", args=[source.pk]), data)


def test_compliance_admin_uploads_a_file(login, compliance_admin, source):
    client = login(compliance_admin)
    page = client.get(reverse("admin:users_watchlistsource_change", args=[source.pk]))
    assert reverse("admin:users_watchlistsource_import", args=[source.pk]) in page.content.decode()
    assert client.get(reverse("admin:users_watchlistsource_import", args=[source.pk])).status_code == 200

    response = upload(client, source)

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:users_importrun_change", args=[run.pk])
    assert (run.status, run.added, run.actor) == (ImportStatus.SUCCEEDED, 3, compliance_admin)
    followed = client.get(response.url)
    assert "3 added, 0 changed, 0 unchanged, 0 removed" in followed.content.decode()


def test_admin_upload_of_a_bad_file_shows_the_error(login, compliance_admin, source):
    client = login(compliance_admin)
    response = upload(client, source, name="sdn.xml", fmt="eu_xml")
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    followed = client.get(response.url)
    assert "root element is &lt;export&gt;" in followed.content.decode()


def test_admin_upload_form_refuses_extra_files_for_single_file_formats(login, compliance_admin, source):
    client = login(compliance_admin)
    extra = SimpleUploadedFile("add.csv", (DATA / "add.csv").read_bytes())
    response = upload(client, source, add_file=extra)
    assert response.status_code == 200
    assert "Only the OFAC CSV format takes add.csv" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_admin_creates_and_edits_sources_through_the_audited_services(login, compliance_admin):
    client = login(compliance_admin)
    response = client.post(
        reverse("admin:users_watchlistsource_add"),
        {
            "code": "uk-ofsi",
            "name": "UK",
            "kind": "SANCTIONS",
            "format": "uk_csv",
            "publisher_url": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    source = WatchlistSource.objects.get(code="uk-ofsi")
    client.post(
        reverse("admin:users_watchlistsource_change", args=[source.pk]),
        {"code": "uk-ofsi", "name": "UK OFSI", "kind": "SANCTIONS", "format": "uk_csv", "publisher_url": ""},
    )
    source.refresh_from_db()
    assert (source.name, source.active) == ("UK OFSI", False)
    assert list(
        AuditTrail.objects.filter(object_type="users.watchlistsource")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "watchlist_source.created",
        "watchlist_source.updated",
    ]


def test_analyst_views_entries_but_cannot_import(login, analyst, source, compliance_admin):
    call_command("import_watchlist", "--source", source.code, str(DATA / "eu_fsf.xml"), stdout=io.StringIO())
    client = login(analyst)
    listing = client.get(reverse("admin:users_watchlistentry_changelist"), {"q": "Mugabe"})
    assert listing.status_code == 200
    assert "Robert Gabriel Mugabe" in listing.content.decode()
    assert "Sberbank" not in listing.content.decode()
    by_alias = client.get(reverse("admin:users_watchlistentry_changelist"), {"q": "Bob Mugabe"})
    assert by_alias.content.decode().count("Robert Gabriel Mugabe") == 1  # found once, by its weak alias
    entry = WatchlistEntry.objects.get(external_id="13")
    assert client.get(reverse("admin:users_watchlistentry_change", args=[entry.pk])).status_code == 200
    assert client.get(reverse("admin:users_importrun_changelist")).status_code == 200
    assert client.get(reverse("admin:users_watchlistsource_import", args=[source.pk])).status_code == 403
    assert upload(client, source).status_code == 403
    assert client.post(reverse("admin:users_watchlistsource_add"), {"code": "x"}).status_code == 403
    assert ImportRun.objects.count() == 1


def test_entries_and_runs_are_read_only_even_for_compliance_admins(login, compliance_admin, source):
    client = login(compliance_admin)
    upload(client, source)
    entry = WatchlistEntry.objects.first()
    run = ImportRun.objects.get()
    assert client.get(reverse("admin:users_watchlistentry_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:users_watchlistentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("admin:users_importrun_delete", args=[run.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:users_watchlistsource_delete", args=[source.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_outsider_sees_nothing(login, outsider, source):
    client = login(outsider)
    assert client.get(reverse("admin:users_watchlistentry_changelist")).status_code == 403
    assert client.get(reverse("admin:users_watchlistsource_import", args=[source.pk])).status_code == 403
