"""Shared pieces of the Azure tests: a settable clock, a fake Entra ID token
endpoint, query result tables and a client pointed at the local server."""

from __future__ import annotations

import json
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability.config import Product
from reliability.sources import azure

TENANT, CLIENT, SECRET = "tenant-1111", "client-2222", "s3cret-Value~do-not-leak"
WORKSPACE, APP_ID = "0b5c7a4e-ws", "9f1e-app"
TOKEN_PATH = f"/{TENANT}/oauth2/v2.0/token"
LOGS_PATH = f"/v1/workspaces/{WORKSPACE}/query"
APP_PATH = f"/v1/apps/{APP_ID}/query"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def azure_env(httpserver: HTTPServer) -> dict[str, str]:
    """Settings that send Entra ID and both query APIs to the local server."""
    base = httpserver.url_for("/").rstrip("/")
    return {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_CLIENT_SECRET": SECRET,
        "AZURE_AUTHORITY_HOST": base,
        "AZURE_LOGS_BASE_URL": base,
        "APPINSIGHTS_BASE_URL": base,
    }


def open_client(
    env: dict[str, str], *, clock: Clock, sleeps: list[float]
) -> azure.AzureClient:
    """Build a client that records its waits instead of sleeping."""
    return azure.AzureClient.from_env(
        env, clock=clock, sleep=sleeps.append, backoff_seconds=0.0, max_attempts=3
    )


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


def product(**fields: Any) -> Product:
    defaults: dict[str, Any] = {"slug": "checkout", "name": "Checkout", "team": "Pay"}
    return Product(tier=1, **{**defaults, **fields})


def requests_made(httpserver: HTTPServer, path: str) -> list[Request]:
    return [request for request, _ in httpserver.log if request.path == path]
