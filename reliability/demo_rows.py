"""Raw rows for one demo product, drawn from its health curves.

Sentry issues arrive and get resolved at rates that follow runtime health,
SonarCloud analyses report what quality health implies, Jira tickets meet their
SLA as often as operations health allows, and Azure requests fail and slow down
with system health. Every table is shaped exactly as a sync writes it.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

import numpy as np
import pandas as pd

from reliability.demo_stories import (
    HOSTILE_TITLE,
    Story,
    sentry_projects,
    sonar_projects,
)

HOUR = np.timedelta64(3600, "s")
DAY = np.timedelta64(86400, "s")

# Rows are generated as column arrays and framed once per table: at 2,000
# products, a DataFrame per product and table cost most of the build (#7).
Block = dict[str, np.ndarray]


def _block(count: int, **columns: Any) -> Block:
    """Columns of ``count`` rows; a scalar fills its whole column."""
    return {
        name: np.asarray(value) if np.ndim(value) else np.full(count, value)
        for name, value in columns.items()
    }


def stack_blocks(blocks: list[Block]) -> pd.DataFrame:
    """One frame from blocks that share their columns, in order."""
    return pd.DataFrame(
        {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0]}
    )


def product_rows(
    story: Story,
    rng: np.random.Generator,
    days: pd.DatetimeIndex,
    health: dict[str, np.ndarray],
    sync_time: dt.datetime,
) -> dict[str, list[Block]]:
    tables: dict[str, list[Block]] = {}
    if "runtime" in health:
        issues, changes = _sentry_issues(story, rng, days, health["runtime"], sync_time)
        tables["sentry_issues"], tables["sentry_issue_changes"] = [issues], changes
        if story.has_sessions:
            tables["sentry_sessions"] = _sentry_sessions(
                story, rng, days, health["runtime"]
            )
    if "quality" in health:
        tables["sonar_measures"] = _sonar_measures(story, rng, days, health["quality"])
    if "operations" in health:
        tables["jira_tickets"] = [
            _jira_tickets(story, rng, days, health["operations"], sync_time)
        ]
    if "system_health" in health:
        daily, hourly = _azure_requests(story, rng, days, health["system_health"])
        tables["azure_requests"], tables["azure_requests_hourly"] = [daily], [hourly]
    return tables


def _lerp(bad: float, good: float, h: np.ndarray) -> np.ndarray:
    return bad + (good - bad) * h


def _log_lerp(bad: float, good: float, h: np.ndarray) -> np.ndarray:
    """Interpolate on a log scale, for rates that span orders of magnitude."""
    return np.exp(_lerp(np.log(bad), np.log(good), h))


def _arrivals(
    rng: np.random.Generator,
    days: pd.DatetimeIndex,
    rate: np.ndarray,
    until: dt.datetime,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw Poisson arrivals per day; return their day positions and timestamps.

    Arrivals on the last day fall before ``until``, the time of the demo's sync.
    """
    counts = rng.poisson(rate)
    positions = np.repeat(np.arange(len(days)), counts)
    offsets = rng.uniform(0, 86400, size=len(positions))
    elapsed = (pd.Timestamp(until) - days[-1]).total_seconds()
    last_day_share = min(max(elapsed, 60.0), 86400.0) / 86400
    offsets = np.where(positions == len(days) - 1, offsets * last_day_share, offsets)
    stamps = days.values[positions] + offsets.astype("int64").astype("timedelta64[s]")
    return positions, stamps


def _sentry_issues(
    story: Story,
    rng: np.random.Generator,
    days: pd.DatetimeIndex,
    h: np.ndarray,
    sync_time: dt.datetime,
) -> tuple[Block, list[Block]]:
    positions, first_seen = _arrivals(rng, days, _lerp(1.6, 0.05, h), sync_time)
    count = len(positions)

    # Resolution follows a hazard that tracks health day by day, so a team that
    # gets better also clears its backlog, and one that gets worse stops doing so.
    hazard = np.cumsum(_lerp(0.004, 0.5, h**2))
    thresholds = hazard[positions] + rng.exponential(1.0, size=count)
    resolved_pos = np.searchsorted(hazard, thresholds)
    is_resolved = resolved_pos < len(days)
    resolve_offsets = rng.uniform(0, 86400, size=count).astype("int64")
    resolved_at = days.values[
        np.minimum(resolved_pos, len(days) - 1)
    ] + resolve_offsets.astype("timedelta64[s]")
    resolved_at = np.where(resolved_at > first_seen, resolved_at, first_seen + HOUR)
    now = np.datetime64(sync_time)
    is_resolved &= resolved_at <= now

    # A few resolved issues come back as regressions.
    regression_at = resolved_at + (rng.exponential(12, size=count) * 86400).astype(
        "timedelta64[s]"
    )
    is_regressed = is_resolved & (rng.random(count) < 0.06) & (regression_at <= now)

    levels = rng.choice(
        ["fatal", "error", "warning", "info"], size=count, p=[0.05, 0.45, 0.35, 0.15]
    )
    projects = rng.choice(sentry_projects(story), size=count)
    prefix = zlib.crc32(story.slug.encode()) % 10**5
    ids = [f"{prefix:05d}{i:05d}" for i in range(count)]
    titles = _issue_titles(rng, count)
    if story.slug == "billing" and count:
        titles[-1] = HOSTILE_TITLE

    status = np.where(
        is_regressed, "unresolved", np.where(is_resolved, "resolved", "unresolved")
    )
    last_seen = np.where(is_resolved & ~is_regressed, resolved_at, now)
    issues = _block(
        count,
        product=story.slug,
        issue_id=np.array(ids, dtype=object),
        project=projects,
        short_id=np.array(
            [f"{story.slug[:4].upper()}-{i + 1:X}" for i in range(count)], dtype=object
        ),
        title=np.array(titles, dtype=object),
        level=levels,
        status=status,
        first_seen=first_seen,
        last_seen=last_seen,
        resolved_at=np.where(is_resolved, resolved_at, np.datetime64("NaT")),
        regressed_at=np.where(is_regressed, regression_at, np.datetime64("NaT")),
        resolution_source=np.where(
            is_resolved, "activity", np.array(None, dtype=object)
        ),
        user_count=rng.integers(1, 800, size=count),
        event_count=rng.integers(1, 20000, size=count),
        permalink=np.array(
            [f"https://demo.sentry.example/issues/{i}/" for i in ids], dtype=object
        ),
    )
    changes = [
        _block(
            int(mask.sum()),
            product=story.slug,
            issue_id=issues["issue_id"][mask],
            changed_at=at[mask],
            kind=kind,
        )
        for mask, at, kind in (
            (is_resolved, resolved_at, "resolved"),
            (is_regressed, regression_at, "regressed"),
        )
    ]
    return issues, changes


_ERRORS = (
    "TimeoutError",
    "KeyError",
    "NullPointerException",
    "ConnectionResetError",
    "ValueError",
    "IntegrityError",
    "HTTPError 502",
    "OutOfMemoryError",
)
_PLACES = (
    "checkout",
    "invoice export",
    "login",
    "search",
    "payment callback",
    "report builder",
    "sync worker",
    "profile page",
)


def _issue_titles(rng: np.random.Generator, count: int) -> list[str]:
    errors = rng.choice(_ERRORS, size=count)
    places = rng.choice(_PLACES, size=count)
    return [f"{e} in {p}" for e, p in zip(errors, places, strict=True)]


def _sentry_sessions(
    story: Story, rng: np.random.Generator, days: pd.DatetimeIndex, h: np.ndarray
) -> list[Block]:
    blocks = []
    crash_rate = _log_lerp(0.03, 0.0003, h)
    for project in sentry_projects(story):
        base = rng.integers(3000, 40000)
        sessions = rng.poisson(base * rng.uniform(0.85, 1.15, size=len(days)))
        crashed = rng.binomial(
            sessions, np.clip(crash_rate * rng.uniform(0.7, 1.3, len(days)), 0, 1)
        )
        blocks.append(
            _block(
                len(days),
                product=story.slug,
                project=project,
                day=days.date,
                sessions=sessions,
                crashed=crashed,
            )
        )
    return blocks


def _sonar_measures(
    story: Story, rng: np.random.Generator, days: pd.DatetimeIndex, h: np.ndarray
) -> list[Block]:
    blocks = []
    for key in sonar_projects(story):
        positions = np.sort(
            rng.choice(len(days), size=max(1, len(days) // 3), replace=False)
        )
        at = days.values[positions] + np.timedelta64(10, "h")
        q = np.clip(h[positions] + rng.normal(0, 0.03, len(positions)), 0, 1)
        gate = np.where((q > 0.55) & ~story.failing_gate, "OK", "ERROR")
        values = {
            "reliability_rating": np.clip(np.round(1 + (1 - q) * 4), 1, 5),
            "security_rating": np.clip(np.round(1 + (1 - q) * 3.6), 1, 5),
            "sqale_rating": np.clip(np.round(1 + (1 - q) * 3), 1, 5),
            "coverage": np.clip(_lerp(12, 88, q) + rng.normal(0, 2, len(q)), 0, 100),
            "duplicated_lines_density": np.clip(_lerp(24, 1.5, q), 0, 100),
            "security_hotspots_reviewed": np.clip(_lerp(5, 100, q), 0, 100),
            "ncloc": np.round(
                rng.integers(20000, 200000) * (1 + np.linspace(0, 0.05, len(q)))
            ),
            "bugs": np.round(_lerp(340, 2, q) * rng.uniform(0.9, 1.1, len(q))),
            "vulnerabilities": np.round(_lerp(40, 0, q)),
            "code_smells": np.round(_lerp(3000, 60, q)),
        }
        rows = len(at)
        blocks.append(
            _block(
                rows,
                product=story.slug,
                project_key=key,
                metric="alert_status",
                analysed_at=at,
                value=np.nan,
                text_value=gate.astype(object),
            )
        )
        for metric, series in values.items():
            blocks.append(
                _block(
                    rows,
                    product=story.slug,
                    project_key=key,
                    metric=metric,
                    analysed_at=at,
                    value=series.astype(float),
                    text_value=None,
                )
            )
    return blocks


_PRIORITIES = np.array(["Highest", "High", "Medium", "Low"])
_TARGET_HOURS = np.array([24.0, 72.0, 240.0, 720.0])
_SUMMARIES = (
    "Payment page times out",
    "Export fails for large accounts",
    "Login loop on mobile",
    "Wrong totals in monthly report",
    "Webhook retries flood the queue",
    "Slow search for admins",
)


def _jira_tickets(
    story: Story,
    rng: np.random.Generator,
    days: pd.DatetimeIndex,
    h: np.ndarray,
    sync_time: dt.datetime,
) -> Block:
    positions, created = _arrivals(rng, days, _lerp(1.4, 0.5, h), sync_time)
    count = len(positions)
    level = rng.choice(4, size=count, p=[0.07, 0.23, 0.45, 0.25])
    hq = h[positions]

    # Resolution takes a multiple of the priority's target: under 1 meets the SLA.
    factor = np.exp(rng.normal(np.log(_log_lerp(2.6, 0.25, hq)), 0.55))
    resolved = created + (factor * _TARGET_HOURS[level] * 3600).astype("timedelta64[s]")
    response_hours = np.exp(rng.normal(np.log(_log_lerp(90, 1.5, hq)), 0.6))
    first_response = created + (response_hours * 3600).astype("timedelta64[s]")
    now = np.datetime64(sync_time)
    is_resolved = resolved <= now

    prefix = story.slug[:3].upper()
    keys = [f"{prefix}-{i + 100}" for i in range(count)]
    return _block(
        count,
        product=story.slug,
        ticket_id=np.array([f"{story.slug}-{i}" for i in range(count)], dtype=object),
        key=np.array(keys, dtype=object),
        summary=rng.choice(_SUMMARIES, size=count),
        issue_type=rng.choice(["Bug", "Incident"], size=count, p=[0.7, 0.3]),
        status=np.where(is_resolved, "Done", "In Progress"),
        priority=_PRIORITIES[level],
        created=created,
        updated=np.where(is_resolved, resolved, now),
        resolved=np.where(is_resolved, resolved, np.datetime64("NaT")),
        first_response=np.where(
            first_response <= now, first_response, np.datetime64("NaT")
        ),
        sla_due=np.datetime64("NaT", "s"),
        sla_met=None,
        url=np.array(
            [f"https://demo.atlassian.example/browse/{k}" for k in keys], dtype=object
        ),
    )


def _azure_requests(
    story: Story, rng: np.random.Generator, days: pd.DatetimeIndex, h: np.ndarray
) -> tuple[Block, Block]:
    app = f"{story.slug}-api"
    base = rng.integers(200_000, 2_000_000)
    total = rng.poisson(base * rng.uniform(0.9, 1.1, len(days)))
    fail_rate = _log_lerp(0.03, 0.0001, h) * rng.lognormal(0, 0.25, len(days))
    failed = rng.binomial(total, np.clip(fail_rate, 0, 1))
    p95 = _lerp(3200, 180, h) * rng.lognormal(0, 0.08, len(days))
    daily = _block(
        len(days),
        product=story.slug,
        app=app,
        day=days.date,
        total=total,
        failed=failed,
        p95_ms=p95,
    )

    hours = pd.date_range(end=days[-1] + pd.Timedelta(hours=23), periods=72, freq="h")
    hour_h = np.repeat(h[-3:], 24)
    hourly_total = rng.poisson(base / 24, size=72)
    hourly_failed = rng.binomial(
        hourly_total, np.clip(_log_lerp(0.03, 0.0001, hour_h), 0, 1)
    )
    hourly = _block(
        len(hours),
        product=story.slug,
        app=app,
        hour=hours.values,
        total=hourly_total,
        failed=hourly_failed,
        p95_ms=_lerp(3200, 180, hour_h),
    )
    return daily, hourly
