"""The sync command line: summary table, config check and progress output."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reliability import sync, sync_cli
from tests.sync_fakes import TOKENS, serve_all, vendor_env


@pytest.fixture
def env(httpserver: HTTPServer) -> dict[str, str]:
    return vendor_env(httpserver)


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
