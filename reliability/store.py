"""The DuckDB file: schema, migrations, copy-on-write writes and per-call reads.

DuckDB lets one process hold a file for writing, and a reader that opens the file
while another process writes it fails at once with "Could not set lock on file".
So nothing ever writes the live file in place. A writer copies it, writes the copy
in transactions, checkpoints, closes it and ``os.replace``-s it over the live path;
readers open the live path read-only for one call and close it again. A reader sees
the file before a sync or after it, never a mix, and never a lock error.

Raw tables (one row per natural key, upserted by sync and demo alike):

- ``products``: the portfolio, ``slug`` first.
- ``sentry_issues``: one row per issue; ``resolved_at`` and ``regressed_at`` are the
  latest of each. ``sentry_issue_changes`` holds every status change (``resolved``,
  ``unresolved``, ``regressed``) that as-of state is computed from.
- ``sentry_sessions``: sessions and crashed sessions per project and UTC day.
- ``sonar_measures``: measure history in long form; ``alert_status`` (the quality
  gate) keeps its status in ``text_value``.
- ``jira_tickets``: one row per ticket with created / resolved / first response and,
  for Jira Service Management, the SLA cycle (``sla_due``, ``sla_met``).
- ``azure_requests`` (daily) and ``azure_requests_hourly``: totals, failures, p95.

Bookkeeping: ``meta`` (schema version, demo flag), ``sync_state`` (watermarks),
``sync_runs`` (one row per pull), ``alerts``, and ``metric_daily``, the derived
metric values per product and day that the app reads.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

logger = logging.getLogger(__name__)

DEFAULT_DB_PATH = Path("data/reliability.duckdb")

# Each entry moves the schema one version forward; never edit a released entry.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
        """CREATE TABLE products (
            slug VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, team VARCHAR NOT NULL,
            tier INTEGER NOT NULL, slo DOUBLE NOT NULL DEFAULT 99.9,
            jira_sla VARCHAR NOT NULL DEFAULT 'priority',
            sources VARCHAR[] NOT NULL DEFAULT [],
            sentry_projects VARCHAR[], sonar_projects VARCHAR[], jira_jql VARCHAR,
            azure_apps VARCHAR[])""",
        """CREATE TABLE sentry_issues (
            product VARCHAR NOT NULL, issue_id VARCHAR NOT NULL, project VARCHAR,
            short_id VARCHAR, title VARCHAR, level VARCHAR, status VARCHAR,
            first_seen TIMESTAMP NOT NULL, last_seen TIMESTAMP,
            resolved_at TIMESTAMP, regressed_at TIMESTAMP, resolution_source VARCHAR,
            user_count BIGINT, event_count BIGINT, permalink VARCHAR,
            PRIMARY KEY (product, issue_id))""",
        """CREATE TABLE sentry_issue_changes (
            product VARCHAR NOT NULL, issue_id VARCHAR NOT NULL,
            changed_at TIMESTAMP NOT NULL, kind VARCHAR NOT NULL,
            PRIMARY KEY (product, issue_id, changed_at, kind))""",
        """CREATE TABLE sentry_sessions (
            product VARCHAR NOT NULL, project VARCHAR NOT NULL, day DATE NOT NULL,
            sessions BIGINT NOT NULL, crashed BIGINT NOT NULL,
            PRIMARY KEY (product, project, day))""",
        """CREATE TABLE sonar_measures (
            product VARCHAR NOT NULL, project_key VARCHAR NOT NULL,
            metric VARCHAR NOT NULL, analysed_at TIMESTAMP NOT NULL,
            value DOUBLE, text_value VARCHAR,
            PRIMARY KEY (product, project_key, metric, analysed_at))""",
        """CREATE TABLE jira_tickets (
            product VARCHAR NOT NULL, ticket_id VARCHAR NOT NULL, key VARCHAR,
            summary VARCHAR, issue_type VARCHAR, status VARCHAR, priority VARCHAR,
            created TIMESTAMP NOT NULL, updated TIMESTAMP, resolved TIMESTAMP,
            first_response TIMESTAMP, sla_due TIMESTAMP, sla_met BOOLEAN,
            url VARCHAR, PRIMARY KEY (product, ticket_id))""",
        """CREATE TABLE azure_requests (
            product VARCHAR NOT NULL, app VARCHAR NOT NULL, day DATE NOT NULL,
            total BIGINT NOT NULL, failed BIGINT NOT NULL, p95_ms DOUBLE,
            PRIMARY KEY (product, app, day))""",
        """CREATE TABLE azure_requests_hourly (
            product VARCHAR NOT NULL, app VARCHAR NOT NULL, hour TIMESTAMP NOT NULL,
            total BIGINT NOT NULL, failed BIGINT NOT NULL, p95_ms DOUBLE,
            PRIMARY KEY (product, app, hour))""",
        """CREATE TABLE sync_state (
            source VARCHAR NOT NULL, product VARCHAR NOT NULL,
            watermark TIMESTAMP, updated_at TIMESTAMP,
            PRIMARY KEY (source, product))""",
        """CREATE TABLE sync_runs (
            started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
            source VARCHAR NOT NULL, product VARCHAR NOT NULL, rows BIGINT,
            result VARCHAR NOT NULL, error VARCHAR)""",
        """CREATE TABLE alerts (
            product VARCHAR NOT NULL, rule VARCHAR NOT NULL, channel VARCHAR NOT NULL,
            raised_at TIMESTAMP NOT NULL, sent_at TIMESTAMP, state VARCHAR NOT NULL,
            payload VARCHAR, PRIMARY KEY (product, rule, channel, raised_at))""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)

RAW_TABLES = (
    "sentry_issues",
    "sentry_issue_changes",
    "sentry_sessions",
    "sonar_measures",
    "jira_tickets",
    "azure_requests",
    "azure_requests_hourly",
)

_APPEND_ONLY = frozenset({"sync_runs"})
_LOCK_ERROR = "Could not set lock"


class StoreError(Exception):
    """The DuckDB file is missing, locked for too long, or from a newer version."""


@dataclass(frozen=True, kw_only=True)
class StoreVersion:
    """What identifies one written state of the file; cache keys use it."""

    path: str
    inode: int
    mtime_ns: int
    size: int


class Store:
    """One DuckDB file shared by the app (reads) and sync or demo (writes)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @classmethod
    def from_env(cls) -> Store:
        """Open the file that ``RELIABILITY_DB`` names, or the default path."""
        return cls(os.environ.get("RELIABILITY_DB") or DEFAULT_DB_PATH)

    def exists(self) -> bool:
        return self.path.is_file()

    def version(self) -> StoreVersion | None:
        """Return the identity of the current file, or None when there is none."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return StoreVersion(
            path=str(self.path.resolve()),
            inode=stat.st_ino,
            mtime_ns=stat.st_mtime_ns,
            size=stat.st_size,
        )

    # -- reads ---------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the live file read-only for one unit of work, then close it."""
        if not self.exists():
            raise StoreError(
                f"No data file at {self.path}: run `python -m reliability demo` "
                "or `python -m reliability sync` first"
            )
        con = _connect_with_retry(self.path, read_only=True)
        try:
            _check_schema(con, self.path)
            yield con
        finally:
            con.close()

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run one read query on the live file and return its rows."""
        with self.reading() as con:
            return con.execute(sql, params or []).df()

    def meta(self) -> dict[str, str]:
        return dict(self.query("SELECT key, value FROM meta").itertuples(index=False))

    # -- writes --------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self, *, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Write a copy of the file and swap it in when the block succeeds.

        With ``fresh`` the copy starts empty (the demo). Writers are serialised
        with a lock file beside the database; readers are never blocked. If the
        block raises, the live file is left exactly as it was.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _writer_lock(self.path):
            draft = self.path.with_name(f".{self.path.name}.{os.getpid()}.draft")
            _remove_database_files(draft)
            if self.exists() and not fresh:
                shutil.copyfile(self.path, draft)

            con = duckdb.connect(str(draft))
            try:
                migrate(con)
                yield con
                con.execute("CHECKPOINT")
            except BaseException:
                con.close()
                _remove_database_files(draft)
                raise
            con.close()
            os.replace(draft, self.path)
            logger.info("Wrote %s", self.path)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring an open read-write database up to ``SCHEMA_VERSION``."""
    current = _schema_version(con)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"The data file has schema version {current}, newer than this app's "
            f"{SCHEMA_VERSION}: update the app"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        con.execute("BEGIN")
        for statement in MIGRATIONS[version - 1]:
            con.execute(statement)
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)]
        )
        con.execute("COMMIT")
        logger.info("Migrated the store to schema version %d", version)


def upsert(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame) -> int:
    """Insert or replace ``rows`` into ``table`` by its primary key, in bulk.

    Columns are matched by name, so a frame may leave out nullable columns.
    Tables without a key (``sync_runs``) are appended to.
    """
    if rows.empty:
        return 0
    columns = ", ".join(f'"{name}"' for name in rows.columns)
    verb = "INSERT INTO" if table in _APPEND_ONLY else "INSERT OR REPLACE INTO"
    con.register("_upsert_rows", rows)
    try:
        con.execute(f"{verb} {table} ({columns}) SELECT {columns} FROM _upsert_rows")
    finally:
        con.unregister("_upsert_rows")
    return len(rows)


def replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, product: str, rows: pd.DataFrame
) -> int:
    """Replace every row of ``product`` in ``table`` with ``rows``."""
    con.execute(f"DELETE FROM {table} WHERE product = ?", [product])
    return upsert(con, table, rows)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def fetch_value(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> Any:
    """The first column of the first row of a query, or None when it has no rows.

    It reads the whole result: DuckDB refuses further work on a connection that
    holds a partly fetched one.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    has_meta = fetch_value(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    )
    if not has_meta:
        return 0
    value = fetch_value(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    return int(value) if value is not None else 0


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    version = _schema_version(con)
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"The data file {path} has schema version {version}, this app needs "
            f"{SCHEMA_VERSION}: run `python -m reliability sync` or "
            "`python -m reliability demo` to migrate it"
        )


def _connect_with_retry(
    path: Path, *, read_only: bool, timeout_seconds: float = 10.0
) -> duckdb.DuckDBPyConnection:
    # Another process opening the same file (an old-style writer, a user's
    # DuckDB shell) holds a lock that fails our connect at once; wait it out.
    deadline = time.monotonic() + timeout_seconds
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if _LOCK_ERROR not in str(exc) or time.monotonic() > deadline:
                raise StoreError(f"Could not open {path}: {exc}") from exc
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


@contextlib.contextmanager
def _writer_lock(path: Path, timeout_seconds: float = 600.0) -> Iterator[None]:
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "w") as handle:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"Another sync has been writing {path} for over "
                        f"{timeout_seconds:.0f}s; wait for it or stop it"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_database_files(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
