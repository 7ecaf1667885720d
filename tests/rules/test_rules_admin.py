"""The rules back office through the real admin URLs: the rule instance editor (validated and
versioned by rules.services), backtests, blocked values, IP ranges; as each persona."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.audit import Actor
from compliance.models import AuditTrail
from rules import services, tasks
from rules.iplookup import address_key
from rules.models import BacktestRun, BlockedValue, IpCountryRange, RuleInstance, RuleInstanceVersion
from tests.transactions.conftest import body, exchange_rates, make_instance, seed_users

pytestmark = pytest.mark.django_db

__all__ = ["exchange_rates", "seed_users"]  # fixtures, used by name

CHANGELIST = "/admin/rules/ruleinstance/"
ADD = "/admin/rules/ruleinstance/add/"
VELOCITY = {
    "transactionsLimit": 3,
    "timeWindow": {"units": 1, "granularity": "hour"},
    "checkFor": "originUser",
}


def change_url(instance):
    return reverse("admin:rules_ruleinstance_change", args=[instance.pk])


@pytest.fixture
def login(client):
    def _login(user):
        user.is_staff = True
        user.save()
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def run_tasks_here(monkeypatch):
    """Queued backtests run in this process as they are queued (eager or not, the same test)."""

    def delay(*args, **kwargs):
        result = tasks.backtest_run.apply(args=args, kwargs=kwargs)
        assert result.successful(), result.traceback
        return result

    monkeypatch.setattr(tasks.backtest_run, "delay", delay)


def form_data(response) -> dict:
    """What the browser posts back for an unchanged page: the form, every inline, their management forms."""
    data, forms = {}, [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        for bf in inline.formset.management_form:
            data[bf.html_name] = str(bf.value())
        forms.extend(inline.formset.forms)
    for form in forms:
        for bf in form:
            value = bf.value()
            if value is None or value is False:
                continue
            data[bf.html_name] = "on" if value is True else str(value)
    return data


def field_errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    return {name: list(errors) for name, errors in response.context["adminform"].form.errors.items()}


def add_form(**values) -> dict:
    data = {
        "rule_id": "R-2",
        "rule_name_alias": "",
        "description": "",
        "status": "ACTIVE",
        "action": "FLAG",
        "case_priority": "P3",
        "nature": "FRAUD",
        "labels": "[]",
        "filters": "{}",
        "parameters": json.dumps(VELOCITY),
        "risk_level_parameters": "{}",
        "risk_level_actions": "{}",
        "triggers_on_hit": "{}",
        "risk_level_triggers_on_hit": "{}",
    }
    data.update(values)
    return data


# --- the list ------------------------------------------------------------------------------------


def test_changelist_filters_and_search_render_for_both_personas(login, analyst, compliance_admin):
    velocity = make_instance("R-2", parameters=VELOCITY, ruleNameAlias="Velocity", isShadow=True)
    make_instance("R-1", ruleNameAlias="Big amounts")
    retired = make_instance("R-1", ruleNameAlias="Old one")
    services.rule_instance_delete(actor=Actor.system_actor("tests"), instance_id=retired.pk)
    for user in (analyst, compliance_admin):
        client = login(user)
        page = client.get(CHANGELIST)
        assert page.status_code == 200
        html = page.content.decode()
        assert "Velocity" in html
        assert "Big amounts" in html
        assert "RETIRED" in html
        assert "Too many transactions in a window" in html
        for params in (
            {"lifecycle": "live"},
            {"lifecycle": "retired"},
            {"status__exact": "ACTIVE"},
            {"action__exact": "FLAG"},
            {"is_shadow__exact": "1"},
            {"rule": "R-2"},
            {"nature__exact": "AML"},
            {"q": "velo"},
            {"q": str(velocity.pk)},
            {"q": "R-1"},
        ):
            assert client.get(CHANGELIST, params).status_code == 200, params
        live = client.get(CHANGELIST, {"lifecycle": "live"}).content.decode()
        assert "Old one" not in live
        assert "Velocity" in client.get(CHANGELIST, {"rule": "R-2"}).content.decode()
        assert "Big amounts" not in client.get(CHANGELIST, {"rule": "R-2"}).content.decode()


# --- the editor ----------------------------------------------------------------------------------


def test_change_form_shows_the_template_schema_versions_and_backtests(login, compliance_admin):
    instance = make_instance("R-2", parameters=VELOCITY)
    services.rule_instance_update(
        actor=Actor.system_actor("tests"), instance_id=instance.pk, document={"action": "SUSPEND"}
    )
    page = login(compliance_admin).get(change_url(instance))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Parameter schema of R-2" in html
    assert "transactionsLimit" in html
    assert "Filters schema" in html
    assert f"{instance.pk}.2" in html  # the versions inline
    assert f"{instance.pk}.1" in html
    assert "Backtest</a>" in html  # the object tool
    prefixes = {inline.formset.prefix for inline in page.context["inline_admin_formsets"]}
    assert prefixes == {"versions", "backtests"}
    assert "&lt;details&gt;" not in html  # help texts are HTML, not escaped HTML
    versions = page.context["inline_admin_formsets"][0].formset.queryset
    assert [v.version for v in versions] == [2, 1]


def test_analysts_read_but_do_not_write(login, analyst):
    instance = make_instance("R-2", parameters=VELOCITY)
    client = login(analyst)
    page = client.get(change_url(instance))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert 'name="_save"' not in page.content.decode()
    assert client.get(ADD).status_code == 403
    assert client.post(change_url(instance), add_form(action="BLOCK")).status_code == 403
    assert client.get(reverse("admin:rules_ruleinstance_backtest") + f"?ids={instance.pk}").status_code == 403
    instance.refresh_from_db()
    assert (instance.action, instance.version) == ("FLAG", 1)


def test_add_starts_from_the_template_and_saves_through_the_service(login, compliance_admin):
    client = login(compliance_admin)
    blank = client.get(ADD)
    assert blank.status_code == 200
    assert '<a href="?rule_id=R-2">R-2</a>' in blank.content.decode()
    page = client.get(ADD, {"rule_id": "R-2"})
    assert page.status_code == 200
    assert "Parameter schema of R-2" in page.content.decode()
    initial = page.context["adminform"].form.initial
    assert initial["parameters"] == {
        "transactionsLimit": 10,
        "timeWindow": {"units": 1, "granularity": "hour"},
        "checkFor": "originUser",
    }
    assert initial["nature"] == "FRAUD"

    response = client.post(ADD, add_form(rule_name_alias="Three an hour", labels='["VELOCITY"]'))
    assert response.status_code == 302, field_errors(response)
    instance = RuleInstance.objects.get(rule_name_alias="Three an hour")
    assert instance.parameters == VELOCITY
    assert instance.labels == ["VELOCITY"]
    assert instance.version == 1
    assert instance.created_by == "compliance_admin"
    assert RuleInstanceVersion.objects.get(rule_instance=instance).config["parameters"] == VELOCITY
    assert AuditTrail.objects.filter(
        object_type="rules.ruleinstance", object_id=str(instance.pk), action="create"
    ).exists()


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        (
            {"parameters": json.dumps({**VELOCITY, "transactionsLimit": "ten"})},
            "parameters",
            "transactionsLimit:",
        ),
        (
            {"parameters": json.dumps({"checkFor": "originUser"})},
            "parameters",
            "'transactionsLimit' is a required",
        ),
        (
            {"risk_level_parameters": json.dumps({"HIGH": VELOCITY})},
            "risk_level_parameters",
            "one set of parameters for each",
        ),
        ({"risk_level_actions": '{"HIGH": "BLOCK"}'}, "risk_level_actions", "one action for each"),
        ({"filters": '{"transactionTypes": ["TELEPORT"]}'}, "filters", "transactionTypes.0:"),
        ({"triggers_on_hit": '{"usersToCheck": "EVERYONE"}'}, "triggers_on_hit", "usersToCheck:"),
        ({"parameters": "{not json"}, "parameters", "Enter a valid JSON"),
        ({"rule_id": "R-999"}, "rule_id", "Select a valid choice"),
    ],
)
def test_add_with_invalid_values_shows_the_error_on_its_field(
    login, compliance_admin, values, field, fragment
):
    response = login(compliance_admin).post(ADD, add_form(**values))
    errors = field_errors(response)
    assert field in errors, errors
    assert any(fragment in error for error in errors[field]), errors
    assert not RuleInstance.all_objects.exists()


def test_change_makes_a_new_version_and_refusals_stay_on_the_form(
    login, compliance_admin, integrator_client, seed_users
):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    client = login(compliance_admin)
    data = form_data(client.get(change_url(instance)))

    unchanged = client.post(change_url(instance), data)
    assert unchanged.status_code == 302
    instance.refresh_from_db()
    assert instance.version == 1  # nothing changed: no version

    bad = client.post(
        change_url(instance), {**data, "parameters": '{"transactionAmountThreshold": {"php": 1}}'}
    )
    assert "parameters" in field_errors(bad)
    instance.refresh_from_db()
    assert instance.version == 1

    response = client.post(change_url(instance), {**data, "action": "BLOCK"})
    assert response.status_code == 302, field_errors(response)
    instance.refresh_from_db()
    assert (instance.action, instance.version) == ("BLOCK", 2)
    assert list(instance.versions.values_list("version", flat=True)) == [2, 1]
    answer = integrator_client.post("/api/transactions", body(), format="json").json()
    assert answer["hitRules"][0]["versionId"] == f"{instance.pk}.2"


def test_delete_retires_the_instance_and_keeps_its_history(login, compliance_admin):
    instance = make_instance("R-2", parameters=VELOCITY)
    client = login(compliance_admin)
    delete_url = reverse("admin:rules_ruleinstance_delete", args=[instance.pk])
    assert client.get(delete_url).status_code == 200
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    kept = RuleInstance.all_objects.get(pk=instance.pk)
    assert kept.deleted_at is not None
    assert kept.status == "INACTIVE"
    assert kept.versions.count() == 1
    page = client.get(change_url(kept))
    assert page.status_code == 200  # read only now
    assert not page.context["has_change_permission"]
    assert client.get(delete_url).status_code == 403


# --- backtests -----------------------------------------------------------------------------------


def test_backtest_action_over_the_last_30_days(
    login, compliance_admin, integrator_client, seed_users, run_tasks_here, django_capture_on_commit_callbacks
):
    integrator_client.post(
        "/api/transactions", body(timestamp=int(timezone.now().timestamp() * 1000) - 60_000)
    )
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    client = login(compliance_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST, {"action": "backtest_last_30_days", "_selected_action": [instance.pk]}, follow=True
        )
    assert response.status_code == 200
    run = BacktestRun.objects.get(rule_instance=instance)
    assert "queued" in response.content.decode()
    assert run.period_end - run.period_start == timedelta(days=30)
    assert run.requested_by == "compliance_admin"
    run.refresh_from_db()
    assert (run.status, run.transactions_scanned, run.hits) == ("DONE", 1, 1)

    # The run's page: counts, rate, duration and the sample hit with its evidence.
    page = client.get(reverse("admin:rules_backtestrun_change", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "100.00 %" in html
    assert run.sample_hits[0]["transactionId"] in html
    assert "listAmount" in html
    assert client.get("/admin/rules/backtestrun/", {"status__exact": "DONE"}).status_code == 200


def test_backtest_over_a_chosen_period_with_a_draft(login, compliance_admin, run_tasks_here):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    client = login(compliance_admin)
    chooser = client.post(CHANGELIST, {"action": "backtest_chosen_period", "_selected_action": [instance.pk]})
    assert chooser.status_code == 302
    url = chooser["Location"]
    assert client.get(url).status_code == 200
    bad = client.post(url, {"start": "2024-12-10", "end": "2024-12-01"})
    assert bad.status_code == 200
    assert "end" in bad.context["form"].errors
    refused = client.post(
        url, {"start": "2024-12-01", "end": "2024-12-10", "draft": '{"parameters": {"x": 1}}'}, follow=True
    )
    assert "parameters" in refused.content.decode()
    assert not BacktestRun.objects.exists()
    response = client.post(
        url,
        {"start": "2024-12-01", "end": "2024-12-10", "draft": '{"action": "BLOCK"}'},
    )
    run = BacktestRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rules_backtestrun_change", args=[run.pk])
    assert run.period_start.isoformat() == "2024-12-01T00:00:00+00:00"
    assert run.period_end.isoformat() == "2024-12-11T00:00:00+00:00"
    assert run.config["action"] == "BLOCK"
    assert run.config["versionId"] == f"{instance.pk}.1+draft"


def test_analysts_cannot_backtest(login, analyst):
    instance = make_instance("R-1")
    client = login(analyst)
    page = client.get(CHANGELIST)
    assert "backtest_last_30_days" not in page.content.decode()
    client.post(CHANGELIST, {"action": "backtest_last_30_days", "_selected_action": [instance.pk]})
    assert not BacktestRun.objects.exists()
    assert client.get("/admin/rules/backtestrun/").status_code == 200  # they read the runs
    assert client.get("/admin/rules/backtestrun/add/").status_code == 403


def test_version_lookup_by_version_id(login, analyst):
    instance = make_instance("R-1")
    client = login(analyst)
    page = client.get("/admin/rules/ruleinstanceversion/", {"q": f"{instance.pk}.1"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == list(instance.versions.all())
    version = instance.versions.get()
    assert client.get(reverse("admin:rules_ruleinstanceversion_change", args=[version.pk])).status_code == 200


# --- blocked values and IP ranges ------------------------------------------------------------------


def test_blocked_values_are_stored_normalised(login, compliance_admin, analyst):
    client = login(compliance_admin)
    add = "/admin/rules/blockedvalue/add/"
    response = client.post(
        add, {"kind": "IBAN", "value": "de89 3704 0044 0532 0130 00", "reason": "Fraud ring"}
    )
    assert response.status_code == 302
    blocked = BlockedValue.objects.get()
    assert blocked.value == "DE89370400440532013000"
    assert blocked.created_by == "compliance_admin"
    assert AuditTrail.objects.filter(object_type="rules.blockedvalue", action="create").exists()
    duplicate = client.post(add, {"kind": "IBAN", "value": "DE89 3704 0044 0532 0130 00"})
    assert duplicate.status_code == 200
    assert "blocked already" in duplicate.content.decode()
    assert client.post(add, {"kind": "EMAIL", "value": "  Fraud@Example.COM "}).status_code == 302
    assert BlockedValue.objects.filter(kind="EMAIL", value="fraud@example.com").exists()

    found = client.get("/admin/rules/blockedvalue/", {"q": "de89 3704 0044 0532 0130 00"})
    assert list(found.context["cl"].result_list) == [blocked]
    assert login(analyst).get("/admin/rules/blockedvalue/").status_code == 200
    assert login(analyst).post(add, {"kind": "IP", "value": "10.0.0.1"}).status_code == 403


def test_ip_ranges_are_read_only_and_searchable_by_address(login, analyst, compliance_admin):
    IpCountryRange.objects.create(start=address_key("1.0.0.0"), end=address_key("1.0.0.255"), country="AU")
    IpCountryRange.objects.create(start=address_key("2a00::"), end=address_key("2a00::ffff"), country="DE")
    for user in (analyst, compliance_admin):
        client = login(user)
        page = client.get("/admin/rules/ipcountryrange/")
        assert page.status_code == 200
        assert "1.0.0.255" in page.content.decode()
        assert "2a00::ffff" in page.content.decode()
        assert [
            r.country
            for r in client.get("/admin/rules/ipcountryrange/", {"q": "1.0.0.7"}).context["cl"].result_list
        ] == ["AU"]
        assert [
            r.country
            for r in client.get("/admin/rules/ipcountryrange/", {"q": "de"}).context["cl"].result_list
        ] == ["DE"]
        assert client.get("/admin/rules/ipcountryrange/add/").status_code == 403
