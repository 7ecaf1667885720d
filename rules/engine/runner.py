"""Evaluate the active rule instances on a transaction and decide.

Instances are compiled once per process (template looked up, per-level parameters and
actions resolved to plain dicts) and reloaded when the generation counter in the cache
changes — every instance change bumps it — or after RULES_CACHE_MAX_AGE_SECONDS.

The decision is the strongest action among the non-shadow hits (BLOCK > SUSPEND > FLAG
> ALLOW). A template that raises is recorded in `ruleErrors` and does not decide:
the transaction is judged by the rules that ran, and the error is visible in the answer,
the stored transaction and the log.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache

from rules.engine import filters as rule_filters
from rules.engine import plan
from rules.engine.context import DESTINATION, ORIGIN, EvaluationContext
from rules.library import REGISTRY, RuleTemplate
from rules.library.geography import country_risk_scores
from transactions.models import RuleAction, Transaction
from transactions.monitoring import RuleHit, UserTrigger, Verdict, annotate_hits

logger = logging.getLogger(__name__)

GENERATION_KEY = "rules:generation"


@dataclasses.dataclass(frozen=True)
class CompiledInstance:
    instance_id: str
    version_id: str
    template: RuleTemplate
    name_alias: str
    description: str
    filters: dict
    parameters: dict
    risk_level_parameters: dict
    action: str
    risk_level_actions: dict
    triggers_on_hit: dict
    risk_level_triggers_on_hit: dict
    case_priority: str
    nature: str
    labels: tuple[str, ...]
    status: str
    is_shadow: bool
    run_on_transaction_events: bool

    def parameters_for(self, level: str | None) -> dict:
        if level and level in self.risk_level_parameters:
            return self.risk_level_parameters[level]
        return self.parameters

    def action_for(self, level: str | None) -> str:
        return self.risk_level_actions.get(level, self.action) if level else self.action

    def triggers_for(self, level: str | None) -> dict:
        if level and level in self.risk_level_triggers_on_hit:
            return self.risk_level_triggers_on_hit[level]
        return self.triggers_on_hit


def compile_document(document: dict) -> CompiledInstance:
    """Compile an instance document (rules.documents.instance_document, or a version's config)."""
    template = REGISTRY[document["ruleId"]]
    return CompiledInstance(
        instance_id=str(document["id"]),
        version_id=document.get("versionId") or "",
        template=template,
        name_alias=document.get("ruleNameAlias") or template.name,
        description=document.get("ruleDescription") or template.description,
        filters=document.get("filters") or {},
        parameters=document.get("parameters") or template.default_parameters,
        risk_level_parameters=document.get("riskLevelParameters") or {},
        action=document.get("action") or RuleAction.FLAG,
        risk_level_actions=document.get("riskLevelActions") or {},
        triggers_on_hit=document.get("triggersOnHit") or {},
        risk_level_triggers_on_hit=document.get("riskLevelsTriggersOnHit") or {},
        case_priority=document.get("casePriority") or "P3",
        nature=document.get("nature") or template.nature,
        labels=tuple(document.get("labels") or template.labels),
        status=document.get("status") or "ACTIVE",
        is_shadow=bool(document.get("isShadow")),
        run_on_transaction_events=bool(document.get("runOnTransactionEvents")),
    )


# --- the per-process cache of active instances -------------------------------------------

_loaded: dict = {"generation": object(), "at": 0.0, "instances": []}


def bump_generation() -> None:
    """Tell every process to reload the active instances (called on every instance change)."""
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:  # cache down: processes reload after RULES_CACHE_MAX_AGE_SECONDS
        logger.warning("Could not announce a rule change through the cache", exc_info=True)
    _loaded["at"] = 0.0


def _generation():
    try:
        return cache.get(GENERATION_KEY)
    except Exception:
        return _loaded["generation"]


def active_instances() -> list[CompiledInstance]:
    from rules.documents import instance_document
    from rules.models import RuleInstance

    generation = _generation()
    fresh = time.monotonic() - _loaded["at"] < settings.RULES_CACHE_MAX_AGE_SECONDS
    if generation == _loaded["generation"] and fresh:
        return _loaded["instances"]
    compiled = []
    for instance in RuleInstance.objects.filter(status=RuleInstance.Status.ACTIVE).order_by("id"):
        if instance.rule_id not in REGISTRY:
            logger.error("Rule instance %s uses unknown template %s; skipped", instance.pk, instance.rule_id)
            continue
        compiled.append(compile_document(instance_document(instance)))
    _loaded.update(generation=generation, at=time.monotonic(), instances=compiled)
    return compiled


# --- evaluation ------------------------------------------------------------------------------


@dataclasses.dataclass
class Execution:
    instance: CompiledInstance
    hit: bool
    action: str
    item: dict
    hit_directions: list[str]


def execute(instance: CompiledInstance, ctx: EvaluationContext) -> Execution | None:
    """Run one instance; None when its filters leave the transaction out. Raises what the template raises."""
    if not rule_filters.matches(instance.filters, ctx):
        return None
    level = ctx.risk_level
    outcome = instance.template.evaluate(ctx, instance.parameters_for(level))
    action = instance.action_for(level)
    item = {
        "ruleInstanceId": instance.instance_id,
        "id": instance.instance_id,
        "ruleId": instance.template.id,
        "versionId": instance.version_id,
        "ruleName": instance.template.name,
        "ruleNameAlias": instance.name_alias,
        "ruleDescription": instance.description,
        "ruleAction": action,
        "action": action,
        "status": instance.status,
        "casePriority": instance.case_priority,
        "ruleHit": outcome.hit,
        "executedAt": int(time.time() * 1000),
        "executedRules": [
            {"riskLevel": level, "detail": {"riskLevel": ctx.risk_levels, "data": outcome.data}}
        ],
        "labels": list(instance.labels),
        "nature": instance.nature,
        "isShadow": instance.is_shadow,
    }
    if outcome.hit:
        meta = {"hitDirections": outcome.hit_directions}
        if outcome.sanctions_details:
            # The template cannot know which instance ran it: the engine says so in each hit's context.
            for detail in outcome.sanctions_details:
                if isinstance(detail.get("hitContext"), dict):
                    detail["hitContext"]["ruleInstanceId"] = instance.instance_id
            meta["sanctionsDetails"] = outcome.sanctions_details
        item["ruleHitMeta"] = meta
        item["vars"] = outcome.vars
    return Execution(instance, outcome.hit, action, item, outcome.hit_directions)


def _triggers(execution: Execution, ctx: EvaluationContext) -> list[UserTrigger]:
    spec = execution.instance.triggers_for(ctx.risk_level)
    if not spec:
        return []
    directions = {"ALL": (ORIGIN, DESTINATION), "ORIGIN": (ORIGIN,), "DESTINATION": (DESTINATION,)}[
        spec.get("usersToCheck", "ALL")
    ]
    state = spec.get("userStateDetails") or {}
    kyc = spec.get("kycStatusDetails") or {}
    triggers = []
    for direction in directions:
        user = ctx.user(direction)
        if user is None:
            continue
        triggers.append(
            UserTrigger(
                customer_id=user.pk,
                rule_instance_id=execution.instance.instance_id,
                # Seed 004 spells it SUSPENDED in rule instances, SUSPEND on users.
                user_state={"SUSPENDED": "SUSPEND"}.get(state.get("state", ""), state.get("state", "")),
                user_state_reason=state.get("reason", ""),
                kyc_status=kyc.get("status", ""),
                kyc_status_reason=kyc.get("reason", ""),
            )
        )
    return triggers


def _prefetch(instances: list[CompiledInstance], ctx: EvaluationContext) -> None:
    """Read the history aggregates the instances the transaction passes the filters of are about to
    ask for, in one statement (rules.engine.plan). Only a hint: an instance the plan cannot read
    for is left to itself, and reads and reports what it asks for when it runs."""
    wanted = []
    for instance in instances:
        try:
            if rule_filters.matches(instance.filters, ctx):
                wanted += plan.aggregates(instance, ctx)
        except Exception:  # noqa: S112 (the instance reports its own error when it runs)
            continue
    if not wanted:
        return
    try:
        ctx.prefetch(wanted)
    except Exception:
        logger.exception("Reading the rules' aggregates together failed; each rule reads its own")


def run(instances: list[CompiledInstance], ctx: EvaluationContext) -> tuple[list[Execution], list[dict]]:
    _prefetch(instances, ctx)
    executions, errors = [], []
    for instance in instances:
        try:
            execution = execute(instance, ctx)
        except Exception as exc:
            logger.exception("Rule instance %s (%s) failed", instance.instance_id, instance.template.id)
            errors.append(
                {
                    "ruleInstanceId": instance.instance_id,
                    "ruleId": instance.template.id,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )
            continue
        if execution is not None:
            executions.append(execution)
    return executions, errors


def evaluate_transaction(transaction: Transaction, *, event=None) -> Verdict:
    """The engine registered with transactions.monitoring."""
    instances = active_instances()
    if event is not None:
        instances = [instance for instance in instances if instance.run_on_transaction_events]
    ctx = EvaluationContext(transaction)
    executions, errors = run(instances, ctx)
    if event is not None:
        executions_items = _merge(transaction.executed_rules, executions)
    else:
        executions_items = [execution.item for execution in executions]
    annotate_hits(transaction, [execution.item for execution in executions if execution.hit])
    hits = [item for item in executions_items if item.get("ruleHit") and not item.get("isShadow")]
    verdict = Verdict(
        status=RuleAction.strongest([item["ruleAction"] for item in hits]),
        executed_rules=executions_items,
        hit_rules=hits,
        rule_errors=errors,
        hits=[
            RuleHit(
                rule_instance_id=e.instance.instance_id,
                rule_id=e.instance.template.id,
                version_id=e.instance.version_id,
                action=e.action,
                is_shadow=e.instance.is_shadow,
                hit_directions=e.hit_directions,
            )
            for e in executions
            if e.hit
        ],
        triggers=[
            trigger
            for execution in executions
            if execution.hit and not execution.instance.is_shadow
            for trigger in _triggers(execution, ctx)
        ],
    )
    verdict.risk_score_details = risk_score_details(ctx, verdict)
    return verdict


def _merge(previous: list[dict], executions: list[Execution]) -> list[dict]:
    """The transaction's executed rules with the re-run instances' results in place of their old ones."""
    rerun = {execution.instance.instance_id: execution.item for execution in executions}
    merged = [rerun.pop(item.get("ruleInstanceId"), item) for item in previous]
    return merged + list(rerun.values())


# --- transaction risk score (TRS) -------------------------------------------------------------

ACTION_POINTS = {RuleAction.ALLOW: 0, RuleAction.FLAG: 50, RuleAction.SUSPEND: 70, RuleAction.BLOCK: 90}
TRS_LEVELS = ((80, "VERY_HIGH"), (60, "HIGH"), (40, "MEDIUM"), (20, "LOW"), (0, "VERY_LOW"))


def trs_level(score: int) -> str:
    return next(level for floor, level in TRS_LEVELS if score >= floor)


def risk_score_details(ctx: EvaluationContext, verdict: Verdict) -> dict:
    """Seed 004 `riskScoreDetails`: the transaction's own risk (TRS: the strongest of its
    non-shadow hit actions and its countries' risk scores, 0-100) and each user's ongoing
    risk (ORS: the customer's effective score and level, see users.risk)."""
    scores = country_risk_scores()
    tx = ctx.transaction
    country_points = [
        min(scores.get(code, 0), 100) for code in (tx.origin_country, tx.destination_country) if code
    ]
    trs = max(
        [ACTION_POINTS[RuleAction(item["ruleAction"])] for item in verdict.hit_rules] + country_points + [0]
    )
    details = {"trsScore": str(trs), "trsRiskLevel": trs_level(trs)}
    for prefix, direction in (("originUser", ORIGIN), ("destinationUser", DESTINATION)):
        user = ctx.user(direction)
        if user is not None:
            details[f"{prefix}OrsRiskScore"] = str(user.risk_effective_score)
            details[f"{prefix}OrsRiskLevel"] = user.risk_level
    return details
