"""run_sync end to end: local vendor servers -> a real DuckDB file under tmp_path."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability import sync, sync_cli
from reliability.config import Portfolio, Product
from reliability.sources import sonar
from reliability.store import RAW_TABLES, Store, set_meta, upsert

FIXTURES = Path(__file__).parent / "fixtures"
NOW = dt.datetime(2025, 5, 10, 12, 0)
TOKENS = {
    "SENTRY_AUTH_TOKEN": "sntrys_sync-secret-1",
    "SONAR_TOKEN": "squ_sync-secret-2",
    "JIRA_API_TOKEN": "ATATT-sync-secret-3",
}
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


@pytest.fixture(autouse=True)
def small_sonar_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sonar, "PAGE_SIZE", 2)


@pytest.fixture
def env(httpserver: HTTPServer) -> dict[str, str]:
    base = httpserver.url_for("/").rstrip("/")
    return {
        "SENTRY_BASE_URL": base,
        "SENTRY_ORG": "acme",
        "SONAR_BASE_URL": base,
        "JIRA_BASE_URL": base,
        "JIRA_EMAIL": "bot@acme.test",
        **TOKENS,
    }


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "reliability.duckdb")


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


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "portfolio.toml"
    path.write_text(
        '[[products]]\nslug = "checkout"\nname = "Checkout"\nteam = "Payments"\n'
        'tier = 1\njira_jql = "project = OPS"\n'
    )
    return path


def test_main_sync_prints_a_summary_and_exits_0(
    httpserver: HTTPServer,
    env: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    serve_all(httpserver)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RELIABILITY_CONFIG", str(write_config(tmp_path)))
    monkeypatch.setenv("RELIABILITY_DB", str(tmp_path / "r.duckdb"))

    code = sync_cli.main_sync(argparse.Namespace(source=None, product=None, full=False))

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split() == [
        "source",
        "product",
        "rows",
        "duration",
        "result",
    ]
    assert out.splitlines()[1].split()[:3] == ["jira", "checkout", "3"]


def test_main_check_config_pings_each_source(
    httpserver: HTTPServer,
    env: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    httpserver.expect_request("/rest/api/3/myself").respond_with_data("no", status=401)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RELIABILITY_CONFIG", str(write_config(tmp_path)))

    code = sync_cli.main_check_config(argparse.Namespace(ping=True))

    out = capsys.readouterr().out
    assert code == 1
    assert "checkout: jira" in out
    assert "jira: refused" in out and "JIRA_API_TOKEN" in out
    assert TOKENS["JIRA_API_TOKEN"] not in out


def test_main_check_config_reports_a_bad_portfolio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[products]]\nslug = 'Bad Slug'\n")
    monkeypatch.setenv("RELIABILITY_CONFIG", str(bad))

    assert sync_cli.main_check_config(argparse.Namespace(ping=False)) == 2
    assert "slug" in capsys.readouterr().err


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere():
    import io

    ok = sync.SyncResult(source="jira", product="a", rows=3, seconds=0.5, result="ok")
    bad = sync.SyncResult(
        source="jira",
        product="b",
        rows=0,
        seconds=0.1,
        result="failed",
        error="Jira refused the token",
    )
    terminal, plain = io.StringIO(), io.StringIO()
    bar = sync_cli.TerminalProgress({"jira": 2}, stream=terminal)
    lines = sync_cli.PlainProgress(stream=plain)
    for result in (ok, bad):
        for progress in (bar, lines):
            progress("jira", result.product, None)
            progress("jira", result.product, result)

    assert "[############............] 1/2" in terminal.getvalue()
    assert terminal.getvalue().endswith("2/2, 1 failed\n")
    assert plain.getvalue().splitlines() == [
        "sync jira a: ok (3 rows, 0.5s)",
        "sync jira b: failed (Jira refused the token, 0.1s)",
    ]
