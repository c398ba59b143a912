"""The built-in demo portfolio: realistic raw rows, written as a sync writes them.

Every product has a health curve per dimension (``demo_stories``), and raw rows
are drawn from it (``demo_rows``). The metrics and scores are then computed from
those rows by the same code as for real data, so the demo exercises everything.
One random generator per product keeps a product's rows the same whatever the
portfolio size, for a given seed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import numpy as np
import pandas as pd

from reliability import metrics
from reliability.demo_rows import Block, product_rows, stack_blocks
from reliability.demo_stories import (
    DEFAULT_DAYS,
    DEFAULT_PRODUCTS,
    DEFAULT_SEED,
    HOSTILE_TITLE,
    STORIES,
    Story,
    sentry_projects,
    sonar_projects,
    story_for,
)
from reliability.scoring import DIMENSIONS
from reliability.store import Store, set_meta, upsert

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_PRODUCTS",
    "DEFAULT_SEED",
    "HOSTILE_TITLE",
    "STORIES",
    "build_demo",
]

logger = logging.getLogger(__name__)


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

    stories = [story_for(index, seed) for index in range(products)]
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
        generated = product_rows(story, rng, day_index, health, sync_time)
        for table, blocks in generated.items():
            parts.setdefault(table, []).extend(blocks)

    tables = {t: stack_blocks(blocks) for t, blocks in parts.items()}
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
                "sentry_projects": sentry_projects(story)
                if "runtime" in story.curves
                else None,
                "sonar_projects": sonar_projects(story)
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
