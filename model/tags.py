"""Tag keys the bundle writes and its policies read.

The stacks' provider default tags carry the system's recovery objectives and regions, so that
every resource states them (AWS Config, Resource Groups and the policy pack all read the
same source); a data store carries the RPO of its own data class, which may differ.
"""

ROLE = "resilience-role"
STACK = "resilience-stack"
RTO_MINUTES = "resilience-rto-minutes"
RPO_MINUTES = "resilience-rpo-minutes"
PRIMARY_REGION = "resilience-primary-region"
DR_REGION = "resilience-dr-region"
# pilot-light | warm-standby | active: what the DR region runs. `resilience failover` writes
# `dr.mode: active`; the next `pulumi up` of the dr stack retags its resources.
DR_MODE = "resilience-dr-mode"
# The on-call's response time to a critical page, when the config states it.
RESPONSE_MINUTES = "resilience-response-minutes"
# On alarms: the service they watch and the alarm's catalog id (or slo-<objective>-<tier>).
SERVICE = "service"
ALARM = "resilience-alarm"
# The data class of a data store; AWS Backup selections pick resources by it.
BACKUP_CLASS = "backup-policy"
# On the provider default tags when the stack's region records AWS Config outside the stack.
CONFIG_RECORDER = "resilience-config-recorder"
EXTERNAL = "external"
