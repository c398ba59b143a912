"""The view a URL describes: weights, filters, product and window.

Every shareable choice lives in the query parameters, so a copied link opens the
same view. ``read_view`` validates what the URL says and falls back to defaults
with a notice for anything it cannot use; it never raises.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from reliability.scoring import DEFAULT_WEIGHTS, DIMENSIONS, STATUSES

PRODUCT_URL_PATH = "product"  # the product page's url_path in app.py
WINDOWS = (30, 60, 90)
DEFAULT_WINDOW = 90
# Overview orderings: key -> (label, column, ascending).
SORTS: dict[str, tuple[str, str, bool]] = {
    "rank": ("Overall, best first", "overall", False),
    "worst": ("Overall, worst first", "overall", True),
    "budget": ("Error budget, worst first", "error_budget_remaining", True),
    "delta7": ("Change over 7 days, worst first", "delta_7d", True),
    "delta30": ("Change over 30 days, worst first", "delta_30d", True),
}
DEFAULT_SORT = "rank"


@dataclass(frozen=True, kw_only=True)
class View:
    """What the user chose; every field round-trips through the URL."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    teams: tuple[str, ...] = ()
    tiers: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    search: str = ""
    product: str | None = None
    window: int = DEFAULT_WINDOW
    sort: str = DEFAULT_SORT

    def query_params(self) -> dict[str, str]:
        """The non-default fields as query parameters."""
        params: dict[str, str] = {}
        if self.product:
            params["product"] = self.product
        if self.weights != DEFAULT_WEIGHTS:
            params["w"] = ",".join(f"{self.weights[d]:g}" for d in DIMENSIONS)
        if self.teams:
            params["team"] = ",".join(self.teams)
        if self.tiers:
            params["tier"] = ",".join(str(t) for t in self.tiers)
        if self.statuses:
            params["status"] = ",".join(self.statuses)
        if self.search:
            params["q"] = self.search
        if self.window != DEFAULT_WINDOW:
            params["window"] = str(self.window)
        if self.sort != DEFAULT_SORT:
            params["sort"] = self.sort
        return params

    def link(self, page: str, **changes: object) -> str:
        """A relative URL of ``page`` showing this view, with ``changes`` applied."""
        params = {
            **self.query_params(),
            **{k: str(v) for k, v in changes.items() if v is not None},
        }
        query = urlencode(params)
        return f"{page}?{query}" if query else page

    def product_links(
        self, slugs: Iterable[str], names: Iterable[str] | None = None
    ) -> list[str]:
        """Links to each product's page with this view, for a table's link column.

        With ``names``, each link carries its product's name in the fragment (which
        the app never reads), so a link column can show the name. The view's part
        of the query is encoded once, not once per row.
        """
        rest = {k: v for k, v in self.query_params().items() if k != "product"}
        tail = f"&{urlencode(rest)}" if rest else ""
        links = [
            f"{PRODUCT_URL_PATH}?{urlencode({'product': slug})}{tail}" for slug in slugs
        ]
        if names is None:
            return links
        fragments = (name.replace("#", "") for name in names)
        return [f"{link}#{name}" for link, name in zip(links, fragments, strict=True)]


def read_view(
    params: Mapping[str, str],
    *,
    teams: Iterable[str],
    tiers: Iterable[int],
    products: Iterable[str],
) -> tuple[View, list[str]]:
    """Validate query parameters against what exists; return the view and notices."""
    notices: list[str] = []
    weights = _weights(params.get("w"), notices)
    chosen_teams = _choices(params.get("team"), set(teams), "team", notices)
    tier_values = {str(t): int(t) for t in tiers}
    chosen_tiers = tuple(
        tier_values[t]
        for t in _choices(params.get("tier"), set(tier_values), "tier", notices)
    )
    chosen_statuses = _choices(params.get("status"), set(STATUSES), "status", notices)

    product = params.get("product") or None
    if product is not None and product not in set(products):
        notices.append(
            f"There is no product {product!r}; showing the portfolio instead."
        )
        product = None

    window = DEFAULT_WINDOW
    if params.get("window"):
        try:
            window = int(params["window"])
        except ValueError:
            window = -1
        if window not in WINDOWS:
            notices.append(
                f"The window must be one of {', '.join(map(str, WINDOWS))} days; showing {DEFAULT_WINDOW}."
            )
            window = DEFAULT_WINDOW

    sort = params.get("sort") or DEFAULT_SORT
    if sort not in SORTS:
        notices.append(f"Unknown order {sort!r} in the link; ranking best first.")
        sort = DEFAULT_SORT

    view = View(
        weights=weights,
        teams=chosen_teams,
        tiers=chosen_tiers,
        statuses=chosen_statuses,
        search=params.get("q", "").strip()[:100],
        product=product,
        window=window,
        sort=sort,
    )
    return view, notices


def _weights(text: str | None, notices: list[str]) -> dict[str, float]:
    if not text:
        return dict(DEFAULT_WEIGHTS)
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    is_valid = (
        len(values) == len(DIMENSIONS)
        and all(math.isfinite(v) and 0 <= v <= 100 for v in values)
        and sum(values) > 0
    )
    if not is_valid:
        notices.append(
            f"The weights in the link ({text!r}) are not four numbers from 0 to 100 "
            "with at least one above 0; using the defaults 40/30/20/10."
        )
        return dict(DEFAULT_WEIGHTS)
    return dict(zip(DIMENSIONS, values, strict=True))


def _choices(
    text: str | None, allowed: set[str], name: str, notices: list[str]
) -> tuple[str, ...]:
    if not text:
        return ()
    chosen = [part for part in text.split(",") if part]
    unknown = [part for part in chosen if part not in allowed]
    if unknown:
        notices.append(
            f"Unknown {name} {', '.join(map(repr, unknown))} in the link; ignored."
        )
    return tuple(part for part in chosen if part in allowed)
