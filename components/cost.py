"""Cost guards: AWS Budgets and Cost Anomaly Detection (ReskFlow L1347-1351: budget alerts and
anomaly detection; Skafu L598-603: daily anomaly review and budget variance).

Both services are global (their APIs answer in us-east-1), so the primary stack owns them,
through a us-east-1 provider. They notify the primary region's warning topic, whose topic
and key policies let `budgets.amazonaws.com` and `costalerts.amazonaws.com` of this account
publish (`COST_PUBLISHERS`, passed to the foundation and the escalation topics).

- **Budgets**: monthly cost of the system (cost allocation tag `system=<name>`) and of each
  service in `service_budgets_usd` (tag `service=<name>`), alerting at the forecast and
  actual percentages of `resilience:cost` (80 % and 100 % forecast, 100 % actual by default).
- **Anomaly detection**: a custom monitor of the spend tagged `system=<name>` and an
  immediate subscription (SNS subscribers need one) for anomalies of at least
  `anomaly.threshold_usd`.

Tag-based filters see only cost allocation tags that are activated in the Billing console
(`system`, `service`); AWS applies them to costs from the activation on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from model.config import CostConfig, Role, StackConfig

COMPONENT_TYPE = "resilience:cost:CostGuards"
COST_PUBLISHERS = ("budgets.amazonaws.com", "costalerts.amazonaws.com")
# The APIs of AWS Budgets and Cost Explorer (anomaly detection).
BILLING_REGION = "us-east-1"
SYSTEM_TAG = "system"
SERVICE_TAG = "service"


def cost_guards_here(config: StackConfig) -> bool:
    """Whether this stack owns cost guards: the primary, when any is configured."""
    cost = config.cost
    return config.role is Role.PRIMARY and bool(
        cost.monthly_budget_usd is not None or cost.service_budgets_usd or cost.anomaly.enabled
    )


def cost_publishers(config: StackConfig) -> tuple[str, ...]:
    """Services that publish into this stack's encrypted topics for the cost guards."""
    return COST_PUBLISHERS if cost_guards_here(config) else ()


def tag_value(key: str, value: str) -> str:
    """A budget filter value on a user cost allocation tag (`user:<key>$<value>`)."""
    return f"user:{key}${value}"


def notifications(
    cost: CostConfig, topic_arn: pulumi.Input[str]
) -> list[aws.budgets.BudgetNotificationArgs]:
    """One notification per alert percentage, forecast first, all to the topic."""
    return [
        aws.budgets.BudgetNotificationArgs(
            comparison_operator="GREATER_THAN",
            notification_type=kind,
            threshold=float(percent),
            threshold_type="PERCENTAGE",
            subscriber_sns_topic_arns=[topic_arn],
        )
        for kind, percents in (
            ("FORECASTED", cost.forecast_alert_percent),
            ("ACTUAL", cost.actual_alert_percent),
        )
        for percent in percents
    ]


@dataclass(frozen=True)
class CostGuardsArgs:
    system: str
    cost: CostConfig
    provider: aws.Provider  # us-east-1
    topic_arn: pulumi.Output[str]  # the warning topic


class CostGuards(pulumi.ComponentResource):
    budgets: dict[str, aws.budgets.Budget]
    monitor: aws.costexplorer.AnomalyMonitor | None

    def __init__(
        self, name: str, args: CostGuardsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        cost = args.cost
        # budget name -> (monthly USD, tag filter value)
        wanted: dict[str, tuple[float, str]] = {}
        if cost.monthly_budget_usd is not None:
            wanted[args.system] = (cost.monthly_budget_usd, tag_value(SYSTEM_TAG, args.system))
        for service, usd in cost.service_budgets_usd.items():
            wanted[f"{args.system}-{service}"] = (usd, tag_value(SERVICE_TAG, service))
        self._wanted, self._cost = wanted, cost
        self.budgets = {}
        for budget_name, (usd, tag) in wanted.items():
            self.budgets[budget_name] = aws.budgets.Budget(
                f"{name}-{budget_name}",
                name=f"{budget_name}-monthly",
                budget_type="COST",
                time_unit="MONTHLY",
                limit_amount=f"{usd:.2f}",
                limit_unit="USD",
                cost_filters=[aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[tag])],
                notifications=notifications(cost, args.topic_arn),
                opts=child,
            )
        self.monitor = None
        if cost.anomaly.enabled:
            self.monitor = aws.costexplorer.AnomalyMonitor(
                f"{name}-anomaly-monitor",
                name=f"{args.system}-spend",
                monitor_type="CUSTOM",
                monitor_specification=json.dumps(
                    {
                        "Tags": {
                            "Key": SYSTEM_TAG,
                            "Values": [args.system],
                            "MatchOptions": ["EQUALS"],
                        }
                    },
                    sort_keys=True,
                ),
                opts=child,
            )
            dimension = aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                match_options=["GREATER_THAN_OR_EQUAL"],
                values=[f"{cost.anomaly.threshold_usd:g}"],
            )
            aws.costexplorer.AnomalySubscription(
                f"{name}-anomaly-alerts",
                name=f"{args.system}-spend-anomalies",
                frequency="IMMEDIATE",  # the only frequency SNS subscribers accept
                monitor_arn_lists=[self.monitor.arn],
                subscribers=[
                    aws.costexplorer.AnomalySubscriptionSubscriberArgs(
                        type="SNS", address=args.topic_arn
                    )
                ],
                threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                    dimension=dimension
                ),
                opts=child,
            )
        self.register_outputs({"budgets": list(self.budgets)})

    def outputs(self) -> dict[str, object]:
        """The stack output `cost`: each budget with its limit and tag filter, the alert
        percentages and the anomaly monitor."""
        return {
            "budgets": {
                f"{name}-monthly": {"monthly_usd": usd, "tag": tag}
                for name, (usd, tag) in self._wanted.items()
            },
            "forecast_alert_percent": list(self._cost.forecast_alert_percent),
            "actual_alert_percent": list(self._cost.actual_alert_percent),
            "anomaly_monitor": self.monitor.arn if self.monitor is not None else None,
            "anomaly_threshold_usd": (
                self._cost.anomaly.threshold_usd if self._cost.anomaly.enabled else None
            ),
        }
