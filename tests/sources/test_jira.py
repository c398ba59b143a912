"""The Jira connector against a local server serving tests/fixtures/jira."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability.sources import jira
from reliability.sources.errors import (
    SourceAuthError,
    SourceConfigError,
    SourceResponseError,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "jira"
API_TOKEN = "ATATT3xFfGF0-jira-secret"
SEARCH_PATH = "/rest/api/3/search/jql"


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def search_handler(request: Request) -> Response:
    page = {None: 1, "tok-2": 2, "tok-3": 3}[request.args.get("nextPageToken")]
    return json_response(load(f"search_page{page}"))


def serve_jira(httpserver: HTTPServer) -> None:
    httpserver.expect_request(SEARCH_PATH).respond_with_handler(search_handler)
    httpserver.expect_request("/rest/api/3/issue/OPS-2/changelog").respond_with_json(
        load("changelog_OPS-2")
    )
    slas = {"OPS-1": "sla_completed", "OPS-2": "sla_ongoing_breached"}

    def sla_handler(request: Request) -> Response:
        key = request.path.split("/")[-2]
        if key not in slas:
            return json_response({"errorMessage": "not a request"}, status=404)
        return json_response(load(slas[key]))

    httpserver.expect_request(
        "/rest/servicedeskapi/request/OPS-1/sla"
    ).respond_with_handler(sla_handler)
    httpserver.expect_request(
        "/rest/servicedeskapi/request/OPS-2/sla"
    ).respond_with_handler(sla_handler)
    httpserver.expect_request(
        "/rest/servicedeskapi/request/OPS-3/sla"
    ).respond_with_handler(sla_handler)


@pytest.fixture
def env(httpserver: HTTPServer) -> dict[str, str]:
    return {
        "JIRA_BASE_URL": httpserver.url_for("/").rstrip("/"),
        "JIRA_EMAIL": "bot@acme.test",
        "JIRA_API_TOKEN": API_TOKEN,
    }


@pytest.fixture
def client(env: dict[str, str]) -> jira.JiraClient:
    made = jira.JiraClient.from_env(env, backoff_seconds=0.0, sleep=lambda s: None)
    yield made
    made.close()


def test_fetch_tickets_pages_and_derives_first_response(
    httpserver: HTTPServer, client: jira.JiraClient
):
    serve_jira(httpserver)

    frame = jira.fetch_tickets(
        client, "checkout", "project = OPS ORDER BY created DESC",
        sla_mode="priority", since=None, full=True,
    )  # fmt: skip

    assert list(frame.columns) == jira.TICKET_COLUMNS
    rows = frame.set_index("key")
    assert list(rows.index) == ["OPS-1", "OPS-2", "OPS-3"]
    assert rows.loc["OPS-1", "ticket_id"] == "10001"
    assert rows.loc["OPS-1", "resolved"] == pd.Timestamp("2025-05-03 06:00")
    # First non-reporter comment (09:00) beats the first status change (09:30).
    assert rows.loc["OPS-1", "first_response"] == pd.Timestamp("2025-05-02 09:00")
    # The truncated changelog is read in full: an earlier status change at 11:00.
    assert rows.loc["OPS-2", "first_response"] == pd.Timestamp("2025-05-04 11:00")
    assert pd.isna(rows.loc["OPS-3", "first_response"])  # reporter's own comment
    assert pd.isna(rows.loc["OPS-2", "priority"])
    assert rows.loc["OPS-1", "url"].endswith("/browse/OPS-1")
    assert frame["sla_due"].isna().all() and frame["sla_met"].isna().all()

    searches = [r for r, _ in httpserver.log if r.path == SEARCH_PATH]
    assert [r.args.get("nextPageToken") for r in searches] == [None, "tok-2", "tok-3"]
    assert searches[0].args["expand"] == "changelog"
    assert set(searches[0].args["fields"].split(",")) >= {"comment", "reporter"}
    assert "ORDER BY created" not in searches[0].args["jql"]
    assert searches[0].args["jql"].endswith("ORDER BY updated ASC")


def test_jsm_products_read_the_resolution_sla(
    httpserver: HTTPServer, client: jira.JiraClient
):
    serve_jira(httpserver)

    frame = jira.fetch_tickets(
        client, "helpdesk", "project = OPS", sla_mode="jsm", since=None, full=False
    )

    rows = frame.set_index("key")
    assert rows.loc["OPS-1", "sla_due"] == pd.Timestamp("2025-05-03 08:11:40")
    assert bool(rows.loc["OPS-1", "sla_met"]) is True
    assert rows.loc["OPS-2", "sla_due"] == pd.Timestamp("2025-05-05 10:00")
    assert bool(rows.loc["OPS-2", "sla_met"]) is False
    assert pd.isna(rows.loc["OPS-3", "sla_met"])  # not a service desk request


def test_incremental_jql_overlaps_twelve_hours():
    jql = jira.build_jql(
        "project = OPS", since=dt.datetime(2025, 5, 10, 6, 30), full=False
    )

    assert jql == (
        '(project = OPS) AND (updated >= "2025/05/09 18:30") ORDER BY updated ASC'
    )


def test_full_jql_reads_the_window_and_everything_open():
    jql = jira.build_jql("project = OPS order by rank", since=None, full=True)

    assert jql == (
        "(project = OPS) AND (updated >= -180d OR statusCategory != Done) "
        "ORDER BY updated ASC"
    )


def test_repeated_page_token_is_stopped(
    httpserver: HTTPServer, client: jira.JiraClient
):
    body = load("search_page1")
    httpserver.expect_request(SEARCH_PATH).respond_with_json(
        {**body, "issues": [], "nextPageToken": "same"}
    )

    with pytest.raises(SourceResponseError, match="repeated"):
        list(client.search("project = OPS"))


def test_data_center_falls_back_to_v2_search(httpserver: HTTPServer, env: dict):
    httpserver.expect_request(SEARCH_PATH).respond_with_json(
        {"errorMessages": ["null for uri"]}, status=404
    )
    pages = [load(f"search_page{n}")["issues"] for n in (1, 2, 3)]

    def v2(request: Request) -> Response:
        start = int(request.args["startAt"])
        return json_response({"startAt": start, "total": 3, "issues": pages[start]})

    httpserver.expect_request("/rest/api/2/search").respond_with_handler(v2)
    bearer = {"JIRA_BASE_URL": env["JIRA_BASE_URL"], "JIRA_BEARER_TOKEN": "pat-123456"}
    client = jira.JiraClient.from_env(bearer, sleep=lambda s: None)

    issues = list(client.search("project = OPS"))

    assert [i["key"] for i in issues] == ["OPS-1", "OPS-2", "OPS-3"]
    assert client.api == "2"


def test_issue_without_fields_is_a_response_error(
    httpserver: HTTPServer, client: jira.JiraClient
):
    httpserver.expect_request(SEARCH_PATH).respond_with_json(
        {"issues": [{"id": "1", "key": "OPS-9"}], "isLast": True}
    )

    with pytest.raises(SourceResponseError, match="'fields'"):
        jira.fetch_tickets(
            client, "checkout", "project = OPS", sla_mode="priority", since=None,
            full=True,
        )  # fmt: skip


def test_401_gives_one_clear_message(
    httpserver: HTTPServer, client: jira.JiraClient, caplog: pytest.LogCaptureFixture
):
    httpserver.expect_request("/rest/api/3/myself").respond_with_data(
        "Unauthorized", status=401
    )

    with pytest.raises(SourceAuthError, match="JIRA_API_TOKEN") as caught:
        client.ping()
    assert API_TOKEN not in str(caught.value) and API_TOKEN not in caplog.text
    assert len(httpserver.log) == 1


def test_from_env_requires_credentials():
    with pytest.raises(SourceConfigError, match="JIRA_BASE_URL"):
        jira.JiraClient.from_env({"JIRA_BASE_URL": "https://acme.atlassian.net"})
