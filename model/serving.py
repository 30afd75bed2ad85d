"""Which region serves: a fact that lives in the DR region, not in a stack file.

`resilience failover` and `failback` write it (an SSM parameter, a DR-region API: a failover
never needs the failed region for it) when they start changing anything and when they end;
both stack programs read it before they register anything and refuse a deploy that would
undo the operation:

- while an operation runs, no deploy of either stack (it would fight the steps in flight);
- while the DR region serves, no deploy of the primary (it would restore the old primary's
  compute, which writes to the database that was left behind) and no deploy of the dr stack
  unless its file says `dr.mode: active` (a standby file would scale the promoted region back
  down and re-create replication onto the promoted database);
- once the primary serves again, no deploy of a dr stack file that still says `active` from
  the failover (`standby_mode` set): it would run the DR region at full capacity on a
  database that no longer replicates.

An absent parameter means no failover has ever run: the primary serves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from model.config import DrMode, Role, StackConfig

SCHEMA = "resilience-serving/1"


def parameter_path(system: str) -> str:
    """The SSM hierarchy of a system's operational facts."""
    return f"/resilience/{system}"


def parameter_name(system: str) -> str:
    """The parameter that says which region serves ("a parameter name ... can't exceed 1011
    characters"; hierarchies "can have a maximum of 15 levels", AWS Systems Manager User
    Guide, "Creating Parameter Store parameters")."""
    return f"{parameter_path(system)}/serving"


@dataclass(frozen=True)
class ServingState:
    serving: Role  # the region that takes traffic and writes
    operation: str | None = None  # failover | failback while one runs, else None
    run: str | None = None  # the operation's run id (its journal)
    at: str | None = None  # when this state was written (UTC, ISO 8601)

    def to_json(self) -> str:
        document = {"schema": SCHEMA, **asdict(self), "serving": self.serving.value}
        return json.dumps(document, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ServingState:
        try:
            document = json.loads(text)
            operation = document.get("operation")
            if operation not in (None, "failover", "failback"):
                raise ValueError(f"operation {operation!r}")
            return cls(
                serving=Role(document["serving"]),
                operation=operation,
                run=document.get("run"),
                at=document.get("at"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"unreadable serving state {text[:200]!r}: {exc}") from None


def state_from_parameters(
    system: str, names: Sequence[Any], values: Sequence[Any]
) -> ServingState | None:
    """The state among the parameters of the system's hierarchy (GetParametersByPath)."""
    for name, value in zip(names, values, strict=False):
        if name == parameter_name(system):
            return ServingState.from_json(str(value))
    return None


def _standby_file(config: StackConfig) -> bool:
    return config.dr.mode is not DrMode.ACTIVE


def _failed_over_file(config: StackConfig) -> bool:
    """A dr stack file as `resilience failover` leaves it: active, its standby mode kept."""
    return config.dr.mode is DrMode.ACTIVE and config.dr.standby_mode is not None


def conflict(config: StackConfig, state: ServingState | None) -> str | None:
    """Why deploying this stack now would undo or fight an operation (None: it would not)."""
    if state is None:
        state = ServingState(Role.PRIMARY)
    since = f" (run {state.run}, {state.at})" if state.run or state.at else ""
    parameter = parameter_name(config.name)
    if state.operation is not None:
        return (
            f"a {state.operation} is under way{since} ({parameter} in {config.dr.region}): "
            f"deploys wait until it ends; rerun `resilience {state.operation}` to finish it"
        )
    if state.serving is Role.DR:
        if config.role is Role.PRIMARY:
            return (
                f"the DR region {config.dr.region} serves since a failover{since}: deploying "
                "the primary would bring back its compute against the database left behind; "
                "fail back first (`resilience failback`)"
            )
        if _standby_file(config):
            return (
                f"the DR region {config.dr.region} serves since a failover{since}, but this "
                f"stack file says dr.mode: {config.dr.mode.value}: deploying it would scale the "
                "promoted region back to standby and replicate onto its database; set "
                "resilience:dr.mode: active (the failover's pull request) first"
            )
        return None
    if config.role is Role.DR and _failed_over_file(config):
        return (
            f"the primary region {config.primary.region} serves again{since}, but this stack "
            f"file still says dr.mode: active from the failover: restore resilience:dr.mode: "
            f"{config.dr.standby_mode} (what `resilience failback` writes) first"
        )
    return None


def implied_state(config: StackConfig) -> ServingState | None:
    """The state a stack file implies, for offline runs, which cannot read the DR region: a
    dr stack file left by a failover implies that the DR region serves."""
    if config.role is Role.DR and _failed_over_file(config):
        return ServingState(Role.DR)
    return None
