"""Sync throughput: Sentry issues pulled from a local, vendor-shaped server.

The server is the standard library's, speaking HTTP/1.1 with keep-alive, so the
figure shows whether the client reuses its connection; it counts the TCP
connections it accepts. (pytest-httpserver's werkzeug server closes every
connection, so it cannot.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
        json.dumps([_issue(page * per_page + i) for i in range(per_page)]).encode()
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
    with _serve(bodies) as server:
        samples, rows = _pull(settings, server.url, known)
    pulls = len(samples) + 1  # and the warm-up
    return [
        Result(
            figure="sync",
            size=None,
            samples=samples,
            note=f"{rows:,} issues, {pages + 1} pages per pull, "
            f"{server.requests} requests over {server.connections} TCP "
            f"connection(s) in {pulls} pulls (keep-alive server)",
        )
    ]


def _pull(
    settings: Settings, base_url: str, known: dict[str, sentry.KnownIssue]
) -> tuple[tuple[float, ...], int]:
    env = {
        "SENTRY_BASE_URL": base_url,
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


class _IssuesServer(ThreadingHTTPServer):
    """Serves the org issues endpoint from ready-made pages; counts what it sees."""

    daemon_threads = True

    def __init__(self, bodies: Sequence[bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _IssuesHandler)
        self.bodies = bodies
        self.connections = 0
        self.requests = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def count(self, *, is_connection: bool) -> None:
        with self._lock:
            if is_connection:
                self.connections += 1
            else:
                self.requests += 1


class _IssuesHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps the connection open between requests; every response must
    # then carry a Content-Length.
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds an idle keep-alive connection is held
    # Headers and body go out in two writes; with Nagle's algorithm on, the body
    # waits for the client's delayed ACK on every kept-alive request (about 40 ms
    # each). Production front ends set TCP_NODELAY too (nginx `tcp_nodelay`).
    disable_nagle_algorithm = True
    server: _IssuesServer

    def setup(self) -> None:
        super().setup()
        self.server.count(is_connection=True)

    def do_GET(self) -> None:
        self.server.count(is_connection=False)
        url = urlsplit(self.path)
        if url.path != ISSUES_PATH:
            self._send(404, b'{"detail": "The requested resource does not exist"}')
            return
        query = parse_qs(url.query)
        base = f"http://{self.headers['Host']}{url.path}"
        if query.get("query") == ["is:unresolved"]:
            # Every issue is resolved: the unresolved listing is one empty page.
            self._send(200, b"[]", _link(base, None))
            return
        bodies = self.server.bodies
        index = int(query.get("cursor", ["0:0:0"])[0].split(":")[1])
        cursor = f"0:{index + 1}:0" if index + 1 < len(bodies) else None
        self._send(200, bodies[index], _link(base, cursor))

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a line per request is noise in the benchmark's output."""

    def _send(self, status: int, body: bytes, link: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(body)


def _link(base: str, cursor: str | None) -> str:
    # Sentry always sends both rel links; results="true" alone means more.
    more = "true" if cursor else "false"
    return (
        f'<{base}?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", '
        f'<{base}?cursor={cursor}>; rel="next"; results="{more}"; '
        f'cursor="{cursor or "0:0:0"}"'
    )


@contextlib.contextmanager
def _serve(bodies: Sequence[bytes]) -> Iterator[_IssuesServer]:
    """Run the issues server on a free port of 127.0.0.1 for the block."""
    server = _IssuesServer(bodies)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


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
