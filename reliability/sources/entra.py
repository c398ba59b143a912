"""Entra ID client-credentials tokens for the Azure query APIs, cached per resource.

Log Analytics and Application Insights each need their own token (scope
``{resource}/.default``); both come from the tenant's v2.0 token endpoint with
the service principal's id and secret (sources.md §4.1).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reliability.sources.errors import (
    SourceAuthError,
    SourceError,
    SourceResponseError,
)
from reliability.sources.http import HttpClient
from reliability.sources.parse import require

if TYPE_CHECKING:
    from reliability.sources.azure import AzureSettings

logger = logging.getLogger(__name__)

# Token failures belong to the Azure source: that is what the sync reports.
SOURCE = "Azure"
# Entra ID tokens live about an hour; renew 5 minutes early (sources.md §4.1).
TOKEN_RENEW_SECONDS = 300.0


class EntraTokens:
    """Client-credentials tokens from Entra ID, one per API resource, cached."""

    def __init__(
        self,
        settings: AzureSettings,
        http: HttpClient,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.http = http
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}

    def token(self, resource: str) -> str:
        """Return a valid access token for ``resource``, fetching one if needed."""
        cached = self._cache.get(resource)
        if cached and self._clock() < cached[1]:
            return cached[0]
        access_token, expires_in = self._fetch(resource)
        renew_after = min(TOKEN_RENEW_SECONDS, expires_in / 2)
        self._cache[resource] = (access_token, self._clock() + expires_in - renew_after)
        return access_token

    def forget(self, resource: str) -> None:
        """Drop the cached token of ``resource`` (the API refused it)."""
        self._cache.pop(resource, None)

    def _fetch(self, resource: str) -> tuple[str, float]:
        tenant, client = self.settings.tenant_id, self.settings.client_id
        form = {
            "grant_type": "client_credentials",
            "client_id": client,
            "client_secret": self.settings.client_secret,
            "scope": f"{resource}/.default",
        }
        what = f"a token for {resource} (tenant {tenant}, client id {client})"
        try:
            body = self.http.post_json(
                f"{tenant}/oauth2/v2.0/token", what=what, data=form
            )
        except SourceError as exc:
            if exc.status not in (400, 401):
                raise
            raise self._refused(exc) from exc

        access_token = require(body, "access_token", source=SOURCE, what=what)
        expires_in = _lifetime_seconds(body.get("expires_in", 3599), what)
        logger.info(
            "Got an Entra ID token for %s (expires in %ds)", resource, expires_in
        )
        return str(access_token), expires_in

    def _refused(self, exc: SourceError) -> SourceAuthError:
        # Entra ID answers 400 or 401 with an AADSTS code for a bad tenant,
        # client id or secret; the description never holds the secret, but scrub.
        detail = (exc.detail or "").replace(self.settings.client_secret, "***")
        said = f" ({detail})" if detail else ""
        return SourceAuthError(
            SOURCE,
            f"Entra ID refused the client credentials of client id "
            f"{self.settings.client_id} in tenant {self.settings.tenant_id} "
            f"({exc.status}){said}: check AZURE_TENANT_ID, AZURE_CLIENT_ID and that "
            "AZURE_CLIENT_SECRET is the secret's value, current and not expired",
            status=exc.status,
            detail=detail or None,
        )


def _lifetime_seconds(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise SourceResponseError(
            SOURCE, f"Entra ID sent {what} with an unreadable expires_in ({value!r})"
        )
    return number
