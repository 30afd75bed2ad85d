"""AWS's own API models as a rule: each resource kind's inputs checked against the request
they become (botocore's service-2 models: enums, patterns, lengths, ranges, list sizes,
required members), as tflint-ruleset-aws does from the Go SDK's models.

`KINDS` is the one mapping table: Pulumi type token -> the botocore service and operation,
and per Pulumi input (wire name, camelCase, as the graph records it) the API member path
(policies/rules/api_shapes.py, `F`, says how paths, nested objects, maps and joins read).
`UNMAPPED` lists the kinds we create that are not mapped, with why. tests/test_api_models.py
fails when a kind of the shipped or example graphs is in neither, when the table names an
input the Pulumi type lacks or a member the model lacks, and when an input the graphs carry
is neither mapped nor listed in the kind's `unchecked`.

Provider facts the table relies on (each quoted where it is used):
- pulumi-aws auto-names every resource's `name` input when absent, "Only apply auto-name to
  input properties (Optional || Required) named `name`" with at most 255 characters unless
  the resource says less (provider/resources.go, setAutonaming; "aws_iam_role" and
  "aws_cloudwatch_event_rule": `tfbridge.AutoName("name", 64, "-")`). The rule checks the
  name Pulumi would generate (`<logical name>-` and 7 hex characters) against the member.
- Every pulumi-aws 7 resource has a `region` input: it picks the endpoint, it is no member.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.rules.api_shapes import Api, F, check_resource
from policies.rules.core import Framework, ResourceView, Rule, Severity

AUTONAMED = "pulumi-aws auto-names it (provider/resources.go setAutonaming)"
REGION = "picks the provider's endpoint (pulumi-aws 7 per-resource region); no request member"
ATTRIBUTE = "an entry of the request's Attributes map; the model constrains no attribute value"

# Pulumi maps that become lists of {Key, Value} (most tag lists) or {Name, Value}.
TAGS = F("Tags", pairs=("Key", "Value"))
DIMENSIONS = F("Dimensions", pairs=("Name", "Value"))

BACKUP_LIFECYCLE = {
    "coldStorageAfter": "MoveToColdStorageAfterDays",
    "deleteAfter": "DeleteAfterDays",
    "optInToArchiveForSupportedResources": "OptInToArchiveForSupportedResources",
}
CE_VALUES = {"key": "Key", "matchOptions": "MatchOptions", "values": "Values"}
CE_EXPRESSION: dict[str, Any] = {
    "dimension": F("Dimensions", fields=CE_VALUES),
    "tags": F("Tags", fields=CE_VALUES),
    "costCategory": F("CostCategories", fields=CE_VALUES),
}
RRS = "ChangeBatch.Changes[].ResourceRecordSet"
S3_TAG = F("Tag", fields={"key": "Key", "value": "Value"})


def _name(path: str, limit: int = 255) -> F:
    """A `name` input pulumi-aws auto-names within `limit` characters when absent."""
    return F(path, autoname=limit)


KINDS: dict[str, Api] = {
    "aws:accessanalyzer/analyzer:Analyzer": Api(
        "accessanalyzer",
        "CreateAnalyzer",
        {"analyzerName": "analyzerName", "type": "type", "tags": "tags"},
    ),
    "aws:appautoscaling/policy:Policy": Api(
        "application-autoscaling",
        "PutScalingPolicy",
        {
            "name": _name("PolicyName"),
            "policyType": "PolicyType",
            "resourceId": "ResourceId",
            "scalableDimension": "ScalableDimension",
            "serviceNamespace": "ServiceNamespace",
            "stepScalingPolicyConfiguration": F(
                "StepScalingPolicyConfiguration",
                fields={
                    "adjustmentType": "AdjustmentType",
                    "cooldown": "Cooldown",
                    "metricAggregationType": "MetricAggregationType",
                    "minAdjustmentMagnitude": "MinAdjustmentMagnitude",
                    "stepAdjustments": F(
                        "StepAdjustments",
                        fields={
                            "metricIntervalLowerBound": "MetricIntervalLowerBound",
                            "metricIntervalUpperBound": "MetricIntervalUpperBound",
                            "scalingAdjustment": "ScalingAdjustment",
                        },
                    ),
                },
            ),
            "targetTrackingScalingPolicyConfiguration": F(
                "TargetTrackingScalingPolicyConfiguration",
                fields={
                    "targetValue": "TargetValue",
                    "disableScaleIn": "DisableScaleIn",
                    "scaleInCooldown": "ScaleInCooldown",
                    "scaleOutCooldown": "ScaleOutCooldown",
                    "predefinedMetricSpecification": F(
                        "PredefinedMetricSpecification",
                        fields={
                            "predefinedMetricType": "PredefinedMetricType",
                            "resourceLabel": "ResourceLabel",
                        },
                    ),
                    "customizedMetricSpecification": F(
                        "CustomizedMetricSpecification",
                        fields={
                            "metricName": "MetricName",
                            "namespace": "Namespace",
                            "statistic": "Statistic",
                            "unit": "Unit",
                            "dimensions": F(
                                "Dimensions", fields={"name": "Name", "value": "Value"}
                            ),
                        },
                    ),
                },
            ),
        },
    ),
    "aws:appautoscaling/target:Target": Api(
        "application-autoscaling",
        "RegisterScalableTarget",
        {
            "maxCapacity": "MaxCapacity",
            "minCapacity": "MinCapacity",
            "resourceId": "ResourceId",
            "scalableDimension": "ScalableDimension",
            "serviceNamespace": "ServiceNamespace",
            "roleArn": "RoleARN",
            "tags": "Tags",
        },
    ),
    "aws:autoscaling/group:Group": Api(
        "autoscaling",
        "CreateAutoScalingGroup",
        {
            "name": _name("AutoScalingGroupName"),
            "maxSize": "MaxSize",
            "minSize": "MinSize",
            "desiredCapacity": "DesiredCapacity",
            "defaultCooldown": "DefaultCooldown",
            "defaultInstanceWarmup": "DefaultInstanceWarmup",
            "healthCheckGracePeriod": "HealthCheckGracePeriod",
            "healthCheckType": "HealthCheckType",
            "capacityRebalance": "CapacityRebalance",
            "launchTemplate": F(
                "LaunchTemplate",
                fields={
                    "id": "LaunchTemplateId",
                    "name": "LaunchTemplateName",
                    "version": "Version",
                },
            ),
            # "A comma-separated list of subnet IDs" (CreateAutoScalingGroup, VPCZoneIdentifier).
            "vpcZoneIdentifiers": F("VPCZoneIdentifier", join=","),
            "availabilityZones": "AvailabilityZones",
            "targetGroupArns": "TargetGroupARNs",
            "loadBalancers": "LoadBalancerNames",
            "terminationPolicies": "TerminationPolicies",
            "maxInstanceLifetime": "MaxInstanceLifetime",
            "protectFromScaleIn": "NewInstancesProtectedFromScaleIn",
            "serviceLinkedRoleArn": "ServiceLinkedRoleARN",
            "tags": F(
                "Tags",
                fields={"key": "Key", "value": "Value", "propagateAtLaunch": "PropagateAtLaunch"},
            ),
            "enabledMetrics": F("Metrics", operation="EnableMetricsCollection"),
            # "Default is `1Minute`" (pulumi-aws autoscaling.Group metrics_granularity).
            "metricsGranularity": F("Granularity", operation="EnableMetricsCollection"),
        },
        defaults={"metricsGranularity": "pulumi-aws: 'Default is `1Minute`'"},
    ),
    "aws:autoscaling/policy:Policy": Api(
        "autoscaling",
        "PutScalingPolicy",
        {
            "autoscalingGroupName": "AutoScalingGroupName",
            "name": _name("PolicyName"),
            "policyType": "PolicyType",
            "adjustmentType": "AdjustmentType",
            "cooldown": "Cooldown",
            "estimatedInstanceWarmup": "EstimatedInstanceWarmup",
            "minAdjustmentMagnitude": "MinAdjustmentMagnitude",
            "scalingAdjustment": "ScalingAdjustment",
            "metricAggregationType": "MetricAggregationType",
            "enabled": "Enabled",
            "stepAdjustments": F(
                "StepAdjustments",
                fields={
                    "metricIntervalLowerBound": "MetricIntervalLowerBound",
                    "metricIntervalUpperBound": "MetricIntervalUpperBound",
                    "scalingAdjustment": "ScalingAdjustment",
                },
            ),
            "targetTrackingConfiguration": F(
                "TargetTrackingConfiguration",
                fields={
                    "targetValue": "TargetValue",
                    "disableScaleIn": "DisableScaleIn",
                    "predefinedMetricSpecification": F(
                        "PredefinedMetricSpecification",
                        fields={
                            "predefinedMetricType": "PredefinedMetricType",
                            "resourceLabel": "ResourceLabel",
                        },
                    ),
                    "customizedMetricSpecification": F(
                        "CustomizedMetricSpecification",
                        fields={
                            "metricName": "MetricName",
                            "namespace": "Namespace",
                            "statistic": "Statistic",
                            "unit": "Unit",
                            "metricDimensions": F(
                                "Dimensions", fields={"name": "Name", "value": "Value"}
                            ),
                        },
                    ),
                },
            ),
        },
    ),
    "aws:autoscaling/schedule:Schedule": Api(
        "autoscaling",
        "PutScheduledUpdateGroupAction",
        {
            "autoscalingGroupName": "AutoScalingGroupName",
            "scheduledActionName": "ScheduledActionName",
            "minSize": "MinSize",
            "maxSize": "MaxSize",
            "desiredCapacity": "DesiredCapacity",
            "recurrence": "Recurrence",
            "startTime": "StartTime",
            "endTime": "EndTime",
            "timeZone": "TimeZone",
        },
    ),
    "aws:backup/plan:Plan": Api(
        "backup",
        "CreateBackupPlan",
        {
            "name": _name("BackupPlan.BackupPlanName"),
            "tags": "BackupPlanTags",
            "rules": F(
                "BackupPlan.Rules",
                fields={
                    "ruleName": "RuleName",
                    "targetVaultName": "TargetBackupVaultName",
                    "schedule": "ScheduleExpression",
                    "scheduleExpressionTimezone": "ScheduleExpressionTimezone",
                    "startWindow": "StartWindowMinutes",
                    "completionWindow": "CompletionWindowMinutes",
                    "enableContinuousBackup": "EnableContinuousBackup",
                    "recoveryPointTags": "RecoveryPointTags",
                    "lifecycle": F("Lifecycle", fields=BACKUP_LIFECYCLE),
                    "copyActions": F(
                        "CopyActions",
                        fields={
                            "destinationVaultArn": "DestinationBackupVaultArn",
                            "lifecycle": F("Lifecycle", fields=BACKUP_LIFECYCLE),
                        },
                    ),
                },
            ),
            "advancedBackupSettings": F(
                "BackupPlan.AdvancedBackupSettings",
                fields={"resourceType": "ResourceType", "backupOptions": "BackupOptions"},
            ),
        },
    ),
    "aws:backup/regionSettings:RegionSettings": Api(
        "backup",
        "UpdateRegionSettings",
        {
            "resourceTypeOptInPreference": "ResourceTypeOptInPreference",
            "resourceTypeManagementPreference": "ResourceTypeManagementPreference",
        },
    ),
    "aws:backup/selection:Selection": Api(
        "backup",
        "CreateBackupSelection",
        {
            "planId": "BackupPlanId",
            "name": _name("BackupSelection.SelectionName"),
            "iamRoleArn": "BackupSelection.IamRoleArn",
            "resources": "BackupSelection.Resources",
            "notResources": "BackupSelection.NotResources",
            "selectionTags": F(
                "BackupSelection.ListOfTags",
                fields={"type": "ConditionType", "key": "ConditionKey", "value": "ConditionValue"},
            ),
        },
    ),
    "aws:backup/vault:Vault": Api(
        "backup",
        "CreateBackupVault",
        {
            "name": _name("BackupVaultName"),
            "kmsKeyArn": "EncryptionKeyArn",
            "tags": "BackupVaultTags",
        },
        unchecked={"forceDestroy": "provider only: deletes the recovery points before the vault"},
    ),
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": Api(
        "backup",
        "PutBackupVaultLockConfiguration",
        {
            "backupVaultName": "BackupVaultName",
            "minRetentionDays": "MinRetentionDays",
            "maxRetentionDays": "MaxRetentionDays",
            "changeableForDays": "ChangeableForDays",
        },
    ),
    "aws:backup/vaultNotifications:VaultNotifications": Api(
        "backup",
        "PutBackupVaultNotifications",
        {
            "backupVaultName": "BackupVaultName",
            "snsTopicArn": "SNSTopicArn",
            "backupVaultEvents": "BackupVaultEvents",
        },
    ),
    "aws:backup/vaultPolicy:VaultPolicy": Api(
        "backup",
        "PutBackupVaultAccessPolicy",
        {"backupVaultName": "BackupVaultName", "policy": "Policy"},
    ),
    "aws:budgets/budget:Budget": Api(
        "budgets",
        "CreateBudget",
        {
            "accountId": "AccountId",
            "name": _name("Budget.BudgetName"),
            "budgetType": "Budget.BudgetType",
            "timeUnit": "Budget.TimeUnit",
            "limitAmount": "Budget.BudgetLimit.Amount",
            "limitUnit": "Budget.BudgetLimit.Unit",
            # A list of {name, values} that the provider sends as the CostFilters map.
            "costFilters": F("Budget.CostFilters", keyed=("name", "values")),
            # terraform-provider-aws creates the budget, then each notification with
            # CreateNotification (budgets/budget.go, createBudgetNotifications).
            "notifications": F(
                "",
                operation="CreateNotification",
                fields={
                    "comparisonOperator": "Notification.ComparisonOperator",
                    "notificationType": "Notification.NotificationType",
                    "threshold": "Notification.Threshold",
                    "thresholdType": "Notification.ThresholdType",
                    "subscriberEmailAddresses": "Subscribers[].Address",
                    "subscriberSnsTopicArns": "Subscribers[].Address",
                },
            ),
        },
        defaults={
            "accountId": "pulumi-aws: 'Uses the current user's account ID by default if omitted'"
        },
    ),
    "aws:cfg/conformancePack:ConformancePack": Api(
        "config",
        "PutConformancePack",
        {
            "name": _name("ConformancePackName"),
            "templateBody": "TemplateBody",
            "templateS3Uri": "TemplateS3Uri",
            "deliveryS3Bucket": "DeliveryS3Bucket",
            "deliveryS3KeyPrefix": "DeliveryS3KeyPrefix",
            "inputParameters": F(
                "ConformancePackInputParameters",
                fields={"parameterName": "ParameterName", "parameterValue": "ParameterValue"},
            ),
        },
    ),
    "aws:cfg/deliveryChannel:DeliveryChannel": Api(
        "config",
        "PutDeliveryChannel",
        {
            "name": _name("DeliveryChannel.name"),
            "s3BucketName": "DeliveryChannel.s3BucketName",
            "s3KeyPrefix": "DeliveryChannel.s3KeyPrefix",
            "s3KmsKeyArn": "DeliveryChannel.s3KmsKeyArn",
            "snsTopicArn": "DeliveryChannel.snsTopicARN",
            "snapshotDeliveryProperties": F(
                "DeliveryChannel.configSnapshotDeliveryProperties",
                fields={"deliveryFrequency": "deliveryFrequency"},
            ),
        },
    ),
    "aws:cfg/recorder:Recorder": Api(
        "config",
        "PutConfigurationRecorder",
        {
            "name": _name("ConfigurationRecorder.name"),
            "roleArn": "ConfigurationRecorder.roleARN",
            "recordingGroup": F(
                "ConfigurationRecorder.recordingGroup",
                fields={
                    "allSupported": "allSupported",
                    "includeGlobalResourceTypes": "includeGlobalResourceTypes",
                    "resourceTypes": "resourceTypes",
                    "exclusionByResourceTypes": F(
                        "exclusionByResourceTypes", fields={"resourceTypes": "resourceTypes"}
                    ),
                    "recordingStrategies": F("recordingStrategy", fields={"useOnly": "useOnly"}),
                },
            ),
            "recordingMode": F(
                "ConfigurationRecorder.recordingMode",
                fields={
                    "recordingFrequency": "recordingFrequency",
                    "recordingModeOverride": F(
                        "recordingModeOverrides",
                        fields={
                            "description": "description",
                            "recordingFrequency": "recordingFrequency",
                            "resourceTypes": "resourceTypes",
                        },
                    ),
                },
            ),
        },
    ),
    "aws:cfg/recorderStatus:RecorderStatus": Api(
        "config",
        "StartConfigurationRecorder",
        {"name": _name("ConfigurationRecorderName")},
        unchecked={"isEnabled": "chooses StartConfigurationRecorder or StopConfigurationRecorder"},
    ),
    "aws:cloudtrail/trail:Trail": Api(
        "cloudtrail",
        "CreateTrail",
        {
            "name": _name("Name"),
            "s3BucketName": "S3BucketName",
            "s3KeyPrefix": "S3KeyPrefix",
            "snsTopicName": "SnsTopicName",
            "includeGlobalServiceEvents": "IncludeGlobalServiceEvents",
            "isMultiRegionTrail": "IsMultiRegionTrail",
            "isOrganizationTrail": "IsOrganizationTrail",
            "enableLogFileValidation": "EnableLogFileValidation",
            "cloudWatchLogsGroupArn": "CloudWatchLogsLogGroupArn",
            "cloudWatchLogsRoleArn": "CloudWatchLogsRoleArn",
            "kmsKeyId": "KmsKeyId",
            "tags": F("TagsList", pairs=("Key", "Value")),
        },
        unchecked={"enableLogging": "chooses StartLogging or StopLogging (the trail's name only)"},
    ),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": Api(
        "cloudwatch",
        "PutCompositeAlarm",
        {
            "alarmName": "AlarmName",
            "alarmRule": "AlarmRule",
            "alarmDescription": "AlarmDescription",
            "actionsEnabled": "ActionsEnabled",
            "alarmActions": "AlarmActions",
            "okActions": "OKActions",
            "insufficientDataActions": "InsufficientDataActions",
            "tags": TAGS,
            # One Pulumi object whose fields are three members of the request itself.
            "actionsSuppressor": F(
                "",
                fields={
                    "alarm": "ActionsSuppressor",
                    "extensionPeriod": "ActionsSuppressorExtensionPeriod",
                    "waitPeriod": "ActionsSuppressorWaitPeriod",
                },
            ),
        },
    ),
    "aws:cloudwatch/dashboard:Dashboard": Api(
        "cloudwatch",
        "PutDashboard",
        {"dashboardName": "DashboardName", "dashboardBody": "DashboardBody"},
    ),
    "aws:cloudwatch/eventRule:EventRule": Api(
        "events",
        "PutRule",
        {
            # "aws_cloudwatch_event_rule": tfbridge.AutoName("name", 64, "-")
            "name": _name("Name", 64),
            "description": "Description",
            "eventPattern": "EventPattern",
            "scheduleExpression": "ScheduleExpression",
            "roleArn": "RoleArn",
            "state": "State",
            "eventBusName": "EventBusName",
            "tags": TAGS,
        },
    ),
    "aws:cloudwatch/eventTarget:EventTarget": Api(
        "events",
        "PutTargets",
        {
            "rule": "Rule",
            "eventBusName": "EventBusName",
            # "target_id": tfbridge.AutoName("targetId", 255, "-")
            "targetId": _name("Targets[].Id"),
            "arn": "Targets[].Arn",
            "roleArn": "Targets[].RoleArn",
            "input": "Targets[].Input",
            "inputPath": "Targets[].InputPath",
            "inputTransformer": F(
                "Targets[].InputTransformer",
                fields={"inputPaths": "InputPathsMap", "inputTemplate": "InputTemplate"},
            ),
            "retryPolicy": F(
                "Targets[].RetryPolicy",
                fields={
                    "maximumEventAgeInSeconds": "MaximumEventAgeInSeconds",
                    "maximumRetryAttempts": "MaximumRetryAttempts",
                },
            ),
            "deadLetterConfig": F("Targets[].DeadLetterConfig", fields={"arn": "Arn"}),
        },
    ),
    "aws:cloudwatch/logGroup:LogGroup": Api(
        "logs",
        "CreateLogGroup",
        {
            "name": _name("logGroupName"),
            "kmsKeyId": "kmsKeyId",
            "tags": "tags",
            "logGroupClass": "logGroupClass",
            "deletionProtectionEnabled": "deletionProtectionEnabled",
            "retentionInDays": F("retentionInDays", operation="PutRetentionPolicy"),
        },
        unchecked={"skipDestroy": "provider only: leaves the log group on destroy"},
    ),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": Api(
        "logs",
        "PutMetricFilter",
        {
            "name": _name("filterName"),
            "pattern": "filterPattern",
            "logGroupName": "logGroupName",
            "applyOnTransformedLogs": "applyOnTransformedLogs",
            "metricTransformation": F(
                "metricTransformations",
                fields={
                    "name": "metricName",
                    "namespace": "metricNamespace",
                    "value": "metricValue",
                    "defaultValue": "defaultValue",
                    "dimensions": "dimensions",
                    "unit": "unit",
                },
            ),
        },
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Api(
        "cloudwatch",
        "PutMetricAlarm",
        {
            "name": _name("AlarmName"),
            "alarmDescription": "AlarmDescription",
            "actionsEnabled": "ActionsEnabled",
            "alarmActions": "AlarmActions",
            "okActions": "OKActions",
            "insufficientDataActions": "InsufficientDataActions",
            "metricName": "MetricName",
            "namespace": "Namespace",
            "statistic": "Statistic",
            "extendedStatistic": "ExtendedStatistic",
            "dimensions": DIMENSIONS,
            "period": "Period",
            "unit": "Unit",
            "evaluationPeriods": "EvaluationPeriods",
            "datapointsToAlarm": "DatapointsToAlarm",
            "threshold": "Threshold",
            "thresholdMetricId": "ThresholdMetricId",
            "comparisonOperator": "ComparisonOperator",
            "treatMissingData": "TreatMissingData",
            "evaluateLowSampleCountPercentiles": "EvaluateLowSampleCountPercentile",
            "tags": TAGS,
            "metricQueries": F(
                "Metrics",
                fields={
                    "id": "Id",
                    "expression": "Expression",
                    "label": "Label",
                    "returnData": "ReturnData",
                    "period": "Period",
                    "accountId": "AccountId",
                    # Pulumi's `metric` is the API's MetricStat with its Metric flattened in.
                    "metric": F(
                        "MetricStat",
                        fields={
                            "metricName": "Metric.MetricName",
                            "namespace": "Metric.Namespace",
                            "dimensions": F("Metric.Dimensions", pairs=("Name", "Value")),
                            "period": "Period",
                            "stat": "Stat",
                            "unit": "Unit",
                        },
                    ),
                },
            ),
        },
    ),
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": Api(
        "ce",
        "CreateAnomalyMonitor",
        {
            "name": _name("AnomalyMonitor.MonitorName"),
            "monitorType": "AnomalyMonitor.MonitorType",
            "monitorDimension": "AnomalyMonitor.MonitorDimension",
            # JSON text of the API's Expression itself (member names as keys).
            "monitorSpecification": F("AnomalyMonitor.MonitorSpecification", json=True),
            "tags": F("ResourceTags", pairs=("Key", "Value")),
        },
    ),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": Api(
        "ce",
        "CreateAnomalySubscription",
        {
            "name": _name("AnomalySubscription.SubscriptionName"),
            "accountId": "AnomalySubscription.AccountId",
            "frequency": "AnomalySubscription.Frequency",
            "monitorArnLists": "AnomalySubscription.MonitorArnList",
            "subscribers": F(
                "AnomalySubscription.Subscribers", fields={"address": "Address", "type": "Type"}
            ),
            "thresholdExpression": F(
                "AnomalySubscription.ThresholdExpression",
                fields={
                    **CE_EXPRESSION,
                    "ands": F("And", fields=CE_EXPRESSION),
                    "ors": F("Or", fields=CE_EXPRESSION),
                    "not": F("Not", fields=CE_EXPRESSION),
                },
            ),
            "tags": F("ResourceTags", pairs=("Key", "Value")),
        },
    ),
    "aws:guardduty/detector:Detector": Api(
        "guardduty",
        "CreateDetector",
        {
            "enable": "Enable",
            "findingPublishingFrequency": "FindingPublishingFrequency",
            "tags": "Tags",
        },
        defaults={"enable": "pulumi-aws: 'Defaults to `true`'"},
    ),
    "aws:guardduty/detectorFeature:DetectorFeature": Api(
        "guardduty",
        "UpdateDetector",
        {
            "detectorId": "DetectorId",
            "name": "Features[].Name",
            "status": "Features[].Status",
            "additionalConfigurations": F(
                "Features[].AdditionalConfiguration", fields={"name": "Name", "status": "Status"}
            ),
        },
    ),
    "aws:iam/role:Role": Api(
        "iam",
        "CreateRole",
        {
            # "aws_iam_role": tfbridge.AutoName("name", 64, "-")
            "name": _name("RoleName", 64),
            "path": "Path",
            "assumeRolePolicy": "AssumeRolePolicyDocument",
            "description": "Description",
            "maxSessionDuration": "MaxSessionDuration",
            "permissionsBoundary": "PermissionsBoundary",
            "tags": TAGS,
        },
        unchecked={"forceDetachPolicies": "provider only: detaches policies before deleting"},
    ),
    "aws:iam/rolePolicy:RolePolicy": Api(
        "iam",
        "PutRolePolicy",
        {"role": "RoleName", "name": _name("PolicyName"), "policy": "PolicyDocument"},
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Api(
        "iam", "AttachRolePolicy", {"role": "RoleName", "policyArn": "PolicyArn"}
    ),
    "aws:kms/alias:Alias": Api(
        "kms",
        "CreateAlias",
        {"name": _name("AliasName"), "targetKeyId": "TargetKeyId"},
    ),
    "aws:kms/key:Key": Api(
        "kms",
        "CreateKey",
        {
            "description": "Description",
            "keyUsage": "KeyUsage",
            # The provider sends customer_master_key_spec as KeySpec (CustomerMasterKeySpec is
            # the deprecated twin; the enums agree).
            "customerMasterKeySpec": "KeySpec",
            "policy": "Policy",
            "bypassPolicyLockoutSafetyCheck": "BypassPolicyLockoutSafetyCheck",
            "multiRegion": "MultiRegion",
            "customKeyStoreId": "CustomKeyStoreId",
            "xksKeyId": "XksKeyId",
            "tags": F("Tags", pairs=("TagKey", "TagValue")),
            "rotationPeriodInDays": F("RotationPeriodInDays", operation="EnableKeyRotation"),
            "deletionWindowInDays": F("PendingWindowInDays", operation="ScheduleKeyDeletion"),
        },
        unchecked={
            "enableKeyRotation": "chooses EnableKeyRotation or DisableKeyRotation",
            "isEnabled": "chooses EnableKey or DisableKey",
        },
    ),
    "aws:kms/replicaKey:ReplicaKey": Api(
        "kms",
        "ReplicateKey",
        {
            "primaryKeyArn": "KeyId",
            "description": "Description",
            "policy": "Policy",
            "bypassPolicyLockoutSafetyCheck": "BypassPolicyLockoutSafetyCheck",
            "tags": F("Tags", pairs=("TagKey", "TagValue")),
            "deletionWindowInDays": F("PendingWindowInDays", operation="ScheduleKeyDeletion"),
        },
        unchecked={"enabled": "chooses EnableKey or DisableKey"},
    ),
    "aws:lambda/permission:Permission": Api(
        "lambda",
        "AddPermission",
        {
            "function": "FunctionName",
            # "statement_id": tfbridge.AutoName("statementId", 100) (provider/resources.go):
            # absent, the statement is named `<logical name>-<7 hex>` (AddPermission,
            # StatementId: "Maximum length of 100", pattern ([a-zA-Z0-9-_]+)).
            "statementId": _name("StatementId", 100),
            "action": "Action",
            "principal": "Principal",
            "sourceArn": "SourceArn",
            "sourceAccount": "SourceAccount",
            "eventSourceToken": "EventSourceToken",
            "qualifier": "Qualifier",
            "principalOrgId": "PrincipalOrgID",
            "functionUrlAuthType": "FunctionUrlAuthType",
            "invokedViaFunctionUrl": "InvokedViaFunctionUrl",
        },
        unchecked={
            "statementIdPrefix": "provider only: the prefix of a StatementId it generates",
        },
    ),
    "aws:rds/parameterGroup:ParameterGroup": Api(
        "rds",
        "CreateDBParameterGroup",
        {
            "name": _name("DBParameterGroupName"),
            "family": "DBParameterGroupFamily",
            "description": "Description",
            "tags": TAGS,
            "parameters": F(
                "Parameters",
                operation="ModifyDBParameterGroup",
                fields={
                    "name": "ParameterName",
                    "value": "ParameterValue",
                    "applyMethod": "ApplyMethod",
                },
            ),
        },
        defaults={"description": "pulumi-aws: 'Defaults to \"Managed by Pulumi\"'"},
        unchecked={"skipDestroy": "provider only: leaves the group on destroy"},
    ),
    "aws:rds/subnetGroup:SubnetGroup": Api(
        "rds",
        "CreateDBSubnetGroup",
        {
            "name": _name("DBSubnetGroupName"),
            "description": "DBSubnetGroupDescription",
            "subnetIds": "SubnetIds",
            "tags": TAGS,
        },
        defaults={"description": "pulumi-aws: 'Defaults to \"Managed by Pulumi\"'"},
    ),
    "aws:route53/healthCheck:HealthCheck": Api(
        "route53",
        "CreateHealthCheck",
        {
            "type": "HealthCheckConfig.Type",
            "fqdn": "HealthCheckConfig.FullyQualifiedDomainName",
            "ipAddress": "HealthCheckConfig.IPAddress",
            "port": "HealthCheckConfig.Port",
            "resourcePath": "HealthCheckConfig.ResourcePath",
            "searchString": "HealthCheckConfig.SearchString",
            "requestInterval": "HealthCheckConfig.RequestInterval",
            "failureThreshold": "HealthCheckConfig.FailureThreshold",
            "measureLatency": "HealthCheckConfig.MeasureLatency",
            "invertHealthcheck": "HealthCheckConfig.Inverted",
            "disabled": "HealthCheckConfig.Disabled",
            "enableSni": "HealthCheckConfig.EnableSNI",
            "childHealthThreshold": "HealthCheckConfig.HealthThreshold",
            "childHealthchecks": "HealthCheckConfig.ChildHealthChecks",
            "regions": "HealthCheckConfig.Regions",
            "cloudwatchAlarmName": "HealthCheckConfig.AlarmIdentifier.Name",
            "cloudwatchAlarmRegion": "HealthCheckConfig.AlarmIdentifier.Region",
            "insufficientDataHealthStatus": "HealthCheckConfig.InsufficientDataHealthStatus",
            "routingControlArn": "HealthCheckConfig.RoutingControlArn",
            # Route 53 tags a health check with a second call.
            "tags": F("AddTags", operation="ChangeTagsForResource", pairs=("Key", "Value")),
        },
        unchecked={
            "referenceName": "a prefix of CallerReference, which the provider completes",
            "triggers": "a Pulumi-side map whose change replaces the check; not sent to AWS",
        },
    ),
    "aws:scheduler/schedule:Schedule": Api(
        "scheduler",
        "CreateSchedule",
        {
            "name": _name("Name", 64),
            "groupName": "GroupName",
            "description": "Description",
            "scheduleExpression": "ScheduleExpression",
            "scheduleExpressionTimezone": "ScheduleExpressionTimezone",
            "startDate": "StartDate",
            "endDate": "EndDate",
            "state": "State",
            "kmsKeyArn": "KmsKeyArn",
            "actionAfterCompletion": "ActionAfterCompletion",
            "flexibleTimeWindow": F(
                "FlexibleTimeWindow",
                fields={"mode": "Mode", "maximumWindowInMinutes": "MaximumWindowInMinutes"},
            ),
            "target": F(
                "Target",
                fields={
                    "arn": "Arn",
                    "roleArn": "RoleArn",
                    "input": "Input",
                    "retryPolicy": F(
                        "RetryPolicy",
                        fields={
                            "maximumEventAgeInSeconds": "MaximumEventAgeInSeconds",
                            "maximumRetryAttempts": "MaximumRetryAttempts",
                        },
                    ),
                    "deadLetterConfig": F("DeadLetterConfig", fields={"arn": "Arn"}),
                },
            ),
        },
    ),
    "aws:route53/record:Record": Api(
        "route53",
        "ChangeResourceRecordSets",
        {
            "zoneId": "HostedZoneId",
            "name": f"{RRS}.Name",
            "type": f"{RRS}.Type",
            "ttl": f"{RRS}.TTL",
            "records": f"{RRS}.ResourceRecords[].Value",
            "setIdentifier": f"{RRS}.SetIdentifier",
            "healthCheckId": f"{RRS}.HealthCheckId",
            "multivalueAnswerRoutingPolicy": f"{RRS}.MultiValueAnswer",
            "aliases": F(
                f"{RRS}.AliasTarget",
                fields={
                    "name": "DNSName",
                    "zoneId": "HostedZoneId",
                    "evaluateTargetHealth": "EvaluateTargetHealth",
                },
            ),
            # Each routing policy is a Pulumi list of one object over record set members.
            "failoverRoutingPolicies": F(RRS, fields={"type": "Failover"}),
            "weightedRoutingPolicies": F(RRS, fields={"weight": "Weight"}),
            "latencyRoutingPolicies": F(RRS, fields={"region": "Region"}),
        },
        unchecked={"allowOverwrite": "chooses UPSERT over CREATE"},
    ),
    "aws:s3/bucket:Bucket": Api(
        "s3",
        "CreateBucket",
        {
            "bucket": "Bucket",
            "objectLockEnabled": "ObjectLockEnabledForBucket",
            "bucketNamespace": "BucketNamespace",
            "tags": F("Tagging.TagSet", operation="PutBucketTagging", pairs=("Key", "Value")),
        },
        unchecked={"forceDestroy": "provider only: empties the bucket before deleting it"},
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": Api(
        "s3",
        "PutBucketLifecycleConfiguration",
        {
            "bucket": "Bucket",
            "expectedBucketOwner": "ExpectedBucketOwner",
            "transitionDefaultMinimumObjectSize": "TransitionDefaultMinimumObjectSize",
            "rules": F(
                "LifecycleConfiguration.Rules",
                fields={
                    "id": "ID",
                    "status": "Status",
                    "prefix": "Prefix",
                    "filter": F(
                        "Filter",
                        fields={
                            "prefix": "Prefix",
                            "objectSizeGreaterThan": "ObjectSizeGreaterThan",
                            "objectSizeLessThan": "ObjectSizeLessThan",
                            "tag": S3_TAG,
                            "and": F(
                                "And",
                                fields={
                                    "prefix": "Prefix",
                                    "objectSizeGreaterThan": "ObjectSizeGreaterThan",
                                    "objectSizeLessThan": "ObjectSizeLessThan",
                                    "tags": F("Tags", pairs=("Key", "Value")),
                                },
                            ),
                        },
                    ),
                    "expiration": F(
                        "Expiration",
                        fields={
                            "days": "Days",
                            "date": "Date",
                            "expiredObjectDeleteMarker": "ExpiredObjectDeleteMarker",
                        },
                    ),
                    "transitions": F(
                        "Transitions",
                        fields={"days": "Days", "date": "Date", "storageClass": "StorageClass"},
                    ),
                    "noncurrentVersionExpiration": F(
                        "NoncurrentVersionExpiration",
                        fields={
                            "noncurrentDays": "NoncurrentDays",
                            "newerNoncurrentVersions": "NewerNoncurrentVersions",
                        },
                    ),
                    "noncurrentVersionTransitions": F(
                        "NoncurrentVersionTransitions",
                        fields={
                            "noncurrentDays": "NoncurrentDays",
                            "newerNoncurrentVersions": "NewerNoncurrentVersions",
                            "storageClass": "StorageClass",
                        },
                    ),
                    "abortIncompleteMultipartUpload": F(
                        "AbortIncompleteMultipartUpload",
                        fields={"daysAfterInitiation": "DaysAfterInitiation"},
                    ),
                },
            ),
        },
    ),
    "aws:s3/bucketLogging:BucketLogging": Api(
        "s3",
        "PutBucketLogging",
        {
            "bucket": "Bucket",
            "expectedBucketOwner": "ExpectedBucketOwner",
            "targetBucket": "BucketLoggingStatus.LoggingEnabled.TargetBucket",
            "targetPrefix": "BucketLoggingStatus.LoggingEnabled.TargetPrefix",
        },
    ),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": Api(
        "s3",
        "PutObjectLockConfiguration",
        {
            "bucket": "Bucket",
            "expectedBucketOwner": "ExpectedBucketOwner",
            "token": "Token",
            "objectLockEnabled": "ObjectLockConfiguration.ObjectLockEnabled",
            "rule": F(
                "ObjectLockConfiguration.Rule",
                fields={
                    "defaultRetention": F(
                        "DefaultRetention",
                        fields={"days": "Days", "mode": "Mode", "years": "Years"},
                    )
                },
            ),
        },
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Api(
        "s3",
        "PutBucketOwnershipControls",
        {
            "bucket": "Bucket",
            "rule": F("OwnershipControls.Rules", fields={"objectOwnership": "ObjectOwnership"}),
        },
    ),
    "aws:s3/bucketPolicy:BucketPolicy": Api(
        "s3", "PutBucketPolicy", {"bucket": "Bucket", "policy": "Policy"}
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Api(
        "s3",
        "PutPublicAccessBlock",
        {
            "bucket": "Bucket",
            "blockPublicAcls": "PublicAccessBlockConfiguration.BlockPublicAcls",
            "blockPublicPolicy": "PublicAccessBlockConfiguration.BlockPublicPolicy",
            "ignorePublicAcls": "PublicAccessBlockConfiguration.IgnorePublicAcls",
            "restrictPublicBuckets": "PublicAccessBlockConfiguration.RestrictPublicBuckets",
        },
        unchecked={"skipDestroy": "provider only: leaves the block on destroy"},
    ),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": Api(
        "s3",
        "PutBucketReplication",
        {
            "bucket": "Bucket",
            "token": "Token",
            "role": "ReplicationConfiguration.Role",
            "rules": F(
                "ReplicationConfiguration.Rules",
                fields={
                    "id": "ID",
                    "priority": "Priority",
                    "prefix": "Prefix",
                    "status": "Status",
                    "filter": F(
                        "Filter",
                        fields={
                            "prefix": "Prefix",
                            "tag": S3_TAG,
                            "and": F(
                                "And",
                                fields={
                                    "prefix": "Prefix",
                                    "tags": F("Tags", pairs=("Key", "Value")),
                                },
                            ),
                        },
                    ),
                    "destination": F(
                        "Destination",
                        fields={
                            "bucket": "Bucket",
                            "account": "Account",
                            "storageClass": "StorageClass",
                            "encryptionConfiguration": F(
                                "EncryptionConfiguration",
                                fields={"replicaKmsKeyId": "ReplicaKmsKeyID"},
                            ),
                            "metrics": F(
                                "Metrics",
                                fields={
                                    "status": "Status",
                                    "eventThreshold": F(
                                        "EventThreshold", fields={"minutes": "Minutes"}
                                    ),
                                },
                            ),
                            "replicationTime": F(
                                "ReplicationTime",
                                fields={
                                    "status": "Status",
                                    "time": F("Time", fields={"minutes": "Minutes"}),
                                },
                            ),
                            "accessControlTranslation": F(
                                "AccessControlTranslation", fields={"owner": "Owner"}
                            ),
                        },
                    ),
                    "deleteMarkerReplication": F(
                        "DeleteMarkerReplication", fields={"status": "Status"}
                    ),
                    "existingObjectReplication": F(
                        "ExistingObjectReplication", fields={"status": "Status"}
                    ),
                    "sourceSelectionCriteria": F(
                        "SourceSelectionCriteria",
                        fields={
                            "sseKmsEncryptedObjects": F(
                                "SseKmsEncryptedObjects", fields={"status": "Status"}
                            ),
                            "replicaModifications": F(
                                "ReplicaModifications", fields={"status": "Status"}
                            ),
                        },
                    ),
                },
            ),
        },
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": Api(
        "s3",
        "PutBucketEncryption",
        {
            "bucket": "Bucket",
            "expectedBucketOwner": "ExpectedBucketOwner",
            "rules": F(
                "ServerSideEncryptionConfiguration.Rules",
                fields={
                    "applyServerSideEncryptionByDefault": F(
                        "ApplyServerSideEncryptionByDefault",
                        fields={"sseAlgorithm": "SSEAlgorithm", "kmsMasterKeyId": "KMSMasterKeyID"},
                    ),
                    "bucketKeyEnabled": "BucketKeyEnabled",
                },
            ),
        },
    ),
    "aws:s3/bucketVersioning:BucketVersioning": Api(
        "s3",
        "PutBucketVersioning",
        {
            "bucket": "Bucket",
            "expectedBucketOwner": "ExpectedBucketOwner",
            "mfa": "MFA",
            "versioningConfiguration": F(
                "VersioningConfiguration",
                fields={
                    # pulumi-aws: "`Disabled` should only be used when creating or importing
                    # resources that correspond to unversioned S3 buckets" (no API call made).
                    "status": F("Status", provider_values=("Disabled",)),
                    "mfaDelete": "MFADelete",
                },
            ),
        },
    ),
    "aws:secretsmanager/secret:Secret": Api(
        "secretsmanager",
        "CreateSecret",
        {
            "name": _name("Name"),
            "description": "Description",
            "kmsKeyId": "KmsKeyId",
            "tags": TAGS,
            "forceOverwriteReplicaSecret": "ForceOverwriteReplicaSecret",
            "replicas": F("AddReplicaRegions", fields={"region": "Region", "kmsKeyId": "KmsKeyId"}),
            "recoveryWindowInDays": F("RecoveryWindowInDays", operation="DeleteSecret"),
            "policy": F("ResourcePolicy", operation="PutResourcePolicy"),
        },
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": Api(
        "secretsmanager",
        "PutSecretValue",
        {
            "secretId": "SecretId",
            "secretString": "SecretString",
            "secretBinary": "SecretBinary",
            "versionStages": "VersionStages",
        },
    ),
    "aws:securityhub/account:Account": Api(
        "securityhub",
        "EnableSecurityHub",
        {
            "enableDefaultStandards": "EnableDefaultStandards",
            "controlFindingGenerator": "ControlFindingGenerator",
            "autoEnableControls": F(
                "AutoEnableControls", operation="UpdateSecurityHubConfiguration"
            ),
        },
    ),
    "aws:securityhub/standardsSubscription:StandardsSubscription": Api(
        "securityhub",
        "BatchEnableStandards",
        {"standardsArn": "StandardsSubscriptionRequests[].StandardsArn"},
    ),
    "aws:sns/topic:Topic": Api(
        "sns",
        "CreateTopic",
        {"name": _name("Name"), "tags": TAGS},
        unchecked={
            "displayName": ATTRIBUTE,
            "kmsMasterKeyId": ATTRIBUTE,
            "policy": ATTRIBUTE,
            "deliveryPolicy": ATTRIBUTE,
            "fifoTopic": ATTRIBUTE,
            "contentBasedDeduplication": ATTRIBUTE,
            "signatureVersion": ATTRIBUTE,
            "tracingConfig": ATTRIBUTE,
        },
    ),
    "aws:sns/topicPolicy:TopicPolicy": Api(
        "sns", "SetTopicAttributes", {"arn": "TopicArn", "policy": "AttributeValue"}
    ),
    "aws:sns/topicSubscription:TopicSubscription": Api(
        "sns",
        "Subscribe",
        {"topic": "TopicArn", "protocol": "Protocol", "endpoint": "Endpoint"},
        unchecked={
            "endpointAutoConfirms": "provider only: whether the endpoint confirms by itself",
            "confirmationTimeoutInMinutes": "provider only: how long it waits for confirmation",
            "filterPolicy": ATTRIBUTE,
            "filterPolicyScope": ATTRIBUTE,
            "rawMessageDelivery": ATTRIBUTE,
            "redrivePolicy": ATTRIBUTE,
            "deliveryPolicy": ATTRIBUTE,
            "subscriptionRoleArn": ATTRIBUTE,
            "replayPolicy": ATTRIBUTE,
        },
    ),
    "aws:dynamodb/table:Table": Api(
        "dynamodb",
        "CreateTable",
        {
            "name": _name("TableName"),
            "billingMode": "BillingMode",
            "hashKey": "KeySchema[].AttributeName",
            "rangeKey": "KeySchema[].AttributeName",
            "attributes": F(
                "AttributeDefinitions", fields={"name": "AttributeName", "type": "AttributeType"}
            ),
            "readCapacity": "ProvisionedThroughput.ReadCapacityUnits",
            "writeCapacity": "ProvisionedThroughput.WriteCapacityUnits",
            "streamEnabled": "StreamSpecification.StreamEnabled",
            "streamViewType": "StreamSpecification.StreamViewType",
            "tableClass": "TableClass",
            "deletionProtectionEnabled": "DeletionProtectionEnabled",
            "serverSideEncryption": F(
                "SSESpecification", fields={"enabled": "Enabled", "kmsKeyArn": "KMSMasterKeyId"}
            ),
            "tags": TAGS,
            "ttl": F(
                "TimeToLiveSpecification",
                operation="UpdateTimeToLive",
                fields={"attributeName": "AttributeName", "enabled": "Enabled"},
            ),
            "pointInTimeRecovery": F(
                "PointInTimeRecoverySpecification",
                operation="UpdateContinuousBackups",
                fields={
                    "enabled": "PointInTimeRecoveryEnabled",
                    "recoveryPeriodInDays": "RecoveryPeriodInDays",
                },
            ),
        },
    ),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": Api(
        "rds",
        "CreateDBClusterParameterGroup",
        {
            "name": _name("DBClusterParameterGroupName"),
            "family": "DBParameterGroupFamily",
            "description": "Description",
            "tags": TAGS,
            "parameters": F(
                "Parameters",
                operation="ModifyDBClusterParameterGroup",
                fields={
                    "name": "ParameterName",
                    "value": "ParameterValue",
                    "applyMethod": "ApplyMethod",
                },
            ),
        },
        defaults={"description": "pulumi-aws: 'Defaults to \"Managed by Pulumi\"'"},
    ),
    "aws:rds/globalCluster:GlobalCluster": Api(
        "rds",
        "CreateGlobalCluster",
        {
            "globalClusterIdentifier": "GlobalClusterIdentifier",
            "sourceDbClusterIdentifier": "SourceDBClusterIdentifier",
            "engine": "Engine",
            "engineVersion": "EngineVersion",
            "databaseName": "DatabaseName",
            "deletionProtection": "DeletionProtection",
            "storageEncrypted": "StorageEncrypted",
        },
    ),
    "aws:appautoscaling/scheduledAction:ScheduledAction": Api(
        "application-autoscaling",
        "PutScheduledAction",
        {
            "name": _name("ScheduledActionName"),
            "serviceNamespace": "ServiceNamespace",
            "resourceId": "ResourceId",
            "scalableDimension": "ScalableDimension",
            "schedule": "Schedule",
            "timezone": "Timezone",
            "startTime": "StartTime",
            "endTime": "EndTime",
            "scalableTargetAction": F(
                "ScalableTargetAction",
                fields={"minCapacity": "MinCapacity", "maxCapacity": "MaxCapacity"},
            ),
        },
    ),
    "aws:route53recoverycontrol/cluster:Cluster": Api(
        "route53-recovery-control-config", "CreateCluster", {"name": _name("ClusterName")}
    ),
    "aws:route53recoverycontrol/controlPanel:ControlPanel": Api(
        "route53-recovery-control-config",
        "CreateControlPanel",
        {"name": _name("ControlPanelName"), "clusterArn": "ClusterArn"},
    ),
    "aws:route53recoverycontrol/routingControl:RoutingControl": Api(
        "route53-recovery-control-config",
        "CreateRoutingControl",
        {
            "name": _name("RoutingControlName"),
            "clusterArn": "ClusterArn",
            "controlPanelArn": "ControlPanelArn",
        },
    ),
}

# Kinds we create whose inputs do not map onto one request, with why.
UNMAPPED: dict[str, str] = {
    "aws:rds/instance:Instance": (
        "inputs become CreateDBInstance, CreateDBInstanceReadReplica (replicate_source_db) or "
        "RestoreDBInstanceFromDBSnapshot (snapshot_identifier), then ModifyDBInstance, by "
        "which inputs are set; the RDS model constrains none of their members beyond types"
    ),
    "aws:rds/cluster:Cluster": (
        "inputs become CreateDBCluster or RestoreDBClusterFromSnapshot and join a global "
        "cluster by which inputs are set; the RDS model constrains none of their members"
    ),
    "aws:rds/clusterInstance:ClusterInstance": (
        "CreateDBInstance for a cluster member takes a different subset than a standalone "
        "instance; the RDS model constrains none of its members beyond types"
    ),
    "aws:dynamodb/tableReplica:TableReplica": (
        "an UpdateTable ReplicaUpdates entry in the table's region plus the replica's own "
        "calls in its region; the table's name comes from the ARN, not an input"
    ),
    "aws:route53recoverycontrol/safetyRule:SafetyRule": (
        "inputs become an AssertionRule or a GatingRule of CreateSafetyRule by which fields "
        "are set (asserted_controls or gating_controls)"
    ),
}

# Inputs of every kind that are not request members.
COMMON_UNCHECKED: dict[str, str] = {"region": REGION}


def _check(resource: ResourceView) -> Iterator[str]:
    api = KINDS[resource.type]
    for message in check_resource(api, resource.props, resource.derived, resource.name):
        yield f"{resource.name}: {message}"


RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-api-model",
        description=(
            "Inputs satisfy the API request they become: enums, patterns, lengths, numeric "
            "ranges, list sizes and required members of botocore's service models."
        ),
        severity=Severity.HIGH,
        remediation=(
            "Change the value to what the API accepts (the message names the member and the "
            "constraint); AWS refuses the request with a ValidationException otherwise."
        ),
        url="https://github.com/boto/botocore/tree/develop/botocore/data",
        check=_check,
        resource_types=tuple(KINDS),
        # A change that AWS would refuse is caught before it is applied.
        frameworks=(Framework("SOC 2", "CC8.1"), Framework("ISO 27001", "A.8.32")),
    ),
)


def mapping(resource_type: str) -> Api | None:
    return KINDS.get(resource_type)


def unchecked_inputs(resource_type: str) -> Mapping[str, str]:
    api = KINDS[resource_type]
    return {**COMMON_UNCHECKED, **api.unchecked}
