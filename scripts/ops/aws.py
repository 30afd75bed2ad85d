"""boto3 clients for operations: standard retry mode, timeouts, and errors that name the
step, the resource and the AWS error code.

Endpoints follow boto3's own configuration (`AWS_ENDPOINT_URL`, profiles), which is how the
tests point every client at a moto server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from scripts.ops.runner import REAL_CLOCK, Clock, StepError

# Standard mode retries throttling and 5xx with exponential backoff and jitter.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 6},
    connect_timeout=5,
    read_timeout=30,
)
UNREACHABLE = "Unreachable"
# One attempt, short timeouts: for best-effort calls to a region that may be down.
BEST_EFFORT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 1}, connect_timeout=3, read_timeout=5
)


@dataclass
class Clients:
    """One client per (service, region), made from one session (tests hook its events)."""

    session: boto3.Session = field(default_factory=boto3.Session)
    config: Config = RETRY_CONFIG
    _cache: dict[tuple[str, str, str | None], Any] = field(default_factory=dict)

    def __call__(
        self,
        service: str,
        region: str,
        endpoint_url: str | None = None,
        *,
        best_effort: bool = False,
    ) -> Any:
        key = (service, region, endpoint_url if not best_effort else f"best-effort:{endpoint_url}")
        if key not in self._cache:
            make: Any = self.session.client
            config = self.config.merge(BEST_EFFORT_CONFIG) if best_effort else self.config
            self._cache[key] = make(
                service, region_name=region, config=config, endpoint_url=endpoint_url
            )
        return self._cache[key]


def call(step: str, resource: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """`fn(**kwargs)`, with AWS errors as StepError (code from the service, or Unreachable
    when the region does not answer)."""
    try:
        return fn(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise StepError(
            step, resource, str(error.get("Code", "ClientError")), str(error.get("Message", exc))
        ) from None
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        raise StepError(step, resource, UNREACHABLE, str(exc)) from None
    except BotoCoreError as exc:
        raise StepError(step, resource, type(exc).__name__, str(exc)) from None


def error_code(exc: StepError) -> str:
    return exc.code


@dataclass
class Waiter:
    """Polls until a condition holds or a timeout passes (tests shrink both)."""

    timeout_s: float = 1800.0
    interval_s: float = 15.0
    clock: Clock = REAL_CLOCK

    def until(
        self, step: str, resource: str, what: str, check: Callable[[], tuple[bool, str]]
    ) -> str:
        deadline = self.clock.monotonic() + self.timeout_s
        while True:
            done, state = check()
            if done:
                return state
            if self.clock.monotonic() >= deadline:
                raise StepError(
                    step,
                    resource,
                    "Timeout",
                    f"{what} not reached after {self.timeout_s:g} s (last state: {state}); "
                    "nothing after this step was done: rerun to resume",
                )
            self.clock.sleep(self.interval_s)
