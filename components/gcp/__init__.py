"""Google Cloud components: the same service description as the AWS components, compiled
into Cloud KMS, Cloud Monitoring, Firestore, Cloud Storage and Cloud Logging."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_gcp as gcp


def child_options(
    parent: pulumi.Resource,
    provider: gcp.Provider,
    waits: Sequence[pulumi.Resource],
    **extra: Any,
) -> pulumi.ResourceOptions:
    """Options of a component's child: its parent and provider, and what it waits for (the
    project's APIs) next to its own dependencies."""
    depends_on = [*waits, *extra.pop("depends_on", [])]
    return pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=depends_on, **extra)
