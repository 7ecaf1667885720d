"""Writes of the rules app: rule instances (with versions), backtests, blocked values.

The API, the admin and the demo loader call these; each validates the whole instance
(parameters against its template's JSON Schema, filters against the filters schema, one
set of parameters and an action per risk level when given per level), writes a new
version, audits, and tells every process to reload the active instances.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator

from compliance.audit import Actor, audit_log
from compliance.errors import ApplicationError, NotFoundError
from compliance.ids import parse_id
from compliance.models import AuditTrail
from rules.documents import instance_document
from rules.engine.filters import FILTERS_SCHEMA
from rules.engine.runner import bump_generation
from rules.library import REGISTRY
from rules.models import RISK_LEVELS, CasePriority, RuleInstance, RuleInstanceVersion, RuleNature
from transactions.models import RuleAction
from users.models import KycStatus, UserState

# API property -> model field, for the properties an instance document may write.
FIELDS = {
    "ruleId": "rule_id",
    "ruleNameAlias": "rule_name_alias",
    "ruleDescription": "description",
    "filters": "filters",
    "parameters": "parameters",
    "riskLevelParameters": "risk_level_parameters",
    "action": "action",
    "riskLevelActions": "risk_level_actions",
    "triggersOnHit": "triggers_on_hit",
    "riskLevelsTriggersOnHit": "risk_level_triggers_on_hit",
    "casePriority": "case_priority",
    "nature": "nature",
    "labels": "labels",
    "status": "status",
    "isShadow": "is_shadow",
    "runOnTransactionEvents": "run_on_transaction_events",
}

_DETAILS = {
    "type": "object",
    "properties": {
        "reason": {"type": "string", "maxLength": 500},
        "userId": {"type": "string"},
        "description": {"type": "string", "maxLength": 2000},
    },
    "additionalProperties": False,
}
TRIGGERS_SCHEMA = {
    "type": "object",
    "properties": {
        "usersToCheck": {"enum": ["ALL", "ORIGIN", "DESTINATION"]},
        "userStateDetails": {
            **_DETAILS,
            # Seed 004's rule instances spell the state SUSPENDED where its users say SUSPEND.
            "properties": {**_DETAILS["properties"], "state": {"enum": [*UserState.values, "SUSPENDED"]}},
            "required": ["reason", "state"],
        },
        "kycStatusDetails": {
            **_DETAILS,
            "properties": {**_DETAILS["properties"], "status": {"enum": list(KycStatus.values)}},
            "required": ["reason", "status"],
        },
    },
    "required": ["usersToCheck"],
    "additionalProperties": False,
}
_FILTERS_VALIDATOR = Draft202012Validator(FILTERS_SCHEMA)
_TRIGGERS_VALIDATOR = Draft202012Validator(TRIGGERS_SCHEMA)


def schema_errors(validator: Draft202012Validator, value, prefix: str) -> dict[str, list[str]]:
    """jsonschema errors keyed by the dotted path of the property at fault."""
    errors: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(part) for part in error.absolute_path)
        key = f"{prefix}.{path}" if path else prefix
        errors.setdefault(key, []).append(error.message[:500])
    return errors


def _validator(rule_id: str) -> Draft202012Validator:
    return Draft202012Validator(REGISTRY[rule_id].parameters_schema)


def validate_document(document: dict) -> dict:
    """The instance document with defaults filled in; ApplicationError naming every bad property."""
    errors: dict[str, list[str]] = {}
    rule_id = document.get("ruleId")
    if rule_id not in REGISTRY:
        raise ApplicationError(errors={"ruleId": [f"Unknown rule {rule_id!r}; see /api/management/rules."]})
    template = REGISTRY[rule_id]
    document = {**document}
    per_level = document.get("riskLevelParameters") or {}
    if not document.get("parameters"):
        # Without plain parameters, a transaction without known users runs the MEDIUM set.
        document["parameters"] = per_level.get("MEDIUM") or template.default_parameters
    validator = _validator(rule_id)
    errors |= schema_errors(validator, document["parameters"], "parameters")
    if per_level:
        if not isinstance(per_level, dict) or set(per_level) != set(RISK_LEVELS):
            errors["riskLevelParameters"] = [
                f"Give one set of parameters for each of {', '.join(RISK_LEVELS)}."
            ]
        else:
            for level in RISK_LEVELS:
                errors |= schema_errors(validator, per_level[level], f"riskLevelParameters.{level}")
    level_actions = document.get("riskLevelActions") or {}
    if level_actions:
        if not isinstance(level_actions, dict) or set(level_actions) != set(RISK_LEVELS):
            errors["riskLevelActions"] = [f"Give one action for each of {', '.join(RISK_LEVELS)}."]
        else:
            for level in RISK_LEVELS:
                if level_actions[level] not in RuleAction.values:
                    errors[f"riskLevelActions.{level}"] = [f"Expected one of {', '.join(RuleAction.values)}."]
    if not document.get("action"):
        document["action"] = level_actions.get("MEDIUM") if isinstance(level_actions, dict) else None
        document["action"] = document["action"] or RuleAction.FLAG
    if document["action"] not in RuleAction.values:
        errors["action"] = [f"Expected one of {', '.join(RuleAction.values)}."]
    errors |= schema_errors(_FILTERS_VALIDATOR, document.get("filters") or {}, "filters")
    if document.get("triggersOnHit"):
        errors |= schema_errors(_TRIGGERS_VALIDATOR, document["triggersOnHit"], "triggersOnHit")
    level_triggers = document.get("riskLevelsTriggersOnHit") or {}
    if level_triggers:
        if not isinstance(level_triggers, dict) or not set(level_triggers) <= set(RISK_LEVELS):
            errors["riskLevelsTriggersOnHit"] = [f"Keys must be among {', '.join(RISK_LEVELS)}."]
        else:
            for level, spec in level_triggers.items():
                errors |= schema_errors(_TRIGGERS_VALIDATOR, spec, f"riskLevelsTriggersOnHit.{level}")
    document.setdefault("nature", template.nature)
    document["nature"] = document["nature"] or template.nature
    if document["nature"] not in RuleNature.values:
        errors["nature"] = [f"Expected one of {', '.join(RuleNature.values)}."]
    document["casePriority"] = document.get("casePriority") or CasePriority.P3
    if document["casePriority"] not in CasePriority.values:
        errors["casePriority"] = [f"Expected one of {', '.join(CasePriority.values)}."]
    document["status"] = document.get("status") or RuleInstance.Status.ACTIVE
    if document["status"] not in RuleInstance.Status.values:
        errors["status"] = ["Expected ACTIVE or INACTIVE."]
    if document.get("labels") is None:
        document["labels"] = list(template.labels)
    if document.get("runOnTransactionEvents") is None:
        document["runOnTransactionEvents"] = template.run_on_transaction_events
    if errors:
        raise ApplicationError("The rule instance is not valid.", errors=errors)
    return document


def _write(instance: RuleInstance, document: dict) -> None:
    for key, field in FIELDS.items():
        if key in document:
            value = document[key]
            if value is None and field in ("rule_name_alias", "description"):
                value = ""
            setattr(instance, field, value if value is not None else getattr(instance, field))


def _version(instance: RuleInstance, actor: Actor) -> RuleInstanceVersion:
    version = RuleInstanceVersion.objects.create(
        rule_instance=instance,
        version=instance.version,
        config=instance_document(instance),
        created_by=actor.label[:200],
        created_at=instance.updated_at,
    )
    bump_generation()
    transaction.on_commit(bump_generation)
    return version


@transaction.atomic
def rule_instance_create(*, actor: Actor, document: dict) -> RuleInstance:
    document = validate_document(document)
    now = timezone.now()
    instance = RuleInstance(created_by=actor.label[:200], created_at=now, updated_at=now)
    _write(instance, document)
    instance.save()
    _version(instance, actor)
    audit_log(
        actor=actor, action=AuditTrail.Action.CREATE, instance=instance, after=instance_document(instance)
    )
    return instance


def _locked(instance_id) -> RuleInstance:
    pk = parse_id(instance_id)
    instance = RuleInstance.objects.select_for_update().filter(pk=pk).first() if pk is not None else None
    if instance is None:
        raise NotFoundError(f"There is no rule instance {instance_id}.")
    return instance


@transaction.atomic
def rule_instance_update(*, actor: Actor, instance_id, document: dict) -> RuleInstance:
    """Change an instance: the properties sent replace the stored ones, the others stay.
    Every change makes a new version (an update that changes nothing makes none)."""
    instance = _locked(instance_id)
    before = instance_document(instance)
    current = {key: before[key] for key in FIELDS}
    merged = validate_document({**current, **document})
    _write(instance, merged)
    after = instance_document(instance)
    if {key: after[key] for key in FIELDS} == current:
        return instance
    instance.version += 1
    instance.updated_at = timezone.now()
    instance.save()
    _version(instance, actor)
    audit_log(
        actor=actor,
        action=AuditTrail.Action.UPDATE,
        instance=instance,
        before=before,
        after=instance_document(instance),
    )
    return instance


@transaction.atomic
def rule_instance_delete(*, actor: Actor, instance_id) -> None:
    """Retire an instance. It is kept (deleted_at) with its versions: stored executed rules
    and hits keep pointing at what ran."""
    instance = _locked(instance_id)
    before = instance_document(instance)
    instance.deleted_at = timezone.now()
    instance.status = RuleInstance.Status.INACTIVE
    instance.save(update_fields=["deleted_at", "status"])
    bump_generation()
    transaction.on_commit(bump_generation)
    audit_log(actor=actor, action=AuditTrail.Action.DELETE, instance=instance, before=before)


# --- backtests -------------------------------------------------------------------------------


def _backtest_config(instance: RuleInstance, config: dict | None) -> dict:
    """What a backtest runs: the instance as it is, or a draft of changes to it (validated as a
    PUT would validate them, stored nowhere but in the run)."""
    document = instance_document(instance)
    if not config:
        return document
    unknown = sorted(set(config) - set(FIELDS))
    if unknown:
        raise ApplicationError(errors={f"config.{key}": ["Unknown property."] for key in unknown})
    merged = validate_document({**{key: document[key] for key in FIELDS}, **config})
    draft = {**document, **{key: merged[key] for key in FIELDS}}
    if draft != document:
        draft["versionId"] = f"{instance.version_id}+draft"
    return draft


@transaction.atomic
def backtest_request(*, actor: Actor, instance_id, period_start, period_end, config=None):
    """Ask for a backtest of a live rule instance over [period_start, period_end): a QUEUED
    `BacktestRun` with the configuration to test, executed by a worker after commit
    (`rules.backtest_run`; at once in-process on the embedded default). Changes nothing else."""
    from rules import backtest
    from rules.models import BacktestRun

    instance = _locked(instance_id)
    errors: dict[str, list[str]] = {}
    if period_end <= period_start:
        errors["toTimestamp"] = ["Must be after fromTimestamp."]
    elif period_end - period_start > backtest.MAX_PERIOD:
        errors["toTimestamp"] = [f"The period may span at most {backtest.MAX_PERIOD.days} days."]
    if errors:
        raise ApplicationError("The backtest period is not valid.", errors=errors)
    run = BacktestRun(
        rule_instance=instance,
        config=_backtest_config(instance, config),
        period_start=period_start,
        period_end=period_end,
        requested_by=actor.label[:200],
    )
    run.full_clean()
    run.save()
    audit_log(
        actor=actor,
        action=AuditTrail.Action.CREATE,
        instance=run,
        after={
            "ruleInstanceId": str(instance.pk),
            "versionId": run.config.get("versionId"),
            "periodStart": period_start.isoformat(),
            "periodEnd": period_end.isoformat(),
        },
    )
    run_id = run.pk
    transaction.on_commit(lambda: backtest.enqueue(run_id))
    return run
