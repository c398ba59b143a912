"""The words of an alert: Slack Block Kit and Teams Adaptive Card payloads.

A message is built from the ``facts`` of one product's rows in the ``alerts``
table (one dict per rule: kind, rule, what, before, after, name, status, insight
and link), so a message can be sent again long after the run that raised it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

RULES: dict[str, str] = {
    "band_drop": "Status band drop",
    "delta_7d": "Sharp 7-day drop",
    "forecast_critical": "Forecast to turn Critical",
    "error_budget_burn": "Error budget burn",
}


def message_text(facts: Sequence[Mapping[str, Any]]) -> str:
    """The plain-text fallback of one message about one product."""
    first = facts[0]
    is_recovery = all(f["kind"] == "recovery" for f in facts)
    prefix = "Reliability recovery" if is_recovery else "Reliability alert"
    parts = [f["what"] for f in facts]
    return f"{prefix}: {first['name']}{_score_change(first)}: " + "; ".join(parts)


def slack_payload(facts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A Block Kit message with a ``text`` fallback (sources.md 5.1)."""
    first = facts[0]
    fields = []
    for fact in facts:
        title = ("Recovered: " if fact["kind"] == "recovery" else "") + RULES[
            fact["rule"]
        ]
        detail = fact["what"] + _score_change(fact)
        fields.append(
            {
                "type": "mrkdwn",
                "text": f"*{_slack_escape(title)}*\n{_slack_escape(detail)}",
            }
        )
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _headline(facts)[:150]},
        },
        {"type": "section", "fields": fields[:10]},
    ]
    if first.get("insight"):
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*Top fix*\n{_slack_escape(first['insight'])}",
                },
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"<{first['link']}|Open {_slack_escape(first['name'])} in the dashboard>",
                }
            ],
        }
    )
    return {"text": message_text(facts), "blocks": blocks}


def teams_payload(facts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An Adaptive Card in the message envelope that Teams Workflows take (5.2)."""
    first = facts[0]
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
            "text": _headline(facts),
        },
        {
            "type": "FactSet",
            "facts": [
                {
                    "title": ("Recovered: " if f["kind"] == "recovery" else "")
                    + RULES[f["rule"]],
                    "value": f["what"] + _score_change(f),
                }
                for f in facts
            ],
        },
    ]
    if first.get("insight"):
        body.append(
            {"type": "TextBlock", "wrap": True, "text": f"Top fix: {first['insight']}"}
        )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": "Open dashboard", "url": first["link"]}
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def payload_for(channel: str, facts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The message body that ``channel`` ("slack" or "teams") takes."""
    return slack_payload(facts) if channel == "slack" else teams_payload(facts)


def _headline(facts: Sequence[Mapping[str, Any]]) -> str:
    first = facts[0]
    after = first.get("after")
    score = f"{after:.0f}/100" if after is not None else "no score"
    if all(f["kind"] == "recovery" for f in facts):
        return f"{first['name']} recovered: reliability {score}"
    return f"{first['name']}: reliability {score} ({first['status']})"


def _score_change(fact: Mapping[str, Any]) -> str:
    before, after = fact.get("before"), fact.get("after")
    if before is None or after is None:
        return ""
    return f" (score {before:.1f} -> {after:.1f})"


def _slack_escape(text: str) -> str:
    # Slack mrkdwn treats these three as control characters (api.slack.com/reference/surfaces/formatting).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
