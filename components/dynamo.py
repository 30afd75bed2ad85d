"""DynamoDB global tables: the table in the primary region (primary stack) and its replica
in the DR region (dr stack, one-way: it reads the table's ARN from the primary's outputs).

Both replicas accept writes (last writer wins), so a failover needs no promotion. Each is
encrypted with a customer-managed key of its own region (the multi-Region app key, and in
the DR region its replica, which the dr stack owns). Point-in-time recovery and deletion
protection are on for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from model.config import GlobalTable
from model.tags import BACKUP_CLASS, RPO_MINUTES

COMPONENT_TYPE = "resilience:data:GlobalTable"
REPLICA_TYPE = "resilience:data:GlobalTableReplica"


@dataclass(frozen=True)
class GlobalTableArgs:
    system: str
    table: GlobalTable
    provider: aws.Provider
    key_arn: pulumi.Input[str]  # the multi-Region app key in the primary region
    rpo_minutes: int  # of its data class (tagged for the RTO/RPO analysis)


class DynamoGlobalTable(pulumi.ComponentResource):
    table: aws.dynamodb.Table

    def __init__(
        self, name: str, args: GlobalTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        spec = args.table
        attributes = [aws.dynamodb.TableAttributeArgs(name=spec.hash_key, type=spec.hash_key_type)]
        if spec.range_key:
            attributes.append(
                aws.dynamodb.TableAttributeArgs(name=spec.range_key, type=spec.range_key_type)
            )
        self.table = aws.dynamodb.Table(
            name,
            name=f"{args.system}-{spec.name}",
            billing_mode="PAY_PER_REQUEST",
            hash_key=spec.hash_key,
            range_key=spec.range_key,
            attributes=attributes,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=args.key_arn
            ),
            deletion_protection_enabled=True,
            # Global tables replicate through the stream.
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True)
            if spec.ttl_attribute
            else None,
            tags={
                RPO_MINUTES: str(args.rpo_minutes),
                **({BACKUP_CLASS: spec.backup_class} if spec.backup_class else {}),
            },
            # The DR replica is the dr stack's aws.dynamodb.TableReplica.
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, protect=True, ignore_changes=["replicas"]
            ),
        )
        self.register_outputs({"arn": self.table.arn, "name": self.table.name})


@dataclass(frozen=True)
class TableReplicaArgs:
    table: GlobalTable
    global_table_arn: pulumi.Input[str]
    provider: aws.Provider  # the DR region's
    key_arn: pulumi.Input[str]  # the DR replica of the multi-Region app key
    rpo_minutes: int  # of its data class, as on the global table


class DynamoTableReplica(pulumi.ComponentResource):
    replica: aws.dynamodb.TableReplica

    def __init__(
        self, name: str, args: TableReplicaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(REPLICA_TYPE, name, None, opts)
        self.replica = aws.dynamodb.TableReplica(
            name,
            global_table_arn=args.global_table_arn,
            kms_key_arn=args.key_arn,
            point_in_time_recovery=True,
            deletion_protection_enabled=True,
            tags={RPO_MINUTES: str(args.rpo_minutes)},
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, protect=True),
        )
        self.register_outputs({"arn": self.replica.arn})
