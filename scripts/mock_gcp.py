"""Google Cloud-shaped identifiers for the offline engine (see scripts/mock_aws.py).

Cloud resources are named by paths (`projects/<p>/notificationChannels/<n>`); where Google
assigns the last part, it derives from a hash of (type, logical name), so the same program
always gives the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scripts.mock_aws import digest

Shape = Callable[[str, str, Mapping[str, Any]], tuple[str, dict[str, Any]]]


def _project(inputs: Mapping[str, Any]) -> str:
    return str(inputs.get("project") or "offline-project")


def _notification_channel(
    typ: str, name: str, inputs: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    path = f"projects/{_project(inputs)}/notificationChannels/{int(digest(typ, name)[:15], 16)}"
    return path, {"name": path}


def _alert_policy(typ: str, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    path = f"projects/{_project(inputs)}/alertPolicies/{int(digest(typ, name)[:15], 16)}"
    return path, {"name": path}


def _uptime_check(typ: str, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    check_id = f"{name}-{digest(typ, name)[:12]}"
    path = f"projects/{_project(inputs)}/uptimeCheckConfigs/{check_id}"
    return path, {"name": path, "uptimeCheckId": check_id}


def _key_ring(_typ: str, _name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    location, ring = inputs.get("location"), inputs.get("name")
    path = f"projects/{_project(inputs)}/locations/{location}/keyRings/{ring}"
    return path, {}


def _crypto_key(_typ: str, _name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"{inputs.get('keyRing')}/cryptoKeys/{inputs.get('name')}", {}


def _bucket(_typ: str, _name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    bucket = str(inputs.get("name"))
    return bucket, {
        "url": f"gs://{bucket}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}",
    }


def _service_account(
    _typ: str, _name: str, inputs: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    email = f"{inputs.get('accountId')}@{_project(inputs)}.iam.gserviceaccount.com"
    path = f"projects/{_project(inputs)}/serviceAccounts/{email}"
    return path, {"email": email, "member": f"serviceAccount:{email}", "name": path}


def _firestore_database(
    _typ: str, _name: str, inputs: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    path = f"projects/{_project(inputs)}/databases/{inputs.get('name')}"
    return path, {}


SHAPES: dict[str, Shape] = {
    "gcp:monitoring/notificationChannel:NotificationChannel": _notification_channel,
    "gcp:monitoring/alertPolicy:AlertPolicy": _alert_policy,
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": _uptime_check,
    "gcp:kms/keyRing:KeyRing": _key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _crypto_key,
    "gcp:storage/bucket:Bucket": _bucket,
    "gcp:serviceaccount/account:Account": _service_account,
    "gcp:firestore/database:Database": _firestore_database,
}


def new_resource(typ: str, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(id, outputs) for a Google Cloud resource, as its provider would return them."""
    outputs = dict(inputs)
    shape = SHAPES.get(typ)
    if shape is None:
        return f"{name}-{digest(typ, name)[:8]}", outputs
    ident, computed = shape(typ, name, inputs)
    outputs.update(computed)
    return ident, outputs
