"""A local stand-in for Sentry, Sonar and Jira, shared by the sync tests.

Replies come from the recorded bodies under ``tests/fixtures``; the tokens are
fake and distinctive so a test can check none of them leaks into output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).parent / "fixtures"
TOKENS = {
    "SENTRY_AUTH_TOKEN": "sntrys_sync-secret-1",
    "SONAR_TOKEN": "squ_sync-secret-2",
    "JIRA_API_TOKEN": "ATATT-sync-secret-3",
}


def vendor_env(httpserver: HTTPServer) -> dict[str, str]:
    """Settings that point the Sentry, Sonar and Jira clients at the local server."""
    base = httpserver.url_for("/").rstrip("/")
    return {
        "SENTRY_BASE_URL": base,
        "SENTRY_ORG": "acme",
        "SONAR_BASE_URL": base,
        "JIRA_BASE_URL": base,
        "JIRA_EMAIL": "bot@acme.test",
        **TOKENS,
    }


def load(source: str, name: str) -> Any:
    return json.loads((FIXTURES / source / f"{name}.json").read_text())


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def sentry_issues(request: Request) -> Response:
    pages = {
        None: ("issues_page1", "c1"),
        "c1": ("issues_page2", "c2"),
        "c2": ("issues_page3", None),
    }
    if request.args.get("query") == "is:unresolved":
        name, cursor = "issues_unresolved", None
    else:
        name, cursor = pages[request.args.get("cursor")]
    more = "true" if cursor else "false"
    link = f'<{request.base_url}>; rel="next"; results="{more}"; cursor="{cursor}"'
    return Response(
        json.dumps(load("sentry", name)),
        headers={"Link": link},
        content_type="application/json",
    )


def jira_search(request: Request) -> Response:
    page = {None: 1, "tok-2": 2, "tok-3": 3}[request.args.get("nextPageToken")]
    return json_response(load("jira", f"search_page{page}"))


def serve_all(httpserver: HTTPServer) -> None:
    org = "/api/0/organizations/acme"
    httpserver.expect_request(f"{org}/issues/").respond_with_handler(sentry_issues)
    for issue_id in ("102", "103", "105"):
        httpserver.expect_request(
            f"{org}/issues/{issue_id}/activities/"
        ).respond_with_json(load("sentry", f"activities_{issue_id}"))
    httpserver.expect_request("/api/0/projects/acme/checkout-api/").respond_with_json(
        {"id": "42"}
    )
    httpserver.expect_request(f"{org}/sessions/").respond_with_json(
        load("sentry", "sessions")
    )
    httpserver.expect_request("/api/measures/search_history").respond_with_handler(
        lambda r: json_response(load("sonar", f"history_page{r.args['p']}"))
    )
    httpserver.expect_request("/rest/api/3/search/jql").respond_with_handler(
        jira_search
    )
    httpserver.expect_request("/rest/api/3/issue/OPS-2/changelog").respond_with_json(
        load("jira", "changelog_OPS-2")
    )
    httpserver.expect_request(
        "/rest/servicedeskapi/request/OPS-1/sla"
    ).respond_with_json(load("jira", "sla_completed"))
    for key in ("OPS-2", "OPS-3"):
        httpserver.expect_request(
            f"/rest/servicedeskapi/request/{key}/sla"
        ).respond_with_json(load("jira", "sla_ongoing_breached"))
