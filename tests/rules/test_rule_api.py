"""Seed 004 "Management/Rule": the library, the filters schema, rule instances with versions,
and backtests over the API, as each persona."""

import pytest

from compliance.models import AuditTrail
from rules.engine.filters import FILTERS_SCHEMA
from rules.library import REGISTRY
from rules.models import RuleInstance, RuleInstanceVersion
from tests.transactions.conftest import body, exchange_rates, make_instance, properties, seed_users

pytestmark = pytest.mark.django_db

__all__ = ["exchange_rates", "seed_users"]  # fixtures, used by name

INSTANCES = "/api/management/rule-instances"
ERROR_KEYS = {"status", "error", "message", "errors", "requestId"}
DOCUMENT_KEYS = {
    "id",
    "ruleInstanceId",
    "ruleId",
    "ruleNameAlias",
    "ruleDescription",
    "filters",
    "parameters",
    "riskLevelParameters",
    "action",
    "riskLevelActions",
    "triggersOnHit",
    "riskLevelsTriggersOnHit",
    "casePriority",
    "nature",
    "labels",
    "status",
    "isShadow",
    "runOnTransactionEvents",
    "version",
    "versionId",
    "createdBy",
    "createdAt",
    "updatedAt",
}
VELOCITY = {
    "transactionsLimit": 5,
    "timeWindow": {"units": 1, "granularity": "hour"},
    "checkFor": "originUser",
}
PER_LEVEL = {
    level: {**VELOCITY, "transactionsLimit": limit}
    for level, limit in (("VERY_HIGH", 1), ("HIGH", 2), ("MEDIUM", 5), ("LOW", 10), ("VERY_LOW", 20))
}
LEVEL_ACTIONS = {
    "VERY_HIGH": "BLOCK",
    "HIGH": "SUSPEND",
    "MEDIUM": "FLAG",
    "LOW": "FLAG",
    "VERY_LOW": "ALLOW",
}
TRIGGER = {"usersToCheck": "ORIGIN", "userStateDetails": {"reason": "Velocity", "state": "BLOCKED"}}

# Seed 004 "Rule Instance - Create", every property filled in with a value it allows.
SEED_CREATE = {
    "ruleId": "R-2",
    "filters": {"transactionTypes": ["TRANSFER"], "currencies": ["PHP", "EUR"]},
    "ruleNameAlias": "Velocity per risk level",
    "riskLevelParameters": PER_LEVEL,
    "action": "FLAG",
    "riskLevelActions": LEVEL_ACTIONS,
    "triggersOnHit": TRIGGER,
    "riskLevelsTriggersOnHit": {"VERY_HIGH": TRIGGER},
    "status": "ACTIVE",
    "casePriority": "P2",
}


def detail(instance_id) -> str:
    return f"{INSTANCES}/{instance_id}"


def create(client, **document):
    return client.post(INSTANCES, {"ruleId": "R-1", **document}, format="json")


# --- the library -------------------------------------------------------------------------------


def test_library_lists_every_template_by_numeric_id(integrator_client):
    response = integrator_client.get("/api/management/rules")
    assert response.status_code == 200
    templates = response.json()
    ids = [template["id"] for template in templates]
    assert sorted(ids) == sorted(REGISTRY)
    assert ids == sorted(ids, key=lambda rule_id: int(rule_id.split("-")[1]))
    first = templates[0]
    assert first == REGISTRY["R-1"].document()
    assert first["parametersSchema"]["required"] == ["transactionAmountThreshold"]


def test_one_template_and_an_unknown_one(analyst_client):
    response = analyst_client.get("/api/management/rules/R-2")
    assert response.status_code == 200
    assert response.json()["id"] == "R-2"
    assert "transactionsLimit" in response.json()["parametersSchema"]["properties"]
    missing = analyst_client.get("/api/management/rules/R-999")
    assert missing.status_code == 404
    assert set(missing.json()) == ERROR_KEYS


def test_filters_schema(integrator_client):
    response = integrator_client.get("/api/management/rule-filters-schema")
    assert response.status_code == 200
    assert response.json() == FILTERS_SCHEMA


# --- create --------------------------------------------------------------------------------------


def test_seed_create_body_makes_version_1(compliance_admin_client):
    response = compliance_admin_client.post(INSTANCES, SEED_CREATE, format="json")
    assert response.status_code == 201, response.json()
    document = response.json()
    assert set(document) == DOCUMENT_KEYS
    instance = RuleInstance.objects.get(pk=int(document["id"]))
    assert document["ruleInstanceId"] == str(instance.pk)
    assert document["version"] == 1
    assert document["versionId"] == f"{instance.pk}.1"
    assert document["riskLevelParameters"] == PER_LEVEL
    assert document["parameters"] == PER_LEVEL["MEDIUM"]  # no plain set: the MEDIUM one
    assert document["riskLevelActions"] == LEVEL_ACTIONS
    assert document["filters"] == SEED_CREATE["filters"]
    assert document["triggersOnHit"] == TRIGGER
    assert document["casePriority"] == "P2"
    assert document["nature"] == "FRAUD"  # the template's
    assert document["labels"] == ["UNEXPECTED_BEHAVIOR"]
    assert document["createdBy"] == "compliance_admin"
    assert instance.versions.get().config == document
    audit = AuditTrail.objects.get(object_type="rules.ruleinstance", object_id=str(instance.pk))
    assert audit.action == AuditTrail.Action.CREATE


def test_minimal_body_takes_the_template_defaults_and_the_seed_empty_filters(compliance_admin_client):
    response = compliance_admin_client.post(
        INSTANCES, {"ruleId": "R-1", "filters": [], "ruleNameAlias": None}, format="json"
    )
    assert response.status_code == 201, response.json()
    document = response.json()
    assert document["parameters"] == REGISTRY["R-1"].default_parameters
    assert document["filters"] == {}
    assert document["ruleNameAlias"] == ""
    assert document["action"] == "FLAG"
    assert document["status"] == "ACTIVE"
    assert document["isShadow"] is False


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"ruleId": "R-999"}, {"ruleId"}),
        (
            {"parameters": {"transactionAmountThreshold": {"EUR": -1}}},
            {"parameters.transactionAmountThreshold.EUR"},
        ),
        (
            {"ruleId": "R-2", "parameters": {**VELOCITY, "transactionsLimit": "ten"}},
            {"parameters.transactionsLimit"},
        ),
        ({"ruleId": "R-2", "parameters": {"checkFor": "originUser"}}, {"parameters"}),
        ({"ruleId": "R-2", "parameters": {**VELOCITY, "speed": 1}}, {"parameters"}),
        (
            {
                "ruleId": "R-2",
                "riskLevelParameters": {**PER_LEVEL, "HIGH": {**VELOCITY, "timeWindow": {"units": 1}}},
            },
            {"riskLevelParameters.HIGH.timeWindow"},
        ),
        ({"ruleId": "R-2", "riskLevelParameters": {"HIGH": VELOCITY}}, {"riskLevelParameters"}),
        ({"riskLevelActions": {"HIGH": "BLOCK"}}, {"riskLevelActions"}),
        ({"riskLevelActions": {**LEVEL_ACTIONS, "LOW": "PANIC"}}, {"riskLevelActions.LOW"}),
        ({"filters": {"transactionTypes": ["TELEPORT"]}}, {"filters.transactionTypes.0"}),
        ({"filters": {"planet": "Mars"}}, {"filters"}),
        ({"filters": {"amountRange": {"currency": "EUR"}}}, {"filters.amountRange"}),
        ({"triggersOnHit": {"usersToCheck": "EVERYONE"}}, {"triggersOnHit.usersToCheck"}),
        ({"riskLevelsTriggersOnHit": {"EXTREME": TRIGGER}}, {"riskLevelsTriggersOnHit"}),
    ],
)
def test_semantic_errors_name_the_bad_property(compliance_admin_client, document, named):
    response = create(compliance_admin_client, **document)
    assert response.status_code == 400, response.json()
    assert properties(response) == named
    assert set(response.json()) == ERROR_KEYS
    assert not RuleInstance.all_objects.exists()


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"ruleID": "R-1"}, {"ruleID"}),  # unknown properties are refused, not dropped
        ({"isShadow": "yes"}, {"isShadow"}),
        ({"action": "PANIC"}, {"action"}),
        ({"parameters": [1, 2]}, {"parameters"}),
        ({"filters": "none"}, {"filters"}),
        ({"labels": "AML"}, {"labels"}),
        ({"ruleNameAlias": 12}, {"ruleNameAlias"}),
        ({"parameters": {"a\x00b": 1}}, {"parameters"}),
    ],
)
def test_type_errors_name_the_bad_property(compliance_admin_client, document, named):
    response = create(compliance_admin_client, **document)
    assert response.status_code == 400, response.json()
    assert named <= properties(response)


def test_rule_id_is_required_on_create(compliance_admin_client):
    response = compliance_admin_client.post(INSTANCES, {"action": "FLAG"}, format="json")
    assert response.status_code == 400
    assert properties(response) == {"ruleId"}


# --- read ----------------------------------------------------------------------------------------


def test_detail_and_404s(integrator_client):
    instance = make_instance("R-1", ruleNameAlias="Big amounts")
    response = integrator_client.get(detail(instance.pk))
    assert response.status_code == 200
    assert response.json()["ruleNameAlias"] == "Big amounts"
    for missing in ("999999", "abc", "99999999999999999999", "-1"):
        answer = integrator_client.get(detail(missing))
        assert answer.status_code == 404, missing
        assert set(answer.json()) == ERROR_KEYS


def test_list_is_paginated_and_filtered(integrator_client):
    velocity = make_instance("R-2", parameters=VELOCITY, isShadow=True)
    amount = make_instance("R-1")
    inactive = make_instance("R-1", status="INACTIVE")
    retired = make_instance("R-1")
    retired.deleted_at = retired.updated_at
    retired.save()

    def ids(**params):
        response = integrator_client.get(INSTANCES, params)
        assert response.status_code == 200, response.json()
        return [int(item["id"]) for item in response.json()["data"]]

    page = integrator_client.get(INSTANCES, {"pageSize": 2}).json()
    assert page["total"] == 3
    assert [int(item["id"]) for item in page["data"]] == [velocity.pk, amount.pk]
    assert set(page["data"][0]) == DOCUMENT_KEYS
    assert ids(start=2) == [inactive.pk]
    assert ids(status="INACTIVE") == [inactive.pk]
    assert ids(ruleId="R-1") == [amount.pk, inactive.pk]
    assert ids(isShadow="true") == [velocity.pk]
    assert ids(isShadow="false", status="ACTIVE") == [amount.pk]
    for bad in (
        {"isShadow": "maybe"},
        {"isShadow": ""},
        {"status": "DRAFT"},
        {"pageSize": 0},
        {"pageSize": ""},
        {"start": -1},
        {"start": 2**40},
    ):
        response = integrator_client.get(INSTANCES, bad)
        assert response.status_code == 400, bad
        assert properties(response) == set(bad)


def test_list_and_detail_take_a_fixed_number_of_queries(integrator_client, django_assert_num_queries):
    instances = [make_instance("R-1") for _ in range(5)]
    # The key's last use is recorded once a minute, and its user's permissions are read once
    # and cached (compliance.api.permissions): neither is counted below.
    integrator_client.get(INSTANCES)
    # API key (1); count; page.
    with django_assert_num_queries(3):
        assert integrator_client.get(INSTANCES).status_code == 200
    # API key (1); the instance.
    with django_assert_num_queries(2):
        assert integrator_client.get(detail(instances[0].pk)).status_code == 200


# --- update, versions ----------------------------------------------------------------------------


def test_put_merges_and_bumps_the_version(compliance_admin_client):
    created = compliance_admin_client.post(INSTANCES, SEED_CREATE, format="json").json()
    response = compliance_admin_client.put(
        detail(created["id"]), {"action": "SUSPEND", "ruleNameAlias": "Renamed"}, format="json"
    )
    assert response.status_code == 200, response.json()
    updated = response.json()
    assert updated["version"] == 2
    assert updated["versionId"] == f"{created['id']}.2"
    assert updated["action"] == "SUSPEND"
    assert updated["ruleNameAlias"] == "Renamed"
    unchanged = DOCUMENT_KEYS - {"action", "ruleNameAlias", "version", "versionId", "updatedAt"}
    assert {key: updated[key] for key in unchanged} == {key: created[key] for key in unchanged}

    # Sending what is stored changes nothing: no new version.
    again = compliance_admin_client.put(detail(created["id"]), {"action": "SUSPEND"}, format="json")
    assert again.json()["version"] == 2

    versions = compliance_admin_client.get(f"{detail(created['id'])}/versions")
    assert versions.status_code == 200
    assert [v["version"] for v in versions.json()] == [2, 1]
    assert [v["versionId"] for v in versions.json()] == [f"{created['id']}.2", f"{created['id']}.1"]
    assert versions.json()[0]["config"] == updated
    assert versions.json()[1]["config"] == created
    assert versions.json()[0]["createdBy"] == "compliance_admin"
    assert AuditTrail.objects.filter(object_type="rules.ruleinstance", action="update").count() == 1


def test_put_validates_the_merged_instance(compliance_admin_client):
    instance = make_instance("R-2", parameters=VELOCITY)
    response = compliance_admin_client.put(
        detail(instance.pk), {"parameters": {**VELOCITY, "timeWindow": {"units": 1, "granularity": "year"}}}
    )
    assert response.status_code == 400
    assert properties(response) == {"parameters.timeWindow.granularity"}
    # Another template's parameters do not fit: changing the template means new parameters.
    switched = compliance_admin_client.put(detail(instance.pk), {"ruleId": "R-1"}, format="json")
    assert switched.status_code == 400
    assert properties(switched) == {"parameters"}
    assert compliance_admin_client.put(detail(instance.pk), {"isShadow": 1}, format="json").status_code == 400
    assert compliance_admin_client.put(detail("424242"), {"action": "FLAG"}, format="json").status_code == 404
    # An unknown instance is a 404 before its body is read (seed 004's blank update template).
    blank = compliance_admin_client.put(detail("424242"), {"ruleId": "", "action": ""}, format="json")
    assert blank.status_code == 404
    instance.refresh_from_db()
    assert instance.version == 1


def test_a_transaction_after_the_put_runs_the_new_version(
    compliance_admin_client, integrator_client, seed_users
):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}}, action="FLAG")
    first = integrator_client.post("/api/transactions", body(), format="json").json()
    assert first["status"] == "FLAG"
    assert first["hitRules"][0]["versionId"] == f"{instance.pk}.1"

    response = compliance_admin_client.put(detail(instance.pk), {"action": "BLOCK"}, format="json")
    assert response.json()["versionId"] == f"{instance.pk}.2"
    second = integrator_client.post("/api/transactions", body(), format="json").json()
    assert second["status"] == "BLOCK"
    [hit] = second["hitRules"]
    assert hit["versionId"] == f"{instance.pk}.2"
    assert hit["ruleAction"] == "BLOCK"


# --- delete --------------------------------------------------------------------------------------


def test_delete_retires_the_instance(compliance_admin_client, integrator_client, seed_users):
    instance = make_instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}})
    response = compliance_admin_client.delete(detail(instance.pk))
    assert response.status_code == 204
    assert response.content == b""
    assert compliance_admin_client.get(detail(instance.pk)).status_code == 404
    assert compliance_admin_client.get(INSTANCES).json()["total"] == 0
    assert compliance_admin_client.delete(detail(instance.pk)).status_code == 404
    assert (
        compliance_admin_client.put(detail(instance.pk), {"action": "BLOCK"}, format="json").status_code
        == 404
    )

    kept = RuleInstance.all_objects.get(pk=instance.pk)
    assert kept.deleted_at is not None
    assert kept.status == "INACTIVE"
    assert RuleInstanceVersion.objects.filter(rule_instance=kept).count() == 1
    history = compliance_admin_client.get(f"{detail(instance.pk)}/versions")  # kept for history
    assert history.status_code == 200
    assert [v["versionId"] for v in history.json()] == [f"{instance.pk}.1"]

    answer = integrator_client.post("/api/transactions", body(), format="json").json()
    assert answer["status"] == "ALLOW"
    assert answer["executedRules"] == []


# --- permissions ---------------------------------------------------------------------------------

READS = [
    "/api/management/rules",
    "/api/management/rules/R-1",
    "/api/management/rule-filters-schema",
    INSTANCES,
    "{instance}",
    "{instance}/versions",
]


@pytest.fixture
def existing():
    return make_instance("R-1")


def _url(template, instance):
    return template.format(instance=detail(instance.pk))


@pytest.mark.parametrize("url", READS)
def test_reads_need_credentials_and_the_view_permission(
    url, existing, api_client, outsider_client, analyst_client, integrator_client, compliance_admin_client
):
    url = _url(url, existing)
    assert api_client.get(url).status_code == 401
    assert outsider_client.get(url).status_code == 403
    for client in (analyst_client, integrator_client, compliance_admin_client):
        assert client.get(url).status_code == 200, (client.user, url)


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("post", INSTANCES, {"ruleId": "R-1"}),
        ("put", "{instance}", {"action": "BLOCK"}),
        ("delete", "{instance}", None),
        ("post", "{instance}/backtests", {"fromTimestamp": 0, "toTimestamp": 1000}),
    ],
)
def test_writes_are_for_compliance_admins_only(
    method, url, data, existing, api_client, outsider_client, analyst_client, integrator_client
):
    url = _url(url, existing)
    assert getattr(api_client, method)(url, data, format="json").status_code == 401
    for client in (outsider_client, analyst_client, integrator_client):
        assert getattr(client, method)(url, data, format="json").status_code == 403, client.user
    existing.refresh_from_db()
    assert existing.version == 1
    assert existing.deleted_at is None
    assert not existing.backtests.exists()


# --- backtests -----------------------------------------------------------------------------------


@pytest.fixture
def run_tasks_here(monkeypatch):
    """Queued backtests run in this process as they are queued (eager or not, the same test)."""
    from rules import tasks

    def delay(*args, **kwargs):
        result = tasks.backtest_run.apply(args=args, kwargs=kwargs)
        assert result.successful(), result.traceback
        return result

    monkeypatch.setattr(tasks.backtest_run, "delay", delay)


def test_backtest_over_the_api(
    compliance_admin_client,
    analyst_client,
    integrator_client,
    seed_users,
    run_tasks_here,
    django_capture_on_commit_callbacks,
):
    instance = make_instance(
        "R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}}, status="INACTIVE"
    )
    stamps = [1733648901229, 1733648902229, 1733648903229]
    for stamp, amount in zip(stamps, (35000, 100, 40000), strict=True):
        sent = body(timestamp=stamp)
        sent["originAmountDetails"] = {**sent["originAmountDetails"], "transactionAmount": amount}
        assert integrator_client.post("/api/transactions", sent, format="json").status_code == 200

    url = f"{detail(instance.pk)}/backtests"
    with django_capture_on_commit_callbacks(execute=True):
        response = compliance_admin_client.post(
            url, {"fromTimestamp": stamps[0], "toTimestamp": stamps[-1] + 1}, format="json"
        )
    assert response.status_code == 202, response.json()
    queued = response.json()
    assert queued["ruleInstanceId"] == str(instance.pk)
    assert queued["versionId"] == f"{instance.pk}.1"
    assert queued["fromTimestamp"] == stamps[0]
    assert queued["toTimestamp"] == stamps[-1] + 1
    assert queued["requestedBy"] == "compliance_admin"

    run = analyst_client.get(f"{url}/{queued['backtestId']}")
    assert run.status_code == 200
    result = run.json()
    assert result["status"] == "DONE"
    assert result["transactionsScanned"] == 3
    assert result["hits"] == 2
    assert result["hitRate"] == pytest.approx(66.67)
    assert [hit["timestamp"] for hit in result["sampleHits"]] == [stamps[0], stamps[2]]
    assert result["sampleHits"][0]["data"]["rule"]["listAmount"] == {"currency": "PHP", "amount": 30000}
    assert result["config"]["ruleId"] == "R-1"

    listed = analyst_client.get(url)
    assert listed.status_code == 200
    assert listed.json()["total"] == 1
    assert listed.json()["data"][0]["backtestId"] == queued["backtestId"]
    # Integrators read instances, not backtests (rules.apps grants).
    assert integrator_client.get(f"{url}/{queued['backtestId']}").status_code == 403


def test_backtest_requests_are_validated(compliance_admin_client, existing):
    url = f"{detail(existing.pk)}/backtests"
    for data, named in (
        ({"fromTimestamp": 2000, "toTimestamp": 1000}, {"toTimestamp"}),
        ({"fromTimestamp": 0, "toTimestamp": 367 * 86_400_000}, {"toTimestamp"}),
        ({"fromTimestamp": "yesterday", "toTimestamp": 1000}, {"fromTimestamp"}),
        ({"toTimestamp": 1000}, {"fromTimestamp"}),
        ({"fromTimestamp": 0, "toTimestamp": 1000, "ruleId": "R-2"}, {"ruleId"}),
    ):
        response = compliance_admin_client.post(url, data, format="json")
        assert response.status_code == 400, data
        assert properties(response) == named, data
    missing = compliance_admin_client.post(
        f"{detail(424242)}/backtests", {"fromTimestamp": 0, "toTimestamp": 1000}, format="json"
    )
    assert missing.status_code == 404
    assert compliance_admin_client.get(f"{url}/999").status_code == 404
    assert compliance_admin_client.get(f"{url}/nope").status_code == 404
    assert not existing.backtests.exists()
