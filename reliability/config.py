"""The portfolio file: products, their sources, SLOs, thresholds and alert rules.

Read with ``tomllib`` from ``data/portfolio.toml`` or the path in
``RELIABILITY_CONFIG``. Every mistake is reported as one ``ConfigError`` naming the
file, the product and the key, so the user can fix it without reading code.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reliability import config_values as check

# Re-exported: the CLI, pages and tests catch it from here.
from reliability.config_values import ConfigError as ConfigError
from reliability.scoring import Overrides

DEFAULT_CONFIG_PATH = Path("data/portfolio.toml")
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
JIRA_SLA_MODES = ("priority", "jsm")
DEFAULT_SLO = 99.9

_PRODUCT_KEYS = {
    "slug",
    "name",
    "team",
    "tier",
    "slo",
    "sentry_projects",
    "sonar_projects",
    "jira_jql",
    "jira_sla",
    "azure_workspace",
    "azure_roles",
    "azure_app_id",
    "thresholds",
    "mute_alerts",
}
_TOP_KEYS = {"defaults", "thresholds", "products", "alerts", "insights"}
_DEFAULT_KEYS = {"slo"}
_ALERT_KEYS = {
    "band_drop",
    "delta_7d",
    "forecast_critical",
    "error_budget_burn",
    "cooldown_hours",
    "mute",
}
_INSIGHT_KEYS = {"tier1_factor"}


@dataclass(frozen=True, kw_only=True)
class Product:
    """One product of the portfolio and where its data comes from."""

    slug: str
    name: str
    team: str
    tier: int
    slo: float = DEFAULT_SLO
    sentry_projects: tuple[str, ...] = ()
    sonar_projects: tuple[str, ...] = ()
    jira_jql: str | None = None
    jira_sla: str = "priority"
    azure_workspace: str | None = None
    azure_roles: tuple[str, ...] = ()
    azure_app_id: str | None = None
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    mute_alerts: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources this product is configured for, in dimension order."""
        configured = {
            "sentry": bool(self.sentry_projects),
            "sonar": bool(self.sonar_projects),
            "jira": bool(self.jira_jql),
            "azure": bool(self.azure_workspace or self.azure_app_id),
        }
        return tuple(name for name, is_set in configured.items() if is_set)


@dataclass(frozen=True, kw_only=True)
class AlertRules:
    """Which degradation alerts fire, and how often the same one may repeat."""

    band_drop: bool = True
    delta_7d: float = -10.0
    forecast_critical: bool = True
    error_budget_burn: bool = True
    cooldown_hours: float = 24.0
    mute: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Portfolio:
    """The whole portfolio file, validated."""

    path: Path | None
    products: tuple[Product, ...]
    alerts: AlertRules = field(default_factory=AlertRules)
    tier1_factor: float = 2.0
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def product(self, slug: str) -> Product | None:
        return next((p for p in self.products if p.slug == slug), None)

    def overrides(self, slugs: Iterable[str] = ()) -> dict[str, Overrides]:
        """Per-product metric overrides, keyed by slug, for the scoring model.

        Products of the file get their own merged thresholds; any other slug
        named in ``slugs`` (a product the store holds but the file does not
        list) gets the file's global thresholds.
        """
        result: dict[str, Overrides] = {
            p.slug: p.thresholds for p in self.products if p.thresholds
        }
        if self.thresholds:
            listed = {p.slug for p in self.products}
            for slug in slugs:
                if slug not in listed:
                    result[slug] = self.thresholds
        return result


def config_path_from_env() -> Path:
    return Path(os.environ.get("RELIABILITY_CONFIG") or DEFAULT_CONFIG_PATH)


def load_portfolio(path: Path | str | None = None) -> Portfolio | None:
    """Read and validate the portfolio file; None when there is none to read.

    A path named explicitly (or by ``RELIABILITY_CONFIG``) must exist.
    """
    explicit = path is not None or bool(os.environ.get("RELIABILITY_CONFIG"))
    file = Path(path) if path is not None else config_path_from_env()
    if not file.is_file():
        if explicit:
            raise ConfigError(file, "no such file")
        return None
    try:
        with open(file, "rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, f"not valid TOML ({exc})") from exc
    return parse_portfolio(document, file)


def parse_portfolio(document: Mapping[str, Any], path: Path | str) -> Portfolio:
    """Validate a parsed TOML document and build the portfolio from it."""
    check.reject_unknown(document, _TOP_KEYS, path, None, prefix="")
    defaults = check.table(document, "defaults", path, None)
    check.reject_unknown(defaults, _DEFAULT_KEYS, path, None, prefix="defaults.")
    default_slo = check.slo(
        defaults.get("slo", DEFAULT_SLO), path, None, "defaults.slo"
    )
    global_thresholds = check.thresholds_table(
        check.table(document, "thresholds", path, None), path, None
    )

    raw_products = document.get("products", [])
    if not isinstance(raw_products, list) or not all(
        isinstance(p, dict) for p in raw_products
    ):
        raise ConfigError(path, "must be a list of [[products]] tables", key="products")

    products: list[Product] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_products, start=1):
        product = _product(raw, path, position, default_slo, global_thresholds)
        if product.slug in seen:
            raise ConfigError(path, "duplicate slug", product=product.slug, key="slug")
        seen.add(product.slug)
        products.append(product)

    alerts = _alerts(check.table(document, "alerts", path, None), path)
    insights = check.table(document, "insights", path, None)
    check.reject_unknown(insights, _INSIGHT_KEYS, path, None, prefix="insights.")
    factor = check.number(
        insights.get("tier1_factor", 2.0), path, None, "insights.tier1_factor"
    )
    return Portfolio(
        path=Path(path),
        products=tuple(products),
        alerts=alerts,
        tier1_factor=factor,
        thresholds=global_thresholds,
    )


def _product(
    raw: Mapping[str, Any],
    path: Path | str,
    position: int,
    default_slo: float,
    global_thresholds: dict[str, dict[str, float]],
) -> Product:
    slug = _slug(raw, path, position)
    check.reject_unknown(raw, _PRODUCT_KEYS, path, slug, prefix="")
    tier = _tier(raw, path, slug)
    jira_sla = _jira_sla(raw, path, slug)

    own = check.thresholds_table(check.table(raw, "thresholds", path, slug), path, slug)
    merged = {
        name: {**global_thresholds.get(name, {}), **own.get(name, {})}
        for name in {*global_thresholds, *own}
    }
    mute = raw.get("mute_alerts", False)
    if not isinstance(mute, bool):
        raise ConfigError(
            path, "mute_alerts must be true or false", product=slug, key="mute_alerts"
        )

    return Product(
        slug=slug,
        name=check.string(raw.get("name", slug), path, slug, "name"),
        team=check.string(raw.get("team", "Unassigned"), path, slug, "team"),
        tier=tier,
        slo=check.slo(raw.get("slo", default_slo), path, slug, "slo"),
        sentry_projects=check.strings(raw, "sentry_projects", path, slug),
        sonar_projects=check.strings(raw, "sonar_projects", path, slug),
        jira_jql=check.optional_string(raw, "jira_jql", path, slug),
        jira_sla=jira_sla,
        azure_workspace=check.optional_string(raw, "azure_workspace", path, slug),
        azure_roles=check.strings(raw, "azure_roles", path, slug),
        azure_app_id=check.optional_string(raw, "azure_app_id", path, slug),
        thresholds=merged,
        mute_alerts=mute,
    )


def _slug(raw: Mapping[str, Any], path: Path | str, position: int) -> str:
    slug = raw.get("slug")
    label = slug if isinstance(slug, str) else f"#{position}"
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise ConfigError(
            path,
            f"slug must be lowercase letters, digits and dashes, not {slug!r}",
            product=label,
            key="slug",
        )
    return slug


def _tier(raw: Mapping[str, Any], path: Path | str, slug: str) -> int:
    tier = raw.get("tier", 3)
    if not isinstance(tier, int) or isinstance(tier, bool) or not 1 <= tier <= 9:
        raise ConfigError(
            path,
            f"tier must be a whole number 1..9, not {tier!r}",
            product=slug,
            key="tier",
        )
    return tier


def _jira_sla(raw: Mapping[str, Any], path: Path | str, slug: str) -> str:
    jira_sla = check.string(raw.get("jira_sla", "priority"), path, slug, "jira_sla")
    if jira_sla not in JIRA_SLA_MODES:
        raise ConfigError(
            path,
            f"jira_sla must be 'priority' or 'jsm', not {jira_sla!r}",
            product=slug,
            key="jira_sla",
        )
    return jira_sla


def _alerts(table: Mapping[str, Any], path: Path | str) -> AlertRules:
    check.reject_unknown(table, _ALERT_KEYS, path, None, prefix="alerts.")
    flags = {}
    for key in ("band_drop", "forecast_critical", "error_budget_burn"):
        value = table.get(key, True)
        if not isinstance(value, bool):
            raise ConfigError(path, "must be true or false", key=f"alerts.{key}")
        flags[key] = value
    cooldown = check.number(
        table.get("cooldown_hours", 24.0), path, None, "alerts.cooldown_hours"
    )
    if cooldown < 0:
        raise ConfigError(path, "must be 0 or more", key="alerts.cooldown_hours")
    return AlertRules(
        delta_7d=check.number(
            table.get("delta_7d", -10.0), path, None, "alerts.delta_7d"
        ),
        cooldown_hours=cooldown,
        mute=check.strings(table, "mute", path, None, prefix="alerts."),
        **flags,
    )
