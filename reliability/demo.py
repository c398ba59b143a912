"""The built-in demo portfolio: realistic raw rows, written as a sync writes them.

Every product has a health curve per dimension (0 = on fire, 1 = exemplary) over
the last 180 days, and raw rows are drawn from it: Sentry issues arrive and get
resolved at rates that follow runtime health, SonarCloud analyses report what
quality health implies, and so on. The metrics and scores are then computed from
those rows by the same code as for real data, so the demo exercises everything.

The first twelve products tell stories the pages should reveal (see ``STORIES``);
products past twelve get random curves. One random generator per product keeps a
product's rows the same whatever the portfolio size, for a given seed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reliability import metrics
from reliability.scoring import DIMENSIONS
from reliability.store import Store, set_meta, upsert

logger = logging.getLogger(__name__)

DEFAULT_PRODUCTS = 12
DEFAULT_DAYS = 180
DEFAULT_SEED = 7
TEAMS = ("Payments", "Platform", "Customer", "Data")
HOUR = np.timedelta64(3600, "s")
DAY = np.timedelta64(86400, "s")

# An issue title full of markup: the pages must show it as text, not render it.
HOSTILE_TITLE = "TypeError: <img src=x onerror=alert(1)> is not a **function**"

# Rows are generated as column arrays and framed once per table: at 2,000
# products, a DataFrame per product and table cost most of the build (#7).
Block = dict[str, np.ndarray]


@dataclass(frozen=True, kw_only=True)
class Curve:
    """Health that moves from ``before`` to ``after`` between two days-ago marks."""

    before: float
    after: float
    change_from: int = 0  # days ago the change starts
    change_to: int = 0  # days ago it is complete

    def at(self, days_ago: np.ndarray) -> np.ndarray:
        if self.change_from <= self.change_to:
            return np.where(days_ago > self.change_to, self.before, self.after)
        span = self.change_from - self.change_to
        progress = np.clip((self.change_from - days_ago) / span, 0.0, 1.0)
        return self.before + (self.after - self.before) * progress


def _flat(h: float) -> Curve:
    return Curve(before=h, after=h)


@dataclass(frozen=True, kw_only=True)
class Story:
    slug: str
    name: str
    team: str
    tier: int
    curves: dict[str, Curve]
    slo: float = 99.9
    has_sessions: bool = True
    sonar_projects: int = 1
    failing_gate: bool = False
    note: str = ""


STORIES: tuple[Story, ...] = (
    Story(
        slug="adora",
        name="Adora",
        team="Payments",
        tier=1,
        slo=99.95,
        curves={d: _flat(0.95) for d in DIMENSIONS},
        note="healthy throughout",
    ),
    Story(
        slug="billing",
        name="Billing",
        team="Payments",
        tier=1,
        note="degrading",
        curves={
            "runtime": Curve(before=0.9, after=0.1, change_from=32, change_to=18),
            "quality": _flat(0.75),
            "operations": Curve(before=0.85, after=0.2, change_from=32, change_to=18),
            "system_health": Curve(
                before=0.95, after=0.15, change_from=30, change_to=15
            ),
        },
    ),
    Story(
        slug="caims",
        name="CAIMS",
        team="Customer",
        tier=2,
        note="improving",
        curves={
            "runtime": Curve(before=0.15, after=0.95, change_from=55, change_to=30),
            "quality": Curve(before=0.3, after=0.85, change_from=35, change_to=15),
            "operations": Curve(before=0.2, after=0.9, change_from=45, change_to=25),
            "system_health": Curve(
                before=0.3, after=0.95, change_from=40, change_to=20
            ),
        },
    ),
    Story(
        slug="ledger",
        name="Ledger",
        team="Payments",
        tier=2,
        sonar_projects=2,
        failing_gate=True,
        note="failing quality gate, hundreds of bugs",
        curves={
            "runtime": _flat(0.7),
            "quality": _flat(0.05),
            "operations": _flat(0.7),
            "system_health": _flat(0.8),
        },
    ),
    Story(
        slug="helpdesk",
        name="Helpdesk",
        team="Customer",
        tier=2,
        note="SLA breaches",
        curves={
            "runtime": _flat(0.75),
            "quality": _flat(0.7),
            "operations": _flat(0.05),
            "system_health": _flat(0.85),
        },
    ),
    Story(
        slug="atlas",
        name="Atlas",
        team="Data",
        tier=3,
        note="no Azure data",
        curves={
            "runtime": _flat(0.8),
            "quality": _flat(0.8),
            "operations": _flat(0.75),
        },
    ),
    Story(
        slug="orion",
        name="Orion",
        team="Platform",
        tier=1,
        note="critical today",
        curves={
            "runtime": _flat(0.15),
            "quality": _flat(0.3),
            "operations": _flat(0.25),
            "system_health": _flat(0.3),
        },
    ),
    Story(
        slug="kestrel",
        name="Kestrel",
        team="Platform",
        tier=2,
        has_sessions=False,
        note="backend only: no Sentry sessions",
        curves={d: _flat(0.7) for d in DIMENSIONS},
    ),
    Story(
        slug="nimbus",
        name="Nimbus",
        team="Platform",
        tier=3,
        note="sliding slowly: forecast to turn Critical",
        curves={
            "runtime": Curve(before=0.85, after=0.0, change_from=28, change_to=0),
            "quality": _flat(0.6),
            "operations": Curve(before=0.8, after=0.0, change_from=28, change_to=0),
            "system_health": _flat(0.6),
        },
    ),
    Story(
        slug="quartz",
        name="Quartz",
        team="Data",
        tier=2,
        curves={d: _flat(0.8) for d in DIMENSIONS},
    ),
    Story(
        slug="sable",
        name="Sable",
        team="Data",
        tier=3,
        note="Sentry and Jira only",
        curves={"runtime": _flat(0.65), "operations": _flat(0.6)},
    ),
    Story(
        slug="vega",
        name="Vega",
        team="Customer",
        tier=3,
        curves={d: _flat(0.85) for d in DIMENSIONS},
    ),
)


def build_demo(
    store: Store,
    *,
    products: int = DEFAULT_PRODUCTS,
    seed: int = DEFAULT_SEED,
    days: int = DEFAULT_DAYS,
    end: dt.date | None = None,
) -> dict[str, int]:
    """Write a fresh demo portfolio into ``store``; return rows per table.

    ``end`` is the last day with data (today, UTC, by default).
    """
    if products < 1:
        raise ValueError("the demo needs at least 1 product")
    if days < 1:
        raise ValueError("the demo needs at least 1 day of data")
    end = end or dt.datetime.now(dt.UTC).date()
    started = time.perf_counter()

    stories = [_story(index, seed) for index in range(products)]
    tables = _generate(stories, seed=seed, days=days, end=end)
    counts: dict[str, int] = {}
    with store.writing(fresh=True) as con:
        for table, frame in tables.items():
            counts[table] = upsert(con, table, frame)
        set_meta(con, "is_demo", "true")
        set_meta(con, "demo_seed", str(seed))
        set_meta(con, "last_sync", _end_timestamp(end).isoformat())
        metrics.refresh_metric_daily(con, as_of=end)

    logger.info(
        "Built the demo: %d products, %d rows in %.1fs",
        products,
        sum(counts.values()),
        time.perf_counter() - started,
    )
    return counts


def _story(index: int, seed: int) -> Story:
    if index < len(STORIES):
        return STORIES[index]
    rng = np.random.default_rng([seed, index, 1])
    curves = {}
    for dim in DIMENSIONS:
        if dim == "system_health" and rng.random() < 0.15:
            continue
        before, after = rng.uniform(0.3, 0.98, size=2)
        start = int(rng.integers(20, 120))
        curves[dim] = Curve(
            before=before,
            after=after,
            change_from=start,
            change_to=max(0, start - int(rng.integers(5, 40))),
        )
    number = index + 1
    return Story(
        slug=f"product-{number:04d}",
        name=f"Product {number:04d}",
        team=f"Team {1 + int(rng.integers(0, max(4, number // 25)))}",
        tier=int(rng.integers(1, 4)),
        curves=curves,
        has_sessions=bool(rng.random() > 0.1),
    )


def _end_timestamp(end: dt.date) -> dt.datetime:
    """When the demo's "sync" ran: 23:00 on a past day, the last full hour today.

    Nothing is dated after it, so the demo never shows data from the future.
    """
    now = dt.datetime.now(dt.UTC).replace(
        tzinfo=None, minute=0, second=0, microsecond=0
    )
    return min(dt.datetime.combine(end, dt.time(23, 0)), now)


def _generate(
    stories: list[Story], *, seed: int, days: int, end: dt.date
) -> dict[str, pd.DataFrame]:
    parts: dict[str, list[Block]] = {}
    day_index = pd.date_range(end=pd.Timestamp(end), periods=days, freq="D")
    days_ago = np.arange(days - 1, -1, -1, dtype=float)
    sync_time = _end_timestamp(end)

    for index, story in enumerate(stories):
        rng = np.random.default_rng([seed, index])
        health = {d: c.at(days_ago) for d, c in story.curves.items()}
        generated = _product_rows(story, rng, day_index, health, sync_time)
        for table, blocks in generated.items():
            parts.setdefault(table, []).extend(blocks)

    tables = {t: _stack(blocks) for t, blocks in parts.items()}
    tables["products"] = _products_frame(stories)
    tables["sync_state"], tables["sync_runs"] = _sync_records(
        stories, tables, sync_time
    )
    return tables


def _sources(story: Story) -> list[str]:
    return [
        s
        for d, s in zip(DIMENSIONS, ("sentry", "sonar", "jira", "azure"), strict=True)
        if d in story.curves
    ]


def _products_frame(stories: list[Story]) -> pd.DataFrame:
    rows = []
    for story in stories:
        sources = _sources(story)
        rows.append(
            {
                "slug": story.slug,
                "name": story.name,
                "team": story.team,
                "tier": story.tier,
                "slo": story.slo,
                "jira_sla": "priority",
                "sources": sources,
                "sentry_projects": _sentry_projects(story)
                if "runtime" in story.curves
                else None,
                "sonar_projects": _sonar_projects(story)
                if "quality" in story.curves
                else None,
                "jira_jql": (
                    f"project = {story.slug[:3].upper()} AND issuetype in (Bug, Incident)"
                    if "operations" in story.curves
                    else None
                ),
                "azure_apps": [f"{story.slug}-api"]
                if "system_health" in story.curves
                else None,
            }
        )
    return pd.DataFrame(rows)


def _sentry_projects(story: Story) -> list[str]:
    return [f"{story.slug}-web", f"{story.slug}-api"]


def _sonar_projects(story: Story) -> list[str]:
    suffixes = ["core", "ui", "jobs"][: story.sonar_projects]
    return [
        f"acme_{story.slug}" if len(suffixes) == 1 else f"acme_{story.slug}-{s}"
        for s in suffixes
    ]


def _sync_records(
    stories: list[Story], tables: dict[str, pd.DataFrame], sync_time: dt.datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    state, runs = [], []
    row_tables = {
        "sentry": "sentry_issues",
        "sonar": "sonar_measures",
        "jira": "jira_tickets",
        "azure": "azure_requests",
    }
    for source, table in row_tables.items():
        per_product = tables[table]["product"].value_counts() if table in tables else {}
        for story in stories:
            if source not in _sources(story):
                continue
            rows = int(per_product.get(story.slug, 0))
            state.append(
                {
                    "source": source,
                    "product": story.slug,
                    "watermark": sync_time,
                    "updated_at": sync_time,
                }
            )
            runs.append(
                {
                    "started_at": sync_time,
                    "finished_at": sync_time,
                    "source": source,
                    "product": story.slug,
                    "rows": rows,
                    "result": "ok",
                    "error": None,
                }
            )
    return pd.DataFrame(state), pd.DataFrame(runs)


def _block(count: int, **columns: Any) -> Block:
    """Columns of ``count`` rows; a scalar fills its whole column."""
    return {
        name: np.asarray(value) if np.ndim(value) else np.full(count, value)
        for name, value in columns.items()
    }


def _stack(blocks: list[Block]) -> pd.DataFrame:
    """One frame from blocks that share their columns, in order."""
    return pd.DataFrame(
        {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0]}
    )


def _product_rows(
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
    projects = rng.choice(_sentry_projects(story), size=count)
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
    for project in _sentry_projects(story):
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
    for key in _sonar_projects(story):
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
