"""run_sync end to end: local vendor servers -> a real DuckDB file under tmp_path."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability import sync
from reliability.config import Portfolio, Product
from reliability.sources import sonar
from reliability.store import RAW_TABLES, Store, set_meta, upsert
from tests.sync_fakes import TOKENS, json_response, load, serve_all, vendor_env

NOW = dt.datetime(2025, 5, 10, 12, 0)
FAST = {"backoff_seconds": 0.0, "max_attempts": 2, "sleep": lambda s: None}
PORTFOLIO = Portfolio(
    path=None,
    products=(
        Product(
            slug="checkout",
            name="Checkout",
            team="Payments",
            tier=1,
            sentry_projects=("checkout-api",),
            sonar_projects=("acme_checkout",),
            jira_jql="project = OPS",
        ),
        Product(
            slug="helpdesk",
            name="Help desk",
            team="Support",
            tier=2,
            jira_jql="project = HELP",
            jira_sla="jsm",
        ),
        Product(slug="intranet", name="Intranet", team="IT", tier=3),
    ),
)
STATE_TABLES = (*RAW_TABLES, "products", "sync_state")


@pytest.fixture(autouse=True)
def small_sonar_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sonar, "PAGE_SIZE", 2)


@pytest.fixture
def env(httpserver: HTTPServer) -> dict[str, str]:
    return vendor_env(httpserver)


def run(store: Store, env: dict[str, str], **kwargs: Any) -> list[sync.SyncResult]:
    return sync.run_sync(
        store, PORTFOLIO, env=env, now=NOW, http_options=FAST, **kwargs
    )


def snapshot(store: Store) -> dict[str, pd.DataFrame]:
    frames = {}
    for table in STATE_TABLES:
        frame = store.query(f"SELECT * FROM {table}")
        frames[table] = frame.sort_values(list(frame.columns[:3])).reset_index(
            drop=True
        )
    return frames


def assert_same(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]):
    for table in STATE_TABLES:
        pd.testing.assert_frame_equal(before[table], after[table], obj=table)


def outcomes(results: list[sync.SyncResult]) -> dict[tuple[str, str], str]:
    return {(r.source, r.product): r.result for r in results}


def test_run_sync_fills_every_table(httpserver: HTTPServer, env: dict, store: Store):
    serve_all(httpserver)

    results = run(store, env)

    assert outcomes(results) == {
        ("sentry", "checkout"): "ok",
        ("sonar", "checkout"): "ok",
        ("jira", "checkout"): "ok",
        ("jira", "helpdesk"): "ok",
    }
    counts = {t: len(store.query(f"SELECT * FROM {t}")) for t in RAW_TABLES}
    assert counts["sentry_issues"] == 5 and counts["sentry_sessions"] == 2
    assert counts["sonar_measures"] == 10 and counts["jira_tickets"] == 6
    meta = store.meta()
    assert meta["is_demo"] == "false" and meta["last_sync"] == "2025-05-10T12:00:00"
    runs = store.query("SELECT source, product, rows, result FROM sync_runs")
    assert len(runs) == 4 and set(runs["result"]) == {"ok"}
    products = store.query("SELECT slug, sources FROM products ORDER BY slug")
    assert products["sources"].map(list).tolist() == [
        ["sentry", "sonar", "jira"],
        ["jira"],
        [],
    ]
    jsm = store.query("SELECT key, sla_met FROM jira_tickets WHERE product='helpdesk'")
    assert dict(zip(jsm["key"], jsm["sla_met"], strict=True))["OPS-1"]
    watermark = store.query(
        "SELECT watermark FROM sync_state WHERE source='jira' AND product='checkout'"
    )
    assert watermark.iloc[0, 0] == pd.Timestamp("2025-05-07 11:30")


def test_syncing_twice_gives_the_same_store(
    httpserver: HTTPServer, env: dict, store: Store
):
    serve_all(httpserver)
    run(store, env)
    once = snapshot(store)

    results = run(store, env)

    assert set(outcomes(results).values()) == {"ok"}
    assert_same(once, snapshot(store))
    # The second run reads no activity: no status changed.
    activity = [r for r, _ in httpserver.log if r.path.endswith("/activities/")]
    assert len(activity) == 3
    second_jql = [r.args["jql"] for r, _ in httpserver.log if "search/jql" in r.path][
        -1
    ]
    assert 'updated >= "2025/05/06 23:30"' in second_jql


def test_failing_source_does_not_stop_the_others(
    httpserver: HTTPServer, env: dict, store: Store, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    httpserver.expect_request("/api/0/organizations/acme/issues/").respond_with_json(
        {"detail": f"Invalid token {TOKENS['SENTRY_AUTH_TOKEN']}"}, status=401
    )
    serve_all(httpserver)

    results = run(store, env)

    failed = [r for r in results if r.result == "failed"]
    assert [(r.source, r.product) for r in failed] == [("sentry", "checkout")]
    assert "SENTRY_AUTH_TOKEN" in (failed[0].error or "")
    assert outcomes(results)[("jira", "helpdesk")] == "ok"
    runs = store.query("SELECT error FROM sync_runs WHERE result = 'failed'")
    assert runs["error"].tolist() == [failed[0].error]
    text = caplog.text + json.dumps([r.error for r in results])
    for token in TOKENS.values():
        assert token not in text
    issue_calls = [r for r, _ in httpserver.log if r.path.endswith("/issues/")]
    assert len(issue_calls) == 1  # a 401 is not retried


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        pytest.param(
            "/api/measures/search_history", Response("<html/>", 200), id="not-json"
        ),
        pytest.param(
            "/rest/api/3/search/jql", json_response({"isLast": True}), id="no-issues"
        ),
        pytest.param(
            "/api/0/organizations/acme/sessions/",
            json_response({"groups": []}),
            id="no-intervals",
        ),
    ],
)
def test_malformed_body_fails_and_leaves_the_store_unchanged(
    httpserver: HTTPServer, env: dict, store: Store, path: str, bad: Response
):
    serve_all(httpserver)
    run(store, env)
    before = snapshot(store)
    httpserver.clear()
    httpserver.expect_request(path).respond_with_response(bad)
    serve_all(httpserver)

    results = run(store, env)

    failed = [r for r in results if r.result == "failed"]
    assert failed and all(r.error for r in failed)
    assert_same(before, snapshot(store))


def test_throttled_and_failing_calls_are_retried(
    httpserver: HTTPServer, env: dict, store: Store
):
    flaky = iter(
        [
            Response("", status=429, headers={"Retry-After": "0"}),
            Response("busy", status=503),
        ]
    )

    def handler(request: Request) -> Response:
        reply = next(flaky, None)
        return reply or json_response(load("sonar", f"history_page{request.args['p']}"))

    httpserver.expect_request("/api/measures/search_history").respond_with_handler(
        handler
    )
    serve_all(httpserver)
    options = {**FAST, "max_attempts": 3}

    results = sync.run_sync(
        store, PORTFOLIO, env=env, now=NOW, http_options=options, sources=["sonar"]
    )

    assert outcomes(results) == {("sonar", "checkout"): "ok"}
    assert results[0].rows == 10


def test_repeated_cursor_fails_that_pull_only(
    httpserver: HTTPServer, env: dict, store: Store
):
    def looping(request: Request) -> Response:
        link = f'<{request.base_url}>; rel="next"; results="true"; cursor="same"'
        return Response("[]", headers={"Link": link}, content_type="application/json")

    httpserver.expect_request("/api/0/organizations/acme/issues/").respond_with_handler(
        looping
    )
    serve_all(httpserver)

    results = run(store, env, sources=["sentry", "jira"])

    assert outcomes(results)[("sentry", "checkout")] == "failed"
    assert outcomes(results)[("jira", "checkout")] == "ok"
    assert store.query("SELECT count(*) AS n FROM sentry_issues")["n"][0] == 0


def test_missing_settings_fail_that_source(
    httpserver: HTTPServer, env: dict, store: Store
):
    serve_all(httpserver)
    del env["SONAR_TOKEN"]

    results = run(store, env, product="checkout")

    assert outcomes(results) == {
        ("sentry", "checkout"): "ok",
        ("sonar", "checkout"): "failed",
        ("jira", "checkout"): "ok",
    }
    error = next(r.error for r in results if r.source == "sonar")
    assert "SONAR_TOKEN" in (error or "")


def test_demo_data_is_replaced_not_mixed(
    httpserver: HTTPServer, env: dict, store: Store
):
    with store.writing() as con:
        set_meta(con, "is_demo", "true")
        upsert(
            con,
            "jira_tickets",
            pd.DataFrame([{"product": "demo", "ticket_id": "1", "created": NOW}]),
        )
    serve_all(httpserver)

    run(store, env, sources=["jira"])

    assert set(store.query("SELECT product FROM jira_tickets")["product"]) == {
        "checkout",
        "helpdesk",
    }
    assert store.meta()["is_demo"] == "false"


def test_unknown_source_is_rejected(store: Store):
    with pytest.raises(ValueError, match="Unknown source"):
        sync.run_sync(store, PORTFOLIO, sources=["nagios"], env={})
