"""A two-region ReskFlow on a moto server, seeded from the shipped stacks' declared resources,
with the knobs the failover tests turn: a region going dark, faults on chosen API calls,
replica lag, recent backup copies. Time is simulated (tests/route53_model.py SimClock): the
operations' waits, timestamps and measured durations follow it.

Route 53 is the time-stepped model of its documented evaluation (tests/route53_model.py): the
stacks' fences, health checks and failover records are created through the APIs from the
synthesized graphs, the fence schedules are invoked every simulated minute, and a public name
resolves to whatever the model's failover answer is, through a resolver cache with the
alias's TTL. A load balancer answers when its region is up, not broken, and its groups have
an instance in service.
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

from model.config import Role
from scripts.engine import SynthResult
from scripts.ops.aws import Clients, Waiter
from scripts.ops.facts import ComputeFacts, SystemFacts
from tests.declared import Declared, create_dns
from tests.moto_gaps import (
    STUCK_PROMOTIONS,
    GapState,
    install_api_gaps,
    patch_rds_promotion,
    patch_route53_health_checks,
)
from tests.route53_model import Route53Model, SimClock

READ_ONLY = ("Describe", "Get", "List")
# Simulated time starts behind the real clock, so that no timestamp the world or the
# operations write (up to a day of simulated time later) is in the future of the real one.
START_BEHIND = timedelta(hours=26)
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
    session: boto3.Session  # what the operations use: faults, dark regions, recorded calls
    inside: boto3.Session  # what the world and the model of Route 53 read with: no faults
    clock: SimClock
    gaps: GapState = field(default_factory=GapState)
    down: set[str] = field(default_factory=set)  # regions that do not answer
    broken: set[Role] = field(default_factory=set)  # regions whose endpoints return errors
    faults: list[Fault] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # every API call, as service.Operation
    # Called with each API call before it is sent (the crash-injection hook of the tests).
    on_call: Callable[[str], None] | None = None
    route53: Route53Model | None = None
    dns: Declared | None = None
    stacks: dict[Role, str] = field(default_factory=dict)  # role -> stack name
    changes: int = 0  # mutating calls so far (the endpoints' cache key)
    # RDS promotions that take this long (simulated seconds) before the instance is writable.
    slow_promotions: dict[str, float] = field(default_factory=dict)
    # The lag each read replica reports (region, identifier) -> seconds, every minute.
    replica_lag: dict[tuple[str, str], float] = field(default_factory=dict)
    lag_published: datetime | None = None
    promoted_at: dict[str, datetime] = field(default_factory=dict)
    _health: dict[tuple[Any, ...], bool] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def clients(self) -> Clients:
        return Clients(session=self.session, config=TEST_RETRIES)

    def client(self, service: str, region: str) -> Any:
        """A client of the world's own (not the operations'): unrecorded, never faulted."""
        key = (service, region)
        if key not in self._clients:
            make: Any = self.inside.client
            self._clients[key] = make(service, region_name=region, config=TEST_RETRIES)
        return self._clients[key]

    def waiter(self, timeout_s: float = 1800.0) -> Waiter:
        """Waits in simulated time: every poll lets 10 s pass for the rest of the world."""
        return Waiter(timeout_s=timeout_s, interval_s=10.0, clock=self.clock)

    @property
    def model(self) -> Route53Model:
        assert self.route53 is not None, "seed the world with the stacks' graphs first"
        return self.route53

    # -- the endpoints ---------------------------------------------------------------------

    def region_healthy(self, role: Role) -> bool:
        region = self.facts.region(role)
        if region in self.down or role in self.broken:
            return False
        key = (role, self.changes)
        if key not in self._health:
            self._health[key] = self._compute_healthy(role, region)
        return self._health[key]

    def _compute_healthy(self, role: Role, region: str) -> bool:
        autoscaling = self.client("autoscaling", region)
        names = [c.name for c in self.facts.compute[role] if c.kind == "asg"]
        groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=names)
        return all(
            any(i["LifecycleState"] == "InService" for i in g["Instances"])
            for g in groups["AutoScalingGroups"]
        )

    def role_of_host(self, host: str) -> Role | None:
        for role in (Role.PRIMARY, Role.DR):
            if host.rstrip(".").endswith(f".{self.facts.region(role)}.elb.amazonaws.com"):
                return role
        return None

    def host_up(self, host: str) -> bool:
        role = self.role_of_host(host)
        return role is not None and self.region_healthy(role)

    def fenced(self, role: Role) -> bool:
        """Route 53's status of the region's fence check, now (the model's verdict)."""
        assert self.dns is not None
        stack = self.stacks[role]
        return not self.model.status(self.dns.fence_checks[stack])

    def answer(self, record: str) -> Role:
        """The region Route 53 answers `record` with, now."""
        assert self.dns is not None
        answer = self.model.answer(self.dns.zone_id, record, self.host_up)
        role = self.role_of_host(answer.target)
        assert role is not None, answer
        return role

    def serving(self) -> Role:
        """The region Route 53 answers every public name with (they move together)."""
        roles = {self.answer(e.record) for e in self.facts.endpoints}
        assert len(roles) == 1, f"names split between regions: {roles}"
        return roles.pop()

    def resolver(self, host: str) -> set[str]:
        """Addresses: a load balancer's are its region's; a public name's are those of the
        region a caching resolver answers with."""
        role = self.role_of_host(host)
        if role is None:
            assert self.dns is not None
            answer = self.model.resolve(self.dns.zone_id, host, self.host_up)
            role = self.role_of_host(answer.target)
        return {f"ip-{self.facts.region(role)}"} if role is not None else set()

    def prober(self, host: str, path: str) -> tuple[bool, str]:  # noqa: ARG002 - one answer per host
        role = self.role_of_host(host)
        if role is not None:
            ok = self.region_healthy(role)
            return ok, f"{host} {'200' if ok else 'unreachable'}"
        assert self.dns is not None
        answer = self.model.resolve(self.dns.zone_id, host, self.host_up)
        serving = self.role_of_host(answer.target)
        ok = serving is not None and self.region_healthy(serving)
        return ok, f"{serving.value if serving else '?'} {'200' if ok else '503'}"

    def soak(self, hours: float, expect: Role) -> list[tuple[datetime, Role]]:
        """Let simulated time pass with nobody at a keyboard, watching the region Route 53
        answers with at every tick of its health checkers. Returns when it answered
        otherwise."""
        wrong: list[tuple[datetime, Role]] = []

        def observe(moment: datetime) -> None:
            serving = self.serving()
            if serving is not expect:
                wrong.append((moment, serving))

        self.model.observers.append(observe)
        try:
            self.clock.advance(hours * 3600)
        finally:
            self.model.observers.remove(observe)
        return wrong


def _region_of(request: Any) -> str:
    match = _REGION.search(str(request.headers.get("Authorization", b"")))
    return match.group(1) if match else ""


def _session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


def make_world(endpoint: str, facts: SystemFacts) -> World:
    session, inside = _session(), _session()
    start = (datetime.now(UTC) - START_BEHIND).replace(second=0, microsecond=0)
    world = World(endpoint, facts, session, inside, SimClock(start))
    install_api_gaps(session, world.gaps, inside=inside, observe=lambda op: record(op, {}))
    patch_rds_promotion()
    patch_route53_health_checks()
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

    def record(operation: str, params: dict[str, Any]) -> None:
        world.calls.append(operation)
        if not operation.split(".", 1)[1].startswith(READ_ONLY):
            world.changes += 1
        if operation == "rds.PromoteReadReplica":
            ident = str(params.get("body", {}).get("DBInstanceIdentifier"))
            if ident in world.slow_promotions and ident not in world.promoted_at:
                STUCK_PROMOTIONS.add(ident)
                world.promoted_at[ident] = world.clock.now()
        if world.on_call is not None:
            world.on_call(operation)

    def before_call(**kwargs: Any) -> None:
        parts = kwargs.get("event_name", "").split(".")
        record(f"{parts[1]}.{parts[2]}", kwargs.get("params") or {})

    def promotions_finish(now: datetime) -> None:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.rds.models import rds_backends

        for ident, began in list(world.promoted_at.items()):
            if (
                ident in STUCK_PROMOTIONS
                and (now - began).total_seconds() >= (world.slow_promotions[ident])
            ):
                STUCK_PROMOTIONS.discard(ident)
                rds_backends[DEFAULT_ACCOUNT_ID][facts.dr_region].databases[
                    ident
                ].status = "available"

    world.clock.listeners.append(promotions_finish)
    world.clock.listeners.append(lambda now: publish_replica_lag(world, now))
    events.register_first("before-call", before_call)
    events.register("before-send", before_send)
    return world


def _zone_name(records: list[str]) -> str:
    """A zone that holds every public name (their last two labels)."""
    (zone,) = {".".join(r.rstrip(".").split(".")[-2:]) for r in records}
    return zone


def seed_dns(
    world: World, primary: SynthResult, dr: SynthResult, *, settle_minutes: int = 5
) -> None:
    """Create what the stacks declare for DNS failover (tests/declared.py) and start the model
    of Route 53 on it; then let the stacks stand for a few minutes, as after a deploy."""
    world.stacks = {Role.PRIMARY: primary.stack, Role.DR: dr.stack}
    world.dns = create_dns(
        world.client, (primary, dr), _zone_name([e.record for e in world.facts.endpoints])
    )
    world.route53 = Route53Model(
        world.client,
        world.clock,
        endpoint_up=world.host_up,
        # The gaps replace their dict of states on every update: look it up each time.
        routing_control=lambda arn: world.gaps.routing_controls.get(arn),  # noqa: PLW0108
        scheduler_regions=[world.facts.fence_region],
        changes=lambda: world.changes,
    )
    world.model.load()
    world.clock.advance(settle_minutes * 60)


def seed(
    world: World,
    graphs: tuple[SynthResult, SynthResult],
    *,
    lag_seconds: float = 3.0,
    copy_age_hours: float = 3.0,
) -> None:
    """Create in moto what the stacks declare and the system runs: databases with their
    replica, groups (primary at full capacity, DR at its mode's), load balancers, a vault
    with a recent copy, a replica-lag datapoint, and the stacks' DNS failover (`graphs`: the
    primary's and the dr stack's synthesized graphs)."""
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
            "CreationDate": world.clock.now() - timedelta(hours=copy_age_hours),
        }
    ]
    seed_dns(world, *graphs)


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
    """From now on the replica `ident` lags `seconds`: RDS publishes its ReplicaLag every
    minute ("Amazon RDS automatically sends metrics to CloudWatch every minute", RDS User
    Guide, "Monitoring Amazon RDS metrics with Amazon CloudWatch"), one datapoint now."""
    region = world.facts.region(role)
    world.replica_lag[(region, ident)] = seconds
    _publish_lag(world, region, ident, seconds, [world.clock.now()])


def _publish_lag(
    world: World, region: str, ident: str, seconds: float, moments: list[datetime]
) -> None:
    data = [
        {
            "MetricName": "ReplicaLag",
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": ident}],
            "Value": seconds,
            "Timestamp": moment,
        }
        for moment in moments
    ]
    cloudwatch = world.client("cloudwatch", region)
    for chunk in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace="AWS/RDS", MetricData=data[chunk : chunk + 1000])


def publish_replica_lag(world: World, now: datetime) -> None:
    """Every simulated minute, each read replica's lag, for as long as it replicates."""
    last = world.lag_published or now
    minutes = []
    moment = last.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while moment <= now:
        minutes.append(moment)
        moment += timedelta(minutes=1)
    world.lag_published = now
    if not minutes:
        return
    for (region, ident), seconds in world.replica_lag.items():
        rds = world.client("rds", region)
        try:
            found = rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        except rds.exceptions.DBInstanceNotFoundFault:
            continue
        if found.get("ReadReplicaSourceDBInstanceIdentifier"):
            _publish_lag(world, region, ident, seconds, minutes)


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
