"""Sync throughput: Sentry issues pulled from a local, vendor-shaped server."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from benchmarks.common import Result, Settings, timed
from reliability.sources import sentry
from reliability.store import Store, upsert

ORG = "acme"
PROJECT = "checkout-api"
ISSUES_PATH = f"/api/0/organizations/{ORG}/issues/"
NOW = dt.datetime(2026, 11, 30, 12, 0)


def run(settings: Settings, issues: int = 10_000, pages: int = 100) -> list[Result]:
    """Pull ``issues`` issues over ``pages`` pages into a store, repeatedly."""
    per_page = issues // pages
    bodies = [
        json.dumps([_issue(page * per_page + i) for i in range(per_page)])
        for page in range(pages)
    ]
    # The store already knows every issue as resolved, as on an hourly re-sync,
    # so no per-issue activity log is read: this measures paging and writing.
    known = {
        str(n): sentry.KnownIssue(
            status="resolved", resolved_at=NOW, regressed_at=None,
            resolution_source="activity",
        )
        for n in range(issues)
    }  # fmt: skip
    # werkzeug logs every request at INFO; a hundred lines per pull is noise here.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = HTTPServer(threaded=True)
    ports: set[int] = set()
    server.expect_request(ISSUES_PATH).respond_with_handler(
        lambda request: _page(request, bodies, ports)
    )
    server.start()
    try:
        samples, rows = _pull(settings, server, known)
    finally:
        server.clear()
        server.stop()
    return [
        Result(
            figure="sync",
            size=None,
            samples=samples,
            note=f"{rows:,} issues, {pages + 1} pages per pull, "
            f"{len(ports)} connection(s) in {len(samples) + 1} pulls",
        )
    ]


def _pull(
    settings: Settings, server: HTTPServer, known: dict[str, sentry.KnownIssue]
) -> tuple[tuple[float, ...], int]:
    env = {
        "SENTRY_BASE_URL": server.url_for("/"),
        "SENTRY_ORG": ORG,
        "SENTRY_AUTH_TOKEN": "benchmark-token",
    }
    client = sentry.SentryClient.from_env(env)
    store = Store(settings.workdir / "sync.duckdb")
    fetched: list[int] = []

    def pull() -> None:
        issues, changes = sentry.fetch_issues(
            client, "checkout", [PROJECT], known=known, now=NOW
        )
        with store.writing(fresh=True) as con:
            upsert(con, "sentry_issues", issues)
            upsert(con, "sentry_issue_changes", changes)
        fetched.append(len(issues))

    try:
        samples = timed(pull, repeat=settings.heavy_repeat)
    finally:
        client.close()
    return samples, fetched[-1]


def _page(request: Request, bodies: list[str], ports: set[int]) -> Response:
    ports.add(int(request.environ.get("REMOTE_PORT", 0)))
    base = request.base_url
    if request.args.get("query") == "is:unresolved":
        # Every issue is resolved: the unresolved listing is one empty page.
        return _response("[]", base, None)
    index = int(request.args.get("cursor", "0:0:0").split(":")[1])
    cursor = f"0:{index + 1}:0" if index + 1 < len(bodies) else None
    return _response(bodies[index], base, cursor)


def _response(body: str, base: str, cursor: str | None) -> Response:
    # Sentry always sends both rel links; results="true" alone means more.
    more = "true" if cursor else "false"
    link = (
        f'<{base}?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", '
        f'<{base}?cursor={cursor}>; rel="next"; results="{more}"; '
        f'cursor="{cursor or "0:0:0"}"'
    )
    return Response(body, headers={"Link": link}, content_type="application/json")


def _issue(number: int) -> dict[str, Any]:
    first_seen = NOW - dt.timedelta(days=number % 170, minutes=number % 1440)
    return {
        "id": str(number),
        "shortId": f"CHECKOUT-{number:X}",
        "title": f"TimeoutError in checkout step {number % 40}",
        "level": ("error", "warning", "fatal", "info")[number % 4],
        "status": "resolved",
        "substatus": None,
        "firstSeen": first_seen.isoformat() + "Z",
        "lastSeen": (first_seen + dt.timedelta(hours=3)).isoformat() + "Z",
        "count": str(number % 5000 + 1),
        "userCount": number % 300,
        "permalink": f"https://acme.sentry.io/issues/{number}/",
        "project": {"id": "42", "slug": PROJECT},
    }
