"""Sync two products from local vendor servers through the real command line.

The scores that `python -m reliability scores --format json` prints afterwards
are checked against values worked out by hand from the payloads below.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability import snapshot
from reliability.scoring import DEFAULT_WEIGHTS
from reliability.store import Store

TODAY = dt.datetime.now(dt.UTC).date()
TOKENS = {
    "SENTRY_AUTH_TOKEN": "sntrys_e2e-secret",
    "SONAR_TOKEN": "squ_e2e-secret",
    "JIRA_API_TOKEN": "ATATT-e2e-secret",
}
PORTFOLIO = """
[[products]]
slug = "shop"
name = "Shop"
team = "Retail"
tier = 1
sentry_projects = ["shop-api"]
sonar_projects = ["acme_shop"]

[[products]]
slug = "desk"
name = "Desk"
team = "Support"
tier = 2
jira_jql = "project = DESK"
"""


def stamp(days_ago: int, hour: int = 0, sonar: bool = False) -> str:
    moment = dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(hour))
    if sonar:
        return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def iso(days_ago: int, hour: int = 0) -> str:
    moment = dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(hour))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# Sentry: an error resolved after 4 days, and a fatal issue still open.
ISSUES = [
    {
        "id": "1",
        "shortId": "SHOP-1",
        "title": "KeyError in cart",
        "level": "error",
        "status": "resolved",
        "count": "40",
        "userCount": 7,
        "firstSeen": iso(10, 8),
        "lastSeen": iso(6, 8),
        "project": {"id": "42", "slug": "shop-api"},
        "permalink": "https://sentry.example/issues/1/",
    },
    {
        "id": "2",
        "shortId": "SHOP-2",
        "title": "Crash on pay",
        "level": "fatal",
        "status": "unresolved",
        "count": "5",
        "userCount": 2,
        "firstSeen": iso(3, 8),
        "lastSeen": iso(1, 8),
        "project": {"id": "42", "slug": "shop-api"},
        "permalink": "https://sentry.example/issues/2/",
    },
]
ACTIVITY = {
    "1": [
        {"id": "9", "type": "set_resolved", "dateCreated": iso(6, 8)},
        {"id": "1", "type": "first_seen", "dateCreated": iso(10, 8)},
    ],
    "2": [{"id": "3", "type": "first_seen", "dateCreated": iso(3, 8)}],
}
# 1,000 sessions a day for three days, 10 of them crashed: 99.0% crash free.
SESSIONS = {
    "intervals": [iso(2), iso(1), iso(0)],
    "groups": [
        {"by": {"session.status": "healthy"}, "series": {"sum(session)": [990] * 3}},
        {"by": {"session.status": "crashed"}, "series": {"sum(session)": [10] * 3}},
    ],
}
# SonarCloud: one analysis five days ago.
SONAR = {
    "alert_status": "ERROR",
    "reliability_rating": "3.0",
    "security_rating": "1.0",
    "sqale_rating": "2.0",
    "coverage": "50.0",
    "duplicated_lines_density": "3.0",
    "security_hotspots_reviewed": "50.0",
    "ncloc": "1000",
}
# Jira: a High ticket resolved in 24 h (met), a Highest one open past its 24 h.
TICKETS = [
    {
        "id": "101",
        "key": "DESK-1",
        "fields": {
            "summary": "Refund stuck",
            "issuetype": {"name": "Bug"},
            "status": {"name": "Done"},
            "priority": {"name": "High"},
            "created": stamp(5),
            "updated": stamp(4),
            "resolutiondate": stamp(4),
            "reporter": {"accountId": "customer"},
            "comment": {
                "total": 1,
                "comments": [
                    {"author": {"accountId": "agent"}, "created": stamp(5, 2)}
                ],
            },
        },
        "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": []},
    },
    {
        "id": "102",
        "key": "DESK-2",
        "fields": {
            "summary": "Site down",
            "issuetype": {"name": "Incident"},
            "status": {"name": "Open"},
            "priority": {"name": "Highest"},
            "created": stamp(3),
            "updated": stamp(3),
            "resolutiondate": None,
            "reporter": {"accountId": "customer"},
            "comment": {
                "total": 1,
                "comments": [
                    {"author": {"accountId": "agent"}, "created": stamp(3, 6)}
                ],
            },
        },
        "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": []},
    },
]


def as_json(body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), content_type="application/json", headers=headers)


def serve_vendors(server: HTTPServer) -> None:
    def issues(request: Request) -> Response:
        chosen = ISSUES[1:] if request.args.get("query") == "is:unresolved" else ISSUES
        link = f'<{request.base_url}>; rel="next"; results="false"; cursor="0:100:0"'
        return as_json(chosen, {"Link": link})

    def activities(request: Request) -> Response:
        issue_id = request.path.rstrip("/").split("/")[-2]
        return as_json({"activity": ACTIVITY[issue_id]})

    def history(request: Request) -> Response:
        asked = request.args["metrics"].split(",")
        measures = [
            {
                "metric": m,
                "history": [{"date": stamp(5, 10, sonar=True), "value": SONAR[m]}],
            }
            for m in asked
            if m in SONAR
        ]
        return as_json(
            {
                "paging": {"pageIndex": 1, "pageSize": 1000, "total": 1},
                "measures": measures,
            }
        )

    org = "/api/0/organizations/acme"
    server.expect_request(f"{org}/issues/").respond_with_handler(issues)
    for issue_id in ACTIVITY:
        server.expect_request(
            f"{org}/issues/{issue_id}/activities/"
        ).respond_with_handler(activities)
    server.expect_request(f"{org}/sessions/").respond_with_json(SESSIONS)
    server.expect_request("/api/0/projects/acme/shop-api/").respond_with_json(
        {"id": "42"}
    )
    server.expect_request("/api/measures/search_history").respond_with_handler(history)
    server.expect_request("/rest/api/3/search/jql").respond_with_json(
        {"issues": TICKETS, "isLast": True}
    )


@pytest.fixture
def synced(httpserver: HTTPServer, tmp_path: Path) -> dict[str, str]:
    serve_vendors(httpserver)
    config = tmp_path / "portfolio.toml"
    config.write_text(PORTFOLIO)
    base = httpserver.url_for("/").rstrip("/")
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SENTRY_", "SONAR_", "JIRA_"))
        },
        "PYTHONPATH": str(Path.cwd()),
        "RELIABILITY_DB": str(tmp_path / "real.duckdb"),
        "RELIABILITY_CONFIG": str(config),
        "SENTRY_BASE_URL": base,
        "SENTRY_ORG": "acme",
        "SONAR_BASE_URL": base,
        "JIRA_BASE_URL": base,
        "JIRA_EMAIL": "bot@acme.test",
        **TOKENS,
    }
    result = cli(env, "sync")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stdout
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reliability", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_synced_scores_match_the_hand_worked_values(synced: dict[str, str]) -> None:
    result = cli(synced, "scores", "--format", "json")
    assert result.returncode == 0, result.stderr
    scores = {r["product"]: r for r in json.loads(result.stdout)}

    shop = scores["shop"]["dimensions"]
    runtime = shop["runtime"]["metrics"]
    assert runtime["crash_free_sessions"]["value"] == pytest.approx(99.0)
    assert runtime["open_critical_issues"]["value"] == 1
    assert runtime["new_issues_30d"]["value"] == 2
    assert runtime["resolution_rate_90d"]["value"] == pytest.approx(0.5)
    assert runtime["mttr_days"]["value"] == pytest.approx(4.0)
    # (30*52.63 + 25*96 + 15*100 + 15*33.33 + 15*92.86) / 100
    assert shop["runtime"]["score"] == pytest.approx(73.718, abs=0.001)
    # (25*0 + 15*50 + 15*100 + 10*75 + 20*50 + 5*100 + 10*50) / 100
    assert shop["quality"]["score"] == pytest.approx(50.0)
    assert scores["shop"]["overall"] == pytest.approx(
        (40 * 73.718 + 30 * 50) / 70, abs=0.001
    )
    assert scores["shop"]["status"] == "Warning"
    assert scores["shop"]["coverage"] == pytest.approx(0.7)

    desk = scores["desk"]["dimensions"]["operations"]
    assert desk["metrics"]["sla_compliance_30d"]["value"] == pytest.approx(0.5)
    assert desk["metrics"]["mttr_hours"]["value"] == pytest.approx(24.0)
    assert desk["metrics"]["open_high_priority"]["value"] == 1
    assert desk["metrics"]["first_response_hours"]["value"] == pytest.approx(4.0)
    # (35*0 + 25*100 + 20*95 + 20*100) / 100
    assert desk["score"] == pytest.approx(64.0)
    assert scores["desk"]["overall"] == pytest.approx(64.0)
    assert scores["desk"]["coverage"] == pytest.approx(0.2)


def test_the_data_file_holds_no_token(synced: dict[str, str]) -> None:
    raw = Path(synced["RELIABILITY_DB"]).read_bytes()

    for token in TOKENS.values():
        assert token.encode() not in raw


SYNC_LOOP = """
import subprocess, sys, time
deadline = time.monotonic() + float(sys.argv[1])
runs = 0
while time.monotonic() < deadline:
    done = subprocess.run([sys.executable, "-m", "reliability", "sync", "--full"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(done.stderr)
    runs += 1
print(runs)
"""


def test_the_app_reads_while_another_process_syncs(synced: dict[str, str]) -> None:
    store = Store(synced["RELIABILITY_DB"])
    syncing = subprocess.Popen(
        [sys.executable, "-c", SYNC_LOOP, "8"],
        env=synced,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reads = 0
    try:
        while syncing.poll() is None:
            table = snapshot.summary(snapshot.load_snapshot(store), DEFAULT_WEIGHTS)
            assert set(table["slug"]) == {"shop", "desk"}
            assert table.set_index("slug").at["desk", "overall"] == pytest.approx(64.0)
            reads += 1
            time.sleep(0.02)
    finally:
        out, err = syncing.communicate(timeout=60)
    assert syncing.returncode == 0, err
    assert int(out) >= 2 and reads >= 10
