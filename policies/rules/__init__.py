"""Policy rules: plain functions over one resource, with their metadata.

The CrossGuard pack (`policies/__main__.py`) and the offline runner (`resilience check`) call
the same functions; a rule is never written twice. Import `ALL_RULES` (one resource at a
time) and `STACK_RULES` (a whole stack).
"""

from policies.rules.api_models import RULES as API_MODEL_RULES
from policies.rules.constraints import RULES as CONSTRAINT_RULES
from policies.rules.constraints import STACK_RULES as CONSTRAINT_STACK_RULES
from policies.rules.core import Enforcement, Finding, Framework, ResourceView, Rule, Severity
from policies.rules.coverage import RULES as COVERAGE_RULES
from policies.rules.data import RULES as DATA_RULES
from policies.rules.data import STACK_RULES as DATA_STACK_RULES
from policies.rules.failover import RULES as FAILOVER_RULES
from policies.rules.failover import STACK_RULES as FAILOVER_STACK_RULES
from policies.rules.foundation import RULES as FOUNDATION_RULES
from policies.rules.gcp import RULES as GCP_RULES
from policies.rules.hardening import RULES as HARDENING_RULES
from policies.rules.kubernetes import RULES as KUBERNETES_RULES
from policies.rules.kubernetes import STACK_RULES as KUBERNETES_STACK_RULES
from policies.rules.monitoring import RULES as MONITORING_RULES
from policies.rules.recovery import RULES as RECOVERY_RULES
from policies.rules.security import RULES as SECURITY_RULES
from policies.rules.security import STACK_RULES as SECURITY_STACK_RULES
from policies.rules.stack import StackRule, StackView
from policies.rules.traffic import RULES as TRAFFIC_RULES

ALL_RULES: tuple[Rule, ...] = (
    *FOUNDATION_RULES,
    *DATA_RULES,
    *HARDENING_RULES,
    *MONITORING_RULES,
    *TRAFFIC_RULES,
    *FAILOVER_RULES,
    *SECURITY_RULES,
    *GCP_RULES,
    *KUBERNETES_RULES,
    *API_MODEL_RULES,
    *CONSTRAINT_RULES,
)
# Rules over a whole stack (CrossGuard stack validation).
STACK_RULES: tuple[StackRule, ...] = (
    *RECOVERY_RULES,
    *COVERAGE_RULES,
    *FAILOVER_STACK_RULES,
    *DATA_STACK_RULES,
    *SECURITY_STACK_RULES,
    *KUBERNETES_STACK_RULES,
    *CONSTRAINT_STACK_RULES,
)

__all__ = [
    "ALL_RULES",
    "STACK_RULES",
    "Enforcement",
    "Finding",
    "Framework",
    "ResourceView",
    "Rule",
    "Severity",
    "StackRule",
    "StackView",
]
