"""Entra ID client-credentials tokens for the Azure connector, against a real
local HTTP server standing in for the token endpoint."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from reliability.sources import azure
from reliability.sources.errors import SourceAuthError
from tests.sources.azure_fakes import (
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
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(
    httpserver: HTTPServer, sleeps: list[float], clock: Clock
) -> Iterator[azure.AzureClient]:
    made = open_client(azure_env(httpserver), clock=clock, sleeps=sleeps)
    yield made
    made.close()


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
