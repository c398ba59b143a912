"""Sources -> store: pull each source for each product and write it atomically.

The whole sync is one ``Store.writing()`` session (a copy swapped in at the end).
Inside it, each (source, product) pull fetches first, then writes in one
transaction with upserts by natural key, so a failed pull leaves no trace but
its ``sync_runs`` row, a failing source never stops the others, and syncing twice
gives the same tables as syncing once.

Adding a source is one entry in ``PULLERS``: a ``connect(env, **http_options)``
that builds a client with ``ping()`` and ``close()``, and a ``pull`` function
from ``reliability.pullers``::

    PULLERS["azure"] = Puller(connect=AzureClient.from_env, pull=pull_azure)

where ``pull_azure(client, product, con, since, full, now) -> Pull``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import duckdb

from reliability import metrics
from reliability.config import Portfolio, Product
from reliability.pullers import (
    Pull,
    Puller,
    SourceClient,
    pull_azure,
    pull_jira,
    pull_sentry,
    pull_sonar,
)
from reliability.sources.azure import AzureClient
from reliability.sources.errors import SourceError
from reliability.sources.jira import JiraClient
from reliability.sources.sentry import SentryClient
from reliability.sources.sonar import SonarClient
from reliability.store import Store, StoreError, fetch_value, set_meta, upsert

logger = logging.getLogger(__name__)

Outcome = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True, kw_only=True)
class SyncResult:
    """How one pull (a source for a product) went."""

    source: str
    product: str
    rows: int
    seconds: float
    result: Outcome
    error: str | None = None


# Called with None when a pull starts and with its result when it ends.
Progress = Callable[[str, str, "SyncResult | None"], None]


PULLERS: dict[str, Puller] = {
    "sentry": Puller(connect=SentryClient.from_env, pull=pull_sentry),
    "sonar": Puller(connect=SonarClient.from_env, pull=pull_sonar),
    "jira": Puller(connect=JiraClient.from_env, pull=pull_jira),
    "azure": Puller(connect=AzureClient.from_env, pull=pull_azure),
}


def run_sync(
    store: Store,
    portfolio: Portfolio,
    *,
    sources: Sequence[str] | None = None,
    product: str | None = None,
    full: bool = False,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
    http_options: Mapping[str, Any] | None = None,
) -> list[SyncResult]:
    """Pull every configured (source, product) into the store; return each result.

    ``http_options`` go to each client's ``HttpClient`` (timeouts, retries,
    ``sleep``). ``now`` is naive UTC. A store holding demo data starts fresh.
    """
    names = list(sources) if sources else list(PULLERS)
    unknown = [name for name in names if name not in PULLERS]
    if unknown:
        raise ValueError(
            f"Unknown source {', '.join(unknown)}: use {', '.join(PULLERS)}"
        )
    products = [p for p in portfolio.products if product in (None, p.slug)]
    now = now or _utc_now()
    env = os.environ if env is None else env

    results: list[SyncResult] = []
    with store.writing(fresh=_holds_demo(store)) as con:
        _write_products(con, portfolio.products)
        for name in names:
            wanted = [p for p in products if name in p.sources]
            if wanted:
                results += _sync_source(
                    con,
                    name,
                    wanted,
                    env=env,
                    full=full,
                    now=now,
                    progress=progress,
                    http_options=http_options or {},
                )
        set_meta(con, "is_demo", "false")
        set_meta(con, "last_sync", now.isoformat(timespec="seconds"))
        metrics.refresh_metric_daily(con)
    return results


def _sync_source(
    con: duckdb.DuckDBPyConnection,
    name: str,
    products: Sequence[Product],
    *,
    env: Mapping[str, str],
    full: bool,
    now: datetime,
    progress: Progress | None,
    http_options: Mapping[str, Any],
) -> list[SyncResult]:
    try:
        client = PULLERS[name].connect(env, **http_options)
    except SourceError as exc:
        return [_record_failure(con, name, p.slug, _utc_now(), exc) for p in products]

    try:
        return [
            _pull_one(con, name, client, p, full=full, now=now, progress=progress)
            for p in products
        ]
    finally:
        client.close()


def _pull_one(
    con: duckdb.DuckDBPyConnection,
    name: str,
    client: SourceClient,
    product: Product,
    *,
    full: bool,
    now: datetime,
    progress: Progress | None,
) -> SyncResult:
    started_at, started = _utc_now(), time.monotonic()
    if progress:
        progress(name, product.slug, None)
    since = None if full else _watermark(con, name, product.slug)

    try:
        pull = PULLERS[name].pull(client, product, con, since, full, now)
        rows = _write_pull(con, name, product.slug, pull, started_at, now)
    except Exception as exc:  # noqa: BLE001 - one pull's failure must not stop the rest
        if not isinstance(exc, SourceError):
            logger.exception("Unexpected failure pulling %s for %s", name, product.slug)
        result = _record_failure(con, name, product.slug, started_at, exc)
    else:
        result = SyncResult(
            source=name,
            product=product.slug,
            rows=rows,
            seconds=time.monotonic() - started,
            result="ok",
        )
        logger.info("Synced %s for %s: %d rows", name, product.slug, rows)

    if progress:
        progress(name, product.slug, result)
    return result


def _write_pull(
    con: duckdb.DuckDBPyConnection,
    name: str,
    product: str,
    pull: Pull,
    started_at: datetime,
    now: datetime,
) -> int:
    """Write one pull's rows, watermark and run record in one transaction."""
    con.execute("BEGIN")
    try:
        rows = sum(upsert(con, table, frame) for table, frame in pull.tables.items())
        con.execute(
            "INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?)",
            [name, product, pull.watermark, now],
        )
        _insert_run(con, started_at, name, product, rows, "ok", None)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rows


def _record_failure(
    con: duckdb.DuckDBPyConnection,
    name: str,
    product: str,
    started_at: datetime,
    exc: Exception,
) -> SyncResult:
    message = str(exc) if isinstance(exc, SourceError) else _unexpected(exc)
    logger.warning("Sync of %s for %s failed: %s", name, product, message)
    _insert_run(con, started_at, name, product, 0, "failed", message)
    seconds = (_utc_now() - started_at).total_seconds()
    return SyncResult(
        source=name,
        product=product,
        rows=0,
        seconds=seconds,
        result="failed",
        error=message,
    )


def _unexpected(exc: Exception) -> str:
    return f"unexpected {type(exc).__name__}: {exc}"


def _insert_run(
    con: duckdb.DuckDBPyConnection,
    started_at: datetime,
    name: str,
    product: str,
    rows: int,
    result: str,
    error: str | None,
) -> None:
    con.execute(
        "INSERT INTO sync_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
        [started_at, _utc_now(), name, product, rows, result, error],
    )


def _write_products(
    con: duckdb.DuckDBPyConnection, products: Sequence[Product]
) -> None:
    # The portfolio file is the truth: products dropped from it go too.
    con.execute("BEGIN")
    con.execute("DELETE FROM products")
    con.executemany(
        "INSERT INTO products (slug, name, team, tier, slo, jira_sla, sources, "
        "sentry_projects, sonar_projects, jira_jql, azure_apps) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_product_row(p) for p in products],
    )
    con.execute("COMMIT")


def _product_row(product: Product) -> list[Any]:
    azure_apps = list(product.azure_roles) or [
        app for app in (product.azure_app_id, product.azure_workspace) if app
    ]
    return [
        product.slug,
        product.name,
        product.team,
        product.tier,
        product.slo,
        product.jira_sla,
        list(product.sources),
        list(product.sentry_projects) or None,
        list(product.sonar_projects) or None,
        product.jira_jql,
        azure_apps or None,
    ]


def _watermark(
    con: duckdb.DuckDBPyConnection, name: str, product: str
) -> datetime | None:
    value: datetime | None = fetch_value(
        con,
        "SELECT watermark FROM sync_state WHERE source = ? AND product = ?",
        [name, product],
    )
    return value


def _holds_demo(store: Store) -> bool:
    # Demo rows must never mix with real ones, so a demo file is replaced whole.
    if not store.exists():
        return False
    try:
        return store.meta().get("is_demo") == "true"
    except StoreError:
        return False


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
