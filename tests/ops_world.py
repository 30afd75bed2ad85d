"""A two-region ReskFlow on a moto server, seeded from the shipped stacks' declared resources,
with the knobs the failover tests turn: a region going dark, faults on chosen API calls,
replica lag, recent backup copies and the answers of the public endpoints.

The endpoint `prober` plays Route 53 and the load balancers: a load balancer answers when its
region is up and its group has an instance in service; a public name answers when the region
failover routing picks (PRIMARY if healthy and not fenced, else SECONDARY if healthy, else
PRIMARY: tests/moto_gaps.py) answers.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from model.config import DrMode, Role
from scripts.ops.aws import Clients, Waiter
from scripts.ops.facts import ComputeFacts, SystemFacts
from tests.moto_gaps import GapState, install_api_gaps, patch_rds_promotion

TEST_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2)
_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


def query_error(status: int, code: str, message: str) -> AWSResponse:
    """An AWS query-protocol error response (RDS, Auto Scaling, CloudWatch, ...)."""
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
    ).encode()
    headers = HTTPHeaders()
    headers["Content-Type"] = "text/xml"
    return AWSResponse("https://fault", status, headers, _Body(body))


@dataclass
class Fault:
    """Answer `operation` (e.g. 'rds.PromoteReadReplica') with an error `times` times
    (-1: always)."""

    operation: str
    status: int
    code: str
    times: int = 1
    seen: int = 0


@dataclass
class World:
    endpoint: str
    facts: SystemFacts
    session: boto3.Session
    gaps: GapState = field(default_factory=GapState)
    down: set[str] = field(default_factory=set)  # regions that do not answer
    broken: set[Role] = field(default_factory=set)  # regions whose endpoints return errors
    faults: list[Fault] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # every API call, as service.Operation
    # Called with each API call before it is sent (the crash-injection hook of the tests).
    on_call: Callable[[str], None] | None = None

    def clients(self) -> Clients:
        return Clients(session=self.session, config=TEST_RETRIES)

    def client(self, service: str, region: str) -> Any:
        make: Any = self.session.client
        return make(service, region_name=region, config=TEST_RETRIES)

    def waiter(self, timeout_s: float = 5.0) -> Waiter:
        return Waiter(timeout_s=timeout_s, interval_s=0.05)

    # -- the endpoints ---------------------------------------------------------------------

    def region_healthy(self, role: Role) -> bool:
        region = self.facts.region(role)
        if region in self.down or role in self.broken:
            return False
        autoscaling = self.client("autoscaling", region)
        names = [c.name for c in self.facts.compute[role] if c.kind == "asg"]
        groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=names)
        return all(
            any(i["LifecycleState"] == "InService" for i in g["Instances"])
            for g in groups["AutoScalingGroups"]
        )

    def fenced(self, role: Role) -> bool:
        """The fence alarm's state: the latest decision, published in the fence region (the
        DR region); without one, the DR region is fenced while it stands by."""
        region = self.facts.fence_region
        if region in self.down:
            return False  # Route 53 reads no alarm: insufficient data
        namespace, metric, dims = self.facts.fence(role)
        now = datetime.now(UTC)
        points = self.client("cloudwatch", region).get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
            StartTime=now - timedelta(hours=3),
            EndTime=now + timedelta(hours=3),  # decisions may be stamped minutes ahead
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        if not points:
            return role is Role.DR and self.facts.mode is not DrMode.ACTIVE
        return float(max(points, key=lambda p: p["Timestamp"])["Maximum"]) >= 1

    def serving(self) -> Role:
        """The region Route 53 answers with."""
        if self.facts.mechanism == "arc":
            on = {
                r
                for r, arn in self.facts.routing_controls.items()
                if self.gaps.routing_controls.get(arn) == "On"
            }
            primary_ok = Role.PRIMARY in on
            secondary_ok = Role.DR in on
        else:
            primary_ok = self.region_healthy(Role.PRIMARY) and not self.fenced(Role.PRIMARY)
            secondary_ok = self.region_healthy(Role.DR) and not self.fenced(Role.DR)
        if primary_ok or not secondary_ok:
            return Role.PRIMARY
        return Role.DR

    def resolver(self, host: str) -> set[str]:
        """Addresses: a load balancer's are its region's; a public name's are the region
        Route 53 answers with."""
        for role in (Role.PRIMARY, Role.DR):
            if host.endswith(f".{self.facts.region(role)}.elb.amazonaws.com"):
                return {f"ip-{self.facts.region(role)}"}
        return {f"ip-{self.facts.region(self.serving())}"}

    def prober(self, host: str, path: str) -> tuple[bool, str]:  # noqa: ARG002 - one answer per host
        for role in (Role.PRIMARY, Role.DR):
            region = self.facts.region(role)
            if host.endswith(f".{region}.elb.amazonaws.com"):
                ok = self.region_healthy(role)
                return ok, f"{host} {'200' if ok else 'unreachable'}"
        serving = self.serving()
        ok = self.region_healthy(serving)
        return ok, f"{serving.value} {'200' if ok else '503'}"


def _region_of(request: Any) -> str:
    match = _REGION.search(str(request.headers.get("Authorization", b"")))
    return match.group(1) if match else ""


def make_world(endpoint: str, facts: SystemFacts) -> World:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    world = World(endpoint, facts, session)
    install_api_gaps(session, world.gaps)
    patch_rds_promotion()
    events = session._session.get_component("event_emitter")

    def before_send(request: Any, **kwargs: Any) -> Any:
        event = kwargs.get("event_name", "")
        parts = event.split(".")  # before-send.<service>.<Operation>
        operation = f"{parts[1]}.{parts[2]}" if len(parts) >= 3 else event
        if _region_of(request) in world.down:
            raise EndpointConnectionError(endpoint_url=f"https://{_region_of(request)}")
        for fault in world.faults:
            if fault.operation == operation and (fault.times < 0 or fault.seen < fault.times):
                fault.seen += 1
                return query_error(fault.status, fault.code, "injected by the test")
        return None

    def before_call(**kwargs: Any) -> None:
        event = kwargs.get("event_name", "")
        parts = event.split(".")
        operation = f"{parts[1]}.{parts[2]}"
        world.calls.append(operation)
        if world.on_call is not None:
            world.on_call(operation)

    events.register_first("before-call", before_call)
    events.register("before-send", before_send)
    return world


def seed(world: World, *, lag_seconds: float = 3.0, copy_age_hours: float = 3.0) -> None:
    """Create in moto what the stacks declare and the system runs: databases with their
    replica, groups (primary at full capacity, DR at its mode's), load balancers, a vault
    with a recent copy, and a replica-lag datapoint."""
    facts = world.facts
    subnets_by_region: dict[str, list[str]] = {}
    for role in (Role.PRIMARY, Role.DR):
        region = facts.region(role)
        ec2 = world.client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}"
            )["Subnet"]["SubnetId"]
            for i, z in ((1, "a"), (2, "b"))
        ]
        autoscaling = world.client("autoscaling", region)
        for compute in facts.compute[role]:
            if compute.kind == "ecs":
                _seed_ecs(world, role, compute)
                continue
            template = compute.name.removesuffix("-dr")
            with contextlib.suppress(ec2.exceptions.ClientError):  # shared by DR and primary
                ec2.create_launch_template(
                    LaunchTemplateName=template,
                    LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "m6i.large"},
                )
            capacity = compute.full if role is Role.PRIMARY else compute.standby
            autoscaling.create_auto_scaling_group(
                AutoScalingGroupName=compute.name,
                LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
                MinSize=capacity.min,
                MaxSize=capacity.max,
                VPCZoneIdentifier=",".join(subnets),
            )
        subnets_by_region[region] = subnets
        elb = world.client("elbv2", region)
        for endpoint in facts.endpoints:
            elb.create_load_balancer(Name=endpoint.load_balancers[role], Subnets=subnets)
        world.client("backup", region).create_backup_vault(BackupVaultName=facts.vault(role))
    primary_rds = world.client("rds", facts.primary_region)
    dr_rds = world.client("rds", facts.dr_region)
    for db in facts.databases:
        # The subnet and parameter groups the primary stack names after the identifier.
        primary_rds.create_db_subnet_group(
            DBSubnetGroupName=db.primary_id,
            DBSubnetGroupDescription="private subnets",
            SubnetIds=subnets_by_region[facts.primary_region],
        )
        primary_rds.create_db_parameter_group(
            DBParameterGroupName=db.primary_id,
            DBParameterGroupFamily="postgres16",
            Description="hardened",
        )
        # moto gap: a cross-region read replica's subnet group is looked up in the source
        # database's region; the same group there lets failback's copy be created.
        dr_rds.create_db_subnet_group(
            DBSubnetGroupName=db.primary_id,
            DBSubnetGroupDescription="moto looks here for cross-region replicas",
            SubnetIds=subnets_by_region[facts.dr_region],
        )
        created = primary_rds.create_db_instance(
            DBInstanceIdentifier=db.primary_id,
            Engine="postgres",
            DBInstanceClass="db.r6g.xlarge",
            AllocatedStorage=100,
            MasterUsername="reskflow",
            MasterUserPassword="not-a-real-password",
            BackupRetentionPeriod=db.backup_retention_days,
        )["DBInstance"]
        dr_rds.create_db_instance_read_replica(
            DBInstanceIdentifier=db.replica_id,
            SourceDBInstanceIdentifier=created["DBInstanceArn"],
            DBInstanceClass="db.r6g.xlarge",
        )
        dr_rds.modify_db_instance(
            DBInstanceIdentifier=db.replica_id, BackupRetentionPeriod=7, ApplyImmediately=True
        )
        set_lag(world, Role.DR, db.replica_id, lag_seconds)
    world.gaps.recovery_points[facts.vault(Role.DR)] = [
        {
            "RecoveryPointArn": "arn:aws:backup:us-west-2:123456789012:recovery-point:copy-1",
            "Status": "COMPLETED",
            "CreationDate": datetime.now(UTC) - timedelta(hours=copy_age_hours),
        }
    ]


def _seed_ecs(world: World, role: Role, compute: ComputeFacts) -> None:
    region = world.facts.region(role)
    _, cluster, service = compute.name.split("/")
    ecs = world.client("ecs", region)
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=service, containerDefinitions=[{"name": service, "image": "worker", "memory": 512}]
    )
    capacity = compute.full if role is Role.PRIMARY else compute.standby
    ecs.create_service(
        cluster=cluster, serviceName=service, taskDefinition=service, desiredCount=capacity.min
    )
    world.client("application-autoscaling", region).register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=compute.name,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=capacity.min,
        MaxCapacity=capacity.max,
    )


def set_lag(world: World, role: Role, ident: str, seconds: float) -> None:
    world.client("cloudwatch", world.facts.region(role)).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": ident}],
                "Value": seconds,
                "Timestamp": datetime.now(UTC),
            }
        ],
    )


def rebuild_dr_replica(world: World) -> None:
    """What `pulumi up -s dr` does after a failback: the DR database is a replica of the
    primary again. moto fails (HTTP 500) deleting an instance that was the source of a
    promoted replica, so the rebuild is done on moto's own objects, in one place here."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.rds.models import rds_backends

    primary = rds_backends[DEFAULT_ACCOUNT_ID][world.facts.primary_region]
    replicas = rds_backends[DEFAULT_ACCOUNT_ID][world.facts.dr_region]
    for db in world.facts.databases:
        instance = replicas.databases[db.replica_id]
        instance.source_db_instance_identifier = primary.databases[db.primary_id].arn
        instance.is_replica = True
        set_lag(world, Role.DR, db.replica_id, 2.0)
