"""Watchlists (issue 6): the lists we screen against, their entries, and every import of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SourceKind(models.TextChoices):
    SANCTIONS = "SANCTIONS", "Sanctions"
    PEP = "PEP", "Politically exposed persons"
    WATCHLIST = "WATCHLIST", "Watchlist"
    ADVERSE_MEDIA = "ADVERSE_MEDIA", "Adverse media"
    INTERNAL = "INTERNAL", "Internal list"


class ListFormat(models.TextChoices):
    OFAC_XML = "ofac_xml", "OFAC SDN (XML)"
    OFAC_CSV = "ofac_csv", "OFAC SDN (CSV: sdn, add, alt)"
    EU_XML = "eu_xml", "EU consolidated financial sanctions (XML)"
    UN_XML = "un_xml", "UN Security Council consolidated list (XML)"
    UK_CSV = "uk_csv", "UK OFSI consolidated list (CSV)"
    FTM_JSON = "ftm_json", "OpenSanctions FollowTheMoney (JSON lines)"
    OS_CSV = "os_csv", "OpenSanctions targets.simple (CSV)"


class EntrySchema(models.TextChoices):
    PERSON = "PERSON", "Person"
    ORGANISATION = "ORGANISATION", "Organisation"
    VESSEL = "VESSEL", "Vessel"
    AIRCRAFT = "AIRCRAFT", "Aircraft"
    UNKNOWN = "UNKNOWN", "Unknown"


class NameKind(models.TextChoices):
    PRIMARY = "primary", "Primary name"
    STRONG_ALIAS = "strong-alias", "Strong alias"
    WEAK_ALIAS = "weak-alias", "Weak alias"


class ImportStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"


class ScreeningStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    DONE = "DONE", "Done"
    FAILED = "FAILED", "Failed"


class WatchlistSource(models.Model):
    """A list we screen against (OFAC SDN, EU FSF, a PEP database, our own list...)."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    format = models.CharField(max_length=20, choices=ListFormat.choices, blank=True)
    publisher_url = models.URLField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    last_import = models.ForeignKey(
        "users.ImportRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        permissions = [("import_watchlist", "Can import watchlist files")]

    def __str__(self):
        return f"{self.code} ({self.get_kind_display()})"


class WatchlistEntry(models.Model):
    """One listed person, organisation, vessel or aircraft, as of the last import that saw it.

    Dates of birth are strings because lists publish partial dates ("1970", "1970-05").
    An entry missing from a full re-import is marked `removed_at`, never deleted: past hits
    keep pointing at it.
    """

    source = models.ForeignKey(WatchlistSource, on_delete=models.PROTECT, related_name="entries")
    external_id = models.CharField(max_length=200)
    schema = models.CharField(max_length=20, choices=EntrySchema.choices, default=EntrySchema.UNKNOWN)
    name = models.CharField(max_length=500)
    aliases = models.JSONField(default=list, blank=True, help_text='[{"name": ..., "strength": strong|weak}]')
    birth_dates = models.JSONField(default=list, blank=True)
    birth_places = models.JSONField(default=list, blank=True)
    nationalities = models.JSONField(default=list, blank=True, help_text="ISO 3166 alpha-2 codes.")
    countries = models.JSONField(default=list, blank=True, help_text="ISO 3166 alpha-2 codes.")
    identifiers = models.JSONField(default=list, blank=True, help_text='[{"type", "value", "country"}]')
    programmes = models.JSONField(default=list, blank=True, help_text="Programmes / reasons for listing.")
    listed_on = models.DateField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text="The record as parsed from the file.")
    md5 = models.CharField(max_length=32)
    first_seen_import = models.ForeignKey(
        "users.ImportRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_changed_import = models.ForeignKey(
        "users.ImportRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "watchlist entries"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                name="users_watchlistentry_unique_external_id",
                violation_error_message="An entry with this id already exists in this source.",
            ),
        ]

    def __str__(self):
        return f"{self.name} [{self.source_id}:{self.external_id}]"


class WatchlistName(models.Model):
    """Every name of an entry, one row each: what candidate retrieval indexes."""

    entry = models.ForeignKey(WatchlistEntry, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=500)
    kind = models.CharField(max_length=20, choices=NameKind.choices)
    prepared = models.JSONField(
        default=dict, blank=True, help_text="The name's comparable tokens (users.screening.index)."
    )

    class Meta:
        indexes = [models.Index(fields=["name"], name="users_watchlistname_name")]

    def __str__(self):
        return self.name


class WatchlistNameKey(models.Model):
    """Blocking keys of watchlist names: consonant skeleton and phonetic key of each word.

    The composite primary key (key, name) is the whole index: retrieval reads it by key alone
    (index-only on PostgreSQL). Rows of removed entries are deleted; their names stay.
    `users.screening.index` deletes key rows before their names, in one statement, hence
    DO_NOTHING (a cascade would make Django collect every name row first).
    """

    pk = models.CompositePrimaryKey("key", "name")
    key = models.CharField(max_length=60)
    name = models.ForeignKey(WatchlistName, on_delete=models.DO_NOTHING, related_name="+", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["name"], name="users_watchlistnamekey_name")]

    def __str__(self):
        return self.key


class WatchlistKeyStat(models.Model):
    """How many watchlist names carry each key: retrieval reads the rare keys first."""

    key = models.CharField(max_length=60, primary_key=True)
    names = models.IntegerField()

    def __str__(self):
        return f"{self.key}: {self.names}"


class CustomerName(models.Model):
    """A customer's name as screening sees it: what ongoing screening (list entries against all
    customers) retrieves by key. Rewritten by `users.screening.customers` when the customer's
    names change."""

    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="screening_names")
    name = models.CharField(max_length=500)
    kind = models.CharField(max_length=20, choices=NameKind.choices, default=NameKind.PRIMARY)
    prepared = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return self.name


class CustomerNameKey(models.Model):
    """Blocking keys of customers' names (as `WatchlistNameKey`)."""

    pk = models.CompositePrimaryKey("key", "name")
    key = models.CharField(max_length=60)
    name = models.ForeignKey(CustomerName, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["name"], name="users_customernamekey_name")]

    def __str__(self):
        return self.key


class CustomerKeyStat(models.Model):
    """How many customer names carry each key."""

    key = models.CharField(max_length=60, primary_key=True)
    names = models.IntegerField()

    def __str__(self):
        return f"{self.key}: {self.names}"


class ImportRun(models.Model):
    """One import of one file (or file set) into a source, whatever its outcome."""

    source = models.ForeignKey(WatchlistSource, on_delete=models.PROTECT, related_name="import_runs")
    format = models.CharField(max_length=20, choices=ListFormat.choices)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    file_name = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    # Ongoing screening of the run's new and changed entries against all customers.
    screening_status = models.CharField(max_length=20, choices=ScreeningStatus.choices, blank=True)
    screening_total = models.PositiveIntegerField(default=0)
    screening_done = models.PositiveIntegerField(default=0)
    screening_hits = models.PositiveIntegerField(default=0)
    screening_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.source_id} import #{self.pk} ({self.status})"
