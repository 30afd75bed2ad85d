"""The Google Cloud stack program (`resilience:platform: gcp`): keys and notification
channels, each service's SLOs and alert policies, Firestore and bucket protection, log
buckets. One stack: Firestore multi-region and dual-region buckets keep a copy in two
regions without a separate dr stack."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.gcp.data import GcpDataArgs, GcpDataProtection
from components.gcp.foundation import GcpFoundation, GcpFoundationArgs
from components.gcp.monitoring import GcpServiceMonitoring, GcpServiceMonitoringArgs
from model.gcp import DUAL_REGIONS, FIRESTORE_LOCATIONS, GcpStackConfig


def stack_labels(config: GcpStackConfig, stack: str) -> dict[str, str]:
    """Provider default labels (GCP labels: lowercase keys and values)."""
    labels = dict(config.labels)
    labels.update(
        {
            "system": config.name,
            "environment": config.environment,
            "resilience-role": config.role.value,
            "resilience-stack": stack.lower().replace(".", "-")[:63],
            "managed-by": "pulumi",
        }
    )
    return dict(sorted(labels.items()))


def program(config: GcpStackConfig, stack: str) -> None:
    project = config.gcp
    provider = gcp.Provider(
        f"{config.name}-gcp",
        project=project.project,
        region=project.region,
        default_labels=stack_labels(config, stack),
        add_pulumi_attribution_label=False,
    )
    storage_location = DUAL_REGIONS[project.dual_region]
    firestore_key_location = FIRESTORE_LOCATIONS[project.firestore_location]
    key_locations: dict[str, tuple[str, ...]] = {storage_location: ("storage",)}
    if config.firestore is not None:
        key_locations[firestore_key_location] = (
            *key_locations.get(firestore_key_location, ()),
            "firestore",
        )
    foundation = GcpFoundation(
        f"{config.name}-foundation",
        GcpFoundationArgs(
            system=config.name,
            project=project.project,
            project_number=project.project_number,
            key_locations=key_locations,
            escalation=config.escalation,
            provider=provider,
        ),
    )
    monitors = [
        GcpServiceMonitoring(
            f"{config.name}-{service.name}",
            GcpServiceMonitoringArgs(
                system=config.name,
                project=project.project,
                region=service.cloud_run.region or project.region,
                service=service,
                channels=foundation.channels_for,
                uptime_regions=project.uptime_regions,
                provider=provider,
                depends_on=foundation.apis,
            ),
        )
        for service in config.services
    ]
    data = GcpDataProtection(
        f"{config.name}-data",
        GcpDataArgs(
            system=config.name,
            project=project.project,
            region=project.region,
            dual_region=storage_location,
            firestore_location=project.firestore_location,
            firestore=config.firestore,
            buckets=config.buckets,
            logs=config.logs,
            keys={location: key.id for location, key in foundation.keys.items()},
            firestore_key_location=firestore_key_location,
            provider=provider,
            depends_on=[*foundation.apis, *foundation.key_grants],
        ),
    )
    pulumi.export("role", config.role.value)
    pulumi.export("name", config.name)
    pulumi.export("platform", "gcp")
    pulumi.export("project", project.project)
    pulumi.export("region", project.region)
    pulumi.export("services", [service.name for service in config.services])
    pulumi.export(
        "slos",
        {m.args.service.name: [m.slo_path(o) for o in m.objectives] for m in monitors},
    )
    pulumi.export("alert_policy_count", sum(len(m.policies) for m in monitors))
    pulumi.export("buckets", {name: b.name for name, b in data.buckets.items()})
    pulumi.export("firestore", data.database.name if data.database else None)
