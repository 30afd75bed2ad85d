"""A time-stepped model of what moto does not run: Route 53's health checkers, its failover
answers, DNS resolvers' caches and EventBridge Scheduler's invocations.

Everything the model evaluates is read back from the moto API: the health checks (their
HealthCheckConfig, as Route 53 stores it: tests/moto_gaps.py keeps the CloudWatch and
routing-control settings moto drops), the record sets, the CloudWatch alarms a check follows,
the datapoints of their metrics, the schedules and their execution roles. Nothing sets a
check's status: the status follows from datapoints, probes and routing-control states over
simulated time, by the rules quoted below.

Rules, each from the documentation (Route 53 Developer Guide, "How Amazon Route 53 determines
whether a health check is healthy", unless said otherwise):

- Endpoint checks (HTTPS): "health checkers start to send requests to the endpoint ... you
  can specify the interval between checks: every 10 seconds or every 30 seconds"; each checker
  judges "whether the endpoint responds to a number of consecutive health checks that you
  specify (the failure threshold)", and "If more than 18% of health checkers report that an
  endpoint is healthy, Route 53 considers it healthy." The model's checkers all see the same
  endpoint (one network), so the 18 % rule is what each of them sees. "Route 53 considers a
  new health check to be healthy until there's enough data to determine the actual status."
- CloudWatch-alarm checks: "Route 53 doesn't wait for the CloudWatch alarm to go into the
  ALARM state. The status of a health check changes from healthy to unhealthy based on the
  data stream and on the criteria in the CloudWatch alarm." The criteria: the alarm's metric,
  statistic, period, threshold and comparison over its evaluation periods ("Evaluation
  Periods is the number of the most recent periods, or data points, to evaluate when
  determining alarm state. Datapoints to Alarm is the number of data points within the
  Evaluation Periods that must be breaching", CloudWatch User Guide, "Using Amazon CloudWatch
  alarms"). Which periods Route 53 reads is not documented: the model reads the most recent
  complete ones. When they hold no datapoint: "If CloudWatch doesn't have sufficient data to
  determine whether the state is OK or ALARM, the health check status depends on the setting
  for InsufficientDataHealthStatus: Healthy, Unhealthy, or LastKnownStatus" ("LastKnownStatus:
  Route 53 uses the status of the health check from the last time that CloudWatch had
  sufficient data to determine the alarm state. For new health checks that have no last
  known status, the default status for the health check is healthy", Route 53 API Reference,
  HealthCheckConfig). SetAlarmState changes nothing here: the model never reads alarm states.
- Calculated checks: "Route 53 adds up the number of health checks that Route 53 considers to
  be healthy and compares that number with the value of HealthThreshold" (API Reference,
  HealthCheckConfig Type CALCULATED); Inverted: "invert the status of a health check".
- Routing-control checks: "If the routing control state is ON, the health check is considered
  healthy. If the state is OFF, the health check is considered unhealthy" (API Reference,
  HealthCheckConfig Type RECOVERY_CONTROL).
- Failover answers (Developer Guide, "Failover routing" and "How Route 53 chooses records when
  health checking is configured"): the primary record if it is healthy, else the secondary if
  it is healthy; "If none of the records in a group of records are healthy, Route 53 needs to
  return something ... In this circumstance, Route 53 considers all the records in the group
  to be healthy", so the primary. An alias record with Evaluate Target Health is healthy only
  if its load balancer is ("If you specify Yes for Evaluate Target Health ... Route 53 checks
  the health of the resource that the alias target refers to").
- Resolvers cache an answer for its TTL; an alias of a load balancer answers with the load
  balancer's 60 seconds (components/dns_failover.py ALIAS_TTL_SECONDS).
- EventBridge Scheduler: a rate schedule without a StartDate "starts invoking the target
  immediately" and "All schedule types on EventBridge Scheduler invoke their targets with 60
  second precision" ("Schedule types in EventBridge Scheduler"); a universal target's Input is
  "the request parameters that EventBridge Scheduler sends to the target API", called with the
  execution role, which "must have the permissions to call the API operation" ("Using
  universal targets"). PutMetricData without a Timestamp is stamped with the time CloudWatch
  receives it (CloudWatch API Reference, MetricDatum): the model stamps each invocation with
  its (simulated) moment of delivery within its minute.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scripts.ops.runner import Clock

TICK_SECONDS = 10  # the fast request interval: HTTPS checks at 30 s fall on every third tick
ALIAS_TTL_SECONDS = 60
PUT_METRIC_DATA = "arn:aws:scheduler:::aws-sdk:cloudwatch:putMetricData"

Client = Callable[[str, str], Any]  # (service, region) -> a boto3 client on the moto server


class SimClock(Clock):
    """Simulated wall time: sleeping advances it and lets the world catch up."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.elapsed = 0.0
        self.listeners: list[Callable[[datetime], None]] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds
        for listener in self.listeners:
            listener(self.now())


def _floor(moment: datetime, seconds: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


_BREACHES: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


@dataclass
class Alarm:
    """A metric alarm's criteria, as DescribeAlarms returns them, and its datapoints."""

    region: str
    name: str
    namespace: str
    metric: str
    dimensions: list[dict[str, str]]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    # (timestamp, value) of every datapoint read so far
    points: list[tuple[datetime, float]] = field(default_factory=list)

    def aggregate(self, values: list[float]) -> float:
        if self.statistic == "Maximum":
            return max(values)
        if self.statistic == "Minimum":
            return min(values)
        if self.statistic == "Sum":
            return sum(values)
        if self.statistic == "SampleCount":
            return float(len(values))
        if self.statistic == "Average":
            return sum(values) / len(values)
        raise AssertionError(f"{self.name}: Route 53 cannot follow statistic {self.statistic}")

    def stream(self, now: datetime) -> bool | None:
        """The data stream's verdict: True breaching, False not, None insufficient data."""
        end = _floor(now, self.period)  # the most recent complete period ends here
        start = end - timedelta(seconds=self.period * self.evaluation_periods)
        buckets: dict[datetime, list[float]] = {}
        for stamp, value in self.points:
            if start <= stamp < end:
                buckets.setdefault(_floor(stamp, self.period), []).append(value)
        if not buckets:
            return None
        breaching = sum(
            _BREACHES[self.comparison](self.aggregate(values), self.threshold)
            for values in buckets.values()
        )
        return breaching >= self.datapoints_to_alarm


@dataclass
class Check:
    id: str
    config: dict[str, Any]
    healthy: bool = True  # new checks start healthy
    streak: int = 0  # consecutive probe results against the current status
    next_probe: datetime | None = None


@dataclass
class Answer:
    target: str  # the alias target's DNS name
    role: str  # PRIMARY | SECONDARY


class Route53Model:
    """Route 53's health checkers and answers, and EventBridge Scheduler, over simulated
    time. `endpoint_up(fqdn, now)` is what a probe of an endpoint sees; `routing_control(arn)`
    the ARC data plane's state of a routing control."""

    def __init__(
        self,
        client: Client,
        clock: SimClock,
        *,
        endpoint_up: Callable[[str], bool],
        routing_control: Callable[[str], str | None] = lambda _: None,
        scheduler_regions: Iterable[str] = (),
        failed_invocations: Callable[[str, datetime], bool] = lambda _name, _when: False,
        changes: Callable[[], int] | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.endpoint_up = endpoint_up
        self.routing_control = routing_control
        self.scheduler_regions = tuple(scheduler_regions)
        # A test's fault: an invocation that never reaches its target (the schedule's
        # invocation is attempted; AWS gives no guarantee that every one succeeds).
        self.failed_invocations = failed_invocations
        # A counter of writes by others (the operations): while it stands still, schedules
        # and datapoints are what the model last read plus what it wrote itself.
        self.changes = changes
        self._seen_changes: int | None = None
        self._schedule_cache: list[tuple[str, dict[str, Any]]] | None = None
        self._roles: dict[tuple[str, str, str], bool] = {}
        self.time = clock.now()
        self.checks: dict[str, Check] = {}
        self.alarms: dict[tuple[str, str], Alarm] = {}
        self.schedules_seen: dict[tuple[str, str], datetime] = {}
        self.invoked: dict[tuple[str, str], datetime] = {}
        self.invocations: list[tuple[str, datetime, float]] = []  # schedule, when, value
        self.cache: dict[str, tuple[Answer, datetime]] = {}  # resolver cache: name -> expiry
        self.records: dict[str, list[dict[str, Any]]] = {}  # zone -> its record sets
        # Called at every tick with the model's time (a test's observer).
        self.observers: list[Callable[[datetime], None]] = []
        clock.listeners.append(self.advance)

    # -- configuration, read back from the API -----------------------------------------

    def load(self) -> None:
        """(Re)read the health checks, the alarms they follow and the record sets."""
        route53 = self.client("route53", "us-east-1")
        self.records = {}
        for zone in route53.list_hosted_zones()["HostedZones"]:
            sets = []
            for page in route53.get_paginator("list_resource_record_sets").paginate(
                HostedZoneId=zone["Id"]
            ):
                sets += page["ResourceRecordSets"]
            self.records[zone["Id"]] = sets
        found = {}
        for page in route53.get_paginator("list_health_checks").paginate():
            for check in page["HealthChecks"]:
                found[check["Id"]] = check["HealthCheckConfig"]
        for ident, config in found.items():
            if ident in self.checks:
                self.checks[ident].config = config
            else:
                self.checks[ident] = Check(ident, config)
        for ident in set(self.checks) - set(found):
            del self.checks[ident]
        for config in found.values():
            alarm = config.get("AlarmIdentifier")
            if alarm and (alarm["Region"], alarm["Name"]) not in self.alarms:
                self._load_alarm(alarm["Region"], alarm["Name"])

    def _load_alarm(self, region: str, name: str) -> None:
        described = self.client("cloudwatch", region).describe_alarms(AlarmNames=[name])
        (alarm,) = described["MetricAlarms"]
        self.alarms[(region, name)] = Alarm(
            region=region,
            name=name,
            namespace=alarm["Namespace"],
            metric=alarm["MetricName"],
            dimensions=alarm.get("Dimensions", []),
            statistic=alarm["Statistic"],
            period=int(alarm["Period"]),
            evaluation_periods=int(alarm["EvaluationPeriods"]),
            datapoints_to_alarm=int(alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"]),
            threshold=float(alarm["Threshold"]),
            comparison=alarm["ComparisonOperator"],
        )

    def _read_points(self, alarm: Alarm, since: datetime, until: datetime) -> None:
        """Every datapoint of the alarm's metric in [since, until), one per second (a
        one-second period keeps them apart; the model aggregates by the alarm's period)."""
        stats = self.client("cloudwatch", alarm.region).get_metric_statistics(
            Namespace=alarm.namespace,
            MetricName=alarm.metric,
            Dimensions=alarm.dimensions,
            StartTime=since,
            EndTime=until,
            Period=1,
            Statistics=["Maximum", "Minimum", "Sum", "SampleCount"],
        )["Datapoints"]
        points = [p for p in alarm.points if not since <= p[0] < until]
        for point in stats:
            stamp = point["Timestamp"].astimezone(UTC)
            count = int(point["SampleCount"])
            if count == 1 or point["Maximum"] == point["Minimum"]:
                points += [(stamp, float(point["Maximum"]))] * max(count, 1)
            else:  # several values in one second: keep their extremes and their sum
                points += [(stamp, float(point["Maximum"])), (stamp, float(point["Minimum"]))]
        alarm.points = sorted(points)

    # -- EventBridge Scheduler ---------------------------------------------------------

    def _stale(self) -> bool:
        """Whether others wrote since the model last read (always, without a counter)."""
        if self.changes is None:
            return True
        current = self.changes()
        stale = current != self._seen_changes
        self._seen_changes = current
        return stale

    def _schedules(self, stale: bool) -> list[tuple[str, dict[str, Any]]]:
        if not stale and self._schedule_cache is not None:
            return self._schedule_cache
        found = []
        for region in self.scheduler_regions:
            scheduler = self.client("scheduler", region)
            for summary in scheduler.list_schedules()["Schedules"]:
                schedule = scheduler.get_schedule(
                    Name=summary["Name"], GroupName=summary.get("GroupName", "default")
                )
                found.append((region, schedule))
        self._schedule_cache = found
        return found

    def _role_allows(self, role_arn: str, action: str, namespace: str) -> bool:
        """Whether the execution role lets EventBridge Scheduler call the action: trusted by
        scheduler.amazonaws.com, and an inline policy statement allowing it (with the
        cloudwatch:namespace condition, when there is one)."""
        key = (role_arn, action, namespace)
        if key not in self._roles:
            self._roles[key] = self._read_role(role_arn, action, namespace)
        return self._roles[key]

    def _read_role(self, role_arn: str, action: str, namespace: str) -> bool:
        iam = self.client("iam", "us-east-1")
        name = role_arn.rsplit("/", 1)[-1]
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return False
        trust = role["AssumeRolePolicyDocument"]
        if isinstance(trust, str):
            trust = json.loads(trust)
        trusted = any(
            s.get("Effect") == "Allow"
            and "scheduler.amazonaws.com" in _listed(s.get("Principal", {}).get("Service"))
            for s in _statements(trust)
        )
        if not trusted:
            return False
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            if isinstance(document, str):
                document = json.loads(document)
            for statement in _statements(document):
                if statement.get("Effect") != "Allow":
                    continue
                if not any(fnmatch.fnmatch(action, a) for a in _listed(statement.get("Action"))):
                    continue
                wanted = statement.get("Condition", {}).get("StringEquals", {})
                allowed = _listed(wanted.get("cloudwatch:namespace", namespace))
                if namespace in allowed:
                    return True
        return False

    def _invoke(self, until: datetime, stale: bool) -> None:
        """Every invocation due up to `until` of every enabled rate(1 minute) schedule."""
        for region, schedule in self._schedules(stale):
            key = (region, schedule["Name"])
            first = self.schedules_seen.setdefault(key, self.time)
            # "State: Specifies whether the schedule is enabled or disabled" (CreateSchedule);
            # enabled unless said otherwise (moto returns none after an update without it).
            if (schedule.get("State") or "ENABLED") != "ENABLED":
                continue
            expression = schedule["ScheduleExpression"]
            if expression not in ("rate(1 minute)", "rate(1 minutes)"):
                raise AssertionError(f"{key}: the model runs rate(1 minute) only: {expression}")
            target = schedule["Target"]
            if not target["Arn"].endswith(":aws-sdk:cloudwatch:putMetricData"):
                raise AssertionError(f"{key}: unmodelled target {target['Arn']}")
            request = json.loads(target["Input"])
            if not self._role_allows(
                target["RoleArn"], "cloudwatch:PutMetricData", request["Namespace"]
            ):
                continue  # every invocation fails: AccessDenied
            last = self.invoked.get(key)
            minute = _floor(first, 60) if last is None else _floor(last, 60) + timedelta(minutes=1)
            data = []
            while True:
                # Within its minute ("60 second precision"): the model delivers at :30.
                moment = minute + timedelta(seconds=30)
                if moment > until:
                    break
                if moment >= first and not self.failed_invocations(schedule["Name"], moment):
                    for datum in request["MetricData"]:
                        data.append({**datum, "Timestamp": moment})
                        self.invocations.append((schedule["Name"], moment, datum["Value"]))
                self.invoked[key] = moment
                minute += timedelta(minutes=1)
            cloudwatch = self.client("cloudwatch", region)
            for chunk in range(0, len(data), 1000):  # "Each request is ... 1,000 metrics"
                cloudwatch.put_metric_data(
                    Namespace=request["Namespace"], MetricData=data[chunk : chunk + 1000]
                )
            self._remember(region, request["Namespace"], data)

    def _remember(self, region: str, namespace: str, data: list[dict[str, Any]]) -> None:
        """What the model wrote, added to the alarms that read it (no need to read it back)."""
        for alarm in self.alarms.values():
            if (alarm.region, alarm.namespace) != (region, namespace):
                continue
            wanted = sorted((d["Name"], d["Value"]) for d in alarm.dimensions)
            for datum in data:
                dims = sorted((d["Name"], d["Value"]) for d in datum.get("Dimensions", []))
                if datum["MetricName"] == alarm.metric and dims == wanted:
                    alarm.points.append((datum["Timestamp"], float(datum["Value"])))
            alarm.points.sort()

    # -- health checkers ---------------------------------------------------------------

    def advance(self, to: datetime) -> None:
        """Run the world from the model's time to `to`, tick by tick."""
        if to <= self.time:
            return
        stale = self._stale()
        if stale:
            longest = max(
                (a.period * a.evaluation_periods for a in self.alarms.values()), default=60
            )
            for alarm in self.alarms.values():
                self._read_points(alarm, self.time - timedelta(seconds=longest), to)
        self._invoke(to, stale)
        moment = self.time
        while moment < to:
            moment = min(moment + timedelta(seconds=TICK_SECONDS), to)
            self._evaluate(moment)
            self.time = moment
            for observer in self.observers:
                observer(moment)
        self.time = to

    def _evaluate(self, now: datetime) -> None:
        kinds = {"HTTPS": 0, "HTTP": 0, "TCP": 0, "CLOUDWATCH_METRIC": 1, "RECOVERY_CONTROL": 1}
        leaves = [c for c in self.checks.values() if c.config["Type"] != "CALCULATED"]
        for check in sorted(leaves, key=lambda c: kinds.get(c.config["Type"], 2)):
            kind = check.config["Type"]
            if kind in ("HTTPS", "HTTP", "TCP"):
                self._probe(check, now)
            elif kind == "CLOUDWATCH_METRIC":
                self._follow_alarm(check, now)
            elif kind == "RECOVERY_CONTROL":
                check.healthy = self.routing_control(check.config["RoutingControlArn"]) == "On"
            else:
                raise AssertionError(f"unmodelled health check type {kind}")
        for check in self.checks.values():
            if check.config["Type"] == "CALCULATED":
                up = sum(self.status(child) for child in check.config["ChildHealthChecks"])
                check.healthy = up >= int(check.config["HealthThreshold"])

    def _probe(self, check: Check, now: datetime) -> None:
        interval = timedelta(seconds=int(check.config.get("RequestInterval", 30)))
        if check.next_probe is None:
            check.next_probe = now
        while check.next_probe <= now:
            answered = self.endpoint_up(check.config["FullyQualifiedDomainName"])
            if answered == check.healthy:
                check.streak = 0
            else:
                check.streak += 1
                if check.streak >= int(check.config.get("FailureThreshold", 3)):
                    check.healthy, check.streak = answered, 0
            check.next_probe += interval

    def _follow_alarm(self, check: Check, now: datetime) -> None:
        identifier = check.config["AlarmIdentifier"]
        alarm = self.alarms[(identifier["Region"], identifier["Name"])]
        verdict = alarm.stream(now)
        if verdict is None:
            setting = check.config.get("InsufficientDataHealthStatus", "LastKnownStatus")
            if setting == "Healthy":
                check.healthy = True
            elif setting == "Unhealthy":
                check.healthy = False
            # LastKnownStatus: unchanged (a new check starts healthy)
        else:
            check.healthy = not verdict

    def status(self, check_id: str) -> bool:
        check = self.checks[check_id]
        return check.healthy != bool(check.config.get("Inverted", False))

    # -- DNS ---------------------------------------------------------------------------

    def answer(self, zone_id: str, name: str, target_up: Callable[[str], bool]) -> Answer:
        """Route 53's answer for a failover pair, now."""
        fqdn = name if name.endswith(".") else name + "."
        sets = [s for s in self.records[zone_id] if s["Name"] == fqdn and s.get("Failover")]
        by_role = {s["Failover"]: s for s in sets}
        if set(by_role) != {"PRIMARY", "SECONDARY"}:
            raise AssertionError(
                f"{name}: expected a PRIMARY/SECONDARY pair, got {sorted(by_role)}"
            )

        def healthy(record: dict[str, Any]) -> bool:
            check = record.get("HealthCheckId")
            if check is not None and not self.status(check):
                return False
            alias = record.get("AliasTarget") or {}
            return not alias.get("EvaluateTargetHealth") or target_up(alias["DNSName"])

        for role in ("PRIMARY", "SECONDARY"):
            if healthy(by_role[role]):
                return Answer(by_role[role]["AliasTarget"]["DNSName"], role)
        return Answer(by_role["PRIMARY"]["AliasTarget"]["DNSName"], "PRIMARY")

    def resolve(self, zone_id: str, name: str, target_up: Callable[[str], bool]) -> Answer:
        """What a resolver that cached the last answer for its TTL returns now."""
        now = self.clock.now()
        cached = self.cache.get(name)
        if cached is not None and cached[1] > now:
            return cached[0]
        fresh = self.answer(zone_id, name, target_up)
        self.cache[name] = (fresh, now + timedelta(seconds=ALIAS_TTL_SECONDS))
        return fresh


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)
