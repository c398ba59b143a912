"""Webhook delivery of alerts to Slack and Microsoft Teams, with retries.

A message is posted to one channel's webhook; 429, 5xx and network failures are
retried a few times, honouring ``Retry-After``. What was delivered moves to its
sent state in the store; what failed stays pending for the next run.

Webhook URLs are secrets (the Slack path holds the token): they are never
printed or logged, and errors name the channel instead.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
import requests

from reliability.alert_messages import message_text, payload_for
from reliability.store import Store, upsert

logger = logging.getLogger(__name__)

PENDING, SENT, RECOVERY_PENDING, RECOVERED, MUTED = (
    "pending",
    "sent",
    "recovery_pending",
    "recovered",
    "muted",  # still unsent when its product was muted: never sent
)
UNSENT_STATES = (PENDING, RECOVERY_PENDING)
CHANNEL_ENV = {"slack": "SLACK_WEBHOOK_URL", "teams": "TEAMS_WEBHOOK_URL"}
CHANNEL_LABELS = {"slack": "Slack", "teams": "Microsoft Teams"}
TIMEOUT_SECONDS = (5.0, 15.0)
MAX_ATTEMPTS = 3
MAX_WAIT_SECONDS = 10.0


class DeliveryError(Exception):
    """A webhook did not accept a message; the message names the channel only."""


@dataclass(frozen=True, kw_only=True)
class Channel:
    """A configured destination: ``slack`` or ``teams`` and its webhook URL."""

    name: str
    url: str = ""

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self.name]


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What one run did: messages delivered, failed and planned (dry run)."""

    sent: int
    failed: int
    planned: int


def channels_from_env(env: Mapping[str, str]) -> list[Channel]:
    """The channels whose webhook URL is set, Slack first."""
    return [
        Channel(name=name, url=env[var].strip())
        for name, var in CHANNEL_ENV.items()
        if env.get(var, "").strip()
    ]


def deliver(
    session: requests.Session,
    channel: Channel,
    payload: Mapping[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Post one message, retrying 429, 5xx and network failures a few times.

    Slack succeeds with 200 and the body ``ok``; Teams Workflows with any 2xx
    (usually 202). Raises ``DeliveryError`` naming the channel, never the URL.
    """
    problem = ""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response = session.post(channel.url, json=payload, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            # The exception text holds the URL, so only its type is reported.
            problem = f"unreachable ({type(exc).__name__})"
            wait = float(2 ** (attempt - 1))
        else:
            if _is_accepted(channel, response):
                return
            problem = f"answered {response.status_code}{_slack_code(channel, response)}"
            if response.status_code != 429 and response.status_code < 500:
                break
            wait = _retry_after(response, attempt)
        if attempt < MAX_ATTEMPTS:
            logger.warning(
                "%s webhook %s; retrying in %.0fs", channel.label, problem, wait
            )
            sleep(wait)
    raise DeliveryError(
        f"{channel.label} webhook {problem}; check {CHANNEL_ENV[channel.name]}"
    )


def _is_accepted(channel: Channel, response: requests.Response) -> bool:
    if channel.name == "slack":
        return response.status_code == 200 and response.text.strip() == "ok"
    return 200 <= response.status_code < 300


def _slack_code(channel: Channel, response: requests.Response) -> str:
    # Slack answers a short error code such as invalid_payload or no_service.
    code = response.text.strip()[:40]
    if channel.name == "slack" and code.replace("_", "").isalpha():
        return f" {code}"
    return ""


def _retry_after(response: requests.Response, attempt: int) -> float:
    try:
        hinted = float(response.headers.get("Retry-After", ""))
    except ValueError:
        hinted = float(2 ** (attempt - 1))
    return min(max(hinted, 0.5), MAX_WAIT_SECONDS)


class _Redact(logging.Filter):
    """Hide webhook URLs from urllib3's debug lines, which name the request path."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(part in text for s in self.secrets for part in _secret_parts(s)):
            for s in self.secrets:
                for part in _secret_parts(s):
                    text = text.replace(part, "[webhook]")
            record.msg, record.args = text, ()
        return True


def _secret_parts(url: str) -> list[str]:
    parts = [url]
    scheme_end = url.find("://")
    path_start = url.find("/", scheme_end + 3) if scheme_end >= 0 else -1
    if path_start > 0 and len(url) - path_start > 1:
        parts.append(url[path_start:])
    return parts


@contextmanager
def redacted_logs(channels: Sequence[Channel]) -> Iterator[None]:
    """Hide the channels' webhook URLs from HTTP library logs while delivering."""
    redact = _Redact([c.url for c in channels])
    loggers = [
        logging.getLogger(name)
        for name in ("urllib3.connectionpool", "urllib3", "requests")
    ]
    for each in loggers:
        each.addFilter(redact)
    try:
        yield
    finally:
        for each in loggers:
            each.removeFilter(redact)


def deliver_due(
    store: Store,
    due: pd.DataFrame,
    channels: Sequence[Channel],
    *,
    session: requests.Session | None,
    sleep: Callable[[float], None],
    now: dt.datetime,
    report: Callable[[str], None],
) -> RunResult:
    """Deliver each channel's due messages per product and record what was sent.

    Every outcome goes to ``report`` as one line; failures stay pending.
    """
    by_name = {c.name: c for c in channels}
    session = session or requests.Session()
    delivered, failed = [], 0
    with redacted_logs(channels):
        for (channel_name, _product), group in due.groupby(
            ["channel", "product"], sort=True
        ):
            channel = by_name.get(str(channel_name))
            facts = [json.loads(p) for p in group.sort_values("raised_at")["payload"]]
            if channel is None:
                failed += 1
                report(
                    f"pending {channel_name}: {message_text(facts)} ({CHANNEL_ENV[str(channel_name)]} is not set)"
                )
                continue
            try:
                deliver(session, channel, payload_for(channel.name, facts), sleep=sleep)
            except DeliveryError as exc:
                failed += 1
                logger.error("Kept %d alert(s) pending: %s", len(group), exc)
                report(f"pending {channel.name}: {message_text(facts)} ({exc})")
                continue
            delivered.append(group)
            report(f"sent {channel.name}: {message_text(facts)}")

    if delivered:
        done = pd.concat(delivered, ignore_index=True)
        done["state"] = done["state"].map({PENDING: SENT, RECOVERY_PENDING: RECOVERED})
        done["sent_at"] = now
        with store.writing() as con:
            upsert(con, "alerts", done)
    return RunResult(sent=len(delivered), failed=failed, planned=0)
