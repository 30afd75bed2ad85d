"""AWS region names the bundle accepts.

The list is the commercial partition's regions as published by AWS (opt-in regions included).
GovCloud and China partitions are left out on purpose: ARNs, service principals and the
Route 53 control plane differ there, and nothing in the bundle has been checked against them.
"""

from __future__ import annotations

AWS_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)

# CloudWatch metrics of Route 53 health checks are published in this region only.
ROUTE53_METRICS_REGION = "us-east-1"
