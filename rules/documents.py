"""A rule instance as the API shows it; the same document is a version's snapshot and what
the engine compiles, so what an admin reads is exactly what runs."""

from __future__ import annotations

from rules.models import RuleInstance


def ms(value) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def instance_document(instance: RuleInstance) -> dict:
    return {
        "id": str(instance.pk),
        "ruleInstanceId": str(instance.pk),
        "ruleId": instance.rule_id,
        "ruleNameAlias": instance.rule_name_alias,
        "ruleDescription": instance.description,
        "filters": instance.filters,
        "parameters": instance.parameters,
        "riskLevelParameters": instance.risk_level_parameters,
        "action": instance.action,
        "riskLevelActions": instance.risk_level_actions,
        "triggersOnHit": instance.triggers_on_hit,
        "riskLevelsTriggersOnHit": instance.risk_level_triggers_on_hit,
        "casePriority": instance.case_priority,
        "nature": instance.nature,
        "labels": instance.labels,
        "status": instance.status,
        "isShadow": instance.is_shadow,
        "runOnTransactionEvents": instance.run_on_transaction_events,
        "version": instance.version,
        "versionId": instance.version_id,
        "createdBy": instance.created_by,
        "createdAt": ms(instance.created_at),
        "updatedAt": ms(instance.updated_at),
    }
