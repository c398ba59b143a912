"""The Azure connector against a real local HTTP server standing in for Entra ID
and the Log Analytics / Application Insights query APIs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability.sources import azure
from reliability.sources.errors import (
    SourceAuthError,
    SourceConfigError,
    SourceResponseError,
)
from tests.sources.azure_fakes import (
    APP_ID,
    APP_PATH,
    CLIENT,
    LOGS_PATH,
    SECRET,
    TENANT,
    TOKEN_PATH,
    WORKSPACE,
    Clock,
    azure_env,
    open_client,
    product,
    requests_made,
    serve_tokens,
    table,
)

NOW = dt.datetime(2025, 5, 10, 13, 25)
# Columns deliberately not in the order the KQL names them.
SHUFFLED = [
    ("p95_ms", "real"),
    ("failed", "long"),
    ("bucket", "datetime"),
    ("app", "string"),
    ("total", "long"),
]


@pytest.fixture
def env(httpserver: HTTPServer) -> dict[str, str]:
    return azure_env(httpserver)


@pytest.fixture
def client(env: dict[str, str], sleeps: list[float]) -> Iterator[azure.AzureClient]:
    made = open_client(env, clock=Clock(), sleeps=sleeps)
    yield made
    made.close()


# -- settings ----------------------------------------------------------------------


def test_missing_settings_are_one_config_error(env):
    del env["AZURE_CLIENT_SECRET"], env["AZURE_TENANT_ID"]

    with pytest.raises(SourceConfigError, match="AZURE_TENANT_ID, AZURE_CLIENT_SECRET"):
        azure.AzureClient.from_env(env)


def test_settings_repr_hides_the_secret(env):
    assert SECRET not in repr(azure.AzureSettings.from_env(env))


# -- queries -----------------------------------------------------------------------


def test_query_reads_columns_by_name_in_any_order(httpserver, client):
    serve_tokens(httpserver)
    httpserver.expect_request(
        LOGS_PATH,
        method="POST",
        headers={"Authorization": "Bearer token-1"},
        json={"query": "q", "timespan": "P1D"},
    ).respond_with_json(
        table(SHUFFLED, [[412.5, 3, "2025-05-08T00:00:00Z", "api", 1200]])
    )

    daily = azure._store_rows(
        client.query(product(azure_workspace=WORKSPACE), "q", "P1D"),
        product(azure_workspace=WORKSPACE, azure_roles=("api",)),
        "day",
        "daily requests",
    )

    assert daily.to_dict("records") == [
        {
            "product": "checkout",
            "app": "api",
            "day": pd.Timestamp("2025-05-08"),
            "total": 1200,
            "failed": 3,
            "p95_ms": 412.5,
        }
    ]


def test_fetch_daily_chunks_90_days_and_filters_roles(httpserver, client):
    serve_tokens(httpserver)
    bodies: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        bodies.append(request.get_json())
        start = bodies[-1]["timespan"].split("/")[0]
        rows = [[250.0, 1, start, "api", 1000], [None, 0, start, "web", 10]]
        return Response(
            json.dumps(table(SHUFFLED, rows)), content_type="application/json"
        )

    httpserver.expect_request(LOGS_PATH, method="POST").respond_with_handler(handler)
    checkout = product(azure_workspace=WORKSPACE, azure_roles=("api", 'we"b'))

    daily = azure.fetch_daily(client, checkout, now=NOW)

    assert [b["timespan"] for b in bodies] == [
        "2025-02-10T00:00:00Z/2025-03-12T00:00:00Z",
        "2025-03-12T00:00:00Z/2025-04-11T00:00:00Z",
        "2025-04-11T00:00:00Z/2025-05-11T00:00:00Z",
    ]
    query = bodies[0]["query"]
    assert query.startswith("AppRequests\n")
    assert 'AppRoleName in ("api", "we\\"b")' in query
    assert "by app = AppRoleName, bucket = bin(TimeGenerated, 1d)" in query
    assert list(daily.columns) == azure.DAILY_COLUMNS
    assert daily["day"].iloc[0] == dt.date(2025, 2, 10)
    assert daily["total"].tolist() == [1000, 10] * 3
    assert daily["p95_ms"].isna().tolist() == [False, True] * 3


def test_sampled_rows_are_counted_by_item_count(httpserver, client):
    # Three stored rows stand for 100 + 100 + 1 requests (adaptive sampling).
    # The stand-in server aggregates them only if the query sums ItemCount.
    sampled = [
        {"TimeGenerated": "2025-05-10T13:05:00Z", "Success": True, "ItemCount": 100},
        {"TimeGenerated": "2025-05-10T13:06:00Z", "Success": False, "ItemCount": 100},
        {"TimeGenerated": "2025-05-10T13:07:00Z", "Success": False, "ItemCount": 1},
    ]
    serve_tokens(httpserver)

    def handler(request: Request) -> Response:
        query = request.get_json()["query"]
        assert "total = sum(ItemCount)" in query
        assert "failed = sumif(ItemCount, tobool(Success) == false)" in query
        assert "percentilew(DurationMs, ItemCount, 95)" in query
        total = sum(row["ItemCount"] for row in sampled)
        failed = sum(row["ItemCount"] for row in sampled if not row["Success"])
        rows = [[120.0, failed, "2025-05-10T13:00:00Z", total]]
        columns = [c for c in SHUFFLED if c[0] != "app"]
        return Response(
            json.dumps(table(columns, rows)), content_type="application/json"
        )

    httpserver.expect_request(LOGS_PATH, method="POST").respond_with_handler(handler)

    hourly = azure.fetch_hourly(client, product(azure_workspace=WORKSPACE), now=NOW)

    assert hourly.to_dict("records") == [
        {
            "product": "checkout",
            "app": WORKSPACE,
            "hour": pd.Timestamp("2025-05-10 13:00"),
            "total": 201,
            "failed": 101,
            "p95_ms": 120.0,
        }
    ]
    (request,) = requests_made(httpserver, LOGS_PATH)
    assert request.get_json()["timespan"] == "2025-05-07T14:00:00Z/2025-05-10T14:00:00Z"


def test_classic_app_is_queried_through_app_insights(httpserver, client):
    forms = serve_tokens(httpserver)
    columns = [("bucket", "datetime"), ("total", "long"), ("failed", "long")]
    httpserver.expect_request(APP_PATH, method="POST").respond_with_json(
        table(
            [*columns, ("p95_ms", "real")], [["2025-05-10T12:00:00Z", "7", "0", "NaN"]]
        )
    )

    hourly = azure.fetch_hourly(client, product(azure_app_id=APP_ID), now=NOW)

    query = requests_made(httpserver, APP_PATH)[0].get_json()["query"]
    assert query.startswith("requests\n")
    assert "sum(itemCount)" in query and "bin(timestamp, 1h)" in query
    assert forms[0]["scope"] == "https://api.applicationinsights.io/.default"
    assert hourly[["app", "total", "failed"]].to_dict("records") == [
        {"app": APP_ID, "total": 7, "failed": 0}
    ]
    assert hourly["p95_ms"].isna().all()


def test_throttled_query_waits_for_retry_after_then_succeeds(
    httpserver, client, sleeps
):
    serve_tokens(httpserver)
    httpserver.expect_oneshot_request(LOGS_PATH, method="POST").respond_with_json(
        {"error": {"code": "ThrottledError", "message": "Too many requests"}},
        status=429,
        headers={"Retry-After": "7"},
    )
    httpserver.expect_request(LOGS_PATH, method="POST").respond_with_json(
        table([("ok", "long")], [[1]])
    )

    result = client.query(product(azure_workspace=WORKSPACE), "print ok = 1", "P1D")

    assert result.to_dict("records") == [{"ok": 1}]
    assert sleeps == [7.0]
    assert len(requests_made(httpserver, LOGS_PATH)) == 2


def test_partial_error_beside_tables_raises_for_that_chunk(httpserver, client):
    serve_tokens(httpserver)
    body = table(SHUFFLED, [[100.0, 0, "2025-05-08T00:00:00Z", "api", 5]])
    body["error"] = {
        "code": "PartialError",
        "message": "There were some errors when processing your query.",
        "details": [{"code": "EngineError", "message": "Query ran out of memory"}],
    }
    httpserver.expect_request(LOGS_PATH, method="POST").respond_with_json(body)

    with pytest.raises(SourceResponseError) as raised:
        azure.fetch_daily(client, product(azure_workspace=WORKSPACE), now=NOW)

    message = str(raised.value)
    assert "PartialError" in message and "Query ran out of memory" in message
    assert WORKSPACE in message and "2025-02-10T00:00:00Z" in message


def test_expired_token_is_renewed_once_on_401(httpserver, client):
    serve_tokens(httpserver)
    httpserver.expect_request(
        LOGS_PATH, headers={"Authorization": "Bearer token-1"}
    ).respond_with_json(
        {"error": {"code": "InvalidTokenError", "message": "expired"}}, status=401
    )
    httpserver.expect_request(
        LOGS_PATH, headers={"Authorization": "Bearer token-2"}
    ).respond_with_json(table([("ok", "long")], [[1]]))

    result = client.query(product(azure_workspace=WORKSPACE), "print ok = 1", "P1D")

    assert result["ok"].tolist() == [1]
    assert len(requests_made(httpserver, TOKEN_PATH)) == 2


def test_forbidden_workspace_says_which_role_to_grant(httpserver, client):
    serve_tokens(httpserver)
    httpserver.expect_request(LOGS_PATH).respond_with_json(
        {"error": {"code": "InsufficientAccessError", "message": "No access"}},
        status=403,
    )

    with pytest.raises(SourceAuthError, match=f"client id {CLIENT}.*Reader") as raised:
        client.query(product(azure_workspace=WORKSPACE), "print 1", "P1D")

    assert WORKSPACE in str(raised.value) and "No access" in str(raised.value)
    assert len(requests_made(httpserver, TOKEN_PATH)) == 1


def test_rows_that_do_not_match_columns_are_a_response_error():
    body = table([("a", "long"), ("b", "long")], [[1]])
    with pytest.raises(SourceResponseError, match="do not match its 2 columns"):
        azure.parse_table(body, what="something")


def test_ping_checks_the_token_and_the_workspace(httpserver, client):
    serve_tokens(httpserver)
    httpserver.expect_request(LOGS_PATH).respond_with_json(
        table([("ok", "long")], [[1]])
    )

    assert client.ping() == f"tenant {TENANT}"
    assert WORKSPACE in client.ping(product(azure_workspace=WORKSPACE))
    assert len(requests_made(httpserver, TOKEN_PATH)) == 1
