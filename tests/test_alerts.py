"""Alerts: rules on the demo, and delivery to a real local Slack and Teams webhook."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reliability import alert_delivery, alerts, alerts_cli, snapshot
from reliability.config import AlertRules, Portfolio
from reliability.demo import STORIES
from reliability.store import Store

SLACK_PATH = "/services/T000/B000/slack-secret-token"
TEAMS_PATH = "/powerautomate/workflows/teams-secret-id/invoke"
TEAMS_QUERY = "sig=teams-secret-sig"
APP_URL = "https://dash.example"
NOW = dt.datetime(2026, 12, 1, 8, 0)
SECRETS = ("slack-secret-token", "teams-secret-id", "teams-secret-sig")


def only(slug: str, **rules: object) -> Portfolio:
    """A portfolio file that mutes every demo product but ``slug``."""
    mute = tuple(s.slug for s in STORIES if s.slug != slug)
    return Portfolio(path=None, products=(), alerts=AlertRules(mute=mute, **rules))  # type: ignore[arg-type]


@pytest.fixture
def alert_store(demo_store: Store, tmp_path: Path) -> Store:
    """A private copy of the demo file, which alert runs write to."""
    path = tmp_path / "alerts.duckdb"
    shutil.copyfile(demo_store.path, path)
    return Store(path)


@pytest.fixture
def hooks(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", httpserver.url_for(SLACK_PATH))
    monkeypatch.setenv(
        "TEAMS_WEBHOOK_URL", httpserver.url_for(TEAMS_PATH) + "?" + TEAMS_QUERY
    )
    monkeypatch.setenv("RELIABILITY_APP_URL", APP_URL)
    return httpserver


def slack_ok(server: HTTPServer) -> None:
    server.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")


def teams_ok(server: HTTPServer) -> None:
    server.expect_request(
        TEAMS_PATH, method="POST", query_string=TEAMS_QUERY
    ).respond_with_data("", status=202)


def posted(server: HTTPServer, path: str) -> list[dict]:
    return [json.loads(req.get_data()) for req, _ in server.log if req.path == path]


def run(
    store: Store, portfolio: Portfolio, *, now: dt.datetime = NOW, **kwargs
) -> alerts.RunResult:
    kwargs.setdefault("report", print)
    return alerts.run_alerts(store, portfolio, now=now, sleep=lambda _: None, **kwargs)


def alert_rows(store: Store) -> list[tuple]:
    return store.query(
        "SELECT product, rule, channel, state FROM alerts ORDER BY raised_at, rule, channel"
    ).itertuples(index=False, name=None)  # type: ignore[return-value]


# -- rules -------------------------------------------------------------------------------


def test_alerts_default_rules_raise_for_the_degrading_demo_product(
    demo_store: Store,
) -> None:
    snap = snapshot.load_snapshot(demo_store)

    conditions = alerts.evaluate(
        snap, None, burn_states=alerts.burn_states(demo_store, snap)
    )

    billing = {c.rule for c in conditions if c.product == "billing"}
    assert "delta_7d" in billing
    assert {c.product for c in conditions} <= {s.slug for s in STORIES}
    assert "adora" not in {c.product for c in conditions}


def test_alerts_rules_follow_the_portfolio_thresholds_and_mutes(
    demo_store: Store,
) -> None:
    snap = snapshot.load_snapshot(demo_store)
    strict = Portfolio(path=None, products=(), alerts=AlertRules(delta_7d=-1.0))
    muted = Portfolio(path=None, products=(), alerts=AlertRules(mute=("billing",)))

    strict_rules = {(c.product, c.rule) for c in alerts.evaluate(snap, strict)}
    muted_rules = {c.product for c in alerts.evaluate(snap, muted)}

    assert ("quartz", "delta_7d") in strict_rules  # -3.5 points in 7 days
    assert "billing" not in muted_rules


# -- delivery ----------------------------------------------------------------------------


def test_alerts_send_the_documented_slack_and_teams_payloads(
    alert_store: Store, hooks: HTTPServer
) -> None:
    slack_ok(hooks)
    teams_ok(hooks)

    result = run(alert_store, only("billing"))

    assert (result.sent, result.failed) == (2, 0)
    [slack] = posted(hooks, SLACK_PATH)
    [teams] = posted(hooks, TEAMS_PATH)
    facts = [
        json.loads(p)
        for p in alert_store.query(
            "SELECT payload FROM alerts WHERE channel = 'slack' ORDER BY rule"
        )["payload"]
    ]
    assert slack == alerts.slack_payload(facts)
    assert teams == alerts.teams_payload(facts)

    link = f"{APP_URL}/product?product=billing"
    assert slack["text"].startswith("Reliability alert: Billing (score ")
    assert [b["type"] for b in slack["blocks"]] == [
        "header",
        "section",
        "section",
        "context",
    ]
    assert slack["blocks"][0]["text"]["type"] == "plain_text"
    assert any("7 days" in f["text"] for f in slack["blocks"][1]["fields"])
    assert slack["blocks"][2]["text"]["text"].startswith("*Top fix*")
    assert f"<{link}|" in slack["blocks"][3]["elements"][0]["text"]

    assert teams["type"] == "message"
    [attachment] = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"].startswith("Billing: reliability ")
    assert any(
        "score " in f["value"] and "->" in f["value"] for f in card["body"][1]["facts"]
    )
    assert card["body"][2]["text"].startswith("Top fix: ")
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open dashboard", "url": link}
    ]


def test_alerts_second_run_sends_nothing_new_until_the_cooldown(
    alert_store: Store, hooks: HTTPServer
) -> None:
    slack_ok(hooks)
    teams_ok(hooks)
    run(alert_store, only("billing"))
    first = len(hooks.log)

    again = run(alert_store, only("billing"), now=NOW + dt.timedelta(hours=1))
    assert (again.sent, again.failed, len(hooks.log)) == (0, 0, first)

    later = run(alert_store, only("billing"), now=NOW + dt.timedelta(hours=25))
    assert later.sent == 2
    assert len(hooks.log) == first + 2


def test_alerts_a_failed_delivery_stays_pending_and_the_next_run_sends_it(
    alert_store: Store, hooks: HTTPServer
) -> None:
    hooks.expect_request(SLACK_PATH, method="POST").respond_with_data(
        "rollup_error", status=500
    )
    teams_ok(hooks)

    failed = run(alert_store, only("billing"))

    assert (failed.sent, failed.failed) == (1, 1)
    states = {(channel, state) for _, _, channel, state in alert_rows(alert_store)}
    assert states == {("slack", "pending"), ("teams", "sent")}

    hooks.clear_all_handlers()
    slack_ok(hooks)
    retried = run(alert_store, only("billing"), now=NOW + dt.timedelta(minutes=10))

    assert (retried.sent, retried.failed) == (1, 0)
    assert {state for *_, state in alert_rows(alert_store)} == {"sent"}
    assert len(posted(hooks, TEAMS_PATH)) == 1  # Teams had it already
    assert posted(hooks, SLACK_PATH)[-1] == posted(hooks, SLACK_PATH)[0]


def test_alerts_a_pending_alert_of_a_product_muted_since_is_dropped(
    alert_store: Store, hooks: HTTPServer
) -> None:
    hooks.expect_request(SLACK_PATH, method="POST").respond_with_data(
        "rollup_error", status=500
    )
    teams_ok(hooks)
    run(alert_store, only("billing"))  # Slack failed: its alert waits
    hooks.clear_all_handlers()
    slack_ok(hooks)
    teams_ok(hooks)
    tried = len(posted(hooks, SLACK_PATH))
    lines: list[str] = []

    result = run(
        alert_store,
        only("nobody"),  # every demo product muted, billing included
        now=NOW + dt.timedelta(minutes=10),
        report=lines.append,
    )

    assert (result.sent, result.failed) == (0, 0)
    assert len(posted(hooks, SLACK_PATH)) == tried  # nothing more sent
    assert {(channel, state) for _, _, channel, state in alert_rows(alert_store)} == {
        ("slack", "muted"),
        ("teams", "sent"),
    }
    assert any(line.startswith("dropped: billing is muted") for line in lines)


def test_alerts_exit_code_is_1_when_a_delivery_fails(
    alert_store: Store, hooks: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELIABILITY_DB", str(alert_store.path))
    monkeypatch.setattr(alert_delivery, "MAX_ATTEMPTS", 1)
    hooks.expect_request(SLACK_PATH, method="POST").respond_with_data(
        "no_service", status=404
    )
    teams_ok(hooks)

    assert (
        alerts_cli.main_alerts(argparse.Namespace(dry_run=False))
        == alerts_cli.EXIT_FAILED
    )


def test_alerts_a_recovered_product_sends_one_recovery_message(
    alert_store: Store, hooks: HTTPServer
) -> None:
    slack_ok(hooks)
    teams_ok(hooks)
    run(alert_store, only("billing"))
    calm = only(
        "billing",
        band_drop=False,
        delta_7d=-50.0,
        forecast_critical=False,
        error_budget_burn=False,
    )

    recovered = run(alert_store, calm, now=NOW + dt.timedelta(hours=2))
    quiet = run(alert_store, calm, now=NOW + dt.timedelta(hours=30))

    assert (recovered.sent, quiet.sent) == (2, 0)
    slack = posted(hooks, SLACK_PATH)
    assert len(slack) == 2
    assert slack[1]["text"].startswith("Reliability recovery: Billing")
    assert "has cleared" in slack[1]["text"]
    assert posted(hooks, TEAMS_PATH)[1]["attachments"][0]["content"]["body"][0][
        "text"
    ].startswith("Billing recovered")


def test_alerts_never_log_or_print_a_webhook_url(
    alert_store: Store,
    hooks: HTTPServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    hooks.expect_oneshot_request(SLACK_PATH, method="POST").respond_with_data(
        "rollup_error", status=500
    )
    slack_ok(hooks)
    hooks.expect_request(TEAMS_PATH, method="POST").respond_with_data(
        "denied", status=403
    )

    run(alert_store, only("billing"))
    run(alert_store, only("billing"), is_dry_run=True)

    out, err = capsys.readouterr()
    # The werkzeug records come from the test server, which plays Slack and Teams.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")
    assert "Microsoft Teams webhook answered 403" in out
    assert "Slack webhook answered 500 rollup_error" in logged
    assert "urllib3" in {r.name.split(".")[0] for r in caplog.records}
    for secret in (*SECRETS, hooks.url_for("/")):
        assert secret not in logged
        assert secret not in out + err


def test_alerts_dry_run_prints_and_neither_sends_nor_writes(
    alert_store: Store, hooks: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = alert_store.version()

    result = run(alert_store, only("billing"), is_dry_run=True)

    out = capsys.readouterr().out
    assert result.planned == 2
    assert "would send slack: Reliability alert: Billing" in out
    assert f"link: {APP_URL}/product?product=billing" in out
    assert len(hooks.log) == 0
    assert alert_store.version() == before


def test_alerts_command_without_a_channel_is_bad_input(demo_env: Store) -> None:
    assert (
        alerts_cli.main_alerts(argparse.Namespace(dry_run=False))
        == alerts_cli.EXIT_BAD_INPUT
    )


def test_alerts_command_dry_run_on_the_demo(
    demo_env: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from reliability import cli

    assert cli.main(["alerts", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "No channel is configured" in out
    assert "would send slack: Reliability alert: Billing" in out


def test_slack_payload_escapes_markup_in_names() -> None:
    fact = {
        "kind": "alert",
        "product": "x",
        "name": "R&D <tools>",
        "rule": "delta_7d",
        "what": "overall -12.0 points in 7 days",
        "before": 80.0,
        "after": 68.0,
        "status": "Warning",
        "insight": None,
        "link": "https://dash.example/product?product=x",
    }

    payload = alerts.slack_payload([fact])

    assert "R&amp;D &lt;tools&gt;" in payload["blocks"][-1]["elements"][0]["text"]
