"""The one HTTP layer every source builds on: a retrying ``requests.Session``.

Retries 429, 5xx, timeouts and connection failures with bounded exponential
backoff and jitter, honouring the vendors' wait hints: ``Retry-After`` (seconds
or an HTTP date), Sentry's ``X-Sentry-Rate-Limit-Reset`` (epoch seconds) and
``X-RateLimit-Reset`` (epoch seconds or Jira's ISO time). urllib3's ``Retry``
alone is not enough here: Jira sends ``Retry-After: 0`` and Sentry an epoch
reset (sources.md §0). Everything else maps onto ``reliability.sources.errors``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.auth

from reliability.sources.errors import (
    SourceAuthError,
    SourceError,
    SourceResponseError,
    SourceUnavailable,
)

logger = logging.getLogger(__name__)

# Jira can answer "Retry-After: 0"; waiting nothing just earns another 429
# (pycontribs/jira#1805).
MIN_HINTED_WAIT_SECONDS = 1.0
_MAX_DETAIL_CHARS = 300
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class HttpClient:
    """A session bound to one source and base URL, mapping failures to errors.

    ``what`` on each call is the human name of the object asked for ("issues of
    project checkout-api"); it goes into every error message.
    """

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | tuple[str, str] | None = None,
        connect_timeout_seconds: float = 5.0,
        read_timeout_seconds: float = 30.0,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        max_wait_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout_seconds, read_timeout_seconds)
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self.max_wait_seconds = max_wait_seconds
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json"})
        self._session.headers.update(dict(headers or {}))
        self._session.auth = auth
        self._secrets = _secrets_of(headers, auth)

    def __repr__(self) -> str:
        return f"HttpClient({self.source!r}, {self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def url(self, path_or_url: str) -> str:
        """Return an absolute URL: full URLs (pagination links) pass unchanged."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        what: str,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one request, retrying what is worth retrying; return a 2xx/3xx."""
        url = self.url(path_or_url)
        for attempt in range(1, self.max_attempts + 1):
            is_last = attempt == self.max_attempts
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=dict(headers or {}),
                    timeout=self.timeout,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                if is_last:
                    raise self._unreachable(what, exc) from exc
                self._wait(self._backoff(attempt), what, type(exc).__name__)
                continue
            except requests.RequestException as exc:
                raise SourceError(
                    self.source,
                    f"{self.source} request for {what} failed ({type(exc).__name__}): "
                    f"check the {self.source} base URL",
                ) from exc

            logger.debug(
                "%s %s %s -> %d in %.2fs",
                self.source,
                method,
                _without_query(url),
                response.status_code,
                time.monotonic() - started,
            )
            if response.status_code < 400:
                return response
            if response.status_code not in _RETRY_STATUSES:
                raise self._error_for(response, what)
            if is_last:
                raise self._out_of_retries(response, what)
            wait = self._hinted_wait(response) or self._backoff(attempt)
            self._wait(wait, what, f"HTTP {response.status_code}")
        raise AssertionError("unreachable")  # the loop always returns or raises

    def get_json(self, path_or_url: str, *, what: str, params: Any = None) -> Any:
        """GET and decode a JSON body."""
        response = self.request("GET", path_or_url, what=what, params=params)
        return self.decode(response, what=what)

    def post_json(
        self,
        path_or_url: str,
        *,
        what: str,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """POST and decode a JSON body."""
        response = self.request(
            "POST", path_or_url, what=what, json=json, data=data, headers=headers
        )
        return self.decode(response, what=what)

    def decode(self, response: requests.Response, *, what: str) -> Any:
        """Decode a response body as JSON, or raise SourceResponseError."""
        try:
            return response.json()
        except ValueError as exc:
            kind = response.headers.get("Content-Type", "no content type")
            raise SourceResponseError(
                self.source,
                f"{self.source} returned a body that is not JSON ({kind}) for {what}: "
                f"check that the {self.source} base URL points at the API",
                status=response.status_code,
            ) from exc

    # -- waiting -------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        delay = self.backoff_seconds * 2 ** (attempt - 1)
        delay += random.uniform(0, delay / 2)
        return min(delay, self.max_wait_seconds)

    def _hinted_wait(self, response: requests.Response) -> float | None:
        hint = wait_hint_seconds(response.headers, now=time.time())
        if hint is None:
            return None
        return min(max(hint, MIN_HINTED_WAIT_SECONDS), self.max_wait_seconds)

    def _wait(self, seconds: float, what: str, reason: str) -> None:
        logger.warning(
            "%s: %s for %s; retrying in %.1fs", self.source, reason, what, seconds
        )
        self._sleep(seconds)

    # -- errors --------------------------------------------------------------

    def _unreachable(self, what: str, exc: Exception) -> SourceUnavailable:
        kind = "timed out" if isinstance(exc, requests.Timeout) else "was unreachable"
        host = urlsplit(self.base_url).netloc
        return SourceUnavailable(
            self.source,
            f"{self.source} {kind} at {host} for {what} after {self.max_attempts} "
            f"attempts: check the network and the {self.source} base URL",
        )

    def _out_of_retries(
        self, response: requests.Response, what: str
    ) -> SourceUnavailable:
        status = response.status_code
        reason = "kept throttling us" if status == 429 else "kept failing"
        return SourceUnavailable(
            self.source,
            f"{self.source} {reason} ({status}) for {what} after {self.max_attempts} "
            "attempts: try again later",
            status=status,
            detail=self._detail(response),
        )

    def _error_for(self, response: requests.Response, what: str) -> SourceError:
        status = response.status_code
        detail = self._detail(response)
        said = f" ({detail})" if detail else ""
        if status == 401:
            return SourceAuthError(
                self.source,
                f"{self.source} refused the credentials for {what} (401){said}: "
                "check the token is set, valid and not expired",
                status=status,
                detail=detail,
            )
        if status == 403:
            return SourceAuthError(
                self.source,
                f"{self.source} denied access to {what} (403){said}: "
                "give the token's account or integration read access to it",
                status=status,
                detail=detail,
            )
        if status == 404:
            return SourceResponseError(
                self.source,
                f"{self.source} has no {what} (404){said}: check the name in the "
                "portfolio and the base URL",
                status=status,
                detail=detail,
            )
        return SourceError(
            self.source,
            f"{self.source} rejected the request for {what} ({status}){said}",
            status=status,
            detail=detail,
        )

    def _detail(self, response: requests.Response) -> str | None:
        detail = vendor_message(response)
        return self.scrub(detail) if detail else None

    def scrub(self, text: str) -> str:
        """Remove every credential this client holds from ``text``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


class PageGuard:
    """Stop a paginator that is handed the same cursor, token or page twice."""

    def __init__(self, source: str, what: str) -> None:
        self.source = source
        self.what = what
        self._seen: set[Hashable] = set()

    def check(self, marker: Hashable) -> None:
        """Record ``marker``; raise SourceResponseError if it was seen before."""
        if marker in self._seen:
            raise SourceResponseError(
                self.source,
                f"{self.source} repeated the page marker {marker!r} while listing "
                f"{self.what}: the API is paging in a loop, so the listing was stopped",
            )
        self._seen.add(marker)


def wait_hint_seconds(headers: Mapping[str, str], *, now: float) -> float | None:
    """Read how long the server asks us to wait, in seconds, or None."""
    retry_after = headers.get("Retry-After")
    if retry_after:
        seconds = _seconds_or_date(retry_after, now)
        if seconds is not None:
            return seconds
    for name in ("X-Sentry-Rate-Limit-Reset", "X-RateLimit-Reset"):
        value = headers.get(name)
        if value:
            reset = _epoch_or_iso(value)
            if reset is not None:
                return max(0.0, reset - now)
    return None


def vendor_message(response: requests.Response) -> str | None:
    """Pull the vendor's own error text out of an error body, if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    parts: list[str] = []
    if isinstance(body, Mapping):
        # Sentry (DRF) says "detail"; Sonar "errors": [{"msg"}]; Jira
        # "errorMessages": [...] plus "errors": {field: msg}.
        if isinstance(body.get("detail"), str):
            parts.append(body["detail"])
        errors = body.get("errors")
        if isinstance(errors, list):
            parts += [e["msg"] for e in errors if isinstance(e, Mapping) and "msg" in e]
        elif isinstance(errors, Mapping):
            parts += [f"{k}: {v}" for k, v in errors.items()]
        messages = body.get("errorMessages")
        if isinstance(messages, list):
            parts += [str(m) for m in messages]
        # Azure query APIs say "error": {"code", "message"}; Entra ID token
        # errors say "error_description": "AADSTS7000215: ...".
        error = body.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            parts.append(error["message"])
        if isinstance(body.get("error_description"), str):
            parts.append(body["error_description"])
    text = "; ".join(str(p) for p in parts if p)
    return text[:_MAX_DETAIL_CHARS] or None


def _seconds_or_date(value: str, now: float) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _epoch_or_iso(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        # Jira sends "2025-05-02T10:15Z"; fromisoformat reads Z since 3.11.
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _without_query(url: str) -> str:
    # Query strings can carry JQL or cursors we do not want in logs.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _secrets_of(
    headers: Mapping[str, str] | None,
    auth: requests.auth.AuthBase | tuple[str, str] | None,
) -> tuple[str, ...]:
    secrets: list[str] = []
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and value:
            secrets.append(value)
            secrets.append(value.split(" ", 1)[-1])
    if isinstance(auth, tuple) and len(auth) == 2 and auth[1]:
        secrets.append(auth[1])
    return tuple(s for s in secrets if len(s) >= 4)
