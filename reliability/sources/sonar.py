"""SonarCloud / SonarQube Server: measure history and the current quality gate.

``measures/search_history`` pages with ``p``/``ps`` and counts measures per
metric; search endpoints refuse ``p*ps > 10000``, so a range that holds more is
split in two rather than cut short. An unknown metric key fails the whole call
with 400 "Metrics ... are not found", so we retry without it. See sources.md §2.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from reliability.sources.errors import (
    SourceAuthError,
    SourceConfigError,
    SourceError,
    SourceResponseError,
)
from reliability.sources.http import HttpClient, PageGuard
from reliability.sources.parse import (
    require,
    require_list,
    rows_frame,
    to_naive_utc,
)

logger = logging.getLogger(__name__)

SOURCE = "Sonar"
DEFAULT_BASE_URL = "https://sonarcloud.io"
WINDOW_DAYS = 180
PAGE_SIZE = 1000  # search_history's maximum
RESULT_CAP = 10_000  # p*ps beyond this is a 400 on search endpoints
# The measures the quality score reads (metrics_quality), then those only the
# evidence and insights show.
SCORED_METRICS = (
    "alert_status",
    "reliability_rating",
    "security_rating",
    "sqale_rating",
    "coverage",
    "duplicated_lines_density",
    "security_hotspots_reviewed",
    "ncloc",
)
METRICS = (*SCORED_METRICS, "bugs", "vulnerabilities", "code_smells")
TEXT_METRICS = frozenset({"alert_status"})
MEASURE_COLUMNS = [
    "product",
    "project_key",
    "metric",
    "analysed_at",
    "value",
    "text_value",
]

_NOT_FOUND = re.compile(r"Metrics? (.+?) (?:are|is) not found", re.IGNORECASE)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"


class SonarClient:
    """Read-only calls against SonarCloud or a SonarQube Server."""

    def __init__(self, http: HttpClient, organization: str | None = None) -> None:
        self.http = http
        self.organization = organization
        # Keys this server rejected; asked for no more during this client's life.
        self.unsupported_metrics: set[str] = set()

    @classmethod
    def from_env(cls, env: Mapping[str, str], **http_options: Any) -> SonarClient:
        """Build a client from SONAR_BASE_URL, SONAR_ORGANIZATION and SONAR_TOKEN."""
        token = env.get("SONAR_TOKEN")
        if not token:
            raise SourceConfigError(
                SOURCE,
                "Sonar is not configured: set SONAR_TOKEN in the environment or .env",
            )
        base_url = env.get("SONAR_BASE_URL") or DEFAULT_BASE_URL
        headers = {"Authorization": f"Bearer {token}"}
        http = HttpClient(SOURCE, base_url, headers=headers, **http_options)
        return cls(http, env.get("SONAR_ORGANIZATION") or None)

    def close(self) -> None:
        self.http.close()

    def ping(self, project_key: str | None = None) -> str:
        """Check the token, and a project gate when given; say what was reached."""
        body = self._get("authentication/validate", what="the token check", params={})
        if not require(body, "valid", source=SOURCE, what="the token check"):
            raise SourceAuthError(
                SOURCE,
                "Sonar does not accept SONAR_TOKEN (authentication/validate says "
                "invalid): create a new user or scoped organization token",
            )
        if project_key is None:
            return "token valid"
        return f"project {project_key}: quality gate {self.gate_status(project_key)}"

    def gate_status(self, project_key: str) -> str:
        """Return the current quality gate status: OK, WARN, ERROR or NONE."""
        what = f"quality gate of project {project_key}"
        body = self._get(
            "qualitygates/project_status", what=what, params={"projectKey": project_key}
        )
        status = require(
            require(body, "projectStatus", source=SOURCE, what=what),
            "status",
            source=SOURCE,
            what=what,
        )
        return str(status)

    def history_page(
        self,
        project_key: str,
        metrics: Sequence[str],
        start: datetime,
        end: datetime,
        page: int,
    ) -> dict[str, Any]:
        """Return one page of measure history (both ends inclusive, UTC)."""
        params = {
            "component": project_key,
            "metrics": ",".join(metrics),
            "from": start.strftime(_TIME_FORMAT),
            "to": end.strftime(_TIME_FORMAT),
            "p": page,
            "ps": PAGE_SIZE,
        }
        return self._get(
            "measures/search_history",
            params=params,
            what=f"measure history of project {project_key}",
        )

    def known_metrics(self) -> set[str]:
        """Return every metric key this server knows."""
        keys: set[str] = set()
        guard = PageGuard(SOURCE, "the metric catalogue")
        page = 1
        while True:
            body = self._get(
                "metrics/search",
                what="the metric catalogue",
                params={"p": page, "ps": 500},
            )
            guard.check(body.get("p", page) if isinstance(body, Mapping) else page)
            metrics = require(
                body, "metrics", source=SOURCE, what="the metric catalogue"
            )
            keys |= {m["key"] for m in metrics if isinstance(m, Mapping) and "key" in m}
            if not metrics or page * 500 >= int(body.get("total", 0)):
                return keys
            page += 1

    def _get(self, path: str, *, what: str, params: dict[str, Any]) -> Any:
        if self.organization:
            params = {**params, "organization": self.organization}
        try:
            return self.http.get_json(f"api/{path}", what=what, params=params)
        except SourceAuthError as exc:
            raise SourceAuthError(
                SOURCE,
                f"Sonar refused SONAR_TOKEN for {what} ({exc.status}): use a token "
                "whose user can browse the project (and set SONAR_ORGANIZATION "
                "on SonarCloud)",
                status=exc.status,
                detail=exc.detail,
            ) from exc


def fetch_measures(
    client: SonarClient,
    product: str,
    project_keys: Sequence[str],
    *,
    since: datetime | None,
    now: datetime,
) -> pd.DataFrame:
    """Return ``sonar_measures`` rows for the product's projects.

    Reads 180 days on a full sync, else from a day before ``since`` (an
    analysis is dated when it ran, which can precede our last sync).
    """
    start = now - timedelta(days=WINDOW_DAYS)
    if since is not None:
        start = max(start, since - timedelta(days=1))

    rows: list[dict[str, Any]] = []
    for project_key in project_keys:
        started = time.monotonic()
        measures = _history_with_known_metrics(client, project_key, start, now)
        project_rows = _measure_rows(product, project_key, measures)
        logger.info(
            "Fetched %d Sonar measure points for %s in %.1fs",
            len(project_rows),
            project_key,
            time.monotonic() - started,
        )
        rows += project_rows

    frame = rows_frame(rows, MEASURE_COLUMNS, ("analysed_at",))
    frame["value"] = frame["value"].astype("float64")
    return frame.drop_duplicates(
        subset=["product", "project_key", "metric", "analysed_at"], ignore_index=True
    )


def _history_with_known_metrics(
    client: SonarClient, project_key: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    metrics = [m for m in METRICS if m not in client.unsupported_metrics]
    try:
        return _history(client, project_key, metrics, start, end)
    except SourceError as exc:
        unknown = _unknown_metrics(client, exc, metrics)
        if not unknown:
            raise
    logger.warning(
        "Sonar does not know the metrics %s; reading %s without them",
        ", ".join(sorted(unknown)),
        project_key,
    )
    client.unsupported_metrics |= unknown
    metrics = [m for m in metrics if m not in unknown]
    return _history(client, project_key, metrics, start, end) if metrics else []


def _unknown_metrics(
    client: SonarClient, exc: SourceError, metrics: Sequence[str]
) -> set[str]:
    if exc.status != 400 or "not found" not in (exc.detail or "").lower():
        return set()
    match = _NOT_FOUND.search(exc.detail or "")
    named = set(re.split(r"[,\s\[\]]+", match.group(1))) if match else set()
    unknown = named & set(metrics)
    return unknown or set(metrics) - client.known_metrics()


def _history(
    client: SonarClient,
    project_key: str,
    metrics: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """Return the ``measures`` of every page, splitting ranges over the cap."""
    what = f"measure history of project {project_key}"
    first = client.history_page(project_key, metrics, start, end, 1)
    total = int(
        require(
            require(first, "paging", source=SOURCE, what=what),
            "total",
            source=SOURCE,
            what=what,
        )
    )

    if total > RESULT_CAP:
        if end - start > timedelta(days=1):
            middle = start + (end - start) / 2
            return _history(client, project_key, metrics, start, middle) + _history(
                client, project_key, metrics, middle + timedelta(seconds=1), end
            )
        logger.warning(
            "Sonar has %d analyses of %s within one day; reading the first %d only",
            total,
            project_key,
            RESULT_CAP,
        )

    pages = [first]
    guard = PageGuard(SOURCE, what)
    guard.check(first["paging"].get("pageIndex", 1))
    page = 1
    while page * PAGE_SIZE < min(total, RESULT_CAP):
        page += 1
        body = client.history_page(project_key, metrics, start, end, page)
        guard.check(require(body, "paging", source=SOURCE, what=what).get("pageIndex"))
        pages.append(body)
    return [
        m
        for body in pages
        for m in require_list(
            require(body, "measures", source=SOURCE, what=what),
            source=SOURCE,
            what=what,
        )
    ]


def _measure_rows(
    product: str, project_key: str, measures: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    what = f"measure history of project {project_key}"
    rows = []
    for measure in measures:
        metric = str(require(measure, "metric", source=SOURCE, what=what))
        for point in require(measure, "history", source=SOURCE, what=what):
            value = point.get("value")  # absent when not computed in that analysis
            rows.append(
                {
                    "product": product,
                    "project_key": project_key,
                    "metric": metric,
                    "analysed_at": to_naive_utc(
                        require(point, "date", source=SOURCE, what=what),
                        source=SOURCE,
                        what=what,
                    ),
                    "value": None if metric in TEXT_METRICS else _number(value, what),
                    "text_value": value if metric in TEXT_METRICS else None,
                }
            )
    return rows


def _number(value: Any, what: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise SourceResponseError(
            SOURCE, f"Sonar sent {what} with a value that is not a number ({value!r})"
        ) from exc
