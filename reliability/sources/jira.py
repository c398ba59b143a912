"""Jira Cloud / Data Center tickets, with first response and JSM SLA cycles.

Cloud searches with ``/rest/api/3/search/jql`` (``nextPageToken``/``isLast``, no
``total``); Data Center keeps only ``/rest/api/2/search`` (``startAt``), used when
the v3 path is 404. The embedded changelog is truncated, so a longer one is read
per issue. JQL dates are minute-precise in the user's zone and search is
eventually consistent: incremental reads overlap 12 hours. See sources.md §3.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from reliability.sources.errors import (
    SourceAuthError,
    SourceConfigError,
    SourceError,
)
from reliability.sources.http import HttpClient, PageGuard
from reliability.sources.parse import (
    require,
    require_list,
    rows_frame,
    to_naive_utc,
)

logger = logging.getLogger(__name__)

SOURCE = "Jira"
WINDOW_DAYS = 180
# estuary raised its consistency horizon to 12h after missing issues (PR #3486).
OVERLAP = timedelta(hours=12)
PAGE_SIZE = 100
# search/jql returns only the id unless fields are named.
FIELDS = (
    "summary,issuetype,status,priority,created,updated,resolutiondate,reporter,comment"
)
TICKET_COLUMNS = [
    "product",
    "ticket_id",
    "key",
    "summary",
    "issue_type",
    "status",
    "priority",
    "created",
    "updated",
    "resolved",
    "first_response",
    "sla_due",
    "sla_met",
    "url",
]
RESOLUTION_SLA = "time to resolution"

_ORDER_BY = re.compile(r"\s+ORDER\s+BY\s+.*$", re.IGNORECASE | re.DOTALL)


class JiraClient:
    """Read-only calls against one Jira site."""

    def __init__(self, http: HttpClient, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.api = "3"  # "2" once a Data Center server has 404'd the v3 search

    @classmethod
    def from_env(cls, env: Mapping[str, str], **http_options: Any) -> JiraClient:
        """Build a client from JIRA_BASE_URL and basic or bearer credentials."""
        base_url = env.get("JIRA_BASE_URL")
        email, token = env.get("JIRA_EMAIL"), env.get("JIRA_API_TOKEN")
        bearer = env.get("JIRA_BEARER_TOKEN")
        if not base_url or not ((email and token) or bearer):
            raise SourceConfigError(
                SOURCE,
                "Jira is not configured: set JIRA_BASE_URL and either JIRA_EMAIL "
                "with JIRA_API_TOKEN (Cloud) or JIRA_BEARER_TOKEN (Data Center)",
            )
        if email and token:
            http = HttpClient(SOURCE, base_url, auth=(email, token), **http_options)
        else:
            headers = {"Authorization": f"Bearer {bearer}"}
            http = HttpClient(SOURCE, base_url, headers=headers, **http_options)
        return cls(http, base_url)

    def close(self) -> None:
        self.http.close()

    def ping(self) -> str:
        """Make one authenticated call; return who we are signed in as."""
        try:
            body = self._get("rest/api/3/myself", what="the signed-in user")
        except SourceError as exc:
            if exc.status != 404:
                raise
            body = self._get("rest/api/2/myself", what="the signed-in user")
        name = body.get("displayName") if isinstance(body, Mapping) else None
        return f"signed in as {name or 'unknown user'}"

    def search(self, jql: str) -> Iterator[dict[str, Any]]:
        """Yield every issue ``jql`` selects, with changelog, page by page."""
        if self.api == "3":
            try:
                yield from self._search_v3(jql)
                return
            except SourceError as exc:
                if exc.status != 404:
                    raise
                logger.info("Jira has no search/jql; using the Data Center v2 search")
                self.api = "2"
        yield from self._search_v2(jql)

    def changelog(self, key: str) -> list[dict[str, Any]]:
        """Return the issue's whole changelog (histories), oldest first."""
        what = f"changelog of {key}"
        if self.api == "2":
            # Data Center has no paged changelog; the issue with expand has it all.
            params = {"expand": "changelog", "fields": "status"}
            body = self._get(f"rest/api/2/issue/{key}", what=what, params=params)
            changelog = require(body, "changelog", source=SOURCE, what=what)
            return require_list(
                changelog.get("histories", []), source=SOURCE, what=what
            )

        histories: list[dict[str, Any]] = []
        guard = PageGuard(SOURCE, what)
        while True:
            guard.check(len(histories))
            page = {"startAt": len(histories), "maxResults": PAGE_SIZE}
            body = self._get(
                f"rest/api/3/issue/{key}/changelog", what=what, params=page
            )
            values = require_list(
                require(body, "values", source=SOURCE, what=what),
                source=SOURCE,
                what=what,
            )
            histories += values
            if body.get("isLast", True) or not values:
                return histories

    def slas(self, key: str) -> list[dict[str, Any]]:
        """Return the JSM SLA records of a request (ticket); [] when it is none."""
        what = f"SLAs of {key}"
        try:
            body = self._get(
                f"rest/servicedeskapi/request/{key}/sla",
                what=what,
                params={"limit": 50},
                scope="be an agent on the service desk",
            )
        except SourceError as exc:
            if exc.status == 404:  # not a service desk request
                return []
            raise
        return require_list(
            require(body, "values", source=SOURCE, what=what), source=SOURCE, what=what
        )

    def _search_v3(self, jql: str) -> Iterator[dict[str, Any]]:
        what = "issues matching the product JQL"
        params = {
            "jql": jql,
            "fields": FIELDS,
            "expand": "changelog",
            "maxResults": PAGE_SIZE,
        }
        guard = PageGuard(SOURCE, what)
        while True:
            body = self._get("rest/api/3/search/jql", what=what, params=params)
            yield from require_list(
                require(body, "issues", source=SOURCE, what=what),
                source=SOURCE,
                what=what,
            )
            # Trust isLast: a stale nextPageToken can come with isLast true.
            token = body.get("nextPageToken")
            if body.get("isLast") or not token:
                return
            guard.check(token)
            params = {**params, "nextPageToken": token}

    def _search_v2(self, jql: str) -> Iterator[dict[str, Any]]:
        what = "issues matching the product JQL"
        guard = PageGuard(SOURCE, what)
        start = 0
        while True:
            guard.check(start)
            params = {
                "jql": jql,
                "fields": FIELDS,
                "expand": "changelog",
                "maxResults": PAGE_SIZE,
                "startAt": start,
            }
            body = self._get("rest/api/2/search", what=what, params=params)
            issues = require_list(
                require(body, "issues", source=SOURCE, what=what),
                source=SOURCE,
                what=what,
            )
            yield from issues
            start += len(issues)
            if not issues or start >= int(body.get("total", 0)):
                return

    def _get(
        self,
        path: str,
        *,
        what: str,
        params: Any = None,
        scope: str = "be able to browse the project",
    ) -> Any:
        try:
            return self.http.get_json(path, what=what, params=params)
        except SourceAuthError as exc:
            raise SourceAuthError(
                SOURCE,
                f"Jira refused the credentials for {what} ({exc.status}): set "
                "JIRA_EMAIL + JIRA_API_TOKEN (or JIRA_BEARER_TOKEN) for a user who "
                f"can {scope}; scoped tokens need the api.atlassian.com base URL",
                status=exc.status,
                detail=exc.detail,
            ) from exc


def build_jql(product_jql: str, *, since: datetime | None, full: bool) -> str:
    """Bound the product's JQL to what this sync must read, oldest update first.

    The date is written in UTC; JQL reads it in the Jira user's zone, which the
    12-hour overlap absorbs (set the integration user's zone to UTC to be exact).
    """
    base = _ORDER_BY.sub("", product_jql.strip())
    if full or since is None:
        window = f"updated >= -{WINDOW_DAYS}d OR statusCategory != Done"
    else:
        window = f'updated >= "{since - OVERLAP:%Y/%m/%d %H:%M}"'
    return f"({base}) AND ({window}) ORDER BY updated ASC"


def fetch_tickets(
    client: JiraClient,
    product: str,
    product_jql: str,
    *,
    sla_mode: str,
    since: datetime | None,
    full: bool,
) -> pd.DataFrame:
    """Return ``jira_tickets`` rows for the tickets updated since ``since``.

    ``sla_due``/``sla_met`` come from JSM when ``sla_mode`` is "jsm"; for
    "priority" they stay NULL and scoring derives them from priority targets.
    """
    started = time.monotonic()
    jql = build_jql(product_jql, since=since, full=full)
    rows = []
    for issue in client.search(jql):
        row = _ticket_row(client, product, issue)
        if sla_mode == "jsm":
            row["sla_due"], row["sla_met"] = _resolution_sla(client.slas(row["key"]))
        rows.append(row)

    logger.info(
        "Fetched %d Jira tickets for %s in %.1fs",
        len(rows),
        product,
        time.monotonic() - started,
    )
    times = ("created", "updated", "resolved", "first_response", "sla_due")
    frame = rows_frame(rows, TICKET_COLUMNS, times)
    frame["sla_met"] = frame["sla_met"].astype("boolean")
    return frame.drop_duplicates(subset=["product", "ticket_id"], keep="last")


def _ticket_row(
    client: JiraClient, product: str, issue: Mapping[str, Any]
) -> dict[str, Any]:
    key = str(require(issue, "key", source=SOURCE, what="an issue"))
    what = f"issue {key}"
    fields = require(issue, "fields", source=SOURCE, what=what)
    created = _time(require(fields, "created", source=SOURCE, what=what), what)
    return {
        "product": product,
        "ticket_id": str(require(issue, "id", source=SOURCE, what=what)),
        "key": key,
        "summary": fields.get("summary"),
        "issue_type": _name(fields.get("issuetype")),
        "status": _name(fields.get("status")),
        "priority": _name(fields.get("priority")),
        "created": created,
        "updated": _time(fields.get("updated"), what),
        "resolved": _time(fields.get("resolutiondate"), what),
        "first_response": _first_response(client, key, issue, fields),
        "sla_due": None,
        "sla_met": None,
        "url": f"{client.base_url}/browse/{key}",
    }


def _first_response(
    client: JiraClient,
    key: str,
    issue: Mapping[str, Any],
    fields: Mapping[str, Any],
) -> datetime | None:
    """Return the earlier of the first non-reporter comment and first status change."""
    what = f"issue {key}"
    reporter = _person(fields.get("reporter"))
    comments = (fields.get("comment") or {}).get("comments") or []
    replies = [
        _time(c.get("created"), what)
        for c in comments
        if _person(c.get("author")) != reporter
    ]

    changelog = issue.get("changelog") or {}
    histories = changelog.get("histories") or []
    # The embedded changelog keeps only the newest 40-100 entries.
    if int(changelog.get("total", 0) or 0) > len(histories):
        histories = client.changelog(key)
    moves = [
        _time(h.get("created"), what)
        for h in histories
        if any(item.get("field") == "status" for item in h.get("items") or [])
    ]
    return min((t for t in replies + moves if t is not None), default=None)


def _resolution_sla(
    slas: Sequence[Mapping[str, Any]],
) -> tuple[datetime | None, bool | None]:
    """Read the "Time to resolution" SLA: its due time and whether it was met."""
    sla = next(
        (s for s in slas if str(s.get("name", "")).lower() == RESOLUTION_SLA), None
    )
    if sla is None:
        return None, None
    what = f"SLA {sla.get('name')}"
    ongoing = sla.get("ongoingCycle")
    if ongoing:
        # An open cycle has not met anything yet; it has failed once breached.
        due = _time((ongoing.get("breachTime") or {}).get("iso8601"), what)
        return due, (False if ongoing.get("breached") else None)
    completed = sla.get("completedCycles") or []
    if not completed:
        return None, None
    last = completed[-1]
    due = _time((last.get("breachTime") or {}).get("iso8601"), what)
    return due, not bool(last.get("breached"))


def _person(person: Any) -> str | None:
    if not isinstance(person, Mapping):
        return None
    # Cloud identifies people by accountId; Data Center by key or name.
    return person.get("accountId") or person.get("key") or person.get("name")


def _name(value: Any) -> str | None:
    return value.get("name") if isinstance(value, Mapping) else None


def _time(value: Any, what: str) -> datetime | None:
    return to_naive_utc(value, source=SOURCE, what=what)
