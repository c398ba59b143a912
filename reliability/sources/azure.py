"""Azure: request totals, failures and p95 from Application Insights.

Workspace-based resources are read through the Log Analytics query API
(``AppRequests``), classic ones through the Application Insights query API
(``requests``); a product with both is read from its workspace. Both APIs take
an Entra ID client-credentials token per resource and have no paging, so KQL
aggregates on the server, one query per 30-day chunk (sources.md §4). A response
that carries an ``error`` beside its tables is partial and raises.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from reliability.config import Product
from reliability.sources.entra import EntraTokens
from reliability.sources.errors import (
    SourceAuthError,
    SourceConfigError,
    SourceResponseError,
)
from reliability.sources.http import HttpClient
from reliability.sources.parse import require, require_list

logger = logging.getLogger(__name__)

SOURCE = "Azure"
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
LOGS_RESOURCE = "https://api.loganalytics.io"
APPINSIGHTS_RESOURCE = "https://api.applicationinsights.io"
DAILY_DAYS = 90
HOURLY_HOURS = 72
CHUNK_DAYS = 30

DAILY_COLUMNS = ["product", "app", "day", "total", "failed", "p95_ms"]
HOURLY_COLUMNS = ["product", "app", "hour", "total", "failed", "p95_ms"]


@dataclass(frozen=True, kw_only=True)
class AzureSettings:
    """The service principal and the API hosts, from the environment."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    authority_host: str = DEFAULT_AUTHORITY_HOST
    logs_base_url: str = LOGS_RESOURCE
    appinsights_base_url: str = APPINSIGHTS_RESOURCE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AzureSettings:
        """Read AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and hosts."""
        names = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
        missing = [name for name in names if not env.get(name)]
        if missing:
            raise SourceConfigError(
                SOURCE,
                f"Azure is not configured: set {', '.join(missing)} in the "
                "environment or .env (a service principal with Reader access)",
            )
        return cls(
            tenant_id=env["AZURE_TENANT_ID"],
            client_id=env["AZURE_CLIENT_ID"],
            client_secret=env["AZURE_CLIENT_SECRET"],
            authority_host=env.get("AZURE_AUTHORITY_HOST") or DEFAULT_AUTHORITY_HOST,
            logs_base_url=env.get("AZURE_LOGS_BASE_URL") or LOGS_RESOURCE,
            appinsights_base_url=env.get("APPINSIGHTS_BASE_URL")
            or APPINSIGHTS_RESOURCE,
        )


@dataclass(frozen=True, kw_only=True)
class RequestSchema:
    """Where one query API keeps the request columns we aggregate."""

    table: str
    time: str
    success: str
    duration: str
    item_count: str
    role: str


LOGS_SCHEMA = RequestSchema(
    table="AppRequests",
    time="TimeGenerated",
    success="Success",
    duration="DurationMs",
    item_count="ItemCount",
    role="AppRoleName",
)
APPINSIGHTS_SCHEMA = RequestSchema(
    table="requests",
    time="timestamp",
    success="success",
    duration="duration",
    item_count="itemCount",
    role="cloud_RoleName",
)


class AzureClient:
    """Queries against Log Analytics workspaces and Application Insights apps."""

    def __init__(
        self,
        settings: AzureSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        **http_options: Any,
    ) -> None:
        self.settings = settings
        self._logs = HttpClient(SOURCE, settings.logs_base_url, **http_options)
        self._apps = HttpClient(SOURCE, settings.appinsights_base_url, **http_options)
        login = HttpClient(SOURCE, settings.authority_host, **http_options)
        self.tokens = EntraTokens(settings, login, clock=clock)

    @classmethod
    def from_env(cls, env: Mapping[str, str], **http_options: Any) -> AzureClient:
        """Build a client from the AZURE_* and APPINSIGHTS_BASE_URL variables."""
        return cls(AzureSettings.from_env(env), **http_options)

    def close(self) -> None:
        for http in (self._logs, self._apps, self.tokens.http):
            http.close()

    def ping(self, product: Product | None = None) -> str:
        """Get a token, and run a trivial query on ``product``'s data if given."""
        if product is None:
            self.tokens.token(LOGS_RESOURCE)
            return f"tenant {self.settings.tenant_id}"
        self.query(product, "print ok = 1", _timespan(_utc_now() - timedelta(hours=1)))
        return _target_name(product)

    def query(self, product: Product, kql: str, timespan: str) -> pd.DataFrame:
        """Run ``kql`` on the product's workspace (or app); return its first table."""
        if product.azure_workspace:
            resource, http = LOGS_RESOURCE, self._logs
            path = f"v1/workspaces/{product.azure_workspace}/query"
        elif product.azure_app_id:
            resource, http = APPINSIGHTS_RESOURCE, self._apps
            path = f"v1/apps/{product.azure_app_id}/query"
        else:
            raise SourceConfigError(
                SOURCE, f"product {product.slug} has no azure_workspace or azure_app_id"
            )
        what = f"{_target_name(product)} over {timespan}"
        body = self._post(
            resource, http, path, {"query": kql, "timespan": timespan}, what
        )
        return parse_table(body, what=what)

    def _post(
        self,
        resource: str,
        http: HttpClient,
        path: str,
        payload: Mapping[str, Any],
        what: str,
    ) -> Any:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.tokens.token(resource)}"}
            try:
                return http.post_json(path, what=what, json=payload, headers=headers)
            except SourceAuthError as exc:
                # A token can be revoked before it expires: fetch a new one once.
                if exc.status == 401 and attempt == 1:
                    logger.info("Azure refused the token for %s; renewing it", what)
                    self.tokens.forget(resource)
                    continue
                raise self._denied(exc, what) from exc
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _denied(self, exc: SourceAuthError, what: str) -> SourceAuthError:
        said = f" ({exc.detail})" if exc.detail else ""
        return SourceAuthError(
            SOURCE,
            f"Azure refused access to {what} ({exc.status}){said}: give client id "
            f"{self.settings.client_id} the Reader (or Log Analytics Reader) role on "
            "it and check the workspace GUID or Application ID",
            status=exc.status,
            detail=exc.detail,
        )


def parse_table(body: Any, *, what: str) -> pd.DataFrame:
    """Turn a query API body into a frame, matching rows to column names.

    Raises SourceResponseError for a body with an ``error``, even beside tables:
    a partial result would silently undercount.
    """
    error = body.get("error") if isinstance(body, Mapping) else None
    if error:
        raise SourceResponseError(
            SOURCE,
            f"Azure returned an error for {what} ({_error_text(error)}): nothing "
            "of it was stored; try again, or check the query and the time range",
            detail=_error_text(error),
        )
    tables = require_list(
        require(body, "tables", source=SOURCE, what=what), source=SOURCE, what=what
    )
    if not tables:
        raise SourceResponseError(SOURCE, f"Azure returned no table for {what}")
    primary = next((t for t in tables if _name(t) == "PrimaryResult"), tables[0])
    columns = require_list(
        require(primary, "columns", source=SOURCE, what=what), source=SOURCE, what=what
    )
    rows = require_list(
        require(primary, "rows", source=SOURCE, what=what), source=SOURCE, what=what
    )
    names = [str(require(c, "name", source=SOURCE, what=what)) for c in columns]
    if any(not isinstance(row, list) or len(row) != len(names) for row in rows):
        raise SourceResponseError(
            SOURCE,
            f"Azure sent rows for {what} that do not match its {len(names)} columns",
        )
    return pd.DataFrame(rows, columns=names)


def requests_kql(schema: RequestSchema, roles: Sequence[str], bin_size: str) -> str:
    """Build the KQL that sums requests and failures and takes p95 per bin.

    ``sum(itemCount)`` counts the requests that sampled rows stand for, and
    ``percentilew`` weights each duration by them (sources.md §4.4).
    """
    lines = [schema.table]
    group = f"bucket = bin({schema.time}, {bin_size})"
    if roles:
        lines.append(f"| where {schema.role} in ({', '.join(map(_kql_string, roles))})")
        group = f"app = {schema.role}, {group}"
    count = schema.item_count
    lines.append(
        f"| summarize total = sum({count}), "
        f"failed = sumif({count}, tobool({schema.success}) == false), "
        f"p95_ms = percentilew({schema.duration}, {count}, 95) by {group}"
    )
    return "\n".join(lines)


def fetch_daily(
    client: AzureClient,
    product: Product,
    *,
    now: datetime | None = None,
    days: int = DAILY_DAYS,
) -> pd.DataFrame:
    """Return ``azure_requests`` rows for the last ``days`` UTC days, today included.

    One query per chunk of at most 30 days, so no result nears the row limit.
    """
    end = datetime.combine(
        _utc_now(now).date() + timedelta(days=1), datetime.min.time()
    )
    kql = requests_kql(_schema(product), product.azure_roles, "1d")
    frames = []
    for chunk_start in _chunk_starts(end, days):
        chunk_end = min(chunk_start + timedelta(days=CHUNK_DAYS), end)
        raw = client.query(product, kql, _timespan(chunk_start, chunk_end))
        frames.append(_store_rows(raw, product, "day", "daily requests"))

    daily = pd.concat(frames, ignore_index=True)
    daily["day"] = daily["day"].dt.date
    logger.info("Fetched %d daily Azure rows for %s", len(daily), product.slug)
    return daily[DAILY_COLUMNS]


def fetch_hourly(
    client: AzureClient, product: Product, *, now: datetime | None = None
) -> pd.DataFrame:
    """Return ``azure_requests_hourly`` rows for the last 72 hours, this hour too."""
    end = _utc_now(now).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    kql = requests_kql(_schema(product), product.azure_roles, "1h")
    raw = client.query(
        product, kql, _timespan(end - timedelta(hours=HOURLY_HOURS), end)
    )
    hourly = _store_rows(raw, product, "hour", "hourly requests")
    logger.info("Fetched %d hourly Azure rows for %s", len(hourly), product.slug)
    return hourly[HOURLY_COLUMNS]


def _store_rows(
    raw: pd.DataFrame, product: Product, time_column: str, what: str
) -> pd.DataFrame:
    needed = ["bucket", "total", "failed", "p95_ms"]
    if product.azure_roles:
        needed.append("app")
    missing = [name for name in needed if name not in raw.columns]
    if missing:
        raise SourceResponseError(
            SOURCE,
            f"Azure sent {what} of {_target_name(product)} without the columns "
            f"{', '.join(missing)}: the query result has an unexpected shape",
        )
    default_app = product.azure_workspace or product.azure_app_id
    app = raw["app"] if product.azure_roles else pd.Series(default_app, index=raw.index)
    rows = pd.DataFrame(
        {
            "product": product.slug,
            "app": app.astype(str),
            time_column: pd.to_datetime(raw["bucket"], utc=True).dt.tz_convert(None),
            "total": pd.to_numeric(raw["total"]).fillna(0).astype("int64"),
            "failed": pd.to_numeric(raw["failed"]).fillna(0).astype("int64"),
            "p95_ms": pd.to_numeric(raw["p95_ms"], errors="coerce").astype(float),
        }
    )
    return rows


def _chunk_starts(end: datetime, days: int) -> list[datetime]:
    start = end - timedelta(days=days)
    return [start + timedelta(days=d) for d in range(0, days, CHUNK_DAYS)]


def _schema(product: Product) -> RequestSchema:
    return LOGS_SCHEMA if product.azure_workspace else APPINSIGHTS_SCHEMA


def _target_name(product: Product) -> str:
    if product.azure_workspace:
        return f"workspace {product.azure_workspace} of {product.slug}"
    return f"Application Insights app {product.azure_app_id} of {product.slug}"


def _timespan(start: datetime, end: datetime | None = None) -> str:
    end = end or _utc_now()
    return f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}"


def _utc_now(now: datetime | None = None) -> datetime:
    """Return ``now`` (or the clock) as naive UTC."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def _kql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _name(table: Any) -> str | None:
    return table.get("name") if isinstance(table, Mapping) else None


def _error_text(error: Any) -> str:
    if not isinstance(error, Mapping):
        return str(error)[:300]
    parts = [str(error.get(key)) for key in ("code", "message") if error.get(key)]
    inner = error.get("innererror") or next(iter(error.get("details") or []), None)
    if isinstance(inner, Mapping) and inner.get("message"):
        parts.append(str(inner["message"]))
    return ": ".join(parts)[:300] or "no message"
