"""The seed 004 collection made runnable, and the check of newman's report (issue #5).

The live run is `make newman` (CI); these tests pin what the runner sends and how it judges the
answers, without a server.
"""

import json
import re

import pytest

from tests.newman import collection as c
from tests.newman.expectations import EXPECTATIONS, Expect, check_execution, check_report
from tests.newman.run import SEED


@pytest.fixture(scope="module")
def seed():
    return json.loads(SEED.read_text())


@pytest.fixture(scope="module")
def built(seed):
    return c.build_collection(seed, "run1")


def requests_of(items, path=""):
    for item in items:
        if "item" in item:
            yield from requests_of(item["item"], f"{path}/{item['name']}")
        else:
            yield f"{path}/{item['name']}", item


def by_name(collection):
    return {item["name"]: item for _, item in requests_of(collection["item"])}


def body(item):
    return json.loads(item["request"]["body"]["raw"])


def test_strip_comments_keeps_strings():
    text = '{"url": "https://x.test/a//b", "q": "say \\"//\\" here", // gone\n "n": 1 /* gone */}'
    assert json.loads(c.strip_comments(text)) == {
        "url": "https://x.test/a//b",
        "q": 'say "//" here',
        "n": 1,
    }


def test_the_seed_file_is_the_unmodified_seed(seed):
    # The runner changes nothing on disk: the comments are still in the committed copy.
    raws = [item["request"].get("body", {}).get("raw", "") for _, item in requests_of(seed["item"])]
    assert any("// Required" in raw for raw in raws)


def test_every_body_is_json_without_comments(built):
    for where, item in requests_of(built["item"]):
        raw = item["request"].get("body", {}).get("raw")
        if raw:
            json.loads(raw)  # strict JSON: no comment is left
            headers = {h["key"].lower(): h["value"] for h in item["request"]["header"]}
            assert headers.get("content-type") == "application/json", where


def test_webhook_and_empty_folders_are_left_out(built):
    paths = [where for where, _ in requests_of(built["item"])]
    assert not any(where.startswith("/Webhook") for where in paths)
    assert not any("Comment (Need update)" in where for where in paths)
    assert len(paths) == 29  # the seed's 28 and our Screening - Search


def test_every_request_has_an_expectation_and_every_expectation_a_request(built):
    assert set(c.request_names(built["item"])) == set(EXPECTATIONS)


def test_paths_are_filled_with_the_ids_the_creates_used(built):
    requests = by_name(built)
    for where, item in requests_of(built["item"]):
        assert not re.search(r"/:[A-Za-z]", item["request"]["url"]), where
        assert item["request"]["url"].startswith("{{baseUrl}}/"), where
    individual = body(requests["Create an Individual Users"])["userId"]
    entity = body(requests["Create an Entity User"])["userId"]
    transaction = body(requests["Verify a Transaction"])
    event = body(requests["Create a Transaction Event"])
    url = {name: item["request"]["url"] for name, item in requests.items()}
    assert url["Retrieve an Individual User"].endswith(f"/individual/users/{individual}")
    assert url["Retrieve an Entitiy User"].endswith(f"/entity/users/{entity}")
    assert url["Retrieve a Transaction"].endswith(f"/{transaction['transactionId']}")
    assert url["Retrieve a Transaction Event"].endswith(f"/{event['eventId']}")
    assert url["Rule - Get"].endswith("/management/rules/R-1")
    assert url["Rule Instance - Update"].endswith("/{{ruleInstanceId}}")
    assert built["variable"] == [{"key": "ruleInstanceId", "value": "2147483647", "type": "string"}]
    assert "ruleInstanceId" in "".join(requests["Rule Instance - Create"]["event"][0]["script"]["exec"])
    case_id = body(requests["Case - Create (Need update)"])["caseId"]
    alert_id = body(requests["Alert - Create"])["alertId"]
    assert case_id == "C-newman-run1"
    assert alert_id == "A-newman-run1"
    assert body(requests["Alert - Create"])["caseId"] == case_id
    assert url["Case - Get"].endswith(f"/management/cases/{case_id}")
    assert url["Alert - Update Status"].endswith(f"/alerts/{alert_id}/statuses")


def test_ids_are_unique_per_run_and_consistent_within_one(seed, built):
    requests = by_name(built)
    transaction = body(requests["Verify a Transaction"])
    assert transaction["originUserId"] == body(requests["Create an Individual Users"])["userId"]
    assert body(requests["Create a Transaction Event"])["transactionId"] == transaction["transactionId"]
    assert (
        body(requests["Create an Entity User Event"])["userId"]
        == body(requests["Create an Entity User"])["userId"]
    )
    seed_transaction = json.loads(
        c.strip_comments(by_name(seed)["Verify a Transaction"]["request"]["body"]["raw"])
    )
    assert transaction["transactionId"] != seed_transaction["transactionId"]
    assert len(transaction["transactionId"]) == len(seed_transaction["transactionId"])  # same shape
    other = by_name(c.build_collection(seed, "run2"))
    assert body(other["Verify a Transaction"])["transactionId"] != transaction["transactionId"]
    # Blank template fields other than ids stay blank: the 400 must name them.
    assert body(requests["Case - Create (Need update)"])["priority"] == ""


def test_creates_run_before_reads(built):
    names = c.request_names(built["item"])
    assert names.index("Create an Individual Users") < names.index("Verify a Transaction")
    assert names.index("Create an Entity User") < names.index("Verify a Transaction")
    assert names.index("Verify a Transaction") < names.index("Create a Transaction Event")
    assert names.index("Case - Create (Need update)") < names.index("Case - List")
    assert names.index("Rule Instance - Create") < names.index("Rule Instance - List")


def test_auth_and_headers(built):
    for where, item in requests_of(built["item"]):
        auth = item["request"]["auth"]
        headers = {h["key"].lower() for h in item["request"]["header"]}
        assert "host" not in headers, where
        if where == "/Health Check":
            assert auth == {"type": "noauth"}
        else:
            assert auth["bearer"] == [{"key": "token", "value": "{{authToken}}", "type": "string"}], where


def _error(status, *properties):
    errors = [{"property": p, "issue": "bad"} for p in properties]
    return json.dumps({"status": status, "errors": errors})


NAMES = ("priority", "entityDetails")


@pytest.mark.parametrize(
    ("code", "answer", "expect", "problems"),
    [
        (201, "{}", Expect("2xx"), 0),
        (404, "{}", Expect("2xx"), 2),
        (
            400,
            _error(400, "priority", "entityDetails.type"),
            Expect("400", names=("priority", "entityDetails")),
            0,
        ),
        (400, _error(400, "priority"), Expect("400", names=("priority", "entityDetails")), 2),
        (400, "not json", Expect("400", names=("x",)), 2),
        (500, "{}", Expect("404"), 2),
        (None, "", Expect("2xx"), 1),
        (200, "{}", None, 1),
    ],
)
def test_check_execution(code, answer, expect, problems):
    assert len(check_execution("r", code, answer, expect)) == problems


def test_check_report_reads_newmans_json_and_flags_requests_not_run(built):
    report = {
        "run": {
            "executions": [
                {
                    "item": {"name": "Case - Get"},
                    "request": {"method": "GET", "url": {"path": ["api", "management", "cases", "C-1"]}},
                    "response": {"code": 404, "stream": {"type": "Buffer", "data": list(b'{"errors": []}')}},
                }
            ]
        }
    }
    outcomes = check_report(report, built)
    assert outcomes[0].ok
    assert outcomes[0].url == "/api/management/cases/C-1"
    assert len(outcomes) == 29
    assert all(o.problems == ["newman did not run it"] for o in outcomes[1:])
