"""End to end: sync Azure from a local stand-in for Entra ID and Log Analytics
into a real DuckDB file, then read the stored rows and derived metrics."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability import slo
from reliability.config import Portfolio, Product
from reliability.metrics import refresh_metric_daily
from reliability.scoring import DEFAULT_WEIGHTS
from reliability.snapshot import load_snapshot, summary
from reliability.store import Store, upsert
from reliability.sync import run_sync
from tests.sources.azure_fakes import (
    LOGS_PATH,
    SECRET,
    TOKEN_PATH,
    WORKSPACE,
    azure_env,
)

COLUMNS = [
    {"name": "total", "type": "long"},
    {"name": "bucket", "type": "datetime"},
    {"name": "app", "type": "string"},
    {"name": "p95_ms", "type": "real"},
    {"name": "failed", "type": "long"},
]


@pytest.fixture
def env(httpserver: HTTPServer) -> dict[str, str]:
    return azure_env(httpserver)


@pytest.fixture
def portfolio() -> Portfolio:
    checkout = Product(
        slug="checkout",
        name="Checkout",
        team="Payments",
        tier=1,
        slo=99.9,
        azure_workspace=WORKSPACE,
        azure_roles=("api",),
    )
    return Portfolio(path=None, products=(checkout,))


def workspace_handler(queries: list[dict[str, Any]]):
    """Answer every bin of the asked timespan: 0.05% failed requests daily."""

    def handler(request: Request) -> Response:
        body = request.get_json()
        queries.append(body)
        start, end = (pd.Timestamp(t) for t in body["timespan"].split("/"))
        is_daily = "bin(TimeGenerated, 1d)" in body["query"]
        step, total, failed = ("1D", 10_000, 5) if is_daily else ("1h", 400, 0)
        bins = pd.date_range(start, end, freq=step, inclusive="left")
        rows = [[total, f"{b:%Y-%m-%dT%H:%M:%SZ}", "api", 250.0, failed] for b in bins]
        tables = [{"name": "PrimaryResult", "columns": COLUMNS, "rows": rows}]
        return Response(json.dumps({"tables": tables}), content_type="application/json")

    return handler


def serve(httpserver: HTTPServer) -> list[dict[str, Any]]:
    token = {"token_type": "Bearer", "expires_in": 3599, "access_token": "tok"}
    httpserver.expect_request(TOKEN_PATH).respond_with_json(token)
    queries: list[dict[str, Any]] = []
    httpserver.expect_request(LOGS_PATH, method="POST").respond_with_handler(
        workspace_handler(queries)
    )
    return queries


def sync(store: Store, portfolio: Portfolio, env: dict[str, str]) -> list[Any]:
    options = {"sleep": lambda seconds: None, "backoff_seconds": 0.0}
    return run_sync(store, portfolio, sources=["azure"], env=env, http_options=options)


def test_sync_azure_stores_daily_and_hourly_requests(
    httpserver, tmp_path, env, portfolio
):
    queries = serve(httpserver)
    store = Store(tmp_path / "reliability.duckdb")

    (result,) = sync(store, portfolio, env)

    assert (result.source, result.product, result.result) == ("azure", "checkout", "ok")
    daily = store.query("SELECT * FROM azure_requests ORDER BY day")
    hourly = store.query("SELECT * FROM azure_requests_hourly ORDER BY hour")
    assert len(daily) == 90 and len(hourly) == 72
    assert set(daily["app"]) == {"api"} and set(daily["product"]) == {"checkout"}
    assert daily["day"].iloc[-1].date() == dt.datetime.now(dt.UTC).date()
    assert (daily["total"] == 10_000).all() and (daily["failed"] == 5).all()
    assert result.rows == 90 + 72
    assert len(queries) == 4  # three 30-day chunks and one hourly query

    products = store.query("SELECT azure_apps, sources FROM products")
    assert list(products["azure_apps"][0]) == ["api"]
    assert list(products["sources"][0]) == ["azure"]


def test_sync_azure_feeds_the_system_health_metrics(
    httpserver, tmp_path, env, portfolio
):
    serve(httpserver)
    store = Store(tmp_path / "reliability.duckdb")

    sync(store, portfolio, env)

    metrics = store.query(
        "SELECT day, error_budget_remaining, p95_response_ms, failed_request_rate "
        "FROM metric_daily WHERE product = 'checkout' ORDER BY day"
    )
    today = metrics.iloc[-1]
    # 5 failures in 10,000 requests: availability 99.95% spends half of 99.9%.
    assert today["error_budget_remaining"] == pytest.approx(0.5)
    assert today["p95_response_ms"] == pytest.approx(250.0)
    assert today["failed_request_rate"] == pytest.approx(0.05)

    # The pure helper agrees with the SQL metrics on the same stored rows.
    daily = store.query("SELECT * FROM azure_requests")
    ours = slo.system_health_daily(daily, {"checkout": 99.9}).iloc[-1]
    assert ours["error_budget_remaining"] == pytest.approx(
        today["error_budget_remaining"]
    )
    assert ours["p95_response_ms"] == pytest.approx(today["p95_response_ms"])


def test_second_sync_rereads_two_days_and_keeps_one_row_per_day(
    httpserver, tmp_path, env, portfolio
):
    queries = serve(httpserver)
    store = Store(tmp_path / "reliability.duckdb")

    sync(store, portfolio, env)
    del queries[:]
    sync(store, portfolio, env)

    daily_spans = [q["timespan"] for q in queries if "1d)" in q["query"]]
    assert len(daily_spans) == 1
    start, end = (pd.Timestamp(t) for t in daily_spans[0].split("/"))
    assert end - start == pd.Timedelta(days=2)
    assert store.query("SELECT count(*) AS n FROM azure_requests")["n"][0] == 90


def test_partial_error_fails_the_pull_and_stores_nothing(
    httpserver, tmp_path, env, portfolio
):
    token = {"token_type": "Bearer", "expires_in": 3599, "access_token": "tok"}
    httpserver.expect_request(TOKEN_PATH).respond_with_json(token)
    partial = {
        "tables": [{"name": "PrimaryResult", "columns": COLUMNS, "rows": []}],
        "error": {"code": "PartialError", "message": "Some shards failed"},
    }
    httpserver.expect_request(LOGS_PATH).respond_with_json(partial)
    store = Store(tmp_path / "reliability.duckdb")

    (result,) = sync(store, portfolio, env)

    assert result.result == "failed" and "PartialError" in (result.error or "")
    assert store.query("SELECT count(*) AS n FROM azure_requests")["n"][0] == 0
    runs = store.query("SELECT result, error FROM sync_runs")
    assert runs["result"].tolist() == ["failed"]
    assert SECRET not in runs["error"][0]


def test_sync_azure_changes_system_health_score_and_status(
    httpserver, tmp_path, env, portfolio
):
    serve(httpserver)
    store = Store(tmp_path / "reliability.duckdb")
    with store.writing() as con:
        upsert(
            con,
            "products",
            pd.DataFrame(
                [
                    {
                        "slug": "checkout",
                        "name": "Checkout",
                        "team": "Payments",
                        "tier": 1,
                    }
                ]
            ),
        )
        refresh_metric_daily(con)
    before = summary(load_snapshot(store), DEFAULT_WEIGHTS).iloc[0]

    sync(store, portfolio, env)
    after = summary(load_snapshot(store), DEFAULT_WEIGHTS).iloc[0]

    assert before["status"] == "No data"
    # Budget half spent: 50; p95 250 ms: 100; 0.05% failed: 100.
    # (50 * 50 + 25 * 100 + 25 * 100) / 100 = 75, a Warning.
    assert after["system_health"] == pytest.approx(75.0)
    assert after["overall"] == pytest.approx(75.0)
    assert after["status"] == "Warning"
    assert after["coverage"] == pytest.approx(0.1)
