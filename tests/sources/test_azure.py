"""The Azure connector against a real local HTTP server standing in for Entra ID
and the Log Analytics / Application Insights query APIs."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability.config import Product
from reliability.sources import azure
from reliability.sources.errors import (
    SourceAuthError,
    SourceConfigError,
    SourceResponseError,
)

TENANT, CLIENT, SECRET = "tenant-1111", "client-2222", "s3cret-Value~do-not-leak"
WORKSPACE, APP_ID = "0b5c7a4e-ws", "9f1e-app"
TOKEN_PATH = f"/{TENANT}/oauth2/v2.0/token"
LOGS_PATH = f"/v1/workspaces/{WORKSPACE}/query"
APP_PATH = f"/v1/apps/{APP_ID}/query"
NOW = dt.datetime(2025, 5, 10, 13, 25)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def env(httpserver: HTTPServer) -> dict[str, str]:
    base = httpserver.url_for("/").rstrip("/")
    return {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_CLIENT_SECRET": SECRET,
        "AZURE_AUTHORITY_HOST": base,
        "AZURE_LOGS_BASE_URL": base,
        "APPINSIGHTS_BASE_URL": base,
    }


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(
    env: dict[str, str], sleeps: list[float], clock: Clock
) -> Iterator[azure.AzureClient]:
    made = azure.AzureClient.from_env(
        env, clock=clock, sleep=sleeps.append, backoff_seconds=0.0, max_attempts=3
    )
    yield made
    made.close()


def serve_tokens(
    httpserver: HTTPServer, expires_in: int = 3599
) -> list[dict[str, str]]:
    """Answer token requests with token-1, token-2, ...; return the forms seen."""
    forms: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        forms.append(dict(request.form))
        body = {
            "token_type": "Bearer",
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": f"token-{len(forms)}",
        }
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(handler)
    return forms


def table(columns: list[tuple[str, str]], rows: list[list[Any]]) -> dict[str, Any]:
    return {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": n, "type": t} for n, t in columns],
                "rows": rows,
            }
        ]
    }


# Columns deliberately not in the order the KQL names them.
SHUFFLED = [
    ("p95_ms", "real"),
    ("failed", "long"),
    ("bucket", "datetime"),
    ("app", "string"),
    ("total", "long"),
]


def product(**fields: Any) -> Product:
    defaults: dict[str, Any] = {"slug": "checkout", "name": "Checkout", "team": "Pay"}
    return Product(tier=1, **{**defaults, **fields})


def requests_made(httpserver: HTTPServer, path: str) -> list[Request]:
    return [request for request, _ in httpserver.log if request.path == path]


# -- tokens ------------------------------------------------------------------------


def test_token_exchange_sends_client_credentials_and_is_reused(httpserver, client):
    forms = serve_tokens(httpserver)

    first = client.tokens.token(azure.LOGS_RESOURCE)
    second = client.tokens.token(azure.LOGS_RESOURCE)

    assert first == second == "token-1"
    assert forms == [
        {
            "grant_type": "client_credentials",
            "client_id": CLIENT,
            "client_secret": SECRET,
            "scope": "https://api.loganalytics.io/.default",
        }
    ]


def test_tokens_are_kept_per_resource_and_renewed_before_expiry(
    httpserver, client, clock
):
    forms = serve_tokens(httpserver, expires_in=3600)

    logs = client.tokens.token(azure.LOGS_RESOURCE)
    apps = client.tokens.token(azure.APPINSIGHTS_RESOURCE)
    clock.now += 3600 - 301
    still = client.tokens.token(azure.LOGS_RESOURCE)
    clock.now += 2
    renewed = client.tokens.token(azure.LOGS_RESOURCE)

    assert (logs, apps, still, renewed) == ("token-1", "token-2", "token-1", "token-3")
    assert forms[1]["scope"] == "https://api.applicationinsights.io/.default"


@pytest.mark.parametrize(
    "status", [pytest.param(400, id="400"), pytest.param(401, id="401")]
)
def test_refused_secret_names_tenant_and_client_but_never_the_secret(
    httpserver, client, caplog, status
):
    refusal = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. "
        "Ensure the secret being sent in the request is the client secret value.",
        "error_codes": [7000215],
    }
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        refusal, status=status
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(SourceAuthError) as raised:
        client.query(product(azure_workspace=WORKSPACE), "print 1", "P1D")

    message = str(raised.value)
    assert TENANT in message and CLIENT in message
    assert "AADSTS7000215" in message
    assert SECRET not in message
    assert SECRET not in caplog.text
    assert len(requests_made(httpserver, TOKEN_PATH)) == 1
    assert not requests_made(httpserver, LOGS_PATH)


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
