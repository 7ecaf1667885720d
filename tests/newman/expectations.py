"""What each request of seed 004's collection must answer (issue #5), and the check of newman's report."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from tests.newman.collection import request_names


@dataclass(frozen=True)
class Expect:
    """What a request must answer: a status (`2xx` or an exact code) and, for a 400, the
    properties its error body (`errors: [{property, issue}]`) must name (a property counts
    when it is the name or starts with it, e.g. `entityDetails.type`)."""

    status: str
    names: tuple[str, ...] = ()
    why: str = ""


OK_SAMPLE = Expect("2xx", why="User folder: the seed's sample body, as sent")
OK_READ = Expect("2xx", why="read of what the folder created")
OK_MANAGEMENT_READ = Expect("2xx", why="Management read: list, library rule, filters schema")
NOT_CREATED = Expect("404", why="the template could not create it")

EXPECTATIONS: dict[str, Expect] = {
    # User folder: every request 2xx.
    "Create an Individual Users": OK_SAMPLE,
    "Retrieve an Individual User": OK_READ,
    "Create an Entity User": OK_SAMPLE,
    "Retrieve an Entitiy User": OK_READ,
    "Verify a Transaction": OK_SAMPLE,
    "Retrieve a Transaction": OK_READ,
    "Create a Transaction Event": OK_SAMPLE,
    "Retrieve a Transaction Event": OK_READ,
    "Create an Individual User Event": OK_SAMPLE,
    "Retrieve an Individual User Event": OK_READ,
    "Create an Entity User Event": OK_SAMPLE,
    "Retrieve an Entity User Event": OK_READ,
    # Management: reads 2xx, blank templates 400 naming their fields, what they could not create 404.
    "Rule - List": OK_MANAGEMENT_READ,
    "Rule - Get": OK_MANAGEMENT_READ,
    "Rule Filters Schema - Get": OK_MANAGEMENT_READ,
    "Rule Instance - List": OK_MANAGEMENT_READ,
    "Rule Instance - Create": Expect(
        "400",
        names=("ruleId", "action", "status", "casePriority"),
        why='blank template: "" is no rule id and no enum value',
    ),
    "Rule Instance - Update": NOT_CREATED,
    "Rule Instance - Delete": NOT_CREATED,
    "Case - List": OK_MANAGEMENT_READ,
    "Case - Create (Need update)": Expect(
        "400", names=("createdTimestamp", "priority", "entityDetails"), why='blank template ("" required)'
    ),
    "Case - Update Status": NOT_CREATED,
    "Case - Get": NOT_CREATED,
    "Alert - Create": Expect(
        "400",
        names=("createdTimestamp", "priority", "entityDetails", "ruleDetails"),
        why='blank template ("" required)',
    ),
    "Alert - Update Status": NOT_CREATED,
    "Alert - Update": NOT_CREATED,
    "Alert - Get": NOT_CREATED,
    # Not in a folder: the readiness probe, without credentials.
    "Health Check": Expect("2xx", why="database and broker up"),
    # Ours (not the seed's): ad-hoc screening, issue 6; a fresh database has no list, so no candidate.
    "Screening - Search": Expect("2xx", why="ad-hoc screening search (issue 6)"),
}


@dataclass
class Outcome:
    name: str
    method: str
    url: str
    code: int | None
    expected: str
    problems: list[str]
    rule: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _body(response: dict) -> str:
    stream = response.get("stream") or {}
    data = stream.get("data") if isinstance(stream, dict) else None
    return bytes(data).decode("utf-8", "replace") if data else ""


def _named(errors: list, name: str) -> bool:
    return any(
        isinstance(error, dict)
        and isinstance(error.get("property"), str)
        and (error["property"] == name or error["property"].startswith((name + ".", name + "[")))
        for error in errors
    )


def check_execution(name: str, code: int | None, body: str, expect: Expect | None) -> list[str]:
    if expect is None:
        return ["no expectation for this request (add it to EXPECTATIONS)"]
    if code is None:
        return ["no answer (connection error or timeout)"]
    problems = []
    if code >= 500:
        problems.append(f"{code}: a server error")
    elif expect.status == "2xx":
        if not 200 <= code < 300:
            problems.append(f"expected 2xx, got {code}")
    elif str(code) != expect.status:
        problems.append(f"expected {expect.status}, got {code}")
    if code == 400 and expect.status == "400":
        try:
            errors = json.loads(body).get("errors")
        except (ValueError, AttributeError):
            errors = None
        if not isinstance(errors, list) or not errors:
            problems.append("the 400 body has no `errors` list of {property, issue}")
        else:
            missing = [field for field in expect.names if not _named(errors, field)]
            if missing:
                problems.append(f"the 400 does not name {', '.join(missing)}")
    if problems and body:
        problems.append("answer: " + " ".join(body.split())[:300])
    return problems


def check_report(report: dict, collection: dict) -> list[Outcome]:
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    for execution in report.get("run", {}).get("executions", []):
        name = execution.get("item", {}).get("name", "?")
        seen.add(name)
        request = execution.get("request") or {}
        url = request.get("url")
        if isinstance(url, dict):
            url = "/" + "/".join(url.get("path", []))
        response = execution.get("response") or {}
        code = response.get("code")
        expect = EXPECTATIONS.get(name)
        outcomes.append(
            Outcome(
                name=name,
                method=request.get("method", "?"),
                url=str(url or ""),
                code=code,
                expected=expect.status if expect else "?",
                problems=check_execution(name, code, _body(response), expect),
                rule=_rule(expect),
            )
        )
    for name in request_names(collection["item"]):
        if name not in seen:
            outcomes.append(Outcome(name, "?", "", None, "ran", ["newman did not run it"]))
    return outcomes


def _rule(expect: Expect | None) -> str:
    if expect is None:
        return ""
    names = f" naming {', '.join(expect.names)}" if expect.names else ""
    return f"{expect.why}{names}"


def print_table(outcomes: list[Outcome], out=sys.stdout) -> None:
    width = max(len(outcome.name) for outcome in outcomes)
    print(f"\n{'request':<{width}}  {'method':<6}  got  expected  verdict   rule", file=out)
    for outcome in outcomes:
        code = str(outcome.code) if outcome.code is not None else "-"
        verdict = "ok" if outcome.ok else "MISMATCH"
        print(
            f"{outcome.name:<{width}}  {outcome.method:<6}  {code:<3}  {outcome.expected:<8}  {verdict:<8}  "
            f"{outcome.rule}",
            file=out,
        )
        for problem in outcome.problems:
            print(f"{'':<{width}}    - {problem}", file=out)
    failed = sum(not outcome.ok for outcome in outcomes)
    print(
        f"\n{len(outcomes) - failed} of {len(outcomes)} requests as expected; {failed} mismatches.", file=out
    )
