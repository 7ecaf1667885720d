"""The seam between storing a transaction and judging it.

`transactions` sits below `rules` (ARCHITECTURE.md): it may not import the engine. The
rules app registers its engine here when it is ready; the transaction services call
`evaluate()` inside their database transaction and store the verdict with the
transaction. Without an engine registered (the rules app not installed) every
transaction is allowed with no executed rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transactions.models import Transaction, TransactionEvent


@dataclasses.dataclass
class RuleHit:
    """A hit, in the columns of `TransactionRuleHit`."""

    rule_instance_id: str
    rule_id: str
    version_id: str
    action: str
    is_shadow: bool
    hit_directions: list[str]


@dataclasses.dataclass
class UserTrigger:
    """A change a hit asks for on a user (`triggersOnHit`): applied in the same transaction."""

    customer_id: int
    rule_instance_id: str
    user_state: str = ""
    user_state_reason: str = ""
    kyc_status: str = ""
    kyc_status_reason: str = ""


@dataclasses.dataclass
class Verdict:
    status: str = "ALLOW"
    executed_rules: list[dict] = dataclasses.field(default_factory=list)
    hit_rules: list[dict] = dataclasses.field(default_factory=list)
    rule_errors: list[dict] = dataclasses.field(default_factory=list)
    hits: list[RuleHit] = dataclasses.field(default_factory=list)
    triggers: list[UserTrigger] = dataclasses.field(default_factory=list)
    risk_score_details: dict = dataclasses.field(default_factory=dict)


Evaluator = Callable[..., Verdict]
_evaluator: Evaluator | None = None

# A hit annotator adds what a higher app knows about a hit to its `ruleHitMeta` (the cases
# app: `falsePositiveDetails` from how analysts closed this rule's earlier alerts). It gets
# the transaction and the executed-rule items that hit, and changes the items in place.
HitAnnotator = Callable[["Transaction", list[dict]], None]
_hit_annotators: dict[str, HitAnnotator] = {}


def register_hit_annotator(name: str, annotator: HitAnnotator) -> None:
    _hit_annotators[name] = annotator


def annotate_hits(transaction: Transaction, hit_items: list[dict]) -> None:
    """Run the registered annotators on the items that hit (the engine calls it before it
    answers, so the answer and the stored executed rules carry the annotations)."""
    if not hit_items:
        return
    for annotator in _hit_annotators.values():
        annotator(transaction, hit_items)


def register_evaluator(evaluator: Evaluator) -> None:
    global _evaluator
    _evaluator = evaluator


def evaluate(transaction: Transaction, *, event: TransactionEvent | None = None) -> Verdict:
    """Run the active rules on a stored transaction (`event`: re-run after a transaction event,
    only the rules that ask for it)."""
    if _evaluator is None:
        return Verdict()
    return _evaluator(transaction, event=event)
