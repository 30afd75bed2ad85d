"""Policy rules: plain functions over one resource, with their metadata.

The CrossGuard pack (`policies/__main__.py`) and the offline runner (`resilience check`) call
the same functions; a rule is never written twice. Import `ALL_RULES` for the full set.
"""

from policies.rules.core import Enforcement, Finding, Framework, ResourceView, Rule, Severity
from policies.rules.data import RULES as DATA_RULES
from policies.rules.foundation import RULES as FOUNDATION_RULES
from policies.rules.hardening import RULES as HARDENING_RULES
from policies.rules.monitoring import RULES as MONITORING_RULES
from policies.rules.traffic import RULES as TRAFFIC_RULES

ALL_RULES: tuple[Rule, ...] = (
    *FOUNDATION_RULES,
    *DATA_RULES,
    *HARDENING_RULES,
    *MONITORING_RULES,
    *TRAFFIC_RULES,
)

__all__ = [
    "ALL_RULES",
    "Enforcement",
    "Finding",
    "Framework",
    "ResourceView",
    "Rule",
    "Severity",
]
