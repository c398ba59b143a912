"""One read of the store, scored: what every page and command works from.

``load_snapshot`` reads the products and the stored daily metrics once, and
scores them down to dimension level, which does not depend on the dimension
weights. ``rescore`` is the slider path: from the stored dimension scores to the
overall, coverage, status and trends under any weights, without touching metrics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from reliability import metrics, scoring, trends
from reliability.config import Portfolio
from reliability.scoring import DIMENSIONS, LOW_CONFIDENCE_BELOW, METRIC_NAMES
from reliability.store import Store, StoreVersion, fetch_value

PRODUCT_COLUMNS = [
    "slug",
    "name",
    "team",
    "tier",
    "slo",
    "sources",
    "jira_sla",
    "sentry_projects",
    "sonar_projects",
    "jira_jql",
    "azure_apps",
]


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """The portfolio as of one day: products, metric values and dimension scores.

    ``products`` has one row per product (``slug`` first). ``values`` and
    ``dimensions`` have one row per product and day for the trend window, in the
    same order: ``values`` holds metric values, ``dimensions`` the sub-scores
    (``sub_<metric>``), the dimension scores and their coverage.
    """

    as_of: dt.date
    products: pd.DataFrame
    values: pd.DataFrame
    dimensions: pd.DataFrame
    is_demo: bool
    last_sync: str | None
    version: StoreVersion | None
    overrides: Mapping[str, scoring.Overrides]

    def today(self) -> pd.DataFrame:
        """Rows of ``dimensions`` for ``as_of`` only, indexed by product."""
        rows = self.dimensions[self.dimensions["day"] == self.as_of]
        return rows.set_index("product")

    def values_today(self) -> pd.DataFrame:
        rows = self.values[self.values["day"] == self.as_of]
        return rows.set_index("product")


def load_snapshot(
    store: Store, portfolio: Portfolio | None = None, as_of: dt.date | None = None
) -> Snapshot:
    """Read the store once and score it to dimension level.

    Without ``as_of`` the stored daily metrics are used (as of the last sync);
    with it, metrics are computed from the raw rows as of that day.
    """
    with store.reading() as con:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        products = con.execute(
            f"""
            SELECT {", ".join("p." + c for c in PRODUCT_COLUMNS)}, r.last_sync
            FROM products p LEFT JOIN (
                SELECT product, max(finished_at) AS last_sync FROM sync_runs
                WHERE result = 'ok' GROUP BY product
            ) r ON r.product = p.slug
            ORDER BY p.slug
            """
        ).df()
        stored_as_of = meta.get("as_of")
        if as_of is None and stored_as_of and _has_table(con, "metric_daily"):
            as_of = dt.date.fromisoformat(stored_as_of)
            values = con.execute("SELECT * FROM metric_daily").df()
        else:
            as_of = as_of or dt.datetime.now(dt.UTC).date()
            values = metrics.compute_metrics(con, as_of)

    overrides = portfolio.overrides(products["slug"]) if portfolio else {}
    values["day"] = pd.to_datetime(values["day"]).dt.date
    values = values.sort_values(["product", "day"], ignore_index=True)
    return Snapshot(
        as_of=as_of,
        products=products,
        values=values,
        dimensions=_dimension_frame(values, overrides),
        is_demo=meta.get("is_demo") == "true",
        last_sync=meta.get("last_sync"),
        version=store.version(),
        overrides=overrides,
    )


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        fetch_value(
            con,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
            [name],
        )
    )


def _dimension_frame(
    values: pd.DataFrame, overrides: Mapping[str, scoring.Overrides]
) -> pd.DataFrame:
    subs = scoring.sub_scores(values, overrides)
    dims = scoring.dimension_scores(subs, overrides, values["product"])
    return pd.concat(
        [values[["product", "day"]], subs.add_prefix("sub_"), dims], axis=1
    )


def rescore(snapshot: Snapshot, weights: Mapping[str, float]) -> pd.DataFrame:
    """Daily overall, coverage and status per product under ``weights``."""
    overall = scoring.overall_scores(snapshot.dimensions, weights)
    return pd.concat([snapshot.dimensions[["product", "day"]], overall], axis=1)


def summary(snapshot: Snapshot, weights: Mapping[str, float]) -> pd.DataFrame:
    """One row per product as of the snapshot's day, ranked best first.

    Columns: the product columns, ``overall``, ``status``, ``coverage``,
    ``low_confidence``, one column per dimension (and ``<dim>_coverage``),
    ``error_budget_remaining`` (0..1, NaN without Azure data), the trend figures of ``trends.trend_figures`` and ``rank`` (1 = best; products
    with no data rank last).
    """
    daily = rescore(snapshot, weights)
    figures = trends.trend_figures(daily, snapshot.as_of)
    today = daily[daily["day"] == snapshot.as_of].set_index("product")
    dims = snapshot.today()

    table = snapshot.products.set_index("slug", drop=False)
    table = table.join(today[["overall", "coverage", "status"]])
    table = table.join(dims[[*DIMENSIONS, *(f"{d}_coverage" for d in DIMENSIONS)]])
    table = table.join(figures.set_index("product"))
    table = table.join(snapshot.values_today()[["error_budget_remaining"]])
    table["status"] = table["status"].fillna(scoring.NO_DATA)
    table["coverage"] = table["coverage"].fillna(0.0)
    table["low_confidence"] = table["overall"].notna() & (
        table["coverage"] < LOW_CONFIDENCE_BELOW
    )
    table = table.sort_values(
        ["overall", "name"], ascending=[False, True], na_position="last"
    )
    table["rank"] = np.arange(1, len(table) + 1)
    return table.reset_index(drop=True)


def metric_values(snapshot: Snapshot, product: str) -> dict[str, object]:
    """Today's metric values of one product, None where missing."""
    today = snapshot.values_today()
    if product not in today.index:
        return dict.fromkeys(METRIC_NAMES)
    row = today.loc[product]
    return {name: _plain(row[name]) for name in METRIC_NAMES}


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
