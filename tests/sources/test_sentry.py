"""The Sentry connector against a local server serving tests/fixtures/sentry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability.sources import sentry, sentry_sessions
from reliability.sources.errors import (
    SourceAuthError,
    SourceConfigError,
    SourceResponseError,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sentry"
TOKEN = "sntrys_secret-token-value-123"
NOW = dt.datetime(2025, 5, 10, 12, 0)
ISSUES_PATH = "/api/0/organizations/acme/issues/"


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def link(base: str, cursor: str | None) -> str:
    more = "true" if cursor else "false"
    return (
        f'<{base}?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", '
        f'<{base}?cursor={cursor}>; rel="next"; results="{more}"; cursor="{cursor or "x"}"'
    )


def issues_handler(request: Request) -> Response:
    """Three pages of all-status issues, one page of unresolved ones."""
    pages = {
        None: ("issues_page1", "0:100:0"),
        "0:100:0": ("issues_page2", "0:200:0"),
        "0:200:0": ("issues_page3", None),
    }
    if request.args.get("project") != "checkout-api":
        name, cursor = None, None
    elif request.args.get("query") == "is:unresolved":
        name, cursor = "issues_unresolved", None
    else:
        name, cursor = pages[request.args.get("cursor")]
    body = json.dumps(load(name) if name else [])
    headers = {"Link": link(request.base_url, cursor)}
    return Response(body, headers=headers, content_type="application/json")


def serve_sentry(httpserver: HTTPServer) -> None:
    httpserver.expect_request(ISSUES_PATH).respond_with_handler(issues_handler)
    for issue_id in ("102", "103", "105"):
        httpserver.expect_request(
            f"/api/0/organizations/acme/issues/{issue_id}/activities/"
        ).respond_with_json(load(f"activities_{issue_id}"))
    httpserver.expect_request("/api/0/projects/acme/checkout-api/").respond_with_json(
        {"id": "42", "slug": "checkout-api"}
    )

    def sessions(request: Request) -> Response:
        name = "sessions" if request.args.get("project") == "42" else "sessions_empty"
        return Response(json.dumps(load(name)), content_type="application/json")

    httpserver.expect_request(
        "/api/0/organizations/acme/sessions/"
    ).respond_with_handler(sessions)


@pytest.fixture
def client(httpserver: HTTPServer) -> sentry.SentryClient:
    env = {
        "SENTRY_BASE_URL": httpserver.url_for("/"),
        "SENTRY_ORG": "acme",
        "SENTRY_AUTH_TOKEN": TOKEN,
    }
    made = sentry.SentryClient.from_env(env, backoff_seconds=0.0, sleep=lambda s: None)
    yield made
    made.close()


def requests_to(httpserver: HTTPServer, fragment: str) -> list[Request]:
    return [request for request, _ in httpserver.log if fragment in request.path]


def test_fetch_issues_pages_and_reads_resolution_history(
    httpserver: HTTPServer, client: sentry.SentryClient
):
    serve_sentry(httpserver)

    issues, changes = sentry.fetch_issues(
        client, "checkout", ["checkout-api", "7"], known={}, now=NOW
    )

    assert list(issues.columns) == sentry.ISSUE_COLUMNS
    assert list(changes.columns) == sentry.CHANGE_COLUMNS
    by_id = issues.set_index("issue_id")
    assert sorted(by_id.index) == ["101", "102", "103", "104", "105"]
    assert by_id.loc["101", "event_count"] == 1834  # a string in the API
    assert by_id.loc["101", "first_seen"] == pd.Timestamp("2025-05-02 08:11:40")
    assert pd.isna(by_id.loc["101", "resolved_at"])
    assert by_id.loc["102", "resolved_at"] == pd.Timestamp("2025-05-07 09:30")
    assert by_id.loc["102", "regressed_at"] == pd.Timestamp("2025-05-06 12:00")
    assert by_id.loc["102", "resolution_source"] == "activity"
    assert by_id.loc["103", "resolved_at"] == pd.Timestamp(NOW)
    assert by_id.loc["103", "resolution_source"] == "first_sync"
    assert by_id.loc["105", "regressed_at"] == pd.Timestamp("2025-05-01 07:00")
    assert by_id.loc["105", "resolved_at"] == pd.Timestamp("2025-04-15")

    kinds = changes.groupby("issue_id")["kind"].apply(sorted).to_dict()
    assert kinds == {
        "102": ["regressed", "resolved", "resolved"],
        "103": ["resolved"],
        "105": ["regressed", "resolved"],
    }
    # Three pages and an unresolved page for checkout-api, one of each for 7.
    issue_calls = requests_to(httpserver, "/issues/")
    listing = [r for r in issue_calls if r.path == ISSUES_PATH]
    assert len(listing) == 6
    assert {r.args.get("limit") for r in listing} == {"100"}
    assert [r.args.get("query") for r in listing].count("") == 4


def test_fetch_issues_reads_activity_only_for_changed_status(
    httpserver: HTTPServer, client: sentry.SentryClient
):
    serve_sentry(httpserver)
    stored = sentry.KnownIssue(
        status="resolved", resolved_at=dt.datetime(2025, 5, 7, 9, 30),
        regressed_at=None, resolution_source="activity",
    )  # fmt: skip
    known = {
        "101": sentry.KnownIssue(status="unresolved", resolved_at=None,
                                 regressed_at=None, resolution_source=None),
        "102": stored, "103": stored,
        "104": sentry.KnownIssue(status="unresolved", resolved_at=None,
                                 regressed_at=None, resolution_source=None),
        "105": sentry.KnownIssue(status="unresolved", resolved_at=None,
                                 regressed_at=None, resolution_source=None),
    }  # fmt: skip

    issues, changes = sentry.fetch_issues(
        client, "checkout", ["checkout-api"], known=known, now=NOW
    )

    assert requests_to(httpserver, "/activities/") == []
    assert changes.empty
    assert issues.set_index("issue_id").loc["103", "resolution_source"] == "activity"


def test_fetch_sessions_sums_statuses_and_skips_silent_projects(
    httpserver: HTTPServer, client: sentry.SentryClient
):
    serve_sentry(httpserver)

    sessions = sentry_sessions.fetch_sessions(
        client, "checkout", ["checkout-api", "7"], days=3
    )

    assert list(sessions.columns) == sentry_sessions.SESSION_COLUMNS
    assert sessions.to_dict("records") == [
        {"product": "checkout", "project": "checkout-api",
         "day": dt.date(2025, 5, 7), "sessions": 13, "crashed": 1},
        {"product": "checkout", "project": "checkout-api",
         "day": dt.date(2025, 5, 9), "sessions": 21, "crashed": 0},
    ]  # fmt: skip
    call = requests_to(httpserver, "/sessions/")[0]
    assert call.args.getlist("field") == ["sum(session)"]
    assert call.args.get("groupBy") == "session.status"
    assert call.args.get("interval") == "1d"
    assert call.args.get("statsPeriod") == "3d"


def test_repeated_cursor_is_stopped(
    httpserver: HTTPServer, client: sentry.SentryClient
):
    def looping(request: Request) -> Response:
        headers = {"Link": link(request.base_url, "0:100:0")}
        return Response("[]", headers=headers, content_type="application/json")

    httpserver.expect_request(ISSUES_PATH).respond_with_handler(looping)

    with pytest.raises(SourceResponseError, match="repeated"):
        list(client.issues("checkout-api", query="", stats_period="180d"))
    assert len(httpserver.log) == 2


def test_401_names_the_token_and_scope(
    httpserver: HTTPServer,
    client: sentry.SentryClient,
    caplog: pytest.LogCaptureFixture,
):
    httpserver.expect_request(ISSUES_PATH).respond_with_json(
        {"detail": "Invalid token"}, status=401
    )

    with pytest.raises(SourceAuthError) as caught:
        client.ping()
    message = str(caught.value)
    assert "SENTRY_AUTH_TOKEN" in message and "event:read" in message
    assert "org acme" in message
    assert TOKEN not in message and TOKEN not in caplog.text
    assert len(httpserver.log) == 1


def test_issue_without_first_seen_is_a_response_error(
    httpserver: HTTPServer, client: sentry.SentryClient
):
    httpserver.expect_request(ISSUES_PATH).respond_with_json([{"id": "1"}])

    with pytest.raises(SourceResponseError, match="firstSeen"):
        sentry.fetch_issues(client, "checkout", ["checkout-api"], known={}, now=NOW)


def test_from_env_names_missing_settings():
    with pytest.raises(SourceConfigError, match="SENTRY_ORG and SENTRY_AUTH_TOKEN"):
        sentry.SentryClient.from_env({})
