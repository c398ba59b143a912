"""The Sonar connector against a local server serving tests/fixtures/sonar."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability.sources import sonar
from reliability.sources.errors import SourceAuthError, SourceResponseError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sonar"
TOKEN = "squ_very-secret-sonar-token"
NOW = dt.datetime(2025, 5, 10, 12, 0)
HISTORY_PATH = "/api/measures/search_history"


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def history_handler(request: Request) -> Response:
    return json_response(load(f"history_page{request.args['p']}"))


@pytest.fixture
def client(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> sonar.SonarClient:
    # Two analyses per page, so the five-analysis fixture spans three pages.
    monkeypatch.setattr(sonar, "PAGE_SIZE", 2)
    env = {
        "SONAR_BASE_URL": httpserver.url_for("/"),
        "SONAR_TOKEN": TOKEN,
        "SONAR_ORGANIZATION": "acme",
    }
    made = sonar.SonarClient.from_env(env, backoff_seconds=0.0, sleep=lambda s: None)
    yield made
    made.close()


def history_requests(httpserver: HTTPServer) -> list[Request]:
    return [r for r, _ in httpserver.log if r.path == HISTORY_PATH]


def test_fetch_measures_pages_and_types_values(
    httpserver: HTTPServer, client: sonar.SonarClient
):
    httpserver.expect_request(HISTORY_PATH).respond_with_handler(history_handler)

    frame = sonar.fetch_measures(
        client, "checkout", ["acme_checkout"], since=None, now=NOW
    )

    assert list(frame.columns) == sonar.MEASURE_COLUMNS
    assert len(frame) == 10
    gate = frame[frame.metric == "alert_status"].set_index("analysed_at")
    assert gate["text_value"].tolist() == ["OK", "ERROR", "OK", "WARN", "OK"]
    assert gate["value"].isna().all()
    # +0100 is normalised to naive UTC.
    assert pd.Timestamp("2025-01-09 15:40:55") in gate.index
    coverage = frame[frame.metric == "coverage"]["value"].tolist()
    assert coverage[0] == 74.0 and pd.isna(coverage[1]) and coverage[-1] == 80.25

    calls = history_requests(httpserver)
    assert [r.args["p"] for r in calls] == ["1", "2", "3"]
    assert calls[0].args["organization"] == "acme"
    assert calls[0].args["from"] == "2024-11-11T12:00:00+0000"
    assert set(calls[0].args["metrics"].split(",")) == set(sonar.METRICS)


def test_incremental_reads_from_a_day_before_the_watermark(
    httpserver: HTTPServer, client: sonar.SonarClient
):
    httpserver.expect_request(HISTORY_PATH).respond_with_handler(history_handler)

    sonar.fetch_measures(
        client, "checkout", ["acme_checkout"], since=dt.datetime(2025, 5, 9, 6), now=NOW
    )

    assert history_requests(httpserver)[0].args["from"] == "2025-05-08T06:00:00+0000"


def test_unknown_metric_is_dropped_and_retried(
    httpserver: HTTPServer, client: sonar.SonarClient
):
    def handler(request: Request) -> Response:
        if "security_hotspots_reviewed" in request.args["metrics"]:
            error = {"msg": "Metrics security_hotspots_reviewed are not found"}
            return json_response({"errors": [error]}, status=400)
        return history_handler(request)

    httpserver.expect_request(HISTORY_PATH).respond_with_handler(handler)

    frame = sonar.fetch_measures(
        client, "checkout", ["acme_checkout"], since=None, now=NOW
    )

    assert len(frame) == 10
    assert client.unsupported_metrics == {"security_hotspots_reviewed"}
    assert (
        "security_hotspots_reviewed"
        not in history_requests(httpserver)[-1].args["metrics"]
    )


def test_unknown_metric_found_via_the_catalogue(
    httpserver: HTTPServer, client: sonar.SonarClient
):
    def handler(request: Request) -> Response:
        if "ncloc" in request.args["metrics"]:
            return json_response({"errors": [{"msg": "Some metrics not found"}]}, 400)
        return history_handler(request)

    known = [{"key": m} for m in sonar.METRICS if m != "ncloc"]
    httpserver.expect_request(HISTORY_PATH).respond_with_handler(handler)
    httpserver.expect_request("/api/metrics/search").respond_with_json(
        {"metrics": known, "total": len(known), "p": 1, "ps": 500}
    )

    sonar.fetch_measures(client, "checkout", ["acme_checkout"], since=None, now=NOW)

    assert client.unsupported_metrics == {"ncloc"}


def test_range_over_the_result_cap_is_split(
    httpserver: HTTPServer, client: sonar.SonarClient, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sonar, "RESULT_CAP", 4)

    def handler(request: Request) -> Response:
        start = dt.datetime.fromisoformat(request.args["from"])
        end = dt.datetime.fromisoformat(request.args["to"])
        if end - start > dt.timedelta(days=100):
            return json_response(
                {"paging": {"pageIndex": 1, "total": 9}, "measures": []}
            )
        body = {"paging": {"pageIndex": 1, "pageSize": 2, "total": 1}, "measures": [
            {"metric": "ncloc", "history": [{"date": request.args["from"], "value": "1"}]}
        ]}  # fmt: skip
        return json_response(body)

    httpserver.expect_request(HISTORY_PATH).respond_with_handler(handler)

    frame = sonar.fetch_measures(
        client, "checkout", ["acme_checkout"], since=None, now=NOW
    )

    assert len(frame) == 2
    assert all(int(r.args["p"]) * 2 <= 4 for r in history_requests(httpserver))


def test_server_ignoring_the_page_is_stopped(
    httpserver: HTTPServer, client: sonar.SonarClient
):
    httpserver.expect_request(HISTORY_PATH).respond_with_json(load("history_page1"))

    with pytest.raises(SourceResponseError, match="repeated"):
        sonar.fetch_measures(client, "checkout", ["acme_checkout"], since=None, now=NOW)


def test_missing_paging_is_a_response_error(
    httpserver: HTTPServer, client: sonar.SonarClient
):
    httpserver.expect_request(HISTORY_PATH).respond_with_json({"measures": []})

    with pytest.raises(SourceResponseError, match="'paging'"):
        sonar.fetch_measures(client, "checkout", ["acme_checkout"], since=None, now=NOW)


def test_ping_checks_token_and_gate(httpserver: HTTPServer, client: sonar.SonarClient):
    httpserver.expect_request("/api/authentication/validate").respond_with_json(
        {"valid": True}
    )
    httpserver.expect_request(
        "/api/qualitygates/project_status",
        query_string={"projectKey": "acme_checkout", "organization": "acme"},
    ).respond_with_json({"projectStatus": {"status": "ERROR", "conditions": []}})

    assert client.ping("acme_checkout") == "project acme_checkout: quality gate ERROR"


def test_ping_with_invalid_token(httpserver: HTTPServer, client: sonar.SonarClient):
    httpserver.expect_request("/api/authentication/validate").respond_with_json(
        {"valid": False}
    )

    with pytest.raises(SourceAuthError, match="SONAR_TOKEN"):
        client.ping()


def test_403_names_the_fix_without_the_token(
    httpserver: HTTPServer, client: sonar.SonarClient
):
    httpserver.expect_request(HISTORY_PATH).respond_with_json(
        {"errors": [{"msg": "Insufficient privileges"}]}, status=403
    )

    with pytest.raises(SourceAuthError, match="SONAR_ORGANIZATION") as caught:
        sonar.fetch_measures(client, "checkout", ["acme_checkout"], since=None, now=NOW)
    assert TOKEN not in str(caught.value)
    assert len(httpserver.log) == 1
