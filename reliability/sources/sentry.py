"""Sentry: issues with their resolution history, and the API calls for sessions.

Uses the organization issues endpoint (the project one is deprecated), Link-header
cursors that end on ``results="false"``, the per-issue ``activities`` log for
resolution and regression times (the issue list has no "resolved at"), and the
sessions endpoint grouped by ``session.status``, whose rows ``sentry_sessions``
builds. See sources.md §1.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from reliability.sources.errors import (
    SourceAuthError,
    SourceConfigError,
    SourceResponseError,
)
from reliability.sources.http import HttpClient, PageGuard
from reliability.sources.parse import (
    require,
    require_list,
    rows_frame,
    to_count,
    to_naive_utc,
)

logger = logging.getLogger(__name__)

SOURCE = "Sentry"
DEFAULT_BASE_URL = "https://sentry.io"
WINDOW_DAYS = 180
PAGE_LIMIT = 100  # the org issues endpoint's maximum; it takes `limit`, not `per_page`

ISSUE_COLUMNS = [
    "product",
    "issue_id",
    "project",
    "short_id",
    "title",
    "level",
    "status",
    "first_seen",
    "last_seen",
    "resolved_at",
    "regressed_at",
    "resolution_source",
    "user_count",
    "event_count",
    "permalink",
]
CHANGE_COLUMNS = ["product", "issue_id", "changed_at", "kind"]

_CHANGE_KINDS = (
    ("set_resolved", "resolved"),
    ("set_regression", "regressed"),
    ("set_unresolved", "unresolved"),
)


@dataclass(frozen=True, kw_only=True)
class KnownIssue:
    """What the store already holds about an issue, to skip unchanged ones."""

    status: str | None
    resolved_at: datetime | None
    regressed_at: datetime | None
    resolution_source: str | None


class SentryClient:
    """Read-only calls against one Sentry organization."""

    def __init__(self, http: HttpClient, org: str) -> None:
        self.http = http
        self.org = org
        self._project_ids: dict[str, str] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str], **http_options: Any) -> SentryClient:
        """Build a client from SENTRY_BASE_URL, SENTRY_ORG and SENTRY_AUTH_TOKEN."""
        org, token = env.get("SENTRY_ORG"), env.get("SENTRY_AUTH_TOKEN")
        missing = [
            name
            for name, v in [("SENTRY_ORG", org), ("SENTRY_AUTH_TOKEN", token)]
            if not v
        ]
        if missing or not org or not token:
            raise SourceConfigError(
                SOURCE,
                f"Sentry is not configured: set {' and '.join(missing)} in the "
                "environment or .env",
            )
        base_url = env.get("SENTRY_BASE_URL") or DEFAULT_BASE_URL
        headers = {"Authorization": f"Bearer {token}"}
        return cls(HttpClient(SOURCE, base_url, headers=headers, **http_options), org)

    def close(self) -> None:
        self.http.close()

    def ping(self) -> str:
        """Make one authenticated call; return what was reached."""
        self._get(
            f"organizations/{self.org}/issues/",
            what=f"issues of org {self.org}",
            params={"limit": 1, "query": "", "statsPeriod": "24h"},
        )
        return f"org {self.org}"

    def issues(
        self, project: str, *, query: str, stats_period: str | None
    ) -> Iterator[dict[str, Any]]:
        """Yield every issue of ``project`` that ``query`` selects, page by page."""
        what = f"issues of project {project} in org {self.org}"
        params: dict[str, Any] = {
            "project": project,
            "query": query,
            "limit": PAGE_LIMIT,
        }
        if stats_period:
            params["statsPeriod"] = stats_period
        guard = PageGuard(SOURCE, what)
        while True:
            response = self._get(
                f"organizations/{self.org}/issues/", what=what, params=params
            )
            yield from require_list(
                self.http.decode(response, what=what), source=SOURCE, what=what
            )

            # Both rel links are always present; only results="true" means more
            # (following `next` blindly loops forever, sources.md §1.3).
            link = response.links.get("next") or {}
            cursor = link.get("cursor")
            if link.get("results") != "true" or not cursor:
                return
            guard.check(cursor)
            params = {**params, "cursor": cursor}

    def activities(self, issue_id: str) -> list[dict[str, Any]]:
        """Return the issue's newest 100 activity entries."""
        what = f"activity of issue {issue_id} in org {self.org}"
        path = f"organizations/{self.org}/issues/{issue_id}/activities/"
        body = self.http.decode(self._get(path, what=what), what=what)
        return require_list(
            require(body, "activity", source=SOURCE, what=what),
            source=SOURCE,
            what=what,
        )

    def sessions(self, project: str, *, days: int) -> dict[str, Any]:
        """Return daily session counts of one project grouped by session.status."""
        what = f"sessions of project {project} in org {self.org}"
        params = {
            "project": self.project_id(project),
            "field": "sum(session)",
            "groupBy": "session.status",
            "interval": "1d",
            "statsPeriod": f"{days}d",
        }
        path = f"organizations/{self.org}/sessions/"
        response = self._get(path, what=what, params=params, scope="org:read")
        return self.http.decode(response, what=what)

    def project_id(self, project: str) -> str:
        """Return the numeric id of a project given by id or slug."""
        # The sessions endpoint filters by numeric project id only.
        if project.isdigit():
            return project
        if project not in self._project_ids:
            what = f"project {project} in org {self.org}"
            response = self._get(
                f"projects/{self.org}/{project}/", what=what, scope="project:read"
            )
            body = self.http.decode(response, what=what)
            self._project_ids[project] = str(
                require(body, "id", source=SOURCE, what=what)
            )
        return self._project_ids[project]

    def _get(
        self, path: str, *, what: str, params: Any = None, scope: str = "event:read"
    ) -> Any:
        try:
            return self.http.request("GET", f"api/0/{path}", what=what, params=params)
        except SourceAuthError as exc:
            verb = "refused the token" if exc.status == 401 else "denied the token"
            raise SourceAuthError(
                SOURCE,
                f"Sentry {verb} for {what} ({exc.status}): set SENTRY_AUTH_TOKEN to an "
                f"internal-integration token with {scope}",
                status=exc.status,
                detail=exc.detail,
            ) from exc


def fetch_issues(
    client: SentryClient,
    product: str,
    projects: Sequence[str],
    *,
    known: Mapping[str, KnownIssue],
    now: datetime,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``sentry_issues`` and ``sentry_issue_changes`` rows for ``product``.

    Lists every issue active in the last 180 days plus every unresolved one of
    any age. Activity is read only for issues whose status differs from
    ``known`` (the store), because it costs one request per issue.
    """
    started = time.monotonic()
    issues = _list_issues(client, projects)

    issue_rows: list[dict[str, Any]] = []
    change_rows: list[dict[str, Any]] = []
    fetched_activity = 0
    for issue_id, issue in issues.items():
        row = _issue_row(product, issue_id, issue)
        previous = known.get(issue_id)
        if _status_changed(issue, previous):
            changes = _changes(client.activities(issue_id), issue_id)
            fetched_activity += 1
            _apply_changes(row, changes, now)
            change_rows += [
                {
                    "product": product,
                    "issue_id": issue_id,
                    "changed_at": at,
                    "kind": kind,
                }
                for at, kind in changes
            ]
            if row["resolution_source"] == "first_sync":
                change_rows.append(
                    {
                        "product": product,
                        "issue_id": issue_id,
                        "changed_at": now,
                        "kind": "resolved",
                    }
                )
        elif previous is not None:
            row.update(
                resolved_at=previous.resolved_at,
                regressed_at=previous.regressed_at,
                resolution_source=previous.resolution_source,
            )
        issue_rows.append(row)

    logger.info(
        "Fetched %d Sentry issues (%d activity logs) for %s in %.1fs",
        len(issue_rows),
        fetched_activity,
        product,
        time.monotonic() - started,
    )
    issues_frame = rows_frame(
        issue_rows,
        ISSUE_COLUMNS,
        ("first_seen", "last_seen", "resolved_at", "regressed_at"),
    )
    changes_frame = rows_frame(change_rows, CHANGE_COLUMNS, ("changed_at",))
    return issues_frame, changes_frame.drop_duplicates(ignore_index=True)


def _list_issues(
    client: SentryClient, projects: Sequence[str]
) -> dict[str, dict[str, Any]]:
    # `query=` (empty) lists every status; the default would be is:unresolved.
    issues: dict[str, dict[str, Any]] = {}
    for project in projects:
        for query, period in (("", f"{WINDOW_DAYS}d"), ("is:unresolved", None)):
            for issue in client.issues(project, query=query, stats_period=period):
                issue_id = str(require(issue, "id", source=SOURCE, what="an issue"))
                issues[issue_id] = issue
    return issues


def _issue_row(product: str, issue_id: str, issue: Mapping[str, Any]) -> dict[str, Any]:
    what = f"issue {issue_id}"
    first_seen = to_naive_utc(
        require(issue, "firstSeen", source=SOURCE, what=what), source=SOURCE, what=what
    )
    if first_seen is None:
        raise SourceResponseError(
            SOURCE,
            f"Sentry sent {what} without firstSeen: the API version may be unsupported",
        )
    project = issue.get("project") or {}
    return {
        "product": product,
        "issue_id": issue_id,
        "project": project.get("slug") if isinstance(project, Mapping) else None,
        "short_id": issue.get("shortId"),
        "title": issue.get("title"),
        "level": issue.get("level"),
        "status": require(issue, "status", source=SOURCE, what=what),
        "first_seen": first_seen,
        "last_seen": to_naive_utc(issue.get("lastSeen"), source=SOURCE, what=what),
        "resolved_at": None,
        "regressed_at": None,
        "resolution_source": None,
        "user_count": to_count(issue.get("userCount"), source=SOURCE, what=what),
        "event_count": to_count(
            issue.get("count"), source=SOURCE, what=what
        ),  # a string in the API
        "permalink": issue.get("permalink"),
    }


def _status_changed(issue: Mapping[str, Any], previous: KnownIssue | None) -> bool:
    if previous is not None:
        return previous.status != issue.get("status")
    # A new issue has history only if it left the plain unresolved state.
    return issue.get("status") != "unresolved" or issue.get("substatus") == "regressed"


def _changes(
    activities: Sequence[Mapping[str, Any]], issue_id: str
) -> list[tuple[datetime, str]]:
    what = f"activity of issue {issue_id}"
    changes: list[tuple[datetime, str]] = []
    for entry in activities:
        kind = _change_kind(str(entry.get("type", "")))
        if kind is None:
            continue
        at = to_naive_utc(
            require(entry, "dateCreated", source=SOURCE, what=what),
            source=SOURCE,
            what=what,
        )
        if at is not None:
            changes.append((at, kind))
    return sorted(changes)


def _change_kind(activity_type: str) -> str | None:
    for prefix, kind in _CHANGE_KINDS:
        if activity_type.startswith(prefix):
            return kind
    return None


def _apply_changes(
    row: dict[str, Any], changes: Sequence[tuple[datetime, str]], now: datetime
) -> None:
    resolved = [at for at, kind in changes if kind == "resolved"]
    regressed = [at for at, kind in changes if kind == "regressed"]
    row["regressed_at"] = max(regressed, default=None)
    if resolved:
        row["resolved_at"], row["resolution_source"] = max(resolved), "activity"
    elif row["status"] == "resolved":
        # No resolution in the (newest-100) activity log: the first sync that
        # sees it resolved stands in, and the dashboard says so.
        row["resolved_at"], row["resolution_source"] = now, "first_sync"
