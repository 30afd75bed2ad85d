"""Buckets, S3 cross-region replication and the PostgreSQL primary/replica under mocks:
hygiene of every bucket and database, the replication rule and role, the one-way wiring,
outputs for the failover automation, and the config checks."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from model.loader import ConfigError, load_file
from scripts.engine import SynthResult, synth_all
from scripts.mock_aws import digest
from tests.conftest import ConfigWriter, resources

BUCKET = "aws:s3/bucket:Bucket"
RDS = "aws:rds/instance:Instance"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def by_bucket(result: SynthResult, typ: str) -> dict[str, dict[str, Any]]:
    """Sub-resources of buckets (versioning, encryption, ...) by the bucket they configure."""
    ids = {b["id"]: b["inputs"]["bucket"] for b in resources(result, BUCKET)}
    return {
        ids.get(r["inputs"]["bucket"], r["inputs"]["bucket"]): r["inputs"]
        for r in resources(result, typ)
    }


@pytest.mark.parametrize(("stack", "region"), [("primary", "us-east-1"), ("dr", "us-west-2")])
def test_every_bucket_is_private_versioned_encrypted_logged_and_protected(
    synthesized: dict[str, SynthResult], stack: str, region: str
) -> None:
    result = synthesized[stack]
    data = f"reskflow-uploads-{region}-123456789012"
    logs = f"reskflow-access-logs-{region}-123456789012"
    # The security baseline's (tests/test_security.py): the trail's audit bucket in the
    # primary, AWS Config's bucket in each region.
    security = {f"reskflow-config-{region}-123456789012"}
    if stack == "primary":
        security.add(f"reskflow-audit-{region}-123456789012")
    buckets = {b["inputs"]["bucket"]: b for b in resources(result, BUCKET)}
    assert set(buckets) == {data, logs, *security}
    for bucket in buckets.values():
        assert bucket["options"]["protect"] is True
        assert bucket["inputs"]["forceDestroy"] is False
        assert bucket["region"] == region
    blocks = by_bucket(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    versioning = by_bucket(result, "aws:s3/bucketVersioning:BucketVersioning")
    encryption = by_bucket(
        result,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    policies = by_bucket(result, "aws:s3/bucketPolicy:BucketPolicy")
    for name in buckets:
        assert {k: v for k, v in blocks[name].items() if k != "bucket"} == {
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        }
        assert versioning[name]["versioningConfiguration"] == {"status": "Enabled"}
        deny = json.loads(policies[name]["policy"])["Statement"][0]
        assert (deny["Effect"], deny["Condition"]) == (
            "Deny",
            {"Bool": {"aws:SecureTransport": "false"}},
        )
    (data_rule,) = encryption[data]["rules"]
    assert data_rule["applyServerSideEncryptionByDefault"] == {
        "kmsMasterKeyId": result.outputs["kms_key_arn"],
        "sseAlgorithm": "aws:kms",
    }
    assert data_rule["bucketKeyEnabled"] is True
    # S3 server access logs can only be delivered to an SSE-S3 bucket.
    (log_rule,) = encryption[logs]["rules"]
    assert log_rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    logging = by_bucket(result, "aws:s3/bucketLogging:BucketLogging")
    assert logging[data]["targetBucket"] == logs
    # A DR replica bucket joins its backup class only once the DR region is active: while
    # replicating, the primary's backups and their copies cover the data.
    # Both carry the RPO of their class (uploads: hourly) for the RTO/RPO analysis.
    expected_tags = {"resilience-rpo-minutes": "60"}
    if stack == "primary":
        expected_tags["backup-policy"] = "uploads"
    assert buckets[data]["inputs"].get("tags") == expected_tags


def test_lifecycle_comes_from_config(synthesized: dict[str, SynthResult]) -> None:
    lifecycle = by_bucket(
        synthesized["primary"], "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    (rule,) = lifecycle["reskflow-uploads-us-east-1-123456789012"]["rules"]
    assert rule["transitions"] == [{"days": 30, "storageClass": "STANDARD_IA"}]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    (log_rule,) = lifecycle["reskflow-access-logs-us-east-1-123456789012"]["rules"]
    assert log_rule["expiration"] == {"days": 365}  # logs.audit_retention_days


def test_replication_rule_owned_by_the_dr_stack(synthesized: dict[str, SynthResult]) -> None:
    primary, dr = synthesized["primary"], synthesized["dr"]
    assert not resources(primary, REPLICATION)  # the primary never knows about the dr stack
    (config,) = resources(dr, REPLICATION)
    assert config["inputs"]["bucket"] == primary.outputs["data_buckets"]["uploads"]["bucket"]
    assert config["region"] == "us-east-1"
    assert config["options"]["retain_on_delete"] is True
    (rule,) = config["inputs"]["rules"]
    destination = rule["destination"]
    assert rule["id"] == "uploads-to-us-west-2"
    assert rule["status"] == "Enabled"
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert destination["bucket"] == dr.outputs["data_buckets"]["uploads"]["arn"]
    assert destination["encryptionConfiguration"] == {"replicaKmsKeyId": dr.outputs["kms_key_arn"]}
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"] == {"eventThreshold": {"minutes": 15}, "status": "Enabled"}
    assert dr.outputs["replication_rule_ids"] == {"uploads": "uploads-to-us-west-2"}


def test_replication_role_has_least_privilege(synthesized: dict[str, SynthResult]) -> None:
    dr, primary = synthesized["dr"], synthesized["primary"]
    policy = next(
        json.loads(p["inputs"]["policy"])
        for p in resources(dr, "aws:iam/rolePolicy:RolePolicy")
        if "s3-replication" in p["name"]
    )
    statements = {s["Sid"]: s for s in policy["Statement"]}
    source = "arn:aws:s3:::reskflow-uploads-us-east-1-123456789012"
    replica = "arn:aws:s3:::reskflow-uploads-us-west-2-123456789012"
    assert statements["ReadSourceConfiguration"]["Resource"] == [source]
    assert statements["ReadSourceVersions"]["Resource"] == [f"{source}/*"]
    assert statements["WriteReplicas"]["Resource"] == [f"{replica}/*"]
    # Delete markers are not replicated, so the role cannot replicate deletes.
    assert statements["WriteReplicas"]["Action"] == ["s3:ReplicateObject", "s3:ReplicateTags"]
    decrypt = statements["DecryptWithSourceKey"]
    assert decrypt["Resource"] == primary.outputs["kms_key_arn"]
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    encrypt = statements["EncryptWithReplicaKey"]
    assert encrypt["Resource"] == dr.outputs["kms_key_arn"]
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-west-2.amazonaws.com"}
    for statement in policy["Statement"]:
        assert statement["Resource"] != "*"
        assert "*" not in statement["Action"]


def test_replicating_deletes_is_a_choice(write_config: ConfigWriter) -> None:
    def deletes(config: dict[str, Any]) -> None:
        config["resilience:data_buckets"][0]["replicate_deletes"] = True

    primary = load_file(write_config(deletes, name="primary"))
    dr = load_file(write_config(deletes, base="dr", name="dr"))
    result = synth_all([primary, dr])[1]
    (config,) = resources(result, REPLICATION)
    assert config["inputs"]["rules"][0]["deleteMarkerReplication"] == {"status": "Enabled"}
    policy = next(
        json.loads(p["inputs"]["policy"])
        for p in resources(result, "aws:iam/rolePolicy:RolePolicy")
        if "s3-replication" in p["name"]
    )
    write = next(s for s in policy["Statement"] if s["Sid"] == "WriteReplicas")
    assert "s3:ReplicateDelete" in write["Action"]


def test_primary_database(synthesized: dict[str, SynthResult]) -> None:
    result = synthesized["primary"]
    (db,) = resources(result, RDS)
    inputs = db["inputs"]
    assert inputs["identifier"] == "reskflow-db"
    assert (inputs["engine"], inputs["engineVersion"]) == ("postgres", "16")
    assert inputs["storageEncrypted"] is True
    assert inputs["kmsKeyId"] == result.outputs["kms_key_arn"]
    assert inputs["multiAz"] is True
    assert inputs["publiclyAccessible"] is False
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["backupRetentionPeriod"] == 35
    # RDS refuses a read replica of an instance whose master password it manages: the
    # password is generated, secret in state, and stored in a replicated, encrypted secret.
    assert "manageMasterUserPassword" not in inputs
    assert inputs["password"] == "[secret]"
    secret = next(
        r
        for r in resources(result, "aws:secretsmanager/secret:Secret")
        if r["inputs"]["name"] == "reskflow-db/master"
    )
    assert secret["inputs"]["kmsKeyId"] == result.outputs["kms_key_arn"]
    assert secret["options"]["protect"] is True
    # The DR copy uses the DR region's AWS managed key: the dr stack's keys do not exist yet
    # when the primary deploys.
    assert secret["inputs"]["replicas"] == [{"region": "us-west-2"}]
    # Continuous backup (class transactional) hands the backup window and retention to AWS
    # Backup: Pulumi leaves them alone.
    assert db["options"]["ignore_changes"] == ["backupRetentionPeriod", "backupWindow"]
    (version,) = resources(result, "aws:secretsmanager/secretVersion:SecretVersion")
    assert version["inputs"]["secretString"] == "[secret]"
    generated = digest("password", "reskflow-primary-orders-db-master-password")[:32]
    assert generated not in json.dumps(result.graph)  # the offline engine's stand-in value
    assert (inputs["allocatedStorage"], inputs["maxAllocatedStorage"]) == (5000, 7500)
    assert inputs["tags"] == {"backup-policy": "transactional", "resilience-rpo-minutes": "5"}
    assert db["options"]["protect"] is True
    (parameters,) = resources(result, "aws:rds/parameterGroup:ParameterGroup")
    assert {"applyMethod": "immediate", "name": "rds.force_ssl", "value": "1"} in parameters[
        "inputs"
    ]["parameters"]
    # The family of the major version, in the name: a new major gets a new group.
    assert parameters["inputs"]["family"] == "postgres16"
    assert parameters["inputs"]["name"] == "reskflow-db-postgres16"
    assert inputs["parameterGroupName"] == "reskflow-db-postgres16"
    # A major version in the config is an upgrade RDS accepts ("Major version upgrades must
    # be allowed when specifying a value for the EngineVersion parameter that's a different
    # major version"); changes wait for the maintenance window unless the config says so.
    assert inputs["allowMajorVersionUpgrade"] is True
    assert inputs["applyImmediately"] is False
    assert result.outputs["databases"]["orders-db"]["identifier"] == "reskflow-db"
    # What it runs, for the replica's parameter group (the offline engine: what it asked for).
    assert result.outputs["databases"]["orders-db"]["engine_version"] == "16"


def test_dr_replica_has_its_own_key_and_backups(synthesized: dict[str, SynthResult]) -> None:
    dr, primary = synthesized["dr"], synthesized["primary"]
    (replica,) = resources(dr, RDS)
    inputs = replica["inputs"]
    assert inputs["identifier"] == "reskflow-db-dr"
    assert inputs["replicateSourceDb"] == primary.outputs["databases"]["orders-db"]["arn"]
    assert inputs["kmsKeyId"] == dr.outputs["kms_key_arn"]
    assert inputs["storageEncrypted"] is True
    # A promoted replica must not be left without backups.
    assert inputs["backupRetentionPeriod"] == 7
    assert inputs["deletionProtection"] is True
    assert inputs["publiclyAccessible"] is False
    assert replica["options"]["protect"] is True
    assert replica["region"] == "us-west-2"
    assert dr.outputs["databases"]["orders-db"]["endpoint"].endswith(
        ".us-west-2.rds.amazonaws.com:5432"
    )
    # It runs its source's version: a group of the source's family; it never asks for a
    # major upgrade of its own ("Major Version Upgrade not supported for Postgres Read
    # Replica DB Instances", RDS's answer quoted in terraform-provider-aws PR 7013).
    assert inputs["parameterGroupName"] == "reskflow-db-dr-postgres16"
    (parameters,) = resources(dr, "aws:rds/parameterGroup:ParameterGroup")
    assert parameters["inputs"]["family"] == "postgres16"
    assert "allowMajorVersionUpgrade" not in inputs
    assert "engineVersion" not in inputs


LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@pytest.mark.parametrize(
    ("stack", "identifier"), [("primary", "reskflow-db"), ("dr", "reskflow-db-dr")]
)
def test_rds_log_groups_exist_before_the_instance_with_retention_and_key(
    synthesized: dict[str, SynthResult], stack: str, identifier: str
) -> None:
    """RDS streams exported logs to /aws/rds/instance/<id>/<type> and "AWS retains log data
    published to CloudWatch Logs for an indefinite time period unless you specify a retention
    period" (RDS User Guide, Publishing database logs to CloudWatch Logs): the stack makes
    them first. ReskFlow keeps audit logs a year (PCI DSS 10.5.1, logs.audit_retention_days:
    365); Enhanced Monitoring's RDSOSMetrics its app logs' 30 days (L195-200), the AWS
    default too ("By default, Enhanced Monitoring metrics are stored for 30 days")."""
    result = synthesized[stack]
    key = result.outputs["kms_key_arn"]
    groups = {g["inputs"]["name"]: g for g in resources(result, LOG_GROUP)}
    (instance,) = resources(result, RDS)
    assert instance["inputs"]["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    expected = {
        f"/aws/rds/instance/{identifier}/postgresql": 365,
        f"/aws/rds/instance/{identifier}/upgrade": 365,
        "RDSOSMetrics": 30,
    }
    for name, days in expected.items():
        group = groups[name]
        assert group["inputs"]["retentionInDays"] == days
        assert group["inputs"]["kmsKeyId"] == key
        assert group["options"]["protect"] is True
        assert group["region"] == result.graph["region"]
        assert group["urn"] in instance["options"]["depends_on"], name
    # The key lets CloudWatch Logs use it for these groups: its statement for the logs
    # service is conditioned on the log group ARN (kms:EncryptionContext:aws:logs:arn).
    (key_resource,) = (
        k for k in resources(result, "aws:kms/key:Key") if k["computed"].get("arn") == key
    )
    statement = next(
        st
        for st in json.loads(key_resource["inputs"]["policy"])["Statement"]
        if str(st["Principal"].get("Service", "")).startswith("logs.")
    )
    pattern = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    region = result.graph["region"]
    for name in expected:
        assert fnmatch.fnmatchcase(
            f"arn:aws:logs:{region}:123456789012:log-group:{name}", pattern
        ), name


def test_rds_os_metrics_left_to_another_stack(write_config: ConfigWriter) -> None:
    """One RDSOSMetrics per account and region: a second system in the same region says
    `logs.rds_os_metrics: external` and makes none (its instances still export their logs
    into groups of their own)."""
    from scripts.engine import synth

    result = synth(
        load_file(write_config(lambda c: c["resilience:logs"].update(rds_os_metrics="external")))
    )
    names = {g["inputs"]["name"] for g in resources(result, LOG_GROUP)}
    assert "RDSOSMetrics" not in names
    assert "/aws/rds/instance/reskflow-db/postgresql" in names


def _version(version: str, **database: Any) -> Any:
    def edit(config: dict[str, Any]) -> None:
        config["resilience:databases"][0].update(engine_version=version, **database)

    return edit


def _stack_findings(result: SynthResult) -> list[str]:
    from policies.rules import STACK_RULES
    from policies.rules.stack import evaluate_stack, view_from_graph

    found, _ = evaluate_stack(view_from_graph(result.graph), STACK_RULES)
    return [f"{f.rule_id}: {f.message}" for f in found]


def test_a_major_upgrade_16_to_17_is_a_graph_rds_accepts(write_config: ConfigWriter) -> None:
    """engine_version 16 -> 17: the primary asks for 17 with major upgrades allowed and a
    group of the new family ("For major version upgrades, if a nondefault DB parameter group
    is currently in use, a new DB parameter group in the DB parameter group family for the
    new engine version must be specified", ModifyDBInstance), under a new name so it exists
    before the instance moves to it; the replica follows the version its source runs."""
    upgrade = _version("17", apply_immediately=True)
    primary, dr = synth_all(
        [
            load_file(write_config(upgrade, name="primary")),
            load_file(write_config(upgrade, base="dr", name="dr")),
        ]
    )
    (instance,) = resources(primary, RDS)
    assert instance["inputs"]["engineVersion"] == "17"
    assert instance["inputs"]["allowMajorVersionUpgrade"] is True
    assert instance["inputs"]["applyImmediately"] is True
    (group,) = resources(primary, "aws:rds/parameterGroup:ParameterGroup")
    assert (group["inputs"]["name"], group["inputs"]["family"]) == (
        "reskflow-db-postgres17",
        "postgres17",
    )
    assert instance["inputs"]["parameterGroupName"] == "reskflow-db-postgres17"
    (replica,) = resources(dr, RDS)
    (replica_group,) = resources(dr, "aws:rds/parameterGroup:ParameterGroup")
    assert replica_group["inputs"]["family"] == "postgres17"
    assert replica["inputs"]["parameterGroupName"] == "reskflow-db-dr-postgres17"
    for result in (primary, dr):
        assert not [f for f in _stack_findings(result) if "parameter-group" in f]


def test_the_replica_keeps_its_family_until_the_primary_runs_the_new_major(
    write_config: ConfigWriter,
) -> None:
    """The dr stack's config says 17 but the primary still runs 16 (not deployed yet, or the
    upgrade waits for the maintenance window): the replica keeps a postgres16 group, since
    its own parameter group can change "only after the upgrade completes by modifying the
    read replica" (How to perform a major version upgrade for RDS for PostgreSQL)."""
    _, dr = synth_all(
        [
            load_file(write_config(name="primary")),
            load_file(write_config(_version("17"), base="dr", name="dr")),
        ]
    )
    (replica_group,) = resources(dr, "aws:rds/parameterGroup:ParameterGroup")
    assert replica_group["inputs"]["family"] == "postgres16"
    assert not [f for f in _stack_findings(dr) if "parameter-group" in f]


def test_every_stateful_resource_is_protected_and_encrypted_with_its_regions_key(
    synthesized: dict[str, SynthResult],
) -> None:
    key_fields = {
        "aws:rds/instance:Instance": "kmsKeyId",
        "aws:backup/vault:Vault": "kmsKeyArn",
        "aws:cloudwatch/logGroup:LogGroup": "kmsKeyId",
        "aws:sns/topic:Topic": "kmsMasterKeyId",
        "aws:lambda/function:Function": "kmsKeyArn",
    }
    for result in synthesized.values():
        own_key = result.outputs["kms_key_arn"]
        for resource in result.graph["resources"]:
            if resource["type"] in key_fields:
                assert resource["inputs"].get(key_fields[resource["type"]]) == own_key, resource[
                    "name"
                ]
            if resource["type"] in {BUCKET, RDS, "aws:backup/vault:Vault"}:
                assert resource["options"]["protect"] is True, resource["name"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda c: c["resilience:data_buckets"][0].update(
                name="customer-uploads-and-attachments"
            ),
            "Pulumi.bad.yaml: resilience:data_buckets[0].name: bucket name 'reskflow-customer-"
            "uploads-and-attachments-us-east-1-<account id>' would be 64 characters; S3 allows 63",
            id="bucket-name-too-long",
        ),
        pytest.param(
            lambda c: c["resilience:data_buckets"][0].update(backup_class="media"),
            "Pulumi.bad.yaml: resilience:data_buckets[0].backup_class: no backup class 'media' "
            "in resilience:backup.classes",
            id="unknown-backup-class",
        ),
        pytest.param(
            lambda c: c["resilience:network"].pop("dr"),
            "Pulumi.bad.yaml: resilience:network.dr: required by databases[0] (orders-db): its "
            "replica needs subnets and security groups",
            id="replica-without-network",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(max_allocated_storage_gb=4000),
            "Pulumi.bad.yaml: resilience:databases[0].max_allocated_storage_gb: must be >= "
            "allocated_storage_gb (5000)",
            id="storage-ceiling-below-allocation",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(backup_retention_days=3),
            "Pulumi.bad.yaml: resilience:databases[0].backup_retention_days: must be greater "
            "than or equal to 7, got 3",
            id="primary-backups-too-short",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(engine="aurora-postgresql"),
            "Pulumi.bad.yaml: resilience:databases[0].engine_version: '16': Aurora PostgreSQL "
            "needs a major.minor version (e.g. 16.4)",
            id="aurora-major-only",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(engine_version="13"),
            "Pulumi.bad.yaml: resilience:databases[0].engine_version: '13': RDS PostgreSQL read "
            "replicas keep their own automated backups from version 14 on",
            id="replica-backups-need-pg14",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(identifier="a" * 61),
            "Pulumi.bad.yaml: resilience:databases[0].identifier: the replica's identifier '"
            + "a" * 61
            + "-dr' would be 64 characters; RDS allows 63",
            id="replica-identifier-too-long",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(identifier="reskflow--db"),
            "Pulumi.bad.yaml: resilience:databases[0].identifier: 'reskflow--db' is not an RDS "
            "identifier: 1-63 lowercase letters, digits and hyphens, starting with a letter; "
            "RDS identifiers can't end with a hyphen or contain two consecutive hyphens",
            id="identifier-double-hyphen",
        ),
        pytest.param(
            # The default identifier <name>-<database name> of a system name with "--".
            lambda c: (
                c.update({"resilience:name": "resk--flow"}),
                c["resilience:databases"][0].pop("identifier"),
            ),
            "Pulumi.bad.yaml: resilience:databases[0].name: 'resk--flow-orders-db' (<name>-"
            "<database name>): RDS identifiers can't end with a hyphen or contain two "
            "consecutive hyphens",
            id="default-identifier-double-hyphen",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(engine_version="16.4"),
            "Pulumi.bad.yaml: resilience:databases[0].engine_version: '16.4': give the major "
            "version only ('16'): RDS moves the instance to new minor versions itself (auto "
            "minor version upgrade), and a pinned minor version would then read back as a "
            "change to undo",
            id="rds-minor-version-pinned",
        ),
        pytest.param(
            lambda c: c["resilience:network"]["primary"].update(subnet_ids=["subnet-0a1b2c3d"]),
            "Pulumi.bad.yaml: resilience:network.primary.subnet_ids: must have at least 2 items "
            "after validation, not 1",
            id="single-subnet",
        ),
    ],
)
def test_data_config_errors(write_config: ConfigWriter, edit: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_file(write_config(edit))
    assert [str(p) for p in caught.value.problems] == [expected]


def _aurora(config: dict[str, Any]) -> None:
    """The shipped system with an Aurora Global Database instead of RDS + read replica."""
    config["resilience:databases"][0].update(
        engine="aurora-postgresql", engine_version="16.4", instances=2
    )
    resources_ = config["resilience:services"][0]["resources"]
    for role in ("primary", "dr"):
        for db in resources_[role]["databases"]:
            db.update(engine="aurora-postgresql", allocated_storage_gb=None)


@pytest.mark.parametrize("mode", ["pilot-light", "active"])
def test_aurora_global_database_when_config_says_so(write_config: ConfigWriter, mode: str) -> None:
    def edit(config: dict[str, Any]) -> None:
        _aurora(config)
        config["resilience:dr"]["mode"] = mode

    primary, dr = synth_all(
        [
            load_file(write_config(edit, name="primary")),
            load_file(write_config(edit, base="dr", name="dr")),
        ]
    )
    (global_cluster,) = resources(primary, "aws:rds/globalCluster:GlobalCluster")
    assert global_cluster["inputs"]["storageEncrypted"] is True
    assert global_cluster["inputs"]["deletionProtection"] is True
    assert global_cluster["options"]["protect"] is True
    (writer,) = resources(primary, "aws:rds/cluster:Cluster")
    assert writer["inputs"]["globalClusterIdentifier"] == global_cluster["id"]
    assert writer["inputs"]["kmsKeyId"] == primary.outputs["kms_key_arn"]
    assert writer["inputs"]["masterPassword"] == "[secret]"
    assert "manageMasterUserPassword" not in writer["inputs"]  # not allowed in global DBs
    assert writer["inputs"]["backupRetentionPeriod"] == 35
    assert writer["options"]["protect"] is True
    assert len(resources(primary, "aws:rds/clusterInstance:ClusterInstance")) == 2
    assert not resources(primary, RDS)

    (secondary,) = resources(dr, "aws:rds/cluster:Cluster")
    inputs = secondary["inputs"]
    assert inputs["clusterIdentifier"] == "reskflow-db-dr"
    assert inputs["kmsKeyId"] == dr.outputs["kms_key_arn"]
    # Detached, it is the writer with the primary's retention, as the failover leaves it.
    assert inputs["backupRetentionPeriod"] == (35 if mode == "active" else 7)
    assert "masterPassword" not in inputs
    ignored = set(secondary["options"]["ignore_changes"])
    if mode == "active":  # promoted: its class's continuous backup now manages the window
        assert ignored == {
            "replicationSourceIdentifier",
            "preferredBackupWindow",
            "backupRetentionPeriod",
        }
        assert secondary["inputs"]["tags"] == {
            "backup-policy": "transactional",
            "resilience-rpo-minutes": "5",
        }
        assert secondary["inputs"]["finalSnapshotIdentifier"] == "reskflow-db-dr-final"
    else:
        assert ignored == {"replicationSourceIdentifier"}
        # Replicating: no backup class yet (the primary's backups cover it), only its RPO.
        assert secondary["inputs"]["tags"] == {"resilience-rpo-minutes": "5"}
        assert secondary["inputs"]["skipFinalSnapshot"] is True
    assert len(resources(dr, "aws:rds/clusterInstance:ClusterInstance")) == 1
    if mode == "active":
        assert "globalClusterIdentifier" not in inputs  # detached: a standalone writer
        assert {r["region"] for r in dr.graph["resources"] if r["region"]} == {"us-west-2"}
    else:
        assert (
            inputs["globalClusterIdentifier"]
            == primary.outputs["databases"]["orders-db"]["global_cluster_id"]
        )
        lag = next(
            r
            for r in resources(dr, "aws:cloudwatch/metricAlarm:MetricAlarm")
            if "aurora-global-replication-lag" in r["name"]
        )
        assert lag["inputs"]["threshold"] == 150_000  # 50 % of the 5-minute RPO, in ms
        (query,) = lag["inputs"]["metricQueries"]
        assert query["metric"]["metricName"] == "AuroraGlobalDBReplicationLag"
        assert query["metric"]["dimensions"] == {"DBClusterIdentifier": "reskflow-db-dr"}
        assert not any(
            "rds-replica-lag" in r["name"]
            for r in resources(dr, "aws:cloudwatch/metricAlarm:MetricAlarm")
        )


def test_dynamodb_global_table_replicates_to_dr_under_its_own_key(
    write_config: ConfigWriter,
) -> None:
    def table(config: dict[str, Any]) -> None:
        config["resilience:tables"] = [
            {
                "name": "idempotency-keys",
                "hash_key": "key",
                "ttl_attribute": "expires_at",
                "backup_class": "transactional",
            }
        ]

    primary, dr = synth_all(
        [
            load_file(write_config(table, name="primary")),
            load_file(write_config(table, base="dr", name="dr")),
        ]
    )
    (declared,) = resources(primary, "aws:dynamodb/table:Table")
    inputs = declared["inputs"]
    assert inputs["name"] == "reskflow-idempotency-keys"
    assert inputs["serverSideEncryption"] == {
        "enabled": True,
        "kmsKeyArn": primary.outputs["app_key_arn"],
    }
    assert inputs["pointInTimeRecovery"] == {"enabled": True}
    assert inputs["deletionProtectionEnabled"] is True
    assert (inputs["streamEnabled"], inputs["streamViewType"]) == (True, "NEW_AND_OLD_IMAGES")
    assert "replicas" not in inputs  # the dr stack owns the replica (one-way)
    assert declared["options"]["ignore_changes"] == ["replicas"]
    assert declared["options"]["protect"] is True
    assert inputs["tags"] == {"backup-policy": "transactional", "resilience-rpo-minutes": "5"}
    (replica,) = resources(dr, "aws:dynamodb/tableReplica:TableReplica")
    assert (
        replica["inputs"]["globalTableArn"] == primary.outputs["tables"]["idempotency-keys"]["arn"]
    )
    assert replica["inputs"]["kmsKeyArn"] == dr.outputs["app_key_arn"]
    assert replica["inputs"]["pointInTimeRecovery"] is True
    assert replica["region"] == "us-west-2"
    assert replica["options"]["protect"] is True


def test_global_tables_need_the_multi_region_key(write_config: ConfigWriter) -> None:
    def table_without_key(config: dict[str, Any]) -> None:
        config["resilience:kms"]["app_key"] = False
        config["resilience:tables"] = [{"name": "sessions", "hash_key": "id"}]

    with pytest.raises(ConfigError) as caught:
        load_file(write_config(table_without_key))
    assert [str(p) for p in caught.value.problems] == [
        "Pulumi.bad.yaml: resilience:kms.app_key: must be true for tables[0] (sessions): its DR "
        "replica is encrypted with the replica of the multi-Region key"
    ]
