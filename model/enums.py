"""Enumerations shared by the config model and the alarm catalog."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PRIMARY = "primary"
    DR = "dr"


class Severity(StrEnum):
    """Escalation severities, lowest first. Topic and alarm routing key on these."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class DrMode(StrEnum):
    """How much of the workload runs in the DR region before a failover."""

    PILOT_LIGHT = "pilot-light"  # data replicas only, compute at zero
    WARM_STANDBY = "warm-standby"  # compute at a fraction of primary capacity
    ACTIVE = "active"  # full capacity
