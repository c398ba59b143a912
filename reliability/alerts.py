"""Degradation alerts to Slack and Microsoft Teams, remembered in the store.

Rules come from the portfolio's ``[alerts]`` table: a product fell a status band
within 7 days (``band_drop``), its 7-day change is at or below ``delta_7d``, its
forecast crosses into Critical within 14 days (``forecast_critical``), or an error
budget burns at page level (``error_budget_burn``, from the hourly Azure requests).

Every message is a row of the ``alerts`` table, one per product, rule and channel,
so a run knows what it said before. ``state`` moves through::

    pending -> sent -> (condition gone) recovery_pending -> recovered

A pending row is retried on every run until it is delivered; it is never dropped.
While a condition holds it is sent again only after ``cooldown_hours``; when it no
longer holds, one "recovered" message follows. One run sends one message per
product and channel, which stays under Slack's one message per second per hook.

Sending to the webhooks, with retries and secret URLs kept out of every log,
lives in ``reliability.alert_delivery``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

import pandas as pd
import requests

from reliability import insights, slo, snapshot

# The "X as X" names are re-exported: tests and callers use them from here.
from reliability.alert_delivery import (
    CHANNEL_ENV,
    MUTED,
    PENDING,
    RECOVERY_PENDING,
    SENT,
    UNSENT_STATES,
    channels_from_env,
    deliver_due,
)
from reliability.alert_delivery import RunResult as RunResult
from reliability.alert_messages import RULES, message_text
from reliability.alert_messages import slack_payload as slack_payload
from reliability.alert_messages import teams_payload as teams_payload
from reliability.config import AlertRules, Portfolio
from reliability.scoring import CRITICAL, DEFAULT_WEIGHTS
from reliability.store import Store, upsert

DEFAULT_APP_URL = "http://localhost:8501"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One rule holding for one product now, with what a message says about it."""

    product: str
    name: str
    rule: str
    what: str
    before: float | None
    after: float | None
    status: str
    insight: str | None
    link: str


# -- rules -----------------------------------------------------------------------------


def evaluate(
    snap: snapshot.Snapshot,
    portfolio: Portfolio | None,
    *,
    burn_states: Mapping[str, str | None] | None = None,
    details: Mapping[str, insights.Details] | None = None,
    app_url: str = DEFAULT_APP_URL,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> list[Condition]:
    """Return the rule conditions that hold now for products not muted."""
    rules = portfolio.alerts if portfolio else AlertRules()
    muted = muted_products(portfolio)
    table = snapshot.summary(snap, weights)
    factor = portfolio.tier1_factor if portfolio else insights.DEFAULT_TIER1_FACTOR
    ranked = insights.insights(snap, weights, tier1_factor=factor, details=details)
    tops = insights.top_per_product(ranked)
    top_text = {
        row.product: f"{row.action} ({row.evidence}): +{row.gain:.1f} points"
        for row in tops.itertuples()
    }

    conditions = []
    for row in table.itertuples(index=False):
        if row.slug in muted or pd.isna(row.overall):
            continue
        common = {
            "product": row.slug,
            "name": row.name,
            "status": row.status,
            "insight": top_text.get(row.slug),
            "link": product_link(app_url, row.slug),
        }
        before = (
            snapshot.plain_number(row.overall - row.delta_7d)
            if not pd.isna(row.delta_7d)
            else None
        )
        now = float(row.overall)
        if rules.band_drop and bool(row.fell_band_7d):
            conditions.append(
                Condition(
                    rule="band_drop",
                    before=before,
                    after=now,
                    what=f"fell to {row.status} within 7 days",
                    **common,
                )
            )
        if not pd.isna(row.delta_7d) and row.delta_7d <= rules.delta_7d:
            conditions.append(
                Condition(
                    rule="delta_7d",
                    before=before,
                    after=now,
                    what=f"overall {row.delta_7d:+.1f} points in 7 days",
                    **common,
                )
            )
        if (
            rules.forecast_critical
            and row.forecast_status == CRITICAL
            and row.status != CRITICAL
        ):
            conditions.append(
                Condition(
                    rule="forecast_critical",
                    before=now,
                    after=snapshot.plain_number(row.forecast_14d),
                    what=f"forecast {row.forecast_14d:.1f} (Critical) in 14 days",
                    **common,
                )
            )
        if rules.error_budget_burn and (burn_states or {}).get(row.slug) == slo.PAGE:
            conditions.append(
                Condition(
                    rule="error_budget_burn",
                    before=before,
                    after=now,
                    what="error budget burning at page level (SRE multi-window burn rate)",
                    **common,
                )
            )
    return conditions


def muted_products(portfolio: Portfolio | None) -> set[str]:
    """Products whose alerts are muted, by ``alerts.mute`` or ``mute_alerts``."""
    if portfolio is None:
        return set()
    return set(portfolio.alerts.mute) | {
        p.slug for p in portfolio.products if p.mute_alerts
    }


def burn_states(store: Store, snap: snapshot.Snapshot) -> dict[str, str | None]:
    """Alert state of each product's error budget from its hourly requests.

    Each product is judged as of its newest hour of data up to the end of the
    snapshot's day, so a sync that ran mid-day is not read as silence.
    """
    end = dt.datetime.combine(snap.as_of + dt.timedelta(days=1), dt.time())
    hourly = store.query(
        "SELECT product, hour, total, failed FROM azure_requests_hourly WHERE hour < ?",
        [end],
    )
    slos = dict(zip(snap.products["slug"], snap.products["slo"], strict=True))
    states: dict[str, str | None] = {}
    for product, rows in hourly.groupby("product"):
        slo_percent = float(slos.get(product, slo.DEFAULT_SLO_PERCENT))
        states[str(product)] = slo.hourly_burn_status(
            rows, rows["hour"].max(), slo_percent
        ).state
    return states


def product_link(app_url: str, slug: str) -> str:
    """The product page of the hosted app."""
    return f"{app_url.rstrip('/')}/product?product={quote(slug)}"


# -- the run ------------------------------------------------------------------------------


def run_alerts(
    store: Store,
    portfolio: Portfolio | None,
    *,
    env: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    is_dry_run: bool = False,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] = logger.info,
) -> RunResult:
    """Evaluate the rules, record new alerts and recoveries, and deliver what is due.

    ``now`` is naive UTC. Each outcome goes to ``report`` as one line (the
    command prints them). A dry run reports the messages it would send and
    neither sends nor writes anything.
    """
    env = os.environ if env is None else env
    now = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    rules = portfolio.alerts if portfolio else AlertRules()
    channels = channels_from_env(env)

    snap = snapshot.load_snapshot(store, portfolio)
    burns = burn_states(store, snap) if rules.error_budget_burn else {}
    app_url = env.get("RELIABILITY_APP_URL", "").strip() or DEFAULT_APP_URL
    details = insights.load_details(store, snap.as_of)
    conditions = evaluate(
        snap, portfolio, burn_states=burns, details=details, app_url=app_url
    )
    history = store.query("SELECT * FROM alerts ORDER BY raised_at")
    names = [c.name for c in channels] or (list(CHANNEL_ENV) if is_dry_run else [])
    muted = muted_products(portfolio)
    new_rows = plan(
        conditions,
        history,
        names,
        rules=rules,
        muted=muted,
        now=now,
        snap=snap,
        app_url=app_url,
    )

    # A message still waiting when its product was muted is dropped, not sent.
    unsent = history[history["state"].isin(UNSENT_STATES)]
    silenced = unsent[unsent["product"].isin(muted)].assign(state=MUTED)
    due = pd.concat(
        [unsent[~unsent["product"].isin(muted)], new_rows], ignore_index=True
    )
    verb = "would drop" if is_dry_run else "dropped"
    for product in sorted(set(silenced["product"])):
        report(f"{verb}: {product} is muted; its unsent alerts will not be sent")
    if is_dry_run:
        return _report_plan(due, report, has_channels=bool(channels))
    if not new_rows.empty or not silenced.empty:
        with store.writing() as con:
            upsert(con, "alerts", pd.concat([new_rows, silenced], ignore_index=True))
    return deliver_due(
        store,
        due,
        channels,
        session=session,
        sleep=sleep,
        now=now,
        report=report,
    )


def plan(
    conditions: Sequence[Condition],
    history: pd.DataFrame,
    channels: Sequence[str],
    *,
    rules: AlertRules,
    muted: set[str],
    now: dt.datetime,
    snap: snapshot.Snapshot,
    app_url: str,
) -> pd.DataFrame:
    """New ``alerts`` rows (state pending or recovery_pending) for this run."""
    cooldown = dt.timedelta(hours=rules.cooldown_hours)
    active = {(c.product, c.rule): c for c in conditions}
    latest = (
        history.groupby(["product", "rule", "channel"])
        .tail(1)
        .set_index(["product", "rule", "channel"])
    )
    sent = (
        history[history["state"] == SENT]
        .groupby(["product", "rule", "channel"])["sent_at"]
        .max()
    )
    scores = snapshot.summary(snap, DEFAULT_WEIGHTS).set_index("slug")

    rows = []
    for channel in channels:
        for (product, rule), condition in active.items():
            key = (product, rule, channel)
            state = latest.at[key, "state"] if key in latest.index else None
            last_sent = sent.get(key)
            if state in UNSENT_STATES or (
                last_sent is not None and now - last_sent < cooldown
            ):
                continue
            rows.append(_row(key, PENDING, now, {"kind": "alert", **asdict(condition)}))
        for key, previous in latest.iterrows():
            product, rule, row_channel = key
            if (
                row_channel != channel
                or previous["state"] != SENT
                or (product, rule) in active
                or product in muted
                or product not in scores.index
            ):
                continue
            rows.append(
                _row(
                    key,
                    RECOVERY_PENDING,
                    now,
                    _recovery_facts(previous, scores.loc[product], app_url),
                )
            )
    columns = ["product", "rule", "channel", "raised_at", "sent_at", "state", "payload"]
    return pd.DataFrame(rows, columns=columns).astype({"sent_at": "datetime64[us]"})


def _row(
    key: tuple[str, str, str], state: str, now: dt.datetime, facts: Mapping[str, Any]
) -> dict[str, Any]:
    product, rule, channel = key
    return {
        "product": product,
        "rule": rule,
        "channel": channel,
        "raised_at": now,
        "sent_at": None,
        "state": state,
        "payload": json.dumps(facts),
    }


def _recovery_facts(
    previous: pd.Series, score: pd.Series, app_url: str
) -> dict[str, Any]:
    raised = json.loads(previous["payload"] or "{}")
    product = str(previous.name[0])
    return {
        "kind": "recovery",
        "product": product,
        "rule": previous.name[1],
        "name": raised.get("name", product),
        "what": f"{RULES[previous.name[1]].lower()} has cleared",
        "before": raised.get("after"),
        "after": snapshot.plain_number(score["overall"]),
        "status": str(score["status"]),
        "insight": None,
        "link": product_link(app_url, product),
    }


def _report_plan(
    due: pd.DataFrame, report: Callable[[str], None], *, has_channels: bool
) -> RunResult:
    if not has_channels:
        report(
            "No channel is configured (set SLACK_WEBHOOK_URL or TEAMS_WEBHOOK_URL); "
            "showing what would be sent to each."
        )
    groups = list(due.groupby(["channel", "product"], sort=True))
    for (channel, _product), group in groups:
        facts = [json.loads(p) for p in group.sort_values("raised_at")["payload"]]
        report(f"would send {channel}: {message_text(facts)}")
        if facts[0].get("insight"):
            report(f"  top fix: {facts[0]['insight']}")
        report(f"  link: {facts[0]['link']}")
    if not groups:
        report("Nothing to send.")
    return RunResult(sent=0, failed=0, planned=len(groups))
