"""The rule library: every template registers itself in REGISTRY when its module is imported."""

from rules.library.base import REGISTRY, Outcome, RuleTemplate, rule

# Template modules, imported for their registration.
from rules.library import amounts, custom, geography, lists, network, patterns, profile, velocity  # noqa: F401  isort: skip
from rules.library import screening  # noqa: F401  isort: skip

__all__ = ["REGISTRY", "Outcome", "RuleTemplate", "rule"]
