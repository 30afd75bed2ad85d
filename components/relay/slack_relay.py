"""SNS -> Slack relay (AWS Lambda, Python 3.12, standard library only).

Slack incoming webhooks cannot confirm an SNS subscription nor read an SNS envelope, so the
escalation topics deliver to this function, which posts each notification to the webhooks
configured for its topic. SLACK_ROUTES (environment, KMS-encrypted) maps topic ARN to a
list of webhook URLs.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

MAX_TEXT = 3000


def format_message(sns: dict[str, Any]) -> str:
    """A CloudWatch alarm as one readable line plus its reason; anything else as JSON."""
    raw = sns.get("Message", "")
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        message = None
    if isinstance(message, dict) and "AlarmName" in message:
        state = message.get("NewStateValue", "?")
        icon = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:"}.get(
            state, ":grey_question:"
        )
        lines = [
            f"{icon} *{state}* {message['AlarmName']} ({message.get('Region', '')})",
            message.get("NewStateReason", ""),
            message.get("AlarmDescription") or "",
        ]
        return "\n".join(line for line in lines if line)[:MAX_TEXT]
    subject = sns.get("Subject") or "AWS notification"
    body = json.dumps(message, indent=2) if message is not None else str(raw)
    return f"*{subject}*\n```{body}```"[:MAX_TEXT]


def post(url: str, text: str) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


def handler(event: dict[str, Any], _context: Any) -> dict[str, int]:
    routes: dict[str, list[str]] = json.loads(os.environ["SLACK_ROUTES"])
    sent = 0
    for record in event.get("Records", []):
        sns = record["Sns"]
        for url in routes.get(sns["TopicArn"], []):
            post(url, format_message(sns))
            sent += 1
    return {"sent": sent}
