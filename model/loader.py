"""Load a stack config and report every problem in it at once.

Errors read `<file>: <key path>: <reason>`, for example
`Pulumi.dr.yaml: resilience:dr.region: must differ from primary region us-east-1`.
Nothing here touches Pulumi's engine, so a bad file fails before any resource is registered.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from model.alarms import BY_ID, CATALOG, evaluation_range_error, route53_compatible, valid_period
from model.config import (
    NAMESPACE,
    RDS_IDENTIFIER_MAX,
    SECRET_PLACEHOLDER,
    SUB_DAILY,
    Role,
    StackConfig,
    valid_rds_identifier,
)
from model.gcp import GcpStackConfig
from model.regions import AWS_REGIONS, ROUTE53_METRICS_REGION

# An AWS stack (primary or dr) or a Google Cloud stack (`resilience:platform: gcp`).
AnyStackConfig = StackConfig | GcpStackConfig

# Keys outside our namespace that a stack file may carry.
ALLOWED_FOREIGN_KEYS = frozenset({"pulumi:disable-default-providers", "pulumi:tags"})


@dataclass(frozen=True, order=True)
class Problem:
    source: str
    key: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.source}: {self.key}: {self.message}"
            if self.key
            else (f"{self.source}: {self.message}")
        )


class ConfigError(Exception):
    """One or more problems in a stack config. `str()` lists them one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class InconsistentStacksError(Exception):
    """A stack's config disagrees with a stack it references (raised while the program runs,
    when the referenced stack's outputs are known)."""


@dataclass(frozen=True)
class LoadedConfig:
    config: AnyStackConfig
    source: str  # the file name used in messages
    stack: str  # the Pulumi stack name
    path: Path | None = None  # the file it was read from (None inside `pulumi up`)
    # Per key that came from an included file, that file (as in `with_includes`): errors
    # found later (the offline engine's) name the file the key really lives in.
    origins: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def aws(self) -> StackConfig:
        """The config of an AWS stack; an error naming the file for a Google Cloud one
        (failover, failback and drills move AWS stacks)."""
        if not isinstance(self.config, StackConfig):
            raise ConfigError(
                [Problem(self.source, f"{NAMESPACE}:platform", "an AWS stack is needed here")]
            )
        return self.config


def stack_name_from_path(path: Path) -> str:
    """`Pulumi.dr.yaml` -> `dr`. Any other file name is used without its suffix."""
    name = path.name
    for suffix in (".yaml", ".yml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.removeprefix("Pulumi.")


INCLUDE_KEY = f"{NAMESPACE}:include"
# Keys that describe one stack, not the system: they stay in the stack file.
STACK_ONLY_KEYS = frozenset({INCLUDE_KEY, f"{NAMESPACE}:role", f"{NAMESPACE}:primary_stack"})


def _read_config_mapping(path: Path, source: str) -> dict[str, Any]:
    """The `config:` mapping of a stack or system file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(source, "", "file not found")]) from None
    except OSError as exc:
        raise ConfigError([Problem(source, "", f"cannot read: {exc.strerror}")]) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        reason = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError([Problem(source, "", f"invalid YAML{where}: {reason}")]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError([Problem(source, "config", "the file needs a 'config:' mapping")])
    return {str(k): v for k, v in document["config"].items()}


def with_includes(
    config: Mapping[str, Any], base_dir: Path, source: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge the system files named by `resilience:include` under the stack's own keys.

    Pulumi's project file cannot hold nested config, so the primary and dr stacks share
    one system description this way. Keys merge whole (a stack key replaces the included
    one). Returns the merged mapping and, per included key, the file it came from, so that
    problems name the file the user has to edit.
    """
    include = config.get(INCLUDE_KEY)
    if include is None:
        return dict(config), {}
    names = [include] if isinstance(include, str) else include
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ConfigError([Problem(source, INCLUDE_KEY, "must be a file path or a list of them")])
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    problems: list[Problem] = []
    for name in names:
        try:
            included = _read_config_mapping(base_dir / name, name)
        except ConfigError as error:
            problems.extend(
                Problem(source, INCLUDE_KEY, f"{name}: {p.message}") if not p.key else p
                for p in error.problems
            )
            continue
        for key, value in included.items():
            if key in STACK_ONLY_KEYS:
                problems.append(
                    Problem(name, key, "belongs in the stack file, not in an included file")
                )
                continue
            merged[key] = value
            origins[key] = name
    if problems:
        raise ConfigError(problems)
    for key, value in config.items():
        merged[key] = [include] if key == INCLUDE_KEY and isinstance(include, str) else value
        origins.pop(key, None)
    return merged, origins


def project_dir_of(path: Path) -> Path:
    """The Pulumi project a stack file belongs to: the nearest folder upwards with a
    Pulumi.yaml (a stack file under examples/ is deployed with `pulumi up --config-file`
    from the project), else the file's own folder. Included paths are relative to it, as
    they are inside `pulumi up`, which runs in the project directory."""
    for directory in (path.resolve().parent, *path.resolve().parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    return path.parent


def load_file(path: Path | str, stack: str | None = None) -> LoadedConfig:
    """Read and validate one `Pulumi.<stack>.yaml` file (and the files it includes)."""
    path = Path(path)
    source = path.name
    config = _read_config_mapping(path, str(path) if not path.exists() else source)
    merged, origins = with_includes(config, project_dir_of(path), source)
    return LoadedConfig(
        load_mapping(merged, source, origins),
        source,
        stack or stack_name_from_path(path),
        path,
        origins,
    )


def load_mapping(
    raw: Mapping[str, Any], source: str, origins: Mapping[str, str] | None = None
) -> AnyStackConfig:
    """Validate a flat mapping of namespaced keys (`resilience:dr`, `pulumi:...`).
    `origins` names the file of keys that came from an included file."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    prefix = f"{NAMESPACE}:"
    for raw_key, value in raw.items():
        key = str(raw_key)
        if key.startswith(prefix):
            values[key[len(prefix) :]] = _unwrap_secrets(value)
        elif key.startswith("aws:"):
            problems.append(
                Problem(
                    source,
                    key,
                    "not used: every resource gets an explicit aws.Provider whose region comes "
                    f"from {prefix}primary.region / {prefix}dr.region; remove this key",
                )
            )
        elif key not in ALLOWED_FOREIGN_KEYS and ":" not in key:
            problems.append(
                Problem(source, key, f"key has no namespace: did you mean '{prefix}{key}'?")
            )
    model: type[StackConfig] | type[GcpStackConfig] = StackConfig
    if values.get("platform") == "gcp":
        model = GcpStackConfig
    elif "platform" in values and values["platform"] != "aws":
        problems.append(
            Problem(
                source,
                f"{prefix}platform",
                f"must be aws (the default) or gcp, got {_shown(values['platform'])}",
            )
        )
    if values.get("platform") == "aws":
        values.pop("platform")
    if model is StackConfig:
        problems.extend(_cross_checks(values, source))
    config: AnyStackConfig
    try:
        config = model.model_validate(values)
    except ValidationError as exc:
        problems.extend(_problems_from_validation(exc, source, model))
        raise ConfigError(_attribute(problems, origins or {})) from None
    if problems:
        raise ConfigError(_attribute(problems, origins or {}))
    return config


def _attribute(problems: Iterable[Problem], origins: Mapping[str, str]) -> list[Problem]:
    """Name the included file for problems under a key that came from one."""
    out = []
    for problem in problems:
        top = problem.key.split(".", 1)[0].split("[", 1)[0]
        origin = origins.get(top)
        out.append(Problem(origin, problem.key, problem.message) if origin else problem)
    return out


def load_from_runtime() -> LoadedConfig:
    """Inside `pulumi up`/`preview`: read this stack's config from the Pulumi runtime.

    Structured values arrive JSON-encoded and secrets arrive decrypted, exactly as the
    engine hands them to the program.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    stack = pulumi.get_stack()
    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    source = f"Pulumi.{stack}.yaml"
    raw = {key: _decode_runtime_value(value) for key, value in merged.items()}
    # Pulumi runs the program in the project directory: included paths are relative to it.
    raw, origins = with_includes(raw, Path.cwd(), source)
    return LoadedConfig(load_mapping(raw, source, origins), source, stack, None, origins)


def _decode_runtime_value(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _unwrap_secrets(value: Any) -> Any:
    """Replace `{secure: ...}` ciphertexts (undecryptable offline) with a marker."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def _key_path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic marks an invalid mapping key this way
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else f"{NAMESPACE}:{part}"
    return out


def _model_at(loc: tuple[int | str, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class whose fields are valid at `loc` (for 'did you mean' hints)."""
    current: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _problems_from_validation(
    exc: ValidationError, source: str, root: type[BaseModel] = StackConfig
) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        if kind == "missing":
            message = "required key is missing"
        elif kind == "extra_forbidden":
            message = "unknown key"
            parent = _model_at(loc[:-1], root)
            if parent is not None:
                close = difflib.get_close_matches(str(loc[-1]), list(parent.model_fields), 1)
                if close:
                    message += f" (did you mean '{close[0]}'?)"
                else:
                    message += f" (allowed: {', '.join(parent.model_fields)})"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = f"must be a mapping of keys, got {_shown(error.get('input'))}"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            message = message.replace("Input should be", "must be")
            message = message.replace("List should have", "must have")
            given = error.get("input")
            if kind != "value_error" and not isinstance(given, dict | list):
                message += f", got {_shown(given)}"
        problems.append(Problem(source, _key_path(loc), message))
    return problems


def _service_checks(
    service: dict[str, Any], index: int, values: Mapping[str, Any], source: str
) -> list[Problem]:
    problems: list[Problem] = []
    key = f"{NAMESPACE}:services[{index}]"
    resources = service.get("resources")
    resources = resources if isinstance(resources, dict) else {}
    primary = resources.get("primary")
    primary = primary if isinstance(primary, dict) else {}
    # A worker takes no requests: its queue alarms watch it, it has no request SLI. On
    # Kubernetes, Prometheus measures the SLO.
    if (
        service.get("tier") != "worker"
        and not primary.get("alb")
        and not primary.get("functions")
        and not _on_kubernetes(service)
    ):
        problems.append(
            Problem(
                source,
                f"{key}.resources.primary",
                "the SLO needs a source of request metrics: add an alb, functions or kubernetes",
            )
        )
    primary_region = _region_of(values, "primary")
    for role in ("primary", "dr"):
        functions = (
            (resources.get(role) or {}).get("functions")
            if isinstance(resources.get(role), dict)
            else None
        )
        if isinstance(functions, list) and len(functions) > MAX_SLO_FUNCTIONS:
            problems.append(
                Problem(
                    source,
                    f"{key}.resources.{role}.functions",
                    f"at most {MAX_SLO_FUNCTIONS} functions can feed one SLO: a CloudWatch "
                    "metric-math alarm reads at most 10 metrics and availability needs 2 per "
                    f"function (got {len(functions)})",
                )
            )
    for role in ("primary", "dr"):
        region = _region_of(values, role)
        if role == "dr" and region == primary_region:
            continue  # already reported; comparing certificates with it would only add noise
        role_resources = resources.get(role)
        role_resources = role_resources if isinstance(role_resources, dict) else {}
        checks = role_resources.get("health_checks")
        if region is not None and region != ROUTE53_METRICS_REGION and checks:
            problems.append(
                Problem(
                    source,
                    f"{key}.resources.{role}.health_checks",
                    f"Route 53 publishes health-check metrics only in {ROUTE53_METRICS_REGION}; "
                    f"the {role} region is {region}",
                )
            )
        certificates = role_resources.get("certificates")
        if not isinstance(region, str) or not isinstance(certificates, list):
            continue
        for i, arn in enumerate(certificates):
            parts = arn.split(":") if isinstance(arn, str) else []
            if len(parts) > 3 and parts[3] != region:
                problems.append(
                    Problem(
                        source,
                        f"{key}.resources.{role}.certificates[{i}]",
                        f"certificate is in {parts[3]} but the {role} region is {region}: ACM "
                        "publishes DaysToExpiry in the certificate's region only",
                    )
                )
    problems.extend(_override_checks(service.get("alarms"), f"{key}.alarms", source))
    return problems


COLD_STORAGE_MINIMUM_DAYS = 90  # AWS Backup keeps cold recovery points at least this long


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _backup_checks(backup: Any, source: str) -> list[Problem]:
    """Vault Lock mode rules, and every retention against the lock and cold storage."""
    if not isinstance(backup, dict):
        return []
    problems = []
    key = f"{NAMESPACE}:backup"
    lock = backup.get("vault_lock")
    lock = lock if isinstance(lock, dict) else {}
    mode, changeable = lock.get("mode"), lock.get("changeable_for_days")
    lock_min, lock_max = _int(lock.get("min_retention_days")), _int(lock.get("max_retention_days"))
    if mode == "compliance" and changeable is None:
        problems.append(
            Problem(
                source,
                f"{key}.vault_lock.changeable_for_days",
                "required in compliance mode (at least 3): the grace period "
                "before the lock can no longer be changed or removed",
            )
        )
    if mode == "governance" and changeable is not None:
        problems.append(
            Problem(
                source,
                f"{key}.vault_lock.changeable_for_days",
                "only applies in compliance mode; governance locks stay "
                "removable by privileged users",
            )
        )
    if lock_min is not None and lock_max is not None and lock_max < lock_min:
        problems.append(
            Problem(
                source,
                f"{key}.vault_lock.max_retention_days",
                f"must be >= min_retention_days ({lock_min})",
            )
        )
        lock_min = lock_max = None  # an inconsistent lock is no yardstick for retentions
    classes = backup.get("classes")
    for name, spec in classes.items() if isinstance(classes, dict) else ():
        if not isinstance(spec, dict):
            continue
        where = f"{key}.classes.{name}"
        listed = spec.get("rules")
        rules: list[Any] = listed if isinstance(listed, list) else []
        continuous = _int(spec.get("continuous_days"))
        if not rules and continuous is None:
            problems.append(Problem(source, where, "needs rules or continuous_days"))
        retentions = [(f"{where}.continuous_days", continuous)] + [
            (f"{where}.rules[{i}].retention_days", _int(r.get("retention_days")))
            for i, r in enumerate(rules)
            if isinstance(r, dict)
        ]
        for path, days in retentions:
            if days is None:
                continue
            if lock_min is not None and days < lock_min:
                problems.append(
                    Problem(
                        source,
                        path,
                        f"{days} days is shorter than the vault lock minimum "
                        f"({lock_min} days): the vault would refuse these "
                        "recovery points",
                    )
                )
            if lock_max is not None and days > lock_max:
                problems.append(
                    Problem(
                        source,
                        path,
                        f"{days} days is longer than the vault lock maximum ({lock_max} days)",
                    )
                )
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            cold, days = _int(rule.get("cold_storage_after_days")), _int(rule.get("retention_days"))
            if cold is not None and days is not None and days < cold + COLD_STORAGE_MINIMUM_DAYS:
                problems.append(
                    Problem(
                        source,
                        f"{where}.rules[{i}].cold_storage_after_days",
                        f"recovery points stay at least {COLD_STORAGE_MINIMUM_DAYS} days in "
                        f"cold storage: retention_days ({days}) must be at least "
                        f"cold_storage_after_days + {COLD_STORAGE_MINIMUM_DAYS} "
                        f"({cold + COLD_STORAGE_MINIMUM_DAYS})",
                    )
                )
        names = [r.get("name") for r in rules if isinstance(r, dict)]
        for i, rule_name in enumerate(names):
            if rule_name in names[:i]:
                problems.append(
                    Problem(
                        source, f"{where}.rules[{i}].name", f"duplicate rule name '{rule_name}'"
                    )
                )
    return problems


BUCKET_NAME_MAX = 63
ACCOUNT_ID_LENGTH = 12
# Snapshot frequencies of less than a day (model.config.SUB_DAILY, as config values).
SUB_DAILY_FREQUENCIES = frozenset(f.value for f in SUB_DAILY)


# DBInstanceIdentifier: "Must contain from 1 to 63 letters, numbers, or hyphens. First
# character must be a letter. Can't end with a hyphen or contain two consecutive hyphens"
# (RDS API Reference, CreateDBInstance; DBClusterIdentifier of CreateDBCluster the same, "1 to
# 63 (for Aurora DB clusters)"). What a database creates is named after its identifier
# (components/database.py): PostgreSQL, the instance `<id>` and its replica `<id>-dr`; Aurora,
# the cluster `<id>` with instances `<id>-1`..`<id>-<instances>` and the DR cluster `<id>-dr`
# with instances `<id>-dr-1`..`<id>-dr-<dr_instances>`. A given identifier's own shape is
# checked by the model (model.config.RdsIdentifier); the default `<system>-<name>` here.
DB_IDENTIFIER_MAX = RDS_IDENTIFIER_MAX
REPLICA_SUFFIX = "-dr"


def _identifiers_made(db: dict[str, Any], identifier: str) -> list[tuple[str, str]]:
    """(what, identifier) of every RDS instance and cluster a database creates."""
    replica = identifier + REPLICA_SUFFIX
    if db.get("engine") != "aurora-postgresql":
        return [("instance's", identifier), ("replica's", replica)]
    instances, dr_instances = _int(db.get("instances")) or 2, _int(db.get("dr_instances")) or 1
    return [
        ("cluster's", identifier),
        ("cluster instance", f"{identifier}-{instances}"),
        ("DR cluster's", replica),
        ("DR cluster instance", f"{replica}-{dr_instances}"),
    ]


def _identifier_fits(db: dict[str, Any], index: int, system: str, source: str) -> list[Problem]:
    given = db.get("identifier")
    if isinstance(given, str) and not valid_rds_identifier(given):
        return []  # the model refuses it, with the reason
    identifier = given if isinstance(given, str) else f"{system}-{db.get('name')}"
    key = f"{NAMESPACE}:databases[{index}].{'identifier' if isinstance(given, str) else 'name'}"
    if not isinstance(given, str) and ("--" in identifier or identifier.endswith("-")):
        return [
            Problem(
                source,
                key,
                f"'{identifier}' (<name>-<database name>): RDS identifiers can't end with a "
                "hyphen or contain two consecutive hyphens",
            )
        ]
    for what, made in _identifiers_made(db, identifier):
        if len(made) > DB_IDENTIFIER_MAX:
            return [
                Problem(
                    source,
                    key,
                    f"the {what} identifier '{made}' would be {len(made)} characters; RDS "
                    f"allows {DB_IDENTIFIER_MAX}",
                )
            ]
    return []


# BackupPlanName: "Must contain 1 to 50 alphanumeric or '-_.' characters" (AWS Backup API,
# BackupPlanInput); the plans are named <system>-<role>-<class> (components/backup.py).
BACKUP_PLAN_NAME_MAX = 50


def _plan_names_fit(values: Mapping[str, Any], classes: Any, source: str) -> list[Problem]:
    system = values.get("name")
    if not isinstance(system, str) or not isinstance(classes, dict):
        return []
    problems = []
    for name in classes:
        longest = f"{system}-primary-{name}"
        if len(longest) > BACKUP_PLAN_NAME_MAX:
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:backup.classes.{name}",
                    f"the backup plan '{longest}' would be {len(longest)} characters; AWS "
                    f"Backup allows {BACKUP_PLAN_NAME_MAX}: shorten the class name",
                )
            )
    return problems


def _rds_snapshot_frequency(
    db: dict[str, Any], index: int, classes: Any, source: str
) -> list[Problem]:
    """An RDS instance whose class takes continuous backups gets one snapshot a day, whatever
    the rule says: "RDS takes snapshots once per day, even if a backup plan has a frequency
    for snapshot backups other than once per day" (AWS Backup Developer Guide, "Continuous
    backups and point-in-time recovery (PITR)", RDS). A sub-daily rule would promise copies
    AWS never makes. Aurora is not limited this way (the page says so of RDS only)."""
    if db.get("engine", "postgres") != "postgres" or not isinstance(classes, dict):
        return []
    name = db.get("backup_class")
    spec = classes.get(name) if isinstance(name, str) else None
    if not isinstance(spec, dict) or spec.get("continuous_days") is None:
        return []
    rules = spec.get("rules")
    problems = []
    for r, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict) and rule.get("frequency") in SUB_DAILY_FREQUENCIES:
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:backup.classes.{name}.rules[{r}].frequency",
                    f"'{rule['frequency']}' snapshots of databases[{index}] ({db.get('name')}), "
                    "an RDS instance under this class's continuous backup: AWS Backup takes "
                    "its RDS snapshots once per day then, whatever the rule's frequency. Make "
                    "the rule daily or rarer, or drop the class's continuous_days (the "
                    "instance keeps point-in-time recovery in its own automated backups, "
                    "databases[].backup_retention_days)",
                )
            )
    return problems


def _class_exists(entry: dict[str, Any], key: str, known: set[str], source: str) -> list[Problem]:
    """A `backup_class` must name a class of resilience:backup.classes."""
    cls = entry.get("backup_class")
    if isinstance(cls, str) and cls not in known:
        return [
            Problem(
                source,
                f"{key}.backup_class",
                f"no backup class '{cls}' in resilience:backup.classes",
            )
        ]
    return []


# Buckets every stack names `<system>-<name>-<region>-<account id>` besides the data buckets.
SECURITY_BUCKETS = {
    "access-logs": "access-log bucket",
    "audit": "audit bucket (CloudTrail)",
    "config": "AWS Config bucket",
}


def _security_bucket_checks(values: Mapping[str, Any], system: str, source: str) -> list[Problem]:
    """The audit bucket (the primary's region, where the trail is) and the Config bucket
    (each region whose recorder the stacks create) fit S3's 63 characters: "Bucket names must
    be between 3 (min) and 63 (max) characters long" (Amazon S3 User Guide, General purpose
    bucket naming rules)."""
    security = values.get("security")
    security = security if isinstance(security, dict) else {}
    trail = security.get("trail")
    recorder = security.get("config_recorder")
    trail_on = not (isinstance(trail, dict) and trail.get("enabled") is False)
    mode = recorder.get("mode", "create") if isinstance(recorder, dict) else "create"
    primary = _region_of(values, "primary")
    regions = [r for r in (primary, _region_of(values, "dr")) if r]
    wanted: list[tuple[str, str, str]] = []
    if trail_on and primary:
        wanted.append(("audit", primary, "or turn security.trail off"))
    if mode == "create" and regions:
        region = max(regions, key=len)
        wanted.append(("config", region, "or set security.config_recorder.mode to existing"))
    problems = []
    for bucket, region, alternative in wanted if system else ():
        longest = len(f"{system}-{bucket}-{region}-") + ACCOUNT_ID_LENGTH
        if longest > BUCKET_NAME_MAX:
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:name",
                    f"the {SECURITY_BUCKETS[bucket]} '{system}-{bucket}-{region}-<account id>' "
                    f"would be {longest} characters; S3 allows {BUCKET_NAME_MAX}: shorten the "
                    f"name ({alternative})",
                )
            )
    return problems


def _data_checks(values: Mapping[str, Any], source: str) -> list[Problem]:
    """Bucket names fit S3's limit; backup classes exist; databases have a network."""
    problems = []
    backup = values.get("backup")
    classes = backup.get("classes") if isinstance(backup, dict) else None
    known = set(classes) if isinstance(classes, dict) else set()
    system = values.get("name") if isinstance(values.get("name"), str) else ""
    problems.extend(_plan_names_fit(values, classes, source))
    regions = [r for r in (_region_of(values, "primary"), _region_of(values, "dr")) if r]
    if system and regions:
        # Every stack keeps its server access logs in <name>-access-logs-<region>-<account>.
        region = max(regions, key=len)
        longest = len(f"{system}-access-logs-{region}-") + ACCOUNT_ID_LENGTH
        if longest > BUCKET_NAME_MAX:
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:name",
                    f"the access-log bucket '{system}-access-logs-{region}-<account id>' would "
                    f"be {longest} characters; S3 allows {BUCKET_NAME_MAX}: shorten the name",
                )
            )
    problems.extend(_security_bucket_checks(values, str(system or ""), source))
    buckets = values.get("data_buckets")
    for i, bucket in enumerate(buckets if isinstance(buckets, list) else []):
        if not isinstance(bucket, dict):
            continue
        name = bucket.get("name")
        # (a name the bundle's own buckets take is refused by _collision_checks)
        if isinstance(name, str) and regions:
            region = max(regions, key=len)
            longest = len(f"{system}-{name}-{region}-") + ACCOUNT_ID_LENGTH
            if longest > BUCKET_NAME_MAX:
                problems.append(
                    Problem(
                        source,
                        f"{NAMESPACE}:data_buckets[{i}].name",
                        f"bucket name '{system}-{name}-{region}-<account id>' would be "
                        f"{longest} characters; S3 "
                        f"allows {BUCKET_NAME_MAX}",
                    )
                )
        problems.extend(_class_exists(bucket, f"{NAMESPACE}:data_buckets[{i}]", known, source))
    tables = values.get("tables")
    given_kms = values.get("kms")
    kms: dict[str, Any] = given_kms if isinstance(given_kms, dict) else {}
    for i, table in enumerate(tables if isinstance(tables, list) else []):
        if not isinstance(table, dict):
            continue
        problems.extend(_class_exists(table, f"{NAMESPACE}:tables[{i}]", known, source))
        if kms.get("app_key") is not True:
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:kms.app_key",
                    f"must be true for tables[{i}] ({table.get('name')}): its DR replica is "
                    "encrypted with the replica of the multi-Region key",
                )
            )
    databases = values.get("databases")
    given = values.get("network")
    network: dict[str, Any] = given if isinstance(given, dict) else {}
    for i, db in enumerate(databases if isinstance(databases, list) else []):
        if not isinstance(db, dict):
            continue
        problems.extend(_class_exists(db, f"{NAMESPACE}:databases[{i}]", known, source))
        version = db.get("engine_version", "16")
        if isinstance(version, str) and version.split(".")[0].isdigit():
            if db.get("engine") == "aurora-postgresql" and "." not in version:
                problems.append(
                    Problem(
                        source,
                        f"{NAMESPACE}:databases[{i}].engine_version",
                        f"'{version}': Aurora PostgreSQL needs a major.minor version (e.g. "
                        f"{version}.4)",
                    )
                )
            if db.get("engine", "postgres") == "postgres" and int(version.split(".")[0]) < 14:
                problems.append(
                    Problem(
                        source,
                        f"{NAMESPACE}:databases[{i}].engine_version",
                        f"'{version}': RDS PostgreSQL read replicas keep their own automated "
                        "backups from version 14 on",
                    )
                )
            elif db.get("engine", "postgres") == "postgres" and "." in version:
                # The instances upgrade their minor version by themselves
                # (auto_minor_version_upgrade), and the provider reads the running version
                # back unless the configured one is its prefix (terraform-provider-aws,
                # internal/service/rds, compareActualEngineVersion): a pinned 16.4 would
                # then diff against 16.6 and ask RDS to downgrade.
                problems.append(
                    Problem(
                        source,
                        f"{NAMESPACE}:databases[{i}].engine_version",
                        f"'{version}': give the major version only "
                        f"('{version.split('.')[0]}'): RDS moves the instance to new minor "
                        "versions itself (auto minor version upgrade), and a pinned minor "
                        "version would then read back as a change to undo",
                    )
                )
        problems.extend(_rds_snapshot_frequency(db, i, classes, source))
        problems.extend(_identifier_fits(db, i, str(system), source))
        storage, ceiling = (
            _int(db.get("allocated_storage_gb")),
            _int(db.get("max_allocated_storage_gb")),
        )
        if storage is not None and ceiling is not None and ceiling < storage:
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:databases[{i}].max_allocated_storage_gb",
                    f"must be >= allocated_storage_gb ({storage})",
                )
            )
        for role in ("primary", "dr"):
            if not isinstance(network.get(role), dict):
                problems.append(
                    Problem(
                        source,
                        f"{NAMESPACE}:network.{role}",
                        f"required by databases[{i}] ({db.get('name')}): its "
                        f"{'replica' if role == 'dr' else 'instance'} needs "
                        "subnets and security groups",
                    )
                )
    return sorted(set(problems))


# Data bucket names the bundle's own buckets take (`<system>-<name>-<region>-<account id>`,
# like a data bucket's): the region's access-log bucket (components/storage.py), the audit
# bucket (components/security_baseline.py) and bootstrap's state bucket
# (components/state_backend.py). S3: "a bucket name must be unique across all AWS accounts
# in all the AWS Regions within a partition" (Amazon S3 User Guide, Bucket naming rules).
RESERVED_BUCKET_NAMES = {
    "access-logs": "the region's access-log bucket",
    "audit": "the security baseline's audit bucket (CloudTrail)",
    "config": "the security baseline's AWS Config bucket",
    "pulumi-state": "the Pulumi state bucket bootstrap creates",
}


def _named_entries(values: Mapping[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    entries = values.get(key)
    return [
        (i, e)
        for i, e in enumerate(entries if isinstance(entries, list) else [])
        if isinstance(e, dict)
    ]


def _duplicates(named: Iterable[tuple[str, Any]], what: str, source: str) -> list[Problem]:
    """A problem at each (key, value) whose value an earlier key already has."""
    problems = []
    seen: dict[Any, str] = {}
    for key, value in named:
        if not isinstance(value, str):
            continue
        if value in seen:
            problems.append(
                Problem(source, key, f"duplicate {what} '{value}' (also {_entry(seen[value])})")
            )
        else:
            seen[value] = key
    return problems


def _entry(key: str) -> str:
    """`resilience:databases[0].identifier` -> `databases[0]`."""
    return key.removeprefix(f"{NAMESPACE}:").rsplit(".", 1)[0]


def _collision_checks(values: Mapping[str, Any], source: str) -> list[Problem]:
    """Two entries that would make the same resources. Resources are named after these
    names (`<system>-<role>-...-<name>`), so a name used twice registers its URNs twice,
    which `pulumi preview` refuses ("Duplicate resource URN '%v'; try giving it a unique
    name", pulumi/pulumi sdk/go/common/diag/errors.go), and physical names twice, which AWS
    refuses. The offline engine refuses whatever gets past (scripts/graph.py)."""
    problems: list[Problem] = []
    system = values.get("name") if isinstance(values.get("name"), str) else None
    buckets = _named_entries(values, "data_buckets")
    problems += _duplicates(
        ((f"{NAMESPACE}:data_buckets[{i}].name", b.get("name")) for i, b in buckets),
        "bucket name",
        source,
    )
    for i, bucket in buckets:
        reserved = RESERVED_BUCKET_NAMES.get(bucket.get("name"))  # type: ignore[arg-type]
        if reserved:
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:data_buckets[{i}].name",
                    f"'{bucket['name']}' is reserved: {reserved} is named "
                    f"{system or '<name>'}-{bucket['name']}-<region>-<account id>",
                )
            )
    tables = _named_entries(values, "tables")
    problems += _duplicates(
        ((f"{NAMESPACE}:tables[{i}].name", t.get("name")) for i, t in tables),
        "table name",
        source,
    )
    problems += _database_collisions(values, system, source)
    problems += _rename_collisions(values, source)
    return problems


def _database_collisions(
    values: Mapping[str, Any], system: str | None, source: str
) -> list[Problem]:
    """Databases: names, then the identifiers of what each creates. Amazon RDS User Guide,
    Amazon RDS DB instances: "The DB instance identifier must be unique for that customer in an
    AWS Region". Every identifier derives from the database's (`identifier`, default
    `<system>-<name>`), which also names its parameter and subnet groups, secret and global
    cluster: a PostgreSQL instance `<id>` and its replica `<id>-dr`; an Aurora cluster
    `<id>` with instances `<id>-1`... and a DR cluster `<id>-dr` with instances
    `<id>-dr-1`... (components/database.py)."""
    databases = _named_entries(values, "databases")
    problems = _duplicates(
        ((f"{NAMESPACE}:databases[{i}].name", d.get("name")) for i, d in databases),
        "database name",
        source,
    )
    names: set[str] = set()
    derived: list[tuple[str, str, set[str], set[str]]] = []  # key, id, instances per role
    for i, db in databases:
        name, given = db.get("name"), db.get("identifier")
        if not isinstance(name, str) or name in names:
            continue  # a duplicate name is reported above
        names.add(name)
        if isinstance(given, str):
            identifier, key = given, f"{NAMESPACE}:databases[{i}].identifier"
        elif system:
            identifier, key = f"{system}-{name}", f"{NAMESPACE}:databases[{i}].name"
        else:
            continue
        if db.get("engine") == "aurora-postgresql":
            here = range(1, (_int(db.get("instances")) or 2) + 1)
            there = range(1, (_int(db.get("dr_instances")) or 1) + 1)
            primary = {f"{identifier}-{n}" for n in here}
            dr = {f"{identifier}-dr-{n}" for n in there}
        else:
            primary, dr = {identifier}, {f"{identifier}-dr"}
        derived.append((key, identifier, primary, dr))
    by_identifier: dict[str, str] = {}
    instances: dict[tuple[str, str], str] = {}  # (role, instance identifier) -> key
    for key, identifier, primary, dr in derived:
        if identifier in by_identifier:
            which = (
                f"identifier '{identifier}'"
                if key.endswith(".identifier")
                else f"default identifier '{identifier}' (<name>-<database name>)"
            )
            problems.append(
                Problem(
                    source,
                    key,
                    f"the {which} is also the identifier of {_entry(by_identifier[identifier])}"
                    ": their instances, parameter and subnet groups and secrets would have "
                    "the same names",
                )
            )
            continue
        by_identifier[identifier] = key
        for role, made in (("primary", primary), ("dr", dr)):
            for instance in sorted(made):
                other = instances.setdefault((role, instance), key)
                if other != key:
                    problems.append(
                        Problem(
                            source,
                            key,
                            f"its {role}-region DB instance '{instance}' would have the "
                            f"identifier of an instance of {_entry(other)}",
                        )
                    )
    return problems


def _rename_collisions(values: Mapping[str, Any], source: str) -> list[Problem]:
    """A service's `previous_names` alias its resources to their URNs under the old name
    and keep the first name in the physical names of its log group, dashboard and
    composite alarms (components/monitoring.py). An old name that is another service's
    name (or its own, or listed twice) aliases onto URNs that another resource registers:
    pulumi/pulumi's engine refuses that ("Duplicate resource URN '%v' conflicting with
    alias on resource with URN '%v'") once the old state has them."""
    problems = []
    services = _named_entries(values, "services")
    current = {s.get("name"): i for i, s in services if isinstance(s.get("name"), str)}
    seen: dict[str, str] = {}
    for i, service in services:
        olds = service.get("previous_names")
        for j, old in enumerate(olds if isinstance(olds, list) else []):
            if not isinstance(old, str):
                continue
            key = f"{NAMESPACE}:services[{i}].previous_names[{j}]"
            if old in current:
                owner = current[old]
                problems.append(
                    Problem(
                        source,
                        key,
                        f"'{old}' is "
                        + (
                            "this service's own name"
                            if owner == i
                            else f"the name of services[{owner}]"
                        )
                        + ": an old name must not be in use",
                    )
                )
            elif old in seen:
                problems.append(
                    Problem(
                        source,
                        key,
                        f"'{old}' is also an old name of {_entry(seen[old])}: two "
                        "services cannot both have been it",
                    )
                )
            else:
                seen[old] = key
    return problems


# Catalog alarms a failover health check can follow: they watch the service's load balancer
# (and, for Route 53, use one metric with a basic statistic).
HEALTH_CHECK_ALARM_TARGETS = frozenset({"alb", "alb-target-group"})
HEALTH_CHECK_ALARM_IDS = tuple(
    s.id for s in CATALOG if s.target in HEALTH_CHECK_ALARM_TARGETS and route53_compatible(s)
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _traffic_checks(values: Mapping[str, Any], source: str) -> list[Problem]:
    """Scaling needs compute whose capacity the bundle sets; a DNS name needs a failover
    section and a load balancer in both regions."""
    problems: list[Problem] = []
    failover = values.get("failover")
    network = _dict(values.get("network"))
    services = values.get("services")
    records: dict[str, int] = {}
    groups: dict[tuple[str, str], int] = {}
    names: set[Any] = set()
    for i, service in enumerate(services if isinstance(services, list) else []):
        if not isinstance(service, dict):
            continue
        duplicate = service.get("name") in names  # reported on its own
        names.add(service.get("name"))
        key = f"{NAMESPACE}:services[{i}]"
        resources = _dict(service.get("resources"))
        scaling = service.get("scaling")
        dns = service.get("dns")
        for role in ("primary", "dr"):
            here = _dict(resources.get(role))
            asg, ecs, alb = _dict(here.get("asg")), here.get("ecs"), _dict(here.get("alb"))
            where = f"{key}.resources.{role}"
            if isinstance(scaling, dict) and (role == "primary" or here):
                if not asg.get("launch_template") and not isinstance(ecs, dict):
                    problems.append(
                        Problem(
                            source,
                            f"{where}.asg.launch_template" if asg else where,
                            f"required by {key}.scaling: the bundle sets the capacity only of "
                            "a group it owns (asg with launch_template) or of an ecs service",
                        )
                    )
                if _dict(scaling).get("request_limit_per_target") is not None and not alb.get(
                    "target_group"
                ):
                    problems.append(
                        Problem(
                            source,
                            f"{where}.alb.target_group",
                            f"required by {key}.scaling.request_limit_per_target: request-count "
                            "tracking reads the target group's RequestCountPerTarget",
                        )
                    )
            group = asg.get("name")
            if asg.get("launch_template") and isinstance(group, str) and not duplicate:
                if (role, group) in groups:
                    problems.append(
                        Problem(
                            source,
                            f"{where}.asg.name",
                            f"'{group}' is also owned by services[{groups[(role, group)]}]",
                        )
                    )
                groups.setdefault((role, group), i)
            if asg.get("launch_template") and isinstance(ecs, dict):
                problems.append(
                    Problem(source, f"{where}.ecs", "a service scales one compute: asg or ecs")
                )
            if (
                asg.get("launch_template")
                and not asg.get("subnet_ids")
                and not isinstance(network.get(role), dict)
            ):
                problems.append(
                    Problem(
                        source,
                        f"{where}.asg.subnet_ids",
                        f"required (or {NAMESPACE}:network.{role}): an owned group needs "
                        "subnets to launch into",
                    )
                )
            if isinstance(dns, dict) and not alb.get("load_balancer"):
                problems.append(
                    Problem(
                        source,
                        f"{where}.alb",
                        f"required by {key}.dns: each region's failover record is an alias "
                        "of that region's load balancer",
                    )
                )
        for j, peak in enumerate(_dict(scaling).get("peaks") or []):
            if isinstance(peak, dict) and peak.get("start") == peak.get("end"):
                problems.append(
                    Problem(source, f"{key}.scaling.peaks[{j}].end", "must differ from start")
                )
        if isinstance(dns, dict):
            if not isinstance(failover, dict) and not records:
                problems.append(
                    Problem(
                        source,
                        f"{NAMESPACE}:failover",
                        f"required by {key}.dns: the hosted zone and health-check settings",
                    )
                )
            record = dns.get("record")
            if isinstance(record, str) and not duplicate:
                if record in records:
                    problems.append(
                        Problem(
                            source,
                            f"{key}.dns.record",
                            f"'{record}' is also services[{records[record]}]'s record",
                        )
                    )
                records.setdefault(record, i)
    alarms = _dict(_dict(failover).get("health_check")).get("alarms")
    for j, alarm_id in enumerate(alarms if isinstance(alarms, list) else []):
        spec = BY_ID.get(alarm_id) if isinstance(alarm_id, str) else None
        where = f"{NAMESPACE}:failover.health_check.alarms[{j}]"
        if spec is not None and spec.target not in HEALTH_CHECK_ALARM_TARGETS:
            problems.append(
                Problem(
                    source,
                    where,
                    f"'{alarm_id}' watches a {spec.target}; a failover health check can follow "
                    "only alarms on the service's load balancer",
                )
            )
        elif spec is not None and not route53_compatible(spec):
            problems.append(
                Problem(
                    source,
                    where,
                    f"'{alarm_id}' uses metric math or a percentile; Route 53 follows only "
                    "alarms on one metric with a basic statistic "
                    f"({', '.join(i for i in HEALTH_CHECK_ALARM_IDS)})",
                )
            )
        for i, service in enumerate(services if isinstance(services, list) else []):
            overrides = _dict(_dict(service).get("alarms"))
            if not _dict(service).get("dns"):
                continue
            override = _dict(overrides.get(alarm_id))
            period = _int(override.get("period_seconds"))
            if period is not None and period < 60:
                problems.append(
                    Problem(
                        source,
                        f"{NAMESPACE}:services[{i}].alarms.{alarm_id}.period_seconds",
                        f"the failover health check follows {alarm_id}: Route 53 cannot follow "
                        "high-resolution alarms (periods under 60 s)",
                    )
                )
            resources = _dict(_dict(service).get("resources"))
            for role in ("primary", "dr"):
                alb = _dict(_dict(resources.get(role)).get("alb"))
                if (
                    spec is not None
                    and spec.target == "alb-target-group"
                    and not alb.get("target_group")
                ):
                    problems.append(
                        Problem(
                            source,
                            f"{NAMESPACE}:services[{i}].resources.{role}.alb.target_group",
                            f"required: the failover health check follows {alarm_id}, which "
                            "watches the target group",
                        )
                    )
            if override.get("enabled") is False:
                problems.append(
                    Problem(
                        source,
                        f"{NAMESPACE}:services[{i}].alarms.{alarm_id}.enabled",
                        f"the failover health check follows {alarm_id} (failover.health_check."
                        "alarms): it cannot be disabled for a service with dns",
                    )
                )
    return problems


def _on_kubernetes(service: Any) -> bool:
    section = _dict(service).get("kubernetes")
    return isinstance(section, dict) and section.get("enabled", True) is not False


def _kubernetes_checks(values: Mapping[str, Any], source: str) -> list[Problem]:
    """A stack that composes Kubernetes objects names its cluster; one workload is scaled by
    one service; the kube-prometheus-stack release selects the rules' labels."""
    problems: list[Problem] = []
    section = _dict(values.get("kubernetes"))
    key = f"{NAMESPACE}:kubernetes"
    role = values.get("role")
    mode = _dict(values.get("dr")).get("mode", "pilot-light")
    # The dr stack runs a service's Kubernetes objects only when its region serves.
    composes = role == "primary" or (role == "dr" and mode in ("warm-standby", "active"))
    clusters = _dict(section.get("clusters"))
    release = _dict(section.get("kube_prometheus_stack"))
    services = values.get("services")
    workloads: dict[tuple[Any, Any, Any], int] = {}
    for i, service in enumerate(services if isinstance(services, list) else []):
        if not _on_kubernetes(service):
            continue
        k8s = _dict(_dict(service).get("kubernetes"))
        if composes and isinstance(role, str) and not isinstance(clusters.get(role), dict):
            problems.append(
                Problem(
                    source,
                    f"{key}.clusters.{role}",
                    f"required by services[{i}].kubernetes: the {role} stack creates its "
                    "objects through an explicit provider for this cluster (a context)",
                )
            )
        workload = _dict(k8s.get("workload"))
        ident = (k8s.get("namespace"), workload.get("kind", "Deployment"), workload.get("name"))
        if all(isinstance(part, str) for part in ident):
            if ident in workloads:
                problems.append(
                    Problem(
                        source,
                        f"{NAMESPACE}:services[{i}].kubernetes.workload.name",
                        f"{ident[1]} {ident[0]}/{ident[2]} is also services[{workloads[ident]}]'s "
                        "workload: one HPA and one PDB per workload",
                    )
                )
            workloads.setdefault(ident, i)
    if release.get("enabled") is True:
        name = release.get("release_name", "kube-prometheus-stack")
        labels = section.get("rule_labels", {"release": "kube-prometheus-stack"})
        if isinstance(labels, dict) and isinstance(name, str) and labels.get("release") != name:
            problems.append(
                Problem(
                    source,
                    f"{key}.rule_labels",
                    f"must include release: {name}: the kube-prometheus-stack release selects "
                    "PrometheusRules by its release label, and would ignore these",
                )
            )
        missing = composes and isinstance(role, str) and not isinstance(clusters.get(role), dict)
        if missing and not any(p.key == f"{key}.clusters.{role}" for p in problems):
            problems.append(
                Problem(
                    source,
                    f"{key}.clusters.{role}",
                    "required by kubernetes.kube_prometheus_stack: the cluster to install it in",
                )
            )
    return problems


def _region_of(values: Mapping[str, Any], role: str) -> str | None:
    """The role's region if it is a known region (else it is reported on its own)."""
    section = values.get(role)
    region = section.get("region") if isinstance(section, dict) else None
    return region if region in AWS_REGIONS else None


MAX_SLO_FUNCTIONS = 5


def _override_checks(overrides: Any, key: str, source: str) -> list[Problem]:
    """Checks on an override merged with its catalog defaults."""
    if not isinstance(overrides, dict):
        return []
    problems = []
    for alarm_id, override in overrides.items():
        spec = BY_ID.get(alarm_id)
        if spec is None or not isinstance(override, dict):
            continue  # the model reports unknown ids and wrong types
        where = f"{key}.{alarm_id}"
        period = override.get("period_seconds", spec.period_seconds)
        evaluations = override.get("evaluation_periods", spec.evaluation_periods)
        datapoints = override.get("datapoints_to_alarm", spec.datapoints_to_alarm)
        threshold = override.get("threshold")
        # Values the model rejects on their own are not compared with anything.
        if not (isinstance(evaluations, int) and 1 <= evaluations <= 1440):
            evaluations = None
        if not (isinstance(datapoints, int) and 1 <= datapoints <= 1440):
            datapoints = None
        if (
            isinstance(datapoints, int)
            and isinstance(evaluations, int)
            and (datapoints > evaluations)
        ):
            problems.append(
                Problem(
                    source,
                    f"{where}.datapoints_to_alarm",
                    f"must be <= evaluation_periods ({evaluations})",
                )
            )
        if isinstance(period, int) and isinstance(evaluations, int) and valid_period(period):
            error = evaluation_range_error(period, evaluations)
            if error:
                problems.append(Problem(source, f"{where}.evaluation_periods", error))
        if (
            spec.is_percent_basis
            and isinstance(threshold, int | float)
            and not (0 < threshold <= 100)
        ):
            problems.append(
                Problem(
                    source,
                    f"{where}.threshold",
                    f"is a percentage ({spec.basis.value}): must be in (0, 100], got {threshold}",
                )
            )
    return problems


def _shown(value: Any) -> str:
    return "nothing" if value is None else repr(value)


def _cross_checks(values: Mapping[str, Any], source: str) -> list[Problem]:
    """Rules spanning several keys. They read raw values defensively so that they run even
    when other keys are invalid: the user sees every problem in one pass."""
    problems = []
    primary = values.get("primary")
    dr = values.get("dr")
    primary_region = primary.get("region") if isinstance(primary, dict) else None
    dr_region = dr.get("region") if isinstance(dr, dict) else None
    if isinstance(primary_region, str) and primary_region and primary_region == dr_region:
        problems.append(
            Problem(
                source,
                f"{NAMESPACE}:dr.region",
                f"must differ from primary region {primary_region}",
            )
        )
    if values.get("role") == Role.DR.value and not values.get("primary_stack"):
        problems.append(
            Problem(
                source,
                f"{NAMESPACE}:primary_stack",
                f"required when {NAMESPACE}:role is dr (the stack whose outputs it reads)",
            )
        )
    services = values.get("services")
    if isinstance(services, list):
        seen: dict[str, int] = {}
        for index, service in enumerate(services):
            if not isinstance(service, dict):
                continue
            name = service.get("name")
            if isinstance(name, str):
                if name in seen:
                    problems.append(
                        Problem(
                            source,
                            f"{NAMESPACE}:services[{index}].name",
                            f"duplicate service name '{name}' (also services[{seen[name]}])",
                        )
                    )
                else:
                    seen[name] = index
            problems.extend(_service_checks(service, index, values, source))
            slo = service.get("slo")
            if isinstance(slo, dict):
                p95, p99 = slo.get("latency_p95_ms"), slo.get("latency_p99_ms")
                if isinstance(p95, int) and isinstance(p99, int) and p99 < p95:
                    problems.append(
                        Problem(
                            source,
                            f"{NAMESPACE}:services[{index}].slo.latency_p99_ms",
                            f"must be >= latency_p95_ms ({p95}): a p99 is never below the p95",
                        )
                    )
    problems.extend(_backup_checks(values.get("backup"), source))
    problems.extend(_data_checks(values, source))
    problems.extend(_collision_checks(values, source))
    problems.extend(_traffic_checks(values, source))
    problems.extend(_kubernetes_checks(values, source))
    monitoring = values.get("monitoring")
    if isinstance(monitoring, dict):
        problems.extend(
            _override_checks(monitoring.get("alarms"), f"{NAMESPACE}:monitoring.alarms", source)
        )
    return problems
