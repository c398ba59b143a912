"""The shared HTTP layer against a real local server: retries, waits, errors."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reliability.sources.errors import (
    SourceAuthError,
    SourceError,
    SourceResponseError,
    SourceUnavailable,
)
from reliability.sources.http import (
    MIN_HINTED_WAIT_SECONDS,
    HttpClient,
    PageGuard,
    wait_hint_seconds,
)

TOKEN = "tok-Sup3rSecret-0042"


@pytest.fixture
def client(httpserver: HTTPServer, sleeps: list[float]) -> HttpClient:
    http = HttpClient(
        "Testvendor",
        httpserver.url_for("/"),
        headers={"Authorization": f"Bearer {TOKEN}"},
        max_attempts=4,
        backoff_seconds=0.01,
        sleep=sleeps.append,
    )
    yield http
    http.close()


def sequence(*responses: Response) -> Callable[[Request], Response]:
    """Serve the given responses in order, then repeat the last."""
    queue = list(responses)

    def handler(request: Request) -> Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


def test_get_json_sends_auth_and_decodes(httpserver: HTTPServer, client: HttpClient):
    httpserver.expect_request(
        "/api/thing", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_json({"ok": True})

    assert client.get_json("api/thing", what="the thing") == {"ok": True}


def test_post_json_sends_body(httpserver: HTTPServer, client: HttpClient):
    httpserver.expect_request("/q", method="POST", json={"a": 1}).respond_with_json(
        {"rows": []}
    )

    assert client.post_json("/q", what="a query", json={"a": 1}) == {"rows": []}


def test_429_with_retry_after_waits_then_succeeds(
    httpserver: HTTPServer, client: HttpClient, sleeps: list[float]
):
    httpserver.expect_request("/x").respond_with_handler(
        sequence(
            Response("{}", status=429, headers={"Retry-After": "3"}),
            Response('{"ok": 1}', status=200, content_type="application/json"),
        )
    )

    assert client.get_json("/x", what="x") == {"ok": 1}
    assert sleeps == [3.0]
    assert len(httpserver.log) == 2


def test_retry_after_zero_is_clamped(
    httpserver: HTTPServer, client: HttpClient, sleeps: list[float]
):
    httpserver.expect_request("/x").respond_with_handler(
        sequence(
            Response("", status=429, headers={"Retry-After": "0"}),
            Response("[]", status=200, content_type="application/json"),
        )
    )

    client.get_json("/x", what="x")
    assert sleeps == [MIN_HINTED_WAIT_SECONDS]


def test_burst_of_503s_then_success_backs_off_exponentially(
    httpserver: HTTPServer, client: HttpClient, sleeps: list[float]
):
    httpserver.expect_request("/x").respond_with_handler(
        sequence(
            Response("busy", status=503),
            Response("busy", status=503),
            Response("busy", status=502),
            Response("[1]", status=200, content_type="application/json"),
        )
    )

    assert client.get_json("/x", what="x") == [1]
    assert len(httpserver.log) == 4
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[1] < sleeps[2] <= 0.01 * 4 * 1.5


def test_5xx_out_of_retries_is_unavailable(httpserver: HTTPServer, client: HttpClient):
    httpserver.expect_request("/x").respond_with_data("down", status=500)

    with pytest.raises(SourceUnavailable, match="kept failing") as caught:
        client.get_json("/x", what="the widgets")
    assert "the widgets" in str(caught.value)
    assert len(httpserver.log) == 4


def test_429_out_of_retries_is_unavailable(httpserver: HTTPServer, client: HttpClient):
    httpserver.expect_request("/x").respond_with_json(
        {"detail": "Request was throttled."}, status=429
    )

    with pytest.raises(SourceUnavailable, match="throttl"):
        client.get_json("/x", what="x")


def test_timeout_retries_then_gives_up(httpserver: HTTPServer, sleeps: list[float]):
    def slow(request: Request) -> Response:
        time.sleep(0.1)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    http = HttpClient(
        "Testvendor", httpserver.url_for("/"), read_timeout_seconds=0.02,
        max_attempts=2, sleep=sleeps.append,
    )  # fmt: skip

    with pytest.raises(SourceUnavailable, match="timed out"):
        http.get_json("/slow", what="the slow thing")
    assert len(sleeps) == 1


def test_timeout_then_success(httpserver: HTTPServer):
    calls = []

    def slow_once(request: Request) -> Response:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.1)
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/slow").respond_with_handler(slow_once)
    http = HttpClient(
        "Testvendor", httpserver.url_for("/"), read_timeout_seconds=0.03,
        max_attempts=3, sleep=lambda seconds: time.sleep(0.09),
    )  # fmt: skip

    # The test server handles one request at a time, so the retry waits for
    # the slow handler to finish.
    assert http.get_json("/slow", what="x") == {"ok": True}
    assert len(calls) >= 2


def test_connection_refused_is_unavailable(sleeps: list[float]):
    http = HttpClient(
        "Testvendor", "http://127.0.0.1:9", max_attempts=2, sleep=sleeps.append
    )

    with pytest.raises(SourceUnavailable, match="unreachable"):
        http.get_json("/x", what="x")


def test_401_fails_at_once_without_leaking_the_token(
    httpserver: HTTPServer, client: HttpClient, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    httpserver.expect_request("/x").respond_with_json(
        {"detail": f"Invalid token {TOKEN}"}, status=401
    )

    with pytest.raises(SourceAuthError) as caught:
        client.get_json("/x", what="the org issues")
    message = str(caught.value)
    assert "401" in message and "the org issues" in message
    assert TOKEN not in message and TOKEN not in (caught.value.detail or "")
    assert TOKEN not in caplog.text
    assert len(httpserver.log) == 1


def test_403_is_auth_error(httpserver: HTTPServer, client: HttpClient):
    httpserver.expect_request("/x").respond_with_json(
        {"errors": [{"msg": "Insufficient privileges"}]}, status=403
    )

    with pytest.raises(SourceAuthError, match="Insufficient privileges"):
        client.get_json("/x", what="x")
    assert len(httpserver.log) == 1


def test_404_names_the_object(httpserver: HTTPServer, client: HttpClient):
    httpserver.expect_request("/x").respond_with_json(
        {"errorMessages": ["Issue does not exist"], "errors": {}}, status=404
    )

    with pytest.raises(SourceResponseError, match="project zzz") as caught:
        client.get_json("/x", what="project zzz")
    assert caught.value.status == 404
    assert "Issue does not exist" in str(caught.value)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"detail": "Invalid stats_period"}, "Invalid stats_period", id="sentry"),
        pytest.param({"errors": [{"msg": "Metrics foo are not found"}]}, "Metrics foo", id="sonar"),
        pytest.param({"errorMessages": ["Bad JQL"], "errors": {"jql": "near x"}}, "Bad JQL", id="jira"),
    ],
)  # fmt: skip
def test_other_4xx_carries_the_vendor_message(
    httpserver: HTTPServer, client: HttpClient, body: dict, expected: str
):
    httpserver.expect_request("/x").respond_with_json(body, status=400)

    with pytest.raises(SourceError, match=expected) as caught:
        client.get_json("/x", what="x")
    assert caught.value.status == 400
    assert type(caught.value) is SourceError


def test_body_that_is_not_json(httpserver: HTTPServer, client: HttpClient):
    httpserver.expect_request("/x").respond_with_data(
        "<html>login</html>", content_type="text/html"
    )

    with pytest.raises(SourceResponseError, match="not JSON"):
        client.get_json("/x", what="x")


def test_full_urls_pass_unchanged(httpserver: HTTPServer, client: HttpClient):
    httpserver.expect_request("/next").respond_with_json([])

    assert client.get_json(httpserver.url_for("/next"), what="next page") == []


def test_page_guard_stops_a_repeated_cursor():
    guard = PageGuard("Testvendor", "issues")
    guard.check("0:100:0")
    guard.check("0:200:0")

    with pytest.raises(SourceResponseError, match="repeated"):
        guard.check("0:100:0")


def test_wait_hint_reads_each_header():
    now = 1_000_000.0
    http_date = email.utils.formatdate(now + 7, usegmt=True)

    assert wait_hint_seconds({"Retry-After": "2.5"}, now=now) == 2.5
    assert wait_hint_seconds({"Retry-After": http_date}, now=now) == pytest.approx(7)
    assert wait_hint_seconds({"X-Sentry-Rate-Limit-Reset": str(now + 4)}, now=now) == 4
    assert wait_hint_seconds({"X-RateLimit-Reset": "1970-01-12T13:47Z"}, now=now) == (
        pytest.approx(1_000_020 - now)
    )
    assert wait_hint_seconds({"X-RateLimit-Reset": str(now - 5)}, now=now) == 0
    assert wait_hint_seconds({}, now=now) is None


def test_sentry_reset_header_is_honoured_and_bounded(
    httpserver: HTTPServer, sleeps: list[float]
):
    reset = str(int(time.time()) + 3600)
    httpserver.expect_request("/x").respond_with_handler(
        sequence(
            Response("{}", status=429, headers={"X-Sentry-Rate-Limit-Reset": reset}),
            Response("{}", status=200, content_type="application/json"),
        )
    )
    http = HttpClient(
        "Sentry", httpserver.url_for("/"), max_wait_seconds=30, sleep=sleeps.append
    )

    http.get_json("/x", what="x")
    assert sleeps == [30]
